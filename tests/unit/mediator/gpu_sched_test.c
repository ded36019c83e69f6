/* gpu_sched_test.c: the scheduler's arithmetic against hand-computed cases:
 * shares under each policy, budgets, debt and its floor, throttled and
 * queued time, charging renderer calls and retired batches on one timeline,
 * worker CPU time against the CPUs, frame windows, the SLA cap, the order of turns; then two simulated
 * renderers (3:1 under fixed share, a hog under equal share) whose measured
 * GPU time must follow the configured shares, and the work-conserving shares that give a share nobody uses to the
 * others. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "sched/gpu_sched.h"

#define MS 1000000ull

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static void test_names(void)
{
	enum sched_policy p;

	for (unsigned i = 0; i < SCHED_NPOLICIES; i++) {
		CHECK(sched_policy_parse(sched_policy_name((enum sched_policy)i), &p) == 0 && p == i,
		      "policy %u round trip", i);
	}
	CHECK(sched_policy_parse("round-robin", &p) == -1, "an unknown policy is refused");
	CHECK(sched_policy_parse(NULL, &p) == -1, "no name is refused");
	CHECK(!strcmp(sched_policy_name(SCHED_FIXED_SHARE), "fixed-share"), "name of fixed share");
	CHECK(!strcmp(sched_policy_name((enum sched_policy)99), "unknown"), "name of a bad value");
}

/* n present vGPUs under policy p, a 2 ms slice, from time 0. */
static void some(struct sched *s, enum sched_policy p, unsigned n)
{
	sched_init(s, p, 2 * MS, 0);
	for (unsigned i = 0; i < n; i++) {
		sched_vgpu_add(s, i);
		sched_present(s, i, 1, 0);
	}
}

static void three(struct sched *s, enum sched_policy p)
{
	some(s, p, 3);
}

static void test_shares(void)
{
	struct sched s;

	three(&s, SCHED_BEST_EFFORT);
	CHECK(sched_share(&s, 0) < 0, "best effort has no share");
	three(&s, SCHED_EQUAL_SHARE);
	CHECK(near(sched_share(&s, 1), 1.0 / 3, 1e-9), "equal share of three: %f", sched_share(&s, 1));
	sched_present(&s, 2, 0, 0);
	CHECK(near(sched_share(&s, 0), 0.5, 1e-9), "equal share of the two present");
	CHECK(sched_share(&s, 2) == 0, "an absent vGPU has no share");
	three(&s, SCHED_FIXED_SHARE);
	CHECK(sched_set_weight(&s, 0, 2) == 0, "weight 2");
	CHECK(near(sched_share(&s, 0), 0.5, 1e-9) && near(sched_share(&s, 1), 0.25, 1e-9), "2:1:1 is 50/25/25");
	sched_present(&s, 2, 0, 0);
	CHECK(near(sched_share(&s, 1), 0.25, 1e-9), "fixed share stays when another leaves");
	CHECK(sched_set_weight(&s, 0, 0) == -1 && sched_set_weight(&s, 0, SCHED_MAX_WEIGHT + 1) == -1,
	      "weights out of range are refused");
	CHECK(sched_set_weight(&s, 9, 2) == -1, "no weight for a vGPU that is not configured");
	CHECK(s.v[0].weight == 2, "a refused weight changes nothing");
	CHECK(sched_set_target(&s, 0, -1) == -1 && sched_set_target(&s, 0, NAN) == -1 &&
		      sched_set_target(&s, 0, SCHED_MAX_FPS + 1) == -1,
	      "targets out of range are refused");
	three(&s, SCHED_SLA);
	CHECK(sched_set_target(&s, 2, 30) == 0, "target 30 fps");
	CHECK(sched_share(&s, 2) < 0, "a target is never held");
	CHECK(near(sched_share(&s, 0), 0.5, 1e-9), "the others split the cap: %f", sched_share(&s, 0));
}

