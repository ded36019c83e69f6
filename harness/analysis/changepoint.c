/* changepoint.c: change points of a series (changepoint.h): E-Divisive means in overlapping windows with a t-test
 * for significance, then the weak points merged away. Each window's pairwise distances are summed over
 * rectangles from a prefix table, so a split's divergence costs O(1) and a window's best split O(w^2). */
#define _GNU_SOURCE
#include "analysis/changepoint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define DEFAULT_WINDOW 30
#define DEFAULT_MAX_P 0.001
#define DEFAULT_MIN_SEGMENT 3

/* One window w[0..m) and the sums of |w_i - w_j| over [0, i) x [0, j) in P (m + 1 columns). */
struct window {
	const double *w;
	size_t m, min_seg;
	double *P;
};

/* The sum of |w_i - w_j| over i in [a, b), j in [c, d). */
static double rect(const struct window *g, size_t a, size_t b, size_t c, size_t d)
{
	size_t s = g->m + 1;

	return g->P[b * s + d] - g->P[a * s + d] - g->P[b * s + c] + g->P[a * s + c];
}

static int window_init(struct window *g, const double *w, size_t m, size_t min_seg)
{
	size_t s = m + 1;

	g->w = w;
	g->m = m;
	g->min_seg = min_seg;
	if (!(g->P = calloc(s * s, sizeof(*g->P))))
		return -1;
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < m; j++)
			g->P[(i + 1) * s + j + 1] =
				fabs(w[i] - w[j]) + g->P[i * s + j + 1] + g->P[(i + 1) * s + j] - g->P[i * s + j];
	return 0;
}

/* Matteson and James's Q of w[a, t) against w[t, k), alpha 1: the scaled energy distance, the mean distance
 * between the sides less each side's mean distance within (none for a side of one point). */
static double qhat(const struct window *g, size_t a, size_t t, size_t k)
{
	double nx = (double)(t - a), ny = (double)(k - t), e = 2 * rect(g, a, t, t, k) / (nx * ny);

	if (nx >= 2)
		e -= rect(g, a, t, a, t) / (nx * (nx - 1)); /* the square counts each pair twice */
	if (ny >= 2)
		e -= rect(g, t, k, t, k) / (ny * (ny - 1));
	return nx * ny / (nx + ny) * e;
}

/* The best split of [a, b): t with at least min_seg points on either side, against the k in (t, b] that makes the
 * sides most unlike. 1 with *t and *q, or 0 when [a, b) is too short to split. */
static int best_split(const struct window *g, size_t a, size_t b, size_t *t_out, double *q_out)
{
	int found = 0;

	for (size_t t = a + g->min_seg; t + g->min_seg <= b; t++)
		for (size_t k = t + 1; k <= b; k++) {
			double q = qhat(g, a, t, k);

			if (!found || q > *q_out) {
				*q_out = q;
				*t_out = t;
				found = 1;
			}
		}
	return found;
}

/* Mean and sample standard deviation of x[a, b). */
static void segment(const double *x, size_t a, size_t b, double *mean, double *sd)
{
	double s = 0, ss = 0, n = (double)(b - a);

	for (size_t i = a; i < b; i++)
		s += x[i];
	*mean = s / n;
	for (size_t i = a; i < b; i++)
		ss += (x[i] - *mean) * (x[i] - *mean);
	*sd = b - a > 1 ? sqrt(ss / (n - 1)) : 0;
}

/* The change point at t between the segments [a, t) and [t, b) of x. */
static struct changepoint judge(const double *x, size_t a, size_t t, size_t b)
{
	struct changepoint c = { .index = t, .n_before = t - a, .n_after = b - t };

	segment(x, a, t, &c.mean_before, &c.sd_before);
	segment(x, t, b, &c.mean_after, &c.sd_after);
	c.p = stats_ttest_p(c.mean_before, c.sd_before, c.n_before, c.mean_after, c.sd_after, c.n_after);
	c.change_pct = c.mean_before != 0 ? 100 * (c.mean_after / c.mean_before - 1) : 0;
	return c;
}

/* The change's size either way, as a fraction (Otava's magnitude: the larger of the forward and backward change). */
static double magnitude(const struct changepoint *c)
{
	double f = c->mean_before != 0 ? fabs(c->mean_after / c->mean_before - 1) : 0;
	double r = c->mean_after != 0 ? fabs(c->mean_before / c->mean_after - 1) : 0;

	return f > r ? f : r;
}

