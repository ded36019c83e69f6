/* guests.c: a configuration's guests: the image, their boot (with the back-end the configuration starts),
 * pinning, the nested lab, each topology's boots and their jobs, and their stop. */
#define _GNU_SOURCE
#include "run/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_proto.h"
#include "configs/gpu_backend.h"
#include "host/cpu_pin.h"
#include "run/nested_lab.h"
#include "run/run_state.h"
#include "store/store.h"
#include "util.h"
#include "vm/boot_wait.h"
#include "vm/edid.h"

/* Keep the mediator's per-vGPU counters next to the run's guests, and say what rendered for them. */
void run_record_backend(struct run *r, const struct config_def *c, int n, const struct gpu_backend *gb, const char *dir)
{
	char *path;
	struct json_object *root, *m, *v;

	if (!c->snapshot || !c->counters_file)
		return;
	path = vb_strdupf("%s/%s", dir, c->counters_file);
	if (gpu_backend_counters(gb, path) < 0) {
		vb_err("%s with %d guests: its counters could not be read", c->name, n);
		free(path);
		return;
	}
	{
		/* Read as every file the harness reads by name: a regular file, of a bounded size. */
		char *text = vb_read_file_max(path, GPU_BACKEND_MAX_ANSWER, NULL);

		root = text ? json_tokener_parse(text) : NULL;
		free(text);
	}
	if (root && json_object_object_get_ex(root, "mediator", &m)) {
		const char *gl = json_object_object_get_ex(m, "gl_renderer", &v) ? json_object_get_string(v) : "?";
		const char *pf = json_object_object_get_ex(m, "platform", &v) ? json_object_get_string(v) : "?";
		char *fact = vb_strdupf("vgpu-mediator: %s on %s", gl && *gl ? gl : "2D only", pf && *pf ? pf : "?");

		run_stored(r, store_host_fact(&r->store, r->id, "mediator", fact), "a host fact");
		free(fact);
	}
	json_object_put(root);
	vb_log("  %s counters: %s", c->name, path);
	free(path);
}

int run_ensure_image(struct run *r)
{
	char err[512];
	char *cache;
	struct image_mode modes[PLAN_MAX_DISPLAYS];

	if (r->have_img)
		return 0;
	for (int i = 0; i < r->plan.ndisplays; i++)
		modes[i] = (struct image_mode){ r->plan.displays[i].width, r->plan.displays[i].height };
	cache = vb_strdupf("%s", r->cache);
	if (image_build(r->host.guest_kernel, r->host.kernel_version, r->agent, r->init, cache, !r->plan.kernel_bzimage,
			modes, r->plan.ndisplays, &r->img, err, sizeof(err)) < 0) {
		vb_err("guest image: %s", err);
		free(cache);
		return -1;
	}
	free(cache);
	vb_log("guest image: %s + %s (%s)", r->img.kernel, r->img.initrd, r->img.cached ? "cached" : "built");
	vb_log("guest kernel: %s", r->img.kernel_how);
	run_stored(r, store_host_fact(&r->store, r->id, "guest_initramfs", r->img.initrd), "a host fact");
	run_stored(r, store_host_fact(&r->store, r->id, "guest_kernel_boot", r->img.kernel_how), "a host fact");
	r->have_img = 1;
	return 0;
}

static void json_drm_summary(struct json_object *hello, char *out, size_t len)
{
	struct json_object *drm;

	out[0] = '\0';
	if (!json_object_object_get_ex(hello, "drm", &drm))
		return;
	snprintf(out, len, "%s", json_object_to_json_string_ext(drm, JSON_C_TO_STRING_PLAIN));
}

/* The folder a back-end's unix sockets go in: dir, or a short link to it (made into link) when the deepest socket
 * name would not fit a unix socket's path (a long results path, an arm's plan name). The caller unlinks link. */
const char *run_socket_dir(const char *dir, char *link, size_t len)
{
	link[0] = '\0';
	if (gpu_backend_sockets_fit(dir))
		return dir;
	if (vb_short_link(dir, link, len) == 0)
		return link;
	vb_err("cannot make a short link to %s for its unix sockets: %s", dir, strerror(errno));
	link[0] = '\0';
	return dir;
}

