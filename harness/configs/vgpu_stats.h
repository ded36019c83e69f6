/* vgpu_stats.h: what vgpu-mediator's control socket says of one vGPU's
 * scheduling (its "sched" object: GPU time, waits, frames, share), its
 * health (resets, recoveries, watchdog trips, failed commands), its stage
 * histograms (where a command's time goes), the
 * difference over a job, and a sampler that asks the socket every interval
 * while a job runs, for GPU-time shares and frame rates over time. */
#ifndef VGPUBENCH_VGPU_STATS_H
#define VGPUBENCH_VGPU_STATS_H

#include <pthread.h>
#include <stddef.h>

#include "stage_hist.h"

struct json_object;

struct vgpu_stats {
	int present; /* the document names the vGPU and has its sched object */
	char policy[24];
	double share; /* its share under the policy, negative for none */
	double weight, target_fps;
	double gpu_ms, sync_ms, async_ms, overlap_ms, queued_ms, throttled_ms;
	double batches, turns, throttles, frames, windows, windows_met;
	/* health (0 when the mediator does not report it) */
	double resets, recoveries, errors;
	double watchdog_trips;      /* fences or renderer calls past the watchdog's bound */
	double watchdog_longest_ms; /* the longest of them (over the vGPU's life; over a job only if it tripped) */
	/* where its time went, stage by stage (the mediator's stage_hist.h; absent from older mediators) */
	int stages_present;
	struct stage_hist stage[STAGE_COUNT];
};

/* vGPU `name` in a control document (parsed JSON). 0, or -1 (absent: out->present is 0). */
int vgpu_stats_get(struct json_object *doc, const char *name, struct vgpu_stats *out);
/* The same from the document's text. */
int vgpu_stats_parse(const char *doc, const char *name, struct vgpu_stats *out);

/* after - before for the counters; settings (policy, share, weight, target) as after. Both must be present. */
int vgpu_stats_delta(const struct vgpu_stats *before, const struct vgpu_stats *after, struct vgpu_stats *d);

#define VGPU_SAMPLER_MAX 8     /* vGPUs followed */
#define VGPU_SAMPLES_MAX 7200  /* an hour at 0.5 s */

struct vgpu_sample {
	double t_s; /* since the sampler started */
	double gpu_ms[VGPU_SAMPLER_MAX], frames[VGPU_SAMPLER_MAX];
	int present[VGPU_SAMPLER_MAX];
};

struct vgpu_sampler {
	char control[512];
	char names[VGPU_SAMPLER_MAX][64];
	int n;
	double interval_s;
	struct vgpu_sample *s; /* samples taken */
	size_t ns;
	int failures; /* asks that got no usable answer */
	/* the thread's */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, stop;
	double t0;
};

/* Start asking `control` every interval_s for vGPUs names[0..n). 0, or -1 (nothing started). */
int vgpu_sampler_start(struct vgpu_sampler *sp, const char *control, const char *const *names, int n,
		       double interval_s);
/* Take a last sample and stop; the samples stay in sp->s until vgpu_sampler_free. */
void vgpu_sampler_stop(struct vgpu_sampler *sp);
void vgpu_sampler_free(struct vgpu_sampler *sp);

#endif
