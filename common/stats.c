/* stats.c: statistics for comparisons and reports. The formulas are the
 * textbook ones (percentile bootstrap; Mann-Whitney U with its exact
 * permutation distribution or the tie-corrected normal approximation; Jain,
 * Chiu and Hawe's fairness index). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double stats_median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double stats_median_of(const double *v, size_t n)
{
	double *t = malloc((n ? n : 1) * sizeof(double)), m;

	if (!t)
		abort();
	memcpy(t, v, n * sizeof(double));
	m = stats_median(t, n);
	free(t);
	return m;
}

double stats_mean(const double *v, size_t n)
{
	double s = 0;

	if (n == 0)
		return NAN;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

double stats_cv(const double *v, size_t n)
{
	double m = stats_mean(v, n), ss = 0;

	if (n < 2 || m == 0 || isnan(m))
		return NAN;
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - m) * (v[i] - m);
	return sqrt(ss / (double)(n - 1)) / fabs(m);
}

/* splitmix64: a small, well-mixed PRNG; enough for resampling indices. */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double resampled_median(const double *v, size_t n, double *tmp, uint64_t *s)
{
	for (size_t i = 0; i < n; i++)
		tmp[i] = v[next_u64(s) % n];
	return stats_median(tmp, n);
}

/* The 2.5th and 97.5th percentiles of est[0..k) (linear interpolation). */
static struct stats_ci percentile_95(double *est, size_t k)
{
	struct stats_ci ci;
	double pos;
	size_t i;

	qsort(est, k, sizeof(*est), cmp_double);
	pos = 0.025 * (double)(k - 1);
	i = (size_t)pos;
	ci.lo = est[i] + (i + 1 < k ? (pos - (double)i) * (est[i + 1] - est[i]) : 0);
	pos = 0.975 * (double)(k - 1);
	i = (size_t)pos;
	ci.hi = est[i] + (i + 1 < k ? (pos - (double)i) * (est[i + 1] - est[i]) : 0);
	return ci;
}

struct stats_ci stats_bootstrap_median(const double *v, size_t n, int iters, uint64_t seed)
{
	return stats_bootstrap_ratio(v, n, NULL, 0, iters, seed);
}

struct stats_ci stats_bootstrap_ratio(const double *a, size_t na, const double *b, size_t nb, int iters,
				      uint64_t seed)
{
	struct stats_ci ci = { NAN, NAN };
	size_t k = 0;
	double *est, *tmp;

	if (na == 0 || (b && nb == 0) || iters < 2)
		return ci;
	est = malloc((size_t)iters * sizeof(*est));
	tmp = malloc((na > nb ? na : nb) * sizeof(*tmp));
	if (!est || !tmp) {
		free(est);
		free(tmp);
		return ci;
	}
	for (int it = 0; it < iters; it++) {
		double x = resampled_median(a, na, tmp, &seed);

		if (b) {
			double y = resampled_median(b, nb, tmp, &seed);

			if (y == 0)
				continue;
			x /= y;
		}
		est[k++] = x;
	}
	if (k >= 2)
		ci = percentile_95(est, k);
	free(est);
	free(tmp);
	return ci;
}

struct ranked {
	double v;
	int from_a;
};

static int cmp_ranked(const void *x, const void *y)
{
	return cmp_double(&((const struct ranked *)x)->v, &((const struct ranked *)y)->v);
}

/*
 * Number of arrangements of n1 + n2 items where the U statistic of the first
 * sample is <= u, over the total, by the classic recurrence
 * f(n1, n2, u) = f(n1 - 1, n2, u - n2) + f(n1, n2 - 1, u).
 */
static double exact_cdf(size_t n1, size_t n2, size_t u)
{
	size_t umax = n1 * n2;
	/* f[i][j][k] for i <= n1, j <= n2 rolled over i */
	double *prev = calloc((n2 + 1) * (umax + 1), sizeof(double));
	double *cur = calloc((n2 + 1) * (umax + 1), sizeof(double));
	double total = 0, below = 0;

	if (!prev || !cur) {
		free(prev);
		free(cur);
		return NAN;
	}
#define F(arr, j, k) arr[(j) * (umax + 1) + (k)]
	/* i = 0: only U = 0 is possible */
	for (size_t j = 0; j <= n2; j++)
		F(prev, j, 0) = 1;
	for (size_t i = 1; i <= n1; i++) {
		memset(cur, 0, (n2 + 1) * (umax + 1) * sizeof(double));
		for (size_t j = 0; j <= n2; j++)
			for (size_t k = 0; k <= i * j; k++) {
				double v = 0;

				/* the largest item is from the first sample: it beats all j others */
				if (k >= j)
					v += F(prev, j, k - j);
				/* or from the second sample */
				if (j > 0)
					v += F(cur, j - 1, k);
				F(cur, j, k) = v;
			}
		double *t = prev;

		prev = cur;
		cur = t;
	}
	for (size_t k = 0; k <= umax; k++) {
		total += F(prev, n2, k);
		if (k <= u)
			below += F(prev, n2, k);
	}
#undef F
	free(prev);
	free(cur);
	return below / total;
}

