/* runner.c: drives a run. Host configs run on the host through a local
 * vgpu-agent; guest configs boot `n` QEMU guests at once for each guest count
 * in the plan and run every repetition on all of them simultaneously. Each
 * repetition is stored in one transaction; --resume skips what is stored. */
#define _GNU_SOURCE
#include "run/runner.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/agent_client.h"
#include "agent_proto.h"
#include "vm/boot_wait.h"
#include "configs/configs.h"
#include "host/cpu_pin.h"
#include "host/cpu_quota.h"
#include "configs/gpu_backend.h"
#include "host/host_noise.h"
#include "host/hostcheck.h"
#include "vm/image.h"
#include "run/nested_lab.h"
#include "plan/plan.h"
#include "report/report.h"
#include "stats.h"
#include "store/store.h"
#include "analysis/summary.h"
#include "util.h"
#include "configs/vgpu_stats.h"
#include "vm/vm.h"
#include "host/xvfb.h"
#include "workload.h"

#define MAX_GUESTS 16

/* An arm of an interleaved run (runner.h run_arm): the run its jobs are stored in, and what it changes. */
struct arm {
	char id[96];
	char dir[PATH_MAX];
	char mediator[PATH_MAX];
	int slowdown_pct;
	int changed_only;
	int names_mediator; /* it starts a mediator of its own (the same binary counts: an A/A check of two builds) */
};

struct run {
	struct plan plan;
	struct host host;
	struct store store;
	char id[96];
	char dir[PATH_MAX];
	char agent[PATH_MAX];
	char mediator[PATH_MAX];
	char init[PATH_MAX];
	char cache[PATH_MAX];
	char accel_cache[PATH_MAX];
	char results[PATH_MAX]; /* the results folder, absolute */
	int lock_fd;		/* owner.lock in the run folder, held while we run it */
	char fatal[768];	/* why the run must stop (a result that cannot be stored), or "" */
	struct xvfb x;
	int failed_jobs;
	int jobs_stored;  /* job rows stored by this harness: a resume of a complete run that stores none changes it not */
	int was_complete; /* resumed: the run was complete already */
	struct json_object *host_env;  /* the environment of jobs on the host */
	struct json_object *guest_env; /* ... in guests (NULL: their own) */
	const struct workload_def *prepared[PLAN_MAX_LIST];
	struct image img;
	int have_img;
	int slowdown_pct; /* run_opts.slowdown_pct, or what a resumed run recorded */
	int boot;	  /* which boot of a topology's guests jobs run in now (1..[noise] boots), 0 on the host */
	struct arm arms[RUN_MAX_ARMS]; /* arms[0] is the run itself; id, dir, mediator and slowdown above are the
					* current arm's */
	int narms, arm;
};

/* Make arm k the current one: its jobs, facts and logs go to its run, its boots start its mediator and slowdown. */
static void arm_enter(struct run *r, int k)
{
	const struct arm *a = &r->arms[k];

	snprintf(r->id, sizeof(r->id), "%s", a->id);
	snprintf(r->dir, sizeof(r->dir), "%s", a->dir);
	snprintf(r->mediator, sizeof(r->mediator), "%s", a->mediator);
	r->slowdown_pct = a->slowdown_pct;
	r->plan.med.throttle_pct = a->slowdown_pct;
	r->arm = k;
}

/* Does arm k run configuration c? The run's own arm runs all; another one those it changes, or all. */
static int arm_runs(const struct run *r, int k, const struct config_def *c)
{
	const struct arm *a = &r->arms[k], *own = &r->arms[0];

	return k == 0 || !a->changed_only || (c->starts_mediator && a->names_mediator) ||
	       (c->slowdown && a->slowdown_pct != own->slowdown_pct);
}

/* The arm that takes turn j of block b (1-based): the order rotates from block to block, so over narms blocks each
 * arm goes once in each place (a Latin square: drift within a block does not favour one arm). */
static int arm_at(const struct run *r, int b, int j)
{
	return (b - 1 + j) % r->narms;
}

static void on_signal(int sig)
{
	(void)sig;
	vb_stop_requested = 1;
}

/* Should the run unwind: a stop was requested, or a result could not be stored. */
static int stopping(const struct run *r)
{
	return vb_stop_requested || r->fatal[0];
}

/*
 * Check a store call: a result that cannot be stored stops the run (the
 * first reason is kept for the run's record). 1 when rc says it was stored.
 */
static int stored(struct run *r, int rc, const char *what)
{
	if (rc >= 0)
		return 1;
	if (!r->fatal[0])
		snprintf(r->fatal, sizeof(r->fatal), "could not store %s: %s", what,
			 r->store.err[0] ? r->store.err : "database error");
	return 0;
}

