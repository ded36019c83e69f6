/* store.c: the SQLite results store. */
#define _GNU_SOURCE
#include "store/store.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "configs/vgpu_stats.h"

/* Version 2 added subtests; version 3 added runs.reason, application_id and user_version; version 4 added
 * vgpu_stats, scenario_jobs and scenario_samples; version 5 added vgpu_health; version 6 added job_noise; version 7
 * added calibration_rows; version 8 added job_stages; version 9 added job_noise.boot. */
#define SCHEMA_VERSION 9
/* PRAGMA application_id of a vgpubench database: "vgpb". */
#define APP_ID	0x76677062
#define BUSY_MS 10000

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

/* Say what failed in words a user can act on; kept in s->err for the caller. */
static void db_error(struct store *s, const char *what)
{
	int code = s->db ? sqlite3_errcode(s->db) : SQLITE_NOMEM;
	const char *msg = s->db ? sqlite3_errmsg(s->db) : "out of memory";

	switch (code) {
	case SQLITE_FULL:
		snprintf(s->err, sizeof(s->err), "the disk holding the database is full (%s)", msg);
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		snprintf(s->err, sizeof(s->err), "the database was locked by another process for more than %d s (%s)",
			 BUSY_MS / 1000, msg);
		break;
	case SQLITE_READONLY:
		snprintf(s->err, sizeof(s->err), "the database is read-only (%s)", msg);
		break;
	default:
		snprintf(s->err, sizeof(s->err), "%s", msg);
	}
	vb_err("database: %s%s%s", s->err, what ? " in: " : "", what ? what : "");
}

static int exec_sql(struct store *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		char what[64];

		snprintf(what, sizeof(what), "%.60s", sql);
		db_error(s, what);
		return -1;
	}
	return 0;
}

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
		db_error(s, "reading the schema");
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
			db_error(s, "reading the header");
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

	if (exec_sql(s, "BEGIN IMMEDIATE;") < 0)
		return -1;
	/* Another harness may have created or upgraded it while we waited for the lock. */
	if (pragma_int(s, "PRAGMA application_id", &app) == 0 && pragma_int(s, "PRAGMA user_version", &user) == 0 &&
	    app == APP_ID && user == SCHEMA_VERSION)
		return exec_sql(s, "COMMIT;");
	if (exec_sql(s, schema_sql) < 0)
		goto fail;
	if (version == 0 && exec_sql(s, "INSERT INTO schema_version VALUES (0);") < 0)
		goto fail;
	if (version > 0 && version < 3 && exec_sql(s, "ALTER TABLE runs ADD COLUMN reason TEXT;") < 0)
		goto fail;
	/* job_noise came in version 6 without the boot its job ran in (NULL for those jobs). */
	if (version >= 6 && version < 9 && exec_sql(s, "ALTER TABLE job_noise ADD COLUMN boot INTEGER;") < 0)
		goto fail;
	snprintf(pragmas, sizeof(pragmas), "UPDATE schema_version SET version = %d; PRAGMA application_id = %d;",
		 SCHEMA_VERSION, APP_ID);
	if (exec_sql(s, pragmas) < 0)
		goto fail;
	snprintf(pragmas, sizeof(pragmas), "PRAGMA user_version = %d;", SCHEMA_VERSION);
	if (exec_sql(s, pragmas) < 0 || exec_sql(s, "COMMIT;") < 0)
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
	if (exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;") < 0)
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

/* Bind text (NULL as NULL), made valid UTF-8 first: captured output may be anything. */
static const char *text_or_empty(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* Numeric column i, or if_null where the column is NULL (-1 for "unknown" in the scenario tables, NAN for exports). */
static double col_num_or(sqlite3_stmt *st, int i, double if_null)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? if_null : sqlite3_column_double(st, i);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	char *fixed = vb_utf8_fix(v);

	if (v)
		sqlite3_bind_text(st, i, fixed ? fixed : v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
	free(fixed);
}

/* Prepare, bind text/int/double args described by fmt ('s','i','d','l'), step once. */
static int run_stmt(struct store *s, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc, i = 1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(s, NULL);
		return -1;
	}
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++, i++) {
		switch (*f) {
		case 's': {
			const char *v = va_arg(ap, const char *);

			bind_text(st, i, v);
			break;
		}
		case 'i':
			sqlite3_bind_int(st, i, va_arg(ap, int));
			break;
		case 'l':
			sqlite3_bind_int64(st, i, va_arg(ap, long long));
			break;
		case 'd': {
			double v = va_arg(ap, double);

			if (v < 0)
				sqlite3_bind_null(st, i);
			else
				sqlite3_bind_double(st, i, v);
			break;
		}
		}
	}
	va_end(ap);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_error(s, NULL);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int store_run_create(struct store *s, const char *id, const char *plan_name, const char *plan_path,
		     const char *plan_text, const char *dir)
{
	sqlite3_stmt *st;
	char now[32];
	int rc;

	vb_utc_iso(now, sizeof(now));
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO runs(id, plan_name, plan_path, plan_text, dir, started_at, status) "
			       "VALUES (?, ?, ?, ?, ?, ?, 'running')",
			       -1, &st, NULL) != SQLITE_OK) {
		db_error(s, NULL);
		return -1;
	}
	bind_text(st, 1, id);
	bind_text(st, 2, plan_name);
	bind_text(st, 3, plan_path);
	bind_text(st, 4, plan_text);
	bind_text(st, 5, dir);
	bind_text(st, 6, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
		return -2;
	db_error(s, "recording the run");
	return -1;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return vb_strdup(t ? (const char *)t : "");
}

int store_run_load(struct store *s, const char *id, char **plan_path, char **plan_text, char **dir, char **status)
{
	sqlite3_stmt *st;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, "SELECT plan_path, plan_text, dir, status FROM runs WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*plan_path = col_dup(st, 0);
		*plan_text = col_dup(st, 1);
		*dir = col_dup(st, 2);
		*status = col_dup(st, 3);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Step st to its end, handing each row to row(); finalized. 0, or -1 (said). */
static int each_row(struct store *s, sqlite3_stmt *st, void (*row)(sqlite3_stmt *st, void *arg), void *arg,
		    const char *what)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row(st, arg);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_error(s, what);
		return -1;
	}
	return 0;
}

/* sql prepared, or NULL (said). */
static sqlite3_stmt *prepare(struct store *s, const char *sql, const char *what)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK)
		return st;
	db_error(s, what);
	return NULL;
}

/* A caller's callback and its context, for each_row's row functions. */
struct cb {
	void (*fn)(void);
	void *ctx;
	int ncols;
};

static void run_row(sqlite3_stmt *st, void *arg)
{
	struct cb *cb = arg;

	((store_run_fn)cb->fn)(cb->ctx, text_or_empty(st, 0), text_or_empty(st, 1), text_or_empty(st, 2),
			       sqlite3_column_int(st, 3), sqlite3_column_int(st, 4));
}

