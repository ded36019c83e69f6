/* gpu_resource.c: a vGPU's resources: formats and their conversion, backing pages, host-memory pixels and
 * their loans to an update in flight, sizes charged to the vGPU, a 2D resource moved to the renderer. */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/gpu_int.h"
#include "display/copy_pool.h"
#include "mono_clock.h"
#include "render/renderer.h"

/* ---- resources ---- */

int gd_format_known(uint32_t f)
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
int gd_is_bgrx(uint32_t f)
{
	return f == VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM || f == VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
}

/* A row of w pixels of format f (bytes low address first) as x8r8g8b8: bytes B, G, R, then the source's
 * alpha or padding byte, which x8r8g8b8 ignores. src may equal dst. */
void gd_convert_row(uint32_t f, const uint8_t *src, uint8_t *dst, uint32_t w)
{
	if (gd_is_bgrx(f)) {
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

/* Forget a backing the renderer no longer holds. */
void gd_backing_free(struct gpu_device *g, struct gpu_resource *r)
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
void gd_backing_detach(struct gpu_device *g, struct gpu_resource *r)
{
	if (r->host_id && r->backing)
		g->rnd->ops->detach(g->rnd, r->host_id);
}

void gd_backing_drop(struct gpu_device *g, struct gpu_resource *r)
{
	gd_backing_detach(g, r);
	gd_backing_free(g, r);
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
int gd_pixels_own(struct gpu_device *g, struct gpu_resource *r, int whole)
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

		copy_pool_run(gpu_device_copy_pool(), gd_copy_flat_part, &cf, bytes, COPY_PART);
	}
	pixels_release(g, r);
	r->pixels = nb;
	return 0;
}

void gd_resource_destroy(struct gpu_device *g, struct gpu_resource *r)
{
	g->charged -= r->charged;
	gd_backing_drop(g, r);
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
void *gd_backing_at_addr(const struct gpu_device *g, uint64_t addr, uint64_t len)
{
	if (!len)
		return NULL;
	if (g->mem_at)
		return g->mem_at(g->mem_ctx, addr, len);
	return g->vdev ? guest_mem_gpa(&g->vdev->mem, addr, len) : NULL;
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
uint32_t gd_check_size(struct cmd *c, uint32_t id, uint64_t bytes)
{
	const struct gpu_device *g = c->g;

	if (!g->size_bytes || (g->charged <= g->size_bytes && bytes <= g->size_bytes - g->charged))
		return 0;
	return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
		       "resource %u of %llu KiB would pass the vGPU's size of %llu MiB (%llu KiB held)", id,
		       (unsigned long long)(bytes >> 10), (unsigned long long)(g->size_bytes >> 20),
		       (unsigned long long)(g->charged >> 10));
}

uint32_t gd_new_resource(struct cmd *c, uint32_t id, struct gpu_resource **out)
{
	struct gpu_resource *r;

	if (id == 0 || id == UINT32_MAX)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "resource id %u is reserved", id);
	if (gd_find_res(c, id))
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "resource %u exists", id);
	if (c->g->res.live >= GPU_MAX_RESOURCES)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "the vGPU holds %d resources already",
			       GPU_MAX_RESOURCES);
	r = calloc(1, sizeof(*r));
	if (!r)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory");
	r->guest_id = id;
	*out = r;
	return 0;
}

/* The renderer's resource for 2D resource r: a 2D texture the guest's contexts may also render to. 0, or -1. */
int gd_renderer_2d_create(struct gpu_device *g, const struct gpu_resource *r, uint32_t *handle)
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
int gd_resource_to_renderer(struct gpu_device *g, struct gpu_resource *r)
{
	uint64_t bytes = (uint64_t)r->width * r->height * 4;
	struct render_xfer x = { .box = { 0, 0, 0, r->width, r->height, 1 }, .stride = r->width * 4 };
	struct iovec iov = { r->pixels, bytes };
	uint32_t handle;
	uint64_t t0 = mono_ns();
	int e;

	if (r->host_id)
		return 0;
	if (!g->virgl || !r->pixels || gd_renderer_2d_create(g, r, &handle) < 0)
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
uint32_t gd_lookup_host_res(void *opaque, uint32_t guest_id)
{
	struct gpu_device *g = opaque;
	struct gpu_resource *r = idmap_get(&g->res, guest_id);

	return r && gd_resource_to_renderer(g, r) == 0 ? r->host_id : 0;
}
