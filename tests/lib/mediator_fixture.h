/* mediator_fixture.h: the vgpu-mediator process driven over its real sockets by the test front-end (no VM),
 * for mediator_process_test and mediator_workers_test: a client (guest RAM, a control queue, commands), the
 * control socket's documents and fields, the mediator started and stopped, two named vGPUs, a ring restarted or
 * a device reset. Set mediator (the binary under test) before using it. Not every program uses every helper:
 * they are static inline. */
#ifndef VGPUBENCH_MEDIATOR_FIXTURE_H
#define VGPUBENCH_MEDIATOR_FIXTURE_H

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "control_doc.h"
#include "frontend.h"
#include "util.h"
#include "vhost/vhost_dev.h"
#include "device/virtio_gpu.h"

#define RAM (1u << 20)
#define RING 0x1000
#define QSZ 16
#define IN 0x10000
#define OUT 0x11000

/* The vgpu-mediator under test (argv[1]), and the one running now (a client gives up when it dies). */
static const char *mediator;
static pid_t med_pid;

struct client {
	struct frontend fe;
	int kick, call;
	uint16_t head, used, qsz;
	int up;
};

/* Connect to a vGPU socket and bring the device up the way QEMU does (no display channel), with ram bytes of
 * guest RAM and a control queue of qsz entries. 0 or -1. */
static inline int client_open_with(struct client *c, const char *path, size_t ram, uint16_t qsz, uint64_t features)
{
	char why[256];
	uint64_t offered;
	int fd = vb_unix_connect(path, vb_now() + 20.0, med_pid);

	memset(c, 0, sizeof(*c));
	c->kick = c->call = -1;
	c->qsz = qsz;
	if (fd < 0 || fe_init(&c->fe, fd, ram) < 0) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "connect %s failed\n", path);
		return -1;
	}
	c->up = 1;
	if (fe_negotiate(&c->fe,
			 (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
				 (1ull << VHOST_USER_F_PROTOCOL_FEATURES) | features,
			 &offered, why, sizeof(why)) < 0 ||
	    fe_mem_table(&c->fe, ram, VHOST_USER_NEED_REPLY_MASK) < 0 ||
	    fe_ack(&c->fe, "SET_MEM_TABLE", why, sizeof(why)) < 0 ||
	    fe_setup_ring(&c->fe, 0, qsz, RING, &c->kick, &c->call) < 0) {
		fprintf(stderr, "bring-up on %s: %s\n", path, why);
		return -1;
	}
	return 0;
}

static inline int client_open(struct client *c, const char *path, size_t ram, uint16_t qsz)
{
	return client_open_with(c, path, ram, qsz, 0);
}

static inline int client_up(struct client *c, const char *path)
{
	return client_open(c, path, RAM, QSZ);
}

static inline void client_down(struct client *c)
{
	if (!c->up)
		return;
	fe_free(&c->fe);
	if (c->kick >= 0)
		close(c->kick);
	if (c->call >= 0)
		close(c->call);
	c->up = 0;
}

/* One command on the control queue; the response type, or 0 when none came within 5 s. */
static inline uint32_t client_cmd(struct client *c, const void *cmd, uint32_t len)
{
	struct virtio_gpu_ctrl_hdr h;

	memcpy(c->fe.ram + IN, cmd, len);
	memset(c->fe.ram + OUT, 0, 64);
	fe_post(&c->fe, RING, c->qsz, c->head, IN, len, OUT, 64);
	c->head = (uint16_t)((c->head + 2) % c->qsz);
	fe_want_used(&c->fe, RING, c->qsz, (uint16_t)(c->used + 1));
	if (fe_kick(c->kick) < 0 || fe_wait_used(&c->fe, RING, c->call, (uint16_t)(c->used + 1), 5000) < 0)
		return 0;
	c->used++;
	memcpy(&h, c->fe.ram + OUT, sizeof(h));
	return h.type;
}

static inline uint32_t create(struct client *c, uint32_t id)
{
	struct virtio_gpu_resource_create_2d m = { { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D }, id,
						   VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16, 16 };

	return client_cmd(c, &m, sizeof(m));
}

/* Send one request line to the control socket; its answer parsed (caller puts it), or NULL. */
static inline json_object *control_req(const char *path, const char *line)
{
	int fd = vb_unix_connect(path, vb_now() + 5.0, med_pid);
	char buf[65536];
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (line && (write(fd, line, strlen(line)) != (ssize_t)strlen(line) || shutdown(fd, SHUT_WR) < 0)) {
		close(fd);
		return NULL;
	}
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return json_tokener_parse(buf);
}

/* The counters: asked for by name, or (as an old client does) by connecting and reading. */
static inline json_object *control(const char *path)
{
	return control_req(path, "stats\n");
}

