/* gpu_sched.h: the mediator's GPU scheduler: how much renderer time each vGPU
 * used, which vGPU the one renderer serves next, and the policy that shares
 * it. Pure arithmetic over times the caller passes in (monotonic
 * nanoseconds): no clock, no I/O, no allocation, so every rule is tested
 * against hand-computed cases (tests/unit/mediator/gpu_sched_test.c).
 *
 * GPU time. The renderer is one in-order timeline, as an engine is for
 * GVT-g (time from schedule-in to schedule-out):
 *  - a fenced batch is in flight from its submission (the fence's creation)
 *    until the renderer reports its fence retired; the batch that retires is
 *    charged from max(its submission, the end of what was charged before) to
 *    the moment the retirement is seen. Batches seen retiring together share
 *    the interval: each stretch goes in equal parts to the batches submitted
 *    by then (the order inside one poll is not observable);
 *  - a renderer call (command decode, transfers, 2D copies) made while no
 *    batch is in flight is charged to its vGPU; made while one is in flight,
 *    it overlaps that batch on another core and is counted as overlap, not
 *    charged, so the charged times never add up to more than wall time.
 * Limits: retirement is seen at the caller's poll (1 ms tick in the
 * mediator), so a batch's end is late by up to one poll; a renderer that
 * runs batches of several vGPUs in parallel is charged as if in order.
 *
 * Render workers on a software renderer (charge_cpu): each vGPU renders in a
 * process of its own, and the renderer is the CPUs. What a vGPU costs is then
 * the CPU time its worker used (every thread of it: Mesa's rasterizer
 * threads too), plus the broker's own CPU time in calls made for it, as the
 * caller measures them (sched_charge_cpu); fences and call times charge
 * nothing. The renderer can give `capacity` ns of such time per ns of wall
 * time (the CPUs it may run on), so a share is of period x capacity: three
 * vGPUs under equal share on two CPUs get 2/3 of a CPU each, and three that
 * need less than that each are never held. (On a render node, workers keep
 * their fence timelines, and a capacity of 1: a GPU's engine time per
 * context is not seen from here.)
 *
 * Policies (one list, SCHED_POLICY_LIST in common/sched_policy.h):
 *  - best-effort: work-conserving round-robin, a time slice per turn;
 *  - equal-share: each present vGPU (front-end connected) may use 1/n of
 *    every period, busy or not the others;
 *  - fixed-share: weight / sum of the weights of every configured vGPU,
 *    connected or not;
 *  - equal-share-wc, fixed-share-wc: the same shares, work-conserving: a
 *    vGPU whose budget is spent is served anyway while no other vGPU with
 *    budget left wants the GPU (work waiting, or batches of its own in
 *    flight), and held as soon as one does: a share nobody uses goes to
 *    those with work (Xen's credit scheduler runs an OVER domain only when
 *    no UNDER one is runnable; this is that rule);
 *  - sla: vGPUs with a frame-rate target are served first and never held;
 *    the others share a cap that shrinks while a target that wants the GPU
 *    (work waiting, or 5% of the last step's time used) misses over the last
 *    second, and grows back while every such target is met with margin
 *    (VGRIS's SLA-aware scheduling). A target drawing a blinking cursor is
 *    not missing its target.
 * A share is enforced per period (100 ms, or 10 time slices if longer, times
 * the capacity): a vGPU whose budget is spent is held until the next period;
 * an overrun is carried into the next period as debt (at most two periods'),
 * unused budget is not carried. A share of 1 or more is never held.
 *
 * Throttle (vgpu-mediator --throttle PCT; the known slowdown `vgpubench
 * calibrate` injects): the renderer is withheld PCT% of its busy time, as if
 * it were PCT% slower. Every nanosecond charged to any vGPU owes PCT/(100-PCT)
 * ns of pause; the caller stops serving while a pause is due, lets the
 * batches in flight retire (so the pause itself is never charged), then
 * sleeps it. Service time t becomes t / (1 - PCT/100): a row bound by the
 * renderer loses PCT% of its throughput, one bound elsewhere less. Time
 * charged against a capacity of N counts 1/N (N CPUs busy for t is t of the
 * renderer's wall time). */
#ifndef VGPU_GPU_SCHED_H
#define VGPU_GPU_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "sched_policy.h"

