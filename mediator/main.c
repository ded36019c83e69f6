/* main.c: vgpu-mediator, one process serving many VMs' vGPUs over
 * vhost-user-gpu. One thread runs the event loop and the renderer: it takes
 * front-end messages, kicks and display replies as they come, and gives the
 * vGPUs with work turns on the one renderer in the order and for the time
 * the scheduler (gpu_sched.h) decides: a turn lasts up to a time slice, a vGPU
 * whose share is spent waits for the next period. Every renderer call and
 * every retired fence is charged to its vGPU on one timeline.
 *
 *   vgpu-mediator --listen DIR           DIR/vgpu.sock takes any number of VMs
 *   vgpu-mediator --vgpu name=g1,socket=PATH[,weight=N][,fps=F][,mem=MIB][,outputs=N][,modes=WxH:...] [--vgpu ...]
 *   vgpu-mediator --vtest name=dom0,socket=PATH[,weight=N][,fps=F]   the host's own GL clients
 * and the options of loop/options.c (vgpu-mediator --help).
 *
 * main() is the pipeline: the options, the loop's epoll, the renderer, the sockets, the helper threads, the
 * sandbox, then the loop (loop/serve.c) until a stop signal, and the shutdown. The loop's parts are in loop/, one
 * concern a file, sharing the process's state (loop.h). Once its sockets and renderer are up it confines itself
 * (sandbox.h).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "display/copy_pool.h"
#include "display/display_sender.h"
#include "loop/loop.h"
#include "loop/options.h"
#include "mono_clock.h"
#include "process/sandbox.h"

struct mediator M = { .ep = -1, .shared_fd = -1, .control_fd = -1, .present_wait_ns = UINT64_MAX };

/* The helper threads the loop hands work to: copies from guest memory and the display senders. */
struct helpers {
	struct copy_pool *pool;
	struct dsend *sender;
	int sent_fd; /* the senders wake the loop through it (-1: none) */
};

/* The defaults the options may change. */
static void set_defaults(void)
{
	clock_gettime(CLOCK_MONOTONIC, &M.t0);
	M.watchdog_ns = (uint64_t)WATCHDOG_DEFAULT_MS * 1000000u;
	M.worker_timeout_ms = WORKER_TIMEOUT_DEFAULT_MS;
	M.spawner.sock = -1;
	M.display_interval_ns = 1000000000ull / DISPLAY_DEFAULT_FPS;
}

/* The loop's epoll and its signal watch (SIGINT and SIGTERM stop it; a closed peer is an error, not a signal).
 * 0, or -1 with the reason printed. */
static int open_loop(void)
{
	sigset_t sigs;
	int sfd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	M.ep = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (M.ep < 0 || sfd < 0) {
		fprintf(stderr, "vgpu-mediator: epoll/signalfd: %s\n", strerror(errno));
		return -1;
	}
	M.w_signal = (struct watch){ .kind = W_SIGNAL, .fd = -1 };
	watch_set(&M.w_signal, sfd);
	return 0;
}

/* Every socket the options name, listening and watched: the shared one, each named vGPU's, each vtest endpoint's
 * (when there is a renderer), the control socket. 0, or -1 with the reason printed. */
static int open_sockets(const struct options *o)
{
	const char *control = o->control;
	static char path[108];

	if (o->listen_dir) {
		if (mkdir(o->listen_dir, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "vgpu-mediator: %s: %s\n", o->listen_dir, strerror(errno));
			return -1;
		}
		snprintf(M.shared_path, sizeof(M.shared_path), "%s/vgpu.sock", o->listen_dir);
		if ((M.shared_fd = listen_on(M.shared_path)) < 0)
			return -1;
	}
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (!s->used)
			continue;
		if ((s->listen_fd = listen_on(s->path)) < 0)
			return -1;
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
			return -1;
		/* dom0's clients may run as any user: the socket is the endpoint's only gate. */
		chmod(ep->path, 0666);
		watch_set(&ep->w, ep->listen_fd);
	}
	if (M.shared_fd >= 0) {
		/* The shared socket: a W_LISTEN watch with no slot makes a slot per connection. */
		M.w_shared = (struct watch){ .kind = W_LISTEN, .fd = -1 };
		watch_set(&M.w_shared, M.shared_fd);
	}
	if (!control && o->listen_dir) {
		snprintf(path, sizeof(path), "%s/control.sock", o->listen_dir);
		control = path;
	}
	if (control) {
		snprintf(M.control_path, sizeof(M.control_path), "%s", control);
		if ((M.control_fd = listen_on(control)) < 0)
			return -1;
		M.w_control = (struct watch){ .kind = W_CONTROL, .fd = -1 };
		watch_set(&M.w_control, M.control_fd);
	}
	return 0;
}