/* Insert v into the sorted idx[0..*n) unless it is there. */
static void insert_sorted(size_t *idx, size_t *n, size_t v)
{
	size_t k = 0;

	while (k < *n && idx[k] < v)
		k++;
	if (k < *n && idx[k] == v)
		return;
	memmove(idx + k + 1, idx + k, (*n - k) * sizeof(*idx));
	idx[k] = v;
	(*n)++;
}

/* Split one window x[s, e): splits that pass max_p, one at a time, the interval of the most unlike sides first,
 * into idx (global indices, sorted, deduplicated). The first split that fails ends the window. 0, or -1. */
static int split_window(const double *x, size_t s, size_t e, size_t min_seg, double max_p, size_t *idx, size_t *n,
			size_t *last)
{
	struct window g;
	size_t bounds[DEFAULT_WINDOW * 64 + 2], nb = 2;

	if (e - s > sizeof(bounds) / sizeof(bounds[0]) - 2 || window_init(&g, x + s, e - s, min_seg) < 0)
		return -1;
	bounds[0] = 0;
	bounds[1] = e - s;
	for (;;) {
		size_t best_t = 0, lo = 0, hi = 0, t;
		double best_q = 0, q;
		int found = 0;
		struct changepoint c;

		for (size_t k = 0; k + 1 < nb; k++)
			if (best_split(&g, bounds[k], bounds[k + 1], &t, &q) && (!found || q > best_q)) {
				found = 1;
				best_q = q;
				best_t = t;
				lo = bounds[k];
				hi = bounds[k + 1];
			}
		if (!found)
			break;
		c = judge(g.w, lo, best_t, hi);
		if (!(c.p < max_p))
			break;
		insert_sorted(bounds, &nb, best_t);
		insert_sorted(idx, n, s + best_t);
		if (s + best_t > *last)
			*last = s + best_t;
	}
	free(g.P);
	return 0;
}

/* Each change point judged against its neighbours: the segments run to the points on either side. */
static void judge_all(const double *x, size_t n, const size_t *idx, size_t k, struct changepoint *cps)
{
	for (size_t i = 0; i < k; i++)
		cps[i] = judge(x, i ? idx[i - 1] : 0, idx[i], i + 1 < k ? idx[i + 1] : n);
}

int changepoints_find(const double *x, size_t n, const struct changepoint_opts *o, struct changepoint **out,
		      size_t *nout)
{
	size_t window = o && o->window ? o->window : DEFAULT_WINDOW;
	size_t min_seg = o && o->min_segment ? o->min_segment : DEFAULT_MIN_SEGMENT;
	double max_p = o && o->max_p > 0 ? o->max_p : DEFAULT_MAX_P, min_change = o ? o->min_change_pct / 100 : 0;
	/* The first pass lets through the weak points a stricter level would stop at (Otava's factors). */
	double weak_p = max_p < 0.05 ? max_p * 10 : max_p < 0.5 ? max_p * 2 : max_p;
	size_t *idx = NULL, k = 0, last = 0, start = 0, step = window / 2;
	struct changepoint *cps = NULL;

	*out = NULL;
	*nout = 0;
	if (window < 4 || window > DEFAULT_WINDOW * 64 || max_p >= 1 || min_change < 0 || min_seg < 1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return -1;
	if (n < 2 * min_seg)
		return 0;
	if (!(idx = malloc(n * sizeof(*idx))))
		return -1;
	/* Split: overlapping windows, each starting at the last point found or half a window on. */
	while (start < n) {
		size_t end = start + window < n ? start + window : n;

		last = 0;
		if (split_window(x, start, end, min_seg, weak_p, idx, &k, &last) < 0) {
			free(idx);
			return -1;
		}
		start = last > start + step ? last : start + step;
	}
	if (k && !(cps = malloc(k * sizeof(*cps)))) {
		free(idx);
		return -1;
	}
	judge_all(x, n, idx, k, cps);
	/* Merge: drop the weakest point (the least significant one while any fails max_p, else the smallest change
	 * while that is below min_change), judge its neighbours again against their new neighbours, and repeat. */
	while (k) {
		size_t w = 0;

		for (size_t i = 1; i < k; i++)
			if (cps[i].p > cps[w].p || isnan(cps[i].p))
				w = i;
		if (cps[w].p < max_p) {
			w = 0;
			for (size_t i = 1; i < k; i++)
				if (magnitude(&cps[i]) < magnitude(&cps[w]))
					w = i;
			if (magnitude(&cps[w]) >= min_change)
				break;
		}
		memmove(idx + w, idx + w + 1, (k - w - 1) * sizeof(*idx));
		k--;
		judge_all(x, n, idx, k, cps);
	}
	free(idx);
	if (!k) {
		free(cps);
		cps = NULL;
	}
	*out = cps;
	*nout = k;
	return 0;
}
