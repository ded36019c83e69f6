/* jobs.c: a workload's repetitions on a set of seats (guests, dom0 or the host): the jobs started at once,
 * collected, judged and stored with their artifacts. */
#define _GNU_SOURCE
#include "run/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "configs/gpu_backend.h"
#include "configs/vgpu_stats.h"
#include "host/host_noise.h"
#include "run/run_state.h"
#include "store/store.h"
#include "util.h"

/* Keep a workload's own result file (e.g. piglit's results.json) in the run folder, in its own layout. */
static void save_artifact(struct run *r, const struct config_def *c, int topo, int guest, const struct workload_def *w,
			  int rep, const struct wl_result *wr)
{
	char *dir, *path;

	if (!wr->artifact)
		return;
	dir = vb_strdupf("%s/%s/%s-n%d-g%d-r%d", r->dir, w->name, c->name, topo, guest, rep);
	path = vb_strdupf("%s/%s", dir, wr->artifact_name);
	if ((vb_mkdirs(dir, 0755) < 0 || vb_write_file(path, wr->artifact, wr->artifact_len) < 0) && !r->fatal[0])
		snprintf(r->fatal, sizeof(r->fatal), "could not keep %s: %s", path, strerror(errno));
	free(dir);
	free(path);
}

char *run_log_path(struct run *r, const char *config, int topo, int guest, const char *w, int rep)
{
	return vb_strdupf("%s/logs/%s-n%d-g%d-%s-r%d.log", r->dir, config, topo, guest, w, rep);
}

/* The seats of config c with `topo` guests: the host alone, or the guests plus dom0 when it joins. */
void run_seats_for(struct run *r, const struct config_def *c, int topo, struct seats *s)
{
	memset(s, 0, sizeof(*s));
	s->kms_driver = c->guest_kms_driver;
	if (c->kind == CONFIG_HOST) {
		s->index[s->n++] = 0;
		return;
	}
	for (int i = 1; i <= topo; i++)
		s->index[s->n++] = i;
	if (r->plan.dom0_load && topo >= 2)
		s->index[s->n++] = 0;
}

/* w's command line in `where`; a program this project builds runs from the build folder (guests see the host's
 * root, so the same path). out has room for 32 entries; *bin (malloc'd, or NULL) is the caller's to free. */
const char *const *run_resolved_argv(const struct workload_def *w, enum workload_where where, const char **out,
				     char **bin)
{
	const char *const *a = w->argv(where);
	int k = 0;

	*bin = NULL;
	if (!w->bundled || a[0][0] == '/') /* an absolute path is the system's, not ours */
		return a;
	*bin = vb_strdupf("%s/../%s", vb_exe_dir(), a[0]);
	out[k++] = *bin;
	for (a++; *a && k < 31; a++)
		out[k++] = *a;
	out[k] = NULL;
	return out;
}

/* The last repetition a row may run: the plan's count, or with repetitions = auto its maximum. */
static int last_rep(const struct run *r)
{
	return r->plan.adaptive.on ? r->plan.adaptive.max : r->plan.repetitions;
}

/* Run the seats' jobs once, at the same time: their results, each guest's vGPU's counters over it (from the
 * mediator, when one serves them) and what else the host did meanwhile (noise: steal and load; redos kept). */
static void run_seats(struct run *r, const struct config_def *c, const struct seats *s, int rep,
		      const char *const *const *argvs, struct json_object **envs, const char *const *logs,
		      struct job_result *res, struct vgpu_stats *vs, char (*vnames)[16], struct job_noise *noise)
{
	struct host_sample h0, h1;
	char *before = NULL, *after = NULL;

	host_sample_read(&h0);
	/* The mediator's scheduling counters around the repetition: each guest's vGPU's share of it. */
	if (s->control)
		before = gpu_backend_request(s->control, "stats\n");
	agent_run_parallel(s->conn, s->n, argvs, envs, r->plan.job_timeout_s, logs, res);
	if (s->control)
		after = gpu_backend_request(s->control, "stats\n");
	host_sample_read(&h1);
	noise->steal_pct = host_steal_pct(&h0, &h1);
	noise->load_before = h0.ok ? h0.load1 : NAN;
	noise->load_after = h1.ok ? h1.load1 : NAN;
	for (int i = 0; i < s->n; i++) {
		struct vgpu_stats b, a;

		memset(&vs[i], 0, sizeof(vs[i]));
		/* dom0's vGPU, when the back-end serves it, is its vtest endpoint (config_mediated.c names it). */
		snprintf(vnames[i], sizeof(vnames[i]), s->index[i] ? "guest%d" : "dom0", s->index[i]);
		if ((s->index[i] || s->vtest) && before && after && vgpu_stats_parse(before, vnames[i], &b) == 0 &&
		    vgpu_stats_parse(after, vnames[i], &a) == 0)
			vgpu_stats_delta(&b, &a, &vs[i]);
	}
	if (s->control && (!before || !after))
		vb_err("%s: the mediator's counters could not be read around repetition %d", c->name, rep);
	free(before);
	free(after);
}

