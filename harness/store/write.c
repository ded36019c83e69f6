/* write.c: what a run writes into the store: the run, its host facts, configurations, guests, jobs (metrics,
 * subtests, vGPU statistics and stage histograms), scenario jobs and calibration rows. */
#define _GNU_SOURCE
#include "store/store.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configs/vgpu_stats.h"
#include "store/sql.h"
#include "util.h"

/* Bind the args described by fmt ('s' text, 'i' int, 'l' long long, 'd' double: negative as NULL) from 1. */
static void bind_args(struct db_stmt *st, const char *fmt, va_list ap)
{
	int i = 1;

	for (const char *f = fmt; *f; f++, i++) {
		switch (*f) {
		case 's':
			sql_bind_text(st, i, va_arg(ap, const char *));
			break;
		case 'i':
			sql_bind_int(st, i, va_arg(ap, int));
			break;
		case 'l':
			sql_bind_int64(st, i, va_arg(ap, long long));
			break;
		case 'd': {
			double v = va_arg(ap, double);

			if (v < 0)
				sql_bind_null(st, i);
			else
				sql_bind_double(st, i, v);
			break;
		}
		}
	}
}

/* Prepare sql, bind its args (bind_args), step once; a row's first column into *id when id is not NULL (for
 * INSERT ... RETURNING id). 0, or -1 (said). */
static int run_stmt_id(struct store *s, long long *id, const char *sql, const char *fmt, ...)
{
	struct db_stmt *st = sql_prepare(s, sql, NULL);
	enum db_step rc;
	va_list ap;

	if (!st)
		return -1;
	va_start(ap, fmt);
	bind_args(st, fmt, ap);
	va_end(ap);
	rc = sql_step(st);
	if (rc == DB_ERR || (id && rc != DB_ROW)) {
		sql_error(s, NULL);
		sql_finalize(st);
		return -1;
	}
	if (id)
		*id = sql_int64(st, 0);
	sql_finalize(st);
	return 0;
}

#define run_stmt(s, ...) run_stmt_id(s, NULL, __VA_ARGS__)

int store_run_create(struct store *s, const char *id, const char *plan_name, const char *host, const char *plan_path,
		     const char *plan_text, const char *dir)
{
	struct db_stmt *st;
	char now[32];
	int rc;

	vb_utc_iso(now, sizeof(now));
	if (!(st = sql_prepare(s,
			       "INSERT INTO runs(id, plan_name, plan_path, plan_text, dir, started_at, status, host)"
			       " VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",
			       NULL))) {
		return -1;
	}
	sql_bind_text(st, 1, id);
	sql_bind_text(st, 2, plan_name);
	sql_bind_text(st, 3, plan_path);
	sql_bind_text(st, 4, plan_text);
	sql_bind_text(st, 5, dir);
	sql_bind_text(st, 6, now);
	sql_bind_text(st, 7, host);
	rc = sql_step(st);
	sql_finalize(st);
	if (rc == DB_DONE)
		return 0;
	if (s->drv->fail(s->db) == DB_F_UNIQUE)
		return -2;
	sql_error(s, "recording the run");
	return -1;
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
	return run_stmt(s, "INSERT INTO host_facts(run_id, key, value) VALUES (?, ?, ?)"
			" ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value", "sss", run, key,
			value);
}

int store_lab_set(struct store *s, const char *run, const char *config, const char *evidence)
{
	char *key = vb_strdupf(LAB_FACT, config);
	int rc = store_host_fact(s, run, key, evidence);

	free(key);
	return rc;
}

