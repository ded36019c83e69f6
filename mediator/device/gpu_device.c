/* gpu_device.c: one vGPU's virtio-gpu device. Each command is copied out of
 * guest memory, checked against the spec's sizes and the vGPU's own IDs,
 * then served; every failure is answered with the spec's error response and
 * counted, and never touches another vGPU. */
#define _GNU_SOURCE
#include "device/gpu_device.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "display/copy_pool.h"
#include "mono_clock.h"
#include "render/renderer.h"
#include "device/virgl_scan.h"

struct gpu_resource {
	uint32_t guest_id, host_id; /* host_id: the renderer's, 0 for a host-memory 2D resource */
	uint64_t charged;           /* bytes it holds of the vGPU's size */
	uint32_t format, width, height;
	uint8_t *pixels; /* host-memory 2D resources: width * 4 bytes a row */
	int lent;        /* an update in flight sends from pixels (gpu_present_job.lent) */
	struct iovec *backing; /* guest pages, as host pointers into the vGPU's own guest memory */
	uint64_t *backing_at;  /* offset of each entry in the backing */
	uint64_t *backing_gpa; /* each entry's guest address: looked up again when guest memory is remapped */
	int nbacking;
	uint64_t backing_len;
	/* A 2D resource in host memory: the guest contexts that attached it, attached in the renderer too when it
	 * moves there (resource_to_renderer). At most one entry a live context. */
	uint32_t *ctxs;
	unsigned nctxs, cap_ctxs;
};

static const char *const class_names[GC_COUNT] = {
	"get_display_info", "resource_create_2d", "resource_unref", "set_scanout", "resource_flush",
	"transfer_to_host_2d", "resource_attach_backing", "resource_detach_backing", "get_capset_info",
	"get_capset", "get_edid", "ctx_create", "ctx_destroy", "ctx_attach_resource", "ctx_detach_resource",
	"resource_create_3d", "transfer_to_host_3d", "transfer_from_host_3d", "submit_3d", "update_cursor",
	"move_cursor", "unknown",
};

const char *gpu_cmd_class_name(enum gpu_cmd_class c)
{
	return c < GC_COUNT ? class_names[c] : "unknown";
}

void gpu_stats_add(struct gpu_stats *sum, const struct gpu_stats *s)
{
	for (int i = 0; i < GC_COUNT; i++)
		sum->cmds[i] += s->cmds[i];
	sum->errors += s->errors;
	sum->bytes_to_host += s->bytes_to_host;
	sum->bytes_from_host += s->bytes_from_host;
	sum->render_ns += s->render_ns;
	sum->fences += s->fences;
	sum->fence_ns_sum += s->fence_ns_sum;
	if (s->fence_ns_max > sum->fence_ns_max)
		sum->fence_ns_max = s->fence_ns_max;
	sum->flushes += s->flushes;
	sum->display_coalesced += s->display_coalesced;
	sum->present_ns += s->present_ns;
	for (int i = 0; i < STAGE_COUNT; i++)
		stage_hist_add(&sum->stage[i], &s->stage[i]);
	if (s->last_error[0])
		memcpy(sum->last_error, s->last_error, sizeof(sum->last_error));
}

/* The renderer every vGPU set up from now on renders with (gpu_device_set_renderer), and what vGPUs are told of
 * theirs (gpu_device_describe). */
static struct renderer *default_renderer;
static struct gpu_renderer_desc desc;

void gpu_device_describe(const struct renderer *r)
{
	memset(&desc, 0, sizeof(desc));
	if (!r)
		return;
	desc.on = 1;
	desc.capsets = renderer_num_capsets((struct renderer *)r);
	snprintf(desc.gl_renderer, sizeof(desc.gl_renderer), "%s", r->gl_renderer);
	snprintf(desc.platform, sizeof(desc.platform), "%s", r->platform);
}

const struct gpu_renderer_desc *gpu_device_description(void)
{
	return &desc;
}

void gpu_device_set_renderer(struct renderer *r)
{
	default_renderer = r;
	if (r)
		gpu_device_describe(r);
}

struct renderer *gpu_device_renderer(void)
{
	return default_renderer;
}

uint64_t gpu_device_features(int with_virgl)
{
	return (1ull << VIRTIO_GPU_F_EDID) | (with_virgl ? 1ull << VIRTIO_GPU_F_VIRGL : 0);
}

void gpu_device_config(struct virtio_gpu_config *c, int with_virgl)
{
	memset(c, 0, sizeof(*c));
	c->num_scanouts = 1;
	c->num_capsets = with_virgl ? desc.capsets : 0;
}

void gpu_device_init(struct gpu_device *g, struct vdev *vdev)
{
	memset(g, 0, sizeof(*g));
	g->vdev = vdev;
	g->rnd = default_renderer;
	g->present.job.msg = g->present.msg;
	gdisp_init(&g->disp);
	idmap_init(&g->res);
	idmap_init(&g->ctx);
	g->num_scanouts = 1;
	g->default_width = 1024;
	g->default_height = 768;
}

int gpu_device_config_write(void *opaque, uint8_t *config, uint32_t offset, uint32_t size)
{
	struct virtio_gpu_config c;

	(void)opaque;
	(void)offset;
	(void)size;
	/* Only events_clear is the driver's to write: it clears events_read bits and reads back as 0. */
	memcpy(&c, config, sizeof(c));
	c.events_read &= ~c.events_clear;
	c.events_clear = 0;
	memcpy(config, &c, sizeof(c));
	return 0;
}

/* ---- guest buffers ---- */

static size_t iov_read(const struct iovec *iov, int n, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	for (int i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off;

		if (take > len - done)
			take = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, take);
		done += take;
		off = 0;
	}
	return done;
}

static size_t iov_write(const struct iovec *iov, int n, const void *buf, size_t len)
{
	size_t done = 0;

	for (int i = 0; i < n && done < len; i++) {
		size_t take = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(iov[i].iov_base, (const uint8_t *)buf + done, take);
		done += take;
	}
	return done;
}

