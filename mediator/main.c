/* main.c: vgpu-mediator, one process serving many VMs' vGPUs over
 * vhost-user-gpu. One thread runs the event loop and the renderer: it takes
 * front-end messages, kicks and display replies as they come, and gives the
 * vGPUs with work turns on the one renderer in the order and for the time
 * the scheduler (gpu_sched.h) decides: a turn lasts up to a time slice, a vGPU
 * whose share is spent waits for the next period. Every renderer call and
 * every retired fence is charged to its vGPU on one timeline.
 *
 *   vgpu-mediator --listen DIR           DIR/vgpu.sock takes any number of VMs
 *   vgpu-mediator --vgpu name=g1,socket=PATH[,weight=N][,fps=F][,mem=MIB] [--vgpu ...]   mem: the vGPU's size
 *   vgpu-mediator --vtest name=dom0,socket=PATH[,weight=N][,fps=F]   the host's own GL clients (Mesa's
 *                 virpipe driver): each connection is a vGPU of its own (vtest_dev.h), counted under NAME
 *   options: --control PATH  --render-node PATH|auto|none  --no-virgl
 *            --policy best-effort|equal-share|fixed-share|equal-share-wc|fixed-share-wc|sla  --timeslice-ms N
 *            --trace-vhost (log every front-end message)
 *            --watchdog-ms N (default 2000, 0 off)  --watchdog-action report|quarantine
 *            --throttle PCT (withhold the renderer PCT% of its busy time: a known slowdown, gpu_sched.h)
 *            --no-sandbox | --sandbox-user USER (default nobody, when root)  --sandbox-self-test
 *            --render-workers (each vGPU renders in a process of its own, render_worker.h)
 *            --worker-timeout-ms N (default 10000: a worker that answers a call no sooner is killed)
 *            --test-faults (tests only: the control socket takes `fault VGPU worker-crash|...`)
 * Once its sockets and renderer are up it confines itself (sandbox.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "process/control.h"
#include "display/copy_pool.h"
#include "sched/cpu_clock.h"
#include "display/display_sender.h"
#include "device/gpu_device.h"
#include "mono_clock.h"
#include "render/render_worker.h"
#include "render/renderer.h"
#include "sched/gpu_sched.h"
#include "process/sandbox.h"
#include "device/vtest_dev.h"
#include "sched/watchdog.h"

#define MAX_SLOTS SCHED_MAX_VGPUS
#define CHUNK 4 /* commands served between two looks at the clock within a turn */
#define MAX_CTL 8 /* control connections open at once */
#define MAX_VTEST 4 /* vtest endpoints */
#define CTL_WAIT_NS 200000000ull /* a control client that writes nothing this long gets the counters */
#define OWED_POLL_NS 100000 /* how often the renderer is polled while a vtest client blocks in a busy-wait */
#define DISPLAY_DEFAULT_FPS 60 /* --display-fps: a display's usual refresh */
#define COPY_THREADS_DEFAULT_MAX 3 /* --copy-threads by default: the CPUs but one, at most this many */
#define DISPLAY_THREADS_DEFAULT 1  /* --display-threads: one sender puts every vGPU's updates on their channels */
#define DRAIN_NS 2000000000ull /* the longest a stopping ring waits for its fences (it holds every vGPU) */
#define WORKER_TIMEOUT_DEFAULT_MS 10000 /* --worker-timeout-ms */

enum watch_kind {
	W_LISTEN, W_CONN, W_KICK, W_DISP, W_CONTROL, W_CTLCONN, W_SIGNAL, W_VTEST, W_SENT, W_WORKER, W_SPAWNER
};

struct slot;
struct vtest_ep;

struct watch {
	enum watch_kind kind;
	struct slot *s;
	struct vtest_ep *ep; /* W_VTEST */
	unsigned qi;
	int fd; /* the fd registered, -1 none */
};

struct ctl_conn {
	int used;
	uint64_t since;
	size_t len;
	char buf[CONTROL_MAX_LINE + 2];
	struct watch w;
};

