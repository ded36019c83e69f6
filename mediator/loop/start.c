/* start.c: what the mediator sets up before it serves: the renderer (or the render-worker spawner) and its
 * confinement in the sandbox, and the sandbox's self-test. */
#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop/loop.h"
#include "mono_clock.h"
#include "process/sandbox.h"

/* Enter the sandbox (sandbox.h) with the descriptors the loop uses; the socket files go when the process does. */
int confine(int no_sandbox, const char *user)
{
	int keep[MAX_SLOTS + MAX_VTEST + 4]; /* epoll, signals, shared and control sockets, each named socket */
	const char *paths[MAX_SLOTS + MAX_VTEST + 3];
	size_t nk = 0, np = 0;
	struct sandbox_status st;
	char err[256];

	if (no_sandbox) {
		sandbox_off("--no-sandbox");
		logf_("sandbox: off (--no-sandbox)");
		return 0;
	}
	keep[nk++] = M.ep;
	keep[nk++] = M.w_signal.fd;
	if (M.shared_fd >= 0) {
		keep[nk++] = M.shared_fd;
		paths[np++] = M.shared_path;
	}
	if (M.control_fd >= 0) {
		keep[nk++] = M.control_fd;
		paths[np++] = M.control_path;
	}
	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used && M.slots[i].listen_fd >= 0) {
			keep[nk++] = M.slots[i].listen_fd;
			paths[np++] = M.slots[i].path;
		}
	for (int i = 0; i < MAX_VTEST; i++)
		if (M.vtest[i].used && M.vtest[i].listen_fd >= 0) {
			keep[nk++] = M.vtest[i].listen_fd;
			paths[np++] = M.vtest[i].path;
		}
	paths[np] = NULL;
	if (sandbox_enter(SANDBOX_BROKER, keep, nk, user, paths, err, sizeof(err)) < 0) {
		fprintf(stderr, "vgpu-mediator: cannot enter the sandbox: %s (--no-sandbox to run without)\n", err);
		return -1;
	}
	sandbox_status(&st);
	logf_("sandbox: %s, user %s, keeps %s", st.mode, st.user, st.kept);
	return 0;
}

/* --sandbox-self-test: set up the renderer as a run does, confine, then make a refused call (it must fail with
 * EPERM) and a forbidden one (it must kill the process). Returning at all (exit 1) means the sandbox failed. */
int sandbox_self_test(const char *render_node, int no_virgl, const char *user)
{
	char err[256];
	char *const args[] = { "/bin/true", NULL };
	int fd;

	if (!no_virgl && !render_virgl_open(render_node, 0, on_fence, NULL, err, sizeof(err)))
		fprintf(stderr, "vgpu-mediator: self-test without the renderer: %s\n", err);
	if (confine(0, user) < 0)
		return 1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	printf("sandbox self-test: socket(AF_INET) %s\n", fd < 0 && errno == EPERM ? "refused (EPERM)" : "ALLOWED");
	fflush(stdout);
	if (fd >= 0)
		return 1;
	execve(args[0], args, NULL);
	printf("sandbox self-test: execve was not stopped: %s\n", strerror(errno));
	return 1;
}

/* The renderer: in this process, or (--render-workers) a worker per vGPU, started by a spawner forked now (before
 * any thread, and before the sandbox forbids forking). A first worker is started and waited for: whether 3D works,
 * and what the vGPUs get. */
void start_renderer(const char *render_node, int no_sandbox, const char *user)
{
	struct render_worker_opts o = { .render_node = render_node, .sandbox = !no_sandbox, .user = user };
	struct renderer *probe;
	char err[256];

	if (!M.workers) {
		if (!(M.rnd = render_virgl_open(render_node, 0, on_fence, NULL, err, sizeof(err)))) {
			fprintf(stderr, "vgpu-mediator: 3D unavailable, serving 2D only: %s\n", err);
			return;
		}
		M.virgl = 1;
		gpu_device_set_renderer(M.rnd);
		logf_("renderer: %s on %s", M.rnd->gl_renderer, M.rnd->platform);
		return;
	}
	if (render_spawner_start(&M.spawner, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "vgpu-mediator: 3D unavailable, serving 2D only: no render workers: %s\n", err);
		return;
	}
	probe = render_worker_open(&M.spawner, NULL, on_fence, NULL, M.worker_timeout_ms, err, sizeof(err));
	if (!probe || renderer_num_capsets(probe) == 0) {
		fprintf(stderr, "vgpu-mediator: 3D unavailable, serving 2D only: the first render worker: %s\n",
			probe ? probe->why : err);
		renderer_close(probe);
		render_spawner_stop(&M.spawner); /* no worker will be wanted */
		return;
	}
	gpu_device_describe(probe);
	renderer_close(probe);
	M.virgl = 1;
	M.sched.own_timelines = 1;
	/* With no DRM device the renderer is Mesa's software one: the CPUs are the GPU, and a worker's CPU time what
	 * its vGPU's rendering cost (gpu_sched.h). */
	if (strstr(gpu_device_description()->platform, "surfaceless"))
		sched_use_cpu_time(&M.sched, cpu_clock_cpus(), mono_ns());
	M.w_spawner = (struct watch){ .kind = W_SPAWNER, .fd = -1 };
	watch_set(&M.w_spawner, M.spawner.sock);
	logf_("renderer: %s on %s, a render worker per vGPU (calls wait at most %llu ms), charged %s",
	      gpu_device_description()->gl_renderer, gpu_device_description()->platform,
	      (unsigned long long)M.worker_timeout_ms,
	      M.sched.charge_cpu ? "the CPU time it uses (a software renderer)" : "its fences' time");
}
