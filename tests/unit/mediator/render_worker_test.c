/* render_worker_test.c: the broker/worker protocol (render_proto.h) from both ends. A real worker, started by the
 * real spawner: resources, a backing in memory it maps itself, transfers through the bulk area and through the
 * backing, a command stream through the ring and its fence, capsets, a cursor; memory it cannot map is refused
 * without harm; killed, it makes its renderer dead at the next call, and the spawner reports how it ended. Then
 * hostile workers played by the test: silence past the timeout, unknown messages, a reply to nothing, a fence
 * never queued, a DONE for no stream, a READY of another version, with too many capsets or past its descriptor
 * bound, a descriptor where none belongs, a message before READY, a connection closed mid-call: each makes the
 * renderer dead with the reason, quickly, and every later call fails at once. Read-backs not waited for (a display's): in order, out of
 * order, forgotten, and under way when the worker goes. Last, under a hard descriptor limit below the one asked
 * for, a worker's READY says the limit it got. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "process/proc_mem.h"
#include "render/render_proto.h"
#include "render/render_worker.h"
#include "render/renderer.h"
#include "render/shared_mem.h"

static uint32_t retired;

static void on_fence(void *opaque, struct renderer *r, uint32_t fence)
{
	(void)opaque;
	(void)r;
	retired = fence;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Everything sent to r so far is done: a fence after it retired. 0, or -1 (not within 10 s). */
static int settle(struct renderer *r)
{
	uint32_t f = renderer_fence(r, 0);
	double t0 = now_s();

	while (retired != f && !r->dead && now_s() - t0 < 10) {
		usleep(1000);
		renderer_poll(r);
	}
	return retired == f ? 0 : -1;
}

/* Poll r until *rc is no longer 1 (a read-back under way). */
static int read_wait(struct renderer *r, const int *rc)
{
	double t0 = now_s();

	while (*rc == 1 && now_s() - t0 < 10) {
		usleep(1000);
		renderer_poll(r);
	}
	return *rc;
}

static const struct render_res tex64 = { .target = 2, .format = 2 /* B8G8R8X8 */, .bind = 1u << 1, .width = 64,
					 .height = 64, .depth = 1, .array_size = 1 };

/* A stream that clears resource res to (r, g, 0) through surface 1 of context 1. */
static void clear_stream(uint32_t *dw, uint32_t res, float r, float g)
{
	const uint32_t s[19] = { (5u << 16) | (8u << 8) | 1, 1, res, 2, 0, 0, (3u << 16) | 5, 1, 0, 1,
				 (8u << 16) | 7, 1u << 2, 0, 0, 0, 0, 0, 0, 0 };
	float b = 0;

	memcpy(dw, s, sizeof(s));
	memcpy(&dw[12], &r, 4);
	memcpy(&dw[13], &g, 4);
	memcpy(&dw[14], &b, 4);
}

/* A context and a texture backed by guest memory: pixels through the bulk area and into the backing, a
 * command stream and its fence. */
