/* commands.c: what each vgpubench command does, one handler each (cli.c's table names them): list, show,
 * compare, export and report read the store; run, calibrate and doctor hand over to the runner, calibrate and
 * doctor. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "run/calibrate.h"
#include "cli.h"
#include "analysis/compare.h"
#include "doctor.h"
#include "host/host_id.h"
#include "analysis/trends.h"
#include "report/export.h"
#include "report/import.h"
#include "report/report.h"
#include "run/runner.h"
#include "store/store.h"
#include "analysis/summary.h"
#include "util.h"
#include "workload.h"

static int cmd_workloads(void)
{
	for (size_t i = 0; workload_at(i); i++) {
		const struct workload_def *w = workload_at(i);

		printf("%s (%s): %s\n  budget: %s\n", w->name, w->cls, w->description, w->budget);
		printf("  host:  ");
		for (const char *const *a = w->argv(WL_HOST); *a; a++)
			printf(" %s", *a);
		printf("\n  guest: ");
		for (const char *const *a = w->argv(WL_GUEST); *a; a++)
			printf(" %s", *a);
		printf("\n");
		for (const char *const *n = w->requires; n && *n; n++)
			printf("  needs: %s\n", *n);
		for (const struct wl_metric_decl *d = w->metrics; d && d->pattern; d++)
			printf("  metric %-26s %-10s %-6s %s\n", d->pattern, d->unit, d->higher_is_better ? "higher" : "lower",
			       d->what);
		printf("\n");
	}
	return 0;
}

struct list_ctx {
	struct store *s;
	const char *results;
};

static void print_run(void *ctx, const char *id, const char *host, const char *status, const char *started_at,
		      int jobs, int ok)
{
	struct list_ctx *l = ctx;
	char *pp = NULL, *pt = NULL, *dir = NULL, *st = NULL, count[32];
	const char *shown = status;

	if (strcmp(status, "running") == 0 && store_run_load(l->s, id, &pp, &pt, &dir, &st) == 0)
		shown = runner_shown_status(l->results, dir, status);
	snprintf(count, sizeof(count), "%d/%d", ok, jobs);
	printf("%-40s %-12s %-22s %-8s %s\n", id, shown, started_at, count, host[0] ? host : "?");
	free(pp);
	free(pt);
	free(dir);
	free(st);
}

/* list [--host H|all]: the runs of host H (default: this host), or of every host; runs stored before hosts were
 * recorded ("?") with any. */
