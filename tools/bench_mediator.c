/* bench_mediator.c: `make bench-mediator`. One 2D command stream, the guest
 * side of full-frame display updates (TRANSFER_TO_HOST_2D + RESOURCE_FLUSH of
 * the whole frame, one frame in flight), driven over vhost-user into
 * vgpu-mediator and into QEMU's own vhost-user-gpu back-end (2D mode) by a
 * front-end that plays QEMU's part: guest RAM in a memfd, split rings with
 * event index, and a display channel that takes every frame and checks the
 * last one against what the guest drew. Prints frames/s, commands/s, MB/s,
 * frame-time p50/p99, back-end CPU and memory (its processes and theirs: the
 * mediator's render workers too) for each back-end and size, and the
 * ratio of vgpu-mediator to QEMU's back-end, all measured in the same run.
 *
 * Each measurement starts a fresh back-end process; back-ends take turns in a
 * rotating order so drift on the machine does not favour one of them.
 *
 * With --policy, it measures the mediator's scheduler instead: the VMs
 * (weights from --weights, VM 1 a hog sending --hog transfers per frame)
 * stream at once under each policy, and it prints the share of the GPU time
 * each VM received (read from the mediator's control socket) against the
 * share its policy configured. */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend.h"
#include "sched/gpu_sched.h"
#include "host/hostcheck.h"
#include "io_full.h"
#include "host/proc_tree.h"
#include "stats.h"
#include "util.h"
#include "vhost/vhost_dev.h"
#include "vhost/vhost_msg.h"
#include "device/virtio_gpu.h"

/* Guest-physical layout: control ring, cursor ring, command buffers, then the frame's backing. */
#define CTRL_RING 0x1000
#define CURSOR_RING 0x5000
#define QSZ 64
#define CMD_XFER 0x10000
#define CMD_FLUSH 0x11000
#define RESP_XFER 0x12000
#define RESP_FLUSH 0x13000
#define CMD_SETUP 0x20000 /* create, attach (up to 48K entries), scanout */
#define RESP_SETUP 0x18000
#define BACKING 0x100000
#define MAX_ENTRIES ((BACKING - CMD_SETUP - 64) / sizeof(struct virtio_gpu_mem_entry))
#define RESOURCE_ID 1
#define REPLY_TIMEOUT_S 5.0

struct backend {
	const char *label;
	int is_mediator;
	/* GUEST_2D: no virgl. VIRGL_DUMB: negotiate VIRTIO_GPU_F_VIRGL, the frame a 2D resource as a virgl guest's
	 * dumb buffer (the mediator keeps it in host memory). VIRGL_USED: the same, and a 3D context attaches the frame
	 * and uses it, as a guest's GL client would: the mediator then keeps it in virglrenderer, uploads on every
	 * transfer and reads back. */
	enum { GUEST_2D, VIRGL_DUMB, VIRGL_USED } virgl;
	const char *skip; /* why it cannot run here, or NULL */
	int workers;      /* vgpu-mediator --render-workers: each VM's 3D in a process of its own */
};

struct opts {
	const char *mediator, *qemu, *csv;
	double seconds, warmup;
	int reps;
	uint32_t entry_size;
	uint32_t sizes[8][2];
	int nsizes;
	int vgpus[4]; /* how many VMs at once, one measurement series each */
	int nvgpus;
	/* the scheduler mode */
	char policies[SCHED_NPOLICIES][24]; /* measure under each (none: compare back-ends) */
	int npolicies;
	int weights[8]; /* per VM (their count is the VM count) */
	int nweights;
	int hog;        /* VM 1 sends this many full-frame transfers per frame (1: like the others) */
	int display_fps; /* the mediator's --display-fps (-1: its default) */
	const char *policy; /* the one being measured */
};

#define MAX_VGPUS 16

/* One measurement: nv VMs' front-ends at once against one back-end set-up. fps, cmds and mbs are totals. */
struct result {
	double fps, cmds, mbs, p50_ms, p99_ms, cpu;
	double pss_mb; /* what the back-end's processes hold at the end (proportional set size) */
	double min_fps, max_fps, jain; /* over the VMs */
	double disp_fps;               /* display updates the display side took a second, total (frames/s times
					* the share of the frames it took) */
	/* the scheduler mode, per VM over the measured time */
	double vm_fps[MAX_VGPUS], gpu_ms[MAX_VGPUS], held_ms[MAX_VGPUS], share[MAX_VGPUS];
	char error[256];               /* set when the measurement failed */
};

/* ---- the display side (QEMU's end of VHOST_USER_GPU_SET_SOCKET) ---- */

struct display {
	int fd;
	uint8_t *last;  /* pixels of the last full-frame update */
	size_t cap;     /* bytes last can hold */
	uint32_t w, h;  /* the frame size */
	uint64_t updates, bytes;
	uint32_t scanout_w, scanout_h;
	char error[160];
	volatile int stop;
	pthread_mutex_t lock;
};

static void disp_fail(struct display *d, const char *why)
{
	pthread_mutex_lock(&d->lock);
	if (!d->error[0])
		snprintf(d->error, sizeof(d->error), "%s", why);
	pthread_mutex_unlock(&d->lock);
}

