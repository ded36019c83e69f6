/* copy_pool_test.c: the mediator's copy helpers (mediator/display/copy_pool.h): every
 * unit of a job copied exactly once whatever the pool's size and the job's,
 * small jobs kept in the caller, parts shared with the helper threads, many
 * jobs in a row (run under ASan and TSan by make test), and a clean stop. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "display/copy_pool.h"

struct job {
	const uint8_t *src;
	uint8_t *dst;
	_Atomic unsigned calls;
	pthread_t callers[COPY_POOL_MAX_THREADS + 1];
	_Atomic unsigned ncallers;
	_Atomic int overlap; /* a unit given twice */
	uint8_t *seen;
};

static void part(void *ctx, uint64_t b, uint64_t e)
{
	struct job *j = ctx;
	unsigned k = atomic_fetch_add(&j->ncallers, 1);

	if (k <= COPY_POOL_MAX_THREADS)
		j->callers[k] = pthread_self();
	atomic_fetch_add(&j->calls, 1);
	for (uint64_t i = b; i < e; i++) {
		if (j->seen[i])
			atomic_store(&j->overlap, 1);
		j->seen[i] = 1;
	}
	memcpy(j->dst + b, j->src + b, e - b);
}

/* Copy n bytes through the pool; 1 when every byte arrived once and only once. */
static int copy_once(struct copy_pool *p, const uint8_t *src, uint8_t *dst, uint64_t n, uint64_t min_part,
		     unsigned *calls)
{
	struct job j = {.src = src, .dst = dst};
	int ok;

	j.seen = calloc(n ? n : 1, 1);
	memset(dst, 0, n);
	copy_pool_run(p, part, &j, n, min_part);
	ok = !atomic_load(&j.overlap) && !memcmp(src, dst, n);
	for (uint64_t i = 0; i < n; i++)
		ok &= j.seen[i];
	*calls = atomic_load(&j.calls);
	free(j.seen);
	return ok;
}

int main(void)
{
	enum { N = 1 << 20 };
	uint8_t *src = malloc(N), *dst = malloc(N);
	struct copy_pool *p = NULL;
	unsigned calls;
	uint64_t jobs, split;

	for (int i = 0; i < N; i++)
		src[i] = (uint8_t)(i * 31 + 7);
	CHECK(copy_pool_start(&p, 0) == 0 && p == NULL && copy_pool_threads(p) == 0, "no helpers: no pool");
	CHECK(copy_once(NULL, src, dst, N, 4096, &calls) && calls == 1, "no pool: one call in the caller");
	CHECK(copy_pool_start(&p, COPY_POOL_MAX_THREADS + 1) < 0 && p == NULL, "too many helpers refused");

	CHECK(copy_pool_start(&p, 3) == 0 && copy_pool_threads(p) == 3, "three helpers");
	CHECK(copy_once(p, src, dst, N, 4096, &calls) && calls == 4, "a large job in four parts (%u)", calls);
	CHECK(copy_once(p, src, dst, 8191, 4096, &calls) && calls == 1, "under two parts' worth: the caller alone (%u)",
	      calls);
	CHECK(copy_once(p, src, dst, 3 * 4096, 4096, &calls) && calls == 3, "three parts' worth: three parts (%u)",
	      calls);
	CHECK(copy_once(p, src, dst, 0, 4096, &calls) && calls == 0, "nothing to copy: no call");
	/* odd sizes, every split */
	int ok = 1;

	srand(5);
	for (int k = 0; k < 300 && ok; k++) {
		uint64_t n = (uint64_t)(rand() % N) + 1, mp = (uint64_t)(rand() % 5000) + 1;

		ok = copy_once(p, src, dst, n, mp, &calls);
		if (!ok)
			CHECK(0, "%llu bytes in parts of %llu: a byte lost or copied twice", (unsigned long long)n,
			      (unsigned long long)mp);
	}
	CHECK(ok, "300 jobs of odd sizes: every byte once");
	/* the helpers do take parts (more than one thread seen over a few large jobs) */
	int others = 0;

	for (int k = 0; k < 50 && !others; k++) {
		struct job j = {.src = src, .dst = dst};

		j.seen = calloc(N, 1);
		copy_pool_run(p, part, &j, N, 1024);
		for (unsigned c = 0; c < atomic_load(&j.ncallers) && c <= COPY_POOL_MAX_THREADS; c++)
			others |= !pthread_equal(j.callers[c], pthread_self());
		free(j.seen);
	}
	CHECK(others, "helper threads took parts");
	copy_pool_counts(p, &jobs, &split);
	CHECK(jobs >= 300 && split > 0 && split < jobs, "jobs counted (%llu, %llu split)", (unsigned long long)jobs,
	      (unsigned long long)split);
	copy_pool_stop(p);
	copy_pool_stop(NULL);
	free(src);
	free(dst);
	return check_done("copy_pool");
}
