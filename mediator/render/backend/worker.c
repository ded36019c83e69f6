/* render/worker.c: the renderer back-end that hands everything to a render worker, a process of its own
 * (renderer.h, render_worker.h, the protocol in render_proto.h). Calls whose outcome the device model needs (a
 * transfer, capsets, a cursor) wait for the worker's REPLY, at most the timeout; the rest (creates, backings,
 * unrefs, detaches, context bookkeeping, command streams, fences) are sent and not waited for: one that fails is
 * counted when the worker says so (QEMU's own virgl device does not look at virglrenderer's result for them
 * either). The worker is trusted no more than a guest: a message of the wrong size, a reply to nothing, a fence
 * never queued or a connection that closes makes the renderer dead, with the reason, and the worker is killed. */
#define _GNU_SOURCE
#include "render/renderer.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mono_clock.h"
#include "render/render_proto.h"
#include "render/render_worker.h"
#include "render/shared_mem.h"

#define MAX_READS 16 /* read-backs under way at once: a scanout each */

struct wrk {
	struct renderer r;
	struct render_spawner *z;
	int sock, pid;
	uint32_t seq;
	uint64_t timeout_ns, opened_ns;
	int ready;
	uint32_t ncaps;
	struct rp_caps_info caps[RP_MAX_CAPSETS];
	/* The ring: streams and entry tables are written at head; the worker's DONEs give back all up to tail. */
	uint8_t *ring;
	uint64_t head, tail;
	uint32_t out; /* SUBMITs and ATTACHes not yet DONE */
	uint8_t *bulk;
	size_t bulk_len;
	uint32_t *maps; /* shared_mem ids mapped into the worker */
	size_t nmaps, cap_maps;
	uint32_t fence_seen; /* the newest FENCE, not yet reported */
	int fence_new;
	/* Read-backs under way (read_begin), in the order sent: each lands in the bulk area at off, and is copied to
	 * dst when its REPLY comes. Nothing else uses the bulk area meanwhile (bulk_for_call waits for them). */
	struct later_read {
		uint32_t seq;
		uint64_t off, len;
		void *dst;
		int *rc;
	} rd[MAX_READS];
	unsigned nrd;
	struct render_worker_info info;
};

static struct wrk *WK(struct renderer *r)
{
	return (struct wrk *)r;
}

/* The worker can no longer be trusted or reached: it is killed, and every call fails from now on. */
static void cut_off(struct wrk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cut_off(struct wrk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->r.dead)
		return;
	w->r.dead = 1;
	va_start(ap, fmt);
	vsnprintf(w->r.why, sizeof(w->r.why), fmt, ap);
	va_end(ap);
	for (unsigned i = 0; i < w->nrd; i++) /* read-backs under way never come */
		if (w->rd[i].rc)
			*w->rd[i].rc = -1;
	w->nrd = 0;
	w->r.reading = 0;
	if (w->pid > 0)
		render_spawner_kill(w->z, w->pid);
}

static void send_msg(struct wrk *w, uint32_t op, const void *p, uint32_t len, int fd)
{
	if (w->r.dead)
		return;
	w->seq++;
	if (rp_send(w->sock, op, w->seq, p, len, fd) < 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			cut_off(w, "worker %d: its connection closed (%s not sent)", w->pid, rp_op_name(op));
		else
			cut_off(w, "worker %d: %s not sent: %s", w->pid, rp_op_name(op), strerror(errno));
	}
}

/* The oldest read-back under way is in (rc 0) or was refused: its pixels to their place, its outcome told. */
static void read_in(struct wrk *w, int rc)
{
	struct later_read *q = &w->rd[0];

	if (q->dst && !rc)
		memcpy(q->dst, w->bulk + q->off, q->len);
	if (q->rc)
		*q->rc = rc ? -1 : 0;
	if (rc) {
		w->info.async_errors++;
		snprintf(w->info.last_async_error, sizeof(w->info.last_async_error), "a read-back was refused (%d)", rc);
	}
	memmove(w->rd, w->rd + 1, (size_t)--w->nrd * sizeof(*w->rd));
	w->r.reading--;
}

