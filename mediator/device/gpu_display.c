/* gpu_display.c: the vhost-user-gpu display channel (back-end side). Every
 * send and every awaited reply is bounded by timeout_ms; on any failure the
 * channel is closed with its reason, so one stuck front-end never holds up
 * the other vGPUs. */
#define _GNU_SOURCE
#include "device/gpu_display.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mono_clock.h"

#define GDISP_DEFAULT_TIMEOUT_MS 500

void gdisp_init(struct gpu_display *g)
{
	memset(g, 0, sizeof(*g));
	g->fd = -1;
	g->timeout_ms = GDISP_DEFAULT_TIMEOUT_MS;
}

/* The largest reply the front-end sends (EDID or display info), with room to spare. */
#define REPLY_MAX (sizeof(struct virtio_gpu_resp_edid) + sizeof(struct virtio_gpu_resp_display_info))

void gdisp_close(struct gpu_display *g, const char *why)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	g->protocol = 0;
	g->negotiating = 0;
	if (why)
		snprintf(g->why, sizeof(g->why), "%s", why);
}

/* The channel failed: count it, close it with the reason. Returns -1. */
static int broken(struct gpu_display *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int broken(struct gpu_display *g, const char *fmt, ...)
{
	char why[sizeof(g->why)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	g->failed++;
	gdisp_close(g, why);
	return -1;
}

/* Wait until fd is ready for `events` before the deadline. 0 ready, -1 timed out or failed. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - mono_ms();
		int r;

		if (left <= 0)
			return -1;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (p.revents & (POLLERR | POLLNVAL))
			return -1;
		if (p.revents & events)
			return 0;
		if (p.revents & POLLHUP)
			return -1;
	}
}

/* Message req of body a (alen bytes) and payload b (blen bytes) into m: a short body goes into m's own bytes after
 * the header; a long one (a cursor image) is the payload itself, and then there is no b. 0, or -1 (no such message). */
static int msg_build(struct dsend_msg *m, uint32_t req, const void *a, size_t alen, const void *b, size_t blen)
{
	uint32_t hdr[3] = { req, 0, (uint32_t)(alen + blen) };

	if (alen + blen + sizeof(hdr) > UINT32_MAX || (alen > DSEND_HEAD_MAX - sizeof(hdr) && blen))
		return -1;
	memcpy(m->head, hdr, sizeof(hdr));
	m->head_len = sizeof(hdr);
	m->tag = req;
	if (alen > DSEND_HEAD_MAX - sizeof(hdr)) {
		m->payload = a;
		m->payload_len = alen;
		return 0;
	}
	if (alen)
		memcpy(m->head + sizeof(hdr), a, alen);
	m->head_len += alen;
	m->payload = b;
	m->payload_len = blen;
	return 0;
}

/* Send a message on this channel, whole, within its time limit (in the caller: display_sender.c does the
 * writing); a failure closes the channel with the reason. */
static int send_msg(struct gpu_display *g, uint32_t req, const void *a, size_t alen, const void *b, size_t blen)
{
	struct dsend_msg m;
	struct dsend_job j = { .fd = g->fd, .timeout_ms = g->timeout_ms, .msg = &m, .nmsg = 1 };

	if (g->fd < 0)
		return -1;
	if (msg_build(&m, req, a, alen, b, blen) < 0)
		return broken(g, "display request %u of %zu bytes cannot be one message", req, alen + blen);
	dsend_submit(NULL, &j);
	return j.failed ? broken(g, "%s", j.why) : 0;
}

static int recv_all(struct gpu_display *g, void *buf, size_t len, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = recv(g->fd, (uint8_t *)buf + off, len - off, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(g->fd, POLLIN, deadline) < 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Read one reply (header and payload, payload up to cap bytes) within the deadline. */
static int read_reply(struct gpu_display *g, uint32_t hdr[3], void *buf, size_t cap, int64_t deadline)
{
	if (recv_all(g, hdr, 3 * sizeof(uint32_t), deadline) < 0)
		return broken(g, "no reply from the front-end within %u ms", g->timeout_ms);
	if (!(hdr[1] & VHOST_USER_GPU_MSG_FLAG_REPLY) || hdr[2] > cap)
		return broken(g, "display reply: request %u flags 0x%x size %u is not a reply we can take", hdr[0],
			      hdr[1], hdr[2]);
	if (recv_all(g, buf, hdr[2], deadline) < 0)
		return broken(g, "display reply to %u: payload cut short", hdr[0]);
	return 0;
}

/* The front-end's protocol features arrived: keep what both sides have and say so. */
static int take_protocol_features(struct gpu_display *g, const uint32_t hdr[3], const void *payload)
{
	uint64_t theirs = 0, ours = 1ull << VHOST_USER_GPU_PROTOCOL_F_EDID;

	if (hdr[2] != sizeof(theirs))
		return broken(g, "protocol features reply of %u bytes", hdr[2]);
	memcpy(&theirs, payload, sizeof(theirs));
	ours &= theirs;
	g->negotiating = 0;
	if (send_msg(g, VHOST_USER_GPU_SET_PROTOCOL_FEATURES, &ours, sizeof(ours), NULL, 0) < 0)
		return -1;
	g->protocol = ours;
	return 0;
}

/* Await the reply to req, whose payload must be exactly `len` bytes; a pending protocol-features reply
 * that comes first is taken on the way. */
static int await_reply(struct gpu_display *g, uint32_t req, void *out, size_t len)
{
	int64_t deadline = mono_ms() + g->timeout_ms;
	uint8_t buf[REPLY_MAX];
	uint32_t hdr[3];

	for (;;) {
		if (read_reply(g, hdr, buf, sizeof(buf), deadline) < 0)
			return -1;
		if (hdr[0] == VHOST_USER_GPU_GET_PROTOCOL_FEATURES && g->negotiating) {
			if (take_protocol_features(g, hdr, buf) < 0)
				return -1;
			continue;
		}
		if (hdr[0] != req || hdr[2] != len)
			return broken(g, "display reply: request %u of %u bytes, expected reply to %u of %zu", hdr[0],
				      hdr[2], req, len);
		memcpy(out, buf, len);
		return 0;
	}
}

int gdisp_attach(struct gpu_display *g, int fd)
{
	int fl;

	gdisp_close(g, NULL);
	g->why[0] = 0;
	g->fd = fd;
	memset(g->shown_w, 0, sizeof(g->shown_w)); /* a new channel: nothing announced on it yet */
	memset(g->shown_h, 0, sizeof(g->shown_h));
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		gdisp_close(g, "display channel: cannot make it non-blocking");
		return -1;
	}
	/* The answer is taken when it comes (gdisp_readable): the front-end may be busy sending us
	 * vhost-user messages that wait for our acks, so waiting here could deadlock. */
	if (send_msg(g, VHOST_USER_GPU_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0) < 0)
		return -1;
	g->negotiating = 1;
	return 0;
}

int gdisp_readable(struct gpu_display *g)
{
	uint8_t buf[REPLY_MAX];
	uint32_t hdr[3];

	if (g->fd < 0 || read_reply(g, hdr, buf, sizeof(buf), mono_ms() + g->timeout_ms) < 0)
		return -1;
	if (hdr[0] == VHOST_USER_GPU_GET_PROTOCOL_FEATURES && g->negotiating)
		return take_protocol_features(g, hdr, buf);
	/* A reply nobody waits for any more (it came after its wait timed out): dropped. */
	return 0;
}

int gdisp_get_display_info(struct gpu_display *g, struct virtio_gpu_resp_display_info *out)
{
	if (g->fd < 0 || send_msg(g, VHOST_USER_GPU_GET_DISPLAY_INFO, NULL, 0, NULL, 0) < 0)
		return -1;
	return await_reply(g, VHOST_USER_GPU_GET_DISPLAY_INFO, out, sizeof(*out));
}

int gdisp_get_edid(struct gpu_display *g, uint32_t scanout, struct virtio_gpu_resp_edid *out)
{
	/* Whether the front-end has EDIDs is known once its protocol features are in. */
	while (g->fd >= 0 && g->negotiating)
		if (gdisp_readable(g) < 0)
			return -1;
	if (g->fd < 0 || !(g->protocol & (1ull << VHOST_USER_GPU_PROTOCOL_F_EDID)))
		return -1;
	if (send_msg(g, VHOST_USER_GPU_GET_EDID, &scanout, sizeof(scanout), NULL, 0) < 0)
		return -1;
	if (await_reply(g, VHOST_USER_GPU_GET_EDID, out, sizeof(*out)) < 0)
		return -1;
	if (out->size > VIRTIO_GPU_EDID_MAX)
		out->size = VIRTIO_GPU_EDID_MAX;
	return 0;
}

int gdisp_announce_due(struct gpu_display *g, uint32_t scanout, uint32_t width, uint32_t height)
{
	if (width && g->shown_w[scanout] == width && g->shown_h[scanout] == height)
		return 0;
	g->shown_w[scanout] = width;
	g->shown_h[scanout] = width ? height : 0;
	return 1;
}

int gdisp_scanout(struct gpu_display *g, uint32_t scanout, uint32_t width, uint32_t height)
{
	struct vhost_user_gpu_scanout m = { scanout, width, height };

	if (scanout >= VIRTIO_GPU_MAX_SCANOUTS)
		return -1;
	if (!gdisp_announce_due(g, scanout, width, height))
		return 0;
	return send_msg(g, VHOST_USER_GPU_SCANOUT, &m, sizeof(m), NULL, 0);
}

int gdisp_update(struct gpu_display *g, uint32_t scanout, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		 const void *pixels)
{
	struct vhost_user_gpu_update m = { scanout, x, y, w, h };
	size_t bytes = (size_t)w * h * 4;

	if (send_msg(g, VHOST_USER_GPU_UPDATE, &m, sizeof(m), pixels, bytes) < 0)
		return -1;
	gdisp_count_update(g, scanout, bytes);
	return 0;
}

void gdisp_msg_scanout(struct dsend_msg *msg, uint32_t scanout, uint32_t width, uint32_t height)
{
	struct vhost_user_gpu_scanout m = { scanout, width, height };

	msg_build(msg, VHOST_USER_GPU_SCANOUT, &m, sizeof(m), NULL, 0); /* a fixed size that fits */
}

int gdisp_msg_update(struct dsend_msg *msg, uint32_t scanout, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		     const void *pixels)
{
	struct vhost_user_gpu_update m = { scanout, x, y, w, h };

	return msg_build(msg, VHOST_USER_GPU_UPDATE, &m, sizeof(m), pixels, (size_t)w * h * 4);
}

void gdisp_count_update(struct gpu_display *g, uint32_t scanout, uint64_t bytes)
{
	g->updates++;
	g->update_bytes += bytes;
	if (scanout < VIRTIO_GPU_MAX_SCANOUTS) {
		g->out_updates[scanout]++;
		g->out_bytes[scanout] += bytes;
	}
}

void gdisp_fail(struct gpu_display *g, const char *why)
{
	broken(g, "%s", why);
}

int gdisp_cursor(struct gpu_display *g, uint32_t scanout, uint32_t x, uint32_t y, uint32_t hot_x, uint32_t hot_y,
		 const uint32_t *shape, int visible)
{
	struct vhost_user_gpu_cursor_pos pos = { scanout, x, y };

	if (!visible)
		return send_msg(g, VHOST_USER_GPU_CURSOR_POS_HIDE, &pos, sizeof(pos), NULL, 0);
	if (shape) {
		struct vhost_user_gpu_cursor_update u = { .pos = pos, .hot_x = hot_x, .hot_y = hot_y };

		memcpy(u.data, shape, sizeof(u.data));
		return send_msg(g, VHOST_USER_GPU_CURSOR_UPDATE, &u, sizeof(u), NULL, 0);
	}
	return send_msg(g, VHOST_USER_GPU_CURSOR_POS, &pos, sizeof(pos), NULL, 0);
}