/* Copy [off, off + len) of a resource's backing (the caller checked it lies inside). */
static void backing_read(const struct gpu_resource *r, uint64_t off, uint8_t *dst, uint64_t len)
{
	int lo = 0, hi = r->nbacking - 1;

	while (lo < hi) { /* the last entry starting at or before off */
		int mid = (lo + hi + 1) / 2;

		if (r->backing_at[mid] <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	for (int i = lo; i < r->nbacking && len; i++) {
		uint64_t in = off - r->backing_at[i];
		uint64_t take = r->backing[i].iov_len - in;

		if (take > len)
			take = len;
		memcpy(dst, (uint8_t *)r->backing[i].iov_base + in, take);
		dst += take;
		len -= take;
		off += take;
	}
}

/* ---- copies from guest memory, shared with the pool's threads ---- */

static struct copy_pool *pool;

void gpu_device_set_copy_pool(struct copy_pool *p)
{
	pool = p;
}

struct copy_pool *gpu_device_copy_pool(void)
{
	return pool;
}

#define COPY_PART (1u << 20) /* the least a thread is given: smaller copies are not worth a hand-off */

/* Whole rows: one run of bytes of the backing into one run of the resource. */
struct copy_run {
	const struct gpu_resource *r;
	uint64_t off;
	uint8_t *dst;
};

static void copy_run_part(void *ctx, uint64_t b, uint64_t e)
{
	const struct copy_run *c = ctx;

	backing_read(c->r, c->off + b, c->dst + b, e - b);
}

/* Part of each row: rows [b, e) of a rectangle. */
struct copy_rows {
	const struct gpu_resource *r;
	uint64_t off, stride, row_bytes;
	uint8_t *dst; /* the rectangle's first pixel in the resource */
};

static void copy_rows_part(void *ctx, uint64_t b, uint64_t e)
{
	const struct copy_rows *c = ctx;

	for (uint64_t y = b; y < e; y++)
		backing_read(c->r, c->off + y * c->stride, c->dst + y * c->stride, c->row_bytes);
}

/* One run of bytes from host memory to host memory (a display update's rows into the vGPU's send buffer). */
struct copy_flat {
	const uint8_t *src;
	uint8_t *dst;
};

static void copy_flat_part(void *ctx, uint64_t b, uint64_t e)
{
	const struct copy_flat *c = ctx;

	memcpy(c->dst + b, c->src + b, e - b);
}

/* ---- the display sender (display_sender.h) ---- */

static struct dsend *sender;

void gpu_device_set_sender(struct dsend *s)
{
	sender = s;
}

struct dsend *gpu_device_sender(void)
{
	return sender;
}

struct gpu_display *gpu_device_display(struct gpu_device *g)
{
	gpu_device_present_send(g); /* one readied and not yet handed over goes first: nothing overtakes it */
	dsend_wait(sender, &g->present.job);
	gpu_device_present_collect(g);
	return &g->disp;
}

/* ---- resources ---- */

static int format_known(uint32_t f)
{
	switch (f) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return 1;
	}
	return 0;
}

/* Formats whose bytes already are the display's x8r8g8b8 (B, G, R, then alpha or padding). */
static int is_bgrx(uint32_t f)
{
	return f == VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM || f == VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
}

/* A row of w pixels of format f (bytes low address first) as x8r8g8b8: bytes B, G, R, then the source's
 * alpha or padding byte, which x8r8g8b8 ignores. src may equal dst. */
static void convert_row(uint32_t f, const uint8_t *src, uint8_t *dst, uint32_t w)
{
	if (is_bgrx(f)) {
		if (src != dst)
			memcpy(dst, src, (size_t)w * 4);
		return;
	}
	for (uint32_t i = 0; i < w; i++, src += 4, dst += 4) {
		uint32_t v, o;

		memcpy(&v, src, 4);
		switch (f) {
		case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM: /* bytes A R G B */
		case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
			o = __builtin_bswap32(v);
			break;
		case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM: /* bytes R G B A: swap R and B */
		case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
			o = (v & 0xff00ff00u) | ((v >> 16) & 0xffu) | ((v & 0xffu) << 16);
			break;
		default: /* A8B8G8R8, X8B8G8R8: bytes A B G R */
			o = (v >> 8) | (v << 24);
			break;
		}
		memcpy(dst, &o, 4);
	}
}

/* Host memory one backing entry's tables take. */
#define BACKING_ENTRY_BYTES (sizeof(struct iovec) + 2 * sizeof(uint64_t))

/* Forget a backing the renderer no longer holds. */
static void backing_free(struct gpu_device *g, struct gpu_resource *r)
{
	g->backing_bytes -= r->backing_len;
	g->backing_table_bytes -= (uint64_t)r->nbacking * BACKING_ENTRY_BYTES;
	free(r->backing);
	free(r->backing_at);
	free(r->backing_gpa);
	r->backing = NULL;
	r->backing_at = NULL;
	r->backing_gpa = NULL;
	r->nbacking = 0;
	r->backing_len = 0;
}

/* The renderer lets go of r's backing (for a buffer it keeps in host memory it copies the backing out now). */
static void backing_detach(struct gpu_device *g, struct gpu_resource *r)
{
	if (r->host_id && r->backing)
		g->rnd->ops->detach(g->rnd, r->host_id);
}

static void backing_drop(struct gpu_device *g, struct gpu_resource *r)
{
	backing_detach(g, r);
	backing_free(g, r);
}

/* Whether the update readied or in flight sends from r's pixels (lent, and not yet given back: an update taken in
 * while r was out of the table, being unreferenced, could not give them back to it). */
static int pixels_in_update(const struct gpu_device *g, const struct gpu_resource *r)
{
	for (unsigned k = 0; k < g->present.nlent; k++)
		if (g->present.lent[k].pixels == r->pixels && !g->present.lent[k].orphan)
			return 1;
	return 0;
}

/* r lets go of its pixels: if the update sends from them, it keeps them (they are given back when it is taken in) and
 * r goes on without them; otherwise r still has them. */
static void pixels_release(struct gpu_device *g, struct gpu_resource *r)
{
	if (pixels_in_update(g, r)) {
		for (unsigned k = 0; k < g->present.nlent; k++)
			if (g->present.lent[k].pixels == r->pixels)
				g->present.lent[k].orphan = 1;
		r->pixels = NULL;
	}
	r->lent = 0;
}

/* Before r's pixels are written: if an update in flight sends from them, r takes another buffer (the spare, or a
 * new one) holding the same pixels, unless the write covers them all. 0, or -1 (no memory). */
static int pixels_own(struct gpu_device *g, struct gpu_resource *r, int whole)
{
	uint64_t bytes = (uint64_t)r->width * r->height * 4;
	uint8_t *nb;

	if (r->lent && !dsend_busy(&g->present.job)) /* sent already: taken in, it gives the buffer back */
		gpu_device_present_collect(g);
	if (r->lent && !pixels_in_update(g, r))
		r->lent = 0;
	if (!r->lent)
		return 0;
	if (g->spare && g->spare_len == bytes) {
		nb = g->spare;
		g->spare = NULL;
		g->spare_len = 0;
	} else if (!(nb = malloc(bytes))) {
		return -1;
	}
	if (!whole) {
		struct copy_flat cf = { r->pixels, nb };

		copy_pool_run(pool, copy_flat_part, &cf, bytes, COPY_PART);
	}
	pixels_release(g, r);
	r->pixels = nb;
	return 0;
}

static void resource_destroy(struct gpu_device *g, struct gpu_resource *r)
{
	g->charged -= r->charged;
	backing_drop(g, r);
	if (r->host_id)
		g->rnd->ops->res_unref(g->rnd, r->host_id);
	if (r->pixels)
		g->mem_2d -= (uint64_t)r->width * r->height * 4;
	if (r->lent)
		pixels_release(g, r);
	free(r->pixels);
	free(r->ctxs);
	free(r);
}

/* Host pointer to [addr, addr + len) of the client's memory: guest RAM, or a host client's own (mem_at). */
static void *backing_at_addr(const struct gpu_device *g, uint64_t addr, uint64_t len)
{
	if (!len)
		return NULL;
	if (g->mem_at)
		return g->mem_at(g->mem_ctx, addr, len);
	return g->vdev ? guest_mem_gpa(&g->vdev->mem, addr, len) : NULL;
}

void gpu_device_mem_remapped(struct gpu_device *g)
{
	size_t pos = 0;
	struct gpu_resource *r;

	g->remaps++;
	while ((r = idmap_next(&g->res, &pos, NULL))) {
		int lost = -1;

		if (!r->backing)
			continue;
		/* Let the renderer go first, while the old mapping is still there: for a buffer it keeps in host
		 * memory (queries) it copies the backing out on detach, and it writes query results into the backing
		 * whenever it polls. */
		backing_detach(g, r);
		for (int i = 0; i < r->nbacking && lost < 0; i++) {
			void *p = backing_at_addr(g, r->backing_gpa[i], r->backing[i].iov_len);

			if (p)
				r->backing[i].iov_base = p;
			else
				lost = i;
		}
		if (lost < 0 && r->host_id &&
		    g->rnd->ops->attach(g->rnd, r->host_id, r->backing, r->nbacking) != 0)
			lost = r->nbacking;
		if (lost < 0) {
			g->backings_moved++;
			continue;
		}
		/* Its memory left guest RAM (or the renderer refused it back): the guest's next transfer on it fails as
		 * with no backing at all. */
		g->backings_lost++;
		if (lost < r->nbacking)
			snprintf(g->st.last_error, sizeof(g->st.last_error),
				 "guest memory remapped: the backing of resource %u (entry %d) is no longer in guest RAM",
				 r->guest_id, lost);
		else
			snprintf(g->st.last_error, sizeof(g->st.last_error),
				 "guest memory remapped: the renderer refused the moved backing of resource %u",
				 r->guest_id);
		backing_free(g, r);
	}
}

static void present_drop_reads(struct gpu_device *g);

void gpu_device_reset(struct gpu_device *g)
{
	size_t pos = 0;
	struct gpu_resource *r;
	void *c;
	uint32_t id;

	/* An update in flight is not waited for: a reset comes with a front-end message whose answer the front-end awaits
	 * without reading its display channel meanwhile. The update keeps what it sends from (the pixels of resources
	 * that go here are left to it: pixels_release), and the channel is not touched. */
	present_drop_reads(g);
	if (g->res.live || g->ctx.live)
		renderer_quiesce(g->rnd);
	while ((r = idmap_next(&g->res, &pos, NULL)))
		resource_destroy(g, r);
	idmap_free(&g->res);
	pos = 0;
	while ((c = idmap_next(&g->ctx, &pos, &id)))
		g->rnd->ops->ctx_destroy(g->rnd, (uint32_t)(uintptr_t)c);
	idmap_free(&g->ctx);
	g->npending = 0;
	g->mem_2d = 0;
	g->charged = 0;
	memset(g->scanout, 0, sizeof(g->scanout));
}

void gpu_device_free(struct gpu_device *g)
{
	gpu_device_display(g); /* an update in flight ends first: it uses the buffers and the channel freed here */
	gpu_device_reset(g);
	free(g->pending);
	free(g->flush_buf);
	free(g->present.buf);
	free(g->spare);
	g->spare = NULL;
	g->spare_len = 0;
	g->pending = NULL;
	g->flush_buf = NULL;
	g->present.buf = NULL;
	g->cap_pending = 0;
	g->flush_cap = 0;
	g->present.cap = 0;
	gdisp_close(&g->disp, NULL);
}

/* ---- command handling ---- */

struct cmd {
	struct gpu_device *g;
	struct vring_req *req;
	enum gpu_cmd_class cls;
	struct virtio_gpu_ctrl_hdr hdr;
	uint8_t buf[160]; /* the command's fixed part */
	union {           /* the response: its header, and the payload of the commands that have one */
		struct virtio_gpu_ctrl_hdr hdr;
		struct virtio_gpu_resp_display_info di;
		struct virtio_gpu_resp_capset_info ci;
		struct virtio_gpu_resp_edid edid;
	} resp;
	size_t resp_len;  /* bytes of resp to write: the header unless a handler says more */
	uint32_t written; /* a handler that wrote its reply itself (GET_CAPSET) says how much here */
	int park;         /* a transfer the renderer carries out later: answered once a fence after it retires */
};

static uint32_t fail(struct cmd *c, uint32_t type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static uint32_t fail(struct cmd *c, uint32_t type, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->g->st.last_error, sizeof(c->g->st.last_error), "cmd 0x%x: ", c->hdr.type);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(c->g->st.last_error))
		vsnprintf(c->g->st.last_error + n, sizeof(c->g->st.last_error) - (size_t)n, fmt, ap);
	va_end(ap);
	c->g->st.errors++;
	return type;
}

/* Copy the command's fixed part (len bytes); 0, or -1 when the request is shorter. */
static int take(struct cmd *c, size_t len)
{
	return iov_read(c->req->in, c->req->nin, 0, c->buf, len) == len ? 0 : -1;
}

static struct gpu_resource *find_res(struct cmd *c, uint32_t id)
{
	return idmap_get(&c->g->res, id);
}

/* The vGPU's resource id in *r; 0, or the error response when it has none. */
static uint32_t get_res(struct cmd *c, uint32_t id, struct gpu_resource **r)
{
	*r = find_res(c, id);
	return *r ? 0 : fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "no resource %u", id);
}

