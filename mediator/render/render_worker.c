/* render_worker.c: a render worker's main (render_worker.h): one renderer for one vGPU, serving the broker's
 * messages (render_proto.h) in order, one handler a message from one table. */
#define _GNU_SOURCE
#include "render/render_worker.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "device/idmap.h"
#include "render/render_proto.h"
#include "render/renderer.h"
#include "process/sandbox.h"

struct map {
	uint32_t id;
	uint8_t *base; /* the memory asked for */
	uint64_t len;
	void *map;     /* the page-aligned mapping holding it */
	size_t map_len;
};

struct backing {
	struct iovec *iov; /* the renderer keeps this array until it lets go of the backing */
	int n;
};

static struct worker {
	int sock;
	struct renderer *r;
	uint8_t *ring, *bulk;
	size_t ring_len, bulk_len;
	struct map *maps;
	size_t nmaps, cap_maps;
	struct idmap backings; /* resource id -> struct backing */
	uint32_t seq;          /* of the message being served */
	uint32_t fence_sent;
} W = { .sock = -1 };

/* The broker broke the protocol: say what, and end (the broker sees the connection close). */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vgpu-render-worker %d: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(2);
}

static void send_or_die(uint32_t op, const void *p, uint32_t len)
{
	if (rp_send(W.sock, op, W.seq, p, len, -1) < 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			_exit(0); /* the broker went */
		die("send %s: %s", rp_op_name(op), strerror(errno));
	}
}

static void reply(int rc)
{
	struct rp_reply r = { .rc = rc };

	send_or_die(RP_REPLY, &r, sizeof(r));
}

/* A message the broker did not wait on failed: said, for its counters. */
static void failed(uint32_t op, uint32_t id, int rc)
{
	struct rp_failed f = { .op = op, .id = id, .rc = rc ? rc : -1 };

	send_or_die(RP_FAILED, &f, sizeof(f));
}

/* [off, off + bytes) of the ring, or the worker ends: the broker named memory it does not have. */
static const uint8_t *ring_at(uint64_t off, uint64_t bytes, const char *what)
{
	if (!W.ring || off % 4 || off > W.ring_len || bytes > W.ring_len - off)
		die("%s of %llu bytes at %llu of a %zu-byte ring", what, (unsigned long long)bytes,
		    (unsigned long long)off, W.ring_len);
	return W.ring + off;
}

static void done(int rc, uint64_t ring_end)
{
	struct rp_reply d = { .rc = rc, .ring_end = ring_end };

	send_or_die(RP_DONE, &d, sizeof(d));
}

static void on_fence(void *opaque, struct renderer *r, uint32_t fence)
{
	struct rp_fence f = { 0, fence };

	(void)opaque;
	(void)r;
	W.fence_sent = fence;
	send_or_die(RP_FENCE, &f, sizeof(f));
}

/* Map len bytes of fd's file from off; *base is the first of them. 0, or -1. */
static int map_fd(int fd, uint64_t off, uint64_t len, struct map *m)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = off & ~(uint64_t)(page - 1);

	if (!len || len > SIZE_MAX / 2 || off + len < off)
		return -1;
	m->map_len = (size_t)(len + (off - start));
	m->map = mmap(NULL, m->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)start);
	if (m->map == MAP_FAILED)
		return -1;
	m->base = (uint8_t *)m->map + (off - start);
	m->len = len;
	return 0;
}

static struct map *find_map(uint32_t id)
{
	for (size_t i = 0; i < W.nmaps; i++)
		if (W.maps[i].id == id)
			return &W.maps[i];
	return NULL;
}

/* ---- the handlers: each takes its message's payload (its size checked) and the descriptor it carried ---- */

static void on_map(const void *p, int fd)
{
	const struct rp_map *m = p;
	struct map x = { .id = m->id };

	if (fd < 0 || !m->id || find_map(m->id))
		die("MAP %u: no descriptor, or the id is taken", m->id);
	if (map_fd(fd, m->file_off, m->len, &x) < 0)
		die("MAP %u: cannot map %llu bytes at %llu: %s", m->id, (unsigned long long)m->len,
		    (unsigned long long)m->file_off, strerror(errno));
	if (W.nmaps == W.cap_maps) {
		size_t cap = W.cap_maps ? 2 * W.cap_maps : 16;
		struct map *n = realloc(W.maps, cap * sizeof(*n));

		if (!n)
			die("no memory for the map table");
		W.maps = n;
		W.cap_maps = cap;
	}
	W.maps[W.nmaps++] = x;
}

