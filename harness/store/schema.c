/* schema.c: the store's schema and its versions, and opening a database on its back-end (db.h): a new one is
 * created, an older one is upgraded in a transaction, a newer one or a database that is not ours is refused. */
#define _GNU_SOURCE
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"
#include "util.h"

/* Version 2 added subtests; version 3 added runs.reason, application_id and user_version; version 4 added
 * vgpu_stats, scenario_jobs and scenario_samples; version 5 added vgpu_health; version 6 added job_noise; version 7
 * added calibration_rows; version 8 added job_stages; version 9 added job_noise.boot; version 10 added configs.seq
 * (the plan's order, which SQLite kept in its rowid and a server does not) and runs.host (the host that ran it, for
 * a database several hosts write into), and is the first a PostgreSQL database has. */
#define SCHEMA_VERSION 10

/* The application mark of a vgpubench database (SQLite's PRAGMA application_id): "vgpb". */
#define APP_ID	0x76677062

/* The tables every vgpubench database has, in the order they are created. */
static const char *const tables[] = { "schema_version", "runs", "host_facts", "configs", "guests", "jobs", "metrics",
				      "subtests", "vgpu_stats", "scenario_jobs", "scenario_samples", "vgpu_health",
				      "job_noise", "calibration_rows", "job_stages" };

/* The schema version each of them first appeared in. */
static const int table_since[] = { 1, 1, 1, 1, 1, 1, 1, 2, 4, 4, 4, 5, 6, 7, 8 };

/* A vGPU's scheduling over one job, as columns (vgpu_stats and scenario_jobs share them). */
#define VGPU_COLUMNS                                                                                                   \
	"  vgpu TEXT, policy TEXT, share FLOAT8, weight FLOAT8, target_fps FLOAT8,"                                    \
	"  gpu_ms FLOAT8, gpu_sync_ms FLOAT8, gpu_async_ms FLOAT8, overlap_ms FLOAT8, queued_ms FLOAT8,"               \
	"  throttled_ms FLOAT8, batches INTEGER, frames INTEGER, windows INTEGER, windows_met INTEGER,"

/* The schema, with %1$s where a column numbers its rows itself (db_driver.id_pk). FLOAT8 is a double on both
 * back-ends (a server's REAL is a float). */
static const char *const schema_fmt =
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
    "  reason TEXT, host TEXT);"
    "CREATE TABLE IF NOT EXISTS host_facts("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL, value TEXT,"
    "  PRIMARY KEY(run_id, key));"
    "CREATE TABLE IF NOT EXISTS configs("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK(status IN ('run','skipped')),"
    "  reason TEXT, seq INTEGER,"
    "  PRIMARY KEY(run_id, name));"
    "CREATE TABLE IF NOT EXISTS guests("
    "  id %1$s,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  config TEXT NOT NULL, topology INTEGER NOT NULL, guest_index INTEGER NOT NULL,"
    "  accel TEXT, boot_s FLOAT8, kernel TEXT, agent_version TEXT, drm TEXT, serial_log TEXT,"
    "  status TEXT NOT NULL CHECK(status IN ('up','failed')), reason TEXT,"
    "  recorded_at TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS jobs("
    "  id %1$s,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  config TEXT NOT NULL, topology INTEGER NOT NULL, guest_index INTEGER NOT NULL,"
    "  workload TEXT NOT NULL, repetition INTEGER NOT NULL,"
    "  status TEXT NOT NULL CHECK(status IN ('ok','failed','timeout','skipped')),"
    "  reason TEXT, accel TEXT, renderer TEXT,"
    "  wall_s FLOAT8, user_s FLOAT8, sys_s FLOAT8, maxrss_kb INTEGER, exit_code INTEGER,"
    "  log_path TEXT, finished_at TEXT NOT NULL,"
    "  UNIQUE(run_id, config, topology, guest_index, workload, repetition));"
    "CREATE TABLE IF NOT EXISTS metrics("
    "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL, value FLOAT8 NOT NULL, unit TEXT NOT NULL,"
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
    "  id %1$s,"
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  scenario TEXT NOT NULL, policy_run TEXT NOT NULL,"
    "  phase TEXT NOT NULL CHECK(phase IN ('contended','baseline')),"
    "  guest_index INTEGER NOT NULL, workload TEXT NOT NULL, repetition INTEGER NOT NULL,"
    "  status TEXT NOT NULL CHECK(status IN ('ok','failed','timeout','skipped')),"
    "  reason TEXT, renderer TEXT, metric TEXT, value FLOAT8, unit TEXT,"
    "  wall_s FLOAT8, log_path TEXT, window_gpu_ms FLOAT8, window_s FLOAT8," VGPU_COLUMNS
    "  finished_at TEXT NOT NULL,"
    "  UNIQUE(run_id, scenario, policy_run, phase, guest_index, repetition));"
    "CREATE TABLE IF NOT EXISTS scenario_samples("
    "  job_id INTEGER NOT NULL REFERENCES scenario_jobs(id) ON DELETE CASCADE,"
    "  t_s FLOAT8 NOT NULL, gpu_ms FLOAT8 NOT NULL, frames FLOAT8 NOT NULL,"
    "  PRIMARY KEY(job_id, t_s));"
    "CREATE TABLE IF NOT EXISTS vgpu_health("
    "  job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
    "  resets INTEGER NOT NULL, recoveries INTEGER NOT NULL, errors INTEGER NOT NULL,"
    "  watchdog_trips INTEGER NOT NULL, watchdog_longest_ms FLOAT8 NOT NULL);"
    "CREATE TABLE IF NOT EXISTS job_noise("
    "  job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
    "  steal_pct FLOAT8, load_before FLOAT8, load_after FLOAT8,"
    "  redos INTEGER NOT NULL, redo_reason TEXT, boot INTEGER);"
    "CREATE TABLE IF NOT EXISTS calibration_rows("
    "  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  workload TEXT NOT NULL, metric TEXT NOT NULL, config TEXT NOT NULL, topology INTEGER NOT NULL,"
    "  dom0 INTEGER NOT NULL, injected TEXT,"
    "  aa_pairs INTEGER NOT NULL, aa_flagged INTEGER NOT NULL, ab_pairs INTEGER NOT NULL, ab_detected INTEGER NOT NULL,"
    "  change_pct FLOAT8, detectable_pct FLOAT8,"
    "  PRIMARY KEY(run_id, workload, metric, config, topology, dom0));"
    "CREATE TABLE IF NOT EXISTS job_stages("
    "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  stage TEXT NOT NULL, count INTEGER NOT NULL, total_ms FLOAT8 NOT NULL,"
    "  p50_us FLOAT8 NOT NULL, p99_us FLOAT8 NOT NULL, max_us FLOAT8 NOT NULL,"
    "  buckets TEXT NOT NULL,"
    "  PRIMARY KEY(job_id, stage));";

