/* fences.c: fences: retired by the renderer, answered to their vGPUs in order, drained when a ring stops; the
 * watchdog that trips on a fence or a call held too long, and quarantine. */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

#include "loop/loop.h"
#include "mono_clock.h"

/* The renderer retired every fence up to `fence`; what it retired is charged and answered after its poll. */
void on_fence(void *opaque, struct renderer *r, uint32_t fence)
{
	struct slot *s = opaque; /* a vGPU's own worker, or NULL: the renderer every vGPU shares */

	(void)r;
	if (s) {
		s->fence_seen = fence;
		s->fence_new = 1;
		return;
	}
	M.fence_seen = fence;
	M.fence_new = 1;
}

static int batch_older(const void *a, const void *b)
{
	/* Fence order, wrap-aware: by distance back from the fence just seen, farthest first. */
	int32_t da = renderer_fence_since(M.fence_seen, ((const struct sched_batch *)a)->fence);
	int32_t db = renderer_fence_since(M.fence_seen, ((const struct sched_batch *)b)->fence);

	return da < db ? 1 : da > db ? -1 : 0;
}

/* A vGPU's requests whose fences retired are answered; a vtest client's owed busy-wait with them. */
static void fences_answer(struct slot *s, uint32_t fence)
{
	gpu_device_fences_done(&s->gd, fence);
	if (s->ep && !s->broken) {
		if (vtest_fences_done(&s->vt) < 0)
			slot_break(s, s->vt.why);
		vt_sync(s);
	}
}

/* --render-workers: each vGPU's worker is a timeline of its own. Its batches retired are charged to it on that
 * timeline (in fence order), then its requests answered. */
static void retire_own_fences(void)
{
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];
		struct sched_batch *b;
		size_t k = 0;

		if (!s->used || !s->active || !s->fence_new)
			continue;
		s->fence_new = 0;
		b = s->gd.npending ? malloc(s->gd.npending * sizeof(*b)) : NULL;
		for (unsigned p = 0; b && p < s->gd.npending &&
				     renderer_fence_since(s->fence_seen, s->gd.pending[p].host_fence) >= 0;
		     p++)
			b[k++] = (struct sched_batch){ (unsigned)i, s->gd.pending[p].t0_ns, s->gd.pending[p].host_fence };
		sched_retire_own(&M.sched, (unsigned)i, b, k, mono_ns());
		free(b);
		fences_answer(s, s->fence_seen);
	}
}

/* Charge the batches retired since the last poll to their vGPUs (in fence order), then answer their requests. */
void retire_fences(void)
{
	uint32_t fence = M.fence_seen;
	struct sched_batch *b;
	size_t k = 0, cap = 0;

	retire_own_fences();
	if (!M.fence_new)
		return;
	M.fence_new = 0;
	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used && M.slots[i].active)
			cap += M.slots[i].gd.npending;
	b = cap ? malloc(cap * sizeof(*b)) : NULL;
	for (int i = 0; b && i < MAX_SLOTS; i++) {
		const struct gpu_device *g = &M.slots[i].gd;

		if (!M.slots[i].used || !M.slots[i].active)
			continue;
		for (unsigned p = 0; p < g->npending && renderer_fence_since(fence, g->pending[p].host_fence) >= 0; p++)
			b[k++] = (struct sched_batch){ (unsigned)i, g->pending[p].t0_ns, g->pending[p].host_fence };
	}
	qsort(b, k, sizeof(*b), batch_older);
	/* Without memory for the list the batches go uncharged; their requests are still answered. */
	sched_retire(&M.sched, b, k, mono_ns());
	free(b);
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (s->used && s->active && s->gd.rnd == M.rnd)
			fences_answer(s, fence);
	}
}

/* A ring of s is stopping (the front-end waits for GET_VRING_BASE's reply): let the renderer finish the fences
 * of its requests, so their answers reach the ring before it stops. This holds the loop, so at most DRAIN_NS. */