#define SCHED_MAX_VGPUS 64
#define SCHED_MIN_PERIOD_NS 100000000ull /* 100 ms */
#define SCHED_BUCKET_NS 100000000ull     /* frame counts are kept in 100 ms buckets */
#define SCHED_BUCKETS 10                 /* ... ten of them: the last second */
#define SCHED_SLA_STEP_BUCKETS 5         /* the SLA cap is revised every 500 ms */
#define SCHED_SLA_MIN_CAP 0.02
#define SCHED_SLA_BUSY 0.05 /* a target using this much of a step's time wants the GPU */
#define SCHED_MAX_THROTTLE 90                 /* percent */
#define SCHED_THROTTLE_MIN_NS 1000000ull      /* a pause shorter than 1 ms is not due yet */
#define SCHED_THROTTLE_MAX_NS 200000000ull    /* one pause is at most 200 ms; the rest stays owed */
#define SCHED_MAX_CAPACITY 1024              /* CPUs */

struct sched_vgpu {
	/* Set by the caller (sched_vgpu_add, sched_set_*, sched_present). */
	int configured;    /* the slot exists: counts for fixed share */
	int present;       /* a front-end is connected: counts for equal share and sla */
	unsigned weight;   /* fixed share weight, 1..SCHED_MAX_WEIGHT */
	double target_fps; /* sla target, 0 for none */
	int busy;          /* batches of its own are in flight (set by the caller): it is using its share */

	/* Accounting, for the caller to read. */
	uint64_t gpu_ns;       /* renderer time charged (sync_ns + async_ns) */
	uint64_t sync_ns;      /* ... from renderer calls made while nothing was in flight (charge_cpu: the broker's CPU) */
	uint64_t async_ns;     /* ... from batches in flight (charge_cpu: its worker's CPU) */
	uint64_t overlap_ns;   /* renderer-call time not charged: a batch was in flight meanwhile */
	uint64_t batches;      /* fenced batches retired */
	uint64_t turns;        /* turns it was served */
	uint64_t queued_ns;    /* from having work (a kick) to the start of its turn */
	uint64_t throttled_ns; /* the part of queued_ns the policy held it back */
	uint64_t throttles;    /* times it was held back */
	uint64_t spare_turns;  /* turns served past its share, work-conserving: nobody with budget wanted the GPU */
	uint64_t frames;       /* frames shown (flushes) */
	uint64_t windows, windows_met; /* active one-second windows, and those that met target_fps */
	double fps_last_s;     /* frames in the last whole second */

	/* The scheduler's own. */
	int unlimited;    /* no share applies this period */
	int64_t budget_ns;
	int waiting, held;
	uint64_t wait_since, held_since;
	uint32_t bucket[SCHED_BUCKETS];
	uint64_t gpu_ns_second; /* gpu_ns at the start of the current second */
	uint64_t gpu_ns_step;   /* gpu_ns at the last revision of the sla cap */
	uint32_t frames_second;
	uint32_t frames_bucket; /* frames since the last bucket closed */
	uint64_t cursor;        /* its own timeline (a render worker of its own): charged up to here */
};

struct sched {
	enum sched_policy policy;
	uint64_t timeslice_ns, period_ns;
	uint64_t period_start;
	uint64_t bucket_start;
	unsigned bucket_pos, buckets_done;
	uint64_t cursor;   /* renderer time is charged up to here */
	int own_timelines; /* each vGPU renders in a worker of its own: calls and batches go on its own timeline */
	int charge_cpu;    /* ... on a software renderer: charged the CPU time it used (sched_charge_cpu), nothing else */
	unsigned capacity; /* renderer ns per wall ns: 1 timeline, or the CPUs under charge_cpu (sched_use_cpu_time) */
	double others_cap; /* sla: fraction of a period the vGPUs without a target may use together */
	unsigned rr;       /* where the next round starts */
	uint64_t charged_ns; /* renderer time charged to anyone, ever */
	struct sched_throttle {
		unsigned pct;       /* 0: off */
		uint64_t seen_ns;   /* charged_ns already turned into debt */
		uint64_t owed_ns;   /* pause owed */
		uint64_t paused_ns; /* pauses taken */
		uint64_t pauses;
	} throttle;
	struct sched_vgpu v[SCHED_MAX_VGPUS];
};

/* A fenced batch seen retiring: whose, and when it was submitted. */
struct sched_batch {
	unsigned vgpu;
	uint64_t submit_ns;
	uint32_t fence; /* the caller's, for its ordering */
};