static void real_pixels(struct renderer *r, uint8_t *mem)
{
	uint8_t px[64 * 64 * 4], back[64 * 64 * 4];
	struct render_xfer x = { .box = { 0, 0, 0, 64, 64, 1 }, .stride = 256 };
	uint32_t dw[19];
	double t0;

	CHECK(r->ops->ctx_create(r, 1, 4, "test") == 0, "context 1");
	CHECK(r->ops->res_create(r, 7, &tex64) == 0, "resource 7: 64x64 render target");
	{
		struct iovec iov = { mem + 4096, sizeof(px) };

		CHECK(r->ops->attach(r, 7, &iov, 1) == 0, "backed by guest memory the worker maps itself");
	}
	for (size_t i = 0; i < sizeof(px); i++)
		px[i] = (uint8_t)(i * 7 + 3);
	{
		struct iovec in = { px, sizeof(px) }, out = { back, sizeof(back) };

		memset(back, 0, sizeof(back));
		CHECK(r->ops->write(r, 7, &x, &in, 1) == 0 && r->ops->read(r, 7, &x, &out, 1) == 0,
		      "pixels written and read back through the bulk area");
		CHECK(!memcmp(back, px, sizeof(px)), "and they came back the same");
	}
	memset(mem + 4096, 0, sizeof(px));
	CHECK(r->ops->read(r, 7, &x, NULL, 0) == 0 && r->later && settle(r) == 0 && !memcmp(mem + 4096, px, sizeof(px)),
	      "read into its backing, not waited for: once a fence after it retired, the worker wrote guest memory "
	      "itself");
	r->ops->ctx_resource(r, 1, 7, 1);
	clear_stream(dw, 7, 1, 0);
	CHECK(r->ops->submit(r, 1, dw, 19) == 0, "a command stream through the ring");
	{
		uint32_t f = renderer_fence(r, 1);

		t0 = now_s();
		while (retired != f && now_s() - t0 < 10) {
			usleep(1000);
			renderer_poll(r);
		}
		CHECK(retired == f && !renderer_fences_pending(r), "its fence %u retired (%.3f s)", f, now_s() - t0);
	}
	/* Fence ids wrap after 2^31 - 2 of them: the last id, then 1 again, each retired and taken from the worker. */
	r->next_fence = r->last_done = RENDER_FENCE_LAST - 1;
	CHECK(settle(r) == 0 && retired == RENDER_FENCE_LAST && !r->dead, "the last fence id %u retired (%u)%s%s",
	      RENDER_FENCE_LAST, retired, r->dead ? ": " : "", r->dead ? r->why : "");
	CHECK(settle(r) == 0 && retired == 1 && !r->dead && !renderer_fences_pending(r),
	      "and the next is 1, retired after it (%u)%s%s", retired, r->dead ? ": " : "", r->dead ? r->why : "");
	CHECK(r->ops->read(r, 7, &x, NULL, 0) == 0 && settle(r) == 0 && mem[4096 + 2] == 255 && mem[4096 + 1] == 0 &&
		      mem[4096] == 0,
	      "the clear is what is read back: B G R = %u %u %u", mem[4096], mem[4096 + 1], mem[4096 + 2]);
}

/* Read-backs not waited for (a display's): two under way at once, then a call that uses the bulk area too, which
 * waits for them first; one forgotten (read_cancel) writes nowhere. */
static void real_readbacks(struct renderer *r)
{
	struct render_xfer top = { .box = { 0, 0, 0, 64, 32, 1 }, .stride = 256 }, bottom = top;
	uint8_t *a = calloc(1, 64 * 32 * 4), *b = calloc(1, 64 * 32 * 4);
	int ra = 5, rb = 5;
	uint32_t w = 0, h = 0;
	void *c;

	bottom.box.y = 32;
	CHECK(a && b && r->ops->read_begin(r, 7, &top, a, 64 * 32 * 4, &ra) == 0 &&
		      r->ops->read_begin(r, 7, &bottom, b, 64 * 32 * 4, &rb) == 0 && ra == 1 && rb == 1 &&
		      r->reading == 2,
	      "two read-backs begun, neither waited for");
	c = r->ops->cursor(r, 7, &w, &h);
	free(c);
	CHECK(ra == 0 && rb == 0 && r->reading == 0 && a && b && a[2] == 255 && a[1] == 0 && b[64 * 32 * 4 - 2] == 255,
	      "a call through the bulk area waited for both, and both are the clear's red");
	memset(a, 0x11, 64 * 32 * 4);
	CHECK(r->ops->read_begin(r, 7, &top, a, 64 * 32 * 4, &ra) == 0, "another begun");
	r->ops->read_cancel(r);
	for (double t0 = now_s(); r->reading && now_s() - t0 < 10;)
		renderer_poll(r);
	CHECK(r->reading == 0 && ra == 1 && a[0] == 0x11, "forgotten: when it came in, it wrote nowhere");
	free(a);
	free(b);
}

