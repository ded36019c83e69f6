/* mediator_process_test.c: the vgpu-mediator process as VMs meet it, driven by
 * the test front-end over its real sockets (no VM): named vGPUs keep their own
 * resource IDs; a front-end that stalls mid-message holds up no other vGPU and
 * is not dropped for it; a front-end that disconnects takes only its own
 * state, and a restarted one reconnects to the same socket and finds a fresh
 * vGPU; a hostile message drops only its sender; a second front-end on a
 * taken vGPU socket is refused; `--listen DIR` gives every connection its own
 * vGPU; the control socket's counters follow all of it; SIGTERM ends the
 * process cleanly. Usage: mediator_process_test PATH/vgpu-mediator */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "frontend.h"
#include "util.h"
#include "vhost_dev.h"
#include "virtio_gpu.h"

#define RAM (1u << 20)
#define RING 0x1000
#define QSZ 16
#define IN 0x10000
#define OUT 0x11000

static const char *mediator;
static pid_t med_pid;

struct client {
	struct frontend fe;
	int kick, call;
	uint16_t head, used;
	int up;
};

/* Connect to a vGPU socket and bring the device up the way QEMU does (no display channel). 0 or -1. */
static int client_up(struct client *c, const char *path)
{
	char why[256];
	uint64_t offered;
	int fd = vb_unix_connect(path, vb_now() + 20.0, med_pid);

	memset(c, 0, sizeof(*c));
	c->kick = c->call = -1;
	if (fd < 0 || fe_init(&c->fe, fd, RAM) < 0) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "connect %s failed\n", path);
		return -1;
	}
	c->up = 1;
	if (fe_negotiate(&c->fe,
			 (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
				 (1ull << VHOST_USER_F_PROTOCOL_FEATURES),
			 &offered, why, sizeof(why)) < 0 ||
	    fe_mem_table(&c->fe, RAM, VHOST_USER_NEED_REPLY_MASK) < 0 ||
	    fe_ack(&c->fe, "SET_MEM_TABLE", why, sizeof(why)) < 0 ||
	    fe_setup_ring(&c->fe, 0, QSZ, RING, &c->kick, &c->call) < 0) {
		fprintf(stderr, "bring-up on %s: %s\n", path, why);
		return -1;
	}
	return 0;
}

static void client_down(struct client *c)
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
static uint32_t client_cmd(struct client *c, const void *cmd, uint32_t len)
{
	struct virtio_gpu_ctrl_hdr h;

	memcpy(c->fe.ram + IN, cmd, len);
	memset(c->fe.ram + OUT, 0, 64);
	fe_post(&c->fe, RING, QSZ, c->head, IN, len, OUT, 64);
	c->head = (uint16_t)((c->head + 2) % QSZ);
	fe_want_used(&c->fe, RING, QSZ, (uint16_t)(c->used + 1));
	if (fe_kick(c->kick) < 0 || fe_wait_used(&c->fe, RING, c->call, (uint16_t)(c->used + 1), 5000) < 0)
		return 0;
	c->used++;
	memcpy(&h, c->fe.ram + OUT, sizeof(h));
	return h.type;
}

static uint32_t create(struct client *c, uint32_t id)
{
	struct virtio_gpu_resource_create_2d m = { { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D }, id,
						   VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16, 16 };

	return client_cmd(c, &m, sizeof(m));
}

/* The control socket's JSON document (caller puts it), or NULL. */
static json_object *control(const char *path)
{
	int fd = vb_unix_connect(path, vb_now() + 5.0, med_pid);
	char buf[65536];
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return NULL;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return json_tokener_parse(buf);
}

/* Field `key` of vGPU `name` in a control document, or NULL. */
static json_object *vgpu_get(json_object *doc, const char *name, const char *key)
{
	json_object *arr, *v, *f;

	if (!doc || !json_object_object_get_ex(doc, "vgpus", &arr))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		v = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(v, "name", &f) && !strcmp(json_object_get_string(f), name))
			return json_object_object_get_ex(v, key, &f) ? f : NULL;
	}
	return NULL;
}

/* ... as an int64 (-1 when absent) or a string ("" when absent). */
static int64_t vgpu_field(json_object *doc, const char *name, const char *key)
{
	json_object *f = vgpu_get(doc, name, key);

	return f ? json_object_get_int64(f) : -1;
}

static const char *vgpu_string(json_object *doc, const char *name, const char *key)
{
	json_object *f = vgpu_get(doc, name, key);

	return f ? json_object_get_string(f) : "";
}

