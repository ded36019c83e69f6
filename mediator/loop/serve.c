/* serve.c: one pass of the loop: events handled, the vGPUs with work given turns in the scheduler's order,
 * display updates presented, the throttle, and how long the next wait may sleep. */
#define _GNU_SOURCE

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loop/loop.h"
#include "mono_clock.h"

static void on_listen(struct watch *w)
{
	int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
	struct slot *s = w->s;

	if (fd < 0)
		return;
	if (s) { /* a named vGPU's own socket */
		if (s->active) {
			logf_("vgpu %s: a second front-end was refused (one VM per vGPU socket)", s->name);
			close(fd);
			return;
		}
	} else {
		char name[32];

		snprintf(name, sizeof(name), "vgpu%u", M.next_anon++);
		s = slot_new(name);
		if (!s) {
			logf_("refused a front-end: all %d vGPU slots are in use", MAX_SLOTS);
			close(fd);
			return;
		}
		s->shared = 1;
	}
	slot_connect(s, fd);
}

void on_event(struct watch *w)
{
	struct slot *s = w->s;
	uint64_t n;

	switch (w->kind) {
	case W_LISTEN:
		on_listen(w);
		break;
	case W_VTEST:
		on_vtest_accept(w->ep);
		break;
	case W_CONN: {
		int r;

		if (s->ep) {
			on_vtest_data(s);
			break;
		}
		r = vdev_handle_msg(&s->vd);

		if (r <= 0) {
			slot_disconnect(s, r == 0 ? "front-end closed the connection" : s->vd.why);
			return;
		}
		if (r == 2) /* the rest of the message has not come yet */
			break;
		if (M.trace_vhost)
			logf_("vgpu %s: << %s", s->name, s->vd.last_msg);
		if (s->vd.why[0]) {
			logf_("vgpu %s: %s", s->name, s->vd.why);
			s->vd.why[0] = 0;
		}
		slot_sync(s);
		break;
	}
	case W_KICK:
		if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			logf_("vgpu %s: kick %u: %s", s->name, w->qi, strerror(errno));
		s->ready[w->qi] = 1;
		if (!s->kick_ns[w->qi])
			s->kick_ns[w->qi] = mono_ns();
		sched_wait(&M.sched, slot_index(s), mono_ns());
		break;
	case W_DISP:
		if (gdisp_readable(gpu_device_display(&s->gd)) < 0) {
			logf_("vgpu %s: display channel closed: %s", s->name, s->gd.disp.why);
			watch_set(&s->w_disp, -1);
		}
		break;
	case W_CONTROL:
		on_control_accept();
		break;
	case W_CTLCONN:
		on_control_data(w);
		break;
	case W_WORKER: /* its worker sent something: taken in (and a worker gone seen) by poll_renderers */
		break;
	case W_SPAWNER:
		spawner_reap();
		break;
	case W_SENT: /* a display sender is done with an update: taken in by present_all */
		if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			logf_("display sender wake-up: %s", strerror(errno));
		break;
	case W_SIGNAL:
		break;
	}
}

/* Whether s's renderer has batches in flight (its own worker's, or the shared renderer's: anyone's). */
static int in_flight_for(const struct slot *s)
{
	return renderer_fences_pending(M.workers ? s->gd.rnd : M.rnd);
}

/* Whether any renderer has batches in flight. */
static int any_in_flight(void)
{
	if (renderer_fences_pending(M.rnd))
		return 1;
	for (int i = 0; M.workers && i < MAX_SLOTS; i++)
		if (M.slots[i].used && M.slots[i].active && renderer_fences_pending(M.slots[i].gd.rnd))
			return 1;
	return 0;
}

/* The vGPU whose batch has been in flight longest (the head of the renderer's timeline), or NULL. */
static struct slot *oldest_batch_owner(void)
{
	struct slot *best = NULL;

	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (s->used && s->active && s->gd.npending &&
		    (!best || s->gd.pending[0].t0_ns < best->gd.pending[0].t0_ns))
			best = s;
	}
	return best;
}