/* Run repetition `rep` of workload w on every seat at once and store it in one transaction; rep 0 is the plan's
 * warm-up, run the same way and discarded. A repetition whose CPU steal passed the plan's bound is run again (up
 * to its limit), and the jobs kept say so. */
static void run_rep(struct run *r, const struct config_def *c, int topo, const struct workload_def *w, int rep,
		    const struct seats *s)
{
	struct job_result res[MAX_GUESTS + 1];
	struct wl_result *wr = calloc((size_t)s->n, sizeof(*wr));
	struct job_row rows[MAX_GUESTS + 1];
	char *logs[MAX_GUESTS + 1];
	char reasons[MAX_GUESTS + 1][512];
	const char *const *argvs[MAX_GUESTS + 1];
	struct json_object *envs[MAX_GUESTS + 1];
	struct vgpu_stats vs[MAX_GUESTS + 1];
	char vnames[MAX_GUESTS + 1][16];
	char redo_reason[160] = "";
	struct job_noise noise = { .boot = r->boot };
	int n = s->n;

	if (!wr)
		abort();
	const char *bundled[MAX_GUESTS + 1][32];
	char *bins[MAX_GUESTS + 1];

	for (int i = 0; i < n; i++) {
		int host = s->index[i] == 0;

		logs[i] = run_log_path(r, c->name, topo, s->index[i], w->name, rep);
		argvs[i] = run_resolved_argv(w, host ? WL_HOST : WL_GUEST, bundled[i], &bins[i]);
		envs[i] = host ? r->host_env : r->guest_env;
	}
	if (rep > 0 && r->plan.adaptive.on && rep > r->plan.adaptive.min)
		progress_add_step(r, w->name, topo); /* a row under repetitions = auto counted its least */
	for (;;) {
		double steal;

		if (rep == 0)
			vb_log("%s%s: %s warm-up repetition on %s (discarded)", progress_tag(r), c->name, w->name,
			       c->kind == CONFIG_HOST ? "the host" : "every seat");
		else if (c->kind == CONFIG_HOST)
			vb_log("%s%s: %s repetition %d/%d on the host%s", progress_tag(r), c->name, w->name, rep,
			       last_rep(r), progress_left(r));
		else
			vb_log("%s%s: %s repetition %d/%d on %d guest%s%s%s", progress_tag(r), c->name, w->name, rep,
			       last_rep(r), topo, topo == 1 ? "" : "s at once", n > topo ? " and dom0" : "",
			       progress_left(r));
		run_seats(r, c, s, rep, argvs, envs, (const char *const *)logs, res, vs, vnames, &noise);
		steal = noise.steal_pct;
		if (vb_stop_requested || rep == 0 || !(r->plan.noise.max_steal_pct > 0) ||
		    !(steal > r->plan.noise.max_steal_pct) || noise.redos >= r->plan.noise.max_redos)
			break;
		/* The host's CPUs went to other tenants for part of it: the figures say more of them than of us. */
		snprintf(redo_reason, sizeof(redo_reason), "CPU steal %.1f%% over the repetition (bound %.1f%%)", steal,
			 r->plan.noise.max_steal_pct);
		vb_log("  redone: %s", redo_reason);
		for (int i = 0; i < n; i++)
			job_result_free(&res[i]);
		noise.redos++;
		noise.redo_reason = redo_reason;
	}
	if (vb_stop_requested || rep == 0) {
		/* Cut short, or the warm-up: store nothing (--resume runs a cut repetition again). */
		for (int i = 0; i < n; i++) {
			free(logs[i]);
			free(bins[i]);
			job_result_free(&res[i]);
		}
		free(wr);
		return;
	}
	for (int i = 0; i < n; i++) {
		int host = s->index[i] == 0;
		enum seat_path where = !host ? SEAT_GUEST : s->vtest ? SEAT_VTEST : SEAT_HOST;
		const char *st =
		    run_judge(r, c, where, s->kms_driver, w, &res[i], &wr[i], reasons[i], sizeof(reasons[i]));

		rows[i] = (struct job_row){
			.config = c->name,
			.topology = topo,
			.guest_index = s->index[i],
			.workload = w->name,
			.repetition = rep,
			.status = st,
			.reason = reasons[i][0] ? reasons[i] : NULL,
			.accel = host ? "none" : r->host.accel,
			.renderer = wr[i].renderer[0] ? wr[i].renderer : NULL,
			.wall_s = res[i].wall_s,
			.user_s = res[i].user_s,
			.sys_s = res[i].sys_s,
			.maxrss_kb = res[i].maxrss_kb,
			.exit_code = res[i].code,
			.log_path = run_results_rel(r, logs[i]),
			.metrics = &wr[i],
			.vgpu_name = vs[i].present ? vnames[i] : NULL,
			.vgpu = vs[i].present ? &vs[i] : NULL,
			.noise = &noise,
		};
		if (!strcmp(st, "skipped")) {
			vb_log("  %s: skipped: %s", s->conn[i]->label, reasons[i]);
		} else if (strcmp(st, "ok") != 0) {
			r->failed_jobs++;
			vb_log("  %s: %s: %s (log: %s)", s->conn[i]->label, st, reasons[i], logs[i]);
		} else {
			for (int k = 0; k < wr[i].n; k++)
				if (strcmp(wr[i].m[k].name, w->headline_metric) == 0)
					vb_log("  %s: %s %.1f (%s)", s->conn[i]->label, w->headline_metric,
					       wr[i].m[k].value, wr[i].renderer);
		}
	}
	char *what = vb_strdupf("%s repetition %d of %s", w->name, rep, c->name);

	if (run_stored(r, store_jobs(&r->store, r->id, rows, n), what))
		r->jobs_stored += n;
	free(what);
	progress_step_done(r, w->name, topo);
	for (int i = 0; i < n; i++) {
		save_artifact(r, c, topo, s->index[i], w, rep, &wr[i]);
		wl_result_free(&wr[i]);
		free(logs[i]);
		free(bins[i]);
		job_result_free(&res[i]);
	}
	free(wr);
}

