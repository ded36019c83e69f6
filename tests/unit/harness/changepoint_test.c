/* changepoint_test.c: change points (harness/analysis/changepoint.c) on generated series with known changes: a
 * level with noise at a given CV (a fixed seed each, so every run sees the same series), with steps of 2%, 5% and
 * 10%, two steps, a slow drift, a single bad night and no change at all; Student's t against known values; the
 * change points an independent implementation with NumPy and SciPy found in fixed series
 * (tests/fixtures/changepoints/reference.txt, made by tools/changepoint_reference.py); and bad input refused. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "analysis/changepoint.h"
#include "series_gen.h"
#include "stats.h"
#include "util.h"

/* How many change points x has, with the first's index in *first. */
static size_t count(const double *x, size_t n, const struct changepoint_opts *o, size_t *first, double *pct)
{
	struct changepoint *c;
	size_t k;

	if (changepoints_find(x, n, o, &c, &k) < 0)
		return (size_t)-1;
	if (k && first)
		*first = c[0].index;
	if (k && pct)
		*pct = c[0].change_pct;
	free(c);
	return k;
}

static void test_student_t(void)
{
	CHECK(fabs(stats_student_t_p(2.228138852, 10) - 0.05) < 1e-6, "t 2.228 with 10 df: p 0.05 (%g)",
	      stats_student_t_p(2.228138852, 10));
	CHECK(fabs(stats_student_t_p(1.0, 1) - 0.5) < 1e-9, "t 1 with 1 df: p 0.5");
	CHECK(fabs(stats_beta_reg(2, 3, 0.4) - 0.5248) < 1e-9, "I_0.4(2, 3) = 0.5248 (%.10f)",
	      stats_beta_reg(2, 3, 0.4));
	/* SciPy: ttest_ind_from_stats(10, 1, 5, 11, 1, 5) = (-1.5811, 0.15250) */
	CHECK(fabs(stats_ttest_p(10, 1, 5, 11, 1, 5) - 0.152502) < 1e-5, "a two-sample t-test: p %.6f",
	      stats_ttest_p(10, 1, 5, 11, 1, 5));
	CHECK(stats_ttest_p(5, 0, 4, 5, 0, 4) == 1 && stats_ttest_p(5, 0, 4, 6, 0, 4) == 0,
	      "no spread: equal means p 1, different p 0");
	CHECK(isnan(stats_ttest_p(1, 0, 1, 2, 0, 1)) && isnan(stats_student_t_p(1, 0)), "no degree of freedom: NAN");
}

static void test_steps(void)
{
	double x[100];
	size_t first = 0, near = 0, extra = 0;
	double pct = 0;

	/* A 5% step at night 40 of 80, at the CV of one-guest mediated glmark2 here (about 2%). */
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct changepoint *c;
		size_t k;
		int hit = 0;

		gen_series(x, 80, 0.02, 40, 0.05, seed);
		if (changepoints_find(x, 80, NULL, &c, &k) < 0)
			continue;
		for (size_t i = 0; i < k; i++) {
			int at_step = c[i].index >= 38 && c[i].index <= 42 && c[i].change_pct > 3 &&
				      c[i].change_pct < 7;

			hit |= at_step;
			extra += !at_step;
		}
		near += hit;
		free(c);
	}
	CHECK(near >= 19 && extra <= 2,
	      "a 5%% step at 2%% CV: found at the step (+-2 nights, +3 to +7%%) in %zu of 20 series, %zu other points",
	      near, extra);

	gen_series(x, 60, 0.01, 30, -0.10, 7);
	CHECK(count(x, 60, NULL, &first, &pct) == 1 && first == 30 && pct < -8 && pct > -12,
	      "a 10%% drop at 1%% CV: found at night 30 (%zu), %.1f%%", first, pct);

	/* Two steps: +10% at 20, back down 10% at 45. */
	gen_series(x, 70, 0.01, 20, 0.10, 3);
	for (size_t i = 45; i < 70; i++)
		x[i] /= 1.10;
	{
		struct changepoint *c;
		size_t k;

		CHECK(changepoints_find(x, 70, NULL, &c, &k) == 0 && k == 2 && c[0].index == 20 && c[1].index == 45 &&
			      c[0].change_pct > 0 && c[1].change_pct < 0 && c[0].p < 0.001 && c[1].p < 0.001,
		      "two steps, up at 20 and down at 45: %zu found (%zu, %zu)", k, k > 0 ? c[0].index : 0,
		      k > 1 ? c[1].index : 0);
		free(c);
	}
	/* A step smaller than min_change_pct is not reported. */
	gen_series(x, 60, 0.002, 30, 0.02, 11);
	CHECK(count(x, 60, NULL, NULL, NULL) == 1, "a 2%% step at 0.2%% CV is found");
	CHECK(count(x, 60, &(struct changepoint_opts){ .min_change_pct = 5 }, NULL, NULL) == 0,
	      "and dropped when the smallest change worth saying is 5%%");
}