/* A path inside the results folder as stored: relative to that folder, so the folder can move. */
static const char *results_rel(const struct run *r, const char *path)
{
	size_t n = strlen(r->results);

	if (path && strncmp(path, r->results, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

static int is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int contains_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

/* Where a job ran, for the path it must show. */
enum seat_path {
	SEAT_GUEST, /* in a guest: the config's path */
	SEAT_HOST,  /* on the host itself (native, or dom0 beside guests of a config that does not serve it) */
	SEAT_VTEST, /* dom0 beside guests, its GL through the back-end's vtest socket (GALLIUM_DRIVER=virpipe) */
};

/* A GL renderer string of Mesa's CPU renderers. */
static int software_renderer(const char *renderer)
{
	return contains_ci(renderer, "llvmpipe") || contains_ci(renderer, "softpipe") || contains_ci(renderer, "swrast");
}

/*
 * Decide a job's status from what the agent said and what the workload
 * printed. Returns the status; fills reason. A job on the host must not have
 * gone through virgl nor fallen back to software on a host that has a GPU; a
 * dom0 job served through vtest must have gone through virgl; a guest job
 * must use the config's path (kms: the KMS driver its 2D jobs must show).
 */
static const char *judge_job(struct run *r, const struct config_def *c, enum seat_path where, const char *kms,
			     const struct workload_def *w, const struct job_result *jr, struct wl_result *wr,
			     char *reason, size_t rlen)
{
	int on_host = where != SEAT_GUEST;

	int parsed;

	memset(wr, 0, sizeof(*wr));
	if (strcmp(jr->status, "exited") == 0 && jr->code == WL_EXIT_SKIP) {
		const char *why = jr->out ? strstr(jr->out, "skip: ") : NULL;
		size_t n = why ? strcspn(why + 6, "\n") : 0;

		snprintf(reason, rlen, "%.*s", (int)(n ? n : 40), n ? why + 6 : "the workload skipped itself");
		return "skipped";
	}
	if (strcmp(jr->status, "timeout") == 0) {
		snprintf(reason, rlen, "timed out after %.0f s", r->plan.job_timeout_s);
		return "timeout";
	}
	if (strcmp(jr->status, "exited") != 0 || jr->code != 0) {
		parsed = w->parse(jr->out ? jr->out : "", jr->out_len, wr);
		if (jr->error[0])
			snprintf(reason, rlen, "%s", jr->error);
		else if (strcmp(jr->status, "signaled") == 0)
			snprintf(reason, rlen, "%s killed by signal %d%s%.400s", w->name, jr->signal, parsed < 0 ? "; " : "",
				 parsed < 0 ? wr->error : "");
		else if (strcmp(jr->status, "exited") == 0)
			snprintf(reason, rlen, "%s exited with code %d%s%.400s", w->name, jr->code, parsed < 0 ? "; " : "",
				 parsed < 0 ? wr->error : "");
		else
			snprintf(reason, rlen, "job %s", jr->status);
		wr->n = 0;
		return "failed";
	}
	if (w->parse(jr->out ? jr->out : "", jr->out_len, wr) < 0) {
		snprintf(reason, rlen, "%s", wr->error);
		wr->n = 0;
		return "failed";
	}
	/* The path must be the one the config promises. */
	if (w->path == WL_PATH_MEDIA || w->path == WL_PATH_NONE) {
		/* Software decode is a path of its own, named in every metric: never mixed with VA-API. A job that
		 * renders nothing has no path to check. */
		reason[0] = '\0';
		return "ok";
	}
	if (w->path == WL_PATH_KMS) {
		if (!on_host && kms && strcmp(wr->renderer, kms) != 0) {
			snprintf(reason, rlen, "wrong device: KMS driver is '%s', %s promises '%s'", wr->renderer,
				 c->name, kms);
			wr->n = 0;
			return "failed";
		}
		reason[0] = '\0';
		return "ok";
	}
	if (where == SEAT_VTEST && !contains_ci(wr->renderer, "virgl")) {
		snprintf(reason, rlen, "wrong GPU path: dom0's job should render through %s's vtest socket, GL_RENDERER "
			 "is '%s'", c->name, wr->renderer);
		wr->n = 0;
		return "failed";
	}
	if (where == SEAT_VTEST) {
		reason[0] = '\0';
		return "ok";
	}
	if (!on_host && c->guest_hw_gl && software_renderer(wr->renderer)) {
		snprintf(reason, rlen, "software fallback: GL_RENDERER is '%s' in a guest that owns the GPU",
			 wr->renderer);
		wr->n = 0;
		return "failed";
	}
	if (!on_host && c->guest_renderer && !contains_ci(wr->renderer, c->guest_renderer)) {
		snprintf(reason, rlen, "wrong GPU path: GL_RENDERER is '%s', %s promises '%s'", wr->renderer, c->name,
			 c->guest_renderer);
		wr->n = 0;
		return "failed";
	}
	if (on_host) {
		int software = software_renderer(wr->renderer);

		if (contains_ci(wr->renderer, "virgl")) {
			snprintf(reason, rlen, "wrong GPU path: native job rendered through '%s'", wr->renderer);
			wr->n = 0;
			return "failed";
		}
		if (software && r->host.has_render_node) {
			snprintf(reason, rlen, "software fallback: GL_RENDERER is '%s' on a host with a GPU",
				 wr->renderer);
			wr->n = 0;
			return "failed";
		}
	}
	reason[0] = '\0';
	return "ok";
}

/* judge_job, and a job that is not ok keeps no metrics nor test statuses. */
static const char *judge(struct run *r, const struct config_def *c, enum seat_path where, const char *kms,
			 const struct workload_def *w, const struct job_result *jr, struct wl_result *wr, char *reason,
			 size_t rlen)
{
	const char *st = judge_job(r, c, where, kms, w, jr, wr, reason, rlen);

	if (strcmp(st, "ok") != 0) {
		wl_result_free(wr);
		wr->n = 0;
		wr->artifact = NULL;
	}
	return st;
}

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

static char *log_path(struct run *r, const char *config, int topo, int guest, const char *w, int rep)
{
	return vb_strdupf("%s/logs/%s-n%d-g%d-%s-r%d.log", r->dir, config, topo, guest, w, rep);
}

/*
 * Who runs a repetition at once: stored guest indexes (0 is the host: the
 * native config, or dom0 alongside guests) and their agents.
 */
struct seats {
	int n;
	int index[MAX_GUESTS + 1];
	struct agent_conn *conn[MAX_GUESTS + 1];
	const char *control; /* the mediator's control socket, when a mediator serves the guests */
	const char *vtest;   /* the back-end's vtest socket, when it serves dom0's GL too (dom0 is then its vGPU) */
	const char *kms_driver; /* the KMS driver the guests' 2D jobs must show (NULL: not checked) */
};

/* The seats of config c with `topo` guests: the host alone, or the guests plus dom0 when it joins. */
static void seats_for(struct run *r, const struct config_def *c, int topo, struct seats *s)
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
static const char *const *resolved_argv(const struct workload_def *w, enum workload_where where, const char **out,
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

		logs[i] = log_path(r, c->name, topo, s->index[i], w->name, rep);
		argvs[i] = resolved_argv(w, host ? WL_HOST : WL_GUEST, bundled[i], &bins[i]);
		envs[i] = host ? r->host_env : r->guest_env;
	}
	for (;;) {
		double steal;

		if (rep == 0)
			vb_log("%s: %s warm-up repetition on %s (discarded)", c->name, w->name,
			       c->kind == CONFIG_HOST ? "the host" : "every seat");
		else if (c->kind == CONFIG_HOST)
			vb_log("%s: %s repetition %d/%d on the host", c->name, w->name, rep, last_rep(r));
		else
			vb_log("%s: %s repetition %d/%d on %d guest%s%s", c->name, w->name, rep, last_rep(r), topo,
			       topo == 1 ? "" : "s at once", n > topo ? " and dom0" : "");
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
		const char *st = judge(r, c, where, s->kms_driver, w, &res[i], &wr[i], reasons[i], sizeof(reasons[i]));

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
			.log_path = results_rel(r, logs[i]),
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

	if (stored(r, store_jobs(&r->store, r->id, rows, n), what))
		r->jobs_stored += n;
	free(what);
	for (int i = 0; i < n; i++) {
		save_artifact(r, c, topo, s->index[i], w, rep, &wr[i]);
		wl_result_free(&wr[i]);
		free(logs[i]);
		free(bins[i]);
		job_result_free(&res[i]);
	}
	free(wr);
}

static int rep_done(struct run *r, const struct config_def *c, int topo, const struct seats *s,
		    const struct workload_def *w, int rep)
{
	for (int i = 0; i < s->n; i++)
		if (!store_job_done(&r->store, r->id, c->name, topo, s->index[i], w->name, rep))
			return 0;
	return 1;
}

/* repetitions = auto: the host fact that says why row (c, topo, w) stopped repeating (malloc'd key). */
static char *stop_key(const struct config_def *c, int topo, const char *workload)
{
	return vb_strdupf("repetitions (%s, %s%d, %s)", c->name, topo ? "guests " : "host ", topo, workload);
}

/* Has row (c, topo, w) stopped repeating (repetitions = auto)? */
static int row_stopped(struct run *r, const struct config_def *c, int topo, const char *workload)
{
	char *key = stop_key(c, topo, workload), *fact = store_host_fact_get(&r->store, r->id, key);
	int stopped = fact != NULL;

	free(key);
	free(fact);
	return stopped;
}

/* Are repetitions [first, last] of every workload stored? Under repetitions = auto a row that stopped repeating is
 * done, and open (the rows' last repetitions: the run's, or a topology's last boot) one that did not is not. */
static int reps_done(struct run *r, const struct config_def *c, int topo, const struct seats *s, int first, int last,
		     int open)
{
	for (int wi = 0; wi < r->plan.nworkloads; wi++) {
		const struct workload_def *w = workload_find(r->plan.workloads[wi]);

		if (r->plan.adaptive.on) {
			if (row_stopped(r, c, topo, w->name))
				continue;
			if (open)
				return 0;
		}
		for (int rep = first; rep <= last; rep++)
			if (!rep_done(r, c, topo, s, w, rep))
				return 0;
	}
	return 1;
}

static int all_done(struct run *r, const struct config_def *c, int topo, const struct seats *s)
{
	return reps_done(r, c, topo, s, 1, r->plan.repetitions, 1);
}

/*
 * repetitions = auto: how wide the 95% bootstrap interval of the row's median is now, in % of the median on its
 * wider side, over the seat groups of the row (its guests; dom0 beside them; the host): the widest. -1 when a
 * group has no successful value at all, or the values cannot be read.
 */
static double row_ci_pct(struct run *r, const struct config_def *c, int topo, const struct seats *s,
			 const struct workload_def *w)
{
	double widest = 0;

	for (int dom0 = 0; dom0 <= 1; dom0++) {
		int has = 0;
		double *v, med, half;
		size_t n;
		struct stats_ci ci;

		for (int i = 0; i < s->n; i++)
			has |= dom0 ? s->index[i] == 0 : s->index[i] != 0;
		if (!has)
			continue;
		if (store_row_values(&r->store, r->id, c->name, topo, dom0, w->name, w->headline_metric, &v, &n) < 0 ||
		    n == 0) {
			free(v);
			return -1;
		}
		ci = stats_bootstrap_median(v, n, 2000, 1);
		med = stats_median(v, n);
		half = fmax(med - ci.lo, ci.hi - med);
		free(v);
		if (!(med > 0))
			return -1;
		widest = fmax(widest, 100 * half / med);
	}
	return widest;
}

/* repetitions = auto, after repetition rep: stop here? Then the reason is kept as a host fact. */
static int row_stop(struct run *r, const struct config_def *c, int topo, const struct seats *s,
		    const struct workload_def *w, int rep)
{
	const struct plan_adaptive *a = &r->plan.adaptive;
	double pct;
	char *why, *key;

	if (!a->on || rep < a->min)
		return 0;
	pct = row_ci_pct(r, c, topo, s, w);
	if (pct >= 0 && pct <= a->target_ci_pct)
		why = vb_strdupf("stopped after %d: the 95%% interval of the median is within ±%.1f%% (target ±%.1f%%)",
				 rep, pct, a->target_ci_pct);
	else if (pct < 0)
		why = vb_strdupf("stopped after %d: no successful job to measure", rep);
	else if (rep >= a->max)
		why = vb_strdupf("stopped at the most, %d: the 95%% interval of the median is ±%.1f%% (target ±%.1f%%)",
				 rep, pct, a->target_ci_pct);
	else
		return 0;
	key = stop_key(c, topo, w->name);
	vb_log("  %s", why);
	stored(r, store_host_fact(&r->store, r->id, key, why), "a host fact");
	free(key);
	free(why);
	return 1;
}

/* Record every missing job of this config/topology as `status` (failed or skipped) for `reason`. */
static void mark_all(struct run *r, const struct config_def *c, int topo, const char *status, const char *reason)
{
	struct seats s;

	seats_for(r, c, topo, &s);
	for (int wi = 0; wi < r->plan.nworkloads; wi++)
		for (int rep = 1; rep <= r->plan.repetitions; rep++)
			for (int i = 0; i < s.n; i++) {
				const char *wn = r->plan.workloads[wi];
				struct job_row row = { .config = c->name, .topology = topo, .guest_index = s.index[i],
						       .workload = wn, .repetition = rep, .status = status,
						       .reason = reason, .accel = s.index[i] ? r->host.accel : "none",
						       .wall_s = -1, .user_s = -1, .sys_s = -1, .maxrss_kb = -1,
						       .exit_code = -1 };

				if (store_job_done(&r->store, r->id, c->name, topo, s.index[i], wn, rep))
					continue;
				if (!stored(r, store_jobs(&r->store, r->id, &row, 1), "a job that could not run"))
					return;
				r->jobs_stored++;
				r->failed_jobs += strcmp(status, "failed") == 0;
			}
}

static void fail_all(struct run *r, const struct config_def *c, int topo, const char *reason)
{
	mark_all(r, c, topo, "failed", reason);
}

/* Record every planned job of config c as failed for `reason`. */
static void fail_config(struct run *r, const struct config_def *c, const char *reason)
{
	if (c->kind == CONFIG_HOST) {
		fail_all(r, c, 0, reason);
		return;
	}
	for (int t = 0; t < r->plan.nguests; t++)
		fail_all(r, c, r->plan.guests[t], reason);
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
static void run_workloads(struct run *r, const struct config_def *c, int topo, const struct seats *s, int first,
			  int last, int open)
{
	for (int wi = 0; wi < r->plan.nworkloads && !stopping(r); wi++) {
		const struct workload_def *w = workload_find(r->plan.workloads[wi]);

		int missing = 0; /* a planned repetition of the row is not stored yet */

		if (!all_done(r, c, topo, s))
			prepare_workload(r, w);
		if (r->plan.adaptive.on && row_stopped(r, c, topo, w->name))
			continue; /* decided before a --resume */
		for (int rep = first; rep <= last; rep++)
			missing |= !rep_done(r, c, topo, s, w, rep);
		if (missing && r->plan.noise.warmup && !stopping(r))
			run_rep(r, c, topo, w, 0, s);
		for (int rep = first; rep <= (open ? last_rep(r) : last) && !stopping(r); rep++) {
			if (!rep_done(r, c, topo, s, w, rep))
				run_rep(r, c, topo, w, rep, s);
			if (open && !stopping(r) && row_stop(r, c, topo, s, w, rep))
				break;
		}
	}
}

/* The plan's [noise] settings: LP_NUM_THREADS in the harness's own environment (every renderer it starts inherits
 * it: the mediator, QEMU's virgl, the host agent; guests get it with each job), and what the run did about noise,
 * kept as a host fact. */
static void apply_noise_settings(struct run *r)
{
	const struct plan_noise *n = &r->plan.noise;
	char lp[32] = "llvmpipe's own choice", steal[96] = "off", *fact;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (n->lp_num_threads) {
		snprintf(lp, sizeof(lp), "%d", n->lp_num_threads);
		setenv("LP_NUM_THREADS", lp, 1);
	}
	if (n->max_steal_pct > 0)
		snprintf(steal, sizeof(steal), "a repetition over %.1f%% is redone, at most %d time%s", n->max_steal_pct,
			 n->max_redos, n->max_redos == 1 ? "" : "s");
	fact = vb_strdupf("warm-up repetition: %s; CPU steal: %s; LP_NUM_THREADS: %s; CPU pinning: %s (%ld CPUs); "
			  "guest boots: %d a topology%s",
			  n->warmup ? "on (discarded, one a boot)" : "off", steal, lp,
			  n->pin_cpus ? "where the host has enough CPUs (host fact cpu pinning per guest topology)"
				      : "off (pin_cpus = no)",
			  cpus, n->boots,
			  n->boots < 2	   ? ""
			  : r->narms > 1 ? ", its repetitions spread over them (job_noise.boot), the arms taking turns; one "
					   "for a configuration no other arm runs"
					 : ", its repetitions spread over them (job_noise.boot)");
	stored(r, store_host_fact(&r->store, r->id, "noise", fact), "a host fact");
	free(fact);
}

/* Start the host's own agent (native jobs, dom0); vtest: the socket its GL clients reach the back-end through
 * (NULL: they render on the host). 0, or -1 with a message printed. */
static int start_host_agent(struct run *r, struct agent_conn *conn, const char *label, const char *vtest)
{
	static char *const virpipe[] = { "GALLIUM_DRIVER=virpipe", NULL };
	struct json_object *hello;
	char *log = vb_strdupf("%s/%s-agent.log", r->dir, label);
	/* A job's scratch files (glmark2's results CSV) go to a folder of the run's, emptied at each start, so a job
	 * killed with SIGKILL leaves nothing in /tmp. A vtest client's agent has a private /tmp (vtest_ns) instead. */
	char *scratch = vb_strdupf("%s/%s-tmp", r->dir, label);
	char *tmpdir = vb_strdupf("TMPDIR=%s", scratch);
	char *const own_tmp[] = { tmpdir, NULL };
	int rc;

	if (!vtest && (vb_rm_rf(scratch) < 0 || vb_mkdirs(scratch, 0755) < 0)) {
		vb_err("cannot make the host agent's scratch folder %s: %s", scratch, strerror(errno));
		rc = -1;
	} else {
		rc = agent_spawn_local(conn, r->agent, vtest ? virpipe : own_tmp, vtest, log, label);
	}
	free(scratch);
	if (rc < 0) {
		vb_err("cannot start the host agent %s (see %s)", r->agent, log);
		free(tmpdir);
		free(log);
		return -1;
	}
	free(tmpdir); /* the child has its own copy of the environment */
	if (agent_hello(conn, vb_now() + vb_scaled(10), &hello) < 0) {
		vb_err("the host agent %s did not answer (see %s)", r->agent, log);
		agent_close(conn);
		free(log);
		return -1;
	}
	json_object_put(hello);
	free(log);
	return 0;
}

/* A slowdown injected into native jobs: the host agent (and every job it starts) under a CPU quota. 0, or -1 with
 * the reason stored for the configuration's jobs. */
static int slow_down_host(struct run *r, const struct config_def *c, const struct agent_conn *conn, struct cpu_quota *q)
{
	char err[512], name[128];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	snprintf(name, sizeof(name), "vgpubench-%s-%s", r->id, c->name);
	if (cpu_quota_create(q, "/sys/fs/cgroup", name, r->slowdown_pct, cpus, err, sizeof(err)) < 0 ||
	    cpu_quota_add(q, conn->local_pid, err, sizeof(err)) < 0) {
		char *why = vb_strdupf("the %d%% slowdown could not be injected: %s", r->slowdown_pct, err);

		vb_err("%s: %s", c->name, why);
		fail_all(r, c, 0, why);
		free(why);
		return -1;
	}
	vb_log("%s: jobs under a CPU quota of %ld us every %ld us (%d%% less than %ld CPUs), the injected slowdown",
	       c->name, q->quota_us, q->period_us, r->slowdown_pct, cpus);
	return 0;
}

/* Repetitions [first, last] of a host configuration (open: its last ones), on a host agent of their own. */
static void run_host_block(struct run *r, const struct config_def *c, int first, int last, int open)
{
	struct agent_conn conn;
	struct cpu_quota quota = { .dir = "" };
	struct seats s;

	seats_for(r, c, 0, &s);
	if (reps_done(r, c, 0, &s, first, last, open))
		return;
	if (start_host_agent(r, &conn, "host", NULL) < 0) {
		if (!vb_stop_requested)
			fail_all(r, c, 0, "the host agent did not start");
		return;
	}
	if (!r->slowdown_pct || !c->slowdown || slow_down_host(r, c, &conn, &quota) == 0) {
		s.conn[0] = &conn;
		run_workloads(r, c, 0, &s, first, last, open);
	}
	agent_close(&conn);
	if (quota.dir[0]) {
		char *fact = vb_strdupf("%ld us every %ld us; the kernel held the jobs back in %lld periods",
					quota.quota_us, quota.period_us, cpu_quota_throttled(&quota));
		char *key = vb_strdupf("cpu quota (%s)", c->name);

		stored(r, store_host_fact(&r->store, r->id, key, fact), "a host fact");
		free(key);
		free(fact);
	}
	cpu_quota_remove(&quota);
}

/* Does an arm other than the run's own run configuration c (arm_runs)? */
static int others_run(const struct run *r, const struct config_def *c)
{
	for (int k = 1; k < r->narms; k++)
		if (arm_runs(r, k, c))
			return 1;
	return 0;
}

/* How many blocks configuration c's repetitions take: a guest topology's boots ([noise] boots). In an interleaved
 * run the blocks are the arms' turns, so a configuration no other arm runs (one the baseline does not change) takes
 * one: it has no one to take turns with, and more boots would only cost boot time (spreading one run's repetitions
 * over boots did not bring two runs closer: docs/compare-and-calibrate.md, "What a nightly run catches"). Host configurations take blocks
 * only to take turns. */
static int config_blocks(const struct run *r, const struct config_def *c, int guests)
{
	if (r->narms > 1)
		return others_run(r, c) ? r->plan.noise.boots : 1;
	return guests ? r->plan.noise.boots : 1;
}

/* A host configuration: its repetitions at once, or in an interleaved run split into blocks as a guest topology's
 * boots are ([noise] boots), each arm's block in turn. */
static void run_host_config(struct run *r, const struct config_def *c)
{
	int blocks = config_blocks(r, c, 0);

	for (int b = 1; b <= blocks && !stopping(r); b++)
		for (int j = 0; j < r->narms && !stopping(r); j++) {
			int k = arm_at(r, b, j), first = 1, last = r->plan.repetitions;

			if (!arm_runs(r, k, c))
				continue;
			arm_enter(r, k);
			if (blocks > 1)
				plan_boot_reps(&r->plan, b, &first, &last);
			run_host_block(r, c, first, last, b == blocks);
		}
	arm_enter(r, 0);
}

/* Keep the mediator's per-vGPU counters next to the run's guests, and say what rendered for them. */
static void record_backend(struct run *r, const struct config_def *c, int n, const struct gpu_backend *gb,
			   const char *dir)
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

		stored(r, store_host_fact(&r->store, r->id, "mediator", fact), "a host fact");
		free(fact);
	}
	json_object_put(root);
	vb_log("  %s counters: %s", c->name, path);
	free(path);
}

static int ensure_image(struct run *r)
{
	char err[512];
	char *cache;

	if (r->have_img)
		return 0;
	cache = vb_strdupf("%s", r->cache);
	if (image_build(r->host.guest_kernel, r->host.kernel_version, r->agent, r->init, cache, &r->img, err,
			sizeof(err)) < 0) {
		vb_err("guest image: %s", err);
		free(cache);
		return -1;
	}
	free(cache);
	vb_log("guest image: %s + %s (%s)", r->img.kernel, r->img.initrd, r->img.cached ? "cached" : "built");
	stored(r, store_host_fact(&r->store, r->id, "guest_initramfs", r->img.initrd), "a host fact");
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

/* Guests booted together, and their agents. */
struct guest_set {
	struct vm vms[MAX_GUESTS];
	struct agent_conn conns[MAX_GUESTS];
	int nvm, nconn;
};

/* The folder a back-end's unix sockets go in: dir, or a short link to it (made into link) when the deepest socket
 * name would not fit a unix socket's path (a long results path, an arm's plan name). The caller unlinks link. */
static const char *socket_dir(const char *dir, char *link, size_t len)
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

/*
 * Boot n guests of config c whose GPU back-end gb is running (files under dir) and wait for their agents; each
 * boot is stored as a guest row under `label`. 0, or -1 with the reason (what is up stays in gs for
 * guests_stop).
 */
static int guests_boot(struct run *r, const struct config_def *c, const char *label, int n, const char *dir,
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
	int ok = 1;

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
				       .serial_log = results_rel(r, vm->serial_log), .boot_s = -1 };

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
		stored(r, store_guest(&r->store, r->id, &g), "a guest's boot");
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
static void guests_stop(struct guest_set *gs)
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

	lab.vgpubench = bin;
	if (nested_lab_run(&lab, &gs->conns[0], &r->store, r->id, c->name, n, accel, err, sizeof(err)) < 0) {
		char *why = vb_strdupf("nested lab: %s", err);

		vb_err("%s with %d guest: %s", c->name, n, why);
		if (!vb_stop_requested)
			fail_all(r, c, n, why);
		free(why);
	} else {
		r->failed_jobs += nested_lab_verdict(&lab, verdict, sizeof(verdict)) ? lab.jobs : lab.jobs - lab.jobs_ok;
	}
	nested_lab_evidence(&lab, evidence, sizeof(evidence));
	stored(r, store_lab_set(&r->store, r->id, c->name, evidence), "the nested lab's evidence");
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
	stored(r, store_host_fact(&r->store, r->id, key, fact), "a host fact");
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

	env.sockdir = socket_dir(dir, link, sizeof(link));
	if (gpu_backend_start(&gb, c, n, &env, err, sizeof(err)) < 0) {
		vb_err("%s with %d guests: %s", c->name, n, err);
		char *why = vb_strdupf("GPU back-end did not start: %s", err);

		fail_all(r, c, n, why);
		free(why);
		if (link[0])
			unlink(link);
		return 0;
	}
	{
		char *key = vb_strdupf("back-end (%s, %d guest%s)", c->name, n, n > 1 ? "s" : "");

		stored(r, store_host_fact(&r->store, r->id, key, gb.description), "a host fact");
		free(key);
	}
	seats->control = gb.control[0] ? gb.control : NULL;
	if (gb.kms_driver[0])
		seats->kms_driver = gb.kms_driver;
	/* A mediator without its renderer offers no vtest socket, and dom0's private mount namespace needs root:
	 * without either, dom0 renders on the host, and the run says so. */
	seats->vtest = seats->n > n && gb.vtest[0] && is_socket(gb.vtest) && geteuid() == 0 ? gb.vtest : NULL;
	vb_log("%s: booting %d guest%s at once (%s; %s)", c->name, n, n > 1 ? "s" : "", r->host.accel,
	       gb.description);
	if (guests_boot(r, c, c->name, n, dir, env.sockdir, &gb, &gs, reason, sizeof(reason)) < 0) {
		if (!vb_stop_requested) {
			char *why = vb_strdupf("guests did not boot: %s", reason);

			fail_all(r, c, n, why);
			free(why);
		}
	} else if (gb.lab_plan[0]) {
		run_lab(r, c, n, &gs, &gb, dir);
		lab = 1;
	} else if (seats->n > n && start_host_agent(r, &dom0, "dom0", seats->vtest) < 0) {
		if (!vb_stop_requested)
			fail_all(r, c, n, "the dom0 agent did not start");
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

			stored(r, store_host_fact(&r->store, r->id, key, fact), "a host fact");
			free(key);
		}
		pin_topology(r, c, n, &gs, &gb, have_dom0 ? &dom0 : NULL);
		run_workloads(r, c, n, seats, first, last, open);
	}
	if (have_dom0)
		agent_close(&dom0);
	record_backend(r, c, n, &gb, dir);
	guests_stop(&gs);
	gpu_backend_stop(&gb);
	if (link[0])
		unlink(link);
	return lab;
}

/* A guest topology: its repetitions over the plan's boots ([noise] boots), each boot in a folder of its own when
 * there are several (vms/CONFIG-nN-bootB); in an interleaved run, each arm boots in turn, boot by boot. */
static void run_guest_topology(struct run *r, const struct config_def *c, int n)
{
	struct seats seats;
	int boots = config_blocks(r, c, n), lab = 0;

	if (c->max_guests && n > c->max_guests) {
		char *why = vb_strdupf("%s serves at most %d guest%s at once", c->name, c->max_guests,
				       c->max_guests > 1 ? "s" : "");

		vb_log("%s with %d guests: skipped: %s", c->name, n, why);
		for (int k = 0; k < r->narms; k++)
			if (arm_runs(r, k, c)) {
				arm_enter(r, k);
				mark_all(r, c, n, "skipped", why);
			}
		arm_enter(r, 0);
		free(why);
		return;
	}
	if (boots < r->plan.noise.boots)
		vb_log("%s with %d guest%s: one boot for its %d repetitions: no other arm of this run runs it, so it has "
		       "no one to take turns with",
		       c->name, n, n > 1 ? "s" : "", r->plan.repetitions);
	for (int b = 1; b <= boots && !stopping(r) && !lab; b++) {
		for (int j = 0; j < r->narms && !stopping(r) && !lab; j++) {
			int k = arm_at(r, b, j), first = 1, last = r->plan.repetitions, open = b == boots;
			char *dir, arm[160] = "";

			if (!arm_runs(r, k, c))
				continue;
			arm_enter(r, k);
			seats_for(r, c, n, &seats);
			if (boots > 1)
				plan_boot_reps(&r->plan, b, &first, &last);
			if (reps_done(r, c, n, &seats, first, last, open))
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
	arm_enter(r, 0);
}

/* ---- sharing-quality scenarios ---- */

#define SCENARIO_SAMPLE_S 1.0 /* the mediator is asked this often during a scenario job */

/* What one scenario phase runs: the scenario, the policy it runs under, its phase and each guest's workload. */
struct scenario_phase {
	const struct plan_scenario *sc;
	const char *policy, *phase;
	const char *const *seat; /* workload names, NULL for idle */
};

/* Store every guest's job of this phase and repetition as `status` for `reason` (a scenario that cannot run). */
static void scenario_fail(struct run *r, const struct scenario_phase *ph, int rep, const char *status,
			  const char *reason)
{
	struct scenario_row rows[PLAN_MAX_SEATS];
	char names[PLAN_MAX_SEATS][16];
	int n = ph->sc->nguests;

	if (store_scenario_done(&r->store, r->id, ph->sc->name, ph->policy, ph->phase, 1, rep))
		return;
	for (int g = 0; g < n; g++) {
		snprintf(names[g], sizeof(names[g]), "guest%d", g + 1);
		rows[g] = (struct scenario_row){ .scenario = ph->sc->name, .policy_run = ph->policy, .phase = ph->phase,
						 .guest_index = g + 1, .workload = ph->seat[g] ? ph->seat[g] : "idle",
						 .repetition = rep, .status = status, .reason = reason, .wall_s = -1,
						 .vgpu_name = names[g] };
	}
	if (stored(r, store_scenario_jobs(&r->store, r->id, rows, n), "a scenario's jobs"))
		r->jobs_stored += n;
}

/* A frame-rate target's windows: the one-second sample intervals while the guest's own job ran, and those whose
 * frame rate reached the target (the mediator's own windows also count seconds after the job ended). */
static void target_windows(const struct vgpu_sampler *sp, int g, double wall_s, struct vgpu_stats *v)
{
	int n = 0, met = 0;

	for (size_t i = 1; i < sp->ns; i++) {
		const struct vgpu_sample *a = &sp->s[i - 1], *b = &sp->s[i];
		double dt = b->t_s - a->t_s;

		if (!a->present[g] || !b->present[g] || dt <= 0 || b->t_s > wall_s)
			continue;
		n++;
		met += (b->frames[g] - a->frames[g]) / dt >= v->target_fps;
	}
	v->windows = n;
	v->windows_met = met;
}

/* One repetition of a phase: every busy guest runs its workload at once, idle guests run nothing; the mediator's
 * counters are read around it and sampled during it; every guest's row is stored in one transaction. */
static void scenario_rep(struct run *r, const struct config_def *c, const struct scenario_phase *ph, int rep,
			 struct guest_set *gs, const char *control)
{
	const struct plan_scenario *sc = ph->sc;
	int n = sc->nguests, nb = 0, slot[PLAN_MAX_SEATS];
	struct agent_conn *conns[PLAN_MAX_SEATS];
	const char *const *argvs[PLAN_MAX_SEATS];
	const char *bundled[PLAN_MAX_SEATS][32];
	char *bins[PLAN_MAX_SEATS], *logs[PLAN_MAX_SEATS], *before, *after;
	struct job_result res[PLAN_MAX_SEATS];
	struct wl_result *wr = calloc(PLAN_MAX_SEATS, sizeof(*wr));
	struct scenario_row rows[PLAN_MAX_SEATS];
	struct vgpu_stats vs[PLAN_MAX_SEATS];
	char names[PLAN_MAX_SEATS][16], reasons[PLAN_MAX_SEATS][512], label[160];
	const char *namep[PLAN_MAX_SEATS];
	struct vgpu_sampler sp;
	int sampling;
	double total = 0;

	if (!wr)
		abort();
	snprintf(label, sizeof(label), "scenario-%s-%s-%s", sc->name, ph->policy, ph->phase);
	for (int g = 0; g < n; g++) {
		const struct workload_def *w = ph->seat[g] ? workload_find(ph->seat[g]) : NULL;

		snprintf(names[g], sizeof(names[g]), "guest%d", g + 1);
		namep[g] = names[g];
		slot[g] = -1;
		if (!w)
			continue;
		logs[nb] = log_path(r, label, n, g + 1, w->name, rep);
		argvs[nb] = resolved_argv(w, WL_GUEST, bundled[nb], &bins[nb]);
		conns[nb] = &gs->conns[g];
		slot[g] = nb++;
	}
	vb_log("scenario %s, %s, %s: repetition %d/%d (%s)", sc->name, ph->policy, ph->phase, rep, r->plan.repetitions,
	       label);
	before = gpu_backend_request(control, "stats\n");
	sampling = vgpu_sampler_start(&sp, control, namep, n, SCENARIO_SAMPLE_S) == 0;
	agent_run_parallel(conns, nb, argvs, NULL, r->plan.job_timeout_s, (const char *const *)logs, res);
	if (sampling)
		vgpu_sampler_stop(&sp);
	after = gpu_backend_request(control, "stats\n");
	if (!vb_stop_requested) {
		for (int g = 0; g < n; g++) {
			struct vgpu_stats b, a;

			memset(&vs[g], 0, sizeof(vs[g]));
			if (before && after && vgpu_stats_parse(before, names[g], &b) == 0 &&
			    vgpu_stats_parse(after, names[g], &a) == 0)
				vgpu_stats_delta(&b, &a, &vs[g]);
			total += vs[g].present ? vs[g].gpu_ms : 0;
		}
		if (!before || !after)
			vb_err("scenario %s: the mediator's counters could not be read", sc->name);
		/* The contended window: from the start until the first busy guest's job ended, from the samples. */
		double wend = -1;
		size_t last = 0;

		for (int k = 0; k < nb; k++)
			if (res[k].wall_s > 0 && (wend < 0 || res[k].wall_s < wend))
				wend = res[k].wall_s;
		for (size_t i = 0; sampling && i < sp.ns; i++)
			if (sp.s[i].t_s <= wend)
				last = i;
		for (int g = 0; g < n; g++) {
			const struct workload_def *w = ph->seat[g] ? workload_find(ph->seat[g]) : NULL;
			int k = slot[g];
			const char *st = "ok";

			reasons[g][0] = 0;
			rows[g] = (struct scenario_row){ .scenario = sc->name, .policy_run = ph->policy, .phase = ph->phase,
							 .guest_index = g + 1, .workload = w ? w->name : "idle",
							 .repetition = rep, .status = "ok", .wall_s = -1,
							 .vgpu_name = names[g], .vgpu = vs[g].present ? &vs[g] : NULL,
							 .samples = sampling ? sp.s : NULL, .nsamples = sampling ? sp.ns : 0,
							 .sample_col = g, .window_gpu_ms = -1, .window_s = -1 };
			if (sampling && last > 0 && sp.s[0].present[g] && sp.s[last].present[g]) {
				rows[g].window_gpu_ms = sp.s[last].gpu_ms[g] - sp.s[0].gpu_ms[g];
				rows[g].window_s = sp.s[last].t_s - sp.s[0].t_s;
			}
			if (w && vs[g].present && vs[g].target_fps > 0 && sampling)
				target_windows(&sp, g, res[k].wall_s, &vs[g]);
			if (w) {
				st = judge(r, c, SEAT_GUEST, c->guest_kms_driver, w, &res[k], &wr[k], reasons[g],
					   sizeof(reasons[g]));
				rows[g].status = st;
				rows[g].reason = reasons[g][0] ? reasons[g] : NULL;
				rows[g].renderer = wr[k].renderer[0] ? wr[k].renderer : NULL;
				rows[g].wall_s = res[k].wall_s;
				rows[g].log_path = results_rel(r, logs[k]);
				rows[g].metric = w->headline_metric;
				for (int m = 0; m < wr[k].n; m++)
					if (!strcmp(wr[k].m[m].name, w->headline_metric)) {
						rows[g].value = wr[k].m[m].value;
						rows[g].unit = wr[k].m[m].unit;
						rows[g].has_value = 1;
					}
				if (strcmp(st, "ok") != 0 && strcmp(st, "skipped") != 0)
					r->failed_jobs++;
			}
			{
				char what[96];

				if (rows[g].has_value)
					snprintf(what, sizeof(what), "%.1f %s", rows[g].value, rows[g].unit);
				else
					snprintf(what, sizeof(what), "%s", w ? st : "nothing to run");
				vb_log("  %s: %s %s, GPU time %.0f ms (%.0f%% of the guests'), held %.0f ms%s%s", names[g],
				       rows[g].workload, what, vs[g].present ? vs[g].gpu_ms : 0,
				       total > 0 && vs[g].present ? 100 * vs[g].gpu_ms / total : 0,
				       vs[g].present ? vs[g].throttled_ms : 0, reasons[g][0] ? ": " : "", reasons[g]);
			}
		}
		if (stored(r, store_scenario_jobs(&r->store, r->id, rows, n), "a scenario's jobs"))
			r->jobs_stored += n;
	}
	for (int k = 0; k < nb; k++) {
		wl_result_free(&wr[k]);
		job_result_free(&res[k]);
		free(logs[k]);
		free(bins[k]);
	}
	if (sampling)
		vgpu_sampler_free(&sp);
	free(wr);
	free(before);
	free(after);
}

/* Set the mediator to a policy with the scenario's weights and targets. 0, or -1 with the refusal printed. */
static int scenario_policy(const struct plan_scenario *sc, int policy, const char *control)
{
	char line[128], *ans;
	int ok = 1;

	snprintf(line, sizeof(line), "policy %s\n", plan_policy_name(policy));
	ans = gpu_backend_request(control, line);
	ok = ans && strstr(ans, "\"ok\":true");
	if (!ok)
		vb_err("scenario %s: the mediator refused '%s': %s", sc->name, plan_policy_name(policy),
		       ans ? ans : "no answer");
	free(ans);
	for (int g = 1; ok && g <= sc->nguests; g++) {
		snprintf(line, sizeof(line), "set guest%d weight=%d fps=%g\n", g, sc->med.weight[g] ? sc->med.weight[g] : 1,
			 sc->med.target_fps[g]);
		ans = gpu_backend_request(control, line);
		ok = ans && strstr(ans, "\"ok\":true");
		if (!ok)
			vb_err("scenario %s: the mediator refused '%s': %s", sc->name, line, ans ? ans : "no answer");
		free(ans);
	}
	return ok ? 0 : -1;
}

static int phase_done(struct run *r, const struct scenario_phase *ph)
{
	for (int rep = 1; rep <= r->plan.repetitions; rep++)
		for (int g = 1; g <= ph->sc->nguests; g++)
			if (!store_scenario_done(&r->store, r->id, ph->sc->name, ph->policy, ph->phase, g, rep))
				return 0;
	return 1;
}

/* How many phases scenario sc runs under each policy: contended, and baseline when it has one. */
static int scenario_phases(const struct plan_scenario *sc)
{
	return sc->nbaseline ? 2 : 1;
}

/* Phase b (0 contended, 1 baseline) of scenario sc under its policy p. */
static struct scenario_phase scenario_phase_at(const struct plan_scenario *sc, int p, int b)
{
	return (struct scenario_phase){ sc, plan_policy_name(sc->policies[p]), b ? "baseline" : "contended",
					b ? sc->baseline : sc->guests };
}

/* Every phase of scenario sc under its policy p, as `status` for `reason`. */
static void scenario_fail_policy(struct run *r, const struct plan_scenario *sc, int p, const char *status,
				 const char *reason)
{
	for (int b = 0; b < scenario_phases(sc); b++) {
		struct scenario_phase ph = scenario_phase_at(sc, p, b);

		for (int rep = 1; rep <= r->plan.repetitions; rep++)
			scenario_fail(r, &ph, rep, status, reason);
	}
}

/* Every phase of scenario sc under every policy, as `status` for `reason`. */
static void scenario_fail_all(struct run *r, const struct plan_scenario *sc, const char *status, const char *reason)
{
	for (int p = 0; p < sc->npolicies; p++)
		scenario_fail_policy(r, sc, p, status, reason);
}

/* One scenario: its guests booted once on one mediator; under each policy (set over the control socket) the
 * contended phase, then the baseline, each for the plan's repetitions. */
static void run_scenario(struct run *r, const struct config_def *c, const struct plan_scenario *sc)
{
	int n = sc->nguests, all = 1;
	struct guest_set gs;
	struct gpu_backend gb;
	char err[512], reason[512] = "", label[96];
	char *dir;
	struct plan_mediator med = sc->med;

	for (int p = 0; p < sc->npolicies; p++)
		for (int b = 0; b < scenario_phases(sc); b++) {
			struct scenario_phase ph = scenario_phase_at(sc, p, b);

			all &= phase_done(r, &ph);
		}
	if (all)
		return;
	dir = vb_strdupf("%s/vms/sc-%s", r->dir, sc->name); /* short: unix socket paths live in it */
	if (vb_mkdirs(dir, 0755) < 0) {
		vb_err("cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return;
	}
	med.policy = sc->policies[0];
	/* The scenario gives the scheduling; the mediator process's own settings ([mediator]: watchdog, display
	 * refresh, and calibrate's throttle) are the plan's, as for every other mediated boot. */
	med.watchdog_set = r->plan.med.watchdog_set;
	med.watchdog_ms = r->plan.med.watchdog_ms;
	med.watchdog_quarantine = r->plan.med.watchdog_quarantine;
	med.display_fps_set = r->plan.med.display_fps_set;
	med.display_fps = r->plan.med.display_fps;
	med.render_workers = r->plan.med.render_workers;
	memcpy(med.vgpu_mem_mb, r->plan.med.vgpu_mem_mb, sizeof(med.vgpu_mem_mb));
	med.throttle_pct = r->plan.med.throttle_pct;
	char link[64];
	struct backend_env env = {
		.host = &r->host, .plan = &r->plan, .dir = dir, .mediator = r->mediator, .memory_mb = r->plan.memory_mb,
		.sched = &med
	};

	env.sockdir = socket_dir(dir, link, sizeof(link));
	if (gpu_backend_start(&gb, c, n, &env, err, sizeof(err)) < 0 || !gb.control[0]) {
		char *why = vb_strdupf("the mediator did not start: %s", err);

		vb_err("scenario %s: %s", sc->name, why);
		scenario_fail_all(r, sc, "failed", why);
		free(why);
		if (link[0])
			unlink(link);
		free(dir);
		return;
	}
	snprintf(label, sizeof(label), "scenario:%s", sc->name);
	vb_log("scenario %s: booting %d guests at once (%s; %s)", sc->name, n, r->host.accel, gb.description);
	if (guests_boot(r, c, label, n, dir, env.sockdir, &gb, &gs, reason, sizeof(reason)) < 0) {
		if (!vb_stop_requested) {
			char *why = vb_strdupf("guests did not boot: %s", reason);

			scenario_fail_all(r, sc, "failed", why);
			free(why);
		}
	} else {
		for (int p = 0; p < sc->npolicies && !stopping(r); p++) {
			if (scenario_policy(sc, sc->policies[p], gb.control) < 0) {
				scenario_fail_policy(r, sc, p, "failed", "the mediator refused the policy");
				continue;
			}
			for (int b = 0; b < scenario_phases(sc) && !stopping(r); b++) {
				struct scenario_phase ph = scenario_phase_at(sc, p, b);

				for (int rep = 1; rep <= r->plan.repetitions && !stopping(r); rep++)
					if (!store_scenario_done(&r->store, r->id, sc->name, ph.policy, ph.phase, 1, rep))
						scenario_rep(r, c, &ph, rep, &gs, gb.control);
			}
		}
	}
	record_backend(r, c, n, &gb, dir);
	guests_stop(&gs);
	gpu_backend_stop(&gb);
	if (link[0])
		unlink(link);
	free(dir);
}

/* The plan's scenarios, on the mediated configuration; where it cannot run here, each is stored skipped with why. */
static void run_scenarios(struct run *r)
{
	const struct config_def *c = config_with_role(ROLE_MEDIATED);
	char buf[256];
	const char *skip;

	if (!r->plan.nscenarios)
		return;
	skip = c ? host_skip_reason(&r->host, &r->plan, c, buf, sizeof(buf)) : "no mediated configuration is built in";
	for (int i = 0; i < r->plan.nscenarios && !stopping(r); i++) {
		if (skip) {
			vb_log("scenario %s: skipped: %s", r->plan.scenarios[i].name, skip);
			scenario_fail_all(r, &r->plan.scenarios[i], "skipped", skip);
			continue;
		}
		if (ensure_image(r) < 0) {
			scenario_fail_all(r, &r->plan.scenarios[i], "failed",
					  "the guest image could not be built (see the harness's messages)");
			continue;
		}
		run_scenario(r, c, &r->plan.scenarios[i]);
	}
}

static void record_host(struct run *r)
{
	struct host *h = &r->host;
	char cpus[16], mem[32];

	snprintf(cpus, sizeof(cpus), "%d", h->cpus);
	snprintf(mem, sizeof(mem), "%lld", h->mem_kb);
	const char *const facts[][2] = {
		{ "accel", h->accel },
		{ "accel_reason", h->accel_reason[0] ? h->accel_reason : "KVM boots the guest kernel (boot probe)" },
		{ "qemu", h->qemu_version[0] ? h->qemu_version : NULL },
		{ "host_kernel", h->host_kernel },
		{ "guest_kernel", h->guest_kernel },
		{ "cpu_model", h->cpu_model },
		{ "cpus", cpus },
		{ "mem_kb", mem },
		{ "mesa", h->mesa_version },
		{ "virglrenderer", h->virglrenderer_version[0] ? h->virglrenderer_version : NULL },
		{ "host_gpu", h->has_render_node ? "render node present" : "none: native renders with llvmpipe on the CPU" },
	};

	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]) && !r->fatal[0]; i++)
		stored(r, store_host_fact(&r->store, r->id, facts[i][0], facts[i][1]), "the host's facts");
}

/* What runs killed before they could stop left behind (a device still on vfio-pci, say), given back first. */
static void recover_left_behind(struct run *r)
{
	for (size_t i = 0; config_at(i); i++) {
		const struct config_def *c = config_at(i);
		char msg[1024] = "";
		int n;

		if (!c->recover)
			continue;
		n = c->recover(&r->host, r->results, msg, sizeof(msg));
		if (n < 0)
			vb_err("%s: what an earlier run left behind could not all be given back: %s", c->name, msg);
		else if (n > 0)
			vb_log("%s: gave back %d device%s an earlier run left bound (see its journal)", c->name, n,
			       n > 1 ? "s" : "");
	}
	int links = vb_short_links_recover();

	if (links > 0)
		vb_log("removed %d short socket link%s a killed harness left in /tmp", links, links > 1 ? "s" : "");
	/* A run killed while its native jobs ran under an injected slowdown left their CPU quota's cgroup. */
	int groups = cpu_quota_recover("/sys/fs/cgroup", "vgpubench-");

	if (groups > 0)
		vb_log("removed %d CPU quota group%s an earlier run left behind", groups, groups > 1 ? "s" : "");
}

static int locate_parts(struct run *r)
{
	const char *exe = vb_exe_dir();

	snprintf(r->agent, sizeof(r->agent), "%s/vgpu-agent", exe);
	snprintf(r->mediator, sizeof(r->mediator), "%s/vgpu-mediator", exe);
	snprintf(r->init, sizeof(r->init), "%s/../harness/guest/init.sh", exe);
	snprintf(r->cache, sizeof(r->cache), "%s/images", exe);
	snprintf(r->accel_cache, sizeof(r->accel_cache), "%s/accel-probe.json", exe);
	if (access(r->agent, X_OK) < 0) {
		vb_err("the guest agent %s is missing: run make", r->agent);
		return -1;
	}
	if (access(r->init, R_OK) < 0) {
		vb_err("the guest init script %s is missing", r->init);
		return -1;
	}
	return 0;
}

/* A run id: time, plan name and, when another run took that already, a number. */
static void make_run_id(char *id, size_t len, const char *name, int attempt)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	if (attempt)
		snprintf(id, len, "%s-%s-%d", ts, name, attempt + 1);
	else
		snprintf(id, len, "%s-%s", ts, name);
}