int store_run_list(struct store *s, store_run_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *st = prepare(s,
				   "SELECT id, status, started_at, (SELECT count(*) FROM jobs j WHERE j.run_id = r.id),"
				   " (SELECT count(*) FROM jobs j WHERE j.run_id = r.id AND j.status = 'ok')"
				   " FROM runs r ORDER BY started_at",
				   "listing the runs");

	return st ? each_row(s, st, run_row, &cb, "listing the runs") : -1;
}

static void status_pair_row(sqlite3_stmt *st, void *arg)
{
	struct cb *cb = arg;

	((store_status_pair_fn)cb->fn)(cb->ctx, text_or_empty(st, 0), sqlite3_column_int(st, 1), text_or_empty(st, 2),
				       (const char *)sqlite3_column_text(st, 3),
				       (const char *)sqlite3_column_text(st, 4));
}

int store_subtest_status_pairs(struct store *s, const char *base, const char *cur, store_status_pair_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	/* piglit's order of severity: a subtest run several times (repetitions, guests) counts at its worst */
	sqlite3_stmt *st = prepare(
		s,
		"WITH sev(status, rank) AS (VALUES ('notrun',0),('skip',1),('pass',2),('warn',3),('fail',4),"
		"  ('timeout',5),('crash',6)),"
		" agg AS (SELECT j.run_id AS run, j.config AS config, j.topology AS topo, s.name AS name,"
		"  max(sev.rank) AS rank FROM subtests s JOIN jobs j ON j.id = s.job_id"
		"  JOIN sev ON sev.status = s.status WHERE j.run_id IN (?1, ?2) GROUP BY 1, 2, 3, 4),"
		" o AS (SELECT * FROM agg WHERE run = ?1), n AS (SELECT * FROM agg WHERE run = ?2)"
		" SELECT coalesce(n.config, o.config), coalesce(n.topo, o.topo), coalesce(n.name, o.name),"
		"  (SELECT status FROM sev WHERE rank = o.rank), (SELECT status FROM sev WHERE rank = n.rank)"
		" FROM o FULL OUTER JOIN n ON o.config = n.config AND o.topo = n.topo AND o.name = n.name"
		" ORDER BY 1, 2, 3",
		"reading the piglit subtests");

	if (!st)
		return -1;
	bind_text(st, 1, base);
	bind_text(st, 2, cur);
	return each_row(s, st, status_pair_row, &cb, "reading the piglit subtests");
}

static void text_row(sqlite3_stmt *st, void *arg)
{
	struct cb *cb = arg;
	const char *cols[4];

	for (int i = 0; i < cb->ncols && i < 4; i++)
		cols[i] = text_or_empty(st, i);
	((store_text_row_fn)cb->fn)(cb->ctx, cols);
}

/* Rows of ncols (at most 4) text columns from sql, whose only parameter is the run. 0, or -1 (said). */
static int text_rows(struct store *s, const char *sql, const char *run, int ncols, store_text_row_fn fn, void *ctx,
		     const char *what)
{
	struct cb cb = { (void (*)(void))fn, ctx, ncols };
	sqlite3_stmt *st = prepare(s, sql, what);

	if (!st)
		return -1;
	bind_text(st, 1, run);
	return each_row(s, st, text_row, &cb, what);
}

int store_host_facts(struct store *s, const char *run, store_text_row_fn fn, void *ctx)
{
	return text_rows(s, "SELECT key, value FROM host_facts WHERE run_id = ? ORDER BY key", run, 2, fn, ctx,
			 "reading the host facts");
}

int store_configs(struct store *s, const char *run, store_text_row_fn fn, void *ctx)
{
	return text_rows(s, "SELECT name, status, reason FROM configs WHERE run_id = ? ORDER BY rowid", run, 3, fn, ctx,
			 "reading the configurations");
}

int store_config_renderers(struct store *s, const char *run, store_text_row_fn fn, void *ctx)
{
	return text_rows(s,
			 "SELECT config, group_concat(DISTINCT renderer) FROM jobs WHERE run_id = ? AND renderer"
			 " IS NOT NULL GROUP BY config ORDER BY config",
			 run, 2, fn, ctx, "reading the renderers");
}

int store_run_workloads(struct store *s, const char *run, store_text_row_fn fn, void *ctx)
{
	return text_rows(s, "SELECT DISTINCT workload FROM jobs WHERE run_id = ? ORDER BY workload", run, 1, fn, ctx,
			 "reading the workloads");
}

int store_plan_history(struct store *s, const char *run, int max, store_text_row_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 1 };
	sqlite3_stmt *st = prepare(
		s,
		"SELECT p.id FROM runs p, runs r WHERE r.id = ?1 AND p.plan_name = r.plan_name"
		" AND (p.id = r.id OR (p.status = 'complete' AND (p.started_at, p.rowid) < (r.started_at, r.rowid)))"
		" ORDER BY p.started_at DESC, p.rowid DESC LIMIT ?2",
		"reading the plan's earlier runs");

	if (!st)
		return -1;
	bind_text(st, 1, run);
	sqlite3_bind_int(st, 2, max);
	return each_row(s, st, text_row, &cb, "reading the plan's earlier runs");
}

static void job_value_row(sqlite3_stmt *st, void *arg)
{
	struct cb *cb = arg;
	struct store_job_value j = {
		.config = text_or_empty(st, 0), .topology = sqlite3_column_int(st, 1), .status = text_or_empty(st, 2),
		.reason = text_or_empty(st, 3), .has_value = sqlite3_column_type(st, 4) != SQLITE_NULL,
		.value = sqlite3_column_double(st, 4), .dom0 = sqlite3_column_int(st, 5),
	};

	((store_job_value_fn)cb->fn)(cb->ctx, &j);
}

int store_job_values(struct store *s, const char *run, const char *workload, const char *metric,
		     const char *first_config, store_job_value_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *st = prepare(s,
				   "SELECT j.config, j.topology, j.status, j.reason,"
				   " (SELECT value FROM metrics m WHERE m.job_id = j.id AND m.name = ?3),"
				   " j.topology > 0 AND j.guest_index = 0 AS dom0"
				   " FROM jobs j WHERE j.run_id = ?1 AND j.workload = ?2"
				   " ORDER BY j.config <> ?4, j.config, j.topology, dom0, j.guest_index, j.repetition",
				   "reading the jobs");

	if (!st)
		return -1;
	bind_text(st, 1, run);
	bind_text(st, 2, workload);
	bind_text(st, 3, metric);
	bind_text(st, 4, first_config);
	return each_row(s, st, job_value_row, &cb, "reading the jobs");
}

/* A growing array of doubles. */
struct values {
	double *v;
	size_t n;
};

static void value_row(sqlite3_stmt *st, void *arg)
{
	struct values *vs = arg;
	double *nv = realloc(vs->v, (vs->n + 1) * sizeof(double));

	if (!nv)
		abort();
	vs->v = nv;
	nv[vs->n++] = sqlite3_column_double(st, 0);
}

