/* mediator_workers_test.c: vgpu-mediator with a render worker per vGPU (--render-workers), driven over its
 * real sockets by the test front-end (mediator_fixture.h): each vGPU renders in a process of its own under its
 * limits; a worker that crashes, hangs, is cut off or starts slowly costs its own vGPU only, which a device reset
 * brings back on a fresh worker; a vGPU whose worker is busy waits without holding the others.
 * Usage: mediator_workers_test PATH/vgpu-mediator */
#define _GNU_SOURCE
#include "mediator_fixture.h"

#include "host/proc_tree.h"
#include "proc_field.h"
#include "render/render_worker.h"
#include "sched/cpu_clock.h"

/* ---- render workers ---- */

#define BACK3D 0x20000 /* a 64x64 3D resource's backing in guest RAM */

/* A's 3D state: context 1, a 64x64 render target 10 backed at BACK3D, attached. 0 or -1. */
static int setup_3d(struct client *c)
{
	struct virtio_gpu_ctx_create cc = { .hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = 1 }, .nlen = 4 };
	struct virtio_gpu_resource_create_3d rc = { { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D }, 10, 2, 2, 1u << 1,
						    64, 64, 1, 1, 0, 0, 0, 0 };
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} ab = { { { .type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }, 10, 1 }, { BACK3D, 64 * 64 * 4, 0 } };
	struct virtio_gpu_ctx_resource ca = { { .type = VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, .ctx_id = 1 }, 10, 0 };

	memcpy(cc.debug_name, "test", 4);
	return client_cmd(c, &cc, sizeof(cc)) == VIRTIO_GPU_RESP_OK_NODATA &&
			       client_cmd(c, &rc, sizeof(rc)) == VIRTIO_GPU_RESP_OK_NODATA &&
			       client_cmd(c, &ab, sizeof(ab)) == VIRTIO_GPU_RESP_OK_NODATA &&
			       client_cmd(c, &ca, sizeof(ca)) == VIRTIO_GPU_RESP_OK_NODATA
		       ? 0
		       : -1;
}

/* Clear resource 10 to (r, g, 0) in context 1 (fenced), read it back into its backing: 1 when the first pixel came
 * back that colour, 0 when it did not, -1 when a command failed. */
static int draw_and_read(struct client *c, float r, float g)
{
	struct {
		struct virtio_gpu_cmd_submit s;
		uint32_t dw[19];
	} m = { { { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .flags = VIRTIO_GPU_FLAG_FENCE, .fence_id = 1, .ctx_id = 1 },
		  sizeof(m.dw), 0 },
		{ (5u << 16) | (8u << 8) | 1, 1, 10, 2, 0, 0, /* surface 1 on resource 10, B8G8R8X8 */
		  (3u << 16) | 5, 1, 0, 1,                     /* framebuffer: one colour buffer, surface 1 */
		  (8u << 16) | 7, 1u << 2, 0, 0, 0, 0, 0, 0, 0 } };
	struct virtio_gpu_transfer_host_3d rd = { .hdr = { .type = VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
							   .flags = VIRTIO_GPU_FLAG_FENCE, .ctx_id = 1 },
						  .box = { 0, 0, 0, 64, 64, 1 }, .resource_id = 10, .stride = 256 };
	float b = 0;
	uint8_t px[4];

	memcpy(&m.dw[12], &r, 4);
	memcpy(&m.dw[13], &g, 4);
	memcpy(&m.dw[14], &b, 4);
	memset(c->fe.ram + BACK3D, 0x77, 64 * 64 * 4);
	if (client_cmd(c, &m, sizeof(m)) != VIRTIO_GPU_RESP_OK_NODATA ||
	    client_cmd(c, &rd, sizeof(rd)) != VIRTIO_GPU_RESP_OK_NODATA)
		return -1;
	memcpy(px, c->fe.ram + BACK3D, 4); /* B G R X */
	return px[2] == (r > 0.5f ? 255 : 0) && px[1] == (g > 0.5f ? 255 : 0) && px[0] == 0;
}

