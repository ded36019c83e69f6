/* vhost_msg.c: receiving and validating vhost-user front-end messages. The
 * front-end runs on behalf of a guest, so nothing it sends is trusted: the
 * size a header claims is checked against what the request allows before the
 * payload is read, and every field an action would use is checked here. */
#define _GNU_SOURCE
#include "vhost/vhost_msg.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct {
	uint32_t req;
	const char *name;
} names[] = {
	{ VHOST_USER_GET_FEATURES, "GET_FEATURES" },
	{ VHOST_USER_SET_FEATURES, "SET_FEATURES" },
	{ VHOST_USER_SET_OWNER, "SET_OWNER" },
	{ VHOST_USER_RESET_OWNER, "RESET_OWNER" },
	{ VHOST_USER_SET_MEM_TABLE, "SET_MEM_TABLE" },
	{ VHOST_USER_SET_LOG_BASE, "SET_LOG_BASE" },
	{ VHOST_USER_SET_LOG_FD, "SET_LOG_FD" },
	{ VHOST_USER_SET_VRING_NUM, "SET_VRING_NUM" },
	{ VHOST_USER_SET_VRING_ADDR, "SET_VRING_ADDR" },
	{ VHOST_USER_SET_VRING_BASE, "SET_VRING_BASE" },
	{ VHOST_USER_GET_VRING_BASE, "GET_VRING_BASE" },
	{ VHOST_USER_SET_VRING_KICK, "SET_VRING_KICK" },
	{ VHOST_USER_SET_VRING_CALL, "SET_VRING_CALL" },
	{ VHOST_USER_SET_VRING_ERR, "SET_VRING_ERR" },
	{ VHOST_USER_GET_PROTOCOL_FEATURES, "GET_PROTOCOL_FEATURES" },
	{ VHOST_USER_SET_PROTOCOL_FEATURES, "SET_PROTOCOL_FEATURES" },
	{ VHOST_USER_GET_QUEUE_NUM, "GET_QUEUE_NUM" },
	{ VHOST_USER_SET_VRING_ENABLE, "SET_VRING_ENABLE" },
	{ VHOST_USER_GET_CONFIG, "GET_CONFIG" },
	{ VHOST_USER_SET_CONFIG, "SET_CONFIG" },
	{ VHOST_USER_GPU_SET_SOCKET, "GPU_SET_SOCKET" },
	{ VHOST_USER_RESET_DEVICE, "RESET_DEVICE" },
};

const char *vhost_req_name(uint32_t request)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].req == request)
			return names[i].name;
	return "unknown";
}