struct slot {
	char name[64];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int shared;  /* accepted on the shared --listen socket: the slot goes away on disconnect */
	int used;
	int active;  /* a front-end is connected */
	int broken;  /* a queue is broken: not served until the front-end restarts its rings (or reconnects) */
	uint32_t broken_gen; /* vd.gen when it broke: a restart of the rings changes it */
	uint64_t connects;
	struct vgpu_health health;
	struct watchdog wd;
	struct vgpu_health health_base; /* ring_stops and resumes of the connections before this one */
	char why[256];
	struct vdev vd;
	struct gpu_device gd;
	int ready[VDEV_MAX_QUEUES];
	uint64_t kick_ns[VDEV_MAX_QUEUES]; /* the oldest kick (vtest: message) not yet served, 0 for none */
	struct watch w_listen, w_conn, w_kick[VDEV_MAX_QUEUES], w_disp;
	struct vtest_ep *ep; /* a vtest client of this endpoint (its vGPU has no vdev), else NULL */
	struct vtest_dev vt;
	/* --render-workers: its own renderer (gd.rnd) is a worker process; fences it retired, not yet taken in. */
	struct watch w_worker;
	uint32_t fence_seen;
	int fence_new;
	int worker_down; /* its worker died or was cut off: seen, the vGPU broken until its device is reset */
	uint64_t size_bytes; /* --vgpu ...,mem=: the vGPU's size (0: none) */
	struct vgpu_worker_log wlog;
	uint32_t fault_delay_ms; /* --test-faults: how long its next worker waits before READY */
	int behind; /* a request was put back until its worker's work is done (gpu_device_handle): not served till then */
	struct cpu_clock cpu; /* its worker's CPU time, charged on a software renderer (charge_workers) */
};

/* What a vtest endpoint's clients used: those gone, summed as they leave, plus (at a snapshot) those here. */
struct vt_totals {
	struct sched_vgpu sv; /* accounting only */
	struct gpu_stats st;
	uint64_t resources, contexts, pending;
	struct watchdog wd; /* trips summed, the longest of all */
};

/* A vtest socket: dom0's GL clients, one vGPU per connection, counted together under the endpoint's name. */
struct vtest_ep {
	int used;
	char name[64];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	long weight;
	double fps;
	uint64_t size_bytes; /* each client's vGPU size (0: none) */
	uint64_t connects, dropped;
	char why[256]; /* why the last client was dropped */
	struct vt_totals gone;
	struct watch w;
};

static struct {
	int ep;
	struct slot slots[MAX_SLOTS];
	int shared_fd;
	char shared_path[108];
	int control_fd;
	char control_path[108];
	struct watch w_shared, w_control, w_signal;
	struct watch w_sent; /* the display senders' wake-up (an eventfd) */
	int virgl;
	unsigned next_anon;
	struct timespec t0;
	struct sched sched;
	int held;              /* a vGPU with work is held by its share: wake at the next period */
	int woken;             /* a vGPU has work again with nothing to wake the loop (a vtest client's hold ended,
				* a worker said READY): the next wait does not sleep */
	uint64_t throttle_hold; /* --throttle: since when service is held for a pause owed (0: not held) */
	uint64_t display_interval_ns; /* --display-fps: the displays' refresh (0: every flush, sent as it comes) */
	uint64_t present_wait_ns;     /* until the next display update is due (UINT64_MAX: none pending) */
	struct renderer *rnd;  /* the renderer every 3D vGPU shares (NULL: 2D only, or each its own worker) */
	int workers;           /* --render-workers */
	int test_faults;       /* --test-faults: the control socket's fault requests are taken */
	struct render_spawner spawner;
	struct watch w_spawner;
	uint64_t worker_timeout_ms;
	_Atomic int call_pid;  /* the worker of the vGPU the loop serves (0: none), for the watchdog thread */
	uint32_t fence_seen;   /* the renderer's last retired fence, reported by on_fence */
	int fence_new;
	struct ctl_conn ctl[MAX_CTL];
	struct vtest_ep vtest[MAX_VTEST];
	int trace_vhost;       /* log every front-end message */
	_Atomic uint64_t watchdog_ns; /* a fence unretired this long trips the vGPU's watchdog (0: off) */
	int watchdog_quarantine; /* on a trip: answer the vGPU's waiting requests and stop serving it until reset */
	/* While the loop serves a vGPU (renderer calls included): which, and since when (0: not serving). The
	 * watchdog thread reads them to say, while it lasts, which vGPU holds every other one. */
	_Atomic unsigned call_vgpu;
	_Atomic uint64_t call_since;
} M = { .ep = -1, .shared_fd = -1, .control_fd = -1, .present_wait_ns = UINT64_MAX };

static unsigned slot_index(const struct slot *s)
{
	return (unsigned)(s - M.slots);
}

/* Seconds since the mediator started. */
static double uptime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - M.t0.tv_sec) + (double)(ts.tv_nsec - M.t0.tv_nsec) / 1e9;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logf_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vgpu-mediator [%8.3f] ", uptime_s());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int watch_set(struct watch *w, int fd)
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