static void *display_main(void *arg)
{
	struct display *d = arg;
	uint8_t small[sizeof(struct vhost_user_gpu_cursor_update) + 64];

	while (!d->stop) {
		struct pollfd p = { d->fd, POLLIN, 0 };
		uint32_t hdr[3];

		if (poll(&p, 1, 50) <= 0)
			continue;
		if (io_read_full(d->fd, hdr, sizeof(hdr)) < 0) {
			if (!d->stop)
				disp_fail(d, "display channel closed by the back-end");
			break;
		}
		if (hdr[0] == VHOST_USER_GPU_UPDATE) {
			struct vhost_user_gpu_update u;

			if (hdr[2] < sizeof(u) || io_read_full(d->fd, &u, sizeof(u)) < 0) {
				disp_fail(d, "malformed UPDATE from the back-end");
				break;
			}
			size_t data = hdr[2] - sizeof(u);

			if (data != (size_t)u.width * u.height * 4 || data > d->cap) {
				disp_fail(d, "UPDATE payload does not match its rectangle, or exceeds the frame");
				break;
			}
			if (io_read_full(d->fd, d->last, data) < 0) {
				disp_fail(d, "UPDATE payload cut short");
				break;
			}
			pthread_mutex_lock(&d->lock);
			d->updates++;
			d->bytes += data;
			if (u.x != 0 || u.y != 0 || u.width != d->w || u.height != d->h)
				snprintf(d->error, sizeof(d->error), "UPDATE of %ux%u+%u+%u, not the whole frame", u.width,
					 u.height, u.x, u.y);
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		if (hdr[2] > sizeof(small) || io_read_full(d->fd, small, hdr[2]) < 0) {
			disp_fail(d, "unexpected display message from the back-end");
			break;
		}
		if (fe_display_answer(d->fd, hdr[0], d->w, d->h)) {
			/* answered */
		} else if (hdr[0] == VHOST_USER_GPU_SCANOUT && hdr[2] >= sizeof(struct vhost_user_gpu_scanout)) {
			struct vhost_user_gpu_scanout s;

			memcpy(&s, small, sizeof(s));
			pthread_mutex_lock(&d->lock);
			d->scanout_w = s.width;
			d->scanout_h = s.height;
			pthread_mutex_unlock(&d->lock);
		}
	}
	return NULL;
}

/* ---- one session: one VM's connection to a back-end, and its frame ---- */

struct session {
	struct frontend fe;
	pid_t pid; /* the process serving it */
	int kick[2], call[2];
	uint16_t head, used;
	struct display disp;
	pthread_t thr;
	int thr_up, fe_up;
	const char *sock, *log;
	uint32_t w, h;
};

/* The back-end processes of one measurement: one vgpu-mediator for every VM, or one QEMU back-end per VM. */
struct fleet {
	pid_t pid[MAX_VGPUS];
	int npid;
	char dir[64];
	char sock[MAX_VGPUS][96], log[MAX_VGPUS][96];
	char control[96]; /* the mediator's control socket, in the scheduler mode */
};

static int fail(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return -1;
}

/* What a back-end last wrote to its log ("it last wrote '...'"), or that it wrote nothing: its last word before
 * it died, for the failure message. */
static const char *log_last_words(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	char line[512], last[160] = "";

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			snprintf(last, sizeof(last), "%.*s", (int)sizeof(last) - 1, line);
	}
	if (f)
		fclose(f);
	if (last[0])
		snprintf(out, cap, "it last wrote '%s'", last);
	else
		snprintf(out, cap, "its log is empty");
	return out;
}

/* Has the back-end process exited? Asked without reaping it: fleet_end reaps, and reports how it ended. */
static int backend_gone(pid_t pid)
{
	siginfo_t si = { .si_pid = 0 };

	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 ? si.si_pid == pid : 1;
}

/* Queue one 2-descriptor chain per command (cmd[i] at in[i], response at out[i]), kick once, and wait
 * until the back-end has used them all. Response types go to types[]. */
static int run_cmds(struct session *s, struct result *r, int n, const uint64_t *in, const uint32_t *in_len,
		    const uint64_t *out, uint32_t *types)
{
	for (int i = 0; i < n; i++) {
		fe_post(&s->fe, CTRL_RING, QSZ, s->head, in[i], in_len[i], out[i], 64);
		s->head = (uint16_t)((s->head + 2) % QSZ);
	}
	uint16_t want = (uint16_t)(s->used + n);

	fe_want_used(&s->fe, CTRL_RING, QSZ, want);
	if (fe_kick(s->kick[0]) < 0)
		return fail(r, "kick: %s", strerror(errno));
	double deadline = vb_now() + REPLY_TIMEOUT_S;

	while (fe_wait_used(&s->fe, CTRL_RING, s->call[0], want, 100) < 0) {
		if (vb_now() > deadline)
			return fail(r, "the back-end used %u of %d commands in %.0f s (see %s)",
				    (uint16_t)(fe_used_idx(&s->fe, CTRL_RING) - s->used), n, REPLY_TIMEOUT_S, s->log);
		if (backend_gone(s->pid)) {
			char last[192];

			return fail(r, "the back-end died mid-command, %u commands after the ring set-up; %s (see %s)",
				    s->used, log_last_words(s->log, last, sizeof(last)), s->log);
		}
	}
	s->used = want;
	for (int i = 0; i < n; i++) {
		struct virtio_gpu_ctrl_hdr h;

		memcpy(&h, s->fe.ram + out[i], sizeof(h));
		types[i] = h.type;
	}
	return 0;
}

static int one_cmd(struct session *s, struct result *r, const void *cmd, uint32_t len, const char *what)
{
	uint64_t in = CMD_SETUP, out = RESP_SETUP;
	uint32_t type;

	memcpy(s->fe.ram + CMD_SETUP, cmd, len);
	if (run_cmds(s, r, 1, &in, &len, &out, &type) < 0)
		return -1;
	if (type != VIRTIO_GPU_RESP_OK_NODATA)
		return fail(r, "%s answered 0x%x, not OK_NODATA", what, type);
	return 0;
}

static int fleet_start(struct fleet *f, const struct opts *o, const struct backend *b, int nv, struct result *r)
{
	char names[MAX_VGPUS][160];
	char *argv[10 + 2 * MAX_VGPUS] = { (char *)o->mediator };
	char fps[16];
	int argc = 1;

	snprintf(f->dir, sizeof(f->dir), "/tmp/bench-mediator.XXXXXX");
	if (!mkdtemp(f->dir))
		return fail(r, "mkdtemp: %s", strerror(errno));
	if (o->policy && b->is_mediator) {
		snprintf(f->control, sizeof(f->control), "%s/control.sock", f->dir);
		argv[argc++] = "--control";
		argv[argc++] = f->control;
		argv[argc++] = "--policy";
		argv[argc++] = (char *)o->policy;
	}
	if (b->workers)
		argv[argc++] = "--render-workers";
	if (o->display_fps >= 0 && b->is_mediator) {
		snprintf(fps, sizeof(fps), "%d", o->display_fps);
		argv[argc++] = "--display-fps";
		argv[argc++] = fps;
	}
	for (int i = 0; i < nv; i++) {
		snprintf(f->sock[i], sizeof(f->sock[i]), "%s/vm%d.sock", f->dir, i);
		snprintf(f->log[i], sizeof(f->log[i]), "%s/backend%d.log", f->dir, b->is_mediator ? 0 : i);
		snprintf(names[i], sizeof(names[i]), "name=vm%d,socket=%s,weight=%d", i, f->sock[i],
			 i < o->nweights ? o->weights[i] : 1);
		argv[argc++] = "--vgpu";
		argv[argc++] = names[i];
	}
	for (int i = 0; i < (b->is_mediator ? 1 : nv); i++) {
		char *qemu[] = { (char *)o->qemu, "--socket-path", f->sock[i], NULL };

		f->pid[i] = vb_spawn(b->is_mediator ? argv : qemu, NULL, f->log[i]);
		if (f->pid[i] < 0)
			return fail(r, "cannot start %s: %s", b->is_mediator ? o->mediator : o->qemu, strerror(errno));
		f->npid++;
	}
	return 0;
}

