/* reset_guest_test.c: integration test of vGPU reset and pause (docs/mediator.md) with two real TCG guests on a
 * real vgpu-mediator, started the way a mediated run starts it, each vGPU with two outputs ([guest] displays =
 * 800x600, 1024x768: guest1's KMS sees both, connected, each at its own mode, and kms2d draws on both at once,
 * each output's frames reaching the mediator's display channel). guest2 draws (gpuhog, 3D through
 * the mediator) the whole time, and its longest frame must stay under NEIGHBOUR_STALL_MS. guest1:
 *   - unbinds and binds virtio_gpu, then runs a 3D job: it succeeds, and once it ended its vGPU holds as many
 *     resources as after a fresh boot;
 *   - is paused (QMP stop), 3 s, continued (cont) in the middle of a 3D job: the job finishes, nothing is lost;
 *   - is reset (QMP system_reset): it reboots into a working vGPU;
 *   - draws one frame far longer than the watchdog's bound: reported, and the job still finishes;
 *   - draws it again with the watchdog set to quarantine: its vGPU serves nothing more until its reboot resets
 *     the device.
 * Then the same two guests boot again on a vgpu-mediator with a render worker per vGPU, and guest1's worker is
 * killed (SIGKILL) in the middle of a 3D job: guest2 draws on within the same bound, guest1's vGPU serves nothing
 * until its reboot resets the device, and it then draws on a fresh worker.
 * Arguments: AGENT INIT MEDIATOR GPUHOG KMS2D. */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/agent_client.h"
#include "vm/boot_wait.h"
#include "check.h"
#include "guest_fixture.h"
#include "configs/configs.h"
#include "configs/gpu_backend.h"
#include "host/hostcheck.h"
#include "vm/image.h"
#include "plan/plan.h"
#include "vm/qmp.h"
#include "util.h"
#include "vm/vm.h"
#include "workload.h"

#define MEMORY_MB 768
/* The longest a neighbour's frame may take while guest1 is reset, paused and rebooted: the mediator holds every
 * vGPU for at most 2 s while a stopping ring finishes its fences (DRAIN_NS in mediator/loop/loop.h), plus a frame. */
#define NEIGHBOUR_STALL_MS 3000.0

static const char *gpuhog, *kms2d;
static struct gpu_backend backend;

struct neighbour {
	struct agent_conn *c;
	char log[600];
	volatile int stop;
	int runs, failed;
	double max_frame_ms;
	char why[256];
};

/* A value "key: v" in a job's output, or -1. */
static double out_value(const char *out, const char *key)
{
	const char *p = out ? strstr(out, key) : NULL;

	return p ? atof(p + strlen(key)) : -1;
}

/* gpuhog for `seconds` at size with iterations per pixel on c: 0 when it exited 0 on virgl, else -1 with why.
 * *max_ms gets its longest frame. */
static int hog_sized(struct agent_conn *c, int seconds, const char *size, const char *iterations, int timeout_s,
		     const char *log, double *max_ms, char *why, size_t whylen)
{
	char secs[16];
	const char *argv[] = { gpuhog, "--seconds", secs, "--size", size, "--iterations", iterations, NULL };
	const char *const *argvs[1] = { argv };
	const char *logs[1] = { log };
	struct agent_conn *cs[1] = { c };
	struct job_result r;
	int rc = -1;

	snprintf(secs, sizeof(secs), "%d", seconds);
	agent_run_parallel(cs, 1, argvs, NULL, timeout_s, logs, &r);
	if (strcmp(r.status, "exited") || r.code != 0)
		snprintf(why, whylen, "gpuhog ended %s %d: %.180s", r.status, r.code, r.error);
	else if (!r.out || !strstr(r.out, "renderer: virgl"))
		snprintf(why, whylen, "gpuhog did not draw on virgl: %.120s", r.out ? r.out : "");
	else
		rc = 0;
	if (max_ms)
		*max_ms = out_value(r.out, "frame_time_max_ms: ");
	job_result_free(&r);
	return rc;
}