static void on_unmap(const void *p, int fd)
{
	const struct rp_id *m = p;
	struct map *x = find_map(m->id);

	(void)fd;
	if (!x)
		die("UNMAP %u: no such map", m->id);
	/* The broker detached every backing in it first; the renderer reads none of it any more. */
	munmap(x->map, x->map_len);
	*x = W.maps[--W.nmaps];
}

static void on_area(const void *p, int fd, uint8_t **area, size_t *area_len, uint64_t max)
{
	const struct rp_area *a = p;
	struct map m;

	if (fd < 0 || !a->len || a->len > max)
		die("an area of %llu bytes (at most %llu), or no descriptor", (unsigned long long)a->len,
		    (unsigned long long)max);
	if (map_fd(fd, 0, a->len, &m) < 0)
		die("cannot map an area of %llu bytes: %s", (unsigned long long)a->len, strerror(errno));
	if (*area)
		munmap(*area, *area_len);
	*area = m.base;
	*area_len = (size_t)a->len;
}

static void on_ring(const void *p, int fd)
{
	if (W.ring)
		die("RING twice");
	on_area(p, fd, &W.ring, &W.ring_len, RP_RING_BYTES);
}

static void on_bulk(const void *p, int fd)
{
	on_area(p, fd, &W.bulk, &W.bulk_len, RP_BULK_MAX);
}

static void on_res_create(const void *p, int fd)
{
	const struct rp_res *m = p;

	int rc = m->id ? W.r->ops->res_create(W.r, m->id, &m->a) : -1;

	(void)fd;
	if (rc)
		failed(RP_RES_CREATE, m->id, rc);
}

/* The renderer lets go of resource id's backing (if it has one), and so does the worker. */
static void drop_backing(uint32_t id, int detach)
{
	struct backing *b = idmap_del(&W.backings, id);

	if (!b)
		return;
	if (detach)
		W.r->ops->detach(W.r, id);
	free(b->iov);
	free(b);
}

static void on_res_unref(const void *p, int fd)
{
	const struct rp_id *m = p;

	(void)fd;
	drop_backing(m->id, 1);
	W.r->ops->res_unref(W.r, m->id);
}

static void on_attach(const void *p, int fd)
{
	const struct rp_attach *m = p;
	const uint8_t *e;
	uint64_t end = m->ring_off + (uint64_t)m->n * sizeof(struct rp_entry);
	struct backing *b;

	(void)fd;
	if (!m->n || m->n > RP_MAX_ENTRIES)
		die("ATTACH of %u entries", m->n);
	e = ring_at(m->ring_off, (uint64_t)m->n * sizeof(struct rp_entry), "ATTACH");
	if (!m->id || idmap_get(&W.backings, m->id)) {
		done(0, end); /* a second backing: the renderer would refuse it too */
		failed(RP_ATTACH, m->id, -1);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->iov = calloc(m->n, sizeof(*b->iov)))) {
		free(b);
		done(0, end);
		failed(RP_ATTACH, m->id, -1);
		return;
	}
	for (uint32_t i = 0; i < m->n; i++) {
		struct rp_entry x;
		const struct map *mp;

		memcpy(&x, e + (size_t)i * sizeof(x), sizeof(x));
		mp = find_map(x.map);
		if (!mp || x.off > mp->len || !x.len || x.len > mp->len - x.off)
			die("ATTACH entry %u: %llu bytes at %llu of map %u, which %s", i, (unsigned long long)x.len,
			    (unsigned long long)x.off, x.map, mp ? "is shorter" : "does not exist");
		b->iov[i] = (struct iovec){ mp->base + x.off, (size_t)x.len };
	}
	b->n = (int)m->n;
	done(0, end); /* the entries are read: their ring bytes are free */
	if (W.r->ops->attach(W.r, m->id, b->iov, b->n) != 0 || idmap_put(&W.backings, m->id, b) < 0) {
		free(b->iov);
		free(b);
		failed(RP_ATTACH, m->id, -1);
	}
}

static void on_detach(const void *p, int fd)
{
	(void)fd;
	drop_backing(((const struct rp_id *)p)->id, 1);
}

