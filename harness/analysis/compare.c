/* compare.c: run-to-run comparison for nightly regression tracking. */
#define _GNU_SOURCE
#include "analysis/compare.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/trends.h"
#include "stats.h"
#include "util.h"
#include "workload.h"

#define NOISY_CV 0.10

/* piglit's order: skip and notrun are "not run"; among run statuses, larger is worse. */
static int severity(const char *s)
{
	static const char *const order[] = { "notrun", "skip", "pass", "warn", "fail", "timeout", "crash" };

	for (int i = 0; i < 7; i++)
		if (strcmp(s, order[i]) == 0)
			return i;
	return -1;
}

const char *compare_classify(const char *o, const char *n)
{
	int so, sn;

	if (!o || !*o)
		return n && *n ? "new" : NULL;
	if (!n || !*n)
		return "missing";
	so = severity(o);
	sn = severity(n);
	if (so < 0 || sn < 0 || so == sn)
		return NULL;
	if (so <= 1 && sn <= 1)
		return NULL; /* skip <-> notrun */
	if (so <= 1)
		return "enabled";
	if (sn <= 1)
		return "disabled";
	return sn > so ? "regression" : "fix";
}

static double median_of(const struct series *s)
{
	double *tmp = malloc(s->n * sizeof(double));
	double m;

	if (!tmp)
		abort();
	memcpy(tmp, s->v, s->n * sizeof(double));
	m = stats_median(tmp, s->n);
	free(tmp);
	return m;
}

/*
 * The paired per-scene test of headline row r: each scene's median new ÷
 * old, the geometric mean's change and the signed-rank p of their
 * logarithms; flagged like the score (p < alpha and beyond the threshold).
 */
static enum verdict scene_test(const struct comparison *c, const struct compare_opts *o, struct compare_row *r)
{
	const struct workload_def *w = workload_find(r->cur->workload);
	double d[WL_MAX_METRICS], sum = 0;
	size_t k = 0;
	int higher = 1;

	r->scene_change_pct = r->scene_p = NAN;
	if (!w || !w->scene_metrics || !w->headline_metric || strcmp(r->cur->metric, w->headline_metric) != 0)
		return V_SAME;
	for (size_t i = 0; i < c->b.n && k < WL_MAX_METRICS; i++) {
		const struct series *s = &c->b.s[i], *old;

		if (strcmp(s->workload, r->cur->workload) || strcmp(s->config, r->cur->config) ||
		    s->topology != r->cur->topology || s->dom0 != r->cur->dom0 || fnmatch(w->scene_metrics, s->metric, 0))
			continue;
		old = series_find(&c->a, s->workload, s->config, s->topology, s->dom0, s->metric);
		if (!old || !old->n || !s->n)
			continue;
		double mo = median_of(old), mn = median_of(s);

		if (!(mo > 0 && mn > 0))
			continue;
		d[k] = log(mn / mo);
		sum += d[k++];
		higher = s->higher_is_better;
	}
	r->nscenes = k;
	if (!k)
		return V_SAME;
	r->scene_change_pct = 100.0 * (exp(sum / (double)k) - 1.0);
	r->scene_p = stats_wilcoxon_p(d, k, MWU_AUTO);
	if (!(r->scene_p < o->alpha) || !(fabs(r->scene_change_pct) > o->threshold_pct))
		return V_SAME;
	return (r->scene_change_pct < 0) == (higher != 0) ? V_REGRESSION : V_IMPROVEMENT;
}

/* A piglit subtest's status in both runs: kept when it changed in a way piglit's summary names. */
static void add_change(void *ctx, const char *config, int topology, const char *name, const char *os, const char *ns)
{
	struct comparison *c = ctx;
	const char *kind = compare_classify(os, ns);
	struct status_change *nc, *x;

	if (!kind)
		return;
	nc = realloc(c->changes, (c->nchanges + 1) * sizeof(*nc));
	if (!nc)
		abort();
	c->changes = nc;
	x = &c->changes[c->nchanges++];
	memset(x, 0, sizeof(*x));
	snprintf(x->config, sizeof(x->config), "%s", config);
	x->topology = topology;
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->old_status, sizeof(x->old_status), "%s", os ? os : "");
	snprintf(x->new_status, sizeof(x->new_status), "%s", ns ? ns : "");
	x->kind = kind;
	c->status_regressions += strcmp(kind, "regression") == 0;
	c->status_fixes += strcmp(kind, "fix") == 0;
}

static int load_changes(struct store *st, struct comparison *c)
{
	return store_subtest_status_pairs(st, c->base, c->run, add_change, c); /* a failure is said there */
}

struct failed_ctx {
	char *text;
	size_t len;
	int *n;
};

