/* series.c: reading results back from the database as series. */
#include "analysis/series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configs/configs.h"
#include "util.h"

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

int series_load(struct store *st, const char *run, struct series_set *out)
{
	sqlite3_stmt *q;
	const char *sql = "SELECT j.workload, j.config, j.topology, m.name, m.unit, m.direction, m.value,"
			  " j.topology > 0 AND j.guest_index = 0 AS dom0"
			  " FROM jobs j JOIN metrics m ON m.job_id = j.id"
			  " WHERE j.run_id = ? AND j.status = 'ok'"
			  " ORDER BY j.workload, j.config <> ?2, j.config, j.topology, dom0, m.name, j.repetition,"
			  " j.guest_index";

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		vb_err("database: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	sqlite3_bind_text(q, 1, run, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, config_baseline(), -1, SQLITE_STATIC); /* the baseline first */
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct series *cur = out->n ? &out->s[out->n - 1] : NULL;
		int topo = sqlite3_column_int(q, 2), dom0 = sqlite3_column_int(q, 7);

		if (!cur || strcmp(cur->workload, col(q, 0)) || strcmp(cur->config, col(q, 1)) ||
		    cur->topology != topo || cur->dom0 != dom0 || strcmp(cur->metric, col(q, 3))) {
			struct series *ns = realloc(out->s, (out->n + 1) * sizeof(*ns));

			if (!ns)
				abort();
			out->s = ns;
			cur = &out->s[out->n++];
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->workload, sizeof(cur->workload), "%s", col(q, 0));
			snprintf(cur->config, sizeof(cur->config), "%s", col(q, 1));
			snprintf(cur->metric, sizeof(cur->metric), "%s", col(q, 3));
			snprintf(cur->unit, sizeof(cur->unit), "%s", col(q, 4));
			cur->topology = topo;
			cur->dom0 = dom0;
			cur->higher_is_better = strcmp(col(q, 5), "higher") == 0;
		}
		double *nv = realloc(cur->v, (cur->n + 1) * sizeof(double));

		if (!nv)
			abort();
		cur->v = nv;
		cur->v[cur->n++] = sqlite3_column_double(q, 6);
	}
	sqlite3_finalize(q);
	return 0;
}

void series_free(struct series_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->s[i].v);
	free(set->s);
	memset(set, 0, sizeof(*set));
}

const struct series *series_find(const struct series_set *set, const char *workload, const char *config,
				 int topology, int dom0, const char *metric)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct series *s = &set->s[i];

		if (s->topology == topology && s->dom0 == dom0 && !strcmp(s->workload, workload) && !strcmp(s->config, config) &&
		    !strcmp(s->metric, metric))
			return s;
	}
	return NULL;
}

int series_previous_run(struct store *st, const char *run, char *out, size_t outlen)
{
	sqlite3_stmt *q;
	int rc = -1;
	const char *sql = "SELECT p.id FROM runs p, runs r WHERE r.id = ?1 AND p.plan_name = r.plan_name"
			  " AND p.status = 'complete' AND p.id <> r.id"
			  " AND (p.started_at, p.rowid) < (r.started_at, r.rowid)"
			  " ORDER BY p.started_at DESC, p.rowid DESC LIMIT 1";

	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(q, 1, run, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		snprintf(out, outlen, "%s", col(q, 0));
		rc = 0;
	}
	sqlite3_finalize(q);
	return rc;
}
