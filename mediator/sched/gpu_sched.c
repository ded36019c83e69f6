/* gpu_sched.c: the GPU scheduler's arithmetic: charging renderer time to vGPUs,
 * shares and budgets per period, the SLA cap, frame-rate windows and the
 * order of turns. The rules are stated in gpu_sched.h. */
#include "sched/gpu_sched.h"

#include <string.h>

static uint64_t clamp_slice(uint64_t ns)
{
	if (ns < 1000000ull)
		return 1000000ull;
	if (ns > 1000000000ull)
		return 1000000000ull;
	return ns;
}

static int has_target(const struct sched_vgpu *v)
{
	return v->target_fps > 0;
}

double sched_share(const struct sched *s, unsigned i)
{
	const struct sched_vgpu *v;
	unsigned n = 0;
	uint64_t w = 0;

	if (i >= SCHED_MAX_VGPUS || !s->v[i].configured)
		return 0;
	v = &s->v[i];
	switch (s->policy) {
	case SCHED_EQUAL_SHARE:
	case SCHED_EQUAL_SHARE_WC:
		if (!v->present)
			return 0;
		for (unsigned j = 0; j < SCHED_MAX_VGPUS; j++)
			n += s->v[j].configured && s->v[j].present;
		return 1.0 / n;
	case SCHED_FIXED_SHARE:
	case SCHED_FIXED_SHARE_WC:
		for (unsigned j = 0; j < SCHED_MAX_VGPUS; j++)
			if (s->v[j].configured)
				w += s->v[j].weight;
		return (double)v->weight / (double)w;
	case SCHED_SLA:
		if (has_target(v))
			return -1;
		if (!v->present)
			return 0;
		for (unsigned j = 0; j < SCHED_MAX_VGPUS; j++)
			n += s->v[j].configured && s->v[j].present && !has_target(&s->v[j]);
		return s->others_cap / n;
	case SCHED_BEST_EFFORT:
	default:
		return -1;
	}
}

/* Budget for vGPU i after `periods` periods ended: its share of each (of the renderer's capacity), less what it
 * overran (at most two periods' worth), never more than one period's share. */
static void refill_n(struct sched *s, unsigned i, uint64_t periods)
{
	struct sched_vgpu *v = &s->v[i];
	double share = sched_share(s, i);
	int64_t debt = v->unlimited || v->budget_ns > 0 ? 0 : v->budget_ns;
	int64_t floor = -2 * (int64_t)s->period_ns * (int64_t)s->capacity, one;
	double b;

	if (share < 0 || share >= 1) {
		v->unlimited = 1;
		v->budget_ns = 0;
		return;
	}
	v->unlimited = 0;
	if (debt < floor)
		debt = floor;
	one = (int64_t)(share * (double)s->period_ns * (double)s->capacity);
	b = (double)debt + (double)periods * (double)one;
	v->budget_ns = b > (double)one ? one : (int64_t)b;
}

static void refill(struct sched *s, unsigned i)
{
	refill_n(s, i, 1);
}

static void refill_all(struct sched *s)
{
	for (unsigned i = 0; i < SCHED_MAX_VGPUS; i++)
		if (s->v[i].configured)
			refill(s, i);
}

void sched_init(struct sched *s, enum sched_policy p, uint64_t timeslice_ns, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->policy = (unsigned)p < SCHED_NPOLICIES ? p : SCHED_BEST_EFFORT;
	s->others_cap = 1.0;
	s->capacity = 1;
	s->period_start = s->bucket_start = s->cursor = now;
	sched_set_timeslice(s, timeslice_ns, now);
}

void sched_set_timeslice(struct sched *s, uint64_t timeslice_ns, uint64_t now)
{
	s->timeslice_ns = clamp_slice(timeslice_ns);
	s->period_ns = 10 * s->timeslice_ns > SCHED_MIN_PERIOD_NS ? 10 * s->timeslice_ns : SCHED_MIN_PERIOD_NS;
	s->period_start = now;
	refill_all(s);
}