/* 0 when rect lies inside resource r, else the error response. */
static uint32_t check_rect(struct cmd *c, const struct virtio_gpu_rect *rect, const struct gpu_resource *r)
{
	if ((uint64_t)rect->x + rect->width <= r->width && (uint64_t)rect->y + rect->height <= r->height)
		return 0;
	return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "rect %ux%u+%u+%u outside %ux%u", rect->width,
		    rect->height, rect->x, rect->y, r->width, r->height);
}

static uint32_t cmd_display_info(struct cmd *c)
{
	struct gpu_device *g = c->g;
	struct virtio_gpu_resp_display_info *di = &c->resp.di;

	memset(di, 0, sizeof(*di));
	if (gdisp_get_display_info(gpu_device_display(g), di) < 0) {
		memset(di, 0, sizeof(*di));
		di->pmodes[0].enabled = 1;
		di->pmodes[0].r.width = g->default_width;
		di->pmodes[0].r.height = g->default_height;
	}
	for (uint32_t i = g->num_scanouts; i < VIRTIO_GPU_MAX_SCANOUTS; i++)
		memset(&di->pmodes[i], 0, sizeof(di->pmodes[i]));
	c->resp_len = sizeof(*di);
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

void gpu_device_set_size(struct gpu_device *g, uint64_t bytes)
{
	g->size_bytes = bytes;
}

/* Bytes a texel of virgl format f takes, for the formats of more than 4 (virglrenderer's virgl_hw.h); 4 for the
 * rest, which none exceeds. */
static uint32_t texel_bytes(uint32_t f)
{
	static const struct {
		uint16_t format;
		uint8_t bytes;
	} wide[] = {
		{ 24, 8 },   { 25, 16 },  { 26, 24 },  { 27, 32 },  { 29, 8 },   { 30, 12 },  { 31, 16 },  { 33, 8 },
		{ 34, 12 },  { 35, 16 },  { 37, 8 },   { 38, 12 },  { 39, 16 },  { 41, 8 },   { 42, 12 },  { 43, 16 },
		{ 45, 8 },   { 46, 12 },  { 47, 16 },  { 50, 6 },   { 51, 8 },   { 54, 6 },   { 55, 8 },   { 58, 6 },
		{ 59, 8 },   { 62, 6 },   { 63, 8 },   { 88, 8 },   { 89, 12 },  { 90, 16 },  { 93, 6 },   { 94, 8 },
		{ 126, 8 },  { 138, 8 },  { 161, 8 },  { 187, 6 },  { 188, 8 },  { 191, 6 },  { 192, 8 },  { 194, 8 },
		{ 195, 12 }, { 196, 16 }, { 198, 8 },  { 199, 12 }, { 200, 16 }, { 220, 8 },  { 224, 8 },  { 234, 8 },
		{ 235, 8 },  { 236, 8 },  { 237, 8 },  { 238, 8 },  { 239, 16 }, { 240, 16 }, { 241, 16 }, { 246, 8 },
		{ 251, 8 },  { 252, 8 },
	};

	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (wide[i].format == f)
			return wide[i].bytes;
	return 4;
}

uint64_t gpu_resource_3d_bytes(const struct virtio_gpu_resource_create_3d *m)
{
	uint64_t texels = 0, w = m->width, h = m->height, d = m->depth;

	if (m->target == 0) /* a buffer: width bytes */
		return m->width;
	/* Each level halves every dimension (at least 1); the sizes are bounded before (GPU_MAX_DIM, 2048 layers,
	 * 16 levels, 32 samples), so this fits in 64 bits. */
	for (uint32_t l = 0; l <= m->last_level; l++) {
		texels += w * h * d;
		w = w > 1 ? w / 2 : 1;
		h = h > 1 ? h / 2 : 1;
		d = d > 1 ? d / 2 : 1;
	}
	return texels * m->array_size * (m->nr_samples > 1 ? m->nr_samples : 1) * texel_bytes(m->format);
}

/* 0 when bytes more fit the vGPU's size, else the error response. */
static uint32_t check_size(struct cmd *c, uint32_t id, uint64_t bytes)
{
	const struct gpu_device *g = c->g;

	if (!g->size_bytes || (g->charged <= g->size_bytes && bytes <= g->size_bytes - g->charged))
		return 0;
	return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
		    "resource %u of %llu KiB would pass the vGPU's size of %llu MiB (%llu KiB held)", id,
		    (unsigned long long)(bytes >> 10), (unsigned long long)(g->size_bytes >> 20),
		    (unsigned long long)(g->charged >> 10));
}

static uint32_t new_resource(struct cmd *c, uint32_t id, struct gpu_resource **out)
{
	struct gpu_resource *r;

	if (id == 0 || id == UINT32_MAX)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "resource id %u is reserved", id);
	if (find_res(c, id))
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "resource %u exists", id);
	if (c->g->res.live >= GPU_MAX_RESOURCES)
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "the vGPU holds %d resources already", GPU_MAX_RESOURCES);
	r = calloc(1, sizeof(*r));
	if (!r)
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory");
	r->guest_id = id;
	*out = r;
	return 0;
}

/* The renderer's resource for 2D resource r: a 2D texture the guest's contexts may also render to. 0, or -1. */
static int renderer_2d_create(struct gpu_device *g, const struct gpu_resource *r, uint32_t *handle)
{
	struct render_res a = {
		.target = 2 /* 2D texture */, .format = r->format, .bind = 1u << 1 /* render target */, .width = r->width,
		.height = r->height, .depth = 1, .array_size = 1, .flags = 1 /* y = 0 at the top */,
	};
	uint32_t id = renderer_new_res_id(g->rnd);

	if (g->rnd->ops->res_create(g->rnd, id, &a) != 0)
		return -1;
	*handle = id;
	return 0;
}

/* A 2D resource held in host memory moves into the renderer the first time a 3D command uses it (a command
 * stream naming it, a 3D transfer): its pixels are uploaded, its backing handed over, and the contexts that
 * attached it meanwhile attach it there. A guest's kernel attaches every buffer a GL-capable file opens, dumb
 * buffers too, so an attachment alone does not move it. Until then a transfer to it is a copy, and a display
 * update reads it where it lies, with no upload and no read-back (virglrenderer keeps a B8G8R8X8 texture as RGBA
 * and swizzles every pixel both ways). 0, or -1 (it stays where it was, and the command using it fails). */
static int resource_to_renderer(struct gpu_device *g, struct gpu_resource *r)
{
	uint64_t bytes = (uint64_t)r->width * r->height * 4;
	struct render_xfer x = { .box = { 0, 0, 0, r->width, r->height, 1 }, .stride = r->width * 4 };
	struct iovec iov = { r->pixels, bytes };
	uint32_t handle;
	uint64_t t0 = mono_ns();
	int e;

	if (r->host_id)
		return 0;
	if (!g->virgl || !r->pixels || renderer_2d_create(g, r, &handle) < 0)
		return -1;
	renderer_quiesce(g->rnd); /* a command stream may be on its way: not in its context (render/virgl.c) */
	e = g->rnd->ops->write(g->rnd, handle, &x, &iov, 1) != 0 ||
	    (r->backing && g->rnd->ops->attach(g->rnd, handle, r->backing, r->nbacking) != 0);
	g->st.render_ns += mono_ns() - t0;
	if (e) {
		g->rnd->ops->res_unref(g->rnd, handle);
		return -1;
	}
	for (unsigned i = 0; i < r->nctxs; i++) {
		void *host = idmap_get(&g->ctx, r->ctxs[i]);

		if (host)
			g->rnd->ops->ctx_resource(g->rnd, (uint32_t)(uintptr_t)host, handle, 1);
	}
	r->host_id = handle;
	if (r->lent)
		pixels_release(g, r);
	free(r->pixels);
	r->pixels = NULL;
	free(r->ctxs);
	r->ctxs = NULL;
	r->nctxs = r->cap_ctxs = 0;
	g->mem_2d -= bytes;
	g->res_to_renderer++;
	return 0;
}

/* A command stream's resource: the renderer's ID, moving a 2D resource held in host memory into the renderer
 * first (a stream that names it means to use it in 3D). 0: none. */
static uint32_t lookup_host_res(void *opaque, uint32_t guest_id)
{
	struct gpu_device *g = opaque;
	struct gpu_resource *r = idmap_get(&g->res, guest_id);

	return r && resource_to_renderer(g, r) == 0 ? r->host_id : 0;
}

