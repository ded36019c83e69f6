/* render_proto.c: the broker/worker protocol's tables and framing (render_proto.h). */
#define _GNU_SOURCE
#include "render/render_proto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static const struct {
	const char *name;
	uint32_t size;
} rp_ops[RP_NOPS] = {
#define RP_ROW(name, by, type) [RP_##name] = { #name, sizeof(type) },
	RP_MESSAGES(RP_ROW)
#undef RP_ROW
}, rs_ops[RS_NOPS] = {
#define RS_ROW(name, by, type) [RS_##name] = { #name, sizeof(type) },
	RS_MESSAGES(RS_ROW)
#undef RS_ROW
};

uint32_t rp_payload_size(uint32_t op)
{
	return op < RP_NOPS ? rp_ops[op].size : 0;
}

const char *rp_op_name(uint32_t op)
{
	return op < RP_NOPS ? rp_ops[op].name : "unknown";
}

uint32_t rs_payload_size(uint32_t op)
{
	return op < RS_NOPS ? rs_ops[op].size : 0;
}

const char *rs_op_name(uint32_t op)
{
	return op < RS_NOPS ? rs_ops[op].name : "unknown";
}

int rp_send(int sock, uint32_t op, uint32_t seq, const void *payload, uint32_t len, int fd)
{
	struct rp_hdr h = { .op = op, .seq = seq, .len = len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, len } };
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.b;
		m.msg_controllen = sizeof(u.b);
		CMSG_FIRSTHDR(&m)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&m)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&m)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&m)), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != sizeof(h) + len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int rp_recv(int sock, struct rp_hdr *h, void *buf, int *fd)
{
	struct iovec iov[2] = { { h, sizeof(*h) }, { buf, RP_MAX_MSG } };
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	struct cmsghdr *c;
	ssize_t n;
	int nfd = 0;

	*fd = -1;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int f;

				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (nfd++ == 0)
					*fd = f;
				else
					close(f);
			}
		}
	if (nfd > 1 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(*h) ||
	    (size_t)n - sizeof(*h) != h->len) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = EPROTO;
		return -1;
	}
	return 1;
}
