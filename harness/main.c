/* main.c: the vgpubench command line. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
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
		   "  vgpubench run --resume RUN [--results DIR] finish an interrupted run\n"
		   "  vgpubench show RUN [--results DIR]        print a run's summary table\n"
		   "  vgpubench list [--results DIR]            list the runs in the database\n"
		   "  vgpubench workloads                       the workload catalogue\n"
		   "  vgpubench compare RUN [BASELINE] [--threshold PCT] [--results DIR]\n"
		   "                                            RUN against BASELINE (default: the previous run\n"
		   "                                            of the same plan); exits 4 on regressions\n"
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

static int cmd_list(const char *results)
{
	struct store s;
	sqlite3_stmt *st;
	char *db = vb_strdupf("%s/vgpubench.db", results);

	if (store_open(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	if (sqlite3_prepare_v2(s.db,
			       "SELECT id, status, started_at, (SELECT count(*) FROM jobs j WHERE j.run_id = r.id),"
			       " (SELECT count(*) FROM jobs j WHERE j.run_id = r.id AND j.status = 'ok')"
			       " FROM runs r ORDER BY started_at",
			       -1, &st, NULL) == SQLITE_OK) {
		printf("%-40s %-12s %-22s %s\n", "run", "status", "started", "jobs ok");
		while (sqlite3_step(st) == SQLITE_ROW)
			printf("%-40s %-12s %-22s %d/%d\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
			       sqlite3_column_text(st, 2), sqlite3_column_int(st, 4), sqlite3_column_int(st, 3));
		sqlite3_finalize(st);
	}
	store_close(&s);
	return 0;
}

static int cmd_show(const char *results, const char *run)
{
	struct store s;
	char *db = vb_strdupf("%s/vgpubench.db", results);
	char *pp, *pt, *dir, *status;
	int rc = 0;

	if (store_open(&s, db) < 0) {
		free(db);
		return 1;
	}
	if (store_run_load(&s, run, &pp, &pt, &dir, &status) < 0) {
		vb_err("no run '%s' in %s", run, db);
		rc = 1;
	} else {
		printf("run %s (%s), logs in %s\n", run, status, dir);
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

static int cmd_compare(const char *results, const char *run, const char *base, double threshold)
{
	struct store s;
	struct comparison c;
	struct compare_opts o = { .threshold_pct = threshold, .alpha = 0.05 };
	char *db = vb_strdupf("%s/vgpubench.db", results);
	int rc;

	if (store_open(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	if (compare_build(&s, run, base, &o, &c) < 0) {
		store_close(&s);
		return 1;
	}
	compare_print(&c, &o, stdout);
	rc = c.regressions || c.status_regressions ? 4 : 0;
	compare_free(&c);
	store_close(&s);
	return rc;
}

static int cmd_export(const char *results, const char *run, const char *format, const char *path)
{
	struct store s;
	char *db = vb_strdupf("%s/vgpubench.db", results);
	FILE *out = stdout;
	int rc;

	if (store_open(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	if (path && !(out = fopen(path, "w"))) {
		vb_err("cannot write %s", path);
		store_close(&s);
		return 1;
	}
	rc = export_run(&s, run, format, out) < 0 ? 1 : 0;
	if (path && fclose(out) != 0)
		rc = 1;
	store_close(&s);
	return rc;
}

static int cmd_report(const char *results, const char *run, const char *reports)
{
	struct store s;
	char *db = vb_strdupf("%s/vgpubench.db", results), *path = NULL;
	int rc;

	if (store_open(&s, db) < 0) {
		free(db);
		return 1;
	}
	free(db);
	rc = report_generate(&s, run, reports, &path) < 0 ? 1 : 0;
	if (rc == 0)
		printf("report: %s\n", path);
	free(path);
	store_close(&s);
	return rc;
}

int main(int argc, char **argv)
{
	const char *reports = "reports";
	const char *format = NULL, *outpath = NULL;
	const char *results = DEFAULT_RESULTS, *resume = NULL, *pos = NULL, *pos2 = NULL;
	double threshold = 5.0;
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
		} else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc) {
			char *end;

			threshold = strtod(argv[++i], &end);
			if (*end || !(threshold >= 0 && threshold < 1000)) {
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
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(cmd, "run") == 0) {
		if (resume && pos) {
			fprintf(stderr, "vgpubench: give a plan or --resume RUN, not both\n");
			return 2;
		}
		return runner_run(results, reports, pos ? pos : DEFAULT_PLAN, resume);
	}
	if (strcmp(cmd, "list") == 0)
		return cmd_list(results);
	if (strcmp(cmd, "workloads") == 0)
		return cmd_workloads();
	if (strcmp(cmd, "show") == 0 && pos)
		return cmd_show(results, pos);
	if (strcmp(cmd, "report") == 0 && pos)
		return cmd_report(results, pos, reports);
	if (strcmp(cmd, "export") == 0 && pos && format)
		return cmd_export(results, pos, format, outpath);
	if (strcmp(cmd, "compare") == 0 && pos)
		return cmd_compare(results, pos, pos2, threshold);
	usage(stderr);
	return 2;
}
