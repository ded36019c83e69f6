/* read_runs.c: the store's readers of runs: a run's row, plan and status, the list of runs, the history of a plan,
 * host facts, configurations and their renderers, nested-lab evidence. */
#define _GNU_SOURCE
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sql.h"
#include "util.h"

static char *col_dup(struct db_stmt *st, int i)
{
	return vb_strdup(sql_text(st, i));
}

int store_run_load(struct store *s, const char *id, char **plan_path, char **plan_text, char **dir, char **status)
{
	struct db_stmt *st;
	int rc = -1;

	if (!(st = sql_prepare(s, "SELECT plan_path, plan_text, dir, status FROM runs WHERE id = ?", NULL)))
		return -1;
	sql_bind_text(st, 1, id);
	if (sql_step(st) == DB_ROW) {
		*plan_path = col_dup(st, 0);
		*plan_text = col_dup(st, 1);
		*dir = col_dup(st, 2);
		*status = col_dup(st, 3);
		rc = 0;
	}
	sql_finalize(st);
	return rc;
}

static void run_row(struct db_stmt *st, void *arg)
{
	struct cb *cb = arg;

	((store_run_fn)cb->fn)(cb->ctx, sql_text(st, 0), sql_text(st, 1), sql_text(st, 2), sql_text(st, 3),
			       sql_int(st, 4), sql_int(st, 5));
}

int store_run_list(struct store *s, const char *host, store_run_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	struct db_stmt *st =
	    sql_prepare(s,
			"SELECT id, coalesce(host, ''), status, started_at,"
			" (SELECT count(*) FROM jobs j WHERE j.run_id = r.id),"
			" (SELECT count(*) FROM jobs j WHERE j.run_id = r.id AND j.status = 'ok')"
			" FROM runs r WHERE CAST(?1 AS TEXT) IS NULL OR r.host IS NULL OR r.host = ?1"
			" ORDER BY started_at, id",
			"listing the runs");

	if (!st)
		return -1;
	sql_bind_text(st, 1, host);
	return sql_each_row(s, st, run_row, &cb, "listing the runs");
}

static void text_row(struct db_stmt *st, void *arg)
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
	struct db_stmt *st = sql_prepare(s, sql, what);

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
	return text_rows(s, "SELECT name, status, reason FROM configs WHERE run_id = ? ORDER BY seq", run, 3, fn, ctx,
			 "reading the configurations");
}

/* Renderers joined per configuration, handed on when the configuration changes (and at the end). */
struct renderers {
	store_text_row_fn fn;
	void *ctx;
	char config[64], list[1024];
};

static void renderers_flush(struct renderers *r)
{
	const char *cols[2] = { r->config, r->list };

	if (r->config[0])
		r->fn(r->ctx, cols);
	r->config[0] = r->list[0] = '\0';
}

static void renderer_row(void *ctx, const char *const *cols)
{
	struct renderers *r = ctx;
	size_t used;

	if (strcmp(r->config, cols[0])) {
		renderers_flush(r);
		snprintf(r->config, sizeof(r->config), "%s", cols[0]);
	}
	used = strlen(r->list);
	snprintf(r->list + used, sizeof(r->list) - used, "%s%s", used ? "," : "", cols[1]);
}

int store_config_renderers(struct store *s, const char *run, store_text_row_fn fn, void *ctx)
{
	struct renderers r = { .fn = fn, .ctx = ctx };
	int rc = text_rows(s,
			   "SELECT DISTINCT config, renderer FROM jobs WHERE run_id = ? AND renderer IS NOT NULL"
			   " ORDER BY config, renderer",
			   run, 2, renderer_row, &r, "reading the renderers");

	if (rc == 0)
		renderers_flush(&r);
	return rc;
}

int store_run_workloads(struct store *s, const char *run, store_text_row_fn fn, void *ctx)
{
	return text_rows(s, "SELECT DISTINCT workload FROM jobs WHERE run_id = ? ORDER BY workload", run, 1, fn, ctx,
			 "reading the workloads");
}

int store_plan_history(struct store *s, const char *run, int max, store_text_row_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 1 };
	struct db_stmt *st = sql_prepare(
	    s,
	    "SELECT p.id FROM runs p, runs r WHERE r.id = ?1 AND p.plan_name = r.plan_name"
	    " AND (p.host IS NULL OR r.host IS NULL OR p.host = r.host)"
	    " AND (p.id = r.id OR (p.status = 'complete' AND (p.started_at, p.id) < (r.started_at, r.id)))"
	    " ORDER BY p.started_at DESC, p.id DESC LIMIT ?2",
	    "reading the plan's earlier runs");

	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	sql_bind_int(st, 2, max);
	return sql_each_row(s, st, text_row, &cb, "reading the plan's earlier runs");
}

int store_run_exists(struct store *s, const char *id)
{
	struct db_stmt *st;
	int found = 0;

	if (!(st = sql_prepare(s, "SELECT 1 FROM runs WHERE id = ?", NULL)))
		return 0;
	sql_bind_text(st, 1, id);
	found = sql_step(st) == DB_ROW;
	sql_finalize(st);
	return found;
}

char *store_run_reason(struct store *s, const char *id)
{
	struct db_stmt *st;
	char *v = NULL;

	if (s->version < 3)
		return NULL; /* a database written before version 3 has no reasons */
	if (!(st = sql_prepare(s, "SELECT reason FROM runs WHERE id = ?", NULL)))
		return NULL;
	sql_bind_text(st, 1, id);
	if (sql_step(st) == DB_ROW && sql_type(st, 0) != DB_T_NULL)
		v = col_dup(st, 0);
	sql_finalize(st);
	return v;
}