int store_rep_sums(struct store *s, const char *run, const char *workload, const char *metric, const char *config,
		   int topology, double **v, size_t *n)
{
	struct values vs = { NULL, 0 };
	sqlite3_stmt *st = prepare(s,
				   "SELECT sum(m.value) FROM jobs j JOIN metrics m ON m.job_id = j.id AND m.name = ?3"
				   " WHERE j.run_id = ?1 AND j.workload = ?2 AND j.config = ?4 AND j.topology = ?5"
				   " AND j.status = 'ok' AND j.guest_index > 0 GROUP BY j.repetition HAVING count(*) = ?5",
				   "summing the guests");
	int rc;

	*v = NULL;
	*n = 0;
	if (!st)
		return -1;
	bind_text(st, 1, run);
	bind_text(st, 2, workload);
	bind_text(st, 3, metric);
	bind_text(st, 4, config);
	sqlite3_bind_int(st, 5, topology);
	rc = each_row(s, st, value_row, &vs, "summing the guests");
	if (rc < 0) {
		free(vs.v);
		return -1;
	}
	*v = vs.v;
	*n = vs.n;
	return 0;
}

static void guest_value_row(sqlite3_stmt *st, void *arg)
{
	struct cb *cb = arg;

	((store_guest_value_fn)cb->fn)(cb->ctx, sqlite3_column_int(st, 0), sqlite3_column_double(st, 1));
}

int store_guest_values(struct store *s, const char *run, const char *workload, const char *config, int topology,
		       const char *metric, store_guest_value_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *st = prepare(s,
				   "SELECT j.guest_index, m.value FROM jobs j JOIN metrics m ON m.job_id = j.id"
				   " WHERE j.run_id = ? AND j.status = 'ok' AND j.workload = ? AND j.config = ?"
				   " AND j.topology = ? AND m.name = ? AND j.guest_index > 0 ORDER BY j.guest_index",
				   "reading each guest's values");

	if (!st)
		return -1;
	bind_text(st, 1, run);
	bind_text(st, 2, workload);
	bind_text(st, 3, config);
	sqlite3_bind_int(st, 4, topology);
	bind_text(st, 5, metric);
	return each_row(s, st, guest_value_row, &cb, "reading each guest's values");
}

static void piglit_counts_row(sqlite3_stmt *st, void *arg)
{
	struct cb *cb = arg;
	struct store_piglit_counts c = {
		.config = text_or_empty(st, 0), .topology = sqlite3_column_int(st, 1), .total = sqlite3_column_int(st, 2),
		.pass = sqlite3_column_int(st, 3), .warn = sqlite3_column_int(st, 4), .fail = sqlite3_column_int(st, 5),
		.crash = sqlite3_column_int(st, 6), .skip = sqlite3_column_int(st, 7),
	};

	((store_piglit_counts_fn)cb->fn)(cb->ctx, &c);
}

int store_piglit_counts(struct store *s, const char *run, store_piglit_counts_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *st = prepare(
		s,
		"SELECT j.config, j.topology, count(*), sum(s.status = 'pass'), sum(s.status = 'warn'),"
		" sum(s.status = 'fail'), sum(s.status IN ('crash','timeout')), sum(s.status IN ('skip','notrun'))"
		" FROM subtests s JOIN jobs j ON j.id = s.job_id WHERE j.run_id = ? AND j.workload LIKE 'piglit%'"
		" GROUP BY 1, 2 ORDER BY 1, 2",
		"counting the piglit subtests");

	if (!st)
		return -1;
	bind_text(st, 1, run);
	return each_row(s, st, piglit_counts_row, &cb, "counting the piglit subtests");
}

int store_run_exists(struct store *s, const char *id)
{
	sqlite3_stmt *st;
	int found = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM runs WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

char *store_run_reason(struct store *s, const char *id)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT reason FROM runs WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return NULL; /* a database written before version 3 has no reasons */
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = col_dup(st, 0);
	sqlite3_finalize(st);
	return v;
}

int store_run_set_status(struct store *s, const char *id, const char *status, const char *reason)
{
	char now[32];
	int done = strcmp(status, "running") != 0;

	vb_utc_iso(now, sizeof(now));
	return run_stmt(s, "UPDATE runs SET status = ?, finished_at = ?, reason = ? WHERE id = ?", "ssss", status,
			done ? now : NULL, reason, id);
}

int store_host_fact(struct store *s, const char *run, const char *key, const char *value)
{
	return run_stmt(s, "INSERT OR REPLACE INTO host_facts(run_id, key, value) VALUES (?, ?, ?)", "sss", run, key,
			value);
}

char *store_host_fact_get(struct store *s, const char *run, const char *key)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT value FROM host_facts WHERE run_id = ? AND key = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, run, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = col_dup(st, 0);
	sqlite3_finalize(st);
	return v;
}

