/* hostile.c: vgpu-hostile, a hostile vhost-user-gpu front-end. It plays a
 * VM whose QEMU and driver misbehave, against each back-end it is given, and
 * runs a named catalogue of malformed inputs (docs/mediator.md): the
 * front-end's messages, rings, descriptors, commands and backing entries,
 * and, where the back-end renders in a worker process per vGPU, that
 * worker crashing, hanging or starting slowly.
 * For every case it records what became of the back-end:
 *   survived   the bad input was refused and the vGPU served on as it was
 *   recovered  the vGPU served again after a front-end device reset
 *              (rings stopped, RESET_DEVICE when offered, rings set up again)
 *   reconnect  it served again only on a new connection
 *   dead       the process lives, but that vGPU never served again
 *   hung       the process stopped answering
 *   crashed    the process died
 *   skipped    the case does not apply (a worker case on a back-end without
 *              render workers)
 * and, where one process serves several VMs (vgpu-mediator), whether a
 * second vGPU on it kept being served. QEMU's vhost-user-gpu serves one VM
 * per process, so each of its cases gets a fresh process and no neighbour.
 *
 *   vgpu-hostile [--mediator PATH] [--qemu PATH] [--cases GLOB] [--list]
 *
 * Without --mediator or --qemu it tries both: the vgpu-mediator next to its
 * own binary and QEMU's /usr/lib/qemu/vhost-user-gpu.
 *
 * Prints "robustness-format: 1", one "case: BACKEND NAME CLASS OUTCOME
 * NEIGHBOUR detail" line per case, and a "summary:" line per back-end. Exits
 * 0 when it ran, 1 when it could not (a back-end that would not start is
 * reported and skipped, not fatal). */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend.h"
#include "util.h"
#include "vhost/vhost_dev.h"
#include "vhost/vhost_msg.h"
#include "device/virtio_gpu.h"
#include "vhost/vring.h"

#define RAM (1u << 20)
#define RING 0x1000        /* control queue: desc, avail +0x1000, used +0x2000 */
#define CURSOR_RING 0x8000 /* cursor queue */
#define QSZ 16
#define IN 0x10000
#define OUT 0x11000
#define IND 0x12000        /* an indirect table */
#define BACK 0x20000       /* backing pages */
#define ANSWER_MS 1500     /* a command's answer must come within this */
#define WORKER_WATCHDOG_MS "1000" /* the worker cases' mediator: a fence or call held this long trips its watchdog */
#define QEMU_BACKEND "/usr/lib/qemu/vhost-user-gpu" /* Debian's qemu-system-gui */

/* One VM's connection. */
struct vm {
	struct frontend fe;
	struct fe_display disp;
	int kick[2], call[2];
	uint16_t head, used;
	uint64_t proto; /* protocol features the back-end offered */
	int up;
};

/* A back-end under test. */
struct backend {
	const char *name;
	const char *exe;
	int shared;  /* one process serves the victim and a neighbour */
	int workers; /* it was started with a render worker per vGPU (vgpu-mediator only) */
	pid_t pid;
	char dir[64], log[128], victim_sock[128], neighbour_sock[128], ctl[128];
	struct vm neighbour;
	uint32_t next_id; /* the neighbour's next resource ID */
	int restarts;
	int status; /* how the process ended (waitpid), once it has */
};

/* ---- connections ---- */

static void vm_close(struct vm *v)
{
	if (!v->up)
		return;
	fe_display_stop(&v->disp);
	fe_free(&v->fe);
	for (int q = 0; q < 2; q++) {
		if (v->kick[q] >= 0)
			close(v->kick[q]);
		if (v->call[q] >= 0)
			close(v->call[q]);
	}
	v->up = 0;
}

