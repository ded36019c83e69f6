/* vtest_dev_test.c: one vtest client's protocol layer (mediator/device/vtest_dev.c)
 * on the real renderer (EGL surfaceless), over a socketpair: a message that
 * arrives a byte at a time is served once whole and not before; a name of
 * odd length leaves the next payload readable as dwords; a busy-wait that
 * waits is not answered while the client's submission is in flight, stops
 * reading the client meanwhile, and is answered once the renderer retires
 * it; one that does not wait says busy; a resource's shared memory is the
 * backing the renderer reads (its bytes come back through a transfer), and
 * it goes with the client. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "device/gpu_device.h"
#include "render/renderer.h"
#include "device/vtest_dev.h"

static uint32_t retired;

static void on_fence(void *opaque, struct renderer *r, uint32_t fence)
{
	(void)r;
	(void)opaque;
	retired = fence;
}

static void put(int fd, uint32_t len, uint32_t cmd, const void *payload, size_t bytes)
{
	uint32_t h[2] = { len, cmd };

	if (write(fd, h, 8) != 8 || (bytes && write(fd, payload, bytes) != (ssize_t)bytes))
		CHECK(0, "write to the socketpair");
}

/* Read whatever the server has, serve it all. */
static void pump(struct vtest_dev *t)
{
	for (int i = 0; i < 64 && vtest_want_read(t); i++) {
		size_t before = t->len;

		if (vtest_read(t) <= 0 || t->len == before)
			break;
	}
	while (vtest_has_work(t))
		if (vtest_serve(t, 16) <= 0)
			break;
}

/* A reply of n bytes is waiting (within 100 ms). */
static int reply_waits(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 100) == 1;
}

static int get_reply(int fd, uint32_t *h, void *data, size_t bytes)
{
	if (read(fd, h, 8) != 8)
		return -1;
	return bytes && read(fd, data, bytes) != (ssize_t)bytes ? -1 : 0;
}

/* A name of 5 bytes, then the version: sent one byte at a time. */
static void test_name(struct vtest_dev *t, int fd)
{
	uint32_t h[2], r, v = 2;
	uint8_t b[64];
	uint32_t hh[2] = { 5, 8 }, hv[2] = { 1, 11 };
	size_t n = 0;

	memcpy(b, hh, 8);
	memcpy(b + 8, "oddy", 5);
	memcpy(b + 13, hv, 8);
	memcpy(b + 21, &v, 4);
	n = 25;
	for (size_t i = 0; i < n; i++) {
		CHECK(write(fd, b + i, 1) == 1, "byte %zu", i);
		vtest_read(t);
		if (i < 12)
			CHECK(!vtest_has_work(t), "nothing to serve after %zu bytes", i + 1);
		if (i == 12)
			CHECK(vtest_has_work(t), "create_renderer whole after 13 bytes");
		if (vtest_has_work(t))
			CHECK(vtest_serve(t, 1) == 1, "served at byte %zu", i + 1);
	}
	CHECK(!strcmp(t->name, "oddy"), "the client's name: '%s'", t->name);
	CHECK(get_reply(fd, h, &r, 4) == 0 && h[1] == 11 && r == 2,
	      "protocol 2 agreed after a name of odd length");
}

/* An empty submission is fenced: the client is busy until the renderer retires it. */
static void test_busy(struct vtest_dev *t, struct gpu_device *gd, int fd)
{
	uint32_t h[2], r, busy_wait[2] = { 0, 1 }, busy_peek[2] = { 0, 0 };

	put(fd, 0, 6, NULL, 0);
	put(fd, 2, 7, busy_peek, sizeof(busy_peek));
	pump(t);
	CHECK(gd->npending == 1, "the submission waits on its fence (%u pending)", gd->npending);
	CHECK(get_reply(fd, h, &r, 4) == 0 && h[1] == 7 && r == 1, "a busy-wait that does not wait says busy");
	put(fd, 2, 7, busy_wait, sizeof(busy_wait));
	put(fd, 0, 10, NULL, 0);
	pump(t);
	CHECK(t->owe_busy, "a busy-wait that waits is owed");
	CHECK(!reply_waits(fd), "and not answered while the fence is in flight");
	CHECK(!vtest_want_read(t) && !vtest_has_work(t), "the client is neither read nor served meanwhile");
	CHECK(vtest_fences_done(t) == 0 && t->owe_busy, "a retirement of nothing of its own answers nothing");
	for (int i = 0; i < 2000 && gd->npending; i++) {
		renderer_poll(gpu_device_renderer());
		gpu_device_fences_done(gd, retired);
		usleep(1000);
	}
	CHECK(gd->npending == 0, "the renderer retired the fence");
	CHECK(vtest_fences_done(t) == 0 && !t->owe_busy, "the owed busy-wait is answered");
	CHECK(get_reply(fd, h, &r, 4) == 0 && h[1] == 7 && r == 0, "not busy any more");
	pump(t);
	CHECK(get_reply(fd, h, NULL, 0) == 0 && h[1] == 10, "the ping sent behind it is served after it");
}