int store_config_get(struct store *s, const char *run, const char *config, char **status, char **reason)
{
	sqlite3_stmt *st;
	int rc = -1;

	*status = *reason = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT status, reason FROM configs WHERE run_id = ? AND name = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, run, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, config, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*status = col_dup(st, 0);
		*reason = col_dup(st, 1);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

#define LAB_FACT "nested lab (%s)"

int store_lab_set(struct store *s, const char *run, const char *config, const char *evidence)
{
	char *key = vb_strdupf(LAB_FACT, config);
	int rc = store_host_fact(s, run, key, evidence);

	free(key);
	return rc;
}

char *store_lab_get(struct store *s, const char *run, const char *config)
{
	char *key = vb_strdupf(LAB_FACT, config), *v = store_host_fact_get(s, run, key);

	free(key);
	return v;
}

int store_config(struct store *s, const char *run, const char *config, const char *status, const char *reason)
{
	return run_stmt(s, "INSERT OR REPLACE INTO configs(run_id, name, status, reason) VALUES (?, ?, ?, ?)", "ssss",
			run, config, status, reason);
}

int store_guest(struct store *s, const char *run, const struct guest_row *g)
{
	char now[32];

	vb_utc_iso(now, sizeof(now));
	return run_stmt(s,
			"INSERT INTO guests(run_id, config, topology, guest_index, accel, boot_s, kernel, agent_version,"
			" drm, serial_log, status, reason, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
			"ssiisdsssssss", run, g->config, g->topology, g->guest_index, g->accel, g->boot_s, g->kernel,
			g->agent_version, g->drm, g->serial_log, g->status, g->reason, now);
}

/* Every test status of a job, with one prepared statement (a piglit run has thousands). */
static int insert_subtests(struct store *s, sqlite3_int64 job_id, const struct wl_result *r)
{
	sqlite3_stmt *st;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO subtests(job_id, name, status) VALUES (?, ?, ?)", -1, &st, NULL) !=
	    SQLITE_OK) {
		db_error(s, NULL);
		return -1;
	}
	for (size_t i = 0; i < r->nsub && rc == 0; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, job_id);
		bind_text(st, 2, r->sub[i].name);
		bind_text(st, 3, r->sub[i].status);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(s, "a test status");
			rc = -1;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* The buckets of h that hold anything, as "BUCKET:COUNT ..." (malloc'd; NULL without memory). */
static char *buckets_text(const struct stage_hist *h)
{
	char *out = malloc(STAGE_BUCKETS * 28 + 1);
	size_t len = 0;

	if (!out)
		return NULL;
	out[0] = 0;
	for (unsigned b = 0; b < STAGE_BUCKETS; b++)
		if (h->b[b])
			len += (size_t)sprintf(out + len, "%s%u:%llu", len ? " " : "", b, (unsigned long long)h->b[b]);
	return out;
}

/* Parse buckets_text's form into h->b. 0, or -1 (malformed: h->b cleared). */
static int buckets_parse(const char *text, struct stage_hist *h)
{
	const char *p = text;

	memset(h->b, 0, sizeof(h->b));
	while (*p) {
		unsigned long b;
		unsigned long long c;
		char *end;

		b = strtoul(p, &end, 10);
		if (end == p || *end != ':' || b >= STAGE_BUCKETS)
			goto bad;
		p = end + 1;
		c = strtoull(p, &end, 10);
		if (end == p || (*end && *end != ' '))
			goto bad;
		h->b[b] = c;
		p = *end ? end + 1 : end;
	}
	return 0;
bad:
	memset(h->b, 0, sizeof(h->b));
	return -1;
}

static int insert_stages(struct store *s, sqlite3_int64 job_id, const struct vgpu_stats *v)
{
	for (int i = 0; i < STAGE_COUNT; i++) {
		const struct stage_hist *h = &v->stage[i];
		char *b;
		int rc;

		if (!h->count)
			continue;
		if (!(b = buckets_text(h))) {
			snprintf(s->err, sizeof(s->err), "no memory for a job's stage histogram");
			return -1;
		}
		rc = run_stmt(s,
			      "INSERT INTO job_stages(job_id, stage, count, total_ms, p50_us, p99_us, max_us, buckets)"
			      " VALUES (?,?,?,?,?,?,?,?)",
			      "lsldddds", (long long)job_id, stage_name((enum stage)i), (long long)h->count,
			      (double)h->total_ns / 1e6, (double)stage_percentile(h, 50) / 1e3,
			      (double)stage_percentile(h, 99) / 1e3, (double)h->max_ns / 1e3, b);
		free(b);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int insert_job(struct store *s, const char *run, const struct job_row *j)
{
	char now[32];
	sqlite3_int64 job_id;

	vb_utc_iso(now, sizeof(now));
	if (run_stmt(s,
		     "INSERT INTO jobs(run_id, config, topology, guest_index, workload, repetition, status, reason,"
		     " accel, renderer, wall_s, user_s, sys_s, maxrss_kb, exit_code, log_path, finished_at)"
		     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		     "ssiisissssdddliss", run, j->config, j->topology, j->guest_index, j->workload, j->repetition,
		     j->status, j->reason, j->accel, j->renderer, j->wall_s, j->user_s, j->sys_s, j->maxrss_kb,
		     j->exit_code, j->log_path, now) < 0)
		return -1;
	job_id = sqlite3_last_insert_rowid(s->db);
	for (int i = 0; j->metrics && i < j->metrics->n; i++) {
		const struct wl_metric *m = &j->metrics->m[i];

		if (run_stmt(s, "INSERT INTO metrics(job_id, name, value, unit, direction) VALUES (?,?,?,?,?)", "lsdss",
			     (long long)job_id, m->name, m->value, m->unit, m->higher_is_better ? "higher" : "lower") < 0)
			return -1;
	}
	if (j->vgpu && j->vgpu->present &&
	    run_stmt(s,
		     "INSERT INTO vgpu_stats(job_id, vgpu, policy, share, weight, target_fps, gpu_ms, gpu_sync_ms,"
		     " gpu_async_ms, overlap_ms, queued_ms, throttled_ms, batches, frames, windows, windows_met)"
		     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		     "lssddddddddddddd", (long long)job_id, j->vgpu_name, j->vgpu->policy, j->vgpu->share,
		     j->vgpu->weight, j->vgpu->target_fps, j->vgpu->gpu_ms, j->vgpu->sync_ms, j->vgpu->async_ms,
		     j->vgpu->overlap_ms, j->vgpu->queued_ms, j->vgpu->throttled_ms, j->vgpu->batches, j->vgpu->frames,
		     j->vgpu->windows, j->vgpu->windows_met) < 0)
		return -1;
	if (j->vgpu && j->vgpu->present &&
	    run_stmt(s,
		     "INSERT INTO vgpu_health(job_id, resets, recoveries, errors, watchdog_trips, watchdog_longest_ms)"
		     " VALUES (?,?,?,?,?,?)",
		     "llllld", (long long)job_id, (long long)j->vgpu->resets, (long long)j->vgpu->recoveries,
		     (long long)j->vgpu->errors, (long long)j->vgpu->watchdog_trips, j->vgpu->watchdog_longest_ms) < 0)
		return -1;
	if (j->vgpu && j->vgpu->present && j->vgpu->stages_present && insert_stages(s, job_id, j->vgpu) < 0)
		return -1;
	if (j->noise &&
	    run_stmt(s,
		     "INSERT INTO job_noise(job_id, steal_pct, load_before, load_after, redos, redo_reason, boot)"
		     " VALUES (?,?,?,?,?,?,?)",
		     "ldddlsd", (long long)job_id, j->noise->steal_pct, j->noise->load_before, j->noise->load_after,
		     (long long)j->noise->redos, j->noise->redo_reason, j->noise->boot ? (double)j->noise->boot : -1.0) <
		    0)
		return -1;
	return j->metrics && j->metrics->nsub ? insert_subtests(s, job_id, j->metrics) : 0;
}

int store_jobs(struct store *s, const char *run, const struct job_row *jobs, int n)
{
	if (exec_sql(s, "BEGIN IMMEDIATE;") < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (insert_job(s, run, &jobs[i]) < 0) {
			exec_sql(s, "ROLLBACK;");
			return -1;
		}
	return exec_sql(s, "COMMIT;");
}

int store_job_done(struct store *s, const char *run, const char *config, int topology, int guest_index,
		   const char *workload, int repetition)
{
	sqlite3_stmt *st;
	int found = 0;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT 1 FROM jobs WHERE run_id=? AND config=? AND topology=? AND guest_index=?"
			       " AND workload=? AND repetition=?",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, run, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, config, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, topology);
	sqlite3_bind_int(st, 4, guest_index);
	sqlite3_bind_text(st, 5, workload, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 6, repetition);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int insert_scenario_job(struct store *s, const char *run, const struct scenario_row *r)
{
	static const struct vgpu_stats none = { .share = -1 };
	const struct vgpu_stats *v = r->vgpu && r->vgpu->present ? r->vgpu : &none;
	char now[32];
	sqlite3_int64 id;
	sqlite3_stmt *st;
	int rc = 0;

	vb_utc_iso(now, sizeof(now));
	if (run_stmt(s,
		     "INSERT INTO scenario_jobs(run_id, scenario, policy_run, phase, guest_index, workload, repetition,"
		     " status, reason, renderer, metric, value, unit, wall_s, log_path, window_gpu_ms, window_s, vgpu, policy,"
		     " share, weight,"
		     " target_fps, gpu_ms, gpu_sync_ms, gpu_async_ms, overlap_ms, queued_ms, throttled_ms, batches,"
		     " frames, windows, windows_met, finished_at)"
		     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		     "ssssisissssdsdsddssddddddddddddds", run, r->scenario, r->policy_run, r->phase, r->guest_index,
		     r->workload, r->repetition, r->status, r->reason, r->renderer, r->metric, r->has_value ? r->value : -1,
		     r->unit, r->wall_s, r->log_path, r->window_gpu_ms, r->window_s, r->vgpu_name, v->present ? v->policy : NULL, v->share,
		     v->present ? v->weight : -1, v->present ? v->target_fps : -1, v->present ? v->gpu_ms : -1,
		     v->present ? v->sync_ms : -1, v->present ? v->async_ms : -1, v->present ? v->overlap_ms : -1,
		     v->present ? v->queued_ms : -1, v->present ? v->throttled_ms : -1, v->present ? v->batches : -1,
		     v->present ? v->frames : -1, v->present ? v->windows : -1, v->present ? v->windows_met : -1,
		     now) < 0)
		return -1;
	id = sqlite3_last_insert_rowid(s->db);
	if (!r->nsamples)
		return 0;
	if (sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO scenario_samples(job_id, t_s, gpu_ms, frames) VALUES (?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		db_error(s, NULL);
		return -1;
	}
	for (size_t i = 0; i < r->nsamples && rc == 0; i++) {
		const struct vgpu_sample *sm = &r->samples[i];

		if (!sm->present[r->sample_col])
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_double(st, 2, sm->t_s);
		sqlite3_bind_double(st, 3, sm->gpu_ms[r->sample_col]);
		sqlite3_bind_double(st, 4, sm->frames[r->sample_col]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(s, "a scheduling sample");
			rc = -1;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int store_scenario_jobs(struct store *s, const char *run, const struct scenario_row *rows, int n)
{
	if (exec_sql(s, "BEGIN IMMEDIATE;") < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (insert_scenario_job(s, run, &rows[i]) < 0) {
			exec_sql(s, "ROLLBACK;");
			return -1;
		}
	return exec_sql(s, "COMMIT;");
}

int store_scenario_done(struct store *s, const char *run, const char *scenario, const char *policy_run,
			const char *phase, int guest_index, int repetition)
{
	sqlite3_stmt *st;
	int found;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT 1 FROM scenario_jobs WHERE run_id=? AND scenario=? AND policy_run=? AND phase=?"
			       " AND guest_index=? AND repetition=?",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	bind_text(st, 1, run);
	bind_text(st, 2, scenario);
	bind_text(st, 3, policy_run);
	bind_text(st, 4, phase);
	sqlite3_bind_int(st, 5, guest_index);
	sqlite3_bind_int(st, 6, repetition);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static void col_text(sqlite3_stmt *st, int c, char *out, size_t len)
{
	const char *v = (const char *)sqlite3_column_text(st, c);

	snprintf(out, len, "%s", v ? v : "");
}

/* A database written before version 4 has no scenario tables: nothing to read, not an error. */
static int no_table(struct store *s)
{
	return strstr(sqlite3_errmsg(s->db), "no such table") != NULL;
}

/* A new zeroed row at the end of *rows (n used of cap, elem bytes each), growing it by doubling; NULL without
 * memory (the rows so far stay). */
static void *next_row(void **rows, size_t *n, size_t *cap, size_t elem)
{
	uint8_t *r;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		void *nr = realloc(*rows, nc * elem);

		if (!nr)
			return NULL;
		*rows = nr;
		*cap = nc;
	}
	r = (uint8_t *)*rows + (*n)++ * elem;
	memset(r, 0, elem);
	return r;
}

int store_scenario_results(struct store *s, const char *run, struct scenario_result **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT id, scenario, policy_run, phase, guest_index, workload, repetition, status, reason,"
			       " metric, value, unit, share, weight, target_fps, gpu_ms, queued_ms, throttled_ms, frames,"
			       " windows, windows_met, wall_s, window_gpu_ms, window_s FROM scenario_jobs WHERE run_id = ?"
			       " ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK) {
		if (no_table(s))
			return 0;
		db_error(s, "reading the scenarios");
		return -1;
	}
	bind_text(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct scenario_result *r = next_row((void **)out, n, &cap, sizeof(*r));

		if (!r) {
			rc = SQLITE_NOMEM;
			break;
		}
		r->id = sqlite3_column_int64(st, 0);
		col_text(st, 1, r->scenario, sizeof(r->scenario));
		col_text(st, 2, r->policy_run, sizeof(r->policy_run));
		col_text(st, 3, r->phase, sizeof(r->phase));
		r->guest_index = sqlite3_column_int(st, 4);
		col_text(st, 5, r->workload, sizeof(r->workload));
		r->repetition = sqlite3_column_int(st, 6);
		col_text(st, 7, r->status, sizeof(r->status));
		col_text(st, 8, r->reason, sizeof(r->reason));
		col_text(st, 9, r->metric, sizeof(r->metric));
		r->value = col_num_or(st, 10, -1);
		col_text(st, 11, r->unit, sizeof(r->unit));
		r->share = col_num_or(st, 12, -1);
		r->weight = col_num_or(st, 13, -1);
		r->target_fps = col_num_or(st, 14, -1);
		r->gpu_ms = col_num_or(st, 15, -1);
		r->queued_ms = col_num_or(st, 16, -1);
		r->throttled_ms = col_num_or(st, 17, -1);
		r->frames = col_num_or(st, 18, -1);
		r->windows = col_num_or(st, 19, -1);
		r->windows_met = col_num_or(st, 20, -1);
		r->wall_s = col_num_or(st, 21, -1);
		r->window_gpu_ms = col_num_or(st, 22, -1);
		r->window_s = col_num_or(st, 23, -1);
	}
	if (rc != SQLITE_DONE) {
		db_error(s, "reading the scenarios");
		sqlite3_finalize(st);
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int store_scenario_samples(struct store *s, long long job_id, double **t, double **gpu_ms, double **frames,
			   size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*t = *gpu_ms = *frames = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT t_s, gpu_ms, frames FROM scenario_samples WHERE job_id = ? ORDER BY t_s",
			       -1, &st, NULL) != SQLITE_OK) {
		if (no_table(s))
			return 0;
		db_error(s, "reading scheduling samples");
		return -1;
	}
	sqlite3_bind_int64(st, 1, job_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			double *a = realloc(*t, nc * sizeof(double)), *b, *c;

			if (a)
				*t = a;
			b = a ? realloc(*gpu_ms, nc * sizeof(double)) : NULL;
			if (b)
				*gpu_ms = b;
			c = b ? realloc(*frames, nc * sizeof(double)) : NULL;
			if (!c) {
				rc = SQLITE_NOMEM;
				break;
			}
			*frames = c;
			cap = nc;
		}
		(*t)[*n] = sqlite3_column_double(st, 0);
		(*gpu_ms)[*n] = sqlite3_column_double(st, 1);
		(*frames)[*n] = sqlite3_column_double(st, 2);
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_error(s, "reading scheduling samples");
		free(*t);
		free(*gpu_ms);
		free(*frames);
		*t = *gpu_ms = *frames = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int store_subtests(struct store *s, const char *run, const char *workload, struct subtest_result **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT j.repetition, t.name, t.status FROM subtests t JOIN jobs j ON j.id = t.job_id"
			       " WHERE j.run_id = ? AND j.workload = ? ORDER BY t.name, j.repetition",
			       -1, &st, NULL) != SQLITE_OK) {
		db_error(s, "reading test statuses");
		return -1;
	}
	bind_text(st, 1, run);
	bind_text(st, 2, workload);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct subtest_result *r = next_row((void **)out, n, &cap, sizeof(*r));

		if (!r) {
			rc = SQLITE_NOMEM;
			break;
		}
		r->repetition = sqlite3_column_int(st, 0);
		col_text(st, 1, r->name, sizeof(r->name));
		col_text(st, 2, r->status, sizeof(r->status));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_error(s, "reading test statuses");
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int store_health_totals(struct store *s, const char *run, struct health_totals *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(s->db,
			       "SELECT count(*), total(h.resets), total(h.recoveries), total(h.errors),"
			       " total(h.watchdog_trips), max(h.watchdog_longest_ms)"
			       " FROM vgpu_health h JOIN jobs j ON j.id = h.job_id WHERE j.run_id = ?",
			       -1, &st, NULL) != SQLITE_OK) {
		if (no_table(s))
			return 0;
		db_error(s, "reading the vGPUs' health");
		return -1;
	}
	bind_text(st, 1, run);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->jobs = sqlite3_column_int64(st, 0);
		out->resets = (long long)sqlite3_column_double(st, 1);
		out->recoveries = (long long)sqlite3_column_double(st, 2);
		out->errors = (long long)sqlite3_column_double(st, 3);
		out->watchdog_trips = (long long)sqlite3_column_double(st, 4);
		out->watchdog_longest_ms = sqlite3_column_double(st, 5);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		db_error(s, "reading the vGPUs' health");
		return -1;
	}
	return 0;
}

/* store_row_values, and with boot non-NULL each value's boot (job_noise.boot; 0 when not known), in the same order. */
static int row_values(struct store *s, const char *run, const char *config, int topology, int dom0,
		      const char *workload, const char *metric, double **v, int **boot, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0, bcap = 0, bn = 0;
	int rc;

	*v = NULL;
	*n = 0;
	if (boot)
		*boot = NULL;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT m.value, coalesce(n.boot, 0) FROM metrics m JOIN jobs j ON j.id = m.job_id"
			       " LEFT JOIN job_noise n ON n.job_id = j.id WHERE j.run_id = ?"
			       " AND j.config = ? AND j.topology = ? AND j.workload = ? AND m.name = ? AND j.status = 'ok'"
			       " AND (j.topology = 0 OR (j.guest_index = 0) = ?) ORDER BY j.id",
			       -1, &st, NULL) != SQLITE_OK) {
		db_error(s, "reading a row's values");
		return -1;
	}
	bind_text(st, 1, run);
	bind_text(st, 2, config);
	sqlite3_bind_int(st, 3, topology);
	bind_text(st, 4, workload);
	bind_text(st, 5, metric);
	sqlite3_bind_int(st, 6, dom0 ? 1 : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double *x = next_row((void **)v, n, &cap, sizeof(**v));
		int *b = boot ? next_row((void **)boot, &bn, &bcap, sizeof(**boot)) : NULL;

		if (!x || (boot && !b)) {
			rc = SQLITE_NOMEM;
			break;
		}
		*x = sqlite3_column_double(st, 0);
		if (b)
			*b = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_error(s, "reading a row's values");
		free(*v);
		*v = NULL;
		*n = 0;
		if (boot) {
			free(*boot);
			*boot = NULL;
		}
		return -1;
	}
	return 0;
}

int store_row_values(struct store *s, const char *run, const char *config, int topology, int dom0, const char *workload,
		     const char *metric, double **v, size_t *n)
{
	return row_values(s, run, config, topology, dom0, workload, metric, v, NULL, n);
}

int store_row_boot_values(struct store *s, const char *run, const char *config, int topology, int dom0,
			  const char *workload, const char *metric, double **v, int **boot, size_t *n)
{
	return row_values(s, run, config, topology, dom0, workload, metric, v, boot, n);
}

static void bind_number(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int store_calibration_put(struct store *s, const char *run, const struct calibration_row *rows, size_t n)
{
	sqlite3_stmt *st;

	if (exec_sql(s, "BEGIN IMMEDIATE;") < 0)
		return -1;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO calibration_rows(run_id, workload, metric, config, topology, dom0,"
			       " injected, aa_pairs, aa_flagged, ab_pairs, ab_detected, change_pct, detectable_pct)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK) {
		db_error(s, "storing the calibration");
		exec_sql(s, "ROLLBACK;");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct calibration_row *r = &rows[i];

		sqlite3_reset(st);
		bind_text(st, 1, run);
		bind_text(st, 2, r->workload);
		bind_text(st, 3, r->metric);
		bind_text(st, 4, r->config);
		sqlite3_bind_int(st, 5, r->topology);
		sqlite3_bind_int(st, 6, r->dom0);
		bind_text(st, 7, r->injected[0] ? r->injected : NULL);
		sqlite3_bind_int(st, 8, r->aa_pairs);
		sqlite3_bind_int(st, 9, r->aa_flagged);
		sqlite3_bind_int(st, 10, r->ab_pairs);
		sqlite3_bind_int(st, 11, r->ab_detected);
		bind_number(st, 12, r->change_pct);
		bind_number(st, 13, r->detectable_pct);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_error(s, "storing the calibration");
			sqlite3_finalize(st);
			exec_sql(s, "ROLLBACK;");
			return -1;
		}
	}
	sqlite3_finalize(st);
	return exec_sql(s, "COMMIT;");
}

int store_calibration_get(struct store *s, const char *run, struct calibration_row **out, size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT workload, metric, config, topology, dom0, injected, aa_pairs, aa_flagged, ab_pairs,"
			       " ab_detected, change_pct, detectable_pct FROM calibration_rows WHERE run_id = ?"
			       " ORDER BY workload, config, topology, dom0, metric",
			       -1, &st, NULL) != SQLITE_OK) {
		if (no_table(s))
			return 0;
		db_error(s, "reading the calibration");
		return -1;
	}
	bind_text(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct calibration_row *nr = realloc(*out, (*n + 1) * sizeof(**out)), *r;

		if (!nr)
			abort();
		*out = nr;
		r = &nr[(*n)++];
		memset(r, 0, sizeof(*r));
		snprintf(r->workload, sizeof(r->workload), "%s", text_or_empty(st, 0));
		snprintf(r->metric, sizeof(r->metric), "%s", text_or_empty(st, 1));
		snprintf(r->config, sizeof(r->config), "%s", text_or_empty(st, 2));
		r->topology = sqlite3_column_int(st, 3);
		r->dom0 = sqlite3_column_int(st, 4);
		snprintf(r->injected, sizeof(r->injected), "%s", text_or_empty(st, 5));
		r->aa_pairs = sqlite3_column_int(st, 6);
		r->aa_flagged = sqlite3_column_int(st, 7);
		r->ab_pairs = sqlite3_column_int(st, 8);
		r->ab_detected = sqlite3_column_int(st, 9);
		r->change_pct = sqlite3_column_type(st, 10) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 10);
		r->detectable_pct = sqlite3_column_type(st, 11) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 11);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_error(s, "reading the calibration");
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int store_stage_rows(struct store *s, const char *run, struct stage_row **out, size_t *n)
{
	sqlite3_stmt *st;
	sqlite3_int64 last_job = -1;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT j.id, j.workload, j.config, j.topology, j.topology > 0 AND j.guest_index = 0,"
			       " js.stage, js.count, js.total_ms, js.max_us, js.buckets, v.frames"
			       " FROM job_stages js JOIN jobs j ON j.id = js.job_id LEFT JOIN vgpu_stats v ON v.job_id = j.id"
			       " WHERE j.run_id = ? AND j.status = 'ok'"
			       " ORDER BY j.workload, j.config, j.topology, 5, j.id",
			       -1, &st, NULL) != SQLITE_OK) {
		if (no_table(s))
			return 0;
		db_error(s, "reading the stage histograms");
		return -1;
	}
	bind_text(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *wl = text_or_empty(st, 1), *cfg = text_or_empty(st, 2);
		int topo = sqlite3_column_int(st, 3), dom0 = sqlite3_column_int(st, 4);
		int stage = stage_from_name(text_or_empty(st, 5));
		struct stage_row *r = *n ? &(*out)[*n - 1] : NULL;
		struct stage_hist h = { 0 };

		if (stage < 0 || buckets_parse(text_or_empty(st, 9), &h) < 0)
			continue; /* a stage this harness does not know, or a damaged row: left out, not guessed */
		if (!r || strcmp(r->workload, wl) || strcmp(r->config, cfg) || r->topology != topo || r->dom0 != dom0) {
			struct stage_row *nr = realloc(*out, (*n + 1) * sizeof(**out));

			if (!nr)
				abort();
			*out = nr;
			r = &nr[(*n)++];
			memset(r, 0, sizeof(*r));
			snprintf(r->workload, sizeof(r->workload), "%s", wl);
			snprintf(r->config, sizeof(r->config), "%s", cfg);
			r->topology = topo;
			r->dom0 = dom0;
			last_job = -1;
		}
		if (sqlite3_column_int64(st, 0) != last_job) {
			last_job = sqlite3_column_int64(st, 0);
			r->jobs++;
			r->frames += sqlite3_column_type(st, 10) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 10);
		}
		h.count = (uint64_t)sqlite3_column_int64(st, 6);
		h.total_ns = (uint64_t)(sqlite3_column_double(st, 7) * 1e6);
		h.max_ns = (uint64_t)(sqlite3_column_double(st, 8) * 1e3);
		stage_hist_add(&r->h[stage], &h);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_error(s, "reading the stage histograms");
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* Column c of the row st stands on, as a store_value (its text valid until the next step). */
static struct store_value column_value(sqlite3_stmt *st, int c)
{
	struct store_value v = { .type = STORE_NULL, .d = NAN };

	switch (sqlite3_column_type(st, c)) {
	case SQLITE_INTEGER:
		v.type = STORE_INT;
		v.i = sqlite3_column_int64(st, c);
		v.d = (double)v.i;
		break;
	case SQLITE_FLOAT:
		v.type = STORE_REAL;
		v.d = sqlite3_column_double(st, c);
		break;
	case SQLITE_TEXT:
		v.type = STORE_TEXT;
		v.t = (const char *)sqlite3_column_text(st, c);
		break;
	default:
		break;
	}
	return v;
}

int store_job_details(struct store *s, long long job_id, store_detail_fn fn, void *ctx)
{
	static const char *const tables[] = { "job_noise", "vgpu_stats", "vgpu_health", "job_stages" };

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		char sql[96];
		sqlite3_stmt *st;
		int rc, ncols;

		snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE job_id = ? ORDER BY rowid", tables[t]);
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
			if (no_table(s))
				continue;
			db_error(s, "reading a job's details");
			return -1;
		}
		sqlite3_bind_int64(st, 1, job_id);
		ncols = sqlite3_column_count(st);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *names[32];
			struct store_value values[32];
			int n = 0;

			for (int c = 0; c < ncols && n < 32; c++) {
				if (!strcmp(sqlite3_column_name(st, c), "job_id"))
					continue;
				names[n] = sqlite3_column_name(st, c);
				values[n++] = column_value(st, c);
			}
			fn(ctx, tables[t], n, names, values);
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			db_error(s, "reading a job's details");
			return -1;
		}
	}
	return 0;
}

