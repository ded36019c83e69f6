/* main.c: vgpu-mediator, one process serving many VMs' vGPUs over
 * vhost-user-gpu. One thread runs the event loop and the renderer: it takes
 * front-end messages, kicks and display replies as they come, and serves the
 * vGPUs' queues round-robin, a bounded number of commands per vGPU per turn,
 * so submissions from all vGPUs go through the one renderer in turn.
 *
 *   vgpu-mediator --listen DIR           DIR/vgpu.sock takes any number of VMs
 *   vgpu-mediator --vgpu name=g1,socket=PATH [--vgpu ...]
 *   options: --control PATH  --render-node PATH|auto|none  --no-virgl
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "gpu_device.h"
#include "gpu_virgl.h"

#define MAX_SLOTS 64
#define TURN_BUDGET 8 /* commands one vGPU may have served before the next vGPU's turn */

enum watch_kind { W_LISTEN, W_CONN, W_KICK, W_DISP, W_CONTROL, W_SIGNAL };

struct slot;

struct watch {
	enum watch_kind kind;
	struct slot *s;
	unsigned qi;
	int fd; /* the fd registered, -1 none */
};

struct slot {
	char name[64];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int shared;  /* accepted on the shared --listen socket: the slot goes away on disconnect */
	int used;
	int active;  /* a front-end is connected */
	int broken;  /* a queue is broken: the vGPU is no longer served until it reconnects */
	uint64_t connects;
	char why[256];
	struct vdev vd;
	struct gpu_device gd;
	int ready[VDEV_MAX_QUEUES];
	struct watch w_listen, w_conn, w_kick[VDEV_MAX_QUEUES], w_disp;
};

static struct {
	int ep;
	struct slot slots[MAX_SLOTS];
	int shared_fd;
	char shared_path[108];
	int control_fd;
	char control_path[108];
	struct watch w_shared, w_control, w_signal;
	int virgl;
	unsigned next_anon;
	struct timespec t0;
} M = { .ep = -1, .shared_fd = -1, .control_fd = -1 };

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
		s->w_listen = (struct watch){ W_LISTEN, s, 0, -1 };
		s->w_conn = (struct watch){ W_CONN, s, 0, -1 };
		s->w_disp = (struct watch){ W_DISP, s, 0, -1 };
		for (unsigned q = 0; q < VDEV_MAX_QUEUES; q++)
			s->w_kick[q] = (struct watch){ W_KICK, s, q, -1 };
		return s;
	}
	return NULL;
}

static void slot_disconnect(struct slot *s, const char *why)
{
	if (!s->active)
		return;
	logf_("vgpu %s: disconnected: %s (%llu resources, %llu errors)", s->name, why,
	      (unsigned long long)s->gd.res.live, (unsigned long long)s->gd.st.errors);
	snprintf(s->why, sizeof(s->why), "%s", why);
	watch_set(&s->w_conn, -1);
	watch_set(&s->w_disp, -1);
	for (unsigned q = 0; q < VDEV_MAX_QUEUES; q++)
		watch_set(&s->w_kick[q], -1);
	/* Only this vGPU's state goes: its resources, contexts, pending fences, mappings. */
	gpu_device_free(&s->gd);
	vdev_free(&s->vd);
	s->active = 0;
	s->broken = 0;
	memset(s->ready, 0, sizeof(s->ready));
	if (s->shared)
		s->used = 0;
}

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
	s->vd.config_hook = gpu_device_config_write;
	s->active = 1;
	s->broken = 0;
	s->connects++;
	s->why[0] = 0;
	watch_set(&s->w_conn, fd);
	logf_("vgpu %s: front-end connected", s->name);
}

/* After each front-end message: follow the kick fds and take over a new display channel. */
static void slot_sync(struct slot *s)
{
	if (s->vd.gpu_sock >= 0) {
		int fd = s->vd.gpu_sock;

		s->vd.gpu_sock = -1;
		watch_set(&s->w_disp, -1);
		if (gdisp_attach(&s->gd.disp, fd) < 0) {
			logf_("vgpu %s: display channel: %s", s->name, s->gd.disp.why);
		} else {
			/* A new channel (the VM restarted its device or resumed) knows no scanouts yet: QEMU must
			 * hear of each one before any update for it. */
			for (uint32_t i = 0; i < s->gd.num_scanouts; i++)
				if (s->gd.scanout[i].resource_id)
					gdisp_scanout(&s->gd.disp, i, s->gd.scanout[i].r.width, s->gd.scanout[i].r.height);
			logf_("vgpu %s: display channel attached", s->name);
		}
	}
	watch_set(&s->w_disp, s->gd.disp.fd);
	for (unsigned q = 0; q < s->vd.nqueues; q++) {
		watch_set(&s->w_kick[q], s->vd.q[q].kick_fd);
		/* A ring (re)started may hold requests already. */
		if (s->vd.q[q].started && s->vd.q[q].enabled)
			s->ready[q] = 1;
	}
}

static void on_fence(void *opaque, uint32_t fence)
{
	(void)opaque;
	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used && M.slots[i].active)
			gpu_device_fences_done(&M.slots[i].gd, fence);
}

