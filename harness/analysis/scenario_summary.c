/* scenario_summary.c: medians, shares and fairness of the sharing-quality
 * scenarios, from their stored rows. */
#define _GNU_SOURCE
#include "analysis/scenario_summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define MAX_REPS 100

static struct scen_phase *phase_of(struct scen_phase *p, size_t *np, size_t cap, const struct scenario_result *r)
{
	for (size_t i = 0; i < *np; i++)
		if (!strcmp(p[i].scenario, r->scenario) && !strcmp(p[i].policy, r->policy_run) &&
		    !strcmp(p[i].phase, r->phase))
			return &p[i];
	if (*np == cap)
		return NULL;
	memset(&p[*np], 0, sizeof(p[*np]));
	snprintf(p[*np].scenario, sizeof(p[*np].scenario), "%s", r->scenario);
	snprintf(p[*np].policy, sizeof(p[*np].policy), "%s", r->policy_run);
	snprintf(p[*np].phase, sizeof(p[*np].phase), "%s", r->phase);
	return &p[(*np)++];
}

static double median_of(double *v, size_t n)
{
	return n ? stats_median(v, n) : NAN;
}

/* Fill guest g of phase p from its rows. */
static void guest_summary(struct scen_phase *p, int g, const struct scenario_result *rows, size_t n)
{
	struct scen_guest *sg = &p->g[g];
	double vals[MAX_REPS], shares[MAX_REPS], held[MAX_REPS];
	size_t nv = 0, ns = 0, nh = 0;

	memset(sg, 0, sizeof(*sg));
	sg->guest_index = g + 1;
	sg->value = sg->gpu_share = sg->share = sg->throttled_ms = NAN;
	for (size_t i = 0; i < n; i++) {
		const struct scenario_result *r = &rows[i];
		double total = 0;
		int have_all = 1;

		if (strcmp(r->scenario, p->scenario) || strcmp(r->policy_run, p->policy) || strcmp(r->phase, p->phase) ||
		    r->guest_index != g + 1)
			continue;
		snprintf(sg->workload, sizeof(sg->workload), "%s", r->workload);
		snprintf(sg->metric, sizeof(sg->metric), "%s", r->metric);
		snprintf(sg->unit, sizeof(sg->unit), "%s", r->unit);
		if (!sg->first_job)
			sg->first_job = r->id;
		sg->reps++;
		sg->share = r->share >= 0 ? r->share : NAN;
		sg->weight = r->weight;
		sg->target_fps = r->target_fps;
		if (!strcmp(r->status, "ok"))
			sg->ok++;
		else if (!sg->problem[0])
			snprintf(sg->problem, sizeof(sg->problem), "%s: %.140s", r->status, r->reason);
		if (!strcmp(r->status, "ok") && r->value >= 0 && nv < MAX_REPS)
			vals[nv++] = r->value;
		if (r->throttled_ms >= 0 && nh < MAX_REPS)
			held[nh++] = r->throttled_ms;
		if (r->windows > 0) {
			sg->windows += r->windows;
			sg->windows_met += r->windows_met > 0 ? r->windows_met : 0;
		}
		/* Its share of this repetition's GPU time: the other guests' rows of the same repetition. */
		for (size_t k = 0; k < n; k++) {
			const struct scenario_result *o = &rows[k];

			if (strcmp(o->scenario, r->scenario) || strcmp(o->policy_run, r->policy_run) ||
			    strcmp(o->phase, r->phase) || o->repetition != r->repetition)
				continue;
			if (o->window_gpu_ms < 0)
				have_all = 0;
			else
				total += o->window_gpu_ms;
		}
		if (have_all && total > 0 && r->window_gpu_ms >= 0 && ns < MAX_REPS)
			shares[ns++] = r->window_gpu_ms / total;
	}
	sg->value = median_of(vals, nv);
	sg->gpu_share = median_of(shares, ns);
	sg->throttled_ms = median_of(held, nh);
}

static int busy(const struct scen_guest *g)
{
	return strcmp(g->workload, "idle") != 0;
}

static void fairness(struct scen_phase *p)
{
	double x[PLAN_MAX_SEATS], w[PLAN_MAX_SEATS], v[PLAN_MAX_SEATS], vw[PLAN_MAX_SEATS];
	int nx = 0, nv = 0, same = 1;
	const char *first = NULL;

	for (int g = 0; g < p->n; g++) {
		const struct scen_guest *sg = &p->g[g];

		if (!busy(sg))
			continue;
		if (first && strcmp(first, sg->workload))
			same = 0;
		first = first ? first : sg->workload;
		if (!isnan(sg->gpu_share)) {
			x[nx] = sg->gpu_share;
			w[nx++] = sg->weight > 0 ? sg->weight : 1;
		}
		if (!isnan(sg->value)) {
			vw[nv] = sg->weight > 0 ? sg->weight : 1;
			v[nv++] = sg->value;
		}
	}
	p->jain_gpu = nx >= 2 ? stats_jain(x, w, (size_t)nx) : NAN;
	p->jain_value = same && nv >= 2 ? stats_jain(v, vw, (size_t)nv) : NAN;
}

int scen_summarise(const struct scenario_result *rows, size_t n, struct scen_phase **out, size_t *nout)
{
	size_t cap = n ? n : 1, np = 0;
	struct scen_phase *p = calloc(cap, sizeof(*p));

	*out = NULL;
	*nout = 0;
	if (!p)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct scen_phase *ph = phase_of(p, &np, cap, &rows[i]);

		if (ph && rows[i].guest_index > ph->n && rows[i].guest_index <= PLAN_MAX_SEATS)
			ph->n = rows[i].guest_index;
	}
	for (size_t i = 0; i < np; i++) {
		for (int g = 0; g < p[i].n; g++)
			guest_summary(&p[i], g, rows, n);
		fairness(&p[i]);
	}
	*out = p;
	*nout = np;
	return 0;
}

const struct scen_phase *scen_baseline_of(const struct scen_phase *all, size_t n, const struct scen_phase *c)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i].scenario, c->scenario) && !strcmp(all[i].policy, c->policy) &&
		    !strcmp(all[i].phase, "baseline"))
			return &all[i];
	return NULL;
}

const struct scen_phase *scen_best_effort_of(const struct scen_phase *all, size_t n, const struct scen_phase *ph)
{
	static const char be[] = "best-effort";

	if (!strcmp(ph->policy, be))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i].scenario, ph->scenario) && !strcmp(all[i].policy, be) &&
		    !strcmp(all[i].phase, ph->phase))
			return &all[i];
	return NULL;
}

double scen_vs_best_effort(const struct scen_phase *ph, const struct scen_phase *be, int g)
{
	/* The same arithmetic as kept: one guest's throughput in two phases that ran the same workload. */
	return scen_kept(ph, be, g);
}

double scen_kept(const struct scen_phase *c, const struct scen_phase *b, int g)
{
	if (!c || !b || g < 0 || g >= c->n || g >= b->n || !busy(&c->g[g]) ||
	    strcmp(c->g[g].workload, b->g[g].workload) != 0 || isnan(c->g[g].value) || isnan(b->g[g].value) ||
	    b->g[g].value <= 0)
		return NAN;
	return c->g[g].value / b->g[g].value;
}