/* Text column i, NULL where the column is NULL. */
static const char *text_or_null(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static char *dup_or_null(const char *t)
{
	return t ? vb_strdup(t) : NULL;
}

int store_run_row_get(struct store *s, const char *run, struct store_run_row *out)
{
	sqlite3_stmt *st = prepare(s, "SELECT id, plan_name, status, started_at, finished_at, dir FROM runs WHERE id = ?",
				   "reading the run");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	bind_text(st, 1, run);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = dup_or_null(text_or_null(st, 0));
		out->plan = dup_or_null(text_or_null(st, 1));
		out->status = dup_or_null(text_or_null(st, 2));
		out->started_at = dup_or_null(text_or_null(st, 3));
		out->finished_at = dup_or_null(text_or_null(st, 4));
		out->dir = dup_or_null(text_or_null(st, 5));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_error(s, "reading the run");
		return -1;
	}
	return rc == SQLITE_ROW ? 0 : 1;
}

void store_run_row_free(struct store_run_row *r)
{
	free(r->id);
	free(r->plan);
	free(r->status);
	free(r->started_at);
	free(r->finished_at);
	free(r->dir);
	memset(r, 0, sizeof(*r));
}

/* The metrics (mq) and subtests (sq) of job id through fns, then its details. 0, or -1 (said). */
static int job_parts(struct store *s, long long id, sqlite3_stmt *mq, sqlite3_stmt *sq, const struct store_job_fns *fns,
		     void *ctx)
{
	int rc;

	sqlite3_reset(mq);
	sqlite3_bind_int64(mq, 1, id);
	while ((rc = sqlite3_step(mq)) == SQLITE_ROW)
		fns->metric(ctx, text_or_empty(mq, 0), col_num_or(mq, 1, NAN), text_or_null(mq, 2), text_or_null(mq, 3));
	if (rc != SQLITE_DONE) {
		db_error(s, "reading a job's metrics");
		return -1;
	}
	sqlite3_reset(sq);
	sqlite3_bind_int64(sq, 1, id);
	while ((rc = sqlite3_step(sq)) == SQLITE_ROW)
		fns->subtest(ctx, text_or_empty(sq, 0), text_or_null(sq, 1));
	if (rc != SQLITE_DONE) {
		db_error(s, "reading a job's subtests");
		return -1;
	}
	return store_job_details(s, id, fns->detail, ctx);
}