/* Wait until the control document says vGPU `name` is (dis)connected. */
static int wait_connected(const char *ctl, const char *name, int want)
{
	for (int i = 0; i < 100; i++) {
		json_object *doc = control(ctl);
		int64_t c = vgpu_field(doc, name, "connected");

		json_object_put(doc);
		if (c == want)
			return 1;
		usleep(50000);
	}
	return 0;
}

static pid_t start(char *const argv[], const char *log)
{
	pid_t pid = vb_spawn(argv, NULL, log);

	CHECK(pid > 0, "vgpu-mediator started");
	return pid;
}

static void stop(pid_t pid, const char *log)
{
	int st;

	CHECK(kill(pid, SIGTERM) == 0, "SIGTERM sent");
	st = vb_reap(pid, 10.0);
	CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: the mediator exits 0 (status 0x%x, log %s)",
	      st, log);
}

static void test_named(const char *dir)
{
	char a_sock[256], b_sock[256], ctl[256], log[256], va[300], vb[300];
	struct client a, b, a2, intruder;
	json_object *doc;

	snprintf(a_sock, sizeof(a_sock), "%s/a.sock", dir);
	snprintf(b_sock, sizeof(b_sock), "%s/b.sock", dir);
	snprintf(ctl, sizeof(ctl), "%s/control.sock", dir);
	snprintf(log, sizeof(log), "%s/named.log", dir);
	snprintf(va, sizeof(va), "name=a,socket=%s", a_sock);
	snprintf(vb, sizeof(vb), "name=b,socket=%s", b_sock);
	char *argv[] = { (char *)mediator, "--vgpu", va, "--vgpu", vb, "--control", ctl, NULL };

	med_pid = start(argv, log);
	CHECK(client_up(&a, a_sock) == 0, "front-end a up");
	CHECK(client_up(&b, b_sock) == 0, "front-end b up");

	/* private ID spaces */
	CHECK(create(&a, 1) == VIRTIO_GPU_RESP_OK_NODATA, "a creates resource 1");
	CHECK(create(&a, 1) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "a cannot create resource 1 twice");
	CHECK(create(&b, 1) == VIRTIO_GPU_RESP_OK_NODATA, "b has its own resource 1");

	/* a stalls mid-message: b is served meanwhile, and a is not dropped for being slow */
	{
		uint32_t hdr[3] = { VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0 };
		uint32_t req;
		uint64_t feats = 0;

		CHECK(write(a.fe.sock, hdr, 5) == 5, "a sends 5 bytes of a header");
		CHECK(create(&b, 2) == VIRTIO_GPU_RESP_OK_NODATA, "b is served while a's message is incomplete");
		usleep(1500 * 1000);
		CHECK(create(&b, 3) == VIRTIO_GPU_RESP_OK_NODATA, "and still 1.5 s later");
		CHECK(write(a.fe.sock, (uint8_t *)hdr + 5, 7) == 7, "a sends the rest");
		CHECK(fe_reply(&a.fe, &req, &feats, sizeof(feats)) == 8 && req == VHOST_USER_GET_FEATURES &&
			      (feats & (1ull << VIRTIO_F_VERSION_1)),
		      "a's message, once whole, is answered");
		CHECK(create(&a, 2) == VIRTIO_GPU_RESP_OK_NODATA, "a goes on working");
	}

	/* a second front-end on a taken vGPU socket is refused; a is not disturbed */
	{
		int fd = vb_unix_connect(a_sock, vb_now() + 5.0, med_pid);
		uint32_t req;
		uint64_t v;

		CHECK(fd >= 0 && fe_init(&intruder.fe, fd, 4096) == 0, "an intruder connects to a's socket");
		fe_send(&intruder.fe, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0);
		CHECK(fe_reply(&intruder.fe, &req, &v, sizeof(v)) < 0, "and is closed without an answer");
		fe_free(&intruder.fe);
		CHECK(create(&a, 3) == VIRTIO_GPU_RESP_OK_NODATA, "a is not disturbed");
	}

	/* a disconnects: b keeps everything, a's state goes */
	client_down(&a);
	CHECK(wait_connected(ctl, "a", 0), "the control socket shows a disconnected");
	CHECK(create(&b, 4) == VIRTIO_GPU_RESP_OK_NODATA, "b is served after a left");
	doc = control(ctl);
	CHECK(vgpu_field(doc, "b", "resources") == 4, "b keeps its 4 resources (%lld)",
	      (long long)vgpu_field(doc, "b", "resources"));
	CHECK(vgpu_field(doc, "a", "connects") == 1, "a connected once");
	json_object_put(doc);

	/* a's front-end restarts and reconnects to the same socket: a fresh vGPU */
	CHECK(client_up(&a2, a_sock) == 0, "a reconnects to the same socket");
	CHECK(create(&a2, 1) == VIRTIO_GPU_RESP_OK_NODATA, "resource 1 is free again: the old state is gone");
	doc = control(ctl);
	CHECK(vgpu_field(doc, "a", "connects") == 2 && vgpu_field(doc, "a", "connected") == 1 &&
		      vgpu_field(doc, "a", "resources") == 1,
	      "a: connected, 2 connects, 1 resource");
	json_object_put(doc);

	/* a hostile message (a payload far over the limit) drops only its sender */
	{
		uint32_t hdr[3] = { 9999, VHOST_USER_VERSION, 1u << 30 };

		CHECK(write(a2.fe.sock, hdr, sizeof(hdr)) == sizeof(hdr), "a sends a 1 GiB claim");
		CHECK(wait_connected(ctl, "a", 0), "a is dropped");
		CHECK(create(&b, 5) == VIRTIO_GPU_RESP_OK_NODATA, "b is served");
		doc = control(ctl);
		CHECK(strstr(vgpu_string(doc, "a", "last_problem"), "payload") != NULL, "the reason is kept: '%s'",
		      vgpu_string(doc, "a", "last_problem"));
		json_object_put(doc);
		client_down(&a2);
		CHECK(client_up(&a2, a_sock) == 0 && create(&a2, 1) == VIRTIO_GPU_RESP_OK_NODATA,
		      "and can come back");
		client_down(&a2);
	}
	client_down(&b);
	stop(med_pid, log);
}