/* What the mediator's control socket says of each VM's scheduling. */
struct sched_snap {
	double gpu_ms, held_ms, share;
};

/* Ask the control socket for its counters and read vm0..vm(nv-1). 0, or -1. */
static int sched_snapshot(const char *control, int nv, struct sched_snap *out)
{
	char *buf = vb_unix_ask(control, "stats\n", 0, 0, 64u << 20);
	json_object *doc, *arr;
	int ok = -1;

	if (!buf)
		return -1;
	doc = json_tokener_parse(buf);
	free(buf);
	if (doc && json_object_object_get_ex(doc, "vgpus", &arr) && json_object_is_type(arr, json_type_array)) {
		ok = 0;
		for (int i = 0; i < nv; i++) {
			char name[16];
			int found = 0;

			snprintf(name, sizeof(name), "vm%d", i);
			for (size_t k = 0; k < json_object_array_length(arr); k++) {
				json_object *v = json_object_array_get_idx(arr, k), *f, *sc;

				if (!json_object_object_get_ex(v, "name", &f) || strcmp(json_object_get_string(f), name) ||
				    !json_object_object_get_ex(v, "sched", &sc))
					continue;
				out[i].gpu_ms = json_object_object_get_ex(sc, "gpu_ms", &f) ? json_object_get_double(f) : 0;
				out[i].held_ms =
					json_object_object_get_ex(sc, "throttled_ms", &f) ? json_object_get_double(f) : 0;
				out[i].share = json_object_object_get_ex(sc, "share", &f) && f ? json_object_get_double(f)
											: NAN;
				found = 1;
			}
			if (!found)
				ok = -1;
		}
	}
	json_object_put(doc);
	return ok;
}

/* Stop the back-ends (QEMU's exits when its one front-end goes; the mediator is told) and note a crash. */
static void fleet_end(struct fleet *f, int is_mediator, struct result *r)
{
	for (int i = 0; i < f->npid; i++) {
		if (f->pid[i] <= 0)
			continue;
		if (is_mediator)
			kill(f->pid[i], SIGTERM);
		int st = vb_reap(f->pid[i], 3.0);

		if (st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM && !r->error[0])
			fail(r, "the back-end died of signal %d (see %s)", WTERMSIG(st), f->log[i]);
		else if (st >= 0 && is_mediator && WIFEXITED(st) && WEXITSTATUS(st) != 0 && !r->error[0])
			fail(r, "vgpu-mediator exited with status %d on SIGTERM (see %s)", WEXITSTATUS(st), f->log[i]);
	}
	if (!r->error[0])
		vb_rm_rf(f->dir);
}

static int session_connect(struct session *s, struct result *r)
{
	int fd = vb_unix_connect(s->sock, vb_now() + 15.0, s->pid);

	if (fd < 0 && backend_gone(s->pid)) {
		char last[192];

		return fail(r, "no connection: the back-end exited before listening; %s (see %s)",
			    log_last_words(s->log, last, sizeof(last)), s->log);
	}
	if (fd < 0)
		return fail(r, "no connection on %s within 15 s (see %s)", s->sock, s->log);
	struct timeval tv = { 5, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	size_t frame = (size_t)s->w * s->h * 4;
	size_t ram = BACKING + ((frame + (1u << 20) - 1) & ~(size_t)((1u << 20) - 1));

	s->fe_up = 1;
	if (fe_init(&s->fe, fd, ram) < 0)
		return fail(r, "guest RAM of %zu bytes: %s", ram, strerror(errno));
	return 0;
}

/* Negotiate the way QEMU does, hand over the display channel, share RAM, set up both queues. */
static int bring_up(struct session *s, const struct backend *b, struct result *r)
{
	uint64_t offered, want;
	int dv[2];

	want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
	       (1ull << VHOST_USER_F_PROTOCOL_FEATURES) | (1ull << VIRTIO_GPU_F_EDID) |
	       (b->virgl != GUEST_2D ? 1ull << VIRTIO_GPU_F_VIRGL : 0);
	if (fe_negotiate(&s->fe, want, &offered, r->error, sizeof(r->error)) < 0)
		return -1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dv) < 0)
		return fail(r, "socketpair: %s", strerror(errno));
	s->disp.fd = dv[0];
	if (pthread_create(&s->thr, NULL, display_main, &s->disp) != 0) {
		close(dv[1]);
		return fail(r, "display thread: cannot start");
	}
	s->thr_up = 1;
	int rc = fe_send(&s->fe, VHOST_USER_GPU_SET_SOCKET, VHOST_USER_NEED_REPLY_MASK, NULL, 0, &dv[1], 1);

	close(dv[1]);
	if (rc < 0)
		return fail(r, "GPU_SET_SOCKET: send failed");
	if (fe_ack(&s->fe, "GPU_SET_SOCKET", r->error, sizeof(r->error)) < 0)
		return -1;
	if (fe_mem_table(&s->fe, s->fe.ram_size, VHOST_USER_NEED_REPLY_MASK) < 0)
		return fail(r, "SET_MEM_TABLE: send failed");
	if (fe_ack(&s->fe, "SET_MEM_TABLE", r->error, sizeof(r->error)) < 0)
		return -1;
	if (fe_setup_ring(&s->fe, 0, QSZ, CTRL_RING, &s->kick[0], &s->call[0]) < 0 ||
	    fe_setup_ring(&s->fe, 1, QSZ, CURSOR_RING, &s->kick[1], &s->call[1]) < 0)
		return fail(r, "ring set-up: %s", strerror(errno));
	/* Nothing goes into a ring before the back-end has taken both rings' set-up: QEMU's vhost-user-gpu serves
	 * the control queue as soon as its display channel answers, call eventfd or not, and exits on the first
	 * response it cannot signal ("Error writing eventfd: Bad file descriptor"; 10 runs in 70 of a 64x64 frame). */
	return fe_barrier(&s->fe, "ring set-up", r->error, sizeof(r->error));
}

