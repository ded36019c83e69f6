/* store.c: the SQLite results store. */
#define _GNU_SOURCE
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define SCHEMA_VERSION 2

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
	"  status TEXT NOT NULL CHECK(status IN ('running','complete','interrupted','failed')));"
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
	"CREATE INDEX IF NOT EXISTS jobs_by_run ON jobs(run_id, workload, config, topology);";

static int exec_sql(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		vb_err("database: %s (in: %.60s)", msg ? msg : "?", sql);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int store_open(struct store *s, const char *path)
{
	sqlite3_stmt *st;
	int version = 0;

	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		vb_err("cannot open the database %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		s->db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;") < 0 ||
	    exec_sql(s, "BEGIN IMMEDIATE;") < 0)
		goto fail;
	if (exec_sql(s, schema_sql) < 0) {
		exec_sql(s, "ROLLBACK;");
		goto fail;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT version FROM schema_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (version > SCHEMA_VERSION) {
		vb_err("%s has schema version %d; this vgpubench knows up to %d", path, version, SCHEMA_VERSION);
		exec_sql(s, "ROLLBACK;");
		goto fail;
	}
	/* Version 2 added subtests, created above for older databases too. */
	if (version < SCHEMA_VERSION &&
	    exec_sql(s, version == 0 ? "INSERT INTO schema_version VALUES (2);" : "UPDATE schema_version SET version = 2;") <
		    0) {
		exec_sql(s, "ROLLBACK;");
		goto fail;
	}
	if (exec_sql(s, "COMMIT;") < 0)
		goto fail;
	return 0;
fail:
	sqlite3_close(s->db);
	s->db = NULL;
	return -1;
}

void store_close(struct store *s)
{
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
}

/* Prepare, bind text/int/double args described by fmt ('s','i','d','l'), step once. */
static int run_stmt(struct store *s, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc, i = 1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		vb_err("database: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++, i++) {
		switch (*f) {
		case 's': {
			const char *v = va_arg(ap, const char *);

			if (v)
				sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i);
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
		vb_err("database: %s", sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int store_run_create(struct store *s, const char *id, const char *plan_name, const char *plan_path,
		     const char *plan_text, const char *dir)
{
	char now[32];

	vb_utc_iso(now, sizeof(now));
	return run_stmt(s,
			"INSERT INTO runs(id, plan_name, plan_path, plan_text, dir, started_at, status) "
			"VALUES (?, ?, ?, ?, ?, ?, 'running')",
			"ssssss", id, plan_name, plan_path, plan_text, dir, now);
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

int store_run_set_status(struct store *s, const char *id, const char *status)
{
	char now[32];
	int done = strcmp(status, "running") != 0;

	vb_utc_iso(now, sizeof(now));
	return run_stmt(s, "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", "sss", status,
			done ? now : NULL, id);
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
		vb_err("database: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	for (size_t i = 0; i < r->nsub && rc == 0; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, job_id);
		sqlite3_bind_text(st, 2, r->sub[i].name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, r->sub[i].status, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE) {
			vb_err("database: test '%s': %s", r->sub[i].name, sqlite3_errmsg(s->db));
			rc = -1;
		}
	}
	sqlite3_finalize(st);
	return rc;
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
