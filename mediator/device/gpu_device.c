/* gpu_device.c: one vGPU's virtio-gpu device. Each command is copied out of
 * guest memory, checked against the spec's sizes and the vGPU's own IDs,
 * then served; every failure is answered with the spec's error response and
 * counted, and never touches another vGPU. This file holds the device itself
 * (set-up, reset, guest memory remapped) and the dispatch of commands; they
 * are served by gpu_2d.c, gpu_3d.c and gpu_present.c, on the resources of
 * gpu_resource.c and the guest buffers of gpu_copy.c, sharing gpu_int.h. */
#define _GNU_SOURCE
#include "device/gpu_device.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/gpu_int.h"
#include "mono_clock.h"
#include "render/renderer.h"

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
	g->mode[0] = (struct gpu_output_mode){ GPU_DEFAULT_WIDTH, GPU_DEFAULT_HEIGHT };
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
		gd_backing_detach(g, r);
		for (int i = 0; i < r->nbacking && lost < 0; i++) {
			void *p = gd_backing_at_addr(g, r->backing_gpa[i], r->backing[i].iov_len);

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
		gd_backing_free(g, r);
	}
}

void gpu_device_reset(struct gpu_device *g)
{
	size_t pos = 0;
	struct gpu_resource *r;
	void *c;
	uint32_t id;

	/* An update in flight is not waited for: a reset comes with a front-end message whose answer the front-end awaits
	 * without reading its display channel meanwhile. The update keeps what it sends from (the pixels of resources
	 * that go here are left to it: pixels_release), and the channel is not touched. */
	gd_present_drop_reads(g);
	if (g->res.live || g->ctx.live)
		renderer_quiesce(g->rnd);
	while ((r = idmap_next(&g->res, &pos, NULL)))
		gd_resource_destroy(g, r);
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

/* ---- dispatch ---- */

struct cmd_desc {
	uint32_t type;
	enum gpu_cmd_class cls;
	size_t size; /* the fixed part the request must hold */
	uint32_t (*serve)(struct cmd *c); /* returns the response type */
};

static const struct cmd_desc descs[] = {
	{ VIRTIO_GPU_CMD_GET_DISPLAY_INFO, GC_DISPLAY_INFO, sizeof(struct virtio_gpu_ctrl_hdr), gd_cmd_display_info },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, GC_RESOURCE_CREATE_2D, sizeof(struct virtio_gpu_resource_create_2d),
	  gd_cmd_create_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_UNREF, GC_RESOURCE_UNREF, sizeof(struct virtio_gpu_resource_unref), gd_cmd_unref },
	{ VIRTIO_GPU_CMD_SET_SCANOUT, GC_SET_SCANOUT, sizeof(struct virtio_gpu_set_scanout), gd_cmd_set_scanout },
	{ VIRTIO_GPU_CMD_RESOURCE_FLUSH, GC_RESOURCE_FLUSH, sizeof(struct virtio_gpu_resource_flush), gd_cmd_flush },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, GC_TRANSFER_TO_HOST_2D, sizeof(struct virtio_gpu_transfer_to_host_2d),
	  gd_cmd_transfer_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, GC_ATTACH_BACKING,
	  sizeof(struct virtio_gpu_resource_attach_backing), gd_cmd_attach_backing },
	{ VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, GC_DETACH_BACKING,
	  sizeof(struct virtio_gpu_resource_detach_backing), gd_cmd_detach_backing },
	{ VIRTIO_GPU_CMD_GET_CAPSET_INFO, GC_GET_CAPSET_INFO, sizeof(struct virtio_gpu_get_capset_info),
	  gd_cmd_capset_info },
	{ VIRTIO_GPU_CMD_GET_CAPSET, GC_GET_CAPSET, sizeof(struct virtio_gpu_get_capset), gd_cmd_capset },
	{ VIRTIO_GPU_CMD_GET_EDID, GC_GET_EDID, sizeof(struct virtio_gpu_cmd_get_edid), gd_cmd_edid },
	{ VIRTIO_GPU_CMD_CTX_CREATE, GC_CTX_CREATE, sizeof(struct virtio_gpu_ctx_create), gd_cmd_ctx_create },
	{ VIRTIO_GPU_CMD_CTX_DESTROY, GC_CTX_DESTROY, sizeof(struct virtio_gpu_ctrl_hdr), gd_cmd_ctx_destroy },
	{ VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, GC_CTX_ATTACH_RESOURCE, sizeof(struct virtio_gpu_ctx_resource),
	  gd_cmd_ctx_resource },
	{ VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, GC_CTX_DETACH_RESOURCE, sizeof(struct virtio_gpu_ctx_resource),
	  gd_cmd_ctx_resource },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, GC_RESOURCE_CREATE_3D, sizeof(struct virtio_gpu_resource_create_3d),
	  gd_cmd_create_3d },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, GC_TRANSFER_TO_HOST_3D, sizeof(struct virtio_gpu_transfer_host_3d),
	  gd_cmd_transfer_3d },
	{ VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, GC_TRANSFER_FROM_HOST_3D, sizeof(struct virtio_gpu_transfer_host_3d),
	  gd_cmd_transfer_3d },
	{ VIRTIO_GPU_CMD_SUBMIT_3D, GC_SUBMIT_3D, sizeof(struct virtio_gpu_cmd_submit), gd_cmd_submit },
	{ VIRTIO_GPU_CMD_UPDATE_CURSOR, GC_UPDATE_CURSOR, sizeof(struct virtio_gpu_update_cursor), gd_cmd_cursor },
	{ VIRTIO_GPU_CMD_MOVE_CURSOR, GC_MOVE_CURSOR, sizeof(struct virtio_gpu_update_cursor), gd_cmd_cursor },
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
	return m.resource_id && (r = gd_find_res(c, m.resource_id)) && r->host_id;
}

static uint32_t handle(struct gpu_device *g, unsigned qi, struct vring_req *req)
{
	struct cmd c = { .g = g, .req = req, .resp_len = sizeof(struct virtio_gpu_ctrl_hdr) };
	const struct cmd_desc *d = NULL;
	uint32_t type, written;

	g->virgl = g->rnd &&
		   (g->mem_at || (g->vdev && (g->vdev->features & (1ull << VIRTIO_GPU_F_VIRGL))));
	if (gd_iov_read(req->in, req->nin, 0, &c.hdr, sizeof(c.hdr)) != sizeof(c.hdr)) {
		g->st.cmds[GC_UNKNOWN]++;
		type = gd_fail(&c, VIRTIO_GPU_RESP_ERR_UNSPEC, "request of %llu bytes has no header",
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
		type = gd_fail(&c, VIRTIO_GPU_RESP_ERR_UNSPEC, "unknown command on queue %u", qi);
		goto respond;
	}
	c.cls = d->cls;
	g->st.cmds[d->cls]++;
	if (gd_take(&c, d->size) < 0) {
		type = gd_fail(&c, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "request of %llu bytes, needs %zu",
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
	written = (uint32_t)gd_iov_write(req->out, req->nout, &c.resp, c.resp_len);
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

	while (n < g->npending && renderer_fence_since(host_fence, g->pending[n].host_fence) >= 0) {
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
