/* host_jobs.c: the configurations that run on the host itself (native): its agent, the noise settings, a
 * slowed-down host for calibration, its blocks of repetitions arm by arm. */
#define _GNU_SOURCE
#include "run/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/cpu_quota.h"
#include "run/run_state.h"
#include "store/store.h"
#include "util.h"

/* The plan's [noise] settings: LP_NUM_THREADS in the harness's own environment (every renderer it starts inherits
 * it: the mediator, QEMU's virgl, the host agent; guests get it with each job), and what the run did about noise,
 * kept as a host fact. */
void run_apply_noise_settings(struct run *r)
{
	const struct plan_noise *n = &r->plan.noise;
	char lp[48] = "llvmpipe's own choice", steal[96] = "off", *fact;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (n->lp_num_threads) {
		snprintf(lp, sizeof(lp), "%d", n->lp_num_threads);
		setenv("LP_NUM_THREADS", lp, 1);
	} else if (getenv("LP_NUM_THREADS")) {
		/* Not the plan's, but every renderer inherits it all the same. */
		snprintf(lp, sizeof(lp), "%.8s (from the environment)", getenv("LP_NUM_THREADS"));
	}
	if (n->max_steal_pct > 0)
		snprintf(steal, sizeof(steal), "a repetition over %.1f%% is redone, at most %d time%s", n->max_steal_pct,
			 n->max_redos, n->max_redos == 1 ? "" : "s");
	fact = vb_strdupf("warm-up repetition: %s; CPU steal: %s; LP_NUM_THREADS: %s; CPU pinning: %s (%ld CPUs); "
			  "guest boots: %d a topology%s",
			  n->warmup ? "on (discarded, one a boot)" : "off", steal, lp,
			  n->pin_cpus ? "where the host has enough CPUs (host fact cpu pinning per guest topology)"
				      : "off (pin_cpus = no)",
			  cpus, n->boots,
			  n->boots < 2	   ? ""
			  : r->narms > 1 ? ", its repetitions spread over them (job_noise.boot), the arms taking turns; one "
					   "for a configuration no other arm runs"
					 : ", its repetitions spread over them (job_noise.boot)");
	run_stored(r, store_host_fact(&r->store, r->id, "noise", fact), "a host fact");
	free(fact);
}

/* Start the host's own agent (native jobs, dom0); vtest: the socket its GL clients reach the back-end through
 * (NULL: they render on the host). 0, or -1 with a message printed. */
int run_start_host_agent(struct run *r, struct agent_conn *conn, const char *label, const char *vtest)
{
	static char *const virpipe[] = { "GALLIUM_DRIVER=virpipe", NULL };
	struct json_object *hello;
	char *log = vb_strdupf("%s/%s-agent.log", r->dir, label);
	/* A job's scratch files (glmark2's results CSV) go to a folder of the run's, emptied at each start, so a job
	 * killed with SIGKILL leaves nothing in /tmp. A vtest client's agent has a private /tmp (vtest_ns) instead. */
	char *scratch = vb_strdupf("%s/%s-tmp", r->dir, label);
	char *tmpdir = vb_strdupf("TMPDIR=%s", scratch);
	char *const own_tmp[] = { tmpdir, NULL };
	int rc;

	if (!vtest && (vb_rm_rf(scratch) < 0 || vb_mkdirs(scratch, 0755) < 0)) {
		vb_err("cannot make the host agent's scratch folder %s: %s", scratch, strerror(errno));
		rc = -1;
	} else {
		rc = agent_spawn_local(conn, r->agent, vtest ? virpipe : own_tmp, vtest, log, label);
	}
	free(scratch);
	if (rc < 0) {
		vb_err("cannot start the host agent %s (see %s)", r->agent, log);
		free(tmpdir);
		free(log);
		return -1;
	}
	free(tmpdir); /* the child has its own copy of the environment */
	if (agent_hello(conn, vb_now() + vb_scaled(10), &hello) < 0) {
		vb_err("the host agent %s did not answer (see %s)", r->agent, log);
		agent_close(conn);
		free(log);
		return -1;
	}
	json_object_put(hello);
	free(log);
	return 0;
}

