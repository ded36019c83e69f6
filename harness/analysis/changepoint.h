/* changepoint.h: where a series of nightly values changed level, in the manner of E-Divisive means as Hunter
 * (Fleming et al., ICPE 2023) and Apache Otava run it: the series cut into overlapping windows; in each, the split
 * that makes the two sides most unlike (Matteson and James's energy divergence, alpha 1) kept while a t-test of
 * the two sides says it is significant at a relaxed level; then the weak points merged away, weakest first,
 * until every one left passes the real level and the smallest change worth saying. docs/trends.md says what was
 * kept from Otava and what was changed. */
#ifndef VGPUBENCH_CHANGEPOINT_H
#define VGPUBENCH_CHANGEPOINT_H

#include <stddef.h>

/* A change point: the series is one level before index and another from index on. */
struct changepoint {
	size_t index;                  /* the first point of the new level */
	size_t n_before, n_after;      /* the points of the segments on either side (to the neighbouring points) */
	double mean_before, mean_after; /* their means, and */
	double sd_before, sd_after;     /* sample standard deviations */
	double p;                      /* two-sided Student's t-test of the two segments */
	double change_pct;             /* mean_after / mean_before - 1, in percent */
};

struct changepoint_opts {
	size_t window;         /* points per window (0: 30); windows overlap by half */
	double max_p;          /* the significance a change point must reach (0: 0.001) */
	double min_change_pct; /* the smallest change worth reporting, in percent either way (0: any) */
	size_t min_segment;    /* the fewest points on either side of a change point (0: 3): a bad night is no level */
};

/*
 * The change points of x[0..n) in index order, into *out (malloc'd; NULL when there are none) and *nout. Values
 * must be finite (a missing night is left out by the caller, not passed as NAN). 0, or -1 on bad input (NAN, an
 * option out of range).
 */
int changepoints_find(const double *x, size_t n, const struct changepoint_opts *o, struct changepoint **out,
		      size_t *nout);

#endif