/* The soft limit `name` of process pid (/proc/PID/limits): -1 for unlimited, -2 when it cannot be read. */
static long long proc_limit(int pid, const char *name)
{
	char soft[32];

	if (proc_field(pid, "limits", name, soft, sizeof(soft)) < 0)
		return -2;
	return !strcmp(soft, "unlimited") ? -1 : atoll(soft);
}

static int64_t worker_field(json_object *doc, const char *name, const char *key)
{
	json_object *w = control_doc_field(doc, name, "worker"), *f;

	return w && json_object_object_get_ex(w, key, &f) ? json_object_get_int64(f) : -1;
}

/* Post one request on c's control queue without waiting for its answer. */
static void client_post(struct client *c, const void *cmd, uint32_t len, uint64_t in, uint64_t out)
{
	memcpy(c->fe.ram + in, cmd, len);
	memset(c->fe.ram + out, 0, 64);
	fe_post(&c->fe, RING, c->qsz, c->head, in, len, out, 64);
	c->head = (uint16_t)((c->head + 2) % c->qsz);
}

/* Post a fenced command stream in context 1 that clears its colour buffer (fence_id as given), without waiting. */
static void post_fenced_clear(struct client *c, uint64_t fence_id)
{
	struct {
		struct virtio_gpu_cmd_submit s;
		uint32_t dw[9];
	} m = { { { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .flags = VIRTIO_GPU_FLAG_FENCE, .fence_id = fence_id, .ctx_id = 1 },
		  sizeof(m.dw), 0 },
		{ (8u << 16) | 7, 1u << 2, 0, 0, 0, 0, 0, 0, 0 } };

	client_post(c, &m, sizeof(m), IN, OUT);
}

/* A vGPU size: a 4 MiB texture does not fit a's 1 MiB vGPU; b, with no size, makes it. */
static void workers_size(struct two *t, struct client *a, struct client *b)
{
	json_object *doc;
	struct virtio_gpu_resource_create_3d big = { { .type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D }, 11, 2, 2,
						     1u << 1, 1024, 1024, 1, 1, 0, 0, 0, 0 };
	json_object *mem;

	CHECK(client_cmd(a, &big, sizeof(big)) == VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
	      "a 4 MiB texture does not fit a's 1 MiB vGPU");
	CHECK(client_cmd(b, &big, sizeof(big)) == VIRTIO_GPU_RESP_OK_NODATA, "b, with no size, makes it");
	doc = control(t->ctl);
	mem = control_doc_field(doc, "a", "memory");
	CHECK(mem && json_object_get_int64(json_object_object_get(mem, "size_bytes")) == 1 << 20 &&
		      json_object_get_int64(json_object_object_get(mem, "charged_bytes")) == 64 * 64 * 4,
	      "a's size and what it holds: %s", json_object_to_json_string(mem));
	json_object_put(doc);
}

/* a and b render in workers of their own, each with its bounds, which the kernel holds them to. */
static void workers_bounds(struct two *t, int64_t *pa, int64_t *pb)
{
	json_object *doc = control(t->ctl);
	int64_t pid_a, pid_b;

	pid_a = worker_field(doc, "a", "pid");
	pid_b = worker_field(doc, "b", "pid");
	CHECK(pid_a > 0 && pid_b > 0 && pid_a != pid_b && pid_a != med_pid && pid_b != med_pid,
	      "a and b render in workers of their own (%lld, %lld; the mediator is %d)", (long long)pid_a,
	      (long long)pid_b, (int)med_pid);
	CHECK(worker_field(doc, "a", "ready") == 1 && worker_field(doc, "a", "rss_kb") > 0 &&
		      worker_field(doc, "a", "submits") >= 1,
	      "the control socket shows a's worker ready, its memory and its streams: %s",
	      json_object_to_json_string(control_doc_field(doc, "a", "worker")));
	/* a's vGPU is 1 MiB: its worker may hold that and its own RENDER_WORKER_BASE_MB of data; b has no size. */
	CHECK(worker_field(doc, "a", "mem_limit_mb") == 1 + RENDER_WORKER_BASE_MB &&
		      worker_field(doc, "b", "mem_limit_mb") == 0 && worker_field(doc, "a", "fd_limit") == RENDER_WORKER_FDS &&
		      worker_field(doc, "a", "data_kb") > 0,
	      "each worker's bounds and what it holds are on the control socket");
	/* (the bound is on top of what the fork left the worker: the broker's data at its start) */
	CHECK(proc_limit((int)pid_a, "Max data size") >= (long long)(1 + RENDER_WORKER_BASE_MB) << 20 &&
		      proc_limit((int)pid_b, "Max data size") == -1 &&
		      proc_limit((int)pid_a, "Max open files") == RENDER_WORKER_FDS &&
		      proc_limit((int)pid_b, "Max open files") == RENDER_WORKER_FDS,
	      "and the kernel holds them to it: a's data %lld bytes, b's %lld (-1: none), files %lld and %lld",
	      proc_limit((int)pid_a, "Max data size"), proc_limit((int)pid_b, "Max data size"),
	      proc_limit((int)pid_a, "Max open files"), proc_limit((int)pid_b, "Max open files"));
	json_object_put(doc);
	*pa = pid_a;
	*pb = pid_b;
}

