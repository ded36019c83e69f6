/* schema.c: the SQLite store's schema and its versions, and opening a database: a new one is created, an older
 * one is upgraded in a transaction, a newer one or a file that is not ours is refused. */
#define _GNU_SOURCE
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sql.h"
#include "util.h"

/* Version 2 added subtests; version 3 added runs.reason, application_id and user_version; version 4 added
 * vgpu_stats, scenario_jobs and scenario_samples; version 5 added vgpu_health; version 6 added job_noise; version 7
 * added calibration_rows; version 8 added job_stages; version 9 added job_noise.boot. */
#define SCHEMA_VERSION 9

/* PRAGMA application_id of a vgpubench database: "vgpb". */
#define APP_ID	0x76677062

/* The tables every vgpubench database has, in the order they are created. */
static const char *const tables[] = { "schema_version", "runs", "host_facts", "configs", "guests", "jobs", "metrics",
				      "subtests", "vgpu_stats", "scenario_jobs", "scenario_samples", "vgpu_health",
				      "job_noise", "calibration_rows", "job_stages" };

/* The schema version each of them first appeared in. */
static const int table_since[] = { 1, 1, 1, 1, 1, 1, 1, 2, 4, 4, 4, 5, 6, 7, 8 };

/* A vGPU's scheduling over one job, as columns (vgpu_stats and scenario_jobs share them). */
#define VGPU_COLUMNS                                                                                                   \
	"  vgpu TEXT, policy TEXT, share REAL, weight REAL, target_fps REAL,"                                           \
	"  gpu_ms REAL, gpu_sync_ms REAL, gpu_async_ms REAL, overlap_ms REAL, queued_ms REAL, throttled_ms REAL,"      \
	"  batches INTEGER, frames INTEGER, windows INTEGER, windows_met INTEGER,"

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs("
    "  id TEXT PRIMARY KEY,"
    "  plan_name TEXT NOT NULL,"
    "  plan_path TEXT NOT NULL,"
    "  plan_text TEXT NOT NULL,"
    "  dir TEXT NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  finished_at TEXT,"
    "  status TEXT NOT NULL CHECK(status IN ('running','complete','interrupted','failed')),"
    "  reason TEXT);"
    "CREATE TABLE IF NOT EXISTS host_facts("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL, value TEXT,"
    "  PRIMARY KEY(run_id, key));"
    "CREATE TABLE IF NOT EXISTS configs("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK(status IN ('run','skipped')),"
    "  reason TEXT,"
    "  PRIMARY KEY(run_id, name));"
    "CREATE TABLE IF NOT EXISTS guests("
    "  id INTEGER PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  config TEXT NOT NULL, topology INTEGER NOT NULL, guest_index INTEGER NOT NULL,"
    "  accel TEXT, boot_s REAL, kernel TEXT, agent_version TEXT, drm TEXT, serial_log TEXT,"
    "  status TEXT NOT NULL CHECK(status IN ('up','failed')), reason TEXT,"
    "  recorded_at TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS jobs("
    "  id INTEGER PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  config TEXT NOT NULL, topology INTEGER NOT NULL, guest_index INTEGER NOT NULL,"
    "  workload TEXT NOT NULL, repetition INTEGER NOT NULL,"
    "  status TEXT NOT NULL CHECK(status IN ('ok','failed','timeout','skipped')),"
    "  reason TEXT, accel TEXT, renderer TEXT,"
    "  wall_s REAL, user_s REAL, sys_s REAL, maxrss_kb INTEGER, exit_code INTEGER,"
    "  log_path TEXT, finished_at TEXT NOT NULL,"
    "  UNIQUE(run_id, config, topology, guest_index, workload, repetition));"
    "CREATE TABLE IF NOT EXISTS metrics("
    "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL,"
    "  direction TEXT NOT NULL CHECK(direction IN ('higher','lower')),"
    "  PRIMARY KEY(job_id, name));"
    "CREATE TABLE IF NOT EXISTS subtests("
    "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK(status IN ('pass','warn','fail','crash','timeout','skip','notrun')),"
    "  PRIMARY KEY(job_id, name));"
    "CREATE INDEX IF NOT EXISTS jobs_by_run ON jobs(run_id, workload, config, topology);"
    "CREATE TABLE IF NOT EXISTS vgpu_stats("
    "  job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE," VGPU_COLUMNS
    "  CHECK(gpu_ms IS NULL OR gpu_ms >= 0));"
    "CREATE TABLE IF NOT EXISTS scenario_jobs("
    "  id INTEGER PRIMARY KEY,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  scenario TEXT NOT NULL, policy_run TEXT NOT NULL,"
    "  phase TEXT NOT NULL CHECK(phase IN ('contended','baseline')),"
    "  guest_index INTEGER NOT NULL, workload TEXT NOT NULL, repetition INTEGER NOT NULL,"
    "  status TEXT NOT NULL CHECK(status IN ('ok','failed','timeout','skipped')),"
    "  reason TEXT, renderer TEXT, metric TEXT, value REAL, unit TEXT,"
    "  wall_s REAL, log_path TEXT, window_gpu_ms REAL, window_s REAL," VGPU_COLUMNS
    "  finished_at TEXT NOT NULL,"
    "  UNIQUE(run_id, scenario, policy_run, phase, guest_index, repetition));"
    "CREATE TABLE IF NOT EXISTS scenario_samples("
    "  job_id INTEGER NOT NULL REFERENCES scenario_jobs(id) ON DELETE CASCADE,"
    "  t_s REAL NOT NULL, gpu_ms REAL NOT NULL, frames REAL NOT NULL,"
    "  PRIMARY KEY(job_id, t_s));"
    "CREATE TABLE IF NOT EXISTS vgpu_health("
    "  job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
    "  resets INTEGER NOT NULL, recoveries INTEGER NOT NULL, errors INTEGER NOT NULL,"
    "  watchdog_trips INTEGER NOT NULL, watchdog_longest_ms REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS job_noise("
    "  job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
    "  steal_pct REAL, load_before REAL, load_after REAL,"
    "  redos INTEGER NOT NULL, redo_reason TEXT, boot INTEGER);"
    "CREATE TABLE IF NOT EXISTS calibration_rows("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  workload TEXT NOT NULL, metric TEXT NOT NULL, config TEXT NOT NULL, topology INTEGER NOT NULL,"
    "  dom0 INTEGER NOT NULL, injected TEXT,"
    "  aa_pairs INTEGER NOT NULL, aa_flagged INTEGER NOT NULL, ab_pairs INTEGER NOT NULL, ab_detected INTEGER NOT NULL,"
    "  change_pct REAL, detectable_pct REAL,"
    "  PRIMARY KEY(run_id, workload, metric, config, topology, dom0));"
    "CREATE TABLE IF NOT EXISTS job_stages("
    "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  stage TEXT NOT NULL, count INTEGER NOT NULL, total_ms REAL NOT NULL,"
    "  p50_us REAL NOT NULL, p99_us REAL NOT NULL, max_us REAL NOT NULL,"
    "  buckets TEXT NOT NULL,"
    "  PRIMARY KEY(job_id, stage));";

static int pragma_int(struct store *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Which of our tables exist (bit i for tables[i]), and how many tables there are in all. */
static int table_census(struct store *s, unsigned *ours, int *all, char *names, size_t nlen)
{
	sqlite3_stmt *st;

	*ours = 0;
	*all = 0;
	names[0] = '\0';
	if (sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &st,
			       NULL) != SQLITE_OK) {
		sql_error(s, "reading the schema");
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);

		(*all)++;
		for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
			if (n && strcmp(n, tables[i]) == 0)
				*ours |= 1u << i;
		if (strlen(names) + strlen(n ? n : "") + 3 < nlen)
			snprintf(names + strlen(names), nlen - strlen(names), "%s%s", names[0] ? ", " : "", n ? n : "");
	}
	sqlite3_finalize(st);
	return 0;
}