static void add_failed(void *ctx, const struct store_job_group *g)
{
	struct failed_ctx *f = ctx;
	size_t used = strlen(f->text);

	if (g->jobs == 0 || g->failed < g->jobs)
		return;
	(*f->n)++;
	if (used + 1 < f->len)
		snprintf(f->text + used, f->len - used, "%s%s %s %s%d (%d of %d): %.200s", used ? "; " : "",
			 g->workload, g->config, g->topology ? "" : "host", g->topology, g->failed, g->jobs,
			 g->first_failure);
}

/* Groups of run in which every job failed, into c->failed[side]. */
static int load_failed(struct store *st, const char *run, struct comparison *c, int side)
{
	struct failed_ctx f = { c->failed[side], sizeof(c->failed[side]), &c->nfailed[side] };

	return store_job_groups(st, run, NULL, add_failed, &f);
}

void compare_print_failed(const struct comparison *c, FILE *out)
{
	for (int side = 0; side < 2; side++)
		if (c->nfailed[side])
			fprintf(out, "every job failed in %s, so not compared (%d group%s): %s\n",
				side ? c->run : c->base, c->nfailed[side], c->nfailed[side] == 1 ? "" : "s",
				c->failed[side]);
}

int compare_build(struct store *st, const char *run, const char *base, const struct compare_opts *o,
		  struct comparison *c)
{
	memset(c, 0, sizeof(*c));
	if (!store_run_exists(st, run) || (base && !store_run_exists(st, base))) {
		vb_err("no run '%s' in the database", store_run_exists(st, run) ? base : run);
		return -1;
	}
	snprintf(c->run, sizeof(c->run), "%s", run);
	if (base) {
		snprintf(c->base, sizeof(c->base), "%s", base);
	} else if (series_previous_run(st, run, c->base, sizeof(c->base)) < 0) {
		vb_err("no earlier complete run of the same plan to compare %s with; name a baseline", run);
		return -1;
	}
	if (series_load(st, c->base, &c->a) < 0 || series_load(st, run, &c->b) < 0 ||
	    load_failed(st, c->base, c, 0) < 0 || load_failed(st, run, c, 1) < 0)
		return -1;
	if (c->a.n == 0)
		vb_log("baseline %s has no successful jobs", c->base);
	for (size_t i = 0; i < c->b.n; i++) {
		const struct series *cur = &c->b.s[i];
		const struct series *old = series_find(&c->a, cur->workload, cur->config, cur->topology, cur->dom0, cur->metric);
		struct compare_row r = { .old = old, .cur = cur, .p = NAN, .m_old = NAN, .change_pct = NAN,
					 .detectable_pct = NAN, .scene_change_pct = NAN, .scene_p = NAN };

		r.m_new = median_of(cur);
		if (old && old->n && cur->n) {
			double bad_sign = cur->higher_is_better ? -1 : 1;

			r.m_old = median_of(old);
			r.change_pct = r.m_old != 0 ? 100.0 * (r.m_new - r.m_old) / fabs(r.m_old) : NAN;
			r.p = stats_mann_whitney_p(old->v, old->n, cur->v, cur->n, MWU_AUTO);
			r.noisy = stats_cv(old->v, old->n) > NOISY_CV || stats_cv(cur->v, cur->n) > NOISY_CV;
			r.underpowered = stats_mwu_min_p(old->n, cur->n) >= o->alpha;
			r.detectable_pct = stats_detectable_pct(stats_cv(old->v, old->n), old->n, stats_cv(cur->v, cur->n),
								cur->n, o->alpha, COMPARE_POWER);
			if (!(r.detectable_pct <= o->threshold_pct)) {
				double cv = fmax(stats_cv(old->v, old->n), stats_cv(cur->v, cur->n));

				r.needs = stats_values_needed(cv, o->threshold_pct, o->alpha, COMPARE_POWER);
			}
			if (!isnan(r.change_pct) && r.p < o->alpha && fabs(r.change_pct) > o->threshold_pct) {
				r.verdict = r.change_pct * bad_sign > 0 ? V_REGRESSION : V_IMPROVEMENT;
				r.flagged_by = BY_SCORE;
			}
			enum verdict by_scenes = scene_test(c, o, &r);

			/* The scenes flag a row the score did not, or confirm it; where they disagree the score stands. */
			if (by_scenes != V_SAME && (r.verdict == V_SAME || r.verdict == by_scenes)) {
				r.verdict = by_scenes;
				r.flagged_by |= BY_SCENES;
			}
		}
		c->regressions += r.verdict == V_REGRESSION;
		c->improvements += r.verdict == V_IMPROVEMENT;
		struct compare_row *nr = realloc(c->rows, (c->nrows + 1) * sizeof(*nr));

		if (!nr)
			abort();
		c->rows = nr;
		c->rows[c->nrows++] = r;
	}
	return load_changes(st, c);
}