/* A run folder: stored relative to the results folder (which may move), used absolute. 0 or -1. */
static int run_dir_of(const struct run *r, const char *rel, char *dir, size_t len)
{
	int n;

	if (rel[0] == '/')
		n = snprintf(dir, len, "%s", rel); /* written before paths were relative */
	else
		n = snprintf(dir, len, "%s/%s", r->results, rel);
	if (n < 0 || (size_t)n >= len) {
		vb_err("the run folder %s/%s is too long a path", r->results, rel);
		return -1;
	}
	return 0;
}

static int set_run_dir(struct run *r, const char *rel)
{
	return run_dir_of(r, rel, r->dir, sizeof(r->dir));
}

/*
 * Own the run while this harness lives: an advisory lock on a file in the
 * run folder, with our PID in it. 0, or -1 with a message (another harness
 * runs it, naming its PID).
 */
static int own_run(struct run *r)
{
	char *path = vb_strdupf("%s/owner.lock", r->dir), pid[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		vb_err("cannot create %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;
		char *held = busy ? vb_read_file_max(path, 64, NULL) : NULL;

		if (busy)
			vb_err("run %s is being run right now by vgpubench PID %ld (lock %s); refusing to run it twice",
			       r->id, held ? strtol(held, NULL, 10) : -1L, path);
		else
			vb_err("cannot lock %s: %s", path, strerror(errno));
		free(held);
		close(fd);
		free(path);
		return -1;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid))
		vb_err("cannot write our PID into %s: %s", path, strerror(errno));
	r->lock_fd = fd;
	free(path);
	return 0;
}

