/* gpu_device_test.c: the virtio-gpu device of vgpu-mediator driven without a
 * VM: the test front-end shares guest RAM and rings (playing QEMU), a thread
 * plays QEMU's display side of the vhost-user-gpu channel. Covers the 2D
 * commands with the frame the guest drew compared to the frame the front-end
 * received, malformed commands (bad IDs, out-of-range backing, oversized and
 * overlapping transfers, another vGPU's IDs), the command scanner, and the
 * virgl 3D path on the host's renderer: two vGPUs using the same guest IDs
 * render into their own resources only. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define RAM (4u << 20)
#include "vdev_fixture.h"

#include "device/gpu_device.h"
#include "io_full.h"
#include "render/renderer.h"
#include "device/virgl_scan.h"

/* Mesa and LLVM keep process-lifetime allocations: not ours to report. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libgallium\nleak:libLLVM\nleak:libEGL\nleak:libglapi\nleak:libvirglrenderer\nleak:dri\n"
	       "leak:libexpat\nleak:libdrm\n";
}

#define IN 0x10000
#define OUT 0x20000
#define BACK 0x100000 /* backings from here */

/* ---- QEMU's display side ---- */

struct display {
	int fd;
	uint32_t fb[64 * 64]; /* what the front-end shows of scanout 0 */
	uint32_t sw, sh;      /* the scanout's size as configured */
	/* Counted after what they count is written: reading one (seq_cst) makes the fields written before it
	 * visible to the test's thread. */
	_Atomic int updates, scanouts, cursors;
	struct virtio_gpu_rect last; /* the last update's rectangle */
	_Atomic int stop;
};

static void *display_main(void *arg)
{
	struct display *d = arg;
	const size_t cap = sizeof(struct vhost_user_gpu_update) + 64 * 64 * 4 + 16384;
	uint8_t *payload = malloc(cap); /* one a display: two may run at once */

	while (payload && !d->stop) {
		struct pollfd p = { d->fd, POLLIN, 0 };
		uint32_t hdr[3];

		if (poll(&p, 1, 50) <= 0)
			continue;
		if (io_read_full(d->fd, hdr, sizeof(hdr)) < 0 || hdr[2] > cap ||
		    io_read_full(d->fd, payload, hdr[2]) < 0)
			break;
		if (hdr[0] == VHOST_USER_GPU_GET_PROTOCOL_FEATURES) {
			uint64_t f = 1ull << VHOST_USER_GPU_PROTOCOL_F_EDID;

			fe_display_reply(d->fd, hdr[0], &f, sizeof(f));
		} else if (hdr[0] == VHOST_USER_GPU_GET_DISPLAY_INFO) {
			struct virtio_gpu_resp_display_info di = { .hdr.type = VIRTIO_GPU_RESP_OK_DISPLAY_INFO };

			di.pmodes[0] = (struct virtio_gpu_display_one){ { 0, 0, 640, 480 }, 1, 0 };
			fe_display_reply(d->fd, hdr[0], &di, sizeof(di));
		} else if (hdr[0] == VHOST_USER_GPU_GET_EDID) {
			struct virtio_gpu_resp_edid e = { .hdr.type = VIRTIO_GPU_RESP_OK_EDID, .size = 128 };

			memcpy(e.edid, "\0\xff\xff\xff\xff\xff\xff\0", 8);
			fe_display_reply(d->fd, hdr[0], &e, sizeof(e));
		} else if (hdr[0] == VHOST_USER_GPU_SCANOUT) {
			struct vhost_user_gpu_scanout s;

			memcpy(&s, payload, sizeof(s));
			d->sw = s.width;
			d->sh = s.height;
			d->scanouts++;
		} else if (hdr[0] == VHOST_USER_GPU_UPDATE) {
			struct vhost_user_gpu_update u;

			memcpy(&u, payload, sizeof(u));
			for (uint32_t y = 0; y < u.height && u.y + y < 64; y++)
				for (uint32_t x = 0; x < u.width && u.x + x < 64; x++)
					memcpy(&d->fb[(u.y + y) * 64 + u.x + x],
					       payload + sizeof(u) + ((size_t)y * u.width + x) * 4, 4);
			d->last = (struct virtio_gpu_rect){ u.x, u.y, u.width, u.height };
			d->updates++;
		} else if (hdr[0] == VHOST_USER_GPU_CURSOR_UPDATE) {
			d->cursors++;
		}
	}
	free(payload);
	return NULL;
}

/* ---- one vGPU under test ---- */

struct tgpu {
	struct frontend fe;
	struct vdev vd;
	struct gpu_device gd;
	int kick, call;
	uint16_t head;
	struct display disp;
	pthread_t thr;
	int has_disp;
};

/* Guest memory remapped: the backings move, as the mediator's loop has them (main.c). */
static void remap_hook(void *ctx, enum vdev_event ev, unsigned qi)
{
	(void)qi;
	if (ev == VDEV_MEM_REMAPPED)
		gpu_device_mem_remapped(ctx);
}

static void tgpu_up(struct tgpu *t, uint64_t features, int with_display)
{
	int sv[2], dv[2];
	struct virtio_gpu_config cfg;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	CHECK(fe_init(&t->fe, sv[0], RAM) == 0, "front-end");
	gpu_device_config(&cfg, features != 0);
	vdev_init(&t->vd, sv[1], 2, gpu_device_features(features != 0), &cfg, sizeof(cfg), gpu_device_handle, &t->gd);
	gpu_device_init(&t->gd, &t->vd);
	t->vd.config_hook = gpu_device_config_write;
	t->vd.event_hook = remap_hook;
	t->vd.event_ctx = &t->gd;
	bring_up(&t->vd, &t->fe, features, &t->kick, &t->call);
	t->head = 0;
	t->has_disp = with_display;
	if (with_display) {
		CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dv) == 0, "display socketpair");
		memset(&t->disp, 0, sizeof(t->disp));
		t->disp.fd = dv[0];
		pthread_create(&t->thr, NULL, display_main, &t->disp);
		CHECK(gdisp_attach(&t->gd.disp, dv[1]) == 0, "display attached");
	}
}

static void tgpu_down(struct tgpu *t)
{
	if (t->has_disp) {
		t->disp.stop = 1;
		pthread_join(t->thr, NULL);
		close(t->disp.fd);
	}
	gpu_device_free(&t->gd);
	vdev_free(&t->vd);
	fe_free(&t->fe);
	close(t->kick);
	close(t->call);
}

/* Send a command (len bytes) and return the response header's type (0 when none came). */
static uint32_t send_cmd(struct tgpu *t, const void *cmd, uint32_t len, uint32_t out_len)
{
	uint16_t used_before, used_after;
	struct virtio_gpu_ctrl_hdr resp = { 0 };

	memcpy(&used_before, t->fe.ram + RING + 0x2000 + 2, 2);
	memcpy(t->fe.ram + IN, cmd, len);
	memset(t->fe.ram + OUT, 0, out_len);
	fe_offer(&t->fe, RING, QSZ, t->head, IN, len, OUT, out_len, t->kick);
	t->head = (uint16_t)((t->head + 2) % QSZ);
	vdev_process_queue(&t->vd, GPU_CTRLQ);
	for (int i = 0; i < 400; i++) { /* a fenced command completes when the renderer is done */
		memcpy(&used_after, t->fe.ram + RING + 0x2000 + 2, 2);
		if (used_after != used_before)
			break;
		usleep(5000);
		renderer_poll(gpu_device_renderer());
	}
	memcpy(&used_after, t->fe.ram + RING + 0x2000 + 2, 2);
	if (used_after == used_before)
		return 0;
	memcpy(&resp, t->fe.ram + OUT, sizeof(resp));
	return resp.type;
}

static struct virtio_gpu_ctrl_hdr H(uint32_t type)
{
	return (struct virtio_gpu_ctrl_hdr){ .type = type };
}

static uint32_t create_2d(struct tgpu *t, uint32_t id, uint32_t fmt, uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d c = { H(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), id, fmt, w, h };

	return send_cmd(t, &c, sizeof(c), 64);
}

static uint32_t attach(struct tgpu *t, uint32_t id, uint64_t addr, uint32_t len)
{
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[2];
	} m = { { H(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), id, 2 },
		{ { addr, len / 2, 0 }, { addr + len / 2, len - len / 2, 0 } } };

	return send_cmd(t, &m, sizeof(m), 64);
}

static uint32_t transfer(struct tgpu *t, uint32_t id, struct virtio_gpu_rect r, uint64_t off)
{
	struct virtio_gpu_transfer_to_host_2d m = { H(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), r, off, id, 0 };

	return send_cmd(t, &m, sizeof(m), 64);
}

static uint32_t scanout(struct tgpu *t, uint32_t sid, uint32_t id, struct virtio_gpu_rect r)
{
	struct virtio_gpu_set_scanout m = { H(VIRTIO_GPU_CMD_SET_SCANOUT), r, sid, id };

	return send_cmd(t, &m, sizeof(m), 64);
}

static uint32_t flush(struct tgpu *t, uint32_t id, struct virtio_gpu_rect r)
{
	struct virtio_gpu_resource_flush m = { H(VIRTIO_GPU_CMD_RESOURCE_FLUSH), r, id, 0 };

	return send_cmd(t, &m, sizeof(m), 64);
}

static uint32_t simple(struct tgpu *t, uint32_t type, uint32_t id)
{
	struct virtio_gpu_resource_unref m = { H(type), id, 0 };

	return send_cmd(t, &m, sizeof(m), 64);
}

static void wait_updates(struct display *d, int n)
{
	for (int i = 0; i < 200 && d->updates < n; i++)
		usleep(5000);
}