/* The guest's frame: a resource, its backing in page-sized (entry_size) pieces, scanout 0 showing it. */
static int set_up_frame(struct session *s, const struct opts *o, const struct backend *b, struct result *r)
{
	uint32_t bytes = s->w * s->h * 4;
	uint32_t n = (bytes + o->entry_size - 1) / o->entry_size;
	struct virtio_gpu_resource_create_2d c = { { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D }, RESOURCE_ID,
						   VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, s->w, s->h };
	struct virtio_gpu_set_scanout so = { { .type = VIRTIO_GPU_CMD_SET_SCANOUT }, { 0, 0, s->w, s->h }, 0,
					     RESOURCE_ID };
	struct virtio_gpu_resource_attach_backing ab = { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING },
							 RESOURCE_ID, n };
	static uint8_t attach[sizeof(ab) + MAX_ENTRIES * sizeof(struct virtio_gpu_mem_entry)];

	if (n > MAX_ENTRIES)
		return fail(r, "%u backing entries of %u bytes do not fit the command buffer", n, o->entry_size);
	memcpy(attach, &ab, sizeof(ab));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = i + 1 < n ? o->entry_size : bytes - i * o->entry_size;
		struct virtio_gpu_mem_entry e = { BACKING + (uint64_t)i * o->entry_size, len, 0 };

		memcpy(attach + sizeof(ab) + i * sizeof(e), &e, sizeof(e));
	}
	/* What the guest drew: a pattern no two neighbouring pixels share. */
	for (uint32_t y = 0; y < s->h; y++)
		for (uint32_t x = 0; x < s->w; x++) {
			uint32_t px = ((x * 7u) ^ (y * 13u) ^ (x * y)) & 0xffffff;

			memcpy(s->fe.ram + BACKING + ((size_t)y * s->w + x) * 4, &px, 4);
		}
	if (one_cmd(s, r, &c, sizeof(c), "RESOURCE_CREATE_2D") < 0 ||
	    one_cmd(s, r, attach, (uint32_t)(sizeof(ab) + n * sizeof(struct virtio_gpu_mem_entry)),
		    "RESOURCE_ATTACH_BACKING") < 0 ||
	    one_cmd(s, r, &so, sizeof(so), "SET_SCANOUT") < 0)
		return -1;
	if (b->virgl == VIRGL_USED) {
		struct virtio_gpu_ctx_create cc = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = 1 },
						    .nlen = 5, .debug_name = "bench" };
		struct virtio_gpu_ctx_resource ca = { { .type = VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, .ctx_id = 1 },
						      RESOURCE_ID, 0 };

		/* A stream that makes a surface of it (virgl's CREATE_OBJECT, a B8G8R8X8 surface): the mediator moves a
		 * 2D resource into the renderer when a 3D command first uses it. */
		struct {
			struct virtio_gpu_cmd_submit h;
			uint32_t dw[6];
		} sub = { { { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .ctx_id = 1 }, sizeof(sub.dw), 0 },
			  { (5u << 16) | (8u << 8) | 1, 1, RESOURCE_ID, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 0, 0 } };

		if (one_cmd(s, r, &cc, sizeof(cc), "CTX_CREATE") < 0 ||
		    one_cmd(s, r, &ca, sizeof(ca), "CTX_ATTACH_RESOURCE") < 0 ||
		    one_cmd(s, r, &sub, sizeof(sub), "SUBMIT_3D") < 0)
			return -1;
	}
	struct virtio_gpu_transfer_to_host_2d t = { { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D },
						    { 0, 0, s->w, s->h }, 0, RESOURCE_ID, 0 };
	struct virtio_gpu_resource_flush f = { { .type = VIRTIO_GPU_CMD_RESOURCE_FLUSH }, { 0, 0, s->w, s->h },
					       RESOURCE_ID, 0 };

	memcpy(s->fe.ram + CMD_XFER, &t, sizeof(t));
	memcpy(s->fe.ram + CMD_FLUSH, &f, sizeof(f));
	return 0;
}

/* CPU seconds used so far by all of the fleet's processes and theirs (a mediator's render workers). */
static double fleet_cpu(const struct fleet *f)
{
	double sum = 0;

	for (int i = 0; i < f->npid; i++)
		sum += proc_tree_cpu_s(f->pid[i]);
	return sum;
}

