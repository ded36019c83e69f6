/* vtest_process_test.c: vgpu-mediator's vtest socket (dom0's GL clients) as
 * the clients meet it. A client speaking the protocol by hand gets the
 * handshake, the capsets, a resource whose shared memory arrives as a file
 * descriptor and survives a round trip through the renderer, and busy-waits
 * answered. Malformed messages (an unknown command, a wrong length, a
 * submission past the bound, shared memory past the bound, a command before
 * create_renderer, a protocol-0 transfer) each drop only their sender, with
 * the reason on the control socket, while a well-behaved client on the same
 * socket goes on. Two glmark2 processes at once, each in the private mount
 * namespace dom0's agent uses (vtest_ns.h), render through the mediator
 * (GL_RENDERER "virgl (…)") as two vGPUs with their own resource IDs, counted
 * under the endpoint, which also counts the frames the one in a window showed. SIGTERM ends the mediator cleanly.
 * Usage: vtest_process_test PATH/vgpu-mediator */
#define _GNU_SOURCE
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "control_doc.h"
#include "util.h"
#include "host/vtest_ns.h"
#include "host/xvfb.h"

static const char *mediator;
static pid_t med_pid;
static char sock[300], ctl[300];

/* ---- a client by hand ---- */

static int send_msg(int fd, uint32_t cmd, const void *payload, uint32_t len_field, size_t bytes)
{
	uint32_t h[2] = { len_field, cmd };

	if (write(fd, h, sizeof(h)) != (ssize_t)sizeof(h))
		return -1;
	return bytes && write(fd, payload, bytes) != (ssize_t)bytes ? -1 : 0;
}