static void test_budget(void)
{
	struct sched s;

	some(&s, SCHED_EQUAL_SHARE, 2);
	CHECK(s.period_ns == 100 * MS, "period 100 ms");
	CHECK(s.v[0].budget_ns == (int64_t)(50 * MS), "half of a period: %lld", (long long)s.v[0].budget_ns);
	sched_charge_call(&s, 0, 0, 30 * MS, 0);
	CHECK(sched_may_serve(&s, 0, 30 * MS), "30 of 50 ms used: served");
	sched_wait(&s, 0, 30 * MS);
	sched_charge_call(&s, 0, 30 * MS, 60 * MS, 0);
	CHECK(!sched_may_serve(&s, 0, 60 * MS), "60 of 50 ms used: held");
	CHECK(!sched_may_serve(&s, 0, 70 * MS), "still held");
	CHECK(s.v[0].throttles == 1, "one hold counted, not two: %llu", (unsigned long long)s.v[0].throttles);
	CHECK(sched_may_serve(&s, 0, 100 * MS), "served again next period");
	CHECK(s.v[0].budget_ns == (int64_t)(40 * MS), "the 10 ms overrun is carried: %lld",
	      (long long)s.v[0].budget_ns);
	sched_turn(&s, 0, 100 * MS);
	CHECK(s.v[0].queued_ns == 70 * MS && s.v[0].throttled_ns == 40 * MS, "queued 70 ms of which held 40: %llu %llu",
	      (unsigned long long)s.v[0].queued_ns, (unsigned long long)s.v[0].throttled_ns);
	CHECK(s.v[0].turns == 1, "one turn");

	sched_charge_call(&s, 0, 100 * MS, 230 * MS, 0);
	sched_tick(&s, 230 * MS);
	CHECK(s.v[0].budget_ns == -(int64_t)(40 * MS), "40 - 130 ms, refilled by 50: %lld",
	      (long long)s.v[0].budget_ns);
	sched_charge_call(&s, 0, 230 * MS, 730 * MS, 0);
	sched_tick(&s, 730 * MS);
	CHECK(s.v[0].budget_ns == (int64_t)(50 * MS), "debt floored at 200 ms and repaid by five periods: %lld",
	      (long long)s.v[0].budget_ns);
	/* A 500 ms batch: the periods roll while it flies, it is charged when it retires. */
	for (uint64_t t = 800; t <= 1200; t += 100)
		sched_tick(&s, t * MS);
	{
		struct sched_batch b = { 0, 730 * MS, 0 };

		sched_retire(&s, &b, 1, 1230 * MS);
	}
	sched_tick(&s, 1300 * MS);
	CHECK(s.v[0].budget_ns == -(int64_t)(150 * MS),
	      "an overrun of 450 ms becomes 200 ms of debt, less one period's share: %lld",
	      (long long)s.v[0].budget_ns);
	/* Alone under equal share: a share of 1 is never held. */
	sched_present(&s, 1, 0, 1300 * MS);
	sched_charge_call(&s, 0, 1300 * MS, 2000 * MS, 0);
	CHECK(sched_may_serve(&s, 0, 2000 * MS), "one vGPU alone is never held");

	/* A policy change drops the old debts. */
	sched_present(&s, 1, 1, 2000 * MS);
	sched_set_policy(&s, SCHED_FIXED_SHARE, 2000 * MS);
	CHECK(s.v[0].budget_ns == (int64_t)(50 * MS), "fixed share 1:1 starts clean: %lld",
	      (long long)s.v[0].budget_ns);
	sched_set_policy(&s, SCHED_BEST_EFFORT, 2000 * MS);
	sched_charge_call(&s, 0, 2000 * MS, 3000 * MS, 0);
	CHECK(sched_may_serve(&s, 0, 3000 * MS), "best effort never holds");
}

static void test_slice(void)
{
	struct sched s;

	sched_init(&s, SCHED_BEST_EFFORT, 2 * MS, 0);
	CHECK(!sched_slice_over(&s, 10 * MS, 11 * MS) && sched_slice_over(&s, 10 * MS, 12 * MS), "a 2 ms slice");
	sched_init(&s, SCHED_BEST_EFFORT, 0, 0);
	CHECK(s.timeslice_ns == MS, "a slice under 1 ms becomes 1 ms");
	sched_set_timeslice(&s, 50 * MS, 0);
	CHECK(s.period_ns == 500 * MS, "10 slices of 50 ms make the period: %llu", (unsigned long long)s.period_ns);
	sched_set_timeslice(&s, 5000 * MS, 0);
	CHECK(s.timeslice_ns == 1000 * MS, "a slice over 1 s becomes 1 s");
}