double stats_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb, enum stats_mwu_method m)
{
	size_t n = na + nb;
	struct ranked *r;
	double r1 = 0, tie_term = 0, u1, u2, p;
	int ties = 0;

	if (na == 0 || nb == 0)
		return NAN;
	r = malloc(n * sizeof(*r));
	if (!r)
		return NAN;
	for (size_t i = 0; i < na; i++)
		r[i] = (struct ranked){ a[i], 1 };
	for (size_t i = 0; i < nb; i++)
		r[na + i] = (struct ranked){ b[i], 0 };
	qsort(r, n, sizeof(*r), cmp_ranked);
	/* Average ranks over ties. */
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && r[j + 1].v == r[i].v)
			j++;
		double rank = ((double)i + (double)j) / 2.0 + 1.0, t = (double)(j - i + 1);

		if (t > 1) {
			ties = 1;
			tie_term += t * t * t - t;
		}
		for (size_t k = i; k <= j; k++)
			if (r[k].from_a)
				r1 += rank;
		i = j + 1;
	}
	free(r);
	u1 = r1 - (double)na * (double)(na + 1) / 2.0;
	u2 = (double)na * (double)nb - u1;
	if (m == MWU_AUTO)
		m = !ties && (na <= 8 || nb <= 8) ? MWU_EXACT : MWU_ASYMPTOTIC;
	if (m == MWU_EXACT) {
		double umin = u1 < u2 ? u1 : u2;

		p = 2.0 * exact_cdf(na, nb, (size_t)floor(umin));
	} else {
		double mu = (double)na * (double)nb / 2.0, nn = (double)n;
		double var = (double)na * (double)nb / 12.0 * ((nn + 1) - tie_term / (nn * (nn - 1)));
		double umax = u1 > u2 ? u1 : u2;

		if (var <= 0)
			return 1.0;
		double z = (umax - mu - 0.5) / sqrt(var);

		p = erfc(z / sqrt(2.0)); /* 2 * (1 - Phi(z)) */
	}
	return p > 1.0 ? 1.0 : p;
}

double stats_jain(const double *x, const double *w, size_t n)
{
	double s = 0, ss = 0;

	if (n == 0)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		double v = w ? (w[i] > 0 ? x[i] / w[i] : NAN) : x[i];

		s += v;
		ss += v * v;
	}
	if (ss == 0 || isnan(ss))
		return NAN;
	return s * s / ((double)n * ss);
}

double stats_scaling(const double *per_guest, size_t n, double alone)
{
	double s = 0;

	if (n == 0 || !(alone > 0))
		return NAN;
	for (size_t i = 0; i < n; i++)
		s += per_guest[i];
	return s / alone;
}

static int cmp_abs(const void *x, const void *y)
{
	double a = fabs(*(const double *)x), b = fabs(*(const double *)y);

	return (a > b) - (a < b);
}

/* P(W+ <= w) for n differences without ties: subsets of {1..n} whose sum is at most w, over 2^n. */
static double signed_rank_cdf(size_t n, double w)
{
	size_t top = n * (n + 1) / 2;
	double *cnt = calloc(top + 1, sizeof(double)), below = 0;

	if (!cnt)
		return NAN;
	cnt[0] = 1;
	for (size_t r = 1; r <= n; r++)
		for (size_t k = top; k >= r; k--)
			cnt[k] += cnt[k - r];
	for (size_t k = 0; k <= top && (double)k <= w; k++)
		below += cnt[k];
	free(cnt);
	return below / ldexp(1.0, (int)n);
}

