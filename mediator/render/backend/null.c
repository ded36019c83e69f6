/* render/null.c: the renderer back-end with no GL (renderer.h), for tests of what sits above it on any host. It
 * keeps the resources and contexts it was given, refuses IDs it does not hold (a second create, an unref of nothing,
 * a context that does not exist), refuses a transfer from or to a backing that is not attached, and retires every
 * fence when polled. render_null_fail sets the next calls that can fail to fail, as a renderer that runs out of
 * memory would; render_null_later makes it say it renders later, as a worker does (its read-backs are filled at the
 * next poll). */
#include "render/renderer.h"

#include <stdlib.h>
#include <string.h>

#include "device/idmap.h"

struct null_res {
	int backed;
	uint32_t ctxs; /* contexts it is attached to */
};

struct null_renderer {
	struct renderer r;
	struct idmap res, ctx;
	uint32_t fenced;   /* the newest fence queued */
	unsigned failing;  /* calls left to fail */
	uint64_t submitted; /* command-stream words taken */
	/* read_begin's read-backs, filled at the next poll (render_null_later). */
	struct null_read {
		void *dst;
		uint64_t len;
		int *rc;
	} rd[4];
	unsigned nrd;
};

static struct null_renderer *N(struct renderer *r)
{
	return (struct null_renderer *)r;
}

/* Whether this call fails on purpose (render_null_fail). */
static int failing(struct null_renderer *n)
{
	if (!n->failing)
		return 0;
	n->failing--;
	return 1;
}

static int res_create(struct renderer *r, uint32_t id, const struct render_res *a)
{
	struct null_res *x;

	if (failing(N(r)) || !a->width || idmap_get(&N(r)->res, id) || !(x = calloc(1, sizeof(*x))))
		return -1;
	if (idmap_put(&N(r)->res, id, x) < 0) {
		free(x);
		return -1;
	}
	return 0;
}

static void res_unref(struct renderer *r, uint32_t id)
{
	free(idmap_del(&N(r)->res, id));
}

static int attach(struct renderer *r, uint32_t id, const struct iovec *iov, int n)
{
	struct null_res *x = idmap_get(&N(r)->res, id);

	if (failing(N(r)) || !x || x->backed || !iov || n <= 0)
		return -1;
	x->backed = 1;
	return 0;
}

static void detach(struct renderer *r, uint32_t id)
{
	struct null_res *x = idmap_get(&N(r)->res, id);

	if (x)
		x->backed = 0;
}

/* A transfer, read (fill) or write: refused for a resource or context it does not hold, or a backing not attached. */
static int xfer(struct renderer *r, uint32_t id, const struct render_xfer *x, const struct iovec *mem, int n, int fill)
{
	struct null_res *res = idmap_get(&N(r)->res, id);

	if (failing(N(r)) || !res || (!mem && !res->backed) || (mem && n <= 0) ||
	    (x->ctx && !idmap_get(&N(r)->ctx, x->ctx)))
		return -1;
	/* A read into memory it was handed fills it, so a caller sees that something came. */
	for (int i = 0; fill && mem && i < n; i++)
		memset(mem[i].iov_base, 0x5a, mem[i].iov_len);
	return 0;
}

static int xfer_read(struct renderer *r, uint32_t id, const struct render_xfer *x, const struct iovec *mem, int n)
{
	return xfer(r, id, x, mem, n, 1);
}

static int xfer_write(struct renderer *r, uint32_t id, const struct render_xfer *x, const struct iovec *mem, int n)
{
	return xfer(r, id, x, mem, n, 0);
}

static int ctx_create(struct renderer *r, uint32_t ctx, uint32_t name_len, const char *name)
{
	(void)name_len;
	(void)name;
	if (failing(N(r)) || idmap_get(&N(r)->ctx, ctx))
		return -1;
	return idmap_put(&N(r)->ctx, ctx, (void *)1);
}

static void ctx_destroy(struct renderer *r, uint32_t ctx)
{
	idmap_del(&N(r)->ctx, ctx);
}

static void ctx_resource(struct renderer *r, uint32_t ctx, uint32_t id, int on)
{
	struct null_res *x = idmap_get(&N(r)->res, id);

	if (!x || !idmap_get(&N(r)->ctx, ctx))
		return;
	if (on)
		x->ctxs++;
	else if (x->ctxs)
		x->ctxs--;
}

