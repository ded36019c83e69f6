/* stage_hist.h: where a vGPU's time goes, stage by stage. One histogram per
 * stage of a command's way through the mediator, kept per vGPU and read over
 * the control socket:
 *   kick_wait     a kick (or a vtest client's message) seen to its queue served
 *   check         decoding, bounds and ownership checks, ID translation, the
 *                 copies from guest memory: a command's time in the mediator
 *                 less its renderer calls and display sends
 *   render        renderer calls of one command (submits, transfers)
 *   fence         a fenced batch from its submission to its fence seen retired
 *   readback      a display update's read-back from the renderer (3D scanouts)
 *   display_send  a display update sent to the front-end
 * With one loop thread there is no queue between the check and the renderer:
 * a command reaches the renderer as soon as it is checked.
 *
 * Buckets are log-linear: below 1024 ns one bucket, then four a power of two
 * (each at most 25% wide), up to 2^40 ns (about 18 minutes; longer lands in
 * the last). A percentile is the upper edge of the bucket it falls in, so it
 * overstates by at most 25%. Counts only grow: the difference of two snapshots
 * is the histogram of what happened between them (stage_hist_sub).
 * Pure arithmetic, no clock. */
#ifndef VGPU_STAGE_HIST_H
#define VGPU_STAGE_HIST_H

#include <stdint.h>

/* X(enum suffix, name on the control socket) */
#define STAGE_LIST(X)                                                                                                  \
	X(KICK_WAIT, "kick_wait")                                                                                      \
	X(CHECK, "check")                                                                                              \
	X(RENDER, "render")                                                                                            \
	X(FENCE, "fence")                                                                                              \
	X(READBACK, "readback")                                                                                        \
	X(DISPLAY_SEND, "display_send")

enum stage {
#define STAGE_ENUM(e, name) STAGE_##e,
	STAGE_LIST(STAGE_ENUM)
#undef STAGE_ENUM
	    STAGE_COUNT
};

#define STAGE_BUCKETS 122 /* 1 below 2^10 ns, 4 for each power of two 2^10 .. 2^39, 1 from 2^40 on */

struct stage_hist {
	uint64_t count;
	uint64_t total_ns;
	uint64_t max_ns;
	uint64_t b[STAGE_BUCKETS];
};

const char *stage_name(enum stage s);
/* The stage named name, or -1. */
int stage_from_name(const char *name);

void stage_record(struct stage_hist *h, uint64_t ns);
/* The bucket ns falls in, and the upper edge of bucket i (ns; UINT64_MAX for the last). */
unsigned stage_bucket(uint64_t ns);
uint64_t stage_bucket_upper(unsigned i);
/* The p-th percentile (0 < p <= 100) in ns: the upper edge of its bucket, the largest recorded value at most
 * (max_ns, when known). 0 for an empty histogram. */
uint64_t stage_percentile(const struct stage_hist *h, double p);
/* a += b (counts and totals; the larger max). */
void stage_hist_add(struct stage_hist *a, const struct stage_hist *b);
/* d = after - before, bucket by bucket. -1 (d cleared) when before is not an earlier state of after (a count went
 * down: the vGPU was reset in between). max_ns is after's: what a difference cannot know. */
int stage_hist_sub(const struct stage_hist *after, const struct stage_hist *before, struct stage_hist *d);

#endif
