/* control_conn.c: the control socket's connections: requests read, answered from a snapshot of every vGPU's
 * counters (control.h), test faults, idle clients expired. */
#define _GNU_SOURCE

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop/loop.h"
#include "mono_clock.h"

/* Write all of buf to a control client (it has a 1 s send timeout). */
static void ctl_send(int fd, const char *buf)
{
	size_t len = buf ? strlen(buf) : 0, off = 0;

	while (off < len) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

/* Counters of one slot for the control socket. */
static struct control_vgpu slot_counters(struct slot *s)
{
	unsigned i = slot_index(s);

	if (M.workers && s->gd.rnd)
		render_worker_info(s->gd.rnd, &s->wlog.now);
	return (struct control_vgpu){ .name = s->name,
				      .sv = &M.sched.v[i],
				      .share = sched_share(&M.sched, i),
				      .connected = s->active,
				      .connects = s->connects,
				      .gd = s->active ? &s->gd : NULL,
				      .why = s->why,
				      .broken = s->broken,
				      .h = s->ep ? NULL : &s->health,
				      .wd = &s->wd,
				      .wl = M.workers ? &s->wlog : NULL,
				      .vtest = s->ep ? 2 : 0,
				      .program = s->vt.name,
				      .protocol = s->vt.version,
				      .shm_bytes = s->vt.shm_bytes };
}

/* A vtest endpoint as one vGPU: its clients' counters summed (into t and g, the caller's), each client listed. */
static struct control_vgpu ep_counters(const struct vtest_ep *ep, struct vt_totals *t, struct gpu_device *g,
				       struct control_vgpu *clients)
{
	size_t k = 0;
	double share = -1;

	*t = ep->gone;
	t->sv.weight = (unsigned)ep->weight;
	t->sv.target_fps = ep->fps;
	t->wd.bound_ns = M.watchdog_ns;
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (!s->used || !s->active || s->ep != ep)
			continue;
		vt_fold(t, s);
		t->sv.fps_last_s += M.sched.v[i].fps_last_s;
		t->resources += s->gd.res.live;
		t->contexts += s->gd.ctx.live;
		t->pending += s->gd.npending;
		t->wd.tripped |= s->wd.tripped;
		share = sched_share(&M.sched, (unsigned)i);
		clients[k++] = slot_counters(s);
	}
	gpu_device_init(g, NULL);
	g->virgl = M.virgl;
	g->st = t->st;
	g->res.live = t->resources;
	g->ctx.live = t->contexts;
	g->npending = (unsigned)t->pending;
	return (struct control_vgpu){ .name = ep->name,
				      .sv = &t->sv,
				      .share = share,
				      .connected = k > 0,
				      .connects = ep->connects,
				      .gd = g,
				      .why = ep->why,
				      .wd = &t->wd,
				      .vtest = 1,
				      .dropped = ep->dropped,
				      .clients = clients,
				      .nclients = k };
}

static char *ctl_snapshot(void)
{
	struct control_vgpu v[MAX_SLOTS + MAX_VTEST], clients[MAX_VTEST][MAX_SLOTS];
	struct vt_totals tot[MAX_VTEST];
	struct gpu_device agg[MAX_VTEST];
	size_t n = 0;

	charge_workers();
	sched_tick(&M.sched, mono_ns());
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (!s->used || s->ep)
			continue;
		s->health.ring_stops = s->health_base.ring_stops + (s->active ? s->vd.ring_stops : 0);
		s->health.resumes = s->health_base.resumes + (s->active ? s->vd.resumes : 0);
		s->health.resignals = s->health_base.resignals + (s->active ? s->vd.resignals : 0);
		v[n++] = slot_counters(s);
	}
	for (int e = 0; e < MAX_VTEST; e++)
		if (M.vtest[e].used)
			v[n++] = ep_counters(&M.vtest[e], &tot[e], &agg[e], clients[e]);
	return control_json(v, n, &M.sched, uptime_s());
}

/* `fault VGPU WHAT` (--test-faults): a vGPU's worker crashed (SIGSEGV), stopped, continued, or its next one slow
 * to start. The answer (malloc'd). */
static char *ctl_fault(const struct control_req *r)
{
	static const int sig[] = { [FAULT_WORKER_CRASH] = SIGSEGV, [FAULT_WORKER_STOP] = SIGSTOP,
				   [FAULT_WORKER_CONT] = SIGCONT };
	static const char *const what[] = { [FAULT_WORKER_CRASH] = "crashed", [FAULT_WORKER_STOP] = "stopped",
					    [FAULT_WORKER_CONT] = "continued" };
	struct slot *s = slot_named(r->vgpu);
	char err[160];

	if (!M.test_faults)
		return control_answer("fault requests are for tests: the mediator was not started with --test-faults");
	if (!s) {
		snprintf(err, sizeof(err), "no vGPU named '%.60s'", r->vgpu);
		return control_answer(err);
	}
	if (r->fault == FAULT_WORKER_DELAY) {
		s->fault_delay_ms = (uint32_t)r->delay_ms;
		logf_("control: fault: vgpu %s: its next worker waits %ld ms before READY", s->name, r->delay_ms);
		return control_answer(NULL);
	}
	if (render_worker_signal(s->gd.rnd, sig[r->fault]) < 0) {
		snprintf(err, sizeof(err), "vGPU '%.60s' has no render worker", r->vgpu);
		return control_answer(err);
	}
	logf_("control: fault: vgpu %s: its worker %s", s->name, what[r->fault]);
	return control_answer(NULL);
}

