/* progress_test.c: the time left of a run (harness/run/progress.c) from its own pace and from the previous run's
 * step times: the same pace, by kind of step, a run twice as slow, a resumed run, a previous run with another number
 * of steps, the bounds on how far the speed is believed, and the words it is said in. */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>

#include "check.h"
#include "run/progress.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-6)

/* Ten steps, one ending every 10 s, and 10 s more to the run's end (its report). */
static const double prev10[] = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 };

static void test_pace(void)
{
	struct progress_est e = { .done = 0, .total = 10, .elapsed = 5 };

	CHECK(progress_left_s(&e) == -1, "no step done and no previous run: nothing to say, not %g",
	      progress_left_s(&e));
	e.done = 2;
	e.elapsed = 60;
	CHECK(NEAR(progress_left_s(&e), 240), "2 of 10 steps in 60 s: 240 s left, not %g", progress_left_s(&e));
	e = (struct progress_est){ .done = 6, .done_at_start = 4, .total = 10, .elapsed = 30 };
	CHECK(NEAR(progress_left_s(&e), 60), "resumed at 4, 2 more in 30 s: 4 left take 60 s, not %g",
	      progress_left_s(&e));
	e.done = 10;
	CHECK(progress_left_s(&e) == 0, "every step done: nothing left, not %g", progress_left_s(&e));
}

/* Without a previous run, by kind: each kind at its own pace, a kind not met yet at the pace of steps with as many
 * guests, else at every step's. */
static void test_kinds(void)
{
	struct progress_kind k[] = {
		{ .name = "glmark2", .guests = 0, .total = 10, .done = 10, .ran = 10, .secs = 100 },
		{ .name = "glmark2", .guests = 1, .total = 10, .done = 5, .ran = 5, .secs = 100 },
		{ .name = "glmark2", .guests = 3, .total = 10 },
		{ .name = "kms2d", .guests = 3, .total = 5 },
		{ .name = "kms2d", .guests = 1, .total = 4 },
	};
	struct progress_est e = { .done = 15, .total = 39, .elapsed = 200, .kinds = k, .nkinds = 5 };

	/* glmark2 x1: 5 x 20 s; glmark2 x3 and kms2d x3, as every step so far (200 s / 15): 15 x 13.3 s; kms2d x1,
	 * as steps with one guest: 4 x 20 s */
	CHECK(NEAR(progress_left_s(&e), 100 + 200 + 80), "by kind: 380 s, not %g", progress_left_s(&e));
	k[2].done = k[2].ran = 2;
	k[2].secs = 60;
	e.done = 17;
	e.elapsed = 260;
	/* glmark2 x3 now at its own 30 s: 8 x 30 s, and kms2d x3 at the pace of three guests: 5 x 30 s */
	CHECK(NEAR(progress_left_s(&e), 100 + 240 + 150 + 80), "570 s, not %g", progress_left_s(&e));
	e = (struct progress_est){ .done = 2, .done_at_start = 2, .total = 39, .elapsed = 5, .kinds = k, .nkinds = 5 };
	k[0].ran = k[1].ran = k[2].ran = 0;
	k[0].secs = k[1].secs = k[2].secs = 0;
	CHECK(progress_left_s(&e) == -1, "resumed, no step done here yet: nothing to say, not %g", progress_left_s(&e));
}

static void test_previous(void)
{
	struct progress_est e = { .done = 0, .total = 10, .elapsed = 0, .prev = prev10, .nprev = 10,
				  .prev_total = 110 };

	CHECK(NEAR(progress_left_s(&e), 110), "before the first step: the previous run's whole length, not %g",
	      progress_left_s(&e));
	e.done = 5;
	e.elapsed = 50;
	CHECK(NEAR(progress_left_s(&e), 60), "half-way at the previous run's pace: its last 60 s, not %g",
	      progress_left_s(&e));
	e.elapsed = 100;
	CHECK(NEAR(progress_left_s(&e), 120), "half-way twice as slow: 120 s, not %g", progress_left_s(&e));
	e = (struct progress_est){ .done = 7, .done_at_start = 5, .total = 10, .elapsed = 10, .prev = prev10,
				   .nprev = 10, .prev_total = 110 };
	CHECK(NEAR(progress_left_s(&e), 20), "resumed at 5, 2 steps in 10 s where the previous run took 20: its last "
	      "40 s at twice its speed, 20 s, not %g", progress_left_s(&e));
	e = (struct progress_est){ .done = 10, .total = 20, .elapsed = 50, .prev = prev10, .nprev = 10,
				   .prev_total = 110 };
	CHECK(NEAR(progress_left_s(&e), 60), "a previous run of 10 steps for 20: half of each is half of the other, "
	      "not %g", progress_left_s(&e));
	e = (struct progress_est){ .done = 3, .total = 20, .elapsed = 15, .prev = prev10, .nprev = 10,
				   .prev_total = 110 };
	CHECK(NEAR(progress_left_s(&e), 95), "3 of 20 is 1.5 of the previous 10 steps, 15 s in: 95 s left, not %g",
	      progress_left_s(&e));
	e = (struct progress_est){ .done = 5, .total = 10, .elapsed = 5000, .prev = prev10, .nprev = 10,
				   .prev_total = 110 };
	CHECK(NEAR(progress_left_s(&e), 300), "a hundred times slower is believed up to five times: 300 s, not %g",
	      progress_left_s(&e));
	e.elapsed = 0.5;
	CHECK(NEAR(progress_left_s(&e), 12), "a hundred times faster, up to five times: 12 s, not %g",
	      progress_left_s(&e));
}

static void test_words(void)
{
	char t[64];

	progress_left_text(-1, t, sizeof(t));
	CHECK(t[0] == '\0', "nothing to say: no words, not '%s'", t);
	progress_left_text(40.4, t, sizeof(t));
	CHECK(!strcmp(t, "about 40 s left"), "'%s'", t);
	progress_left_text(59.6, t, sizeof(t));
	CHECK(!strcmp(t, "about 1 min left"), "'%s'", t);
	progress_left_text(8 * 60 + 24, t, sizeof(t));
	CHECK(!strcmp(t, "about 8 min 20 s left"), "'%s'", t);
	progress_left_text(9 * 60 + 57, t, sizeof(t));
	CHECK(!strcmp(t, "about 10 min left"), "'%s'", t);
	progress_left_text(25 * 60 + 20, t, sizeof(t));
	CHECK(!strcmp(t, "about 25 min left"), "'%s'", t);
	progress_left_text(72 * 60, t, sizeof(t));
	CHECK(!strcmp(t, "about 1 h 12 min left"), "'%s'", t);
}

int main(void)
{
	test_pace();
	test_kinds();
	test_previous();
	test_words();
	return check_done("progress");
}