/* The calls waited for (capsets, a cursor), a backing no other process can map, and refusals counted. */
static void real_calls(struct renderer *r, uint32_t id, uint32_t ver, uint32_t size)
{
	struct render_worker_info wi;
	struct render_xfer x = { .box = { 0, 0, 0, 64, 64, 1 }, .stride = 256 };

	{
		uint8_t *caps = calloc(1, size);
		size_t nz = 0;

		r->ops->fill_caps(r, id, ver, caps);
		for (uint32_t i = 0; caps && i < size; i++)
			nz += caps[i] != 0;
		CHECK(nz > 0, "capset %u filled (%zu of %u bytes set)", id, nz, size);
		free(caps);
	}
	{
		uint32_t w = 0, h = 0;
		void *c = r->ops->cursor(r, 7, &w, &h);

		CHECK(c && w == 64 && h == 64, "a 64x64 cursor image of resource 7");
		free(c);
	}
	{
		uint8_t *heap = malloc(4096);
		struct iovec iov = { heap, 4096 };

		CHECK(r->ops->res_create(r, 8, &tex64) == 0 && r->ops->attach(r, 8, &iov, 1) < 0 && !r->dead,
		      "memory no other process can map is refused as a backing, and the worker lives");
		free(heap);
	}
	render_worker_info(r, &wi);
	CHECK(wi.calls >= 5 && wi.transfers == 2 && wi.submits == 1 && wi.maps == 1 && wi.async_errors == 0,
	      "counted: %llu calls, %llu transfers not waited for, %llu streams, %llu maps", (unsigned long long)wi.calls,
	      (unsigned long long)wi.transfers, (unsigned long long)wi.submits, (unsigned long long)wi.maps);
	{
		CHECK(r->ops->write(r, 77, &x, NULL, 0) == 0 && settle(r) == 0, "a transfer to no resource is not waited for");
		render_worker_info(r, &wi);
		CHECK(!r->dead && wi.async_errors == 1 && strstr(wi.last_async_error, "WRITE of 77"),
		      "its refusal is counted, and the worker lives: %s", wi.last_async_error);
	}
	{
		struct render_res bad = tex64;
		uint32_t w = 0, h = 0;
		void *c;

		bad.target = 99;
		CHECK(r->ops->res_create(r, 9, &bad) == 0, "a create is not waited for");
		c = r->ops->cursor(r, 7, &w, &h); /* a call waited for: everything before it was served */
		free(c);
		render_worker_info(r, &wi);
		CHECK(!r->dead && wi.async_errors == 2 && strstr(wi.last_async_error, "RES_CREATE of 9"),
		      "the worker's refusal is counted, and it lives: %s", wi.last_async_error);
	}
}

/* The worker killed through the spawner: it says how, and the next call fails at once. */
static void real_kill(struct render_spawner *z, struct renderer *r, int wpid)
{
	int pid = 0, status = 0, ended = 0;
	double t0;

	CHECK(render_spawner_kill(z, wpid) == 0, "the worker killed through the spawner");
	t0 = now_s();
	while (!ended && now_s() - t0 < 10) {
		ended = render_spawner_ended(z, &pid, &status) > 0;
		if (!ended)
			usleep(10000);
	}
	CHECK(ended && pid == wpid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "the spawner reports how it ended (pid %d, status 0x%x)", pid, status);
	t0 = now_s();
	CHECK(r->ops->res_create(r, 9, &tex64) != 0 && r->dead, "the next call fails: %s", r->why);
	CHECK(now_s() - t0 < 5 && strstr(r->why, "closed"), "at once (%.3f s), the connection closed: %s",
	      now_s() - t0, r->why);
	{
		char how[64];

		render_exit_text(status, how, sizeof(how));
		CHECK(!strcmp(how, "signal 9 (Killed)"), "in words: %s", how);
	}
}

/* A real worker started by the real spawner: READY with its capsets, in a process of its own; then what it does. */
static void test_real_worker(void)
{
	struct render_worker_opts o = { .render_node = "none" };
	struct render_spawner z;
	struct render_worker_info wi;
	struct renderer *r;
	char err[256];
	const size_t ram = 1u << 20;
	int fd = memfd_create("test-ram", MFD_CLOEXEC);
	uint8_t *mem;
	uint32_t id, ver, size;

	CHECK(fd >= 0 && ftruncate(fd, (off_t)ram) == 0, "guest memory");
	mem = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(mem != MAP_FAILED && shmem_add(mem, ram, fd, 0) != 0, "mapped, and entered as memory a worker may map");
	CHECK(render_spawner_start(&z, &o, err, sizeof(err)) == 0, "the spawner starts: %s", err);
	r = render_worker_open(&z, NULL, on_fence, NULL, 20000, err, sizeof(err));
	CHECK(r != NULL && r->starting, "a worker starts (not READY yet): %s", err);
	if (!r)
		return;
	CHECK(renderer_num_capsets(r) >= 1 && r->ops->capset(r, 0, &id, &ver, &size) == 0 && size > 0,
	      "it said READY with its capsets (%u capsets)", renderer_num_capsets(r));
	CHECK(strlen(r->gl_renderer) > 0 && strstr(r->platform, "worker") && !r->starting, "and its renderer: %s on %s",
	      r->gl_renderer, r->platform);
	render_worker_info(r, &wi);
	CHECK(wi.pid > 0 && wi.pid != getpid() && wi.ready, "a process of its own (%d)", wi.pid);
	real_pixels(r, mem);
	real_readbacks(r);
	real_calls(r, id, ver, size);
	real_kill(&z, r, wi.pid);
	renderer_close(r);
	render_spawner_stop(&z);
	shmem_remove(mem);
	munmap(mem, ram);
	close(fd);
}