/* ... as an int64 (-1 when absent) or a string ("" when absent). */
static inline int64_t vgpu_field(json_object *doc, const char *name, const char *key)
{
	json_object *f = control_doc_field(doc, name, key);

	return f ? json_object_get_int64(f) : -1;
}

static inline const char *vgpu_string(json_object *doc, const char *name, const char *key)
{
	json_object *f = control_doc_field(doc, name, key);

	return f ? json_object_get_string(f) : "";
}

/* Wait until field `key` of vGPU `name` reads want (a boolean reads 0 or 1) in the control document. */
static inline int wait_field(const char *ctl, const char *name, const char *key, int want)
{
	for (int i = 0; i < 100; i++) {
		json_object *doc = control(ctl);
		int64_t c = vgpu_field(doc, name, key);

		json_object_put(doc);
		if (c == want)
			return 1;
		usleep(50000);
	}
	return 0;
}

/* Wait until the control document says vGPU `name` is (dis)connected. */
static inline int wait_connected(const char *ctl, const char *name, int want)
{
	return wait_field(ctl, name, "connected", want);
}

static inline pid_t start(char *const argv[], const char *log)
{
	pid_t pid = vb_spawn(argv, NULL, log);

	CHECK(pid > 0, "vgpu-mediator started");
	return pid;
}

static inline void stop(pid_t pid, const char *log)
{
	int st;

	CHECK(kill(pid, SIGTERM) == 0, "SIGTERM sent");
	st = vb_reap(pid, 10.0);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: the mediator exits 0 (status 0x%x, log %s)",
	      st, log);
}

/* The files of a mediator serving two named vGPUs, a and b, for one test (tag): sockets, control socket, log, and
 * the --vgpu specs (a_opts appended to a's, if any). */
struct two {
	char a_sock[256], b_sock[256], ctl[256], log[256], va[300], vb[300];
};

static inline void two_vgpus(struct two *t, const char *dir, const char *tag, const char *a_opts)
{
	snprintf(t->a_sock, sizeof(t->a_sock), "%s/%s-a.sock", dir, tag);
	snprintf(t->b_sock, sizeof(t->b_sock), "%s/%s-b.sock", dir, tag);
	snprintf(t->ctl, sizeof(t->ctl), "%s/%s-control.sock", dir, tag);
	snprintf(t->log, sizeof(t->log), "%s/%s.log", dir, tag);
	snprintf(t->va, sizeof(t->va), "name=a,socket=%s%s%s", t->a_sock, a_opts ? "," : "", a_opts ? a_opts : "");
	snprintf(t->vb, sizeof(t->vb), "name=b,socket=%s", t->b_sock);
}

/* Stop c's control queue and start it again: where it stopped (a resume, as QMP cont does), or at 0 on a cleared
 * ring (a driver that reset its device). 0 or -1. */
static inline int client_restart(struct client *c, int fresh)
{
	uint16_t at;

	if (fe_stop_ring(&c->fe, 0, &at) < 0)
		return -1;
	close(c->kick);
	close(c->call);
	if (fresh) {
		c->head = c->used = 0;
		return fe_setup_ring(&c->fe, 0, c->qsz, RING, &c->kick, &c->call);
	}
	return at == c->used ? fe_resume_ring(&c->fe, 0, c->qsz, RING, at, &c->kick, &c->call) : -1;
}

/* RESET_DEVICE, then a fresh ring, as a driver's reset brings. 0 or -1. */
static inline int client_reset(struct client *c)
{
	if (fe_send(&c->fe, VHOST_USER_RESET_DEVICE, 0, NULL, 0, NULL, 0) < 0)
		return -1;
	close(c->kick);
	close(c->call);
	c->head = c->used = 0;
	return fe_setup_ring(&c->fe, 0, c->qsz, RING, &c->kick, &c->call);
}

/* GPU time (ms) the scheduler charged to vGPU name, -1 when absent. */
static inline double gpu_ms(json_object *doc, const char *name)
{
	json_object *sc = control_doc_field(doc, name, "sched"), *f;

	return sc && json_object_object_get_ex(sc, "gpu_ms", &f) ? json_object_get_double(f) : -1;
}

static inline int answer_ok(json_object *doc)
{
	json_object *f;

	return doc && json_object_object_get_ex(doc, "ok", &f) && json_object_get_boolean(f);
}

static inline double sched_number(json_object *doc, const char *key)
{
	json_object *m, *sc, *f;

	return json_object_object_get_ex(doc, "mediator", &m) && json_object_object_get_ex(m, "scheduler", &sc) &&
			       json_object_object_get_ex(sc, key, &f)
		       ? json_object_get_double(f)
		       : -1;
}

#endif
