/* boots.c: a row's spread between boots (boots.h), from its values with their boots and the host noise of each
 * boot's jobs. */
#define _GNU_SOURCE
#include "analysis/boots.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* Each boot's median of v (values with their boots), into b. */
static void medians(struct boot_spread *b, const double *v, const int *boot, size_t n, double *scratch)
{
	for (int k = 1; k <= PLAN_MAX_BOOTS; k++) {
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (boot[i] == k)
				scratch[m++] = v[i];
		if (!m)
			continue;
		b->boot[b->n] = k;
		b->median[b->n++] = stats_median(scratch, m);
	}
}

/* The boot furthest from the median of the others, if far enough: BOOTS_OUTLIER_PCT, and three times the others'
 * own spread. */
static void find_outlier(struct boot_spread *b)
{
	double others[PLAN_MAX_BOOTS], best = 0;

	b->outlier = -1;
	if (b->n < 3)
		return;
	for (int i = 0; i < b->n; i++) {
		double lo = INFINITY, hi = -INFINITY, mid, dev;
		int m = 0;

		for (int j = 0; j < b->n; j++)
			if (j != i) {
				others[m++] = b->median[j];
				lo = b->median[j] < lo ? b->median[j] : lo;
				hi = b->median[j] > hi ? b->median[j] : hi;
			}
		mid = stats_median(others, (size_t)m);
		if (!(mid > 0))
			continue;
		dev = 100 * (b->median[i] / mid - 1);
		if (fabs(dev) >= BOOTS_OUTLIER_PCT && fabs(dev) >= 3 * 100 * (hi - lo) / mid &&
		    fabs(dev) > fabs(best)) {
			best = dev;
			b->outlier = i;
			b->outlier_pct = dev;
		}
	}
}

/* The noise of the outlier's boot and the mean of the others' (over their jobs), from the row's noise by boot. */
static void noise_of(struct boot_spread *b, const struct boot_noise *bn, size_t n)
{
	size_t steal_n = 0, load_n = 0;

	memset(&b->noise, 0, sizeof(b->noise));
	memset(&b->others, 0, sizeof(b->others));
	for (size_t i = 0; i < n; i++) {
		if (bn[i].boot == b->boot[b->outlier]) {
			b->noise = bn[i];
			continue;
		}
		b->others.jobs += bn[i].jobs;
		b->others.redos += bn[i].redos;
		if (isfinite(bn[i].steal_pct)) {
			b->others.steal_pct += bn[i].steal_pct;
			steal_n++;
		}
		if (isfinite(bn[i].load_before) && isfinite(bn[i].load_after)) {
			b->others.load_before += bn[i].load_before;
			b->others.load_after += bn[i].load_after;
			load_n++;
		}
	}
	b->others.steal_pct = steal_n ? b->others.steal_pct / (double)steal_n : NAN;
	b->others.load_before = load_n ? b->others.load_before / (double)load_n : NAN;
	b->others.load_after = load_n ? b->others.load_after / (double)load_n : NAN;
}

int boots_spread(struct store *s, const char *run, const char *config, int topology, int dom0, const char *workload,
		 const char *metric, struct boot_spread *out)
{
	double *v = NULL, *scratch = NULL, lo = INFINITY, hi = -INFINITY, med;
	int *boot = NULL, rc = -1;
	struct boot_noise *bn = NULL;
	size_t n = 0, nb = 0;

	memset(out, 0, sizeof(*out));
	out->outlier = -1;
	if (store_row_boot_values(s, run, config, topology, dom0, workload, metric, &v, &boot, &n) < 0)
		return -1;
	if (!n) {
		rc = 0;
		goto out;
	}
	if (!(scratch = malloc(n * sizeof(*scratch))))
		goto out;
	medians(out, v, boot, n, scratch);
	rc = 0;
	if (out->n < 2)
		goto out;
	for (int i = 0; i < out->n; i++) {
		lo = out->median[i] < lo ? out->median[i] : lo;
		hi = out->median[i] > hi ? out->median[i] : hi;
	}
	memcpy(scratch, v, n * sizeof(*v));
	med = stats_median(scratch, n);
	out->apart_pct = med > 0 ? 100 * (hi - lo) / med : NAN;
	find_outlier(out);
	if (out->outlier >= 0) {
		if (store_row_boot_noise(s, run, config, topology, dom0, workload, &bn, &nb) < 0)
			rc = -1;
		else
			noise_of(out, bn, nb);
	}
out:
	free(v);
	free(boot);
	free(scratch);
	free(bn);
	return rc;
}

/* A boot's noise in words: "steal 0.0%, load 1.90 -> 2.10" ("nothing measured" when its jobs had no sample). */
static void noise_text(const struct boot_noise *n, char *out, size_t len)
{
	char steal[32] = "", load[64] = "";

	if (isfinite(n->steal_pct))
		snprintf(steal, sizeof(steal), "steal %.1f%%", n->steal_pct);
	if (isfinite(n->load_before) && isfinite(n->load_after))
		snprintf(load, sizeof(load), "%sload %.2f -> %.2f", steal[0] ? ", " : "", n->load_before,
			 n->load_after);
	if (!n->jobs || (!steal[0] && !load[0]))
		snprintf(out, len, "nothing measured");
	else
		snprintf(out, len, "%s%s%s", steal, load, n->redos ? ", repetitions run again" : "");
}

void boots_text(const struct boot_spread *b, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < b->n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%d: %.1f", i ? ", " : "", b->boot[i], b->median[i]);
	if (b->n >= 2 && used < len)
		used += (size_t)snprintf(out + used, len - used, " (%.1f%% apart)", b->apart_pct);
	if (b->outlier >= 0 && used < len) {
		char mine[96], theirs[96];

		noise_text(&b->noise, mine, sizeof(mine));
		noise_text(&b->others, theirs, sizeof(theirs));
		snprintf(out + used, len - used, "; boot %d is an outlier, %.1f%% %s the others (%s; the others': %s)",
			 b->boot[b->outlier], fabs(b->outlier_pct), b->outlier_pct < 0 ? "below" : "above", mine,
			 theirs);
	}
}