double stats_wilcoxon_p(const double *d, size_t n, enum stats_mwu_method m)
{
	double *x = malloc((n ? n : 1) * sizeof(double)), r_plus = 0, r_minus = 0, tie_term = 0, p;
	size_t k = 0;
	int zeros = 0, ties = 0;

	if (!x)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == 0)
			zeros = 1;
		else if (!isnan(d[i]))
			x[k++] = d[i];
	}
	if (k == 0) {
		free(x);
		return NAN;
	}
	qsort(x, k, sizeof(double), cmp_abs);
	for (size_t i = 0; i < k;) {
		size_t j = i;

		while (j + 1 < k && fabs(x[j + 1]) == fabs(x[i]))
			j++;
		double rank = ((double)i + (double)j) / 2.0 + 1.0, t = (double)(j - i + 1);

		if (t > 1) {
			ties = 1;
			tie_term += t * (t * t - 1);
		}
		for (size_t q = i; q <= j; q++)
			*(x[q] > 0 ? &r_plus : &r_minus) += rank;
		i = j + 1;
	}
	free(x);
	if (m == MWU_AUTO)
		m = n <= 50 && !zeros && !ties ? MWU_EXACT : MWU_ASYMPTOTIC;
	double nn = (double)k, mn = nn * (nn + 1) / 4.0;

	if (m == MWU_EXACT) {
		/* The tail on r_plus's side, doubled. */
		p = r_plus > mn ? 1.0 - signed_rank_cdf(k, r_plus - 1) : signed_rank_cdf(k, r_plus);
		p *= 2.0;
	} else {
		double se = sqrt((nn * (nn + 1) * (2 * nn + 1) - 0.5 * tie_term) / 24.0);
		double t = r_plus < r_minus ? r_plus : r_minus;

		if (se <= 0)
			return 1.0;
		p = erfc(fabs((t - mn) / se) / sqrt(2.0));
	}
	return p > 1.0 ? 1.0 : p;
}

double stats_normal_quantile(double p)
{
	double lo = -40, hi = 40;

	if (!(p > 0 && p < 1))
		return NAN;
	/* Bisection on the CDF 0.5 * erfc(-x / sqrt 2): monotone, and 200 halvings are far below double precision. */
	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;

		if (0.5 * erfc(-mid / sqrt(2.0)) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

double stats_mwu_min_p(size_t na, size_t nb)
{
	double c = 1;

	for (size_t i = 1; i <= na; i++)
		c = c * (double)(nb + i) / (double)i;
	return 2.0 / c;
}

double stats_detectable_pct(double cv_a, size_t na, double cv_b, size_t nb, double alpha, double power)
{
	double z;

	if (isnan(cv_a) || isnan(cv_b) || na < 2 || nb < 2)
		return NAN;
	if (stats_mwu_min_p(na, nb) >= alpha)
		return INFINITY;
	z = stats_normal_quantile(1 - alpha / 2) + stats_normal_quantile(power);
	return 100.0 * z * sqrt(cv_a * cv_a / (double)na + cv_b * cv_b / (double)nb) / sqrt(STATS_MWU_ARE);
}

size_t stats_values_needed(double cv, double pct, double alpha, double power)
{
	double z, n;
	size_t floor_n = 2;

	if (isnan(cv) || !(pct > 0))
		return 0;
	while (stats_mwu_min_p(floor_n, floor_n) >= alpha && floor_n < 1000)
		floor_n++;
	z = stats_normal_quantile(1 - alpha / 2) + stats_normal_quantile(power);
	n = ceil(2.0 * (z * cv / (pct / 100.0)) * (z * cv / (pct / 100.0)) / STATS_MWU_ARE);
	return n < (double)floor_n ? floor_n : n > 1e6 ? 1000000 : (size_t)n;
}

/* The continued fraction of the regularized incomplete beta function I_x(a, b), by the modified Lentz method;
 * converges fast for x < (a + 1) / (a + b + 2). */
static double beta_fraction(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-15;
	double c = 1, d = 1 - (a + b) * x / (a + 1), f;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	f = d;
	for (int m = 1; m <= 300; m++) {
		/* the even step, then the odd one */
		double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)), delta;

		d = 1 + num * d;
		c = 1 + num / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		f *= d * c;
		num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
		d = 1 + num * d;
		c = 1 + num / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		delta = d * c;
		f *= delta;
		if (fabs(delta - 1) < eps)
			break;
	}
	return f;
}

double stats_beta_reg(double a, double b, double x)
{
	double front;

	if (!(a > 0 && b > 0) || !(x >= 0 && x <= 1))
		return NAN;
	if (x == 0 || x == 1)
		return x;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	/* I_x(a, b) = 1 - I_{1-x}(b, a): take the side where the fraction converges */
	if (x < (a + 1) / (a + b + 2))
		return front * beta_fraction(a, b, x) / a;
	return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

double stats_student_t_p(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(t))
		return 0;
	return stats_beta_reg(df / 2, 0.5, df / (df + t * t));
}

double stats_ttest_p(double mean_a, double sd_a, size_t na, double mean_b, double sd_b, size_t nb)
{
	double df = (double)na + (double)nb - 2, pooled, se;

	if (na < 1 || nb < 1 || df < 1)
		return NAN;
	pooled = ((double)(na - 1) * sd_a * sd_a + (double)(nb - 1) * sd_b * sd_b) / df;
	se = sqrt(pooled * (1.0 / (double)na + 1.0 / (double)nb));
	if (se == 0)
		return mean_a == mean_b ? 1 : 0;
	return stats_student_t_p((mean_a - mean_b) / se, df);
}