static uint32_t cmd_create_2d(struct cmd *c)
{
	struct virtio_gpu_resource_create_2d m;
	struct gpu_resource *r = NULL;
	uint64_t bytes;
	uint32_t e;
	int in_host;

	memcpy(&m, c->buf, sizeof(m));
	if (!format_known(m.format))
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "format %u is not a 2D format", m.format);
	if (!m.width || !m.height || m.width > GPU_MAX_DIM || m.height > GPU_MAX_DIM)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "size %ux%u", m.width, m.height);
	bytes = (uint64_t)m.width * m.height * 4;
	/* In host memory while it fits the vGPU's 2D memory, with virgl too (resource_to_renderer); past it, with
	 * virgl, in the renderer at once. */
	in_host = c->g->mem_2d + bytes <= GPU_MAX_2D_BYTES;
	if (!c->g->virgl && !in_host)
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "%ux%u would pass the vGPU's %llu MiB of 2D memory",
			    m.width, m.height, GPU_MAX_2D_BYTES >> 20);
	if ((e = check_size(c, m.resource_id, bytes)) || (e = new_resource(c, m.resource_id, &r)))
		return e;
	r->format = m.format;
	r->width = m.width;
	r->height = m.height;
	if (!in_host) {
		if (renderer_2d_create(c->g, r, &r->host_id) < 0) {
			free(r);
			return fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "the renderer refused a %ux%u resource", m.width,
				    m.height);
		}
	} else {
		r->pixels = calloc(1, bytes);
		if (!r->pixels) {
			free(r);
			return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for %ux%u", m.width, m.height);
		}
		c->g->mem_2d += bytes;
	}
	r->charged = bytes;
	c->g->charged += bytes;
	if (idmap_put(&c->g->res, r->guest_id, r) < 0) {
		resource_destroy(c->g, r);
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for the resource table");
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static void scanout_disable(struct gpu_device *g, uint32_t i)
{
	g->scanout[i].resource_id = 0;
	g->scanout[i].dirty = 0;
	gdisp_scanout(gpu_device_display(g), i, 0, 0);
}

static uint32_t cmd_unref(struct cmd *c)
{
	struct virtio_gpu_resource_unref m;
	struct gpu_resource *r;

	memcpy(&m, c->buf, sizeof(m));
	r = idmap_del(&c->g->res, m.resource_id);
	if (!r)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "no resource %u", m.resource_id);
	for (uint32_t i = 0; i < c->g->num_scanouts; i++)
		if (c->g->scanout[i].resource_id == m.resource_id)
			scanout_disable(c->g, i);
	resource_destroy(c->g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_set_scanout(struct cmd *c)
{
	struct virtio_gpu_set_scanout m;
	struct gpu_resource *r;
	struct gpu_scanout *s;
	uint32_t e;

	memcpy(&m, c->buf, sizeof(m));
	if (m.scanout_id >= c->g->num_scanouts)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "scanout %u of %u", m.scanout_id,
			    c->g->num_scanouts);
	if (m.resource_id == 0) {
		scanout_disable(c->g, m.scanout_id);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	if ((e = get_res(c, m.resource_id, &r)))
		return e;
	if (!m.r.width || !m.r.height)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "empty scanout rect %ux%u", m.r.width, m.r.height);
	if ((e = check_rect(c, &m.r, r)))
		return e;
	s = &c->g->scanout[m.scanout_id];
	if (s->resource_id != m.resource_id || memcmp(&s->r, &m.r, sizeof(m.r))) {
		s->dirty = 0; /* damage flushed on what it showed before goes with it */
		s->full = 1;  /* and what it shows now is all new */
	}
	/* Its size reaches the front-end with its next update (flush_to_scanout): QEMU shows a new surface only then,
	 * and keeps just the last one made. */
	s->resource_id = m.resource_id;
	s->r = m.r;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint8_t *flush_buffer(struct gpu_device *g, uint64_t bytes)
{
	if (bytes > g->flush_cap) {
		uint8_t *b = realloc(g->flush_buf, bytes);

		if (!b)
			return NULL;
		g->flush_buf = b;
		g->flush_cap = bytes;
	}
	return g->flush_buf;
}

/* Can rectangle a of r go to the display straight from the resource's own memory (whole rows of a host-memory
 * resource already in the display's format)? Otherwise it is read back or converted into the flush buffer. */
static int direct_rows(const struct gpu_resource *r, const struct virtio_gpu_rect *a)
{
	return !r->host_id && is_bgrx(r->format) && a->x == 0 && a->width == r->width;
}

/* Rectangle `a` (in resource coordinates) of r into dst as the display takes it (x8r8g8b8, a->width * 4 bytes a
 * row): read back from the renderer, or converted (copied, for a format the display takes as it is). 0 or -1 (the
 * renderer refused the read-back). */
static int flush_read(struct gpu_device *g, struct gpu_resource *r, const struct virtio_gpu_rect *a, uint8_t *dst)
{
	uint64_t bytes = (uint64_t)a->width * a->height * 4, t0 = mono_ns(), t1;

	if (r->host_id) {
		struct render_xfer x = { .box = { a->x, a->y, 0, a->width, a->height, 1 }, .stride = a->width * 4 };
		struct iovec iov = { dst, bytes };
		int e;

		renderer_quiesce(g->rnd);
		e = g->rnd->ops->read(g->rnd, r->host_id, &x, &iov, 1);
		t1 = mono_ns();
		stage_record(&g->st.stage[STAGE_READBACK], t1 - t0);
		g->st.present_ns += t1 - t0;
		if (e)
			return -1;
		for (uint32_t y = 0; y < a->height; y++) /* in place: nothing to do for BGRX */
			convert_row(r->format, dst + (uint64_t)y * a->width * 4, dst + (uint64_t)y * a->width * 4,
				    a->width);
		return 0;
	}
	for (uint32_t y = 0; y < a->height; y++)
		convert_row(r->format, r->pixels + ((uint64_t)(a->y + y) * r->width + a->x) * 4,
			    dst + (uint64_t)y * a->width * 4, a->width);
	g->st.present_ns += mono_ns() - t0;
	return 0;
}

/* Send rectangle `a` (in resource coordinates) of r to scanout i, now, from the resource's own memory where it can
 * (every flush sent before it is answered: --display-fps 0). */
static int flush_to_scanout(struct gpu_device *g, struct gpu_resource *r, uint32_t i, const struct virtio_gpu_rect *a)
{
	struct gpu_display *d = gpu_device_display(g);
	const uint8_t *buf;
	uint64_t t0, t1;
	int e;

	if (direct_rows(r, a)) {
		buf = r->pixels + (uint64_t)a->y * r->width * 4; /* no copy */
	} else {
		if (!flush_buffer(g, (uint64_t)a->width * a->height * 4) || flush_read(g, r, a, g->flush_buf) < 0)
			return -1;
		buf = g->flush_buf;
	}
	t0 = mono_ns();
	/* QEMU draws an update into the surface its last SCANOUT made, and has none on a new channel (or after a reset,
	 * which comes with one): the scanout's size goes first whenever this channel has not been told it (gdisp_scanout
	 * sends nothing for a size already announced). */
	if (gdisp_scanout(d, i, g->scanout[i].r.width, g->scanout[i].r.height) < 0)
		return -1;
	e = gdisp_update(d, i, a->x - g->scanout[i].r.x, a->y - g->scanout[i].r.y, a->width, a->height, buf);
	t1 = mono_ns();
	stage_record(&g->st.stage[STAGE_DISPLAY_SEND], t1 - t0);
	g->st.present_ns += t1 - t0;
	return e;
}

/* The smallest rectangle holding a and b. */
static struct virtio_gpu_rect rect_union(const struct virtio_gpu_rect *a, const struct virtio_gpu_rect *b)
{
	uint32_t x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
	uint32_t x1 = a->x + a->width > b->x + b->width ? a->x + a->width : b->x + b->width;
	uint32_t y1 = a->y + a->height > b->y + b->height ? a->y + a->height : b->y + b->height;

	return (struct virtio_gpu_rect){ .x = x0, .y = y0, .width = x1 - x0, .height = y1 - y0 };
}

static uint32_t cmd_flush(struct cmd *c)
{
	struct virtio_gpu_resource_flush m;
	struct gpu_device *g = c->g;
	struct gpu_resource *r;
	uint32_t e;

	memcpy(&m, c->buf, sizeof(m));
	if ((e = get_res(c, m.resource_id, &r)))
		return e;
	if ((e = check_rect(c, &m.r, r)))
		return e;
	g->st.flushes++;
	for (uint32_t i = 0; i < g->num_scanouts; i++) {
		struct gpu_scanout *s = &g->scanout[i];
		struct virtio_gpu_rect a;
		uint32_t x1, y1;

		if (s->resource_id != m.resource_id || g->disp.fd < 0)
			continue;
		if (s->full) {
			/* What it shows changed: all of it goes (within the resource: checked at set_scanout). */
			a = s->r;
			s->full = 0;
			goto damaged;
		}
		/* The part of the flushed rectangle this scanout shows (all within the resource: check_rect). */
		a.x = m.r.x > s->r.x ? m.r.x : s->r.x;
		a.y = m.r.y > s->r.y ? m.r.y : s->r.y;
		x1 = m.r.x + m.r.width < s->r.x + s->r.width ? m.r.x + m.r.width : s->r.x + s->r.width;
		y1 = m.r.y + m.r.height < s->r.y + s->r.height ? m.r.y + m.r.height : s->r.y + s->r.height;
		if (x1 <= a.x || y1 <= a.y)
			continue;
		a.width = x1 - a.x;
		a.height = y1 - a.y;
damaged:
		if (!g->display_interval_ns) {
			flush_to_scanout(g, r, i, &a);
			continue;
		}
		if (s->dirty)
			g->st.display_coalesced++;
		s->damage = s->dirty ? rect_union(&s->damage, &a) : a;
		s->dirty = 1;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

void gpu_device_set_display_interval(struct gpu_device *g, uint64_t interval_ns)
{
	g->display_interval_ns = interval_ns;
	g->present_next_ns = 0;
}

/* The updates readied (u[0..n)) as messages on the channel, the scanout's size first where due, leaving out those
 * whose read-back never came. */
static void present_build(struct gpu_device *g)
{
	struct gpu_present_job *p = &g->present;
	unsigned n = 0;

	p->job.nmsg = 0;
	for (unsigned k = 0; k < p->n && g->disp.fd >= 0; k++) {
		struct gpu_present_update u = p->u[k];

		if (u.rc)
			continue;
		for (uint32_t y = 0; u.convert && y < u.damage.height; y++) /* in place: nothing to do for BGRX */
			convert_row(u.convert, (uint8_t *)u.pixels + (uint64_t)y * u.damage.width * 4,
				    (uint8_t *)u.pixels + (uint64_t)y * u.damage.width * 4, u.damage.width);
		u.first = p->job.nmsg;
		/* QEMU draws an update into the surface its last SCANOUT made (see flush_to_scanout). */
		if (gdisp_announce_due(&g->disp, u.scanout, u.view.width, u.view.height))
			gdisp_msg_scanout(&p->job.msg[p->job.nmsg++], u.scanout, u.view.width, u.view.height);
		/* Within the resource, so within 16384x16384: always one message. */
		gdisp_msg_update(&p->job.msg[p->job.nmsg], u.scanout, u.damage.x - u.view.x, u.damage.y - u.view.y,
				 u.damage.width, u.damage.height, u.pixels);
		u.last = p->job.nmsg++;
		p->u[n++] = u;
	}
	p->n = n;
	p->reading = 0;
	p->submitted = 0;
	p->job.fd = g->disp.fd;
	p->job.timeout_ms = g->disp.timeout_ms;
}

/* Read-backs under way: 1 while one still is. Those the renderer no longer has under way (it died, or is another
 * one now) never come. */
static int present_reading(struct gpu_device *g)
{
	struct gpu_present_job *p = &g->present;
	int under_way = 0;

	for (unsigned k = 0; k < p->n; k++)
		if (p->u[k].rc == 1) {
			if (!g->rnd || !g->rnd->reading)
				p->u[k].rc = -1;
			else
				under_way = 1;
		}
	return under_way;
}

/* A reset, or the vGPU going: its read-backs under way are forgotten, and their updates dropped. */
static void present_drop_reads(struct gpu_device *g)
{
	if (!g->present.reading)
		return;
	if (g->rnd && g->rnd->ops->read_cancel)
		g->rnd->ops->read_cancel(g->rnd);
	g->present.reading = 0;
	g->present.n = 0;
}

uint64_t gpu_device_present_prepare(struct gpu_device *g, uint64_t now)
{
	struct gpu_present_job *p = &g->present;
	uint64_t total = 0;
	int pending = 0, room, later;

	if (p->reading) { /* the worker's answer wakes the loop; a refresh later at the latest */
		if (present_reading(g))
			return g->display_interval_ns ? g->display_interval_ns : UINT64_MAX;
		stage_record(&g->st.stage[STAGE_READBACK], now > p->read_t0 ? now - p->read_t0 : 0);
		present_build(g);
		return UINT64_MAX;
	}
	for (uint32_t i = 0; i < g->num_scanouts; i++)
		pending |= g->scanout[i].dirty;
	if (!pending)
		return UINT64_MAX;
	if (now < g->present_next_ns)
		return g->present_next_ns - now;
	if (p->n && !p->submitted) /* readied before and never handed over: out first */
		gpu_device_present_send(g);
	if (dsend_busy(&p->job)) /* the sender wakes the loop when it is done; a refresh later at the latest */
		return g->display_interval_ns;
	gpu_device_present_collect(g);
	/* A renderer that renders later is read back without waiting (read_begin); such an update lends nothing, so
	 * that nothing lent waits on a renderer. */
	later = 0;
	for (uint32_t i = 0; g->rnd && g->rnd->later && g->rnd->ops->read_begin && i < g->num_scanouts; i++) {
		struct gpu_resource *r = g->scanout[i].dirty ? idmap_get(&g->res, g->scanout[i].resource_id) : NULL;

		later |= r && r->host_id;
	}
	/* Every due scanout's damage: straight from a host-memory resource's pixels where the display takes them as
	 * they are (lent: gpu_present_job), otherwise read back or converted into the vGPU's own buffer. */
	for (uint32_t i = 0; i < g->num_scanouts; i++) {
		struct gpu_scanout *s = &g->scanout[i];
		struct gpu_resource *r = s->dirty ? idmap_get(&g->res, s->resource_id) : NULL;

		if (r && (later || !direct_rows(r, &s->damage)))
			total += (uint64_t)s->damage.width * s->damage.height * 4;
	}
	if (total > p->cap) {
		uint8_t *b = realloc(p->buf, total);

		if (b) {
			p->buf = b;
			p->cap = total;
		} else {
			snprintf(g->st.last_error, sizeof(g->st.last_error),
				 "no memory for a %llu-byte display update: dropped", (unsigned long long)total);
		}
	}
	room = total <= p->cap;
	p->n = 0;
	p->nlent = 0;
	p->job.nmsg = 0;
	p->submitted = 0;
	total = 0;
	for (uint32_t i = 0; i < g->num_scanouts; i++) {
		struct gpu_scanout *s = &g->scanout[i];
		struct gpu_present_update *u = &p->u[p->n];
		struct gpu_resource *r;
		uint64_t bytes = (uint64_t)s->damage.width * s->damage.height * 4;

		if (!s->dirty)
			continue;
		s->dirty = 0;
		/* The scanout still shows the resource the damage was flushed on (set_scanout and unref clear it). */
		r = idmap_get(&g->res, s->resource_id);
		if (!r || g->disp.fd < 0)
			continue;
		*u = (struct gpu_present_update){ .bytes = bytes, .scanout = i, .damage = s->damage, .view = s->r };
		if (!later && direct_rows(r, &s->damage)) {
			u->pixels = r->pixels + (uint64_t)s->damage.y * r->width * 4;
			if (!r->lent) /* one entry a buffer (two scanouts may show one resource) */
				p->lent[p->nlent++] = (struct gpu_lent){ r->pixels, (uint64_t)r->width * r->height * 4,
									 r->guest_id, 0 };
			r->lent = 1;
		} else if (!room) {
			continue;
		} else if (later && r->host_id) {
			struct render_xfer x = { .box = { s->damage.x, s->damage.y, 0, s->damage.width, s->damage.height, 1 },
						 .stride = s->damage.width * 4 };
			int b = g->rnd->ops->read_begin(g->rnd, r->host_id, &x, p->buf + total, bytes, &u->rc);

			if (b > 0) /* not now (the worker is not ready, or has no room yet): at the next refresh */
				s->dirty = 1;
			if (b)
				continue;
			u->convert = r->format;
			p->reading++;
		} else if (flush_read(g, r, &s->damage, p->buf + total) < 0) {
			continue;
		}
		if (!u->pixels) {
			u->pixels = p->buf + total;
			total += bytes;
		}
		p->n++;
	}
	/* On the refresh's grid, the same for every vGPU: updates due together go out together. */
	g->present_next_ns = g->display_interval_ns ? (now / g->display_interval_ns + 1) * g->display_interval_ns : now;
	p->read_t0 = now;
	if (!p->reading)
		present_build(g);
	return UINT64_MAX;
}

void gpu_device_present_send(struct gpu_device *g)
{
	if (!g->present.n || g->present.submitted || g->present.reading)
		return;
	g->present.submitted = 1;
	dsend_submit(sender, &g->present.job);
}

int gpu_device_present_collect(struct gpu_device *g)
{
	struct gpu_present_job *p = &g->present;

	if (!p->n || !p->submitted || p->reading || dsend_busy(&p->job))
		return 0;
	for (unsigned k = 0; k < p->n; k++) {
		const struct gpu_present_update *u = &p->u[k];
		uint64_t ns = 0;

		if (u->first > p->job.sent) /* never tried: an earlier message failed */
			break;
		/* its messages taken, and the one that failed */
		for (unsigned m = u->first; m <= u->last && m <= p->job.sent && m < p->job.nmsg; m++)
			ns += p->job.msg[m].sent_ns;
		stage_record(&g->st.stage[STAGE_DISPLAY_SEND], ns);
		g->st.present_ns += ns;
		if (u->last < p->job.sent)
			gdisp_count_update(&g->disp, u->bytes);
	}
	p->n = 0;
	for (unsigned k = 0; k < p->nlent; k++) {
		struct gpu_lent *l = &p->lent[k];
		struct gpu_resource *r;

		if (l->orphan) { /* its resource moved on or went: the latest such buffer is the next one's spare */
			free(g->spare);
			g->spare = l->pixels;
			g->spare_len = l->bytes;
		} else if ((r = idmap_get(&g->res, l->res_id)) && r->pixels == l->pixels) {
			r->lent = 0;
		}
	}
	p->nlent = 0;
	/* The channel is the one the updates were readied for: nothing else touches it while they are in flight. */
	if (p->job.failed && g->disp.fd == p->job.fd) {
		gdisp_fail(&g->disp, p->job.why);
		return -1;
	}
	return 1;
}

uint64_t gpu_device_present(struct gpu_device *g, uint64_t now)
{
	uint64_t w = gpu_device_present_prepare(g, now);

	gpu_device_present_send(g);
	return w;
}

static uint32_t cmd_transfer_2d(struct cmd *c)
{
	struct virtio_gpu_transfer_to_host_2d m;
	struct gpu_resource *r;
	uint32_t e;
	uint64_t stride, last;

	memcpy(&m, c->buf, sizeof(m));
	if ((e = get_res(c, m.resource_id, &r)))
		return e;
	if (!r->backing)
		return fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "resource %u has no backing", m.resource_id);
	if ((e = check_rect(c, &m.r, r)))
		return e;
	if (!m.r.width || !m.r.height)
		return VIRTIO_GPU_RESP_OK_NODATA;
	stride = (uint64_t)r->width * 4;
	/* The rectangle's last byte in the backing; every term fits in 64 bits (sizes are capped). */
	if (m.offset > r->backing_len)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "offset %llu past the %llu-byte backing",
			    (unsigned long long)m.offset, (unsigned long long)r->backing_len);
	last = (uint64_t)(m.r.height - 1) * stride + (uint64_t)m.r.width * 4;
	if (last > r->backing_len - m.offset)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
			    "rect %ux%u at offset %llu runs past the %llu-byte backing", m.r.width, m.r.height,
			    (unsigned long long)m.offset, (unsigned long long)r->backing_len);
	if (r->host_id) {
		struct render_xfer x = { .box = { m.r.x, m.r.y, 0, m.r.width, m.r.height, 1 }, .offset = m.offset };
		uint64_t t0 = mono_ns();
		int e = c->g->rnd->ops->write(c->g->rnd, r->host_id, &x, NULL, 0);

		c->park = c->g->rnd->later;
		c->g->st.render_ns += mono_ns() - t0;
		if (e)
			return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "the renderer refused the transfer (%d)", e);
	} else if (pixels_own(c->g, r, m.r.y == 0 && m.r.height == r->height && m.r.width == r->width) < 0) {
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
			    "no memory for the %ux%u resource %u while it is sent", r->width, r->height, m.resource_id);
	} else if (m.r.x == 0 && m.r.width == r->width) {
		struct copy_run cr = { r, m.offset, r->pixels + (uint64_t)m.r.y * stride };

		copy_pool_run(pool, copy_run_part, &cr, last, COPY_PART);
	} else {
		struct copy_rows cr = { r, m.offset, stride, (uint64_t)m.r.width * 4,
					r->pixels + (uint64_t)m.r.y * stride + (uint64_t)m.r.x * 4 };

		copy_pool_run(pool, copy_rows_part, &cr, m.r.height, COPY_PART / cr.row_bytes + 1);
	}
	c->g->st.bytes_to_host += (uint64_t)m.r.width * m.r.height * 4;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_attach_backing(struct cmd *c)
{
	struct virtio_gpu_resource_attach_backing m;
	struct gpu_resource *r;
	uint32_t e;
	struct iovec *iov;
	uint64_t *at, *gpa, total = 0;
	uint32_t n = 0; /* entries kept: one that continues the previous in guest and host memory extends it */

	memcpy(&m, c->buf, sizeof(m));
	if ((e = get_res(c, m.resource_id, &r)))
		return e;
	if (r->backing)
		return fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "resource %u has a backing already", m.resource_id);
	if (!m.nr_entries || m.nr_entries > GPU_MAX_BACKING_ENTRIES)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "%u backing entries", m.nr_entries);
	if (c->req->in_len < sizeof(m) + (uint64_t)m.nr_entries * sizeof(struct virtio_gpu_mem_entry))
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "%u entries do not fit the %llu-byte request",
			    m.nr_entries, (unsigned long long)c->req->in_len);
	iov = calloc(m.nr_entries, sizeof(*iov));
	at = calloc(m.nr_entries, sizeof(*at));
	gpa = calloc(m.nr_entries, sizeof(*gpa));
	if (!iov || !at || !gpa) {
		free(iov);
		free(at);
		free(gpa);
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for %u entries", m.nr_entries);
	}
	for (uint32_t i = 0; i < m.nr_entries; i++) {
		struct virtio_gpu_mem_entry e;
		void *p;

		iov_read(c->req->in, c->req->nin, sizeof(m) + (uint64_t)i * sizeof(e), &e, sizeof(e));
		p = backing_at_addr(c->g, e.addr, e.length);
		if (!p) {
			free(iov);
			free(at);
			free(gpa);
			return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
				    "entry %u (%u bytes at 0x%llx) is not in guest RAM", i, e.length,
				    (unsigned long long)e.addr);
		}
		/* Guest pages that lie next to each other in guest and in host memory are one run: fewer, longer copies
		 * here and in the renderer (which copies a many-piece backing through a bounce buffer first). A run
		 * is one guest range, so it can be looked up again after a remap (gpu_device_mem_remapped). */
		if (n && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == (uint8_t *)p &&
		    gpa[n - 1] + iov[n - 1].iov_len == e.addr) {
			iov[n - 1].iov_len += e.length;
		} else {
			iov[n].iov_base = p;
			iov[n].iov_len = e.length;
			gpa[n] = e.addr;
			at[n++] = total;
		}
		total += e.length;
	}
	if (r->host_id && c->g->rnd->ops->attach(c->g->rnd, r->host_id, iov, (int)n) != 0) {
		free(iov);
		free(at);
		free(gpa);
		return fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "the renderer refused the backing of resource %u",
			    m.resource_id);
	}
	r->backing = iov;
	r->backing_at = at;
	r->backing_gpa = gpa;
	r->nbacking = (int)n;
	r->backing_len = total;
	c->g->backing_bytes += total;
	c->g->backing_table_bytes += (uint64_t)n * BACKING_ENTRY_BYTES;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_detach_backing(struct cmd *c)
{
	struct virtio_gpu_resource_detach_backing m;
	struct gpu_resource *r;
	uint32_t e;

	memcpy(&m, c->buf, sizeof(m));
	if ((e = get_res(c, m.resource_id, &r)))
		return e;
	if (!r->backing)
		return fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "resource %u has no backing", m.resource_id);
	backing_drop(c->g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_edid(struct cmd *c)
{
	struct virtio_gpu_cmd_get_edid m;

	memcpy(&m, c->buf, sizeof(m));
	if (m.scanout >= c->g->num_scanouts)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "scanout %u of %u", m.scanout, c->g->num_scanouts);
	if (gdisp_get_edid(gpu_device_display(c->g), m.scanout, &c->resp.edid) < 0)
		return fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "the front-end gave no EDID for scanout %u", m.scanout);
	c->resp_len = sizeof(c->resp.edid);
	return VIRTIO_GPU_RESP_OK_EDID;
}