/* ---- hostile workers, played by the test ---- */

struct fake {
	struct render_spawner z;
	int zs, ws;   /* the spawner's and the worker's ends, played here */
	struct renderer *r;
};

/* A worker back-end whose spawner and worker are the test: the spawner's SPAWNED is already waiting. */
static int fake_open(struct fake *f, uint64_t timeout_ms)
{
	int zs[2], ws[2];
	struct rs_spawned sp = { .pid = 999999 };
	char err[256];

	memset(f, 0, sizeof(*f));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, zs) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ws) < 0)
		return -1;
	f->z.sock = zs[0];
	f->zs = zs[1];
	f->ws = ws[0];
	if (rp_send(f->zs, RS_SPAWNED, 0, &sp, sizeof(sp), ws[1]) < 0)
		return -1;
	close(ws[1]);
	f->r = render_worker_open(&f->z, NULL, on_fence, NULL, timeout_ms, err, sizeof(err));
	return f->r ? 0 : -1;
}

static void fake_close(struct fake *f)
{
	renderer_close(f->r);
	close(f->z.sock);
	close(f->zs);
	if (f->ws >= 0)
		close(f->ws);
}

static void ready(struct fake *f, uint32_t version, uint32_t ncaps)
{
	struct rp_ready rd = { .version = version, .ncaps = ncaps, .fd_limit = RENDER_WORKER_FDS };

	for (uint32_t i = 0; i < RP_MAX_CAPSETS; i++)
		rd.caps[i] = (struct rp_caps_info){ 1 + i, 1, 64 };
	strcpy(rd.gl_renderer, "fake");
	strcpy(rd.platform, "test");
	rp_send(f->ws, RP_READY, 0, &rd, sizeof(rd), -1);
}

/* A call waited for: a read back through the bulk area. */
static int do_call(struct renderer *r)
{
	uint8_t px[16];
	struct iovec iov = { px, sizeof(px) };
	struct render_xfer x = { .box = { 0, 0, 0, 2, 2, 1 }, .stride = 8 };

	return r->ops->read(r, 1, &x, &iov, 1);
}

/* Open a fake worker, let script() write what it sends, then make call() and say what became of the renderer. */
static void hostile(const char *what, void (*script)(struct fake *), int (*call)(struct renderer *),
		    const char *why_has)
{
	struct fake f;
	double t0;
	int rc;

	if (fake_open(&f, 300) < 0) {
		CHECK(0, "%s: the fake worker", what);
		return;
	}
	script(&f);
	t0 = now_s();
	rc = call(f.r);
	CHECK(rc != 0 && f.r->dead && strstr(f.r->why, why_has), "%s: the renderer is dead: %s", what, f.r->why);
	CHECK(now_s() - t0 < 2, "%s: within %.3f s", what, now_s() - t0);
	CHECK(f.r->ops->res_create(f.r, 3, &tex64) != 0 && f.r->ops->ctx_create(f.r, 3, 1, "x") != 0 &&
		      renderer_num_capsets(f.r) == 0 && do_call(f.r) != 0,
	      "%s: every later call fails at once", what);
	fake_close(&f);
}

static int do_poll(struct renderer *r)
{
	renderer_poll(r);
	return r->dead ? -1 : 0;
}

/* A poll once the timeout has passed. */
static int do_poll_late(struct renderer *r)
{
	usleep(400000);
	return do_poll(r);
}

static void say_nothing(struct fake *f)
{
	(void)f;
}

static int do_capset(struct renderer *r)
{
	uint32_t id, v, s;

	return r->ops->capset(r, 0, &id, &v, &s);
}

