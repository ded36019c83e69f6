/* vhost_msg_test.c: vhost-user messages over a real unix socketpair, fds
 * passed with SCM_RIGHTS: well-formed requests, and the malformed front-end
 * messages of docs/design.md (payload shorter than the header claims, none at
 * all, unknown requests, queue indices out of range, more regions than fds,
 * oversized claims, too many fds). No fd may leak on any path. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "frontend.h"
#include "vhost/vhost_msg.h"

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* Send a header (whose size may lie), payload and fds on s. */
static void send_msg(int s, uint32_t req, uint32_t flags, uint32_t size, const void *payload, size_t plen, const int *fds,
		     int nfds)
{
	uint8_t buf[12 + 4096];

	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (plen)
		memcpy(buf + 12, payload, plen);
	if (fe_send_fds(s, buf, 12 + plen, fds, nfds) < 0)
		perror("sendmsg");
}

/* Send, receive and validate one message; returns validate's result, -2 when reading failed. */
static int roundtrip(uint32_t req, uint32_t size, const void *payload, size_t plen, const int *fds, int nfds,
		     char *err, size_t errlen)
{
	int sv[2];
	struct vhost_msg m;
	int rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -3;
	send_msg(sv[0], req, VHOST_USER_VERSION, size, payload, plen, fds, nfds);
	close(sv[0]);
	rc = vhost_msg_read(sv[1], &m, err, errlen);
	if (rc == 1) {
		rc = vhost_msg_validate(&m, 2, err, errlen);
		vhost_msg_close_fds(&m);
	} else {
		rc = -2;
	}
	close(sv[1]);
	return rc;
}

/* A short header, and the version and reply flags. */
static void test_header(void)
{
	char err[256];
	int sv[2];
	struct vhost_msg m;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	CHECK(write(sv[0], "\x01\x00\x00", 3) == 3, "write");
	close(sv[0]);
	CHECK(vhost_msg_read(sv[1], &m, err, sizeof(err)) == -1 && strstr(err, "short header"), "short header: %s",
	      err);
	close(sv[1]);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	close(sv[0]);
	CHECK(vhost_msg_read(sv[1], &m, err, sizeof(err)) == 0, "closed connection");
	close(sv[1]);
	memset(&m, 0, sizeof(m));
	m.request = VHOST_USER_GET_FEATURES;
	m.flags = 2;
	CHECK(vhost_msg_validate(&m, 2, err, sizeof(err)) < 0 && strstr(err, "version"), "version 2");
	m.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	CHECK(vhost_msg_validate(&m, 2, err, sizeof(err)) < 0 && strstr(err, "reply"), "reply flag");
}

