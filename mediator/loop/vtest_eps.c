/* vtest_eps.c: the vtest endpoints: dom0's GL clients, one vGPU each, taken, served and reaped, their counts
 * folded into their endpoint's as they leave. */
#define _GNU_SOURCE

#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop/loop.h"
#include "mono_clock.h"

/* Add what a vtest client used to t. */
void vt_fold(struct vt_totals *t, const struct slot *s)
{
	sched_account_add(&t->sv, &M.sched.v[slot_index(s)]);
	gpu_stats_add(&t->st, &s->gd.st);
	t->wd.trips += s->wd.trips;
	t->wd.call_trips += s->wd.call_trips;
	if (s->wd.longest_ns > t->wd.longest_ns)
		t->wd.longest_ns = s->wd.longest_ns;
}

/* After a vtest client's messages were read, served or answered: whether it has work, and whether to read it. */
void vt_sync(struct slot *s)
{
	int had = s->ready[0];

	if (!s->active || s->broken)
		return;
	s->ready[0] = vtest_has_work(&s->vt);
	if (s->ready[0] && !had) {
		sched_wait(&M.sched, slot_index(s), mono_ns());
		M.woken = 1; /* messages it sent while held may all be in already */
	}
	watch_set(&s->w_conn, vtest_want_read(&s->vt) ? s->vt.fd : -1);
}

/* A vtest client broke the protocol or had a command refused: it goes alone, its reason kept on the endpoint. */
static void vt_drop(struct slot *s, const char *why)
{
	struct vtest_ep *ep = s->ep;

	ep->dropped++;
	snprintf(ep->why, sizeof(ep->why), "%.60s ('%.60s'): %.120s", s->name, s->vt.name, why);
	slot_disconnect(s, why);
}

/* Drop the vtest clients marked broken during the loop's last pass (never while one is being served). */
void vt_reap(void)
{
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (s->used && s->active && s->ep && s->broken) {
			char why[sizeof(s->why)];

			memcpy(why, s->why, sizeof(why));
			vt_drop(s, why);
		}
	}
}

void on_vtest_accept(struct vtest_ep *ep)
{
	int fd = accept4(ep->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	struct timeval tv = { 1, 0 };
	char name[80];
	struct slot *s;

	if (fd < 0)
		return;
	snprintf(name, sizeof(name), "%s#%llu", ep->name, (unsigned long long)ep->connects + 1);
	if (!(s = slot_new(name))) {
		logf_("vtest %s: refused a client: all %d vGPU slots are in use", ep->name, MAX_SLOTS);
		close(fd);
		return;
	}
	ep->connects++;
	/* Replies are small and the client reads them before it writes on: a client that stops reading costs at
	 * most this long per reply. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	s->ep = ep;
	s->shared = 1;
	s->active = 1;
	s->connects = 1;
	gpu_device_init(&s->gd, NULL);
	gpu_device_set_size(&s->gd, ep->size_bytes);
	worker_open(s);
	vtest_init(&s->vt, fd, &s->gd);
	sched_set_weight(&M.sched, slot_index(s), ep->weight);
	sched_set_target(&M.sched, slot_index(s), ep->fps);
	sched_present(&M.sched, slot_index(s), 1, mono_ns());
	watch_set(&s->w_conn, fd);
	logf_("vgpu %s: vtest client connected", s->name);
}

/* A vtest client wrote: take it in, or let it go when it closed or broke the protocol. */
void on_vtest_data(struct slot *s)
{
	int r = vtest_read(&s->vt);

	if (r > 0 && !s->kick_ns[0])
		s->kick_ns[0] = mono_ns();
	if (r == 0)
		slot_disconnect(s, "the client closed the connection");
	else if (r < 0)
		vt_drop(s, s->vt.why);
	else
		vt_sync(s);
}

struct vtest_ep *ep_named(const char *name)
{
	for (int i = 0; i < MAX_VTEST; i++)
		if (M.vtest[i].used && !strcmp(M.vtest[i].name, name))
			return &M.vtest[i];
	return NULL;
}

/* A vtest client is blocked in a busy-wait: its program waits on the answer (Mesa does so about once a frame), so
 * the renderer is polled every OWED_POLL_NS rather than every 1 ms. */
int vt_owed(void)
{
	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used && M.slots[i].active && M.slots[i].ep && M.slots[i].vt.owe_busy)
			return 1;
	return 0;
}