void sched_use_cpu_time(struct sched *s, unsigned cpus, uint64_t now)
{
	s->own_timelines = s->charge_cpu = 1;
	s->capacity = cpus < 1 ? 1 : cpus > SCHED_MAX_CAPACITY ? SCHED_MAX_CAPACITY : cpus;
	s->period_start = now;
	refill_all(s);
}

void sched_set_policy(struct sched *s, enum sched_policy p, uint64_t now)
{
	if ((unsigned)p >= SCHED_NPOLICIES)
		return;
	s->policy = p;
	s->others_cap = 1.0;
	s->period_start = now;
	for (unsigned i = 0; i < SCHED_MAX_VGPUS; i++)
		s->v[i].budget_ns = 0; /* debts of another policy do not carry */
	refill_all(s);
}

void sched_vgpu_add(struct sched *s, unsigned i)
{
	if (i >= SCHED_MAX_VGPUS)
		return;
	memset(&s->v[i], 0, sizeof(s->v[i]));
	s->v[i].configured = 1;
	s->v[i].weight = 1;
	refill(s, i);
}

void sched_vgpu_remove(struct sched *s, unsigned i)
{
	if (i < SCHED_MAX_VGPUS)
		memset(&s->v[i], 0, sizeof(s->v[i]));
}

void sched_present(struct sched *s, unsigned i, int present, uint64_t now)
{
	struct sched_vgpu *v;

	if (i >= SCHED_MAX_VGPUS)
		return;
	v = &s->v[i];
	v->present = present;
	if (!present)
		v->waiting = v->held = v->busy = 0;
	else
		v->wait_since = v->held_since = now;
	/* Who is present decides equal and sla shares: every budget follows now. */
	refill_all(s);
}

int sched_set_weight(struct sched *s, unsigned i, long weight)
{
	if (i >= SCHED_MAX_VGPUS || !s->v[i].configured || weight < 1 || weight > SCHED_MAX_WEIGHT)
		return -1;
	s->v[i].weight = (unsigned)weight;
	return 0;
}

int sched_set_target(struct sched *s, unsigned i, double fps)
{
	if (i >= SCHED_MAX_VGPUS || !s->v[i].configured || !(fps >= 0 && fps <= SCHED_MAX_FPS))
		return -1;
	s->v[i].target_fps = fps;
	return 0;
}

double sched_fps(const struct sched *s, unsigned i)
{
	uint64_t n = 0;

	if (i >= SCHED_MAX_VGPUS)
		return 0;
	for (unsigned b = 0; b < SCHED_BUCKETS; b++)
		n += s->v[i].bucket[b];
	return (double)n;
}

/* sla: shrink the others' cap while a present target that wants the GPU misses over the last second, let it grow
 * back while every such target is met with 10% to spare (a target with little to draw holds nobody back). */
static void revise_cap(struct sched *s)
{
	int targets = 0, miss = 0, spare = 1;
	uint64_t step = SCHED_SLA_STEP_BUCKETS * SCHED_BUCKET_NS;

	for (unsigned i = 0; i < SCHED_MAX_VGPUS; i++) {
		struct sched_vgpu *v = &s->v[i];
		double fps = sched_fps(s, i);
		int wants = v->waiting || (double)(v->gpu_ns - v->gpu_ns_step) >= SCHED_SLA_BUSY * (double)step;

		v->gpu_ns_step = v->gpu_ns;
		if (!v->configured || !v->present || !has_target(v))
			continue;
		targets++;
		if (!wants)
			continue; /* it asks for (almost) nothing */
		if (fps < v->target_fps)
			miss = 1;
		if (fps < 1.1 * v->target_fps)
			spare = 0;
	}
	if (!targets)
		s->others_cap = 1.0;
	else if (miss)
		s->others_cap = s->others_cap * 0.7 > SCHED_SLA_MIN_CAP ? s->others_cap * 0.7 : SCHED_SLA_MIN_CAP;
	else if (spare)
		s->others_cap = s->others_cap + 0.1 < 1.0 ? s->others_cap + 0.1 : 1.0;
}