/* Connect to path and bring the device up the way QEMU does, with virgl when asked. 0 or -1. */
static int vm_open(struct vm *v, const char *path, pid_t owner, int virgl)
{
	char why[256];
	uint64_t offered;
	uint32_t req;
	struct timeval tv = { 2, 0 };
	int fd = vb_unix_connect(path, vb_now() + 5.0, owner);

	memset(v, 0, sizeof(*v));
	v->kick[0] = v->kick[1] = v->call[0] = v->call[1] = -1;
	v->disp.fd = -1;
	if (fd < 0)
		return -1;
	/* Nothing a back-end does may block the catalogue: every read gives up after 2 s. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fe_init(&v->fe, fd, RAM) < 0) {
		close(fd);
		return -1;
	}
	v->up = 1;
	if (fe_send(&v->fe, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0) < 0 ||
	    fe_reply(&v->fe, &req, &v->proto, 8) != 8 ||
	    fe_negotiate(&v->fe,
			 (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) |
				 (1ull << VHOST_USER_F_PROTOCOL_FEATURES) | (virgl ? 1ull << VIRTIO_GPU_F_VIRGL : 0),
			 &offered, why, sizeof(why)) < 0 ||
	    fe_display_start(&v->fe, &v->disp, 640, 480, 1) < 0 ||
	    fe_mem_table(&v->fe, RAM, VHOST_USER_NEED_REPLY_MASK) < 0 ||
	    fe_ack(&v->fe, "SET_MEM_TABLE", why, sizeof(why)) < 0 ||
	    fe_setup_ring(&v->fe, 0, QSZ, RING, &v->kick[0], &v->call[0]) < 0 ||
	    fe_setup_ring(&v->fe, 1, QSZ, CURSOR_RING, &v->kick[1], &v->call[1]) < 0)
		return -1;
	return 0;
}

/* One command (len bytes at IN, out_len writable at OUT); the response type, or 0 when none came in time. */
static uint32_t vm_cmd_at(struct vm *v, const void *cmd, uint32_t len, uint32_t out_len)
{
	struct virtio_gpu_ctrl_hdr h;

	if (!v->up)
		return 0;
	memcpy(v->fe.ram + IN, cmd, len);
	memset(v->fe.ram + OUT, 0, 64);
	fe_post(&v->fe, RING, QSZ, v->head, IN, len, OUT, out_len);
	v->head = (uint16_t)((v->head + 2) % QSZ);
	fe_want_used(&v->fe, RING, QSZ, (uint16_t)(v->used + 1));
	if (fe_kick(v->kick[0]) < 0 || fe_wait_used(&v->fe, RING, v->call[0], (uint16_t)(v->used + 1), ANSWER_MS) < 0)
		return 0;
	v->used++;
	memcpy(&h, v->fe.ram + OUT, sizeof(h));
	return h.type;
}

static uint32_t vm_cmd(struct vm *v, const void *cmd, uint32_t len)
{
	return vm_cmd_at(v, cmd, len, 64);
}

static uint32_t create(struct vm *v, uint32_t id, uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d m = { { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D }, id,
						   VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w, h };

	return vm_cmd(v, &m, sizeof(m));
}

/* Attach one backing entry (addr, len) to resource id. */
static uint32_t attach(struct vm *v, uint32_t id, uint64_t addr, uint32_t len)
{
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} m = { { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, id, 1 }, { addr, len, 0 } };

	return vm_cmd(v, &m, sizeof(m));
}

/* Does the vGPU serve? A resource created and unreferenced again. */
static int serves(struct vm *v, uint32_t id)
{
	struct virtio_gpu_resource_unref u = { { .type = VIRTIO_GPU_CMD_RESOURCE_UNREF }, id, 0 };

	return create(v, id, 16, 16) == VIRTIO_GPU_RESP_OK_NODATA && vm_cmd(v, &u, sizeof(u)) == VIRTIO_GPU_RESP_OK_NODATA;
}

/* What a driver resetting its device makes QEMU do: stop the rings, RESET_DEVICE when the back-end offered it,
 * the memory table and fresh rings again. 0 when every step was answered. */
static int vm_reset(struct vm *v)
{
	char why[128];
	uint16_t at;

	if (!v->up || fe_stop_ring(&v->fe, 0, &at) < 0 || fe_stop_ring(&v->fe, 1, &at) < 0)
		return -1;
	if ((v->proto & (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE)) &&
	    fe_send(&v->fe, VHOST_USER_RESET_DEVICE, 0, NULL, 0, NULL, 0) < 0)
		return -1;
	for (int q = 0; q < 2; q++) {
		close(v->kick[q]);
		close(v->call[q]);
		v->kick[q] = v->call[q] = -1;
	}
	v->head = v->used = 0;
	if (fe_mem_table(&v->fe, RAM, VHOST_USER_NEED_REPLY_MASK) < 0 || fe_ack(&v->fe, "SET_MEM_TABLE", why, sizeof(why)) < 0)
		return -1;
	return fe_setup_ring(&v->fe, 0, QSZ, RING, &v->kick[0], &v->call[0]) < 0 ||
			       fe_setup_ring(&v->fe, 1, QSZ, CURSOR_RING, &v->kick[1], &v->call[1]) < 0
		       ? -1
		       : 0;
}

/* ---- back-end processes ---- */

static int backend_alive(struct backend *b)
{
	int st;

	if (b->pid <= 0)
		return 0;
	if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
		b->pid = 0;
		b->status = st;
		return 0;
	}
	return 1;
}

/* How the process ended, in words. */
static void ended(const struct backend *b, char *det, size_t len)
{
	if (WIFSIGNALED(b->status))
		snprintf(det, len, "killed by signal %d (%s)", WTERMSIG(b->status), strsignal(WTERMSIG(b->status)));
	else
		snprintf(det, len, "exited with status %d", WEXITSTATUS(b->status));
}

/* Does the process still answer its front-end at all (a GET_FEATURES within 2 s)? */
static int answers(struct vm *v)
{
	uint64_t f;
	uint32_t req;

	return v->up && fe_send(&v->fe, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0) == 0 &&
	       fe_reply(&v->fe, &req, &f, 8) == 8;
}

static void backend_stop(struct backend *b)
{
	vm_close(&b->neighbour);
	if (b->pid > 0) {
		kill(b->pid, SIGKILL);
		vb_reap(b->pid, 5.0);
		b->pid = 0;
	}
}

/* Start the back-end (and connect the neighbour where one process serves several VMs), with a render worker per
 * vGPU when asked: faults on request, a watchdog that kills a worker holding a fence or call. 0 or -1. */