/* A workload's host-side preparation (e.g. making media clips), once per run. */
static void prepare_workload(struct run *r, const struct workload_def *w)
{
	char *argv[16];
	int n = 0, st;
	char *out;

	if (!w->prepare)
		return;
	for (int i = 0; i < r->plan.nworkloads; i++)
		if (r->prepared[i] == w)
			return;
	for (int i = 0; i < r->plan.nworkloads; i++)
		if (!r->prepared[i]) {
			r->prepared[i] = w;
			break;
		}
	argv[n++] = vb_strdupf("%s/../%s", vb_exe_dir(), w->prepare[0]);
	for (const char *const *a = w->prepare + 1; *a && n < 15; a++)
		argv[n++] = (char *)*a;
	argv[n] = NULL;
	vb_log("%s: preparing (%s)", w->name, w->prepare[0]);
	out = vb_capture(argv, &st);
	for (char *save = NULL, *l = out ? strtok_r(out, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
		vb_log("  %s", l);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		vb_err("%s: preparation failed (status %d); its jobs will say what is missing", w->name, st);
	free(out);
	free(argv[0]);
}

/* Repetitions [first, last] of every workload on the seats (a warm-up first, when planned and one is still to run);
 * open: the topology's last boot, where repetitions = auto goes on past `last` until the row stops. */
void run_workloads(struct run *r, const struct config_def *c, int topo, const struct seats *s, int first, int last,
		   int open)
{
	for (int wi = 0; wi < r->plan.nworkloads && !run_stopping(r); wi++) {
		const struct workload_def *w = workload_find(r->plan.workloads[wi]);

		int missing = 0; /* a planned repetition of the row is not stored yet */

		if (!run_all_done(r, c, topo, s))
			prepare_workload(r, w);
		if (r->plan.adaptive.on && run_row_stopped(r, c, topo, w->name))
			continue; /* decided before a --resume */
		for (int rep = first; rep <= last; rep++)
			missing |= !run_rep_done(r, c, topo, s, w, rep);
		if (missing && r->plan.noise.warmup && !run_stopping(r))
			run_rep(r, c, topo, w, 0, s);
		for (int rep = first; rep <= (open ? last_rep(r) : last) && !run_stopping(r); rep++) {
			if (!run_rep_done(r, c, topo, s, w, rep))
				run_rep(r, c, topo, w, rep, s);
			if (open && !run_stopping(r) && run_row_stop(r, c, topo, s, w, rep))
				break;
		}
	}
}
