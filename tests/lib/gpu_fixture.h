/* gpu_fixture.h: the virtio-gpu device driven without a VM, for gpu_device_test, gpu_present_test and
 * gpu_3d_test: the test front-end shares guest RAM and rings (playing QEMU), a thread plays QEMU's display side
 * of the vhost-user-gpu channel, helpers send each command; and the 3D helpers (a clear, a read-back, the host's
 * renderer up or its reason). Include it once per test program, after defining RAM. Not every program uses every
 * helper: they are static inline. */
#ifndef VGPUBENCH_GPU_FIXTURE_H
#define VGPUBENCH_GPU_FIXTURE_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

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

static inline void *display_main(void *arg)
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
static inline void remap_hook(void *ctx, enum vdev_event ev, unsigned qi)
{
	(void)qi;
	if (ev == VDEV_MEM_REMAPPED)
		gpu_device_mem_remapped(ctx);
}

static inline void tgpu_up(struct tgpu *t, uint64_t features, int with_display)
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

static inline void tgpu_down(struct tgpu *t)
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
static inline uint32_t send_cmd(struct tgpu *t, const void *cmd, uint32_t len, uint32_t out_len)
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

static inline struct virtio_gpu_ctrl_hdr H(uint32_t type)
{
	return (struct virtio_gpu_ctrl_hdr){ .type = type };
}

static inline uint32_t create_2d(struct tgpu *t, uint32_t id, uint32_t fmt, uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d c = { H(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), id, fmt, w, h };

	return send_cmd(t, &c, sizeof(c), 64);
}

static inline uint32_t attach(struct tgpu *t, uint32_t id, uint64_t addr, uint32_t len)
{
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[2];
	} m = { { H(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), id, 2 },
		{ { addr, len / 2, 0 }, { addr + len / 2, len - len / 2, 0 } } };

	return send_cmd(t, &m, sizeof(m), 64);
}

static inline uint32_t transfer(struct tgpu *t, uint32_t id, struct virtio_gpu_rect r, uint64_t off)
{
	struct virtio_gpu_transfer_to_host_2d m = { H(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), r, off, id, 0 };

	return send_cmd(t, &m, sizeof(m), 64);
}

static inline uint32_t scanout(struct tgpu *t, uint32_t sid, uint32_t id, struct virtio_gpu_rect r)
{
	struct virtio_gpu_set_scanout m = { H(VIRTIO_GPU_CMD_SET_SCANOUT), r, sid, id };

	return send_cmd(t, &m, sizeof(m), 64);
}

static inline uint32_t flush(struct tgpu *t, uint32_t id, struct virtio_gpu_rect r)
{
	struct virtio_gpu_resource_flush m = { H(VIRTIO_GPU_CMD_RESOURCE_FLUSH), r, id, 0 };

	return send_cmd(t, &m, sizeof(m), 64);
}

static inline uint32_t simple(struct tgpu *t, uint32_t type, uint32_t id)
{
	struct virtio_gpu_resource_unref m = { H(type), id, 0 };

	return send_cmd(t, &m, sizeof(m), 64);
}

static inline void wait_updates(struct display *d, int n)
{
	for (int i = 0; i < 200 && d->updates < n; i++)
		usleep(5000);
}

static struct tgpu *fence_targets[2];

static inline void on_fence(void *opaque, struct renderer *r, uint32_t f)
{
	(void)r;
	(void)opaque;
	for (int i = 0; i < 2; i++)
		if (fence_targets[i])
			gpu_device_fences_done(&fence_targets[i]->gd, f);
}

/* Clear resource 10 (through surface 1 of context 1) to one colour, with a fence. */
/* A stream of CLEAR alone (the framebuffer as an earlier stream left it), fenced or not. */
static inline uint32_t clear_only(struct tgpu *t, float r, float g, float b, int fenced)
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

static inline uint32_t clear_on(struct tgpu *t, uint32_t ctx, float r, float g, float b, uint32_t res)
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

static inline uint32_t clear_to(struct tgpu *t, float r, float g, float b, uint32_t res)
{
	return clear_on(t, 1, r, g, b, res);
}

static inline uint32_t read_back(struct tgpu *t, uint32_t res)
{
	struct virtio_gpu_transfer_host_3d m = { .hdr = H(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D),
						 .box = { 0, 0, 0, 64, 64, 1 }, .resource_id = res, .stride = 256 };

	m.hdr.ctx_id = 1;
	return send_cmd(t, &m, sizeof(m), 64);
}

static inline void setup_3d(struct tgpu *t)
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
static inline int virgl_up(char *err, size_t len)
{
	struct renderer *r = gpu_device_renderer();

	if (!r || strcmp(r->ops->name, "virgl"))
		r = render_virgl_open("none", 0, on_fence, NULL, err, len);
	gpu_device_set_renderer(r);
	return r ? 0 : -1;
}

/* Draw a 64x64 pattern seeded by k into the backing at BACK. */
static inline void draw(struct tgpu *t, int k)
{
	for (int i = 0; i < 64 * 64; i++) {
		t->fe.ram[BACK + i * 4 + 0] = (uint8_t)(i + k);
		t->fe.ram[BACK + i * 4 + 1] = (uint8_t)(k * 7);
		t->fe.ram[BACK + i * 4 + 2] = (uint8_t)(i >> 4);
	}
}

static inline int shows(struct tgpu *t, struct virtio_gpu_rect r)
{
	for (uint32_t y = r.y; y < r.y + r.height; y++)
		for (uint32_t x = r.x; x < r.x + r.width; x++)
			if (memcmp(&t->disp.fb[y * 64 + x], t->fe.ram + BACK + (y * 64 + x) * 4, 3))
				return 0;
	return 1;
}

#endif