/* A second ended: its frames become the vGPU's last-second rate and, if it did anything, one window. */
static void close_second(struct sched *s)
{
	for (unsigned i = 0; i < SCHED_MAX_VGPUS; i++) {
		struct sched_vgpu *v = &s->v[i];

		if (!v->configured)
			continue;
		v->fps_last_s = v->frames_second;
		if (v->present && (v->frames_second || v->gpu_ns != v->gpu_ns_second)) {
			v->windows++;
			if (has_target(v) && v->frames_second >= v->target_fps)
				v->windows_met++;
		}
		v->frames_second = 0;
		v->gpu_ns_second = v->gpu_ns;
	}
}

static void close_bucket(struct sched *s, const uint32_t *now_counts)
{
	s->bucket_pos = (s->bucket_pos + 1) % SCHED_BUCKETS;
	for (unsigned i = 0; i < SCHED_MAX_VGPUS; i++)
		s->v[i].bucket[s->bucket_pos] = now_counts ? now_counts[i] : 0;
	s->buckets_done++;
	if (s->buckets_done % SCHED_BUCKETS == 0)
		close_second(s);
	if (s->policy == SCHED_SLA && s->buckets_done % SCHED_SLA_STEP_BUCKETS == 0)
		revise_cap(s);
}

void sched_tick(struct sched *s, uint64_t now)
{
	static uint32_t zero[SCHED_MAX_VGPUS];
	uint32_t counts[SCHED_MAX_VGPUS];
	uint64_t nb, np;

	if (now > s->bucket_start && (nb = (now - s->bucket_start) / SCHED_BUCKET_NS)) {
		uint64_t rest = nb - 1, skip = 0;

		/* Frames since the last bucket closed belong to the first bucket that closes now. */
		for (unsigned i = 0; i < SCHED_MAX_VGPUS; i++) {
			counts[i] = s->v[i].frames_bucket;
			s->v[i].frames_bucket = 0;
		}
		close_bucket(s, counts);
		/* After a long quiet stretch only the last second or two of empty buckets matter; whole seconds are
		 * skipped so seconds and SLA steps stay where they were. */
		if (rest > 2 * SCHED_BUCKETS)
			skip = (rest - SCHED_BUCKETS) - (rest - SCHED_BUCKETS) % SCHED_BUCKETS;
		s->buckets_done += (unsigned)skip;
		/* Nobody drew in the skipped seconds: under sla, every step of them let the cap grow. */
		if (s->policy == SCHED_SLA && skip) {
			double cap = s->others_cap + 0.1 * (double)(skip / SCHED_SLA_STEP_BUCKETS);

			s->others_cap = cap < 1.0 ? cap : 1.0;
		}
		for (uint64_t b = skip; b < rest; b++)
			close_bucket(s, zero);
		s->bucket_start += nb * SCHED_BUCKET_NS;
	}
	if (now > s->period_start && (np = (now - s->period_start) / s->period_ns)) {
		s->period_start += np * s->period_ns;
		for (unsigned i = 0; i < SCHED_MAX_VGPUS; i++)
			if (s->v[i].configured)
				refill_n(s, i, np);
	}
}

size_t sched_order(struct sched *s, const int *has_work, unsigned n, unsigned *order)
{
	size_t k = 0;

	if (n > SCHED_MAX_VGPUS)
		n = SCHED_MAX_VGPUS;
	if (!n)
		return 0;
	for (int pass = 0; pass < 2; pass++)
		for (unsigned j = 0; j < n; j++) {
			unsigned i = (s->rr + j) % n;
			int first = s->policy == SCHED_SLA && has_target(&s->v[i]);

			if (has_work[i] && first == (pass == 0))
				order[k++] = i;
		}
	s->rr = (s->rr + 1) % n;
	return k;
}