/* The threads besides the loop: the watchdog's, the copy pool's and the display senders'. Each that cannot start
 * is said, and the loop does its work. Before the sandbox: it lets llvmpipe's threads be made, not ours. */
static void start_threads(const struct options *o, struct helpers *h)
{
	long copy_threads = o->copy_threads;

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
	if (copy_pool_start(&h->pool, (unsigned)copy_threads) < 0)
		logf_("copy threads: none (%s): copies from guest memory stay on the loop thread", strerror(errno));
	gpu_device_set_copy_pool(h->pool);
	/* The display senders wake the loop when an update is out, so it is taken in (and the next one readied) at
	 * once. Every flush sent before its answer (--display-fps 0) goes out from the loop itself. */
	if (M.display_interval_ns && o->display_threads > 0) {
		M.w_sent = (struct watch){ .kind = W_SENT, .fd = -1 };
		h->sent_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (h->sent_fd < 0 || watch_set(&M.w_sent, h->sent_fd) < 0 ||
		    dsend_start(&h->sender, (unsigned)o->display_threads, h->sent_fd) < 0) {
			logf_("display threads: none (%s): display updates are sent from the loop thread",
			      strerror(errno));
			watch_set(&M.w_sent, -1);
			if (h->sent_fd >= 0)
				close(h->sent_fd);
			h->sender = NULL;
		}
	}
	gpu_device_set_sender(h->sender);
}

static void say_ready(const struct options *o, const struct helpers *h)
{
	logf_("ready: shared socket %s, %d named vGPU socket(s), %d vtest socket(s), 3D %s, policy %s, time slice %ld ms, "
	      "throttle %u%%, display updates %s, %u copy thread(s), %u display thread(s)",
	      o->listen_dir ? M.shared_path : "none", o->nvgpu, o->nvtest, M.virgl ? "on" : "off",
	      sched_policy_name(o->policy), o->slice_ms, o->throttle,
	      M.display_interval_ns ? "coalesced to the refresh" : "on every flush", copy_pool_threads(h->pool),
	      dsend_threads(h->sender));
}

/* The loop, until a stop signal (or epoll fails): events, then a pass over the vGPUs with work. */
static void run_loop(void)
{
	for (int more = 0;;) {
		struct epoll_event ev[32];
		int n;

		/* Work left from the last round: look for events without waiting, then serve again. */
		n = loop_wait(ev, 32, more);
		if (n < 0 && errno != EINTR) {
			logf_("epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;

			if (w->kind == W_SIGNAL) {
				logf_("stopping on signal");
				return;
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
		resignal_unheard();
	}
}

/* Every front-end let go, every socket file removed, the workers and helper threads stopped. */
static void shut_down(struct helpers *h)
{
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
	dsend_stop(h->sender);
	gpu_device_set_copy_pool(NULL);
	copy_pool_stop(h->pool);
}

int main(int argc, char **argv)
{
	struct options o;
	struct helpers h = { .sent_fd = -1 };
	int rc;

	sandbox_note_inherited();
	set_defaults();
	rc = options_parse(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (options_apply(&o) < 0)
		return 2;
	if (o.self_test && !o.listen_dir && !o.nvgpu && !o.nvtest)
		return sandbox_self_test(o.render_node, o.no_virgl, o.sandbox_user);
	if (!o.listen_dir && !o.nvgpu && !o.nvtest) {
		usage();
		return 2;
	}
	if (open_loop() < 0)
		return 1;
	if (!o.no_virgl)
		start_renderer(o.render_node, o.no_sandbox, o.sandbox_user);
	if (open_sockets(&o) < 0)
		return 1;
	start_threads(&o, &h);
	if (confine(o.no_sandbox, o.sandbox_user) < 0)
		return 1;
	say_ready(&o, &h);
	run_loop();
	shut_down(&h);
	return 0;
}