static int backend_start(struct backend *b, int workers)
{
	char va[200], vn[200];
	char *med[] = { (char *)b->exe, "--vgpu", va, "--vgpu", vn, "--render-node", "none", NULL };
	char *med_w[] = { (char *)b->exe, "--vgpu", va, "--vgpu", vn, "--render-node", "none", "--render-workers",
			  "--test-faults", "--control", b->ctl, "--watchdog-ms", WORKER_WATCHDOG_MS, "--watchdog-action",
			  "quarantine", NULL };
	char *qemu[] = { (char *)b->exe, "--socket-path", b->victim_sock, NULL };

	unlink(b->victim_sock);
	unlink(b->neighbour_sock);
	snprintf(va, sizeof(va), "name=victim,socket=%s", b->victim_sock);
	snprintf(vn, sizeof(vn), "name=neighbour,socket=%s", b->neighbour_sock);
	b->workers = b->shared && workers;
	b->pid = vb_spawn(b->shared ? (b->workers ? med_w : med) : qemu, NULL, b->log);
	if (b->pid <= 0)
		return -1;
	if (b->shared) {
		b->next_id = 1;
		if (vm_open(&b->neighbour, b->neighbour_sock, b->pid, 0) < 0 || !serves(&b->neighbour, b->next_id++))
			return -1;
	}
	return 0;
}

/* ---- the catalogue ---- */

/* Send raw bytes as a front-end message would go (no validation of ours in the way). */
static int raw(struct vm *v, uint32_t req, uint32_t flags, uint32_t size, const void *payload, uint32_t send_len,
	       const int *fds, int nfds)
{
	uint8_t buf[12 + 512];
	uint32_t f = flags ? flags : VHOST_USER_VERSION;

	memcpy(buf, &req, 4);
	memcpy(buf + 4, &f, 4);
	memcpy(buf + 8, &size, 4);
	if (send_len > sizeof(buf) - 12)
		send_len = sizeof(buf) - 12;
	if (send_len)
		memcpy(buf + 12, payload, send_len);
	return fe_send_fds(v->fe.sock, buf, 12 + send_len, fds, nfds);
}

/* Publish descriptor chain d[0..n) at the ring's head slot and kick. */
static void post_descs(struct vm *v, const struct vring_desc *d, int n, uint16_t head)
{
	uint16_t idx;

	for (int i = 0; i < n; i++)
		memcpy(v->fe.ram + RING + 16 * ((head + i) % QSZ), &d[i], 16);
	memcpy(&idx, v->fe.ram + RING + 0x1000 + 2, 2);
	memcpy(v->fe.ram + RING + 0x1000 + 4 + 2 * (idx % QSZ), &head, 2);
	idx++;
	__atomic_store_n((uint16_t *)(v->fe.ram + RING + 0x1000 + 2), idx, __ATOMIC_RELEASE);
	fe_kick(v->kick[0]);
}

static void put_cmd(struct vm *v, uint32_t type)
{
	struct virtio_gpu_ctrl_hdr h = { .type = type };

	memcpy(v->fe.ram + IN, &h, sizeof(h));
}

/* Front-end messages. */
static void msg_payload_short(struct vm *v)
{
	uint32_t half = 0;

	raw(v, VHOST_USER_SET_FEATURES, 0, 4, &half, 4, NULL, 0);
}

static void msg_payload_missing(struct vm *v)
{
	raw(v, VHOST_USER_SET_VRING_NUM, 0, 0, NULL, 0, NULL, 0);
}

static void msg_payload_huge(struct vm *v)
{
	raw(v, VHOST_USER_SET_MEM_TABLE, 0, 1u << 30, NULL, 0, NULL, 0);
}

static void msg_unknown_request(struct vm *v)
{
	raw(v, 999, 0, 0, NULL, 0, NULL, 0);
}

static void msg_bad_version(struct vm *v)
{
	uint64_t f = 0;

	raw(v, VHOST_USER_SET_FEATURES, 0x2, 8, &f, 8, NULL, 0);
}

static void msg_queue_index(struct vm *v)
{
	struct vhost_vring_state st = { 200, 16 };

	raw(v, VHOST_USER_SET_VRING_NUM, 0, sizeof(st), &st, sizeof(st), NULL, 0);
	st.num = 0;
	raw(v, VHOST_USER_SET_VRING_BASE, 0, sizeof(st), &st, sizeof(st), NULL, 0);
}

static void msg_vring_num_odd(struct vm *v)
{
	struct vhost_vring_state st = { 0, 3 };

	raw(v, VHOST_USER_SET_VRING_NUM, 0, sizeof(st), &st, sizeof(st), NULL, 0);
	post_descs(v, (struct vring_desc[]){ { IN, 24, VRING_DESC_F_NEXT, 1 }, { OUT, 64, VRING_DESC_F_WRITE, 0 } },
		   2, v->head);
}

static void msg_regions_without_fds(struct vm *v)
{
	struct vhost_mem_table mt = { .nregions = 2 };

	mt.regions[0] = (struct vhost_mem_region){ 0, RAM / 2, v->fe.uva, 0 };
	mt.regions[1] = (struct vhost_mem_region){ RAM / 2, RAM / 2, v->fe.uva + RAM / 2, RAM / 2 };
	raw(v, VHOST_USER_SET_MEM_TABLE, 0, 8 + 64, &mt, 8 + 64, &v->fe.ram_fd, 1);
}