const char *runner_shown_status(const char *results, const char *dir, const char *status)
{
	char *path;
	int fd, owned = 1;

	if (strcmp(status, "running") != 0)
		return status;
	path = dir[0] == '/' ? vb_strdupf("%s/owner.lock", dir) : vb_strdupf("%s/%s/owner.lock", results, dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	/* No lock file yet: the run was just created and its harness has not taken it (or could not: then the run is
	 * marked failed). A lock file nobody holds: its harness is gone. */
	if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) == 0)
		owned = 0;
	if (fd >= 0)
		close(fd);
	free(path);
	return owned ? status : "interrupted";
}

/* Load the plan of a run to resume and find its folder. 0 or -1 (message printed). */
static int load_resumed(struct run *r, const char *resume_id, const char *db, char **plan_text)
{
	char *ppath, *pdir, *status, *label;
	char err[1024];
	int rc = -1;

	if (store_run_load(&r->store, resume_id, &ppath, plan_text, &pdir, &status) < 0) {
		vb_err("no run '%s' in %s", resume_id, db);
		return -1;
	}
	label = vb_strdupf("%s (plan stored with run %s)", ppath, resume_id);
	if (plan_parse(label, *plan_text, &r->plan, err, sizeof(err)) < 0) {
		vb_err("%s", err);
	} else {
		r->was_complete = strcmp(status, "complete") == 0;
		if (r->was_complete)
			vb_log("run %s is already complete; checking for missing jobs anyway", resume_id);
		snprintf(r->id, sizeof(r->id), "%s", resume_id);
		rc = set_run_dir(r, pdir);
	}
	free(label);
	free(ppath);
	free(pdir);
	free(status);
	return rc;
}