/* No DRM device here: the renderer is llvmpipe, so each vGPU is charged the CPU time its worker used (every
 * thread, its start-up too) and the loop's in calls for it, against the CPUs this process may use (the mediator
 * inherits our affinity). Read while b's worker is idle. */
static void workers_charge(struct two *t, int64_t pid_b)
{
	json_object *doc, *m, *sc, *f;
	const char *how = "";
	double b_ms, wb_ms, med_ms;

	doc = control(t->ctl);
	wb_ms = 1000 * proc_cpu_s((int)pid_b);
	med_ms = 1000 * proc_cpu_s(med_pid);
	b_ms = gpu_ms(doc, "b");
	if (json_object_object_get_ex(doc, "mediator", &m) && json_object_object_get_ex(m, "scheduler", &sc) &&
	    json_object_object_get_ex(sc, "gpu_time", &f))
		how = json_object_get_string(f);
	CHECK(!strcmp(how, "cpu") && sched_number(doc, "capacity") == (double)cpu_clock_cpus(),
	      "GPU time is CPU time here, against %u CPUs: %s, capacity %.0f", cpu_clock_cpus(), how,
	      sched_number(doc, "capacity"));
	printf("render workers: b charged %.1f ms of GPU time; its worker used %.0f ms of CPU, the mediator %.0f ms\n",
	       b_ms, wb_ms, med_ms);
	/* /proc counts in ticks (10 ms each, for user and system time apiece) */
	CHECK(wb_ms > 0 && b_ms >= wb_ms - 30 && b_ms <= wb_ms + med_ms + 30,
	      "b was charged %.1f ms: its worker used %.0f ms of CPU, the mediator %.0f ms", b_ms, wb_ms, med_ms);
	json_object_put(doc);
}

