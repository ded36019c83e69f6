/* adaptive.c: adaptive repetitions: which rows have enough, from their confidence intervals, and when a row
 * stops. */
#define _GNU_SOURCE
#include "run/runner.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>

#include "run/run_state.h"
#include "stats.h"
#include "store/store.h"
#include "util.h"

int run_rep_done(struct run *r, const struct config_def *c, int topo, const struct seats *s,
		 const struct workload_def *w, int rep)
{
	for (int i = 0; i < s->n; i++)
		if (!store_job_done(&r->store, r->id, c->name, topo, s->index[i], w->name, rep))
			return 0;
	return 1;
}

/* repetitions = auto: the host fact that says why row (c, topo, w) stopped repeating (malloc'd key). */
static char *stop_key(const struct config_def *c, int topo, const char *workload)
{
	return vb_strdupf("repetitions (%s, %s%d, %s)", c->name, topo ? "guests " : "host ", topo, workload);
}

/* Has row (c, topo, w) stopped repeating (repetitions = auto)? */
int run_row_stopped(struct run *r, const struct config_def *c, int topo, const char *workload)
{
	char *key = stop_key(c, topo, workload), *fact = store_host_fact_get(&r->store, r->id, key);
	int stopped = fact != NULL;

	free(key);
	free(fact);
	return stopped;
}

/* Are repetitions [first, last] of every workload stored? Under repetitions = auto a row that stopped repeating is
 * done, and open (the rows' last repetitions: the run's, or a topology's last boot) one that did not is not. */
int run_reps_done(struct run *r, const struct config_def *c, int topo, const struct seats *s, int first, int last,
		  int open)
{
	for (int wi = 0; wi < r->plan.nworkloads; wi++) {
		const struct workload_def *w = workload_find(r->plan.workloads[wi]);

		if (r->plan.adaptive.on) {
			if (run_row_stopped(r, c, topo, w->name))
				continue;
			if (open)
				return 0;
		}
		for (int rep = first; rep <= last; rep++)
			if (!run_rep_done(r, c, topo, s, w, rep))
				return 0;
	}
	return 1;
}

int run_all_done(struct run *r, const struct config_def *c, int topo, const struct seats *s)
{
	return run_reps_done(r, c, topo, s, 1, r->plan.repetitions, 1);
}

/*
 * repetitions = auto: how wide the 95% bootstrap interval of the row's median is now, in % of the median on its
 * wider side, over the seat groups of the row (its guests; dom0 beside them; the host): the widest. -1 when a
 * group has no successful value at all, or the values cannot be read.
 */
static double row_ci_pct(struct run *r, const struct config_def *c, int topo, const struct seats *s,
			 const struct workload_def *w)
{
	double widest = 0;

	for (int dom0 = 0; dom0 <= 1; dom0++) {
		int has = 0;
		double *v, med, half;
		size_t n;
		struct stats_ci ci;

		for (int i = 0; i < s->n; i++)
			has |= dom0 ? s->index[i] == 0 : s->index[i] != 0;
		if (!has)
			continue;
		if (store_row_values(&r->store, r->id, c->name, topo, dom0, w->name, w->headline_metric, &v, &n) < 0 ||
		    n == 0) {
			free(v);
			return -1;
		}
		ci = stats_bootstrap_median(v, n, 2000, 1);
		med = stats_median(v, n);
		half = fmax(med - ci.lo, ci.hi - med);
		free(v);
		if (!(med > 0))
			return -1;
		widest = fmax(widest, 100 * half / med);
	}
	return widest;
}

/* repetitions = auto, after repetition rep: stop here? Then the reason is kept as a host fact. */
int run_row_stop(struct run *r, const struct config_def *c, int topo, const struct seats *s,
		 const struct workload_def *w, int rep)
{
	const struct plan_adaptive *a = &r->plan.adaptive;
	double pct;
	char *why, *key;

	if (!a->on || rep < a->min)
		return 0;
	pct = row_ci_pct(r, c, topo, s, w);
	if (pct >= 0 && pct <= a->target_ci_pct)
		why = vb_strdupf("stopped after %d: the 95%% interval of the median is within ±%.1f%% (target ±%.1f%%)",
				 rep, pct, a->target_ci_pct);
	else if (pct < 0)
		why = vb_strdupf("stopped after %d: no successful job to measure", rep);
	else if (rep >= a->max)
		why = vb_strdupf("stopped at the most, %d: the 95%% interval of the median is ±%.1f%% (target ±%.1f%%)",
				 rep, pct, a->target_ci_pct);
	else
		return 0;
	key = stop_key(c, topo, w->name);
	vb_log("  %s", why);
	run_stored(r, store_host_fact(&r->store, r->id, key, why), "a host fact");
	free(key);
	free(why);
	return 1;
}