void sched_wait(struct sched *s, unsigned i, uint64_t now)
{
	struct sched_vgpu *v;

	if (i >= SCHED_MAX_VGPUS)
		return;
	v = &s->v[i];
	if (!v->waiting) {
		v->waiting = 1;
		v->wait_since = now;
	}
}

void sched_busy(struct sched *s, unsigned i, int busy)
{
	if (i < SCHED_MAX_VGPUS)
		s->v[i].busy = busy != 0;
}

static int work_conserving(enum sched_policy p)
{
	return p == SCHED_EQUAL_SHARE_WC || p == SCHED_FIXED_SHARE_WC;
}

/* Whether a present vGPU other than i still has budget and wants the GPU (work waiting or batches in flight). */
static int other_entitled(const struct sched *s, unsigned i)
{
	for (unsigned j = 0; j < SCHED_MAX_VGPUS; j++) {
		const struct sched_vgpu *o = &s->v[j];

		if (j != i && o->configured && o->present && (o->waiting || o->busy) &&
		    (o->unlimited || o->budget_ns > 0))
			return 1;
	}
	return 0;
}

int sched_may_serve(struct sched *s, unsigned i, uint64_t now)
{
	struct sched_vgpu *v;

	if (i >= SCHED_MAX_VGPUS)
		return 0;
	sched_tick(s, now);
	v = &s->v[i];
	if (s->policy == SCHED_BEST_EFFORT || v->unlimited || v->budget_ns > 0)
		return 1;
	if (work_conserving(s->policy) && !other_entitled(s, i))
		return 1;
	if (!v->held) {
		v->held = 1;
		v->held_since = now;
		v->throttles++;
	}
	return 0;
}

void sched_turn(struct sched *s, unsigned i, uint64_t now)
{
	struct sched_vgpu *v;

	if (i >= SCHED_MAX_VGPUS)
		return;
	v = &s->v[i];
	if (v->waiting && now > v->wait_since)
		v->queued_ns += now - v->wait_since;
	if (v->held && now > v->held_since)
		v->throttled_ns += now - v->held_since;
	v->waiting = v->held = 0;
	v->turns++;
	if (work_conserving(s->policy) && !v->unlimited && v->budget_ns <= 0)
		v->spare_turns++;
}

int sched_slice_over(const struct sched *s, uint64_t turn_start, uint64_t now)
{
	return now >= turn_start + s->timeslice_ns;
}

static void charge(struct sched *s, unsigned i, uint64_t ns)
{
	struct sched_vgpu *v = &s->v[i];

	v->gpu_ns += ns;
	s->charged_ns += ns;
	if (!v->unlimited)
		v->budget_ns -= (int64_t)ns;
}

void sched_charge_call(struct sched *s, unsigned i, uint64_t t0, uint64_t t1, int in_flight)
{
	uint64_t from, *cursor;

	if (i >= SCHED_MAX_VGPUS || t1 <= t0 || s->charge_cpu)
		return;
	if (in_flight) {
		s->v[i].overlap_ns += t1 - t0;
		return;
	}
	cursor = s->own_timelines ? &s->v[i].cursor : &s->cursor;
	from = t0 > *cursor ? t0 : *cursor;
	if (t1 > from) {
		charge(s, i, t1 - from);
		s->v[i].sync_ns += t1 - from;
		*cursor = t1;
	}
}

void sched_charge_cpu(struct sched *s, unsigned i, uint64_t ns, int worker)
{
	if (i >= SCHED_MAX_VGPUS || !s->v[i].configured || !s->charge_cpu || !ns)
		return;
	charge(s, i, ns);
	if (worker)
		s->v[i].async_ns += ns;
	else
		s->v[i].sync_ns += ns;
}

