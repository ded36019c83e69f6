/* vhost_dev.c: the vhost-user back-end protocol for one vGPU. Every message
 * is validated (vhost_msg.c) before it changes state; a refused message never
 * takes the connection, let alone the process, down. */
#define _GNU_SOURCE
#include "vhost/vhost_dev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io_full.h"

static void queue_reset(struct vdev_queue *q)
{
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	if (q->call_fd >= 0)
		close(q->call_fd);
	memset(q, 0, sizeof(*q));
	q->kick_fd = q->call_fd = -1;
}

void vdev_init(struct vdev *d, int sock, unsigned nqueues, uint64_t features, const void *config, uint32_t config_len,
	       vdev_handler handler, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->sock = sock;
	d->gpu_sock = -1;
	vhost_rx_init(&d->rx);
	d->nqueues = nqueues > VDEV_MAX_QUEUES ? VDEV_MAX_QUEUES : nqueues;
	/* Fresh queues own no fds yet (queue_reset would close whatever the memory held). */
	for (unsigned i = 0; i < VDEV_MAX_QUEUES; i++)
		d->q[i].kick_fd = d->q[i].call_fd = -1;
	d->offered = features | (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
		     (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	d->protocol_offered = (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | (1ull << VHOST_USER_PROTOCOL_F_CONFIG) |
			      (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE);
	d->config_len = config_len > VHOST_MSG_MAX_CONFIG ? VHOST_MSG_MAX_CONFIG : config_len;
	memcpy(d->config, config, d->config_len);
	d->handler = handler;
	d->ctx = ctx;
}

static int send_reply(struct vdev *d, uint32_t request, const void *payload, uint32_t size)
{
	uint8_t buf[VHOST_MSG_HDR_SIZE + VHOST_MSG_MAX_PAYLOAD];
	uint32_t flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	size_t len = VHOST_MSG_HDR_SIZE + size;

	memcpy(buf, &request, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + VHOST_MSG_HDR_SIZE, payload, size);
	return io_send_full(d->sock, buf, len);
}

static int reply_u64(struct vdev *d, uint32_t request, uint64_t v)
{
	return send_reply(d, request, &v, 8);
}

static void event(struct vdev *d, enum vdev_event ev, unsigned qi)
{
	if (d->event_hook)
		d->event_hook(d->event_ctx, ev, qi);
}

/* The device was reset: the device layer drops its state; stopped rings no longer tell anything. */
static void device_reset(struct vdev *d, const char *why)
{
	memset(d->stopped, 0, sizeof(d->stopped));
	d->reset_armed = 0;
	d->gen++;
	snprintf(d->reset_why, sizeof(d->reset_why), "%s", why);
	event(d, VDEV_DEVICE_RESET, 0);
}

/* A ring stopped by GET_VRING_BASE starts again. QEMU restarts a paused ring where it stopped, on the same
 * memory; after a virtio reset every ring starts at 0, usually elsewhere. The first ring that restarts
 * differently means the device was reset; once every stopped ring restarted, the question is closed. */
static void ring_restarted(struct vdev *d, unsigned qi)
{
	struct vdev_stop *st = &d->stopped[qi];
	struct vdev_queue *q = &d->q[qi];
	char why[128];

	if (!d->reset_armed || !st->valid)
		return;
	if (q->base != st->base || q->desc != st->desc || q->avail != st->avail || q->used != st->used) {
		if (q->base != st->base)
			snprintf(why, sizeof(why), "queue %u restarted at %u, stopped at %u", qi, q->base, st->base);
		else
			snprintf(why, sizeof(why), "queue %u restarted on another ring", qi);
		device_reset(d, why);
		return;
	}
	st->valid = 0;
	d->reset_armed = 0;
	for (unsigned i = 0; i < VDEV_MAX_QUEUES; i++)
		d->reset_armed |= d->stopped[i].valid;
	if (!d->reset_armed)
		d->resumes++;
}

/* Start a queue once everything it needs is there. */
static void queue_try_start(struct vdev *d, unsigned qi)
{
	struct vdev_queue *q = &d->q[qi];
	int event_idx = !!(d->features & (1ull << VIRTIO_RING_F_EVENT_IDX));

	if (q->started || !q->addr_set || !q->num || q->kick_fd < 0)
		return;
	if (vring_setup(&q->vr, &d->mem, q->num, q->desc, q->avail, q->used, event_idx) < 0) {
		snprintf(d->why, sizeof(d->why), "queue %u: %s", qi, q->vr.why);
		return;
	}
	q->vr.last_avail = q->base;
	q->vr.used_idx = q->base;
	q->started = 1;
	ring_restarted(d, qi);
	/* Without protocol features a ring is enabled as it starts. */
	if (!(d->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
		q->enabled = 1;
}

/* The requests, one handler each (a reply, when the request has one, is sent by its handler). Each returns 0, or
 * -1 with the reason in d->why. */
static int on_get_features(struct vdev *d, struct vhost_msg *m)
{
	return reply_u64(d, m->request, d->offered);
}

static int on_set_features(struct vdev *d, struct vhost_msg *m)
{
	/* Bits never offered are ignored, not fatal: QEMU 10 passes on transport bits (RING_RESET) the back-end did
	 * not offer. The device acts on the offered ones only. */
	d->features = m->payload.u64 & d->offered;
	if (m->payload.u64 & ~d->offered)
		snprintf(d->why, sizeof(d->why), "SET_FEATURES: ignored bits 0x%llx that were not offered",
			 (unsigned long long)(m->payload.u64 & ~d->offered));
	return 0;
}

static int on_get_protocol_features(struct vdev *d, struct vhost_msg *m)
{
	return reply_u64(d, m->request, d->protocol_offered);
}

static int on_set_protocol_features(struct vdev *d, struct vhost_msg *m)
{
	d->protocol = m->payload.u64 & d->protocol_offered;
	return 0;
}

static int on_set_owner(struct vdev *d, struct vhost_msg *m)
{
	(void)m;
	d->owned = 1;
	return 0;
}

/* RESET_OWNER and RESET_DEVICE: every ring stops and the device forgets its state; RESET_DEVICE keeps the
 * ownership. */
static int on_reset(struct vdev *d, struct vhost_msg *m)
{
	for (unsigned i = 0; i < VDEV_MAX_QUEUES; i++)
		queue_reset(&d->q[i]);
	if (m->request == VHOST_USER_RESET_OWNER)
		d->owned = 0;
	device_reset(d, vhost_req_name(m->request));
	return 0;
}

static int on_get_queue_num(struct vdev *d, struct vhost_msg *m)
{
	return reply_u64(d, m->request, d->nqueues);
}

static int on_set_mem_table(struct vdev *d, struct vhost_msg *m)
{
	struct guest_mem fresh = { 0 }, old;
	char err[160];

	for (uint32_t i = 0; i < m->payload.mem.nregions; i++) {
		const struct vhost_mem_region *r = &m->payload.mem.regions[i];

		if (guest_mem_add(&fresh, m->fds[i], r->gpa, r->size, r->uva, r->mmap_offset, err, sizeof(err)) < 0) {
			guest_mem_clear(&fresh);
			snprintf(d->why, sizeof(d->why), "SET_MEM_TABLE: region %u: %s", i, err);
			return -1;
		}
	}
	/* QEMU sends its table again on every start (a resume too): the same table keeps its mapping, so nothing
	 * that points into guest memory (backings, rings) has to be dropped. */
	if (guest_mem_same(&fresh, &d->mem)) {
		guest_mem_clear(&fresh);
		d->mem_kept++;
		return 0;
	}
	/* The device moves what points into the old mapping before it goes; running rings restart on the new one. */
	old = d->mem;
	d->mem = fresh;
	d->gen++;
	if (old.n)
		event(d, VDEV_MEM_REMAPPED, 0);
	guest_mem_clear(&old);
	for (unsigned i = 0; i < d->nqueues; i++)
		if (d->q[i].started) {
			d->q[i].base = d->q[i].vr.last_avail;
			d->q[i].started = 0;
			queue_try_start(d, i);
		}
	return 0;
}

static int on_set_vring_num(struct vdev *d, struct vhost_msg *m)
{
	d->q[m->payload.state.index].num = (uint16_t)m->payload.state.num;
	return 0;
}

static int on_set_vring_addr(struct vdev *d, struct vhost_msg *m)
{
	struct vdev_queue *q = &d->q[m->payload.addr.index];

	q->desc = m->payload.addr.desc;
	q->avail = m->payload.addr.avail;
	q->used = m->payload.addr.used;
	q->addr_set = 1;
	return 0;
}

static int on_set_vring_base(struct vdev *d, struct vhost_msg *m)
{
	d->q[m->payload.state.index].base = (uint16_t)m->payload.state.num;
	return 0;
}

/* Stops the ring; the reply carries where the front-end should resume. What is in flight on it is finished first
 * (a stopped ring takes no completions), so a pause loses no request. */
static int on_get_vring_base(struct vdev *d, struct vhost_msg *m)
{
	unsigned qi = m->payload.state.index;
	struct vdev_queue *q = &d->q[qi];
	struct vhost_vring_state st;

	if (q->started)
		event(d, VDEV_RING_STOPPING, qi);
	st = (struct vhost_vring_state){ qi, q->started ? q->vr.last_avail : q->base };
	if (q->started) {
		d->stopped[qi] = (struct vdev_stop){ 1, (uint16_t)st.num, q->desc, q->avail, q->used };
		d->reset_armed = 1;
	}
	d->ring_stops++;
	queue_reset(q);
	d->gen++;
	return send_reply(d, m->request, &st, sizeof(st));
}

/* SET_VRING_KICK, SET_VRING_CALL and SET_VRING_ERR: a ring's eventfd (the fd is ours now, or closed). */
static int on_set_vring_fd(struct vdev *d, struct vhost_msg *m)
{
	unsigned qi = (unsigned)(m->payload.u64 & VHOST_USER_VRING_IDX_MASK);
	int fd = m->nfds ? m->fds[0] : -1;
	struct vdev_queue *q = &d->q[qi];

	m->nfds = 0;
	if (m->request == VHOST_USER_SET_VRING_KICK) {
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		q->kick_fd = fd;
		queue_try_start(d, qi);
	} else if (m->request == VHOST_USER_SET_VRING_CALL) {
		if (q->call_fd >= 0)
			close(q->call_fd);
		q->call_fd = fd;
	} else if (fd >= 0) {
		close(fd); /* errors are reported as NEEDS_RESET instead */
	}
	return 0;
}

static int on_set_vring_enable(struct vdev *d, struct vhost_msg *m)
{
	d->q[m->payload.state.index].enabled = m->payload.state.num != 0;
	return 0;
}

static int on_get_config(struct vdev *d, struct vhost_msg *m)
{
	struct vhost_config c = m->payload.config;

	if (c.offset + c.size > d->config_len) {
		snprintf(d->why, sizeof(d->why), "GET_CONFIG: bytes %u..%u past the %u-byte config space", c.offset,
			 c.offset + c.size, d->config_len);
		/* The reply still carries the requested size, zeroed: the front-end sees no config. */
		memset(c.data, 0, c.size);
		send_reply(d, m->request, &c, 12 + c.size);
		return -1;
	}
	memcpy(c.data, d->config + c.offset, c.size);
	return send_reply(d, m->request, &c, 12 + c.size);
}

static int on_set_config(struct vdev *d, struct vhost_msg *m)
{
	const struct vhost_config *c = &m->payload.config;
	uint8_t fresh[VHOST_MSG_MAX_CONFIG];

	if (!d->config_hook || (uint64_t)c->offset + c->size > d->config_len) {
		snprintf(d->why, sizeof(d->why), "SET_CONFIG: bytes %u..%llu are not writable", c->offset,
			 (unsigned long long)c->offset + c->size);
		return -1;
	}
	memcpy(fresh, d->config, d->config_len);
	memcpy(fresh + c->offset, c->data, c->size);
	if (d->config_hook(d->ctx, fresh, c->offset, c->size) < 0) {
		snprintf(d->why, sizeof(d->why), "SET_CONFIG: the device refused bytes %u..%u", c->offset,
			 c->offset + c->size);
		return -1;
	}
	memcpy(d->config, fresh, d->config_len);
	return 0;
}

static int on_gpu_set_socket(struct vdev *d, struct vhost_msg *m)
{
	if (d->gpu_sock >= 0)
		close(d->gpu_sock);
	d->gpu_sock = m->fds[0];
	m->nfds = 0;
	return 0;
}

static int (*const handlers[])(struct vdev *d, struct vhost_msg *m) = {
	[VHOST_USER_GET_FEATURES] = on_get_features,
	[VHOST_USER_SET_FEATURES] = on_set_features,
	[VHOST_USER_GET_PROTOCOL_FEATURES] = on_get_protocol_features,
	[VHOST_USER_SET_PROTOCOL_FEATURES] = on_set_protocol_features,
	[VHOST_USER_SET_OWNER] = on_set_owner,
	[VHOST_USER_RESET_OWNER] = on_reset,
	[VHOST_USER_RESET_DEVICE] = on_reset,
	[VHOST_USER_GET_QUEUE_NUM] = on_get_queue_num,
	[VHOST_USER_SET_MEM_TABLE] = on_set_mem_table,
	[VHOST_USER_SET_VRING_NUM] = on_set_vring_num,
	[VHOST_USER_SET_VRING_ADDR] = on_set_vring_addr,
	[VHOST_USER_SET_VRING_BASE] = on_set_vring_base,
	[VHOST_USER_GET_VRING_BASE] = on_get_vring_base,
	[VHOST_USER_SET_VRING_KICK] = on_set_vring_fd,
	[VHOST_USER_SET_VRING_CALL] = on_set_vring_fd,
	[VHOST_USER_SET_VRING_ERR] = on_set_vring_fd,
	[VHOST_USER_SET_VRING_ENABLE] = on_set_vring_enable,
	[VHOST_USER_GET_CONFIG] = on_get_config,
	[VHOST_USER_SET_CONFIG] = on_set_config,
	[VHOST_USER_GPU_SET_SOCKET] = on_gpu_set_socket,
};

/* Act on a validated message. 0 done, -1 refused (reason in d->why). */
static int act(struct vdev *d, struct vhost_msg *m)
{
	if (m->request < sizeof(handlers) / sizeof(handlers[0]) && handlers[m->request])
		return handlers[m->request](d, m);
	snprintf(d->why, sizeof(d->why), "%s is not handled", vhost_req_name(m->request));
	return -1;
}

static int is_get(uint32_t req)
{
	return req == VHOST_USER_GET_FEATURES || req == VHOST_USER_GET_PROTOCOL_FEATURES ||
	       req == VHOST_USER_GET_QUEUE_NUM || req == VHOST_USER_GET_VRING_BASE || req == VHOST_USER_GET_CONFIG;
}

int vdev_handle_msg(struct vdev *d)
{
	struct vhost_msg m;
	char err[256];
	int r = vhost_msg_recv(d->sock, &d->rx, &m, err, sizeof(err));

	if (r == 2)
		return 2;
	if (r <= 0) {
		if (r < 0)
			snprintf(d->why, sizeof(d->why), "%s", err);
		return r;
	}
	if (vhost_msg_validate(&m, d->nqueues, err, sizeof(err)) < 0) {
		snprintf(d->why, sizeof(d->why), "%s", err);
		snprintf(d->last_msg, sizeof(d->last_msg), "refused: %.140s", err);
		r = -1;
	} else {
		vhost_msg_describe(&m, d->last_msg, sizeof(d->last_msg));
		r = act(d, &m);
	}
	vhost_msg_close_fds(&m);
	/* REPLY_ACK: a message that asked for it learns whether it was applied (GETs answer by themselves). */
	if ((m.flags & VHOST_USER_NEED_REPLY_MASK) && (d->protocol & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK)) &&
	    !is_get(m.request) && reply_u64(d, m.request, r == 0 ? 0 : 1) < 0)
		return -1;
	return 1;
}

/* Signal the driver (call eventfd) when the ring says it wants to hear. 0, or -1 when the signal fails. */
static int notify(struct vdev_queue *q)
{
	uint64_t n = 1;

	if (q->call_fd >= 0 && vring_should_notify(&q->vr) && write(q->call_fd, &n, sizeof(n)) < 0)
		return -1;
	return 0;
}

int vdev_serve(struct vdev *d, unsigned qi, int budget)
{
	struct vdev_queue *q;
	struct vring_req req;
	int served = 0, taken = 0, r = 0;

	if (qi >= d->nqueues)
		return -1;
	q = &d->q[qi];
	if (!q->started || !q->enabled)
		return 0;
	q->put_back = 0;
	while ((budget <= 0 || taken < budget) && (r = vring_pop(&q->vr, &d->mem, &req)) == 1) {
		uint32_t written = d->handler ? d->handler(d->ctx, qi, &req) : 0;

		if (written == VDEV_RETRY) {
			vring_unpop(&q->vr);
			q->put_back = 1;
			break;
		}
		taken++;
		if (written == VDEV_DEFERRED)
			continue;
		vring_push(&q->vr, req.head, written);
		served++;
	}
	if (r < 0)
		snprintf(d->why, sizeof(d->why), "queue %u: %s", qi, q->vr.why);
	if (served && notify(q) < 0)
		return -1;
	return r < 0 ? -1 : taken;
}

int vdev_process_queue(struct vdev *d, unsigned qi)
{
	uint64_t n;

	if (qi >= d->nqueues)
		return -1;
	if (d->q[qi].kick_fd >= 0 && read(d->q[qi].kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -1;
	return vdev_serve(d, qi, 0);
}

int vdev_complete(struct vdev *d, unsigned qi, uint16_t head, uint32_t written, uint32_t gen)
{
	struct vdev_queue *q;

	if (qi >= d->nqueues || gen != d->gen)
		return 0;
	q = &d->q[qi];
	if (!q->started || q->vr.broken)
		return 0;
	vring_push(&q->vr, head, written);
	return notify(q) < 0 ? -1 : 1;
}

int vdev_resignal(struct vdev *d, uint64_t now_ns, uint64_t after_ns, int *watched)
{
	uint64_t n = 1;
	int sent = 0;

	for (unsigned qi = 0; qi < d->nqueues; qi++) {
		struct vdev_queue *q = &d->q[qi];
		uint64_t state;

		if (!q->started || !q->enabled || q->call_fd < 0 || !vring_unheard(&q->vr, &state)) {
			q->unheard_watched = 0;
			continue;
		}
		if (!q->unheard_watched || state != q->unheard_state) {
			q->unheard_watched = 1;
			q->unheard_state = state;
			q->unheard_since = now_ns;
			q->unheard_sent = 0;
		}
		if (!q->unheard_sent)
			*watched = 1;
		if (q->unheard_sent || now_ns - q->unheard_since < after_ns)
			continue;
		if (write(q->call_fd, &n, sizeof(n)) < 0)
			return -1;
		q->unheard_sent = 1; /* once for this state: a driver that does not answer is not signalled forever */
		d->resignals++;
		sent++;
	}
	return sent;
}

void vdev_free(struct vdev *d)
{
	for (unsigned i = 0; i < VDEV_MAX_QUEUES; i++)
		queue_reset(&d->q[i]);
	guest_mem_clear(&d->mem);
	vhost_rx_reset(&d->rx);
	if (d->gpu_sock >= 0)
		close(d->gpu_sock);
	if (d->sock >= 0)
		close(d->sock);
	d->gpu_sock = d->sock = -1;
}
