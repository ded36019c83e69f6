/* gpu_3d.c: the 3D commands (virtio 1.2 §5.7.6.8, VIRTIO_GPU_F_VIRGL): capsets, contexts and their resources,
 * 3D resources, transfers and submits (each stream checked by virgl_scan), and the cursor queue. */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/gpu_int.h"
#include "device/virgl_scan.h"
#include "mono_clock.h"
#include "render/renderer.h"

/* ---- 3D ---- */

static int need_virgl(struct cmd *c, uint32_t *e)
{
	if (c->g->virgl)
		return 0;
	*e = gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "3D command without virgl");
	return -1;
}

static int ctx_host(struct cmd *c, uint32_t guest_ctx, uint32_t *host, uint32_t *e)
{
	void *v = idmap_get(&c->g->ctx, guest_ctx);

	if (!v) {
		*e = gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "no context %u", guest_ctx);
		return -1;
	}
	*host = (uint32_t)(uintptr_t)v;
	return 0;
}

uint32_t gd_cmd_capset_info(struct cmd *c)
{
	struct virtio_gpu_resp_capset_info *out = &c->resp.ci;
	struct virtio_gpu_get_capset_info m;

	memcpy(&m, c->buf, sizeof(m));
	memset(out, 0, sizeof(*out));
	if (!c->g->virgl || c->g->rnd->ops->capset(c->g->rnd, m.capset_index, &out->capset_id,
						   &out->capset_max_version, &out->capset_max_size) < 0)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "no capset %u", m.capset_index);
	c->resp_len = sizeof(*out);
	return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

/* GET_CAPSET answers with a variable-size payload: it writes its reply itself (c->written). */
uint32_t gd_cmd_capset(struct cmd *c)
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
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "no capset %u version %u", m.capset_id,
			       m.capset_version);
	if (c->req->out_len < sizeof(h) + (uint64_t)size)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "capset %u needs %u bytes, the reply has %llu",
			       m.capset_id, size, (unsigned long long)c->req->out_len);
	buf = calloc(1, sizeof(h) + size);
	if (!buf)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory");
	memcpy(buf, &h, sizeof(h));
	c->g->rnd->ops->fill_caps(c->g->rnd, m.capset_id, m.capset_version, buf + sizeof(h));
	c->written = (uint32_t)gd_iov_write(c->req->out, c->req->nout, buf, sizeof(h) + size);
	free(buf);
	return h.type;
}

