/* render/virgl.c: the renderer back-end on libvirglrenderer in this process (renderer.h), on a DRM render node
 * (through GBM) or EGL surfaceless (Mesa llvmpipe). virglrenderer is a process-wide library: one such renderer a
 * process.
 *
 * Everything but a command stream runs in whatever GL context is current: creating a resource binds its texture, a
 * read-back binds a framebuffer, filling a capset unbinds one. With several clients' contexts in one renderer, that
 * would change the state of the client whose context happened to be current behind its back (its next draw then
 * finds no framebuffer). So before every call other than a submission the device model calls quiesce, which makes
 * the renderer's own context (context 0) current and has it forget which context it last switched to; a submission
 * switches to its own context itself. QEMU's back-ends do the same before every command. */
#define _GNU_SOURCE
#include "render/renderer.h"

#include <dirent.h>
#include <epoxy/gl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <virgl/virglrenderer.h>

/* virglrenderer.h declares struct virgl_box without defining it; its layout is that of virtio_gpu_box: x, y, z, w, h,
 * d as 32-bit integers. */
struct virgl_box {
	uint32_t x, y, z, w, h, d;
};

static struct virgl {
	struct renderer r;
	int drm_fd;
	int ready;
} V = { .drm_fd = -1 };

static void write_fence(void *cookie, uint32_t fence)
{
	(void)cookie;
	renderer_retired(&V.r, fence);
}

static int get_drm_fd(void *cookie)
{
	(void)cookie;
	/* virglrenderer keeps the fd: hand it a duplicate. */
	return V.drm_fd >= 0 ? dup(V.drm_fd) : -1;
}

static struct virgl_renderer_callbacks callbacks = {
	.version = 2,
	.write_fence = write_fence,
	.get_drm_fd = get_drm_fd,
};

static int res_create(struct renderer *r, uint32_t id, const struct render_res *a)
{
	struct virgl_renderer_resource_create_args v = {
		.handle = id, .target = a->target, .format = a->format, .bind = a->bind, .width = a->width,
		.height = a->height, .depth = a->depth, .array_size = a->array_size, .last_level = a->last_level,
		.nr_samples = a->nr_samples, .flags = a->flags,
	};

	(void)r;
	return virgl_renderer_resource_create(&v, NULL, 0);
}

static void res_unref(struct renderer *r, uint32_t id)
{
	(void)r;
	virgl_renderer_resource_unref(id);
}

static int attach(struct renderer *r, uint32_t id, const struct iovec *iov, int n)
{
	(void)r;
	return virgl_renderer_resource_attach_iov((int)id, (struct iovec *)iov, n);
}

static void detach(struct renderer *r, uint32_t id)
{
	struct iovec *iov = NULL;
	int n = 0;

	(void)r;
	virgl_renderer_resource_detach_iov((int)id, &iov, &n);
}

static struct virgl_box box_of(const struct render_xfer *x)
{
	return (struct virgl_box){ x->box.x, x->box.y, x->box.z, x->box.w, x->box.h, x->box.d };
}

static int xfer_write(struct renderer *r, uint32_t id, const struct render_xfer *x, const struct iovec *mem, int n)
{
	struct virgl_box b = box_of(x);

	(void)r;
	return virgl_renderer_transfer_write_iov(id, x->ctx, (int)x->level, x->stride, x->layer_stride, &b, x->offset,
						 (struct iovec *)mem, mem ? (unsigned)n : 0);
}

static int xfer_read(struct renderer *r, uint32_t id, const struct render_xfer *x, const struct iovec *mem, int n)
{
	struct virgl_box b = box_of(x);

	(void)r;
	return virgl_renderer_transfer_read_iov(id, x->ctx, x->level, x->stride, x->layer_stride, &b, x->offset,
						(struct iovec *)mem, mem ? n : 0);
}

static int ctx_create(struct renderer *r, uint32_t ctx, uint32_t name_len, const char *name)
{
	(void)r;
	return virgl_renderer_context_create(ctx, name_len, name);
}

static void ctx_destroy(struct renderer *r, uint32_t ctx)
{
	(void)r;
	virgl_renderer_context_destroy(ctx);
}

static void ctx_resource(struct renderer *r, uint32_t ctx, uint32_t id, int on)
{
	(void)r;
	if (on)
		virgl_renderer_ctx_attach_resource((int)ctx, (int)id);
	else
		virgl_renderer_ctx_detach_resource((int)ctx, (int)id);
}

static int submit(struct renderer *r, uint32_t ctx, const uint32_t *dw, uint32_t ndw)
{
	(void)r;
	return virgl_renderer_submit_cmd((void *)dw, (int)ctx, (int)ndw);
}