static void on_xfer(const void *p, int fd, int write)
{
	const struct rp_xfer *m = p;
	struct iovec iov = { NULL, 0 };
	int rc;

	(void)fd;
	if (m->bulk) {
		if (!W.bulk || !m->len || m->bulk_off > W.bulk_len || m->len > W.bulk_len - m->bulk_off)
			die("%s of %llu bytes at %llu of a bulk area of %zu", write ? "WRITE" : "READ",
			    (unsigned long long)m->len, (unsigned long long)m->bulk_off, W.bulk_len);
		iov = (struct iovec){ W.bulk + m->bulk_off, (size_t)m->len };
	}
	if (write)
		rc = W.r->ops->write(W.r, m->id, &m->x, m->bulk ? &iov : NULL, m->bulk ? 1 : 0);
	else
		rc = W.r->ops->read(W.r, m->id, &m->x, m->bulk ? &iov : NULL, m->bulk ? 1 : 0);
	/* Through the bulk area the broker waits for the data; a backing's transfer it does not wait for. */
	if (m->bulk)
		reply(rc);
	else if (rc)
		failed(write ? RP_WRITE : RP_READ, m->id, rc);
}

static void on_write(const void *p, int fd)
{
	on_xfer(p, fd, 1);
}

static void on_read(const void *p, int fd)
{
	on_xfer(p, fd, 0);
}

static void on_ctx_create(const void *p, int fd)
{
	const struct rp_ctx *m = p;

	int rc = -1;

	(void)fd;
	if (m->ctx && m->name_len <= sizeof(m->name))
		rc = W.r->ops->ctx_create(W.r, m->ctx, m->name_len, m->name);
	if (rc)
		failed(RP_CTX_CREATE, m->ctx, rc);
}

static void on_ctx_destroy(const void *p, int fd)
{
	(void)fd;
	W.r->ops->ctx_destroy(W.r, ((const struct rp_id *)p)->id);
}

static void on_ctx_resource(const void *p, int fd)
{
	const struct rp_ctx_res *m = p;

	(void)fd;
	W.r->ops->ctx_resource(W.r, m->ctx, m->id, m->on != 0);
}

static void on_submit(const void *p, int fd)
{
	const struct rp_submit *m = p;
	uint64_t bytes = (uint64_t)m->ndw * 4;
	const uint8_t *dw = ring_at(m->ring_off, bytes, "SUBMIT");

	(void)fd;
	done(m->ndw ? W.r->ops->submit(W.r, m->ctx, (const uint32_t *)dw, m->ndw) : 0, m->ring_off + bytes);
}

static void on_fence_after(const void *p, int fd)
{
	const struct rp_fence *m = p;

	(void)fd;
	W.r->ops->fence(W.r, m->ctx, m->fence);
	W.r->next_fence = m->fence; /* what renderer_fences_pending compares against */
}

static void on_fill_caps(const void *p, int fd)
{
	const struct rp_caps *m = p;
	uint32_t id, version, size;

	(void)fd;
	for (uint32_t i = 0; W.r->ops->capset(W.r, i, &id, &version, &size) == 0; i++)
		if (id == m->id) {
			if (m->version > version || !W.bulk || size > W.bulk_len || size != m->size)
				break;
			W.r->ops->fill_caps(W.r, m->id, m->version, W.bulk);
			reply(0);
			return;
		}
	reply(-1);
}

static void on_cursor(const void *p, int fd)
{
	uint32_t w = 0, h = 0;
	void *data = W.r->ops->cursor(W.r, ((const struct rp_id *)p)->id, &w, &h);
	struct rp_reply r = { .rc = -1 };

	(void)fd;
	if (data && w == 64 && h == 64 && W.bulk && W.bulk_len >= 64 * 64 * 4) {
		memcpy(W.bulk, data, 64 * 64 * 4);
		r = (struct rp_reply){ .rc = 0, .w = w, .h = h };
	}
	free(data);
	send_or_die(RP_REPLY, &r, sizeof(r));
}

/* The handler of each message a broker sends; NULL for a worker's own. */
static void (*const handlers[RP_NOPS])(const void *payload, int fd) = {
	[RP_MAP] = on_map,
	[RP_UNMAP] = on_unmap,
	[RP_RING] = on_ring,
	[RP_BULK] = on_bulk,
	[RP_RES_CREATE] = on_res_create,
	[RP_RES_UNREF] = on_res_unref,
	[RP_ATTACH] = on_attach,
	[RP_DETACH] = on_detach,
	[RP_WRITE] = on_write,
	[RP_READ] = on_read,
	[RP_CTX_CREATE] = on_ctx_create,
	[RP_CTX_DESTROY] = on_ctx_destroy,
	[RP_CTX_RESOURCE] = on_ctx_resource,
	[RP_SUBMIT] = on_submit,
	[RP_FENCE_AFTER] = on_fence_after,
	[RP_FILL_CAPS] = on_fill_caps,
	[RP_CURSOR] = on_cursor,
};