/* Start at `now` with a policy and a time slice (1..1000 ms, others are clamped). */
void sched_init(struct sched *s, enum sched_policy p, uint64_t timeslice_ns, uint64_t now);
void sched_set_policy(struct sched *s, enum sched_policy p, uint64_t now);
void sched_set_timeslice(struct sched *s, uint64_t timeslice_ns, uint64_t now);
/* Render workers on a software renderer: charge the CPU time used (sched_charge_cpu) against `cpus` CPUs (clamped
 * to 1..SCHED_MAX_CAPACITY); budgets follow from now. */
void sched_use_cpu_time(struct sched *s, unsigned cpus, uint64_t now);

/* Slot i becomes a configured vGPU (weight 1, no target, not present); its accounting starts from zero. */
void sched_vgpu_add(struct sched *s, unsigned i);
void sched_vgpu_remove(struct sched *s, unsigned i);
/* A front-end connected (1) or left (0). */
void sched_present(struct sched *s, unsigned i, int present, uint64_t now);
/* 0, or -1 for a value out of range (nothing changed). Shares change from the next period. */
int sched_set_weight(struct sched *s, unsigned i, long weight);
int sched_set_target(struct sched *s, unsigned i, double fps);

/* The share of a period vGPU i may use under the policy now; negative when none applies (work-conserving). */
double sched_share(const struct sched *s, unsigned i);

/* Roll periods and frame buckets up to now: budgets refilled, SLA cap revised, seconds closed. */
void sched_tick(struct sched *s, uint64_t now);

/* The order in which to offer turns this round: every i with has_work[i] (n entries), sla targets first, then
 * round-robin from a start that moves each round. Returns how many were written to order. */
size_t sched_order(struct sched *s, const int *has_work, unsigned n, unsigned *order);

/* vGPU i has work not yet served (a kick, or left over after its turn). */
void sched_wait(struct sched *s, unsigned i, uint64_t now);
/* vGPU i has batches of its own in flight (1) or none (0): the work-conserving policies hold a vGPU past its share
 * for another only while that one waits or is busy. */
void sched_busy(struct sched *s, unsigned i, int busy);
/* May vGPU i be served now? 0 means held by the policy until a later period, or (work-conserving) until nobody with
 * budget left wants the GPU; counted as throttled. */
int sched_may_serve(struct sched *s, unsigned i, uint64_t now);
/* A turn of vGPU i starts: its wait ends. */
void sched_turn(struct sched *s, unsigned i, uint64_t now);
/* Has the turn that started at turn_start used its time slice by now? */
int sched_slice_over(const struct sched *s, uint64_t turn_start, uint64_t now);

/* vGPU i made renderer calls from t0 to t1; in_flight: batches (anyone's) were in flight at t0. Nothing under
 * charge_cpu (sched_charge_cpu counts the calls' cost). */
void sched_charge_call(struct sched *s, unsigned i, uint64_t t0, uint64_t t1, int in_flight);
/* charge_cpu: vGPU i used ns of CPU time, in its worker (worker = 1) or in the broker's calls for it. */
void sched_charge_cpu(struct sched *s, unsigned i, uint64_t ns, int worker);
/* Batches b[0..k) (in fence order) were seen retired at now. */
void sched_retire(struct sched *s, const struct sched_batch *b, size_t k, uint64_t now);
/* The same for batches of vGPU i alone, on a timeline of its own: its render worker runs beside the others, so its
 * batches are charged from max(their submission, the end of what was charged to it before). Under charge_cpu they
 * are counted, not charged. */
void sched_retire_own(struct sched *s, unsigned i, const struct sched_batch *b, size_t k, uint64_t now);
/* vGPU i showed a frame. */
void sched_frame(struct sched *s, unsigned i, uint64_t now);

/* Throttle the renderer by pct percent (0 off, up to SCHED_MAX_THROTTLE) from now on: 0, or -1 out of range. */
int sched_set_throttle(struct sched *s, unsigned pct);
/* The pause owed now in ns (at most SCHED_THROTTLE_MAX_NS), 0 while less than SCHED_THROTTLE_MIN_NS is owed. */
uint64_t sched_throttle_due(struct sched *s);
/* A pause of ns was taken: it pays that much of what is owed. */
void sched_throttle_paid(struct sched *s, uint64_t ns);

/* Add v's accounting (GPU time, batches, turns, waits, frames, windows) to sum's; settings are not touched. */
void sched_account_add(struct sched_vgpu *sum, const struct sched_vgpu *v);

/* Frames of vGPU i over the last second (a sliding window of ten buckets). */
double sched_fps(const struct sched *s, unsigned i);

#endif