static void msg_region_past_fd(struct vm *v)
{
	struct vhost_mem_table mt = { .nregions = 1 };

	/* 64 MiB claimed on a 1 MiB file; then a command whose buffer lies past the file's end. */
	mt.regions[0] = (struct vhost_mem_region){ 0, 64u << 20, v->fe.uva, 0 };
	raw(v, VHOST_USER_SET_MEM_TABLE, 0, 8 + 32, &mt, 8 + 32, &v->fe.ram_fd, 1);
	post_descs(v,
		   (struct vring_desc[]){ { 32u << 20, 24, VRING_DESC_F_NEXT, (uint16_t)((v->head + 1) % QSZ) },
					  { OUT, 64, VRING_DESC_F_WRITE, 0 } },
		   2, v->head);
}

static void msg_zero_regions(struct vm *v)
{
	struct vhost_mem_table mt = { .nregions = 0 };

	raw(v, VHOST_USER_SET_MEM_TABLE, 0, 8, &mt, 8, NULL, 0);
}

static void msg_config_past_end(struct vm *v)
{
	struct vhost_config cfg = { .offset = 200, .size = 200 };
	uint8_t ans[512];
	uint32_t req;

	raw(v, VHOST_USER_GET_CONFIG, 0, 12 + 200, &cfg, 12 + 200, NULL, 0);
	fe_reply(&v->fe, &req, ans, sizeof(ans));
}

static void msg_vring_addr_outside(struct vm *v)
{
	struct vhost_vring_addr a = { 0, 0, v->fe.uva + 64 * RAM, v->fe.uva + 65 * RAM, v->fe.uva + 66 * RAM, 0 };

	raw(v, VHOST_USER_SET_VRING_ADDR, 0, sizeof(a), &a, sizeof(a), NULL, 0);
	fe_kick(v->kick[0]);
}

static void msg_half_then_close(struct vm *v)
{
	uint32_t hdr[2] = { VHOST_USER_GET_FEATURES, VHOST_USER_VERSION };

	(void)!write(v->fe.sock, hdr, 5);
	vm_close(v);
}

