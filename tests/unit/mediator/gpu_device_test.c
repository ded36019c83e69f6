/* gpu_device_test.c: the virtio-gpu device of vgpu-mediator driven without a VM (gpu_fixture.h): the 2D
 * commands with the frame the guest drew compared to the frame the front-end received, malformed commands (bad
 * IDs, out-of-range backing, oversized and overlapping transfers, another vGPU's IDs), the command scanner, the
 * null renderer, the vGPU's size, commands answered later, and guest memory remapped. Display updates are
 * gpu_present_test's, the virgl 3D path gpu_3d_test's. */
#define _GNU_SOURCE
#define RAM (4u << 20)
#include "gpu_fixture.h"

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
	/* Across the fence ids' wrap: two read-backs behind the last id and behind 1, both answered once 1 retired. */
	r->next_fence = r->last_done = RENDER_FENCE_LAST - 1;
	memcpy(&used0, t.fe.ram + RING + 0x2000 + 2, 2);
	for (int i = 0; i < 2; i++) {
		memcpy(t.fe.ram + IN, &rd, sizeof(rd));
		fe_offer(&t.fe, RING, QSZ, t.head, IN, sizeof(rd), OUT, 64, t.kick);
		t.head = (uint16_t)((t.head + 2) % QSZ);
		vdev_process_queue(&t.vd, GPU_CTRLQ);
	}
	CHECK(t.gd.npending == 2 && r->next_fence == 1, "two read-backs wait, behind fences %u and 1 (%u pending)",
	      RENDER_FENCE_LAST, t.gd.npending);
	renderer_poll(r);
	memcpy(&used1, t.fe.ram + RING + 0x2000 + 2, 2);
	CHECK(used1 == (uint16_t)(used0 + 2) && t.gd.npending == 0, "both answered once fence 1 retired (%u pending)",
	      t.gd.npending);
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

