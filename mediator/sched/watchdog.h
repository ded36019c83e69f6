/* watchdog.h: the stuck-renderer watchdog of one vGPU. It watches the
 * vGPU's oldest unretired fence; one that stays unretired past the bound is a
 * trip (counted once per fence), reported with the fence and how long it has
 * been pending until it retires or the vGPU is reset. A renderer call that
 * lasts past the bound is a trip too, charged to the vGPU whose work it
 * waited on (main.c: the oldest batch in flight when it began, else the
 * caller): with one shared GL context (llvmpipe finishing a heavy draw
 * inside a call) the whole event loop, every vGPU, waited. Pure arithmetic on the
 * caller's clock; what to do on a trip is the caller's (main.c: report, or
 * quarantine the vGPU until its driver resets the device). */
#ifndef VGPU_WATCHDOG_H
#define VGPU_WATCHDOG_H

#include <stdint.h>

#define WATCHDOG_DEFAULT_MS 2000

struct watchdog {
	uint64_t bound_ns;   /* 0: off */
	int tripped;         /* the watched fence is past the bound */
	uint32_t fence;      /* the watched fence (the renderer's number) */
	uint64_t since_ns;   /* when it was submitted */
	uint64_t stuck_ns;   /* while tripped: how long it has been pending */
	uint64_t trips;      /* fences or calls that passed the bound */
	uint64_t call_trips; /* of which renderer calls that held the loop */
	uint64_t longest_ns; /* the longest a tripped fence was pending, or a tripped call lasted */
};

void watchdog_init(struct watchdog *w, uint64_t bound_ns);

/* At now, the vGPU's oldest unretired fence is `fence`, submitted at t0 (have = 0: none pending). Returns 1 when
 * that fence just passed the bound (a new trip), else 0. */
int watchdog_check(struct watchdog *w, int have, uint32_t fence, uint64_t t0, uint64_t now);

/* A renderer call charged to the vGPU ran from t0 to t1, waiting (have) on its batch `fence` submitted at
 * fence_t0. Returns 1 when it lasted past the bound (a trip); that fence, still unretired, is then the same trip. */
int watchdog_call(struct watchdog *w, uint64_t t0, uint64_t t1, int have, uint32_t fence, uint64_t fence_t0);

/* The vGPU was reset: nothing is watched any more (counters stay). */
void watchdog_clear(struct watchdog *w);

#endif