static int submit(struct renderer *r, uint32_t ctx, const uint32_t *dw, uint32_t ndw)
{
	(void)dw;
	if (failing(N(r)) || !idmap_get(&N(r)->ctx, ctx))
		return -1;
	N(r)->submitted += ndw;
	return 0;
}

static void fence(struct renderer *r, uint32_t ctx, uint32_t f)
{
	(void)ctx;
	N(r)->fenced = f;
}

/* A read-back done at the next poll: refused for a resource it does not hold, or past the four it keeps. */
static int read_begin(struct renderer *r, uint32_t id, const struct render_xfer *x, void *dst, uint64_t len, int *rc)
{
	struct null_renderer *n = N(r);

	(void)x;
	if (failing(n) || !idmap_get(&n->res, id) || n->nrd == sizeof(n->rd) / sizeof(n->rd[0]))
		return -1;
	n->rd[n->nrd++] = (struct null_read){ dst, len, rc };
	*rc = 1;
	r->reading++;
	return 0;
}

static void read_cancel(struct renderer *r)
{
	for (unsigned i = 0; i < N(r)->nrd; i++)
		N(r)->rd[i] = (struct null_read){ NULL, 0, NULL };
}

static void poll_(struct renderer *r)
{
	struct null_renderer *n = N(r);

	for (unsigned i = 0; i < n->nrd; i++) {
		if (n->rd[i].dst)
			memset(n->rd[i].dst, 0x5a, n->rd[i].len);
		if (n->rd[i].rc)
			*n->rd[i].rc = 0;
	}
	r->reading -= n->nrd;
	n->nrd = 0;
	if (N(r)->fenced != r->last_done)
		renderer_retired(r, N(r)->fenced);
}

/* One capset: id 1 (VIRGL), version 1, 64 bytes. */
static int capset(struct renderer *r, uint32_t index, uint32_t *id, uint32_t *version, uint32_t *size)
{
	(void)r;
	if (index)
		return -1;
	*id = 1;
	*version = 1;
	*size = 64;
	return 0;
}

static void fill_caps(struct renderer *r, uint32_t id, uint32_t version, void *buf)
{
	(void)r;
	(void)version;
	memset(buf, (int)id, 64);
}

static void *cursor(struct renderer *r, uint32_t id, uint32_t *w, uint32_t *h)
{
	void *p;

	if (!idmap_get(&N(r)->res, id) || !(p = calloc(64 * 64, 4)))
		return NULL;
	*w = *h = 64;
	return p;
}

static void close_(struct renderer *r)
{
	size_t pos = 0;
	void *x;

	while ((x = idmap_next(&N(r)->res, &pos, NULL)))
		free(x);
	idmap_free(&N(r)->res);
	idmap_free(&N(r)->ctx);
	free(r);
}

static const struct renderer_ops ops = {
	.name = "null", .res_create = res_create, .res_unref = res_unref, .attach = attach, .detach = detach,
	.write = xfer_write, .read = xfer_read, .read_begin = read_begin, .read_cancel = read_cancel,
	.ctx_create = ctx_create, .ctx_destroy = ctx_destroy,
	.ctx_resource = ctx_resource, .submit = submit, .fence = fence, .poll = poll_, .capset = capset,
	.fill_caps = fill_caps, .cursor = cursor, .close = close_,
};

struct renderer *render_null_open(render_fence_cb cb, void *opaque)
{
	struct null_renderer *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->r.ops = &ops;
	n->r.fd = n->r.wake_fd = -1;
	n->r.fence_done = cb;
	n->r.opaque = opaque;
	idmap_init(&n->res);
	idmap_init(&n->ctx);
	strcpy(n->r.gl_renderer, "null");
	strcpy(n->r.platform, "none");
	return &n->r;
}

void render_null_fail(struct renderer *r, unsigned calls)
{
	N(r)->failing = calls;
}

void render_null_later(struct renderer *r, int on)
{
	r->later = on != 0;
}

void render_null_held(struct renderer *r, size_t *resources, size_t *contexts, uint64_t *words)
{
	*resources = N(r)->res.live;
	*contexts = N(r)->ctx.live;
	*words = N(r)->submitted;
}
