/* gpu_virgl.c: the process-wide libvirglrenderer instance (EGL: render node
 * via GBM, or surfaceless). */
#define _GNU_SOURCE
#include "gpu_virgl.h"

#include <dirent.h>
#include <errno.h>
#include <epoxy/gl.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <virgl/virglrenderer.h>

static struct {
	int ready;
	int drm_fd;
	gvirgl_fence_cb cb;
	void *opaque;
	uint32_t next_res, next_ctx, next_fence, last_done;
	char renderer[192];
	char platform[160];
} V = { .drm_fd = -1 };

static void write_fence(void *cookie, uint32_t fence)
{
	(void)cookie;
	V.last_done = fence;
	if (V.cb)
		V.cb(V.opaque, fence);
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

int gvirgl_init(const char *render_node, gvirgl_fence_cb cb, void *opaque, char *err, size_t errlen)
{
	char path[300] = "";
	int flags = VIRGL_RENDERER_USE_EGL;
	const char *s;

	if (V.ready) {
		snprintf(err, errlen, "the renderer is already running");
		return -1;
	}
	if (!render_node || !strcmp(render_node, "auto")) {
		V.drm_fd = find_render_node(path, sizeof(path));
	} else if (strcmp(render_node, "none")) {
		snprintf(path, sizeof(path), "%s", render_node);
		V.drm_fd = open(path, O_RDWR | O_CLOEXEC);
		if (V.drm_fd < 0) {
			snprintf(err, errlen, "render node %s: %s", path, strerror(errno));
			return -1;
		}
	}
	if (V.drm_fd < 0) {
		flags |= VIRGL_RENDERER_USE_SURFACELESS;
		snprintf(V.platform, sizeof(V.platform), "EGL surfaceless");
	} else {
		snprintf(V.platform, sizeof(V.platform), "render node %.140s", path);
	}
	V.cb = cb;
	V.opaque = opaque;
	if (virgl_renderer_init(&V, flags, &callbacks) != 0) {
		snprintf(err, errlen, "virglrenderer did not start on %s", V.platform);
		if (V.drm_fd >= 0)
			close(V.drm_fd);
		V.drm_fd = -1;
		return -1;
	}
	/* virglrenderer leaves its GL context current on this thread. */
	s = (const char *)glGetString(GL_RENDERER);
	snprintf(V.renderer, sizeof(V.renderer), "%s", s ? s : "unknown");
	V.ready = 1;
	return 0;
}

int gvirgl_ready(void)
{
	return V.ready;
}

const char *gvirgl_gl_renderer(void)
{
	return V.renderer;
}

const char *gvirgl_platform(void)
{
	return V.platform;
}

/* Capset IDs of virgl: VIRGL (1) and VIRGL2 (2). */
static const uint32_t capset_ids[] = { 1, 2 };

uint32_t gvirgl_num_capsets(void)
{
	return V.ready ? 2 : 0;
}

int gvirgl_capset_info(uint32_t index, uint32_t *id, uint32_t *max_version, uint32_t *max_size)
{
	if (!V.ready || index >= gvirgl_num_capsets())
		return -1;
	*id = capset_ids[index];
	virgl_renderer_get_cap_set(*id, max_version, max_size);
	return 0;
}

uint32_t gvirgl_new_resource_id(void)
{
	if (++V.next_res == 0)
		V.next_res = 1;
	return V.next_res;
}

uint32_t gvirgl_new_context_id(void)
{
	if (++V.next_ctx == 0)
		V.next_ctx = 1;
	return V.next_ctx;
}

uint32_t gvirgl_fence(uint32_t host_ctx)
{
	/* virglrenderer takes an int: keep ids positive, wrapping well before INT_MAX. */
	if (++V.next_fence >= 0x7fffffffu)
		V.next_fence = 1;
	virgl_renderer_create_fence((int)V.next_fence, host_ctx);
	return V.next_fence;
}

void gvirgl_ctx0(void)
{
	if (V.ready)
		virgl_renderer_force_ctx_0();
}

void gvirgl_poll(void)
{
	if (V.ready)
		virgl_renderer_poll();
}

int gvirgl_fences_pending(void)
{
	return V.ready && V.last_done != V.next_fence;
}
