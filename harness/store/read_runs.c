/* read_runs.c: the store's readers of runs: a run's row, plan and status, the list of runs, the history of a plan,
 * host facts, configurations and their renderers, nested-lab evidence. */
#define _GNU_SOURCE
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "util.h"

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

static void run_row(sqlite3_stmt *st, void *arg)
{
	struct cb *cb = arg;

	((store_run_fn)cb->fn)(cb->ctx, sql_text(st, 0), sql_text(st, 1), sql_text(st, 2),
			       sqlite3_column_int(st, 3), sqlite3_column_int(st, 4));
}

int store_run_list(struct store *s, store_run_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *st =
	    sql_prepare(s,
			"SELECT id, status, started_at, (SELECT count(*) FROM jobs j WHERE j.run_id = r.id),"
			" (SELECT count(*) FROM jobs j WHERE j.run_id = r.id AND j.status = 'ok')"
			" FROM runs r ORDER BY started_at",
			"listing the runs");

	return st ? sql_each_row(s, st, run_row, &cb, "listing the runs") : -1;
}

static void text_row(sqlite3_stmt *st, void *arg)
{
	struct cb *cb = arg;
	const char *cols[4];

	for (int i = 0; i < cb->ncols && i < 4; i++)
		cols[i] = sql_text(st, i);
	((store_text_row_fn)cb->fn)(cb->ctx, cols);
}

/* Rows of ncols (at most 4) text columns from sql, whose only parameter is the run. 0, or -1 (said). */
static int text_rows(struct store *s, const char *sql, const char *run, int ncols, store_text_row_fn fn, void *ctx,
		     const char *what)
{
	struct cb cb = { (void (*)(void))fn, ctx, ncols };
	sqlite3_stmt *st = sql_prepare(s, sql, what);

	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	return sql_each_row(s, st, text_row, &cb, what);
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
	sqlite3_stmt *st = sql_prepare(
	    s,
	    "SELECT p.id FROM runs p, runs r WHERE r.id = ?1 AND p.plan_name = r.plan_name"
	    " AND (p.id = r.id OR (p.status = 'complete' AND (p.started_at, p.rowid) < (r.started_at, r.rowid)))"
	    " ORDER BY p.started_at DESC, p.rowid DESC LIMIT ?2",
	    "reading the plan's earlier runs");

	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	sqlite3_bind_int(st, 2, max);
	return sql_each_row(s, st, text_row, &cb, "reading the plan's earlier runs");
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

char *store_lab_get(struct store *s, const char *run, const char *config)
{
	char *key = vb_strdupf(LAB_FACT, config), *v = store_host_fact_get(s, run, key);

	free(key);
	return v;
}

static char *dup_or_null(const char *t)
{
	return t ? vb_strdup(t) : NULL;
}

int store_run_row_get(struct store *s, const char *run, struct store_run_row *out)
{
	sqlite3_stmt *st = sql_prepare(
	    s, "SELECT id, plan_name, status, started_at, finished_at, dir FROM runs WHERE id = ?", "reading the run");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = dup_or_null(sql_text_or_null(st, 0));
		out->plan = dup_or_null(sql_text_or_null(st, 1));
		out->status = dup_or_null(sql_text_or_null(st, 2));
		out->started_at = dup_or_null(sql_text_or_null(st, 3));
		out->finished_at = dup_or_null(sql_text_or_null(st, 4));
		out->dir = dup_or_null(sql_text_or_null(st, 5));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sql_error(s, "reading the run");
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