/* Rings and descriptors: a valid command behind a malformed chain. */
static void ring_chain(struct vm *v, struct vring_desc first, int with_out)
{
	put_cmd(v, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	if (with_out)
		post_descs(v, (struct vring_desc[]){ first, { OUT, 64, VRING_DESC_F_WRITE, 0 } }, 2, v->head);
	else
		post_descs(v, &first, 1, v->head);
}

static uint16_t next_slot(struct vm *v)
{
	return (uint16_t)((v->head + 1) % QSZ);
}

static void ring_desc_outside_ram(struct vm *v)
{
	ring_chain(v, (struct vring_desc){ 4ull * RAM, 24, VRING_DESC_F_NEXT, next_slot(v) }, 1);
}

static void ring_desc_zero_length(struct vm *v)
{
	ring_chain(v, (struct vring_desc){ IN, 0, VRING_DESC_F_NEXT, next_slot(v) }, 1);
}

static void ring_desc_wraps(struct vm *v)
{
	ring_chain(v, (struct vring_desc){ 0xfffffffffffff000ull, 0x2000, VRING_DESC_F_NEXT, next_slot(v) }, 1);
}

static void ring_chain_loop(struct vm *v)
{
	ring_chain(v, (struct vring_desc){ IN, 24, VRING_DESC_F_NEXT, v->head }, 0);
}

static void ring_next_out_of_range(struct vm *v)
{
	ring_chain(v, (struct vring_desc){ IN, 24, VRING_DESC_F_NEXT, 5000 }, 0);
}

static void ring_writable_first(struct vm *v)
{
	post_descs(v,
		   (struct vring_desc[]){ { OUT, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, next_slot(v) },
					  { IN, 24, 0, 0 } },
		   2, v->head);
}

static void ring_avail_jump(struct vm *v)
{
	uint16_t idx;

	memcpy(&idx, v->fe.ram + RING + 0x1000 + 2, 2);
	idx = (uint16_t)(idx + 1000);
	__atomic_store_n((uint16_t *)(v->fe.ram + RING + 0x1000 + 2), idx, __ATOMIC_RELEASE);
	fe_kick(v->kick[0]);
}

static void ring_head_out_of_range(struct vm *v)
{
	post_descs(v, (struct vring_desc[]){ { IN, 24, 0, 0 } }, 1, 999);
}

static void ring_indirect(struct vm *v, uint64_t addr, uint32_t len)
{
	ring_chain(v, (struct vring_desc){ addr, len, VRING_DESC_F_INDIRECT, 0 }, 0);
}

static void ring_indirect_outside_ram(struct vm *v)
{
	ring_indirect(v, 4ull * RAM, 32);
}

static void ring_indirect_bad_length(struct vm *v)
{
	ring_indirect(v, IND, 17);
}

static void ring_indirect_nested(struct vm *v)
{
	struct vring_desc t[2] = { { IND + 0x100, 32, VRING_DESC_F_INDIRECT, 0 }, { OUT, 64, VRING_DESC_F_WRITE, 0 } };

	memcpy(v->fe.ram + IND, t, sizeof(t));
	ring_indirect(v, IND, sizeof(t));
}

/* Commands: well-formed rings, malformed GPU commands. */
static void cmd_short(struct vm *v)
{
	uint32_t t = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D;

	vm_cmd(v, &t, 4);
}

static void cmd_unknown_type(struct vm *v)
{
	struct virtio_gpu_ctrl_hdr h = { .type = 0x9999 };

	vm_cmd(v, &h, sizeof(h));
}

static void cmd_create_overflow(struct vm *v)
{
	create(v, 50, 0x10000, 0x10000); /* 2^34 bytes: wraps a 32-bit product */
	create(v, 51, 0xffffffffu, 0xffffffffu);
}

static void cmd_create_zero(struct vm *v)
{
	create(v, 50, 0, 16);
}

static void cmd_transfer_outside(struct vm *v)
{
	struct virtio_gpu_transfer_to_host_2d t = { { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D }, { 0, 0, 64, 64 }, 0, 50, 0 };

	create(v, 50, 16, 16);
	attach(v, 50, BACK, 16 * 16 * 4);
	vm_cmd(v, &t, sizeof(t));
}

static void cmd_transfer_offset_overflow(struct vm *v)
{
	struct virtio_gpu_transfer_to_host_2d t = { { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D }, { 0, 0, 16, 16 },
						    0xfffffffffffffff0ull, 50, 0 };

	create(v, 50, 16, 16);
	attach(v, 50, BACK, 16 * 16 * 4);
	vm_cmd(v, &t, sizeof(t));
}

static void cmd_flush_unknown(struct vm *v)
{
	struct virtio_gpu_resource_flush f = { { .type = VIRTIO_GPU_CMD_RESOURCE_FLUSH }, { 0, 0, 16, 16 }, 777, 0 };

	vm_cmd(v, &f, sizeof(f));
}

static void cmd_scanout_bad_id(struct vm *v)
{
	struct virtio_gpu_set_scanout s = { { .type = VIRTIO_GPU_CMD_SET_SCANOUT }, { 0, 0, 16, 16 }, 99, 50 };

	create(v, 50, 16, 16);
	vm_cmd(v, &s, sizeof(s));
}

static void cmd_scanout_rect_outside(struct vm *v)
{
	struct virtio_gpu_set_scanout s = { { .type = VIRTIO_GPU_CMD_SET_SCANOUT }, { 100, 100, 4096, 4096 }, 0, 50 };

	create(v, 50, 16, 16);
	attach(v, 50, BACK, 16 * 16 * 4);
	vm_cmd(v, &s, sizeof(s));
}

static void cmd_response_too_small(struct vm *v)
{
	struct virtio_gpu_ctrl_hdr h = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };

	vm_cmd_at(v, &h, sizeof(h), 4);
}

static void cmd_use_after_unref(struct vm *v)
{
	struct virtio_gpu_resource_unref u = { { .type = VIRTIO_GPU_CMD_RESOURCE_UNREF }, 50, 0 };
	struct virtio_gpu_transfer_to_host_2d t = { { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D }, { 0, 0, 16, 16 }, 0, 50, 0 };
	struct virtio_gpu_resource_flush f = { { .type = VIRTIO_GPU_CMD_RESOURCE_FLUSH }, { 0, 0, 16, 16 }, 50, 0 };

	create(v, 50, 16, 16);
	attach(v, 50, BACK, 16 * 16 * 4);
	vm_cmd(v, &u, sizeof(u));
	vm_cmd(v, &t, sizeof(t));
	vm_cmd(v, &f, sizeof(f));
	vm_cmd(v, &u, sizeof(u));
}

/* Backing entries. */
static void backing_count_huge(struct vm *v)
{
	struct virtio_gpu_resource_attach_backing a = { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, 50,
							 0x7fffffff };

	create(v, 50, 16, 16);
	vm_cmd(v, &a, sizeof(a));
}

static void backing_outside_ram(struct vm *v)
{
	struct virtio_gpu_transfer_to_host_2d t = { { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D }, { 0, 0, 16, 16 }, 0, 50, 0 };

	create(v, 50, 16, 16);
	attach(v, 50, 64ull * RAM, 16 * 16 * 4);
	vm_cmd(v, &t, sizeof(t));
}

static void backing_entry_wraps(struct vm *v)
{
	struct virtio_gpu_transfer_to_host_2d t = { { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D }, { 0, 0, 16, 16 }, 0, 50, 0 };

	create(v, 50, 16, 16);
	attach(v, 50, 0xffffffffffffff00ull, 16 * 16 * 4);
	vm_cmd(v, &t, sizeof(t));
}

static void backing_too_short(struct vm *v)
{
	struct virtio_gpu_transfer_to_host_2d t = { { .type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D }, { 0, 0, 16, 16 }, 0, 50, 0 };

	create(v, 50, 16, 16);
	attach(v, 50, BACK, 64);
	vm_cmd(v, &t, sizeof(t));
}

