/* copy_pool.h: the mediator's helper threads for large copies (a 1080p
 * frame's transfer from guest memory is 8 MB). The loop thread keeps the GL
 * context and every decision; a copy it starts is split into parts, and the
 * pool's threads take parts alongside the caller until none is left
 * (fork-join: the caller returns when every part is done, so nothing the copy
 * touches outlives the call, and no lock is held while copying).
 *
 * Contract:
 *   - copy_pool_run is called by one thread at a time (the loop); the parts
 *     it hands out must touch disjoint memory, and fn must not call back
 *     into the pool;
 *   - a pool of 0 threads (or a NULL pool) runs fn over the whole range in
 *     the caller: the same result, on one core;
 *   - threads are made by copy_pool_start only (before the sandbox forbids
 *     more than what llvmpipe needs) and joined by copy_pool_stop. */
#ifndef VGPU_COPY_POOL_H
#define VGPU_COPY_POOL_H

#include <stdint.h>

#define COPY_POOL_MAX_THREADS 15

struct copy_pool;

/* fn copies units [begin, end) of the job ctx describes. */
typedef void (*copy_part_fn)(void *ctx, uint64_t begin, uint64_t end);

/* A pool of `threads` helpers (0..COPY_POOL_MAX_THREADS). *out is NULL with 0. 0, or -1 (errno: none made). */
int copy_pool_start(struct copy_pool **out, unsigned threads);
void copy_pool_stop(struct copy_pool *p);
unsigned copy_pool_threads(const struct copy_pool *p);

/* Run fn over [0, units): in parts of at least min_part units, at most one a thread (the caller's included),
 * or whole in the caller when units < 2 * min_part. Returns once every part is done. */
void copy_pool_run(struct copy_pool *p, copy_part_fn fn, void *ctx, uint64_t units, uint64_t min_part);

/* Jobs run so far, and of them those split over more than one thread. */
void copy_pool_counts(const struct copy_pool *p, uint64_t *jobs, uint64_t *split);

#endif