uint32_t gd_cmd_ctx_create(struct cmd *c)
{
	struct virtio_gpu_ctx_create m;
	uint32_t host, e;

	memcpy(&m, c->buf, sizeof(m));
	if (need_virgl(c, &e))
		return e;
	if (m.hdr.ctx_id == 0 || m.hdr.ctx_id == UINT32_MAX || idmap_get(&c->g->ctx, m.hdr.ctx_id))
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "context %u is taken or reserved",
			       m.hdr.ctx_id);
	if (m.nlen > sizeof(m.debug_name))
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "name of %u bytes", m.nlen);
	if (m.context_init & 0xff)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "capset %u contexts are not offered",
			       m.context_init & 0xff);
	if (c->g->ctx.live >= GPU_MAX_CONTEXTS)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "the vGPU holds %d contexts already",
			       GPU_MAX_CONTEXTS);
	host = renderer_new_ctx_id(c->g->rnd);
	if (c->g->rnd->ops->ctx_create(c->g->rnd, host, m.nlen, m.debug_name) != 0)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "the renderer refused context %u", m.hdr.ctx_id);
	if (idmap_put(&c->g->ctx, m.hdr.ctx_id, (void *)(uintptr_t)host) < 0) {
		c->g->rnd->ops->ctx_destroy(c->g->rnd, host);
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for the context table");
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

uint32_t gd_cmd_ctx_destroy(struct cmd *c)
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

uint32_t gd_cmd_ctx_resource(struct cmd *c)
{
	struct virtio_gpu_ctx_resource m;
	struct gpu_resource *r;
	uint32_t host, e;

	memcpy(&m, c->buf, sizeof(m));
	if (need_virgl(c, &e) || ctx_host(c, m.hdr.ctx_id, &host, &e))
		return e;
	r = gd_find_res(c, m.resource_id);
	if (!r)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "no resource %u", m.resource_id);
	if (!r->host_id) /* in host memory: attached in the renderer if it moves there */
		return ctx_list_set(r, m.hdr.ctx_id, c->cls == GC_CTX_ATTACH_RESOURCE)
			       ? gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory to attach resource %u",
					 m.resource_id)
			       : VIRTIO_GPU_RESP_OK_NODATA;
	c->g->rnd->ops->ctx_resource(c->g->rnd, host, r->host_id, c->cls == GC_CTX_ATTACH_RESOURCE);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gd_cmd_create_3d(struct cmd *c)
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
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
			       "target %u %ux%ux%u array %u levels %u samples %u", m.target, m.width, m.height, m.depth,
			       m.array_size, m.last_level, m.nr_samples);
	if ((e = gd_check_size(c, m.resource_id, gpu_resource_3d_bytes(&m))) ||
	    (e = gd_new_resource(c, m.resource_id, &r)))
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
			return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
				       "the renderer refused resource %u (%d)", m.resource_id, rc);
		}
		r->host_id = id;
	}
	r->format = m.format;
	r->width = m.width;
	r->height = m.height;
	r->charged = gpu_resource_3d_bytes(&m);
	c->g->charged += r->charged;
	if (idmap_put(&c->g->res, r->guest_id, r) < 0) {
		gd_resource_destroy(c->g, r);
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for the resource table");
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gd_cmd_transfer_3d(struct cmd *c)
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
	r = gd_find_res(c, m.resource_id);
	if (!r)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "no resource %u", m.resource_id);
	if (gd_resource_to_renderer(c->g, r) < 0)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "resource %u cannot move into the renderer",
			       m.resource_id);
	if (!r->backing)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "resource %u has no backing", m.resource_id);
	if (m.offset > r->backing_len)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "offset %llu past the %llu-byte backing",
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
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "the renderer refused the transfer (%d)", rc);
	{
		uint64_t bytes = (uint64_t)m.box.w * m.box.h * m.box.d * 4;

		if (to_host)
			c->g->st.bytes_to_host += bytes;
		else
			c->g->st.bytes_from_host += bytes;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gd_cmd_submit(struct cmd *c)
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
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
			       "command stream of %u bytes in a %llu-byte request", m.size,
			       (unsigned long long)c->req->in_len);
	if (!m.size)
		return VIRTIO_GPU_RESP_OK_NODATA;
	dw = malloc(m.size);
	if (!dw)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "no memory for %u bytes", m.size);
	gd_iov_read(c->req->in, c->req->nin, sizeof(m), dw, m.size);
	if (vscan_translate(dw, m.size / 4, gd_lookup_host_res, c->g, why, sizeof(why)) < 0) {
		free(dw);
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "submit refused: %s", why);
	}
	t0 = mono_ns();
	rc = c->g->rnd->ops->submit(c->g->rnd, host, dw, m.size / 4);
	c->g->st.render_ns += mono_ns() - t0;
	free(dw);
	c->g->st.bytes_to_host += m.size;
	if (rc)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "the renderer refused the command stream (%d)",
			       rc);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- cursor queue ---- */

uint32_t gd_cmd_cursor(struct cmd *c)
{
	struct virtio_gpu_update_cursor m;
	struct gpu_resource *r;
	uint32_t shape[64 * 64];

	memcpy(&m, c->buf, sizeof(m));
	if (m.pos.scanout_id >= c->g->num_scanouts)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "cursor on scanout %u", m.pos.scanout_id);
	if (c->cls == GC_MOVE_CURSOR || m.resource_id == 0) {
		/* a move, or (resource 0) hiding the cursor */
		gdisp_cursor(gpu_device_display(c->g), m.pos.scanout_id, m.pos.x, m.pos.y, 0, 0, NULL,
			     c->cls == GC_MOVE_CURSOR);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	r = gd_find_res(c, m.resource_id);
	if (!r || r->width != 64 || r->height != 64)
		return gd_fail(c, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "cursor resource %u is not a 64x64 resource",
			       m.resource_id);
	if (r->host_id) {
		uint32_t w = 0, h = 0;
		void *data = c->g->rnd->ops->cursor(c->g->rnd, r->host_id, &w, &h);

		if (!data || w != 64 || h != 64) {
			free(data);
			return gd_fail(c, VIRTIO_GPU_RESP_ERR_UNSPEC, "no cursor image from resource %u",
				       m.resource_id);
		}
		memcpy(shape, data, sizeof(shape));
		free(data);
	} else {
		memcpy(shape, r->pixels, sizeof(shape));
	}
	gdisp_cursor(gpu_device_display(c->g), m.pos.scanout_id, m.pos.x, m.pos.y, m.hot_x, m.hot_y, shape, 1);
	return VIRTIO_GPU_RESP_OK_NODATA;
}
