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
static struct store_value column_value(struct db_stmt *st, int c)
{
	struct store_value v = { .type = STORE_NULL, .d = NAN };

	switch (sql_type(st, c)) {
	case DB_T_INT:
		v.type = STORE_INT;
		v.i = sql_int64(st, c);
		v.d = (double)v.i;
		break;
	case DB_T_REAL:
		v.type = STORE_REAL;
		v.d = sql_double(st, c);
		break;
	case DB_T_TEXT:
		v.type = STORE_TEXT;
		v.t = sql_text_or_null(st, c);
		break;
	default:
		break;
	}
	return v;
}

int store_job_details(struct store *s, long long job_id, store_detail_fn fn, void *ctx)
{
	/* Each table, and the order of its rows (one a job, or one a stage in the mediator's order). */
	static const struct {
		const char *name, *order;
	} tables[] = { { "job_noise", "job_id" },
		       { "vgpu_stats", "job_id" },
		       { "vgpu_health", "job_id" },
		       { "job_stages", NULL } };
	char stages[STAGE_COUNT * 40 + 32] = "CASE stage";

	for (int i = 0; i < STAGE_COUNT; i++)
		snprintf(stages + strlen(stages), sizeof(stages) - strlen(stages), " WHEN '%s' THEN %d",
			 stage_name((enum stage)i), i);
	strcat(stages, " END, stage");
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		char sql[STAGE_COUNT * 40 + 128];
		struct db_stmt *st;
		int rc, ncols;

		if (!sql_has_table(s, tables[t].name))
			continue;
		snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE job_id = ? ORDER BY %s", tables[t].name,
			 tables[t].order ? tables[t].order : stages);
		if (!(st = sql_prepare(s, sql, "reading a job's details")))
			return -1;
		sql_bind_int64(st, 1, job_id);
		ncols = sql_col_count(st);
		while ((rc = sql_step(st)) == DB_ROW) {
			const char *names[32];
			struct store_value values[32];
			int n = 0;

			for (int c = 0; c < ncols && n < 32; c++) {
				if (!strcmp(sql_col_name(st, c), "job_id"))
					continue;
				names[n] = sql_col_name(st, c);
				values[n++] = column_value(st, c);
			}
			fn(ctx, tables[t].name, n, names, values);
		}
		sql_finalize(st);
		if (rc != DB_DONE) {
			sql_error(s, "reading a job's details");
			return -1;
		}
	}
	return 0;
}

int store_run_table(struct store *s, const char *run, const char *table, store_table_row_fn fn, void *ctx)
{
	char sql[128];
	struct db_stmt *st;
	int rc, ncols;

	if (strcmp(table, "guests") != 0 && strcmp(table, "scenario_jobs") != 0) {
		snprintf(s->err, sizeof(s->err), "no such table of a run's: %s", table);
		vb_err("%s", s->err);
		return -1;
	}
	if (!sql_has_table(s, table))
		return 0;
	snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE run_id = ? ORDER BY id", table);
	if (!(st = sql_prepare(s, sql, "reading a run's rows")))
		return -1;
	sql_bind_text(st, 1, run);
	ncols = sql_col_count(st);
	while ((rc = sql_step(st)) == DB_ROW) {
		const char *names[64];
		struct store_value values[64];
		long long id = 0;
		int n = 0;

		for (int c = 0; c < ncols && n < 64; c++) {
			const char *name = sql_col_name(st, c);

			if (!strcmp(name, "id"))
				id = sql_int64(st, c);
			else if (strcmp(name, "run_id") != 0) {
				names[n] = name;
				values[n++] = column_value(st, c);
			}
		}
		fn(ctx, id, n, names, values);
	}
	sql_finalize(st);
	if (rc != DB_DONE) {
		sql_error(s, "reading a run's rows");
		return -1;
	}
	return 0;
}

/* The metrics (mq) and subtests (sq) of job id through fns, then its details. 0, or -1 (said). */
static int job_parts(struct store *s, long long id, struct db_stmt *mq, struct db_stmt *sq,
		     const struct store_job_fns *fns, void *ctx)
{
	int rc;

	sql_reset(mq);
	sql_bind_int64(mq, 1, id);
	while ((rc = sql_step(mq)) == DB_ROW)
		fns->metric(ctx, sql_text(mq, 0), sql_num_or(mq, 1, NAN), sql_text_or_null(mq, 2),
			    sql_text_or_null(mq, 3));
	if (rc != DB_DONE) {
		sql_error(s, "reading a job's metrics");
		return -1;
	}
	sql_reset(sq);
	sql_bind_int64(sq, 1, id);
	while ((rc = sql_step(sq)) == DB_ROW)
		fns->subtest(ctx, sql_text(sq, 0), sql_text_or_null(sq, 1));
	if (rc != DB_DONE) {
		sql_error(s, "reading a job's subtests");
		return -1;
	}
	return store_job_details(s, id, fns->detail, ctx);
}