static void backing_twice(struct vm *v)
{
	create(v, 50, 16, 16);
	attach(v, 50, BACK, 16 * 16 * 4);
	attach(v, 50, BACK, 16 * 16 * 4);
}

/* Life cycle. */
static void stop_mid_request(struct vm *v)
{
	uint16_t at;

	put_cmd(v, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	post_descs(v, (struct vring_desc[]){ { IN, 24, VRING_DESC_F_NEXT, next_slot(v) }, { OUT, 64, VRING_DESC_F_WRITE, 0 } },
		   2, v->head);
	fe_stop_ring(&v->fe, 0, &at);
	close(v->call[0]);
	v->call[0] = -1;
}

/* ---- worker cases: the victim's render worker fails, by request over the mediator's control socket ---- */

/* One control request (a line); 0 when the mediator answered ok (within 2 s a read). */
static int control(const struct backend *b, const char *line)
{
	char *answer = vb_unix_ask(b->ctl, line, vb_now() + 2.0, b->pid, 1u << 20);
	int ok = answer && strstr(answer, "\"ok\":true");

	free(answer);
	return ok ? 0 : -1;
}

/* The victim makes a 3D context, so its worker holds something of its own. */
static void ctx_create(struct vm *v)
{
	struct virtio_gpu_ctx_create cc = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = 1 }, .nlen = 7 };

	memcpy(cc.debug_name, "hostile", 7);
	vm_cmd(v, &cc, sizeof(cc));
}

/* While the victim's worker is failing: the neighbour is served every 50 ms for up to `secs`, or until the victim's
 * request at `head` is answered (head < 0: no such request). How it went goes to det. 0 when the neighbour was
 * served every time, 1 when it stalled. */
static int neighbour_through(struct backend *b, struct vm *v, double secs, int head, char *det, size_t len)
{
	double t0 = vb_now(), worst = 0;
	int served = 0, tries = 0;

	while (vb_now() - t0 < secs) {
		double s0 = vb_now();

		tries++;
		served += serves(&b->neighbour, b->next_id++);
		if (vb_now() - s0 > worst)
			worst = vb_now() - s0;
		if (head >= 0 && fe_used_idx(&v->fe, RING) != (uint16_t)head)
			break;
		usleep(50000);
	}
	snprintf(det, len, "meanwhile the neighbour was served %d of %d times in %.1f s, the slowest in %.0f ms%s", served,
		 tries, vb_now() - t0, worst * 1e3,
		 head >= 0 && fe_used_idx(&v->fe, RING) == (uint16_t)head ? "; the victim's batch was never answered" : "");
	return served == tries ? 0 : 1;
}

/* Its worker dies of SIGSEGV. */
static int worker_crash(struct backend *b, struct vm *v, char *det, size_t len)
{
	ctx_create(v);
	if (control(b, "fault victim worker-crash\n") < 0)
		return -1;
	return neighbour_through(b, v, 0.5, -1, det, len);
}

/* Its worker stops (SIGSTOP) with a fenced batch of the victim's in it: nothing retires until the watchdog kills
 * the worker (WORKER_WATCHDOG_MS) and answers the batch. */
static int worker_watchdog(struct backend *b, struct vm *v, char *det, size_t len)
{
	struct {
		struct virtio_gpu_cmd_submit s;
		uint32_t dw[9];
	} m = { { { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .flags = VIRTIO_GPU_FLAG_FENCE, .fence_id = 1, .ctx_id = 1 },
		  sizeof(m.dw), 0 },
		{ (8u << 16) | 7, 1u << 2, 0, 0, 0, 0, 0, 0, 0 } }; /* clear the colour buffer */
	int r;

	ctx_create(v);
	if (control(b, "fault victim worker-stop\n") < 0)
		return -1;
	memcpy(v->fe.ram + IN, &m, sizeof(m));
	post_descs(v, (struct vring_desc[]){ { IN, sizeof(m), VRING_DESC_F_NEXT, next_slot(v) },
					     { OUT, 64, VRING_DESC_F_WRITE, 0 } },
		   2, v->head);
	r = neighbour_through(b, v, 3.0, v->used, det, len);
	if (fe_used_idx(&v->fe, RING) != v->used)
		v->used++; /* the batch was answered: the victim's next command is answered after it */
	return r;
}

/* Its worker dies and the next one takes a second to say READY. */
static int worker_slow_start(struct backend *b, struct vm *v, char *det, size_t len)
{
	ctx_create(v);
	if (control(b, "fault victim worker-delay=1000\n") < 0 || control(b, "fault victim worker-crash\n") < 0)
		return -1;
	return neighbour_through(b, v, 1.2, -1, det, len);
}

struct hcase {
	const char *name, *cls;
	void (*run)(struct vm *v);
	/* A worker case (needs a back-end with render workers): 0, 1 when the neighbour stalled meanwhile, -1 when the
	 * mediator refused to inject the fault. */
	int (*run_worker)(struct backend *b, struct vm *v, char *det, size_t len);
};