/* A message arriving in pieces: the receiver takes what is there and never waits. */
static void test_pieces(void)
{
	char err[256];
	int sv[2], efd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	uint8_t msg[12 + 8 + 12] = { VHOST_USER_SET_VRING_CALL, 0, 0, 0, VHOST_USER_VERSION, 0, 0, 0, 8, 0, 0, 0 };
	struct vhost_rx rx;
	struct vhost_msg m;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	vhost_rx_init(&rx);
	CHECK(vhost_msg_recv(sv[1], &rx, &m, err, sizeof(err)) == 2, "nothing sent yet: wait");
	fe_send_fds(sv[0], msg, 5, &efd, 1);
	CHECK(vhost_msg_recv(sv[1], &rx, &m, err, sizeof(err)) == 2 && rx.nfds == 1,
	      "5 header bytes and the fd: wait, the fd kept");
	CHECK(write(sv[0], msg + 5, 11) == 11, "write");
	CHECK(vhost_msg_recv(sv[1], &rx, &m, err, sizeof(err)) == 2, "header and half the payload: wait");
	/* the rest of this message and all of the next one, together */
	memcpy(msg + 20, msg, 12);
	msg[20] = VHOST_USER_GET_FEATURES;
	msg[20 + 8] = 0;
	CHECK(write(sv[0], msg + 16, 16) == 16, "write");
	CHECK(vhost_msg_recv(sv[1], &rx, &m, err, sizeof(err)) == 1 && m.request == VHOST_USER_SET_VRING_CALL &&
		      m.size == 8 && m.nfds == 1,
	      "whole: SET_VRING_CALL with its fd (%u, %d fds)", m.request, m.nfds);
	CHECK(vhost_msg_validate(&m, 2, err, sizeof(err)) == 0, "and valid: %s", err);
	vhost_msg_close_fds(&m);
	CHECK(vhost_msg_recv(sv[1], &rx, &m, err, sizeof(err)) == 1 && m.request == VHOST_USER_GET_FEATURES &&
		      m.nfds == 0,
	      "the next message on its own, without the first one's fd");
	/* a front-end that stops mid-message and closes: an error, the fd it sent closed */
	fe_send_fds(sv[0], msg, 14, &efd, 1);
	CHECK(vhost_msg_recv(sv[1], &rx, &m, err, sizeof(err)) == 2, "stalled mid-payload: wait");
	close(sv[0]);
	CHECK(vhost_msg_recv(sv[1], &rx, &m, err, sizeof(err)) == -1 && strstr(err, "payload shorter") &&
		      rx.nfds == 0,
	      "closed mid-message: %s", err);
	close(sv[1]);
	/* a partial message dropped with its connection */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	fe_send_fds(sv[0], msg, 3, &efd, 1);
	CHECK(vhost_msg_recv(sv[1], &rx, &m, err, sizeof(err)) == 2 && rx.nfds == 1, "3 bytes and an fd");
	vhost_rx_reset(&rx);
	CHECK(rx.nfds == 0 && rx.have == 0, "reset drops it");
	close(sv[0]);
	close(sv[1]);
	close(efd);
}