/* a's worker killed with SIGKILL: b draws on right; a is broken until its device is reset, then draws again. */
static void workers_kill(struct two *t, struct client *a, struct client *b, int64_t pid_a, int64_t pid_b)
{
	json_object *doc;
	int ok = 0, sets = 0;

	doc = control_req(t->ctl, "fault a worker-crash\n");
	CHECK(doc && !answer_ok(doc) && check_contains(json_object_to_json_string(doc), "--test-faults"),
	      "fault requests are refused without --test-faults: %s", doc ? json_object_to_json_string(doc) : "");
	json_object_put(doc);
	CHECK(pid_a > 0 && kill((pid_t)pid_a, SIGKILL) == 0, "a's worker killed with SIGKILL");
	for (int i = 0; i < 20; i++) {
		int r = draw_and_read(b, (float)(i & 1), (float)!(i & 1));

		sets++;
		ok += r == 1;
	}
	CHECK(ok == sets, "b drew and read back %d of %d frames right meanwhile", ok, sets);
	CHECK(wait_field(t->ctl, "a", "broken", 1), "a is broken: its worker is gone");
	CHECK(draw_and_read(a, 1, 1) != 1, "a draws nothing until its device is reset");
	doc = control(t->ctl);
	CHECK(worker_field(doc, "a", "died") == 1 && check_contains(vgpu_string(doc, "a", "last_problem"), "worker"),
	      "counted, with why: %s", vgpu_string(doc, "a", "last_problem"));
	CHECK(worker_field(doc, "b", "pid") == pid_b && worker_field(doc, "b", "died") == 0 &&
		      vgpu_field(doc, "b", "errors") == 0,
	      "b kept its worker and saw no error (errors %lld)", (long long)vgpu_field(doc, "b", "errors"));
	json_object_put(doc);
	for (int i = 0; i < 50; i++) { /* the spawner's report of how it ended comes on its own */
		doc = control(t->ctl);
		ok = check_contains(json_object_to_json_string(control_doc_field(doc, "a", "worker")), "signal 9");
		json_object_put(doc);
		if (ok)
			break;
		usleep(50000);
	}
	CHECK(ok, "and how its process ended: signal 9");

	CHECK(client_reset(a) == 0, "a sends RESET_DEVICE and sets its ring up again");
	CHECK(wait_field(t->ctl, "a", "broken", 0), "a is no longer broken");
	CHECK(setup_3d(a) == 0 && draw_and_read(a, 1, 0) == 1, "a draws again, on a fresh worker");
	doc = control(t->ctl);
	CHECK(worker_field(doc, "a", "pid") > 0 && worker_field(doc, "a", "pid") != pid_a &&
		      worker_field(doc, "a", "restarts") == 1,
	      "a new worker (%lld), one restart", (long long)worker_field(doc, "a", "pid"));
	json_object_put(doc);
	CHECK(draw_and_read(b, 1, 0) == 1, "b still draws");
}

/* A hung worker (SIGSTOP) with a's fenced stream in it: b draws on undisturbed; the watchdog (1 s, quarantine)
 * kills a's worker, and a is broken until its next reset. */
static void workers_hang(struct two *t, struct client *a, struct client *b)
{
	json_object *doc = control(t->ctl);
	int64_t pid_a;
	int ok, sets;

	pid_a = worker_field(doc, "a", "pid");
	json_object_put(doc);
	CHECK(pid_a > 0 && kill((pid_t)pid_a, SIGSTOP) == 0, "a's worker stopped (SIGSTOP)");
	{
		double t0 = vb_now(), worst = 0;

		post_fenced_clear(a, 9);
		CHECK(fe_kick(a->kick) == 0, "a sends a fenced stream to its stopped worker, and does not wait");
		ok = sets = 0;
		while (vb_now() - t0 < 2.0) {
			double d0 = vb_now();

			sets++;
			ok += draw_and_read(b, (float)(sets & 1), 0) == 1;
			if (vb_now() - d0 > worst)
				worst = vb_now() - d0;
		}
		CHECK(sets >= 5 && ok == sets, "b drew %d of %d frames right while a's worker hung", ok, sets);
		/* Waiting on a's worker would take the watchdog's second at least. */
		CHECK(worst < 0.9, "none of b's frames waited on a's worker (the longest took %.3f s)", worst);
	}
	CHECK(wait_field(t->ctl, "a", "broken", 1), "the watchdog quarantined a");
	doc = control(t->ctl);
	CHECK(worker_field(doc, "a", "died") == 2 &&
		      check_contains(json_object_to_json_string(control_doc_field(doc, "a", "worker")), "watchdog"),
	      "its worker was killed by the watchdog: %s",
	      json_object_to_json_string(control_doc_field(doc, "a", "worker")));
	json_object_put(doc);
	for (int i = 0; i < 100 && kill((pid_t)pid_a, 0) == 0; i++)
		usleep(20000);
	CHECK(kill((pid_t)pid_a, 0) < 0, "and its process is gone");

	/* The front-end stops and resumes a's ring where it was (no reset): a is served again, from nothing, on a
	 * fresh worker (what it held died with the old one). */
	a->used = fe_used_idx(&a->fe, RING); /* the quarantine answered the stream it sent */
	CHECK(client_restart(a, 0) == 0, "a's ring stops and resumes where it was");
	CHECK(wait_field(t->ctl, "a", "broken", 0), "a is served again");
	CHECK(setup_3d(a) == 0 && draw_and_read(a, 0, 1) == 1, "and draws, its state made afresh");
	doc = control(t->ctl);
	CHECK(worker_field(doc, "a", "restarts") == 2 && worker_field(doc, "a", "pid") != pid_a,
	      "on its third worker (%lld restarts)", (long long)worker_field(doc, "a", "restarts"));
	json_object_put(doc);
}