/* Serve what the broker sent, without waiting. 0 when the broker closed, 1 otherwise. */
static int serve(void)
{
	static _Alignas(16) uint8_t buf[RP_MAX_MSG]; /* read as the payload's struct */
	struct rp_hdr h;
	int fd, r;

	while ((r = rp_recv(W.sock, &h, buf, &fd)) > 0) {
		if (h.op >= RP_NOPS || !handlers[h.op] || h.len != rp_payload_size(h.op))
			die("message %u (%s) of %u bytes", h.op, rp_op_name(h.op), h.len);
		W.seq = h.seq;
		/* Not in a client's GL context for anything but its own stream and the fence after it (render/virgl.c),
		 * as the device model does in the broker; memory bookkeeping touches no GL. */
		if (h.op != RP_SUBMIT && h.op != RP_FENCE_AFTER && h.op != RP_MAP && h.op != RP_UNMAP &&
		    h.op != RP_RING && h.op != RP_BULK)
			renderer_quiesce(W.r);
		handlers[h.op](buf, fd);
		if (fd >= 0)
			close(fd);
	}
	if (r == 0)
		return 0;
	if (errno != EAGAIN)
		die("receive: %s", strerror(errno));
	return 1;
}

/* The broker is gone: what the sandbox refused this worker, if anything, goes to the log (a worker's own counts are
 * not on the broker's control socket). */
static void report_refused(void)
{
	struct sandbox_status st;

	sandbox_status(&st);
	for (size_t i = 0; i < st.nrefused; i++)
		fprintf(stderr, "vgpu-mediator: render worker %d: the sandbox refused %s %llu time(s)\n", (int)getpid(),
			st.refused[i].name, (unsigned long long)st.refused[i].count);
}

int render_worker_main(int sock, const struct render_worker_opts *o)
{
	struct rp_ready rd = { .version = RP_VERSION };
	char err[160] = "";
	int keep[2] = { sock, 2 };
	struct rlimit fds;

	/* What this process holds now is its connection alone (the spawner closed the rest): the sandbox closes no
	 * descriptor the broker had at its start, whose numbers Mesa's own may take here. */
	sandbox_note_inherited();
	/* The descriptors it may hold, as the spawner bounded them (lower than asked where the hard limit is). */
	rd.fd_limit = RENDER_WORKER_FDS;
	if (getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < RENDER_WORKER_FDS)
		rd.fd_limit = (uint32_t)fds.rlim_cur;
	W.sock = sock;
	idmap_init(&W.backings);
	/* Fences are waited for in virglrenderer's own thread: its eventfd wakes the loop the moment one retires. */
	W.r = render_virgl_open(o->render_node, 1, on_fence, NULL, err, sizeof(err));
	if (!W.r) {
		rd.rc = -1;
		snprintf(rd.why, sizeof(rd.why), "%s", err);
		rp_send(sock, RP_READY, 0, &rd, sizeof(rd), -1);
		return 1;
	}
	if (o->start_delay_ms) { /* tests: a worker slow to start */
		struct timespec ts = { o->start_delay_ms / 1000, (long)(o->start_delay_ms % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	if (o->sandbox && sandbox_enter(SANDBOX_WORKER, keep, 2, o->user, NULL, err, sizeof(err)) < 0) {
		rd.rc = -1;
		snprintf(rd.why, sizeof(rd.why), "sandbox: %s", err);
		rp_send(sock, RP_READY, 0, &rd, sizeof(rd), -1);
		return 1;
	}
	for (uint32_t i = 0; i < RP_MAX_CAPSETS; i++) {
		struct rp_caps_info *c = &rd.caps[i];

		if (W.r->ops->capset(W.r, i, &c->id, &c->version, &c->size) < 0)
			break;
		rd.ncaps++;
	}
	snprintf(rd.gl_renderer, sizeof(rd.gl_renderer), "%s", W.r->gl_renderer);
	snprintf(rd.platform, sizeof(rd.platform), "%s", W.r->platform);
	send_or_die(RP_READY, &rd, sizeof(rd));
	for (;;) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { W.r->wake_fd, POLLIN, 0 } };
		int wait = -1;

		/* While fences are out, virglrenderer's thread wakes us; without it, look every 100 us. */
		if (renderer_fences_pending(W.r))
			wait = W.r->wake_fd >= 0 ? -1 : 0;
		if (wait == 0)
			usleep(100);
		if (poll(p, W.r->wake_fd >= 0 ? 2 : 1, wait) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !serve()) {
			report_refused();
			return 0;
		}
		renderer_poll(W.r);
	}
}