#define CASE(n, k, f) { n, k, f, NULL }
#define WORKER_CASE(n, f) { n, "worker", NULL, f }
static const struct hcase catalogue[] = {
	CASE("msg-payload-short", "message", msg_payload_short),
	CASE("msg-payload-missing", "message", msg_payload_missing),
	CASE("msg-payload-1gib", "message", msg_payload_huge),
	CASE("msg-unknown-request", "message", msg_unknown_request),
	CASE("msg-bad-version", "message", msg_bad_version),
	CASE("msg-queue-index", "message", msg_queue_index),
	CASE("msg-vring-num-odd", "message", msg_vring_num_odd),
	CASE("msg-regions-without-fds", "message", msg_regions_without_fds),
	CASE("msg-region-past-fd", "message", msg_region_past_fd),
	CASE("msg-zero-regions", "message", msg_zero_regions),
	CASE("msg-config-past-end", "message", msg_config_past_end),
	CASE("msg-vring-addr-outside", "message", msg_vring_addr_outside),
	CASE("msg-half-then-close", "message", msg_half_then_close),
	CASE("ring-desc-outside-ram", "ring", ring_desc_outside_ram),
	CASE("ring-desc-zero-length", "ring", ring_desc_zero_length),
	CASE("ring-desc-wraps", "ring", ring_desc_wraps),
	CASE("ring-chain-loop", "ring", ring_chain_loop),
	CASE("ring-next-out-of-range", "ring", ring_next_out_of_range),
	CASE("ring-writable-first", "ring", ring_writable_first),
	CASE("ring-avail-jump", "ring", ring_avail_jump),
	CASE("ring-head-out-of-range", "ring", ring_head_out_of_range),
	CASE("ring-indirect-outside-ram", "ring", ring_indirect_outside_ram),
	CASE("ring-indirect-bad-length", "ring", ring_indirect_bad_length),
	CASE("ring-indirect-nested", "ring", ring_indirect_nested),
	CASE("cmd-short", "command", cmd_short),
	CASE("cmd-unknown-type", "command", cmd_unknown_type),
	CASE("cmd-create-overflow", "command", cmd_create_overflow),
	CASE("cmd-create-zero", "command", cmd_create_zero),
	CASE("cmd-transfer-outside", "command", cmd_transfer_outside),
	CASE("cmd-transfer-offset-overflow", "command", cmd_transfer_offset_overflow),
	CASE("cmd-flush-unknown", "command", cmd_flush_unknown),
	CASE("cmd-scanout-bad-id", "command", cmd_scanout_bad_id),
	CASE("cmd-scanout-rect-outside", "command", cmd_scanout_rect_outside),
	CASE("cmd-response-too-small", "command", cmd_response_too_small),
	CASE("cmd-use-after-unref", "command", cmd_use_after_unref),
	CASE("backing-count-huge", "backing", backing_count_huge),
	CASE("backing-outside-ram", "backing", backing_outside_ram),
	CASE("backing-entry-wraps", "backing", backing_entry_wraps),
	CASE("backing-too-short", "backing", backing_too_short),
	CASE("backing-twice", "backing", backing_twice),
	CASE("stop-mid-request", "lifecycle", stop_mid_request),
	WORKER_CASE("worker-crash", worker_crash),
	WORKER_CASE("worker-watchdog", worker_watchdog),
	WORKER_CASE("worker-slow-start", worker_slow_start),
};
#undef CASE
#undef WORKER_CASE

#define NCASES (sizeof(catalogue) / sizeof(catalogue[0]))

enum outcome { O_SURVIVED, O_RECOVERED, O_RECONNECT, O_DEAD, O_HUNG, O_CRASHED, O_SETUP, O_SKIPPED, O_COUNT };
static const char *const outcome_name[O_COUNT] = { "survived", "recovered",    "reconnect", "dead",
						   "hung",     "crashed",      "setup-failed", "skipped" };

/* Connect the victim and see it served (resource id). The last connection may not be gone yet on the back-end's
 * side (a named vGPU takes one VM at a time): a few tries, 200 ms apart. 0 or -1 (v closed). */
static int open_serving(struct backend *b, struct vm *v, uint32_t id)
{
	for (int tries = 0; tries < 5; tries++) {
		if (tries)
			usleep(200000);
		if (vm_open(v, b->victim_sock, b->pid, b->workers) == 0 && serves(v, id))
			return 0;
		vm_close(v);
		if (!backend_alive(b))
			break;
	}
	return -1;
}

/* Run one case on b; the outcome, the neighbour's verdict into *nb ("served", "stalled", "-"). */
static enum outcome run_case(struct backend *b, const struct hcase *k, const char **nb, char *det, size_t detlen)
{
	struct vm victim;
	enum outcome o;
	int stalled_during = 0;

