/* store_test.c: the results database on both back-ends: schema creation and
 * re-opening, runs, atomic job groups, resume look-ups, scheduling rows, and
 * the summary read back from it; what a database is, checked on every open.
 * SQLite always; PostgreSQL on the server PG_TEST_CONNINFO names (run-tests.sh
 * starts a private one), each part in a new database of its own. */
#define _GNU_SOURCE
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "pg_fixture.h"
#include "store/db.h"
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

/* The first column of sql's first row, through the store's own connection; -1 when it fails. */
static int count(struct store *s, const char *sql)
{
	struct db_stmt *st = s->drv && s->db ? s->drv->prepare(s->db, sql) : NULL;
	int n = -1;

	if (!st)
		return -1;
	if (st->drv->step(st) == DB_ROW)
		n = (int)st->drv->col_int64(st, 0);
	st->drv->finalize(st);
	return n;
}

/* Where a part of the test keeps its databases. */
struct backend {
	const char *name;   /* "sqlite" or "postgresql" */
	const char *dir;    /* SQLite: the folder of its files */
	const char *server; /* PostgreSQL: the test server's connection string */
};

/* A new, empty database for one part of the test: a file name in the folder, or a database made on the server.
 * Its URL, malloc'ed. */
static char *new_db(const struct backend *b, const char *name)
{
	return b->server ? pg_fixture_db(b->server, name) : vb_strdupf("%s/%s.db", b->dir, name);
}

/* sql run on url's database by a client of its own (another program's view); the first column of the last
 * statement's first row, or -1. */