/* MiB the fleet's processes and theirs hold now (proportional set size: shared pages split among their users). */
static double fleet_pss(const struct fleet *f)
{
	double sum = 0;

	for (int i = 0; i < f->npid; i++)
		sum += proc_tree_pss_mb(f->pid[i]);
	return sum;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define MAX_HOG 16

/* Frames for `seconds`, one in flight, each `xfers` full-frame transfers and a flush; with times != NULL each
 * frame's latency is kept. */
static long frames_for(struct session *s, struct result *r, double seconds, int xfers, double **times,
		       size_t *ntimes)
{
	uint64_t in[MAX_HOG + 1], out[MAX_HOG + 1];
	uint32_t len[MAX_HOG + 1];
	double start = vb_now(), end = start + seconds;
	size_t cap = 0;
	long frames = 0;

	for (int i = 0; i < xfers; i++) {
		in[i] = CMD_XFER;
		out[i] = RESP_XFER;
		len[i] = sizeof(struct virtio_gpu_transfer_to_host_2d);
	}
	in[xfers] = CMD_FLUSH;
	out[xfers] = RESP_FLUSH;
	len[xfers] = sizeof(struct virtio_gpu_resource_flush);
	for (double t0 = start; t0 < end; frames++) {
		uint32_t types[MAX_HOG + 1];

		if (run_cmds(s, r, xfers + 1, in, len, out, types) < 0)
			return -1;
		for (int i = 0; i <= xfers; i++)
			if (types[i] != VIRTIO_GPU_RESP_OK_NODATA)
				return fail(r, "frame %ld: command %d of %d answered 0x%x", frames, i + 1, xfers + 1,
					    types[i]);
		double t1 = vb_now();

		if (times) {
			if (*ntimes == cap) {
				cap = cap ? cap * 2 : 4096;
				double *nt = realloc(*times, cap * sizeof(double));

				if (!nt)
					return fail(r, "out of memory for frame times");
				*times = nt;
			}
			(*times)[(*ntimes)++] = t1 - t0;
		}
		t0 = t1;
	}
	return frames;
}

static uint64_t display_updates(struct display *d)
{
	uint64_t n;

	pthread_mutex_lock(&d->lock);
	n = d->updates;
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* Wait until the display side has taken every update, then compare the last one with the guest's frame. With
 * every_flush, each of the `frames` flushes is an update; otherwise (a back-end that coalesces updates to its
 * display's refresh) there are between 1 and `frames` of them, and they are all in once none has come for
 * QUIET_S (the longest refresh interval is far shorter). */
#define QUIET_S 0.25
static int check_display(struct session *s, struct result *r, long frames, int every_flush)
{
	double deadline = vb_now() + 5.0, quiet = vb_now() + QUIET_S;
	uint64_t got, seen = UINT64_MAX;
	uint32_t sw, sh;
	char why[sizeof(s->disp.error)];

	for (;;) {
		pthread_mutex_lock(&s->disp.lock);
		got = s->disp.updates;
		sw = s->disp.scanout_w;
		sh = s->disp.scanout_h;
		memcpy(why, s->disp.error, sizeof(why));
		pthread_mutex_unlock(&s->disp.lock);
		if (why[0] || vb_now() > deadline)
			break;
		if (every_flush ? got >= (uint64_t)frames : got == seen && vb_now() > quiet)
			break;
		if (got != seen) {
			seen = got;
			quiet = vb_now() + QUIET_S;
		}
		usleep(1000);
	}
	if (why[0])
		return fail(r, "display side: %s", why);
	if (every_flush && got != (uint64_t)frames)
		return fail(r, "the display side received %llu of %ld frames", (unsigned long long)got, frames);
	if (!every_flush && (got < 1 || got > (uint64_t)frames))
		return fail(r, "the display side received %llu updates for %ld frames", (unsigned long long)got, frames);
	if (sw != s->w || sh != s->h)
		return fail(r, "scanout announced as %ux%u, not %ux%u", sw, sh, s->w, s->h);
	for (size_t i = 0; i < (size_t)s->w * s->h; i++) {
		uint32_t a, b;

		memcpy(&a, s->fe.ram + BACKING + i * 4, 4);
		memcpy(&b, s->disp.last + i * 4, 4);
		if ((a ^ b) & 0xffffff)
			return fail(r, "pixel (%zu,%zu) on the display is %06x, the guest drew %06x", i % s->w,
				    i / s->w, b & 0xffffff, a & 0xffffff);
	}
	return 0;
}

static void session_end(struct session *s)
{
	if (s->fe_up)
		fe_free(&s->fe);
	if (s->thr_up) {
		s->disp.stop = 1;
		pthread_join(s->thr, NULL);
	}
	if (s->disp.fd >= 0)
		close(s->disp.fd);
	for (int i = 0; i < 2; i++) {
		if (s->kick[i] >= 0)
			close(s->kick[i]);
		if (s->call[i] >= 0)
			close(s->call[i]);
	}
	free(s->disp.last);
	pthread_mutex_destroy(&s->disp.lock);
}

/* One VM's driver: warm up, wait for every VM to be ready, then frames for the measured time. */
struct worker {
	struct session s;
	const struct opts *o;
	int xfers; /* transfers per frame: more for the hog */
	int *ready, *go; /* VMs warmed up; set once all are: the measured time starts */
	struct result r;
	long warm, frames;
	double elapsed;
	double *times;
	size_t ntimes;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->warm = w->r.error[0] ? -1 : frames_for(&w->s, &w->r, w->o->warmup, w->xfers, NULL, NULL);
	__atomic_add_fetch(w->ready, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(w->go, __ATOMIC_ACQUIRE)) /* every VM starts together */
		usleep(200);
	if (w->warm < 0)
		return NULL;
	double t0 = vb_now();

	w->frames = frames_for(&w->s, &w->r, w->o->seconds, w->xfers, &w->times, &w->ntimes);
	w->elapsed = vb_now() - t0;

	return NULL;
}

static void measure(const struct opts *o, const struct backend *b, uint32_t w, uint32_t h, int nv, struct result *r)
{
	struct fleet f = { .npid = 0 };
	struct worker *ws = calloc((size_t)nv, sizeof(*ws));
	pthread_t thr[MAX_VGPUS];
	int ready = 0, go = 0;
	double *all = NULL;
	size_t nall = 0;
	int nthr = 0;

	memset(r, 0, sizeof(*r));
	if (!ws) {
		fail(r, "out of memory");
		return;
	}
	for (int i = 0; i < nv; i++) {
		struct session *s = &ws[i].s;

		*s = (struct session){ .kick = { -1, -1 }, .call = { -1, -1 }, .w = w, .h = h };
		s->disp.fd = -1;
		s->disp.w = w;
		s->disp.h = h;
		s->disp.cap = (size_t)w * h * 4;
		pthread_mutex_init(&s->disp.lock, NULL);
		s->disp.last = malloc(s->disp.cap);
		ws[i].o = o;
		ws[i].ready = &ready;
		ws[i].go = &go;
		ws[i].xfers = i == 0 && o->policy && o->hog > 1 ? o->hog : 1;
	}
	if (fleet_start(&f, o, b, nv, r) < 0)
		goto out;
	for (int i = 0; i < nv; i++) {
		struct session *s = &ws[i].s;

		s->pid = f.pid[b->is_mediator ? 0 : i];
		s->sock = f.sock[i];
		s->log = f.log[i];
		if (!s->disp.last)
			fail(&ws[i].r, "out of memory for a %ux%u frame", w, h);
		else if (session_connect(s, &ws[i].r) == 0 && bring_up(s, b, &ws[i].r) == 0)
			set_up_frame(s, o, b, &ws[i].r);
	}
	for (; nthr < nv; nthr++)
		if (pthread_create(&thr[nthr], NULL, worker_main, &ws[nthr]) != 0)
			break;
	if (nthr < nv)
		fail(r, "cannot start %d driver threads", nv);
	while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < nthr)
		usleep(200);
	double cpu0 = fleet_cpu(&f), t0 = vb_now();
	struct sched_snap before[MAX_VGPUS], after[MAX_VGPUS];

	if (f.control[0] && sched_snapshot(f.control, nv, before) < 0)
		fail(r, "the mediator's control socket did not answer");
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);

	for (int i = 0; i < nthr; i++)
		pthread_join(thr[i], NULL);
	double el = vb_now() - t0, cpu1 = fleet_cpu(&f);

	r->pss_mb = fleet_pss(&f);

	if (f.control[0] && !r->error[0]) {
		double total = 0;

		if (sched_snapshot(f.control, nv, after) < 0)
			fail(r, "the mediator's control socket did not answer");
		for (int i = 0; i < nv; i++) {
			r->gpu_ms[i] = after[i].gpu_ms - before[i].gpu_ms;
			r->held_ms[i] = after[i].held_ms - before[i].held_ms;
			r->share[i] = after[i].share;
			total += r->gpu_ms[i];
		}
		for (int i = 0; i < nv; i++)
			r->gpu_ms[i] = total > 0 ? r->gpu_ms[i] / total : NAN; /* now a share of the total */
	}

	r->min_fps = INFINITY;
	for (int i = 0; i < nv && !r->error[0]; i++) {
		struct worker *wk = &ws[i];

		if (wk->r.error[0] ||
		    check_display(&wk->s, &wk->r, wk->warm + wk->frames, !b->is_mediator || o->display_fps == 0) < 0) {
			fail(r, "VM %d of %d: %.200s", i + 1, nv, wk->r.error);
			break;
		}
		double fps = (double)wk->frames / wk->elapsed;
		double *na = realloc(all, (nall + wk->ntimes) * sizeof(double));

		if (!na) {
			fail(r, "out of memory for frame times");
			break;
		}
		all = na;
		memcpy(all + nall, wk->times, wk->ntimes * sizeof(double));
		nall += wk->ntimes;
		r->fps += fps;
		/* the share of its frames (warm-up included) the display took, at the measured frame rate */
		r->disp_fps += fps * (double)display_updates(&wk->s.disp) / (double)(wk->warm + wk->frames);
		r->min_fps = fps < r->min_fps ? fps : r->min_fps;
		r->max_fps = fps > r->max_fps ? fps : r->max_fps;
	}
	if (!r->error[0]) {
		double per[MAX_VGPUS];

		for (int i = 0; i < nv; i++)
			per[i] = r->vm_fps[i] = (double)ws[i].frames / ws[i].elapsed;
		r->jain = stats_jain(per, NULL, (size_t)nv);
		r->cmds = 2.0 * r->fps;
		r->mbs = r->fps * w * h * 4 / 1e6;
		r->cpu = (cpu1 - cpu0) / el * 100.0;
		qsort(all, nall, sizeof(double), cmp_double);
		r->p50_ms = nall ? all[nall / 2] * 1e3 : NAN;
		r->p99_ms = nall ? all[(size_t)((double)(nall - 1) * 0.99)] * 1e3 : NAN;
	}
	if (r->error[0])
		r->min_fps = 0;
out:
	for (int i = 0; i < nv; i++) {
		session_end(&ws[i].s);
		free(ws[i].times);
	}
	fleet_end(&f, b->is_mediator, r);
	if (r->error[0])
		fprintf(stderr, "bench-mediator: back-end files kept in %s\n", f.dir);
	free(all);
	free(ws);
}

/* ---- the run ---- */

static int parse_sizes(struct opts *o, const char *arg)
{
	char *copy = vb_strdup(arg), *save = NULL;

	o->nsizes = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned w, h;
		char tail;

		if (o->nsizes == 8 || sscanf(t, "%ux%u%c", &w, &h, &tail) != 2 || w < 1 || h < 1 || w > 4096 ||
		    h > 4096) {
			fprintf(stderr, "bench-mediator: --sizes: '%s' is not WxH (1..4096, at most 8 sizes)\n", t);
			free(copy);
			return -1;
		}
		o->sizes[o->nsizes][0] = w;
		o->sizes[o->nsizes][1] = h;
		o->nsizes++;
	}
	free(copy);
	return o->nsizes ? 0 : -1;
}

