/* loop.h: the mediator process's state and its loop's parts, as main.c and loop/ share them (nothing else includes
 * it): a vGPU's slot, a vtest endpoint, a control connection, the watches of the one epoll loop, the process's one
 * struct mediator, and what each file of the loop offers the others. */
#ifndef VGPU_LOOP_H
#define VGPU_LOOP_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <time.h>

#include "device/gpu_device.h"
#include "device/vtest_dev.h"
#include "process/control.h"
#include "render/render_worker.h"
#include "render/renderer.h"
#include "sched/cpu_clock.h"
#include "sched/gpu_sched.h"
#include "sched/watchdog.h"
#include "vhost/vhost_dev.h"

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

/* A driver waiting unheard (vdev_resignal) is looked for this often, with the loop awake at least as often while a
 * front-end is connected, and signalled again once it has waited this long with nothing moving. */
#define UNHEARD_POLL_NS 250000000ull
#define UNHEARD_AFTER_NS 1000000000ull

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
	uint32_t outputs;    /* --vgpu ...,outputs=: its scanouts (1 by default) */
	struct gpu_output_mode modes[VIRTIO_GPU_MAX_SCANOUTS]; /* --vgpu ...,modes= (nmodes 0: the front-end's) */
	uint32_t nmodes;
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

struct mediator {
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
	uint64_t unheard_looked;      /* when resignal_unheard last looked at the rings */
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
};

/* The one mediator this process is (main.c). */
extern struct mediator M;

/* The log: a line on stderr, with the seconds since the mediator started. */
void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* slots.c */
unsigned slot_index(const struct slot *s);
/* Seconds since the mediator started. */
double uptime_s(void);
int watch_set(struct watch *w, int fd);
int listen_on(const char *path);
struct slot *slot_new(const char *name);
void slot_disconnect(struct slot *s, const char *why);
void slot_connect(struct slot *s, int fd);
/* After each front-end message: follow the kick fds and take over a new display channel. */
void slot_sync(struct slot *s);
/* A broken vGPU: not served until its front-end restarts its rings (a VM) or dropped (a vtest client). */
void slot_break(struct slot *s, const char *why);
struct slot *slot_named(const char *name);

/* vtest_eps.c */
/* Add what a vtest client used to t. */
void vt_fold(struct vt_totals *t, const struct slot *s);
/* After a vtest client's messages were read, served or answered: whether it has work, and whether to read it. */
void vt_sync(struct slot *s);
/* Drop the vtest clients marked broken during the loop's last pass (never while one is being served). */
void vt_reap(void);
void on_vtest_accept(struct vtest_ep *ep);
/* A vtest client wrote: take it in, or let it go when it closed or broke the protocol. */
void on_vtest_data(struct slot *s);
struct vtest_ep *ep_named(const char *name);
/* A vtest client is blocked in a busy-wait: its program waits on the answer (Mesa does so about once a frame), so
 * the renderer is polled every OWED_POLL_NS rather than every 1 ms. */
int vt_owed(void);

/* workers.c */
/* --render-workers: a vGPU set up now gets a worker of its own. It starts meanwhile; the vGPU is not served until
 * it said READY (worker_starting), and the others are served on. */
void worker_open(struct slot *s);
/* Its worker goes (after gpu_device_free or _reset: nothing of the vGPU is left in it). */
void worker_close(struct slot *s);
/* The pid of s's own worker, 0 for none. */
int worker_pid(const struct slot *s);
/* Where this thread's CPU clock stood as a call for a vGPU began (0 unless the scheduler charges CPU time). */
uint64_t call_cpu_start(void);
/* Charge vGPU i a call made from t0 to t1 (this thread's CPU clock read c0 at t0): its time on the renderer's
 * timeline, or under CPU-time charging the CPU this thread spent in it (waiting on a worker is the worker's). */
void charge_call(unsigned i, uint64_t t0, uint64_t t1, uint64_t c0, int in_flight);
/* Render workers on a software renderer: each vGPU is charged the CPU time its worker used since the last look
 * (every thread of it; a fresh worker from its start). Looked at once a millisecond at most: what a worker used
 * between the last look and its death is not charged. */
