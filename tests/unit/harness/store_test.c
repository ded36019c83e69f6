/* store_test.c: the results database: schema creation and re-opening, runs,
 * atomic job groups, resume look-ups, and the summary read back from it. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "store/store.h"
#include "configs/vgpu_stats.h"
#include "analysis/summary.h"
#include "util.h"

static struct wl_result metrics(double score)
{
	struct wl_result r = { 0 };

	wl_add_metric(&r, "score", score, "score", 1);
	wl_add_metric(&r, "build.frame_time", 1000.0 / score, "ms", 0);
	return r;
}

static int count(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Run sql on a database with sqlite3 itself (another program's view). */
static void raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fprintf(stderr, "raw sql on %s failed: %s\n", path, db ? sqlite3_errmsg(db) : "?");
	sqlite3_close(db);
}

/* Copy the database file at from to to, for a test that damages or ages the copy. */
static void copy_db(const char *from, const char *to)
{
	char *cmd = vb_strdupf("cp %s %s", from, to);

	CHECK(system(cmd) == 0, "copy the database to %s", to);
	free(cmd);
}

/* Run sql on an open store's connection (a test's own edit of the rows). */
static void raw_sql_db(struct store *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fprintf(stderr, "raw sql failed: %s\n", sqlite3_errmsg(s->db));
}

/* A version 3 database (no scenario tables) and a version 8 one (job_noise without boot): read, then upgraded. */
static void test_old_versions(const char *dir, const char *db)
{
	struct store s;

	/* A version 3 database lacks the scenario tables: not damaged, read as having no scenarios. */
	{
		char *v3 = vb_strdupf("%s/v3.db", dir);
		struct scenario_result *sr = (void *)1;
		size_t sn = 9;

		copy_db(db, v3);
		raw_sql(v3, "DROP TABLE scenario_samples; DROP TABLE scenario_jobs; DROP TABLE vgpu_stats;"
			    "DROP TABLE vgpu_health; DROP TABLE job_noise; DROP TABLE calibration_rows;"
			    "DROP TABLE job_stages;"
			    "PRAGMA user_version = 3;"
			    "UPDATE schema_version SET version = 3;");
		CHECK(store_open_read(&s, v3) == 0, "a version 3 database opens for reading: %s", s.err);
		CHECK(store_scenario_results(&s, "r1", &sr, &sn) == 0 && sn == 0 && !sr, "no scenarios in it");
		struct calibration_row *cr = (void *)1;

		CHECK(store_calibration_get(&s, "r1", &cr, &sn) == 0 && sn == 0 && !cr, "nor a calibration");
		struct stage_row *sgr = (void *)1;

		CHECK(store_stage_rows(&s, "r1", &sgr, &sn) == 0 && sn == 0 && !sgr, "nor stage histograms");
		store_close(&s);
		CHECK(store_open(&s, v3) == 0 && count(&s, "PRAGMA user_version") == 9, "and is upgraded to 9");
		store_close(&s);
		free(v3);
	}

	/* A version 8 database's job_noise gains the boot column; its jobs' boot is unknown (NULL). */
	{
		char *v8 = vb_strdupf("%s/v8.db", dir);

		copy_db(db, v8);
		raw_sql(v8, "DROP TABLE job_noise;"
			    "CREATE TABLE job_noise(job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
			    " steal_pct REAL, load_before REAL, load_after REAL, redos INTEGER NOT NULL, redo_reason TEXT);"
			    "INSERT INTO job_noise SELECT id, 1, 0, 0, 0, NULL FROM jobs LIMIT 1;"
			    "PRAGMA user_version = 8; UPDATE schema_version SET version = 8;");
		CHECK(store_open(&s, v8) == 0 && count(&s, "PRAGMA user_version") == 9, "a version 8 database upgraded: %s",
		      s.err);
		CHECK(count(&s, "SELECT count(*) FROM job_noise WHERE boot IS NULL") == 1, "its job's boot is unknown");
		store_close(&s);
		free(v8);
	}
}