static int raw_query(const char *url, const char *sql)
{
	int n = -1;

	if (!strncmp(url, "postgresql:", 11)) {
		PGconn *c = PQconnectdb(url + 11);
		PGresult *r = PQexec(c, sql);

		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
			n = atoi(PQgetvalue(r, 0, 0));
		else if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fprintf(stderr, "raw sql failed: %s", PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
	} else {
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		const char *tail = sql;

		if (sqlite3_open(url, &db) != SQLITE_OK)
			fprintf(stderr, "raw sql on %s failed: %s\n", url, db ? sqlite3_errmsg(db) : "?");
		while (db && *tail && sqlite3_prepare_v2(db, tail, -1, &st, &tail) == SQLITE_OK && st) {
			int rc = sqlite3_step(st);

			if (rc == SQLITE_ROW)
				n = sqlite3_column_int(st, 0);
			else if (rc != SQLITE_DONE)
				fprintf(stderr, "raw sql on %s failed: %s\n", url, sqlite3_errmsg(db));
			sqlite3_finalize(st);
			st = NULL;
		}
		sqlite3_close(db);
	}
	return n;
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
	if (s->drv->exec(s->db, sql) < 0)
		fprintf(stderr, "raw sql failed: %s\n", s->drv->errmsg(s->db));
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
		raw_query(v3, "DROP TABLE scenario_samples; DROP TABLE scenario_jobs; DROP TABLE vgpu_stats;"
			    "DROP TABLE vgpu_health; DROP TABLE job_noise; DROP TABLE calibration_rows;"
			    "DROP TABLE job_stages;"
			    "ALTER TABLE configs DROP COLUMN seq; ALTER TABLE runs DROP COLUMN host;"
			    "PRAGMA user_version = 3;"
			    "UPDATE schema_version SET version = 3;");
		CHECK(store_open_read(&s, v3) == 0, "a version 3 database opens for reading: %s", s.err);
		CHECK(store_scenario_results(&s, "r1", &sr, &sn) == 0 && sn == 0 && !sr, "no scenarios in it");
		struct calibration_row *cr = (void *)1;

		CHECK(store_calibration_get(&s, "r1", &cr, &sn) == 0 && sn == 0 && !cr, "nor a calibration");
		struct stage_row *sgr = (void *)1;

		CHECK(store_stage_rows(&s, "r1", &sgr, &sn) == 0 && sn == 0 && !sgr, "nor stage histograms");
		store_close(&s);
		CHECK(store_open(&s, v3) == 0 && count(&s, "PRAGMA user_version") == 10, "and is upgraded to 10");
		store_close(&s);
		free(v3);
	}

	/* A version 8 database's job_noise gains the boot column; its jobs' boot is unknown (NULL). */
	{
		char *v8 = vb_strdupf("%s/v8.db", dir);

		copy_db(db, v8);
		raw_query(v8, "DROP TABLE job_noise;"
			    "CREATE TABLE job_noise(job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
			    " steal_pct REAL, load_before REAL, load_after REAL, redos INTEGER NOT NULL, redo_reason TEXT);"
			    "INSERT INTO job_noise SELECT id, 1, 0, 0, 0, NULL FROM jobs LIMIT 1;"
			    "ALTER TABLE configs DROP COLUMN seq; ALTER TABLE runs DROP COLUMN host;"
			    "PRAGMA user_version = 8; UPDATE schema_version SET version = 8;");
		CHECK(store_open(&s, v8) == 0 && count(&s, "PRAGMA user_version") == 10,
		      "a version 8 database upgraded: %s", s.err);
		CHECK(count(&s, "SELECT count(*) FROM job_noise WHERE boot IS NULL") == 1, "its job's boot is unknown");
		CHECK(count(&s, "SELECT count(*) FROM configs WHERE seq = rowid") == 2,
		      "its configurations keep their order (version 10's seq)");
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
	raw_query(foreign, "CREATE TABLE accounts(id INTEGER, owner TEXT); INSERT INTO accounts VALUES (1, 'x');");
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
	raw_query(copy, "PRAGMA foreign_keys=OFF; DROP TABLE metrics;");
	CHECK(store_open(&s, copy) < 0, "a database with a table missing is refused");
	CHECK_STR_CONTAINS(s.err, "is damaged: table 'metrics' is missing (schema version 10)");
	CHECK(store_open_read(&s, copy) < 0, "also for reading");
	raw_query(copy, "SELECT 1");
	CHECK(raw_query(copy, "SELECT count(*) FROM sqlite_master WHERE name = 'metrics'") == 0,
	      "the missing table was not recreated");

	/* A version 2 database (no application_id, no runs.reason) is upgraded in place. */
	raw_query(legacy,
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
	CHECK(count(&s, "PRAGMA user_version") == 10 && count(&s, "SELECT version FROM schema_version") == 10,
	      "now version 10");
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

	free(foreign);
	free(legacy);
	free(copy);
}

/* Text that is not UTF-8 is stored as valid UTF-8. */
static void test_utf8(const char *db)
{
	struct store s;
	char *v;

	CHECK(store_open(&s, db) == 0, "open");
	CHECK(store_host_fact(&s, "r1", "bad", "a\xff\xfe b \xc3\x28 \xe2\x82\xac") == 0, "store invalid UTF-8");
	v = store_host_fact_get(&s, "r1", "bad");
	CHECK(v && strcmp(v, "a\xef\xbf\xbd\xef\xbf\xbd b \xef\xbf\xbd( \xe2\x82\xac") == 0, "replaced: '%s'",
	      v ? v : "(null)");
	free(v);
	store_close(&s);
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
	CHECK(store_run_create(&s, "r2", "sharing", "h1", "s.ini", "[plan]\n", "runs/r2") == 0, "a second run");
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

static void list_run(void *ctx, const char *id, const char *host, const char *status, const char *started_at,
		     int jobs, int ok)
{
	struct listed *l = ctx;

	(void)started_at;
	(void)host;
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

/* Re-opening keeps everything and does not re-create the schema. */
static void test_reopen(const char *db)
{
	struct store s;

	CHECK(store_open(&s, db) == 0, "re-open");
	CHECK(count(&s, "SELECT count(*) FROM jobs") == 4, "jobs survive re-opening");
	CHECK(count(&s, "SELECT count(*) FROM schema_version") == 1, "one schema version row");
	store_close(&s);
}

/* What only an SQLite file can be: intact, or not a database at all (a clear error, no crash). */
static void test_sqlite_file(const char *dir, const char *db)
{
	struct store s;
	char *junk = vb_strdupf("%s/junk.db", dir);

	CHECK(store_open(&s, db) == 0, "re-open");
	CHECK(count(&s, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'") == 1,
	      "integrity check passes");
	store_close(&s);
	vb_write_file(junk, "this is not sqlite, not at all; padding padding padding padding padding padding", 80);
	CHECK(store_open(&s, junk) < 0, "a file that is not a database is refused");
	unlink(junk);
	free(junk);
}

/* Runs, configurations, jobs, resume look-ups, the run list and the summary, in a new database (its URL). */
static char *test_runs(const struct backend *b)
{
	struct store s;
	char *db = new_db(b, "vgpubench"), *pp = NULL, *pt = NULL, *rd = NULL, *status = NULL;

	CHECK(store_open(&s, db) == 0, "open a new database");
	CHECK(store_run_create(&s, "r1", "default", "h1", "plan.ini", "[plan]\n", "/tmp/r1") == 0, "create run");
	CHECK(store_run_create(&s, "r1", "default", "h1", "plan.ini", "[plan]\n", "/tmp/r1") < 0,
	      "duplicate run id refused");
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

		CHECK(store_run_list(&s, NULL, list_run, &l) == 0 && l.n == 1 && !strcmp(l.id, "r1") && l.jobs == 4 &&
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
	free(pp);
	free(pt);
	free(rd);
	free(status);
	return db;
}

/* What a database on a server is, checked on every open: another application's, a damaged one, a newer one and
 * an empty one refused untouched; URLs that cannot be used refused with why, a password never repeated. */
static void test_server_identity(const struct backend *b)
{
	struct store s;
	char *foreign = new_db(b, "foreign"), *damaged = new_db(b, "damaged"), *newer = new_db(b, "newer");
	char *empty = new_db(b, "empty");

	raw_query(foreign, "CREATE TABLE accounts(id INTEGER, owner TEXT); INSERT INTO accounts VALUES (1, 'x')");
	CHECK(store_open(&s, foreign) < 0, "another application's database is refused");
	CHECK_STR_CONTAINS(s.err, "is not a vgpubench database (application_id 0, tables: accounts)");
	CHECK(store_open_read(&s, foreign) < 0, "and refused for reading too");
	CHECK(raw_query(foreign, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 1 &&
		      raw_query(foreign, "SELECT count(*) FROM accounts") == 1,
	      "and left as it was: one table, its row");

	CHECK(store_open(&s, damaged) == 0, "a new database is made ours: %s", s.err);
	store_close(&s);
	raw_query(damaged, "DROP TABLE metrics");
	CHECK(store_open(&s, damaged) < 0, "a database with a table missing is refused");
	CHECK_STR_CONTAINS(s.err, "is damaged: table 'metrics' is missing (schema version 10)");
	CHECK(raw_query(damaged, "SELECT count(*) FROM pg_tables WHERE tablename = 'metrics'") == 0,
	      "and the missing table is not recreated");

	CHECK(store_open(&s, newer) == 0, "open");
	store_close(&s);
	raw_query(newer, "UPDATE schema_version SET version = 99");
	CHECK(store_open(&s, newer) < 0 && store_open_read(&s, newer) < 0, "a newer database is refused");
	CHECK_STR_CONTAINS(s.err, "has schema version 99; this vgpubench knows up to 10");
	CHECK(raw_query(newer, "SELECT version FROM schema_version") == 99, "untouched");

	CHECK(store_open_read(&s, empty) < 0, "an empty database has nothing to read");
	CHECK_STR_CONTAINS(s.err, "is empty: no vgpubench results there");
	CHECK(raw_query(empty, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0,
	      "and reading made nothing in it");

	CHECK(store_open(&s, "postgresql://vgpubench:s3cr3t@127.0.0.1:1/x") < 0, "a password in the URL is refused");
	CHECK_STR_CONTAINS(s.err, "holds a password");
	CHECK(!strstr(s.err, "s3cr3t"), "without repeating it: %s", s.err);
	CHECK(store_open(&s, "postgresql://vgpubench@127.0.0.1:1/x?connect_timeout=2") < 0,
	      "a server that does not answer is said");
	CHECK_STR_CONTAINS(s.err, "cannot connect to the PostgreSQL server");
	CHECK(store_open(&s, "postgresql:dbname") < 0, "a connection string that does not parse is refused");
	CHECK_STR_CONTAINS(s.err, "not a PostgreSQL connection string");
	CHECK(store_open(&s, "mysql://h/x") < 0, "an unknown kind of URL is refused");
	CHECK_STR_CONTAINS(s.err, "unknown kind of database URL 'mysql'");
	free(foreign);
	free(damaged);
	free(newer);
	free(empty);
}

static void history_row(void *ctx, const char *const *cols)
{
	char *out = ctx;

	snprintf(out + strlen(out), 64 - strlen(out), "%s ", cols[0]);
}

static void listed_id(void *ctx, const char *id, const char *host, const char *status, const char *started_at,
		      int jobs, int ok)
{
	char *out = ctx;

	(void)status;
	(void)started_at;
	(void)jobs;
	(void)ok;
	snprintf(out + strlen(out), 64 - strlen(out), "%s@%s ", id, host[0] ? host : "?");
}

/* Runs of one plan on two hosts and one whose host was not recorded: the previous run and the history of a run
 * are its host's (or the host asked for), the list is a host's or everyone's. */
static void test_hosts(const struct backend *b)
{
	char *db = new_db(b, "hosts"), prev[64] = "", hist[64] = "", list[64] = "", *h;
	static const char *const runs[][2] = { { "t0", NULL }, { "t1", "h1" }, { "t2", "h2" }, { "t3", "h1" } };
	struct store s;

	CHECK(store_open(&s, db) == 0, "open: %s", s.err);
	for (size_t i = 0; i < 4; i++)
		CHECK(store_run_create(&s, runs[i][0], "nightly", runs[i][1], "p.ini", "", "runs/x") == 0 &&
			      store_run_set_status(&s, runs[i][0], "complete", NULL) == 0,
		      "run %s on %s", runs[i][0], runs[i][1] ? runs[i][1] : "(not recorded)");
	CHECK(store_previous_run(&s, "t3", NULL, prev, sizeof(prev)) == 0 && !strcmp(prev, "t1"),
	      "t3's previous run is its own host's, not the later run of another: %s", prev);
	CHECK(store_previous_run(&s, "t3", "h2", prev, sizeof(prev)) == 0 && !strcmp(prev, "t2"),
	      "or the host's asked for: %s", prev);
	CHECK(store_previous_run(&s, "t1", NULL, prev, sizeof(prev)) == 0 && !strcmp(prev, "t0"),
	      "a run whose host is not known is any host's: %s", prev);
	CHECK(store_plan_history(&s, "t3", 10, history_row, hist) == 0 && !strcmp(hist, "t3 t1 t0 "),
	      "t3's history: %s", hist);
	CHECK(store_run_list(&s, "h2", listed_id, list) == 0 && !strcmp(list, "t0@? t2@h2 "), "h2's runs: %s", list);
	list[0] = '\0';
	CHECK(store_run_list(&s, NULL, listed_id, list) == 0 && !strcmp(list, "t0@? t1@h1 t2@h2 t3@h1 "),
	      "every host's: %s", list);
	h = store_run_host(&s, "t2");
	CHECK(h && !strcmp(h, "h2"), "t2's host: %s", h ? h : "(none)");
	free(h);
	h = store_run_host(&s, "t0");
	CHECK(!h, "t0's host is not known");
	free(h);
	store_close(&s);
	free(db);
}

/* When a run's steps ended (progress.c's previous run): a repetition of a row on two seats is one step, a row
 * marked without running is none, a scenario phase's repetition is one; an unknown run has none. */
static void test_step_times(const struct backend *b)
{
	char *db = new_db(b, "steps");
	struct job_row j[2] = { { .config = "mediated", .topology = 2, .guest_index = 1, .workload = "glmark2",
				  .repetition = 1, .status = "ok", .accel = "tcg", .wall_s = 3 } };
	struct scenario_row sc = { .scenario = "pair", .policy_run = "equal-share", .phase = "contended",
				   .guest_index = 1, .workload = "kms2d", .repetition = 1, .status = "ok",
				   .wall_s = -1, .window_gpu_ms = -1, .window_s = -1 };
	struct store s;
	double *t = NULL, total = -1;
	size_t n = 9;

	j[1] = j[0];
	j[1].guest_index = 2;
	CHECK(store_open(&s, db) == 0, "open: %s", s.err);
	CHECK(store_run_create(&s, "st", "steps", "h1", "p.ini", "", "runs/st") == 0, "a run");
	CHECK(store_jobs(&s, "st", j, 2) == 0, "repetition 1 on two guests: %s", s.err);
	j[0].repetition = j[1].repetition = 2;
	CHECK(store_jobs(&s, "st", j, 2) == 0, "repetition 2: %s", s.err);
	j[0].topology = 3;
	j[0].status = "skipped";
	j[0].wall_s = -1;
	CHECK(store_jobs(&s, "st", j, 1) == 0, "a guest count marked skipped: %s", s.err);
	CHECK(store_scenario_jobs(&s, "st", &sc, 1) == 0, "a scenario repetition: %s", s.err);
	CHECK(store_step_times(&s, "st", &t, &n, &total) == 0 && n == 3, "three steps: %zu (%s)", n, s.err);
	CHECK(n == 3 && t[0] >= 0 && t[0] <= t[1] && t[1] <= t[2] && t[2] < 600 && total >= t[2],
	      "from the run's start, ascending, within the run's length: %g %g %g of %g", n == 3 ? t[0] : -1,
	      n == 3 ? t[1] : -1, n == 3 ? t[2] : -1, total);
	free(t);
	CHECK(store_step_times(&s, "nosuchrun", &t, &n, &total) < 0 && !t && n == 0, "an unknown run has none");
	store_close(&s);
	free(db);
}

/* Two processes open one new database at once: both succeed, and the schema is made once. */
static void test_open_race(const struct backend *b)
{
	char *db = new_db(b, "race");
	pid_t kids[2];
	int ok = 0, st;
	struct store s;

	for (int i = 0; i < 2; i++)
		if ((kids[i] = fork()) == 0) {
			int rc = store_open(&s, db);

			store_close(&s);
			_exit(rc == 0 ? 0 : 1);
		}
	for (int i = 0; i < 2; i++)
		ok += kids[i] > 0 && waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	CHECK(ok == 2, "both processes opened the new database (%d of 2)", ok);
	CHECK(store_open(&s, db) == 0 && count(&s, "SELECT count(*) FROM schema_version") == 1 &&
		      count(&s, "SELECT version FROM schema_version") == 10,
	      "one schema, version 10");
	store_close(&s);
	free(db);
}

static void count_piglit(void *ctx, const struct store_piglit_counts *c)
{
	char *out = ctx;

	snprintf(out + strlen(out), 256 - strlen(out), "%s/%d %d:%d:%d:%d:%d:%d;", c->config, c->topology, c->total,
		 c->pass, c->warn, c->fail, c->crash, c->skip);
}

static void pair(void *ctx, const char *config, int topology, const char *name, const char *os, const char *ns)
{
	char *out = ctx;

	snprintf(out + strlen(out), 256 - strlen(out), "%s/%d %s %s>%s;", config, topology, name, os ? os : "-",
		 ns ? ns : "-");
}

static void statuses(void *ctx, const char *config, int topology, const char *name, const char *list)
{
	char *out = ctx;

	snprintf(out + strlen(out), 256 - strlen(out), "%s/%d %s %s;", config, topology, name, list);
}

/* Piglit's subtests in two runs: counted per configuration, their statuses per name, and the pairs compare
 * classifies, a subtest run twice counting at its worst. */
static void test_subtests(const struct backend *b)
{
	char *db = new_db(b, "piglit"), counts[256] = "", pairs[256] = "", lists[256] = "";
	struct wl_result a = { 0 }, c = { 0 };
	struct job_row j = { .config = "mediated", .topology = 1, .guest_index = 1, .workload = "piglit-quick",
			     .repetition = 1, .status = "ok", .wall_s = 1, .metrics = &a };
	struct store s;

	wl_add_subtest(&a, "spec/a", "pass");
	wl_add_subtest(&a, "spec/b", "fail");
	wl_add_subtest(&a, "spec/c", "skip");
	wl_add_subtest(&c, "spec/a", "crash");
	wl_add_subtest(&c, "spec/b", "fail");
	wl_add_subtest(&c, "spec/d", "pass");
	CHECK(store_open(&s, db) == 0, "open: %s", s.err);
	CHECK(store_run_create(&s, "old", "p", "h1", "p.ini", "", "runs/old") == 0 && store_jobs(&s, "old", &j, 1) == 0,
	      "a piglit job with three subtests: %s", s.err);
	j.metrics = &c;
	CHECK(store_run_create(&s, "new", "p", "h1", "p.ini", "", "runs/new") == 0 && store_jobs(&s, "new", &j, 1) == 0,
	      "another run's");
	j.repetition = 2;
	j.metrics = &a;
	CHECK(store_jobs(&s, "new", &j, 1) == 0, "and a second repetition of it");
	CHECK(store_piglit_counts(&s, "new", count_piglit, counts) == 0 &&
		      !strcmp(counts, "mediated/1 6:2:0:2:1:1;"),
	      "counted: %s", counts);
	CHECK(store_subtest_statuses(&s, "new", statuses, lists) == 0 &&
		      !strcmp(lists, "mediated/1 spec/a crash,pass;mediated/1 spec/b fail;mediated/1 spec/c skip;"
				     "mediated/1 spec/d pass;"),
	      "each subtest's statuses: %s", lists);
	CHECK(store_subtest_status_pairs(&s, "old", "new", pair, pairs) == 0 &&
		      !strcmp(pairs, "mediated/1 spec/a pass>crash;mediated/1 spec/b fail>fail;mediated/1 spec/c "
				     "skip>skip;mediated/1 spec/d ->pass;"),
	      "the pairs, at their worst: %s", pairs);
	store_close(&s);
	wl_result_free(&a);
	wl_result_free(&c);
	free(db);
}

/* What every back-end must do alike. */
static void test_backend(const struct backend *b)
{
	char *db = test_runs(b), *sched = new_db(b, "sched");

	test_reopen(db);
	test_utf8(db);
	test_scheduling(sched);
	test_subtests(b);
	test_hosts(b);
	test_step_times(b);
	test_open_race(b);
	free(db);
	free(sched);
}

int main(void)
{
	char dir[] = "/tmp/vgpubench-store-XXXXXX";
	struct backend lite = { .name = "sqlite", .dir = dir }, pg = { .name = "postgresql" };
	char *db;

	if (!mkdtemp(dir))
		return 1;
	test_backend(&lite);
	db = vb_strdupf("%s/vgpubench.db", dir);
	test_sqlite_file(dir, db);
	test_identity(dir, db);
	test_old_versions(dir, db);
	free(db);
	if ((pg.server = pg_fixture_server("store"))) {
		test_backend(&pg);
		test_server_identity(&pg);
	}
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("store");
}