static int listen_on(const char *path)
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

static struct slot *slot_new(const char *name)
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

/* Add what a vtest client used to t. */
static void vt_fold(struct vt_totals *t, const struct slot *s)
{
	sched_account_add(&t->sv, &M.sched.v[slot_index(s)]);
	gpu_stats_add(&t->st, &s->gd.st);
	t->wd.trips += s->wd.trips;
	t->wd.call_trips += s->wd.call_trips;
	if (s->wd.longest_ns > t->wd.longest_ns)
		t->wd.longest_ns = s->wd.longest_ns;
}

static void worker_open(struct slot *s);
static void worker_close(struct slot *s);

static void slot_disconnect(struct slot *s, const char *why)
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

static void slot_connect(struct slot *s, int fd)
{
	struct virtio_gpu_config cfg;
	struct timeval tv = { 1, 0 };

	/* Messages are taken as they arrive (vdev_handle_msg never waits); a front-end that does not read its
	 * replies costs at most this long per reply, once its socket buffer is full. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	gpu_device_config(&cfg, M.virgl);
	vdev_init(&s->vd, fd, 2, gpu_device_features(M.virgl), &cfg, sizeof(cfg), gpu_device_handle, &s->gd);
	gpu_device_init(&s->gd, &s->vd);
	gpu_device_set_size(&s->gd, s->size_bytes);
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
static void slot_sync(struct slot *s)
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

/* After a vtest client's messages were read, served or answered: whether it has work, and whether to read it. */
static void vt_sync(struct slot *s)
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
static void vt_reap(void)
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

/* A broken vGPU: not served until its front-end restarts its rings (a VM) or dropped (a vtest client). */
static void slot_break(struct slot *s, const char *why)
{
	size_t n = strnlen(why, sizeof(s->why) - 1);

	s->broken = 1;
	s->broken_gen = s->vd.gen;
	memset(s->ready, 0, sizeof(s->ready));
	memmove(s->why, why, n); /* why may be another reason of the same slot */
	s->why[n] = 0;
}

static void on_vtest_accept(struct vtest_ep *ep)
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
static void on_vtest_data(struct slot *s)
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

/* The renderer retired every fence up to `fence`; what it retired is charged and answered after its poll. */
static void on_fence(void *opaque, struct renderer *r, uint32_t fence)
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

/* --render-workers: a vGPU set up now gets a worker of its own. It starts meanwhile; the vGPU is not served until
 * it said READY (worker_starting), and the others are served on. */
static void worker_open(struct slot *s)
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
static void worker_close(struct slot *s)
{
	if (!M.workers || !s->gd.rnd)
		return;
	watch_set(&s->w_worker, -1);
	renderer_close(s->gd.rnd);
	s->gd.rnd = NULL;
}

/* The pid of s's own worker, 0 for none. */
static int worker_pid(const struct slot *s)
{
	struct render_worker_info wi;

	if (!M.workers || !s->gd.rnd)
		return 0;
	render_worker_info(s->gd.rnd, &wi);
	return wi.pid;
}

/* Where this thread's CPU clock stood as a call for a vGPU began (0 unless the scheduler charges CPU time). */
static uint64_t call_cpu_start(void)
{
	return M.sched.charge_cpu ? cpu_clock_thread_ns() : 0;
}

/* Charge vGPU i a call made from t0 to t1 (this thread's CPU clock read c0 at t0): its time on the renderer's
 * timeline, or under CPU-time charging the CPU this thread spent in it (waiting on a worker is the worker's). */
static void charge_call(unsigned i, uint64_t t0, uint64_t t1, uint64_t c0, int in_flight)
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
static void charge_workers(void)
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

static int batch_older(const void *a, const void *b)
{
	/* Fence order, wrap-aware: by distance back from the fence just seen, farthest first. */
	uint32_t da = M.fence_seen - ((const struct sched_batch *)a)->fence;
	uint32_t db = M.fence_seen - ((const struct sched_batch *)b)->fence;

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
		for (unsigned p = 0; b && p < s->gd.npending && (int32_t)(s->fence_seen - s->gd.pending[p].host_fence) >= 0;
		     p++)
			b[k++] = (struct sched_batch){ (unsigned)i, s->gd.pending[p].t0_ns, s->gd.pending[p].host_fence };
		sched_retire_own(&M.sched, (unsigned)i, b, k, mono_ns());
		free(b);
		fences_answer(s, s->fence_seen);
	}
}