/* Read exactly len bytes within 5 s. 0, or -1 (closed, error or too slow). */
static int recv_all(int fd, void *buf, size_t len)
{
	struct timeval tv = { 5, 0 };
	size_t off = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (off < len) {
		ssize_t n = read(fd, (uint8_t *)buf + off, len - off);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* 1 when the mediator closed the connection (within 5 s; replies before that are read and dropped), else 0. */
static int closed_by_peer(int fd)
{
	char c[256];
	struct timeval tv = { 5, 0 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((n = read(fd, c, sizeof(c))) > 0)
		;
	return n == 0;
}

static int recv_fd(int fd)
{
	char c, ctlbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctlbuf, .msg_controllen = sizeof(ctlbuf) };
	struct cmsghdr *cm;
	int got = -1;

	if (recvmsg(fd, &m, 0) != 1 || !(cm = CMSG_FIRSTHDR(&m)) || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&got, CMSG_DATA(cm), sizeof(got));
	return got;
}

/* Connect and say hello the way Mesa's client does: name, ping + probe busy-wait, protocol version 2. The
 * connected fd, or -1. */
static int hello(const char *name)
{
	int fd = vb_unix_connect(sock, vb_now() + 10, med_pid);
	uint32_t h[2], v = 2, probe[2] = { 0, 0 }, r;

	if (fd < 0)
		return -1;
	if (send_msg(fd, 8, name, (uint32_t)strlen(name) + 1, strlen(name) + 1) < 0 || send_msg(fd, 10, NULL, 0, 0) < 0 ||
	    send_msg(fd, 7, probe, 2, sizeof(probe)) < 0)
		goto bad;
	if (recv_all(fd, h, sizeof(h)) < 0 || h[0] != 0 || h[1] != 10 || recv_all(fd, h, sizeof(h)) < 0 || h[1] != 7 ||
	    recv_all(fd, &r, 4) < 0 || r != 0)
		goto bad;
	if (send_msg(fd, 11, &v, 1, 4) < 0 || recv_all(fd, h, sizeof(h)) < 0 || h[0] != 1 || h[1] != 11 ||
	    recv_all(fd, &v, 4) < 0 || v != 2)
		goto bad;
	return fd;
bad:
	close(fd);
	return -1;
}

static int ping(int fd)
{
	uint32_t h[2];

	return send_msg(fd, 10, NULL, 0, 0) == 0 && recv_all(fd, h, sizeof(h)) == 0 && h[1] == 10 ? 0 : -1;
}

static json_object *stats(void)
{
	int fd = vb_unix_connect(ctl, vb_now() + 5, med_pid);
	static char buf[1 << 20];
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (write(fd, "stats\n", 6) != 6) {
		close(fd);
		return NULL;
	}
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	return json_tokener_parse(buf);
}

static int64_t dom0_int(const char *key)
{
	json_object *doc = stats(), *f = control_doc_field(doc, "dom0", key);
	int64_t v = f ? json_object_get_int64(f) : -1;

	json_object_put(doc);
	return v;
}

static void test_by_hand(void)
{
	int fd = hello("by-hand"), mfd;
	uint32_t h[2], busy[2] = { 7, 1 }, r;
	/* A 4096-byte buffer resource (target 0, R8 format 64, bind 0x10 vertex buffer) with its shared memory. */
	uint32_t create[11] = { 7, 0, 64, 0x10, 4096, 1, 1, 1, 0, 0, 4096 };
	uint32_t xfer[10] = { 7, 0, 0, 0, 0, 4096, 1, 1, 4096, 0 };
	uint8_t *mem;
	int ok = 1;

	CHECK(fd >= 0, "the handshake: ping answered, probe not busy, protocol 2 agreed");
	if (fd < 0)
		return;
	CHECK(send_msg(fd, 9, NULL, 0, 0) == 0 && recv_all(fd, h, sizeof(h)) == 0 && h[1] == 2 && h[0] > 1,
	      "get_caps2 answers the capset 2 header (length %u, marker %u)", h[0], h[1]);
	{
		uint8_t *caps = malloc(h[0] - 1);

		CHECK(caps && recv_all(fd, caps, h[0] - 1) == 0, "the capset's %u bytes come", h[0] - 1);
		free(caps);
	}
	CHECK(send_msg(fd, 12, create, 11, sizeof(create)) == 0 && (mfd = recv_fd(fd)) >= 0,
	      "resource_create2 sends the resource's shared memory as a file descriptor");
	if (mfd < 0) {
		close(fd);
		return;
	}
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	close(mfd);
	CHECK(mem != MAP_FAILED, "the shared memory maps");
	if (mem == MAP_FAILED) {
		close(fd);
		return;
	}
	for (int i = 0; i < 4096; i++)
		mem[i] = (uint8_t)(i * 7 + 3);
	/* Put it into the renderer (the length field counts the data, which is in shared memory, as Mesa's does),
	 * wipe it, then get it back. */
	CHECK(send_msg(fd, 14, xfer, 10 + 4096 / 4, sizeof(xfer)) == 0, "transfer_put2 sent");
	CHECK(ping(fd) == 0, "still served after transfer_put2");
	memset(mem, 0, 4096);
	CHECK(send_msg(fd, 13, xfer, 10, sizeof(xfer)) == 0 && ping(fd) == 0, "transfer_get2 served");
	for (int i = 0; i < 4096; i++)
		ok &= mem[i] == (uint8_t)(i * 7 + 3);
	CHECK(ok, "the bytes came back from the renderer unchanged");
	CHECK(send_msg(fd, 7, busy, 2, sizeof(busy)) == 0 && recv_all(fd, h, sizeof(h)) == 0 && h[1] == 7 &&
		      recv_all(fd, &r, 4) == 0 && r == 0,
	      "a waiting busy-wait is answered: not busy");
	CHECK(send_msg(fd, 3, create, 1, 4) == 0 && ping(fd) == 0, "resource_unref served");
	munmap(mem, 4096);
	close(fd);
}

/* One hostile client sends `bytes`; it must be dropped with a reason containing `why`, and `good` still served. */
static void hostile(int good, const char *what, const void *bytes, size_t len, const char *why)
{
	int fd = vb_unix_connect(sock, vb_now() + 10, med_pid);
	int64_t before = dom0_int("dropped");
	json_object *doc;
	const char *last;

	CHECK(fd >= 0, "%s: connected", what);
	if (fd < 0)
		return;
	CHECK(write(fd, bytes, len) == (ssize_t)len, "%s: sent", what);
	CHECK(closed_by_peer(fd), "%s: the client is dropped", what);
	close(fd);
	CHECK(ping(good) == 0, "%s: the neighbour is still served", what);
	for (int i = 0; i < 50 && dom0_int("dropped") == before; i++)
		usleep(20000);
	doc = stats();
	last = control_doc_field(doc, "dom0", "last_problem") ? json_object_get_string(control_doc_field(doc, "dom0", "last_problem")) : "";
	CHECK(dom0_int("dropped") == before + 1, "%s: counted as dropped", what);
	CHECK(strstr(last, why) != NULL, "%s: the reason says '%s' ('%s')", what, why, last);
	json_object_put(doc);
}

static size_t msg(uint8_t *out, uint32_t len_field, uint32_t cmd, const void *payload, size_t bytes)
{
	uint32_t h[2] = { len_field, cmd };

	memcpy(out, h, 8);
	if (bytes)
		memcpy(out + 8, payload, bytes);
	return 8 + bytes;
}

static void test_hostile(void)
{
	int good = hello("neighbour");
	uint8_t b[256];
	size_t n;
	uint32_t v = 2, big[11] = { 9, 0, 64, 0x10, 4096, 1, 1, 1, 0, 0, 0xfffffff0u };
	uint32_t put[11] = { 1, 0, 16, 0, 0, 0, 0, 4, 1, 1, 16 };

	CHECK(good >= 0, "a well-behaved client connects");
	if (good < 0)
		return;
	n = msg(b, 0, 999, NULL, 0);
	hostile(good, "an unknown command", b, n, "unknown command 999");
	n = msg(b, 0, 10, NULL, 0);
	hostile(good, "a command before create_renderer", b, n, "before create_renderer");
	n = msg(b, 5, 8, "evil", 5);
	n += msg(b + n, 3, 11, &v, 4);
	hostile(good, "protocol_version of 3 dwords", b, n, "takes 1");
	n = msg(b, 5, 8, "evil", 5);
	n += msg(b + n, 0x7fffffff, 6, NULL, 0);
	hostile(good, "a submission past the bound", b, n, "at most");
	n = msg(b, 5, 8, "evil", 5);
	n += msg(b + n, 1, 11, &v, 4);
	n += msg(b + n, 11, 12, big, sizeof(big));
	hostile(good, "shared memory past the bound", b, n, "shared memory");
	n = msg(b, 5, 8, "evil", 5);
	n += msg(b + n, 11 + 4, 5, put, sizeof(put));
	hostile(good, "a protocol-0 transfer", b, n, "not served");
	n = msg(b, 5, 8, "evil", 5);
	n += msg(b + n, 1, 11, &v, 4);
	n += msg(b + n, 1, 3, &(uint32_t){ 77 }, 4);
	hostile(good, "an unref of a resource it does not have", b, n, "no resource 77");
	close(good);
}

/* glmark2 in the namespace dom0's agent uses, its output to log: off-screen as the harness runs it, or in a window
 * of the X server (its frames shown). */
static pid_t glmark2(const char *display, const char *log, int shown)
{
	char *const off[] = { "glmark2-es2", "--off-screen", "-s", "320x240", "-b", "build:duration=3", "-b",
			      "texture:duration=2", NULL };
	char *const on[] = { "glmark2-es2", "-s", "320x240", "-b", "build:duration=3", "-b", "texture:duration=2", NULL };

	return vtest_ns_spawn(sock, shown ? on : off, display, log);
}

static void test_glmark2(const char *dir)
{
	struct xvfb x = { 0 };
	char log[400], *xlog = vb_strdupf("%s/xvfb.log", dir);
	pid_t pid[2];
	int both = 0, st, seen_separate = 0;
	double shown_frames = 0; /* what the glmark2 in a window says it drew */
	int64_t errors = dom0_int("errors"); /* the hostile clients' refused commands */

	if (geteuid() != 0) {
		printf("vtest_process: glmark2 part skipped: a private mount namespace needs root\n");
		free(xlog);
		return;
	}
	CHECK(xvfb_start(&x, xlog, 20) == 0, "Xvfb for glmark2 (log %s)", xlog);
	free(xlog);
	if (!x.pid)
		return;
	for (int i = 0; i < 2; i++) {
		snprintf(log, sizeof(log), "%s/glmark2-%d.log", dir, i);
		pid[i] = glmark2(x.display, log, i == 1);
		CHECK(pid[i] > 0, "glmark2 %d started", i);
	}
	/* While both run, the endpoint lists two clients, each holding resources under its own IDs. */
	for (int t = 0; t < 200 && !seen_separate; t++) {
		json_object *doc = stats(), *clients = control_doc_field(doc, "dom0", "clients");

		if (clients && json_object_array_length(clients) == 2) {
			json_object *r0, *r1;

			both = 1;
			if (json_object_object_get_ex(json_object_array_get_idx(clients, 0), "resources", &r0) &&
			    json_object_object_get_ex(json_object_array_get_idx(clients, 1), "resources", &r1) &&
			    json_object_get_int64(r0) > 0 && json_object_get_int64(r1) > 0)
				seen_separate = 1;
		}
		json_object_put(doc);
		usleep(50000);
	}
	CHECK(both, "both glmark2 processes are clients of the endpoint at once");
	CHECK(seen_separate, "each holds resources of its own at once (the same IDs, two vGPUs)");
	for (int i = 0; i < 2; i++) {
		char *out, *p;

		st = vb_reap(pid[i], 120);
		snprintf(log, sizeof(log), "%s/glmark2-%d.log", dir, i);
		out = vb_read_file(log, NULL);
		CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "glmark2 %d exits 0 (status 0x%x, log %s)", i, st,
		      log);
		CHECK_STR_CONTAINS(out, "GL_RENDERER:    virgl (");
		CHECK_STR_CONTAINS(out, "glmark2 Score:");
		/* The frames it drew: each scene's FPS times its duration (build 3 s, then texture 2 s). */
		p = out;
		for (int k = 0; i == 1 && k < 2 && p && (p = strstr(p, "FPS: ")); k++, p += 5)
			shown_frames += atof(p + 5) * (k ? 2 : 3);
		free(out);
	}
	{
		json_object *doc = stats(), *f = control_doc_field(doc, "dom0", "sched"), *g = NULL;

		CHECK(f && json_object_object_get_ex(f, "gpu_ms", &g) && json_object_get_double(g) > 0,
		      "the endpoint's GPU time counts its clients gone");
		/* The client in a window read its front buffer back on every SwapBuffers; the off-screen one shows
		 * nothing. */
		double frames = f && json_object_object_get_ex(f, "frames", &g) ? (double)json_object_get_int64(g) : -1;

		printf("vtest_process: the endpoint counted %.0f frames shown; the glmark2 in a window drew about %.0f\n",
		       frames, shown_frames);
		CHECK(shown_frames >= 5 && frames >= 0.7 * shown_frames && frames <= 1.3 * shown_frames,
		      "the endpoint counts the frames its client in a window showed, and none of the off-screen one's "
		      "(%.0f, against about %.0f drawn)",
		      frames, shown_frames);
		CHECK(control_doc_field(doc, "dom0", "errors") && json_object_get_int64(control_doc_field(doc, "dom0", "errors")) == errors,
		      "no command of theirs was refused");
		json_object_put(doc);
	}
	xvfb_stop(&x);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/vgpu-vtest-test.XXXXXX", log[300];
	char spec[400];
	int st, had_client_socket = access(VTEST_CLIENT_SOCKET, F_OK) == 0;

	if (argc < 2) {
		fprintf(stderr, "usage: vtest_process_test PATH/vgpu-mediator [MEDIATOR-ARGS...]\n");
		return 2;
	}
	mediator = argv[1];
	signal(SIGPIPE, SIG_IGN);
	CHECK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(sock, sizeof(sock), "%s/vtest.sock", dir);
	snprintf(ctl, sizeof(ctl), "%s/control.sock", dir);
	snprintf(log, sizeof(log), "%s/mediator.log", dir);
	snprintf(spec, sizeof(spec), "name=dom0,socket=%s", sock);
	{
		/* Arguments after the mediator's path go to it (--render-workers: the same test on render workers). */
		char *args[16] = { (char *)mediator, "--vtest", spec, "--control", ctl };
		int n = 5;

		for (int i = 2; i < argc && n < 15; i++)
			args[n++] = argv[i];
		args[n] = NULL;
		med_pid = vb_spawn(args, NULL, log);
	}
	CHECK(med_pid > 0, "vgpu-mediator started");
	test_by_hand();
	test_hostile();
	test_glmark2(dir);
	CHECK(dom0_int("connects") >= 11, "every client was counted (%lld)", (long long)dom0_int("connects"));
	CHECK(kill(med_pid, SIGTERM) == 0, "SIGTERM sent");
	st = vb_reap(med_pid, 10.0);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: the mediator exits 0 (status 0x%x)", st);
	CHECK(access(sock, F_OK) != 0, "the vtest socket is gone with the mediator");
	CHECK((access(VTEST_CLIENT_SOCKET, F_OK) == 0) == had_client_socket,
	      "the host's own %s is as it was: the namespaces changed nothing outside", VTEST_CLIENT_SOCKET);
	if (!check_failed)
		vb_rm_rf(dir);
	else
		fprintf(stderr, "logs kept in %s\n", dir);
	return check_done("vtest_process");
}
