/* render_worker.h: render workers, the processes that render for one vGPU each (docs/render-workers.md), and the
 * spawner that starts them.
 *
 * The spawner is forked once, early (before the broker starts any thread or renderer, and before it confines
 * itself), and does nothing but fork workers on request, kill one on request, and report each worker's end.
 * A worker starts its own renderer (render/virgl.c), confines itself like the broker (sandbox.h), says READY,
 * and serves the protocol of render_proto.h until its connection closes. It trusts the broker no more than it
 * must: every size, offset and ID it is given is checked against what it holds before use. */
#ifndef VGPU_RENDER_WORKER_H
#define VGPU_RENDER_WORKER_H

#include <stddef.h>
#include <stdint.h>

struct render_worker_opts {
	const char *render_node; /* as render_virgl_open takes it */
	int sandbox;             /* confine each worker (sandbox.h) */
	const char *user;        /* the user a worker started as root becomes (NULL: nobody) */
	unsigned start_delay_ms; /* tests (--test-faults): wait this long before READY, a worker slow to start */
};

/* What bounds a worker besides its sandbox: the descriptors it may have open, and the memory its vGPU's size
 * allows plus its own (Mesa, llvmpipe and virglrenderer start with about 70 MB of data here), on top of what it
 * had from the fork. */
#define RENDER_WORKER_FDS 256
#define RENDER_WORKER_BASE_MB 256

/* How a worker is started. */
struct render_worker_start {
	uint32_t mem_limit_mb;   /* MiB of data it may add to what the fork left it (RLIMIT_DATA); 0: no bound */
	uint32_t start_delay_ms; /* tests (--test-faults): it waits this long before READY */
};

/* Serve the broker on sock (a worker's main); returns the process's exit status. */
int render_worker_main(int sock, const struct render_worker_opts *o);

struct render_spawner {
	int sock; /* the connection to the spawner, -1 when there is none */
	int pid;
	/* Worker ends read while waiting for a SPAWNED, kept for render_spawner_ended. */
	struct {
		int pid, status;
	} ended[16];
	unsigned nended;
};

/* Fork the spawner. 0, or -1 (err). */
int render_spawner_start(struct render_spawner *z, const struct render_worker_opts *o, char *err, size_t errlen);

/* A new worker, started as st says (NULL: no memory bound, no delay), with at most RENDER_WORKER_FDS descriptors:
 * its connection in *sock and its pid. Waits for the spawner (a fork: a few ms) at most 2 s. 0, or -1 (err). */
int render_spawner_spawn(struct render_spawner *z, const struct render_worker_start *st, int *sock, int *pid,
			 char *err, size_t errlen);

/* SIGKILL worker pid (one of the spawner's own). 0, or -1. */
int render_spawner_kill(struct render_spawner *z, int pid);
/* Signal sig to worker pid: SIGKILL, or (tests) SIGSEGV, SIGSTOP, SIGCONT; the spawner sends no other. 0, or -1. */
int render_spawner_signal(struct render_spawner *z, int pid, int sig);

/* A worker that ended: 1 and its pid and waitpid status, 0 when none is reported, -1 when the spawner is gone. */
int render_spawner_ended(struct render_spawner *z, int *pid, int *status);

/* Stop the spawner (its workers die with it). */
void render_spawner_stop(struct render_spawner *z);

/* "exit 3", "signal 11 (Segmentation fault)": a waitpid status in words. */
void render_exit_text(int status, char *out, size_t len);

#endif