static int cmd_list(const char *results, const char *host)
{
	struct store s;
	char *db = store_url(results), label[HOST_LABEL_MAX + 1];
	int rc = 0;

	if (!host)
		host_label(label, sizeof(label));
	else if (strcmp(host, "all") != 0)
		host_label_of(host, label, sizeof(label));
	if (store_open_read(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	printf("%-40s %-12s %-22s %-8s %s\n", "run", "status", "started", "jobs ok", "host");
	struct list_ctx l = { .s = &s, .results = results };

	if (store_run_list(&s, host && !strcmp(host, "all") ? NULL : label, print_run, &l) < 0)
		rc = 1; /* said by the store */
	store_close(&s);
	return rc;
}

/* The newest run store_run_list gives (they come oldest first). */
struct latest {
	char id[256];
};

static void keep_latest(void *ctx, const char *id, const char *host, const char *status, const char *started_at,
			int jobs, int ok)
{
	(void)host, (void)status, (void)started_at, (void)jobs, (void)ok;
	snprintf(((struct latest *)ctx)->id, sizeof(((struct latest *)ctx)->id), "%s", id);
}

/* For show and report without a run id: the newest run of host (NULL: this host) into l. 0, or 1 (said). */
static int latest_run(const char *results, const char *host, struct latest *l)
{
	struct store s;
	char *db = store_url(results), label[HOST_LABEL_MAX + 1];
	int rc = 0;

	if (host)
		host_label_of(host, label, sizeof(label));
	else
		host_label(label, sizeof(label));
	l->id[0] = '\0';
	if (store_open_read(&s, db) < 0) {
		free(db);
		return 1;
	}
	if (store_run_list(&s, label, keep_latest, l) < 0) {
		rc = 1; /* said by the store */
	} else if (!l->id[0]) {
		vb_err("no run of host %s in %s (vgpubench list --host all shows every host's)", label, db);
		rc = 1;
	}
	store_close(&s);
	free(db);
	return rc;
}

static int cmd_show(const char *results, const char *run)
{
	struct store s;
	char *db = store_url(results);
	char *pp, *pt, *dir, *status;
	int rc = 0;

	if (store_open_read(&s, db) < 0) {
		free(db);
		return 1;
	}
	if (store_run_load(&s, run, &pp, &pt, &dir, &status) < 0) {
		vb_err("no run '%s' in %s", run, db);
		rc = 1;
	} else if (calibrate_print(&s, run, stdout) == 0) {
		free(pp);
		free(pt);
		free(dir);
		free(status);
	} else {
		char *why = store_run_reason(&s, run);

		const char *shown = runner_shown_status(results, dir, status);

		if (shown != status && !why)
			why = vb_strdupf("its harness is gone (killed?); continue with: vgpubench run --resume %s", run);
		printf("run %s (%s%s%s), logs in %s%s%s\n", run, shown, why ? ": " : "", why ? why : "",
		       dir[0] == '/' ? "" : results, dir[0] == '/' ? "" : "/", dir);
		free(why);
		summary_print(&s, run, stdout);
		free(pp);
		free(pt);
		free(dir);
		free(status);
	}
	store_close(&s);
	free(db);
	return rc;
}

/* Runs of different plans can be compared, but the user should know. */
static void warn_if_plans_differ(struct store *s, const char *run, const char *base)
{
	char *pp[2] = { NULL, NULL }, *pt[2] = { NULL, NULL }, *dir, *status;
	const char *ids[2] = { run, base };

	for (int i = 0; i < 2; i++)
		if (ids[i] && ids[i][0] && store_run_load(s, ids[i], &pp[i], &pt[i], &dir, &status) == 0) {
			free(dir);
			free(status);
		}
	if (pt[0] && pt[1] && strcmp(pt[0], pt[1]) != 0)
		vb_warn("%s and %s ran different plans (%s, %s): differences may come from the plans", run, base, pp[0],
			pp[1]);
	for (int i = 0; i < 2; i++) {
		free(pp[i]);
		free(pt[i]);
	}
}

/* Which host a compare's baseline comes from. */
struct compare_hosts {
	const char *host; /* --host: the baseline is the previous run of the plan on this host (NULL: RUN's own) */
	int cross;        /* --cross-host: a baseline from another host is allowed */
};

/* The baseline of run (into base): the one named, or the previous run of its plan on the host asked for. Across
 * hosts only with --cross-host, and then said at the top. 0, 1 (said), or 2 (a usage error, said). */
static int choose_baseline(struct store *s, const char *run, const char *named, const struct compare_hosts *h,
			   char *base, size_t len)
{
	char label[HOST_LABEL_MAX + 1], *rh = store_run_host(s, run), *bh = NULL;
	int rc = 0;

	if (h->host)
		host_label_of(h->host, label, sizeof(label));
	if (!named && store_previous_run(s, run, h->host ? label : NULL, base, len) < 0) {
		vb_err("no earlier complete run of the same plan on %s to compare %s with; name a baseline",
		       h->host ? label : rh ? rh : "its host", run);
		rc = 1;
		goto out;
	}
	if (named)
		snprintf(base, len, "%s", named);
	bh = store_run_host(s, base);
	if (rh && bh && strcmp(rh, bh) != 0) {
		if (!h->cross) {
			vb_err("%s ran on %s and %s on %s: comparing runs of two hosts needs --cross-host", run, rh,
			       base, bh);
			rc = 2;
			goto out;
		}
		printf("cross-host comparison: %s on %s against %s on %s; a difference may be the hosts', not a "
		       "change's\n\n",
		       run, rh, base, bh);
	}
out:
	free(rh);
	free(bh);
	return rc;
}

static int cmd_compare(const char *results, const char *run, const char *named, double threshold,
		       const struct compare_hosts *h)
{
	struct store s;
	struct comparison c;
	struct compare_opts o = { .threshold_pct = threshold, .alpha = 0.05 };
	char *db = store_url(results), base[STORE_RUN_ID_MAX];
	int rc;

	if (store_open_read(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	if (!store_run_exists(&s, run) || (named && !store_run_exists(&s, named))) {
		vb_err("no run '%s' in the database", store_run_exists(&s, run) ? named : run);
		store_close(&s);
		return 1;
	}
	if ((rc = choose_baseline(&s, run, named, h, base, sizeof(base))) != 0 ||
	    compare_build(&s, run, base, &o, &c) < 0) {
		store_close(&s);
		return rc ? rc : 1;
	}
	warn_if_plans_differ(&s, run, c.base);
	if (compare_series_marks(&s, &c) < 0)
		vb_log("compare: the series could not be read: flagged rows are not marked by their trend");
	compare_print(&c, &o, stdout);
	rc = c.regressions || c.status_regressions ? 4 : 0;
	compare_free(&c);
	store_close(&s);
	return rc;
}

/*
 * vgpubench run PLAN --baseline-mediator PATH: the plan's run, with an arm
 * whose mediated rows start the mediator at PATH, the two taking turns boot
 * by boot (runner.h run_arm), then the run compared with its arm: 4 when
 * this build regressed against the baseline, else the run's exit code.
 */
static int run_against(const char *results, const char *reports, const char *plan, const char *baseline,
		       double threshold)
{
	char id[STORE_RUN_ID_MAX] = "", base[STORE_RUN_ID_MAX] = "";
	struct run_arm arm = { .name_suffix = "-base", /* short: the run folder holds unix sockets */
			       .mediator = baseline,
			       .changed_only = 1,
			       .id_out = base,
			       .id_len = sizeof(base),
			       .compare_threshold_pct = threshold };
	struct run_opts o = { .id_out = id, .id_len = sizeof(id), .arms = &arm, .narms = 1 };
	int rc = runner_run_with(results, reports, plan, NULL, &o), crc;

	if (rc != 0 && rc != 3)
		return rc;
	printf("\nthis build (run %s) against the baseline mediator %s (run %s):\n", id, baseline, base);
	crc = cmd_compare(results, id, base, threshold, &(struct compare_hosts){ .cross = 0 });
	return crc == 4 || crc == 1 ? crc : rc;
}

/* Is path the database itself, or its WAL or shared-memory file? */
static int is_database_file(const char *path, const char *db)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	struct stat a, b;

	if (stat(path, &a) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *f = vb_strdupf("%s%s", db, suffix[i]);
		int same = stat(f, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;

		free(f);
		if (same)
			return 1;
	}
	return 0;
}

/* The whole export is made in memory first: nothing is written unless it is complete. */
static int cmd_export(const char *results, const char *run, const char *format, const char *path)
{
	struct store s;
	char *db = store_url(results), *text = NULL;
	size_t len = 0;
	FILE *mem;
	struct vb_out out = { 0 };
	int rc = 1;

	if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "junit") && strcmp(format, "kcidb")) {
		vb_err("unknown export format '%s' (json, csv, junit or kcidb)", format);
		free(db);
		return 2;
	}
	if (path && is_database_file(path, db)) {
		vb_err("refusing to write the export over the results database %s", db);
		free(db);
		return 1;
	}
	if (store_open_read(&s, db) < 0) {
		free(db);
		return 1;
	}
	mem = open_memstream(&text, &len);
	if (!mem)
		abort();
	int made = export_run(&s, run, format, mem);

	if (fclose(mem) != 0)
		made = -1;
	store_close(&s);
	if (made == 0 && vb_out_open(&out, path) == 0) {
		if (fwrite(text, 1, len, out.f) != len)
			vb_out_abort(&out);
		else if (vb_out_commit(&out) == 0)
			rc = 0;
	}
	if (out.f)
		vb_out_abort(&out);
	free(text);
	free(db);
	return rc;
}

static int cmd_import(const char *results, const char *path)
{
	struct store s;
	struct json_object *doc = import_load(path); /* a file that cannot be imported touches no database */
	char *db, run[256];
	int rc;

	if (!doc)
		return 1;
	db = store_url(results);
	if (store_open(&s, db) < 0) {
		json_object_put(doc);
		free(db);
		return 1;
	}
	rc = import_run(&s, doc, path, run, sizeof(run));
	if (rc == 1)
		printf("run %s is in %s already, the same: nothing to do\n", run, db);
	store_close(&s);
	json_object_put(doc);
	free(db);
	return rc < 0 ? 1 : 0;
}

/* The report of run, or with run NULL the lab page. */
static int cmd_report(const char *results, const char *run, const char *reports)
{
	struct store s;
	char *db = store_url(results), *path = NULL;
	int rc;

	if (store_open_read(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	rc = (run ? report_generate(&s, run, reports, &path) : report_lab(&s, reports, &path)) < 0 ? 1 : 0;
	if (rc == 0)
		printf("%s: %s\n", run ? "report" : "lab page", path);
	else if (path)
		vb_err("the %s %s is incomplete (see above)", run ? "report" : "lab page", path);
	free(path);
	store_close(&s);
	return rc;
}

/* Run ids name database rows and folders: they must never be paths. */
static int check_run_id(const char *what, const char *id)
{
	if (id && !vb_is_identifier(id)) {
		fprintf(stderr,
			"vgpubench: %s '%s' is not a run id (letters, digits, '.', '_' and '-', no '..' nor '/')\n",
			what, id);
		return -1;
	}
	return 0;
}


int run_cmd(const struct cli *c)
{
	if (c->resume && c->pos) {
		fprintf(stderr, "vgpubench: give a plan or --resume RUN, not both\n");
		return 2;
	}
	if (c->resume && c->baseline) {
		fprintf(stderr, "vgpubench: a resumed run keeps its own baseline mediator; drop --baseline-mediator\n");
		return 2;
	}
	if (check_run_id("--resume", c->resume) < 0)
		return 2;
	if (c->baseline)
		return run_against(c->results, c->reports, c->pos ? c->pos : DEFAULT_PLAN, c->baseline, c->threshold);
	return runner_run(c->results, c->reports, c->pos ? c->pos : DEFAULT_PLAN, c->resume);
}

int calibrate_cmd(const struct cli *c)
{
	struct calibrate_opts o = c->cal;

	if (c->resume) {
		if (c->pos) {
			fprintf(stderr, "vgpubench: give a plan or --resume CALIBRATION, not both\n");
			return 2;
		}
		if (check_run_id("--resume", c->resume) < 0)
			return 2;
		/* its slowdown, rounds, threshold and arrangement are the ones it began with */
		return calibrate_resume(c->results, c->reports, c->resume);
	}
	o.plan = c->pos ? c->pos : DEFAULT_PLAN;
	o.results = c->results;
	o.reports = c->reports;
	o.cmp = (struct compare_opts){ .threshold_pct = c->threshold, .alpha = 0.05 };
	return calibrate_run(&o);
}

int doctor_cmd(const struct cli *c)
{
	char *cache = vb_strdupf("%s/accel-probe.json", vb_exe_dir());
	/* The default plan of this build, wherever the command is run from. */
	char *plan = c->pos ? vb_strdup(c->pos) : vb_strdupf("%s/../%s", vb_exe_dir(), DEFAULT_PLAN);
	struct doctor_opts o = { .plan = plan, .sysfs = "/sys", .accel_cache = cache };
	int rc = doctor_run(&o, stdout);

	free(cache);
	free(plan);
	return rc;
}

int list_cmd(const struct cli *c)
{
	return cmd_list(c->results, c->host);
}

int workloads_cmd(const struct cli *c)
{
	(void)c;
	return cmd_workloads();
}

/* A run id, or the newest run of --host (default: this host) when none is given: show's and report's. 0, 1 (no
 * such run, said) or 2 (a usage error, said). */
static int run_or_latest(const struct cli *c, struct latest *l)
{
	if (c->pos && c->host) {
		fprintf(stderr, "vgpubench: %s takes a run id or --host, not both (a run id names its host)\n", c->cmd);
		return 2;
	}
	if (c->pos) {
		if (check_run_id("RUN", c->pos) < 0)
			return 2;
		snprintf(l->id, sizeof(l->id), "%s", c->pos);
		return 0;
	}
	return latest_run(c->results, c->host, l);
}

int show_cmd(const struct cli *c)
{
	struct latest l;
	int rc = run_or_latest(c, &l);

	return rc ? rc : cmd_show(c->results, l.id);
}

int report_cmd(const struct cli *c)
{
	struct latest l;
	int rc;

	if (c->lab && (c->pos || c->host)) {
		fprintf(stderr, "vgpubench: the lab page is every host's: give --lab alone, or a run or --host\n");
		return 2;
	}
	if (c->lab)
		return cmd_report(c->results, NULL, c->reports);
	rc = run_or_latest(c, &l);
	return rc ? rc : cmd_report(c->results, l.id, c->reports);
}

int export_cmd(const struct cli *c)
{
	if (check_run_id("RUN", c->pos) < 0)
		return 2;
	if (!c->format) {
		fprintf(stderr, "vgpubench: export needs --format json|csv|junit|kcidb\n");
		return 2;
	}
	return cmd_export(c->results, c->pos, c->format, c->out);
}

int trends_cmd(const struct cli *c)
{
	struct store s;
	char *db = store_url(c->results), label[HOST_LABEL_MAX + 1];
	struct trends_opts o = { .plan = c->plan, .since = c->since };
	int rc;

	if (!c->host)
		host_label(label, sizeof(label));
	else if (strcmp(c->host, "all") != 0)
		host_label_of(c->host, label, sizeof(label));
	o.host = c->host && !strcmp(c->host, "all") ? NULL : label;
	if (store_open_read(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	rc = trends_print(&s, &o, stdout);
	store_close(&s);
	return rc < 0 ? 1 : rc;
}

int import_cmd(const struct cli *c)
{
	return cmd_import(c->results, c->pos);
}

int compare_cmd(const struct cli *c)
{
	if (check_run_id("RUN", c->pos) < 0 || check_run_id("BASELINE", c->pos2) < 0)
		return 2;
	return cmd_compare(c->results, c->pos, c->pos2, c->threshold,
			   &(struct compare_hosts){ .host = c->host, .cross = c->cross_host });
}

