/* read_scenarios.c: the store's readers of sharing scenarios and the mediator's figures: scenario jobs and their
 * samples over time, the stage histograms, the vGPU health totals. */
#define _GNU_SOURCE
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"
#include "util.h"

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

int store_scenario_results(struct store *s, const char *run, struct scenario_result **out, size_t *n)
{
	struct db_stmt *st;
	size_t cap = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!sql_has_table(s, "scenario_jobs"))
		return 0;
	if (!(st = sql_prepare(s,
			       "SELECT id, scenario, policy_run, phase, guest_index, workload, repetition, status, reason,"
			       " metric, value, unit, share, weight, target_fps, gpu_ms, queued_ms, throttled_ms, frames,"
			       " windows, windows_met, wall_s, window_gpu_ms, window_s FROM scenario_jobs WHERE run_id = ?"
			       " ORDER BY id", "reading the scenarios")))
		return -1;
	sql_bind_text(st, 1, run);
	while ((rc = sql_step(st)) == DB_ROW) {
		struct scenario_result *r = sql_next_row((void **)out, n, &cap, sizeof(*r));

		if (!r) {
			rc = DB_ERR;
			break;
		}
		r->id = sql_int64(st, 0);
		sql_col_text(st, 1, r->scenario, sizeof(r->scenario));
		sql_col_text(st, 2, r->policy_run, sizeof(r->policy_run));
		sql_col_text(st, 3, r->phase, sizeof(r->phase));
		r->guest_index = sql_int(st, 4);
		sql_col_text(st, 5, r->workload, sizeof(r->workload));
		r->repetition = sql_int(st, 6);
		sql_col_text(st, 7, r->status, sizeof(r->status));
		sql_col_text(st, 8, r->reason, sizeof(r->reason));
		sql_col_text(st, 9, r->metric, sizeof(r->metric));
		r->value = sql_num_or(st, 10, -1);
		sql_col_text(st, 11, r->unit, sizeof(r->unit));
		r->share = sql_num_or(st, 12, -1);
		r->weight = sql_num_or(st, 13, -1);
		r->target_fps = sql_num_or(st, 14, -1);
		r->gpu_ms = sql_num_or(st, 15, -1);
		r->queued_ms = sql_num_or(st, 16, -1);
		r->throttled_ms = sql_num_or(st, 17, -1);
		r->frames = sql_num_or(st, 18, -1);
		r->windows = sql_num_or(st, 19, -1);
		r->windows_met = sql_num_or(st, 20, -1);
		r->wall_s = sql_num_or(st, 21, -1);
		r->window_gpu_ms = sql_num_or(st, 22, -1);
		r->window_s = sql_num_or(st, 23, -1);
	}
	if (rc != DB_DONE) {
		sql_error(s, "reading the scenarios");
		sql_finalize(st);
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	sql_finalize(st);
	return 0;
}

int store_scenario_samples(struct store *s, long long job_id, double **t, double **gpu_ms, double **frames,
			   size_t *n)
{
	struct db_stmt *st;
	size_t cap = 0;
	int rc;

	*t = *gpu_ms = *frames = NULL;
	*n = 0;
	if (!sql_has_table(s, "scenario_samples"))
		return 0;
	if (!(st = sql_prepare(s, "SELECT t_s, gpu_ms, frames FROM scenario_samples WHERE job_id = ? ORDER BY t_s",
			       "reading scheduling samples")))
		return -1;
	sql_bind_int64(st, 1, job_id);
	while ((rc = sql_step(st)) == DB_ROW) {
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
				rc = DB_ERR;
				break;
			}
			*frames = c;
			cap = nc;
		}
		(*t)[*n] = sql_double(st, 0);
		(*gpu_ms)[*n] = sql_double(st, 1);
		(*frames)[*n] = sql_double(st, 2);
		(*n)++;
	}
	sql_finalize(st);
	if (rc != DB_DONE) {
		sql_error(s, "reading scheduling samples");
		free(*t);
		free(*gpu_ms);
		free(*frames);
		*t = *gpu_ms = *frames = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int store_health_totals(struct store *s, const char *run, struct health_totals *out)
{
	struct db_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!sql_has_table(s, "vgpu_health"))
		return 0;
	if (!(st = sql_prepare(s,
			       "SELECT count(*), coalesce(sum(h.resets), 0), coalesce(sum(h.recoveries), 0),"
			       " coalesce(sum(h.errors), 0), coalesce(sum(h.watchdog_trips), 0),"
			       " max(h.watchdog_longest_ms)"
			       " FROM vgpu_health h JOIN jobs j ON j.id = h.job_id WHERE j.run_id = ?",
			       "reading the vGPUs' health")))
		return -1;
	sql_bind_text(st, 1, run);
	rc = sql_step(st);
	if (rc == DB_ROW) {
		out->jobs = sql_int64(st, 0);
		out->resets = (long long)sql_double(st, 1);
		out->recoveries = (long long)sql_double(st, 2);
		out->errors = (long long)sql_double(st, 3);
		out->watchdog_trips = (long long)sql_double(st, 4);
		out->watchdog_longest_ms = sql_double(st, 5);
	}
	sql_finalize(st);
	if (rc != DB_ROW) {
		sql_error(s, "reading the vGPUs' health");
		return -1;
	}
	return 0;
}

int store_stage_rows(struct store *s, const char *run, struct stage_row **out, size_t *n)
{
	struct db_stmt *st;
	long long last_job = -1;
	int rc;

	*out = NULL;
	*n = 0;
	if (!sql_has_table(s, "job_stages"))
		return 0;
	if (!(st = sql_prepare(s, "SELECT j.id, j.workload, j.config, j.topology, j.topology > 0 AND j.guest_index = 0,"
			       " js.stage, js.count, js.total_ms, js.max_us, js.buckets, v.frames"
			       " FROM job_stages js JOIN jobs j ON j.id = js.job_id LEFT JOIN vgpu_stats v ON v.job_id = j.id"
			       " WHERE j.run_id = ? AND j.status = 'ok'"
			       " ORDER BY j.workload, j.config, j.topology, 5, j.id", "reading the stage histograms")))
		return -1;
	sql_bind_text(st, 1, run);
	while ((rc = sql_step(st)) == DB_ROW) {
		const char *wl = sql_text(st, 1), *cfg = sql_text(st, 2);
		int topo = sql_int(st, 3), dom0 = sql_int(st, 4);
		int stage = stage_from_name(sql_text(st, 5));
		struct stage_row *r = *n ? &(*out)[*n - 1] : NULL;
		struct stage_hist h = { 0 };

		if (stage < 0 || buckets_parse(sql_text(st, 9), &h) < 0)
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
		if (sql_int64(st, 0) != last_job) {
			last_job = sql_int64(st, 0);
			r->jobs++;
			r->frames += sql_type(st, 10) == DB_T_NULL ? 0 : sql_double(st, 10);
		}
		h.count = (uint64_t)sql_int64(st, 6);
		h.total_ns = (uint64_t)(sql_double(st, 7) * 1e6);
		h.max_ns = (uint64_t)(sql_double(st, 8) * 1e3);
		stage_hist_add(&r->h[stage], &h);
	}
	sql_finalize(st);
	if (rc != DB_DONE) {
		sql_error(s, "reading the stage histograms");
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}