/* The guest kernel's drm.edid_firmware for config c's guests (vm.h vm_opts.edid_firmware), in buf: NULL without
 * [guest] displays (the 640x480 EDID); "" where the device's own EDIDs offer each output's mode alone; else the
 * harness's, one a connector (virtio-gpu's Virtual-N) and output 1's for any other connector. */
static const char *guest_edids(const struct run *r, const struct config_def *c, char *buf, size_t len)
{
	char name[96];
	size_t at = 0;

	if (!r->plan.ndisplays)
		return NULL;
	if (c->device_edids)
		return "";
	buf[0] = '\0';
	for (int i = 0; i < r->plan.ndisplays && at < len; i++) {
		edid_firmware_name(name, sizeof(name), r->plan.displays[i].width, r->plan.displays[i].height);
		at += (size_t)snprintf(buf + at, len - at, "Virtual-%d:%s,", i + 1, name);
	}
	edid_firmware_name(name, sizeof(name), r->plan.displays[0].width, r->plan.displays[0].height);
	if (at < len)
		snprintf(buf + at, len - at, "%s", name);
	return buf;
}

/*
 * Boot n guests of config c whose GPU back-end gb is running (files under dir) and wait for their agents; each
 * boot is stored as a guest row under `label`. 0, or -1 with the reason (what is up stays in gs for
 * guests_stop).
 */
int run_guests_boot(struct run *r, const struct config_def *c, const char *label, int n, const char *dir,
		    const char *sockdir, const struct gpu_backend *gb, struct guest_set *gs, char *reason, size_t rlen)
{
	struct vm_opts o = {
		.sockdir = sockdir,
		.qemu = r->host.qemu,
		.accel = r->host.accel,
		.kernel = r->img.kernel,
		.initrd = r->img.initrd,
		.cpu = r->plan.cpu,
		.memory_mb = gb->memory_mb ? gb->memory_mb : r->plan.memory_mb,
		.vcpus = gb->vcpus ? gb->vcpus : r->plan.vcpus,
		.display = c->needs_display ? r->x.display : NULL,
		.machine = gb->machine[0] ? gb->machine : NULL,
		.kernel_args = gb->kernel_args[0] ? gb->kernel_args : NULL,
	};
	char edids[PLAN_MAX_DISPLAYS * 48 + 48];
	int ok = 1;

	o.edid_firmware = guest_edids(r, c, edids, sizeof(edids));
	memset(gs, 0, sizeof(*gs));
	for (int i = 0; i < n; i++) {
		o.gpu_args = gpu_backend_args(gb, i);
		if (vm_start(&gs->vms[i], i + 1, dir, &o) < 0) {
			snprintf(reason, rlen, "guest%d: QEMU did not start", i + 1);
			ok = 0;
			break;
		}
		gs->nvm++;
	}
	double deadline = vb_now() + r->plan.boot_timeout_s;

	for (int i = 0; ok && i < gs->nvm; i++) {
		struct vm *vm = &gs->vms[i];
		struct json_object *hello = NULL;
		char drm[512];
		struct guest_row g = { .config = label, .topology = n, .guest_index = i + 1, .accel = r->host.accel,
				       .serial_log = run_results_rel(r, vm->serial_log), .boot_s = -1 };

		if (agent_connect_unix(&gs->conns[i], vm->agent_sock, deadline, vm->pid, vm->name) < 0) {
			snprintf(reason, rlen, "%s: no agent socket (QEMU exited? see %s)", vm->name, vm->qemu_log);
			ok = 0;
		} else {
			gs->nconn++;
			if (boot_wait_hello(&gs->conns[i], vm, deadline, BOOT_SILENT_S, &hello, NULL) < 0) {
				snprintf(reason, rlen, "%s: no hello from the agent within %.0f s%s (see %s)", vm->name,
					 r->plan.boot_timeout_s, vm_alive(vm) ? "" : ", QEMU exited", vm->serial_log);
				ok = 0;
			}
		}
		if (vb_stop_requested)
			return -1;
		g.status = ok ? "up" : "failed";
		g.reason = ok ? NULL : reason;
		if (ok) {
			g.boot_s = vb_now() - vm->started;
			g.kernel = agent_json_str(hello, "kernel");
			g.agent_version = agent_json_str(hello, "version");
			json_drm_summary(hello, drm, sizeof(drm));
			g.drm = drm;
			vb_log("  %s up in %.1f s: kernel %s, drm %s", vm->name, g.boot_s, g.kernel ? g.kernel : "?", drm);
		}
		run_stored(r, store_guest(&r->store, r->id, &g), "a guest's boot");
		json_object_put(hello);
	}
	if (!ok && !vb_stop_requested) {
		vb_err("%s with %d guests: %s", label, n, reason);
		for (int i = 0; i < gs->nvm; i++)
			if (!vm_alive(&gs->vms[i]) || strstr(reason, gs->vms[i].name))
				fprintf(stderr, "--- %s serial log (tail) ---\n%s\n", gs->vms[i].name,
					vm_serial_tail(&gs->vms[i]));
	}
	return ok ? 0 : -1;
}