int store_config(struct store *s, const char *run, const char *config, const char *status, const char *reason)
{
	/* seq: the plan's order, which an update keeps */
	return run_stmt(s,
			"INSERT INTO configs(run_id, name, status, reason, seq)"
			" VALUES (?1, ?2, ?3, ?4, (SELECT coalesce(max(seq), 0) + 1 FROM configs WHERE run_id = ?1))"
			" ON CONFLICT(run_id, name) DO UPDATE SET status = excluded.status, reason = excluded.reason",
			"ssss", run, config, status, reason);
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
static int insert_subtests(struct store *s, long long job_id, const struct wl_result *r)
{
	struct db_stmt *st;
	int rc = 0;

	if (!(st = sql_prepare(s, "INSERT INTO subtests(job_id, name, status) VALUES (?, ?, ?)", NULL))) {
		return -1;
	}
	for (size_t i = 0; i < r->nsub && rc == 0; i++) {
		sql_reset(st);
		sql_bind_int64(st, 1, job_id);
		sql_bind_text(st, 2, r->sub[i].name);
		sql_bind_text(st, 3, r->sub[i].status);
		if (sql_step(st) != DB_DONE) {
			sql_error(s, "a test status");
			rc = -1;
		}
	}
	sql_finalize(st);
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

static int insert_stages(struct store *s, long long job_id, const struct vgpu_stats *v)
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
	long long job_id;

	vb_utc_iso(now, sizeof(now));
	if (run_stmt_id(s, &job_id,
		     "INSERT INTO jobs(run_id, config, topology, guest_index, workload, repetition, status, reason,"
		     " accel, renderer, wall_s, user_s, sys_s, maxrss_kb, exit_code, log_path, finished_at)"
		     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
		     "ssiisissssdddliss", run, j->config, j->topology, j->guest_index, j->workload, j->repetition,
		     j->status, j->reason, j->accel, j->renderer, j->wall_s, j->user_s, j->sys_s, j->maxrss_kb,
		     j->exit_code, j->log_path, now) < 0)
		return -1;
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
	if (sql_begin(s, 0) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (insert_job(s, run, &jobs[i]) < 0) {
			sql_rollback(s);
			return -1;
		}
	return sql_commit(s);
}

/* Does sql, with its args bound (bind_args), give a row? 0 when it cannot be asked (said). */
static int row_exists(struct store *s, const char *sql, const char *fmt, ...)
{
	struct db_stmt *st = sql_prepare(s, sql, "looking for a stored result");
	va_list ap;
	int found;

	if (!st)
		return 0;
	va_start(ap, fmt);
	bind_args(st, fmt, ap);
	va_end(ap);
	found = sql_step(st) == DB_ROW;
	sql_finalize(st);
	return found;
}

int store_job_done(struct store *s, const char *run, const char *config, int topology, int guest_index,
		   const char *workload, int repetition)
{
	return row_exists(s,
			  "SELECT 1 FROM jobs WHERE run_id=? AND config=? AND topology=? AND guest_index=?"
			  " AND workload=? AND repetition=?",
			  "ssiisi", run, config, topology, guest_index, workload, repetition);
}

static int insert_scenario_job(struct store *s, const char *run, const struct scenario_row *r)
{
	static const struct vgpu_stats none = { .share = -1 };
	const struct vgpu_stats *v = r->vgpu && r->vgpu->present ? r->vgpu : &none;
	char now[32];
	long long id;
	struct db_stmt *st;
	int rc = 0;

	vb_utc_iso(now, sizeof(now));
	if (run_stmt_id(s, &id,
		     "INSERT INTO scenario_jobs(run_id, scenario, policy_run, phase, guest_index, workload, repetition,"
		     " status, reason, renderer, metric, value, unit, wall_s, log_path, window_gpu_ms, window_s, vgpu, policy,"
		     " share, weight,"
		     " target_fps, gpu_ms, gpu_sync_ms, gpu_async_ms, overlap_ms, queued_ms, throttled_ms, batches,"
		     " frames, windows, windows_met, finished_at)"
		     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
		     "ssssisissssdsdsddssddddddddddddds", run, r->scenario, r->policy_run, r->phase, r->guest_index,
		     r->workload, r->repetition, r->status, r->reason, r->renderer, r->metric, r->has_value ? r->value : -1,
		     r->unit, r->wall_s, r->log_path, r->window_gpu_ms, r->window_s, r->vgpu_name, v->present ? v->policy : NULL, v->share,
		     v->present ? v->weight : -1, v->present ? v->target_fps : -1, v->present ? v->gpu_ms : -1,
		     v->present ? v->sync_ms : -1, v->present ? v->async_ms : -1, v->present ? v->overlap_ms : -1,
		     v->present ? v->queued_ms : -1, v->present ? v->throttled_ms : -1, v->present ? v->batches : -1,
		     v->present ? v->frames : -1, v->present ? v->windows : -1, v->present ? v->windows_met : -1,
		     now) < 0)
		return -1;
	if (!r->nsamples)
		return 0;
	if (!(st = sql_prepare(s,
			       "INSERT INTO scenario_samples(job_id, t_s, gpu_ms, frames) VALUES (?,?,?,?)"
			       " ON CONFLICT DO NOTHING",
			       NULL)))
		return -1;
	for (size_t i = 0; i < r->nsamples && rc == 0; i++) {
		const struct vgpu_sample *sm = &r->samples[i];

		if (!sm->present[r->sample_col])
			continue;
		sql_reset(st);
		sql_bind_int64(st, 1, id);
		sql_bind_double(st, 2, sm->t_s);
		sql_bind_double(st, 3, sm->gpu_ms[r->sample_col]);
		sql_bind_double(st, 4, sm->frames[r->sample_col]);
		if (sql_step(st) != DB_DONE) {
			sql_error(s, "a scheduling sample");
			rc = -1;
		}
	}
	sql_finalize(st);
	return rc;
}

int store_scenario_jobs(struct store *s, const char *run, const struct scenario_row *rows, int n)
{
	if (sql_begin(s, 0) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (insert_scenario_job(s, run, &rows[i]) < 0) {
			sql_rollback(s);
			return -1;
		}
	return sql_commit(s);
}

int store_scenario_done(struct store *s, const char *run, const char *scenario, const char *policy_run,
			const char *phase, int guest_index, int repetition)
{
	return row_exists(s,
			  "SELECT 1 FROM scenario_jobs WHERE run_id=? AND scenario=? AND policy_run=? AND phase=?"
			  " AND guest_index=? AND repetition=?",
			  "ssssii", run, scenario, policy_run, phase, guest_index, repetition);
}

static void bind_number(struct db_stmt *st, int i, double v)
{
	if (isfinite(v))
		sql_bind_double(st, i, v);
	else
		sql_bind_null(st, i);
}

int store_calibration_put(struct store *s, const char *run, const struct calibration_row *rows, size_t n)
{
	struct db_stmt *st;

	if (sql_begin(s, 0) < 0)
		return -1;
	if (!(st = sql_prepare(s,
			       "INSERT INTO calibration_rows(run_id, workload, metric, config, topology, dom0,"
			       " injected, aa_pairs, aa_flagged, ab_pairs, ab_detected, change_pct, detectable_pct)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
			       " ON CONFLICT(run_id, workload, metric, config, topology, dom0) DO UPDATE SET"
			       " injected = excluded.injected, aa_pairs = excluded.aa_pairs,"
			       " aa_flagged = excluded.aa_flagged, ab_pairs = excluded.ab_pairs,"
			       " ab_detected = excluded.ab_detected, change_pct = excluded.change_pct,"
			       " detectable_pct = excluded.detectable_pct",
			       "storing the calibration"))) {
		sql_rollback(s);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct calibration_row *r = &rows[i];

		sql_reset(st);
		sql_bind_text(st, 1, run);
		sql_bind_text(st, 2, r->workload);
		sql_bind_text(st, 3, r->metric);
		sql_bind_text(st, 4, r->config);
		sql_bind_int(st, 5, r->topology);
		sql_bind_int(st, 6, r->dom0);
		sql_bind_text(st, 7, r->injected[0] ? r->injected : NULL);
		sql_bind_int(st, 8, r->aa_pairs);
		sql_bind_int(st, 9, r->aa_flagged);
		sql_bind_int(st, 10, r->ab_pairs);
		sql_bind_int(st, 11, r->ab_detected);
		bind_number(st, 12, r->change_pct);
		bind_number(st, 13, r->detectable_pct);
		if (sql_step(st) != DB_DONE) {
			sql_error(s, "storing the calibration");
			sql_finalize(st);
			sql_rollback(s);
			return -1;
		}
	}
	sql_finalize(st);
	return sql_commit(s);
}