int main(void)
{
	char err[256];
	int base = open_fds();
	int mfd = memfd_create("ram", MFD_CLOEXEC);
	int fds[10];
	uint64_t u64 = 0;
	struct vhost_vring_state st = { 0, 256 };
	struct vhost_mem_table mt = { .nregions = 1 };

	for (int i = 0; i < 10; i++)
		fds[i] = mfd;
	CHECK(roundtrip(VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0, err, sizeof(err)) == 0, "GET_FEATURES: %s", err);
	CHECK(roundtrip(VHOST_USER_SET_FEATURES, 8, &u64, 8, NULL, 0, err, sizeof(err)) == 0, "SET_FEATURES: %s", err);
	CHECK(roundtrip(VHOST_USER_SET_VRING_NUM, 8, &st, 8, NULL, 0, err, sizeof(err)) == 0, "SET_VRING_NUM: %s", err);
	mt.regions[0] = (struct vhost_mem_region){ 0, 1 << 20, 0x7f0000000000ull, 0 };
	CHECK(roundtrip(VHOST_USER_SET_MEM_TABLE, 8 + 32, &mt, 8 + 32, fds, 1, err, sizeof(err)) == 0,
	      "SET_MEM_TABLE: %s", err);
	u64 = 1;
	CHECK(roundtrip(VHOST_USER_SET_VRING_KICK, 8, &u64, 8, fds, 1, err, sizeof(err)) == 0, "SET_VRING_KICK: %s", err);
	u64 = 1 | VHOST_USER_VRING_NOFD_MASK;
	CHECK(roundtrip(VHOST_USER_SET_VRING_CALL, 8, &u64, 8, NULL, 0, err, sizeof(err)) == 0, "CALL, no fd: %s", err);
	CHECK(roundtrip(VHOST_USER_GPU_SET_SOCKET, 0, NULL, 0, fds, 1, err, sizeof(err)) == 0, "GPU_SET_SOCKET: %s", err);
	struct vhost_config cfg = { .offset = 0, .size = 24 };

	CHECK(roundtrip(VHOST_USER_GET_CONFIG, 12 + 24, &cfg, 12 + 24, NULL, 0, err, sizeof(err)) == 0, "GET_CONFIG: %s",
	      err);

	/* malformed */
	CHECK(roundtrip(VHOST_USER_SET_FEATURES, 0, NULL, 0, NULL, 0, err, sizeof(err)) == -1 && strstr(err, "takes 8"),
	      "no payload at all: %s", err);
	CHECK(roundtrip(VHOST_USER_SET_FEATURES, 8, &u64, 4, NULL, 0, err, sizeof(err)) == -2 &&
		      strstr(err, "shorter than the 8 bytes"),
	      "payload shorter than claimed: %s", err);
	CHECK(roundtrip(VHOST_USER_SET_FEATURES, 100000, NULL, 0, NULL, 0, err, sizeof(err)) == -2 &&
		      strstr(err, "claims a 100000-byte payload"),
	      "oversized claim: %s", err);
	CHECK(roundtrip(999, 0, NULL, 0, NULL, 0, err, sizeof(err)) == -1 && strstr(err, "unsupported request 999"),
	      "unknown request: %s", err);
	CHECK(roundtrip(VHOST_USER_SET_LOG_BASE, 0, NULL, 0, NULL, 0, err, sizeof(err)) == -1, "dirty logging refused");
	st.index = 2;
	CHECK(roundtrip(VHOST_USER_SET_VRING_NUM, 8, &st, 8, NULL, 0, err, sizeof(err)) == -1 && strstr(err, "out of range"),
	      "queue index out of range: %s", err);
	st.index = 0;
	st.num = 100;
	CHECK(roundtrip(VHOST_USER_SET_VRING_NUM, 8, &st, 8, NULL, 0, err, sizeof(err)) == -1, "queue size 100");
	u64 = 7;
	CHECK(roundtrip(VHOST_USER_SET_VRING_KICK, 8, &u64, 8, fds, 1, err, sizeof(err)) == -1, "kick on queue 7");
	u64 = 0;
	CHECK(roundtrip(VHOST_USER_SET_VRING_KICK, 8, &u64, 8, NULL, 0, err, sizeof(err)) == -1 &&
		      strstr(err, "0 fds, the request takes 1"),
	      "kick without its fd: %s", err);
	u64 = 0x10000;
	CHECK(roundtrip(VHOST_USER_SET_VRING_CALL, 8, &u64, 8, fds, 1, err, sizeof(err)) == -1, "unknown index bits");
	mt.nregions = 2;
	mt.regions[1] = mt.regions[0];
	CHECK(roundtrip(VHOST_USER_SET_MEM_TABLE, 8 + 64, &mt, 8 + 64, fds, 1, err, sizeof(err)) == -1 &&
		      strstr(err, "1 fds, the request takes 2"),
	      "more regions than fds: %s", err);
	mt.nregions = 9;
	CHECK(roundtrip(VHOST_USER_SET_MEM_TABLE, 8, &mt, 8, NULL, 0, err, sizeof(err)) == -1, "nine regions");
	mt.nregions = 1;
	CHECK(roundtrip(VHOST_USER_SET_MEM_TABLE, 8 + 64, &mt, 8 + 64, fds, 1, err, sizeof(err)) == -1,
	      "size disagrees with the region count");
	cfg.offset = 250;
	CHECK(roundtrip(VHOST_USER_GET_CONFIG, 12 + 24, &cfg, 12 + 24, NULL, 0, err, sizeof(err)) == -1, "config past the end");
	cfg.offset = UINT32_MAX - 4;
	CHECK(roundtrip(VHOST_USER_GET_CONFIG, 12 + 24, &cfg, 12 + 24, NULL, 0, err, sizeof(err)) == -1, "config offset wraps");
	CHECK(roundtrip(VHOST_USER_GET_FEATURES, 0, NULL, 0, fds, 10, err, sizeof(err)) == -2 && strstr(err, "fds"),
	      "ten fds with one message: %s", err);

	test_header();
	test_pieces();

	close(mfd);
	CHECK(open_fds() == base, "no fd leaked (%d open, %d at start)", open_fds(), base);
	return check_done("vhost_msg");
}