static void retire_on(struct sched *s, uint64_t *cursor, const struct sched_batch *b, size_t k, uint64_t now)
{
	uint64_t next = now, acc = 0;

	if (!k)
		return;
	/* Stretch j runs from batch j's start to batch j+1's (the last to now) and is split among batches 0..j;
	 * walking back, acc is what batch j gets of the stretches from its own on. */
	for (size_t j = k; j-- > 0;) {
		uint64_t start = b[j].submit_ns > *cursor ? b[j].submit_ns : *cursor;
		uint64_t seg = next > start ? next - start : 0;

		if (start > now)
			start = now;
		acc += seg / (j + 1);
		if (next > start)
			next = start;
		if (b[j].vgpu < SCHED_MAX_VGPUS && s->v[b[j].vgpu].configured) {
			charge(s, b[j].vgpu, acc);
			s->v[b[j].vgpu].async_ns += acc;
			s->v[b[j].vgpu].batches++;
		}
	}
	if (now > *cursor)
		*cursor = now;
}

void sched_retire(struct sched *s, const struct sched_batch *b, size_t k, uint64_t now)
{
	retire_on(s, &s->cursor, b, k, now);
}

void sched_retire_own(struct sched *s, unsigned i, const struct sched_batch *b, size_t k, uint64_t now)
{
	if (i >= SCHED_MAX_VGPUS)
		return;
	if (!s->charge_cpu) {
		retire_on(s, &s->v[i].cursor, b, k, now);
		return;
	}
	for (size_t j = 0; j < k; j++) /* their cost is in the worker's CPU time */
		if (b[j].vgpu < SCHED_MAX_VGPUS && s->v[b[j].vgpu].configured)
			s->v[b[j].vgpu].batches++;
}

void sched_frame(struct sched *s, unsigned i, uint64_t now)
{
	if (i >= SCHED_MAX_VGPUS)
		return;
	sched_tick(s, now);
	s->v[i].frames++;
	s->v[i].frames_bucket++;
	s->v[i].frames_second++;
}

int sched_set_throttle(struct sched *s, unsigned pct)
{
	if (pct > SCHED_MAX_THROTTLE)
		return -1;
	s->throttle.pct = pct;
	s->throttle.seen_ns = s->charged_ns;
	s->throttle.owed_ns = 0;
	return 0;
}

uint64_t sched_throttle_due(struct sched *s)
{
	struct sched_throttle *t = &s->throttle;
	uint64_t fresh = s->charged_ns - t->seen_ns, per = (uint64_t)(100 - t->pct) * s->capacity;

	if (!t->pct)
		return 0;
	/* Charged time converts to debt whole ns at a time (1/capacity of it: the renderer's wall time): what does not
	 * divide evenly waits for more. */
	uint64_t owed = fresh * t->pct / per;

	if (owed) {
		t->owed_ns += owed;
		t->seen_ns += owed * per / t->pct;
	}
	if (t->owed_ns < SCHED_THROTTLE_MIN_NS)
		return 0;
	return t->owed_ns < SCHED_THROTTLE_MAX_NS ? t->owed_ns : SCHED_THROTTLE_MAX_NS;
}

void sched_throttle_paid(struct sched *s, uint64_t ns)
{
	struct sched_throttle *t = &s->throttle;

	t->owed_ns = ns < t->owed_ns ? t->owed_ns - ns : 0;
	t->paused_ns += ns;
	t->pauses++;
}

void sched_account_add(struct sched_vgpu *sum, const struct sched_vgpu *v)
{
	sum->gpu_ns += v->gpu_ns;
	sum->sync_ns += v->sync_ns;
	sum->async_ns += v->async_ns;
	sum->overlap_ns += v->overlap_ns;
	sum->batches += v->batches;
	sum->turns += v->turns;
	sum->queued_ns += v->queued_ns;
	sum->throttled_ns += v->throttled_ns;
	sum->throttles += v->throttles;
	sum->spare_turns += v->spare_turns;
	sum->frames += v->frames;
	sum->windows += v->windows;
	sum->windows_met += v->windows_met;
}