int store_run_jobs(struct store *s, const char *run, const struct store_job_fns *fns, void *ctx)
{
	sqlite3_stmt *q = prepare(s,
				  "SELECT id, config, topology, guest_index, workload, repetition, status, reason, accel,"
				  " renderer, wall_s, user_s, sys_s, maxrss_kb, exit_code, log_path FROM jobs"
				  " WHERE run_id = ? ORDER BY workload, config, topology, repetition, guest_index",
				  "reading the run's jobs");
	sqlite3_stmt *mq = q ? prepare(s, "SELECT name, value, unit, direction FROM metrics WHERE job_id = ? ORDER BY name",
				       "reading a job's metrics")
			     : NULL;
	sqlite3_stmt *sq = mq ? prepare(s, "SELECT name, status FROM subtests WHERE job_id = ? ORDER BY name",
					"reading a job's subtests")
			      : NULL;
	int rc = SQLITE_DONE, failed = !sq;

	if (!failed) {
		bind_text(q, 1, run);
		while (!failed && (rc = sqlite3_step(q)) == SQLITE_ROW) {
			struct store_job_full j = {
				.id = sqlite3_column_int64(q, 0),
				.config = text_or_null(q, 1),
				.topology = col_num_or(q, 2, NAN),
				.guest_index = col_num_or(q, 3, NAN),
				.workload = text_or_null(q, 4),
				.repetition = col_num_or(q, 5, NAN),
				.status = text_or_null(q, 6),
				.reason = text_or_null(q, 7),
				.accel = text_or_null(q, 8),
				.renderer = text_or_null(q, 9),
				.wall_s = col_num_or(q, 10, NAN),
				.user_s = col_num_or(q, 11, NAN),
				.sys_s = col_num_or(q, 12, NAN),
				.maxrss_kb = col_num_or(q, 13, NAN),
				.exit_code = col_num_or(q, 14, NAN),
				.log_path = text_or_null(q, 15),
			};

			fns->job(ctx, &j);
			failed = job_parts(s, j.id, mq, sq, fns, ctx) < 0;
		}
		if (!failed && rc != SQLITE_DONE) {
			db_error(s, "reading the run's jobs");
			failed = 1;
		}
	}
	sqlite3_finalize(q);
	sqlite3_finalize(mq);
	sqlite3_finalize(sq);
	return failed ? -1 : 0;
}