/* Ask each agent to power its guest off, then make sure QEMU is gone. */
void run_guests_stop(struct guest_set *gs)
{
	for (int i = 0; i < gs->nconn; i++) {
		struct json_object *req = json_object_new_object();

		json_object_object_add(req, "op", json_object_new_string(agent_op_names[AGENT_OP_SHUTDOWN]));
		agent_send(&gs->conns[i], req);
	}
	double until = vb_now() + vb_scaled(10);

	for (int i = 0; i < gs->nvm; i++) {
		while (vm_alive(&gs->vms[i]) && vb_now() < until)
			usleep(50000);
		vm_stop(&gs->vms[i]);
	}
	for (int i = 0; i < gs->nconn; i++)
		agent_close(&gs->conns[i]);
	gs->nvm = gs->nconn = 0;
}

#define LAB_TIMEOUT_S 2400.0 /* the nested lab's whole inner run: its guest boots in minutes under nested TCG */

/* The topology's guest is a nested lab host (gpu_backend.h): the configuration runs inside it, and the inner run's
 * jobs come back into this run, with what the lab showed. */
static void run_lab(struct run *r, const struct config_def *c, int n, struct guest_set *gs,
		    const struct gpu_backend *gb, const char *dir)
{
	struct nested_lab lab = { .dir = dir,
				  .results = r->results,
				  .plan = gb->lab_plan,
				  .qmp = gs->vms[0].qmp_sock,
				  .timeout_s = LAB_TIMEOUT_S };
	char *bin = vb_strdupf("%s/vgpubench", vb_exe_dir());
	char *accel = vb_strdupf("tcg in a lab host under %s", r->host.accel);
	char err[512], evidence[1024], verdict[512];
	int stored[PLAN_MAX_LIST];

	for (int wi = 0; wi < r->plan.nworkloads; wi++)
		stored[wi] = progress_stored_steps(r, c, n, r->plan.workloads[wi]);

	lab.vgpubench = bin;
	if (nested_lab_run(&lab, &gs->conns[0], &r->store, r->id, c->name, n, accel, err, sizeof(err)) < 0) {
		char *why = vb_strdupf("nested lab: %s", err);

		vb_err("%s with %d guest: %s", c->name, n, why);
		if (!vb_stop_requested)
			run_fail_all(r, c, n, why);
		free(why);
	} else {
		r->failed_jobs += nested_lab_verdict(&lab, verdict, sizeof(verdict)) ? lab.jobs : lab.jobs - lab.jobs_ok;
		for (int wi = 0; wi < r->plan.nworkloads; wi++) /* the inner run's steps, come back at once */
			for (int k = progress_stored_steps(r, c, n, r->plan.workloads[wi]) - stored[wi]; k > 0; k--)
				progress_step_done(r, r->plan.workloads[wi], n);
	}
	nested_lab_evidence(&lab, evidence, sizeof(evidence));
	run_stored(r, store_lab_set(&r->store, r->id, c->name, evidence), "the nested lab's evidence");
	vb_log("  nested lab: %s", evidence);
	if (nested_lab_verdict(&lab, verdict, sizeof(verdict)))
		vb_err("  %s", verdict);
	free(bin);
	free(accel);
}

/* [noise] pin_cpus: the topology's guests, back-end and dom0 (NULL: not beside them) on CPUs of their own where
 * the host has enough (cpu_pin.h); what was done, or why not, is kept as a host fact. */