/* The worker's messages, once checked for size and order: READY (its renderer, capsets and descriptor limit),
 * FENCE (retired in order), DONE (a stream's ring space back), FAILED (an asynchronous call refused). Each returns
 * 1, or -1 with the worker cut off. */
static int on_ready(struct wrk *w, uint8_t *buf)
{
	struct rp_ready *rd = (struct rp_ready *)buf;

	rd->gl_renderer[sizeof(rd->gl_renderer) - 1] = rd->platform[sizeof(rd->platform) - 1] =
		rd->why[sizeof(rd->why) - 1] = 0;
	if (w->ready || rd->version != RP_VERSION || rd->rc != 0 || rd->ncaps > RP_MAX_CAPSETS) {
		const char *why = rd->rc     ? rd->why
				  : w->ready ? "READY twice"
					     : "a READY of another version, or with too many capsets";

		cut_off(w, "worker %d: %s", w->pid, why);
		return -1;
	}
	if (!rd->fd_limit || rd->fd_limit > RENDER_WORKER_FDS) {
		cut_off(w, "worker %d: a READY saying it may hold %u descriptors (1 to %d)", w->pid, rd->fd_limit,
			RENDER_WORKER_FDS);
		return -1;
	}
	for (uint32_t i = 0; i < rd->ncaps; i++)
		if (!rd->caps[i].size || rd->caps[i].size > RP_MAX_CAPS_BYTES) {
			cut_off(w, "worker %d: capset %u of %u bytes", w->pid, rd->caps[i].id,
				rd->caps[i].size);
			return -1;
		}
	w->ncaps = rd->ncaps;
	w->info.fd_limit = rd->fd_limit;
	memcpy(w->caps, rd->caps, sizeof(w->caps));
	snprintf(w->r.gl_renderer, sizeof(w->r.gl_renderer), "%.191s", rd->gl_renderer);
	snprintf(w->r.platform, sizeof(w->r.platform), "%.140s (worker)", rd->platform);
	w->ready = w->info.ready = 1;
	w->r.starting = 0;
	return 1;
}

static int on_fence(struct wrk *w, const uint8_t *buf)
{
	struct rp_fence f;

	memcpy(&f, buf, sizeof(f));
	/* Fences retire in order, and only those queued: newer than the last seen, not past the last queued. */
	if (f.fence == 0 || f.fence > RENDER_FENCE_LAST || renderer_fence_since(f.fence, w->r.next_fence) > 0 ||
	    renderer_fence_since(f.fence, w->r.last_done) <= 0 ||
	    (w->fence_new && renderer_fence_since(f.fence, w->fence_seen) <= 0)) {
		cut_off(w, "worker %d: fence %u retired (queued up to %u, seen %u)", w->pid, f.fence,
			w->r.next_fence, w->fence_new ? w->fence_seen : w->r.last_done);
		return -1;
	}
	w->fence_seen = f.fence;
	w->fence_new = 1;
	return 1;
}

static int on_done(struct wrk *w, const uint8_t *buf)
{
	struct rp_reply d;

	memcpy(&d, buf, sizeof(d));
	if (!w->out || d.ring_end > RP_RING_BYTES) {
		cut_off(w, "worker %d: DONE for no stream or backing", w->pid);
		return -1;
	}
	w->out--;
	w->tail = d.ring_end;
	if (!w->out)
		w->head = w->tail = 0; /* all of it is free again */
	if (d.rc) {
		w->info.async_errors++;
		snprintf(w->info.last_async_error, sizeof(w->info.last_async_error),
			 "a command stream was refused (%d)", d.rc);
	}
	return 1;
}

static int on_failed(struct wrk *w, const uint8_t *buf)
{
	struct rp_failed f;

	memcpy(&f, buf, sizeof(f));
	w->info.async_errors++;
	snprintf(w->info.last_async_error, sizeof(w->info.last_async_error), "%s of %u refused (%d)",
		 rp_op_name(f.op), f.id, f.rc);
	return 1;
}

/* One message from the worker, checked. A REPLY is copied to *reply (when it answers seq want) and *got set.
 * 1 taken, 0 none waiting, -1 the worker is cut off. */