/* The queues a vGPU is served from: its rings, or a vtest client's one stream. */
static unsigned slot_queues(const struct slot *s)
{
	return s->ep ? 1 : s->vd.nqueues;
}

/* Serve one chunk of queue q of vGPU i, charging its time. -1 when the ring broke, 1 when it has more, 0 when done. */
static int serve_chunk(struct slot *s, unsigned i, unsigned q)
{
	uint64_t t0 = mono_ns(), t1, flushes = s->gd.st.flushes, c0 = call_cpu_start();
	int in_flight = in_flight_for(s), r;
	/* One shared renderer is one timeline: a call waits on the oldest batch of anyone's. A worker waits on its own. */
	struct slot *culprit = M.workers ? (s->gd.npending ? s : NULL) : oldest_batch_owner();
	struct gpu_pending head = { 0 };

	if (s->kick_ns[q]) {
		stage_record(&s->gd.st.stage[STAGE_KICK_WAIT], t0 - s->kick_ns[q]);
		s->kick_ns[q] = 0;
	}
	if (!culprit)
		culprit = s;
	else
		head = culprit->gd.pending[0]; /* the batch a held call waits on: one trip, not a second for its fence */
	atomic_store(&M.call_vgpu, i);
	atomic_store(&M.call_pid, worker_pid(s));
	atomic_store(&M.call_since, t0);
	r = s->ep ? vtest_serve(&s->vt, CHUNK) : vdev_serve(&s->vd, q, CHUNK);

	t1 = mono_ns();
	atomic_store(&M.call_since, 0);
	atomic_store(&M.call_pid, 0);
	/* A call held this long waited on the renderer's in-order timeline: on the oldest batch in flight when it
	 * began (that vGPU's work is the cause), or on its own work when none was. */
	if (watchdog_call(&culprit->wd, t0, t1, culprit != s || head.t0_ns, head.host_fence, head.t0_ns)) {
		logf_("vgpu %s: watchdog: the renderer held every vGPU for %llu ms (bound %llu ms) in a call for vgpu %s%s: "
		      "one shared GL context cannot be preempted",
		      culprit->name, (unsigned long long)((t1 - t0) / 1000000u),
		      (unsigned long long)(M.watchdog_ns / 1000000u), s->name,
		      culprit != s ? ", behind the batch in flight" : "");
		if (M.watchdog_quarantine) {
			char why[96];

			snprintf(why, sizeof(why), "its work held the renderer %llu ms",
				 (unsigned long long)((t1 - t0) / 1000000u));
			quarantine(culprit, why);
		}
	}
	charge_call(i, t0, t1, c0, in_flight);
	for (; flushes < s->gd.st.flushes; flushes++)
		sched_frame(&M.sched, i, t1);
	if (r < 0 && s->ep) {
		/* The client is dropped once the round is over (vt_reap). */
		slot_break(s, s->vt.why);
		return -1;
	}
	if (r < 0) {
		/* virtio's NEEDS_RESET: this vGPU stops being served; the others go on. */
		slot_break(s, s->vd.why);
		logf_("vgpu %s: queue %u broken, vGPU stopped: %s", s->name, q, s->vd.why);
		return -1;
	}
	if (!s->ep && s->vd.q[q].put_back) {
		s->behind = 1; /* its queue stays ready: served again once its worker is done (serve_round) */
		return 0;
	}
	if (s->ep) {
		vt_sync(s);
		return s->ready[0];
	}
	if (r < CHUNK) {
		s->ready[q] = 0;
		return 0;
	}
	return 1;
}

/* The vGPU's display channel failed (a send or a reply timed out): closed already, so no longer watched. Called
 * before any descriptor is made, or its number could be another's by then. */