static void test_charging(void)
{
	struct sched s;
	struct sched_batch b[3];

	sched_init(&s, SCHED_BEST_EFFORT, 2 * MS, 0);
	sched_vgpu_add(&s, 0);
	sched_vgpu_add(&s, 1);
	sched_charge_call(&s, 0, 0, 10 * MS, 0);
	sched_charge_call(&s, 1, 5 * MS, 20 * MS, 0);
	CHECK(s.v[0].gpu_ns == 10 * MS && s.v[1].gpu_ns == 10 * MS, "overlapping calls charge wall time once");
	sched_charge_call(&s, 1, 20 * MS, 25 * MS, 1);
	CHECK(s.v[1].gpu_ns == 10 * MS && s.v[1].overlap_ns == 5 * MS, "a call while a batch flies is overlap");

	/* One batch: from max(submit, what was charged) to when its retirement is seen. */
	b[0] = (struct sched_batch){ 0, 30 * MS, 0 };
	sched_retire(&s, b, 1, 42 * MS);
	CHECK(s.v[0].async_ns == 12 * MS && s.v[0].batches == 1, "one batch: 12 ms, got %llu",
	      (unsigned long long)s.v[0].async_ns);
	/* Two seen together: [42,50] to the first alone, [50,70] split. */
	b[0] = (struct sched_batch){ 0, 40 * MS, 0 };
	b[1] = (struct sched_batch){ 1, 50 * MS, 0 };
	sched_retire(&s, b, 2, 70 * MS);
	CHECK(s.v[0].async_ns == 12 * MS + 18 * MS && s.v[1].async_ns == 10 * MS, "8 + 10 and 10: %llu %llu",
	      (unsigned long long)s.v[0].async_ns, (unsigned long long)s.v[1].async_ns);
	/* Three at once, all submitted before the cursor: equal thirds. */
	b[0] = (struct sched_batch){ 0, 60 * MS, 0 };
	b[1] = (struct sched_batch){ 1, 61 * MS, 0 };
	b[2] = (struct sched_batch){ 1, 62 * MS, 0 };
	sched_retire(&s, b, 3, 100 * MS);
	CHECK(s.v[0].async_ns == 40 * MS && s.v[1].async_ns == 30 * MS, "thirds of 30 ms: %llu %llu",
	      (unsigned long long)s.v[0].async_ns, (unsigned long long)s.v[1].async_ns);
	CHECK(s.v[0].gpu_ns + s.v[1].gpu_ns <= 100 * MS, "never more than wall time: %llu",
	      (unsigned long long)(s.v[0].gpu_ns + s.v[1].gpu_ns));
	CHECK(s.v[0].gpu_ns == s.v[0].sync_ns + s.v[0].async_ns, "gpu = sync + async");
	sched_retire(&s, b, 0, 200 * MS);
	CHECK(s.cursor == 100 * MS, "nothing retired moves nothing");
	b[0] = (struct sched_batch){ 7, 90 * MS, 0 };
	sched_retire(&s, b, 1, 110 * MS);
	CHECK(s.cursor == 110 * MS, "a batch of a vGPU that left still moves the timeline");
}

/* Render workers: each vGPU is a timeline of its own. Work that ran side by side in two workers is charged in
 * full to each (on one shared timeline the second would get only what came after the first). */
static void test_own_timelines(void)
{
	struct sched s;
	struct sched_batch b;

	sched_init(&s, SCHED_BEST_EFFORT, 2 * MS, 0);
	s.own_timelines = 1;
	sched_vgpu_add(&s, 0);
	sched_vgpu_add(&s, 1);
	sched_charge_call(&s, 0, 0, 10 * MS, 0);
	sched_charge_call(&s, 1, 5 * MS, 20 * MS, 0);
	CHECK(s.v[0].gpu_ns == 10 * MS && s.v[1].gpu_ns == 15 * MS, "calls in two workers at once: 10 and 15 ms, "
	      "got %llu %llu", (unsigned long long)s.v[0].gpu_ns / MS, (unsigned long long)s.v[1].gpu_ns / MS);
	b = (struct sched_batch){ 0, 30 * MS, 0 };
	sched_retire_own(&s, 0, &b, 1, 60 * MS);
	b = (struct sched_batch){ 1, 30 * MS, 0 };
	sched_retire_own(&s, 1, &b, 1, 70 * MS);
	CHECK(s.v[0].async_ns == 30 * MS && s.v[1].async_ns == 40 * MS,
	      "batches side by side: 30 and 40 ms each, got %llu %llu", (unsigned long long)s.v[0].async_ns / MS,
	      (unsigned long long)s.v[1].async_ns / MS);
	b = (struct sched_batch){ 0, 50 * MS, 0 };
	sched_retire_own(&s, 0, &b, 1, 80 * MS);
	CHECK(s.v[0].async_ns == 50 * MS, "on its own timeline a batch starts after its own last (60 ms): 20 more, "
	      "got %llu", (unsigned long long)s.v[0].async_ns / MS);
	CHECK(s.v[0].cursor == 80 * MS && s.v[1].cursor == 70 * MS && s.cursor == 0, "each its own cursor");
}

