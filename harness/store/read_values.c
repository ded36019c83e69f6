/* read_values.c: the store's readers of job values, for the summaries and compare: a metric per job, per
 * repetition and per guest, piglit counts and subtests, the values of one row, calibration rows. */
#define _GNU_SOURCE
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "util.h"

static void status_pair_row(struct db_stmt *st, void *arg)
{
	struct cb *cb = arg;

	((store_status_pair_fn)cb->fn)(cb->ctx, sql_text(st, 0), sql_int(st, 1), sql_text(st, 2),
				       sql_text_or_null(st, 3),
				       sql_text_or_null(st, 4));
}

int store_subtest_status_pairs(struct store *s, const char *base, const char *cur, store_status_pair_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	/* piglit's order of severity: a subtest run several times (repetitions, guests) counts at its worst */
	struct db_stmt *st = sql_prepare(
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
	sql_bind_text(st, 1, base);
	sql_bind_text(st, 2, cur);
	return sql_each_row(s, st, status_pair_row, &cb, "reading the piglit subtests");
}

static void job_value_row(struct db_stmt *st, void *arg)
{
	struct cb *cb = arg;
	struct store_job_value j = {
		.config = sql_text(st, 0), .topology = sql_int(st, 1), .status = sql_text(st, 2),
		.reason = sql_text(st, 3), .has_value = sql_type(st, 4) != DB_T_NULL,
		.value = sql_double(st, 4), .dom0 = sql_int(st, 5),
	};

	((store_job_value_fn)cb->fn)(cb->ctx, &j);
}

int store_job_values(struct store *s, const char *run, const char *workload, const char *metric,
		     const char *first_config, store_job_value_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	struct db_stmt *st =
	    sql_prepare(s,
			"SELECT j.config, j.topology, j.status, j.reason,"
			" (SELECT value FROM metrics m WHERE m.job_id = j.id AND m.name = ?3),"
			" j.topology > 0 AND j.guest_index = 0 AS dom0"
			" FROM jobs j WHERE j.run_id = ?1 AND j.workload = ?2"
			" ORDER BY j.config <> ?4, j.config, j.topology, dom0, j.guest_index, j.repetition",
			"reading the jobs");

	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	sql_bind_text(st, 2, workload);
	sql_bind_text(st, 3, metric);
	sql_bind_text(st, 4, first_config);
	return sql_each_row(s, st, job_value_row, &cb, "reading the jobs");
}

/* A growing array of doubles. */
struct values {
	double *v;
	size_t n;
};

static void value_row(struct db_stmt *st, void *arg)
{
	struct values *vs = arg;
	double *nv = realloc(vs->v, (vs->n + 1) * sizeof(double));

	if (!nv)
		abort();
	vs->v = nv;
	nv[vs->n++] = sql_double(st, 0);
}

int store_rep_sums(struct store *s, const char *run, const char *workload, const char *metric, const char *config,
		   int topology, double **v, size_t *n)
{
	struct values vs = { NULL, 0 };
	struct db_stmt *st =
	    sql_prepare(s,
			"SELECT sum(m.value) FROM jobs j JOIN metrics m ON m.job_id = j.id AND m.name = ?3"
			" WHERE j.run_id = ?1 AND j.workload = ?2 AND j.config = ?4 AND j.topology = ?5"
			" AND j.status = 'ok' AND j.guest_index > 0 GROUP BY j.repetition HAVING count(*) = ?5",
			"summing the guests");
	int rc;

	*v = NULL;
	*n = 0;
	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	sql_bind_text(st, 2, workload);
	sql_bind_text(st, 3, metric);
	sql_bind_text(st, 4, config);
	sql_bind_int(st, 5, topology);
	rc = sql_each_row(s, st, value_row, &vs, "summing the guests");
	if (rc < 0) {
		free(vs.v);
		return -1;
	}
	*v = vs.v;
	*n = vs.n;
	return 0;
}

static void guest_value_row(struct db_stmt *st, void *arg)
{
	struct cb *cb = arg;

	((store_guest_value_fn)cb->fn)(cb->ctx, sql_int(st, 0), sql_double(st, 1));
}

int store_guest_values(struct store *s, const char *run, const char *workload, const char *config, int topology,
		       const char *metric, store_guest_value_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	struct db_stmt *st =
	    sql_prepare(s,
			"SELECT j.guest_index, m.value FROM jobs j JOIN metrics m ON m.job_id = j.id"
			" WHERE j.run_id = ? AND j.status = 'ok' AND j.workload = ? AND j.config = ?"
			" AND j.topology = ? AND m.name = ? AND j.guest_index > 0 ORDER BY j.guest_index",
			"reading each guest's values");

	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	sql_bind_text(st, 2, workload);
	sql_bind_text(st, 3, config);
	sql_bind_int(st, 4, topology);
	sql_bind_text(st, 5, metric);
	return sql_each_row(s, st, guest_value_row, &cb, "reading each guest's values");
}

static void piglit_counts_row(struct db_stmt *st, void *arg)
{
	struct cb *cb = arg;
	struct store_piglit_counts c = {
		.config = sql_text(st, 0), .topology = sql_int(st, 1), .total = sql_int(st, 2),
		.pass = sql_int(st, 3), .warn = sql_int(st, 4), .fail = sql_int(st, 5),
		.crash = sql_int(st, 6), .skip = sql_int(st, 7),
	};

	((store_piglit_counts_fn)cb->fn)(cb->ctx, &c);
}

int store_piglit_counts(struct store *s, const char *run, store_piglit_counts_fn fn, void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	struct db_stmt *st = sql_prepare(
		    s,
		    "SELECT j.config, j.topology, count(*), " SQL_COUNT_IF("s.status = 'pass'") ","
		    " " SQL_COUNT_IF("s.status = 'warn'") ", " SQL_COUNT_IF("s.status = 'fail'") ","
		    " " SQL_COUNT_IF("s.status IN ('crash','timeout')") ","
		    " " SQL_COUNT_IF("s.status IN ('skip','notrun')")
		    " FROM subtests s JOIN jobs j ON j.id = s.job_id WHERE j.run_id = ? AND j.workload LIKE 'piglit%'"
		    " GROUP BY 1, 2 ORDER BY 1, 2",
		    "counting the piglit subtests");

	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	return sql_each_row(s, st, piglit_counts_row, &cb, "counting the piglit subtests");
}

int store_subtests(struct store *s, const char *run, const char *workload, struct subtest_result **out, size_t *n)
{
	struct db_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!(st = sql_prepare(s, "SELECT j.repetition, t.name, t.status FROM subtests t JOIN jobs j ON j.id = t.job_id"
			       " WHERE j.run_id = ? AND j.workload = ? ORDER BY t.name, j.repetition",
			       "reading test statuses"))) {
		return -1;
	}
	sql_bind_text(st, 1, run);
	sql_bind_text(st, 2, workload);
	while ((rc = sql_step(st)) == DB_ROW) {
		struct subtest_result *r = sql_next_row((void **)out, n, &cap, sizeof(*r));

		if (!r) {
			rc = DB_ERR;
			break;
		}
		r->repetition = sql_int(st, 0);
		sql_col_text(st, 1, r->name, sizeof(r->name));
		sql_col_text(st, 2, r->status, sizeof(r->status));
	}
	sql_finalize(st);
	if (rc != DB_DONE) {
		sql_error(s, "reading test statuses");
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* store_row_values, and with boot non-NULL each value's boot (job_noise.boot; 0 when not known), in the same order. */
static int row_values(struct store *s, const char *run, const char *config, int topology, int dom0,
		      const char *workload, const char *metric, double **v, int **boot, size_t *n)
{
	struct db_stmt *st;
	size_t cap = 0, bcap = 0, bn = 0;
	int rc;

	*v = NULL;
	*n = 0;
	if (boot)
		*boot = NULL;
	if (!(st = sql_prepare(s, "SELECT m.value, coalesce(n.boot, 0) FROM metrics m JOIN jobs j ON j.id = m.job_id"
			       " LEFT JOIN job_noise n ON n.job_id = j.id WHERE j.run_id = ?"
			       " AND j.config = ? AND j.topology = ? AND j.workload = ? AND m.name = ? AND j.status = 'ok'"
			       " AND (j.topology = 0 OR (j.guest_index = 0) = ?) ORDER BY j.id",
			       "reading a row's values"))) {
		return -1;
	}
	sql_bind_text(st, 1, run);
	sql_bind_text(st, 2, config);
	sql_bind_int(st, 3, topology);
	sql_bind_text(st, 4, workload);
	sql_bind_text(st, 5, metric);
	sql_bind_int(st, 6, dom0 ? 1 : 0);
	while ((rc = sql_step(st)) == DB_ROW) {
		double *x = sql_next_row((void **)v, n, &cap, sizeof(**v));
		int *b = boot ? sql_next_row((void **)boot, &bn, &bcap, sizeof(**boot)) : NULL;

		if (!x || (boot && !b)) {
			rc = DB_ERR;
			break;
		}
		*x = sql_double(st, 0);
		if (b)
			*b = sql_int(st, 1);
	}
	sql_finalize(st);
	if (rc != DB_DONE) {
		sql_error(s, "reading a row's values");
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

int store_row_boot_noise(struct store *s, const char *run, const char *config, int topology, int dom0,
			 const char *workload, struct boot_noise **out, size_t *n)
{
	struct db_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!(st = sql_prepare(s, "SELECT n.boot, count(*), avg(n.steal_pct), avg(n.load_before), avg(n.load_after),"
			       " coalesce(sum(n.redos), 0) FROM jobs j JOIN job_noise n ON n.job_id = j.id"
			       " WHERE j.run_id = ? AND j.config = ? AND j.topology = ? AND j.workload = ?"
			       " AND j.status = 'ok' AND n.boot IS NOT NULL"
			       " AND (j.topology = 0 OR (j.guest_index = 0) = ?) GROUP BY n.boot ORDER BY n.boot",
			       "reading a row's noise by boot")))
		return -1;
	sql_bind_text(st, 1, run);
	sql_bind_text(st, 2, config);
	sql_bind_int(st, 3, topology);
	sql_bind_text(st, 4, workload);
	sql_bind_int(st, 5, dom0 ? 1 : 0);
	while ((rc = sql_step(st)) == DB_ROW) {
		struct boot_noise *b = sql_next_row((void **)out, n, &cap, sizeof(**out));

		if (!b) {
			rc = DB_ERR;
			break;
		}
		b->boot = sql_int(st, 0);
		b->jobs = (size_t)sql_int(st, 1);
		b->steal_pct = sql_num_or(st, 2, NAN);
		b->load_before = sql_num_or(st, 3, NAN);
		b->load_after = sql_num_or(st, 4, NAN);
		b->redos = sql_int(st, 5);
	}
	sql_finalize(st);
	if (rc != DB_DONE) {
		sql_error(s, "reading a row's noise by boot");
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int store_calibration_get(struct store *s, const char *run, struct calibration_row **out, size_t *n)
{
	struct db_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if (!sql_has_table(s, "calibration_rows"))
		return 0;
	if (!(st = sql_prepare(s,
			       "SELECT workload, metric, config, topology, dom0, injected, aa_pairs, aa_flagged, ab_pairs,"
			       " ab_detected, change_pct, detectable_pct FROM calibration_rows WHERE run_id = ?"
			       " ORDER BY workload, config, topology, dom0, metric", "reading the calibration")))
		return -1;
	sql_bind_text(st, 1, run);
	while ((rc = sql_step(st)) == DB_ROW) {
		struct calibration_row *nr = realloc(*out, (*n + 1) * sizeof(**out)), *r;

		if (!nr)
			abort();
		*out = nr;
		r = &nr[(*n)++];
		memset(r, 0, sizeof(*r));
		snprintf(r->workload, sizeof(r->workload), "%s", sql_text(st, 0));
		snprintf(r->metric, sizeof(r->metric), "%s", sql_text(st, 1));
		snprintf(r->config, sizeof(r->config), "%s", sql_text(st, 2));
		r->topology = sql_int(st, 3);
		r->dom0 = sql_int(st, 4);
		snprintf(r->injected, sizeof(r->injected), "%s", sql_text(st, 5));
		r->aa_pairs = sql_int(st, 6);
		r->aa_flagged = sql_int(st, 7);
		r->ab_pairs = sql_int(st, 8);
		r->ab_detected = sql_int(st, 9);
		r->change_pct = sql_type(st, 10) == DB_T_NULL ? NAN : sql_double(st, 10);
		r->detectable_pct = sql_type(st, 11) == DB_T_NULL ? NAN : sql_double(st, 11);
	}
	sql_finalize(st);
	if (rc != DB_DONE) {
		sql_error(s, "reading the calibration");
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

static void metric_value_row(struct db_stmt *st, void *arg)
{
	struct cb *cb = arg;
	struct store_metric_value v = { .workload = sql_text(st, 0), .config = sql_text(st, 1),
					.topology = sql_int(st, 2), .metric = sql_text(st, 3),
					.unit = sql_text(st, 4), .direction = sql_text(st, 5),
					.value = sql_double(st, 6), .dom0 = sql_int(st, 7) };

	((void (*)(void *, const struct store_metric_value *))cb->fn)(cb->ctx, &v);
}

int store_metric_values(struct store *s, const char *run, const char *first_config,
			void (*fn)(void *ctx, const struct store_metric_value *v), void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	struct db_stmt *st =
	    sql_prepare(s,
			"SELECT j.workload, j.config, j.topology, m.name, m.unit, m.direction, m.value,"
			" CASE WHEN j.topology > 0 AND j.guest_index = 0 THEN 1 ELSE 0 END AS dom0"
			" FROM jobs j JOIN metrics m ON m.job_id = j.id"
			" WHERE j.run_id = ?1 AND j.status = 'ok'"
			" ORDER BY j.workload, CASE WHEN j.config = ?2 THEN 0 ELSE 1 END, j.config, j.topology, dom0,"
			" m.name, j.repetition, j.guest_index",
			"reading the run's metrics");

	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	sql_bind_text(st, 2, first_config);
	return sql_each_row(s, st, metric_value_row, &cb, "reading the run's metrics");
}

int store_previous_run(struct store *s, const char *run, const char *host, char *out, size_t outlen)
{
	struct db_stmt *st = sql_prepare(s,
					 "SELECT p.id FROM runs p, runs r WHERE r.id = ?1 AND p.plan_name = r.plan_name"
					 " AND p.status = 'complete' AND p.id <> r.id"
					 " AND (p.host IS NULL OR coalesce(?2, r.host) IS NULL"
					 " OR p.host = coalesce(?2, r.host))"
					 " AND (p.started_at, p.id) < (r.started_at, r.id)"
					 " ORDER BY p.started_at DESC, p.id DESC LIMIT 1",
					 "finding the previous run");
	int rc = -1;

	if (!st)
		return -1;
	sql_bind_text(st, 1, run);
	sql_bind_text(st, 2, host);
	if (sql_step(st) == DB_ROW) {
		snprintf(out, outlen, "%s", sql_text(st, 0));
		rc = 0;
	}
	sql_finalize(st);
	return rc;
}