static void disp_sync(struct slot *s)
{
	if (s->w_disp.fd >= 0 && s->gd.disp.fd < 0) {
		logf_("vgpu %s: display channel closed: %s", s->name, s->gd.disp.why);
		watch_set(&s->w_disp, -1);
	}
}

/* One turn of vGPU i: chunks of its queues until they are empty, its time slice is over or its share is spent.
 * 1 if it still has work. */
static int serve_turn(struct slot *s, unsigned i)
{
	uint64_t start = mono_ns(), now;

	sched_turn(&M.sched, i, start);
	for (;;) {
		int left = 0;

		for (unsigned q = 0; q < slot_queues(s); q++) {
			int r;

			if (!s->ready[q])
				continue;
			if ((r = serve_chunk(s, i, q)) < 0)
				return 0;
			left |= r;
		}
		if (!left)
			return 0;
		now = mono_ns();
		if (sched_slice_over(&M.sched, start, now) || !sched_may_serve(&M.sched, i, now))
			return 1;
	}
}

/* The vGPUs that put a request back and whose worker's work is now done may be served again (the one place their
 * s->behind is let go, at the end of every pass of the loop): 1 when there was one. */
int behind_done(void)
{
	int any = 0;

	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used && M.slots[i].behind && !gpu_device_renderer_busy(&M.slots[i].gd)) {
			M.slots[i].behind = 0;
			any = 1;
		}
	return any;
}

void resignal_unheard(void)
{
	uint64_t now = mono_ns();
	int watched = 0;

	if (now - M.unheard_looked < UNHEARD_POLL_NS)
		return;
	M.unheard_looked = now;
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];
		uint64_t before = s->vd.resignals;
		int r;

		if (!s->used || !s->active || s->ep || s->broken)
			continue;
		r = vdev_resignal(&s->vd, now, UNHEARD_AFTER_NS, &watched);
		if (r < 0)
			logf_("vgpu %s: signalling its driver again failed: %s", s->name, strerror(errno));
		else if (r > 0 && before == 0)
			logf_("vgpu %s: its driver waited %llu ms or more for a signal it should have had (an interrupt "
			      "lost on the way?): signalled again (counted in health.resignals; logged once)",
			      s->name, UNHEARD_AFTER_NS / 1000000ull);
	}
}

/* One round: every vGPU with work, in the scheduler's order, gets a turn unless its share is spent. 1 if any work
 * remains that may be served now. */
int serve_round(void)
{
	int work[MAX_SLOTS], more = 0;
	unsigned order[MAX_SLOTS];
	size_t k;

	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		work[i] = 0;
		if (s->used)
			sched_busy(&M.sched, (unsigned)i, s->gd.npending > 0);
		if (!s->used || !s->active || s->broken || worker_starting(s) || s->behind)
			continue;
		for (unsigned q = 0; q < slot_queues(s); q++)
			work[i] |= s->ready[q];
	}
	M.held = 0;
	k = sched_order(&M.sched, work, MAX_SLOTS, order);
	for (size_t j = 0; j < k; j++) {
		unsigned i = order[j];
		int more_here;

		if (!sched_may_serve(&M.sched, i, mono_ns())) {
			M.held = 1;
			continue;
		}
		more_here = serve_turn(&M.slots[i], i);
		disp_sync(&M.slots[i]);
		if (more_here) {
			sched_wait(&M.sched, i, mono_ns());
			more = 1;
		}
	}
	return more;
}

/* The display updates that are due: updates a sender finished are taken in (a failed channel is closed and no
 * longer watched), then each vGPU's due damage is read back (the loop thread holds the GL context) or copied, and
 * handed to the display senders, which put it on the channels while the loop goes on serving. A vGPU is charged
 * its read-back like a renderer call; the sends are no render-thread time. Leaves in M.present_wait_ns when the
 * next one is due. */
