/* stage_hist.c: per-stage latency histograms (see the header). */
#include "stage_hist.h"

#include <math.h>
#include <string.h>

static const char *const names[STAGE_COUNT] = {
#define STAGE_NAME(e, name) [STAGE_##e] = name,
    STAGE_LIST(STAGE_NAME)
#undef STAGE_NAME
};

const char *stage_name(enum stage s)
{
	return (unsigned)s < STAGE_COUNT ? names[s] : "?";
}

int stage_from_name(const char *name)
{
	for (int i = 0; i < STAGE_COUNT; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

unsigned stage_bucket(uint64_t ns)
{
	unsigned e;

	if (ns < 1024)
		return 0;
	e = 63u - (unsigned)__builtin_clzll(ns);
	if (e >= 40)
		return STAGE_BUCKETS - 1;
	return 1 + (e - 10) * 4 + (unsigned)((ns >> (e - 2)) & 3);
}

uint64_t stage_bucket_upper(unsigned i)
{
	unsigned e, sub;

	if (i == 0)
		return 1024;
	if (i >= STAGE_BUCKETS - 1)
		return UINT64_MAX;
	e = 10 + (i - 1) / 4;
	sub = (i - 1) % 4;
	return (uint64_t)(5 + sub) << (e - 2);
}

void stage_record(struct stage_hist *h, uint64_t ns)
{
	h->count++;
	h->total_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->b[stage_bucket(ns)]++;
}

uint64_t stage_percentile(const struct stage_hist *h, double p)
{
	uint64_t rank, seen = 0;

	if (!h->count || !(p > 0))
		return 0;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned i = 0; i < STAGE_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t up = stage_bucket_upper(i);

			return h->max_ns && h->max_ns < up ? h->max_ns : up;
		}
	}
	return h->max_ns;
}

void stage_hist_add(struct stage_hist *a, const struct stage_hist *b)
{
	a->count += b->count;
	a->total_ns += b->total_ns;
	if (b->max_ns > a->max_ns)
		a->max_ns = b->max_ns;
	for (unsigned i = 0; i < STAGE_BUCKETS; i++)
		a->b[i] += b->b[i];
}

int stage_hist_sub(const struct stage_hist *after, const struct stage_hist *before, struct stage_hist *d)
{
	memset(d, 0, sizeof(*d));
	if (after->count < before->count || after->total_ns < before->total_ns)
		return -1;
	for (unsigned i = 0; i < STAGE_BUCKETS; i++) {
		if (after->b[i] < before->b[i]) {
			memset(d, 0, sizeof(*d));
			return -1;
		}
		d->b[i] = after->b[i] - before->b[i];
	}
	d->count = after->count - before->count;
	d->total_ns = after->total_ns - before->total_ns;
	d->max_ns = d->count ? after->max_ns : 0;
	return 0;
}
