/* hostile_cases.c: vgpu-hostile's catalogue (docs/mediator.md): each malformed input by name and class, and
 * the worker cases (a render worker crashing, hanging or starting slowly). */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/virtio_gpu.h"
#include "hostile.h"
#include "util.h"
#include "vhost/vhost_msg.h"

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

const struct hcase catalogue[] = {
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

const size_t catalogue_len = sizeof(catalogue) / sizeof(catalogue[0]);

#undef CASE

#undef WORKER_CASE