/* Did set run s's configuration and guest count at all (any metric)? */
static int group_ran(const struct series_set *set, const struct series *s)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->s[i].topology == s->topology && set->s[i].dom0 == s->dom0 &&
		    strcmp(set->s[i].config, s->config) == 0)
			return 1;
	return 0;
}

/* Where run id sits in series t, or t->n when it is not one of its runs. */
static size_t run_index(const struct trend_series *t, const char *id)
{
	size_t j = 0;

	while (j < t->n && strcmp(t->run[j], id) != 0)
		j++;
	return j;
}

int compare_series_marks(struct store *st, struct comparison *c)
{
	struct store_run_row run;
	struct trend_set ts;
	int flagged = 0, rc;

	for (size_t i = 0; i < c->nrows; i++)
		flagged |= c->rows[i].verdict != V_SAME;
	if (!flagged)
		return 0;
	if (store_run_row_get(st, c->run, &run) != 0) {
		store_run_row_free(&run);
		return -1;
	}
	struct trends_opts o = { .host = run.host && run.host[0] ? run.host : NULL, .plan = run.plan };

	rc = trends_load(st, &o, &ts);
	for (size_t i = 0; rc == 0 && i < c->nrows; i++) {
		struct compare_row *r = &c->rows[i];
		const struct trend_series *t;
		size_t j, b;

		if (r->verdict == V_SAME || !(t = trends_find(&ts, r->cur->workload, r->cur->config, r->cur->topology,
							      r->cur->dom0, r->cur->metric)))
			continue;
		j = run_index(t, c->run);
		b = run_index(t, c->base);
		if (j == t->n)
			continue;
		/* A base outside the series (another plan's run, one not complete): only a change at the run itself. */
		for (size_t k = 0; k < t->ncp; k++)
			if (t->cp[k].index <= j && (b == t->n ? t->cp[k].index == j : t->cp[k].index > b))
				r->series_mark = SERIES_CHANGES;
		r->series_after = t->n - 1 - j;
		if (r->series_mark == SERIES_UNSEEN && t->n >= 2 * ts.min_segment && r->series_after >= ts.min_segment)
			r->series_mark = SERIES_OUTLIER;
	}
	trends_free(&ts);
	store_run_row_free(&run);
	return rc;
}