void charge_workers(void);
/* s's worker is gone (why): counted, no longer watched, and replaced at the vGPU's next reset. */
void worker_gone(struct slot *s, const char *why);
/* A vGPU whose worker has not said READY yet: not served, so that nothing waits for the start (its requests and
 * messages wait in its queue). A worker not READY within --worker-timeout-ms is cut off (renderer_poll). */
int worker_starting(const struct slot *s);
/* Let every renderer report retired fences; a vGPU whose worker is gone, or now READY, is seen here. */
void poll_renderers(void);
/* The spawner reports how workers ended: kept with the vGPU the worker was for. */
void spawner_reap(void);

/* fences.c */
/* The renderer retired every fence up to `fence`; what it retired is charged and answered after its poll. */
void on_fence(void *opaque, struct renderer *r, uint32_t fence);
/* Charge the batches retired since the last poll to their vGPUs (in fence order), then answer their requests. */
void retire_fences(void);
/* A ring of s is stopping (the front-end waits for GET_VRING_BASE's reply): let the renderer finish the fences
 * of its requests, so their answers reach the ring before it stops. This holds the loop, so at most DRAIN_NS. */
void drain_fences(struct slot *s);
/* A tripped vGPU under --watchdog-action quarantine: its waiting requests are answered (its guest stops waiting on
 * work the renderer may never finish) and it is not served until its driver resets the device. */
void quarantine(struct slot *s, const char *why);
/* The watchdog over every vGPU's oldest unretired fence: a trip is logged, and under quarantine the vGPU's waiting
 * requests are answered (its guest stops waiting on a fence the renderer may never retire) and it is not served
 * again until its driver resets the device. */
void watch_fences(void);
/* The watchdog thread: a loop held inside one vGPU's renderer calls past the bound answers nobody, not even
 * the control socket, so this thread says so in the log while it lasts (once per call). */
void *watchdog_thread(void *arg);

/* control_conn.c */
void on_control_accept(void);
/* A control client wrote: act on its line once whole, or on its shutdown. */
void on_control_data(struct watch *w);
/* Clients that wrote nothing in time get the counters. Returns ms until the next one is due, -1 if none waits. */
int ctl_expire(uint64_t now);

/* serve.c */
void on_event(struct watch *w);
/* The vGPUs that put a request back and whose worker's work is now done may be served again (the one place their
 * s->behind is let go, at the end of every pass of the loop): 1 when there was one. */
int behind_done(void);
/* A driver that waits for a signal it should have had (a lost interrupt) gets it again: every UNHEARD_POLL_NS, each
 * connected vGPU's rings (vdev_resignal); the first time for a vGPU is logged, and every time counted. */
void resignal_unheard(void);
/* One round: every vGPU with work, in the scheduler's order, gets a turn unless its share is spent. 1 if any work
 * remains that may be served now. */
int serve_round(void);
/* The display updates that are due: updates a sender finished are taken in (a failed channel is closed and no
 * longer watched), then each vGPU's due damage is read back (the loop thread holds the GL context) or copied, and
 * handed to the display senders, which put it on the channels while the loop goes on serving. A vGPU is charged
 * its read-back like a renderer call; the sends are no render-thread time. Leaves in M.present_wait_ns when the
 * next one is due. */
void present_all(void);
int throttle_step(void);
/* Wait for events as loop_timeout says, more finely while a vtest client waits on its fences. */
int loop_wait(struct epoll_event *ev, int max, int more);

/* start.c */
/* Enter the sandbox (sandbox.h) with the descriptors the loop uses; the socket files go when the process does. */
int confine(int no_sandbox, const char *user);
/* --sandbox-self-test: set up the renderer as a run does, confine, then make a refused call (it must fail with
 * EPERM) and a forbidden one (it must kill the process). Returning at all (exit 1) means the sandbox failed. */
int sandbox_self_test(const char *render_node, int no_virgl, const char *user);
/* The renderer: in this process, or (--render-workers) a worker per vGPU, started by a spawner forked now (before
 * any thread, and before the sandbox forbids forking). A first worker is started and waited for: whether 3D works,
 * and what the vGPUs get. */
void start_renderer(const char *render_node, int no_sandbox, const char *user);

#endif