/* Charge the batches retired since the last poll to their vGPUs (in fence order), then answer their requests. */
static void retire_fences(void)
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
		for (unsigned p = 0; p < g->npending && (int32_t)(fence - g->pending[p].host_fence) >= 0; p++)
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
static void drain_fences(struct slot *s)
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

/* s's worker is gone (why): counted, no longer watched, and replaced at the vGPU's next reset. */
static void worker_gone(struct slot *s, const char *why)
{
	s->worker_down = 1;
	s->wlog.died++;
	snprintf(s->wlog.last_exit, sizeof(s->wlog.last_exit), "%.120s", why);
	watch_set(&s->w_worker, -1);
}

/* A tripped vGPU under --watchdog-action quarantine: its waiting requests are answered (its guest stops waiting on
 * work the renderer may never finish) and it is not served until its driver resets the device. */
static void quarantine(struct slot *s, const char *why)
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
static int worker_starting(const struct slot *s)
{
	return s->gd.rnd && s->gd.rnd->starting && !s->gd.rnd->dead;
}

/* Let every renderer report retired fences; a vGPU whose worker is gone, or now READY, is seen here. */
static void poll_renderers(void)
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
static void spawner_reap(void)
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

/* The watchdog over every vGPU's oldest unretired fence: a trip is logged, and under quarantine the vGPU's waiting
 * requests are answered (its guest stops waiting on a fence the renderer may never retire) and it is not served
 * again until its driver resets the device. */
static void watch_fences(void)
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
static void *watchdog_thread(void *arg)
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
		v[n++] = slot_counters(s);
	}
	for (int e = 0; e < MAX_VTEST; e++)
		if (M.vtest[e].used)
			v[n++] = ep_counters(&M.vtest[e], &tot[e], &agg[e], clients[e]);
	return control_json(v, n, &M.sched, uptime_s());
}

static struct slot *slot_named(const char *name)
{
	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used && !strcmp(M.slots[i].name, name))
			return &M.slots[i];
	return NULL;
}

static struct vtest_ep *ep_named(const char *name)
{
	for (int i = 0; i < MAX_VTEST; i++)
		if (M.vtest[i].used && !strcmp(M.vtest[i].name, name))
			return &M.vtest[i];
	return NULL;
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

static void on_control_accept(void)
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
static void on_control_data(struct watch *w)
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
static int ctl_expire(uint64_t now)
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

static void on_event(struct watch *w)
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
static int behind_done(void)
{
	int any = 0;

	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used && M.slots[i].behind && !gpu_device_renderer_busy(&M.slots[i].gd)) {
			M.slots[i].behind = 0;
			any = 1;
		}
	return any;
}

/* One round: every vGPU with work, in the scheduler's order, gets a turn unless its share is spent. 1 if any work
 * remains that may be served now. */
static int serve_round(void)
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
static void present_all(void)
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
static int throttle_step(void)
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
	return t;
}

/* A vtest client is blocked in a busy-wait: its program waits on the answer (Mesa does so about once a frame), so
 * the renderer is polled every OWED_POLL_NS rather than every 1 ms. */
static int vt_owed(void)
{
	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used && M.slots[i].active && M.slots[i].ep && M.slots[i].vt.owe_busy)
			return 1;
	return 0;
}

/* Wait for events as loop_timeout says, more finely while a vtest client waits on its fences. */
static int loop_wait(struct epoll_event *ev, int max, int more)
{
	int ms = loop_timeout(more);

	if (ms != 0 && vt_owed()) {
		struct timespec fine = { 0, OWED_POLL_NS };

		return epoll_pwait2(M.ep, ev, max, &fine, NULL);
	}
	return epoll_wait(M.ep, ev, max, ms);
}

/* Enter the sandbox (sandbox.h) with the descriptors the loop uses; the socket files go when the process does. */
static int confine(int no_sandbox, const char *user)
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
static int sandbox_self_test(const char *render_node, int no_virgl, const char *user)
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
static void start_renderer(const char *render_node, int no_sandbox, const char *user)
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

static void usage(void)
{
	fprintf(stderr, "usage: vgpu-mediator (--listen DIR | --vgpu name=NAME,socket=PATH[,weight=N][,fps=F][,mem=MIB] ...)\n"
			"                     [--control PATH] [--render-node PATH|auto|none] [--no-virgl]\n"
			"                     [--policy POLICY] [--timeslice-ms N]\n"
			"                     [--watchdog-ms N] [--watchdog-action report|quarantine] [--throttle PCT]\n"
			"                     [--display-fps N] [--copy-threads N] [--display-threads N]\n"
			"                     [--vtest name=NAME,socket=PATH[,weight=N][,fps=F][,mem=MIB] ...]\n"
			"                     [--trace-vhost] [--no-sandbox | --sandbox-user USER] [--sandbox-self-test]\n"
			"                     [--render-workers] [--worker-timeout-ms N] [--test-faults]\n"
			"POLICY: %s\n",
		sched_policy_names());
}

