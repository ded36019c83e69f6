/* runs_fixture.h: tests' synthetic runs in a results database: a run shaped
 * like the default plan's (native and 3 guests, 5 repetitions, a little
 * noise) and copies of it with throughput scaled by a factor; and a run with
 * a row in every table a run owns (for the exports and import). */
#ifndef VGPUBENCH_RUNS_FIXTURE_H
#define VGPUBENCH_RUNS_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "configs/vgpu_stats.h"

#include "store/db.h"
#include "store/store.h"
#include "util.h"

/* A test's own edit of the rows, through the store's connection; a failure ends the test. */
static inline void exec_sql(struct store *s, const char *sql)
{
	if (s->drv->exec(s->db, sql) < 0) {
		fprintf(stderr, "sql: %s\n", s->drv->errmsg(s->db));
		exit(1);
	}
}

/* A run like the default plan's: native and 3 guests, 5 repetitions, a little noise. */
static inline void make_run(struct store *s, const char *id)
{
	static const double noise[] = { 0.99, 1.01, 1.0, 0.995, 1.005, 0.998, 1.003, 0.997, 1.002, 1.004 };
	int k = 0;

	store_run_create(s, id, "nightly", "h1", "plan.ini", "[plan]\n", "/tmp");
	for (int rep = 1; rep <= 5; rep++)
		for (int g = 0; g <= 3; g++) {
			struct wl_result m = { 0 };
			double base = g == 0 ? 850 : 90, f = noise[k++ % 10];
			struct job_row j = { .config = g ? "qemu-virgl" : "native", .topology = g ? 3 : 0,
					     .guest_index = g, .workload = "glmark2", .repetition = rep, .status = "ok",
					     .accel = "tcg", .wall_s = 1, .user_s = 1, .sys_s = 0, .maxrss_kb = 1,
					     .exit_code = 0, .metrics = &m };

			wl_add_metric(&m, "score", base * f, "score", 1);
			wl_add_metric(&m, "build.frame_time", 1000.0 / (base * f), "ms", 0);
			store_jobs(s, id, &j, 1);
		}
	store_run_set_status(s, id, "complete", NULL);
}

/* Copy run `from` as `to`, scaling throughput by factor (frame times by 1/factor). */
static inline void copy_run(struct store *s, const char *from, const char *to, double factor)
{
	char *sql = vb_strdupf(
		"INSERT INTO runs(id, plan_name, plan_path, plan_text, dir, started_at, finished_at, status)"
		" SELECT '%s', plan_name, plan_path, plan_text, dir, started_at, finished_at, status FROM runs WHERE id = '%s';"
		"INSERT INTO jobs(run_id, config, topology, guest_index, workload, repetition, status, reason, accel,"
		" renderer, wall_s, user_s, sys_s, maxrss_kb, exit_code, log_path, finished_at)"
		" SELECT '%s', config, topology, guest_index, workload, repetition, status, reason, accel, renderer,"
		" wall_s, user_s, sys_s, maxrss_kb, exit_code, log_path, finished_at FROM jobs WHERE run_id = '%s';"
		"INSERT INTO metrics(job_id, name, value, unit, direction)"
		" SELECT n.id, m.name, CASE m.direction WHEN 'higher' THEN m.value * %.17g ELSE m.value / %.17g END,"
		" m.unit, m.direction FROM metrics m JOIN jobs o ON o.id = m.job_id JOIN jobs n ON n.run_id = '%s'"
		" AND n.config = o.config AND n.topology = o.topology AND n.guest_index = o.guest_index"
		" AND n.workload = o.workload AND n.repetition = o.repetition WHERE o.run_id = '%s';",
		to, from, to, from, factor, factor, to, from);

	exec_sql(s, sql);
	free(sql);
}

