/* trends.c: vgpubench trends (trends.h): the values of every series read in one query, a point per night (the
 * median of its runs' values), change points found in each series, and the table of them newest first, with what
 * else changed across each (the host's facts, the plan's text, a gap). */
#define _GNU_SOURCE
#include "analysis/trends.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "util.h"

/* The series as the values arrive, and the values of the night being gathered (its first run's start, its last
 * run). */
struct gather {
	struct trend_series *s;
	size_t n, cap;
	char run[STORE_RUN_ID_MAX], at[32];
	time_t t0;
	double *v;
	size_t nv, capv;
};

/* The night gathered so far as a point of the last series. */
static void point_done(struct gather *g)
{
	struct trend_series *t;

	if (!g->nv || !g->n)
		return;
	t = &g->s[g->n - 1];
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->run = realloc(t->run, t->cap * sizeof(*t->run));
		t->at = realloc(t->at, t->cap * sizeof(*t->at));
		t->median = realloc(t->median, t->cap * sizeof(*t->median));
		t->t0 = realloc(t->t0, t->cap * sizeof(*t->t0));
		if (!t->run || !t->at || !t->median || !t->t0)
			abort();
	}
	snprintf(t->run[t->n], sizeof(t->run[0]), "%s", g->run);
	snprintf(t->at[t->n], sizeof(t->at[0]), "%s", g->at);
	t->t0[t->n] = g->t0;
	t->median[t->n++] = stats_median(g->v, g->nv);
	g->nv = 0;
}

static int same_series(const struct trend_series *t, const struct store_series_value *v)
{
	return !strcmp(t->host, v->host) && !strcmp(t->plan, v->plan) && !strcmp(t->workload, v->workload) &&
	       !strcmp(t->config, v->config) && t->topology == v->topology && t->dom0 == v->dom0 &&
	       !strcmp(t->metric, v->metric) && !strcmp(t->unit, v->unit);
}

static void on_value(void *ctx, const struct store_series_value *v)
{
	struct gather *g = ctx;

	if (!isfinite(v->value))
		return;
	if (!g->n || !same_series(&g->s[g->n - 1], v)) {
		struct trend_series *t;

		point_done(g);
		t = vb_push((void **)&g->s, &g->n, &g->cap, sizeof(*g->s));
		snprintf(t->host, sizeof(t->host), "%s", v->host[0] ? v->host : "?");
		snprintf(t->plan, sizeof(t->plan), "%s", v->plan);
		snprintf(t->workload, sizeof(t->workload), "%s", v->workload);
		snprintf(t->config, sizeof(t->config), "%s", v->config);
		snprintf(t->metric, sizeof(t->metric), "%s", v->metric);
		snprintf(t->unit, sizeof(t->unit), "%s", v->unit);
		t->topology = v->topology;
		t->dom0 = v->dom0;
		t->higher_is_better = strcmp(v->direction, "lower") != 0;
		g->run[0] = '\0';
	}
	if (strcmp(g->run, v->run) != 0) {
		time_t at = 0;

		/* Another run of the night being gathered (a rerun) adds its values to the night's point. */
		if (vb_utc_parse(v->started_at, &at) < 0)
			at = 0;
		if (g->nv && g->t0 && at && difftime(at, g->t0) >= 0 && difftime(at, g->t0) < TRENDS_NIGHT_S) {
			g->s[g->n - 1].merged_runs++;
		} else {
			point_done(g);
			g->t0 = at;
		}
		snprintf(g->run, sizeof(g->run), "%s", v->run);
		snprintf(g->at, sizeof(g->at), "%.19s", v->started_at);
	}
	*(double *)vb_push((void **)&g->v, &g->nv, &g->capv, sizeof(*g->v)) = v->value;
}

/* A change point of a series, for the table. */
struct found {
	const struct trend_series *t;
	const struct changepoint *cp;
	int regression, recent;
};

static int newest_first(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	int c = strcmp(y->t->at[y->cp->index], x->t->at[x->cp->index]);

	return c ? c : strcmp(x->t->metric, y->t->metric);
}

/* The median of the spacing between consecutive points of t with known start times, in seconds (0: none). */
static double usual_spacing(const struct trend_series *t)
{
	double *d = malloc((t->n ? t->n : 1) * sizeof(*d)), m;
	size_t n = 0;

	if (!d)
		return 0;
	for (size_t i = 1; i < t->n; i++)
		if (t->t0[i] && t->t0[i - 1])
			d[n++] = difftime(t->t0[i], t->t0[i - 1]);
	m = n ? stats_median(d, n) : 0;
	free(d);
	return m;
}

