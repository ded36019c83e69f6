/* stats.h: the small statistics the harness prints itself (the full set,
 * bootstrap intervals and tests, belongs to the compare/report issue). */
#ifndef VGPUBENCH_STATS_H
#define VGPUBENCH_STATS_H

#include <stddef.h>

/* Median of v[0..n) (v is reordered). NAN when n == 0. */
double stats_median(double *v, size_t n);

#endif