static int parse_vgpus(struct opts *o, const char *arg)
{
	char *copy = vb_strdup(arg), *save = NULL;

	o->nvgpus = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		long n = strtol(t, &end, 10);

		if (*end || n < 1 || n > MAX_VGPUS || o->nvgpus == 4) {
			fprintf(stderr, "bench-mediator: --vgpus: '%s' is not a VM count 1..%d (at most 4 counts)\n", t,
				MAX_VGPUS);
			free(copy);
			return -1;
		}
		o->vgpus[o->nvgpus++] = (int)n;
	}
	free(copy);
	return o->nvgpus ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-mediator [--sizes WxH[,WxH...]] [--vgpus N[,N...]] [--seconds S] [--warmup S]\n"
		"                      [--reps N] [--entry-size BYTES] [--mediator PATH] [--qemu PATH] [--csv FILE]\n"
		"                      [--policy P[,P...] [--weights W,W,...] [--hog N]] [--display-fps N]\n"
		"Drives vgpu-mediator and QEMU's vhost-user-gpu (2D) with the same full-frame update stream.\n"
		"With --policy: the mediator's scheduler, the GPU-time share of each VM against its configured share.\n");
}

static int parse_policies(struct opts *o, const char *arg)
{
	char *copy = vb_strdup(arg), *save = NULL;
	enum sched_policy p;

	o->npolicies = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int twice = 0;

		for (int k = 0; k < o->npolicies; k++)
			twice |= !strcmp(o->policies[k], t);
		if (sched_policy_parse(t, &p) < 0 || twice) {
			fprintf(stderr, "bench-mediator: --policy: '%s' is %s\n", t,
				twice ? "named twice" : "not a policy");
			fprintf(stderr, "bench-mediator: the policies are %s\n", sched_policy_names());
			free(copy);
			return -1;
		}
		snprintf(o->policies[o->npolicies++], sizeof(o->policies[0]), "%s", t);
	}
	free(copy);
	return o->npolicies ? 0 : -1;
}

