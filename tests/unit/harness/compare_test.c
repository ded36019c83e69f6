/* compare_test.c: vgpubench compare on a run and copies of it: an identical
 * copy flags nothing; a copy with a synthetic 10% slowdown is flagged as a
 * regression; a 10% speed-up as an improvement; piglit status changes are
 * classified like piglit's summary; the JSON, CSV and JUnit exports. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "check.h"
#include "runs_fixture.h"
#include "analysis/compare.h"
#include "report/export.h"
#include "pg_fixture.h"
#include "util.h"

static void add_subtest(struct store *s, const char *run, const char *name, const char *status)
{
	char *sql = vb_strdupf("INSERT INTO subtests(job_id, name, status) SELECT id, '%s', '%s' FROM jobs"
			       " WHERE run_id = '%s' AND config = 'native' AND repetition = 1",
			       name, status, run);

	exec_sql(s, sql);
	free(sql);
}

/* Exit status of `vgpubench compare RUN BASE` on the test database (db: its URL). */
static int cli_compare(const char *vgpubench, const char *db, const char *run, const char *base)
{
	char *cmd = vb_strdupf("%s compare %s %s --db '%s' > /dev/null 2>&1", vgpubench, run, base, db);
	int st = system(cmd);

	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* What export_run writes for run in format (malloc'ed), and its return value in *rc. */
static char *exported(struct store *s, const char *run, const char *format, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	*rc = export_run(s, run, format, mem);
	fclose(mem);
	return text;
}

/*
 * A glmark2 row of one mediated guest, 3 repetitions with some noise, and nscenes scenes; `slow` scales every scene
 * by its own factor from 0.93 to 0.965 and the score by their mean (about -5.3%).
 */
static void make_scene_run(struct store *s, const char *id, int nscenes, int slow)
{
	static const double noise[] = { 1.0, 1.03, 0.97 };
	static const double factor[] = { 0.93, 0.935, 0.94, 0.945, 0.95, 0.955, 0.96, 0.965 };

	store_run_create(s, id, "scenes", "h1", "plan.ini", "[plan]\n", "/tmp");
	for (int rep = 1; rep <= 3; rep++) {
		struct wl_result m = { 0 };
		struct job_row j = { .config = "mediated", .topology = 1, .guest_index = 1, .workload = "glmark2",
				     .repetition = rep, .status = "ok", .accel = "tcg", .wall_s = 1, .user_s = 1,
				     .maxrss_kb = 1, .metrics = &m };
		double sum = 0;

		for (int k = 0; k < nscenes; k++) {
			char name[32];
			double fps = (100 + 10 * k) * noise[rep - 1] * (slow ? factor[k] : 1);

			snprintf(name, sizeof(name), "scene%d.fps", k);
			wl_add_metric(&m, name, fps, "fps", 1);
			sum += fps;
		}
		wl_add_metric(&m, "score", sum / nscenes, "score", 1);
		store_jobs(s, id, &j, 1);
	}
	store_run_set_status(s, id, "complete", NULL);
}

/* What compare_print writes for c (malloc'ed). */
static char *printed(const struct comparison *c, const struct compare_opts *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	compare_print(c, o, mem);
	fclose(mem);
	return text;
}

/* The paired per-scene path: what the score's test cannot see with 3 repetitions, 8 scenes can. */
static void test_scenes(struct store *s, const struct compare_opts *o)
{
	struct comparison c;
	char *text;

	make_scene_run(s, "sc-a", 8, 0);
	make_scene_run(s, "sc-b", 8, 1);
	make_scene_run(s, "sc-same", 8, 0);
	make_scene_run(s, "sc3-a", 3, 0);
	make_scene_run(s, "sc3-b", 3, 1);
	CHECK(compare_build(s, "sc-b", "sc-a", o, &c) == 0, "compare the scene runs");
	const struct compare_row *score = NULL;

	for (size_t i = 0; i < c.nrows; i++)
		if (!strcmp(c.rows[i].cur->metric, "score"))
			score = &c.rows[i];
	CHECK(score && score->p >= 0.05 && score->underpowered, "the score alone cannot flag 3 repetitions (p %g)",
	      score ? score->p : NAN);
	CHECK(score && score->nscenes == 8 && fabs(score->scene_p - 2.0 / 256) < 1e-12,
	      "8 scenes, all slower: the exact signed-rank p is 2/256 (%g)", score ? score->scene_p : NAN);
	CHECK(score && fabs(score->scene_change_pct + 5.26) < 0.05, "their geometric mean moved %.2f%%",
	      score ? score->scene_change_pct : NAN);
	CHECK(score && score->verdict == V_REGRESSION && score->flagged_by == BY_SCENES, "flagged by the scenes alone");
	text = printed(&c, o);
	CHECK_STR_CONTAINS(text, "REGRESSION by scenes");
	CHECK_STR_CONTAINS(text, "[scenes: -5.3%, p 0.00781, 8 paired]");
	CHECK_STR_CONTAINS(text, "compared scene by scene");
	free(text);
	compare_free(&c);

	CHECK(compare_build(s, "sc-same", "sc-a", o, &c) == 0 && c.regressions == 0 && c.improvements == 0,
	      "identical scenes flag nothing");
	text = printed(&c, o);
	CHECK_STR_CONTAINS(text, "[scenes: +0.0%, no change, 8 paired]");
	free(text);
	compare_free(&c);

	CHECK(compare_build(s, "sc3-b", "sc3-a", o, &c) == 0 && c.regressions == 0, "3 scenes cannot flag");
	text = printed(&c, o);
	CHECK_STR_CONTAINS(text, "3 paired, too few to flag]");
	free(text);
	compare_free(&c);
}

/* The same run, one 10% slower and one 10% faster: nothing, 4 regressions, 4 improvements; a baseline that ran
 * the guests only. */
static void test_shifts(struct store *s, const struct compare_opts *o)
{
	struct comparison c;

	CHECK(compare_build(s, "same", "a", o, &c) == 0, "compare identical");
	CHECK(c.nrows == 4, "2 metrics x 2 configs, got %zu", c.nrows);
	CHECK(c.regressions == 0 && c.improvements == 0, "identical runs flag nothing (%d, %d)", c.regressions,
	      c.improvements);
	compare_free(&c);

	CHECK(compare_build(s, "slow", "a", o, &c) == 0, "compare slowdown");
	CHECK(c.regressions == 4, "a 10%% slowdown is 4 regressions (score and frame time, 2 configs): %d",
	      c.regressions);
	for (size_t i = 0; i < c.nrows; i++) {
		const struct compare_row *r = &c.rows[i];

		CHECK(r->verdict == V_REGRESSION, "%s %s not flagged", r->cur->config, r->cur->metric);
		CHECK(r->p < 0.05, "p %g", r->p);
		if (r->cur->higher_is_better)
			CHECK(fabs(r->change_pct + 10) < 0.5, "score change %g%%", r->change_pct);
		else
			CHECK(fabs(r->change_pct - 100.0 / 9) < 0.5, "frame time change %g%%", r->change_pct);
	}
	char *text = printed(&c, o);

	CHECK_STR_CONTAINS(text, "REGRESSION");
	CHECK_STR_CONTAINS(text, "-10.0%");
	CHECK_STR_CONTAINS(text, "4 regressions");
	CHECK_STR_CONTAINS(text, " detect ");
	CHECK_STR_CONTAINS(text, "the smallest change each row could flag at 80% power");
	for (size_t i = 0; i < c.nrows; i++)
		CHECK(!isnan(c.rows[i].detectable_pct) && c.rows[i].detectable_pct > 0 &&
			      c.rows[i].detectable_pct < c.rows[i].change_pct * (c.rows[i].change_pct < 0 ? -1 : 1),
		      "%s %s: a 10%% shift it flagged is above what it can detect (%.1f%%)", c.rows[i].cur->config,
		      c.rows[i].cur->metric, c.rows[i].detectable_pct);
	free(text);
	compare_free(&c);

	CHECK(compare_build(s, "fast", "a", o, &c) == 0, "compare speed-up");
	CHECK(c.improvements == 4 && c.regressions == 0, "a speed-up is an improvement");
	compare_free(&c);

	/* A baseline that ran only the guests (an interleaved arm runs only what it changes): native is left out in
	 * one line, not a "new metric" per row; a metric the baseline lacks in a group it ran still says so. */
	copy_run(s, "a", "guests-only", 1.0);
	exec_sql(s, "DELETE FROM jobs WHERE run_id = 'guests-only' AND config = 'native';"
		    "DELETE FROM metrics WHERE name = 'build.frame_time' AND job_id IN"
		    " (SELECT id FROM jobs WHERE run_id = 'guests-only')");
	CHECK(compare_build(s, "same", "guests-only", o, &c) == 0, "compare with a baseline that ran the guests only");
	text = printed(&c, o);
	CHECK_STR_CONTAINS(text, "not in guests-only, so not compared (2 rows): native host\n");
	CHECK(text && !strstr(text, "native       host"), "no native row printed:\n%s", text ? text : "");
	CHECK(text && strstr(text, "qemu-virgl        3") && strstr(text, "new metric"),
	      "the guests' frame time, absent from a group the baseline ran, is a new metric:\n%s", text ? text : "");
	free(text);
	compare_free(&c);
}

/* The command a nightly job runs, the threshold, and the default baseline. */
static void test_baseline(struct store *s, const char *vb, const char *db, struct compare_opts *o)
{
	struct comparison c;

	/* The command a nightly job runs: non-zero exactly when something regressed. */
	if (vb) {
		CHECK(cli_compare(vb, db, "slow", "a") == 4, "compare exits 4 on the slowdown");
		CHECK(cli_compare(vb, db, "same", "a") == 0, "compare exits 0 on identical runs");
		CHECK(cli_compare(vb, db, "fast", "a") == 0, "an improvement is no failure");
		CHECK(cli_compare(vb, db, "nope", "a") == 1, "an unknown run is an error");
	}

	/* A change below the threshold is not flagged, however significant. */
	o->threshold_pct = 15;
	CHECK(compare_build(s, "slow", "a", o, &c) == 0 && c.regressions == 0, "below the threshold");
	compare_free(&c);
	o->threshold_pct = 5;

	/* The default baseline is the previous complete run of the same plan. */
	exec_sql(s, "UPDATE runs SET started_at = CASE id WHEN 'a' THEN '2026-01-01T00:00:00Z'"
		    " WHEN 'same' THEN '2026-01-02T00:00:00Z' WHEN 'slow' THEN '2026-01-03T00:00:00Z'"
		    " WHEN 'fast' THEN '2026-01-04T00:00:00Z' ELSE started_at END");
	CHECK(compare_build(s, "slow", NULL, o, &c) == 0, "default baseline");
	CHECK(strcmp(c.base, "same") == 0, "previous run is 'same', got '%s'", c.base);
	compare_free(&c);
	CHECK(compare_build(s, "a", NULL, o, &c) < 0, "the first run has no baseline");
	compare_free(&c);
}

/* piglit statuses, classified as piglit's summary does. */
static void test_statuses(struct store *s, const struct compare_opts *o)
{
	struct comparison c;

	add_subtest(s, "a", "spec@a", "pass");
	add_subtest(s, "a", "spec@b", "fail");
	add_subtest(s, "a", "spec@c", "pass");
	add_subtest(s, "a", "spec@d", "skip");
	add_subtest(s, "a", "spec@gone", "pass");
	add_subtest(s, "same", "spec@a", "crash");
	add_subtest(s, "same", "spec@b", "pass");
	add_subtest(s, "same", "spec@c", "pass");
	add_subtest(s, "same", "spec@d", "pass");
	add_subtest(s, "same", "spec@new", "fail");
	CHECK(compare_build(s, "same", "a", o, &c) == 0, "compare with subtests");
	CHECK(c.status_regressions == 1 && c.status_fixes == 1, "1 regression, 1 fix: %d %d", c.status_regressions,
	      c.status_fixes);
	CHECK(c.nchanges == 5, "5 changes (regression, fix, enabled, missing, new): %zu", c.nchanges);
	int seen = 0;

	for (size_t i = 0; i < c.nchanges; i++) {
		const struct status_change *x = &c.changes[i];

		seen += !strcmp(x->name, "spec@a") && !strcmp(x->kind, "regression");
		seen += !strcmp(x->name, "spec@b") && !strcmp(x->kind, "fix");
		seen += !strcmp(x->name, "spec@d") && !strcmp(x->kind, "enabled");
		seen += !strcmp(x->name, "spec@gone") && !strcmp(x->kind, "missing");
		seen += !strcmp(x->name, "spec@new") && !strcmp(x->kind, "new");
	}
	CHECK(seen == 5, "each change classified: %d of 5", seen);
	compare_free(&c);

	CHECK(compare_classify("pass", "warn") && !strcmp(compare_classify("pass", "warn"), "regression"), "warn");
	CHECK(compare_classify("crash", "timeout") && !strcmp(compare_classify("crash", "timeout"), "fix"),
	      "timeout is less bad than crash");
	CHECK(compare_classify("pass", "skip") && !strcmp(compare_classify("pass", "skip"), "disabled"), "disabled");
	CHECK(compare_classify("skip", "notrun") == NULL, "skip to notrun is no change");
	CHECK(compare_classify("fail", "fail") == NULL, "no change");
}

/* Exports. JUnit fails the slowed run's testcases against its previous run. */
static void test_junit(struct store *s)
{
	int rc;
	char *text;

	text = exported(s, "slow", "junit", &rc);
	CHECK(rc == 0, "junit export");
	CHECK_STR_CONTAINS(text, "<testsuites name=\"vgpubench\" tests=\"2\" failures=\"2\" errors=\"0\">");
	CHECK_STR_CONTAINS(text, "classname=\"glmark2.qemu-virgl\" name=\"guests=3\"");
	CHECK_STR_CONTAINS(text, "regression vs same: score -10.0%");
	free(text);
	/* A run that did not complete is an error, skipped configurations and jobs are <skipped/>. */
	CHECK(store_run_set_status(s, "slow", "interrupted", "interrupted by a signal") == 0, "interrupt 'slow'");
	exec_sql(s,
		 "INSERT INTO configs(run_id, name, status, reason, seq)"
		 " VALUES ('slow', 'passthrough', 'skipped', 'needs KVM <and> an IOMMU', 1);"
		 "INSERT INTO jobs(run_id, config, topology, guest_index, workload, repetition, status, reason,"
		 " accel, finished_at) VALUES ('slow', 'native', 0, 0, 'kms2d', 1, 'skipped', 'no KMS device', 'none',"
		 " 'now');");
	text = exported(s, "slow", "junit", &rc);
	CHECK(rc == 0, "junit export of an interrupted run");
	CHECK_STR_CONTAINS(text, "tests=\"5\" failures=\"2\" errors=\"1\" skipped=\"2\"");
	CHECK_STR_CONTAINS(text, "<error message=\"the run is interrupted: interrupted by a signal\"/>");
	CHECK_STR_CONTAINS(text, "classname=\"config.passthrough\" name=\"host check\">\n"
				 "      <skipped message=\"needs KVM &lt;and&gt; an IOMMU\"/>");
	CHECK_STR_CONTAINS(text,
			   "classname=\"kms2d.native\" name=\"host\">\n      <skipped message=\"no KMS device\"/>");
	free(text);
	CHECK(store_run_set_status(s, "slow", "complete", NULL) == 0, "'slow' complete again");
	text = exported(s, "same", "junit", &rc);
	CHECK(rc == 0, "junit export with piglit tests");
	CHECK_STR_CONTAINS(text, "classname=\"piglit.native.0\" name=\"spec@a\">");
	CHECK_STR_CONTAINS(text, "<failure message=\"status: crash\"/>");
	free(text);
}

/* One job with what the harness keeps beside its metrics: noise, its vGPU's scheduling and health, stages. */
static void test_json(struct store *s)
{
	int rc;
	char *text;

	CHECK(s->drv->exec(s->db,
			   "INSERT INTO job_noise(job_id, steal_pct, load_before, load_after, redos, redo_reason, boot)"
			   " SELECT min(id), 1.5, 0.25, 0.75, 1, 'steal', 2 FROM jobs WHERE run_id = 'a';"
			   "INSERT INTO vgpu_stats(job_id, vgpu, policy, share, gpu_ms, frames)"
			   " SELECT min(id), 'guest1', 'best-effort', 0.5, 12.5, 300 FROM jobs WHERE run_id = 'a';"
			   "INSERT INTO vgpu_health(job_id, resets, recoveries, errors, watchdog_trips, watchdog_longest_ms)"
			   " SELECT min(id), 0, 0, 3, 0, 1.25 FROM jobs WHERE run_id = 'a';"
			   "INSERT INTO job_stages(job_id, stage, count, total_ms, p50_us, p99_us, max_us, buckets)"
			   " SELECT min(id), 'render', 300, 12.5, 40, 90, 120, '10:300' FROM jobs WHERE run_id = 'a';"
			   "INSERT INTO job_stages(job_id, stage, count, total_ms, p50_us, p99_us, max_us, buckets)"
			   " SELECT min(id), 'fence', 300, 30, 100, 200, 250, '20:300'"
			   " FROM jobs WHERE run_id = 'a';") == 0,
	      "a job's details stored: %s", s->drv->errmsg(s->db));
	text = exported(s, "a", "json", &rc);
	CHECK(rc == 0, "json export");
	struct json_object *root = json_tokener_parse(text), *jobs = NULL, *run = NULL, *d = NULL;
	int details = 0;

	CHECK(root && json_object_object_get_ex(root, "jobs", &jobs) && json_object_array_length(jobs) == 20,
	      "json: 20 jobs");
	CHECK(root && json_object_object_get_ex(root, "run", &run), "json: run");
	CHECK_STR_CONTAINS(text, "\"score\":{");
	for (size_t i = 0; jobs && i < json_object_array_length(jobs); i++) {
		struct json_object *j = json_object_array_get_idx(jobs, i);

		if (!json_object_object_get_ex(j, "job_noise", &d))
			continue;
		details++;
		CHECK(json_object_get_int(json_object_object_get(d, "boot")) == 2 &&
			      json_object_get_double(json_object_object_get(d, "steal_pct")) == 1.5 &&
			      !strcmp(json_object_get_string(json_object_object_get(d, "redo_reason")), "steal") &&
			      !json_object_object_get_ex(d, "job_id", NULL),
		      "json: the job's noise, its boot included: %s", json_object_to_json_string(d));
		CHECK(json_object_object_get_ex(j, "vgpu_stats", &d) &&
			      !strcmp(json_object_get_string(json_object_object_get(d, "vgpu")), "guest1") &&
			      json_object_get_double(json_object_object_get(d, "gpu_ms")) == 12.5 &&
			      !json_object_object_get_ex(d, "weight", NULL),
		      "json: its vGPU's scheduling (NULL columns left out): %s", json_object_to_json_string(d));
		CHECK(json_object_object_get_ex(j, "vgpu_health", &d) &&
			      json_object_get_int(json_object_object_get(d, "errors")) == 3,
		      "json: its vGPU's health");
		CHECK(json_object_object_get_ex(j, "stages", &d) && json_object_array_length(d) == 2 &&
			      !strcmp(json_object_get_string(json_object_object_get(json_object_array_get_idx(d, 1),
										     "stage")),
				      "fence"),
		      "json: its two stages, in order: %s", json_object_to_json_string(d));
	}
	CHECK(details == 1, "json: one job has details (%d)", details);
	CHECK(root && !json_object_object_get_ex(root, "calibration", NULL), "json: no calibration in a plain run");
	json_object_put(root);
	free(text);
}

/* A calibration (a run of its own): its rows go out with it, a row it could not measure as null. */
static void test_json_calibration(struct store *s)
{
	int rc;
	char *text;
	struct json_object *root, *d = NULL;
	const struct calibration_row cal[2] = {
		{ .workload = "glmark2", .metric = "score", .config = "mediated", .topology = 1,
		  .injected = "mediator throttle 5%", .aa_pairs = 3, .aa_flagged = 0, .ab_pairs = 6, .ab_detected = 5,
		  .change_pct = -4.5, .detectable_pct = 3.1 },
		{ .workload = "glmark2", .metric = "score", .config = "qemu-virgl", .topology = 3, .dom0 = 1,
		  .aa_pairs = 3, .aa_flagged = 1, .change_pct = NAN, .detectable_pct = NAN },
	};
	struct json_object *rows = NULL, *r0, *r1;

	CHECK(store_calibration_put(s, "a", cal, 2) == 0, "calibration rows stored under run a");
	text = exported(s, "a", "json", &rc);
	root = text ? json_tokener_parse(text) : NULL;
	CHECK(rc == 0 && root && json_object_object_get_ex(root, "calibration", &rows) &&
		      json_object_array_length(rows) == 2,
	      "json: the calibration's 2 rows");
	r0 = rows ? json_object_array_get_idx(rows, 0) : NULL;
	r1 = rows ? json_object_array_get_idx(rows, 1) : NULL;
	CHECK(r0 && !strcmp(json_object_get_string(json_object_object_get(r0, "injected")), "mediator throttle 5%") &&
		      json_object_get_int(json_object_object_get(r0, "ab_detected")) == 5 &&
		      json_object_get_double(json_object_object_get(r0, "change_pct")) == -4.5,
	      "json: what the mediated row caught: %s", json_object_to_json_string(r0));
	CHECK(r1 && json_object_get_boolean(json_object_object_get(r1, "dom0")) &&
		      json_object_object_get_ex(r1, "change_pct", &d) && !d &&
		      json_object_object_get_ex(r1, "injected", &d) && !d &&
		      json_object_get_int(json_object_object_get(r1, "aa_flagged")) == 1,
	      "json: a row with no knob: %s", json_object_to_json_string(r1));
	json_object_put(root);
	free(text);
}

static void test_csv(struct store *s)
{
	int rc;
	char *text;

	text = exported(s, "a", "csv", &rc);
	CHECK(rc == 0, "csv export");
	int lines = 0;

	for (char *q = text; q && *q; q++)
		lines += *q == '\n';
	CHECK(lines == 41, "csv: header + 40 metric rows, got %d", lines);
	CHECK(strncmp(text, "run,workload,config,guests,guest,repetition,status,renderer,metric,value,unit,direction\r\n",
		      88) == 0,
	      "csv header");
	free(text);
	text = exported(s, "a", "yaml", &rc);
	CHECK(rc < 0, "unknown format refused");
	free(text);
}

/* Every part, on a new database at url (vb: the harness, for its exit codes). */
static void test_all(const char *url, const char *vb)
{
	struct store s;
	struct compare_opts o = { .threshold_pct = 5, .alpha = 0.05 };

	CHECK(store_open(&s, url) == 0, "open %s", url);
	make_run(&s, "a");
	copy_run(&s, "a", "same", 1.0);
	copy_run(&s, "a", "slow", 0.9);
	copy_run(&s, "a", "fast", 1.1);

	test_shifts(&s, &o);
	test_baseline(&s, vb, url, &o);
	test_scenes(&s, &o);
	test_statuses(&s, &o);
	test_junit(&s);
	test_json(&s);
	test_json_calibration(&s);
	test_csv(&s);
	store_close(&s);
}

/* On SQLite, then on the tests' PostgreSQL server when there is one. */
int main(int argc, char **argv)
{
	char dir[] = "/tmp/vgpubench-compare-XXXXXX", *db;
	const char *server;

	if (!mkdtemp(dir))
		return 1;
	db = vb_strdupf("%s/vgpubench.db", dir);
	test_all(db, argc > 1 ? argv[1] : NULL);
	free(db);
	if ((server = pg_fixture_server("compare"))) {
		db = pg_fixture_db(server, "compare");
		test_all(db, argc > 1 ? argv[1] : NULL);
		free(db);
	}
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("compare");
}