/* --render-workers: each vGPU renders in a process of its own. One's worker killed (SIGKILL) in the middle of its
 * stream costs the other nothing: its draws go on, right, with no error; the mediator lives, and the vGPU whose
 * worker died is broken until its device is reset, then draws again on a fresh worker. */
static void test_workers(const char *dir)
{
	struct two t;
	struct client a, b;
	int64_t pid_a, pid_b;

	two_vgpus(&t, dir, "workers", "mem=1"); /* a's vGPU is 1 MiB */
	char *argv[] = { (char *)mediator, "--vgpu", t.va, "--vgpu", t.vb, "--control", t.ctl, "--render-workers",
			 "--watchdog-ms", "1000", "--watchdog-action", "quarantine", NULL };

	med_pid = start(argv, t.log);
	CHECK(client_open_with(&a, t.a_sock, RAM, QSZ, 1ull << VIRTIO_GPU_F_VIRGL) == 0 &&
		      client_open_with(&b, t.b_sock, RAM, QSZ, 1ull << VIRTIO_GPU_F_VIRGL) == 0,
	      "front-ends a and b up, with virgl");
	CHECK(setup_3d(&a) == 0 && setup_3d(&b) == 0, "each sets up a context and a backed render target");
	CHECK(draw_and_read(&a, 1, 0) == 1 && draw_and_read(&b, 0, 1) == 1,
	      "a draws red and b green, each read back right");
	workers_size(&t, &a, &b);
	workers_bounds(&t, &pid_a, &pid_b);
	workers_charge(&t, pid_b);
	workers_kill(&t, &a, &b, pid_a, pid_b);
	workers_hang(&t, &a, &b);

	client_down(&a);
	client_down(&b);
	stop(med_pid, t.log);
	CHECK(kill((pid_t)pid_b, 0) < 0 && errno == ESRCH, "b's worker went with the mediator, not even a zombie left");
}

/* waits: a's worker stopped (SIGSTOP) with a transfer into a's memory and a display read-back under way; b
 * draws on; continued, a's transfer lands and its display update goes. Returns the pid of a's worker. */