/* ---- 3D ---- */

static int need_virgl(struct cmd *c, uint32_t *e)
{
	if (c->g->virgl)
		return 0;
	*e = fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "3D command without virgl");
	return -1;
}

static int ctx_host(struct cmd *c, uint32_t guest_ctx, uint32_t *host, uint32_t *e)
{
	void *v = idmap_get(&c->g->ctx, guest_ctx);

	if (!v) {
		*e = fail(c, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "no context %u", guest_ctx);
		return -1;
	}
	*host = (uint32_t)(uintptr_t)v;
	return 0;
}

static uint32_t cmd_capset_info(struct cmd *c)
{
	struct virtio_gpu_resp_capset_info *out = &c->resp.ci;
	struct virtio_gpu_get_capset_info m;

	memcpy(&m, c->buf, sizeof(m));
	memset(out, 0, sizeof(*out));
	if (!c->g->virgl || c->g->rnd->ops->capset(c->g->rnd, m.capset_index, &out->capset_id,
						   &out->capset_max_version, &out->capset_max_size) < 0)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "no capset %u", m.capset_index);
	c->resp_len = sizeof(*out);
	return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

/* GET_CAPSET answers with a variable-size payload: it writes its reply itself (c->written). */
static uint32_t cmd_capset(struct cmd *c)
{
	struct virtio_gpu_get_capset m;
	struct virtio_gpu_ctrl_hdr h = { .type = VIRTIO_GPU_RESP_OK_CAPSET };
	uint32_t id = 0, ver = 0, size = 0;
	uint8_t *buf;

	memcpy(&m, c->buf, sizeof(m));
	for (uint32_t i = 0; c->g->virgl; i++) {
		uint32_t v, sz;

		if (c->g->rnd->ops->capset(c->g->rnd, i, &id, &v, &sz) < 0)
			break;
		if (id == m.capset_id) {
			ver = v;
			size = sz;
			break;
		}
	}
	if (!size || m.capset_version > ver)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "no capset %u version %u", m.capset_id,
			    m.capset_version);
	if (c->req->out_len < sizeof(h) + (uint64_t)size)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "capset %u needs %u bytes, the reply has %llu",
			    m.capset_id, size, (unsigned long long)c->req->out_len);
	buf = calloc(1, sizeof(h) + size);
	if (!buf)
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory");
	memcpy(buf, &h, sizeof(h));
	c->g->rnd->ops->fill_caps(c->g->rnd, m.capset_id, m.capset_version, buf + sizeof(h));
	c->written = (uint32_t)iov_write(c->req->out, c->req->nout, buf, sizeof(h) + size);
	free(buf);
	return h.type;
}

