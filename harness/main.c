/* main.c: the vgpubench command line. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calibrate.h"
#include "compare.h"
#include "doctor.h"
#include "export.h"
#include "report.h"
#include "runner.h"
#include "store.h"
#include "summary.h"
#include "util.h"
#include "workload.h"

#define DEFAULT_PLAN "harness/plans/default.ini"
#define DEFAULT_RESULTS "results"

static void usage(FILE *f)
{
	fprintf(f, "usage:\n"
		   "  vgpubench run [PLAN] [--results DIR] [--reports DIR]\n"
		   "                                            run a plan (default %s), then report it\n"
		   "  vgpubench run [PLAN] --baseline-mediator PATH [--threshold PCT]\n"
		   "                                            the same, with the mediated rows also run with the\n"
		   "                                            vgpu-mediator at PATH, both builds taking turns boot\n"
		   "                                            by boot, then compared; exits 4 on regressions\n"
		   "  vgpubench run --resume RUN [--results DIR] finish an interrupted run\n"
		   "  vgpubench show RUN [--results DIR]        print a run's summary table\n"
		   "  vgpubench list [--results DIR]            list the runs in the database\n"
		   "  vgpubench workloads                       the workload catalogue\n"
		   "  vgpubench doctor [PLAN]                   what this host can run, and what would fix the rest;\n"
		   "                                            exits 0 when PLAN (default: the default plan) can run\n"
		   "  vgpubench compare RUN [BASELINE] [--threshold PCT] [--results DIR]\n"
		   "                                            RUN against BASELINE (default: the previous run\n"
		   "                                            of the same plan); exits 4 on regressions\n"
		   "  vgpubench calibrate [PLAN] [--slowdown PCT] [--rounds N] [--threshold PCT] [--separate]\n"
		   "                      [--results DIR] [--reports DIR]\n"
		   "                                            run PLAN twice unchanged and once slowed down by PCT%%\n"
		   "                                            (default 5), N times (default 1): each row's false alarms\n"
		   "                                            and detections, stored as a run that show prints; the\n"
		   "                                            three take turns in one run (--separate: one by one)\n"
		   "  vgpubench calibrate --resume CALIBRATION [--results DIR] [--reports DIR]\n"
		   "                                            finish a calibration that was stopped, with its own\n"
		   "                                            options\n"
		   "  vgpubench report RUN [--reports DIR] [--results DIR]\n"
		   "                                            HTML report in DIR/RUN/index.html (default reports)\n"
		   "  vgpubench export RUN --format json|csv|junit [--out FILE] [--results DIR]\n"
		   "exit codes: 0 done, 1 could not run, 2 usage, 3 done with failed jobs,\n"
		   "            4 regressions found (compare), 130 interrupted\n",
		DEFAULT_PLAN);
}

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

static void print_run(void *ctx, const char *id, const char *status, const char *started_at, int jobs, int ok)
{
	struct list_ctx *l = ctx;
	char *pp = NULL, *pt = NULL, *dir = NULL, *st = NULL;
	const char *shown = status;

	if (strcmp(status, "running") == 0 && store_run_load(l->s, id, &pp, &pt, &dir, &st) == 0)
		shown = runner_shown_status(l->results, dir, status);
	printf("%-40s %-12s %-22s %d/%d\n", id, shown, started_at, ok, jobs);
	free(pp);
	free(pt);
	free(dir);
	free(st);
}

static int cmd_list(const char *results)
{
	struct store s;
	char *db = vb_strdupf("%s/vgpubench.db", results);
	int rc = 0;

	if (store_open_read(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	printf("%-40s %-12s %-22s %s\n", "run", "status", "started", "jobs ok");
	struct list_ctx l = { .s = &s, .results = results };

	if (store_run_list(&s, print_run, &l) < 0)
		rc = 1; /* said by the store */
	store_close(&s);
	return rc;
}