static void test_listen(const char *dir)
{
	char ldir[256], sock[300], ctl[300], log[256];
	struct client c1, c2;
	json_object *doc, *arr;

	snprintf(ldir, sizeof(ldir), "%s/listen", dir);
	snprintf(sock, sizeof(sock), "%s/vgpu.sock", ldir);
	snprintf(ctl, sizeof(ctl), "%s/control.sock", ldir);
	snprintf(log, sizeof(log), "%s/listen.log", dir);
	CHECK(vb_mkdirs(ldir, 0755) == 0, "listen dir");
	char *argv[] = { (char *)mediator, "--listen", ldir, NULL };

	med_pid = start(argv, log);
	CHECK(client_up(&c1, sock) == 0 && client_up(&c2, sock) == 0, "two front-ends on the one socket");
	CHECK(create(&c1, 1) == VIRTIO_GPU_RESP_OK_NODATA && create(&c2, 1) == VIRTIO_GPU_RESP_OK_NODATA,
	      "each has its own vGPU (both create resource 1)");
	doc = control(ctl);
	CHECK(doc && json_object_object_get_ex(doc, "vgpus", &arr) && json_object_array_length(arr) == 2,
	      "the control socket lists 2 vGPUs");
	json_object_put(doc);
	client_down(&c1);
	for (int i = 0; i < 100; i++) {
		size_t n = 99;

		doc = control(ctl);
		if (doc && json_object_object_get_ex(doc, "vgpus", &arr))
			n = json_object_array_length(arr);
		json_object_put(doc);
		if (n == 1)
			break;
		usleep(50000);
	}
	CHECK(create(&c2, 2) == VIRTIO_GPU_RESP_OK_NODATA, "the other goes on");
	doc = control(ctl);
	CHECK(doc && json_object_object_get_ex(doc, "vgpus", &arr) && json_object_array_length(arr) == 1,
	      "a vGPU from --listen goes away with its connection");
	json_object_put(doc);
	client_down(&c2);
	stop(med_pid, log);
	CHECK(access(sock, F_OK) != 0, "the socket is removed on exit");
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/vgpu-mediator-test.XXXXXX";

	if (argc < 2) {
		fprintf(stderr, "usage: mediator_process_test PATH/vgpu-mediator\n");
		return 2;
	}
	mediator = argv[1];
	signal(SIGPIPE, SIG_IGN);
	CHECK(mkdtemp(dir) != NULL, "temp dir");
	test_named(dir);
	test_listen(dir);
	if (!check_failed) {
		char *rm[] = { "rm", "-rf", dir, NULL };
		int st;

		free(vb_capture(rm, &st));
	} else {
		fprintf(stderr, "mediator logs kept in %s\n", dir);
	}
	return check_done("mediator_process");
}
