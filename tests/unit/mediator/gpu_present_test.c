/* gpu_present_test.c: display updates of the virtio-gpu device (gpu_fixture.h): flushes coalesced to the
 * refresh (--display-fps), the damage's bounding box sent at most once an interval, the latest content winning;
 * and the display senders: a front-end that does not read holds up neither the caller nor another vGPU's update,
 * a transfer into the frame being sent leaves it whole, a channel closed at its time limit with the reason. */
#define _GNU_SOURCE
#define RAM (4u << 20)
#include "gpu_fixture.h"

/* Within the interval: held; once due: the latest frame. Damage goes with the scanout it was flushed on. */
static void coalesce_held(struct tgpu *t, uint64_t now)
{
	const uint64_t sec = 1000000000ull;
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };
	uint64_t w;

	draw(t, 2);
	CHECK(transfer(t, 1, full, 0) == VIRTIO_GPU_RESP_OK_NODATA && flush(t, 1, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "frame 2 flushed");
	w = gpu_device_present(&t->gd, now + sec / 4);
	CHECK(w == sec - sec / 4, "held until the refresh is due: %llu ns to wait", (unsigned long long)w);
	draw(t, 3);
	CHECK(transfer(t, 1, full, 0) == VIRTIO_GPU_RESP_OK_NODATA && flush(t, 1, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "frame 3 flushed");
	CHECK(gpu_device_present(&t->gd, now + sec) == UINT64_MAX, "sent at the refresh");
	wait_updates(&t->disp, 2);
	CHECK(t->disp.updates == 2 && t->disp.last.width == 64 && t->disp.last.height == 64 && shows(t, full),
	      "frame 2 never shown, frame 3 whole (%d updates)", t->disp.updates);
	CHECK(t->gd.st.display_coalesced == 2, "frame 2 counted as coalesced (%llu)",
	      (unsigned long long)t->gd.st.display_coalesced);

	/* damage goes with the scanout it was flushed on */
	CHECK(create_2d(t, 2, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA,
	      "a second resource");
	CHECK(flush(t, 1, full) == VIRTIO_GPU_RESP_OK_NODATA && scanout(t, 0, 2, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "flush, then the scanout flips");
	CHECK(gpu_device_present(&t->gd, now + 5 * sec) == UINT64_MAX, "a flip drops the old damage");
	/* flipping between same-size buffers announces nothing new (QEMU would make, and leak, a surface each time) */
	CHECK(scanout(t, 0, 1, full) == VIRTIO_GPU_RESP_OK_NODATA && flush(t, 1, (struct virtio_gpu_rect){ 0, 0, 1, 1 }) ==
									     VIRTIO_GPU_RESP_OK_NODATA &&
		      gpu_device_present(&t->gd, now + 6 * sec) == UINT64_MAX,
	      "flip back and flush a pixel");
	wait_updates(&t->disp, 3);
	CHECK(t->disp.updates == 3 && t->disp.scanouts == 1 && t->disp.last.width == 64 && shows(t, full),
	      "the flip shows the whole buffer, with no second announcement (%d updates, %d announcements)",
	      t->disp.updates, t->disp.scanouts);
	CHECK(scanout(t, 0, 2, full) == VIRTIO_GPU_RESP_OK_NODATA, "flip to 2 again");
	CHECK(flush(t, 2, full) == VIRTIO_GPU_RESP_OK_NODATA && simple(t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 2) ==
									      VIRTIO_GPU_RESP_OK_NODATA,
	      "flush, then the resource goes");
	CHECK(gpu_device_present(&t->gd, now + 9 * sec) == UINT64_MAX, "an unref drops its damage");
	usleep(50000);
	CHECK(t->disp.updates == 3, "neither was sent (%d updates)", t->disp.updates);
}

/* entries out of order stay apart, and the copy follows them: the backing's second half first */
static void coalesce_entries(struct tgpu *t, uint64_t now)
{
	const uint64_t sec = 1000000000ull;
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[2];
	} ab = { { H(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), 3, 2 },
		 { { BACK + 8192, 8192, 0 }, { BACK, 8192, 0 } } };
	uint64_t tables = t->gd.backing_table_bytes;
	int same = 1;

	CHECK(create_2d(t, 3, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) == VIRTIO_GPU_RESP_OK_NODATA &&
		      send_cmd(t, &ab, sizeof(ab), 64) == VIRTIO_GPU_RESP_OK_NODATA,
	      "a backing in two entries out of order");
	CHECK(t->gd.backing_table_bytes - tables == 2 * (sizeof(struct iovec) + 2 * sizeof(uint64_t)),
	      "kept as two entries");
	draw(t, 5);
	CHECK(transfer(t, 3, full, 0) == VIRTIO_GPU_RESP_OK_NODATA && scanout(t, 0, 3, full) ==
										VIRTIO_GPU_RESP_OK_NODATA &&
		      flush(t, 3, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "drawn, transferred, shown");
	CHECK(gpu_device_present(&t->gd, now + 15 * sec) == UINT64_MAX, "sent");
	wait_updates(&t->disp, 4);
	for (int i = 0; i < 64 * 64; i++) /* pixel i of the resource is byte 4i of the backing as attached */
		same &= !memcmp(&t->disp.fb[i], t->fe.ram + BACK + ((uint64_t)i * 4 + 8192) % 16384, 3);
	CHECK(t->disp.updates == 4 && same, "the display shows the halves in the backing's order (%d updates)",
	      t->disp.updates);
	CHECK(simple(t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 3) == VIRTIO_GPU_RESP_OK_NODATA &&
		      t->gd.backing_table_bytes == tables,
	      "and given back");
}

/* 0: every flush as it comes, before its answer; a channel never told of the scanout is told first. */
static void coalesce_unheld(struct tgpu *t, uint64_t now)
{
	const uint64_t sec = 1000000000ull;
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };

	gpu_device_set_display_interval(&t->gd, 0);
	CHECK(scanout(t, 0, 1, full) == VIRTIO_GPU_RESP_OK_NODATA && flush(t, 1, full) == VIRTIO_GPU_RESP_OK_NODATA,
	      "flush with no refresh interval");
	wait_updates(&t->disp, 5);
	CHECK(t->disp.updates == 5 && gpu_device_present(&t->gd, now + 20 * sec) == UINT64_MAX,
	      "sent at once, nothing left pending (%d updates)", t->disp.updates);
	/* a channel that was never told of the scanout (a new one: QEMU makes them anew after a reset) gets the
	 * SCANOUT before the update, or QEMU would draw into a surface it does not have */
	{
		int before = t->disp.scanouts;

		t->gd.disp.shown_w[0] = t->gd.disp.shown_h[0] = 0;
		CHECK(flush(t, 1, (struct virtio_gpu_rect){ 0, 0, 8, 8 }) == VIRTIO_GPU_RESP_OK_NODATA, "a flush");
		wait_updates(&t->disp, 6);
		CHECK(t->disp.updates == 6 && t->disp.scanouts == before + 1 && t->disp.sw == 64,
		      "announced first, then the update (%d announcements, %d updates)", t->disp.scanouts - before,
		      t->disp.updates);
	}
	CHECK(simple(t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 1) == VIRTIO_GPU_RESP_OK_NODATA && t->gd.mem_2d == 0 &&
		      t->gd.backing_bytes == 0 && t->gd.backing_table_bytes == 0,
	      "all of it given back with the resource");
}

/* --display-fps: flushes record damage and are answered at once; gpu_device_present sends the bounding box of
 * the damage at most once an interval, the latest content winning; a scanout that changes, or whose resource
 * goes, drops its damage. */
static void test_coalesce(void)
{
	struct tgpu t;
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };
	uint64_t now, sec = 1000000000ull;

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

	coalesce_held(&t, now);
	coalesce_entries(&t, now);
	coalesce_unheld(&t, now);
	tgpu_down(&t);
}

/* a display again (the VM's front-end reconnected): the whole frame is frame 10 with frame 12's top half */
static void sender_reconnect(struct tgpu *a)
{
	const uint64_t sec = 1000000000ull;
	struct virtio_gpu_rect full = { 0, 0, 64, 64 }, half = { 0, 0, 64, 32 };
	int dv[2];

	close(a->disp.fd);
	memset(&a->disp, 0, sizeof(a->disp));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dv) == 0, "a new display for a");
	a->disp.fd = dv[0];
	pthread_create(&a->thr, NULL, display_main, &a->disp);
	a->has_disp = 1;
	CHECK(gdisp_attach(gpu_device_display(&a->gd), dv[1]) == 0, "attached");
	CHECK(flush(a, 1, full) == VIRTIO_GPU_RESP_OK_NODATA, "a flushes it all");
	gpu_device_present(&a->gd, 11 * sec);
	wait_updates(&a->disp, 1);
	draw(a, 10);
	CHECK(a->disp.updates == 1 && shows(a, (struct virtio_gpu_rect){ 0, 32, 64, 32 }),
	      "the bottom half is frame 10's: the new buffer started as a copy (%d updates)", a->disp.updates);
	draw(a, 12);
	CHECK(shows(a, half), "the top half is frame 12's");
}

/* a device reset while an update is in flight (the front-end awaits the reset's answer and reads no display
 * meanwhile): not waited for; the update keeps the buffer it sends from */
static void sender_reset_in_flight(void)
{
	const uint64_t sec = 1000000000ull;
	struct virtio_gpu_rect full = { 0, 0, 64, 64 };
	int small = 4096;
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
	sender_reconnect(&a);
	sender_reset_in_flight();
	tgpu_down(&a);
	tgpu_down(&b);
	gpu_device_set_sender(NULL);
	dsend_stop(ds);
	close(wake);
}

int main(void)
{
	test_coalesce();
	test_present_sender();
	return check_done("gpu_present");
}