/* The version a vgpubench database says it has, 0 for a new one; -1 (message) for anything else. */
static int identify(struct store *s, const char *path, int *version)
{
	int app = 0, user = 0, all;
	unsigned ours;
	char names[256];
	sqlite3_stmt *st;

	if (pragma_int(s, "PRAGMA application_id", &app) < 0 || pragma_int(s, "PRAGMA user_version", &user) < 0 ||
	    table_census(s, &ours, &all, names, sizeof(names)) < 0) {
		if (!s->err[0])
			sql_error(s, "reading the header");
		return -1;
	}
	*version = 0;
	if (all == 0 && app == 0 && user == 0)
		return 0; /* new and empty */
	if (app == APP_ID) {
		*version = user;
	} else if (app == 0 && (ours & 1u)) {
		/* Written before version 3, which set application_id: its version is in schema_version. */
		if (sqlite3_prepare_v2(s->db, "SELECT version FROM schema_version", -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				*version = sqlite3_column_int(st, 0);
			sqlite3_finalize(st);
		}
	}
	if (*version <= 0) {
		snprintf(s->err, sizeof(s->err),
			 "%s is not a vgpubench database (application_id %#x, tables: %s); refusing to touch it", path,
			 (unsigned)app, names[0] ? names : "none");
		vb_err("%s", s->err);
		return -1;
	}
	if (*version > SCHEMA_VERSION) {
		snprintf(s->err, sizeof(s->err), "%s has schema version %d; this vgpubench knows up to %d", path,
			 *version, SCHEMA_VERSION);
		vb_err("%s", s->err);
		return -1;
	}
	/* A table is missing only if the database's version should have it. */
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (!(ours & (1u << i)) && table_since[i] <= *version) {
			snprintf(s->err, sizeof(s->err),
				 "the database %s is damaged: table '%s' is missing (schema version %d); restore it "
				 "from a backup or move it away",
				 path, tables[i], *version);
			vb_err("%s", s->err);
			return -1;
		}
	return 0;
}

/* Create the schema in a new database, or bring an older one up to SCHEMA_VERSION. */
static int upgrade(struct store *s, int version)
{
	char pragmas[96];

	int app = 0, user = 0;

	if (sql_exec(s, "BEGIN IMMEDIATE;") < 0)
		return -1;
	/* Another harness may have created or upgraded it while we waited for the lock. */
	if (pragma_int(s, "PRAGMA application_id", &app) == 0 && pragma_int(s, "PRAGMA user_version", &user) == 0 &&
	    app == APP_ID && user == SCHEMA_VERSION)
		return sql_exec(s, "COMMIT;");
	if (sql_exec(s, schema_sql) < 0)
		goto fail;
	if (version == 0 && sql_exec(s, "INSERT INTO schema_version VALUES (0);") < 0)
		goto fail;
	if (version > 0 && version < 3 && sql_exec(s, "ALTER TABLE runs ADD COLUMN reason TEXT;") < 0)
		goto fail;
	/* job_noise came in version 6 without the boot its job ran in (NULL for those jobs). */
	if (version >= 6 && version < 9 && sql_exec(s, "ALTER TABLE job_noise ADD COLUMN boot INTEGER;") < 0)
		goto fail;
	snprintf(pragmas, sizeof(pragmas), "UPDATE schema_version SET version = %d; PRAGMA application_id = %d;",
		 SCHEMA_VERSION, APP_ID);
	if (sql_exec(s, pragmas) < 0)
		goto fail;
	snprintf(pragmas, sizeof(pragmas), "PRAGMA user_version = %d;", SCHEMA_VERSION);
	if (sql_exec(s, pragmas) < 0 || sql_exec(s, "COMMIT;") < 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
	return -1;
}

static void close_db(struct store *s)
{
	sqlite3_close(s->db);
	s->db = NULL;
}

/* SQLite's unix VFS takes absolute paths of fewer than 512 bytes (MAX_PATHNAME); past that it says only "unable to
 * open database file". 0, or -1 with why in s->err (printed). */
#define SQLITE_PATH_MAX 512

static int path_fits(struct store *s, const char *path)
{
	char cwd[4096];
	size_t n = strlen(path);

	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
		n += strlen(cwd) + 1;
	if (n < SQLITE_PATH_MAX)
		return 0;
	snprintf(s->err, sizeof(s->err),
		 "the database path is %zu bytes long as an absolute path, and SQLite takes fewer than %d: choose a "
		 "shorter --results folder (%.120s...)",
		 n, SQLITE_PATH_MAX, path);
	vb_err("%s", s->err);
	return -1;
}

int store_open(struct store *s, const char *path)
{
	int version;

	memset(s, 0, sizeof(*s));
	if (path_fits(s, path) < 0)
		return -1;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		vb_err("cannot open the database %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		close_db(s);
		return -1;
	}
	sqlite3_busy_timeout(s->db, BUSY_MS);
	if (identify(s, path, &version) < 0)
		goto fail;
	if (sql_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;") < 0)
		goto fail;
	if (version < SCHEMA_VERSION && upgrade(s, version) < 0)
		goto fail;
	return 0;
fail:
	close_db(s);
	return -1;
}

/* "file:" URI of a path, for the immutable fallback. */
static char *file_uri(const char *path, const char *query)
{
	size_t n = strlen(path);
	char *u = malloc(3 * n + strlen(query) + 8), *o = u;

	if (!u)
		abort();
	o += sprintf(o, "file:");
	for (const char *p = path; *p; p++)
		if (*p == '%' || *p == '?' || *p == '#')
			o += sprintf(o, "%%%02X", (unsigned char)*p);
		else
			*o++ = *p;
	sprintf(o, "?%s", query);
	return u;
}

int store_open_read(struct store *s, const char *path)
{
	int version;

	memset(s, 0, sizeof(*s));
	if (path_fits(s, path) < 0)
		return -1;
	if (access(path, F_OK) < 0) {
		snprintf(s->err, sizeof(s->err), "no results database at %s: %s", path, strerror(errno));
		vb_err("%s", s->err);
		return -1;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    pragma_int(s, "PRAGMA application_id", &version) < 0) {
		/* A WAL database in a folder we cannot write: read it as it is on disk. */
		char *uri = file_uri(path, "immutable=1");

		close_db(s);
		if (sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
			vb_err("cannot open the database %s: %s", path,
			       s->db ? sqlite3_errmsg(s->db) : "out of memory");
			free(uri);
			close_db(s);
			return -1;
		}
		free(uri);
	}
	sqlite3_busy_timeout(s->db, BUSY_MS);
	if (identify(s, path, &version) < 0)
		goto fail;
	if (version == 0) {
		snprintf(s->err, sizeof(s->err), "%s is empty: no vgpubench results there", path);
		vb_err("%s", s->err);
		goto fail;
	}
	return 0;
fail:
	close_db(s);
	return -1;
}

void store_close(struct store *s)
{
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
}