static void test_2d(void)
{
	struct tgpu t, t2;
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };
	uint8_t *px;
	int same = 1;

	tgpu_up(&t, 0, 1);
	tgpu_up(&t2, 0, 0);

	{
		struct virtio_gpu_ctrl_hdr h = H(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
		struct virtio_gpu_resp_display_info di;

		CHECK(send_cmd(&t, &h, sizeof(h), sizeof(di)) == VIRTIO_GPU_RESP_OK_DISPLAY_INFO, "display info");
		memcpy(&di, t.fe.ram + OUT, sizeof(di));
		CHECK(di.pmodes[0].r.width == 640 && di.pmodes[0].enabled, "the front-end's layout: %u",
		      di.pmodes[0].r.width);
		CHECK(send_cmd(&t2, &h, sizeof(h), sizeof(di)) == VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
		      "display info without a front-end display");
		memcpy(&di, t2.fe.ram + OUT, sizeof(di));
		CHECK(di.pmodes[0].r.width == 1024, "the default layout: %u", di.pmodes[0].r.width);
	}
	{
		struct virtio_gpu_cmd_get_edid e = { H(VIRTIO_GPU_CMD_GET_EDID), 0, 0 };
		struct virtio_gpu_resp_edid re;

		CHECK(send_cmd(&t, &e, sizeof(e), sizeof(re)) == VIRTIO_GPU_RESP_OK_EDID, "EDID");
		memcpy(&re, t.fe.ram + OUT, sizeof(re));
		CHECK(re.size == 128 && re.edid[1] == 0xff, "EDID from the front-end");
		e.scanout = 3;
		CHECK(send_cmd(&t, &e, sizeof(e), sizeof(re)) == VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "EDID scanout");
	}

	/* creation */
	CHECK(create_2d(&t, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA, "create");
	CHECK(create_2d(&t, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
	      "duplicate id");
	CHECK(create_2d(&t, 0, 2, 64, 64) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "id 0");
	CHECK(create_2d(&t, 2, 99, 64, 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "unknown format");
	CHECK(create_2d(&t, 2, 2, 0, 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "zero width");
	CHECK(create_2d(&t, 2, 2, 16384, 16384) == VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "1 GiB is past the budget");
	CHECK(create_2d(&t, 2, 2, 0x40000000, 4) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "32-bit overflow size");
	{
		struct virtio_gpu_ctrl_hdr h = H(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);

		CHECK(send_cmd(&t, &h, sizeof(h), 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "truncated command");
		h.type = 0x0999;
		CHECK(send_cmd(&t, &h, sizeof(h), 64) == VIRTIO_GPU_RESP_ERR_UNSPEC, "unknown command");
		h.type = VIRTIO_GPU_CMD_CTX_CREATE;
		CHECK(send_cmd(&t, &h, sizeof(h), 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "truncated 3D command");
	}
	{
		struct virtio_gpu_ctx_create cc = { .hdr = H(VIRTIO_GPU_CMD_CTX_CREATE) };

		cc.hdr.ctx_id = 1;
		CHECK(send_cmd(&t, &cc, sizeof(cc), 64) == VIRTIO_GPU_RESP_ERR_UNSPEC, "3D without virgl");
	}

	/* backing */
	CHECK(transfer(&t, 1, full, 0) == VIRTIO_GPU_RESP_ERR_UNSPEC, "transfer without backing");
	CHECK(attach(&t, 1, RAM - 4096, 64 * 64 * 4) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "backing past RAM");
	CHECK(attach(&t, 1, ~0ull - 100, 4096) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "backing wrapping 2^64");
	{
		struct virtio_gpu_resource_attach_backing a = { H(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), 1, 1000 };

		CHECK(send_cmd(&t, &a, sizeof(a), 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
		      "more entries than the request holds");
	}
	CHECK(attach(&t, 9, BACK, 4096) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "backing of no resource");
	CHECK(attach(&t, 1, BACK, 64 * 64 * 4) == VIRTIO_GPU_RESP_OK_NODATA, "backing");
	CHECK(attach(&t, 1, BACK, 64 * 64 * 4) == VIRTIO_GPU_RESP_ERR_UNSPEC, "second backing");

	/* the guest draws a pattern, the front-end must show exactly it */
	px = t.fe.ram + BACK;
	for (int i = 0; i < 64 * 64; i++) {
		px[i * 4 + 0] = (uint8_t)i;
		px[i * 4 + 1] = (uint8_t)(i >> 4);
		px[i * 4 + 2] = (uint8_t)(255 - i);
		px[i * 4 + 3] = 0;
	}
	CHECK(transfer(&t, 1, full, 0) == VIRTIO_GPU_RESP_OK_NODATA, "transfer");
	CHECK(transfer(&t, 1, (struct virtio_gpu_rect){ 32, 0, 33, 64 }, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	      "rect past the resource");
	CHECK(transfer(&t, 1, (struct virtio_gpu_rect){ 0, 0, 64, 64 }, 4) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	      "rect past the backing");
	CHECK(transfer(&t, 1, (struct virtio_gpu_rect){ 0, 0, 1, 1 }, ~0ull) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	      "offset near 2^64");
	CHECK(transfer(&t, 1, (struct virtio_gpu_rect){ 0xffffffff, 0, 2, 1 }, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	      "x + width wrapping 32 bits");
	CHECK(scanout(&t, 5, 1, full) == VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "scanout 5");
	CHECK(scanout(&t, 0, 1, (struct virtio_gpu_rect){ 0, 0, 65, 64 }) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	      "scanout rect past the resource");
	CHECK(scanout(&t, 0, 7, full) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "scanout of no resource");
	CHECK(scanout(&t, 0, 1, full) == VIRTIO_GPU_RESP_OK_NODATA, "scanout");
	CHECK(flush(&t, 1, full) == VIRTIO_GPU_RESP_OK_NODATA, "flush");
	wait_updates(&t.disp, 1);
	CHECK(t.disp.scanouts >= 1 && t.disp.sw == 64 && t.disp.sh == 64, "the front-end got the scanout %ux%u",
	      t.disp.sw, t.disp.sh);
	CHECK(t.disp.updates == 1, "the front-end got one update (%d)", t.disp.updates);
	for (int i = 0; i < 64 * 64; i++)
		same &= !memcmp((uint8_t *)&t.disp.fb[i], px + i * 4, 3); /* x8r8g8b8: the X byte is padding */
	CHECK(same, "the frame the front-end received is the frame the guest drew");

	/* a partial update: 8x8 at (8, 16) from an overlapping transfer */
	for (int y = 16; y < 24; y++)
		for (int x = 8; x < 16; x++)
			memset(px + (y * 64 + x) * 4, 0x5a, 4);
	CHECK(transfer(&t, 1, (struct virtio_gpu_rect){ 8, 16, 8, 8 }, (16 * 64 + 8) * 4) == VIRTIO_GPU_RESP_OK_NODATA,
	      "partial transfer");
	CHECK(transfer(&t, 1, (struct virtio_gpu_rect){ 4, 12, 8, 8 }, (12 * 64 + 4) * 4) == VIRTIO_GPU_RESP_OK_NODATA,
	      "overlapping transfer");
	CHECK(flush(&t, 1, (struct virtio_gpu_rect){ 0, 0, 32, 32 }) == VIRTIO_GPU_RESP_OK_NODATA, "partial flush");
	wait_updates(&t.disp, 2);
	same = 1;
	for (int y = 0; y < 64; y++)
		for (int x = 0; x < 64; x++)
			same &= !memcmp((uint8_t *)&t.disp.fb[y * 64 + x], px + (y * 64 + x) * 4, 3);
	CHECK(t.disp.updates == 2 && same, "the partial update lands where the guest drew it (%d updates)",
	      t.disp.updates);

	/* every other format is converted to the front-end's x8r8g8b8 (bytes B, G, R, padding): one pixel of
	 * R=0x30 G=0x20 B=0x10 A=0x40 laid out the way each format stores it */
	{
		static const struct {
			uint32_t fmt;
			const char *bytes;
		} fm[] = { { VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, "\x30\x20\x10\x40" },
			   { VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, "\x30\x20\x10\x40" },
			   { VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, "\x40\x30\x20\x10" },
			   { VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, "\x40\x30\x20\x10" },
			   { VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, "\x40\x10\x20\x30" },
			   { VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, "\x40\x10\x20\x30" },
			   { VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, "\x10\x20\x30\x40" } };

		for (unsigned k = 0; k < sizeof(fm) / sizeof(fm[0]); k++) {
			uint32_t id = k ? 10 + k : 3; /* resource 3 stays for the remap check below */

			CHECK(create_2d(&t, id, fm[k].fmt, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
				      attach(&t, id, BACK + 0x10000, 64 * 64 * 4) == VIRTIO_GPU_RESP_OK_NODATA,
			      "format %u resource", fm[k].fmt);
			memcpy(t.fe.ram + BACK + 0x10000, fm[k].bytes, 4);
			CHECK(transfer(&t, id, full, 0) == VIRTIO_GPU_RESP_OK_NODATA &&
				      scanout(&t, 0, id, full) == VIRTIO_GPU_RESP_OK_NODATA &&
				      flush(&t, id, (struct virtio_gpu_rect){ 0, 0, 1, 1 }) == VIRTIO_GPU_RESP_OK_NODATA,
			      "format %u shown", fm[k].fmt);
			wait_updates(&t.disp, 3 + (int)k);
			CHECK(!memcmp(&t.disp.fb[0], "\x10\x20\x30", 3), "format %u converted to x8r8g8b8: %08x",
			      fm[k].fmt, t.disp.fb[0]);
			CHECK(!k || simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, id) == VIRTIO_GPU_RESP_OK_NODATA,
			      "format %u resource freed", fm[k].fmt);
		}
	}

	/* cursor queue: a 64x64 shape reaches the display side; a bad scanout is counted; no response written */
	{
		struct virtio_gpu_update_cursor cu = { .hdr = H(VIRTIO_GPU_CMD_UPDATE_CURSOR), .pos = { 0, 10, 10, 0 },
						       .resource_id = 1 };
		uint8_t out[64];
		struct vring_req rq = { .nin = 1, .nout = 1, .in_len = sizeof(cu), .out_len = sizeof(out) };
		uint64_t errors = t.gd.st.errors;

		rq.in[0] = (struct iovec){ &cu, sizeof(cu) };
		rq.out[0] = (struct iovec){ out, sizeof(out) };
		CHECK(gpu_device_handle(&t.gd, GPU_CURSORQ, &rq) == 0, "cursor update answered with nothing");
		for (int i = 0; i < 200 && t.disp.cursors < 1; i++)
			usleep(5000);
		CHECK(t.disp.cursors == 1, "the display side got the cursor shape (%d)", t.disp.cursors);
		cu.pos.scanout_id = 9;
		CHECK(gpu_device_handle(&t.gd, GPU_CURSORQ, &rq) == 0 && t.gd.st.errors == errors + 1,
		      "cursor on scanout 9 counted as an error");
		cu.hdr.type = VIRTIO_GPU_CMD_UPDATE_CURSOR;
		CHECK(gpu_device_handle(&t.gd, GPU_CTRLQ, &rq) == sizeof(struct virtio_gpu_ctrl_hdr) &&
			      ((struct virtio_gpu_ctrl_hdr *)out)->type == VIRTIO_GPU_RESP_ERR_UNSPEC,
		      "a cursor command on the control queue is refused");
	}

	/* isolation: the second vGPU has no resource 1 */
	CHECK(scanout(&t2, 0, 1, full) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "vGPU 2 cannot show vGPU 1's resource");
	CHECK(simple(&t2, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
	      "vGPU 2 cannot free vGPU 1's resource");
	CHECK(create_2d(&t2, 1, 2, 16, 16) == VIRTIO_GPU_RESP_OK_NODATA, "vGPU 2 has its own ID 1");
	CHECK(t.gd.res.live == 2 && t2.gd.res.live == 1, "separate tables");

	/* fences on the 2D path complete at once and say so */
	{
		struct virtio_gpu_resource_flush m = { H(VIRTIO_GPU_CMD_RESOURCE_FLUSH), full, 1, 0 };
		struct virtio_gpu_ctrl_hdr r;

		m.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
		m.hdr.fence_id = 77;
		CHECK(send_cmd(&t, &m, sizeof(m), 64) == VIRTIO_GPU_RESP_OK_NODATA, "fenced flush");
		memcpy(&r, t.fe.ram + OUT, sizeof(r));
		CHECK((r.flags & VIRTIO_GPU_FLAG_FENCE) && r.fence_id == 77, "fence echoed");
	}

	/* detach, unref */
	CHECK(simple(&t, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 1) == VIRTIO_GPU_RESP_OK_NODATA, "detach");
	CHECK(simple(&t, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 1) == VIRTIO_GPU_RESP_ERR_UNSPEC, "detach twice");
	CHECK(transfer(&t, 1, full, 0) == VIRTIO_GPU_RESP_ERR_UNSPEC, "transfer after detach");
	CHECK(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_OK_NODATA, "unref");
	CHECK(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "unref twice");

	/* the same memory table again (QEMU sends it on every resume): the mapping and the backings stay */
	fe_mem_table(&t.fe, RAM, VHOST_USER_NEED_REPLY_MASK);
	CHECK(vdev_handle_msg(&t.vd) == 1 && ack(&t.fe) == 0, "the same memory table again");
	CHECK(t.vd.mem_kept == 1, "kept, not remapped");
	CHECK(transfer(&t, 3, full, 0) == VIRTIO_GPU_RESP_OK_NODATA, "the backing survives the repeated table");

	/* another table (the same RAM in two regions): remapped, the backing moves to the new mapping */
	{
		struct vhost_mem_table mt = { 2, 0, { { 0, RAM / 2, t.fe.uva, 0 }, { RAM / 2, RAM / 2, t.fe.uva + RAM / 2,
								      RAM / 2 } } };
		int fds[2] = { t.fe.ram_fd, t.fe.ram_fd };

		fe_send(&t.fe, VHOST_USER_SET_MEM_TABLE, VHOST_USER_NEED_REPLY_MASK, &mt,
			8 + 2 * sizeof(struct vhost_mem_region), fds, 2);
		CHECK(vdev_handle_msg(&t.vd) == 1 && ack(&t.fe) == 0, "a new memory table");
		CHECK(t.gd.remaps == 1 && t.gd.backings_moved == 1 && !t.gd.backings_lost,
		      "the backing moved: %llu remap(s), %llu moved, %llu lost", (unsigned long long)t.gd.remaps,
		      (unsigned long long)t.gd.backings_moved, (unsigned long long)t.gd.backings_lost);
		CHECK(transfer(&t, 3, full, 0) == VIRTIO_GPU_RESP_OK_NODATA, "a transfer from it after the remap");
	}
	CHECK(t.gd.st.errors > 20 && t.gd.st.cmds[GC_TRANSFER_TO_HOST_2D] > 5, "counters: %llu errors",
	      (unsigned long long)t.gd.st.errors);

	gpu_device_reset(&t.gd);
	CHECK(t.gd.res.live == 0 && t.gd.mem_2d == 0 && t2.gd.res.live == 1, "reset drops only this vGPU's state");
	tgpu_down(&t);
	tgpu_down(&t2);
}

/* ---- the command scanner ---- */

static uint32_t lookup_plus_100(void *ctx, uint32_t id)
{
	(void)ctx;
	return id <= 5 ? id + 100 : 0;
}

static void test_scanner(void)
{
	char why[192];
	uint32_t s1[] = { (5u << 16) | (8u << 8) | 1, 7, 3, 2, 0, 0, /* create surface 7 on resource 3 */
			  (6u << 16) | 6, 16, 0, 4, 16, 0, 0,          /* two vertex buffers: 4 and none */
			  (13u << 16) | 17, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 1, 1 /* copy 2 -> 1 */ };

	CHECK(vscan_translate(s1, sizeof(s1) / 4, lookup_plus_100, NULL, why, sizeof(why)) == 0, "scan: %s", why);
	CHECK(s1[1] == 7 && s1[2] == 103, "surface: object handle kept, resource mapped (%u %u)", s1[1], s1[2]);
	CHECK(s1[9] == 104 && s1[12] == 0, "vertex buffers mapped, 0 kept (%u %u)", s1[9], s1[12]);
	CHECK(s1[14] == 101 && s1[19] == 102, "copy region both ends mapped");
	{
		uint32_t s[] = { (1u << 16) | 9, 6 }; /* inline write to resource 6: not this vGPU's */

		CHECK(vscan_translate(s, 2, lookup_plus_100, NULL, why, sizeof(why)) < 0 && strstr(why, "resource 6"),
		      "foreign resource refused: %s", why);
	}
	{
		uint32_t s[] = { (4u << 16) | 9, 1 }; /* claims 4 dwords, has 1 */

		CHECK(vscan_translate(s, 2, lookup_plus_100, NULL, why, sizeof(why)) < 0 && strstr(why, "past"),
		      "truncated stream refused: %s", why);
	}
	{
		uint32_t s[] = { (0u << 16) | 48 }, v[] = { (0u << 16) | 55 }, u[] = { 200 };

		CHECK(vscan_translate(s, 1, lookup_plus_100, NULL, why, sizeof(why)) < 0, "blob command refused");
		CHECK(vscan_translate(v, 1, lookup_plus_100, NULL, why, sizeof(why)) < 0, "video command refused");
		CHECK(vscan_translate(u, 1, lookup_plus_100, NULL, why, sizeof(why)) < 0, "unknown command refused");
	}
	{
		uint32_t s[] = { (20u << 16) | 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 5 };

		CHECK(vscan_translate(s, 21 - 1, lookup_plus_100, NULL, why, sizeof(why)) < 0, "short indirect draw");
	}
}

/* ---- 3D on the host's renderer ---- */

static struct tgpu *fence_targets[2];

static void on_fence(void *opaque, struct renderer *r, uint32_t f)
{
	(void)r;
	(void)opaque;
	for (int i = 0; i < 2; i++)
		if (fence_targets[i])
			gpu_device_fences_done(&fence_targets[i]->gd, f);
}

/* Clear resource 10 (through surface 1 of context 1) to one colour, with a fence. */
/* A stream of CLEAR alone (the framebuffer as an earlier stream left it), fenced or not. */
static uint32_t clear_only(struct tgpu *t, float r, float g, float b, int fenced)
{
	struct {
		struct virtio_gpu_cmd_submit s;
		uint32_t dw[9];
	} m = { { H(VIRTIO_GPU_CMD_SUBMIT_3D), sizeof(m.dw), 0 }, { (8u << 16) | 7, 1u << 2, 0, 0, 0, 0, 0, 0, 0 } };

	memcpy(&m.dw[2], &r, 4);
	memcpy(&m.dw[3], &g, 4);
	memcpy(&m.dw[4], &b, 4);
	m.s.hdr.ctx_id = 1;
	if (fenced) {
		m.s.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
		m.s.hdr.fence_id = 6;
	}
	return send_cmd(t, &m, sizeof(m), 64);
}

static uint32_t clear_on(struct tgpu *t, uint32_t ctx, float r, float g, float b, uint32_t res)
{
	struct {
		struct virtio_gpu_cmd_submit s;
		uint32_t dw[6 + 4 + 9];
	} m = { { H(VIRTIO_GPU_CMD_SUBMIT_3D), sizeof(m.dw), 0 },
		{ (5u << 16) | (8u << 8) | 1, 1, res, 2, 0, 0, /* surface 1 on the resource, B8G8R8X8 */
		  (3u << 16) | 5, 1, 0, 1,                      /* framebuffer: one colour buffer, surface 1 */
		  (8u << 16) | 7, 1u << 2, 0, 0, 0, 0, 0, 0, 0 } };

	memcpy(&m.dw[12], &r, 4);
	memcpy(&m.dw[13], &g, 4);
	memcpy(&m.dw[14], &b, 4);
	m.s.hdr.ctx_id = ctx;
	m.s.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
	m.s.hdr.fence_id = 5;
	return send_cmd(t, &m, sizeof(m), 64);
}

static uint32_t clear_to(struct tgpu *t, float r, float g, float b, uint32_t res)
{
	return clear_on(t, 1, r, g, b, res);
}

static uint32_t read_back(struct tgpu *t, uint32_t res)
{
	struct virtio_gpu_transfer_host_3d m = { .hdr = H(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D),
						 .box = { 0, 0, 0, 64, 64, 1 }, .resource_id = res, .stride = 256 };

	m.hdr.ctx_id = 1;
	return send_cmd(t, &m, sizeof(m), 64);
}

static void setup_3d(struct tgpu *t)
{
	struct virtio_gpu_ctx_create cc = { .hdr = H(VIRTIO_GPU_CMD_CTX_CREATE), .nlen = 4 };
	struct virtio_gpu_resource_create_3d rc = { H(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D), 10, 2, 2, 1u << 1, 64, 64, 1,
						    1, 0, 0, 0, 0 };
	struct virtio_gpu_ctx_resource ca = { H(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE), 10, 0 };

	memcpy(cc.debug_name, "test", 4);
	cc.hdr.ctx_id = 1;
	CHECK(send_cmd(t, &cc, sizeof(cc), 64) == VIRTIO_GPU_RESP_OK_NODATA, "context 1");
	CHECK(send_cmd(t, &cc, sizeof(cc), 64) == VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "context 1 twice");
	CHECK(send_cmd(t, &rc, sizeof(rc), 64) == VIRTIO_GPU_RESP_OK_NODATA, "3D resource 10");
	CHECK(attach(t, 10, BACK, 64 * 64 * 4) == VIRTIO_GPU_RESP_OK_NODATA, "3D backing");
	ca.hdr.ctx_id = 1;
	CHECK(send_cmd(t, &ca, sizeof(ca), 64) == VIRTIO_GPU_RESP_OK_NODATA, "attach 10 to context 1");
}

/* The renderer on EGL surfaceless, for every vGPU set up from now on. 0, or -1 (err). */
static int virgl_up(char *err, size_t len)
{
	struct renderer *r = gpu_device_renderer();

	if (!r || strcmp(r->ops->name, "virgl"))
		r = render_virgl_open("none", 0, on_fence, NULL, err, len);
	gpu_device_set_renderer(r);
	return r ? 0 : -1;
}

static void test_3d(void)
{
	char err[256];
	struct tgpu t, t2;
	uint8_t px[4];

	if (virgl_up(err, sizeof(err)) < 0) {
		CHECK(0, "the renderer must start on EGL surfaceless here: %s", err);
		return;
	}
	CHECK(strlen(gpu_device_renderer()->gl_renderer) > 0, "GL renderer named: %s", gpu_device_renderer()->gl_renderer);
	tgpu_up(&t, 1ull << VIRTIO_GPU_F_VIRGL, 1);
	tgpu_up(&t2, 1ull << VIRTIO_GPU_F_VIRGL, 0);
	fence_targets[0] = &t;
	fence_targets[1] = &t2;
	{
		struct virtio_gpu_get_capset_info ci = { H(VIRTIO_GPU_CMD_GET_CAPSET_INFO), 1, 0 };
		struct virtio_gpu_resp_capset_info r;
		struct virtio_gpu_get_capset gc = { H(VIRTIO_GPU_CMD_GET_CAPSET), 2, 2 };

		CHECK(send_cmd(&t, &ci, sizeof(ci), sizeof(r)) == VIRTIO_GPU_RESP_OK_CAPSET_INFO, "capset info 1");
		memcpy(&r, t.fe.ram + OUT, sizeof(r));
		CHECK(r.capset_id == 2 && r.capset_max_size > 0, "capset VIRGL2 of %u bytes", r.capset_max_size);
		CHECK(send_cmd(&t, &gc, sizeof(gc), 24 + r.capset_max_size) == VIRTIO_GPU_RESP_OK_CAPSET, "capset");
		CHECK(send_cmd(&t, &gc, sizeof(gc), 24) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "capset too big for reply");
		gc.capset_version = 9;
		CHECK(send_cmd(&t, &gc, sizeof(gc), 4096) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "capset version 9");
		ci.capset_index = 2;
		CHECK(send_cmd(&t, &ci, sizeof(ci), sizeof(r)) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "capset index 2");
	}
	setup_3d(&t);
	setup_3d(&t2); /* the same guest IDs on another vGPU */
	{
		struct virtio_gpu_resource_create_3d rc = { H(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D), 11, 2, 2, 2, 0, 64, 1,
							    1, 0, 0, 0, 0 };
		struct virtio_gpu_ctx_resource ca = { H(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE), 10, 0 };

		CHECK(send_cmd(&t, &rc, sizeof(rc), 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "3D width 0");
		ca.hdr.ctx_id = 7;
		CHECK(send_cmd(&t, &ca, sizeof(ca), 64) == VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "no context 7");
		ca.hdr.ctx_id = 1;
		ca.resource_id = 99;
		CHECK(send_cmd(&t, &ca, sizeof(ca), 64) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "no resource 99");
	}
	CHECK(clear_to(&t, 1, 0, 0, 10) == VIRTIO_GPU_RESP_OK_NODATA, "vGPU 1 clears red (fenced)");
	CHECK(clear_to(&t2, 0, 1, 0, 10) == VIRTIO_GPU_RESP_OK_NODATA, "vGPU 2 clears green (fenced)");
	CHECK(t.gd.st.fences >= 1 && t.gd.npending == 0, "the fence completed");
	CHECK(clear_to(&t, 0, 0, 1, 11) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "a stream naming no resource of ours");
	/* Another vGPU's commands never run in this one's GL context: filling a capset unbinds the current
	 * framebuffer, so a capset asked while vGPU 1's context was current (its last stream unfenced: nothing polled
	 * the renderer since) left vGPU 1's next CLEAR without one (GL_INVALID_FRAMEBUFFER_OPERATION). */
	uint64_t errors = t.gd.st.errors;

	CHECK(clear_only(&t, 0, 0, 1, 0) == VIRTIO_GPU_RESP_OK_NODATA, "vGPU 1 clears blue, unfenced");
	{
		struct virtio_gpu_get_capset gc = { H(VIRTIO_GPU_CMD_GET_CAPSET), 2, 2 };

		CHECK(send_cmd(&t2, &gc, sizeof(gc), 4096) == VIRTIO_GPU_RESP_OK_CAPSET, "vGPU 2 asks for capset 2");
	}
	CHECK(clear_only(&t, 1, 0, 0, 1) == VIRTIO_GPU_RESP_OK_NODATA && t.gd.st.errors == errors,
	      "vGPU 1's next CLEAR still has its framebuffer: %s", t.gd.st.last_error);
	CHECK(read_back(&t, 10) == VIRTIO_GPU_RESP_OK_NODATA, "vGPU 1 reads back");
	memcpy(px, t.fe.ram + BACK + 32 * 256 + 32 * 4, 4);
	CHECK(px[2] == 0xff && px[1] == 0 && px[0] == 0, "vGPU 1's resource is red: %02x%02x%02x", px[2], px[1], px[0]);
	CHECK(read_back(&t2, 10) == VIRTIO_GPU_RESP_OK_NODATA, "vGPU 2 reads back");
	memcpy(px, t2.fe.ram + BACK + 32 * 256 + 32 * 4, 4);
	CHECK(px[1] == 0xff && px[2] == 0, "vGPU 2's resource is green: %02x%02x%02x", px[2], px[1], px[0]);

	/* scanout of a 3D resource: the front-end gets the rendered pixels */
	CHECK(scanout(&t, 0, 10, (struct virtio_gpu_rect){ 0, 0, 64, 64 }) == VIRTIO_GPU_RESP_OK_NODATA &&
		      flush(&t, 10, (struct virtio_gpu_rect){ 0, 0, 64, 64 }) == VIRTIO_GPU_RESP_OK_NODATA,
	      "3D scanout and flush");
	wait_updates(&t.disp, 1);
	CHECK(t.disp.updates == 1 && !memcmp(&t.disp.fb[64 * 32 + 32], "\x00\x00\xff", 3),
	      "the front-end shows red: %08x", t.disp.fb[64 * 32 + 32]);
	{
		struct virtio_gpu_ctrl_hdr d = H(VIRTIO_GPU_CMD_CTX_DESTROY);

		d.ctx_id = 1;
		CHECK(send_cmd(&t, &d, sizeof(d), 64) == VIRTIO_GPU_RESP_OK_NODATA, "context destroyed");
		CHECK(send_cmd(&t, &d, sizeof(d), 64) == VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "destroyed twice");
	}
	CHECK(read_back(&t2, 10) == VIRTIO_GPU_RESP_OK_NODATA, "vGPU 2 unaffected by vGPU 1's teardown");
	fence_targets[0] = fence_targets[1] = NULL;
	tgpu_down(&t);
	tgpu_down(&t2);
}

/* Draw a 64x64 pattern seeded by k into the backing at BACK. */
static void draw(struct tgpu *t, int k)
{
	for (int i = 0; i < 64 * 64; i++) {
		t->fe.ram[BACK + i * 4 + 0] = (uint8_t)(i + k);
		t->fe.ram[BACK + i * 4 + 1] = (uint8_t)(k * 7);
		t->fe.ram[BACK + i * 4 + 2] = (uint8_t)(i >> 4);
	}
}

static int shows(struct tgpu *t, struct virtio_gpu_rect r)
{
	for (uint32_t y = r.y; y < r.y + r.height; y++)
		for (uint32_t x = r.x; x < r.x + r.width; x++)
			if (memcmp(&t->disp.fb[y * 64 + x], t->fe.ram + BACK + (y * 64 + x) * 4, 3))
				return 0;
	return 1;
}

/* --display-fps: flushes record damage and are answered at once; gpu_device_present sends the bounding box of
 * the damage at most once an interval, the latest content winning; a scanout that changes, or whose resource
 * goes, drops its damage. */
static void test_coalesce(void)
{
	struct tgpu t;
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };
	uint64_t now, w, sec = 1000000000ull;

	tgpu_up(&t, 0, 1);
	gpu_device_set_display_interval(&t.gd, sec);
	CHECK(create_2d(&t, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      attach(&t, 1, BACK, 64 * 64 * 4) == VIRTIO_GPU_RESP_OK_NODATA,
	      "coalesce: a resource");
	/* attach() gives two entries, the second right after the first in guest RAM: one run of host memory */
	CHECK(t.gd.mem_2d == 64 * 64 * 4 && t.gd.backing_bytes == 64 * 64 * 4 &&
		      t.gd.backing_table_bytes == 1 * (sizeof(struct iovec) + 2 * sizeof(uint64_t)),
	      "its memory: %llu bytes of 2D copy, %llu of guest backing in one run",
	      (unsigned long long)t.gd.mem_2d, (unsigned long long)t.gd.backing_bytes);
	draw(&t, 1);
	CHECK(transfer(&t, 1, full, 0) == VIRTIO_GPU_RESP_OK_NODATA && scanout(&t, 0, 1, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "coalesce: on the scanout");
	CHECK(gpu_device_present(&t.gd, 5 * sec) == UINT64_MAX, "nothing flushed: nothing pending");
	CHECK(t.disp.scanouts == 0, "the scanout is announced with its first update, not before");
	/* a scanout's first update carries all of it, whatever was flushed */
	CHECK(flush(&t, 1, (struct virtio_gpu_rect){ 8, 8, 4, 4 }) == VIRTIO_GPU_RESP_OK_NODATA, "a small flush");
	CHECK(gpu_device_present(&t.gd, 5 * sec) == UINT64_MAX, "sent");
	wait_updates(&t.disp, 1);
	CHECK(t.disp.updates == 1 && t.disp.scanouts == 1 && t.disp.sw == 64 && t.disp.last.width == 64 &&
		      t.disp.last.height == 64 && shows(&t, full),
	      "a new scanout: announced once, then all of it (%d updates, %ux%u)", t.disp.updates, t.disp.last.width,
	      t.disp.last.height);
	t.disp.updates = 0;
	CHECK(flush(&t, 1, (struct virtio_gpu_rect){ 0, 0, 16, 16 }) == VIRTIO_GPU_RESP_OK_NODATA &&
		      flush(&t, 1, (struct virtio_gpu_rect){ 32, 40, 16, 8 }) == VIRTIO_GPU_RESP_OK_NODATA,
	      "two flushes answered without a display update");
	usleep(50000);
	CHECK(t.disp.updates == 0 && t.gd.st.flushes == 3 && t.gd.st.display_coalesced == 1,
	      "flushes wait for the refresh: %d updates, %llu coalesced", t.disp.updates,
	      (unsigned long long)t.gd.st.display_coalesced);
	now = 10 * sec;
	CHECK(gpu_device_present(&t.gd, now) == UINT64_MAX, "the due damage sent, none left");
	wait_updates(&t.disp, 1);
	CHECK(t.disp.updates == 1 && t.disp.last.x == 0 && t.disp.last.y == 0 && t.disp.last.width == 48 &&
		      t.disp.last.height == 48,
	      "one update, the bounding box of both flushes: %d updates, %ux%u+%u+%u", t.disp.updates,
	      t.disp.last.width, t.disp.last.height, t.disp.last.x, t.disp.last.y);
	CHECK(shows(&t, (struct virtio_gpu_rect){ 0, 0, 48, 48 }), "the display shows what the guest drew there");

	/* within the interval: held; once due: the latest frame */
	draw(&t, 2);
	CHECK(transfer(&t, 1, full, 0) == VIRTIO_GPU_RESP_OK_NODATA && flush(&t, 1, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "frame 2 flushed");
	w = gpu_device_present(&t.gd, now + sec / 4);
	CHECK(w == sec - sec / 4, "held until the refresh is due: %llu ns to wait", (unsigned long long)w);
	draw(&t, 3);
	CHECK(transfer(&t, 1, full, 0) == VIRTIO_GPU_RESP_OK_NODATA && flush(&t, 1, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "frame 3 flushed");
	CHECK(gpu_device_present(&t.gd, now + sec) == UINT64_MAX, "sent at the refresh");
	wait_updates(&t.disp, 2);
	CHECK(t.disp.updates == 2 && t.disp.last.width == 64 && t.disp.last.height == 64 && shows(&t, full),
	      "frame 2 never shown, frame 3 whole (%d updates)", t.disp.updates);
	CHECK(t.gd.st.display_coalesced == 2, "frame 2 counted as coalesced (%llu)",
	      (unsigned long long)t.gd.st.display_coalesced);

	/* damage goes with the scanout it was flushed on */
	CHECK(create_2d(&t, 2, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA,
	      "a second resource");
	CHECK(flush(&t, 1, full) == VIRTIO_GPU_RESP_OK_NODATA && scanout(&t, 0, 2, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "flush, then the scanout flips");
	CHECK(gpu_device_present(&t.gd, now + 5 * sec) == UINT64_MAX, "a flip drops the old damage");
	/* flipping between same-size buffers announces nothing new (QEMU would make, and leak, a surface each time) */
	CHECK(scanout(&t, 0, 1, full) == VIRTIO_GPU_RESP_OK_NODATA && flush(&t, 1, (struct virtio_gpu_rect){ 0, 0, 1, 1 }) ==
									     VIRTIO_GPU_RESP_OK_NODATA &&
		      gpu_device_present(&t.gd, now + 6 * sec) == UINT64_MAX,
	      "flip back and flush a pixel");
	wait_updates(&t.disp, 3);
	CHECK(t.disp.updates == 3 && t.disp.scanouts == 1 && t.disp.last.width == 64 && shows(&t, full),
	      "the flip shows the whole buffer, with no second announcement (%d updates, %d announcements)",
	      t.disp.updates, t.disp.scanouts);
	CHECK(scanout(&t, 0, 2, full) == VIRTIO_GPU_RESP_OK_NODATA, "flip to 2 again");
	CHECK(flush(&t, 2, full) == VIRTIO_GPU_RESP_OK_NODATA && simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 2) ==
									      VIRTIO_GPU_RESP_OK_NODATA,
	      "flush, then the resource goes");
	CHECK(gpu_device_present(&t.gd, now + 9 * sec) == UINT64_MAX, "an unref drops its damage");
	usleep(50000);
	CHECK(t.disp.updates == 3, "neither was sent (%d updates)", t.disp.updates);

	/* entries out of order stay apart, and the copy follows them: the backing's second half first */
	{
		struct {
			struct virtio_gpu_resource_attach_backing a;
			struct virtio_gpu_mem_entry e[2];
		} ab = { { H(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), 3, 2 },
			 { { BACK + 8192, 8192, 0 }, { BACK, 8192, 0 } } };
		uint64_t tables = t.gd.backing_table_bytes;
		int same = 1;

		CHECK(create_2d(&t, 3, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
			      send_cmd(&t, &ab, sizeof(ab), 64) == VIRTIO_GPU_RESP_OK_NODATA,
		      "a backing in two entries out of order");
		CHECK(t.gd.backing_table_bytes - tables == 2 * (sizeof(struct iovec) + 2 * sizeof(uint64_t)),
		      "kept as two entries");
		draw(&t, 5);
		CHECK(transfer(&t, 3, full, 0) == VIRTIO_GPU_RESP_OK_NODATA && scanout(&t, 0, 3, full) ==
											VIRTIO_GPU_RESP_OK_NODATA &&
			      flush(&t, 3, full) == VIRTIO_GPU_RESP_OK_NODATA,
		      "drawn, transferred, shown");
		CHECK(gpu_device_present(&t.gd, now + 15 * sec) == UINT64_MAX, "sent");
		wait_updates(&t.disp, 4);
		for (int i = 0; i < 64 * 64; i++) /* pixel i of the resource is byte 4i of the backing as attached */
			same &= !memcmp(&t.disp.fb[i], t.fe.ram + BACK + ((uint64_t)i * 4 + 8192) % 16384, 3);
		CHECK(t.disp.updates == 4 && same, "the display shows the halves in the backing's order (%d updates)",
		      t.disp.updates);
		CHECK(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 3) == VIRTIO_GPU_RESP_OK_NODATA &&
			      t.gd.backing_table_bytes == tables,
		      "and given back");
	}

	/* 0: every flush as it comes, before its answer */
	gpu_device_set_display_interval(&t.gd, 0);
	CHECK(scanout(&t, 0, 1, full) == VIRTIO_GPU_RESP_OK_NODATA && flush(&t, 1, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "flush with no refresh interval");
	wait_updates(&t.disp, 5);
	CHECK(t.disp.updates == 5 && gpu_device_present(&t.gd, now + 20 * sec) == UINT64_MAX,
	      "sent at once, nothing left pending (%d updates)", t.disp.updates);
	/* a channel that was never told of the scanout (a new one: QEMU makes them anew after a reset) gets the
	 * SCANOUT before the update, or QEMU would draw into a surface it does not have */
	{
		int before = t.disp.scanouts;

		t.gd.disp.shown_w[0] = t.gd.disp.shown_h[0] = 0;
		CHECK(flush(&t, 1, (struct virtio_gpu_rect){ 0, 0, 8, 8 }) == VIRTIO_GPU_RESP_OK_NODATA, "a flush");
		wait_updates(&t.disp, 6);
		CHECK(t.disp.updates == 6 && t.disp.scanouts == before + 1 && t.disp.sw == 64,
		      "announced first, then the update (%d announcements, %d updates)", t.disp.scanouts - before,
		      t.disp.updates);
	}
	CHECK(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_OK_NODATA && t.gd.mem_2d == 0 &&
		      t.gd.backing_bytes == 0 && t.gd.backing_table_bytes == 0,
	      "all of it given back with the resource");
	tgpu_down(&t);
}


/* SET_MEM_TABLE with another table while resources hold backings: each backing moves to the new mapping before
 * the old one goes (the renderer copies a host-memory buffer's backing out when it lets go of it, so a backing
 * left pointing at the old mapping crashes the process), and one that left guest RAM is dropped alone. */
static void test_remap(void)
{
	char err[256];
	struct tgpu t;
	uint8_t px[4];
	/* a buffer the renderer keeps in host memory and copies to and from its backing (VIRGL_BIND_CUSTOM) */
	struct virtio_gpu_resource_create_3d buf = { H(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D), 12, 0, 64, 1u << 17, 4096, 1,
						     1, 1, 0, 0, 0, 0 };
	struct virtio_gpu_transfer_host_3d put = { .hdr = H(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D),
						   .box = { 0, 0, 0, 4096, 1, 1 }, .resource_id = 13 };

	if (virgl_up(err, sizeof(err)) < 0) {
		CHECK(0, "the renderer must start on EGL surfaceless here: %s", err);
		return;
	}
	tgpu_up(&t, 1ull << VIRTIO_GPU_F_VIRGL, 0);
	fence_targets[0] = &t;
	setup_3d(&t); /* resource 10, backing at BACK */
	CHECK(send_cmd(&t, &buf, sizeof(buf), 64) == VIRTIO_GPU_RESP_OK_NODATA, "host-memory buffer 12");
	CHECK(attach(&t, 12, BACK + 0x10000, 4096) == VIRTIO_GPU_RESP_OK_NODATA, "its backing");
	buf.resource_id = 13;
	CHECK(send_cmd(&t, &buf, sizeof(buf), 64) == VIRTIO_GPU_RESP_OK_NODATA, "host-memory buffer 13");
	CHECK(attach(&t, 13, RAM - 8192, 4096) == VIRTIO_GPU_RESP_OK_NODATA, "its backing, near the end of RAM");
	CHECK(create_2d(&t, 20, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      attach(&t, 20, BACK + 0x20000, 64 * 64 * 4) == VIRTIO_GPU_RESP_OK_NODATA,
	      "2D resource 20 with a backing");

	/* the same memory, a table 16 KiB shorter: a new mapping, and the last 16 KiB are no longer guest RAM */
	fe_mem_table(&t.fe, RAM - 16384, VHOST_USER_NEED_REPLY_MASK);
	CHECK(vdev_handle_msg(&t.vd) == 1 && ack(&t.fe) == 0, "SET_MEM_TABLE with another table: %s", t.vd.why);
	CHECK(t.gd.remaps == 1 && t.gd.backings_moved == 3 && t.gd.backings_lost == 1,
	      "3 backings moved, 1 lost: %llu remap(s), %llu moved, %llu lost", (unsigned long long)t.gd.remaps,
	      (unsigned long long)t.gd.backings_moved, (unsigned long long)t.gd.backings_lost);
	CHECK(strstr(t.gd.st.last_error, "resource 13") != NULL, "the lost one named: %s", t.gd.st.last_error);
	CHECK(t.gd.backing_bytes == 64 * 64 * 4 * 2 + 4096, "backing bytes counted down: %llu",
	      (unsigned long long)t.gd.backing_bytes);

	/* the renderer writes into the moved backing: the guest sees it */
	memset(t.fe.ram + BACK, 0, 64 * 64 * 4);
	CHECK(clear_to(&t, 1, 0, 0, 10) == VIRTIO_GPU_RESP_OK_NODATA, "draw after the remap");
	CHECK(read_back(&t, 10) == VIRTIO_GPU_RESP_OK_NODATA, "read back after the remap");
	memcpy(px, t.fe.ram + BACK + 32 * 256 + 32 * 4, 4);
	CHECK(px[2] == 0xff && px[1] == 0 && px[0] == 0, "the guest's memory has the red: %02x%02x%02x", px[2], px[1],
	      px[0]);
	CHECK(transfer(&t, 20, (struct virtio_gpu_rect){ 0, 0, 64, 64 }, 0) == VIRTIO_GPU_RESP_OK_NODATA,
	      "2D transfer from the moved backing");
	put.hdr.ctx_id = 1;
	CHECK(send_cmd(&t, &put, sizeof(put), 64) != VIRTIO_GPU_RESP_OK_NODATA, "no transfer on the lost backing");
	CHECK(attach(&t, 13, BACK + 0x30000, 4096) == VIRTIO_GPU_RESP_OK_NODATA, "the guest attaches it anew");
	fence_targets[0] = NULL;
	tgpu_down(&t); /* every backing detached while mapped: no crash here either */
}

/* Two vGPUs' updates due at once, handed to one display-sender thread: a's front-end does not read, b's does. The
 * caller (the mediator's loop) waits for neither; b's frame reaches its display while a's update waits on its
 * channel; a's ring is served meanwhile and its new damage waits (the latest frame wins); a command that asks the
 * channel (display info) waits for the update first, which fails at a's time limit and closes the channel with the
 * reason. */
static void test_present_sender(void)
{
	struct tgpu a, b;
	struct tgpu *v[2] = { &a, &b };
	struct virtio_gpu_rect full = { 0, 0, 64, 64 }, half = { 0, 0, 64, 32 };
	struct dsend *ds = NULL;
	const uint64_t sec = 1000000000ull;
	int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), small = 4096;
	uint64_t n = 0, w;

	CHECK(wake >= 0 && dsend_start(&ds, 1, wake) == 0, "one display-sender thread");
	gpu_device_set_sender(ds);
	for (int k = 0; k < 2; k++) {
		tgpu_up(v[k], 0, 1);
		gpu_device_set_display_interval(&v[k]->gd, sec / 60);
		draw(v[k], 10 + k);
		CHECK(create_2d(v[k], 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
			      attach(v[k], 1, BACK, 64 * 64 * 4) == VIRTIO_GPU_RESP_OK_NODATA &&
			      transfer(v[k], 1, full, 0) == VIRTIO_GPU_RESP_OK_NODATA &&
			      scanout(v[k], 0, 1, full) == VIRTIO_GPU_RESP_OK_NODATA &&
			      flush(v[k], 1, full) == VIRTIO_GPU_RESP_OK_NODATA,
		      "vGPU %d flushes a frame", k + 1);
	}
	/* a's front-end stops reading, and its channel holds less than one update */
	a.disp.stop = 1;
	pthread_join(a.thr, NULL);
	a.has_disp = 0;
	CHECK(setsockopt(a.gd.disp.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) == 0, "a's channel made small");
	a.gd.disp.timeout_ms = 2000;
	/* due on the same refresh grid: one present time for both */
	CHECK(gpu_device_present_prepare(&a.gd, 7 * sec + 5) == UINT64_MAX &&
		      gpu_device_present_prepare(&b.gd, 7 * sec + 9) == UINT64_MAX && a.gd.present.n == 1 &&
		      b.gd.present.n == 1,
	      "both updates readied");
	CHECK(a.gd.present_next_ns == b.gd.present_next_ns &&
		      a.gd.present_next_ns == ((7 * sec + 5) / (sec / 60) + 1) * (sec / 60),
	      "their next updates fall due together, on the refresh's grid (%llu, %llu)",
	      (unsigned long long)a.gd.present_next_ns, (unsigned long long)b.gd.present_next_ns);
	gpu_device_present_send(&a.gd);
	gpu_device_present_send(&b.gd);
	CHECK(dsend_busy(&a.gd.present.job), "a's update in flight: the caller did not wait for its front-end");
	wait_updates(&b.disp, 1);
	CHECK(b.disp.updates == 1 && shows(&b, full) && dsend_busy(&a.gd.present.job),
	      "b's display shows b's frame while a's update still waits (%d updates)", b.disp.updates);
	CHECK(gpu_device_present_collect(&b.gd) == 1 && b.gd.disp.updates == 1 &&
		      b.gd.st.stage[STAGE_DISPLAY_SEND].count == 1,
	      "b's update taken in: counted, its send timed");
	/* a's ring is served meanwhile; its update is sent from the resource's own pixels, so a transfer into the
	 * resource now gives the resource another buffer holding the same pixels, the new ones written over them */
	draw(&a, 12);
	CHECK(transfer(&a, 1, half, 0) == VIRTIO_GPU_RESP_OK_NODATA && flush(&a, 1, half) == VIRTIO_GPU_RESP_OK_NODATA,
	      "a's commands answered while its update is in flight");
	CHECK(a.gd.spare == NULL && a.gd.present.nlent == 1 && a.gd.present.lent[0].orphan,
	      "the buffer in flight left to the update");
	w = gpu_device_present_prepare(&a.gd, 9 * sec);
	CHECK(w == sec / 60 && a.gd.scanout[0].dirty && gpu_device_present_collect(&a.gd) == 0,
	      "a's next frame waits, looked at again a refresh later at the latest (%llu ns), nothing to take in yet",
	      (unsigned long long)w);
	/* GET_DISPLAY_INFO asks the channel: it waits for the update, which fails at the limit and closes it */
	{
		struct virtio_gpu_ctrl_hdr q = H(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);

		CHECK(send_cmd(&a, &q, sizeof(q), sizeof(struct virtio_gpu_resp_display_info)) ==
			      VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
		      "a's display info answered (from its defaults: the channel is gone)");
	}
	CHECK(!dsend_busy(&a.gd.present.job) && a.gd.disp.fd < 0 && a.gd.disp.failed == 1 &&
		      strstr(a.gd.disp.why, "did not take display request") != NULL,
	      "a's channel closed at its limit, with the reason: %s", a.gd.disp.why);
	CHECK(a.gd.present.n == 0 && a.gd.disp.updates == 0 && a.gd.st.stage[STAGE_DISPLAY_SEND].count == 1,
	      "the failed update taken in: not counted as sent, its time kept");
	CHECK(gpu_device_present_prepare(&a.gd, 10 * sec) == UINT64_MAX && a.gd.present.n == 0,
	      "no channel: nothing readied");
	CHECK(a.gd.spare != NULL && a.gd.spare_len == 64 * 64 * 4, "and given back as the spare once taken in");
	/* The sender wakes the loop just after it gives the job back (a wake before would be lost): wait for it. */
	n = 0;
	for (int i = 0; i < 2000 && n < 2; i++) {
		uint64_t v;

		if (read(wake, &v, sizeof(v)) == sizeof(v))
			n += v;
		else
			usleep(1000);
	}
	CHECK(n == 2, "the loop woken once an update (%llu)", (unsigned long long)n);
	/* a display again (the VM's front-end reconnected): the whole frame is frame 10 with frame 12's top half */
	{
		int dv[2];

		close(a.disp.fd);
		memset(&a.disp, 0, sizeof(a.disp));
		CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dv) == 0, "a new display for a");
		a.disp.fd = dv[0];
		pthread_create(&a.thr, NULL, display_main, &a.disp);
		a.has_disp = 1;
		CHECK(gdisp_attach(gpu_device_display(&a.gd), dv[1]) == 0, "attached");
		CHECK(flush(&a, 1, full) == VIRTIO_GPU_RESP_OK_NODATA, "a flushes it all");
		gpu_device_present(&a.gd, 11 * sec);
		wait_updates(&a.disp, 1);
		draw(&a, 10);
		CHECK(a.disp.updates == 1 && shows(&a, (struct virtio_gpu_rect){ 0, 32, 64, 32 }),
		      "the bottom half is frame 10's: the new buffer started as a copy (%d updates)", a.disp.updates);
		draw(&a, 12);
		CHECK(shows(&a, half), "the top half is frame 12's");
	}
	/* a device reset while an update is in flight (the front-end awaits the reset's answer and reads no display
	 * meanwhile): not waited for; the update keeps the buffer it sends from */
	{
		struct tgpu c;
		int peer;

		tgpu_up(&c, 0, 1);
		gpu_device_set_display_interval(&c.gd, sec / 60);
		draw(&c, 20);
		CHECK(create_2d(&c, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
			      attach(&c, 1, BACK, 64 * 64 * 4) == VIRTIO_GPU_RESP_OK_NODATA &&
			      transfer(&c, 1, full, 0) == VIRTIO_GPU_RESP_OK_NODATA &&
			      scanout(&c, 0, 1, full) == VIRTIO_GPU_RESP_OK_NODATA &&
			      flush(&c, 1, full) == VIRTIO_GPU_RESP_OK_NODATA,
		      "c flushes a frame");
		c.disp.stop = 1;
		pthread_join(c.thr, NULL);
		c.has_disp = 0;
		peer = c.disp.fd;
		CHECK(setsockopt(c.gd.disp.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) == 0, "c's channel small");
		c.gd.disp.timeout_ms = 300;
		gpu_device_present(&c.gd, 20 * sec);
		CHECK(dsend_busy(&c.gd.present.job), "c's update in flight");
		gpu_device_reset(&c.gd);
		CHECK(dsend_busy(&c.gd.present.job) && c.gd.res.live == 0 && c.gd.present.lent[0].orphan,
		      "a reset does not wait for it; the resource went, its pixels left to the update");
		tgpu_down(&c); /* waits for the update, which fails at c's limit, then frees */
		CHECK(!dsend_busy(&c.gd.present.job), "freeing the vGPU waited for the update");
		close(peer);
	}
	tgpu_down(&a);
	tgpu_down(&b);
	gpu_device_set_sender(NULL);
	dsend_stop(ds);
	close(wake);
}

/* With virgl, a 2D resource stays in host memory (a transfer is a copy, a display update takes it where it lies,
 * with no read-back) until a 3D command uses it, attached to contexts or not (a guest's kernel attaches its dumb
 * buffers too); then its content, and the contexts that attached it, move into the renderer with it. */
static void test_2d_under_virgl(void)
{
	char err[256];
	struct tgpu t;
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };
	struct virtio_gpu_ctx_create cc = { .hdr = H(VIRTIO_GPU_CMD_CTX_CREATE), .nlen = 4 };
	struct virtio_gpu_ctx_resource ca = { H(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE), 20, 0 };
	struct virtio_gpu_ctx_resource cd = { H(VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE), 22, 0 };
	struct virtio_gpu_ctrl_hdr d = H(VIRTIO_GPU_CMD_CTX_DESTROY);
	uint8_t want[64 * 64 * 4], px[4];
	uint64_t errors;
	int same = 1;

	if (virgl_up(err, sizeof(err)) < 0) {
		CHECK(0, "the renderer must start on EGL surfaceless here: %s", err);
		return;
	}
	tgpu_up(&t, 1ull << VIRTIO_GPU_F_VIRGL, 1);
	fence_targets[0] = &t;
	draw(&t, 3);
	memcpy(want, t.fe.ram + BACK, sizeof(want));
	memcpy(cc.debug_name, "test", 4);
	cc.hdr.ctx_id = ca.hdr.ctx_id = 1;
	CHECK(send_cmd(&t, &cc, sizeof(cc), 64) == VIRTIO_GPU_RESP_OK_NODATA, "context 1");
	CHECK(create_2d(&t, 20, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      send_cmd(&t, &ca, sizeof(ca), 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      attach(&t, 20, BACK, sizeof(want)) == VIRTIO_GPU_RESP_OK_NODATA &&
		      transfer(&t, 20, full, 0) == VIRTIO_GPU_RESP_OK_NODATA &&
		      scanout(&t, 0, 20, full) == VIRTIO_GPU_RESP_OK_NODATA &&
		      flush(&t, 20, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "2D resource on a virgl vGPU: created, attached to context 1, backed, transferred, shown");
	wait_updates(&t.disp, 1);
	CHECK(t.disp.updates == 1 && shows(&t, full), "the display shows what the guest drew");
	CHECK(t.gd.mem_2d == sizeof(want) && t.gd.res_to_renderer == 0 && !t.gd.st.stage[STAGE_READBACK].count,
	      "held in host memory, nothing read back (%llu bytes, %llu moved, %llu read-backs)",
	      (unsigned long long)t.gd.mem_2d, (unsigned long long)t.gd.res_to_renderer,
	      (unsigned long long)t.gd.st.stage[STAGE_READBACK].count);

	/* A 3D transfer uses it: it moves into the renderer with what it holds. */
	memset(t.fe.ram + BACK, 0, sizeof(want));
	CHECK(read_back(&t, 20) == VIRTIO_GPU_RESP_OK_NODATA, "3D transfer from resource 20");
	CHECK(t.gd.mem_2d == 0 && t.gd.res_to_renderer == 1, "it moved into the renderer (%llu bytes left, %llu moved)",
	      (unsigned long long)t.gd.mem_2d, (unsigned long long)t.gd.res_to_renderer);
	for (int i = 0; i < 64 * 64; i++)
		same &= !memcmp(t.fe.ram + BACK + i * 4, want + i * 4, 3);
	CHECK(same, "the renderer holds what the guest had transferred");
	CHECK(read_back(&t, 20) == VIRTIO_GPU_RESP_OK_NODATA && t.gd.res_to_renderer == 1, "used again: moved once");

	/* Now served by the renderer: a transfer uploads, an update reads back. */
	draw(&t, 9);
	CHECK(transfer(&t, 20, full, 0) == VIRTIO_GPU_RESP_OK_NODATA && flush(&t, 20, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "transfer and flush in the renderer");
	wait_updates(&t.disp, 2);
	CHECK(t.disp.updates == 2 && shows(&t, full) && t.gd.st.stage[STAGE_READBACK].count == 1,
	      "the display shows the new frame, read back once");

	/* A command stream naming one moves it, attached where the guest attached it: context 1 renders into it. */
	errors = t.gd.st.errors;
	ca.resource_id = 21;
	CHECK(create_2d(&t, 21, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      attach(&t, 21, BACK, sizeof(want)) == VIRTIO_GPU_RESP_OK_NODATA &&
		      send_cmd(&t, &ca, sizeof(ca), 64) == VIRTIO_GPU_RESP_OK_NODATA && t.gd.res_to_renderer == 1,
	      "2D resource 21, attached to context 1, in host memory");
	CHECK(clear_to(&t, 1, 0, 0, 21) == VIRTIO_GPU_RESP_OK_NODATA && t.gd.st.errors == errors &&
		      t.gd.res_to_renderer == 2,
	      "a stream clearing 21 moved it and found it attached (%llu moved): %s",
	      (unsigned long long)t.gd.res_to_renderer, t.gd.st.last_error);
	CHECK(read_back(&t, 21) == VIRTIO_GPU_RESP_OK_NODATA, "read back 21");
	memcpy(px, t.fe.ram + BACK + 32 * 256 + 32 * 4, 4);
	CHECK(px[2] == 0xff && px[1] == 0 && px[0] == 0, "resource 21 is red: %02x%02x%02x", px[2], px[1], px[0]);

	/* Attachments to a context that goes are forgotten: a new context under the same ID has not attached it. */
	cc.hdr.ctx_id = ca.hdr.ctx_id = cd.hdr.ctx_id = d.ctx_id = 2;
	ca.resource_id = 22;
	CHECK(create_2d(&t, 22, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      send_cmd(&t, &cc, sizeof(cc), 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      send_cmd(&t, &ca, sizeof(ca), 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      send_cmd(&t, &cd, sizeof(cd), 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      send_cmd(&t, &ca, sizeof(ca), 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      send_cmd(&t, &d, sizeof(d), 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      send_cmd(&t, &cc, sizeof(cc), 64) == VIRTIO_GPU_RESP_OK_NODATA,
	      "22 attached to context 2, detached, attached again; context 2 destroyed and made again");
	errors = t.gd.st.errors;
	clear_on(&t, 2, 0, 1, 0, 22);
	CHECK(t.gd.st.errors > errors, "the new context 2 cannot render into 22, which it never attached");
	CHECK(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 21) == VIRTIO_GPU_RESP_OK_NODATA &&
		      simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 22) == VIRTIO_GPU_RESP_OK_NODATA && t.gd.mem_2d == 0,
	      "unref gives their memory back");
	fence_targets[0] = NULL;
	tgpu_down(&t);
}

/* The device model over the null renderer (no GL): what it hands the renderer, under which IDs, and what a renderer
 * failure becomes. Two vGPUs use the same guest IDs; the renderer holds each once, and holds nothing after both
 * went. */
static void test_null_renderer(void)
{
	struct renderer *before = gpu_device_renderer(), *r = render_null_open(on_fence, NULL);
	struct virtio_gpu_resource_create_3d rc = { H(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D), 11, 2, 2, 1u << 1, 64, 64, 1,
						    1, 0, 0, 0, 0 };
	struct virtio_gpu_ctx_create cc = { .hdr = H(VIRTIO_GPU_CMD_CTX_CREATE), .nlen = 4 };
	struct tgpu t, t2;
	size_t res, ctx;
	uint64_t words, errors;

	CHECK(r != NULL, "the null renderer opens");
	if (!r)
		return;
	gpu_device_set_renderer(r);
	tgpu_up(&t, 1ull << VIRTIO_GPU_F_VIRGL, 0);
	tgpu_up(&t2, 1ull << VIRTIO_GPU_F_VIRGL, 0);
	fence_targets[0] = &t;
	fence_targets[1] = &t2;
	CHECK(t.gd.rnd == r && t2.gd.rnd == r, "a vGPU set up now renders with it");
	setup_3d(&t);
	setup_3d(&t2); /* the same guest IDs: the renderer refuses a second create under one ID */
	render_null_held(r, &res, &ctx, &words);
	CHECK(res == 2 && ctx == 2, "two vGPUs' resource 10 and context 1 are four renderer objects (%zu, %zu)", res,
	      ctx);
	CHECK(clear_only(&t, 1, 0, 0, 1) == VIRTIO_GPU_RESP_OK_NODATA && t.gd.npending == 0,
	      "a fenced submission is answered once the renderer retires its fence");
	render_null_held(r, &res, &ctx, &words);
	CHECK(words == 9, "the renderer took the stream's 9 words (%llu)", (unsigned long long)words);

	errors = t.gd.st.errors;
	render_null_fail(r, 1);
	CHECK(send_cmd(&t, &rc, sizeof(rc), 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER && t.gd.st.errors == errors + 1 &&
		      strstr(t.gd.st.last_error, "refused resource 11"),
	      "a renderer that refuses a resource: the guest is told, and why is kept (%s)", t.gd.st.last_error);
	CHECK(send_cmd(&t, &rc, sizeof(rc), 64) == VIRTIO_GPU_RESP_OK_NODATA, "and the same create then succeeds");
	render_null_fail(r, 1);
	cc.hdr.ctx_id = 2;
	CHECK(send_cmd(&t, &cc, sizeof(cc), 64) == VIRTIO_GPU_RESP_ERR_UNSPEC, "a refused context is an error");
	CHECK(send_cmd(&t, &cc, sizeof(cc), 64) == VIRTIO_GPU_RESP_OK_NODATA, "and context 2 is free to make again");
	render_null_fail(r, 1);
	CHECK(clear_only(&t, 0, 1, 0, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "a refused stream is an error");

	gpu_device_reset(&t.gd);
	render_null_held(r, &res, &ctx, &words);
	CHECK(res == 1 && ctx == 1, "a reset drops that vGPU's objects alone (%zu, %zu left)", res, ctx);
	fence_targets[0] = fence_targets[1] = NULL;
	tgpu_down(&t);
	tgpu_down(&t2);
	render_null_held(r, &res, &ctx, &words);
	CHECK(res == 0 && ctx == 0, "nothing is left once both went (%zu, %zu)", res, ctx);
	gpu_device_set_renderer(before);
	renderer_close(r);
}

/* A renderer that renders later (a render worker; here the null one told so): a transfer's answer waits for a fence
 * after it, fenced by the guest or not, and the loop does not; a display read-back is begun, and its update goes
 * once the pixels are in; a reset while one is under way forgets it. */
static void test_later(void)
{
	struct renderer *before = gpu_device_renderer(), *r = render_null_open(on_fence, NULL);
	struct virtio_gpu_transfer_host_3d rd = { .hdr = H(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D),
						  .box = { 0, 0, 0, 64, 64, 1 }, .resource_id = 10, .stride = 256 };
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };
	uint64_t sec = 1000000000ull, fences;
	uint16_t used0, used1;
	struct tgpu t;

	gpu_device_set_renderer(r);
	render_null_later(r, 1);
	tgpu_up(&t, 1ull << VIRTIO_GPU_F_VIRGL, 1);
	fence_targets[0] = &t;
	gpu_device_set_display_interval(&t.gd, sec);
	setup_3d(&t);

	rd.hdr.ctx_id = 1;
	fences = t.gd.st.fences;
	memcpy(&used0, t.fe.ram + RING + 0x2000 + 2, 2);
	memcpy(t.fe.ram + IN, &rd, sizeof(rd));
	fe_offer(&t.fe, RING, QSZ, t.head, IN, sizeof(rd), OUT, 64, t.kick);
	t.head = (uint16_t)((t.head + 2) % QSZ);
	vdev_process_queue(&t.vd, GPU_CTRLQ);
	memcpy(&used1, t.fe.ram + RING + 0x2000 + 2, 2);
	CHECK(used1 == used0 && t.gd.npending == 1 && t.gd.st.fences == fences + 1,
	      "an unfenced read-back into the guest's backing is not answered yet: it waits behind a fence");
	renderer_poll(r);
	memcpy(&used1, t.fe.ram + RING + 0x2000 + 2, 2);
	CHECK(used1 == (uint16_t)(used0 + 1) && t.gd.npending == 0, "answered once the fence after it retired");

	/* While that work is under way, a request that needs an answer from the renderer (a capset's data, a cursor
	 * image) would wait behind it: it is put back, not served, until the work is done. */
	{
		struct virtio_gpu_get_capset gc = { .hdr = H(VIRTIO_GPU_CMD_GET_CAPSET), .capset_id = 2,
						    .capset_version = 2 };
		struct virtio_gpu_update_cursor cu = { .hdr = H(VIRTIO_GPU_CMD_UPDATE_CURSOR), .pos = { 0, 1, 1, 0 },
						       .resource_id = 10 };
		struct vring_req rq = { .nin = 1, .in_len = sizeof(cu) };
		uint64_t put_back = t.gd.put_back, capsets = t.gd.st.cmds[GC_GET_CAPSET];
		int cursors = t.disp.cursors;

		rq.in[0] = (struct iovec){ &cu, sizeof(cu) };
		memcpy(t.fe.ram + IN, &rd, sizeof(rd));
		fe_offer(&t.fe, RING, QSZ, t.head, IN, sizeof(rd), OUT, 64, t.kick);
		t.head = (uint16_t)((t.head + 2) % QSZ);
		memcpy(t.fe.ram + IN + 0x100, &gc, sizeof(gc));
		fe_offer(&t.fe, RING, QSZ, t.head, IN + 0x100, sizeof(gc), OUT + 0x100, 0x800, t.kick);
		t.head = (uint16_t)((t.head + 2) % QSZ);
		CHECK(vdev_process_queue(&t.vd, GPU_CTRLQ) == 1 && t.vd.q[GPU_CTRLQ].put_back == 1 &&
			      t.gd.put_back == put_back + 1 && t.gd.st.cmds[GC_GET_CAPSET] == capsets,
		      "a capset asked for behind a transfer still under way is put back, not yet counted");
		CHECK(gpu_device_handle(&t.gd, GPU_CURSORQ, &rq) == VDEV_RETRY && t.gd.put_back == put_back + 2,
		      "so is a cursor image of a 3D resource");
		CHECK(vdev_serve(&t.vd, GPU_CTRLQ, 0) == 0 && t.vd.q[GPU_CTRLQ].put_back == 1,
		      "served again too early, it is put back again");
		memcpy(&used1, t.fe.ram + RING + 0x2000 + 2, 2);
		CHECK(used1 == (uint16_t)(used0 + 1), "neither the transfer nor the capset is answered yet");
		renderer_poll(r);
		CHECK(!gpu_device_renderer_busy(&t.gd), "the work is done");
		CHECK(vdev_serve(&t.vd, GPU_CTRLQ, 0) == 1 && t.vd.q[GPU_CTRLQ].put_back == 0 &&
			      t.gd.st.cmds[GC_GET_CAPSET] == capsets + 1,
		      "then the capset is served");
		memcpy(&used1, t.fe.ram + RING + 0x2000 + 2, 2);
		CHECK(used1 == (uint16_t)(used0 + 3), "and both are answered (used %u, from %u)", used1, used0);
		CHECK(gpu_device_handle(&t.gd, GPU_CURSORQ, &rq) == 0, "and the cursor image taken");
		for (int i = 0; i < 200 && t.disp.cursors == cursors; i++)
			usleep(5000);
		CHECK(t.disp.cursors == cursors + 1, "the display side got it (%d)", t.disp.cursors);
		used0 = used1;
	}
	rd.resource_id = 99;
	CHECK(send_cmd(&t, &rd, sizeof(rd), 64) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID && t.gd.npending == 0,
	      "a transfer refused before the renderer is answered at once");

	CHECK(scanout(&t, 0, 10, full) == VIRTIO_GPU_RESP_OK_NODATA && flush(&t, 10, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "resource 10 on the scanout, flushed");
	CHECK(gpu_device_present(&t.gd, 5 * sec) == UINT64_MAX && t.gd.present.reading == 1 && r->reading == 1,
	      "its read-back is begun, not waited for");
	usleep(50000);
	CHECK(t.disp.updates == 0, "and nothing is sent before its pixels are in");
	gpu_device_present(&t.gd, 5 * sec + 1);
	CHECK(t.gd.present.reading == 1, "still under way until the renderer says so");
	renderer_poll(r);
	CHECK(gpu_device_present(&t.gd, 5 * sec + 2) == UINT64_MAX && t.gd.present.reading == 0, "in: the update goes");
	wait_updates(&t.disp, 1);
	CHECK(t.disp.updates == 1 && t.disp.last.width == 64 && t.disp.fb[0] == 0x5a5a5a5a && t.disp.fb[64 * 64 - 1] ==
									     0x5a5a5a5a,
	      "the display shows what was read back (%d updates, pixel 0x%08x)", t.disp.updates, t.disp.fb[0]);

	CHECK(flush(&t, 10, full) == VIRTIO_GPU_RESP_OK_NODATA, "flushed again");
	gpu_device_present(&t.gd, 7 * sec);
	CHECK(t.gd.present.reading == 1, "a second read-back under way");
	gpu_device_reset(&t.gd);
	CHECK(t.gd.present.reading == 0 && t.gd.present.n == 0, "a reset forgets it");
	memset(t.gd.present.buf, 0x11, 64 * 64 * 4);
	renderer_poll(r);
	CHECK(t.gd.present.buf[0] == 0x11 && r->reading == 0, "and the renderer, when it is in, writes nowhere");
	CHECK(gpu_device_present(&t.gd, 9 * sec) == UINT64_MAX && t.disp.updates == 1, "nothing more is sent");

	fence_targets[0] = NULL;
	tgpu_down(&t);
	gpu_device_set_renderer(before);
	renderer_close(r);
}

/* A vGPU's size (gpu_device_set_size, --vgpu ...,mem=MIB): 2D and 3D resources together hold at most that much,
 * 3D ones by what their create asks for; past it a create is OUT_OF_MEMORY for that command alone, and what is
 * given back (an unref, a reset) may be taken again. Over the null renderer: no GL needed. */
static void test_size(void)
{
	struct renderer *before = gpu_device_renderer(), *r = render_null_open(on_fence, NULL);
	struct virtio_gpu_resource_create_3d tex = { H(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D), 20, 2, 67 /* R8G8B8A8 */,
						     1u << 1, 256, 256, 1, 1, 0, 0, 0, 0 };
	struct virtio_gpu_resource_create_3d wide = tex, buf = tex, mip = tex;
	struct tgpu t;
	uint64_t errors;

	gpu_device_set_renderer(r);
	tgpu_up(&t, 1ull << VIRTIO_GPU_F_VIRGL, 0);
	fence_targets[0] = &t;
	gpu_device_set_size(&t.gd, 1u << 20); /* 1 MiB */
	CHECK(create_2d(&t, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 256, 256) == VIRTIO_GPU_RESP_OK_NODATA &&
		      create_2d(&t, 2, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 256, 256) == VIRTIO_GPU_RESP_OK_NODATA &&
		      send_cmd(&t, &tex, sizeof(tex), 64) == VIRTIO_GPU_RESP_OK_NODATA && t.gd.charged == 3u << 18,
	      "two 256 KiB 2D resources and a 256 KiB texture fit 1 MiB (%llu held)", (unsigned long long)t.gd.charged);
	errors = t.gd.st.errors;
	wide.resource_id = 21;
	wide.format = 31; /* R32G32B32A32_FLOAT: 16 bytes a texel, 1 MiB */
	CHECK(send_cmd(&t, &wide, sizeof(wide), 64) == VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY && t.gd.st.errors == errors + 1 &&
		      strstr(t.gd.st.last_error, "resource 21 of 1024 KiB would pass the vGPU's size of 1 MiB"),
	      "a 128-bit 256x256 texture is 1 MiB: refused, with why (%s)", t.gd.st.last_error);
	CHECK(create_2d(&t, 3, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 256, 257) == VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
	      "a 2D resource one row past the size is refused too");
	buf.resource_id = 22;
	buf.target = 0;
	buf.width = 256 << 10;
	buf.height = 1;
	CHECK(send_cmd(&t, &buf, sizeof(buf), 64) == VIRTIO_GPU_RESP_OK_NODATA && t.gd.charged == 1u << 20,
	      "a buffer is its width: 256 KiB fills the size exactly");
	CHECK(create_2d(&t, 4, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 1, 1) == VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
	      "and not one pixel more");
	CHECK(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 20) == VIRTIO_GPU_RESP_OK_NODATA && t.gd.charged == 3u << 18,
	      "an unref gives its bytes back");
	mip.resource_id = 23;
	mip.width = mip.height = 128;
	mip.last_level = 7; /* 128x128 down to 1x1: 4/3 of the top level, about */
	mip.array_size = 2;
	CHECK(gpu_resource_3d_bytes(&mip) == 2ull * 4 * (16384 + 4096 + 1024 + 256 + 64 + 16 + 4 + 1),
	      "every level and layer counted: %llu bytes", (unsigned long long)gpu_resource_3d_bytes(&mip));
	CHECK(send_cmd(&t, &mip, sizeof(mip), 64) == VIRTIO_GPU_RESP_OK_NODATA, "a mipmapped array that fits is made");
	gpu_device_reset(&t.gd);
	CHECK(t.gd.charged == 0 && t.gd.size_bytes == 1u << 20, "a reset gives everything back and keeps the size");
	gpu_device_set_size(&t.gd, 0);
	wide.resource_id = 24;
	CHECK(send_cmd(&t, &wide, sizeof(wide), 64) == VIRTIO_GPU_RESP_OK_NODATA, "with no size, no bound");
	fence_targets[0] = NULL;
	tgpu_down(&t);
	gpu_device_set_renderer(before);
	renderer_close(r);
}

int main(void)
{
	test_scanner();
	test_null_renderer();
	test_size();
	test_later();
	test_2d();
	test_coalesce();
	test_present_sender();
	test_3d();
	test_2d_under_virgl();
	test_remap();
	return check_done("gpu_device");
}