/* Render workers on a software renderer: CPU time charged against the CPUs. Three vGPUs under equal share on two
 * CPUs get 2/3 of 100 ms each; fences and call times charge nothing; the throttle counts a CPU-ns as 1/2 ns of the
 * renderer's wall time. */
static void test_cpu_time(void)
{
	struct sched s;
	struct sched_batch b = { 0, 0, 1 };

	sched_init(&s, SCHED_EQUAL_SHARE, 2 * MS, 0);
	for (unsigned i = 0; i < 3; i++) {
		sched_vgpu_add(&s, i);
		sched_present(&s, i, 1, 0);
	}
	CHECK(s.v[0].budget_ns == (int64_t)(100 * MS / 3), "one timeline: a third of 100 ms, %lld",
	      (long long)s.v[0].budget_ns);
	sched_charge_cpu(&s, 0, 5 * MS, 1);
	CHECK(s.v[0].gpu_ns == 0, "CPU time is not charged unless asked for");
	sched_use_cpu_time(&s, 2, 0);
	CHECK(s.own_timelines && s.charge_cpu && s.capacity == 2, "two CPUs, CPU time");
	CHECK(s.v[0].budget_ns == (int64_t)(200 * MS / 3), "two CPUs: 2/3 of 100 ms each, %lld",
	      (long long)s.v[0].budget_ns);
	sched_charge_call(&s, 0, 0, 30 * MS, 0);
	sched_retire_own(&s, 0, &b, 1, 50 * MS);
	CHECK(s.v[0].gpu_ns == 0 && s.v[0].batches == 1, "calls and fences charge nothing; the batch is counted");
	sched_charge_cpu(&s, 0, 60 * MS, 1);
	sched_charge_cpu(&s, 0, 4 * MS, 0);
	CHECK(s.v[0].gpu_ns == 64 * MS && s.v[0].async_ns == 60 * MS && s.v[0].sync_ns == 4 * MS,
	      "60 ms in its worker, 4 in the broker: %llu %llu", (unsigned long long)s.v[0].async_ns,
	      (unsigned long long)s.v[0].sync_ns);
	CHECK(sched_may_serve(&s, 0, 50 * MS), "64 of 66.7 ms used: served");
	sched_charge_cpu(&s, 0, 10 * MS, 1);
	CHECK(!sched_may_serve(&s, 0, 60 * MS), "74 of 66.7 ms used: held");
	CHECK(sched_may_serve(&s, 0, 100 * MS), "served again next period");
	sched_charge_cpu(&s, 0, 1000 * MS, 1);
	sched_tick(&s, 200 * MS);
	CHECK(s.v[0].budget_ns == -(int64_t)(400 * MS - 200 * MS / 3),
	      "debt floored at two periods of both CPUs (400 ms), less a share: %lld", (long long)s.v[0].budget_ns);
	sched_charge_cpu(&s, 7, 5 * MS, 1);
	CHECK(s.v[7].gpu_ns == 0 && s.charged_ns == 1074 * MS, "a slot that is no vGPU is charged nothing");

	sched_init(&s, SCHED_BEST_EFFORT, 2 * MS, 0);
	sched_vgpu_add(&s, 0);
	sched_use_cpu_time(&s, 2, 0);
	CHECK(sched_set_throttle(&s, 50) == 0, "50%% throttle");
	sched_charge_cpu(&s, 0, 8 * MS, 1);
	CHECK(sched_throttle_due(&s) == 4 * MS, "8 ms of CPU on two CPUs is 4 ms of the renderer: owes 4 ms at 50%%");
	sched_use_cpu_time(&s, 5000, 0);
	CHECK(s.capacity == SCHED_MAX_CAPACITY, "capacity clamped to %u", SCHED_MAX_CAPACITY);
	sched_use_cpu_time(&s, 0, 0);
	CHECK(s.capacity == 1, "and to at least one CPU");
}