/* Carry out one request line; the answer (malloc'd). */
static char *ctl_request(const char *line)
{
	struct control_req r;
	char err[160];
	uint64_t now = mono_ns();
	struct slot *s;

	if (control_parse(line, &r, err, sizeof(err)) < 0) {
		logf_("control: refused a request: %s", err);
		return control_answer(err);
	}
	switch (r.op) {
	case CTL_STATS:
		return ctl_snapshot();
	case CTL_POLICY:
		sched_set_policy(&M.sched, (enum sched_policy)r.policy, now);
		logf_("control: policy %s", sched_policy_name(M.sched.policy));
		break;
	case CTL_TIMESLICE:
		sched_set_timeslice(&M.sched, (uint64_t)r.timeslice_ms * 1000000u, now);
		logf_("control: time slice %ld ms", r.timeslice_ms);
		break;
	case CTL_WATCHDOG:
		M.watchdog_ns = (uint64_t)r.watchdog_ms * 1000000u;
		if (r.watchdog_action >= 0)
			M.watchdog_quarantine = r.watchdog_action;
		for (int i = 0; i < MAX_SLOTS; i++)
			M.slots[i].wd.bound_ns = M.watchdog_ns;
		logf_("control: watchdog %ld ms, %s", r.watchdog_ms, M.watchdog_quarantine ? "quarantine" : "report");
		break;
	case CTL_FAULT:
		return ctl_fault(&r);
	case CTL_SET:
		if (!(s = slot_named(r.vgpu))) {
			snprintf(err, sizeof(err), "no vGPU named '%.60s'", r.vgpu);
			return control_answer(err);
		}
		if ((r.weight && sched_set_weight(&M.sched, slot_index(s), r.weight) < 0) ||
		    (r.fps >= 0 && sched_set_target(&M.sched, slot_index(s), r.fps) < 0))
			return control_answer("the scheduler refused the value");
		logf_("control: vgpu %s: weight %u, target %.1f fps", s->name, M.sched.v[slot_index(s)].weight,
		      M.sched.v[slot_index(s)].target_fps);
		break;
	}
	return control_answer(NULL);
}

static void ctl_close(struct ctl_conn *c, const char *line)
{
	char *out = ctl_request(line);

	ctl_send(c->w.fd, out);
	free(out);
	close(c->w.fd);
	watch_set(&c->w, -1);
	c->used = 0;
}

void on_control_accept(void)
{
	int fd = accept4(M.control_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct timeval tv = { 1, 0 };
	struct ctl_conn *c = NULL;

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < MAX_CTL && !c; i++)
		if (!M.ctl[i].used)
			c = &M.ctl[i];
	if (!c) { /* too many waiting: this one gets the counters at once */
		char *out = ctl_snapshot();

		ctl_send(fd, out);
		free(out);
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->since = mono_ns();
	c->w = (struct watch){ .kind = W_CTLCONN, .fd = -1 };
	if (watch_set(&c->w, fd) < 0) {
		close(fd);
		c->used = 0;
	}
}

/* A control client wrote: act on its line once whole, or on its shutdown. */
void on_control_data(struct watch *w)
{
	struct ctl_conn *c = (struct ctl_conn *)((char *)w - offsetof(struct ctl_conn, w));
	ssize_t n = read(w->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		c->len += (size_t)n;
	c->buf[c->len] = 0;
	if (n <= 0 || memchr(c->buf, '\n', c->len) || c->len == sizeof(c->buf) - 1) {
		char *nl = memchr(c->buf, '\n', c->len);

		if (nl)
			nl[1] = 0;
		ctl_close(c, c->buf);
	}
}

/* Clients that wrote nothing in time get the counters. Returns ms until the next one is due, -1 if none waits. */
int ctl_expire(uint64_t now)
{
	int next = -1;

	for (int i = 0; i < MAX_CTL; i++) {
		struct ctl_conn *c = &M.ctl[i];

		if (!c->used)
			continue;
		if (now >= c->since + CTL_WAIT_NS && !c->len) {
			ctl_close(c, "stats");
		} else {
			int ms =
			    now >= c->since + CTL_WAIT_NS ? 1 : (int)((c->since + CTL_WAIT_NS - now) / 1000000u) + 1;

			next = next < 0 || ms < next ? ms : next;
		}
	}
	return next;
}
