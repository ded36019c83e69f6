/* series_gen.h: generated nightly series for the change-point tests and tools/changepoint_rates.c: a level of
 * 100 with normal noise of a given CV, from a fixed seed (so every run sees the same series), and a step at a
 * given night. */
#ifndef VGPUBENCH_SERIES_GEN_H
#define VGPUBENCH_SERIES_GEN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* A deterministic normal deviate (xorshift64* and Box-Muller). */
static inline double gen_normal(uint64_t *s)
{
	double u[2];

	for (int i = 0; i < 2; i++) {
		*s ^= *s >> 12;
		*s ^= *s << 25;
		*s ^= *s >> 27;
		u[i] = ((double)((*s * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
	}
	return sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]);
}

/* x[0..n): level 100 with noise of CV cv (a fraction); from night `at` on (at >= n: never), the level times
 * (1 + step). */
static inline void gen_series(double *x, size_t n, double cv, size_t at, double step, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;

	for (size_t i = 0; i < n; i++)
		x[i] = 100 * (i >= at ? 1 + step : 1) * (1 + cv * gen_normal(&s));
}

/* Like gen_series, but each night is `reps` values (night i's at x[i * reps ..]) around a night's level that itself
 * varies by boot_cv (a boot, a page cache, where the vCPUs landed: what every value of the night shares): level 100
 * times (1 + boot_cv * b) times (1 + cv * e) for each value. */
static inline void gen_nights(double *x, size_t n, size_t reps, double cv, double boot_cv, size_t at, double step,
			      uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 7;

	for (size_t i = 0; i < n; i++) {
		double night = 100 * (i >= at ? 1 + step : 1) * (1 + boot_cv * gen_normal(&s));

		for (size_t r = 0; r < reps; r++)
			x[i * reps + r] = night * (1 + cv * gen_normal(&s));
	}
}

#endif