static void test_frames(void)
{
	struct sched s;

	some(&s, SCHED_SLA, 2);
	sched_set_target(&s, 0, 30);
	/* 20 frames a second, under the target, each using 20 ms of the renderer: it wants the GPU. */
	for (int i = 0; i < 20; i++) {
		sched_charge_call(&s, 0, (uint64_t)i * 50 * MS, (uint64_t)i * 50 * MS + 20 * MS, 0);
		sched_frame(&s, 0, (uint64_t)i * 50 * MS + 20 * MS);
	}
	sched_tick(&s, 1000 * MS);
	CHECK(near(sched_fps(&s, 0), 20, 1e-9) && s.v[0].fps_last_s == 20, "20 frames in the last second: %f",
	      sched_fps(&s, 0));
	CHECK(s.v[0].windows == 1 && s.v[0].windows_met == 0, "one window, missed");
	CHECK(near(s.others_cap, 0.49, 1e-9), "missed at 500 and 1000 ms: cap 0.7 * 0.7, got %f", s.others_cap);
	sched_tick(&s, 1100 * MS);
	CHECK(near(sched_share(&s, 1), 0.49, 1e-9), "the other's share follows the cap");
	/* Then 40 a second: met with spare, the cap grows back. */
	for (int i = 0; i < 40; i++) {
		sched_charge_call(&s, 0, 1100 * MS + (uint64_t)i * 25 * MS, 1110 * MS + (uint64_t)i * 25 * MS, 0);
		sched_frame(&s, 0, 1110 * MS + (uint64_t)i * 25 * MS);
	}
	sched_tick(&s, 2100 * MS);
	CHECK(s.v[0].windows == 2 && s.v[0].windows_met == 1, "second window met: %llu/%llu",
	      (unsigned long long)s.v[0].windows_met, (unsigned long long)s.v[0].windows);
	{
		double cap = s.others_cap;

		for (int i = 40; i < 80; i++) {
			sched_charge_call(&s, 0, 1100 * MS + (uint64_t)i * 25 * MS, 1110 * MS + (uint64_t)i * 25 * MS, 0);
			sched_frame(&s, 0, 1110 * MS + (uint64_t)i * 25 * MS);
		}
		sched_tick(&s, 3100 * MS);
		CHECK(near(s.others_cap, cap + 0.2, 1e-9), "met with spare twice: the cap grows by 0.2 from %f: %f",
		      cap, s.others_cap);
	}
	/* A blinking cursor: 5 frames a second for next to no GPU time is no missed target. */
	{
		struct sched c;

		some(&c, SCHED_SLA, 2);
		sched_set_target(&c, 0, 30);
		for (int i = 0; i < 20; i++) {
			sched_charge_call(&c, 0, (uint64_t)i * 200 * MS, (uint64_t)i * 200 * MS + MS / 10, 0);
			sched_frame(&c, 0, (uint64_t)i * 200 * MS + MS);
			sched_tick(&c, (uint64_t)i * 200 * MS + 100 * MS);
		}
		CHECK(c.others_cap == 1.0, "a target at 5 fps that wants nothing keeps the cap at 1: %f", c.others_cap);
	}
	/* The target stops drawing: it holds nobody back, the cap grows back to 1. */
	{
		double cap = s.others_cap;

		/* The last partial second still misses; after that the target is idle. */
		for (uint64_t t = 3200; t <= 5100; t += 100)
			sched_tick(&s, t * MS);
		CHECK(s.others_cap > cap * 0.7, "an idle target lets the cap grow: %f -> %f", cap * 0.7, s.others_cap);
		for (uint64_t t = 5200; t <= 9100; t += 100)
			sched_tick(&s, t * MS);
		CHECK(s.others_cap == 1.0, "back to the whole GPU: %f", s.others_cap);
	}
	/* An hour of silence: nothing breaks, the rate is 0, and a low cap has grown back. */
	s.others_cap = 0.1;
	sched_tick(&s, 3600000 * MS);
	CHECK(s.others_cap == 1.0, "quiet hour: the cap is back to 1: %f", s.others_cap);
	CHECK(sched_fps(&s, 0) == 0 && s.buckets_done % SCHED_BUCKETS == 0, "quiet hour: fps %f, buckets %u",
	      sched_fps(&s, 0), s.buckets_done);
	CHECK(s.period_start + s.period_ns > 3600000 * MS, "periods caught up");
}