/* Record a new run of plan `name` under a fresh id (another harness may start the same plan in the same second) into
 * arm a (its id and folder). 0 or -1. */
static int create_run(struct run *r, struct arm *a, const char *name, const char *plan_path, const char *plan_text)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		make_run_id(a->id, sizeof(a->id), name, attempt);
		char *rel = vb_strdupf("runs/%s", a->id);
		int rc = run_dir_of(r, rel, a->dir, sizeof(a->dir)) < 0
			     ? -1
			     : store_run_create(&r->store, a->id, name, plan_path, plan_text, rel);

		free(rel);
		if (rc == 0) {
			vb_log("run %s: plan %s", a->id, plan_path);
			return 0;
		}
		if (rc != -2)
			return -1;
	}
	vb_err("could not find a free run id for plan %s", name);
	return -1;
}

int runner_run(const char *results_dir, const char *reports_dir, const char *plan_path, const char *resume_id)
{
	return runner_run_with(results_dir, reports_dir, plan_path, resume_id, NULL);
}

/* The current arm's slowdown: asked for (pct, a new run) or recorded (a resumed one); the mediator's throttle follows
 * it. 0, or -1 when it could not be recorded. */
static int set_slowdown(struct run *r, int resumed, int pct)
{
	char *fact;

	if (resumed) {
		fact = store_host_fact_get(&r->store, r->id, RUNNER_SLOWDOWN_FACT);
		r->slowdown_pct = fact ? atoi(fact) : 0;
		free(fact);
	} else if (pct > 0) {
		r->slowdown_pct = pct;
		fact = vb_strdupf("%d%%: a mediator's --throttle %d (mediated rows), a CPU quota of %d%% of the host's "
				  "CPUs (native rows); configurations without a knob as they are",
				  r->slowdown_pct, r->slowdown_pct, 100 - r->slowdown_pct);
		int rc = store_host_fact(&r->store, r->id, RUNNER_SLOWDOWN_FACT, fact);

		free(fact);
		if (!stored(r, rc, "a host fact"))
			return -1;
	}
	r->plan.med.throttle_pct = r->slowdown_pct;
	r->arms[r->arm].slowdown_pct = r->slowdown_pct;
	if (r->slowdown_pct)
		vb_log("run %s: a %d%% slowdown is injected on purpose (%s)", r->id, r->slowdown_pct, RUNNER_SLOWDOWN_FACT);
	return 0;
}