static int parse_weights(struct opts *o, const char *arg)
{
	char *copy = vb_strdup(arg), *save = NULL;

	o->nweights = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		long n = strtol(t, &end, 10);

		if (*end || n < 1 || n > 1000 || o->nweights == MAX_VGPUS) {
			fprintf(stderr, "bench-mediator: --weights: '%s' is not a weight 1..1000 (at most %d VMs)\n", t,
				MAX_VGPUS);
			free(copy);
			return -1;
		}
		o->weights[o->nweights++] = (int)n;
	}
	free(copy);
	return o->nweights ? 0 : -1;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (!v || a[0] != '-' || a[1] != '-') {
			usage();
			return -1;
		}
		i++;
		errno = 0;
		if (!strcmp(a, "--sizes")) {
			if (parse_sizes(o, v) < 0)
				return -1;
		} else if (!strcmp(a, "--seconds") || !strcmp(a, "--warmup")) {
			double d = strtod(v, &end);

			if (*end || errno || d < 0 || d > 600 || (d == 0 && !strcmp(a, "--seconds"))) {
				fprintf(stderr, "bench-mediator: %s: '%s' is not a duration in seconds\n", a, v);
				return -1;
			}
			*(!strcmp(a, "--seconds") ? &o->seconds : &o->warmup) = d;
		} else if (!strcmp(a, "--reps") || !strcmp(a, "--entry-size")) {
			long n = strtol(v, &end, 10);

			if (*end || errno || n < 1 || (!strcmp(a, "--reps") ? n > 100 : n % 4 || n > (1 << 30))) {
				fprintf(stderr, "bench-mediator: %s: '%s' is out of range\n", a, v);
				return -1;
			}
			if (!strcmp(a, "--reps"))
				o->reps = (int)n;
			else
				o->entry_size = (uint32_t)n;
		} else if (!strcmp(a, "--vgpus")) {
			if (parse_vgpus(o, v) < 0)
				return -1;
		} else if (!strcmp(a, "--policy")) {
			if (parse_policies(o, v) < 0)
				return -1;
		} else if (!strcmp(a, "--weights")) {
			if (parse_weights(o, v) < 0)
				return -1;
		} else if (!strcmp(a, "--display-fps")) {
			long n = strtol(v, &end, 10);

			if (*end || errno || n < 0 || n > 1000) {
				fprintf(stderr, "bench-mediator: --display-fps: '%s' is not 0 (every flush) to 1000\n", v);
				return -1;
			}
			o->display_fps = (int)n;
		} else if (!strcmp(a, "--hog")) {
			long n = strtol(v, &end, 10);

			if (*end || errno || n < 1 || n > MAX_HOG) {
				fprintf(stderr, "bench-mediator: --hog: '%s' is not 1..%d transfers a frame\n", v, MAX_HOG);
				return -1;
			}
			o->hog = (int)n;
		} else if (!strcmp(a, "--mediator")) {
			o->mediator = v;
		} else if (!strcmp(a, "--qemu")) {
			o->qemu = v;
		} else if (!strcmp(a, "--csv")) {
			o->csv = v;
		} else {
			usage();
			return -1;
		}
	}
	return 0;
}

#define NBACKENDS 5

static double median_of(const struct result *rs, int n, size_t field)
{
	double v[100];
	int k = 0;

	for (int i = 0; i < n && k < 100; i++)
		if (!rs[i].error[0])
			v[k++] = *(const double *)((const char *)&rs[i] + field);
	return stats_median(v, (size_t)k);
}

static size_t ok_values(const struct result *rs, int n, double *v)
{
	size_t k = 0;

	for (int i = 0; i < n; i++)
		if (!rs[i].error[0])
			v[k++] = rs[i].fps;
	return k;
}

static void print_table(const struct opts *o, const struct backend *bs, struct result rs[][100], uint32_t w,
			uint32_t h, int nv)
{
	if (nv == 1)
		printf("%ux%u, one VM (%.1f MB per frame)\n", w, h, w * h * 4 / 1e6);
	else
		printf("%ux%u, %d VMs at once: totals, and each VM's share (Jain's index: 1 = fair)\n", w, h, nv);
	printf("  %-33s %9s %9s %9s %9s %8s %8s %7s %7s", "back-end", "frames/s", "display/s", "cmds/s", "MB/s", "p50 ms",
	       "p99 ms", "CPU %", "PSS MB");
	printf(nv > 1 ? " %9s %9s %6s\n" : "\n", "VM min", "VM max", "Jain");
	for (int b = 0; b < NBACKENDS; b++) {
		double v[100];

		if (!ok_values(rs[b], o->reps, v)) {
			printf("  %-33s %s\n", bs[b].label, bs[b].skip ? "skipped" : "failed (see above)");
			continue;
		}
		printf("  %-33s %9.1f %9.1f %9.1f %9.1f %8.2f %8.2f %7.0f %7.0f", bs[b].label,
		       median_of(rs[b], o->reps, offsetof(struct result, fps)),
		       median_of(rs[b], o->reps, offsetof(struct result, disp_fps)),
		       median_of(rs[b], o->reps, offsetof(struct result, cmds)),
		       median_of(rs[b], o->reps, offsetof(struct result, mbs)),
		       median_of(rs[b], o->reps, offsetof(struct result, p50_ms)),
		       median_of(rs[b], o->reps, offsetof(struct result, p99_ms)),
		       median_of(rs[b], o->reps, offsetof(struct result, cpu)),
		       median_of(rs[b], o->reps, offsetof(struct result, pss_mb)));
		if (nv > 1)
			printf(" %9.1f %9.1f %6.3f", median_of(rs[b], o->reps, offsetof(struct result, min_fps)),
			       median_of(rs[b], o->reps, offsetof(struct result, max_fps)),
			       median_of(rs[b], o->reps, offsetof(struct result, jain)));
		printf("\n");
	}
	for (int b = 1; b < NBACKENDS; b++) {
		double q[100], m[100];
		size_t nq = ok_values(rs[0], o->reps, q), nm = ok_values(rs[b], o->reps, m);

		if (!nq || !nm) {
			printf("  ratio %s / qemu: not measured\n", bs[b].label);
			continue;
		}
		double ratio = stats_median(m, nm) / stats_median(q, nq);
		struct stats_ci ci = stats_bootstrap_ratio(m, nm, q, nq, 2000, 42);

		printf("  ratio %s / qemu vhost-user-gpu: %.2fx (95%% bootstrap %.2f-%.2f, %zu+%zu runs)\n", bs[b].label,
		       ratio, ci.lo, ci.hi, nm, nq);
	}
	printf("\n");
}