static int take(struct wrk *w, uint32_t want, struct rp_reply *reply, int *got)
{
	_Alignas(16) uint8_t buf[RP_MAX_MSG]; /* read as the payload's struct */
	struct rp_hdr h;
	int fd, r = rp_recv(w->sock, &h, buf, &fd);

	if (r < 0 && errno == EAGAIN)
		return 0;
	if (r <= 0) {
		if (r == 0 || errno == ECONNRESET)
			cut_off(w, "worker %d: its connection closed%s", w->pid, r ? " (reset)" : "");
		else
			cut_off(w, "worker %d: its connection failed: %s", w->pid, strerror(errno));
		return -1;
	}
	if (fd >= 0)
		close(fd); /* a worker sends no descriptors */
	if (h.op >= RP_NOPS || h.len != rp_payload_size(h.op) || fd >= 0) {
		cut_off(w, "worker %d: message %u (%s) of %u bytes%s", w->pid, h.op, rp_op_name(h.op), h.len,
			fd >= 0 ? " with a descriptor" : "");
		return -1;
	}
	if (!w->ready && h.op != RP_READY) {
		cut_off(w, "worker %d: %s before READY", w->pid, rp_op_name(h.op));
		return -1;
	}
	switch (h.op) {
	case RP_READY:
		return on_ready(w, buf);
	case RP_FENCE:
		return on_fence(w, buf);
	case RP_DONE:
		return on_done(w, buf);
	case RP_FAILED:
		return on_failed(w, buf);
	case RP_REPLY:
		if (w->nrd && h.seq == w->rd[0].seq) { /* replies come in order: the oldest read-back under way */
			struct rp_reply rep;

			memcpy(&rep, buf, sizeof(rep));
			read_in(w, rep.rc);
			return 1;
		}
		if (!want || h.seq != want) {
			cut_off(w, "worker %d: a REPLY to %u, none waited for", w->pid, h.seq);
			return -1;
		}
		memcpy(reply, buf, sizeof(*reply));
		*got = 1;
		return 1;
	default:
		cut_off(w, "worker %d: sent %s, which is the broker's", w->pid, rp_op_name(h.op));
		return -1;
	}
}

/* Take what the worker sent until done() or the timeout (then it is cut off). 0, or -1 (dead). */
static int wait_until(struct wrk *w, uint32_t want, struct rp_reply *reply, int *got, int (*done)(struct wrk *),
		      const char *what)
{
	uint64_t t0 = mono_ns();

	for (;;) {
		struct pollfd p = { w->sock, POLLIN, 0 };
		uint64_t spent;
		int r;

		while ((r = take(w, want, reply, got)) > 0 && !(got && *got) && !(done && done(w)))
			;
		if (r < 0)
			return -1;
		if ((got && *got) || (done && done(w)))
			return 0;
		spent = mono_ns() - t0;
		if (spent >= w->timeout_ns) {
			cut_off(w, "worker %d: no answer to %s in %llu ms", w->pid, what,
				(unsigned long long)(w->timeout_ns / 1000000u));
			return -1;
		}
		if (poll(&p, 1, (int)((w->timeout_ns - spent) / 1000000u) + 1) < 0 && errno != EINTR) {
			cut_off(w, "worker %d: poll: %s", w->pid, strerror(errno));
			return -1;
		}
	}
}

static int is_ready(struct wrk *w)
{
	return w->ready;
}

static int ensure_ready(struct wrk *w)
{
	if (w->r.dead)
		return -1;
	return w->ready ? 0 : wait_until(w, 0, NULL, NULL, is_ready, "READY");
}

/* A call waited for: send, then wait for its REPLY. The reply's rc, or -1 when the worker is dead. */
static int call(struct wrk *w, uint32_t op, const void *p, uint32_t len, struct rp_reply *out)
{
	struct rp_reply rep = { .rc = -1 };
	uint64_t t0 = mono_ns(), spent;
	int got = 0;

	if (ensure_ready(w) < 0)
		return -1;
	send_msg(w, op, p, len, -1);
	if (w->r.dead || wait_until(w, w->seq, &rep, &got, NULL, rp_op_name(op)) < 0)
		return -1;
	spent = mono_ns() - t0;
	w->info.calls++;
	if (spent > w->info.call_ns_max)
		w->info.call_ns_max = spent;
	if (out)
		*out = rep;
	return rep.rc;
}