static void serve_control(void)
{
	struct control_vgpu v[MAX_SLOTS];
	size_t n = 0;
	char *json;
	int fd = accept4(M.control_fd, NULL, NULL, SOCK_CLOEXEC);
	struct timeval tv = { 1, 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (!s->used)
			continue;
		v[n++] = (struct control_vgpu){ s->name, s->active, s->connects, s->active ? &s->gd : NULL, s->why };
	}
	json = control_json(v, n, uptime_s());
	if (json) {
		size_t len = strlen(json), off = 0;

		while (off < len) {
			ssize_t w = send(fd, json + off, len - off, MSG_NOSIGNAL);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
		free(json);
	}
	close(fd);
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
	case W_CONN: {
		int r = vdev_handle_msg(&s->vd);

		if (r <= 0) {
			slot_disconnect(s, r == 0 ? "front-end closed the connection" : s->vd.why);
			return;
		}
		if (r == 2) /* the rest of the message has not come yet */
			break;
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
		break;
	case W_DISP:
		if (gdisp_readable(&s->gd.disp) < 0) {
			logf_("vgpu %s: display channel closed: %s", s->name, s->gd.disp.why);
			watch_set(&s->w_disp, -1);
		}
		break;
	case W_CONTROL:
		serve_control();
		break;
	case W_SIGNAL:
		break;
	}
}

/* One round over every vGPU with work: each gets up to TURN_BUDGET commands. 1 if any work remains. */
static int serve_round(void)
{
	int more = 0;

	for (int i = 0; i < MAX_SLOTS; i++) {
		struct slot *s = &M.slots[i];

		if (!s->used || !s->active || s->broken)
			continue;
		for (unsigned q = 0; q < s->vd.nqueues; q++) {
			int r;

			if (!s->ready[q])
				continue;
			r = vdev_serve(&s->vd, q, TURN_BUDGET);
			if (r < 0) {
				/* virtio's NEEDS_RESET: this vGPU stops being served; the others go on. */
				s->broken = 1;
				memset(s->ready, 0, sizeof(s->ready));
				snprintf(s->why, sizeof(s->why), "%s", s->vd.why);
				logf_("vgpu %s: queue %u broken, vGPU stopped: %s", s->name, q, s->vd.why);
				break;
			}
			if (r < TURN_BUDGET)
				s->ready[q] = 0;
			else
				more = 1;
		}
	}
	return more;
}

static void usage(void)
{
	fprintf(stderr, "usage: vgpu-mediator (--listen DIR | --vgpu name=NAME,socket=PATH ...)\n"
			"                     [--control PATH] [--render-node PATH|auto|none] [--no-virgl]\n");
}

static int parse_vgpu(const char *spec)
{
	char buf[512], *save = NULL, *name = NULL, *path = NULL;
	struct slot *s;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "name=", 5))
			name = kv + 5;
		else if (!strncmp(kv, "socket=", 7))
			path = kv + 7;
		else {
			fprintf(stderr, "vgpu-mediator: --vgpu %s: unknown key in '%s'\n", spec, kv);
			return -1;
		}
	}
	if (!name || !*name || !path || !*path) {
		fprintf(stderr, "vgpu-mediator: --vgpu %s: needs name= and socket=\n", spec);
		return -1;
	}
	for (int i = 0; i < MAX_SLOTS; i++)
		if (M.slots[i].used && !strcmp(M.slots[i].name, name)) {
			fprintf(stderr, "vgpu-mediator: --vgpu: name %s given twice\n", name);
			return -1;
		}
	s = slot_new(name);
	if (!s) {
		fprintf(stderr, "vgpu-mediator: more than %d vGPUs\n", MAX_SLOTS);
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	return 0;
}

int main(int argc, char **argv)
{
	const char *listen_dir = NULL, *control = NULL, *render_node = "auto";
	int no_virgl = 0, nvgpu = 0, sfd;
	sigset_t sigs;
	char err[256];

	clock_gettime(CLOCK_MONOTONIC, &M.t0);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--listen") && i + 1 < argc)
			listen_dir = argv[++i];
		else if (!strcmp(a, "--vgpu") && i + 1 < argc) {
			if (parse_vgpu(argv[++i]) < 0)
				return 2;
			nvgpu++;
		} else if (!strcmp(a, "--control") && i + 1 < argc)
			control = argv[++i];
		else if (!strcmp(a, "--render-node") && i + 1 < argc)
			render_node = argv[++i];
		else if (!strcmp(a, "--no-virgl"))
			no_virgl = 1;
		else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			return 0;
		} else {
			fprintf(stderr, "vgpu-mediator: unknown argument '%s'\n", a);
			usage();
			return 2;
		}
	}
	if (!listen_dir && !nvgpu) {
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
	M.w_signal = (struct watch){ W_SIGNAL, NULL, 0, -1 };
	watch_set(&M.w_signal, sfd);

	if (!no_virgl) {
		if (gvirgl_init(render_node, on_fence, NULL, err, sizeof(err)) < 0) {
			fprintf(stderr, "vgpu-mediator: 3D unavailable, serving 2D only: %s\n", err);
		} else {
			M.virgl = 1;
			logf_("renderer: %s on %s", gvirgl_gl_renderer(), gvirgl_platform());
		}
	}
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
	if (M.shared_fd >= 0) {
		/* The shared socket: a W_LISTEN watch with no slot makes a slot per connection. */
		M.w_shared = (struct watch){ W_LISTEN, NULL, 0, -1 };
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
		M.w_control = (struct watch){ W_CONTROL, NULL, 0, -1 };
		watch_set(&M.w_control, M.control_fd);
	}
	logf_("ready: shared socket %s, %d named vGPU socket(s), 3D %s", listen_dir ? M.shared_path : "none", nvgpu,
	      M.virgl ? "on" : "off");

	for (int more = 0;;) {
		struct epoll_event ev[32];
		int timeout, n;

		/* Work left from the last round: look for events without waiting, then serve again. */
		timeout = more ? 0 : gvirgl_fences_pending() ? 1 : -1;
		n = epoll_wait(M.ep, ev, 32, timeout);
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
		more = serve_round();
		gvirgl_poll();
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
	if (M.shared_fd >= 0)
		unlink(M.shared_path);
	if (M.control_fd >= 0)
		unlink(M.control_path);
	return 0;
}