/* What a database file is, checked on every open. */
static void test_identity(const char *dir, const char *db)
{
	struct store s;
	char *foreign = vb_strdupf("%s/foreign.db", dir), *before, *after, *legacy = vb_strdupf("%s/v2.db", dir);
	char *copy = vb_strdupf("%s/damaged.db", dir);
	size_t blen = 0, alen = 0;

	/* Another program's database: refused, byte for byte untouched. */
	raw_sql(foreign, "CREATE TABLE accounts(id INTEGER, owner TEXT); INSERT INTO accounts VALUES (1, 'x');");
	before = vb_read_file(foreign, &blen);
	CHECK(store_open(&s, foreign) < 0, "a foreign database is refused");
	CHECK_STR_CONTAINS(s.err, "is not a vgpubench database (application_id 0, tables: accounts)");
	CHECK(store_open_read(&s, foreign) < 0, "and refused for reading too");
	after = vb_read_file(foreign, &alen);
	CHECK(before && after && blen == alen && memcmp(before, after, blen) == 0, "the foreign file is unchanged");
	free(before);
	free(after);

	/* A table dropped from ours: reported damaged, not recreated. */
	copy_db(db, copy);
	raw_sql(copy, "PRAGMA foreign_keys=OFF; DROP TABLE metrics;");
	CHECK(store_open(&s, copy) < 0, "a database with a table missing is refused");
	CHECK_STR_CONTAINS(s.err, "is damaged: table 'metrics' is missing (schema version 9)");
	CHECK(store_open_read(&s, copy) < 0, "also for reading");
	raw_sql(copy, "SELECT 1");
	{
		sqlite3 *raw = NULL;
		sqlite3_stmt *st = NULL;
		int n = -1;

		if (sqlite3_open(copy, &raw) == SQLITE_OK &&
		    sqlite3_prepare_v2(raw, "SELECT count(*) FROM sqlite_master WHERE name = 'metrics'", -1, &st,
				       NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		sqlite3_close(raw);
		CHECK(n == 0, "the missing table was not recreated (%d)", n);
	}

	/* A version 2 database (no application_id, no runs.reason) is upgraded in place. */
	raw_sql(legacy,
		"CREATE TABLE schema_version(version INTEGER NOT NULL); INSERT INTO schema_version VALUES (2);"
		"CREATE TABLE runs(id TEXT PRIMARY KEY, plan_name TEXT NOT NULL, plan_path TEXT NOT NULL,"
		" plan_text TEXT NOT NULL, dir TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,"
		" status TEXT NOT NULL);"
		"INSERT INTO runs VALUES ('old', 'p', 'p.ini', '[plan]', '/abs/runs/old', 't', NULL, 'complete');"
		"CREATE TABLE host_facts(run_id TEXT, key TEXT, value TEXT);"
		"CREATE TABLE configs(run_id TEXT, name TEXT, status TEXT, reason TEXT);"
		"CREATE TABLE guests(id INTEGER PRIMARY KEY, run_id TEXT);"
		"CREATE TABLE jobs(id INTEGER PRIMARY KEY, run_id TEXT, config TEXT, topology INTEGER,"
		" workload TEXT);"
		"CREATE TABLE metrics(job_id INTEGER, name TEXT);"
		"CREATE TABLE subtests(job_id INTEGER, name TEXT);");
	CHECK(store_open_read(&s, legacy) == 0, "a version 2 database can be read as it is");
	store_close(&s);
	CHECK(store_open(&s, legacy) == 0, "a version 2 database is upgraded: %s", s.err);
	CHECK(count(&s, "PRAGMA user_version") == 9 && count(&s, "SELECT version FROM schema_version") == 9,
	      "now version 9");
	CHECK(store_run_set_status(&s, "old", "failed", "disk full") == 0, "runs.reason added");
	CHECK(count(&s, "SELECT count(*) FROM sqlite_master WHERE name IN ('vgpu_stats', 'scenario_jobs',"
			" 'scenario_samples', 'vgpu_health', 'job_noise', 'calibration_rows', 'job_stages')") == 7,
	      "the version 4, 5, 6, 7 and 8 tables are added");
	store_close(&s);

	/* Reading never creates. */
	char *none = vb_strdupf("%s/none.db", dir);

	CHECK(store_open_read(&s, none) < 0 && access(none, F_OK) < 0, "reading a missing database creates nothing");
	CHECK_STR_CONTAINS(s.err, "no results database at");
	free(none);

	/* Text that is not UTF-8 is stored as valid UTF-8. */
	CHECK(store_open(&s, db) == 0, "open");
	CHECK(store_host_fact(&s, "r1", "bad", "a\xff\xfe b \xc3\x28 \xe2\x82\xac") == 0, "store invalid UTF-8");
	char *v = store_host_fact_get(&s, "r1", "bad");

	CHECK(v && strcmp(v, "a\xef\xbf\xbd\xef\xbf\xbd b \xef\xbf\xbd( \xe2\x82\xac") == 0, "replaced: '%s'",
	      v ? v : "(null)");
	free(v);
	store_close(&s);
	free(foreign);
	free(legacy);
	free(copy);
}

/* Scheduling counters of a mediated job; a scenario's rows, samples and resume check; what the report reads. */
static void test_scheduling(const char *db)
{
	struct store s;
	struct wl_result m = metrics(120);
	struct vgpu_stats vs = { .present = 1, .policy = "fixed-share", .share = 0.5, .weight = 2, .gpu_ms = 750,
				 .sync_ms = 50, .async_ms = 700, .throttled_ms = 30, .batches = 40, .frames = 90,
				 .resets = 1, .watchdog_trips = 2, .watchdog_longest_ms = 5236.5 };
	struct job_row j = { .config = "mediated", .topology = 1, .guest_index = 1, .workload = "glmark2",
			     .repetition = 1, .status = "ok", .accel = "tcg", .wall_s = 1, .user_s = 1, .maxrss_kb = 1,
			     .metrics = &m, .vgpu_name = "guest1", .vgpu = &vs };
	struct vgpu_sample smp[3] = { { .t_s = 0 }, { .t_s = 1 }, { .t_s = 2 } };
	struct scenario_row rows[2];
	struct scenario_result *res = NULL;
	size_t n = 0;
	double *t, *g, *f;

	for (int i = 0; i < 3; i++) {
		smp[i].present[0] = smp[i].present[1] = 1;
		smp[i].gpu_ms[0] = 100.0 * i;
		smp[i].gpu_ms[1] = 50.0 * i;
		smp[i].frames[1] = 30.0 * i;
	}
	smp[2].present[0] = 0;
	rows[0] = (struct scenario_row){ .scenario = "noisy", .policy_run = "equal-share", .phase = "contended",
					 .guest_index = 1, .workload = "gpuhog", .repetition = 1, .status = "ok",
					 .metric = "fps", .value = 16.5, .has_value = 1, .unit = "fps", .wall_s = 40,
					 .vgpu_name = "guest1", .vgpu = &vs, .samples = smp, .nsamples = 3,
					 .sample_col = 0, .window_gpu_ms = 200, .window_s = 2 };
	rows[1] = rows[0];
	rows[1].guest_index = 2;
	rows[1].workload = "idle";
	rows[1].has_value = 0;
	rows[1].vgpu = NULL;
	rows[1].sample_col = 1;
	rows[1].window_gpu_ms = -1;

	/* where its time went: two stages recorded, the others empty (not stored) */
	vs.stages_present = 1;
	for (int i = 0; i < 100; i++)
		stage_record(&vs.stage[STAGE_CHECK], 20000 + 100 * (uint64_t)i);
	stage_record(&vs.stage[STAGE_FENCE], 3000000);
	stage_record(&vs.stage[STAGE_FENCE], 5000000);

	CHECK(store_open(&s, db) == 0, "open");
	CHECK(store_run_create(&s, "r2", "sharing", "s.ini", "[plan]\n", "runs/r2") == 0, "a second run");
	CHECK(store_jobs(&s, "r2", &j, 1) == 0, "a mediated job with its scheduling: %s", s.err);
	CHECK(count(&s, "SELECT count(*) FROM job_stages") == 2 &&
		      count(&s, "SELECT count FROM job_stages WHERE stage = 'check'") == 100,
	      "its two stages with events are kept, with their counts");
	{
		struct stage_row *sr = NULL;
		size_t sn = 0;

		j.repetition = 2; /* a second job of the same row: histograms add up */
		CHECK(store_jobs(&s, "r2", &j, 1) == 0, "a second repetition: %s", s.err);
		CHECK(store_stage_rows(&s, "r2", &sr, &sn) == 0 && sn == 1, "one row: %zu", sn);
		CHECK(sn == 1 && !strcmp(sr[0].workload, "glmark2") && !strcmp(sr[0].config, "mediated") &&
			      sr[0].topology == 1 && !sr[0].dom0 && sr[0].jobs == 2 && sr[0].frames == 180,
		      "mediated x1 glmark2: 2 jobs, 180 frames");
		CHECK(sn == 1 && sr[0].h[STAGE_CHECK].count == 200 && sr[0].h[STAGE_FENCE].count == 4 &&
			      sr[0].h[STAGE_RENDER].count == 0,
		      "the histograms summed over both jobs");
		CHECK(sn == 1 && stage_percentile(&sr[0].h[STAGE_FENCE], 99) >= 5000000 &&
			      stage_percentile(&sr[0].h[STAGE_FENCE], 99) <= 5000000 * 1.25 &&
			      stage_percentile(&sr[0].h[STAGE_CHECK], 50) >= 24900,
		      "percentiles from the stored buckets: p99 fence %llu ns",
		      sn ? (unsigned long long)stage_percentile(&sr[0].h[STAGE_FENCE], 99) : 0ull);
		free(sr);
		raw_sql_db(&s, "UPDATE job_stages SET buckets = '999:1' WHERE stage = 'fence'");
		CHECK(store_stage_rows(&s, "r2", &sr, &sn) == 0 && sn == 1 && sr[0].h[STAGE_FENCE].count == 0 &&
			      sr[0].h[STAGE_CHECK].count == 200,
		      "a damaged bucket list is left out, not guessed");
		free(sr);
		raw_sql_db(&s, "DELETE FROM jobs WHERE run_id = 'r2' AND repetition = 2");
		j.repetition = 1;
	}
	CHECK(count(&s, "SELECT count(*) FROM vgpu_stats WHERE vgpu='guest1' AND policy='fixed-share' AND gpu_ms=750"
			" AND share=0.5") == 1,
	      "its vGPU's counters are kept with it");
	CHECK(count(&s, "SELECT count(*) FROM vgpu_health WHERE resets=1 AND recoveries=0 AND watchdog_trips=2"
			" AND watchdog_longest_ms=5236.5") == 1,
	      "and its health: a reset, two watchdog trips, the longest 5236.5 ms");
	{
		struct health_totals h;

		CHECK(store_health_totals(&s, "r2", &h) == 0 && h.jobs == 1 && h.resets == 1 && h.watchdog_trips == 2 &&
			      h.watchdog_longest_ms == 5236.5,
		      "the run's health totals: %lld jobs, %lld resets, %lld trips", h.jobs, h.resets, h.watchdog_trips);
	}
	CHECK(store_scenario_jobs(&s, "r2", rows, 2) == 0, "a scenario repetition: %s", s.err);
	CHECK(store_scenario_done(&s, "r2", "noisy", "equal-share", "contended", 2, 1), "found for resume");
	CHECK(!store_scenario_done(&s, "r2", "noisy", "equal-share", "baseline", 2, 1), "the baseline is not");
	CHECK(store_scenario_jobs(&s, "r2", rows, 2) < 0, "the same repetition twice is refused");
	CHECK(count(&s, "SELECT count(*) FROM scenario_jobs") == 2, "and left nothing half-stored");
	CHECK(count(&s, "SELECT count(*) FROM scenario_samples") == 5, "five samples (one was missing)");
	CHECK(store_scenario_results(&s, "r2", &res, &n) == 0 && n == 2, "read back: %zu", n);
	CHECK(n == 2 && res[0].value == 16.5 && res[0].gpu_ms == 750 && res[0].window_gpu_ms == 200 &&
		      !strcmp(res[1].workload, "idle") && res[1].value < 0 && res[1].gpu_ms < 0 && res[1].window_gpu_ms < 0,
	      "values, and unknowns as -1");
	CHECK(n == 2 && store_scenario_samples(&s, res[1].id, &t, &g, &f, &n) == 0 && n == 3 && g[2] == 100 &&
		      f[2] == 60 && t[1] == 1,
	      "a guest's samples in time order");
	free(t);
	free(g);
	free(f);
	free(res);
	rows[0].status = "grand";
	rows[0].repetition = rows[1].repetition = 2;
	CHECK(store_scenario_jobs(&s, "r2", rows, 2) < 0, "an unknown status is refused");
	store_close(&s);
}

/* What store_run_list gave: how many runs, and the last one. */
struct listed {
	int n, jobs, ok;
	char id[64], status[32];
};

static void list_run(void *ctx, const char *id, const char *status, const char *started_at, int jobs, int ok)
{
	struct listed *l = ctx;

	(void)started_at;
	l->n++;
	l->jobs = jobs;
	l->ok = ok;
	snprintf(l->id, sizeof(l->id), "%s", id);
	snprintf(l->status, sizeof(l->status), "%s", status);
}

/* Calibration rows: counts, a negative change, and what was not measured. */
static void test_calibration_rows(struct store *s)
{
	struct calibration_row in[2] = {
		{ .workload = "glmark2", .metric = "score", .config = "mediated", .topology = 1,
		  .injected = "mediator throttle 5%", .aa_pairs = 2, .aa_flagged = 1, .ab_pairs = 4, .ab_detected = 3,
		  .change_pct = -4.5, .detectable_pct = 3.25 },
		{ .workload = "glmark2", .metric = "score", .config = "qemu-virgl", .topology = 3, .dom0 = 1,
		  .aa_pairs = 1, .change_pct = NAN, .detectable_pct = INFINITY },
	};
	struct calibration_row *out = NULL;
	size_t n = 0;

	CHECK(store_calibration_put(s, "r1", in, 2) == 0, "calibration rows stored");
	CHECK(store_calibration_get(s, "r1", &out, &n) == 0 && n == 2, "and read back (%zu)", n);
	CHECK(n == 2 && !strcmp(out[0].config, "mediated") && !strcmp(out[0].injected, "mediator throttle 5%") &&
		      out[0].aa_flagged == 1 && out[0].ab_pairs == 4 && out[0].ab_detected == 3 &&
		      out[0].change_pct == -4.5 && out[0].detectable_pct == 3.25,
	      "a row keeps its counts, a negative change and its detectable change");
	CHECK(n == 2 && out[1].dom0 == 1 && !out[1].injected[0] && isnan(out[1].change_pct) &&
		      isnan(out[1].detectable_pct),
	      "nothing injected, no change and no detectable change read back as such");
	free(out);
}

/* The summary of run r1: medians, sums, % of native, the failed job's reason, the skipped configuration. */
static void test_summary(struct store *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	CHECK(summary_print(s, "r1", mem) == 0, "summary");
	fclose(mem);
	CHECK_STR_CONTAINS(text, "native");
	CHECK_STR_CONTAINS(text, "100.0"); /* native median */
	CHECK_STR_CONTAINS(text, "250.0"); /* median of the two guests */
	CHECK_STR_CONTAINS(text, "500.0"); /* their sum in that repetition */
	CHECK_STR_CONTAINS(text, "250.0%"); /* % of native */
	CHECK_STR_CONTAINS(text, "1/2"); /* one of the two native jobs ok */
	CHECK_STR_CONTAINS(text, "wrong GPU path");
	CHECK_STR_CONTAINS(text, "skipped: needs KVM");
	free(text);
}

/* Re-opening keeps everything and does not re-create the schema; a file that is not a database is refused. */
static void test_reopen(const char *dir, const char *db)
{
	struct store s;

	CHECK(store_open(&s, db) == 0, "re-open");
	CHECK(count(&s, "SELECT count(*) FROM jobs") == 4, "jobs survive re-opening");
	CHECK(count(&s, "SELECT count(*) FROM schema_version") == 1, "one schema version row");
	CHECK(count(&s, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'") == 1,
	      "integrity check passes");
	store_close(&s);

	/* Not a database: a clear error, no crash. */
	char *junk = vb_strdupf("%s/junk.db", dir);

	vb_write_file(junk, "this is not sqlite, not at all; padding padding padding padding padding padding", 80);
	CHECK(store_open(&s, junk) < 0, "a file that is not a database is refused");
	unlink(junk);
	free(junk);
}

int main(void)
{
	char dir[] = "/tmp/vgpubench-store-XXXXXX";
	struct store s;
	char *db, *pp = NULL, *pt = NULL, *rd = NULL, *status = NULL;

	if (!mkdtemp(dir))
		return 1;
	db = vb_strdupf("%s/vgpubench.db", dir);
	CHECK(store_open(&s, db) == 0, "open a new database");
	CHECK(store_run_create(&s, "r1", "default", "plan.ini", "[plan]\n", "/tmp/r1") == 0, "create run");
	CHECK(store_run_create(&s, "r1", "default", "plan.ini", "[plan]\n", "/tmp/r1") < 0, "duplicate run id refused");
	CHECK(store_config(&s, "r1", "native", "run", NULL) == 0, "config row");
	CHECK(store_config(&s, "r1", "passthrough", "skipped", "needs KVM") == 0, "skipped config row");
	CHECK(store_host_fact(&s, "r1", "accel", "tcg") == 0, "host fact");

	struct wl_result m1 = metrics(100), m2 = metrics(300), m3 = metrics(200);
	struct job_row native = { .config = "native", .topology = 0, .guest_index = 0, .workload = "glmark2",
				  .repetition = 1, .status = "ok", .accel = "none", .renderer = "llvmpipe",
				  .wall_s = 1, .user_s = 1, .sys_s = 0, .maxrss_kb = 10, .exit_code = 0,
				  .metrics = &m1 };

	CHECK(store_jobs(&s, "r1", &native, 1) == 0, "store native job");
	test_calibration_rows(&s);
	struct job_row group[2] = { native, native };

	group[0].config = group[1].config = "qemu-virgl";
	group[0].topology = group[1].topology = 2;
	group[0].guest_index = 1;
	group[1].guest_index = 2;
	group[0].metrics = &m2;
	group[1].metrics = &m3;
	CHECK(store_jobs(&s, "r1", group, 2) == 0, "store a two-guest repetition");
	CHECK(store_job_done(&s, "r1", "qemu-virgl", 2, 2, "glmark2", 1), "job found for resume");
	CHECK(!store_job_done(&s, "r1", "qemu-virgl", 2, 2, "glmark2", 2), "missing job not found");

	/* A group whose second row collides is rolled back whole. */
	struct job_row clash[2] = { group[0], group[1] };

	clash[0].repetition = 2;
	CHECK(store_jobs(&s, "r1", clash, 2) < 0, "colliding group refused");
	CHECK(!store_job_done(&s, "r1", "qemu-virgl", 2, 1, "glmark2", 2), "no half-stored group");
	CHECK(count(&s, "SELECT count(*) FROM jobs") == 3, "three jobs stored");
	CHECK(count(&s, "SELECT count(*) FROM metrics") == 6, "six metrics stored");
	CHECK(count(&s, "SELECT count(*) FROM metrics WHERE direction='lower' AND unit='ms'") == 3,
	      "direction and unit stored");

	/* A failed job has no metrics and keeps its reason. */
	struct job_row failed = native;

	failed.repetition = 2;
	failed.status = "failed";
	failed.reason = "wrong GPU path";
	failed.metrics = NULL;
	CHECK(store_jobs(&s, "r1", &failed, 1) == 0, "store a failed job");
	{
		struct listed l = { 0 };

		CHECK(store_run_list(&s, list_run, &l) == 0 && l.n == 1 && !strcmp(l.id, "r1") && l.jobs == 4 &&
			      l.ok == 3 && !strcmp(l.status, "running"),
		      "listed: %d run(s), %s %s with %d/%d jobs ok", l.n, l.id, l.status, l.ok, l.jobs);
	}
	struct job_row bogus = native;

	bogus.repetition = 3;
	bogus.status = "great";
	CHECK(store_jobs(&s, "r1", &bogus, 1) < 0, "an unknown status is refused by the schema");

	CHECK(store_run_load(&s, "r1", &pp, &pt, &rd, &status) == 0, "load run");
	CHECK(pt && strcmp(pt, "[plan]\n") == 0, "plan text kept");
	CHECK(status && strcmp(status, "running") == 0, "status running");
	char *x1, *x2, *x3, *x4;

	CHECK(store_run_load(&s, "nope", &x1, &x2, &x3, &x4) < 0, "unknown run");
	CHECK(store_run_set_status(&s, "r1", "interrupted", "a test") == 0, "set status");
	CHECK(count(&s, "SELECT count(*) FROM runs WHERE status='interrupted' AND finished_at IS NOT NULL") == 1,
	      "interrupted with a finish time");

	test_summary(&s);
	store_close(&s);
	test_reopen(dir, db);

	test_identity(dir, db);
	test_old_versions(dir, db);
	test_scheduling(db);

	free(pp);
	free(pt);
	free(rd);
	free(status);
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(db);
	return check_done("store");
}