static void pin_topology(struct run *r, const struct config_def *c, int n, const struct guest_set *gs,
			 const struct gpu_backend *gb, const struct agent_conn *dom0)
{
	struct cpu_pin_plan p;
	cpu_set_t avail;
	char err[256] = "", *key, *fact;
	int ok;

	if (!r->plan.noise.pin_cpus)
		return;
	if (sched_getaffinity(0, sizeof(avail), &avail) < 0) {
		snprintf(err, sizeof(err), "cannot read the harness's CPUs: %s", strerror(errno));
		p.on = 0;
	} else {
		cpu_pin_plan(&p, &avail, n, r->plan.vcpus, dom0 != NULL);
	}
	ok = p.on;
	for (int i = 0; ok && i < gs->nvm; i++)
		ok = cpu_pin_process(gs->vms[i].pid, &p.guest[i], err, sizeof(err)) == 0;
	for (int i = 0; ok && i < gb->npid; i++)
		ok = gb->pid[i] <= 0 || cpu_pin_process(gb->pid[i], &p.backend, err, sizeof(err)) == 0;
	if (ok && dom0)
		ok = cpu_pin_process(dom0->local_pid, &p.dom0, err, sizeof(err)) == 0;
	fact = ok ? vb_strdup(p.desc) : vb_strdupf("%s%s", p.on ? "failed, left as it was: " : "", err[0] ? err : p.desc);
	key = vb_strdupf("cpu pinning (%s, %d guest%s)", c->name, n, n > 1 ? "s" : "");
	if (ok)
		vb_log("%s: pinned: %s", c->name, p.desc);
	run_stored(r, store_host_fact(&r->store, r->id, key, fact), "a host fact");
	free(key);
	free(fact);
}

/*
 * One boot of a guest topology: the back-end and n guests started fresh, repetitions [first, last] of every
 * workload run on them (open: to the end of the rows, see run_workloads), everything stopped again. dir holds the
 * boot's sockets and logs. 1 when the topology was a nested lab (its inner run is the whole topology: no more
 * boots), else 0.
 */
static int run_guest_boot(struct run *r, const struct config_def *c, int n, struct seats *seats, const char *dir,
			  int first, int last, int open)
{
	struct guest_set gs;
	struct agent_conn dom0;
	int have_dom0 = 0, lab = 0;
	char reason[512] = "";
	struct gpu_backend gb;
	char err[512], link[64] = "";
	struct backend_env env = { .host = &r->host,
				   .plan = &r->plan,
				   .dir = dir,
				   .sockdir = dir,
				   .mediator = r->mediator,
				   .memory_mb = r->plan.memory_mb,
				   .sched = &r->plan.med };

	env.sockdir = run_socket_dir(dir, link, sizeof(link));
	if (gpu_backend_start(&gb, c, n, &env, err, sizeof(err)) < 0) {
		vb_err("%s with %d guests: %s", c->name, n, err);
		char *why = vb_strdupf("GPU back-end did not start: %s", err);

		run_fail_all(r, c, n, why);
		free(why);
		if (link[0])
			unlink(link);
		return 0;
	}
	{
		char *key = vb_strdupf("back-end (%s, %d guest%s)", c->name, n, n > 1 ? "s" : "");

		run_stored(r, store_host_fact(&r->store, r->id, key, gb.description), "a host fact");
		free(key);
	}
	seats->control = gb.control[0] ? gb.control : NULL;
	if (gb.kms_driver[0])
		seats->kms_driver = gb.kms_driver;
	/* A mediator without its renderer offers no vtest socket, and dom0's private mount namespace needs root:
	 * without either, dom0 renders on the host, and the run says so. */
	seats->vtest = seats->n > n && gb.vtest[0] && run_is_socket(gb.vtest) && geteuid() == 0 ? gb.vtest : NULL;
	vb_log("%s: booting %d guest%s at once (%s; %s)", c->name, n, n > 1 ? "s" : "", r->host.accel,
	       gb.description);
	if (run_guests_boot(r, c, c->name, n, dir, env.sockdir, &gb, &gs, reason, sizeof(reason)) < 0) {
		if (!vb_stop_requested) {
			char *why = vb_strdupf("guests did not boot: %s", reason);

			run_fail_all(r, c, n, why);
			free(why);
		}
	} else if (gb.lab_plan[0]) {
		run_lab(r, c, n, &gs, &gb, dir);
		lab = 1;
	} else if (seats->n > n && run_start_host_agent(r, &dom0, "dom0", seats->vtest) < 0) {
		if (!vb_stop_requested)
			run_fail_all(r, c, n, "the dom0 agent did not start");
	} else {
		for (int i = 0; i < n; i++)
			seats->conn[i] = &gs.conns[i];
		have_dom0 = seats->n > n;
		if (have_dom0)
			seats->conn[n] = &dom0;
		if (have_dom0) {
			char *key = vb_strdupf("dom0 path (%s)", c->name);
			const char *fact = seats->vtest ? "GL clients through the back-end's vtest socket (Mesa virpipe, "
							  "in a private mount namespace): one more vGPU"
				       : !gb.vtest[0]	? "GL clients on the host itself, beside the back-end"
				       : geteuid()	? "GL clients on the host itself: reaching the back-end's vtest "
							  "socket takes a private mount namespace, which needs root"
							: "GL clients on the host itself: the back-end offered no vtest "
							  "socket (see its log)";

			run_stored(r, store_host_fact(&r->store, r->id, key, fact), "a host fact");
			free(key);
		}
		pin_topology(r, c, n, &gs, &gb, have_dom0 ? &dom0 : NULL);
		run_workloads(r, c, n, seats, first, last, open);
	}
	if (have_dom0)
		agent_close(&dom0);
	run_record_backend(r, c, n, &gb, dir);
	run_guests_stop(&gs);
	gpu_backend_stop(&gb);
	if (link[0])
		unlink(link);
	return lab;
}