void drain_fences(struct slot *s)
{
	uint64_t t0 = mono_ns(), now = t0, ms;

	while (s->gd.npending && now - t0 < DRAIN_NS) {
		struct timespec nap = { 0, 500000 };

		renderer_poll(s->gd.rnd);
		retire_fences();
		if (!s->gd.npending || (s->gd.rnd && s->gd.rnd->dead)) /* a worker gone retires nothing more */
			break;
		nanosleep(&nap, NULL);
		now = mono_ns();
	}
	ms = (mono_ns() - t0) / 1000000u;
	if (ms > s->health.drain_ms_max)
		s->health.drain_ms_max = ms;
	if (s->gd.npending) {
		s->health.drain_timeouts++;
		logf_("vgpu %s: ring stopped with %u fence(s) unfinished after %llu ms: their requests are dropped",
		      s->name, s->gd.npending, (unsigned long long)ms);
	}
}

/* A tripped vGPU under --watchdog-action quarantine: its waiting requests are answered (its guest stops waiting on
 * work the renderer may never finish) and it is not served until its driver resets the device. */
void quarantine(struct slot *s, const char *why)
{
	char reason[200];

	if (s->gd.npending)
		gpu_device_fences_done(&s->gd, s->gd.pending[s->gd.npending - 1].host_fence);
	/* Its own worker may be stuck in its work: it goes, and a fresh one comes with the reset. */
	if (M.workers && s->gd.rnd && !s->gd.rnd->dead) {
		char how[sizeof(s->wlog.last_exit)];

		render_worker_kill(s->gd.rnd, "killed by the watchdog");
		snprintf(how, sizeof(how), "killed by the watchdog: %.90s", why);
		worker_gone(s, how);
	}
	snprintf(reason, sizeof(reason), "watchdog: %s", why);
	slot_break(s, reason);
	logf_("vgpu %s: quarantined until its device is reset: %s", s->name, why);
}

/* The watchdog over every vGPU's oldest unretired fence: a trip is logged, and under quarantine the vGPU's waiting
 * requests are answered (its guest stops waiting on a fence the renderer may never retire) and it is not served
 * again until its driver resets the device. */
void watch_fences(void)
{
	uint64_t now = mono_ns();

	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];
		const struct gpu_pending *p = s->gd.npending ? &s->gd.pending[0] : NULL;

		if (!s->used || !s->active)
			continue;
		if (!watchdog_check(&s->wd, p != NULL, p ? p->host_fence : 0, p ? p->t0_ns : 0, now))
			continue;
		logf_("vgpu %s: watchdog: fence %u unretired after %llu ms (bound %llu ms), %u request(s) waiting%s",
		      s->name, s->wd.fence, (unsigned long long)(s->wd.stuck_ns / 1000000u),
		      (unsigned long long)(M.watchdog_ns / 1000000u), s->gd.npending,
		      M.watchdog_quarantine ? ": answered, vGPU quarantined until its device is reset" : "");
		if (M.watchdog_quarantine) {
			char why[96];

			snprintf(why, sizeof(why), "fence %u unretired after %llu ms", s->wd.fence,
				 (unsigned long long)(s->wd.stuck_ns / 1000000u));
			quarantine(s, why);
		}
	}
}

/* The watchdog thread: a loop held inside one vGPU's renderer calls past the bound answers nobody, not even
 * the control socket, so this thread says so in the log while it lasts (once per call). */
void *watchdog_thread(void *arg)
{
	uint64_t reported = 0;

	(void)arg;
	for (;;) {
		struct timespec nap = { 0, 100000000 };
		uint64_t since = atomic_load(&M.call_since), now = mono_ns();

		uint64_t bound = atomic_load(&M.watchdog_ns);

		if (bound && since && since != reported && now - since > bound) {
			unsigned i = atomic_load(&M.call_vgpu);
			int pid = atomic_load(&M.call_pid);

			reported = since;
			if (pid > 0 && M.watchdog_quarantine) {
				/* Its own worker holds the call: killed, the loop's wait ends at once (render/worker.c). */
				render_spawner_kill(&M.spawner, pid);
				logf_("vgpu %s: watchdog: its render worker %d held a call for %llu ms: killed",
				      i < MAX_SLOTS ? M.slots[i].name : "?", pid,
				      (unsigned long long)((now - since) / 1000000u));
				continue;
			}
			logf_("vgpu %s: watchdog: a renderer call has held the loop for %llu ms; every vGPU waits",
			      i < MAX_SLOTS ? M.slots[i].name : "?", (unsigned long long)((now - since) / 1000000u));
		}
		nanosleep(&nap, NULL);
	}
	return NULL;
}
