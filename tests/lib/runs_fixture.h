/* runs_fixture.h: tests' synthetic runs in a results database: a run shaped
 * like the default plan's (native and 3 guests, 5 repetitions, a little
 * noise) and copies of it with throughput scaled by a factor. */
#ifndef VGPUBENCH_RUNS_FIXTURE_H
#define VGPUBENCH_RUNS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

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

#endif