/* The mediator arm a starts: its own (checked: it must run), or this build's. 0, or -1 with a message. */
static int check_arm_mediator(const struct run_arm *ra, struct arm *a)
{
	a->names_mediator = ra->mediator != NULL;
	if (!ra->mediator)
		return 0; /* arms[0]'s, copied by the caller */
	struct stat st;

	if (!realpath(ra->mediator, a->mediator) || stat(a->mediator, &st) < 0 || access(a->mediator, X_OK) < 0) {
		vb_err("the mediator %s of an interleaved arm cannot be run: %s", ra->mediator, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		vb_err("the mediator %s of an interleaved arm is not a program (a file): it is a %s", ra->mediator,
		       S_ISDIR(st.st_mode) ? "folder" : "special file");
		return -1;
	}
	return 0;
}

/* Does arm k run anything of the plan: a configuration, or the scenarios (which run on the mediator)? */
static int arm_runs_any(const struct run *r, int k)
{
	const struct config_def *m = config_with_role(ROLE_MEDIATED);

	for (int i = 0; i < r->plan.nconfigs; i++)
		if (arm_runs(r, k, config_find(r->plan.configs[i])))
			return 1;
	return r->plan.nscenarios && m && arm_runs(r, k, m);
}

/* Can the arms o asks for run (how many, their mediators)? Checked before the run is created: 1, or 0 with a
 * message. */
static int arms_valid(struct run *r, const struct run_opts *o)
{
	if (o->narms < 0 || o->narms > RUN_MAX_ARMS - 1) {
		vb_err("a run interleaves at most %d arms besides its own (asked for %d)", RUN_MAX_ARMS - 1, o->narms);
		return 0;
	}
	for (int i = 0; i < o->narms; i++) {
		struct arm *a = &r->arms[i + 1];

		if (check_arm_mediator(&o->arms[i], a) < 0)
			return 0;
		a->slowdown_pct = o->arms[i].slowdown_pct;
		a->changed_only = o->arms[i].changed_only;
		/* An arm that would run nothing compares nothing: say so before anything runs. */
		if (!arm_runs_any(r, i + 1)) {
			vb_err("interleaved arm %d (%s) changes nothing plan %s runs: it needs a configuration that starts "
			       "the mediator%s",
			       i + 1, a->names_mediator ? o->arms[i].mediator : "a slowdown", r->plan.name,
			       a->names_mediator ? " (mediated, or a scenario)" : " or is slowed down");
			return 0;
		}
	}
	return 1;
}

/* The arms of a new interleaved run (o->arms): each a run of its own, plan `base` + its suffix, named in the run's
 * host facts and naming the run in its own. 0, or -1 with a message. */
static int create_arms(struct run *r, const struct run_opts *o, const char *base, const char *plan_path,
		       const char *plan_text)
{
	for (int i = 0; i < o->narms; i++) {
		const struct run_arm *ra = &o->arms[i];
		struct arm *a = &r->arms[i + 1];
		char *name, *key, *fact;
		int rc;

		/* arms_valid checked its mediator already */
		if (!a->names_mediator)
			snprintf(a->mediator, sizeof(a->mediator), "%s", r->arms[0].mediator);
		a->slowdown_pct = ra->slowdown_pct;
		a->changed_only = ra->changed_only;
		name = vb_strdupf("%s%s", base, ra->name_suffix ? ra->name_suffix : "-arm");
		if (strlen(name) >= sizeof(r->plan.name)) {
			vb_err("plan name %s is too long", name);
			free(name);
			return -1;
		}
		rc = create_run(r, a, name, plan_path, plan_text);
		free(name);
		if (rc < 0)
			return -1;
		r->narms++;
		if (ra->id_out)
			snprintf(ra->id_out, ra->id_len, "%s", a->id);
		key = vb_strdupf("%s %d", RUNNER_ARM_FACT, i + 1);
		fact = vb_strdupf("%s (%s)", a->id,
				  a->changed_only ? "only the configurations it changes" : "every configuration");
		rc = store_host_fact(&r->store, r->arms[0].id, key, fact) < 0 ||
		     store_host_fact(&r->store, a->id, RUNNER_ARM_OF_FACT, r->arms[0].id) < 0 ||
		     (a->names_mediator && store_host_fact(&r->store, a->id, RUNNER_ARM_MEDIATOR_FACT, a->mediator) < 0);
		free(key);
		free(fact);
		if (!rc && ra->compare_threshold_pct > 0) {
			fact = vb_strdupf("%g", ra->compare_threshold_pct);
			rc = store_host_fact(&r->store, a->id, RUNNER_ARM_THRESHOLD_FACT, fact) < 0;
			free(fact);
		}
		if (rc) {
			vb_err("cannot record the interleaved arm %s: %s", a->id, r->store.err);
			return -1;
		}
		vb_log("run %s: interleaved with run %s (mediator %s%s)", r->arms[0].id, a->id, a->mediator,
		       a->changed_only ? "; only the configurations it changes" : "");
	}
	return 0;
}

/* The arms of a resumed run, from its host facts. 0, or -1 with a message. */
static int load_arms(struct run *r)
{
	for (int k = 1; k < RUN_MAX_ARMS; k++) {
		char *ppath = NULL, *ptext = NULL, *pdir = NULL, *status = NULL, *med = NULL;
		struct arm *a = &r->arms[k];
		int rc = -1;

		if (!runner_arm_id(&r->store, r->id, k, a->id, sizeof(a->id), &a->changed_only))
			return 0;
		if (!vb_is_identifier(a->id) || store_run_load(&r->store, a->id, &ppath, &ptext, &pdir, &status) < 0) {
			vb_err("run %s names an interleaved arm '%s' the database does not hold", r->id, a->id);
		} else if (run_dir_of(r, pdir, a->dir, sizeof(a->dir)) == 0) {
			med = store_host_fact_get(&r->store, a->id, RUNNER_ARM_MEDIATOR_FACT);
			a->names_mediator = med != NULL; /* none: it starts this build's */
			snprintf(a->mediator, sizeof(a->mediator), "%s", med ? med : r->arms[0].mediator);
			r->narms++;
			rc = 0;
		}
		free(ppath);
		free(ptext);
		free(pdir);
		free(status);
		free(med);
		if (rc < 0)
			return -1;
	}
	return 0;
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

int runner_run_with(const char *results_dir, const char *reports_dir, const char *plan_path, const char *resume_id,
		    const struct run_opts *opts)
{
	struct run *r = calloc(1, sizeof(*r));
	char err[1024];
	char *db = NULL, *plan_text = NULL, base[sizeof(r->plan.name)] = "";
	int rc = 1, need_x = 0;

	if (!r)
		return 1;
	r->lock_fd = -1;
	vb_catch_stop_signals(on_signal);
	if (locate_parts(r) < 0)
		goto out;
	if (vb_mkdirs(results_dir, 0755) < 0 || !realpath(results_dir, r->results)) {
		vb_err("cannot create %s: %s", results_dir, strerror(errno));
		goto out;
	}
	db = vb_strdupf("%s/vgpubench.db", results_dir);
	if (store_open(&r->store, db) < 0)
		goto out;

	if (resume_id) {
		char *of;

		if (load_resumed(r, resume_id, db, &plan_text) < 0)
			goto out;
		if ((of = store_host_fact_get(&r->store, r->id, RUNNER_ARM_OF_FACT))) {
			vb_err("run %s is an arm of the interleaved run %s: resume that one (vgpubench run --resume %s)",
			       r->id, of, of);
			free(of);
			goto out;
		}
	} else if (opts && opts->plan_text && plan_parse(plan_path, opts->plan_text, &r->plan, err, sizeof(err)) < 0) {
		vb_err("%s", err);
		goto out;
	} else if (opts && opts->plan_text && !(plan_text = vb_strdup(opts->plan_text))) {
		goto out;
	} else if ((!opts || !opts->plan_text) && plan_load(plan_path, &r->plan, &plan_text, err, sizeof(err)) < 0) {
		vb_err("%s", err);
		goto out;
	} else if (opts && opts->name_suffix) {
		size_t len = strlen(r->plan.name);

		memcpy(base, r->plan.name, len + 1); /* the arms' names start from the plan's own */
		if (len + strlen(opts->name_suffix) >= sizeof(r->plan.name)) {
			vb_err("plan name %s%s is too long", r->plan.name, opts->name_suffix);
			goto out;
		}
		memcpy(r->plan.name + len, opts->name_suffix, strlen(opts->name_suffix) + 1);
	} else {
		memcpy(base, r->plan.name, strlen(r->plan.name) + 1);
	}
	/* Guests' paths go into option lists (QEMU's -chardev path=..., the mediator's --vgpu socket=...) that a
	 * comma would split: refused before the run exists. */
	if (plan_boots_guests(&r->plan) && strchr(r->results, ',')) {
		vb_err("the results folder %s has a comma, which QEMU's and the mediator's option lists cannot carry "
		       "in the paths guests use: choose another --results",
		       r->results);
		goto out;
	}
	/* What the host can do, before the run exists: a forced accelerator that cannot work stops here. */
	host_probe(&r->host);
	if (!plan_boots_guests(&r->plan)) {
		snprintf(r->host.accel_reason, sizeof(r->host.accel_reason), "the plan boots no guest");
	} else if (host_choose_accel(&r->host, r->plan.accel, r->accel_cache, err, sizeof(err)) < 0) {
		vb_err("%s", err);
		goto out;
	}
	snprintf(r->arms[0].mediator, sizeof(r->arms[0].mediator), "%s", r->mediator);
	r->narms = 1;
	if (resume_id) {
		snprintf(r->arms[0].id, sizeof(r->arms[0].id), "%s", r->id);
		snprintf(r->arms[0].dir, sizeof(r->arms[0].dir), "%s", r->dir);
		if (load_arms(r) < 0)
			goto out;
	} else if (opts && !arms_valid(r, opts)) {
		goto out;
	} else if (create_run(r, &r->arms[0], r->plan.name, plan_path, plan_text) < 0) {
		goto out;
	} else {
		arm_enter(r, 0);
		if (opts && opts->id_out)
			snprintf(opts->id_out, opts->id_len, "%s", r->id);
		if (opts && opts->narms && create_arms(r, opts, base, plan_path, plan_text) < 0) {
			set_status_all(r, "failed", "its interleaved arms could not be set up");
			goto out;
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
			goto out;
		}
		free(logs);
	}
	if (own_run(r) < 0)
		goto out;
	/* A complete run stays complete (and keeps its finished_at) unless a missing job is found and stored. */
	if (resume_id && !r->was_complete) {
		if (!stored(r, set_status_all(r, "running", NULL), "the run's status"))
			goto finish;
		vb_log("resuming run %s", r->id);
	}

	for (int k = 0; k < r->narms && !stopping(r); k++) {
		arm_enter(r, k);
		record_host(r);
		int pct = resume_id || !opts ? 0 : k ? opts->arms[k - 1].slowdown_pct : opts->slowdown_pct;

		if (set_slowdown(r, resume_id != NULL, pct) < 0)
			goto finish;
	}
	arm_enter(r, 0);
	if (r->narms > 1 && r->plan.noise.boots < 2)
		vb_log("run %s: with one boot a topology ([noise] boots = 1) its %d arms run one after the other, not in "
		       "turns: boots = 2 or more interleave them",
		       r->id, r->narms);
	recover_left_behind(r);
	if (strcmp(r->host.accel, "none") == 0)
		vb_log("host: QEMU %s, guest kernel %s; %s", r->host.qemu_version, r->host.kernel_version,
		       r->host.accel_reason);
	else
		vb_log("host: guests under %s, QEMU %s, guest kernel %s%s%s", r->host.accel, r->host.qemu_version,
		       r->host.kernel_version, r->host.accel_reason[0] ? "; " : " (KVM boots the guest kernel)",
		       r->host.accel_reason);

	const char *skip[PLAN_MAX_LIST];

	for (int i = 0; i < r->plan.nconfigs; i++) {
		const struct config_def *c = config_find(r->plan.configs[i]);
		static char bufs[PLAN_MAX_LIST][256];

		skip[i] = host_skip_reason(&r->host, &r->plan, c, bufs[i], sizeof(bufs[i]));
		for (int k = 0; k < r->narms; k++) {
			char *why = skip[i] || arm_runs(r, k, c)
					    ? NULL
					    : vb_strdupf("this arm of interleaved run %s does not change it: that run "
							 "measures it",
							 r->arms[0].id);

			stored(r,
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
	need_x |= r->plan.nscenarios > 0;
	for (int k = 0; k < r->narms; k++) {
		arm_enter(r, k);
		apply_noise_settings(r);
	}
	arm_enter(r, 0);
	char *xlog = vb_strdupf("%s/xvfb.log", r->dir);
	int x_ok = !need_x || stopping(r) || xvfb_start(&r->x, xlog, vb_scaled(10)) == 0;

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

	for (int i = 0; i < r->plan.nconfigs && !stopping(r); i++) {
		const struct config_def *c = config_find(r->plan.configs[i]);
		const char *why = NULL;

		if (skip[i])
			continue;
		if (!x_ok)
			why = "the private Xvfb did not start (see xvfb.log in the run folder)";
		else if (c->kind == CONFIG_GUEST && ensure_image(r) < 0)
			why = "the guest image could not be built (see the harness's messages)";
		if (why) {
			for (int k = 0; k < r->narms; k++)
				if (arm_runs(r, k, c)) {
					arm_enter(r, k);
					fail_config(r, c, why);
				}
			arm_enter(r, 0);
			continue;
		}
		if (c->kind == CONFIG_HOST) {
			run_host_config(r, c);
			continue;
		}
		for (int t = 0; t < r->plan.nguests && !stopping(r); t++)
			run_guest_topology(r, c, r->plan.guests[t]);
	}
	if (x_ok && !stopping(r))
		run_scenarios(r);
	xvfb_stop(&r->x);
finish:
	if (r->fatal[0]) {
		vb_err("run %s stopped: %s", r->id, r->fatal);
		if (set_status_all(r, "failed", r->fatal) < 0)
			vb_err("the run could not be marked failed either; it stays 'running' in %s", db);
		vb_err("what was stored before is kept in %s; once the cause is gone, continue with: "
		       "vgpubench run --resume %s",
		       db, r->id);
		rc = 1;
		goto out;
	}
	if (vb_stop_requested) {
		if (set_status_all(r, "interrupted", "interrupted by a signal") < 0)
			vb_err("the run could not be marked interrupted; it stays 'running' in %s", db);
		vb_log("interrupted: results so far are in %s; continue with: vgpubench run --resume %s", db, r->id);
		rc = 130;
		goto out;
	}
	if (r->was_complete && r->jobs_stored == 0) {
		vb_log("run %s: no job was missing; it stays as it was (complete, finished at the time it finished)",
		       r->id);
	} else if (set_status_all(r, "complete", NULL) < 0) {
		vb_err("every job is stored, but the run could not be marked complete: %s", r->store.err);
		rc = 1;
		goto out;
	}
	summary_print(&r->store, r->id, stdout);
	printf("\nrun %s: database %s, logs %s\n", r->id, db, r->dir);
	for (int k = 1; k < r->narms; k++)
		printf("interleaved arm %d: run %s (mediator %s%s%s), logs %s; compare: vgpubench compare %s %s\n", k,
		       r->arms[k].id, r->arms[k].names_mediator ? r->arms[k].mediator : "this build's",
		       r->arms[k].slowdown_pct ? ", a slowdown injected" : "",
		       r->arms[k].changed_only ? ", only what it changes" : "", r->arms[k].dir, r->id, r->arms[k].id);
	rc = r->failed_jobs ? 3 : 0;
	{
		char *report = NULL;

		if (report_generate(&r->store, r->id, reports_dir, &report) == 0) {
			printf("report: %s\n", report);
		} else {
			vb_err("the report %s is incomplete or missing (see above); the results are stored",
			       report ? report : "");
			rc = 1;
		}
		free(report);
	}
out:
	xvfb_stop(&r->x);
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