/* Append a part to out, "; " after any before it. */
static void add_part(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_part(char *out, size_t len, const char *fmt, ...)
{
	size_t used = strlen(out);
	va_list ap;

	if (used && used + 2 < len)
		used += (size_t)snprintf(out + used, len - used, "; ");
	va_start(ap, fmt);
	vsnprintf(out + used, len - used, fmt, ap);
	va_end(ap);
}

void trends_across(struct store *s, const struct trend_series *t, size_t k, char *out, size_t len)
{
	static const char *const keys[] = { "qemu", "mesa", "virglrenderer", "host_kernel", "guest_kernel",
					    "guest_kernel_args", "host_gpu", "cpu_model", "accel" };
	const char *before = t->run[k - 1], *after = t->run[k];
	struct store_run_row a = { 0 }, b = { 0 };
	double gap, usual;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *x = store_host_fact_get(s, before, keys[i]), *y = store_host_fact_get(s, after, keys[i]);

		if ((x || y) && (!x || !y || strcmp(x, y) != 0))
			add_part(out, len, "%s %s -> %s", keys[i], x ? x : "?", y ? y : "?");
		free(x);
		free(y);
	}
	/* A plan edited under the same name (other repetitions, options, workloads) can move a level by itself. */
	if (store_run_row_get(s, before, &a) == 0 && store_run_row_get(s, after, &b) == 0 && a.plan_text &&
	    b.plan_text && strcmp(a.plan_text, b.plan_text) != 0)
		add_part(out, len, "the plan's text was edited");
	store_run_row_free(&a);
	store_run_row_free(&b);
	/* A gap: the change happened somewhere in it, not at the run after it. */
	usual = usual_spacing(t);
	gap = t->t0[k] && t->t0[k - 1] ? difftime(t->t0[k], t->t0[k - 1]) : 0;
	if (gap >= 2 * 86400 && gap > 1.5 * usual)
		add_part(out, len, "%.0f days without a run before it", gap / 86400);
}

static void print_found(struct store *s, const struct found *f, FILE *out)
{
	const struct trend_series *t = f->t;
	char scope[32], differs[1024];

	if (!t->topology)
		snprintf(scope, sizeof(scope), "host");
	else
		snprintf(scope, sizeof(scope), "%d%s", t->topology, t->dom0 ? "+dom0" : "");
	trends_across(s, t, f->cp->index, differs, sizeof(differs));
	fprintf(out, "%-12s %-12s %-10s %-22s %-12s %-7s %-40s %10.4g %10.4g %+7.1f%% %8.2g  %s%s\n", t->host, t->plan,
		t->workload, t->metric, t->config, scope, t->run[f->cp->index], f->cp->mean_before, f->cp->mean_after,
		f->cp->change_pct, f->cp->p, f->regression ? "regression" : "improvement", f->recent ? " (new)" : "");
	if (differs[0])
		fprintf(out, "%12s across it: %s\n", "", differs);
}

int trends_worse(const struct trend_series *t, const struct changepoint *c)
{
	return t->higher_is_better ? c->change_pct < 0 : c->change_pct > 0;
}

int trends_recent(const struct trend_series *t, size_t k, size_t min_segment)
{
	for (size_t r = 0; r < t->nrev; r++) /* it appeared or moved with the newest night */
		if (t->rev[r].now == t->cp[k].index)
			return 1;
	return k + 1 == t->ncp && t->cp[k].index + min_segment >= t->n;
}

/* The index in cp[0..n) nearest to i within `near` points, else SIZE_MAX. */
static size_t nearest(const struct changepoint *cp, size_t n, size_t i, size_t near)
{
	size_t best = SIZE_MAX, d = near + 1;

	for (size_t k = 0; k < n; k++) {
		size_t e = cp[k].index > i ? cp[k].index - i : i - cp[k].index;

		if (e < d) {
			d = e;
			best = cp[k].index;
		}
	}
	return best;
}

/* t's change points against those of t without its newest night, into t->rev: the points that moved, went, or came
 * anywhere but in the newest nights (a change found there is what a new night is for). 0, or -1. */
static int revisions(struct trend_series *t, const struct changepoint_opts *o, size_t min_seg)
{
	struct changepoint *y;
	size_t ny, cap = 0;

	if (t->n < 2 * min_seg + 1)
		return 0;
	if (changepoints_find(t->median, t->n - 1, o, &y, &ny) < 0)
		return -1;
	for (size_t k = 0; k < ny; k++) {
		size_t now = nearest(t->cp, t->ncp, y[k].index, min_seg);

		if (now != y[k].index) {
			struct trend_revision *r = vb_push((void **)&t->rev, &t->nrev, &cap, sizeof(*t->rev));

			r->was = y[k].index;
			r->now = now;
		}
	}
	for (size_t k = 0; k < t->ncp; k++)
		if (t->cp[k].index + min_seg < t->n && nearest(y, ny, t->cp[k].index, min_seg) == SIZE_MAX) {
			struct trend_revision *r = vb_push((void **)&t->rev, &t->nrev, &cap, sizeof(*t->rev));

			r->was = SIZE_MAX;
			r->now = t->cp[k].index;
		}
	free(y);
	return 0;
}

void trends_revision_text(const struct trend_series *t, const struct trend_revision *r, char *out, size_t len)
{
	if (r->was == SIZE_MAX)
		snprintf(out, len, "a change point appeared at %s", t->run[r->now]);
	else if (r->now == SIZE_MAX)
		snprintf(out, len, "the change point at %s is gone", t->run[r->was]);
	else
		snprintf(out, len, "the change point at %s moved to %s", t->run[r->was], t->run[r->now]);
}

