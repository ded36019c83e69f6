/* renderer.h: what a vGPU's device model (gpu_device.c) asks of a 3D renderer, behind one interface. A renderer
 * holds resources, contexts and fences under IDs it hands out (renderer_new_res_id, renderer_new_ctx_id); the
 * device model maps each vGPU's guest IDs onto them and checks everything a guest sends before any of it gets here.
 *
 * Back-ends live in mediator/render/backend/, one file each:
 *   virgl.c  libvirglrenderer in this process: a DRM render node, or EGL surfaceless (Mesa llvmpipe);
 *   null.c   no GL at all: it keeps the IDs it was given, checks they exist, and retires fences when polled. For
 *            the tests of what sits above (a device model's ID mapping, fences, failures) on any host.
 *
 * Calls return 0 or a negative value the back-end chose (the device model only reports it); void calls cannot fail
 * in a way the guest could be told. Fences retire in order: fence_done is called from renderer_poll with the
 * newest retired fence. */
#ifndef VGPU_RENDERER_H
#define VGPU_RENDERER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* A resource's shape, as RESOURCE_CREATE_3D gives it (virtio 1.2 §5.7.6.8; virglrenderer's own args). */
struct render_res {
	uint32_t target, format, bind, width, height, depth, array_size, last_level, nr_samples, flags;
};

/* A region of a resource (texels; z and d for layers and depth). */
struct render_box {
	uint32_t x, y, z, w, h, d;
};

/* A transfer between a resource and memory: the resource's box at level, laid out in memory with stride and
 * layer_stride (0: tightly packed) from offset. ctx: the renderer context it belongs to, or 0. */
struct render_xfer {
	uint32_t ctx, level, stride, layer_stride;
	struct render_box box;
	uint64_t offset;
};

struct renderer;

/* Called from renderer_poll: every fence up to and including fence has retired. */
typedef void (*render_fence_cb)(void *opaque, struct renderer *r, uint32_t fence);

struct renderer_ops {
	const char *name;
	int (*res_create)(struct renderer *r, uint32_t id, const struct render_res *a);
	void (*res_unref)(struct renderer *r, uint32_t id);
	/* The resource's backing: host memory iov (n entries) it reads from and writes to until detached. */
	int (*attach)(struct renderer *r, uint32_t id, const struct iovec *iov, int n);
	/* Let go of the backing (a buffer the renderer keeps in its own memory is copied out of it first). */
	void (*detach)(struct renderer *r, uint32_t id);
	/* Into the resource from mem (n entries), or from its backing when mem is NULL. */
	int (*write)(struct renderer *r, uint32_t id, const struct render_xfer *x, const struct iovec *mem, int n);
	/* Out of the resource into mem, or into its backing when mem is NULL. */
	int (*read)(struct renderer *r, uint32_t id, const struct render_xfer *x, const struct iovec *mem, int n);
	/* A back-end that renders `later` (below): out of the resource into dst (len bytes, x's stride), without
	 * waiting. 0 begun: *rc stays 1 until the pixels are in dst (0, seen by renderer_poll) or will never come (-1:
	 * refused, or the renderer died); until then dst and rc stay the caller's. 1: not now, try again later; -1:
	 * refused. NULL: the back-end reads at once (read). */
	int (*read_begin)(struct renderer *r, uint32_t id, const struct render_xfer *x, void *dst, uint64_t len,
			  int *rc);
	/* Forget every read_begin's dst and rc: nothing is written to them any more (a device reset, a vGPU going). */
	void (*read_cancel)(struct renderer *r);
	int (*ctx_create)(struct renderer *r, uint32_t ctx, uint32_t name_len, const char *name);
	void (*ctx_destroy)(struct renderer *r, uint32_t ctx);
	/* Attach (on) or detach (!on) resource id to or from context ctx. */
	void (*ctx_resource)(struct renderer *r, uint32_t ctx, uint32_t id, int on);
	/* A command stream of ndw 32-bit words, its resource IDs the renderer's own, in context ctx. */
	int (*submit)(struct renderer *r, uint32_t ctx, const uint32_t *dw, uint32_t ndw);
	/* Queue fence after everything submitted so far to ctx (0: the renderer's own). */
	void (*fence)(struct renderer *r, uint32_t ctx, uint32_t fence);
	/* Report retired fences (fence_done). */
	void (*poll)(struct renderer *r);
	/* Capset at index (0, 1, ...): its id, highest version and size; -1 past the last. */
	int (*capset)(struct renderer *r, uint32_t index, uint32_t *id, uint32_t *version, uint32_t *size);
	/* Fill capset id at version into buf (the size capset gave). */
	void (*fill_caps)(struct renderer *r, uint32_t id, uint32_t version, void *buf);
	/* A 64x64 cursor resource's pixels (malloc'd, the caller frees), or NULL. */
	void *(*cursor)(struct renderer *r, uint32_t id, uint32_t *w, uint32_t *h);
	/* Before any call other than submit: leave every client context (see render/virgl.c). NULL: nothing to do. */
	void (*quiesce)(struct renderer *r);
	void (*close)(struct renderer *r);
};