/* A light gpuhog: small frames. */
static int hog(struct agent_conn *c, int seconds, const char *log, double *max_ms, char *why, size_t whylen)
{
	return hog_sized(c, seconds, "320x240", "8", seconds + 120, log, max_ms, why, whylen);
}

static void *neighbour_main(void *arg)
{
	struct neighbour *n = arg;

	while (!n->stop) {
		double max_ms = -1;

		if (hog(n->c, 8, n->log, &max_ms, n->why, sizeof(n->why)) < 0) {
			n->failed++;
			break;
		}
		n->runs++;
		if (max_ms > n->max_frame_ms)
			n->max_frame_ms = max_ms;
	}
	return NULL;
}

/* Field `key` of vGPU `name` from the mediator (of its `health` object when sub is 1, `watchdog` when 2, `worker`
 * when 3); -1 if absent. */
static long long vgpu_value(const char *name, const char *key, int sub)
{
	char *doc = gpu_backend_request(backend.control, "stats\n");
	json_object *root = doc ? json_tokener_parse(doc) : NULL, *arr, *v, *f;
	long long out = -1;

	if (root && json_object_object_get_ex(root, "vgpus", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			v = json_object_array_get_idx(arr, i);
			if (!json_object_object_get_ex(v, "name", &f) || strcmp(json_object_get_string(f), name))
				continue;
			if (sub && !json_object_object_get_ex(v, sub == 1 ? "health" : sub == 2 ? "watchdog" : "worker", &v))
				break;
			if (json_object_object_get_ex(v, key, &f))
				out = json_object_get_int64(f);
		}
	json_object_put(root);
	free(doc);
	return out;
}

/* Display updates the mediator sent for each of vGPU name's outputs (at most max), -1 each where absent: how many. */
static int output_updates(const char *name, long long *out, int max)
{
	char *doc = gpu_backend_request(backend.control, "stats\n");
	json_object *root = doc ? json_tokener_parse(doc) : NULL, *arr, *v, *f, *outs;
	int n = 0;

	if (root && json_object_object_get_ex(root, "vgpus", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			v = json_object_array_get_idx(arr, i);
			if (!json_object_object_get_ex(v, "name", &f) || strcmp(json_object_get_string(f), name) ||
			    !json_object_object_get_ex(v, "outputs", &outs))
				continue;
			for (size_t k = 0; k < json_object_array_length(outs) && n < max; k++) {
				json_object *o = json_object_array_get_idx(outs, k), *u;
				int has = json_object_object_get_ex(o, "display_updates", &u);

				out[n++] = has ? json_object_get_int64(u) : -1;
			}
		}
	json_object_put(root);
	free(doc);
	return n;
}

/* The plan's [guest] displays = 800x600, 1024x768 through the mediator: the guest's KMS sees two outputs,
 * connected, each preferring its own mode (the first mode a connector lists), from the vGPU's EDIDs; kms2d draws on
 * both at once, reporting each output's rates and their sum, and the mediator sends each output's frames. */
static void check_displays(struct agent_conn *c, const char *log)
{
	const char *argv[] = { "/bin/sh", "-c",
			       "for o in /sys/class/drm/card0-Virtual-*; do echo \"${o##*-} $(cat $o/status) "
			       "$(head -1 $o/modes)\"; done",
			       NULL };
	const char *kms[] = { kms2d, "--seconds", "0.5", NULL };
	const char *const *argvs[1] = { argv };
	const char *logs[1] = { log };
	struct agent_conn *cs[1] = { c };
	struct job_result r;
	struct wl_result w;
	long long before[2] = { -1, -1 }, after[2] = { -1, -1 };

	agent_run_parallel(cs, 1, argvs, NULL, 60, logs, &r);
	CHECK(!strcmp(r.status, "exited") && r.code == 0 && r.out && strstr(r.out, "1 connected 800x600\n") &&
		      strstr(r.out, "2 connected 1024x768\n") && !strstr(r.out, "3 "),
	      "guest1's KMS sees its two outputs at their modes: %.200s", r.out ? r.out : r.error);
	job_result_free(&r);

	CHECK(output_updates("guest1", before, 2) == 2, "the mediator lists guest1's two outputs");
	argvs[0] = kms;
	agent_run_parallel(cs, 1, argvs, NULL, 120, logs, &r);
	CHECK(!strcmp(r.status, "exited") && r.code == 0 && r.out &&
		      workload_find("kms2d")->parse(r.out, strlen(r.out), &w) == 0,
	      "kms2d on both outputs: %s %d %.300s", r.status, r.code, r.out ? r.out : r.error);
	if (r.out && strstr(r.out, "done: 1")) {
		const struct wl_metric *o1 = NULL, *o2 = NULL, *sum = NULL;

		for (int i = 0; i < w.n; i++) {
			o1 = !strcmp(w.m[i].name, "output1.fill.mb_per_s") ? &w.m[i] : o1;
			o2 = !strcmp(w.m[i].name, "output2.fill.mb_per_s") ? &w.m[i] : o2;
			sum = !strcmp(w.m[i].name, "fill.mb_per_s") ? &w.m[i] : sum;
		}
		CHECK(!strcmp(w.surface, "800x600@60+1024x768@60"), "kms2d drove both modes: %s", w.surface);
		CHECK(o1 && o2 && sum && o1->value > 0 && o2->value > 0 &&
			      fabs(o1->value + o2->value - sum->value) < 0.02,
		      "each output filled, the total their sum: %.1f + %.1f = %.1f", o1 ? o1->value : -1,
		      o2 ? o2->value : -1, sum ? sum->value : -1);
	}
	job_result_free(&r);
	CHECK(output_updates("guest1", after, 2) == 2 && after[0] > before[0] && after[1] > before[1],
	      "the mediator sent frames on both outputs: %lld -> %lld and %lld -> %lld", before[0], after[0], before[1],
	      after[1]);
}

/* Wait up to 10 s for guest1's vGPU to hold `want` resources (a guest frees its buffers as its job exits). */
static long long settle_resources(long long want)
{
	long long n = -1;

	for (int i = 0; i < 100 && (n = vgpu_value("guest1", "resources", 0)) != want; i++)
		usleep(100000);
	return n;
}

/* A shell line in guest1 (exit 0 expected). */
static int guest_sh(struct agent_conn *c, const char *line, const char *log)
{
	const char *argv[] = { "sh", "-c", line, NULL };
	const char *const *argvs[1] = { argv };
	const char *logs[1] = { log };
	struct agent_conn *cs[1] = { c };
	struct job_result r;
	int ok;

	agent_run_parallel(cs, 1, argvs, NULL, 60, logs, &r);
	ok = !strcmp(r.status, "exited") && r.code == 0;
	if (!ok)
		fprintf(stderr, "guest: '%s' ended %s %d: %s\n", line, r.status, r.code, r.out ? r.out : "");
	job_result_free(&r);
	return ok ? 0 : -1;
}

/* Stop guest2's drawing (once) and judge it: it never failed and its longest frame stayed in the bound. */
static void stop_neighbour(struct neighbour *nb, pthread_t *t, int *started)
{
	if (!*started)
		return;
	*started = 0;
	nb->stop = 1;
	pthread_join(*t, NULL);
	printf("reset_guest: guest2 drew %d job(s) throughout, longest frame %.0f ms\n", nb->runs, nb->max_frame_ms);
	CHECK(nb->failed == 0, "guest2 never failed: %s", nb->why);
	CHECK(nb->runs >= 2, "guest2 drew throughout (%d jobs)", nb->runs);
	CHECK(nb->max_frame_ms >= 0 && nb->max_frame_ms <= NEIGHBOUR_STALL_MS,
	      "guest2's longest frame %.0f ms is within %.0f ms", nb->max_frame_ms, NEIGHBOUR_STALL_MS);
}

struct pauser {
	const char *qmp;
	int rc;
	char err[256];
};

/* 3 s into the job: stop the VM for 3 s, then continue it. */
static void *pauser_main(void *arg)
{
	struct pauser *p = arg;

	sleep(3);
	p->rc = qmp_execute(p->qmp, "stop", NULL, 10, p->err, sizeof(p->err));
	sleep(3);
	if (qmp_execute(p->qmp, "cont", NULL, 10, p->err, sizeof(p->err)) < 0)
		p->rc = -1;
	return NULL;
}

/* The end of a pair of guests: guest2's drawing judged, the agents closed, the guests and the back-end stopped. */
static void shut_down(struct neighbour *nb, pthread_t *t, int *started, struct agent_conn *c, struct vm *vm,
		      int booted)
{
	stop_neighbour(nb, t, started);
	for (int i = 0; i < 2; i++)
		agent_close(&c[i]);
	for (int i = 0; i < booted; i++)
		vm_stop(&vm[i]);
	gpu_backend_stop(&backend);
}

/* Two guests on `backend` (started for two), each answering its agent: how many booted (vm_stop those). */
static int boot_two(const struct host *h, const struct image *img, const char *dir, struct vm *vm,
		    struct agent_conn *c)
{
	struct json_object *hello = NULL;
	int booted = 0;

	for (int i = 0; i < 2 && !check_failed; i++) {
		struct vm_opts o = { .qemu = h->qemu, .accel = h->accel, .kernel = img->kernel, .initrd = img->initrd,
				     .cpu = "Westmere", .memory_mb = MEMORY_MB, .vcpus = 1, .display = NULL,
				     .gpu_args = gpu_backend_args(&backend, i), .edid_firmware = "" };

		CHECK(vm_start(&vm[i], i + 1, dir, &o) == 0, "guest%d started", i + 1);
		booted = i + 1;
	}
	for (int i = 0; i < booted && !check_failed; i++) {
		double t0 = vb_now();

		CHECK(agent_connect_unix(&c[i], vm[i].agent_sock, t0 + 30, vm[i].pid, vm[i].name) == 0 &&
			      boot_wait_hello(&c[i], &vm[i], t0 + 240, BOOT_SILENT_S, &hello, NULL) == 0,
		      "guest%d answers", i + 1);
		json_object_put(hello);
		hello = NULL;
	}
	return booted;
}

struct killer {
	pid_t pid;
	int rc, err;
};

/* 2 s into guest1's job: its render worker killed. */
static void *killer_main(void *arg)
{
	struct killer *k = arg;

	sleep(2);
	k->rc = kill(k->pid, SIGKILL);
	k->err = k->rc < 0 ? errno : 0;
	return NULL;
}

/* The worker-kill case on a vgpu-mediator with render workers, in dir/workers: see the top of the file. */
static void worker_kill(const struct host *h, const struct image *img, const char *top, const char *mediator)
{
	struct plan_mediator med = { .policy = -1, .render_workers = 1 };
	struct vm vm[2];
	struct agent_conn c[2] = { { .rfd = -1, .wfd = -1 }, { .rfd = -1, .wfd = -1 } };
	struct neighbour nb = { .c = &c[1] };
	struct killer k = { 0 };
	struct json_object *hello = NULL;
	pthread_t nb_thread, kt;
	char dir[512], log[600], err[512], why[256];
	int booted = 0, nb_started = 0;
	long long pid, restarts;
	double t0;

	snprintf(dir, sizeof(dir), "%s/workers", top);
	CHECK(mkdir(dir, 0700) == 0, "%s: %s", dir, strerror(errno));
	struct backend_env env = { .dir = dir, .mediator = mediator, .memory_mb = MEMORY_MB, .sched = &med };

	CHECK(!check_failed && gpu_backend_start(&backend, config_find("mediated"), 2, &env, err, sizeof(err)) == 0,
	      "vgpu-mediator with render workers for two guests: %s", err);
	if (!check_failed)
		booted = boot_two(h, img, dir, vm, c);
	if (check_failed)
		goto out;
	snprintf(log, sizeof(log), "%s/guest1.jobs.log", dir);
	snprintf(nb.log, sizeof(nb.log), "%s/guest2.jobs.log", dir);
	CHECK(pthread_create(&nb_thread, NULL, neighbour_main, &nb) == 0, "guest2 starts drawing on its worker");
	nb_started = !check_failed;
	CHECK(hog(&c[0], 3, log, NULL, why, sizeof(why)) == 0, "guest1 draws on its worker: %s", why);
	pid = vgpu_value("guest1", "pid", 3);
	restarts = vgpu_value("guest1", "restarts", 3);
	CHECK(pid > 0 && restarts == 0, "guest1 renders in worker %lld", pid);
	if (check_failed)
		goto out;
	k.pid = (pid_t)pid;
	CHECK(pthread_create(&kt, NULL, killer_main, &k) == 0, "the killer starts");
	/* The job cannot finish once its fences will never retire: the agent gives it up after 12 s (the worker is
	 * killed 2 s into this 6 s job). */
	hog_sized(&c[0], 6, "320x240", "8", 12, log, NULL, why, sizeof(why));
	pthread_join(kt, NULL);
	CHECK(k.rc == 0, "guest1's worker killed with SIGKILL in the middle of its job: %s", strerror(k.err));
	CHECK(vgpu_value("guest1", "broken", 0) == 1 && vgpu_value("guest1", "died", 3) == 1,
	      "guest1's vGPU is broken, its worker counted dead (%lld)", vgpu_value("guest1", "died", 3));
	stop_neighbour(&nb, &nb_thread, &nb_started);
	CHECK(qmp_execute(vm[0].qmp_sock, "set-action", "{\"reboot\":\"reset\"}", 10, err, sizeof(err)) == 0 &&
		      qmp_execute(vm[0].qmp_sock, "system_reset", NULL, 10, err, sizeof(err)) == 0,
	      "QMP system_reset: %s", err);
	agent_close(&c[0]);
	t0 = vb_now();
	CHECK(agent_connect_unix(&c[0], vm[0].agent_sock, t0 + 30, vm[0].pid, vm[0].name) == 0 &&
		      agent_hello(&c[0], t0 + 240, &hello) == 0,
	      "guest1 answers after its reboot");
	json_object_put(hello);
	printf("reset_guest: with render workers, guest1 rebooted in %.1f s after its worker was killed\n", vb_now() - t0);
	CHECK(vgpu_value("guest1", "broken", 0) == 0, "the device reset made guest1's vGPU serve again");
	CHECK(hog(&c[0], 3, log, NULL, why, sizeof(why)) == 0, "guest1 draws again: %s", why);
	CHECK(vgpu_value("guest1", "restarts", 3) == 1 && vgpu_value("guest1", "pid", 3) != pid,
	      "on a fresh worker (%lld, restarts %lld)", vgpu_value("guest1", "pid", 3),
	      vgpu_value("guest1", "restarts", 3));
	CHECK(vgpu_value("guest2", "died", 3) == 0 && vgpu_value("guest2", "restarts", 3) == 0,
	      "guest2 kept its worker");
out:
	shut_down(&nb, &nb_thread, &nb_started, c, vm, booted);
}

/* 1. The driver unbound and bound again: the device is reset, its old state dropped. */
static void reset_rebind(struct agent_conn *c, const char *log, long long fresh)
{
	char why[256];
	long long resets;

	resets = vgpu_value("guest1", "resets", 1);
	CHECK(guest_sh(c,
		       "d=$(basename $(readlink -f /sys/bus/virtio/drivers/virtio_gpu/virtio*)) && "
		       "echo $d > /sys/bus/virtio/drivers/virtio_gpu/unbind && sleep 1 && "
		       "echo $d > /sys/bus/virtio/drivers/virtio_gpu/bind && sleep 1 && test -e /dev/dri/renderD128",
		       log) == 0,
	      "guest1 unbinds and binds virtio_gpu");
	CHECK(vgpu_value("guest1", "resets", 1) > resets, "the mediator saw the device reset (%lld, before %lld)",
	      vgpu_value("guest1", "resets", 1), resets);
	CHECK(hog(c, 3, log, NULL, why, sizeof(why)) == 0, "guest1 draws after the rebind: %s", why);
	CHECK(settle_resources(fresh) == fresh, "after its job guest1 holds what a fresh boot holds (%lld, fresh %lld)",
	      vgpu_value("guest1", "resources", 0), fresh);
}

/* 2. Paused in the middle of a 3D job: the job finishes, nothing is dropped. */
static void reset_pause(const struct vm *vm, struct agent_conn *c, const char *log, long long fresh)
{
	char why[256];
	struct pauser p = { .qmp = vm->qmp_sock };
	pthread_t t;
	long long resumes = vgpu_value("guest1", "resumes", 1), errors = vgpu_value("guest1", "errors", 0);
	long long resets = vgpu_value("guest1", "resets", 1);

	CHECK(pthread_create(&t, NULL, pauser_main, &p) == 0, "the pauser starts");
	CHECK(hog(c, 10, log, NULL, why, sizeof(why)) == 0, "guest1's job survives stop/cont: %s", why);
	pthread_join(t, NULL);
	CHECK(p.rc == 0, "QMP stop, then cont: %s", p.err);
	CHECK(vgpu_value("guest1", "resumes", 1) > resumes && vgpu_value("guest1", "resets", 1) == resets,
	      "counted as a resume, not a reset (resumes %lld, resets %lld)", vgpu_value("guest1", "resumes", 1),
	      vgpu_value("guest1", "resets", 1));
	CHECK(vgpu_value("guest1", "drain_timeouts", 1) == 0, "every fence finished before its ring stopped");
	CHECK(vgpu_value("guest1", "errors", 0) == errors,
	      "no command failed across the pause (errors %lld, before %lld; backings must survive the resume)",
	      vgpu_value("guest1", "errors", 0), errors);
	printf("reset_guest: the pause held the loop %lld ms at most\n", vgpu_value("guest1", "drain_ms_max", 1));
	CHECK(settle_resources(fresh) == fresh, "no resource lost or left behind (%lld, fresh %lld)",
	      vgpu_value("guest1", "resources", 0), fresh);
}

/* 3. system_reset: the guest reboots (QEMU is told to reset, not to quit) into a working vGPU. */
static void reset_reboot(const struct vm *vm, struct agent_conn *c, const char *log, long long fresh)
{
	char err[512], why[256];
	struct json_object *hello = NULL;
	long long resets;

	resets = vgpu_value("guest1", "resets", 1);
	CHECK(qmp_execute(vm->qmp_sock, "set-action", "{\"reboot\":\"reset\"}", 10, err, sizeof(err)) == 0 &&
		      qmp_execute(vm->qmp_sock, "system_reset", NULL, 10, err, sizeof(err)) == 0,
	      "QMP system_reset: %s", err);
	{
		double t0 = vb_now();

		c->len = 0; /* whatever the old agent left half-sent */
		CHECK(agent_hello(c, t0 + 240, &hello) == 0, "guest1 answers again after its reboot");
		printf("reset_guest: guest1 rebooted in %.1f s\n", vb_now() - t0);
		json_object_put(hello);
		hello = NULL;
	}
	CHECK(vgpu_value("guest1", "resets", 1) > resets, "the reboot reset the vGPU");
	CHECK(hog(c, 3, log, NULL, why, sizeof(why)) == 0, "guest1 draws after its reboot: %s", why);
	CHECK(settle_resources(fresh) == fresh, "and holds what a fresh boot holds (%lld, fresh %lld)",
	      vgpu_value("guest1", "resources", 0), fresh);
}

/* 4. One frame far longer than the watchdog's 2 s (gpuhog's heaviest shader at 960x720): llvmpipe finishes the
 * draw inside the renderer call, so the loop itself is held; reported on the control socket and in the log
 * while it lasts, and the job, which is only slow, still finishes. */
static void reset_heavy_frame(struct agent_conn *c, const char *log)
{
	char why[256];
	double max_ms = -1;
	long long trips = vgpu_value("guest1", "trips", 2);

	CHECK(hog_sized(c, 1, "960x720", "4096", 120, log, &max_ms, why, sizeof(why)) == 0,
	      "guest1 draws one heavy frame: %s", why);
	printf("reset_guest: the heavy frame took %.0f ms; the watchdog saw %lld ms\n", max_ms,
	       vgpu_value("guest1", "longest_ms", 2));
	CHECK(vgpu_value("guest1", "trips", 2) > trips, "the watchdog tripped (%lld, before %lld; renderer calls "
	      "that held the loop: %lld)", vgpu_value("guest1", "trips", 2), trips,
	      vgpu_value("guest1", "call_trips", 2));
	CHECK(vgpu_value("guest1", "longest_ms", 2) > 2000, "it saw the frame take over 2 s (%lld ms)",
	      vgpu_value("guest1", "longest_ms", 2));
	CHECK(vgpu_value("guest1", "stuck", 2) == 0, "and is no longer stuck");
}

/* 5. The same frame under quarantine (set over the control socket): guest1's vGPU is stopped, so its next job
 * cannot finish; its reboot resets the device and the vGPU serves again. */
static void reset_quarantine(const struct vm *vm, struct agent_conn *c, const char *log)
{
	char err[512], why[256];
	struct json_object *hello = NULL;
	char *ans = gpu_backend_request(backend.control, "watchdog 2000 quarantine\n");
	long long recoveries = vgpu_value("guest1", "recoveries", 1);

	CHECK(ans && strstr(ans, "\"ok\":true"), "the watchdog is set to quarantine: %s", ans ? ans : "no answer");
	free(ans);
	/* The heavy frame's own job may still end: its fence is answered, its later commands dropped, so it waits for
	 * a fence that never comes and is given up at its time limit. The watchdog trips 2 s into the frame, which
	 * starts a few seconds into the job: 25 s leave room for both. */
	hog_sized(c, 1, "960x720", "4096", 25, log, NULL, why, sizeof(why));
	CHECK(vgpu_value("guest1", "broken", 0) == 1, "guest1's vGPU is quarantined");
	/* A served guest finishes this 2 s job in a few: 10 s tell the two apart. */
	CHECK(hog_sized(c, 2, "320x240", "8", 10, log, NULL, why, sizeof(why)) < 0,
	      "a quarantined guest's next job cannot finish");
	CHECK(qmp_execute(vm->qmp_sock, "system_reset", NULL, 10, err, sizeof(err)) == 0, "QMP system_reset: %s",
	      err);
	/* The job that never ended left the agent connection given up: a new one to the rebooted guest. */
	agent_close(c);
	CHECK(agent_connect_unix(c, vm->agent_sock, vb_now() + 30, vm->pid, vm->name) == 0 &&
		      agent_hello(c, vb_now() + 240, &hello) == 0,
	      "guest1 answers after its reboot");
	json_object_put(hello);
	hello = NULL;
	CHECK(vgpu_value("guest1", "broken", 0) == 0 && vgpu_value("guest1", "recoveries", 1) > recoveries,
	      "the device reset lifted the quarantine (recoveries %lld, before %lld)",
	      vgpu_value("guest1", "recoveries", 1), recoveries);
	CHECK(hog(c, 3, log, NULL, why, sizeof(why)) == 0, "guest1 draws again: %s", why);
}

/* The mediator ran confined through all of it, and refused nothing the guests needed. */
static void check_sandbox(void)
{
	char *doc = gpu_backend_request(backend.control, "stats\n");
	json_object *root = doc ? json_tokener_parse(doc) : NULL, *m, *sb = NULL, *f;

	if (root && json_object_object_get_ex(root, "mediator", &m))
		json_object_object_get_ex(m, "sandbox", &sb);
	CHECK(sb && json_object_object_get_ex(sb, "on", &f) && json_object_get_boolean(f),
	      "the mediator ran sandboxed: %s", sb ? json_object_to_json_string(sb) : "no sandbox object");
	CHECK(sb && json_object_object_get_ex(sb, "refused_syscalls", &f) && json_object_object_length(f) == 0,
	      "and refused no syscall: %s", sb ? json_object_to_json_string(sb) : "");
	printf("reset_guest: sandbox %s\n", sb ? json_object_to_json_string(sb) : "?");
	json_object_put(root);
	free(doc);
}

int main(int argc, char **argv)
{
	struct host h;
	struct image img;
	struct vm vm[2];
	struct agent_conn c[2] = { { .rfd = -1, .wfd = -1 }, { .rfd = -1, .wfd = -1 } };
	struct neighbour nb = { .c = &c[1] };
	pthread_t nb_thread;
	char err[512], dir[] = "/tmp/vgpubench-rst-XXXXXX", log[600], why[256];
	long long fresh;
	int booted = 0, nb_started = 0;

	if (argc < 6) {
		fprintf(stderr, "usage: %s AGENT INIT MEDIATOR GPUHOG KMS2D\n", argv[0]);
		return 2;
	}
	gpuhog = realpath(argv[4], NULL);
	kms2d = realpath(argv[5], NULL);
	CHECK(gpuhog != NULL && kms2d != NULL, "gpuhog at %s, kms2d at %s", argv[4], argv[5]);
	if (check_failed || guest_host_ready(&h, argv[1]) < 0)
		return check_done("reset_guest");
	if (check_failed || !mkdtemp(dir))
		return check_done("reset_guest");
	CHECK(image_build(h.guest_kernel, h.kernel_version, argv[1], argv[2], dir, 1, NULL, 0, &img, err,
			  sizeof(err)) == 0,
	      "image: %s", err);
	static struct plan displays = { .ndisplays = 2, .displays = { { 800, 600 }, { 1024, 768 } } };
	struct backend_env env = { .dir = dir, .mediator = argv[3], .memory_mb = MEMORY_MB, .sched = NULL,
				   .plan = &displays };

	CHECK(!check_failed && gpu_backend_start(&backend, config_find("mediated"), 2, &env, err, sizeof(err)) == 0,
	      "vgpu-mediator for two guests: %s", err);
	if (!check_failed)
		booted = boot_two(&h, &img, dir, vm, c);
	if (check_failed)
		goto out;
	snprintf(log, sizeof(log), "%s/guest1.jobs.log", dir);
	snprintf(nb.log, sizeof(nb.log), "%s/guest2.jobs.log", dir);
	fresh = vgpu_value("guest1", "resources", 0);
	printf("reset_guest: a freshly booted guest1 holds %lld resource(s)\n", fresh);
	CHECK(fresh >= 0, "the mediator counts guest1's resources");
	check_displays(&c[0], log);
	CHECK(pthread_create(&nb_thread, NULL, neighbour_main, &nb) == 0, "guest2 starts drawing");
	nb_started = !check_failed;
	CHECK(hog(&c[0], 3, log, NULL, why, sizeof(why)) == 0, "guest1 draws before any reset: %s", why);

	reset_rebind(&c[0], log, fresh);
	reset_pause(&vm[0], &c[0], log, fresh);
	reset_reboot(&vm[0], &c[0], log, fresh);
	stop_neighbour(&nb, &nb_thread, &nb_started);
	reset_heavy_frame(&c[0], log);
	reset_quarantine(&vm[0], &c[0], log);
	check_sandbox();

out:
	shut_down(&nb, &nb_thread, &nb_started, c, vm, booted);
	if (!check_failed)
		worker_kill(&h, &img, dir, argv[3]);
	if (!check_failed)
		vb_rm_rf(dir);
	else
		fprintf(stderr, "reset_guest: files kept in %s\n", dir);
	free((char *)gpuhog);
	free((char *)kms2d);
	return check_done("reset_guest");
}