static void test_order(void)
{
	struct sched s;
	int work[4] = { 1, 1, 0, 1 };
	unsigned o[4];
	size_t k;

	sched_init(&s, SCHED_SLA, 2 * MS, 0);
	for (unsigned i = 0; i < 4; i++)
		sched_vgpu_add(&s, i);
	sched_set_target(&s, 3, 30);
	k = sched_order(&s, work, 4, o);
	CHECK(k == 3 && o[0] == 3 && o[1] == 0 && o[2] == 1, "target first, then round robin: %zu %u %u %u", k, o[0],
	      o[1], o[2]);
	k = sched_order(&s, work, 4, o);
	CHECK(k == 3 && o[0] == 3 && o[1] == 1 && o[2] == 0, "the next round starts one further");
	sched_set_policy(&s, SCHED_BEST_EFFORT, 0);
	k = sched_order(&s, work, 4, o);
	CHECK(k == 3 && o[0] == 3 && o[1] == 0 && o[2] == 1, "best effort: no priority, rotation from 2");
}

/* Two or three always-busy vGPUs served the way the mediator serves them: each turn is one 1 ms renderer call; when
 * everyone with work is held, time passes idle. Returns each vGPU's GPU time share over `secs` seconds. */
static void simulate(struct sched *s, unsigned n, const double *demand, double secs, double *share)
{
	uint64_t now = 0, end = (uint64_t)(secs * 1e9), total = 0;
	double credit[SCHED_MAX_VGPUS] = { 0 };
	int work[SCHED_MAX_VGPUS];
	unsigned o[SCHED_MAX_VGPUS];

	while (now < end) {
		size_t k;
		int served = 0;

		for (unsigned i = 0; i < n; i++) {
			/* A vGPU with demand d < 1 has work once it has earned a millisecond at d of wall time. */
			work[i] = demand[i] >= 1 || credit[i] >= 1;
			if (work[i])
				sched_wait(s, i, now);
		}
		k = sched_order(s, work, n, o);
		for (size_t j = 0; j < k; j++) {
			unsigned i = o[j];

			if (!sched_may_serve(s, i, now))
				continue;
			sched_turn(s, i, now);
			sched_charge_call(s, i, now, now + MS, 0);
			for (unsigned m = 0; m < n; m++)
				credit[m] += demand[m];
			if (demand[i] < 1)
				credit[i] -= 1;
			now += MS;
			served = 1;
			/* Work left after its turn waits again, as in the mediator's round. */
			if (demand[i] >= 1 || credit[i] >= 1)
				sched_wait(s, i, now);
		}
		if (!served) {
			for (unsigned m = 0; m < n; m++)
				credit[m] += demand[m];
			now += MS;
		}
	}
	for (unsigned i = 0; i < n; i++)
		total += s->v[i].gpu_ns;
	for (unsigned i = 0; i < n; i++)
		share[i] = (double)s->v[i].gpu_ns / (double)total;
}

static void test_simulated(void)
{
	struct sched s;
	double share[3], busy[3] = { 1, 1, 1 }, victims[3] = { 1, 0.2, 0.2 };

	some(&s, SCHED_FIXED_SHARE, 2);
	sched_set_weight(&s, 0, 3);
	simulate(&s, 2, busy, 10, share);
	CHECK(near(share[0], 0.75, 0.02), "3:1 under fixed share gives 75/25: %.3f/%.3f", share[0], share[1]);
	CHECK(s.v[1].throttled_ns > 0 && s.v[1].throttled_ns <= s.v[1].queued_ns, "held time is part of queued time");

	three(&s, SCHED_EQUAL_SHARE);
	simulate(&s, 3, busy, 10, share);
	CHECK(near(share[0], 1.0 / 3, 0.02) && near(share[2], 1.0 / 3, 0.02), "equal share of three: %.3f %.3f %.3f",
	      share[0], share[1], share[2]);

	/* A hog and two victims that want a fifth of the renderer each. */
	three(&s, SCHED_EQUAL_SHARE);
	simulate(&s, 3, victims, 10, share);
	CHECK((double)s.v[1].gpu_ns >= 0.19 * 10e9 && (double)s.v[2].gpu_ns >= 0.19 * 10e9,
	      "under equal share each victim gets what it asks: %.2f s, %.2f s", (double)s.v[1].gpu_ns / 1e9,
	      (double)s.v[2].gpu_ns / 1e9);
	CHECK((double)s.v[0].gpu_ns <= 0.35 * 10e9, "the hog is held to its third: %.2f s",
	      (double)s.v[0].gpu_ns / 1e9);

	three(&s, SCHED_BEST_EFFORT);
	simulate(&s, 3, victims, 10, share);
	CHECK((double)s.v[0].gpu_ns >= 0.55 * 10e9, "best effort lets the hog take the rest: %.2f s",
	      (double)s.v[0].gpu_ns / 1e9);
}