char *store_run_host(struct store *s, const char *run)
{
	struct db_stmt *st = sql_prepare(s, "SELECT host FROM runs WHERE id = ?", "reading the run's host");
	char *v = NULL;

	if (!st)
		return NULL;
	sql_bind_text(st, 1, run);
	if (sql_step(st) == DB_ROW && sql_type(st, 0) != DB_T_NULL)
		v = col_dup(st, 0);
	sql_finalize(st);
	return v;
}

char *store_host_fact_get(struct store *s, const char *run, const char *key)
{
	struct db_stmt *st;
	char *v = NULL;

	if (!(st = sql_prepare(s, "SELECT value FROM host_facts WHERE run_id = ? AND key = ?", NULL)))
		return NULL;
	sql_bind_text(st, 1, run);
	sql_bind_text(st, 2, key);
	if (sql_step(st) == DB_ROW && sql_type(st, 0) != DB_T_NULL)
		v = col_dup(st, 0);
	sql_finalize(st);
	return v;
}

int store_config_get(struct store *s, const char *run, const char *config, char **status, char **reason)
{
	struct db_stmt *st;
	int rc = -1;

	*status = *reason = NULL;
	if (!(st = sql_prepare(s, "SELECT status, reason FROM configs WHERE run_id = ? AND name = ?", NULL)))
		return -1;
	sql_bind_text(st, 1, run);
	sql_bind_text(st, 2, config);
	if (sql_step(st) == DB_ROW) {
		*status = col_dup(st, 0);
		*reason = col_dup(st, 1);
		rc = 0;
	}
	sql_finalize(st);
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
	struct db_stmt *st = sql_prepare(
	    s,
	    "SELECT id, plan_name, status, started_at, finished_at, dir, host, plan_path, plan_text, reason"
	    " FROM runs WHERE id = ?",
	    "reading the run");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	rc = sql_step(st);
	if (rc == DB_ROW) {
		out->id = dup_or_null(sql_text_or_null(st, 0));
		out->plan = dup_or_null(sql_text_or_null(st, 1));
		out->status = dup_or_null(sql_text_or_null(st, 2));
		out->started_at = dup_or_null(sql_text_or_null(st, 3));
		out->finished_at = dup_or_null(sql_text_or_null(st, 4));
		out->dir = dup_or_null(sql_text_or_null(st, 5));
		out->host = dup_or_null(sql_text_or_null(st, 6));
		out->plan_path = dup_or_null(sql_text_or_null(st, 7));
		out->plan_text = dup_or_null(sql_text_or_null(st, 8));
		out->reason = dup_or_null(sql_text_or_null(st, 9));
	}
	sql_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE) {
		sql_error(s, "reading the run");
		return -1;
	}
	return rc == DB_ROW ? 0 : 1;
}

void store_run_row_free(struct store_run_row *r)
{
	free(r->id);
	free(r->plan);
	free(r->status);
	free(r->started_at);
	free(r->finished_at);
	free(r->dir);
	free(r->host);
	free(r->plan_path);
	free(r->plan_text);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

/* One step's end, in seconds from the run's start, into the growing list. */
struct step_times {
	double *t;
	size_t n, cap;
	time_t start;
	int bad; /* out of memory */
};

static void step_row(struct db_stmt *st, void *arg)
{
	struct step_times *a = arg;
	double *slot;
	time_t end;

	if (a->bad || vb_utc_parse(sql_text(st, 0), &end) < 0)
		return;
	if (!(slot = sql_next_row((void **)&a->t, &a->n, &a->cap, sizeof(*a->t)))) {
		a->bad = 1;
		return;
	}
	*slot = difftime(end, a->start);
}

int store_step_times(struct store *s, const char *run, double **t, size_t *n, double *total)
{
	struct store_run_row row;
	struct step_times a = { 0 };
	struct db_stmt *st;
	time_t end;
	int rc;

	*t = NULL;
	*n = 0;
	*total = 0;
	if ((rc = store_run_row_get(s, run, &row)) != 0 || vb_utc_parse(row.started_at, &a.start) < 0) {
		store_run_row_free(&row);
		return -1;
	}
	if (vb_utc_parse(row.finished_at, &end) == 0)
		*total = difftime(end, a.start);
	store_run_row_free(&row);
	/* A row of jobs marked without running (wall_s -1: a guest count the configuration does not serve, a
	 * configuration that could not start) is no step; a scenario phase's jobs keep no wall time of their own. */
	st = sql_prepare(s,
			 "SELECT max(finished_at) FROM jobs WHERE run_id = ?1 AND repetition > 0 AND wall_s >= 0"
			 " GROUP BY config, topology, workload, repetition"
			 " UNION ALL SELECT max(finished_at) FROM scenario_jobs WHERE run_id = ?1 AND repetition > 0"
			 " GROUP BY scenario, policy_run, phase, repetition ORDER BY 1",
			 "reading the run's step times");
	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	if (sql_each_row(s, st, step_row, &a, "reading the run's step times") < 0 || a.bad) {
		free(a.t);
		return -1;
	}
	*t = a.t;
	*n = a.n;
	if (a.n && *total < a.t[a.n - 1])
		*total = a.t[a.n - 1];
	return 0;
}