static void say_ready(struct fake *f)
{
	ready(f, RP_VERSION, 1);
}

static void unknown_op(struct fake *f)
{
	struct rp_id x = { 1 };

	ready(f, RP_VERSION, 1);
	rp_send(f->ws, 999, 2, &x, sizeof(x), -1);
}

static void wrong_size(struct fake *f)
{
	struct rp_id x = { 1 };

	ready(f, RP_VERSION, 1);
	rp_send(f->ws, RP_REPLY, 2, &x, sizeof(x), -1); /* a REPLY is larger */
}

static void reply_to_nothing(struct fake *f)
{
	struct rp_reply rep = { 0 };

	ready(f, RP_VERSION, 1);
	rp_send(f->ws, RP_REPLY, 77, &rep, sizeof(rep), -1);
}

static void fence_never_queued(struct fake *f)
{
	struct rp_fence fe = { 0, 5 };

	ready(f, RP_VERSION, 1);
	rp_send(f->ws, RP_FENCE, 0, &fe, sizeof(fe), -1);
}

static void done_for_nothing(struct fake *f)
{
	struct rp_reply d = { 0 };

	ready(f, RP_VERSION, 1);
	rp_send(f->ws, RP_DONE, 0, &d, sizeof(d), -1);
}

static void other_version(struct fake *f)
{
	ready(f, RP_VERSION + 1, 1);
}

static void too_many_caps(struct fake *f)
{
	ready(f, RP_VERSION, RP_MAX_CAPSETS + 5);
}

static void too_many_fds(struct fake *f)
{
	struct rp_ready rd = { .version = RP_VERSION, .ncaps = 1, .fd_limit = 1u << 20 };

	rd.caps[0] = (struct rp_caps_info){ 1, 1, 64 };
	rp_send(f->ws, RP_READY, 0, &rd, sizeof(rd), -1);
}

static void with_descriptor(struct fake *f)
{
	struct rp_reply rep = { 0 };

	ready(f, RP_VERSION, 1);
	rp_send(f->ws, RP_REPLY, 3, &rep, sizeof(rep), 0); /* the right seq, and stdin along */
}

static void before_ready(struct fake *f)
{
	struct rp_reply rep = { 0 };

	rp_send(f->ws, RP_REPLY, 3, &rep, sizeof(rep), -1);
}

static void hangs_up(struct fake *f)
{
	ready(f, RP_VERSION, 1);
	close(f->ws);
	f->ws = -1;
}

static void test_hostile_workers(void)
{
	struct fake f;
	struct rp_reply rep = { 0 };

	/* First the fake itself, answering right: RING came as message 1, BULK as 2, so the READ is message 3. */
	CHECK(fake_open(&f, 300) == 0, "a fake worker");
	ready(&f, RP_VERSION, 1);
	rp_send(f.ws, RP_REPLY, 3, &rep, sizeof(rep), -1);
	CHECK(do_call(f.r) == 0 && !f.r->dead && !strcmp(f.r->gl_renderer, "fake"),
	      "a fake worker that answers right is served (%s)", f.r->why);
	fake_close(&f);

	hostile("silent past the timeout", say_ready, do_call, "no answer to READ in 300 ms");
	hostile("an unknown message", unknown_op, do_call, "message 999");
	hostile("a message of the wrong size", wrong_size, do_call, "REPLY) of 4 bytes");
	hostile("a reply to nothing", reply_to_nothing, do_call, "a REPLY to 77");
	hostile("a fence never queued", fence_never_queued, do_poll, "fence 5 retired (queued up to 0");
	hostile("a DONE for no stream", done_for_nothing, do_poll, "DONE for no stream or backing");
	hostile("a READY of another version", other_version, do_capset, "another version");
	hostile("a READY with too many capsets", too_many_caps, do_capset, "too many capsets");
	hostile("a READY past its descriptor bound", too_many_fds, do_capset, "may hold 1048576 descriptors (1 to 256)");
	hostile("a descriptor along", with_descriptor, do_call, "with a descriptor");
	hostile("a reply before READY", before_ready, do_call, "REPLY before READY");
	hostile("a connection closed mid-call", hangs_up, do_call, "closed");
	hostile("never READY, nothing waiting", say_nothing, do_poll_late, "no READY in 300 ms");
}

