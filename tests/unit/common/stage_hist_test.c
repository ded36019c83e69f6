/* stage_hist_test.c: the mediator's per-stage histograms (common/stage_hist.h):
 * bucket edges, percentiles against the exact ones of known samples (never
 * under, at most 25% over), the names from the stage list, and the
 * difference of two snapshots (and its refusal across a reset). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stage_hist.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The exact p-th percentile the way stage_percentile ranks: the ceil(p/100 * n)-th smallest. */
static uint64_t exact(uint64_t *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);

	qsort(v, n, sizeof(*v), cmp_u64);
	return v[(rank ? rank : 1) - 1];
}

static void test_buckets(void)
{
	CHECK(stage_bucket(0) == 0 && stage_bucket(1023) == 0 && stage_bucket_upper(0) == 1024, "below 1 us: bucket 0");
	CHECK(stage_bucket(1024) == 1 && stage_bucket(1279) == 1 && stage_bucket(1280) == 2,
	      "1024..1279 is bucket 1, 1280 starts bucket 2");
	CHECK(stage_bucket_upper(1) == 1280 && stage_bucket_upper(4) == 2048 && stage_bucket(2048) == 5,
	      "four buckets a power of two");
	CHECK(stage_bucket((1ull << 40) - 1) == STAGE_BUCKETS - 2 && stage_bucket(1ull << 40) == STAGE_BUCKETS - 1 &&
		  stage_bucket(UINT64_MAX) == STAGE_BUCKETS - 1 && stage_bucket_upper(STAGE_BUCKETS - 1) == UINT64_MAX,
	      "from 2^40 ns on: the last bucket");
	/* every value lies below its bucket's upper edge and at or above the previous one's, and no bucket is more
	 * than 25% wide */
	int ok = 1;

	for (uint64_t v = 1; v < (1ull << 40); v = v * 3 / 2 + 7) {
		unsigned b = stage_bucket(v);
		uint64_t up = stage_bucket_upper(b), lo = b ? stage_bucket_upper(b - 1) : 0;

		ok &= v < up && v >= lo && (b == 0 || (double)up <= 1.25 * (double)lo + 1);
	}
	CHECK(ok, "each value within its bucket's edges, buckets at most 25%% wide");
}

static void test_percentiles(void)
{
	struct stage_hist h = {0};
	uint64_t *v = malloc(10000 * sizeof(*v)), e;
	int ok = 1;

	CHECK(stage_percentile(&h, 50) == 0, "an empty histogram: 0");
	srand(7);
	for (int i = 0; i < 10000; i++) {
		/* a skewed mix: most around 20 us, a tail to 5 ms */
		v[i] = i % 100 == 0 ? 1000000 + (uint64_t)(rand() % 4000000) : 15000 + (uint64_t)(rand() % 10000);
		stage_record(&h, v[i]);
	}
	CHECK(h.count == 10000, "counted");
	const double ps[] = {1, 50, 90, 99, 99.9, 100};

	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		uint64_t got = stage_percentile(&h, ps[k]);

		e = exact(v, 10000, ps[k]);
		ok &= got >= e && (double)got <= 1.25 * (double)e + 1;
		if (!ok) {
			CHECK(0, "p%g: %llu against the exact %llu", ps[k], (unsigned long long)got,
			      (unsigned long long)e);
			break;
		}
	}
	CHECK(ok, "p1..p100 within [exact, exact + 25%%]");
	CHECK(stage_percentile(&h, 100) == h.max_ns, "p100 is the largest value recorded");
	free(v);

	struct stage_hist one = {0};

	stage_record(&one, 5000);
	CHECK(stage_percentile(&one, 50) == 5000 && stage_percentile(&one, 99) == 5000,
	      "a single value: its bucket capped at the max, so exact");
}

static void test_delta(void)
{
	struct stage_hist a = {0}, b, d, sum = {0};

	for (int i = 0; i < 100; i++)
		stage_record(&a, 2000);
	b = a;
	for (int i = 0; i < 10; i++)
		stage_record(&b, 3000000);
	CHECK(stage_hist_sub(&b, &a, &d) == 0 && d.count == 10 && d.total_ns == 30000000 &&
		  stage_percentile(&d, 50) >= 3000000 && stage_percentile(&d, 50) <= 3750000,
	      "the difference holds only what came between: 10 of 3 ms (p50 %llu)",
	      (unsigned long long)stage_percentile(&d, 50));
	CHECK(stage_hist_sub(&a, &b, &d) < 0 && d.count == 0, "a count that went down (a reset between) is refused");
	stage_hist_add(&sum, &a);
	stage_hist_add(&sum, &b);
	CHECK(sum.count == 210 && sum.max_ns == 3000000 && sum.b[stage_bucket(2000)] == 200, "summed bucket by bucket");
	CHECK(stage_hist_sub(&a, &a, &d) == 0 && d.count == 0 && d.max_ns == 0 && stage_percentile(&d, 99) == 0,
	      "no change: an empty difference");
}

static void test_names(void)
{
	CHECK(STAGE_COUNT == 6, "six stages");
	CHECK(!strcmp(stage_name(STAGE_KICK_WAIT), "kick_wait") &&
		  !strcmp(stage_name(STAGE_DISPLAY_SEND), "display_send"),
	      "names from the list");
	for (int i = 0; i < STAGE_COUNT; i++)
		CHECK(stage_from_name(stage_name((enum stage)i)) == i, "stage %d round-trips its name", i);
	CHECK(stage_from_name("nonsense") == -1 && !strcmp(stage_name(STAGE_COUNT), "?"), "unknown names");
}

int main(void)
{
	test_buckets();
	test_percentiles();
	test_delta();
	test_names();
	return check_done("stage_hist");
}