static uint32_t cmd_ctx_create(struct cmd *c)
{
	struct virtio_gpu_ctx_create m;
	uint32_t host, e;

	memcpy(&m, c->buf, sizeof(m));
	if (need_virgl(c, &e))
		return e;
	if (m.hdr.ctx_id == 0 || m.hdr.ctx_id == UINT32_MAX || idmap_get(&c->g->ctx, m.hdr.ctx_id))
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "context %u is taken or reserved", m.hdr.ctx_id);
	if (m.nlen > sizeof(m.debug_name))
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "name of %u bytes", m.nlen);
	if (m.context_init & 0xff)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "capset %u contexts are not offered",
			    m.context_init & 0xff);
	if (c->g->ctx.live >= GPU_MAX_CONTEXTS)
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "the vGPU holds %d contexts already", GPU_MAX_CONTEXTS);
	host = renderer_new_ctx_id(c->g->rnd);
	if (c->g->rnd->ops->ctx_create(c->g->rnd, host, m.nlen, m.debug_name) != 0)
		return fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "the renderer refused context %u", m.hdr.ctx_id);
	if (idmap_put(&c->g->ctx, m.hdr.ctx_id, (void *)(uintptr_t)host) < 0) {
		c->g->rnd->ops->ctx_destroy(c->g->rnd, host);
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for the context table");
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Context ctx attached to (on) or detached from (!on) r, a 2D resource in host memory. 0, or -1: no memory. */
static int ctx_list_set(struct gpu_resource *r, uint32_t ctx, int on)
{
	unsigned i = 0;

	while (i < r->nctxs && r->ctxs[i] != ctx)
		i++;
	if (!on) {
		if (i < r->nctxs)
			r->ctxs[i] = r->ctxs[--r->nctxs];
		return 0;
	}
	if (i < r->nctxs)
		return 0;
	if (r->nctxs == r->cap_ctxs) {
		unsigned cap = r->cap_ctxs ? 2 * r->cap_ctxs : 2;
		uint32_t *n = realloc(r->ctxs, cap * sizeof(*n));

		if (!n)
			return -1;
		r->ctxs = n;
		r->cap_ctxs = cap;
	}
	r->ctxs[r->nctxs++] = ctx;
	return 0;
}

static uint32_t cmd_ctx_destroy(struct cmd *c)
{
	uint32_t host, e;

	if (need_virgl(c, &e) || ctx_host(c, c->hdr.ctx_id, &host, &e))
		return e;
	idmap_del(&c->g->ctx, c->hdr.ctx_id);
	c->g->rnd->ops->ctx_destroy(c->g->rnd, host);
	{
		size_t pos = 0;
		struct gpu_resource *r;

		while ((r = idmap_next(&c->g->res, &pos, NULL)))
			if (r->nctxs)
				ctx_list_set(r, c->hdr.ctx_id, 0);
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_ctx_resource(struct cmd *c)
{
	struct virtio_gpu_ctx_resource m;
	struct gpu_resource *r;
	uint32_t host, e;

	memcpy(&m, c->buf, sizeof(m));
	if (need_virgl(c, &e) || ctx_host(c, m.hdr.ctx_id, &host, &e))
		return e;
	r = find_res(c, m.resource_id);
	if (!r)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "no resource %u", m.resource_id);
	if (!r->host_id) /* in host memory: attached in the renderer if it moves there */
		return ctx_list_set(r, m.hdr.ctx_id, c->cls == GC_CTX_ATTACH_RESOURCE)
			       ? fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory to attach resource %u",
				      m.resource_id)
			       : VIRTIO_GPU_RESP_OK_NODATA;
	c->g->rnd->ops->ctx_resource(c->g->rnd, host, r->host_id, c->cls == GC_CTX_ATTACH_RESOURCE);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_create_3d(struct cmd *c)
{
	struct virtio_gpu_resource_create_3d m;
	struct gpu_resource *r = NULL;
	uint32_t e;

	memcpy(&m, c->buf, sizeof(m));
	if (need_virgl(c, &e))
		return e;
	/* The renderer checks targets, formats and binds; the sizes are bounded here first. */
	if (m.target > 8 || !m.width || !m.height || !m.depth || !m.array_size ||
	    (m.target == 0 ? m.width > (256u << 20) : m.width > GPU_MAX_DIM) || m.height > GPU_MAX_DIM ||
	    m.depth > 2048 || m.array_size > 2048 || m.last_level > 15 || m.nr_samples > 32)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
			    "target %u %ux%ux%u array %u levels %u samples %u", m.target, m.width, m.height, m.depth,
			    m.array_size, m.last_level, m.nr_samples);
	if ((e = check_size(c, m.resource_id, gpu_resource_3d_bytes(&m))) || (e = new_resource(c, m.resource_id, &r)))
		return e;
	{
		struct render_res a = {
			.target = m.target, .format = m.format, .bind = m.bind, .width = m.width, .height = m.height,
			.depth = m.depth, .array_size = m.array_size, .last_level = m.last_level,
			.nr_samples = m.nr_samples, .flags = m.flags,
		};
		uint32_t id = renderer_new_res_id(c->g->rnd);
		uint64_t t0 = mono_ns();
		int rc = c->g->rnd->ops->res_create(c->g->rnd, id, &a);

		c->g->st.render_ns += mono_ns() - t0;
		if (rc != 0) {
			free(r);
			return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "the renderer refused resource %u (%d)",
				    m.resource_id, rc);
		}
		r->host_id = id;
	}
	r->format = m.format;
	r->width = m.width;
	r->height = m.height;
	r->charged = gpu_resource_3d_bytes(&m);
	c->g->charged += r->charged;
	if (idmap_put(&c->g->res, r->guest_id, r) < 0) {
		resource_destroy(c->g, r);
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for the resource table");
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_transfer_3d(struct cmd *c)
{
	int to_host = c->cls == GC_TRANSFER_TO_HOST_3D;
	struct virtio_gpu_transfer_host_3d m;
	struct gpu_resource *r;
	struct render_xfer x;
	uint32_t host = 0, e;
	uint64_t t0;
	int rc;

	memcpy(&m, c->buf, sizeof(m));
	if (need_virgl(c, &e))
		return e;
	if (m.hdr.ctx_id && ctx_host(c, m.hdr.ctx_id, &host, &e))
		return e;
	r = find_res(c, m.resource_id);
	if (!r)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "no resource %u", m.resource_id);
	if (resource_to_renderer(c->g, r) < 0)
		return fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "resource %u cannot move into the renderer", m.resource_id);
	if (!r->backing)
		return fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "resource %u has no backing", m.resource_id);
	if (m.offset > r->backing_len)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "offset %llu past the %llu-byte backing",
			    (unsigned long long)m.offset, (unsigned long long)r->backing_len);
	x = (struct render_xfer){ .ctx = host, .level = m.level, .stride = m.stride, .layer_stride = m.layer_stride,
				  .box = { m.box.x, m.box.y, m.box.z, m.box.w, m.box.h, m.box.d }, .offset = m.offset };
	t0 = mono_ns();
	/* The renderer checks the box against the resource and the backing it holds. */
	if (to_host)
		rc = c->g->rnd->ops->write(c->g->rnd, r->host_id, &x, NULL, 0);
	else
		rc = c->g->rnd->ops->read(c->g->rnd, r->host_id, &x, NULL, 0);
	c->park = c->g->rnd->later;
	c->g->st.render_ns += mono_ns() - t0;
	if (rc)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "the renderer refused the transfer (%d)", rc);
	{
		uint64_t bytes = (uint64_t)m.box.w * m.box.h * m.box.d * 4;

		if (to_host)
			c->g->st.bytes_to_host += bytes;
		else
			c->g->st.bytes_from_host += bytes;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_submit(struct cmd *c)
{
	struct virtio_gpu_cmd_submit m;
	uint32_t host, e;
	uint32_t *dw;
	char why[192];
	uint64_t t0;
	int rc;

	memcpy(&m, c->buf, sizeof(m));
	if (need_virgl(c, &e) || ctx_host(c, m.hdr.ctx_id, &host, &e))
		return e;
	if (m.size % 4 || m.size > GPU_MAX_SUBMIT || c->req->in_len - sizeof(m) < m.size)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "command stream of %u bytes in a %llu-byte request",
			    m.size, (unsigned long long)c->req->in_len);
	if (!m.size)
		return VIRTIO_GPU_RESP_OK_NODATA;
	dw = malloc(m.size);
	if (!dw)
		return fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for %u bytes", m.size);
	iov_read(c->req->in, c->req->nin, sizeof(m), dw, m.size);
	if (vscan_translate(dw, m.size / 4, lookup_host_res, c->g, why, sizeof(why)) < 0) {
		free(dw);
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "submit refused: %s", why);
	}
	t0 = mono_ns();
	rc = c->g->rnd->ops->submit(c->g->rnd, host, dw, m.size / 4);
	c->g->st.render_ns += mono_ns() - t0;
	free(dw);
	c->g->st.bytes_to_host += m.size;
	if (rc)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "the renderer refused the command stream (%d)", rc);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- cursor queue ---- */

