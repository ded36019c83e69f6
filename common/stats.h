/* stats.h: the statistics of comparisons and reports (docs/design.md, "Metrics"):
 * median, bootstrap intervals, coefficient of variation, Mann-Whitney U,
 * Student's t, Jain's fairness index and scaling efficiency. */
#ifndef VGPUBENCH_STATS_H
#define VGPUBENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Median of v[0..n) (v is reordered). NAN when n == 0. */
double stats_median(double *v, size_t n);
/* The same, v left as it is (a copy is sorted; abort() without memory for it). */
double stats_median_of(const double *v, size_t n);

/* Arithmetic mean; NAN when n == 0. */
double stats_mean(const double *v, size_t n);

/* Coefficient of variation: sample standard deviation / mean. NAN when n < 2 or mean == 0. */
double stats_cv(const double *v, size_t n);

struct stats_ci {
	double lo, hi;
};

/*
 * Percentile bootstrap 95% interval of the median of v, with `iters`
 * resamples from a PRNG seeded with `seed` (so a report is reproducible).
 * {NAN, NAN} when n == 0.
 */
struct stats_ci stats_bootstrap_median(const double *v, size_t n, int iters, uint64_t seed);

/* The same for median(a) / median(b), resampling a and b independently. */
struct stats_ci stats_bootstrap_ratio(const double *a, size_t na, const double *b, size_t nb, int iters,
				      uint64_t seed);

enum stats_mwu_method { MWU_AUTO, MWU_EXACT, MWU_ASYMPTOTIC };

/*
 * Two-sided Mann-Whitney U test p-value. MWU_EXACT counts the permutation
 * distribution (valid without ties); MWU_ASYMPTOTIC is the normal
 * approximation with tie and continuity corrections; MWU_AUTO takes the exact
 * one when there are no ties and either sample has at most 8 values (SciPy's
 * rule). NAN when a sample is empty.
 */
double stats_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb, enum stats_mwu_method m);

/*
 * Two-sided Wilcoxon signed-rank test p-value of the paired differences d
 * (SciPy's wilcoxon with zero_method "wilcox", no continuity correction):
 * zero differences are dropped; MWU_EXACT counts the distribution of the
 * positive rank sum (valid without ties or zeros); MWU_ASYMPTOTIC is the
 * normal approximation with the tie correction; MWU_AUTO takes the exact one
 * when there are at most 50 differences, none zero and no ties among their
 * sizes. NAN when no difference is left.
 */
double stats_wilcoxon_p(const double *d, size_t n, enum stats_mwu_method m);

/* The regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1 (NAN otherwise). */
double stats_beta_reg(double a, double b, double x);

/* The two-sided p-value of Student's t statistic t with df degrees of freedom (df > 0; NAN otherwise). */
double stats_student_t_p(double t, double df);

/*
 * Two-sided two-sample Student's t-test with pooled variance from each sample's mean, sample standard deviation
 * (n - 1 in the denominator) and size (SciPy's ttest_ind_from_stats with equal_var). NAN when na + nb < 3; with
 * no spread at all, 1 for equal means and 0 for different ones.
 */
double stats_ttest_p(double mean_a, double sd_a, size_t na, double mean_b, double sd_b, size_t nb);

/* The standard normal quantile: x with P(Z <= x) = p, for 0 < p < 1 (NAN otherwise). */
double stats_normal_quantile(double p);

/* Mann-Whitney's asymptotic relative efficiency against the t-test on normal data (3/π): it needs about 1/0.955
 * times the values to detect the same shift. */
#define STATS_MWU_ARE 0.954929658551372

/*
 * The smallest change, in percent of the median, that a two-sided
 * Mann-Whitney test at level alpha detects with probability `power`
 * between na and nb values whose coefficients of variation are cv_a and
 * cv_b: (z(1 - alpha/2) + z(power)) * sqrt(cv_a²/na + cv_b²/nb) / sqrt(ARE),
 * the normal sample-size formula with the efficiency above. INFINITY when
 * the exact test can never reach alpha with so few values; NAN when a CV is
 * unknown (fewer than 2 values).
 */
double stats_detectable_pct(double cv_a, size_t na, double cv_b, size_t nb, double alpha, double power);

/* Values per side that the same formula needs to detect pct% at coefficient of variation cv (at least what the
 * exact test needs to reach alpha at all). 0 when cv is unknown. */
size_t stats_values_needed(double cv, double pct, double alpha, double power);

/* Smallest two-sided p-value the exact Mann-Whitney test can give with na and nb values. */
double stats_mwu_min_p(size_t na, size_t nb);

/* Jain's index (Σx)² / (n·Σx²) of x[i] / w[i] (w may be NULL: all weights 1). NAN if undefined. */
double stats_jain(const double *x, const double *w, size_t n);

/* Scaling efficiency: Σ throughput with n guests ÷ throughput of one guest alone. */
double stats_scaling(const double *per_guest, size_t n, double alone);

#endif