static int64_t waits_transfer(struct two *t, struct client *a, struct client *b)
{
	json_object *doc;
	int64_t pid_a, updates;
	int ok = 0, sets = 0;
	uint16_t used;
	struct virtio_gpu_resource_flush fl = { { .type = VIRTIO_GPU_CMD_RESOURCE_FLUSH }, { 0, 0, 64, 64 }, 10, 0 };
	struct virtio_gpu_set_scanout so = { { .type = VIRTIO_GPU_CMD_SET_SCANOUT }, { 0, 0, 64, 64 }, 0, 10 };

	CHECK(client_cmd(a, &so, sizeof(so)) == VIRTIO_GPU_RESP_OK_NODATA &&
		      client_cmd(a, &fl, sizeof(fl)) == VIRTIO_GPU_RESP_OK_NODATA,
	      "waits: a shows resource 10 and flushes it");
	for (int i = 0; i < 100 && vgpu_field(doc = control(t->ctl), "a", "display_updates") < 1; i++) {
		json_object_put(doc);
		usleep(20000);
	}
	json_object_put(doc);
	doc = control(t->ctl);
	updates = vgpu_field(doc, "a", "display_updates");
	pid_a = worker_field(doc, "a", "pid");
	json_object_put(doc);
	CHECK(updates >= 1, "waits: its display update went, read back from its worker (%lld)", (long long)updates);

	CHECK(pid_a > 0 && kill((pid_t)pid_a, SIGSTOP) == 0, "waits: a's worker stopped (SIGSTOP)");
	{
		struct virtio_gpu_transfer_host_3d rd = { .hdr = { .type = VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
								   .ctx_id = 1 },
							  .box = { 0, 0, 0, 64, 64, 1 }, .resource_id = 10,
							  .stride = 256 };

		memset(a->fe.ram + BACK3D, 0x77, 64 * 64 * 4);
		used = fe_used_idx(&a->fe, RING);
		client_post(a, &rd, sizeof(rd), IN, OUT);
		client_post(a, &fl, sizeof(fl), IN + 0x100, OUT + 0x100);
		CHECK(fe_kick(a->kick) == 0, "waits: a sends an unfenced read-back into its memory, then a flush");
	}
	for (int i = 0; i < 10; i++) {
		sets++;
		ok += draw_and_read(b, (float)(i & 1), (float)!(i & 1)) == 1;
	}
	CHECK(ok == sets, "waits: b drew and read back %d of %d frames right meanwhile", ok, sets);
	CHECK(fe_used_idx(&a->fe, RING) == (uint16_t)(used + 1),
	      "waits: a's flush was answered, its transfer was not (used %u, from %u)", fe_used_idx(&a->fe, RING),
	      used);
	doc = control(t->ctl);
	CHECK(worker_field(doc, "a", "died") == 0 && vgpu_field(doc, "a", "display_updates") == updates,
	      "waits: a's worker is not killed, and a's display update waits for it (%lld updates, %lld before)",
	      (long long)vgpu_field(doc, "a", "display_updates"), (long long)updates);
	json_object_put(doc);
	CHECK(kill((pid_t)pid_a, SIGCONT) == 0, "waits: a's worker continued");
	for (int i = 0; i < 250 && fe_used_idx(&a->fe, RING) != (uint16_t)(used + 2); i++)
		usleep(20000);
	CHECK(fe_used_idx(&a->fe, RING) == (uint16_t)(used + 2) && a->fe.ram[BACK3D + 2] == 255 && a->fe.ram[BACK3D] == 0,
	      "waits: then the transfer is answered, a's memory holding what a drew (B G R = %u %u %u)",
	      a->fe.ram[BACK3D], a->fe.ram[BACK3D + 1], a->fe.ram[BACK3D + 2]);
	a->used = (uint16_t)(used + 2);
	for (int i = 0; i < 100 && vgpu_field(doc = control(t->ctl), "a", "display_updates") <= updates; i++) {
		json_object_put(doc);
		usleep(20000);
	}
	CHECK(vgpu_field(doc, "a", "display_updates") > updates && worker_field(doc, "a", "pid") == pid_a &&
		      worker_field(doc, "a", "transfers") >= 2 && vgpu_field(doc, "a", "errors") == 0,
	      "waits: and its display update goes; the same worker, no error: %s",
	      json_object_to_json_string(control_doc_field(doc, "a", "worker")));
	json_object_put(doc);
	CHECK(draw_and_read(a, 0, 1) == 1, "waits: a draws on");
	return pid_a;
}

/* a's worker stopped with a fenced stream of a's in it, then a asks for a capset's data, which only its worker
 * has. Before, the loop waited for the worker, every vGPU with it, until --worker-timeout-ms killed it; now
 * the request is put back until a's work is done, and b draws on. Continued, a is answered in order. */