static void fence(struct renderer *r, uint32_t ctx, uint32_t f)
{
	(void)r;
	virgl_renderer_create_fence((int)f, ctx);
}

static void poll_(struct renderer *r)
{
	(void)r;
	virgl_renderer_poll();
}

/* Capset IDs of virgl: VIRGL (1) and VIRGL2 (2). */
static const uint32_t capset_ids[] = { 1, 2 };

static int capset(struct renderer *r, uint32_t index, uint32_t *id, uint32_t *version, uint32_t *size)
{
	(void)r;
	if (index >= sizeof(capset_ids) / sizeof(capset_ids[0]))
		return -1;
	*id = capset_ids[index];
	virgl_renderer_get_cap_set(*id, version, size);
	return 0;
}

static void fill_caps(struct renderer *r, uint32_t id, uint32_t version, void *buf)
{
	(void)r;
	virgl_renderer_fill_caps(id, version, buf);
}

static void *cursor(struct renderer *r, uint32_t id, uint32_t *w, uint32_t *h)
{
	(void)r;
	return virgl_renderer_get_cursor_data(id, w, h);
}

static void quiesce(struct renderer *r)
{
	(void)r;
	virgl_renderer_force_ctx_0();
}

static void close_(struct renderer *r)
{
	(void)r;
	/* virglrenderer's cleanup leaves it unable to start again in this process (its EGL display stays): the
	 * renderer lives as long as the process. */
}

static const struct renderer_ops ops = {
	.name = "virgl", .res_create = res_create, .res_unref = res_unref, .attach = attach, .detach = detach,
	.write = xfer_write, .read = xfer_read, .ctx_create = ctx_create, .ctx_destroy = ctx_destroy,
	.ctx_resource = ctx_resource, .submit = submit, .fence = fence, .poll = poll_, .capset = capset,
	.fill_caps = fill_caps, .cursor = cursor, .quiesce = quiesce, .close = close_,
};

/* The first render node that opens, or -1. */
static int find_render_node(char *path, size_t len)
{
	DIR *d = opendir("/dev/dri");
	struct dirent *e;
	int fd = -1;

	if (!d)
		return -1;
	while (fd < 0 && (e = readdir(d)))
		if (!strncmp(e->d_name, "renderD", 7)) {
			snprintf(path, len, "/dev/dri/%s", e->d_name);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
	closedir(d);
	return fd;
}

struct renderer *render_virgl_open(const char *render_node, int thread_sync, render_fence_cb cb, void *opaque,
				   char *err, size_t errlen)
{
	char path[300] = "";
	int flags = VIRGL_RENDERER_USE_EGL | (thread_sync ? VIRGL_RENDERER_THREAD_SYNC : 0);
	const char *s;

	if (V.ready) { /* the one a process has: callers share it */
		V.r.fence_done = cb;
		V.r.opaque = opaque;
		return &V.r;
	}
	if (!render_node || !strcmp(render_node, "auto")) {
		V.drm_fd = find_render_node(path, sizeof(path));
	} else if (strcmp(render_node, "none")) {
		snprintf(path, sizeof(path), "%s", render_node);
		V.drm_fd = open(path, O_RDWR | O_CLOEXEC);
		if (V.drm_fd < 0) {
			snprintf(err, errlen, "render node %s: %s", path, strerror(errno));
			return NULL;
		}
	}
	if (V.drm_fd < 0) {
		flags |= VIRGL_RENDERER_USE_SURFACELESS;
		snprintf(V.r.platform, sizeof(V.r.platform), "EGL surfaceless");
	} else {
		snprintf(V.r.platform, sizeof(V.r.platform), "render node %.140s", path);
	}
	V.r.ops = &ops;
	V.r.fd = V.r.wake_fd = -1;
	V.r.fence_done = cb;
	V.r.opaque = opaque;
	if (virgl_renderer_init(&V, flags, &callbacks) != 0) {
		snprintf(err, errlen, "virglrenderer did not start on %s", V.r.platform);
		if (V.drm_fd >= 0)
			close(V.drm_fd);
		V.drm_fd = -1;
		return NULL;
	}
	/* virglrenderer leaves its GL context current on this thread. */
	s = (const char *)glGetString(GL_RENDERER);
	snprintf(V.r.gl_renderer, sizeof(V.r.gl_renderer), "%s", s ? s : "unknown");
	if (thread_sync)
		V.r.wake_fd = virgl_renderer_get_poll_fd(); /* -1 when the sync thread is not in effect */
	V.ready = 1;
	return &V.r;
}
