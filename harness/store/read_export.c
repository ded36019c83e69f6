/* read_export.c: the store's readers for the exports: a run's jobs with every metric, subtest and vGPU figure,
 * one job's detail rows by table, metric rows, job groups, subtest statuses. */
#define _GNU_SOURCE
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/sql.h"
#include "util.h"

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
			if (sql_no_table(s))
				continue;
			sql_error(s, "reading a job's details");
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
			sql_error(s, "reading a job's details");
			return -1;
		}
	}
	return 0;
}

/* The metrics (mq) and subtests (sq) of job id through fns, then its details. 0, or -1 (said). */
static int job_parts(struct store *s, long long id, sqlite3_stmt *mq, sqlite3_stmt *sq, const struct store_job_fns *fns,
		     void *ctx)
{
	int rc;

	sqlite3_reset(mq);
	sqlite3_bind_int64(mq, 1, id);
	while ((rc = sqlite3_step(mq)) == SQLITE_ROW)
		fns->metric(ctx, sql_text(mq, 0), sql_num_or(mq, 1, NAN), sql_text_or_null(mq, 2),
			    sql_text_or_null(mq, 3));
	if (rc != SQLITE_DONE) {
		sql_error(s, "reading a job's metrics");
		return -1;
	}
	sqlite3_reset(sq);
	sqlite3_bind_int64(sq, 1, id);
	while ((rc = sqlite3_step(sq)) == SQLITE_ROW)
		fns->subtest(ctx, sql_text(sq, 0), sql_text_or_null(sq, 1));
	if (rc != SQLITE_DONE) {
		sql_error(s, "reading a job's subtests");
		return -1;
	}
	return store_job_details(s, id, fns->detail, ctx);
}

int store_run_jobs(struct store *s, const char *run, const struct store_job_fns *fns, void *ctx)
{
	sqlite3_stmt *q =
	    sql_prepare(s,
			"SELECT id, config, topology, guest_index, workload, repetition, status, reason, accel,"
			" renderer, wall_s, user_s, sys_s, maxrss_kb, exit_code, log_path FROM jobs"
			" WHERE run_id = ? ORDER BY workload, config, topology, repetition, guest_index",
			"reading the run's jobs");
	sqlite3_stmt *mq =
	    q ? sql_prepare(s, "SELECT name, value, unit, direction FROM metrics WHERE job_id = ? ORDER BY name",
			    "reading a job's metrics")
	      : NULL;
	sqlite3_stmt *sq = mq ? sql_prepare(s, "SELECT name, status FROM subtests WHERE job_id = ? ORDER BY name",
					    "reading a job's subtests")
			      : NULL;
	int rc = SQLITE_DONE, failed = !sq;

	if (!failed) {
		sql_bind_text(q, 1, run);
		while (!failed && (rc = sqlite3_step(q)) == SQLITE_ROW) {
			struct store_job_full j = {
				.id = sqlite3_column_int64(q, 0),
				.config = sql_text_or_null(q, 1),
				.topology = sql_num_or(q, 2, NAN),
				.guest_index = sql_num_or(q, 3, NAN),
				.workload = sql_text_or_null(q, 4),
				.repetition = sql_num_or(q, 5, NAN),
				.status = sql_text_or_null(q, 6),
				.reason = sql_text_or_null(q, 7),
				.accel = sql_text_or_null(q, 8),
				.renderer = sql_text_or_null(q, 9),
				.wall_s = sql_num_or(q, 10, NAN),
				.user_s = sql_num_or(q, 11, NAN),
				.sys_s = sql_num_or(q, 12, NAN),
				.maxrss_kb = sql_num_or(q, 13, NAN),
				.exit_code = sql_num_or(q, 14, NAN),
				.log_path = sql_text_or_null(q, 15),
			};

			fns->job(ctx, &j);
			failed = job_parts(s, j.id, mq, sq, fns, ctx) < 0;
		}
		if (!failed && rc != SQLITE_DONE) {
			sql_error(s, "reading the run's jobs");
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
		.run = sql_text_or_null(q, 0),
		.workload = sql_text_or_null(q, 1),
		.config = sql_text_or_null(q, 2),
		.topology = sqlite3_column_int(q, 3),
		.guest_index = sqlite3_column_int(q, 4),
		.repetition = sqlite3_column_int(q, 5),
		.status = sql_text_or_null(q, 6),
		.renderer = sql_text_or_null(q, 7),
		.metric = sql_text_or_null(q, 8),
		.value = sql_num_or(q, 9, NAN),
		.unit = sql_text_or_null(q, 10),
		.direction = sql_text_or_null(q, 11),
	};

	((void (*)(void *, const struct store_metric_row *))cb->fn)(cb->ctx, &r);
}

int store_metric_rows(struct store *s, const char *run, void (*fn)(void *ctx, const struct store_metric_row *r),
		      void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *q = sql_prepare(s,
				      "SELECT j.run_id, j.workload, j.config, j.topology, j.guest_index, j.repetition,"
				      " j.status, j.renderer, m.name, m.value, m.unit, m.direction FROM jobs j"
				      " LEFT JOIN metrics m ON m.job_id = j.id WHERE j.run_id = ?"
				      " ORDER BY j.workload, j.config, j.topology, j.repetition, j.guest_index, m.name",
				      "reading the run's metrics");

	if (!q)
		return -1;
	sql_bind_text(q, 1, run);
	return sql_each_row(s, q, metric_row, &cb, "reading the run's metrics");
}

static void group_row(sqlite3_stmt *q, void *arg)
{
	struct cb *cb = arg;
	struct store_job_group g = {
		.workload = sql_text(q, 0),
		.config = sql_text(q, 1),
		.topology = sqlite3_column_int(q, 2),
		.jobs = sqlite3_column_int(q, 3),
		.failed = sqlite3_column_int(q, 4),
		.first_failure = sql_text(q, 5),
		.skipped = sqlite3_column_int(q, 6),
		.skip_reason = sql_text(q, 7),
	};

	((void (*)(void *, const struct store_job_group *))cb->fn)(cb->ctx, &g);
}

int store_job_groups(struct store *s, const char *run, const char *first_config,
		     void (*fn)(void *ctx, const struct store_job_group *g), void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *q = sql_prepare(
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
	sql_bind_text(q, 1, run);
	sql_bind_text(q, 2, first_config);
	return sql_each_row(s, q, group_row, &cb, "grouping the run's jobs");
}

typedef void (*subtest_statuses_fn)(void *ctx, const char *config, int topology, const char *name,
				    const char *statuses);

static void statuses_row(sqlite3_stmt *q, void *arg)
{
	struct cb *cb = arg;

	((subtest_statuses_fn)cb->fn)(cb->ctx, sql_text(q, 0), sqlite3_column_int(q, 1), sql_text(q, 2),
				      sql_text(q, 3));
}

int store_subtest_statuses(struct store *s, const char *run,
			   void (*fn)(void *ctx, const char *config, int topology, const char *name,
				      const char *statuses),
			   void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	sqlite3_stmt *q =
	    sql_prepare(s,
			"SELECT j.config, j.topology, s.name, group_concat(DISTINCT s.status) FROM subtests s"
			" JOIN jobs j ON j.id = s.job_id WHERE j.run_id = ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
			"reading the run's subtests");

	if (!q)
		return -1;
	sql_bind_text(q, 1, run);
	return sql_each_row(s, q, statuses_row, &cb, "reading the run's subtests");
}