int store_run_jobs(struct store *s, const char *run, const struct store_job_fns *fns, void *ctx)
{
	struct db_stmt *q =
	    sql_prepare(s,
			"SELECT id, config, topology, guest_index, workload, repetition, status, reason, accel,"
			" renderer, wall_s, user_s, sys_s, maxrss_kb, exit_code, log_path, finished_at FROM jobs"
			" WHERE run_id = ? ORDER BY workload, config, topology, repetition, guest_index",
			"reading the run's jobs");
	struct db_stmt *mq =
	    q ? sql_prepare(s, "SELECT name, value, unit, direction FROM metrics WHERE job_id = ? ORDER BY name",
			    "reading a job's metrics")
	      : NULL;
	struct db_stmt *sq = mq ? sql_prepare(s, "SELECT name, status FROM subtests WHERE job_id = ? ORDER BY name",
					    "reading a job's subtests")
			      : NULL;
	int rc = DB_DONE, failed = !sq;

	if (!failed) {
		sql_bind_text(q, 1, run);
		while (!failed && (rc = sql_step(q)) == DB_ROW) {
			struct store_job_full j = {
				.id = sql_int64(q, 0),
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
				.finished_at = sql_text_or_null(q, 16),
			};

			fns->job(ctx, &j);
			failed = job_parts(s, j.id, mq, sq, fns, ctx) < 0;
		}
		if (!failed && rc != DB_DONE) {
			sql_error(s, "reading the run's jobs");
			failed = 1;
		}
	}
	sql_finalize(q);
	sql_finalize(mq);
	sql_finalize(sq);
	return failed ? -1 : 0;
}

static void metric_row(struct db_stmt *q, void *arg)
{
	struct cb *cb = arg;
	struct store_metric_row r = {
		.run = sql_text_or_null(q, 0),
		.workload = sql_text_or_null(q, 1),
		.config = sql_text_or_null(q, 2),
		.topology = sql_int(q, 3),
		.guest_index = sql_int(q, 4),
		.repetition = sql_int(q, 5),
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
	struct db_stmt *q = sql_prepare(s,
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

static void group_row(struct db_stmt *q, void *arg)
{
	struct cb *cb = arg;
	struct store_job_group g = {
		.workload = sql_text(q, 0),
		.config = sql_text(q, 1),
		.topology = sql_int(q, 2),
		.jobs = sql_int(q, 3),
		.failed = sql_int(q, 4),
		.first_failure = sql_text(q, 5),
		.skipped = sql_int(q, 6),
		.skip_reason = sql_text(q, 7),
	};

	((void (*)(void *, const struct store_job_group *))cb->fn)(cb->ctx, &g);
}

int store_job_groups(struct store *s, const char *run, const char *first_config,
		     void (*fn)(void *ctx, const struct store_job_group *g), void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	struct db_stmt *q = sql_prepare(
		    s,
		    "SELECT workload, config, topology, count(*), " SQL_COUNT_IF("status NOT IN ('ok', 'skipped')") ","
		    " (SELECT status || ': ' || coalesce(reason, '') FROM jobs k WHERE k.run_id = ?1"
		    "  AND k.workload = j.workload AND k.config = j.config AND k.topology = j.topology"
		    "  AND k.status NOT IN ('ok', 'skipped') ORDER BY k.id LIMIT 1),"
		    " " SQL_COUNT_IF("status = 'skipped'") ","
		    " (SELECT coalesce(reason, '') FROM jobs k WHERE k.run_id = ?1 AND k.workload = j.workload"
		    "  AND k.config = j.config AND k.topology = j.topology AND k.status = 'skipped'"
		    "  ORDER BY k.id LIMIT 1)"
		    " FROM jobs j WHERE run_id = ?1 GROUP BY j.workload, j.config, j.topology"
		    " ORDER BY 1, CASE WHEN j.config = ?2 THEN 0 ELSE 1 END, 2, 3",
		    "grouping the run's jobs");

	if (!q)
		return -1;
	sql_bind_text(q, 1, run);
	sql_bind_text(q, 2, first_config);
	return sql_each_row(s, q, group_row, &cb, "grouping the run's jobs");
}

typedef void (*subtest_statuses_fn)(void *ctx, const char *config, int topology, const char *name,
				    const char *statuses);

/* A subtest's statuses joined, handed on when the subtest (configuration, guest count, name) changes. */
struct statuses {
	subtest_statuses_fn fn;
	void *ctx;
	int have, topology;
	char config[64], name[512], list[96];
};

static void statuses_flush(struct statuses *t)
{
	if (t->have)
		t->fn(t->ctx, t->config, t->topology, t->name, t->list);
	t->have = 0;
	t->list[0] = '\0';
}

static void statuses_row(struct db_stmt *q, void *arg)
{
	struct statuses *t = arg;
	size_t used;

	if (!t->have || strcmp(t->config, sql_text(q, 0)) || t->topology != sql_int(q, 1) ||
	    strcmp(t->name, sql_text(q, 2))) {
		statuses_flush(t);
		snprintf(t->config, sizeof(t->config), "%s", sql_text(q, 0));
		t->topology = sql_int(q, 1);
		snprintf(t->name, sizeof(t->name), "%s", sql_text(q, 2));
		t->have = 1;
	}
	used = strlen(t->list);
	snprintf(t->list + used, sizeof(t->list) - used, "%s%s", used ? "," : "", sql_text(q, 3));
}

int store_subtest_statuses(struct store *s, const char *run,
			   void (*fn)(void *ctx, const char *config, int topology, const char *name,
				      const char *statuses),
			   void *ctx)
{
	struct statuses t = { .fn = fn, .ctx = ctx };
	struct db_stmt *q = sql_prepare(s,
					"SELECT DISTINCT j.config, j.topology, s.name, s.status FROM subtests s"
					" JOIN jobs j ON j.id = s.job_id WHERE j.run_id = ? ORDER BY 1, 2, 3, 4",
					"reading the run's subtests");

	if (!q)
		return -1;
	sql_bind_text(q, 1, run);
	if (sql_each_row(s, q, statuses_row, &t, "reading the run's subtests") < 0)
		return -1;
	statuses_flush(&t);
	return 0;
}