void compare_print(const struct comparison *c, const struct compare_opts *o, FILE *out)
{
	int underpowered = 0;
	char absent[512] = "";
	size_t nabsent = 0;

	fprintf(out,
		"compare %s against %s (flagged: change > %.1f%% and Mann-Whitney p < %.2f, or the same over the paired "
		"scenes)\n\n",
		c->run, c->base, o->threshold_pct, o->alpha);
	fprintf(out, "%-9s %-24s %-12s %6s %10s %10s %8s %8s %8s  %s\n", "workload", "metric", "config", "guests", "old",
		"new", "change", "p", "detect", "verdict");
	for (size_t i = 0; i < c->nrows; i++) {
		const struct compare_row *r = &c->rows[i];
		char topo[12], old[16], chg[16], p[16], det[16], need[64] = "";
		/* A guest row takes one value per guest and repetition; host and dom0 rows one per repetition. */
		size_t per_rep = r->cur->topology > 0 && !r->cur->dom0 ? (size_t)r->cur->topology : 1;

		snprintf(topo, sizeof(topo), !r->cur->topology ? "host" : r->cur->dom0 ? "dom0+%d" : "%d",
			 r->cur->topology);
		/* A configuration and guest count the baseline did not run at all (an interleaved arm runs only what
		 * it changes): one line at the end, not a "new metric" per row. */
		if (!r->old && !group_ran(&c->a, r->cur)) {
			size_t k = 0;

			nabsent++;
			while (k < i && !(!c->rows[k].old && c->rows[k].cur->topology == r->cur->topology &&
					  c->rows[k].cur->dom0 == r->cur->dom0 &&
					  strcmp(c->rows[k].cur->config, r->cur->config) == 0))
				k++;
			if (k == i) /* the group's first row */
				snprintf(absent + strlen(absent), sizeof(absent) - strlen(absent), "%s%s %s",
					 absent[0] ? ", " : "", r->cur->config, topo);
			continue;
		}
		snprintf(old, sizeof(old), isnan(r->m_old) ? "-" : "%.2f", r->m_old);
		snprintf(chg, sizeof(chg), isnan(r->change_pct) ? "-" : "%+.1f%%", r->change_pct);
		snprintf(p, sizeof(p), isnan(r->p) ? "-" : "%.3g", r->p);
		if (isnan(r->detectable_pct))
			snprintf(det, sizeof(det), "-");
		else if (isinf(r->detectable_pct))
			snprintf(det, sizeof(det), "none");
		else
			snprintf(det, sizeof(det), "%.1f%%", r->detectable_pct);
		if (r->needs && !r->underpowered)
			snprintf(need, sizeof(need), " (underpowered: needs ~%zu repetitions)",
				 (r->needs + per_rep - 1) / per_rep);
		underpowered |= r->underpowered;
		static const char *const by[] = { "", " by score", " by scenes", " by score and scenes" };
		char scenes[96] = "";

		if (r->nscenes) {
			char sp[24];

			snprintf(sp, sizeof(sp), isnan(r->scene_p) ? "no change" : "p %.3g", r->scene_p);
			snprintf(scenes, sizeof(scenes), " [scenes: %+.1f%%, %s, %zu paired%s]", r->scene_change_pct, sp,
				 r->nscenes, r->nscenes < COMPARE_MIN_SCENES ? ", too few to flag" : "");
		}
		char series[96] = "";

		if (r->series_mark == SERIES_OUTLIER)
			snprintf(series, sizeof(series),
				 " [outlier: the series does not change here, %zu runs after it]", r->series_after);
		else if (r->series_mark == SERIES_CHANGES)
			snprintf(series, sizeof(series), " [the series changes here]");
		fprintf(out, "%-9s %-24s %-12s %6s %10s %10.2f %8s %8s %8s  %s%s%s%s%s%s%s\n", r->cur->workload,
			r->cur->metric, r->cur->config, topo, old, r->m_new, chg, p, det,
			r->verdict == V_REGRESSION	? "REGRESSION"
			: r->verdict == V_IMPROVEMENT ? "improvement"
			: r->old			? ""
							: "new metric",
			r->verdict != V_SAME ? by[r->flagged_by & 3] : "", r->noisy ? " (noisy)" : "",
			r->underpowered ? " (too few runs)" : "", need, scenes, series);
	}
	for (size_t i = 0; i < c->a.n; i++) {
		const struct series *s = &c->a.s[i];

		if (!series_find(&c->b, s->workload, s->config, s->topology, s->dom0, s->metric))
			fprintf(out, "%-9s %-24s %-12s %6d  missing in %s\n", s->workload, s->metric, s->config, s->topology,
				c->run);
	}
	if (c->nchanges) {
		fprintf(out, "\nstatus changes (piglit):\n");
		for (size_t i = 0; i < c->nchanges; i++) {
			const struct status_change *x = &c->changes[i];

			fprintf(out, "  %-10s %-12s %2d  %-50s %s -> %s\n", x->kind, x->config, x->topology, x->name,
				x->old_status[0] ? x->old_status : "(absent)",
				x->new_status[0] ? x->new_status : "(absent)");
		}
	}
	if (nabsent)
		fprintf(out, "\nnot in %s, so not compared (%zu row%s): %s\n", c->base, nabsent, nabsent == 1 ? "" : "s",
			absent);
	if (c->nfailed[0] || c->nfailed[1])
		fputc('\n', out);
	compare_print_failed(c, out);
	fprintf(out, "\n%d regression%s, %d improvement%s; %d test regression%s, %d fix%s\n", c->regressions,
		c->regressions == 1 ? "" : "s", c->improvements, c->improvements == 1 ? "" : "s", c->status_regressions,
		c->status_regressions == 1 ? "" : "s", c->status_fixes, c->status_fixes == 1 ? "" : "es");
	if (underpowered)
		fprintf(out, "(too few runs): with so few values per side Mann-Whitney cannot reach p < %.2f; "
			     "use 4 or more repetitions (or more guests)\n",
			o->alpha);
	fprintf(out, "scenes: a headline with scenes (glmark2) is also compared scene by scene: each scene's median new "
		     "÷ old, their geometric mean's change, and the Wilcoxon signed-rank p of their logarithms (paired, "
		     "flagged like the score; it needs %d scenes or more to reach p < 0.05)\n",
		COMPARE_MIN_SCENES);
	for (size_t i = 0; i < c->nrows; i++)
		if (c->rows[i].series_mark != SERIES_UNSEEN) {
			fprintf(out, "series: a flagged row as `vgpubench trends` sees its series on this host: a "
				     "change point between the two runs, or an outlier when there is none and the series "
				     "has runs enough after this one to have shown it\n");
			break;
		}
	fprintf(out, "detect: the smallest change each row could flag at %.0f%% power, from its values and CVs "
		     "(normal approximation, Mann-Whitney's efficiency 3/pi); a row that cannot see %.1f%% says how many "
		     "repetitions would\n",
		100 * COMPARE_POWER, o->threshold_pct);
}

void compare_free(struct comparison *c)
{
	series_free(&c->a);
	series_free(&c->b);
	free(c->rows);
	free(c->changes);
	memset(c, 0, sizeof(*c));
}