void vhost_msg_close_fds(struct vhost_msg *m)
{
	for (int i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

void vhost_rx_init(struct vhost_rx *rx)
{
	rx->have = 0;
	rx->nfds = 0;
	rx->too_many_fds = 0;
}

void vhost_rx_reset(struct vhost_rx *rx)
{
	for (int i = 0; i < rx->nfds; i++)
		close(rx->fds[i]);
	vhost_rx_init(rx);
}

static uint32_t rx_size(const struct vhost_rx *rx)
{
	uint32_t size;

	memcpy(&size, rx->buf + 8, 4);
	return size;
}

/* Keep every fd that came with the bytes just read; none may leak, whatever happens next. */
static void rx_take_fds(struct vhost_rx *rx, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (rx->nfds < VHOST_MSG_MAX_FDS) {
				rx->fds[rx->nfds++] = fd;
			} else {
				close(fd);
				rx->too_many_fds = 1;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		rx->too_many_fds = 1;
}

static int rx_fail(struct vhost_rx *rx, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int rx_fail(struct vhost_rx *rx, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	vhost_rx_reset(rx);
	return -1;
}

int vhost_msg_recv(int sock, struct vhost_rx *rx, struct vhost_msg *m, char *err, size_t errlen)
{
	for (;;) {
		size_t need = rx->have < VHOST_MSG_HDR_SIZE ? VHOST_MSG_HDR_SIZE : VHOST_MSG_HDR_SIZE + rx_size(rx);

		if (rx->have == need)
			break;
		/* Never read past this message: the next one's fds travel with its own first bytes. */
		struct iovec iov = { rx->buf + rx->have, need - rx->have };
		union {
			char buf[CMSG_SPACE(sizeof(int) * VHOST_MSG_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 2;
		if (n < 0)
			return rx_fail(rx, err, errlen, "receive: %s", strerror(errno));
		rx_take_fds(rx, &mh);
		if (n == 0 && rx->have == 0 && rx->nfds == 0)
			return 0;
		if (n == 0 && rx->have < VHOST_MSG_HDR_SIZE)
			return rx_fail(rx, err, errlen, "short header (%zu of %d bytes)", rx->have, VHOST_MSG_HDR_SIZE);
		if (n == 0) {
			uint32_t req;

			memcpy(&req, rx->buf, 4);
			return rx_fail(rx, err, errlen, "%s: payload shorter than the %u bytes its header claims",
				       vhost_req_name(req), rx_size(rx));
		}
		rx->have += (size_t)n;
		if (rx->have == VHOST_MSG_HDR_SIZE && rx_size(rx) > VHOST_MSG_MAX_PAYLOAD) {
			uint32_t req;

			memcpy(&req, rx->buf, 4);
			return rx_fail(rx, err, errlen, "%s claims a %u-byte payload (at most %d)", vhost_req_name(req),
				       rx_size(rx), VHOST_MSG_MAX_PAYLOAD);
		}
	}
	if (rx->too_many_fds)
		return rx_fail(rx, err, errlen, "more than %d fds with one message", VHOST_MSG_MAX_FDS);
	memset(m, 0, sizeof(*m));
	memcpy(&m->request, rx->buf, 4);
	memcpy(&m->flags, rx->buf + 4, 4);
	m->size = rx_size(rx);
	memcpy(m->payload.raw, rx->buf + VHOST_MSG_HDR_SIZE, m->size);
	memcpy(m->fds, rx->fds, sizeof(int) * (size_t)rx->nfds);
	m->nfds = rx->nfds;
	vhost_rx_init(rx); /* the fds are m's now */
	return 1;
}

int vhost_msg_read(int sock, struct vhost_msg *m, char *err, size_t errlen)
{
	struct vhost_rx rx;

	vhost_rx_init(&rx);
	for (;;) {
		struct pollfd p = { sock, POLLIN, 0 };
		int r = vhost_msg_recv(sock, &rx, m, err, errlen);

		if (r != 2)
			return r;
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return rx_fail(&rx, err, errlen, "poll: %s", strerror(errno));
	}
}

static int bad(char *err, size_t errlen, const struct vhost_msg *m, const char *what)
{
	snprintf(err, errlen, "%s: %s", vhost_req_name(m->request), what);
	return -1;
}

int vhost_msg_validate(const struct vhost_msg *m, unsigned nqueues, char *err, size_t errlen)
{
	uint32_t want_size;
	int want_fds = 0;

	if ((m->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		return bad(err, errlen, m, "unsupported protocol version");
	if (m->flags & VHOST_USER_REPLY_MASK)
		return bad(err, errlen, m, "a reply sent to the back-end");
	if (m->size > VHOST_MSG_MAX_PAYLOAD)
		return bad(err, errlen, m, "payload too large");
	switch (m->request) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_SET_OWNER:
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_RESET_DEVICE:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_QUEUE_NUM:
		want_size = 0;
		break;
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		want_size = 8;
		break;
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		want_size = sizeof(struct vhost_vring_state);
		if (m->size == want_size && m->payload.state.index >= nqueues)
			return bad(err, errlen, m, "queue index out of range");
		if (m->request == VHOST_USER_SET_VRING_NUM && m->size == want_size &&
		    (m->payload.state.num == 0 || m->payload.state.num > 32768 ||
		     (m->payload.state.num & (m->payload.state.num - 1))))
			return bad(err, errlen, m, "queue size is not a power of 2 up to 32768");
		if (m->request == VHOST_USER_SET_VRING_BASE && m->size == want_size && m->payload.state.num > 0xffff)
			return bad(err, errlen, m, "ring base does not fit 16 bits");
		break;
	case VHOST_USER_SET_VRING_ADDR:
		want_size = sizeof(struct vhost_vring_addr);
		if (m->size == want_size && m->payload.addr.index >= nqueues)
			return bad(err, errlen, m, "queue index out of range");
		break;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		want_size = 8;
		if (m->size == want_size) {
			if ((m->payload.u64 & VHOST_USER_VRING_IDX_MASK) >= nqueues)
				return bad(err, errlen, m, "queue index out of range");
			if (m->payload.u64 & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK))
				return bad(err, errlen, m, "unknown bits in the ring index");
			want_fds = (m->payload.u64 & VHOST_USER_VRING_NOFD_MASK) ? 0 : 1;
		}
		break;
	case VHOST_USER_SET_MEM_TABLE: {
		uint32_t nr = m->size >= 8 ? m->payload.mem.nregions : 0;

		if (m->size < 8)
			return bad(err, errlen, m, "payload shorter than its region count");
		if (nr == 0 || nr > VHOST_MSG_MAX_REGIONS)
			return bad(err, errlen, m, "region count must be 1..8");
		want_size = 8 + nr * (uint32_t)sizeof(struct vhost_mem_region);
		want_fds = (int)nr;
		break;
	}
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		if (m->size < 12)
			return bad(err, errlen, m, "payload shorter than its config header");
		if (m->payload.config.size > VHOST_MSG_MAX_CONFIG || m->payload.config.offset > VHOST_MSG_MAX_CONFIG ||
		    m->payload.config.offset + m->payload.config.size > VHOST_MSG_MAX_CONFIG)
			return bad(err, errlen, m, "config range past the config space");
		want_size = 12 + m->payload.config.size;
		break;
	case VHOST_USER_GPU_SET_SOCKET:
		want_size = 0;
		want_fds = 1;
		break;
	default:
		snprintf(err, errlen, "unsupported request %u (%s)", m->request, vhost_req_name(m->request));
		return -1;
	}
	if (m->size != want_size) {
		snprintf(err, errlen, "%s: payload of %u bytes, the request takes %u", vhost_req_name(m->request), m->size,
			 want_size);
		return -1;
	}
	if (m->nfds != want_fds) {
		snprintf(err, errlen, "%s: %d fds, the request takes %d", vhost_req_name(m->request), m->nfds, want_fds);
		return -1;
	}
	return 0;
}

void vhost_msg_describe(const struct vhost_msg *m, char *buf, size_t len)
{
	const char *name = vhost_req_name(m->request);
	const char *ack = (m->flags & VHOST_USER_NEED_REPLY_MASK) ? " (ack)" : "";

	switch (m->request) {
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		snprintf(buf, len, "%s 0x%llx%s", name, (unsigned long long)m->payload.u64, ack);
		break;
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		snprintf(buf, len, "%s q%u %u%s", name, m->payload.state.index, m->payload.state.num, ack);
		break;
	case VHOST_USER_SET_VRING_ADDR:
		snprintf(buf, len, "%s q%u desc 0x%llx avail 0x%llx used 0x%llx%s", name, m->payload.addr.index,
			 (unsigned long long)m->payload.addr.desc, (unsigned long long)m->payload.addr.avail,
			 (unsigned long long)m->payload.addr.used, ack);
		break;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		snprintf(buf, len, "%s q%u%s%s", name, (unsigned)(m->payload.u64 & VHOST_USER_VRING_IDX_MASK),
			 (m->payload.u64 & VHOST_USER_VRING_NOFD_MASK) ? " no fd" : "", ack);
		break;
	case VHOST_USER_SET_MEM_TABLE:
		snprintf(buf, len, "%s %u region(s), first gpa 0x%llx size 0x%llx%s", name, m->payload.mem.nregions,
			 (unsigned long long)m->payload.mem.regions[0].gpa,
			 (unsigned long long)m->payload.mem.regions[0].size, ack);
		break;
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		snprintf(buf, len, "%s bytes %u+%u%s", name, m->payload.config.offset, m->payload.config.size, ack);
		break;
	default:
		snprintf(buf, len, "%s%s", name, ack);
	}
}
