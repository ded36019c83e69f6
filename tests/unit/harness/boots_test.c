/* boots_test.c: a row's spread between boots (harness/analysis/boots.c) on both back-ends: each boot's median and
 * how far apart they lie, a boot far from the others named as an outlier with the host noise of its jobs against
 * the others', none named with two boots or with boots close together, a row of one boot saying nothing; and a
 * calibration's output listing the rounds' runs whose boots lie apart (calibrate_print). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "analysis/boots.h"
#include "pg_fixture.h"
#include "run/calibrate.h"
#include "runs_fixture.h"
#include "util.h"

/* Run `id`: mediated glmark2, one guest, two repetitions a boot at each of the levels given (nboots of them), the
 * host's steal and load per boot as given. */
static void boot_run(struct store *s, const char *id, const double *level, int nboots, const double *steal,
		     const double *load)
{
	CHECK(store_run_create(s, id, "p", "h", "p.ini", "[plan]\n", "/tmp") == 0, "run %s: %s", id, s->err);
	for (int b = 0; b < nboots; b++)
		for (int rep = 1; rep <= 2; rep++) {
			struct wl_result m = { 0 };
			struct job_noise noise = { .steal_pct = steal[b], .load_before = load[b],
						   .load_after = load[b] + 0.5, .boot = b + 1 };
			struct job_row j = { .config = "mediated", .topology = 1, .guest_index = 1,
					     .workload = "glmark2", .repetition = 2 * b + rep, .status = "ok", .wall_s = 1,
					     .metrics = &m, .noise = &noise };

			wl_add_metric(&m, "score", level[b] * (rep == 1 ? 0.99 : 1.01), "score", 1);
			CHECK(store_jobs(s, id, &j, 1) == 0, "a job of %s: %s", id, s->err);
		}
	store_run_set_status(s, id, "complete", NULL);
}

static char *text_of(struct store *s, const char *run)
{
	struct boot_spread b;
	char line[768];

	if (boots_spread(s, run, "mediated", 1, 0, "glmark2", "score", &b) < 0)
		return strdup("(failed)");
	boots_text(&b, line, sizeof(line));
	return strdup(line);
}

static void test_all(const char *db, const char *dir)
{
	static const double far[] = { 307.2, 509.8, 539.7 }, close[] = { 432.0, 394.5, 435.0 }, two[] = { 300, 500 };
	static const double steal[] = { 4.5, 0.0, 0.1 }, load[] = { 2.5, 1.0, 1.2 };
	struct store s;
	struct boot_spread b;
	char *t;

	(void)dir;
	CHECK(store_open(&s, db) == 0, "open %s", db);
	boot_run(&s, "far", far, 3, steal, load);
	boot_run(&s, "close", close, 3, steal, load);
	boot_run(&s, "two", two, 2, steal, load);
	boot_run(&s, "one", far, 1, steal, load);

	CHECK(boots_spread(&s, "far", "mediated", 1, 0, "glmark2", "score", &b) == 0 && b.n == 3 && b.outlier == 0 &&
		      b.outlier_pct < -40 && b.outlier_pct > -42 && b.noise.jobs == 2 && b.others.jobs == 4,
	      "307 against 510 and 540: boot 1 is an outlier, 41.5%% below (%d, %.1f)", b.outlier, b.outlier_pct);
	t = text_of(&s, "far");
	CHECK(!strcmp(t, "1: 307.2, 2: 509.8, 3: 539.7 (45.6% apart); boot 1 is an outlier, 41.5% below the others "
			 "(steal 4.5%, load 2.50 -> 3.00; the others': steal 0.1%, load 1.10 -> 1.60)"),
	      "said with the noise of its jobs against the others': %s", t);
	free(t);
	t = text_of(&s, "close");
	CHECK(!strcmp(t, "1: 432.0, 2: 394.5, 3: 435.0 (9.4% apart)"),
	      "394.5 against 432 and 435 (9%% off, under the 10%% an outlier needs): no outlier: %s", t);
	free(t);
	t = text_of(&s, "two");
	CHECK(!strcmp(t, "1: 300.0, 2: 500.0 (50.1% apart)"), "two boots: which one is off cannot be told: %s", t);
	free(t);
	CHECK(boots_spread(&s, "one", "mediated", 1, 0, "glmark2", "score", &b) == 0 && b.n == 1 && b.outlier < 0,
	      "one boot: nothing to say");
	CHECK(boots_spread(&s, "none", "mediated", 1, 0, "glmark2", "score", &b) == 0 && b.n == 0,
	      "a run without the row: nothing");

	/* A calibration of two rounds whose first round's A is "far" and A' "close", B "two"; the second all "one". */
	{
		struct calibration_row row = { .workload = "glmark2", .metric = "score", .config = "mediated",
					       .topology = 1, .aa_pairs = 2, .ab_pairs = 4 };
		static const char *const runs[2][3] = { { "far", "close", "two" }, { "one", "one", "one" } };
		char *out = NULL;
		size_t len = 0;
		FILE *mem;

		exec_sql(&s, "INSERT INTO runs(id, plan_name, plan_path, plan_text, dir, started_at, status)"
			     " VALUES ('cal', 'p-calibration', 'p', '', 'runs/cal', '2026-02-02T00:00:00Z',"
			     " 'complete')");
		CHECK(store_calibration_put(&s, "cal", &row, 1) == 0 &&
			      store_host_fact(&s, "cal", "calibration", "a 5% slowdown, 2 rounds") == 0,
		      "a calibration stored");
		for (int r = 0; r < 2; r++)
			for (int k = 0; k < 3; k++) {
				char key[64];

				snprintf(key, sizeof(key), "calibration round %d run %d", r + 1, k + 1);
				CHECK(store_host_fact(&s, "cal", key, runs[r][k]) == 0, "round %d run %d noted", r + 1,
				      k + 1);
			}
		mem = open_memstream(&out, &len);
		CHECK(calibrate_print(&s, "cal", mem) == 0, "the calibration printed");
		fclose(mem);
		CHECK(out && strstr(out, "between boots (each boot's median, for a run's row whose boots lie 5% or") &&
			      strstr(out, "  round 1 A  glmark2 score mediated 1: 1: 307.2, 2: 509.8, 3: 539.7 (45.6% "
					  "apart); boot 1 is an outlier") &&
			      strstr(out, "  round 1 A' glmark2 score mediated 1: 1: 432.0, 2: 394.5, 3: 435.0 "
					  "(9.4% apart)\n") &&
			      strstr(out, "  round 1 B  glmark2 score mediated 1: 1: 300.0, 2: 500.0 (50.1% "
					  "apart)\n") &&
			      !strstr(out, "round 2"),
		      "the rounds' runs whose boots lie apart, outlier named; the second round's single boots not: %s",
		      out);
		free(out);
	}
	store_close(&s);
}

int main(void)
{
	return pg_fixture_both("boots", test_all);
}
