/* verdict.c: what a run found, said first (verdict.h): its ratios with their intervals, a sentence per workload,
 * the corners that did not run, sharing and compare. */
#define _GNU_SOURCE
#include "analysis/verdict.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/scenario_summary.h"
#include "analysis/series.h"
#include "configs/configs.h"
#include "stats.h"
#include "util.h"
#include "workload.h"

/* The most guests a topology of a run has (run_state.h's MAX_GUESTS). */
#define VERDICT_MAX_GUESTS 16

/* What the verdict is built from. */
struct build {
	struct store *st;
	const char *run;
	struct series_set set;
	struct run_verdict *v;
};

static void add_line(struct run_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_line(struct run_verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->nlines == VERDICT_MAX_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(v->lines[v->nlines++], sizeof(v->lines[0]), fmt, ap);
	va_end(ap);
}

void verdict_ratio_text(double ratio, char *out, size_t len)
{
	if (!isfinite(ratio))
		snprintf(out, len, "n/a");
	else
		snprintf(out, len, ratio < 0.1 ? "%.3fx" : "%.2fx", ratio);
}

int verdict_is_lab(struct store *st, const char *run, const char *config)
{
	char *lab = config ? store_lab_get(st, run, config) : NULL;

	free(lab);
	return lab != NULL;
}

/* config's series of workload w's metric with `topo` guests, when it has values and is no nested lab's. */
static const struct series *usable(struct build *b, const char *w, const char *config, int topo, const char *metric)
{
	const struct series *s = config ? series_find(&b->set, w, config, topo, 0, metric) : NULL;

	return s && s->n && !verdict_is_lab(b->st, b->run, config) ? s : NULL;
}

/* A row from two sets of values: the ratio of their medians and its interval. */
static void add_ratio(struct build *b, const char *w, const char *metric, const char *num, const char *den, int topo,
		      int summed, const double *x, size_t nx, const double *y, size_t ny)
{
	struct verdict_row *row;
	double my = ny ? stats_median_of(y, ny) : NAN;
	struct stats_ci ci;

	if (!nx || !(my > 0) || b->v->n == VERDICT_MAX_ROWS)
		return;
	row = &b->v->rows[b->v->n++];
	ci = stats_bootstrap_ratio(x, nx, y, ny, SERIES_BOOT_ITERS, SERIES_BOOT_SEED);
	*row = (struct verdict_row){ .topology = topo, .summed = summed, .ratio = stats_median_of(x, nx) / my,
				     .lo = ci.lo, .hi = ci.hi,
				     .significant = isfinite(ci.lo) && isfinite(ci.hi) && (ci.lo > 1 || ci.hi < 1) };
	snprintf(row->workload, sizeof(row->workload), "%s", w);
	snprintf(row->metric, sizeof(row->metric), "%s", metric);
	snprintf(row->num, sizeof(row->num), "%s", num);
	snprintf(row->den, sizeof(row->den), "%s", den);
}

/* num ÷ den summed over the guests of each repetition (both with topo guests). */
static void add_summed(struct build *b, const char *w, const char *metric, const char *num, const char *den, int topo)
{
	double *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0;

	if (store_rep_sums(b->st, b->run, w, metric, num, topo, &x, &nx) == 0 &&
	    store_rep_sums(b->st, b->run, w, metric, den, topo, &y, &ny) == 0)
		add_ratio(b, w, metric, num, den, topo, 1, x, nx, y, ny);
	free(x);
	free(y);
}

/* Workload w's rows: for each guest count mediated ran with, mediated ÷ each peer (and summed), ÷ native and ÷
 * passthrough; then passthrough ÷ native. */
static void workload_rows(struct build *b, const char *w, const char *metric)
{
	const struct config_def *med = config_with_role(ROLE_MEDIATED), *pt = config_with_role(ROLE_PASSTHROUGH);
	const struct series *nat = usable(b, w, config_baseline(), 0, metric);

	for (int topo = 1; topo <= VERDICT_MAX_GUESTS; topo++) {
		const struct series *m = usable(b, w, med ? med->name : NULL, topo, metric);
		const struct series *p = usable(b, w, pt ? pt->name : NULL, topo, metric);

		if (m) {
			for (size_t c = 0; config_at(c); c++) {
				const struct config_def *pc = config_at(c);
				const struct series *peer = pc->peer ? usable(b, w, pc->name, topo, metric) : NULL;

				if (!peer)
					continue;
				add_ratio(b, w, metric, m->config, peer->config, topo, 0, m->v, m->n, peer->v, peer->n);
				if (topo >= 2)
					add_summed(b, w, metric, m->config, peer->config, topo);
			}
			if (nat)
				add_ratio(b, w, metric, m->config, nat->config, topo, 0, m->v, m->n, nat->v, nat->n);
			if (p)
				add_ratio(b, w, metric, m->config, p->config, topo, 0, m->v, m->n, p->v, p->n);
		}
		if (p && nat)
			add_ratio(b, w, metric, p->config, nat->config, topo, 0, p->v, p->n, nat->v, nat->n);
	}
}

/* One phrase of a sentence: "1.96x qemu-virgl with 1 guest", with "(not significant)" when it is not. */
static size_t phrase(char *out, size_t len, const struct verdict_row *r, int with_den)
{
	char x[16];

	verdict_ratio_text(r->ratio, x, sizeof(x));
	return (size_t)snprintf(out, len, "%s%s%s %s %d guest%s%s", x, with_den ? " " : "", with_den ? r->den : "",
				r->summed ? "summed over" : "with", r->topology, r->topology == 1 ? "" : "s",
				r->significant ? "" : " (not significant)");
}

/* Workload w's sentence from its rows: "glmark2 (score): mediated is 1.96x qemu-virgl with 1 guest, 1.40x
 * qemu-virgl summed over 3 guests; 0.42x native with 1 guest; passthrough is ...". */
static void sentence(struct run_verdict *v, const char *w, size_t first, size_t end)
{
	char s[512];
	size_t len = (size_t)snprintf(s, sizeof(s), "%s (%s):", w, v->rows[first].metric);
	const char *num = "", *den = "";
	int said = 0;

	for (size_t i = first; i < end && len < sizeof(s); i++) {
		const struct verdict_row *r = &v->rows[i];
		int new_num = strcmp(r->num, num) != 0, new_den = new_num || strcmp(r->den, den) != 0;

		/* Per guest only with one guest: with several, the peer's summed row says it. */
		if (r->topology > 1 && !r->summed && config_find(r->den) && config_find(r->den)->peer)
			continue;
		len += (size_t)snprintf(s + len, sizeof(s) - len, "%s%s%s", new_num ? (said ? "; " : " ") : ", ",
					new_num ? r->num : "", new_num ? " is " : "");
		said++;
		if (len < sizeof(s))
			len += phrase(s + len, sizeof(s) - len, r, new_den);
		num = r->num;
		den = r->den;
	}
	add_line(v, "%s", s);
}

/* The newest run, other than this one, with values of a configuration (store_lab_values' rows). */
struct newest {
	const char *run;
	char id[STORE_RUN_ID_MAX], host[64], started_at[32];
};

static void newest_value(void *ctx, const struct store_lab_value *v)
{
	struct newest *n = ctx;

	if (strcmp(v->run, n->run) && strcmp(v->started_at, n->started_at) > 0) {
		snprintf(n->id, sizeof(n->id), "%s", v->run);
		snprintf(n->host, sizeof(n->host), "%s", v->host[0] ? v->host : "a host not recorded");
		snprintf(n->started_at, sizeof(n->started_at), "%s", v->started_at);
	}
}

/* Where config's numbers are when this run has none: the newest other run in the database that has them (a lab
 * host's, say), said in one line, or nothing. */
static void elsewhere(struct build *b, const struct config_def *c)
{
	const char *pairs[STORE_LAB_PAIRS][2];
	size_t np = 0;
	struct newest n = { .run = b->run };

	for (size_t i = 0; i < b->set.n && np < STORE_LAB_PAIRS; i++) {
		const struct workload_def *w = workload_find(b->set.s[i].workload);

		if (w && (i == 0 || strcmp(b->set.s[i - 1].workload, b->set.s[i].workload))) {
			pairs[np][0] = w->name;
			pairs[np++][1] = w->headline_metric;
		}
	}
	if (!np || store_lab_values(b->st, c->name, (const char *const(*)[2])pairs, np, newest_value, &n) < 0 ||
	    !n.id[0])
		return;
	add_line(b->v, "%s's newest results for these workloads are in run %s on %s (started %s): vgpubench report "
		       "--lab sets them beside this host's",
		 c->name, n.id, n.host, n.started_at);
}

/* A corner (mediated, a peer, native, passthrough) of this run's plan that has no numbers here: why, once; for
 * passthrough, where its numbers are instead. */
static void absent(struct build *b, const struct config_def *c)
{
	char *status = NULL, *reason = NULL, *lab;
	int any = 0;

	if (!c || store_config_get(b->st, b->run, c->name, &status, &reason) < 0)
		return; /* not in the plan */
	for (size_t i = 0; i < b->set.n; i++)
		any |= !strcmp(b->set.s[i].config, c->name) && b->set.s[i].n;
	if (!strcmp(status, "skipped")) {
		add_line(b->v, "%s did not run here: %s", c->name, reason ? reason : "skipped");
		if (c->role == ROLE_PASSTHROUGH)
			elsewhere(b, c);
	}
	else if ((lab = store_lab_get(b->st, b->run, c->name))) {
		add_line(b->v, "%s ran in a nested lab only (%s): it proves the path, not the speed, so it is in no "
			       "ratio",
			 c->name, lab);
		free(lab);
	} else if (!any) {
		add_line(b->v, "%s has no successful job in this run (its first failure is under the table)", c->name);
	}
	free(status);
	free(reason);
}

/* Sharing: for each workload, mediated with its most guests: scaling efficiency and Jain's fairness; then the worst
 * isolation any scenario saw (the least a guest kept of its baseline). */
static void sharing(struct build *b)
{
	const struct config_def *med = config_with_role(ROLE_MEDIATED);
	struct scenario_result *rows = NULL;
	struct scen_phase *p = NULL;
	size_t n = 0, np = 0;
	double worst = INFINITY;
	const char *where = NULL, *policy = NULL;
	int guest = 0;

	for (size_t i = 0; med && i < b->set.n; i++) {
		const char *w = b->set.s[i].workload;
		const struct workload_def *def = workload_find(w);
		const struct series *s = NULL, *alone;
		double g[64], scaling, jain;
		size_t k;

		if (!def || (i > 0 && !strcmp(b->set.s[i - 1].workload, w)))
			continue; /* one pass per workload */
		alone = usable(b, w, med->name, 1, def->headline_metric);
		for (int topo = VERDICT_MAX_GUESTS; topo >= 2 && !s; topo--)
			s = usable(b, w, med->name, topo, def->headline_metric);
		if (!s || !alone || !(k = series_guest_medians(b->st, b->run, s, g, 64)))
			continue;
		scaling = stats_scaling(g, k, stats_median_of(alone->v, alone->n));
		jain = stats_jain(g, NULL, k);
		if (isfinite(scaling) && isfinite(jain)) /* not with a guest alone at 0 */
			add_line(b->v, "sharing, %s on %s with %d guests: scaling efficiency %.2f (the guests' sum ÷ "
				       "one guest alone), fairness %.3f (Jain's index; 1 is even)",
				 w, med->name, s->topology, scaling, jain);
	}
	if (store_scenario_results(b->st, b->run, &rows, &n) < 0 || !n || scen_summarise(rows, n, &p, &np) < 0)
		goto out;
	for (size_t i = 0; i < np; i++) {
		const struct scen_phase *base = scen_baseline_of(p, np, &p[i]);

		if (strcmp(p[i].phase, "contended"))
			continue;
		for (int g = 0; g < p[i].n; g++) {
			double kept = scen_kept(&p[i], base, g);

			if (kept < worst) {
				worst = kept;
				where = p[i].scenario;
				policy = p[i].policy;
				guest = p[i].g[g].guest_index;
			}
		}
	}
	if (where)
		add_line(b->v, "isolation: the worst any scenario saw is guest%d keeping %.2f of its baseline "
			       "throughput (scenario %s under %s)",
			 guest, worst, where, policy);
out:
	free(p);
	free(rows);
}

void verdict_row_power(const struct series *s, struct verdict_power_row *out)
{
	double cv = stats_cv(s->v, s->n), d = stats_detectable_pct(cv, s->n, cv, s->n, 0.05, COMPARE_POWER);
	size_t per_rep = s->topology > 0 && !s->dom0 ? (size_t)s->topology : 1; /* each guest's job is a value */

	*out = (struct verdict_power_row){ .cls = VP_NA, .detectable_pct = d };
	if (isnan(d))
		return;
	if (isinf(d)) {
		out->cls = VP_NONE;
	} else if (d > VERDICT_THRESHOLD_PCT) {
		out->cls = VP_SHORT;
		out->need = (stats_values_needed(cv, VERDICT_THRESHOLD_PCT, 0.05, COMPARE_POWER) + per_rep - 1) / per_rep;
	} else {
		out->cls = VP_SEEN;
	}
}

void verdict_power_count(struct verdict_power *pw, const struct verdict_power_row *row)
{
	if (row->cls == VP_NA)
		return;
	pw->rows++;
	pw->seen += row->cls == VP_SEEN;
	pw->none += row->cls == VP_NONE;
	if (row->cls == VP_SHORT && row->need > pw->most)
		pw->most = row->need;
}

void verdict_power_text(const struct verdict_power *pw, char *out, size_t len)
{
	int short_rows = pw->rows - pw->seen - pw->none;
	size_t n;

	out[0] = '\0';
	if (!pw->rows)
		return;
	n = (size_t)snprintf(out, len, "power: %d of %d row%s can see a change of %.0f%% (compare's default threshold) "
				       "against a run like this one, at 80%% power.",
			     pw->seen, pw->rows, pw->rows == 1 ? "" : "s", VERDICT_THRESHOLD_PCT);
	if (short_rows > 0 && n < len)
		n += (size_t)snprintf(out + n, len - n,
				      " %s ~%zu repetitions%s (the summary's detectable column says how many a row "
				      "needs): raise repetitions for those workloads, or run harness/plans/nightly.ini, "
				      "whose boots, warm-ups and repetitions vgpubench calibrate chose for a host like "
				      "this.",
				      short_rows == 1 ? "One row needs" : "The others need up to", pw->most,
				      short_rows == 1 ? "" : " each");
	if (pw->none > 0 && n < len)
		snprintf(out + n, len - n,
			 " %d %s too few values for any change to be seen (Mann-Whitney needs 4 a row at p < 0.05; "
			 "each guest's repetition is one).",
			 pw->none, pw->none == 1 ? "row has" : "rows have");
}

/* The power line over the run's headline rows. */
static void power(struct build *b)
{
	struct verdict_power pw = { 0 };
	char text[sizeof(b->v->lines[0])];

	for (size_t i = 0; i < b->set.n; i++) {
		const struct series *s = &b->set.s[i];
		const struct workload_def *w = workload_find(s->workload);
		struct verdict_power_row row;

		if (!strcmp(s->metric, w ? w->headline_metric : "score")) {
			verdict_row_power(s, &row);
			verdict_power_count(&pw, &row);
		}
	}
	verdict_power_text(&pw, text, sizeof(text));
	if (text[0])
		add_line(b->v, "%s", text);
}

/* What compare finds against the previous complete run of the plan on this host, if there is one. */
static void against_previous(struct build *b)
{
	struct compare_opts o = { .threshold_pct = 5, .alpha = 0.05 };
	struct comparison c;
	char prev[STORE_RUN_ID_MAX];

	if (series_previous_run(b->st, b->run, prev, sizeof(prev)) < 0) {
		add_line(b->v, "no earlier complete run of this plan on this host to compare with");
		return;
	}
	if (compare_build(b->st, b->run, prev, &o, &c) < 0)
		return;
	add_line(b->v, "against run %s (the previous of this plan here): %d regression%s, %d improvement%s%s%s "
		       "(vgpubench compare %s)",
		 prev, c.regressions, c.regressions == 1 ? "" : "s", c.improvements, c.improvements == 1 ? "" : "s",
		 c.status_regressions ? ", piglit regressions" : "", c.status_regressions ? " too" : "", b->run);
	compare_free(&c);
}

int verdict_build(struct store *st, const char *run, struct run_verdict *v)
{
	struct build b = { .st = st, .run = run, .v = v };
	const struct config_def *order[] = { config_with_role(ROLE_MEDIATED), config_find(config_baseline()),
					     config_with_role(ROLE_PASSTHROUGH) };

	memset(v, 0, sizeof(*v));
	if (series_load(st, run, &b.set) < 0)
		return -1;
	for (size_t i = 0; i < b.set.n; i++) {
		const char *w = b.set.s[i].workload;
		const struct workload_def *def = workload_find(w);
		size_t first = v->n;

		if (!def || (i > 0 && !strcmp(b.set.s[i - 1].workload, w)))
			continue; /* one pass per workload */
		workload_rows(&b, w, def->headline_metric);
		if (v->n > first)
			sentence(v, w, first, v->n);
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		absent(&b, order[i]);
	for (size_t c = 0; config_at(c); c++)
		if (config_at(c)->peer)
			absent(&b, config_at(c));
	sharing(&b);
	power(&b);
	against_previous(&b);
	series_free(&b.set);
	return 0;
}

void verdict_print(const struct run_verdict *v, FILE *out)
{
	if (!v->nlines && !v->n)
		return;
	fprintf(out, "\nverdict (ratios of medians, with 95%% bootstrap intervals):\n");
	for (size_t i = 0; i < v->nlines; i++)
		fprintf(out, "  %s\n", v->lines[i]);
	if (!v->n)
		return;
	fprintf(out, "\n%-12s %-38s %-10s %8s %16s %s\n", "workload", "comparison", "guests", "ratio", "95% interval",
		"significant");
	for (int i = 0; i < 98; i++)
		fputc('-', out);
	fputc('\n', out);
	for (size_t i = 0; i < v->n; i++) {
		const struct verdict_row *r = &v->rows[i];
		char what[80], guests[24], x[16], lo[16], hi[16], ci[40];

		snprintf(what, sizeof(what), "%s ÷ %s", r->num, r->den);
		snprintf(guests, sizeof(guests), r->summed ? "%d summed" : "%d", r->topology);
		verdict_ratio_text(r->ratio, x, sizeof(x));
		verdict_ratio_text(r->lo, lo, sizeof(lo));
		verdict_ratio_text(r->hi, hi, sizeof(hi));
		snprintf(ci, sizeof(ci), "%s – %s", lo, hi);
		fprintf(out, "%-12s %-39s %-10s %8s %18s %s\n", r->workload, what, guests, x, ci,
			r->significant ? "yes" : "no");
	}
}