static uint32_t cmd_cursor(struct cmd *c)
{
	struct virtio_gpu_update_cursor m;
	struct gpu_resource *r;
	uint32_t shape[64 * 64];

	memcpy(&m, c->buf, sizeof(m));
	if (m.pos.scanout_id >= c->g->num_scanouts)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "cursor on scanout %u", m.pos.scanout_id);
	if (c->cls == GC_MOVE_CURSOR || m.resource_id == 0) {
		/* a move, or (resource 0) hiding the cursor */
		gdisp_cursor(gpu_device_display(c->g), m.pos.scanout_id, m.pos.x, m.pos.y, 0, 0, NULL,
			     c->cls == GC_MOVE_CURSOR);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	r = find_res(c, m.resource_id);
	if (!r || r->width != 64 || r->height != 64)
		return fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "cursor resource %u is not a 64x64 resource",
			    m.resource_id);
	if (r->host_id) {
		uint32_t w = 0, h = 0;
		void *data = c->g->rnd->ops->cursor(c->g->rnd, r->host_id, &w, &h);

		if (!data || w != 64 || h != 64) {
			free(data);
			return fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "no cursor image from resource %u", m.resource_id);
		}
		memcpy(shape, data, sizeof(shape));
		free(data);
	} else {
		memcpy(shape, r->pixels, sizeof(shape));
	}
	gdisp_cursor(gpu_device_display(c->g), m.pos.scanout_id, m.pos.x, m.pos.y, m.hot_x, m.hot_y, shape, 1);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- dispatch ---- */

struct cmd_desc {
	uint32_t type;
	enum gpu_cmd_class cls;
	size_t size; /* the fixed part the request must hold */
	uint32_t (*serve)(struct cmd *c); /* returns the response type */
};