/* The work-conserving shares: the same shares, but a spent budget holds a vGPU only for another with budget left that
 * wants the GPU (waiting, or busy with batches in flight). */
static void test_work_conserving(void)
{
	struct sched s;
	double share[3], busy[3] = { 1, 1, 1 }, victims[3] = { 1, 0.2, 0.2 };

	CHECK(strstr(sched_policy_names(), "best-effort, equal-share, ") == sched_policy_names() &&
		      strstr(sched_policy_names(), "equal-share-wc") && strstr(sched_policy_names(), ", sla") &&
		      sched_policy_names()[strlen(sched_policy_names()) - 1] == 'a',
	      "the names listed: %s", sched_policy_names());
	some(&s, SCHED_EQUAL_SHARE_WC, 2);
	CHECK(near(sched_share(&s, 0), 0.5, 1e-9), "equal-share-wc has equal share's shares");
	sched_charge_call(&s, 0, 0, 60 * MS, 0);
	CHECK(sched_may_serve(&s, 0, 60 * MS), "60 of 50 ms used, the other idle: served");
	sched_turn(&s, 0, 60 * MS);
	CHECK(s.v[0].spare_turns == 1 && s.v[0].throttles == 0, "a spare turn, not a hold");
	sched_busy(&s, 1, 1);
	CHECK(!sched_may_serve(&s, 0, 61 * MS), "the other busy with its batches: held");
	sched_busy(&s, 1, 0);
	sched_wait(&s, 1, 62 * MS);
	CHECK(!sched_may_serve(&s, 0, 62 * MS) && s.v[0].throttles == 1, "the other waiting: held, once");
	sched_turn(&s, 1, 63 * MS);
	sched_charge_call(&s, 1, 63 * MS, 120 * MS - 1, 0);
	sched_wait(&s, 1, 99 * MS);
	CHECK(sched_may_serve(&s, 0, 99 * MS), "both past their budgets: neither holds the other");
	sched_present(&s, 1, 0, 99 * MS);
	sched_present(&s, 1, 1, 99 * MS);
	CHECK(!s.v[1].busy && !s.v[1].waiting, "a front-end that leaves is no longer busy");

	some(&s, SCHED_FIXED_SHARE_WC, 2);
	sched_set_weight(&s, 0, 3);
	simulate(&s, 2, busy, 10, share);
	CHECK(near(share[0], 0.75, 0.02), "3:1 under fixed-share-wc, both busy: %.3f/%.3f", share[0], share[1]);
	three(&s, SCHED_EQUAL_SHARE_WC);
	simulate(&s, 3, victims, 10, share);
	CHECK((double)s.v[1].gpu_ns >= 0.19 * 10e9 && (double)s.v[2].gpu_ns >= 0.19 * 10e9,
	      "under equal-share-wc each victim gets what it asks: %.2f s, %.2f s", (double)s.v[1].gpu_ns / 1e9,
	      (double)s.v[2].gpu_ns / 1e9);
	CHECK((double)s.v[0].gpu_ns >= 0.55 * 10e9 && s.v[0].spare_turns > 0,
	      "... and the hog takes what they leave, as under best effort: %.2f s", (double)s.v[0].gpu_ns / 1e9);
}