/* Read-backs not waited for, from a fake worker: answered in order they are in; a REPLY to a later one first is a
 * REPLY to nothing; a worker gone with one under way makes it never come (-1), not hang. */
static void test_hostile_reads(void)
{
	struct render_xfer x = { .box = { 0, 0, 0, 2, 2, 1 }, .stride = 8 };
	struct rp_reply rep = { 0 };
	uint8_t px[16];
	struct fake f;
	int rc = 5, rc2 = 5;

	CHECK(fake_open(&f, 300) == 0, "reads: a fake worker");
	ready(&f, RP_VERSION, 1);
	renderer_poll(f.r);
	/* RING was message 1, BULK 2, so this READ is 3 and the next one 4. */
	CHECK(f.r->ops->read_begin(f.r, 1, &x, px, sizeof(px), &rc) == 0 && rc == 1, "reads: one begun");
	rp_send(f.ws, RP_REPLY, 3, &rep, sizeof(rep), -1);
	CHECK(read_wait(f.r, &rc) == 0 && f.r->reading == 0 && !f.r->dead, "reads: its REPLY brings it in");
	CHECK(f.r->ops->read_begin(f.r, 1, &x, px, sizeof(px), &rc) == 0 &&
		      f.r->ops->read_begin(f.r, 1, &x, px, sizeof(px), &rc2) == 0 && f.r->reading == 2,
	      "reads: two more begun");
	rp_send(f.ws, RP_REPLY, 5, &rep, sizeof(rep), -1); /* the second's, first */
	renderer_poll(f.r);
	CHECK(f.r->dead && strstr(f.r->why, "a REPLY to 5") && rc == -1 && rc2 == -1 && f.r->reading == 0,
	      "reads: a REPLY out of order cuts the worker off, and neither read-back will come: %s", f.r->why);
	fake_close(&f);

	CHECK(fake_open(&f, 300) == 0, "reads: another fake worker");
	ready(&f, RP_VERSION, 1);
	renderer_poll(f.r);
	CHECK(f.r->ops->read_begin(f.r, 1, &x, px, sizeof(px), &rc) == 0 && rc == 1, "reads: one begun");
	close(f.ws);
	f.ws = -1;
	CHECK(read_wait(f.r, &rc) == -1 && f.r->dead && f.r->reading == 0,
	      "reads: the worker gone, it will never come (%s)", f.r->why);
	CHECK(f.r->ops->read_begin(f.r, 1, &x, px, sizeof(px), &rc) < 0, "reads: and no other is begun");
	fake_close(&f);
}

/* A worker bounded to 300 MiB of data more than it started with (a vGPU of 44 MiB), asked for eight 64 MiB
 * textures: it never adds more than its bound (past it Mesa's allocations fail and the worker goes on, with no error
 * reported for those textures; a sanitizer's allocator aborts the worker instead), and nothing else is harmed; an
 * unbounded worker makes all eight. Data is counted from its READY (a sanitizer's shadow is data too). */