/* A whole number option from lo to hi: 0, or -1 with the reason printed (what: what it counts, in words). */
static int opt_long(const char *opt, const char *text, long lo, long hi, const char *what, long *out)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (end == text || *end || v < lo || v > hi) {
		fprintf(stderr, "vgpu-mediator: %s %s: %s, %ld to %ld\n", opt, text, what, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* A --vgpu or --vtest spec: name=NAME,socket=PATH[,weight=N][,fps=F][,mem=MIB]. */
struct spec {
	char buf[512];
	const char *name, *path;
	long weight;
	double fps;
	long mem_mb; /* the vGPU's size (each client's, for --vtest), 0: none */
};

#define SPEC_MAX_MEM_MB 1048576 /* a vGPU's size: 1 TiB at most */

/* A spec's whole-number value v of key, 1 to hi (unit after hi in the message). 0, or -1 with the reason printed. */
static int spec_long(const char *opt, const char *text, const char *key, const char *v, long hi, const char *unit,
		     long *out)
{
	char *end;
	long x = strtol(v, &end, 10);

	if (end == v || *end || x < 1 || x > hi) {
		fprintf(stderr, "vgpu-mediator: %s %s: %s must be 1 to %ld%s\n", opt, text, key, hi, unit);
		return -1;
	}
	*out = x;
	return 0;
}

static int parse_spec(const char *opt, const char *text, struct spec *sp)
{
	char *save = NULL, *weight = NULL, *fps = NULL, *mem = NULL, *end;

	memset(sp, 0, sizeof(*sp));
	sp->weight = 1;
	snprintf(sp->buf, sizeof(sp->buf), "%s", text);
	for (char *kv = strtok_r(sp->buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "name=", 5))
			sp->name = kv + 5;
		else if (!strncmp(kv, "socket=", 7))
			sp->path = kv + 7;
		else if (!strncmp(kv, "weight=", 7))
			weight = kv + 7;
		else if (!strncmp(kv, "fps=", 4))
			fps = kv + 4;
		else if (!strncmp(kv, "mem=", 4))
			mem = kv + 4;
		else {
			fprintf(stderr, "vgpu-mediator: %s %s: unknown key in '%s'\n", opt, text, kv);
			return -1;
		}
	}
	if (!sp->name || !*sp->name || !sp->path || !*sp->path) {
		fprintf(stderr, "vgpu-mediator: %s %s: needs name= and socket=\n", opt, text);
		return -1;
	}
	if ((weight && spec_long(opt, text, "weight", weight, SCHED_MAX_WEIGHT, "", &sp->weight) < 0) ||
	    (mem && spec_long(opt, text, "mem", mem, SPEC_MAX_MEM_MB, " MiB", &sp->mem_mb) < 0))
		return -1;
	if (fps && ((sp->fps = strtod(fps, &end)), end == fps || *end || !(sp->fps >= 0 && sp->fps <= SCHED_MAX_FPS))) {
		fprintf(stderr, "vgpu-mediator: %s %s: fps must be 0 to %.0f\n", opt, text, SCHED_MAX_FPS);
		return -1;
	}
	if (slot_named(sp->name) || ep_named(sp->name)) {
		fprintf(stderr, "vgpu-mediator: %s: name %s given twice\n", opt, sp->name);
		return -1;
	}
	return 0;
}

static int parse_vgpu(const char *text)
{
	struct spec sp;
	struct slot *s;

	if (parse_spec("--vgpu", text, &sp) < 0)
		return -1;
	s = slot_new(sp.name);
	if (!s) {
		fprintf(stderr, "vgpu-mediator: more than %d vGPUs\n", MAX_SLOTS);
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s", sp.path);
	s->size_bytes = (uint64_t)sp.mem_mb << 20;
	sched_set_weight(&M.sched, slot_index(s), sp.weight);
	sched_set_target(&M.sched, slot_index(s), sp.fps);
	return 0;
}

static int parse_vtest(const char *text)
{
	struct spec sp;
	struct vtest_ep *ep = NULL;

	if (parse_spec("--vtest", text, &sp) < 0)
		return -1;
	for (int i = 0; i < MAX_VTEST && !ep; i++)
		if (!M.vtest[i].used)
			ep = &M.vtest[i];
	if (!ep) {
		fprintf(stderr, "vgpu-mediator: more than %d vtest endpoints\n", MAX_VTEST);
		return -1;
	}
	ep->used = 1;
	ep->listen_fd = -1;
	snprintf(ep->name, sizeof(ep->name), "%s", sp.name);
	snprintf(ep->path, sizeof(ep->path), "%s", sp.path);
	ep->weight = sp.weight;
	ep->fps = sp.fps;
	ep->size_bytes = (uint64_t)sp.mem_mb << 20;
	ep->w = (struct watch){ .kind = W_VTEST, .ep = ep, .fd = -1 };
	return 0;
}

int main(int argc, char **argv)
{
	const char *listen_dir = NULL, *control = NULL, *render_node = "auto", *sandbox_user = NULL;
	int no_virgl = 0, nvgpu = 0, nvtest = 0, sfd, no_sandbox = 0, self_test = 0;
	enum sched_policy policy = SCHED_BEST_EFFORT;
	long slice_ms = 2;
	unsigned throttle = 0;
	long copy_threads = -1;
	int sent_fd = -1;
	struct copy_pool *pool = NULL;
	struct dsend *sender = NULL;
	long display_threads = DISPLAY_THREADS_DEFAULT;
	sigset_t sigs;

	sandbox_note_inherited();
	clock_gettime(CLOCK_MONOTONIC, &M.t0);
	M.watchdog_ns = (uint64_t)WATCHDOG_DEFAULT_MS * 1000000u;
	M.worker_timeout_ms = WORKER_TIMEOUT_DEFAULT_MS;
	M.spawner.sock = -1;
	M.display_interval_ns = 1000000000ull / DISPLAY_DEFAULT_FPS;
	/* Options first, so --vgpu weights land in a scheduler that exists. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--policy") && i + 1 < argc) {
			if (sched_policy_parse(argv[++i], &policy) < 0) {
				fprintf(stderr, "vgpu-mediator: --policy %s: not one of %s\n", argv[i], sched_policy_names());
				return 2;
			}
		} else if (!strcmp(argv[i], "--watchdog-ms") && i + 1 < argc) {
			long ms;

			if (opt_long(argv[i], argv[i + 1], 0, 600000, "milliseconds, 0 (off)", &ms) < 0)
				return 2;
			M.watchdog_ns = (uint64_t)ms * 1000000u;
			i++;
		} else if (!strcmp(argv[i], "--throttle") && i + 1 < argc) {
			long pct;

			if (opt_long(argv[i], argv[i + 1], 0, SCHED_MAX_THROTTLE, "a percentage, 0 (off)", &pct) < 0)
				return 2;
			throttle = (unsigned)pct;
			i++;
		} else if (!strcmp(argv[i], "--display-fps") && i + 1 < argc) {
			long fps;

			if (opt_long(argv[i], argv[i + 1], 0, 1000, "updates a second, 0 (every flush)", &fps) < 0)
				return 2;
			M.display_interval_ns = fps ? 1000000000ull / (uint64_t)fps : 0;
			i++;
		} else if (!strcmp(argv[i], "--copy-threads") && i + 1 < argc) {
			if (opt_long(argv[i], argv[i + 1], 0, COPY_POOL_MAX_THREADS, "helper threads, 0 (none)",
				     &copy_threads) < 0)
				return 2;
			i++;
		} else if (!strcmp(argv[i], "--display-threads") && i + 1 < argc) {
			if (opt_long(argv[i], argv[i + 1], 0, DSEND_MAX_THREADS, "sender threads, 0 (the loop sends)",
				     &display_threads) < 0)
				return 2;
			i++;
		} else if (!strcmp(argv[i], "--timeslice-ms") && i + 1 < argc) {
			if (opt_long(argv[i], argv[i + 1], 1, 1000, "milliseconds", &slice_ms) < 0)
				return 2;
			i++;
		} else if (!strcmp(argv[i], "--worker-timeout-ms") && i + 1 < argc) {
			long ms;

			if (opt_long(argv[i], argv[i + 1], 100, 600000, "milliseconds", &ms) < 0)
				return 2;
			M.worker_timeout_ms = (uint64_t)ms;
			i++;
		}
	}
	sched_init(&M.sched, policy, (uint64_t)slice_ms * 1000000u, mono_ns());
	sched_set_throttle(&M.sched, throttle);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((!strcmp(a, "--policy") || !strcmp(a, "--timeslice-ms") || !strcmp(a, "--watchdog-ms") ||
		     !strcmp(a, "--throttle") || !strcmp(a, "--display-fps") || !strcmp(a, "--copy-threads") ||
		     !strcmp(a, "--display-threads") || !strcmp(a, "--worker-timeout-ms")) &&
		    i + 1 < argc)
			i++;
		else if (!strcmp(a, "--listen") && i + 1 < argc)
			listen_dir = argv[++i];
		else if (!strcmp(a, "--vgpu") && i + 1 < argc) {
			if (parse_vgpu(argv[++i]) < 0)
				return 2;
			nvgpu++;
		} else if (!strcmp(a, "--vtest") && i + 1 < argc) {
			if (parse_vtest(argv[++i]) < 0)
				return 2;
			nvtest++;
		} else if (!strcmp(a, "--control") && i + 1 < argc)
			control = argv[++i];
		else if (!strcmp(a, "--render-node") && i + 1 < argc)
			render_node = argv[++i];
		else if (!strcmp(a, "--no-virgl"))
			no_virgl = 1;
		else if (!strcmp(a, "--render-workers"))
			M.workers = 1;
		else if (!strcmp(a, "--test-faults"))
			M.test_faults = 1;
		else if (!strcmp(a, "--trace-vhost"))
			M.trace_vhost = 1;
		else if (!strcmp(a, "--watchdog-action") && i + 1 < argc) {
			const char *v = argv[++i];

			if (strcmp(v, "report") && strcmp(v, "quarantine")) {
				fprintf(stderr, "vgpu-mediator: --watchdog-action %s: report or quarantine\n", v);
				return 2;
			}
			M.watchdog_quarantine = !strcmp(v, "quarantine");
		} else if (!strcmp(a, "--no-sandbox"))
			no_sandbox = 1;
		else if (!strcmp(a, "--sandbox-user") && i + 1 < argc)
			sandbox_user = argv[++i];
		else if (!strcmp(a, "--sandbox-self-test"))
			self_test = 1;
		else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			return 0;
		} else {
			fprintf(stderr, "vgpu-mediator: unknown argument '%s'\n", a);
			usage();
			return 2;
		}
	}
	if (self_test && !listen_dir && !nvgpu && !nvtest)
		return sandbox_self_test(render_node, no_virgl, sandbox_user);
	if (!listen_dir && !nvgpu && !nvtest) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	M.ep = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (M.ep < 0 || sfd < 0) {
		fprintf(stderr, "vgpu-mediator: epoll/signalfd: %s\n", strerror(errno));
		return 1;
	}
	M.w_signal = (struct watch){ .kind = W_SIGNAL, .fd = -1 };
	watch_set(&M.w_signal, sfd);

	if (!no_virgl)
		start_renderer(render_node, no_sandbox, sandbox_user);
	if (listen_dir) {
		if (mkdir(listen_dir, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "vgpu-mediator: %s: %s\n", listen_dir, strerror(errno));
			return 1;
		}
		snprintf(M.shared_path, sizeof(M.shared_path), "%s/vgpu.sock", listen_dir);
		if ((M.shared_fd = listen_on(M.shared_path)) < 0)
			return 1;
	}
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (!s->used)
			continue;
		if ((s->listen_fd = listen_on(s->path)) < 0)
			return 1;
		watch_set(&s->w_listen, s->listen_fd);
	}
	for (int i = 0; i < MAX_VTEST; i++) {
		struct vtest_ep *ep = &M.vtest[i];

		if (!ep->used)
			continue;
		if (!M.virgl) {
			/* No socket at all: a client finds nothing to connect to, rather than a server that refuses it. */
			snprintf(ep->why, sizeof(ep->why), "not offered: its clients need the renderer, and 3D is off");
			logf_("vtest %s: %s", ep->name, ep->why);
			continue;
		}
		if ((ep->listen_fd = listen_on(ep->path)) < 0)
			return 1;
		/* dom0's clients may run as any user: the socket is the endpoint's only gate. */
		chmod(ep->path, 0666);
		watch_set(&ep->w, ep->listen_fd);
	}
	if (M.shared_fd >= 0) {
		/* The shared socket: a W_LISTEN watch with no slot makes a slot per connection. */
		M.w_shared = (struct watch){ .kind = W_LISTEN, .fd = -1 };
		watch_set(&M.w_shared, M.shared_fd);
	}
	if (!control && listen_dir) {
		static char path[108];

		snprintf(path, sizeof(path), "%s/control.sock", listen_dir);
		control = path;
	}
	if (control) {
		snprintf(M.control_path, sizeof(M.control_path), "%s", control);
		if ((M.control_fd = listen_on(control)) < 0)
			return 1;
		M.w_control = (struct watch){ .kind = W_CONTROL, .fd = -1 };
		watch_set(&M.w_control, M.control_fd);
	}
	if (M.watchdog_ns) {
		pthread_t wt;

		if (pthread_create(&wt, NULL, watchdog_thread, NULL) == 0)
			pthread_detach(wt);
		else
			logf_("watchdog: no thread: a held loop is reported only once it is free again");
	}
	if (copy_threads < 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		copy_threads = cpus > 1 ? cpus - 1 : 0;
		if (copy_threads > COPY_THREADS_DEFAULT_MAX)
			copy_threads = COPY_THREADS_DEFAULT_MAX;
	}
	/* Before the sandbox: it lets llvmpipe's threads be made, not ours. */
	if (copy_pool_start(&pool, (unsigned)copy_threads) < 0)
		logf_("copy threads: none (%s): copies from guest memory stay on the loop thread", strerror(errno));
	gpu_device_set_copy_pool(pool);
	/* The display senders wake the loop when an update is out, so it is taken in (and the next one readied) at
	 * once. Every flush sent before its answer (--display-fps 0) goes out from the loop itself. */
	if (M.display_interval_ns && display_threads > 0) {
		M.w_sent = (struct watch){ .kind = W_SENT, .fd = -1 };
		sent_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (sent_fd < 0 || watch_set(&M.w_sent, sent_fd) < 0 ||
		    dsend_start(&sender, (unsigned)display_threads, sent_fd) < 0) {
			logf_("display threads: none (%s): display updates are sent from the loop thread",
			      strerror(errno));
			watch_set(&M.w_sent, -1);
			if (sent_fd >= 0)
				close(sent_fd);
			sender = NULL;
		}
	}
	gpu_device_set_sender(sender);
	if (confine(no_sandbox, sandbox_user) < 0)
		return 1;
	logf_("ready: shared socket %s, %d named vGPU socket(s), %d vtest socket(s), 3D %s, policy %s, time slice %ld ms, "
	      "throttle %u%%, display updates %s, %u copy thread(s), %u display thread(s)",
	      listen_dir ? M.shared_path : "none", nvgpu, nvtest, M.virgl ? "on" : "off", sched_policy_name(policy),
	      slice_ms, throttle, M.display_interval_ns ? "coalesced to the refresh" : "on every flush",
	      copy_pool_threads(pool), dsend_threads(sender));

	for (int more = 0;;) {
		struct epoll_event ev[32];
		int n;

		/* Work left from the last round: look for events without waiting, then serve again. */
		n = loop_wait(ev, 32, more);
		if (n < 0 && errno != EINTR) {
			logf_("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;

			if (w->kind == W_SIGNAL) {
				logf_("stopping on signal");
				goto out;
			}
			on_event(w);
		}
		sched_tick(&M.sched, mono_ns());
		more = throttle_step() ? 0 : serve_round();
		poll_renderers();
		charge_workers();
		retire_fences();
		present_all();
		watch_fences();
		vt_reap();
		more |= behind_done(); /* its worker caught up in this pass: serve it without waiting for an event */
	}
out:
	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used) {
			slot_disconnect(&M.slots[i], "mediator stopping");
			if (M.slots[i].listen_fd >= 0) {
				close(M.slots[i].listen_fd);
				unlink(M.slots[i].path);
			}
		}
	for (int i = 0; i < MAX_VTEST; i++)
		if (M.vtest[i].used && M.vtest[i].listen_fd >= 0) {
			close(M.vtest[i].listen_fd);
			unlink(M.vtest[i].path);
		}
	if (M.shared_fd >= 0)
		unlink(M.shared_path);
	if (M.control_fd >= 0)
		unlink(M.control_path);
	/* Confined after starting as root, it cannot remove them itself: its helper does, before it exits. */
	if (sandbox_finish(5.0) < 0)
		logf_("the socket-file helper did not report back within 5 s: the socket files may outlive the mediator");
	render_spawner_stop(&M.spawner); /* and its workers with it */
	/* Every vGPU waited for its update in flight when it disconnected: the senders are idle. */
	gpu_device_set_sender(NULL);
	dsend_stop(sender);
	gpu_device_set_copy_pool(NULL);
	copy_pool_stop(pool);
	return 0;
}
