/* stats_test.c: the statistics against reference values computed outside
 * the project (tests/fixtures/stats/reference.txt, from SciPy/NumPy), plus
 * properties of the bootstrap, Jain's index and scaling efficiency. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "stats.h"
#include "util.h"

static size_t parse_list(char *s, double *out, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(s, ", ", &save); t && n < max; t = strtok_r(NULL, ", ", &save))
		out[n++] = strtod(t, NULL);
	return n;
}

static int close_to(double got, double want)
{
	return fabs(got - want) <= 1e-9 + 1e-7 * fabs(want);
}

/* The values of tests/fixtures/stats/reference.txt, computed with SciPy: how many were checked. */
static int check_references(char *text)
{
	int checked = 0;

	for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char kind[16], method[16], *fields[3] = { 0 };
		double a[64], b[64], want;
		size_t na, nb, nf = 0;

		if (line[0] == '#' || sscanf(line, "%15s", kind) != 1)
			continue;
		char *rest = line + strlen(kind) + 1;

		if (strcmp(kind, "mwu") == 0 || strcmp(kind, "wilcoxon") == 0) {
			if (sscanf(rest, "%15s", method) != 1)
				continue;
			rest += strlen(method) + 1;
		}
		for (char *save2 = NULL, *f = strtok_r(rest, ";", &save2); f && nf < 3; f = strtok_r(NULL, ";", &save2))
			fields[nf++] = f;
		if (strcmp(kind, "mwu") == 0 && nf == 3) {
			na = parse_list(fields[0], a, 64);
			nb = parse_list(fields[1], b, 64);
			want = strtod(fields[2], NULL);
			double got = stats_mann_whitney_p(a, na, b, nb,
							  strcmp(method, "exact") == 0 ? MWU_EXACT : MWU_ASYMPTOTIC);

			CHECK(close_to(got, want), "mwu %s (n=%zu,%zu): got %.12g want %.12g", method, na, nb, got, want);
			checked++;
		} else if (strcmp(kind, "wilcoxon") == 0 && nf == 2) {
			na = parse_list(fields[0], a, 64);
			want = strtod(fields[1], NULL);
			double got = stats_wilcoxon_p(a, na, strcmp(method, "exact") == 0 ? MWU_EXACT : MWU_ASYMPTOTIC);

			CHECK(close_to(got, want), "wilcoxon %s (n=%zu): got %.12g want %.12g", method, na, got, want);
			checked++;
		} else if (nf == 2) {
			na = parse_list(fields[0], a, 64);
			want = strtod(fields[1], NULL);
			double got = NAN;

			if (strcmp(kind, "median") == 0)
				got = stats_median(a, na);
			else if (strcmp(kind, "cv") == 0)
				got = stats_cv(a, na);
			else if (strcmp(kind, "jain") == 0)
				got = stats_jain(a, NULL, na);
			CHECK(close_to(got, want), "%s (n=%zu): got %.12g want %.12g", kind, na, got, want);
			checked++;
		}
	}
	return checked;
}

