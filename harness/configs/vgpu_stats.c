/* vgpu_stats.c: the mediator's per-vGPU scheduling counters from its
 * control-socket JSON, differences over a job, and the sampling thread. */
#define _GNU_SOURCE
#include "configs/vgpu_stats.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "configs/gpu_backend.h"
#include "util.h"

static double num(struct json_object *o, const char *key, double dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return dflt;
	return json_object_get_double(v);
}

/* The vGPU's "stages" object into out->stage: counts, totals and the buckets it lists ([bucket, count] pairs, each
 * checked). 0, or -1 (absent or malformed: nothing taken). */
static int stages_get(struct json_object *v, struct vgpu_stats *out)
{
	struct json_object *st, *so, *hist, *pair, *f;

	if (!json_object_object_get_ex(v, "stages", &st) || !json_object_is_type(st, json_type_object))
		return -1;
	for (int i = 0; i < STAGE_COUNT; i++) {
		struct stage_hist *h = &out->stage[i];
		uint64_t sum = 0;

		if (!json_object_object_get_ex(st, stage_name((enum stage)i), &so) ||
		    !json_object_object_get_ex(so, "hist", &hist) || !json_object_is_type(hist, json_type_array))
			goto bad;
		h->count = (uint64_t)num(so, "count", 0);
		h->total_ns = (uint64_t)(num(so, "total_ms", 0) * 1e6);
		h->max_ns = (uint64_t)(num(so, "max_us", 0) * 1e3);
		for (size_t k = 0; k < json_object_array_length(hist); k++) {
			int64_t b, c;

			pair = json_object_array_get_idx(hist, k);
			if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2)
				goto bad;
			f = json_object_array_get_idx(pair, 0);
			b = json_object_get_int64(f);
			c = json_object_get_int64(json_object_array_get_idx(pair, 1));
			if (b < 0 || b >= STAGE_BUCKETS || c < 0)
				goto bad;
			h->b[b] = (uint64_t)c;
			sum += (uint64_t)c;
		}
		if (sum != h->count)
			goto bad;
	}
	out->stages_present = 1;
	return 0;
bad:
	memset(out->stage, 0, sizeof(out->stage));
	return -1;
}

int vgpu_stats_get(struct json_object *doc, const char *name, struct vgpu_stats *out)
{
	struct json_object *arr, *m, *sc, *pol, *v, *f;

	memset(out, 0, sizeof(*out));
	out->share = -1;
	if (!doc || !json_object_object_get_ex(doc, "vgpus", &arr) || !json_object_is_type(arr, json_type_array))
		return -1;
	if (json_object_object_get_ex(doc, "mediator", &m) && json_object_object_get_ex(m, "scheduler", &sc) &&
	    json_object_object_get_ex(sc, "policy", &pol) && json_object_is_type(pol, json_type_string))
		snprintf(out->policy, sizeof(out->policy), "%s", json_object_get_string(pol));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_object_get_ex(v, "name", &f) || !json_object_is_type(f, json_type_string) ||
		    strcmp(json_object_get_string(f), name) != 0)
			continue;
		if (!json_object_object_get_ex(v, "sched", &sc) || !json_object_is_type(sc, json_type_object))
			return -1;
		out->present = 1;
		out->share = num(sc, "share", -1);
		out->weight = num(sc, "weight", 1);
		out->target_fps = num(sc, "target_fps", 0);
		out->gpu_ms = num(sc, "gpu_ms", 0);
		out->sync_ms = num(sc, "gpu_sync_ms", 0);
		out->async_ms = num(sc, "gpu_async_ms", 0);
		out->overlap_ms = num(sc, "overlap_ms", 0);
		out->queued_ms = num(sc, "queued_ms", 0);
		out->throttled_ms = num(sc, "throttled_ms", 0);
		out->batches = num(sc, "batches", 0);
		out->turns = num(sc, "turns", 0);
		out->throttles = num(sc, "throttles", 0);
		out->frames = num(sc, "frames", 0);
		out->windows = num(sc, "windows", 0);
		out->windows_met = num(sc, "windows_met", 0);
		out->errors = num(v, "errors", 0);
		if (json_object_object_get_ex(v, "health", &f)) {
			out->resets = num(f, "resets", 0);
			out->recoveries = num(f, "recoveries", 0);
		}
		if (json_object_object_get_ex(v, "watchdog", &f)) {
			out->watchdog_trips = num(f, "trips", 0);
			out->watchdog_longest_ms = num(f, "longest_ms", 0);
		}
		stages_get(v, out);
		return 0;
	}
	return -1;
}

int vgpu_stats_parse(const char *doc, const char *name, struct vgpu_stats *out)
{
	struct json_object *o = doc ? json_tokener_parse(doc) : NULL;
	int r = vgpu_stats_get(o, name, out);

	json_object_put(o);
	return r;
}