/* The scheduler mode: under each policy, every VM's share of the GPU time against its configured share. */
static int run_policies(struct opts *o, const struct backend *med)
{
	static struct result rs[100];
	int failed = 0, nv = o->nweights ? o->nweights : o->vgpus[0];

	if (med->skip) {
		printf("vgpu-mediator: skipped: %s\n", med->skip);
		return 1;
	}
	printf("bench-mediator --policy: %d VMs stream full-frame 2D updates into one vgpu-mediator at once%s;\n"
	       "%d run(s) of %.1f s after %.1f s warm-up; each VM's share of the GPU time the mediator charged\n"
	       "(its control socket, before and after) against the share its policy configured. Medians over runs.\n\n",
	       nv, o->hog > 1 ? " (VM 1 a hog: several transfers a frame)" : "", o->reps, o->seconds, o->warmup);
	for (int si = 0; si < o->nsizes; si++)
		for (int pi = 0; pi < o->npolicies; pi++) {
			uint32_t w = o->sizes[si][0], h = o->sizes[si][1];
			double x[MAX_VGPUS], wt[MAX_VGPUS];

			o->policy = o->policies[pi];
			for (int rep = 0; rep < o->reps; rep++) {
				measure(o, med, w, h, nv, &rs[rep]);
				if (rs[rep].error[0]) {
					fprintf(stderr, "bench-mediator: %ux%u %s run %d: %s\n", w, h, o->policy, rep + 1,
						rs[rep].error);
					failed = 1;
				}
			}
			printf("%ux%u, %d VMs, %s\n", w, h, nv, o->policy);
			printf("  %-4s %6s %8s %10s %10s %9s %9s\n", "VM", "weight", "xfers", "configured", "GPU share",
			       "frames/s", "held ms");
			for (int i = 0; i < nv; i++) {
				double sh = median_of(rs, o->reps, offsetof(struct result, gpu_ms) + (size_t)i * sizeof(double));
				double cf = median_of(rs, o->reps, offsetof(struct result, share) + (size_t)i * sizeof(double));
				char cfs[16];

				snprintf(cfs, sizeof(cfs), isnan(cf) ? "-" : "%.3f", cf);
				printf("  vm%-2d %6d %8d %10s %10.3f %9.1f %9.0f\n", i, i < o->nweights ? o->weights[i] : 1,
				       i == 0 && o->hog > 1 ? o->hog : 1, cfs, sh,
				       median_of(rs, o->reps, offsetof(struct result, vm_fps) + (size_t)i * sizeof(double)),
				       median_of(rs, o->reps, offsetof(struct result, held_ms) + (size_t)i * sizeof(double)));
				x[i] = sh;
				wt[i] = i < o->nweights ? o->weights[i] : 1;
			}
			printf("  Jain over GPU share / weight: %.3f\n\n", stats_jain(x, wt, (size_t)nv));
		}
	return failed;
}

int main(int argc, char **argv)
{
	static char med_default[4096];
	static struct result rs[NBACKENDS][100];
	struct opts o = { .seconds = 3.0, .warmup = 0.5, .reps = 3, .entry_size = 4096,
			  .sizes = { { 1920, 1080 }, { 1024, 768 } }, .nsizes = 2, .vgpus = { 1, 3 }, .nvgpus = 2, .hog = 1,
			  .display_fps = -1 };
	struct backend bs[NBACKENDS] = {
		{ "qemu vhost-user-gpu (2D)", 0, GUEST_2D, NULL, 0 },
		{ "vgpu-mediator (2D)", 1, GUEST_2D, NULL, 0 },
		{ "vgpu-mediator (2D under virgl)", 1, VIRGL_DUMB, NULL, 0 },
		{ "vgpu-mediator (virgl resources)", 1, VIRGL_USED, NULL, 0 },
		{ "vgpu-mediator (virgl on workers)", 1, VIRGL_USED, NULL, 1 },
	};
	int failed = 0;
	FILE *csv = NULL;

	snprintf(med_default, sizeof(med_default), "%s/vgpu-mediator", vb_exe_dir());
	o.mediator = med_default;
	o.qemu = HOST_VHOST_USER_GPU;
	if (parse_args(&o, argc, argv) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (access(o.qemu, X_OK) != 0)
		bs[0].skip = "QEMU's vhost-user-gpu is not installed (make deps installs it)";
	if (access(o.mediator, X_OK) != 0)
		bs[1].skip = bs[2].skip = bs[3].skip = bs[4].skip = "vgpu-mediator is not built (make build)";
	if (o.csv && !(csv = fopen(o.csv, "w"))) {
		fprintf(stderr, "bench-mediator: --csv %s: %s\n", o.csv, strerror(errno));
		return 2;
	}
	if (csv)
		fprintf(csv, "width,height,vgpus,backend,rep,frames_per_s,cmds_per_s,mb_per_s,p50_ms,p99_ms,cpu_pct,"
			     "vm_min_fps,vm_max_fps,jain,display_per_s,pss_mb,error\n");

	printf("bench-mediator: full-frame 2D updates (TRANSFER_TO_HOST_2D + RESOURCE_FLUSH, one frame in flight\n"
	       "per VM, backing in %u-byte entries), %d run(s) of %.1f s per back-end, size and VM count after\n"
	       "%.1f s warm-up; medians over runs, back-ends take turns. With several VMs, QEMU runs one back-end\n"
	       "process per VM, vgpu-mediator one for all (with --render-workers, a worker process per VM too).\n"
	       "frames/s: frames the guests completed; display/s: updates the display side took. CPU %% and PSS MB:\n"
	       "the back-end's processes and their children (CPU while measured; proportional set size at the end).\n"
	       "QEMU's back-end sends every frame; vgpu-mediator sends %s.\n"
	       "The last frame on the display must equal the one the guest drew.\n\n",
	       o.entry_size, o.reps, o.seconds, o.warmup,
	       o.display_fps == 0 ? "every frame (--display-fps 0)" : "at most its display's refresh a second, the latest frame winning (--display-fps)");
	if (o.npolicies) {
		if (csv)
			fclose(csv);
		return run_policies(&o, &bs[1]) ? 1 : 0;
	}
	for (int b = 0; b < NBACKENDS; b++)
		if (bs[b].skip)
			printf("%s: skipped: %s\n", bs[b].label, bs[b].skip);

	for (int si = 0; si < o.nsizes; si++)
		for (int vi = 0; vi < o.nvgpus; vi++) {
			uint32_t w = o.sizes[si][0], h = o.sizes[si][1];
			int nv = o.vgpus[vi];

			for (int rep = 0; rep < o.reps; rep++)
				for (int k = 0; k < NBACKENDS; k++) {
					int b = (k + rep) % NBACKENDS;
					struct result *r = &rs[b][rep];

					if (bs[b].skip) {
						memset(r, 0, sizeof(*r));
						snprintf(r->error, sizeof(r->error), "skipped");
						continue;
					}
					measure(&o, &bs[b], w, h, nv, r);
					if (r->error[0]) {
						fprintf(stderr, "bench-mediator: %ux%u x%d %s run %d: %s\n", w, h, nv,
							bs[b].label, rep + 1, r->error);
						failed = 1;
					}
					if (csv)
						fprintf(csv,
							"%u,%u,%d,%s,%d,%.2f,%.2f,%.2f,%.3f,%.3f,%.1f,%.2f,%.2f,%.4f,%.2f,%.1f,\"%s\"\n",
							w, h, nv, bs[b].label, rep + 1, r->fps, r->cmds, r->mbs, r->p50_ms,
							r->p99_ms, r->cpu, r->min_fps, r->max_fps, r->jain, r->disp_fps,
							r->pss_mb, r->error);
				}
			print_table(&o, bs, rs, w, h, nv);
		}
	if (csv)
		fclose(csv);
	if (failed)
		printf("bench-mediator: some measurements failed (messages above; back-end logs kept)\n");
	return failed ? 1 : 0;
}