int main(void)
{
	char *text = vb_read_file("tests/fixtures/stats/reference.txt", NULL);
	int checked;

	CHECK(text != NULL, "reference fixture");
	checked = check_references(text);
	free(text);
	CHECK(checked >= 25, "only %d reference values checked", checked);

	/* The signed-rank test's own choice: exact without zeros or ties, the approximation otherwise. */
	{
		double d8[] = { -0.052, -0.031, -0.047, -0.012, -0.066, 0.004, -0.039, -0.021 };
		double tied[] = { 1.0, -1.0, 2.0, 2.0, -3.0, 4.0, 4.0, 4.0, -5.0, 6.0 }, zero[] = { 0, 0 };

		CHECK(close_to(stats_wilcoxon_p(d8, 8, MWU_AUTO), 0.015625), "wilcoxon auto: exact for 8 distinct");
		CHECK(close_to(stats_wilcoxon_p(tied, 10, MWU_AUTO), 0.21946693041), "wilcoxon auto: ties, approximation");
		CHECK(isnan(stats_wilcoxon_p(zero, 2, MWU_AUTO)) && isnan(stats_wilcoxon_p(zero, 0, MWU_AUTO)),
		      "no difference left: no p");
	}
	/* MWU_AUTO follows SciPy's rule: exact without ties and a small sample. */
	double x[] = { 209, 212, 205 }, y[] = { 190, 188, 193 };

	CHECK(close_to(stats_mann_whitney_p(x, 3, y, 3, MWU_AUTO), 0.1), "auto picks exact for 3 vs 3");
	CHECK(stats_mann_whitney_p(x, 3, y, 3, MWU_AUTO) == stats_mann_whitney_p(y, 3, x, 3, MWU_AUTO),
	      "two-sided p is symmetric");
	CHECK(stats_mann_whitney_p(x, 3, x, 3, MWU_AUTO) >= 0.99, "identical samples: p ~ 1");
	CHECK(isnan(stats_mann_whitney_p(x, 0, y, 3, MWU_AUTO)), "empty sample: NAN");

	/* Bootstrap: deterministic for a seed, brackets the median, narrows with agreement. */
	double v[] = { 90, 95, 92, 94, 91, 93, 96, 89, 97, 88 }, tight[] = { 92, 92.1, 91.9, 92, 92.05, 91.95 };
	struct stats_ci c1 = stats_bootstrap_median(v, 10, 2000, 42), c2 = stats_bootstrap_median(v, 10, 2000, 42);
	struct stats_ci ct = stats_bootstrap_median(tight, 6, 2000, 42);

	CHECK(c1.lo == c2.lo && c1.hi == c2.hi, "same seed, same interval");
	CHECK(c1.lo <= 92.5 && c1.hi >= 92.5 && c1.lo >= 88 && c1.hi <= 97, "CI [%g, %g] brackets the median 92.5",
	      c1.lo, c1.hi);
	CHECK(ct.hi - ct.lo < c1.hi - c1.lo, "agreeing samples give a narrower interval");
	double nat[] = { 850, 852, 848, 851 }, med[] = { 765, 767, 763, 766 };
	struct stats_ci r = stats_bootstrap_ratio(med, 4, nat, 4, 2000, 7);

	CHECK(r.lo <= 0.9 && r.hi >= 0.9 && r.lo > 0.88 && r.hi < 0.92, "ratio CI [%g, %g] around 0.90", r.lo, r.hi);
	CHECK(isnan(stats_bootstrap_median(v, 0, 100, 1).lo), "empty sample: no interval");

	/* Jain with weights: throughput proportional to weight is perfectly fair. */
	double tp[] = { 100, 200, 300 }, w[] = { 1, 2, 3 };

	CHECK(close_to(stats_jain(tp, w, 3), 1.0), "weighted Jain");
	CHECK(close_to(stats_jain(tp, NULL, 3), 36.0 / 42.0), "unweighted Jain (600^2 / (3 * 140000))");
	CHECK(isnan(stats_jain(tp, NULL, 0)), "Jain of nothing");
	/* Scaling efficiency: three guests at 90 each vs 209 alone. */
	double g3[] = { 90, 90, 90 };

	CHECK(close_to(stats_scaling(g3, 3, 209), 270.0 / 209.0), "scaling efficiency");
	CHECK(isnan(stats_scaling(g3, 3, 0)), "scaling with no baseline");
	CHECK(isnan(stats_cv(v, 1)), "cv needs two values");

	/* The normal quantile, and the detectable change (by hand: z = 1.959964 + 0.841621 = 2.801585). */
	CHECK(fabs(stats_normal_quantile(0.975) - 1.959963985) < 1e-8, "z(0.975) %.9f", stats_normal_quantile(0.975));
	CHECK(fabs(stats_normal_quantile(0.8) - 0.841621234) < 1e-8, "z(0.8)");
	CHECK(fabs(stats_normal_quantile(0.5)) < 1e-12 && isnan(stats_normal_quantile(0)) &&
		      isnan(stats_normal_quantile(1)),
	      "z(0.5) = 0; 0 and 1 have none");
	/* CV 7%, 5 values a side: 2.801585 * sqrt(2 * 0.0049 / 5) / sqrt(3 / pi) = 12.69% */
	CHECK(fabs(stats_detectable_pct(0.07, 5, 0.07, 5, 0.05, 0.8) - 12.6926) < 0.001, "CV 7%%, n 5: %.4f%%",
	      stats_detectable_pct(0.07, 5, 0.07, 5, 0.05, 0.8));
	CHECK(isinf(stats_detectable_pct(0.01, 3, 0.01, 3, 0.05, 0.8)), "3 a side can never reach p < 0.05: none");
	CHECK(isnan(stats_detectable_pct(NAN, 5, 0.07, 5, 0.05, 0.8)), "an unknown CV: unknown");
	/* To see 5% at CV 7%: 2 * (2.801585 * 0.07 / 0.05)^2 / 0.954930 = 32.2 -> 33 a side */
	CHECK(stats_values_needed(0.07, 5, 0.05, 0.8) == 33, "33 values a side see 5%% at CV 7%% (%zu)",
	      stats_values_needed(0.07, 5, 0.05, 0.8));
	CHECK(stats_values_needed(0.001, 5, 0.05, 0.8) == 4, "never fewer than the exact test needs (4)");
	CHECK(fabs(stats_mwu_min_p(4, 4) - 2.0 / 70) < 1e-12 && fabs(stats_mwu_min_p(3, 3) - 0.1) < 1e-12,
	      "the exact test's smallest p: 4+4 2/70, 3+3 0.1");
	return check_done("stats");
}