static int cmd_show(const char *results, const char *run)
{
	struct store s;
	char *db = vb_strdupf("%s/vgpubench.db", results);
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

static int cmd_compare(const char *results, const char *run, const char *base, double threshold)
{
	struct store s;
	struct comparison c;
	struct compare_opts o = { .threshold_pct = threshold, .alpha = 0.05 };
	char *db = vb_strdupf("%s/vgpubench.db", results);
	int rc;

	if (store_open_read(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	if (compare_build(&s, run, base, &o, &c) < 0) {
		store_close(&s);
		return 1;
	}
	warn_if_plans_differ(&s, run, c.base);
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
	char id[96] = "", base[96] = "";
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
	crc = cmd_compare(results, id, base, threshold);
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
	char *db = vb_strdupf("%s/vgpubench.db", results), *text = NULL;
	size_t len = 0;
	FILE *mem;
	struct vb_out out = { 0 };
	int rc = 1;

	if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "junit")) {
		vb_err("unknown export format '%s' (json, csv or junit)", format);
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

static int cmd_report(const char *results, const char *run, const char *reports)
{
	struct store s;
	char *db = vb_strdupf("%s/vgpubench.db", results), *path = NULL;
	int rc;

	if (store_open_read(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	rc = report_generate(&s, run, reports, &path) < 0 ? 1 : 0;
	if (rc == 0)
		printf("report: %s\n", path);
	else if (path)
		vb_err("the report %s is incomplete (see above)", path);
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

/* A whole-number option: 0 and *v, or -1 with a message. */
static int int_option(const char *name, const char *text, int lo, int hi, int *v)
{
	char *end;
	long x = strtol(text, &end, 10);

	if (end == text || *end || x < lo || x > hi) {
		fprintf(stderr, "vgpubench: %s takes a whole number from %d to %d, got '%s'\n", name, lo, hi, text);
		return -1;
	}
	*v = (int)x;
	return 0;
}

static int dispatch(const char *cmd, const char *results, const char *reports, const char *resume, const char *pos,
		    const char *pos2, const char *format, const char *outpath, double threshold,
		    const struct calibrate_opts *cal, const char *baseline)
{
	if (strcmp(cmd, "run") == 0) {
		if (resume && pos) {
			fprintf(stderr, "vgpubench: give a plan or --resume RUN, not both\n");
			return 2;
		}
		if (resume && baseline) {
			fprintf(stderr, "vgpubench: a resumed run keeps its own baseline mediator; drop "
					"--baseline-mediator\n");
			return 2;
		}
		if (check_run_id("--resume", resume) < 0)
			return 2;
		if (baseline)
			return run_against(results, reports, pos ? pos : DEFAULT_PLAN, baseline, threshold);
		return runner_run(results, reports, pos ? pos : DEFAULT_PLAN, resume);
	}
	if (strcmp(cmd, "list") == 0)
		return cmd_list(results);
	if (strcmp(cmd, "calibrate") == 0) {
		struct calibrate_opts o = *cal;

		if (resume) {
			if (pos) {
				fprintf(stderr, "vgpubench: give a plan or --resume CALIBRATION, not both\n");
				return 2;
			}
			if (check_run_id("--resume", resume) < 0)
				return 2;
			/* its slowdown, rounds, threshold and arrangement are the ones it began with */
			return calibrate_resume(results, reports, resume);
		}

		o.plan = pos ? pos : DEFAULT_PLAN;
		o.results = results;
		o.reports = reports;
		o.cmp = (struct compare_opts){ .threshold_pct = threshold, .alpha = 0.05 };
		return calibrate_run(&o);
	}
	if (strcmp(cmd, "doctor") == 0) {
		char *cache = vb_strdupf("%s/accel-probe.json", vb_exe_dir());
		/* The default plan of this build, wherever the command is run from. */
		char *plan = pos ? vb_strdup(pos) : vb_strdupf("%s/../%s", vb_exe_dir(), DEFAULT_PLAN);
		struct doctor_opts o = { .plan = plan, .sysfs = "/sys", .accel_cache = cache };
		int rc = doctor_run(&o, stdout);

		free(cache);
		free(plan);
		return rc;
	}
	if (strcmp(cmd, "workloads") == 0)
		return cmd_workloads();
	if (strcmp(cmd, "show") && strcmp(cmd, "report") && strcmp(cmd, "export") && strcmp(cmd, "compare")) {
		usage(stderr);
		return 2;
	}
	if (!pos || (strcmp(cmd, "export") == 0 && !format)) {
		usage(stderr);
		return 2;
	}
	if (check_run_id("RUN", pos) < 0 || check_run_id("BASELINE", pos2) < 0)
		return 2;
	if (strcmp(cmd, "show") == 0)
		return cmd_show(results, pos);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(results, pos, reports);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(results, pos, format, outpath);
	return cmd_compare(results, pos, pos2, threshold);
}

int main(int argc, char **argv)
{
	const char *reports = "reports";
	const char *format = NULL, *outpath = NULL;
	const char *results = DEFAULT_RESULTS, *resume = NULL, *pos = NULL, *pos2 = NULL, *baseline = NULL;
	double threshold = 5.0;
	struct calibrate_opts cal = { .slowdown_pct = 5, .rounds = 1 };
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (int i = 2; i < argc; i++) {
		if (i + 1 < argc && argv[i][0] == '-' && strcmp(argv[i], "--threshold") && !argv[i + 1][0]) {
			fprintf(stderr, "vgpubench: %s needs a value, got an empty one\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--results") == 0 && i + 1 < argc) {
			results = argv[++i];
		} else if (strcmp(argv[i], "--resume") == 0 && i + 1 < argc) {
			resume = argv[++i];
		} else if (strcmp(argv[i], "--reports") == 0 && i + 1 < argc) {
			reports = argv[++i];
		} else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			format = argv[++i];
		} else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			outpath = argv[++i];
		} else if (strcmp(argv[i], "--slowdown") == 0 && i + 1 < argc) {
			if (int_option("--slowdown", argv[++i], 1, 90, &cal.slowdown_pct) < 0)
				return 2;
		} else if (strcmp(argv[i], "--baseline-mediator") == 0 && i + 1 < argc && !strcmp(cmd, "run")) {
			baseline = argv[++i];
		} else if (strcmp(argv[i], "--separate") == 0 && !strcmp(cmd, "calibrate")) {
			cal.separate = 1;
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			if (int_option("--rounds", argv[++i], 1, 20, &cal.rounds) < 0)
				return 2;
		} else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc) {
			char *end;

			threshold = strtod(argv[++i], &end);
			if (end == argv[i] || *end || !(threshold >= 0 && threshold < 1000)) {
				fprintf(stderr, "vgpubench: --threshold takes a percentage, got '%s'\n", argv[i]);
				return 2;
			}
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "vgpubench: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else if (!pos) {
			pos = argv[i];
		} else if (!pos2 && strcmp(cmd, "compare") == 0) {
			pos2 = argv[i];
		} else {
			fprintf(stderr, "vgpubench: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
	}
	vb_stdout_track();
	int rc = dispatch(cmd, results, reports, resume, pos, pos2, format, outpath, threshold, &cal, baseline);

	/* Whatever went to standard output must have arrived (a full disk, a closed pipe). */
	if (vb_stdout_check() < 0 && (rc == 0 || rc == 3 || rc == 4))
		rc = 1;
	return rc;
}
