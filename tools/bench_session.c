/* bench_session.c: what bench-mediator drives one back-end with: its processes (a fleet), a session per VM
 * (connection, rings, the frame set up), the frames streamed and timed, and the display channel that takes every
 * update and checks the last one against what the guest drew. */
#define _GNU_SOURCE

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_mediator.h"
#include "device/virtio_gpu.h"
#include "io_full.h"
#include "util.h"
#include "vhost/vhost_dev.h"

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

int fail(struct result *r, const char *fmt, ...)
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

int fleet_start(struct fleet *f, const struct opts *o, const struct backend *b, int nv, struct result *r)
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

/* Ask the control socket for its counters and read vm0..vm(nv-1). 0, or -1. */
int sched_snapshot(const char *control, int nv, struct sched_snap *out)
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
void fleet_end(struct fleet *f, int is_mediator, struct result *r)
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

int session_connect(struct session *s, struct result *r)
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
int bring_up(struct session *s, const struct backend *b, struct result *r)
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
int set_up_frame(struct session *s, const struct opts *o, const struct backend *b, struct result *r)
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
double fleet_cpu(const struct fleet *f)
{
	double sum = 0;

	for (int i = 0; i < f->npid; i++)
		sum += proc_tree_cpu_s(f->pid[i]);
	return sum;
}

/* MiB the fleet's processes and theirs hold now (proportional set size: shared pages split among their users). */
double fleet_pss(const struct fleet *f)
{
	double sum = 0;

	for (int i = 0; i < f->npid; i++)
		sum += proc_tree_pss_mb(f->pid[i]);
	return sum;
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

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

uint64_t display_updates(struct display *d)
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

int check_display(struct session *s, struct result *r, long frames, int every_flush)
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

void session_end(struct session *s)
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

void *worker_main(void *arg)
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