/* A run with a row in every table a run owns, and text that is hard to carry (quotes, line breaks, UTF-8). */
static inline void make_full_run(struct store *s, const char *id)
{
	struct wl_result m = { 0 };
	struct vgpu_stats vs = { .present = 1, .policy = "fixed-share", .share = 0.5, .weight = 2, .gpu_ms = 750.25,
				 .sync_ms = 50, .async_ms = 700, .throttled_ms = 30, .batches = 40, .frames = 90,
				 .resets = 1, .watchdog_trips = 2, .watchdog_longest_ms = 5236.5 };
	struct job_noise noise = { .steal_pct = 1.5, .load_before = 0.25, .load_after = 0.75, .redos = 1,
				   .redo_reason = "steal 12% > 10%", .boot = 2 };
	struct job_row j[2] = {
		{ .config = "mediated", .topology = 1, .guest_index = 1, .workload = "glmark2", .repetition = 1,
		  .status = "ok", .accel = "tcg", .renderer = "virgl (LLVMPIPE)", .wall_s = 12.125, .user_s = 0.1,
		  .sys_s = 0.2, .maxrss_kb = 4096, .log_path = "runs/x/glmark2.log", .metrics = &m,
		  .vgpu_name = "guest1", .vgpu = &vs, .noise = &noise },
		{ .config = "native", .topology = 0, .guest_index = 0, .workload = "piglit", .repetition = 1,
		  .status = "failed", .reason = "exit 1:\n\"crash\" in spec@a", .exit_code = 1, .wall_s = 3 },
	};
	struct vgpu_sample smp[3] = { { .t_s = 0 }, { .t_s = 0.5 }, { .t_s = 1.0 / 3 } };
	struct scenario_row rows[2];
	struct guest_row g = { .config = "mediated", .topology = 1, .guest_index = 1, .accel = "tcg",
			       .boot_s = 9.75, .kernel = "6.1.0-28-amd64", .agent_version = "1", .drm = "virtio_gpu",
			       .serial_log = "runs/x/guest1.serial.log", .status = "up" };
	const struct calibration_row cal = { .workload = "glmark2", .metric = "score", .config = "mediated",
					     .topology = 1, .injected = "mediator throttle 5%", .aa_pairs = 3,
					     .ab_pairs = 6, .ab_detected = 5, .change_pct = -4.5,
					     .detectable_pct = NAN };

	wl_add_metric(&m, "score", 472.0, "score", 1);
	wl_add_metric(&m, "build.frame_time", 0.1 + 0.2, "ms", 0);
	wl_add_subtest(&m, "spec@glsl-1.10@execution@é", "pass");
	vs.stages_present = 1;
	for (int i = 0; i < 10; i++)
		stage_record(&vs.stage[STAGE_CHECK], 20000 + 100 * (uint64_t)i);
	stage_record(&vs.stage[STAGE_FENCE], 3000000);
	for (int i = 0; i < 3; i++) {
		smp[i].present[0] = smp[i].present[1] = 1;
		smp[i].gpu_ms[0] = 100.0 * i + 0.1;
		smp[i].gpu_ms[1] = 50.0 * i;
		smp[i].frames[1] = 30.0 * i;
	}
	rows[0] = (struct scenario_row){ .scenario = "noisy", .policy_run = "equal-share", .phase = "contended",
					 .guest_index = 1, .workload = "gpuhog", .repetition = 1, .status = "ok",
					 .metric = "fps", .value = 16.5, .has_value = 1, .unit = "fps", .wall_s = 40,
					 .vgpu_name = "guest1", .vgpu = &vs, .samples = smp, .nsamples = 3,
					 .sample_col = 0, .window_gpu_ms = 200, .window_s = 2 };
	rows[1] = rows[0];
	rows[1].guest_index = 2;
	rows[1].workload = "idle";
	rows[1].has_value = 0;
	rows[1].vgpu = NULL;
	rows[1].sample_col = 1;
	rows[1].window_gpu_ms = -1;

	CHECK(store_run_create(s, id, "full", "lab-1", "plans/full.ini",
			       "[plan]\nname = full # \"quoted\", tab\there, ünïcode\n", "runs/full") == 0,
	      "the run: %s", s->err);
	CHECK(store_host_fact(s, id, "cpu_model", "AMD EPYC 7B13") == 0 &&
		      store_host_fact(s, id, "qemu", "10.0.2") == 0 &&
		      store_config(s, id, "native", "run", NULL) == 0 &&
		      store_config(s, id, "mediated", "run", NULL) == 0 &&
		      store_config(s, id, "passthrough", "skipped", "no IOMMU: no /sys/kernel/iommu_groups") == 0,
	      "its host facts and configurations");
	CHECK(store_guest(s, id, &g) == 0, "a guest: %s", s->err);
	g.guest_index = 2;
	g.status = "failed";
	g.reason = "no hello in 90 s";
	g.boot_s = -1;
	CHECK(store_guest(s, id, &g) == 0, "a guest that failed: %s", s->err);
	CHECK(store_jobs(s, id, j, 2) == 0, "two jobs: %s", s->err);
	CHECK(store_scenario_jobs(s, id, rows, 2) == 0, "a scenario repetition: %s", s->err);
	CHECK(store_calibration_put(s, id, &cal, 1) == 0, "a calibration row: %s", s->err);
	CHECK(store_run_set_status(s, id, "complete", NULL) == 0, "complete");
	wl_result_free(&m);
}

#endif