struct renderer {
	const struct renderer_ops *ops;
	render_fence_cb fence_done;
	void *opaque;
	int fd;       /* to watch for readable (then renderer_poll), or -1: a back-end in another process */
	int wake_fd;  /* readable when fences may have retired (then renderer_poll), or -1: poll it now and then */
	int dead;     /* it can render no more (a worker that died or was cut off): every call fails */
	int starting; /* a worker that has not said READY yet: a call that waits would wait for its start */
	/* Transfers between a resource and its backing are carried out after the call returns, in order with what
	 * follows (a worker process): what must come after them (the guest's answer) waits for a fence, and display
	 * read-backs go through read_begin. 0: they are done when the call returns. */
	int later;
	unsigned reading; /* read_begins not yet in */
	char why[224]; /* why it is dead */
	uint32_t next_res, next_ctx, next_fence, last_done;
	char gl_renderer[192]; /* GL_RENDERER (or the back-end's own name) */
	char platform[160];    /* what it renders on: "render node /dev/dri/...", "EGL surfaceless", "none" */
};

/*
 * The back-ends. render_node: a path, "auto" (the first /dev/dri/renderD* that opens, else surfaceless), or "none"
 * (surfaceless). The virgl back-end runs at most once in a process; with thread_sync, virglrenderer waits for fences
 * in a thread of its own and wake_fd says when they retired (a render worker's loop sleeps on it). NULL with the
 * reason in err on failure.
 */
struct renderer *render_virgl_open(const char *render_node, int thread_sync, render_fence_cb cb, void *opaque,
				   char *err, size_t errlen);
struct renderer *render_null_open(render_fence_cb cb, void *opaque);
/* The null back-end's test hooks: the next calls that can fail do (a renderer out of memory); what it holds. */
void render_null_fail(struct renderer *r, unsigned calls);
/* Say it renders later (renderer.later), as a render worker does, so that the device model parks its transfers. */
void render_null_later(struct renderer *r, int on);
void render_null_held(struct renderer *r, size_t *resources, size_t *contexts, uint64_t *words);

/*
 * The render worker back-end (render/worker.c): a worker process started by spawner z (render_worker.h) renders
 * for whoever holds this renderer; calls the device model waits on wait at most timeout_ms for the worker (then it
 * is killed and the renderer dead). It returns before the worker is ready (starting): the first call that needs it
 * waits, and renderer_poll cuts off a worker not READY within timeout_ms. st: its memory bound and (tests) a delay
 * before READY (render_worker.h; NULL: neither).
 */
struct render_spawner;
struct render_worker_start;
struct renderer *render_worker_open(struct render_spawner *z, const struct render_worker_start *st,
				    render_fence_cb cb, void *opaque, uint64_t timeout_ms, char *err, size_t errlen);
/* Signal r's worker (render_spawner_signal: tests). 0, or -1 (no worker). */
int render_worker_signal(struct renderer *r, int sig);

/* What a worker back-end has done (all 0 for another back-end). */
struct render_worker_info {
	int pid;
	int ready;              /* it said READY */
	uint32_t mem_limit_mb;  /* its data bound (RLIMIT_DATA), 0 for none */
	uint32_t fd_limit;      /* its descriptors' bound (RLIMIT_NOFILE), as its READY said; 0 before */
	uint64_t calls;         /* calls it was waited on for */
	uint64_t call_ns_max;   /* the longest such wait */
	uint64_t submits, async_errors; /* streams sent; streams and other calls it refused with no one waiting */
	uint64_t transfers;     /* transfers to or from a backing, sent and not waited for */
	uint64_t maps;          /* memory pieces mapped into it */
	uint64_t bulk_bytes;    /* its bulk area */
	char last_async_error[96];
};
void render_worker_info(const struct renderer *r, struct render_worker_info *out);
/* Kill r's worker now (the watchdog's action, and tests): r is dead afterwards, with why. */
void render_worker_kill(struct renderer *r, const char *why);

/* Fresh IDs (never 0) for a resource or context of r. */
uint32_t renderer_new_res_id(struct renderer *r);
uint32_t renderer_new_ctx_id(struct renderer *r);

/* Fence ids run from 1 to RENDER_FENCE_LAST and then from 1 again (virglrenderer takes an int). */
#define RENDER_FENCE_LAST 0x7ffffffeu

/* Queue a fence after everything submitted to ctx so far; returns its id. */
uint32_t renderer_fence(struct renderer *r, uint32_t ctx);
/* How far fence a comes after fence b on that circle (0, before any fence, is the id before 1): > 0 when a is
 * newer, 0 when they are the same, < 0 when a is older; each way up to half the circle. */
int32_t renderer_fence_since(uint32_t a, uint32_t b);
/* Fences queued and not yet retired. */
int renderer_fences_pending(const struct renderer *r);
/* Report retired fences (the fence callback); for a back-end's use: every fence up to fence retired. */
void renderer_poll(struct renderer *r);
void renderer_retired(struct renderer *r, uint32_t fence);

/* How many capsets r offers (0 for NULL). */
uint32_t renderer_num_capsets(struct renderer *r);
void renderer_quiesce(struct renderer *r);
void renderer_close(struct renderer *r);

#endif