static void test_no_change(void)
{
	double x[100];
	size_t false_points = 0, nights = 0;

	for (uint64_t seed = 100; seed < 130; seed++) {
		gen_series(x, 100, 0.02, 100, 0, seed);
		false_points += count(x, 100, NULL, NULL, NULL);
		nights += 100;
	}
	CHECK(false_points * 100 <= nights, "no change: %zu change points in %zu nights (at most 1 per 100)",
	      false_points, nights);
	/* One bad night (30% down) in a steady series: no level changed. */
	gen_series(x, 60, 0.02, 60, 0, 5);
	x[30] *= 0.7;
	CHECK(count(x, 60, NULL, NULL, NULL) == 0, "a single bad night is no change point");
	/* A constant series, and one too short to split. */
	for (size_t i = 0; i < 20; i++)
		x[i] = 42;
	CHECK(count(x, 20, NULL, NULL, NULL) == 0, "a constant series: none");
	CHECK(count(x, 5, NULL, NULL, NULL) == 0 && count(x, 0, NULL, NULL, NULL) == 0, "5 nights, none: none");
}

static void test_bad_input(void)
{
	double x[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, NAN };
	struct changepoint *c = (struct changepoint *)1;
	size_t k = 99;

	CHECK(changepoints_find(x, 10, NULL, &c, &k) < 0 && !c && k == 0, "a NAN value: refused");
	x[9] = INFINITY;
	CHECK(changepoints_find(x, 10, NULL, &c, &k) < 0, "an infinite value: refused");
	x[9] = 10;
	CHECK(changepoints_find(x, 10, &(struct changepoint_opts){ .window = 2 }, &c, &k) < 0, "a 2-point window");
	CHECK(changepoints_find(x, 10, &(struct changepoint_opts){ .max_p = 1.5 }, &c, &k) < 0, "a p above 1");
	CHECK(changepoints_find(x, 10, &(struct changepoint_opts){ .min_change_pct = -1 }, &c, &k) < 0,
	      "a negative smallest change");
}

/* a and b agree to a relative 1e-9 (means) or rel (p-values down to 1e-300; both not numbers counts as equal). */
static int agree(double a, double b, double rel)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) || (fabs(a) < 1e-300 && fabs(b) < 1e-300);
}

/* One fixture series: its values and the reference's change points against ours. 1 when they all agree. */
static int check_series(const char *name, const double *x, size_t n, double min_change,
			const double (*ref)[4], size_t nref)
{
	struct changepoint_opts o = { .min_change_pct = min_change };
	struct changepoint *c;
	size_t k;
	int ok;

	if (changepoints_find(x, n, &o, &c, &k) < 0)
		return 0;
	ok = k == nref;
	for (size_t i = 0; ok && i < k; i++)
		ok = c[i].index == (size_t)ref[i][0] && agree(c[i].mean_before, ref[i][1], 1e-9) &&
		     agree(c[i].mean_after, ref[i][2], 1e-9) && agree(c[i].p, ref[i][3], 1e-6);
	CHECK(ok, "%s: %zu change points (the reference: %zu)%s%zu %.10g %.10g p %.6g / %.0f %.10g %.10g p %.6g", name,
	      k, nref, ": first ", k ? c[0].index : 0, k ? c[0].mean_before : 0, k ? c[0].mean_after : 0,
	      k ? c[0].p : 0,
	      nref ? ref[0][0] : 0, nref ? ref[0][1] : 0, nref ? ref[0][2] : 0, nref ? ref[0][3] : 0);
	free(c);
	return ok;
}

static void test_reference(void)
{
	char *text = vb_read_file("tests/fixtures/changepoints/reference.txt", NULL), *save = NULL, *line;
	char name[64] = "";
	double *x = NULL, ref[16][4], min_change = 0;
	size_t n = 0, nref = 0, series = 0, points = 0;

	CHECK(text != NULL, "the reference fixture");
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "series ", 7)) {
			CHECK(sscanf(line, "series %63s %zu %lf", name, &n, &min_change) == 3 && n > 0 && n < 10000,
			      "a series line: %s", line);
			free(x);
			x = calloc(n ? n : 1, sizeof(*x));
			nref = 0;
		} else if (!strncmp(line, "values ", 7) && x) {
			char *p = line + 7, *end;
			size_t i = 0;

			while (i < n && (x[i] = strtod(p, &end), end != p)) {
				p = end;
				i++;
			}
			CHECK(i == n, "%s: %zu values of %zu", name, i, n);
		} else if (!strncmp(line, "cp ", 3) && nref < 16) {
			CHECK(sscanf(line, "cp %lf %lf %lf %lf", &ref[nref][0], &ref[nref][1], &ref[nref][2],
				     &ref[nref][3]) == 4,
			      "a change point line: %s", line);
			nref++;
		} else if (!strcmp(line, "end") && x) {
			check_series(name, x, n, min_change, (const double(*)[4])ref, nref);
			series++;
			points += nref;
		}
	}
	CHECK(series >= 15 && points >= 10, "the reference holds %zu series and %zu change points", series, points);
	free(x);
	free(text);
}

int main(void)
{
	test_student_t();
	test_steps();
	test_no_change();
	test_reference();
	test_bad_input();
	return check_done("changepoint");
}