/* The display info and EDID, from the front-end and without one. */
static void test_2d_display(struct tgpu *t, struct tgpu *t2)
{
	{
		struct virtio_gpu_ctrl_hdr h = H(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
		struct virtio_gpu_resp_display_info di;

		CHECK(send_cmd(t, &h, sizeof(h), sizeof(di)) == VIRTIO_GPU_RESP_OK_DISPLAY_INFO, "display info");
		memcpy(&di, t->fe.ram + OUT, sizeof(di));
		CHECK(di.pmodes[0].r.width == 640 && di.pmodes[0].enabled, "the front-end's layout: %u",
		      di.pmodes[0].r.width);
		CHECK(send_cmd(t2, &h, sizeof(h), sizeof(di)) == VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
		      "display info without a front-end display");
		memcpy(&di, t2->fe.ram + OUT, sizeof(di));
		CHECK(di.pmodes[0].r.width == 1024, "the default layout: %u", di.pmodes[0].r.width);
	}
	{
		struct virtio_gpu_cmd_get_edid e = { H(VIRTIO_GPU_CMD_GET_EDID), 0, 0 };
		struct virtio_gpu_resp_edid re;

		CHECK(send_cmd(t, &e, sizeof(e), sizeof(re)) == VIRTIO_GPU_RESP_OK_EDID, "EDID");
		memcpy(&re, t->fe.ram + OUT, sizeof(re));
		CHECK(re.size == 128 && re.edid[1] == 0xff, "EDID from the front-end");
		e.scanout = 3;
		CHECK(send_cmd(t, &e, sizeof(e), sizeof(re)) == VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "EDID scanout");
	}
}

/* Creation, malformed commands, backings. */
static void test_2d_create(struct tgpu *t)
{
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };

	CHECK(create_2d(t, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA, "create");
	CHECK(create_2d(t, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
	      "duplicate id");
	CHECK(create_2d(t, 0, 2, 64, 64) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "id 0");
	CHECK(create_2d(t, 2, 99, 64, 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "unknown format");
	CHECK(create_2d(t, 2, 2, 0, 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "zero width");
	CHECK(create_2d(t, 2, 2, 16384, 16384) == VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "1 GiB is past the budget");
	CHECK(create_2d(t, 2, 2, 0x40000000, 4) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "32-bit overflow size");
	{
		struct virtio_gpu_ctrl_hdr h = H(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);

		CHECK(send_cmd(t, &h, sizeof(h), 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "truncated command");
		h.type = 0x0999;
		CHECK(send_cmd(t, &h, sizeof(h), 64) == VIRTIO_GPU_RESP_ERR_UNSPEC, "unknown command");
		h.type = VIRTIO_GPU_CMD_CTX_CREATE;
		CHECK(send_cmd(t, &h, sizeof(h), 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "truncated 3D command");
	}
	{
		struct virtio_gpu_ctx_create cc = { .hdr = H(VIRTIO_GPU_CMD_CTX_CREATE) };

		cc.hdr.ctx_id = 1;
		CHECK(send_cmd(t, &cc, sizeof(cc), 64) == VIRTIO_GPU_RESP_ERR_UNSPEC, "3D without virgl");
	}

	/* backing */
	CHECK(transfer(t, 1, full, 0) == VIRTIO_GPU_RESP_ERR_UNSPEC, "transfer without backing");
	CHECK(attach(t, 1, RAM - 4096, 64 * 64 * 4) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "backing past RAM");
	CHECK(attach(t, 1, ~0ull - 100, 4096) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "backing wrapping 2^64");
	{
		struct virtio_gpu_resource_attach_backing a = { H(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), 1, 1000 };

		CHECK(send_cmd(t, &a, sizeof(a), 64) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
		      "more entries than the request holds");
	}
	CHECK(attach(t, 9, BACK, 4096) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "backing of no resource");
	CHECK(attach(t, 1, BACK, 64 * 64 * 4) == VIRTIO_GPU_RESP_OK_NODATA, "backing");
	CHECK(attach(t, 1, BACK, 64 * 64 * 4) == VIRTIO_GPU_RESP_ERR_UNSPEC, "second backing");
}

/* The guest draws a pattern, the front-end must show exactly it; then a partial update. */
static void test_2d_frames(struct tgpu *t)
{
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };
	uint8_t *px;
	int same = 1;

	px = t->fe.ram + BACK;
	for (int i = 0; i < 64 * 64; i++) {
		px[i * 4 + 0] = (uint8_t)i;
		px[i * 4 + 1] = (uint8_t)(i >> 4);
		px[i * 4 + 2] = (uint8_t)(255 - i);
		px[i * 4 + 3] = 0;
	}
	CHECK(transfer(t, 1, full, 0) == VIRTIO_GPU_RESP_OK_NODATA, "transfer");
	CHECK(transfer(t, 1, (struct virtio_gpu_rect){ 32, 0, 33, 64 }, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	      "rect past the resource");
	CHECK(transfer(t, 1, (struct virtio_gpu_rect){ 0, 0, 64, 64 }, 4) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	      "rect past the backing");
	CHECK(transfer(t, 1, (struct virtio_gpu_rect){ 0, 0, 1, 1 }, ~0ull) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	      "offset near 2^64");
	CHECK(transfer(t, 1, (struct virtio_gpu_rect){ 0xffffffff, 0, 2, 1 }, 0) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	      "x + width wrapping 32 bits");
	CHECK(scanout(t, 5, 1, full) == VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "scanout 5");
	CHECK(scanout(t, 0, 1, (struct virtio_gpu_rect){ 0, 0, 65, 64 }) == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
	      "scanout rect past the resource");
	CHECK(scanout(t, 0, 7, full) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "scanout of no resource");
	CHECK(scanout(t, 0, 1, full) == VIRTIO_GPU_RESP_OK_NODATA, "scanout");
	CHECK(flush(t, 1, full) == VIRTIO_GPU_RESP_OK_NODATA, "flush");
	wait_updates(&t->disp, 1);
	CHECK(t->disp.scanouts >= 1 && t->disp.sw == 64 && t->disp.sh == 64, "the front-end got the scanout %ux%u",
	      t->disp.sw, t->disp.sh);
	CHECK(t->disp.updates == 1, "the front-end got one update (%d)", t->disp.updates);
	for (int i = 0; i < 64 * 64; i++)
		same &= !memcmp((uint8_t *)&t->disp.fb[i], px + i * 4, 3); /* x8r8g8b8: the X byte is padding */
	CHECK(same, "the frame the front-end received is the frame the guest drew");

	/* a partial update: 8x8 at (8, 16) from an overlapping transfer */
	for (int y = 16; y < 24; y++)
		for (int x = 8; x < 16; x++)
			memset(px + (y * 64 + x) * 4, 0x5a, 4);
	CHECK(transfer(t, 1, (struct virtio_gpu_rect){ 8, 16, 8, 8 }, (16 * 64 + 8) * 4) == VIRTIO_GPU_RESP_OK_NODATA,
	      "partial transfer");
	CHECK(transfer(t, 1, (struct virtio_gpu_rect){ 4, 12, 8, 8 }, (12 * 64 + 4) * 4) == VIRTIO_GPU_RESP_OK_NODATA,
	      "overlapping transfer");
	CHECK(flush(t, 1, (struct virtio_gpu_rect){ 0, 0, 32, 32 }) == VIRTIO_GPU_RESP_OK_NODATA, "partial flush");
	wait_updates(&t->disp, 2);
	same = 1;
	for (int y = 0; y < 64; y++)
		for (int x = 0; x < 64; x++)
			same &= !memcmp((uint8_t *)&t->disp.fb[y * 64 + x], px + (y * 64 + x) * 4, 3);
	CHECK(t->disp.updates == 2 && same, "the partial update lands where the guest drew it (%d updates)",
	      t->disp.updates);
}

/* Every other format is converted to the front-end's x8r8g8b8 (bytes B, G, R, padding): one pixel of
 * R=0x30 G=0x20 B=0x10 A=0x40 laid out the way each format stores it */
static void test_2d_formats(struct tgpu *t)
{
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };
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

		CHECK(create_2d(t, id, fm[k].fmt, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
			      attach(t, id, BACK + 0x10000, 64 * 64 * 4) == VIRTIO_GPU_RESP_OK_NODATA,
		      "format %u resource", fm[k].fmt);
		memcpy(t->fe.ram + BACK + 0x10000, fm[k].bytes, 4);
		CHECK(transfer(t, id, full, 0) == VIRTIO_GPU_RESP_OK_NODATA &&
			      scanout(t, 0, id, full) == VIRTIO_GPU_RESP_OK_NODATA &&
			      flush(t, id, (struct virtio_gpu_rect){ 0, 0, 1, 1 }) == VIRTIO_GPU_RESP_OK_NODATA,
		      "format %u shown", fm[k].fmt);
		wait_updates(&t->disp, 3 + (int)k);
		CHECK(!memcmp(&t->disp.fb[0], "\x10\x20\x30", 3), "format %u converted to x8r8g8b8: %08x",
		      fm[k].fmt, t->disp.fb[0]);
		CHECK(!k || simple(t, VIRTIO_GPU_CMD_RESOURCE_UNREF, id) == VIRTIO_GPU_RESP_OK_NODATA,
		      "format %u resource freed", fm[k].fmt);
	}
}

/* Cursor queue: a 64x64 shape reaches the display side; a bad scanout is counted; no response written */
static void test_2d_cursor(struct tgpu *t)
{
	struct virtio_gpu_update_cursor cu = { .hdr = H(VIRTIO_GPU_CMD_UPDATE_CURSOR), .pos = { 0, 10, 10, 0 },
					       .resource_id = 1 };
	uint8_t out[64];
	struct vring_req rq = { .nin = 1, .nout = 1, .in_len = sizeof(cu), .out_len = sizeof(out) };
	uint64_t errors = t->gd.st.errors;

	rq.in[0] = (struct iovec){ &cu, sizeof(cu) };
	rq.out[0] = (struct iovec){ out, sizeof(out) };
	CHECK(gpu_device_handle(&t->gd, GPU_CURSORQ, &rq) == 0, "cursor update answered with nothing");
	for (int i = 0; i < 200 && t->disp.cursors < 1; i++)
		usleep(5000);
	CHECK(t->disp.cursors == 1, "the display side got the cursor shape (%d)", t->disp.cursors);
	cu.pos.scanout_id = 9;
	CHECK(gpu_device_handle(&t->gd, GPU_CURSORQ, &rq) == 0 && t->gd.st.errors == errors + 1,
	      "cursor on scanout 9 counted as an error");
	cu.hdr.type = VIRTIO_GPU_CMD_UPDATE_CURSOR;
	CHECK(gpu_device_handle(&t->gd, GPU_CTRLQ, &rq) == sizeof(struct virtio_gpu_ctrl_hdr) &&
		      ((struct virtio_gpu_ctrl_hdr *)out)->type == VIRTIO_GPU_RESP_ERR_UNSPEC,
	      "a cursor command on the control queue is refused");
}

/* Isolation: the second vGPU has no resource 1; fences on the 2D path; detach and unref. */
static void test_2d_isolation(struct tgpu *t, struct tgpu *t2)
{
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };

	/* isolation: the second vGPU has no resource 1 */
	CHECK(scanout(t2, 0, 1, full) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "vGPU 2 cannot show vGPU 1's resource");
	CHECK(simple(t2, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
	      "vGPU 2 cannot free vGPU 1's resource");
	CHECK(create_2d(t2, 1, 2, 16, 16) == VIRTIO_GPU_RESP_OK_NODATA, "vGPU 2 has its own ID 1");
	CHECK(t->gd.res.live == 2 && t2->gd.res.live == 1, "separate tables");

	/* fences on the 2D path complete at once and say so */
	{
		struct virtio_gpu_resource_flush m = { H(VIRTIO_GPU_CMD_RESOURCE_FLUSH), full, 1, 0 };
		struct virtio_gpu_ctrl_hdr r;

		m.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
		m.hdr.fence_id = 77;
		CHECK(send_cmd(t, &m, sizeof(m), 64) == VIRTIO_GPU_RESP_OK_NODATA, "fenced flush");
		memcpy(&r, t->fe.ram + OUT, sizeof(r));
		CHECK((r.flags & VIRTIO_GPU_FLAG_FENCE) && r.fence_id == 77, "fence echoed");
	}

	/* detach, unref */
	CHECK(simple(t, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 1) == VIRTIO_GPU_RESP_OK_NODATA, "detach");
	CHECK(simple(t, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 1) == VIRTIO_GPU_RESP_ERR_UNSPEC, "detach twice");
	CHECK(transfer(t, 1, full, 0) == VIRTIO_GPU_RESP_ERR_UNSPEC, "transfer after detach");
	CHECK(simple(t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_OK_NODATA, "unref");
	CHECK(simple(t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "unref twice");
}

/* The same memory table again (QEMU sends it on every resume), then another: the backings stay or move. */
static void test_2d_mem_tables(struct tgpu *t)
{
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };

	fe_mem_table(&t->fe, RAM, VHOST_USER_NEED_REPLY_MASK);
	CHECK(vdev_handle_msg(&t->vd) == 1 && ack(&t->fe) == 0, "the same memory table again");
	CHECK(t->vd.mem_kept == 1, "kept, not remapped");
	CHECK(transfer(t, 3, full, 0) == VIRTIO_GPU_RESP_OK_NODATA, "the backing survives the repeated table");

	/* another table (the same RAM in two regions): remapped, the backing moves to the new mapping */
	{
		struct vhost_mem_table mt = { 2, 0, { { 0, RAM / 2, t->fe.uva, 0 }, { RAM / 2, RAM / 2, t->fe.uva + RAM / 2,
								      RAM / 2 } } };
		int fds[2] = { t->fe.ram_fd, t->fe.ram_fd };

		fe_send(&t->fe, VHOST_USER_SET_MEM_TABLE, VHOST_USER_NEED_REPLY_MASK, &mt,
			8 + 2 * sizeof(struct vhost_mem_region), fds, 2);
		CHECK(vdev_handle_msg(&t->vd) == 1 && ack(&t->fe) == 0, "a new memory table");
		CHECK(t->gd.remaps == 1 && t->gd.backings_moved == 1 && !t->gd.backings_lost,
		      "the backing moved: %llu remap(s), %llu moved, %llu lost", (unsigned long long)t->gd.remaps,
		      (unsigned long long)t->gd.backings_moved, (unsigned long long)t->gd.backings_lost);
		CHECK(transfer(t, 3, full, 0) == VIRTIO_GPU_RESP_OK_NODATA, "a transfer from it after the remap");
	}
	CHECK(t->gd.st.errors > 20 && t->gd.st.cmds[GC_TRANSFER_TO_HOST_2D] > 5, "counters: %llu errors",
	      (unsigned long long)t->gd.st.errors);
}

static void test_2d(void)
{
	struct tgpu t, t2;

	tgpu_up(&t, 0, 1);
	tgpu_up(&t2, 0, 0);
	test_2d_display(&t, &t2);
	test_2d_create(&t);
	test_2d_frames(&t);
	test_2d_formats(&t);
	test_2d_cursor(&t);
	test_2d_isolation(&t, &t2);
	test_2d_mem_tables(&t);
	gpu_device_reset(&t.gd);
	CHECK(t.gd.res.live == 0 && t.gd.mem_2d == 0 && t2.gd.res.live == 1, "reset drops only this vGPU's state");
	tgpu_down(&t);
	tgpu_down(&t2);
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

int main(void)
{
	test_scanner();
	test_null_renderer();
	test_size();
	test_later();
	test_2d();
	test_remap();
	return check_done("gpu_device");
}
