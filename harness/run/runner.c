/* runner.c: a run from start to end (runner.h): the plan checked, the run created or resumed, the host's
 * configurations, the guests' topologies and the scenarios run, every arm in turn, and the report at the end. */
#define _GNU_SOURCE
#include "run/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/summary.h"
#include "report/report.h"
#include "run/run_state.h"
#include "store/store.h"
#include "util.h"

static void on_signal(int sig)
{
	(void)sig;
	vb_stop_requested = 1;
}

/* Should the run unwind: a stop was requested, or a result could not be stored. */
int run_stopping(const struct run *r)
{
	return vb_stop_requested || r->fatal[0];
}

/*
 * Check a store call: a result that cannot be stored stops the run (the
 * first reason is kept for the run's record). 1 when rc says it was stored.
 */
int run_stored(struct run *r, int rc, const char *what)
{
	if (rc >= 0)
		return 1;
	if (!r->fatal[0])
		snprintf(r->fatal, sizeof(r->fatal), "could not store %s: %s", what,
			 r->store.err[0] ? r->store.err : "database error");
	return 0;
}

/* A path inside the results folder as stored: relative to that folder, so the folder can move. */
const char *run_results_rel(const struct run *r, const char *path)
{
	size_t n = strlen(r->results);

	if (path && strncmp(path, r->results, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

int run_is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Record every missing job of this config/topology as `status` (failed or skipped) for `reason`. */
void run_mark_all(struct run *r, const struct config_def *c, int topo, const char *status, const char *reason)
{
	struct seats s;

	run_seats_for(r, c, topo, &s);
	for (int wi = 0; wi < r->plan.nworkloads; wi++)
		for (int rep = 1; rep <= r->plan.repetitions; rep++) {
			int marked = 0;

			for (int i = 0; i < s.n; i++) {
				const char *wn = r->plan.workloads[wi];
				struct job_row row = { .config = c->name, .topology = topo, .guest_index = s.index[i],
						       .workload = wn, .repetition = rep, .status = status,
						       .reason = reason, .accel = s.index[i] ? r->host.accel : "none",
						       .wall_s = -1, .user_s = -1, .sys_s = -1, .maxrss_kb = -1,
						       .exit_code = -1 };

				if (store_job_done(&r->store, r->id, c->name, topo, s.index[i], wn, rep))
					continue;
				if (!run_stored(r, store_jobs(&r->store, r->id, &row, 1), "a job that could not run"))
					return;
				r->jobs_stored++;
				r->failed_jobs += strcmp(status, "failed") == 0;
				marked = 1;
			}
			/* A failed step is over; a skipped one (a guest count not served) was never counted. */
			if (marked && strcmp(status, "failed") == 0)
				progress_step_done(r, r->plan.workloads[wi], topo);
		}
}

void run_fail_all(struct run *r, const struct config_def *c, int topo, const char *reason)
{
	run_mark_all(r, c, topo, "failed", reason);
}

/* Record every planned job of config c as failed for `reason`. */
static void fail_config(struct run *r, const struct config_def *c, const char *reason)
{
	if (c->kind == CONFIG_HOST) {
		run_fail_all(r, c, 0, reason);
		return;
	}
	for (int t = 0; t < r->plan.nguests; t++)
		run_fail_all(r, c, r->plan.guests[t], reason);
}

int runner_run(const char *results_dir, const char *reports_dir, const char *plan_path, const char *resume_id)
{
	return runner_run_with(results_dir, reports_dir, plan_path, resume_id, NULL);
}

/* Mark the run and every arm `status` (reason: why, or NULL). 0, or -1 when one could not be. */
static int set_status_all(struct run *r, const char *status, const char *reason)
{
	int rc = 0;

	for (int k = 0; k < r->narms; k++)
		if (store_run_set_status(&r->store, r->arms[k].id, status, reason) < 0)
			rc = -1;
	return rc;
}

/* What a stage of a run tells the next: go on, go to the end (the run exists and its status is written there), or
 * leave (nothing to write: the run does not exist, or another harness owns it). */
enum then { GO_ON, TO_FINISH, TO_OUT };

/* The results folder and its database, and the harness's own parts (agent, mediator, guest init). */
static enum then open_results(struct run *r, const char *results_dir, char **db)
{
	if (run_locate_parts(r) < 0)
		return TO_OUT;
	if (vb_mkdirs(results_dir, 0755) < 0 || !realpath(results_dir, r->results)) {
		vb_err("cannot create %s: %s", results_dir, strerror(errno));
		return TO_OUT;
	}
	*db = store_url(results_dir);
	return store_open(&r->store, *db) < 0 ? TO_OUT : GO_ON;
}

/* The plan: a resumed run's own (never an arm's), the text the caller gave, or the file; with the caller's suffix
 * to its name. base (sizeof(r->plan.name) bytes) gets the name the arms' names start from. */
static enum then read_plan(struct run *r, const char *db, const char *plan_path, const char *resume_id,
			    const struct run_opts *opts, char **plan_text, char *base)
{
	char err[1024];
	char *of;

	if (resume_id) {
		if (run_load_resumed(r, resume_id, db, plan_text) < 0)
			return TO_OUT;
		if ((of = store_host_fact_get(&r->store, r->id, RUNNER_ARM_OF_FACT))) {
			vb_err("run %s is an arm of the interleaved run %s: resume that one (vgpubench run --resume %s)",
			       r->id, of, of);
			free(of);
			return TO_OUT;
		}
	} else if (opts && opts->plan_text && plan_parse(plan_path, opts->plan_text, &r->plan, err, sizeof(err)) < 0) {
		vb_err("%s", err);
		return TO_OUT;
	} else if (opts && opts->plan_text && !(*plan_text = vb_strdup(opts->plan_text))) {
		return TO_OUT;
	} else if ((!opts || !opts->plan_text) && plan_load(plan_path, &r->plan, plan_text, err, sizeof(err)) < 0) {
		vb_err("%s", err);
		return TO_OUT;
	} else if (opts && opts->name_suffix) {
		size_t len = strlen(r->plan.name);

		memcpy(base, r->plan.name, len + 1); /* the arms' names start from the plan's own */
		if (len + strlen(opts->name_suffix) >= sizeof(r->plan.name)) {
			vb_err("plan name %s%s is too long", r->plan.name, opts->name_suffix);
			return TO_OUT;
		}
		memcpy(r->plan.name + len, opts->name_suffix, strlen(opts->name_suffix) + 1);
	} else {
		memcpy(base, r->plan.name, strlen(r->plan.name) + 1);
	}
	return GO_ON;
}

/* What the host can do, before the run exists: a results path guests cannot use, or a forced accelerator that
 * cannot work, stops here. */
static enum then check_host(struct run *r)
{
	char err[1024];

	/* Guests' paths go into option lists (QEMU's -chardev path=..., the mediator's --vgpu socket=...) that a
	 * comma would split. */
	if (plan_boots_guests(&r->plan) && strchr(r->results, ',')) {
		vb_err("the results folder %s has a comma, which QEMU's and the mediator's option lists cannot carry "
		       "in the paths guests use: choose another --results",
		       r->results);
		return TO_OUT;
	}
	host_probe(&r->host);
	if (!plan_boots_guests(&r->plan)) {
		snprintf(r->host.accel_reason, sizeof(r->host.accel_reason), "the plan boots no guest");
	} else if (host_choose_accel(&r->host, r->plan.accel, r->accel_cache, err, sizeof(err)) < 0) {
		vb_err("%s", err);
		return TO_OUT;
	}
	return GO_ON;
}

/* The run and its arms: loaded (a resumed run) or created, each with its logs folder. */
static enum then make_arms(struct run *r, const char *plan_path, const char *plan_text, const char *base,
			    const char *resume_id, const struct run_opts *opts)
{
	snprintf(r->arms[0].mediator, sizeof(r->arms[0].mediator), "%s", r->mediator);
	r->narms = 1;
	if (resume_id) {
		snprintf(r->arms[0].id, sizeof(r->arms[0].id), "%s", r->id);
		snprintf(r->arms[0].dir, sizeof(r->arms[0].dir), "%s", r->dir);
		if (run_load_arms(r) < 0)
			return TO_OUT;
	} else if (opts && !run_arms_valid(r, opts)) {
		return TO_OUT;
	} else if (run_create(r, &r->arms[0], r->plan.name, plan_path, plan_text) < 0) {
		return TO_OUT;
	} else {
		run_arm_enter(r, 0);
		if (opts && opts->id_out)
			snprintf(opts->id_out, opts->id_len, "%s", r->id);
		if (opts && opts->narms && run_create_arms(r, opts, base, plan_path, plan_text) < 0) {
			set_status_all(r, "failed", "its interleaved arms could not be set up");
			return TO_OUT;
		}
		if (opts && opts->on_created)
			opts->on_created(opts->on_created_ctx, r->id);
	}
	for (int k = 0; k < r->narms; k++) {
		char *logs = vb_strdupf("%s/logs", r->arms[k].dir);

		if (vb_mkdirs(logs, 0755) < 0) {
			char why[sizeof(r->fatal) - 64];

			snprintf(why, sizeof(why), "cannot create %s: %s", logs, strerror(errno));
			vb_err("%s", why);
			free(logs);
			/* A new run exists in the database by now: it must not stay 'running' with no harness. */
			if (!resume_id && set_status_all(r, "failed", why) < 0)
				vb_err("the run could not be marked failed either: %s", r->store.err);
			return TO_OUT;
		}
		free(logs);
	}
	return GO_ON;
}

/* Own the run, mark a resumed one running again, record each arm's host facts and slowdown, give back what killed
 * runs left behind, and say what the guests run under. */
static enum then own_and_record(struct run *r, const char *resume_id, const struct run_opts *opts)
{
	if (run_own(r) < 0)
		return TO_OUT;
	/* A complete run stays complete (and keeps its finished_at) unless a missing job is found and stored. */
	if (resume_id && !r->was_complete) {
		if (!run_stored(r, set_status_all(r, "running", NULL), "the run's status"))
			return TO_FINISH;
		vb_log("resuming run %s", r->id);
	}
	for (int k = 0; k < r->narms && !run_stopping(r); k++) {
		run_arm_enter(r, k);
		run_record_host(r);
		int pct = resume_id || !opts ? 0 : k ? opts->arms[k - 1].slowdown_pct : opts->slowdown_pct;

		if (run_set_slowdown(r, resume_id != NULL, pct) < 0)
			return TO_FINISH;
	}
	run_arm_enter(r, 0);
	if (r->narms > 1 && r->plan.noise.boots < 2)
		vb_log("run %s: with one boot a topology ([noise] boots = 1) its %d arms run one after the other, not in "
		       "turns: boots = 2 or more interleave them",
		       r->id, r->narms);
	run_recover_left_behind(r);
	if (strcmp(r->host.accel, "none") == 0)
		vb_log("host: QEMU %s, guest kernel %s; %s", r->host.qemu_version, r->host.kernel_version,
		       r->host.accel_reason);
	else
		vb_log("host: guests under %s, QEMU %s, guest kernel %s%s%s", r->host.accel, r->host.qemu_version,
		       r->host.kernel_version, r->host.accel_reason[0] ? "; " : " (KVM boots the guest kernel)",
		       r->host.accel_reason);
	return GO_ON;
}

/* Each configuration's fate on this host, stored for every arm: skip[i] its skip reason, or NULL when it runs.
 * 1 when something needs the private X display (a configuration or a scenario runs). */
static int decide_configs(struct run *r, const char **skip)
{
	int need_x = 0;

	for (int i = 0; i < r->plan.nconfigs; i++) {
		const struct config_def *c = config_find(r->plan.configs[i]);
		static char bufs[PLAN_MAX_LIST][256];

		skip[i] = host_skip_reason(&r->host, &r->plan, c, bufs[i], sizeof(bufs[i]));
		for (int k = 0; k < r->narms; k++) {
			char *why = skip[i] || run_arm_runs(r, k, c)
					    ? NULL
					    : vb_strdupf("this arm of interleaved run %s does not change it: that run "
							 "measures it",
							 r->arms[0].id);

			run_stored(r,
				   store_config(&r->store, r->arms[k].id, c->name, skip[i] || why ? "skipped" : "run",
						skip[i] ? skip[i] : why),
				   "the configurations");
			free(why);
		}
		if (skip[i]) {
			vb_log("%s: skipped: %s", c->name, skip[i]);
			continue;
		}
		need_x = 1;
	}
	return need_x || r->plan.nscenarios > 0;
}

/* What jobs run in: each arm's noise settings, the private X display (when need_x), the jobs' environments. 1 when
 * the display is there or not needed. */
static int start_jobs_env(struct run *r, int need_x)
{
	for (int k = 0; k < r->narms; k++) {
		run_arm_enter(r, k);
		run_apply_noise_settings(r);
	}
	run_arm_enter(r, 0);
	char *xlog = vb_strdupf("%s/xvfb.log", r->dir);
	int x_ok = !need_x || run_stopping(r) || xvfb_start(&r->x, xlog, vb_scaled(10)) == 0;

	free(xlog);
	r->host_env = json_object_new_object();

	json_object_object_add(r->host_env, "DISPLAY", json_object_new_string(r->x.display));
	if (r->plan.noise.lp_num_threads) {
		char lp[16];

		snprintf(lp, sizeof(lp), "%d", r->plan.noise.lp_num_threads);
		json_object_object_add(r->host_env, "LP_NUM_THREADS", json_object_new_string(lp));
		r->guest_env = json_object_new_object();
		json_object_object_add(r->guest_env, "LP_NUM_THREADS", json_object_new_string(lp));
	}
	return x_ok;
}

/* Every configuration that runs, in the plan's order (the host's, or each guest topology's), then the scenarios. */
static void run_configs(struct run *r, const char *const *skip, int x_ok)
{
	for (int i = 0; i < r->plan.nconfigs && !run_stopping(r); i++) {
		const struct config_def *c = config_find(r->plan.configs[i]);
		const char *why = NULL;

		if (skip[i])
			continue;
		if (!x_ok)
			why = "the private Xvfb did not start (see xvfb.log in the run folder)";
		else if (c->kind == CONFIG_GUEST && run_ensure_image(r) < 0)
			why = "the guest image could not be built (see the harness's messages)";
		if (why) {
			for (int k = 0; k < r->narms; k++)
				if (run_arm_runs(r, k, c)) {
					run_arm_enter(r, k);
					fail_config(r, c, why);
				}
			run_arm_enter(r, 0);
			continue;
		}
		if (c->kind == CONFIG_HOST) {
			run_host_config(r, c);
			continue;
		}
		for (int t = 0; t < r->plan.nguests && !run_stopping(r); t++)
			run_guest_topology(r, c, r->plan.guests[t]);
	}
	if (x_ok && !run_stopping(r))
		run_scenarios(r);
}

/* The run's status at its end: failed (a result could not be stored), interrupted, or complete (a resumed complete
 * run that stored nothing stays as it was). 0 when complete, or the run's exit code. */
static int set_final_status(struct run *r, const char *db)
{
	if (r->fatal[0]) {
		vb_err("run %s stopped: %s", r->id, r->fatal);
		if (set_status_all(r, "failed", r->fatal) < 0)
			vb_err("the run could not be marked failed either; it stays 'running' in %s", db);
		vb_err("what was stored before is kept in %s; once the cause is gone, continue with: "
		       "vgpubench run --resume %s",
		       db, r->id);
		return 1;
	}
	if (vb_stop_requested) {
		if (set_status_all(r, "interrupted", "interrupted by a signal") < 0)
			vb_err("the run could not be marked interrupted; it stays 'running' in %s", db);
		vb_log("interrupted: results so far are in %s; continue with: vgpubench run --resume %s", db, r->id);
		return 130;
	}
	if (r->was_complete && r->jobs_stored == 0) {
		vb_log("run %s: no job was missing; it stays as it was (complete, finished at the time it finished)",
		       r->id);
	} else if (set_status_all(r, "complete", NULL) < 0) {
		vb_err("every job is stored, but the run could not be marked complete: %s", r->store.err);
		return 1;
	}
	return 0;
}

/* The end of a run: its status, and for a complete one its summary, its arms and its report. The exit code. */
static int finish(struct run *r, const char *db, const char *reports_dir)
{
	char *report = NULL;
	int rc = set_final_status(r, db);

	if (rc)
		return rc;
	summary_print(&r->store, r->id, stdout);
	printf("\nrun %s: database %s, logs %s\n", r->id, db, r->dir);
	for (int k = 1; k < r->narms; k++)
		printf("interleaved arm %d: run %s (mediator %s%s%s), logs %s; compare: vgpubench compare %s %s\n", k,
		       r->arms[k].id, r->arms[k].names_mediator ? r->arms[k].mediator : "this build's",
		       r->arms[k].slowdown_pct ? ", a slowdown injected" : "",
		       r->arms[k].changed_only ? ", only what it changes" : "", r->arms[k].dir, r->id, r->arms[k].id);
	rc = r->failed_jobs ? 3 : 0;
	if (report_generate(&r->store, r->id, reports_dir, &report) == 0) {
		printf("report: %s\n", report);
	} else {
		vb_err("the report %s is incomplete or missing (see above); the results are stored",
		       report ? report : "");
		rc = 1;
	}
	free(report);
	return rc;
}

int runner_run_with(const char *results_dir, const char *reports_dir, const char *plan_path, const char *resume_id,
		    const struct run_opts *opts)
{
	struct run *r = calloc(1, sizeof(*r));
	char *db = NULL, *plan_text = NULL, base[sizeof(r->plan.name)] = "";
	const char *skip[PLAN_MAX_LIST];
	enum then s;
	int rc = 1;

	if (!r)
		return 1;
	r->lock_fd = -1;
	vb_catch_stop_signals(on_signal);
	s = open_results(r, results_dir, &db);
	if (s == GO_ON)
		s = read_plan(r, db, plan_path, resume_id, opts, &plan_text, base);
	if (s == GO_ON)
		s = check_host(r);
	if (s == GO_ON)
		s = make_arms(r, plan_path, plan_text, base, resume_id, opts);
	if (s == GO_ON)
		s = own_and_record(r, resume_id, opts);
	if (s == GO_ON) {
		int need_x = decide_configs(r, skip);

		progress_start(r, skip);
		run_configs(r, skip, start_jobs_env(r, need_x));
	}
	progress_end(r);
	xvfb_stop(&r->x);
	if (s != TO_OUT)
		rc = finish(r, db, reports_dir);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	json_object_put(r->host_env);
	json_object_put(r->guest_env);
	store_close(&r->store);
	free(db);
	free(plan_text);
	free(r);
	return rc;
}
