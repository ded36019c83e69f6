/* mono_clock.h: the monotonic clock every part of the tree reads (the mediator, its workers, the guest agent,
 * the harness), in nanoseconds or milliseconds since an arbitrary start. */
#ifndef VGPU_MONO_CLOCK_H
#define VGPU_MONO_CLOCK_H
#include <stdint.h>

/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t mono_ns(void);

/* CLOCK_MONOTONIC now, in milliseconds (signed: deadlines are subtracted from it). */
int64_t mono_ms(void);

#endif
