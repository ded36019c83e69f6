/* gpu_3d_test.c: the virgl 3D path of the virtio-gpu device on the host's renderer (gpu_fixture.h): two vGPUs
 * using the same guest IDs render into their own resources only, fences retire to their own vGPU, and a 2D
 * resource held in host memory moves into the renderer when a 3D command uses it. */
#define _GNU_SOURCE
#define RAM (4u << 20)
#include "gpu_fixture.h"

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

int main(void)
{
	test_3d();
	test_2d_under_virgl();
	return check_done("gpu_3d");
}