static const struct cmd_desc descs[] = {
	{ VIRTIO_GPU_CMD_GET_DISPLAY_INFO, GC_DISPLAY_INFO, sizeof(struct virtio_gpu_ctrl_hdr), cmd_display_info },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, GC_RESOURCE_CREATE_2D, sizeof(struct virtio_gpu_resource_create_2d),
	  cmd_create_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_UNREF, GC_RESOURCE_UNREF, sizeof(struct virtio_gpu_resource_unref), cmd_unref },
	{ VIRTIO_GPU_CMD_SET_SCANOUT, GC_SET_SCANOUT, sizeof(struct virtio_gpu_set_scanout), cmd_set_scanout },
	{ VIRTIO_GPU_CMD_RESOURCE_FLUSH, GC_RESOURCE_FLUSH, sizeof(struct virtio_gpu_resource_flush), cmd_flush },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, GC_TRANSFER_TO_HOST_2D, sizeof(struct virtio_gpu_transfer_to_host_2d),
	  cmd_transfer_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, GC_ATTACH_BACKING,
	  sizeof(struct virtio_gpu_resource_attach_backing), cmd_attach_backing },
	{ VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, GC_DETACH_BACKING,
	  sizeof(struct virtio_gpu_resource_detach_backing), cmd_detach_backing },
	{ VIRTIO_GPU_CMD_GET_CAPSET_INFO, GC_GET_CAPSET_INFO, sizeof(struct virtio_gpu_get_capset_info),
	  cmd_capset_info },
	{ VIRTIO_GPU_CMD_GET_CAPSET, GC_GET_CAPSET, sizeof(struct virtio_gpu_get_capset), cmd_capset },
	{ VIRTIO_GPU_CMD_GET_EDID, GC_GET_EDID, sizeof(struct virtio_gpu_cmd_get_edid), cmd_edid },
	{ VIRTIO_GPU_CMD_CTX_CREATE, GC_CTX_CREATE, sizeof(struct virtio_gpu_ctx_create), cmd_ctx_create },
	{ VIRTIO_GPU_CMD_CTX_DESTROY, GC_CTX_DESTROY, sizeof(struct virtio_gpu_ctrl_hdr), cmd_ctx_destroy },
	{ VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, GC_CTX_ATTACH_RESOURCE, sizeof(struct virtio_gpu_ctx_resource),
	  cmd_ctx_resource },
	{ VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, GC_CTX_DETACH_RESOURCE, sizeof(struct virtio_gpu_ctx_resource),
	  cmd_ctx_resource },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, GC_RESOURCE_CREATE_3D, sizeof(struct virtio_gpu_resource_create_3d),
	  cmd_create_3d },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, GC_TRANSFER_TO_HOST_3D, sizeof(struct virtio_gpu_transfer_host_3d),
	  cmd_transfer_3d },
	{ VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, GC_TRANSFER_FROM_HOST_3D, sizeof(struct virtio_gpu_transfer_host_3d),
	  cmd_transfer_3d },
	{ VIRTIO_GPU_CMD_SUBMIT_3D, GC_SUBMIT_3D, sizeof(struct virtio_gpu_cmd_submit), cmd_submit },
	{ VIRTIO_GPU_CMD_UPDATE_CURSOR, GC_UPDATE_CURSOR, sizeof(struct virtio_gpu_update_cursor), cmd_cursor },
	{ VIRTIO_GPU_CMD_MOVE_CURSOR, GC_MOVE_CURSOR, sizeof(struct virtio_gpu_update_cursor), cmd_cursor },
};

static int defer(struct gpu_device *g, uint32_t host_fence, uint16_t head, uint32_t written)
{
	if (g->npending == g->cap_pending) {
		unsigned cap = g->cap_pending ? g->cap_pending * 2 : 64;
		struct gpu_pending *p = realloc(g->pending, cap * sizeof(*p));

		if (!p)
			return -1;
		g->pending = p;
		g->cap_pending = cap;
	}
	g->pending[g->npending++] = (struct gpu_pending){ host_fence, head, written, g->vdev ? g->vdev->gen : 0,
							 mono_ns() };
	g->st.fences++;
	return 0;
}

int gpu_device_renderer_busy(const struct gpu_device *g)
{
	return g->rnd && g->rnd->later && (renderer_fences_pending(g->rnd) || g->rnd->reading);
}

/* Would serving c make a call whose answer it needs (a cursor image, a capset's data) while the vGPU's renderer is
 * a worker with work of this vGPU's still to do? The worker serves in order: the call would wait behind that work,
 * and the mediator's loop, every vGPU's, with it. A VM's request is then put back (VDEV_RETRY) and served once the
 * work is done (a vtest client's waits are bounded by its own hold, vtest_dev.h). */
static int waits_behind_work(struct cmd *c)
{
	struct gpu_device *g = c->g;
	struct virtio_gpu_update_cursor m;
	struct gpu_resource *r;

	if (!g->vdev || !g->virgl || !gpu_device_renderer_busy(g))
		return 0;
	if (c->cls == GC_GET_CAPSET)
		return 1;
	if (c->cls != GC_UPDATE_CURSOR)
		return 0;
	memcpy(&m, c->buf, sizeof(m));
	return m.resource_id && (r = find_res(c, m.resource_id)) && r->host_id;
}

static uint32_t handle(struct gpu_device *g, unsigned qi, struct vring_req *req)
{
	struct cmd c = { .g = g, .req = req, .resp_len = sizeof(struct virtio_gpu_ctrl_hdr) };
	const struct cmd_desc *d = NULL;
	uint32_t type, written;

	g->virgl = g->rnd &&
		   (g->mem_at || (g->vdev && (g->vdev->features & (1ull << VIRTIO_GPU_F_VIRGL))));
	if (iov_read(req->in, req->nin, 0, &c.hdr, sizeof(c.hdr)) != sizeof(c.hdr)) {
		g->st.cmds[GC_UNKNOWN]++;
		type = fail(&c, VIRTIO_GPU_RESP_ERR_UNSPEC, "request of %llu bytes has no header",
			    (unsigned long long)req->in_len);
		goto respond;
	}
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++)
		if (descs[i].type == c.hdr.type)
			d = &descs[i];
	/* Cursor commands belong on the cursor queue, everything else on the control queue. */
	if (d && (qi == GPU_CURSORQ) != (d->cls == GC_UPDATE_CURSOR || d->cls == GC_MOVE_CURSOR))
		d = NULL;
	if (!d) {
		g->st.cmds[GC_UNKNOWN]++;
		type = fail(&c, VIRTIO_GPU_RESP_ERR_UNSPEC, "unknown command on queue %u", qi);
		goto respond;
	}
	c.cls = d->cls;
	g->st.cmds[d->cls]++;
	if (take(&c, d->size) < 0) {
		type = fail(&c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "request of %llu bytes, needs %zu",
			    (unsigned long long)req->in_len, d->size);
		goto respond;
	}
	if (waits_behind_work(&c)) {
		g->st.cmds[d->cls]--; /* counted when it is served */
		g->put_back++;
		return VDEV_RETRY;
	}
	if (g->virgl && d->cls != GC_SUBMIT_3D)
		renderer_quiesce(g->rnd); /* not in another client's GL context (render/virgl.c) */
	type = d->serve(&c);
	if (qi == GPU_CURSORQ)
		return 0; /* the cursor queue carries no responses */
	if (c.written)
		return c.written;
respond:
	c.resp.hdr.type = type;
	if (c.hdr.flags & VIRTIO_GPU_FLAG_FENCE) {
		c.resp.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
		c.resp.hdr.fence_id = c.hdr.fence_id;
		c.resp.hdr.ctx_id = c.hdr.ctx_id;
		c.resp.hdr.ring_idx = c.hdr.ring_idx;
	}
	written = (uint32_t)iov_write(req->out, req->nout, &c.resp, c.resp_len);
	/* A fenced command under virgl completes once the renderer has executed everything before it; so does a
	 * transfer the renderer carries out later, fenced or not (the guest may reuse its backing once answered). */
	if ((((c.hdr.flags & VIRTIO_GPU_FLAG_FENCE) && g->virgl) || c.park) && type < VIRTIO_GPU_RESP_ERR_UNSPEC) {
		void *hc = idmap_get(&g->ctx, c.hdr.ctx_id);
		uint32_t f = renderer_fence(g->rnd, hc ? (uint32_t)(uintptr_t)hc : 0);

		if (defer(g, f, req->head, written) == 0)
			return VDEV_DEFERRED;
	}
	return written;
}

/* One command, its time split into stages: renderer calls, display updates sent before its answer (--display-fps
 * 0), and the rest (the check). */
uint32_t gpu_device_handle(void *opaque, unsigned qi, struct vring_req *req)
{
	struct gpu_device *g = opaque;
	uint64_t t0 = mono_ns(), render = g->st.render_ns, shown = g->st.present_ns, spent;
	uint32_t r = handle(g, qi, req);

	spent = mono_ns() - t0;
	render = g->st.render_ns - render;
	shown = g->st.present_ns - shown;
	if (render)
		stage_record(&g->st.stage[STAGE_RENDER], render);
	stage_record(&g->st.stage[STAGE_CHECK], spent > render + shown ? spent - render - shown : 0);
	return r;
}

void gpu_device_fences_done(struct gpu_device *g, uint32_t host_fence)
{
	unsigned n = 0;
	uint64_t t = mono_ns();

	while (n < g->npending && (int32_t)(host_fence - g->pending[n].host_fence) >= 0) {
		struct gpu_pending *p = &g->pending[n];
		uint64_t lat = t - p->t0_ns;

		g->st.fence_ns_sum += lat;
		stage_record(&g->st.stage[STAGE_FENCE], lat);
		if (lat > g->st.fence_ns_max)
			g->st.fence_ns_max = lat;
		if (g->vdev)
			vdev_complete(g->vdev, GPU_CTRLQ, p->head, p->written, p->gen);
		n++;
	}
	if (n) {
		memmove(g->pending, g->pending + n, (g->npending - n) * sizeof(*g->pending));
		g->npending -= n;
	}
}