static void waits_capset(struct two *t, struct client *a, struct client *b, int64_t pid_a)
{
	json_object *doc;
	int ok, sets;
	uint16_t used;
	struct virtio_gpu_get_capset_info ci = { { .type = VIRTIO_GPU_CMD_GET_CAPSET_INFO }, 0, 0 };
	struct virtio_gpu_resp_capset_info rci;
	struct virtio_gpu_get_capset gc = { { .type = VIRTIO_GPU_CMD_GET_CAPSET }, 0, 0 };
	struct virtio_gpu_ctrl_hdr h;
	double worst = 0;

	CHECK(client_cmd(a, &ci, sizeof(ci)) == VIRTIO_GPU_RESP_OK_CAPSET_INFO, "waits: a's capset 0");
	memcpy(&rci, a->fe.ram + OUT, sizeof(rci));
	gc.capset_id = rci.capset_id;
	gc.capset_version = rci.capset_max_version;
	CHECK(kill((pid_t)pid_a, SIGSTOP) == 0, "waits: a's worker stopped again");
	used = fe_used_idx(&a->fe, RING);
	post_fenced_clear(a, 5);
	memcpy(a->fe.ram + IN + 0x100, &gc, sizeof(gc));
	memset(a->fe.ram + OUT + 0x800, 0, sizeof(h));
	fe_post(&a->fe, RING, a->qsz, a->head, IN + 0x100, sizeof(gc), OUT + 0x800, 0x2000);
	a->head = (uint16_t)((a->head + 2) % a->qsz);
	CHECK(fe_kick(a->kick) == 0, "waits: a sends a fenced stream, then asks for capset %u's data", gc.capset_id);
	ok = sets = 0;
	for (int i = 0; i < 10; i++) {
		double d0 = vb_now();

		sets++;
		ok += draw_and_read(b, (float)(i & 1), 0) == 1;
		if (vb_now() - d0 > worst)
			worst = vb_now() - d0;
	}
	CHECK(ok == sets && worst < 1.0, "waits: b drew %d of %d frames right meanwhile, the longest in %.3f s", ok,
	      sets, worst);
	doc = control(t->ctl);
	CHECK(fe_used_idx(&a->fe, RING) == used && vgpu_field(doc, "a", "put_back") >= 1 &&
		      worker_field(doc, "a", "died") == 0,
	      "waits: neither of a's is answered, its capset request put back (%lld times), its worker alive",
	      (long long)vgpu_field(doc, "a", "put_back"));
	json_object_put(doc);
	CHECK(kill((pid_t)pid_a, SIGCONT) == 0, "waits: a's worker continued");
	for (int i = 0; i < 250 && fe_used_idx(&a->fe, RING) != (uint16_t)(used + 2); i++)
		usleep(20000);
	memcpy(&h, a->fe.ram + OUT + 0x800, sizeof(h));
	CHECK(fe_used_idx(&a->fe, RING) == (uint16_t)(used + 2) && h.type == VIRTIO_GPU_RESP_OK_CAPSET,
	      "waits: then both are answered, the capset's data with them (0x%x)", h.type);
	a->used = (uint16_t)(used + 2);
}

/* A worker that crashes (SIGSEGV), and its successor slow to start (2 s before READY): a waits for it, with
 * a request that needs it (capsets); b draws on. */
static void waits_slow_start(struct two *t, struct client *a, struct client *b)
{
	json_object *doc;
	int ok, sets;
	uint16_t used;

	doc = control_req(t->ctl, "fault a worker-delay=2000\n");
	CHECK(answer_ok(doc), "waits: a's next worker is made slow to start (a test fault)");
	json_object_put(doc);
	doc = control_req(t->ctl, "fault a worker-crash\n");
	CHECK(answer_ok(doc), "waits: a's worker crashed on request");
	json_object_put(doc);
	CHECK(wait_field(t->ctl, "a", "broken", 1), "waits: a is broken: its worker is gone");
	{
		char how[160] = "";

		ok = 0;
		for (int i = 0; i < 50 && !ok; i++) { /* the spawner's report of how it ended comes on its own */
			doc = control(t->ctl);
			snprintf(how, sizeof(how), "%s",
				 json_object_to_json_string(control_doc_field(doc, "a", "worker")));
			json_object_put(doc);
			/* A sanitizer's build catches the signal, reports it and exits. */
			ok = strstr(how, "signal 11") || strstr(how, "\"exit 66\"");
			if (!ok)
				usleep(50000);
		}
		CHECK(ok, "waits: it ended as a crash does: signal 11 (%s)", how);
	}
	CHECK(client_reset(a) == 0, "waits: a resets its device: a fresh worker starts, slowly");
	{
		struct virtio_gpu_get_capset_info ci = { { .type = VIRTIO_GPU_CMD_GET_CAPSET_INFO }, 0, 0 };
		struct virtio_gpu_resp_capset_info rci;
		double t0 = vb_now();

		used = fe_used_idx(&a->fe, RING);
		client_post(a, &ci, sizeof(ci), IN, OUT);
		CHECK(fe_kick(a->kick) == 0, "waits: a asks for its capsets, which its worker has");
		ok = sets = 0;
		for (int i = 0; i < 5; i++) {
			sets++;
			ok += draw_and_read(b, (float)(i & 1), 0) == 1;
		}
		doc = control(t->ctl);
		CHECK(ok == sets && fe_used_idx(&a->fe, RING) == used && worker_field(doc, "a", "ready") == 0,
		      "waits: b drew %d of %d frames right while a's worker started, a's request waiting (%.3f s)", ok,
		      sets, vb_now() - t0);
		json_object_put(doc);
		for (int i = 0; i < 250 && fe_used_idx(&a->fe, RING) == used; i++)
			usleep(20000);
		memcpy(&rci, a->fe.ram + OUT, sizeof(rci));
		CHECK(fe_used_idx(&a->fe, RING) == (uint16_t)(used + 1) &&
			      rci.hdr.type == VIRTIO_GPU_RESP_OK_CAPSET_INFO && rci.capset_max_size > 0 &&
			      vb_now() - t0 >= 1.5,
		      "waits: answered once the worker said READY, %.3f s on (capset %u, %u bytes)", vb_now() - t0,
		      rci.capset_id, rci.capset_max_size);
		a->used = (uint16_t)(used + 1);
	}
	CHECK(setup_3d(a) == 0 && draw_and_read(a, 1, 0) == 1, "waits: a draws on its new worker");
	doc = control(t->ctl);
	CHECK(worker_field(doc, "a", "restarts") == 1 && worker_field(doc, "b", "died") == 0 &&
		      vgpu_field(doc, "b", "errors") == 0,
	      "waits: a's worker restarted once, b's never died and b saw no error");
	json_object_put(doc);
}

