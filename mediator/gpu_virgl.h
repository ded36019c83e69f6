/* gpu_virgl.h: the one virglrenderer instance of the mediator process. It
 * renders for every vGPU, on a DRM render node when there is one (or one is
 * named), otherwise on EGL surfaceless (Mesa llvmpipe). Host resource,
 * context and fence IDs are process-wide and allocated here; vGPUs only ever
 * see their own guest IDs. */
#ifndef VGPU_GPU_VIRGL_H
#define VGPU_GPU_VIRGL_H

#include <stddef.h>
#include <stdint.h>

/* Called (from gvirgl_poll) for each fence the renderer completed, in order. */
typedef void (*gvirgl_fence_cb)(void *opaque, uint32_t host_fence);

/*
 * Start the renderer. render_node: a path, "auto" (the first /dev/dri/renderD*
 * that opens, else surfaceless), or "none" (surfaceless). 0, or -1 with the
 * reason in err. Once only per process.
 */
int gvirgl_init(const char *render_node, gvirgl_fence_cb cb, void *opaque, char *err, size_t errlen);

int gvirgl_ready(void);
const char *gvirgl_gl_renderer(void); /* the host GL_RENDERER string ("" before init) */
const char *gvirgl_platform(void);    /* "render node /dev/dri/..." or "EGL surfaceless" */

uint32_t gvirgl_num_capsets(void);
/* Capset at index: its id, highest version and size. 0, or -1 for an index past the end. */
int gvirgl_capset_info(uint32_t index, uint32_t *id, uint32_t *max_version, uint32_t *max_size);

/* Make the renderer's own context (context 0) current, and have it forget which context it last switched to.
 * Everything but a command stream runs in whatever GL context is current: creating a resource binds its texture,
 * a read-back binds a framebuffer, filling a capset unbinds one. With several clients' contexts in one process,
 * that would change the state of the client whose context happened to be current behind its back (its next draw
 * then finds no framebuffer). So every call into the renderer other than a submission follows this; a submission
 * switches to its own context itself. QEMU's back-ends do the same before every command. */
void gvirgl_ctx0(void);

/* Fresh process-wide IDs (never 0). */
uint32_t gvirgl_new_resource_id(void);
uint32_t gvirgl_new_context_id(void);

/* Queue a fence after everything submitted so far; returns its host fence id. */
uint32_t gvirgl_fence(uint32_t host_ctx);
/* Let the renderer report completed fences (calls the fence callback). */
void gvirgl_poll(void);
/* Fences created and not yet reported. */
int gvirgl_fences_pending(void);

#endif