struct census {
	unsigned ours; /* bit i for tables[i] */
	int all;
	char names[256];
};

static void count_table(void *ctx, const char *n)
{
	struct census *c = ctx;
	size_t used = strlen(c->names);

	c->all++;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strcmp(n, tables[i]) == 0)
			c->ours |= 1u << i;
	if (used + strlen(n) + 3 < sizeof(c->names))
		snprintf(c->names + used, sizeof(c->names) - used, "%s%s", used ? ", " : "", n);
}

/* A database written by SQLite before version 3, which set no application_id: its version is in schema_version. */
static int old_sqlite_version(struct store *s)
{
	struct db_stmt *st;
	int v = 0;

	if (s->drv != &db_sqlite || !(st = s->drv->prepare(s->db, "SELECT version FROM schema_version")))
		return 0;
	if (sql_step(st) == DB_ROW)
		v = sql_int(st, 0);
	sql_finalize(st);
	return v;
}

/* The version a vgpubench database says it has, 0 for a new one; -1 (message) for anything else. */
static int identify(struct store *s, const char *url, int *version)
{
	struct census c = { 0 };
	int app = 0, user = 0;

	if (s->drv->marks(s->db, &app, &user) < 0 || s->drv->tables(s->db, count_table, &c) < 0) {
		sql_error(s, "reading what the database is");
		return -1;
	}
	*version = 0;
	if (c.all == 0 && app == 0 && user == 0)
		return 0; /* new and empty */
	if (app == APP_ID)
		*version = user;
	else if (app == 0 && (c.ours & 1u))
		*version = old_sqlite_version(s);
	if (*version <= 0) {
		snprintf(s->err, sizeof(s->err),
			 "%s is not a vgpubench database (application_id %#x, tables: %s); refusing to touch it", url,
			 (unsigned)app, c.names[0] ? c.names : "none");
		vb_err("%s", s->err);
		return -1;
	}
	if (*version > SCHEMA_VERSION) {
		snprintf(s->err, sizeof(s->err),
			 "%s has schema version %d; this vgpubench knows up to %d: use a newer vgpubench with it", url,
			 *version, SCHEMA_VERSION);
		vb_err("%s", s->err);
		return -1;
	}
	/* A table is missing only if the database's version should have it. */
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (!(c.ours & (1u << i)) && table_since[i] <= *version) {
			snprintf(s->err, sizeof(s->err),
				 "the database %s is damaged: table '%s' is missing (schema version %d); restore it "
				 "from a backup or move it away",
				 url, tables[i], *version);
			vb_err("%s", s->err);
			return -1;
		}
	return 0;
}

