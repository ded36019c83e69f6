/* read_lab.c: the store's readers over many runs at once, one query each whatever the number of runs: for the lab
 * page (report --lab), every run of every host and each workload's headline metric in one configuration's runs;
 * for the trends, every series' values. */
#define _GNU_SOURCE
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "util.h"

static void lab_run_row(struct db_stmt *q, void *arg)
{
	struct cb *cb = arg;
	struct store_lab_run r = {
		.id = sql_text(q, 0),
		.host = sql_text(q, 1),
		.plan = sql_text(q, 2),
		.status = sql_text(q, 3),
		.started_at = sql_text(q, 4),
	};

	((void (*)(void *, const struct store_lab_run *))cb->fn)(cb->ctx, &r);
}

int store_lab_runs(struct store *s, void (*fn)(void *ctx, const struct store_lab_run *r), void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	struct db_stmt *q = sql_prepare(s,
				      "SELECT id, coalesce(host, ''), plan_name, status, started_at FROM runs"
				      " ORDER BY 2, 3, 5, 1",
				      "reading the runs");

	if (!q)
		return -1;
	return sql_each_row(s, q, lab_run_row, &cb, "reading the runs");
}

static void lab_value_row(struct db_stmt *q, void *arg)
{
	struct cb *cb = arg;
	struct store_lab_value v = {
		.host = sql_text(q, 0),
		.run = sql_text(q, 1),
		.started_at = sql_text(q, 2),
		.workload = sql_text(q, 3),
		.metric = sql_text(q, 4),
		.unit = sql_text(q, 5),
		.topology = sql_int(q, 6),
		.value = sql_num_or(q, 7, NAN),
	};

	((void (*)(void *, const struct store_lab_value *))cb->fn)(cb->ctx, &v);
}

int store_lab_values(struct store *s, const char *config, const char *const (*pairs)[2], size_t npairs,
		     void (*fn)(void *ctx, const struct store_lab_value *v), void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	char sql[2048] = "SELECT coalesce(r.host, ''), r.id, r.started_at, j.workload, m.name, m.unit, j.topology,"
			 " m.value FROM runs r JOIN jobs j ON j.run_id = r.id JOIN metrics m ON m.job_id = j.id"
			 " WHERE j.config = ?1 AND j.status = 'ok' AND j.guest_index > 0 AND (";
	struct db_stmt *q;

	if (npairs == 0)
		return 0;
	if (npairs > STORE_LAB_PAIRS) {
		snprintf(s->err, sizeof(s->err), "more than %d workloads for the lab page", STORE_LAB_PAIRS);
		vb_err("%s", s->err);
		return -1;
	}
	for (size_t i = 0; i < npairs; i++)
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s(j.workload = ?%zu AND m.name = ?%zu)",
			 i ? " OR " : "", 2 + 2 * i, 3 + 2 * i);
	strncat(sql, ") ORDER BY 1, 4, 5, 7, 3, 2", sizeof(sql) - strlen(sql) - 1);
	if (!(q = sql_prepare(s, sql, "reading the lab's values")))
		return -1;
	sql_bind_text(q, 1, config);
	for (size_t i = 0; i < npairs; i++) {
		sql_bind_text(q, (int)(2 + 2 * i), pairs[i][0]);
		sql_bind_text(q, (int)(3 + 2 * i), pairs[i][1]);
	}
	return sql_each_row(s, q, lab_value_row, &cb, "reading the lab's values");
}

static void series_value_row(struct db_stmt *q, void *arg)
{
	struct cb *cb = arg;
	struct store_series_value v = {
		.host = sql_text(q, 0),
		.plan = sql_text(q, 1),
		.workload = sql_text(q, 2),
		.config = sql_text(q, 3),
		.topology = sql_int(q, 4),
		.dom0 = sql_int(q, 5),
		.metric = sql_text(q, 6),
		.unit = sql_text(q, 7),
		.direction = sql_text(q, 8),
		.started_at = sql_text(q, 9),
		.run = sql_text(q, 10),
		.value = sql_num_or(q, 11, NAN),
	};

	((void (*)(void *, const struct store_series_value *))cb->fn)(cb->ctx, &v);
}

int store_series_values(struct store *s, const char *host, const char *plan, const char *since,
			void (*fn)(void *ctx, const struct store_series_value *v), void *ctx)
{
	struct cb cb = { (void (*)(void))fn, ctx, 0 };
	struct db_stmt *q = sql_prepare(
		s,
		"SELECT coalesce(r.host, ''), r.plan_name, j.workload, j.config, j.topology,"
		" CASE WHEN j.topology > 0 AND j.guest_index = 0 THEN 1 ELSE 0 END, m.name, m.unit, m.direction,"
		" r.started_at, r.id, m.value"
		" FROM runs r JOIN jobs j ON j.run_id = r.id JOIN metrics m ON m.job_id = j.id"
		" WHERE r.status = 'complete' AND j.status = 'ok'" /* a server cannot type a bare "? IS NULL": CAST */
		" AND (CAST(?1 AS TEXT) IS NULL OR r.host = ?1 OR r.host IS NULL)"
		" AND (CAST(?2 AS TEXT) IS NULL OR r.plan_name = ?2)"
		" AND (CAST(?3 AS TEXT) IS NULL OR r.started_at >= ?3)"
		" ORDER BY 1, 2, 3, 4, 5, 6, 7, 10, 11",
		"reading the series");

	if (!q)
		return -1;
	sql_bind_text(q, 1, host);
	sql_bind_text(q, 2, plan);
	sql_bind_text(q, 3, since);
	return sql_each_row(s, q, series_value_row, &cb, "reading the series");
}
