/* copy_pool.c: helper threads that share large copies with the loop thread
 * (see the header). One job at a time: its parts are handed out under one
 * mutex, copied with it released, and the caller waits for the last. */
#define _GNU_SOURCE
#include "display/copy_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct copy_pool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	pthread_t th[COPY_POOL_MAX_THREADS];
	unsigned n;
	int stop;
	/* the job in progress (under mu) */
	copy_part_fn fn;
	void *ctx;
	uint64_t units;
	unsigned parts, next, finished;
	/* the caller's own counts */
	uint64_t jobs, split;
};

static void part_range(uint64_t units, unsigned parts, unsigned i, uint64_t *b, uint64_t *e)
{
	*b = units / parts * i + (units % parts) * i / parts;
	*e = units / parts * (i + 1) + (units % parts) * (i + 1) / parts;
}

/* Take and copy parts of the current job until none is left; called and returns with mu held. */
static void take_parts(struct copy_pool *p)
{
	while (p->next < p->parts) {
		unsigned i = p->next++, parts = p->parts;
		copy_part_fn fn = p->fn;
		void *ctx = p->ctx;
		uint64_t units = p->units, b, e;

		pthread_mutex_unlock(&p->mu);
		part_range(units, parts, i, &b, &e);
		fn(ctx, b, e);
		pthread_mutex_lock(&p->mu);
		if (++p->finished == p->parts)
			pthread_cond_signal(&p->done);
	}
}

static void *worker(void *arg)
{
	struct copy_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->next >= p->parts)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		take_parts(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int copy_pool_start(struct copy_pool **out, unsigned threads)
{
	struct copy_pool *p;

	*out = NULL;
	if (threads == 0)
		return 0;
	if (threads > COPY_POOL_MAX_THREADS) {
		errno = EINVAL;
		return -1;
	}
	if (!(p = calloc(1, sizeof(*p))))
		return -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (; p->n < threads; p->n++) {
		int e = pthread_create(&p->th[p->n], NULL, worker, p);

		if (e) {
			copy_pool_stop(p);
			errno = e;
			return -1;
		}
	}
	*out = p;
	return 0;
}

void copy_pool_stop(struct copy_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

unsigned copy_pool_threads(const struct copy_pool *p)
{
	return p ? p->n : 0;
}

void copy_pool_run(struct copy_pool *p, copy_part_fn fn, void *ctx, uint64_t units, uint64_t min_part)
{
	uint64_t parts;

	if (min_part == 0)
		min_part = 1;
	if (!p || !p->n || units < 2 * min_part) {
		if (p)
			p->jobs++;
		if (units)
			fn(ctx, 0, units);
		return;
	}
	parts = units / min_part;
	if (parts > p->n + 1)
		parts = p->n + 1;
	pthread_mutex_lock(&p->mu);
	p->jobs++;
	p->split++;
	p->fn = fn;
	p->ctx = ctx;
	p->units = units;
	p->parts = (unsigned)parts;
	p->next = 0;
	p->finished = 0;
	pthread_cond_broadcast(&p->work);
	take_parts(p);
	while (p->finished < p->parts)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void copy_pool_counts(const struct copy_pool *p, uint64_t *jobs, uint64_t *split)
{
	*jobs = p ? p->jobs : 0;
	*split = p ? p->split : 0;
}
