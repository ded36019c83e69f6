/* boots.h: a row's spread between boots (a plan's [noise] boots spread its repetitions over several boots of its
 * guests): each boot's median, how far apart they lie, and a boot far from the others (an outlier), named with what
 * the host noise sampler saw over its jobs against the other boots'. */
#ifndef VGPUBENCH_BOOTS_H
#define VGPUBENCH_BOOTS_H

#include <stddef.h>

#include "plan/plan.h"
#include "store/store.h"

/* An outlier lies at least this far (percent) from the median of the other boots, and three times as far as those
 * lie from each other. */
#define BOOTS_OUTLIER_PCT 10.0

struct boot_spread {
	int n; /* boots with values (0 or 1: nothing to say) */
	int boot[PLAN_MAX_BOOTS];
	double median[PLAN_MAX_BOOTS];
	double apart_pct; /* (highest - lowest boot median) / the row's median, in percent */
	int outlier;      /* index into boot[] of the outlier, -1 for none (fewer than 3 boots: none can be told) */
	double outlier_pct; /* its median against the others' median, in percent */
	struct boot_noise noise, others; /* over its jobs, and over the other boots' (jobs 0: nothing measured) */
};

/* The spread of a row's metric over its boots in run. 0, or -1 (the store said why). */
int boots_spread(struct store *s, const char *run, const char *config, int topology, int dom0, const char *workload,
		 const char *metric, struct boot_spread *out);

/* The spread in words into out: "1: 307.2, 2: 509.8, 3: 539.7 (45.6% apart); boot 1 is an outlier, 41.5% below the
 * others (steal 0.0%, load 1.90 -> 2.10; the others' 0.0%, 1.20 -> 1.25)". */
void boots_text(const struct boot_spread *b, char *out, size_t len);

#endif