/* A bulk area of at least len bytes, shared with the worker. 0, or -1. */
static int ensure_bulk(struct wrk *w, uint64_t len)
{
	uint64_t size = w->bulk_len ? w->bulk_len : RP_BULK_MIN;
	struct rp_area a;
	uint8_t *m;
	int fd;

	if (len <= w->bulk_len)
		return 0;
	while (size < len)
		size *= 2;
	if (size > RP_BULK_MAX)
		size = RP_BULK_MAX;
	if (len > size || w->r.dead)
		return -1;
	fd = memfd_create("vgpu-render-bulk", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    (m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	a.len = size;
	send_msg(w, RP_BULK, &a, sizeof(a), fd);
	close(fd);
	if (w->bulk)
		munmap(w->bulk, w->bulk_len);
	w->bulk = m;
	w->bulk_len = size;
	w->info.bulk_bytes = size;
	return w->r.dead ? -1 : 0;
}

static int reads_in(struct wrk *w)
{
	return !w->nrd;
}

/* The bulk area, at least len bytes, for a call waited for: once the read-backs under way are in. 0, or -1. */
static int bulk_for_call(struct wrk *w, uint64_t len)
{
	if (w->nrd && wait_until(w, 0, NULL, NULL, reads_in, "READ") < 0)
		return -1;
	return ensure_bulk(w, len);
}

static uint64_t iov_total(const struct iovec *iov, int n)
{
	uint64_t t = 0;

	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* ---- the operations ---- */

static int res_create(struct renderer *r, uint32_t id, const struct render_res *a)
{
	struct rp_res m = { .id = id, .a = *a };

	send_msg(WK(r), RP_RES_CREATE, &m, sizeof(m), -1);
	return r->dead ? -1 : 0;
}

static void res_unref(struct renderer *r, uint32_t id)
{
	struct rp_id m = { id };

	send_msg(WK(r), RP_RES_UNREF, &m, sizeof(m), -1);
}

/* Entry id of shared_mem is mapped into the worker (MAP, once); maps whose memory went are let go first. */
static int map_into(struct wrk *w, const struct shmem_where *where)
{
	for (size_t i = 0; i < w->nmaps; i++)
		if (w->maps[i] == where->id)
			return 0;
	for (size_t i = 0; i < w->nmaps;)
		if (!shmem_alive(w->maps[i])) {
			struct rp_id u = { w->maps[i] };

			send_msg(w, RP_UNMAP, &u, sizeof(u), -1);
			w->maps[i] = w->maps[--w->nmaps];
		} else {
			i++;
		}
	if (w->nmaps == w->cap_maps) {
		size_t cap = w->cap_maps ? 2 * w->cap_maps : 16;
		uint32_t *n = realloc(w->maps, cap * sizeof(*n));

		if (!n)
			return -1;
		w->maps = n;
		w->cap_maps = cap;
	}
	{
		struct rp_map m = { .id = where->id, .file_off = where->file_off, .len = where->len };

		send_msg(w, RP_MAP, &m, sizeof(m), where->fd);
	}
	w->maps[w->nmaps++] = where->id;
	w->info.maps++;
	return w->r.dead ? -1 : 0;
}

static int64_t ring_room(struct wrk *w, uint64_t bytes);

static int attach(struct renderer *r, uint32_t id, const struct iovec *iov, int n)
{
	struct wrk *w = WK(r);
	struct rp_attach m = { id, (uint32_t)n, 0 };
	uint64_t bytes = (uint64_t)n * sizeof(struct rp_entry);
	int64_t off;

	if (n <= 0 || n > RP_MAX_ENTRIES || r->dead)
		return -1;
	if ((off = ring_room(w, bytes)) < 0)
		return -1;
	/* The entries go into the room found; it stays free (head does not move) if one fails. Memory no other
	 * process can map (it is not in the table) cannot back a worker's resource. */
	for (int i = 0; i < n; i++) {
		struct shmem_where where;
		struct rp_entry e;

		if (shmem_find(iov[i].iov_base, iov[i].iov_len, &where) < 0 || map_into(w, &where) < 0)
			return -1;
		e = (struct rp_entry){ .map = where.id, .off = where.off, .len = iov[i].iov_len };
		memcpy(w->ring + off + (size_t)i * sizeof(e), &e, sizeof(e)); /* the ring is 4-byte aligned only */
	}
	m.ring_off = (uint64_t)off;
	w->head = (uint64_t)off + bytes;
	w->out++;
	send_msg(w, RP_ATTACH, &m, sizeof(m), -1);
	return r->dead ? -1 : 0;
}

static void detach(struct renderer *r, uint32_t id)
{
	struct rp_id m = { id };

	send_msg(WK(r), RP_DETACH, &m, sizeof(m), -1);
}

static int xfer(struct renderer *r, uint32_t op, uint32_t id, const struct render_xfer *x, const struct iovec *mem,
		int n)
{
	struct wrk *w = WK(r);
	struct rp_xfer m = { .id = id, .x = *x };
	uint64_t len = mem ? iov_total(mem, n) : 0, off = 0;
	int rc;

	if (!mem) { /* the backing's: done in order with what follows, a refusal counted when it comes (FAILED) */
		send_msg(w, op, &m, sizeof(m), -1);
		w->info.transfers++;
		return r->dead ? -1 : 0;
	}
	if (!len || ensure_ready(w) < 0 || bulk_for_call(w, len) < 0)
		return -1;
	m.bulk = 1;
	m.len = len;
	for (int i = 0; op == RP_WRITE && i < n; off += mem[i++].iov_len)
		memcpy(w->bulk + off, mem[i].iov_base, mem[i].iov_len);
	rc = call(w, op, &m, sizeof(m), NULL);
	off = 0;
	for (int i = 0; rc == 0 && op == RP_READ && i < n; off += mem[i++].iov_len)
		memcpy(mem[i].iov_base, w->bulk + off, mem[i].iov_len);
	return rc;
}

static int xfer_write(struct renderer *r, uint32_t id, const struct render_xfer *x, const struct iovec *mem, int n)
{
	return xfer(r, RP_WRITE, id, x, mem, n);
}

static int xfer_read(struct renderer *r, uint32_t id, const struct render_xfer *x, const struct iovec *mem, int n)
{
	return xfer(r, RP_READ, id, x, mem, n);
}

/* A read-back not waited for: into the bulk area after those under way, copied to dst when its REPLY comes (read_in).
 * 1 when it cannot be begun now (the worker not ready yet, or no room until those under way are in). */
static int read_begin(struct renderer *r, uint32_t id, const struct render_xfer *x, void *dst, uint64_t len, int *rc)
{
	struct wrk *w = WK(r);
	struct rp_xfer m = { .id = id, .bulk = 1, .len = len, .x = *x };
	uint64_t off = w->nrd ? (w->rd[w->nrd - 1].off + w->rd[w->nrd - 1].len + 63) & ~(uint64_t)63 : 0;

	if (r->dead || !len || len > RP_BULK_MAX)
		return -1;
	if (!w->ready || w->nrd == MAX_READS || (w->nrd && (off > w->bulk_len || len > w->bulk_len - off)))
		return 1;
	if (!w->nrd && ensure_bulk(w, len) < 0)
		return -1;
	m.bulk_off = off;
	send_msg(w, RP_READ, &m, sizeof(m), -1);
	if (r->dead)
		return -1;
	w->rd[w->nrd++] = (struct later_read){ w->seq, off, len, dst, rc };
	*rc = 1;
	r->reading++;
	return 0;
}

static void read_cancel(struct renderer *r)
{
	struct wrk *w = WK(r);

	for (unsigned i = 0; i < w->nrd; i++)
	{
		w->rd[i].dst = NULL;
		w->rd[i].rc = NULL;
	}
}

static int ctx_create(struct renderer *r, uint32_t ctx, uint32_t name_len, const char *name)
{
	struct rp_ctx m = { .ctx = ctx, .name_len = name_len };

	if (name_len > sizeof(m.name))
		return -1;
	memcpy(m.name, name, name_len);
	send_msg(WK(r), RP_CTX_CREATE, &m, sizeof(m), -1);
	return r->dead ? -1 : 0;
}

static void ctx_destroy(struct renderer *r, uint32_t ctx)
{
	struct rp_id m = { ctx };

	send_msg(WK(r), RP_CTX_DESTROY, &m, sizeof(m), -1);
}

static void ctx_resource(struct renderer *r, uint32_t ctx, uint32_t id, int on)
{
	struct rp_ctx_res m = { ctx, id, (uint32_t)(on != 0) };

	send_msg(WK(r), RP_CTX_RESOURCE, &m, sizeof(m), -1);
}

/* Room for bytes in the ring without wrapping inside them: the offset, or -1 (waited the timeout, or dead). */
static int64_t ring_room(struct wrk *w, uint64_t bytes)
{
	for (;;) {
		int got = 0;

		if (w->r.dead)
			return -1;
		if (!w->out)
			w->head = w->tail = 0;
		/* [tail, head) is in use when head >= tail; otherwise it wrapped: [tail, end) and [0, head). */
		if (w->head >= w->tail) {
			if (RP_RING_BYTES - w->head >= bytes)
				return (int64_t)w->head;
			if (w->tail > bytes) /* wrap: the space before tail (one byte apart, so head never meets it) */
				return 0;
		} else if (w->tail - w->head > bytes) {
			return (int64_t)w->head;
		}
		/* Full: wait for the worker to take some (one message at least). */
		{
			struct pollfd p = { w->sock, POLLIN, 0 };
			uint64_t t0 = mono_ns();
			int r;

			if (poll(&p, 1, (int)(w->timeout_ns / 1000000u)) <= 0) {
				cut_off(w, "worker %d: took no command stream in %llu ms", w->pid,
					(unsigned long long)((mono_ns() - t0) / 1000000u));
				return -1;
			}
			while ((r = take(w, 0, NULL, &got)) > 0)
				;
			if (r < 0)
				return -1;
		}
	}
}

static int submit(struct renderer *r, uint32_t ctx, const uint32_t *dw, uint32_t ndw)
{
	struct wrk *w = WK(r);
	uint64_t bytes = (uint64_t)ndw * 4;
	struct rp_submit m = { .ctx = ctx, .ndw = ndw };
	int64_t off;

	if (bytes > RP_RING_BYTES / 2 || r->dead || (off = ring_room(w, bytes)) < 0)
		return -1;
	memcpy(w->ring + off, dw, bytes);
	m.ring_off = (uint64_t)off;
	w->head = (uint64_t)off + bytes;
	w->out++;
	w->info.submits++;
	send_msg(w, RP_SUBMIT, &m, sizeof(m), -1);
	return w->r.dead ? -1 : 0;
}

static void fence(struct renderer *r, uint32_t ctx, uint32_t f)
{
	struct rp_fence m = { ctx, f };

	send_msg(WK(r), RP_FENCE_AFTER, &m, sizeof(m), -1);
}

static void poll_(struct renderer *r)
{
	struct wrk *w = WK(r);
	int got = 0;

	while (!r->dead && take(w, 0, NULL, &got) > 0)
		;
	if (!w->ready && !r->dead && mono_ns() - w->opened_ns >= w->timeout_ns)
		cut_off(w, "worker %d: no READY in %llu ms", w->pid, (unsigned long long)(w->timeout_ns / 1000000u));
	if (w->fence_new) {
		w->fence_new = 0;
		renderer_retired(r, w->fence_seen);
	}
}

static int capset(struct renderer *r, uint32_t index, uint32_t *id, uint32_t *version, uint32_t *size)
{
	struct wrk *w = WK(r);

	if (ensure_ready(w) < 0 || index >= w->ncaps)
		return -1;
	*id = w->caps[index].id;
	*version = w->caps[index].version;
	*size = w->caps[index].size;
	return 0;
}

static void fill_caps(struct renderer *r, uint32_t id, uint32_t version, void *buf)
{
	struct wrk *w = WK(r);
	struct rp_caps m = { id, version, 0 };

	for (uint32_t i = 0; i < w->ncaps; i++)
		if (w->caps[i].id == id)
			m.size = w->caps[i].size;
	if (!m.size)
		return;
	if (bulk_for_call(w, m.size) < 0 || call(w, RP_FILL_CAPS, &m, sizeof(m), NULL) != 0)
		memset(buf, 0, m.size);
	else
		memcpy(buf, w->bulk, m.size);
}

static void *cursor(struct renderer *r, uint32_t id, uint32_t *cw, uint32_t *ch)
{
	struct wrk *w = WK(r);
	struct rp_id m = { id };
	struct rp_reply rep;
	void *p;

	if (ensure_ready(w) < 0 || bulk_for_call(w, 64 * 64 * 4) < 0 || call(w, RP_CURSOR, &m, sizeof(m), &rep) != 0 ||
	    rep.w != 64 || rep.h != 64 || !(p = malloc(64 * 64 * 4)))
		return NULL;
	memcpy(p, w->bulk, 64 * 64 * 4);
	*cw = rep.w;
	*ch = rep.h;
	return p;
}

static void close_(struct renderer *r)
{
	struct wrk *w = WK(r);

	if (w->pid > 0)
		render_spawner_kill(w->z, w->pid);
	close(w->sock);
	if (w->ring)
		munmap(w->ring, RP_RING_BYTES);
	if (w->bulk)
		munmap(w->bulk, w->bulk_len);
	free(w->maps);
	free(w);
}

static const struct renderer_ops ops = {
	.name = "worker", .res_create = res_create, .res_unref = res_unref, .attach = attach, .detach = detach,
	.write = xfer_write, .read = xfer_read, .read_begin = read_begin, .read_cancel = read_cancel,
	.ctx_create = ctx_create, .ctx_destroy = ctx_destroy,
	.ctx_resource = ctx_resource, .submit = submit, .fence = fence, .poll = poll_, .capset = capset,
	.fill_caps = fill_caps, .cursor = cursor, .close = close_,
};

struct renderer *render_worker_open(struct render_spawner *z, const struct render_worker_start *st,
				    render_fence_cb cb, void *opaque, uint64_t timeout_ms, char *err, size_t errlen)
{
	struct wrk *w = calloc(1, sizeof(*w));
	struct rp_area a = { RP_RING_BYTES };
	int fd = -1;

	if (!w) {
		snprintf(err, errlen, "no memory");
		return NULL;
	}
	w->r.ops = &ops;
	w->r.fence_done = cb;
	w->r.opaque = opaque;
	w->z = z;
	w->timeout_ns = (timeout_ms ? timeout_ms : 1) * 1000000u;
	snprintf(w->r.gl_renderer, sizeof(w->r.gl_renderer), "(starting)");
	snprintf(w->r.platform, sizeof(w->r.platform), "worker");
	if (render_spawner_spawn(z, st, &w->sock, &w->pid, err, errlen) < 0) {
		free(w);
		return NULL;
	}
	w->r.fd = w->sock;
	w->r.wake_fd = -1;
	w->r.later = 1;
	w->r.starting = 1;
	w->opened_ns = mono_ns();
	w->info.pid = w->pid;
	w->info.mem_limit_mb = st ? st->mem_limit_mb : 0;
	w->info.fd_limit = 0; /* its READY says */
	fd = memfd_create("vgpu-render-ring", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, RP_RING_BYTES) < 0 ||
	    (w->ring = mmap(NULL, RP_RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		snprintf(err, errlen, "no submit ring for worker %d: %s", w->pid, strerror(errno));
		if (fd >= 0)
			close(fd);
		w->ring = NULL;
		close_(&w->r);
		return NULL;
	}
	send_msg(w, RP_RING, &a, sizeof(a), fd);
	close(fd);
	if (w->r.dead) {
		snprintf(err, errlen, "%s", w->r.why);
		close_(&w->r);
		return NULL;
	}
	return &w->r;
}

void render_worker_info(const struct renderer *r, struct render_worker_info *out)
{
	memset(out, 0, sizeof(*out));
	if (r && r->ops == &ops)
		*out = ((const struct wrk *)r)->info;
}

int render_worker_signal(struct renderer *r, int sig)
{
	if (!r || r->ops != &ops || r->dead || WK(r)->pid <= 0)
		return -1;
	return render_spawner_signal(WK(r)->z, WK(r)->pid, sig);
}

void render_worker_kill(struct renderer *r, const char *why)
{
	if (r && r->ops == &ops)
		cut_off(WK(r), "worker %d: %s", WK(r)->pid, why);
}
