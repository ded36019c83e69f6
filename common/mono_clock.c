/* mono_clock.c: CLOCK_MONOTONIC in nanoseconds and milliseconds (mono_clock.h). */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "mono_clock.h"

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t mono_ms(void)
{
	return (int64_t)(mono_ns() / 1000000u);
}
