/* changepoint_rates.c: what the change-point defaults catch and what they make up, measured on generated series
 * (level 100, normal noise of a given CV, a fixed seed per series): the share of series with a step of S% at
 * night N/2 in which a change point is found within 3 nights of the step, the change points elsewhere, and the
 * change points per 100 nights of series without a change. make bench-changepoints runs it at the CVs measured
 * here; --after A puts the step A nights before the end (the night a nightly run would have to see it).
 * With --reps M each night is M values around a night's level that varies by --boot-cv (gen_nights), and the
 * series' points are either each night's median (--points median, what trends uses) or every value (--points
 * values, a side then needing M times as many points). Usage: changepoint-rates [--cv PCT] [--step PCT]
 * [--nights N] [--after A] [--series K] [--window W] [--p P] [--reps M --boot-cv PCT --points median|values]. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/changepoint.h"
#include "series_gen.h"
#include "stats.h"

/* The series' points: the values as generated, or each night's median of its reps values (in place). */
static size_t points(double *x, size_t nights, size_t reps, int medians)
{
	if (!reps)
		return nights;
	if (!medians)
		return nights * reps;
	for (size_t i = 0; i < nights; i++)
		x[i] = stats_median(x + i * reps, reps);
	return nights;
}

/* One series of the run: generated with its step at night `at` (at >= nights: none), as points; their count. */
static size_t make(double *x, size_t nights, size_t reps, double cv, double boot_cv, size_t at, double step,
		   uint64_t seed, int medians)
{
	if (!reps) {
		gen_series(x, nights, cv, at, step, seed);
		return nights;
	}
	gen_nights(x, nights, reps, cv, boot_cv, at, step, seed);
	return points(x, nights, reps, medians);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "cv", required_argument, NULL, 'c' },
					      { "step", required_argument, NULL, 's' },
					      { "nights", required_argument, NULL, 'n' },
					      { "series", required_argument, NULL, 'k' },
					      { "window", required_argument, NULL, 'w' },
					      { "p", required_argument, NULL, 'p' },
					      { "after", required_argument, NULL, 'a' },
					      { "reps", required_argument, NULL, 'r' },
					      { "boot-cv", required_argument, NULL, 'b' },
					      { "points", required_argument, NULL, 'm' },
					      { NULL, 0, NULL, 0 } };
	double cv = 2, step = 5, boot_cv = 0;
	size_t nights = 60, nseries = 1000, found = 0, elsewhere = 0, false_points = 0, after = 0, reps = 0;
	int medians = 1;
	struct changepoint_opts o = { 0 };
	struct timespec t0, t1;
	double *x;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cv = atof(optarg);
			break;
		case 's':
			step = atof(optarg);
			break;
		case 'n':
			nights = (size_t)atol(optarg);
			break;
		case 'k':
			nseries = (size_t)atol(optarg);
			break;
		case 'w':
			o.window = (size_t)atol(optarg);
			break;
		case 'p':
			o.max_p = atof(optarg);
			break;
		case 'a':
			after = (size_t)atol(optarg);
			break;
		case 'r':
			reps = (size_t)atol(optarg);
			break;
		case 'b':
			boot_cv = atof(optarg);
			break;
		case 'm':
			if (strcmp(optarg, "median") != 0 && strcmp(optarg, "values") != 0)
				return 2;
			medians = !strcmp(optarg, "median");
			break;
		default:
			return 2;
		}
	}
	if (!after)
		after = nights / 2;
	if (nights < 8 || nights > 100000 || nseries < 1 || after >= nights || reps > 1000 ||
	    !(x = malloc(nights * (reps ? reps : 1) * sizeof(*x))))
		return 2;
	/* Values as points: a night is `reps` points, and a side still at least 3 nights. */
	size_t per = reps && !medians ? reps : 1;

	if (per > 1)
		o.min_segment = 3 * per;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t seed = 1; seed <= nseries; seed++) {
		struct changepoint *c;
		size_t k, at = nights - after, n;
		int hit = 0;

		n = make(x, nights, reps, cv / 100, boot_cv / 100, at, step / 100, seed, medians);
		if (changepoints_find(x, n, &o, &c, &k) < 0)
			return 1;
		for (size_t i = 0; i < k; i++) {
			size_t night = c[i].index / per;
			int near = night + 3 >= at && night <= at + 3;

			hit |= near;
			elsewhere += !near;
		}
		found += hit;
		free(c);
		n = make(x, nights, reps, cv / 100, boot_cv / 100, nights, 0, seed + 1000000, medians);
		if (changepoints_find(x, n, &o, &c, &k) < 0)
			return 1;
		false_points += k;
		free(c);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (reps)
		printf("%zu values a night at CV %.1f%%, nights at CV %.1f%%, points: %s; ", reps, cv, boot_cv,
		       medians ? "each night's median" : "every value");
	printf("CV %.1f%%, a %+.1f%% step at night %zu of %zu, %zu series each: found within 3 nights of it in %.1f%%; "
	       "%zu change points elsewhere; without a change: %.2f change points per 100 nights (%.2f s for %zu "
	       "series)\n",
	       cv, step, nights - after, nights, nseries, 100.0 * (double)found / (double)nseries, elsewhere,
	       100.0 * (double)false_points / (double)(nseries * nights),
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, 2 * nseries);
	free(x);
	return 0;
}