/* A vtest endpoint's totals: its clients' accounting summed, their settings left alone. */
static void test_account_add(void)
{
	struct sched_vgpu sum = { .weight = 3, .target_fps = 30 }, a = { .weight = 1 }, b = { .weight = 7 };

	a.gpu_ns = 100, a.sync_ns = 40, a.async_ns = 60, a.overlap_ns = 5, a.batches = 2, a.turns = 3;
	a.queued_ns = 7, a.throttled_ns = 1, a.throttles = 1, a.spare_turns = 2, a.frames = 4, a.windows = 2, a.windows_met = 1;
	b.gpu_ns = 1000, b.sync_ns = 400, b.async_ns = 600, b.overlap_ns = 50, b.batches = 20, b.turns = 30;
	b.queued_ns = 70, b.throttled_ns = 10, b.throttles = 10, b.frames = 40, b.windows = 20, b.windows_met = 10;
	b.fps_last_s = 12;
	sched_account_add(&sum, &a);
	sched_account_add(&sum, &b);
	CHECK(sum.gpu_ns == 1100 && sum.sync_ns == 440 && sum.async_ns == 660 && sum.overlap_ns == 55,
	      "GPU time summed");
	CHECK(sum.batches == 22 && sum.turns == 33 && sum.queued_ns == 77 && sum.throttled_ns == 11 &&
		      sum.throttles == 11 && sum.spare_turns == 2,
	      "batches, turns and waits summed");
	CHECK(sum.frames == 44 && sum.windows == 22 && sum.windows_met == 11, "frames and windows summed");
	CHECK(sum.weight == 3 && sum.target_fps == 30 && sum.fps_last_s == 0,
	      "settings and the last second's rate are not summed");
}

/* --throttle: pct% of the charged time is owed as pause; due from 1 ms, at most 200 ms at once; paying clears it. */
static void test_throttle(void)
{
	struct sched s;

	some(&s, SCHED_BEST_EFFORT, 2);
	CHECK(sched_set_throttle(&s, 91) == -1 && s.throttle.pct == 0, "a throttle over 90%% is refused");
	sched_charge_call(&s, 0, 0, 10 * MS, 0);
	CHECK(sched_set_throttle(&s, 50) == 0, "50%% is taken");
	CHECK(sched_throttle_due(&s) == 0, "time charged before the throttle owes nothing");
	sched_charge_call(&s, 1, 10 * MS, 10 * MS + MS / 2, 0);
	CHECK(sched_throttle_due(&s) == 0 && s.throttle.owed_ns == MS / 2, "0.5 ms charged at 50%% owes 0.5 ms: not due");
	sched_charge_call(&s, 0, 11 * MS, 14 * MS, 0);
	CHECK(sched_throttle_due(&s) == 3 * MS + MS / 2, "3.5 ms charged at 50%% owes 3.5 ms: due");
	CHECK(sched_throttle_due(&s) == 3 * MS + MS / 2, "asking again owes no more");
	sched_throttle_paid(&s, 3 * MS);
	CHECK(sched_throttle_due(&s) == 0 && s.throttle.owed_ns == MS / 2, "3 ms paid: 0.5 ms owed, not due");
	CHECK(s.throttle.paused_ns == 3 * MS && s.throttle.pauses == 1, "the pause is counted");
	sched_throttle_paid(&s, 5 * MS);
	CHECK(s.throttle.owed_ns == 0, "an overlong pause clears the debt, no credit");

	some(&s, SCHED_BEST_EFFORT, 1);
	sched_set_throttle(&s, 5);
	sched_charge_call(&s, 0, 0, 19 * MS, 0);
	CHECK(sched_throttle_due(&s) == MS, "19 ms charged at 5%% owes 1 ms (5/95)");
	sched_charge_call(&s, 0, 19 * MS, 19 * MS + 7, 0);
	sched_throttle_due(&s);
	CHECK(s.throttle.owed_ns == MS && s.charged_ns - s.throttle.seen_ns == 7,
	      "a remainder too small for a whole ns waits for more");
	sched_retire(&s, &(struct sched_batch){ 0, 20 * MS, 1 }, 1, 20 * MS + 19 * 1000 * MS);
	CHECK(sched_throttle_due(&s) == SCHED_THROTTLE_MAX_NS, "a large debt is paid 200 ms at a time");
	sched_throttle_paid(&s, SCHED_THROTTLE_MAX_NS);
	CHECK(sched_throttle_due(&s) == SCHED_THROTTLE_MAX_NS, "... and the rest stays owed");
	CHECK(sched_set_throttle(&s, 0) == 0 && sched_throttle_due(&s) == 0, "off: nothing is owed");
}

int main(void)
{
	test_names();
	test_account_add();
	test_shares();
	test_budget();
	test_slice();
	test_charging();
	test_own_timelines();
	test_cpu_time();
	test_frames();
	test_order();
	test_simulated();
	test_work_conserving();
	test_throttle();
	return check_done("gpu_sched_test");
}