void trends_free(struct trend_set *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->s[i].run);
		free(t->s[i].at);
		free(t->s[i].median);
		free(t->s[i].t0);
		free(t->s[i].cp);
		free(t->s[i].rev);
	}
	free(t->s);
	memset(t, 0, sizeof(*t));
}

int trends_load(struct store *s, const struct trends_opts *o, struct trend_set *out)
{
	struct gather g = { 0 };

	memset(out, 0, sizeof(*out));
	out->min_segment = o->cp.min_segment ? o->cp.min_segment : 3;
	if (store_series_values(s, o->host, o->plan, o->since, on_value, &g) < 0) {
		out->s = g.s;
		out->n = g.n;
		free(g.v);
		return -1;
	}
	point_done(&g);
	free(g.v);
	out->s = g.s;
	out->n = g.n;
	for (size_t i = 0; i < g.n; i++) {
		struct trend_series *t = &g.s[i];

		out->points += t->n;
		out->merged_series += t->merged_runs > 0;
		if (t->n < 2 * out->min_segment) {
			out->short_series++;
			continue;
		}
		if (changepoints_find(t->median, t->n, &o->cp, &t->cp, &t->ncp) < 0 ||
		    revisions(t, &o->cp, out->min_segment) < 0) {
			vb_err("trends: the change points of %s %s %s could not be found (a bad option)", t->workload,
			       t->config, t->metric);
			return -1;
		}
		out->revised += t->nrev > 0;
	}
	return 0;
}

const struct trend_series *trends_find(const struct trend_set *t, const char *workload, const char *config,
				       int topology, int dom0, const char *metric)
{
	const struct trend_series *found = NULL;

	for (size_t i = 0; i < t->n; i++) {
		const struct trend_series *x = &t->s[i];

		/* A metric whose unit changed is two series, oldest first: the newest is the one that goes on. */
		if (x->topology == topology && x->dom0 == dom0 && !strcmp(x->workload, workload) &&
		    !strcmp(x->config, config) && !strcmp(x->metric, metric) &&
		    (!found || strcmp(x->at[0], found->at[0]) > 0))
			found = x;
	}
	return found;
}

int trends_print(struct store *s, const struct trends_opts *o, FILE *out)
{
	struct trend_set ts;
	struct found *f = NULL;
	size_t nf = 0, capf = 0;
	int rc = 0;

	if (trends_load(s, o, &ts) < 0) {
		trends_free(&ts);
		return -1;
	}
	for (size_t i = 0; i < ts.n; i++) {
		const struct trend_series *t = &ts.s[i];

		for (size_t c = 0; c < t->ncp; c++) {
			struct found *x = vb_push((void **)&f, &nf, &capf, sizeof(*f));

			x->t = t;
			x->cp = &t->cp[c];
			x->regression = trends_worse(t, x->cp);
			x->recent = trends_recent(t, c, ts.min_segment);
			if (x->regression && x->recent)
				rc = TRENDS_REGRESSION;
		}
	}
	if (nf)
		qsort(f, nf, sizeof(*f), newest_first);
	fprintf(out, "trends: %zu series (%zu points), %zu change point%s; %s%s%s%s%s%s\n", ts.n, ts.points, nf,
		nf == 1 ? "" : "s", o->host ? "host " : "every host", o->host ? o->host : "", o->plan ? "; plan " : "",
		o->plan ? o->plan : "", o->since ? "; runs since " : "", o->since ? o->since : "");
	if (ts.short_series)
		fprintf(out, "%zu series have fewer than %zu runs: a change point needs %zu runs on either side\n",
			ts.short_series, 2 * ts.min_segment, ts.min_segment);
	if (ts.merged_series)
		fprintf(out, "%zu series had nights run more than once: such a night is one point (the runs "
			     "within %d h of its first), so a night run again does not weigh as several\n",
			ts.merged_series, TRENDS_NIGHT_S / 3600);
	if (nf)
		fprintf(out, "%-12s %-12s %-10s %-22s %-12s %-7s %-40s %10s %10s %8s %8s  %s\n", "host", "plan",
			"workload", "metric", "config", "guests", "first run after the change", "before", "after",
			"change", "p", "verdict");
	for (size_t i = 0; i < nf; i++)
		print_found(s, &f[i], out);
	if (ts.revised)
		fprintf(out, "the newest night changed what was found before it:\n");
	for (size_t i = 0; i < ts.n; i++)
		for (size_t k = 0; k < ts.s[i].nrev; k++) {
			char what[400];

			trends_revision_text(&ts.s[i], &ts.s[i].rev[k], what, sizeof(what));
			fprintf(out, "  %s %s %s %s %s: %s\n", ts.s[i].host, ts.s[i].plan, ts.s[i].workload,
				ts.s[i].metric, ts.s[i].config, what);
		}
	if (rc == TRENDS_REGRESSION)
		fprintf(out, "a regression started within the newest runs of a series (new): exit %d\n", rc);
	trends_free(&ts);
	free(f);
	return rc;
}