static void metric_row(sqlite3_stmt *q, void *arg)
{
	struct cb *cb = arg;
	struct store_metric_row r = {
		.run = text_or_null(q, 0),
		.workload = text_or_null(q, 1),
		.config = text_or_null(q, 2),
		.topology = sqlite3_column_int(q, 3),
		.guest_index = sqlite3_column_int(q, 4),
		.repetition = sqlite3_column_int(q, 5),
		.status = text_or_null(q, 6),
		.renderer = text_or_null(q, 7),
		.metric = text_or_null(q, 8),
		.value = col_num_or(q, 9, NAN),
		.unit = text_or_null(q, 10),
		.direction = text_or_null(q, 11),
	};

	((void (*)(void *, const struct store_metric_row *))cb->fn)(cb->ctx, &r);
}

int store_metric_rows(struct store *s, const char *run, void (*fn)(void *ctx, const struct store_metric_row *r),
		      void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *q = prepare(s,
				  "SELECT j.run_id, j.workload, j.config, j.topology, j.guest_index, j.repetition,"
				  " j.status, j.renderer, m.name, m.value, m.unit, m.direction FROM jobs j"
				  " LEFT JOIN metrics m ON m.job_id = j.id WHERE j.run_id = ?"
				  " ORDER BY j.workload, j.config, j.topology, j.repetition, j.guest_index, m.name",
				  "reading the run's metrics");

	if (!q)
		return -1;
	bind_text(q, 1, run);
	return each_row(s, q, metric_row, &cb, "reading the run's metrics");
}

