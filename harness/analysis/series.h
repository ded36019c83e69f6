/* series.h: results read back from the database as series: every value of
 * one metric for one workload x config x guest count in one run (all guests,
 * all repetitions), with unit and direction; dom0's jobs alongside guests
 * form series of their own. Used by compare and report. */
#ifndef VGPUBENCH_SERIES_H
#define VGPUBENCH_SERIES_H

#include <stddef.h>
#include "store/store.h"

/* The bootstrap every interval of a run's series is drawn with (the report's, the verdict's), so that they agree. */
#define SERIES_BOOT_ITERS 2000
#define SERIES_BOOT_SEED 0x76677075ULL

struct series {
	char workload[64], config[32], metric[96], unit[16];
	int topology;
	int dom0; /* dom0's jobs run alongside the guests of this topology */
	int higher_is_better;
	double *v;
	size_t n;
};

struct series_set {
	struct series *s;
	size_t n;
};

/* Load every ok job's metrics of run, in the order they are shown (by workload; native, passthrough, mediated, the
 * peers: config_rank; guests; dom0 after; metric); 0 or -1. */
int series_load(struct store *st, const char *run, struct series_set *out);
void series_free(struct series_set *set);

/* The series with this key, or NULL. */
const struct series *series_find(const struct series_set *set, const char *workload, const char *config,
				 int topology, int dom0, const char *metric);

/* A guest series' per-guest medians, one value per guest index, into out (at most max). How many. */
size_t series_guest_medians(struct store *st, const char *run, const struct series *s, double *out, size_t max);

/* The previous complete run with the same plan name, before `run`; 0 or -1 if none. */
int series_previous_run(struct store *st, const char *run, char *out, size_t outlen);

#endif