/* The steps from an older version to this one, each for the versions it applies to. */
static int migrate(struct store *s, int version)
{
	char *schema = vb_strdupf(schema_fmt, s->drv->id_pk);
	int rc = sql_exec(s, schema);

	free(schema);
	if (rc < 0)
		return -1;
	if (version == 0 && sql_exec(s, "INSERT INTO schema_version VALUES (0);") < 0)
		return -1;
	if (version > 0 && version < 3 && sql_exec(s, "ALTER TABLE runs ADD COLUMN reason TEXT;") < 0)
		return -1;
	/* job_noise came in version 6 without the boot its job ran in (NULL for those jobs). */
	if (version >= 6 && version < 9 && sql_exec(s, "ALTER TABLE job_noise ADD COLUMN boot INTEGER;") < 0)
		return -1;
	/* Only SQLite databases are older than 10; their configurations' order was their rowid, and their runs' host
	 * was not recorded (NULL: any host's, to the readers). */
	if (version > 0 && version < 10 &&
	    sql_exec(s, "ALTER TABLE configs ADD COLUMN seq INTEGER; UPDATE configs SET seq = rowid;"
			"ALTER TABLE runs ADD COLUMN host TEXT;") < 0)
		return -1;
	return 0;
}

/* Create the schema in a new database, or bring an older one up to SCHEMA_VERSION, in one transaction. */
static int upgrade(struct store *s, int version)
{
	char sql[64];
	int app = 0, user = 0;

	if (sql_begin(s, 1) < 0)
		return -1;
	/* Another harness may have created or upgraded it while we waited for the lock. */
	if (s->drv->marks(s->db, &app, &user) == 0 && app == APP_ID && user == SCHEMA_VERSION)
		return sql_commit(s);
	if (app == APP_ID && user > version)
		version = user; /* upgraded part of the way meanwhile */
	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d;", SCHEMA_VERSION);
	if (migrate(s, version) < 0 || sql_exec(s, sql) < 0)
		goto fail;
	if (s->drv->set_marks(s->db, APP_ID, SCHEMA_VERSION) < 0) {
		sql_error(s, "marking the database as vgpubench's");
		goto fail;
	}
	return sql_commit(s);
fail:
	sql_rollback(s);
	return -1;
}

/* Connect s to url's back-end. 0, or -1 (said). */
static int connect_to(struct store *s, const char *url, enum db_mode mode)
{
	const char *target;

	memset(s, 0, sizeof(*s));
	s->drv = db_driver_for(url, &target, s->err, sizeof(s->err));
	if (!s->drv || s->drv->open(target, mode, &s->db, s->err, sizeof(s->err)) < 0) {
		vb_err("%s", s->err);
		s->drv = NULL;
		return -1;
	}
	return 0;
}

int store_open(struct store *s, const char *url)
{
	int version;

	if (connect_to(s, url, DB_WRITE) < 0)
		return -1;
	if (identify(s, url, &version) < 0)
		goto fail;
	if (s->drv->write_setup && sql_exec(s, s->drv->write_setup) < 0)
		goto fail;
	if (version < SCHEMA_VERSION && upgrade(s, version) < 0)
		goto fail;
	s->version = SCHEMA_VERSION;
	return 0;
fail:
	store_close(s);
	return -1;
}

int store_open_read(struct store *s, const char *url)
{
	int version;

	if (connect_to(s, url, DB_READ) < 0)
		return -1;
	if (identify(s, url, &version) < 0)
		goto fail;
	if (version == 0) {
		snprintf(s->err, sizeof(s->err), "%s is empty: no vgpubench results there", url);
		vb_err("%s", s->err);
		goto fail;
	}
	s->version = version;
	return 0;
fail:
	store_close(s);
	return -1;
}

int sql_has_table(const struct store *s, const char *table)
{
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (!strcmp(tables[i], table))
			return table_since[i] <= s->version;
	return 0;
}

void store_close(struct store *s)
{
	if (s->drv && s->db)
		s->drv->close(s->db);
	s->db = NULL;
}

const char *store_kind(const struct store *s)
{
	return s->drv ? s->drv->scheme : "none";
}

char *store_url(const char *results)
{
	const char *env = getenv("VGPUBENCH_DB");

	return env && *env ? vb_strdup(env) : vb_strdupf("%s/vgpubench.db", results);
}