void present_all(void)
{
	uint64_t wait = UINT64_MAX;

	for (unsigned i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];
		uint64_t t0, t1, w, read, c0;
		int in_flight;

		if (!s->used || !s->active || s->ep)
			continue;
		in_flight = in_flight_for(s);
		gpu_device_present_collect(&s->gd);
		disp_sync(s);
		read = s->gd.st.present_ns;
		c0 = call_cpu_start();
		t0 = mono_ns();
		atomic_store(&M.call_vgpu, i);
		atomic_store(&M.call_pid, worker_pid(s));
		atomic_store(&M.call_since, t0);
		w = gpu_device_present_prepare(&s->gd, t0);
		atomic_store(&M.call_since, 0);
		atomic_store(&M.call_pid, 0);
		t1 = mono_ns();
		if (s->gd.st.present_ns != read)
			charge_call(i, t0, t1, c0, in_flight);
		gpu_device_present_send(&s->gd);
		if (w < wait)
			wait = w;
	}
	M.present_wait_ns = wait;
}

/* --throttle: while a pause is owed nothing is served; once the batches in flight have retired (so the pause is
 * not charged to them), or after THROTTLE_DRAIN_NS of waiting for them, the loop sleeps it. 1 while service is held. */
#define THROTTLE_DRAIN_NS 100000000ull

int throttle_step(void)
{
	uint64_t due = sched_throttle_due(&M.sched), now;
	struct timespec ts;

	if (!due) {
		M.throttle_hold = 0;
		return 0;
	}
	now = mono_ns();
	if (!M.throttle_hold)
		M.throttle_hold = now;
	if (any_in_flight() && now - M.throttle_hold < THROTTLE_DRAIN_NS)
		return 1;
	ts.tv_sec = (time_t)(due / 1000000000u);
	ts.tv_nsec = (long)(due % 1000000000u);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	sched_throttle_paid(&M.sched, mono_ns() - now);
	M.throttle_hold = 0;
	return 0;
}

/* How long the loop may sleep (ms, -1 forever): not at all with work left, 1 ms while fences are in flight (the
 * poll that sees them retire), until the next period while a vGPU is held, until a quiet control client is due. */
static int loop_timeout(int more)
{
	uint64_t now = mono_ns(), end = M.sched.period_start + M.sched.period_ns;
	int t = -1, c;

	if (more || M.woken) {
		M.woken = 0;
		return 0;
	}
	/* Retirement is seen at this poll; a throttle holding service for its pause waits on it too. */
	if (any_in_flight() || M.throttle_hold)
		t = 1;
	for (int i = 0; i < MAX_SLOTS && t != 1; i++) /* a worker's start is bounded: look now and then */
		if (M.slots[i].used && M.slots[i].active && worker_starting(&M.slots[i]))
			t = t < 0 || t > 10 ? 10 : t;
	if (M.held) {
		int ms = now >= end ? 0 : (int)((end - now) / 1000000u) + 1;

		t = t < 0 || ms < t ? ms : t;
	}
	if (M.present_wait_ns != UINT64_MAX) {
		uint64_t ms = (M.present_wait_ns + 999999u) / 1000000u;

		if (t < 0 || ms < (uint64_t)t)
			t = (int)ms;
	}
	c = ctl_expire(now);
	if (c >= 0 && (t < 0 || c < t))
		t = c;
	for (int i = 0; i < MAX_SLOTS && t != 0; i++) /* resignal_unheard looks at the rings now and then */
		if (M.slots[i].used && M.slots[i].active && !M.slots[i].ep) {
			c = (int)(UNHEARD_POLL_NS / 1000000u);
			t = t < 0 || c < t ? c : t;
			break;
		}
	return t;
}

/* Wait for events as loop_timeout says, more finely while a vtest client waits on its fences. */
int loop_wait(struct epoll_event *ev, int max, int more)
{
	int ms = loop_timeout(more);

	if (ms != 0 && vt_owed()) {
		struct timespec fine = { 0, OWED_POLL_NS };

		return epoll_pwait2(M.ep, ev, max, &fine, NULL);
	}
	return epoll_wait(M.ep, ev, max, ms);
}