/* --render-workers, what waits on a worker: a's worker stopped (SIGSTOP) with a transfer into a's memory and a
 * display read-back of its scanout under way. Only those wait: a's flush is answered, b draws on, and nothing is
 * killed (no watchdog here); continued, a's transfer lands and is answered, and its display update goes. Before,
 * the mediator's loop waited on a's worker for the transfer: every vGPU stood still, and after --worker-timeout-ms
 * a's worker was killed. */
static void test_worker_waits(const char *dir)
{
	struct two t;
	struct client a, b;
	struct fe_display da;
	int64_t pid_a;

	two_vgpus(&t, dir, "waits", NULL);
	char *argv[] = { (char *)mediator, "--vgpu", t.va, "--vgpu", t.vb, "--control", t.ctl, "--render-workers",
			 "--worker-timeout-ms", "5000", "--test-faults", NULL };

	med_pid = start(argv, t.log);
	CHECK(client_open_with(&a, t.a_sock, RAM, QSZ, 1ull << VIRTIO_GPU_F_VIRGL) == 0 &&
		      client_open_with(&b, t.b_sock, RAM, QSZ, 1ull << VIRTIO_GPU_F_VIRGL) == 0 &&
		      fe_display_start(&a.fe, &da, 64, 64, 0) == 0,
	      "waits: a and b up with virgl, a with a display channel");
	CHECK(setup_3d(&a) == 0 && setup_3d(&b) == 0 && draw_and_read(&a, 1, 0) == 1 && draw_and_read(&b, 0, 1) == 1,
	      "waits: each draws and reads back");
	pid_a = waits_transfer(&t, &a, &b);
	waits_capset(&t, &a, &b, pid_a);
	waits_slow_start(&t, &a, &b);
	fe_display_stop(&da);
	client_down(&a);
	client_down(&b);
	stop(med_pid, t.log);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/vgpu-mediator-test.XXXXXX";

	if (argc < 2) {
		fprintf(stderr, "usage: mediator_workers_test PATH/vgpu-mediator\n");
		return 2;
	}
	mediator = argv[1];
	signal(SIGPIPE, SIG_IGN);
	CHECK(mkdtemp(dir) != NULL, "temp dir");
	test_workers(dir);
	test_worker_waits(dir);
	if (!check_failed)
		vb_rm_rf(dir);
	else
		fprintf(stderr, "mediator logs kept in %s\n", dir);
	return check_done("mediator_workers");
}
