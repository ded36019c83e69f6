/* watchdog.c: the stuck-renderer watchdog (see the header). */
#include "sched/watchdog.h"

#include <string.h>

void watchdog_init(struct watchdog *w, uint64_t bound_ns)
{
	memset(w, 0, sizeof(*w));
	w->bound_ns = bound_ns;
}

int watchdog_check(struct watchdog *w, int have, uint32_t fence, uint64_t t0, uint64_t now)
{
	uint64_t age = now > t0 ? now - t0 : 0;

	if (w->tripped && (!have || fence != w->fence)) /* the stuck fence retired at last */
		w->tripped = 0;
	if (!have || !w->bound_ns)
		return 0;
	if (w->tripped) {
		w->stuck_ns = age;
		if (age > w->longest_ns)
			w->longest_ns = age;
		return 0;
	}
	if (age <= w->bound_ns || (fence == w->fence && w->since_ns == t0 && w->trips))
		return 0;
	w->tripped = 1;
	w->fence = fence;
	w->since_ns = t0;
	w->stuck_ns = age;
	w->trips++;
	if (age > w->longest_ns)
		w->longest_ns = age;
	return 1;
}

int watchdog_call(struct watchdog *w, uint64_t t0, uint64_t t1, int have, uint32_t fence, uint64_t fence_t0)
{
	uint64_t d = t1 > t0 ? t1 - t0 : 0;

	if (!w->bound_ns || d <= w->bound_ns)
		return 0;
	if (w->tripped && have && fence == w->fence) /* already tripped for the batch the call waited on */
		return 0;
	w->trips++;
	w->call_trips++;
	if (d > w->longest_ns)
		w->longest_ns = d;
	if (have) {
		w->tripped = 1;
		w->fence = fence;
		w->since_ns = fence_t0;
		w->stuck_ns = t1 > fence_t0 ? t1 - fence_t0 : 0;
	}
	return 1;
}

void watchdog_clear(struct watchdog *w)
{
	w->tripped = 0;
	w->stuck_ns = 0;
}
