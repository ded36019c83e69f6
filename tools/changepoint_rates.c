/* changepoint_rates.c: what the change-point defaults catch and what they make up, measured on generated series
 * (level 100, normal noise of a given CV, a fixed seed per series): the share of series with a step of S% at
 * night N/2 in which a change point is found within 3 nights of the step, the change points elsewhere, and the
 * change points per 100 nights of series without a change. make bench-changepoints runs it at the CVs measured
 * here; --after A puts the step A nights before the end (the night a nightly run would have to see it). Usage:
 * changepoint-rates [--cv PCT] [--step PCT] [--nights N] [--after A] [--series K] [--window W] [--p P]. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "analysis/changepoint.h"
#include "series_gen.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "cv", required_argument, NULL, 'c' },
					      { "step", required_argument, NULL, 's' },
					      { "nights", required_argument, NULL, 'n' },
					      { "series", required_argument, NULL, 'k' },
					      { "window", required_argument, NULL, 'w' },
					      { "p", required_argument, NULL, 'p' },
					      { "after", required_argument, NULL, 'a' },
					      { NULL, 0, NULL, 0 } };
	double cv = 2, step = 5;
	size_t nights = 60, nseries = 1000, found = 0, elsewhere = 0, false_points = 0, after = 0;
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
		default:
			return 2;
		}
	}
	if (!after)
		after = nights / 2;
	if (nights < 8 || nights > 100000 || nseries < 1 || after >= nights || !(x = malloc(nights * sizeof(*x))))
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t seed = 1; seed <= nseries; seed++) {
		struct changepoint *c;
		size_t k, at = nights - after;
		int hit = 0;

		gen_series(x, nights, cv / 100, at, step / 100, seed);
		if (changepoints_find(x, nights, &o, &c, &k) < 0)
			return 1;
		for (size_t i = 0; i < k; i++) {
			int near = c[i].index + 3 >= at && c[i].index <= at + 3;

			hit |= near;
			elsewhere += !near;
		}
		found += hit;
		free(c);
		gen_series(x, nights, cv / 100, nights, 0, seed + 1000000);
		if (changepoints_find(x, nights, &o, &c, &k) < 0)
			return 1;
		false_points += k;
		free(c);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("CV %.1f%%, a %+.1f%% step at night %zu of %zu, %zu series each: found within 3 nights of it in %.1f%%; "
	       "%zu change points elsewhere; without a change: %.2f change points per 100 nights (%.2f s for %zu "
	       "series)\n",
	       cv, step, nights - after, nights, nseries, 100.0 * (double)found / (double)nseries, elsewhere,
	       100.0 * (double)false_points / (double)(nseries * nights),
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, 2 * nseries);
	free(x);
	return 0;
}