	*nb = "-";
	det[0] = 0;
	if (k->run_worker && !b->shared) {
		snprintf(det, detlen, "a process per VM: no render worker of its own to lose");
		return O_SKIPPED;
	}
	/* QEMU's: a fresh process per case; ours: after a crash, or to start with render workers or without. */
	if (!b->shared || !backend_alive(b) || b->workers != (k->run_worker != NULL)) {
		if (b->shared && b->pid == 0 && b->status)
			b->restarts++;
		backend_stop(b);
		if (backend_start(b, k->run_worker != NULL) < 0) {
			snprintf(det, detlen, "the back-end did not start (log %s)", b->log);
			return O_SETUP;
		}
	}
	if (open_serving(b, &victim, 1) < 0) {
		snprintf(det, detlen, "the victim's device did not come up");
		return O_SETUP;
	}
	if (k->run_worker) {
		int w = k->run_worker(b, &victim, det, detlen);

		if (w < 0) {
			snprintf(det, detlen, "the mediator refused to inject the fault (log %s)", b->log);
			vm_close(&victim);
			return O_SETUP;
		}
		stalled_during = w;
	} else
		k->run(&victim);
	usleep(300000);
	if (!backend_alive(b)) {
		ended(b, det, detlen);
		/* A back-end that serves one VM may end cleanly when that VM's connection closes. */
		o = !victim.up && WIFEXITED(b->status) && WEXITSTATUS(b->status) == 0 ? O_SURVIVED : O_CRASHED;
		vm_close(&victim);
		return o;
	}
	if (b->shared)
		*nb = serves(&b->neighbour, b->next_id++) && !stalled_during ? "served" : "stalled";
	if (victim.up && serves(&victim, 2))
		o = O_SURVIVED;
	else if (victim.up && vm_reset(&victim) == 0 && serves(&victim, 3))
		o = O_RECOVERED;
	else if (!backend_alive(b)) {
		ended(b, det, detlen);
		o = O_CRASHED;
	} else if (b->shared) {
		vm_close(&victim);
		if (open_serving(b, &victim, 4) == 0)
			o = O_RECONNECT;
		else
			o = !strcmp(*nb, "stalled") ? O_HUNG : O_DEAD;
	} else {
		/* One VM per process and one connection: either it still answers its front-end, or nothing. */
		o = answers(&victim) ? O_DEAD : O_HUNG;
	}
	vm_close(&victim);
	return o;
}

static void usage(void)
{
	fprintf(stderr, "usage: vgpu-hostile [--mediator PATH] [--qemu PATH] [--cases GLOB] [--list]\n");
}

int main(int argc, char **argv)
{
	struct backend bs[2] = { { .name = "vgpu-mediator", .shared = 1 }, { .name = "qemu-vhost-user-gpu" } };
	const char *glob = "*";
	char dir[] = "/tmp/vgpu-hostile.XXXXXX";
	int nb = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mediator") && i + 1 < argc)
			bs[0].exe = argv[++i];
		else if (!strcmp(argv[i], "--qemu") && i + 1 < argc)
			bs[1].exe = argv[++i];
		else if (!strcmp(argv[i], "--cases") && i + 1 < argc)
			glob = argv[++i];
		else if (!strcmp(argv[i], "--list")) {
			for (size_t k = 0; k < NCASES; k++)
				printf("%s %s\n", catalogue[k].name, catalogue[k].cls);
			return 0;
		} else {
			usage();
			return 2;
		}
	}
	if (!bs[0].exe && !bs[1].exe) {
		static char med[4096];
		ssize_t n = readlink("/proc/self/exe", med, sizeof(med) - 32);
		char *slash = n > 0 ? memrchr(med, '/', (size_t)n) : NULL;

		if (slash) {
			strcpy(slash + 1, "vgpu-mediator");
			bs[0].exe = med;
		}
		bs[1].exe = QEMU_BACKEND;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "vgpu-hostile: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	printf("robustness-format: 1\n");
	for (int i = 0; i < 2; i++) {
		struct backend *b = &bs[i];
		int count[O_COUNT] = { 0 }, stalled = 0, ran = 0;
		struct stat sb;

		if (!b->exe)
			continue;
		if (stat(b->exe, &sb) < 0) {
			printf("skip: %s: %s is not there\n", b->name, b->exe);
			continue;
		}
		snprintf(b->dir, sizeof(b->dir), "%s/%d", dir, i);
		mkdir(b->dir, 0700);
		snprintf(b->log, sizeof(b->log), "%s/backend.log", b->dir);
		snprintf(b->victim_sock, sizeof(b->victim_sock), "%s/v.sock", b->dir);
		snprintf(b->neighbour_sock, sizeof(b->neighbour_sock), "%s/n.sock", b->dir);
		snprintf(b->ctl, sizeof(b->ctl), "%s/control.sock", b->dir);
		printf("backend: %s %s\n", b->name, b->exe);
		for (size_t k = 0; k < NCASES; k++) {
			const char *nbv;
			char det[160];
			enum outcome o;

			if (fnmatch(glob, catalogue[k].name, 0))
				continue;
			o = run_case(b, &catalogue[k], &nbv, det, sizeof(det));
			count[o]++;
			stalled += !strcmp(nbv, "stalled");
			ran++;
			printf("case: %s %s %s %s %s%s%s\n", b->name, catalogue[k].name, catalogue[k].cls, outcome_name[o], nbv,
			       det[0] ? " " : "", det);
			fflush(stdout);
		}
		printf("summary: %s cases=%d", b->name, ran);
		for (int o = 0; o < O_COUNT; o++)
			printf(" %s=%d", outcome_name[o], count[o]);
		printf(" neighbour_stalled=%d restarts=%d\n", stalled, b->restarts);
		backend_stop(b);
		nb++;
	}
	vb_rm_rf(dir);
	return nb ? 0 : 1;
}