/* A guest topology: its repetitions over the plan's boots ([noise] boots), each boot in a folder of its own when
 * there are several (vms/CONFIG-nN-bootB); in an interleaved run, each arm boots in turn, boot by boot. */
void run_guest_topology(struct run *r, const struct config_def *c, int n)
{
	struct seats seats;
	int boots = run_config_blocks(r, c, n), lab = 0;

	if (c->max_guests && n > c->max_guests) {
		char *why = vb_strdupf("%s serves at most %d guest%s at once", c->name, c->max_guests,
				       c->max_guests > 1 ? "s" : "");

		vb_log("%s with %d guests: skipped: %s", c->name, n, why);
		for (int k = 0; k < r->narms; k++)
			if (run_arm_runs(r, k, c)) {
				run_arm_enter(r, k);
				run_mark_all(r, c, n, "skipped", why);
			}
		run_arm_enter(r, 0);
		free(why);
		return;
	}
	if (boots < r->plan.noise.boots)
		vb_log("%s with %d guest%s: one boot for its %d repetitions: no other arm of this run runs it, so it has "
		       "no one to take turns with",
		       c->name, n, n > 1 ? "s" : "", r->plan.repetitions);
	for (int b = 1; b <= boots && !run_stopping(r) && !lab; b++) {
		for (int j = 0; j < r->narms && !run_stopping(r) && !lab; j++) {
			int k = run_arm_at(r, b, j), first = 1, last = r->plan.repetitions, open = b == boots;
			char *dir, arm[STORE_RUN_ID_MAX + 48] = "";

			if (!run_arm_runs(r, k, c))
				continue;
			run_arm_enter(r, k);
			run_seats_for(r, c, n, &seats);
			if (boots > 1)
				plan_boot_reps(&r->plan, b, &first, &last);
			if (run_reps_done(r, c, n, &seats, first, last, open))
				continue;
			dir = boots > 1 ? vb_strdupf("%s/vms/%s-n%d-boot%d", r->dir, c->name, n, b)
					: vb_strdupf("%s/vms/%s-n%d", r->dir, c->name, n);
			if (vb_mkdirs(dir, 0755) < 0) {
				vb_err("cannot create %s: %s", dir, strerror(errno));
				free(dir);
				goto out;
			}
			if (r->narms > 1)
				snprintf(arm, sizeof(arm), ", arm %d of %d: run %s", k + 1, r->narms, r->id);
			if (boots > 1 || r->narms > 1) {
				char range[64];

				if (last > first)
					snprintf(range, sizeof(range), "repetitions %d to %d", first, last);
				else
					snprintf(range, sizeof(range), "repetition %d", first);
				vb_log("%s with %d guest%s: boot %d of %d (%s%s%s)", c->name, n, n > 1 ? "s" : "", b,
				       boots, range, open && r->plan.adaptive.on ? ", and on while its rows repeat" : "",
				       arm);
			}
			r->boot = b;
			lab = run_guest_boot(r, c, n, &seats, dir, first, last, open);
			r->boot = 0;
			free(dir);
		}
	}
out:
	run_arm_enter(r, 0);
}