/* A slowdown injected into native jobs: the host agent (and every job it starts) under a CPU quota. 0, or -1 with
 * the reason stored for the configuration's jobs. */
static int slow_down_host(struct run *r, const struct config_def *c, const struct agent_conn *conn, struct cpu_quota *q)
{
	char err[512], name[STORE_RUN_ID_MAX + 64];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	snprintf(name, sizeof(name), "vgpubench-%s-%s", r->id, c->name);
	if (cpu_quota_create(q, "/sys/fs/cgroup", name, r->slowdown_pct, cpus, err, sizeof(err)) < 0 ||
	    cpu_quota_add(q, conn->local_pid, err, sizeof(err)) < 0) {
		char *why = vb_strdupf("the %d%% slowdown could not be injected: %s", r->slowdown_pct, err);

		vb_err("%s: %s", c->name, why);
		run_fail_all(r, c, 0, why);
		free(why);
		return -1;
	}
	vb_log("%s: jobs under a CPU quota of %ld us every %ld us (%d%% less than %ld CPUs), the injected slowdown",
	       c->name, q->quota_us, q->period_us, r->slowdown_pct, cpus);
	return 0;
}

/* Repetitions [first, last] of a host configuration (open: its last ones), on a host agent of their own. */
static void run_host_block(struct run *r, const struct config_def *c, int first, int last, int open)
{
	struct agent_conn conn;
	struct cpu_quota quota = { .dir = "" };
	struct seats s;

	run_seats_for(r, c, 0, &s);
	if (run_reps_done(r, c, 0, &s, first, last, open))
		return;
	if (run_start_host_agent(r, &conn, "host", NULL) < 0) {
		if (!vb_stop_requested)
			run_fail_all(r, c, 0, "the host agent did not start");
		return;
	}
	if (!r->slowdown_pct || !c->slowdown || slow_down_host(r, c, &conn, &quota) == 0) {
		s.conn[0] = &conn;
		run_workloads(r, c, 0, &s, first, last, open);
	}
	agent_close(&conn);
	if (quota.dir[0]) {
		char *fact = vb_strdupf("%ld us every %ld us; the kernel held the jobs back in %lld periods",
					quota.quota_us, quota.period_us, cpu_quota_throttled(&quota));
		char *key = vb_strdupf("cpu quota (%s)", c->name);

		run_stored(r, store_host_fact(&r->store, r->id, key, fact), "a host fact");
		free(key);
		free(fact);
	}
	cpu_quota_remove(&quota);
}

/* Does an arm other than the run's own run configuration c (arm_runs)? */
static int others_run(const struct run *r, const struct config_def *c)
{
	for (int k = 1; k < r->narms; k++)
		if (run_arm_runs(r, k, c))
			return 1;
	return 0;
}

/* How many blocks configuration c's repetitions take: a guest topology's boots ([noise] boots). In an interleaved
 * run the blocks are the arms' turns, so a configuration no other arm runs (one the baseline does not change) takes
 * one: it has no one to take turns with, and more boots would only cost boot time (spreading one run's repetitions
 * over boots did not bring two runs closer: docs/compare-and-calibrate.md, "What a nightly run catches"). Host configurations take blocks
 * only to take turns. */
int run_config_blocks(const struct run *r, const struct config_def *c, int guests)
{
	if (r->narms > 1)
		return others_run(r, c) ? r->plan.noise.boots : 1;
	return guests ? r->plan.noise.boots : 1;
}

/* A host configuration: its repetitions at once, or in an interleaved run split into blocks as a guest topology's
 * boots are ([noise] boots), each arm's block in turn. */
void run_host_config(struct run *r, const struct config_def *c)
{
	int blocks = run_config_blocks(r, c, 0);

	for (int b = 1; b <= blocks && !run_stopping(r); b++)
		for (int j = 0; j < r->narms && !run_stopping(r); j++) {
			int k = run_arm_at(r, b, j), first = 1, last = r->plan.repetitions;

			if (!run_arm_runs(r, k, c))
				continue;
			run_arm_enter(r, k);
			if (blocks > 1)
				plan_boot_reps(&r->plan, b, &first, &last);
			run_host_block(r, c, first, last, b == blocks);
		}
	run_arm_enter(r, 0);
}