int vgpu_stats_delta(const struct vgpu_stats *b, const struct vgpu_stats *a, struct vgpu_stats *d)
{
	if (!b->present || !a->present)
		return -1;
	*d = *a;
#define DELTA(f) d->f = a->f >= b->f ? a->f - b->f : a->f /* a counter that went back: the vGPU reconnected */
	DELTA(gpu_ms);
	DELTA(sync_ms);
	DELTA(async_ms);
	DELTA(overlap_ms);
	DELTA(queued_ms);
	DELTA(throttled_ms);
	DELTA(batches);
	DELTA(turns);
	DELTA(throttles);
	DELTA(frames);
	DELTA(windows);
	DELTA(windows_met);
	DELTA(resets);
	DELTA(recoveries);
	DELTA(errors);
	DELTA(watchdog_trips);
#undef DELTA
	if (!d->watchdog_trips)
		d->watchdog_longest_ms = 0;
	d->stages_present = a->stages_present && b->stages_present;
	for (int i = 0; i < STAGE_COUNT; i++)
		if (!d->stages_present || stage_hist_sub(&a->stage[i], &b->stage[i], &d->stage[i]) < 0)
			d->stage[i] = a->stage[i]; /* went back: the vGPU reconnected (as DELTA) */
	if (!d->stages_present)
		memset(d->stage, 0, sizeof(d->stage));
	return 0;
}

/* One sample: every followed vGPU's GPU time and frames now. */
static void take(struct vgpu_sampler *sp)
{
	char *doc = gpu_backend_request(sp->control, "stats\n");
	struct json_object *o = doc ? json_tokener_parse(doc) : NULL;
	struct vgpu_sample smp = { .t_s = vb_now() - sp->t0 };
	int any = 0;

	for (int i = 0; i < sp->n; i++) {
		struct vgpu_stats st;

		if (vgpu_stats_get(o, sp->names[i], &st) == 0) {
			smp.gpu_ms[i] = st.gpu_ms;
			smp.frames[i] = st.frames;
			smp.present[i] = 1;
			any = 1;
		}
	}
	json_object_put(o);
	free(doc);
	pthread_mutex_lock(&sp->mu);
	if (!any)
		sp->failures++;
	else if (sp->ns < VGPU_SAMPLES_MAX)
		sp->s[sp->ns++] = smp;
	pthread_mutex_unlock(&sp->mu);
}

static void *sampler_main(void *arg)
{
	struct vgpu_sampler *sp = arg;

	pthread_mutex_lock(&sp->mu);
	while (!sp->stop) {
		struct timespec until;
		double next = vb_now() + sp->interval_s;

		pthread_mutex_unlock(&sp->mu);
		take(sp);
		pthread_mutex_lock(&sp->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		{
			double wait = next - vb_now();
			long long ns = wait > 0 ? (long long)(wait * 1e9) : 0;

			until.tv_sec += (time_t)(ns / 1000000000LL);
			until.tv_nsec += (long)(ns % 1000000000LL);
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
		}
		while (!sp->stop && pthread_cond_timedwait(&sp->cv, &sp->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&sp->mu);
	return NULL;
}

int vgpu_sampler_start(struct vgpu_sampler *sp, const char *control, const char *const *names, int n,
		       double interval_s)
{
	memset(sp, 0, sizeof(*sp));
	if (!control || n < 1 || n > VGPU_SAMPLER_MAX || !(interval_s >= 0.05))
		return -1;
	snprintf(sp->control, sizeof(sp->control), "%s", control);
	for (int i = 0; i < n; i++)
		snprintf(sp->names[i], sizeof(sp->names[i]), "%s", names[i]);
	sp->n = n;
	sp->interval_s = interval_s;
	sp->s = calloc(VGPU_SAMPLES_MAX, sizeof(*sp->s));
	if (!sp->s)
		return -1;
	pthread_mutex_init(&sp->mu, NULL);
	pthread_cond_init(&sp->cv, NULL);
	sp->t0 = vb_now();
	if (pthread_create(&sp->th, NULL, sampler_main, sp) != 0) {
		pthread_mutex_destroy(&sp->mu);
		pthread_cond_destroy(&sp->cv);
		free(sp->s);
		sp->s = NULL;
		return -1;
	}
	sp->running = 1;
	return 0;
}

void vgpu_sampler_stop(struct vgpu_sampler *sp)
{
	if (!sp->running)
		return;
	pthread_mutex_lock(&sp->mu);
	sp->stop = 1;
	pthread_cond_signal(&sp->cv);
	pthread_mutex_unlock(&sp->mu);
	pthread_join(sp->th, NULL);
	sp->running = 0;
	take(sp);
}

void vgpu_sampler_free(struct vgpu_sampler *sp)
{
	vgpu_sampler_stop(sp);
	if (sp->s) {
		pthread_mutex_destroy(&sp->mu);
		pthread_cond_destroy(&sp->cv);
	}
	free(sp->s);
	sp->s = NULL;
	sp->ns = 0;
}