static void test_bounded_worker(void)
{
	struct render_worker_opts o = { .render_node = "none" };
	struct render_res big = tex64;
	struct render_spawner z;
	char err[256];

	big.width = big.height = 4096;
	CHECK(render_spawner_start(&z, &o, err, sizeof(err)) == 0, "the spawner starts: %s", err);
	for (int bounded = 1; bounded >= 0; bounded--) {
		struct render_worker_start st = { .mem_limit_mb = bounded ? 300 : 0 };
		struct render_worker_info wi;
		struct renderer *r = render_worker_open(&z, &st, on_fence, NULL, 20000, err, sizeof(err));
		unsigned long long kb0, kb;

		CHECK(r && renderer_num_capsets(r) >= 1, "a %s worker is READY: %s", bounded ? "bounded" : "free",
		      r ? r->why : err);
		if (!r)
			continue;
		render_worker_info(r, &wi);
		CHECK(wi.mem_limit_mb == st.mem_limit_mb && wi.fd_limit == RENDER_WORKER_FDS, "its bounds: %u MiB, %u fds",
		      wi.mem_limit_mb, wi.fd_limit);
		CHECK(r->ops->res_create(r, 99, &tex64) == 0, "a small texture to write to");
		kb0 = proc_data_kb(wi.pid);
		for (uint32_t i = 0; i < 8 && !r->dead; i++)
			r->ops->res_create(r, 100 + i, &big);
		{
			/* a call waited for: the creates before it have been served */
			struct render_xfer x = { .box = { 0, 0, 0, 64, 64, 1 }, .stride = 256 };
			static uint8_t px[64 * 64 * 4];
			struct iovec in = { px, sizeof(px) };
			int rc = r->ops->write(r, 99, &x, &in, 1);

			CHECK(rc == 0 || (bounded && r->dead), "then a write is answered (%d), or the worker is gone", rc);
		}
		kb = proc_data_kb(wi.pid);
		kb = kb > kb0 ? kb - kb0 : 0;
		render_worker_info(r, &wi);
		printf("%s worker: eight 4096x4096 textures: %llu MiB of data more, %llu refused%s%s\n",
		       bounded ? "bounded" : "free", kb >> 10, (unsigned long long)wi.async_errors,
		       r->dead ? ", dead: " : "", r->dead ? r->why : "");
		if (bounded)
			CHECK(kb <= 300ull << 10, "it stayed within its bound: %llu MiB added%s", kb >> 10,
			      r->dead ? ", then it died" : "");
		else
			CHECK(!r->dead && wi.async_errors == 0 && kb >= 512ull << 10, "unbounded, it made all eight: %llu MiB",
			      kb >> 10);
		renderer_close(r);
	}
	render_spawner_stop(&z);
}

/* Under a hard descriptor limit lower than RENDER_WORKER_FDS (a host's ulimit -Hn), a worker runs under that and
 * its READY says so: the control socket never claims the bound it asked for. Run last: the limit stays lowered. */
static void test_lower_hard_limit(void)
{
	struct render_worker_opts o = { .render_node = "none" };
	struct rlimit l = { 200, 200 };
	struct render_spawner z;
	struct render_worker_info wi;
	char err[256];

	CHECK(setrlimit(RLIMIT_NOFILE, &l) == 0, "a hard limit of 200 descriptors: %s", strerror(errno));
	CHECK(render_spawner_start(&z, &o, err, sizeof(err)) == 0, "the spawner starts under it: %s", err);
	struct renderer *r = render_worker_open(&z, NULL, on_fence, NULL, 20000, err, sizeof(err));

	CHECK(r && renderer_num_capsets(r) >= 1, "its worker is READY: %s", r ? r->why : err);
	if (r) {
		render_worker_info(r, &wi);
		CHECK(wi.fd_limit == 200, "and says it may hold 200 descriptors, not %d: %u", RENDER_WORKER_FDS,
		      wi.fd_limit);
		renderer_close(r);
	}
	render_spawner_stop(&z);
}

/* The fence circle's arithmetic at its ends. */
static void test_fence_circle(void)
{
	CHECK(renderer_fence_since(5, 3) == 2 && renderer_fence_since(3, 5) == -2 && renderer_fence_since(7, 7) == 0,
	      "near ids: 2, -2, 0");
	CHECK(renderer_fence_since(1, RENDER_FENCE_LAST) == 1 && renderer_fence_since(RENDER_FENCE_LAST, 1) == -1,
	      "1 comes right after the last id (%d, %d)", renderer_fence_since(1, RENDER_FENCE_LAST),
	      renderer_fence_since(RENDER_FENCE_LAST, 1));
	CHECK(renderer_fence_since(2, RENDER_FENCE_LAST - 1) == 3, "across the wrap: 3 (%d)",
	      renderer_fence_since(2, RENDER_FENCE_LAST - 1));
	CHECK(renderer_fence_since(1, 0) == 1 && renderer_fence_since(0, RENDER_FENCE_LAST) == 0,
	      "0, before any fence, is the place before 1");
	CHECK(renderer_fence_since(RENDER_FENCE_LAST / 2, 0) > 0 &&
		      renderer_fence_since(RENDER_FENCE_LAST / 2 + 2, 0) < 0,
	      "half the circle each way (%d, %d)", renderer_fence_since(RENDER_FENCE_LAST / 2, 0),
	      renderer_fence_since(RENDER_FENCE_LAST / 2 + 2, 0));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_fence_circle();
	test_real_worker();
	test_bounded_worker();
	test_hostile_workers();
	test_hostile_reads();
	test_lower_hard_limit();
	return check_done("render_worker");
}
