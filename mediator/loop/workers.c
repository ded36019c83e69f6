/* workers.c: the render workers of --render-workers: each vGPU's opened and closed, its time charged, a worker
 * lost or starting, the spawner's reports. */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "loop/loop.h"
#include "mono_clock.h"

/* --render-workers: a vGPU set up now gets a worker of its own. It starts meanwhile; the vGPU is not served until
 * it said READY (worker_starting), and the others are served on. */
void worker_open(struct slot *s)
{
	/* A vGPU with a size: its worker's memory is bounded by it, beside the worker's own (mem= is in MiB). */
	uint32_t size_mb = (uint32_t)(s->gd.size_bytes >> 20);
	struct render_worker_start st = { .mem_limit_mb = size_mb ? size_mb + RENDER_WORKER_BASE_MB : 0,
					  .start_delay_ms = s->fault_delay_ms };
	char err[256];

	if (!M.workers || !M.virgl)
		return;
	s->worker_down = 0;
	s->gd.rnd = render_worker_open(&M.spawner, &st, on_fence, s, M.worker_timeout_ms, err, sizeof(err));
	s->fault_delay_ms = 0;
	if (!s->gd.rnd) {
		logf_("vgpu %s: no render worker (%s): 2D only until its device is reset", s->name, err);
		snprintf(s->wlog.last_exit, sizeof(s->wlog.last_exit), "not started: %.80s", err);
		return;
	}
	s->wlog.started++;
	render_worker_info(s->gd.rnd, &s->wlog.now);
	watch_set(&s->w_worker, s->gd.rnd->fd);
}

/* Its worker goes (after gpu_device_free or _reset: nothing of the vGPU is left in it). */
void worker_close(struct slot *s)
{
	if (!M.workers || !s->gd.rnd)
		return;
	watch_set(&s->w_worker, -1);
	renderer_close(s->gd.rnd);
	s->gd.rnd = NULL;
}

/* The pid of s's own worker, 0 for none. */
int worker_pid(const struct slot *s)
{
	struct render_worker_info wi;

	if (!M.workers || !s->gd.rnd)
		return 0;
	render_worker_info(s->gd.rnd, &wi);
	return wi.pid;
}

/* Where this thread's CPU clock stood as a call for a vGPU began (0 unless the scheduler charges CPU time). */
uint64_t call_cpu_start(void)
{
	return M.sched.charge_cpu ? cpu_clock_thread_ns() : 0;
}

/* Charge vGPU i a call made from t0 to t1 (this thread's CPU clock read c0 at t0): its time on the renderer's
 * timeline, or under CPU-time charging the CPU this thread spent in it (waiting on a worker is the worker's). */
void charge_call(unsigned i, uint64_t t0, uint64_t t1, uint64_t c0, int in_flight)
{
	if (M.sched.charge_cpu) {
		uint64_t c1 = cpu_clock_thread_ns();

		sched_charge_cpu(&M.sched, i, c1 > c0 ? c1 - c0 : 0, 0);
	} else {
		sched_charge_call(&M.sched, i, t0, t1, in_flight);
	}
}

/* Render workers on a software renderer: each vGPU is charged the CPU time its worker used since the last look
 * (every thread of it; a fresh worker from its start). Looked at once a millisecond at most: what a worker used
 * between the last look and its death is not charged. */
void charge_workers(void)
{
	static uint64_t last;
	uint64_t now;

	if (!M.sched.charge_cpu || (now = mono_ns()) - last < 1000000u)
		return;
	last = now;
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (s->used && s->active)
			sched_charge_cpu(&M.sched, (unsigned)i, cpu_clock_used(&s->cpu, worker_pid(s)), 1);
	}
}

/* s's worker is gone (why): counted, no longer watched, and replaced at the vGPU's next reset. */
void worker_gone(struct slot *s, const char *why)
{
	s->worker_down = 1;
	s->wlog.died++;
	snprintf(s->wlog.last_exit, sizeof(s->wlog.last_exit), "%.120s", why);
	watch_set(&s->w_worker, -1);
}

/* A vGPU's worker died, or was cut off for what it sent or for not answering: only this vGPU pays. Its waiting
 * requests are answered (their fences will never retire) and it is not served until its device is reset (or its
 * rings restarted), which brings a fresh worker; a vtest client is dropped. */
static void worker_lost(struct slot *s)
{
	char reason[sizeof(s->why)];

	worker_gone(s, s->gd.rnd->why);
	if (s->gd.npending)
		gpu_device_fences_done(&s->gd, s->gd.pending[s->gd.npending - 1].host_fence);
	snprintf(reason, sizeof(reason), "render worker lost: %.200s", s->gd.rnd->why);
	slot_break(s, reason);
	logf_("vgpu %s: %s; %s", s->name, reason,
	      s->ep ? "the client is dropped" : "the vGPU waits for its device to be reset");
}

/* A vGPU whose worker has not said READY yet: not served, so that nothing waits for the start (its requests and
 * messages wait in its queue). A worker not READY within --worker-timeout-ms is cut off (renderer_poll). */
int worker_starting(const struct slot *s)
{
	return s->gd.rnd && s->gd.rnd->starting && !s->gd.rnd->dead;
}

/* Let every renderer report retired fences; a vGPU whose worker is gone, or now READY, is seen here. */
void poll_renderers(void)
{
	renderer_poll(M.rnd);
	for (int i = 0; M.workers && i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];
		int starting;

		if (!s->used || !s->active || !s->gd.rnd)
			continue;
		starting = worker_starting(s);
		renderer_poll(s->gd.rnd);
		if (starting && !worker_starting(s))
			M.woken = 1; /* READY (or gone): what waited in its queue is served now */
		if (s->gd.rnd->dead && !s->worker_down)
			worker_lost(s);
	}
}

/* The spawner reports how workers ended: kept with the vGPU the worker was for. */
void spawner_reap(void)
{
	int pid, status, r;
	char how[64];

	while ((r = render_spawner_ended(&M.spawner, &pid, &status)) > 0) {
		render_exit_text(status, how, sizeof(how));
		for (int i = 0; i < MAX_SLOTS; i++) {
			struct slot *s = &M.slots[i];

			if (s->used && s->wlog.now.pid == pid) {
				snprintf(s->wlog.last_status, sizeof(s->wlog.last_status), "%s", how);
				logf_("vgpu %s: render worker %d ended: %s", s->name, pid, how);
			}
		}
	}
	if (r < 0) {
		logf_("the render worker spawner is gone: no new worker can start (vGPUs set up from now on have 2D only)");
		watch_set(&M.w_spawner, -1);
		M.virgl = 0;
	}
}
