/* slots.c: the vGPU slots: a front-end's connection taken, its device model kept in step with its rings, broken
 * and let go; the sockets and watches of the loop; the log. */
#define _GNU_SOURCE

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loop/loop.h"
#include "mono_clock.h"

unsigned slot_index(const struct slot *s)
{
	return (unsigned)(s - M.slots);
}

/* Seconds since the mediator started. */
double uptime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - M.t0.tv_sec) + (double)(ts.tv_nsec - M.t0.tv_nsec) / 1e9;
}

void logf_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vgpu-mediator [%8.3f] ", uptime_s());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int watch_set(struct watch *w, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	if (w->fd == fd)
		return 0;
	if (w->fd >= 0)
		epoll_ctl(M.ep, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
	if (fd < 0)
		return 0;
	if (epoll_ctl(M.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		logf_("epoll_ctl add fd %d: %s", fd, strerror(errno));
		return -1;
	}
	w->fd = fd;
	return 0;
}

int listen_on(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "vgpu-mediator: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "vgpu-mediator: cannot listen on %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct slot *slot_new(const char *name)
{
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (s->used)
			continue;
		memset(s, 0, sizeof(*s));
		s->used = 1;
		s->listen_fd = -1;
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->health.last_reset_s = -1;
		watchdog_init(&s->wd, M.watchdog_ns);
		s->w_listen = (struct watch){ .kind = W_LISTEN, .s = s, .fd = -1 };
		s->w_conn = (struct watch){ .kind = W_CONN, .s = s, .fd = -1 };
		s->w_disp = (struct watch){ .kind = W_DISP, .s = s, .fd = -1 };
		s->w_worker = (struct watch){ .kind = W_WORKER, .s = s, .fd = -1 };
		for (unsigned q = 0; q < VDEV_MAX_QUEUES; q++)
			s->w_kick[q] = (struct watch){ .kind = W_KICK, .s = s, .qi = q, .fd = -1 };
		sched_vgpu_add(&M.sched, (unsigned)i);
		return s;
	}
	return NULL;
}

void slot_disconnect(struct slot *s, const char *why)
{
	if (!s->active)
		return;
	if (s->ep) {
		logf_("vgpu %s: vtest client '%s' gone: %s (%llu messages, %llu resources, %llu errors)", s->name,
		      s->vt.name, why, (unsigned long long)s->vt.messages, (unsigned long long)s->gd.res.live,
		      (unsigned long long)s->gd.st.errors);
		vt_fold(&s->ep->gone, s);
		watch_set(&s->w_conn, -1);
		vtest_free(&s->vt);
		worker_close(s);
		close(s->vt.fd);
		s->active = 0;
		s->used = 0;
		sched_present(&M.sched, slot_index(s), 0, mono_ns());
		sched_vgpu_remove(&M.sched, slot_index(s));
		return;
	}
	logf_("vgpu %s: disconnected: %s (%llu resources, %llu errors)", s->name, why,
	      (unsigned long long)s->gd.res.live, (unsigned long long)s->gd.st.errors);
	snprintf(s->why, sizeof(s->why), "%s", why);
	watch_set(&s->w_conn, -1);
	watch_set(&s->w_disp, -1);
	for (unsigned q = 0; q < VDEV_MAX_QUEUES; q++)
		watch_set(&s->w_kick[q], -1);
	s->health_base.ring_stops += s->vd.ring_stops;
	s->health_base.resumes += s->vd.resumes;
	s->health_base.resignals += s->vd.resignals;
	/* Only this vGPU's state goes: its resources, contexts, pending fences, mappings. */
	gpu_device_free(&s->gd);
	worker_close(s);
	vdev_free(&s->vd);
	s->active = 0;
	s->broken = 0;
	memset(s->ready, 0, sizeof(s->ready));
	sched_present(&M.sched, slot_index(s), 0, mono_ns());
	if (s->shared) {
		s->used = 0;
		sched_vgpu_remove(&M.sched, slot_index(s));
	}
}

static void slot_event(void *opaque, enum vdev_event ev, unsigned qi);

void slot_connect(struct slot *s, int fd)
{
	struct virtio_gpu_config cfg;
	struct timeval tv = { 1, 0 };

	/* Messages are taken as they arrive (vdev_handle_msg never waits); a front-end that does not read its
	 * replies costs at most this long per reply, once its socket buffer is full. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	gpu_device_config(&cfg, M.virgl);
	cfg.num_scanouts = s->outputs ? s->outputs : 1;
	vdev_init(&s->vd, fd, 2, gpu_device_features(M.virgl), &cfg, sizeof(cfg), gpu_device_handle, &s->gd);
	gpu_device_init(&s->gd, &s->vd);
	gpu_device_set_size(&s->gd, s->size_bytes);
	if (s->outputs && gpu_device_set_outputs(&s->gd, s->outputs, s->modes, s->nmodes, s->why, sizeof(s->why)) < 0)
		logf_("vgpu %s: its outputs: %s (one served)", s->name, s->why); /* checked at start: not met */
	worker_open(s);
	gpu_device_set_display_interval(&s->gd, M.display_interval_ns);
	s->vd.config_hook = gpu_device_config_write;
	s->vd.event_hook = slot_event;
	s->vd.event_ctx = s;
	s->active = 1;
	s->broken = 0;
	memset(s->kick_ns, 0, sizeof(s->kick_ns));
	s->connects++;
	s->why[0] = 0;
	sched_present(&M.sched, slot_index(s), 1, mono_ns());
	watch_set(&s->w_conn, fd);
	logf_("vgpu %s: front-end connected", s->name);
}

/* After each front-end message: follow the kick fds and take over a new display channel. */
void slot_sync(struct slot *s)
{
	if (s->vd.gpu_sock >= 0) {
		int fd = s->vd.gpu_sock;
		/* An update still going out on the old channel is waited for first. */
		struct gpu_display *d = gpu_device_display(&s->gd);

		s->vd.gpu_sock = -1;
		watch_set(&s->w_disp, -1);
		if (gdisp_attach(d, fd) < 0) {
			logf_("vgpu %s: display channel: %s", s->name, d->why);
		} else {
			/* A new channel (the VM restarted its device or resumed) knows no scanouts yet: QEMU must
			 * hear of each one before any update for it. */
			for (uint32_t i = 0; i < s->gd.num_scanouts; i++)
				if (s->gd.scanout[i].resource_id)
					gdisp_scanout(d, i, s->gd.scanout[i].r.width, s->gd.scanout[i].r.height);
			logf_("vgpu %s: display channel attached", s->name);
		}
	}
	watch_set(&s->w_disp, s->gd.disp.fd);
	if (s->broken && s->vd.gen != s->broken_gen && s->vd.q[GPU_CTRLQ].started) {
		/* The front-end stopped and restarted its rings: a fresh ring is served again. */
		s->broken = 0;
		s->health.recoveries++;
		if (s->worker_down) { /* what the vGPU held died with its worker: it starts afresh on a new one */
			gpu_device_reset(&s->gd);
			worker_close(s);
			worker_open(s);
		}
		logf_("vgpu %s: rings restarted, served again", s->name);
	}
	for (unsigned q = 0; q < s->vd.nqueues; q++) {
		watch_set(&s->w_kick[q], s->vd.q[q].kick_fd);
		/* A ring (re)started may hold requests already. */
		if (s->vd.q[q].started && s->vd.q[q].enabled) {
			s->ready[q] = 1;
			sched_wait(&M.sched, slot_index(s), mono_ns());
		}
	}
}

/* A broken vGPU: not served until its front-end restarts its rings (a VM) or dropped (a vtest client). */
void slot_break(struct slot *s, const char *why)
{
	size_t n = strnlen(why, sizeof(s->why) - 1);

	s->broken = 1;
	s->broken_gen = s->vd.gen;
	memset(s->ready, 0, sizeof(s->ready));
	memmove(s->why, why, n); /* why may be another reason of the same slot */
	s->why[n] = 0;
}

/* What the vhost-user layer tells besides requests: a ring stopping, a device reset, guest memory remapped. */
static void slot_event(void *opaque, enum vdev_event ev, unsigned qi)
{
	struct slot *s = opaque;
	size_t res = s->gd.res.live, ctx = s->gd.ctx.live;

	switch (ev) {
	case VDEV_RING_STOPPING:
		if (qi == GPU_CTRLQ)
			drain_fences(s);
		break;
	case VDEV_DEVICE_RESET:
		/* Only this vGPU's state goes; the rings serve again once set up. A worker that died is replaced. */
		gpu_device_reset(&s->gd);
		if (s->worker_down) {
			worker_close(s);
			worker_open(s);
		}
		watchdog_clear(&s->wd);
		s->health.resets++;
		s->health.last_reset_s = uptime_s();
		snprintf(s->health.last_reset, sizeof(s->health.last_reset),
			 "%.100s: dropped %zu resource(s), %zu context(s)", s->vd.reset_why, res, ctx);
		if (s->broken) {
			s->broken = 0;
			s->health.recoveries++;
		}
		logf_("vgpu %s: device reset (%s)", s->name, s->health.last_reset);
		break;
	case VDEV_MEM_REMAPPED: {
		uint64_t lost = s->gd.backings_lost;

		gpu_device_mem_remapped(&s->gd);
		if (s->gd.backings_lost != lost)
			logf_("vgpu %s: guest memory remapped: %llu backing(s) dropped (%s)", s->name,
			      (unsigned long long)(s->gd.backings_lost - lost), s->gd.st.last_error);
		break;
	}
	}
}

struct slot *slot_named(const char *name)
{
	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used && !strcmp(M.slots[i].name, name))
			return &M.slots[i];
	return NULL;
}
