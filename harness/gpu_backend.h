/* gpu_backend.h: the GPU side of a guest configuration: which QEMU device
 * each guest gets and which back-end processes serve it. qemu-virgl needs no
 * process; mediated starts one vgpu-mediator for all guests (one vGPU socket
 * each, one control socket); qemu-vhost-user-gpu starts QEMU's own back-end,
 * one process per guest. Back-ends die with the harness (PDEATHSIG). */
#ifndef VGPUBENCH_GPU_BACKEND_H
#define VGPUBENCH_GPU_BACKEND_H

#include <stddef.h>
#include <sys/types.h>

#define GPU_BACKEND_MAX 16
#define GPU_BACKEND_ARGS 14

struct gpu_backend {
	char config[32];
	int n;
	pid_t pid[GPU_BACKEND_MAX];
	int npid;
	char sock[GPU_BACKEND_MAX][512];
	char control[512];
	char log[GPU_BACKEND_MAX][512];
	char *owned[GPU_BACKEND_MAX][GPU_BACKEND_ARGS];
	const char *args[GPU_BACKEND_MAX][GPU_BACKEND_ARGS];
	char description[256]; /* what serves the guests, for the report */
};

/*
 * Start what serves config's n guests (files under dir). mediator: the
 * vgpu-mediator binary; vhost_user_gpu: QEMU's back-end; memory_mb: each
 * guest's RAM (shared as memfd with a vhost-user back-end). 0, or -1 with the
 * reason in err (nothing left running).
 */
int gpu_backend_start(struct gpu_backend *b, const char *config, int n, const char *dir, const char *mediator,
		      const char *vhost_user_gpu, int memory_mb, char *err, size_t errlen);

/* QEMU arguments for guest i (0-based), NULL-terminated. */
const char *const *gpu_backend_args(const struct gpu_backend *b, int i);

/* The mediator's counters (its control socket's JSON) into path. 0, or -1 (no mediator or no answer). */
int gpu_backend_snapshot(const struct gpu_backend *b, const char *path);

/* Stop every back-end process and release the arguments. Safe to call twice. */
void gpu_backend_stop(struct gpu_backend *b);

#endif