/* A buffer resource: its shared memory comes as a descriptor and is the renderer's backing. */
static void test_buffer(struct vtest_dev *t, struct gpu_device *gd, int fd)
{
	int mfd = -1;
	uint32_t create[11] = { 3, 0, 64, 0x10, 256, 1, 1, 1, 0, 0, 256 };
	uint32_t xfer[10] = { 3, 0, 0, 0, 0, 256, 1, 1, 256, 0 };
	char c, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	uint8_t *mem = MAP_FAILED;
	int ok = 1;

	put(fd, 11, 12, create, sizeof(create));
	pump(t);
	if (recvmsg(fd, &m, MSG_DONTWAIT) == 1 && CMSG_FIRSTHDR(&m))
		memcpy(&mfd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	CHECK(mfd >= 0, "the resource's memory came as a descriptor");
	CHECK(t->shm_bytes == 256 && gd->res.live == 1, "the client holds 256 bytes for one resource");
	if (mfd >= 0)
		mem = mmap(NULL, 256, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	CHECK(mem != MAP_FAILED, "it maps");
	/* the mediator maps it too: a client that shrank it would have the mediator fault on the next access */
	CHECK(mfd >= 0 && ftruncate(mfd, 0) < 0 && errno == EPERM, "the client cannot shrink it");
	CHECK(mfd >= 0 && ftruncate(mfd, 1 << 20) < 0 && errno == EPERM, "nor grow it");
	if (mem != MAP_FAILED) {
		for (int i = 0; i < 256; i++)
			mem[i] = (uint8_t)(255 - i);
		put(fd, 10 + 64, 14, xfer, sizeof(xfer));
		pump(t);
		memset(mem, 0, 256);
		put(fd, 10, 13, xfer, sizeof(xfer));
		pump(t);
		for (int i = 0; i < 256; i++)
			ok &= mem[i] == (uint8_t)(255 - i);
		CHECK(ok && !t->why[0], "the bytes went to the renderer and came back (%s)", t->why);
		CHECK(gd->st.flushes == 0, "reading a buffer back is no frame (%llu)",
		      (unsigned long long)gd->st.flushes);
		munmap(mem, 256);
	}
	if (mfd >= 0)
		close(mfd);
}

/* Frames: a read-back of a resource made to be shown (a display target, or a scanout) is one, as Mesa's vtest
 * winsys reads its front buffer on every SwapBuffers; of a render target that is not shown, none. */
static void test_frames(struct vtest_dev *t, struct gpu_device *gd, int sock)
{
	/* id, 2D texture, B8G8R8X8, bind, 16x16x1, 1 layer, 1 level, 1 sample, 1 KiB of memory */
	static const uint32_t bind[3] = { 0x2 | 0x8, 0x2 | 0x8 | 0x80, 0x2 | 0x40000 };
	static const char *const what[3] = { "a render target", "a display target", "a scanout" };

	for (int k = 0; k < 3; k++) {
		uint32_t id = 10 + (uint32_t)k, before = (uint32_t)gd->st.flushes;
		uint32_t create[11] = { id, 2, 2, bind[k], 16, 16, 1, 1, 0, 0, 1024 };
		uint32_t xfer[10] = { id, 0, 0, 0, 0, 16, 16, 1, 1024, 0 };
		char c, ctl[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &c, 1 };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof(ctl) };
		int fd = -1;

		put(sock, 11, 12, create, sizeof(create));
		pump(t);
		if (recvmsg(sock, &m, MSG_DONTWAIT) == 1 && CMSG_FIRSTHDR(&m))
			memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
		CHECK(fd >= 0 && !t->why[0], "%s of 16x16 is made (%s)", what[k], t->why);
		if (fd >= 0)
			close(fd);
		put(sock, 10, 13, xfer, sizeof(xfer));
		put(sock, 10, 13, xfer, sizeof(xfer));
		pump(t);
		CHECK(!t->why[0] && gd->st.flushes - before == (k ? 2u : 0u),
		      "two read-backs of %s: %u frame(s) (%s)", what[k], (unsigned)(gd->st.flushes - before),
		      t->why);
	}
}

int main(void)
{
	char err[256];
	struct gpu_device gd;
	struct vtest_dev t;
	int sv[2];

	gpu_device_set_renderer(render_virgl_open("none", 0, on_fence, NULL, err, sizeof(err)));
	if (!gpu_device_renderer()) {
		CHECK(0, "the renderer must start on EGL surfaceless here: %s", err);
		return check_done("vtest_dev");
	}
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	gpu_device_init(&gd, NULL);
	vtest_init(&t, sv[1], &gd);

	test_name(&t, sv[0]);
	test_busy(&t, &gd, sv[0]);
	test_buffer(&t, &gd, sv[0]);
	test_frames(&t, &gd, sv[0]);
	vtest_free(&t);
	CHECK(t.shm.live == 0 && t.shm_bytes == 0 && gd.res.live == 0 && gd.ctx.live == 0,
	      "the client's resources, context and memory go with it");
	close(sv[0]);
	close(sv[1]);
	return check_done("vtest_dev");
}