static void group_row(sqlite3_stmt *q, void *arg)
{
	struct cb *cb = arg;
	struct store_job_group g = {
		.workload = text_or_empty(q, 0),
		.config = text_or_empty(q, 1),
		.topology = sqlite3_column_int(q, 2),
		.jobs = sqlite3_column_int(q, 3),
		.failed = sqlite3_column_int(q, 4),
		.first_failure = text_or_empty(q, 5),
		.skipped = sqlite3_column_int(q, 6),
		.skip_reason = text_or_empty(q, 7),
	};

	((void (*)(void *, const struct store_job_group *))cb->fn)(cb->ctx, &g);
}

int store_job_groups(struct store *s, const char *run, const char *first_config,
		     void (*fn)(void *ctx, const struct store_job_group *g), void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *q = prepare(
		s,
		"SELECT workload, config, topology, count(*), sum(status NOT IN ('ok', 'skipped')),"
		" (SELECT status || ': ' || coalesce(reason, '') FROM jobs k WHERE k.run_id = j.run_id"
		"  AND k.workload = j.workload AND k.config = j.config AND k.topology = j.topology"
		"  AND k.status NOT IN ('ok', 'skipped') LIMIT 1),"
		" sum(status = 'skipped'),"
		" (SELECT coalesce(reason, '') FROM jobs k WHERE k.run_id = j.run_id AND k.workload = j.workload"
		"  AND k.config = j.config AND k.topology = j.topology AND k.status = 'skipped' LIMIT 1)"
		" FROM jobs j WHERE run_id = ?1 GROUP BY 1, 2, 3 ORDER BY 1, 2 <> ?2, 2, 3",
		"grouping the run's jobs");

	if (!q)
		return -1;
	bind_text(q, 1, run);
	bind_text(q, 2, first_config);
	return each_row(s, q, group_row, &cb, "grouping the run's jobs");
}

typedef void (*subtest_statuses_fn)(void *ctx, const char *config, int topology, const char *name,
				    const char *statuses);

static void statuses_row(sqlite3_stmt *q, void *arg)
{
	struct cb *cb = arg;

	((subtest_statuses_fn)cb->fn)(cb->ctx, text_or_empty(q, 0), sqlite3_column_int(q, 1), text_or_empty(q, 2),
				      text_or_empty(q, 3));
}

int store_subtest_statuses(struct store *s, const char *run,
			   void (*fn)(void *ctx, const char *config, int topology, const char *name,
				      const char *statuses),
			   void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *q = prepare(s,
				  "SELECT j.config, j.topology, s.name, group_concat(DISTINCT s.status) FROM subtests s"
				  " JOIN jobs j ON j.id = s.job_id WHERE j.run_id = ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
				  "reading the run's subtests");

	if (!q)
		return -1;
	bind_text(q, 1, run);
	return each_row(s, q, statuses_row, &cb, "reading the run's subtests");
}
