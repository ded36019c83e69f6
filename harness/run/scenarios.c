/* scenarios.c: sharing scenarios: each policy's phases (baseline and contended), their repetitions with the
 * mediator sampled while they run, stored per guest. */
#define _GNU_SOURCE
#include "run/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "configs/gpu_backend.h"
#include "configs/vgpu_stats.h"
#include "run/run_state.h"
#include "store/store.h"
#include "util.h"

/* ---- sharing-quality scenarios ---- */

#define SCENARIO_SAMPLE_S 1.0 /* the mediator is asked this often during a scenario job */

/* What one scenario phase runs: the scenario, the policy it runs under, its phase and each guest's workload. */
struct scenario_phase {
	const struct plan_scenario *sc;
	const char *policy, *phase;
	const char *const *seat; /* workload names, NULL for idle */
};

/* The kind of scenario sc's steps, as progress.h counts them ("scenario NAME"), into buf. */
static const char *step_kind(const struct plan_scenario *sc, char *buf, size_t len)
{
	snprintf(buf, len, "scenario %s", sc->name);
	return buf;
}

/* Store every guest's job of this phase and repetition as `status` for `reason` (a scenario that cannot run). */
static void scenario_fail(struct run *r, const struct scenario_phase *ph, int rep, const char *status,
			  const char *reason)
{
	struct scenario_row rows[PLAN_MAX_SEATS];
	char names[PLAN_MAX_SEATS][16], kind[80];
	int n = ph->sc->nguests;

	if (store_scenario_done(&r->store, r->id, ph->sc->name, ph->policy, ph->phase, 1, rep))
		return;
	for (int g = 0; g < n; g++) {
		snprintf(names[g], sizeof(names[g]), "guest%d", g + 1);
		rows[g] = (struct scenario_row){ .scenario = ph->sc->name, .policy_run = ph->policy, .phase = ph->phase,
						 .guest_index = g + 1, .workload = ph->seat[g] ? ph->seat[g] : "idle",
						 .repetition = rep, .status = status, .reason = reason, .wall_s = -1,
						 .vgpu_name = names[g] };
	}
	if (run_stored(r, store_scenario_jobs(&r->store, r->id, rows, n), "a scenario's jobs"))
		r->jobs_stored += n;
	if (strcmp(status, "skipped") != 0) /* a step over; a skipped scenario was never counted */
		progress_step_done(r, step_kind(ph->sc, kind, sizeof(kind)), n);
}

/* A frame-rate target's windows: the one-second sample intervals while the guest's own job ran, and those whose
 * frame rate reached the target (the mediator's own windows also count seconds after the job ended). */
static void target_windows(const struct vgpu_sampler *sp, int g, double wall_s, struct vgpu_stats *v)
{
	int n = 0, met = 0;

	for (size_t i = 1; i < sp->ns; i++) {
		const struct vgpu_sample *a = &sp->s[i - 1], *b = &sp->s[i];
		double dt = b->t_s - a->t_s;

		if (!a->present[g] || !b->present[g] || dt <= 0 || b->t_s > wall_s)
			continue;
		n++;
		met += (b->frames[g] - a->frames[g]) / dt >= v->target_fps;
	}
	v->windows = n;
	v->windows_met = met;
}

/* row's value: the job's headline metric, when the workload printed it. */
static void take_headline(struct scenario_row *row, const struct workload_def *w, const struct wl_result *wr)
{
	row->metric = w->headline_metric;
	for (int m = 0; m < wr->n; m++)
		if (!strcmp(wr->m[m].name, w->headline_metric)) {
			row->value = wr->m[m].value;
			row->unit = wr->m[m].unit;
			row->has_value = 1;
		}
}

/* A guest's line in the run's log: its result (or status, when it has no value), its GPU time and share of the
 * guests' total, how long it was held, and why it failed. */
static void say_guest(const struct scenario_row *row, const struct vgpu_stats *v, double total, const char *status,
		      const char *reason)
{
	char what[96];

	if (row->has_value)
		snprintf(what, sizeof(what), "%.1f %s", row->value, row->unit);
	else
		snprintf(what, sizeof(what), "%s", status);
	vb_log("  %s: %s %s, GPU time %.0f ms (%.0f%% of the guests'), held %.0f ms%s%s", row->vgpu_name, row->workload,
	       what, v->present ? v->gpu_ms : 0, total > 0 && v->present ? 100 * v->gpu_ms / total : 0,
	       v->present ? v->throttled_ms : 0, reason[0] ? ": " : "", reason);
}

/* One repetition of a phase: every busy guest runs its workload at once, idle guests run nothing; the mediator's
 * counters are read around it and sampled during it; every guest's row is stored in one transaction. */
static void scenario_rep(struct run *r, const struct config_def *c, const struct scenario_phase *ph, int rep,
			 struct guest_set *gs, const char *control)
{
	const struct plan_scenario *sc = ph->sc;
	int n = sc->nguests, nb = 0, slot[PLAN_MAX_SEATS];
	struct agent_conn *conns[PLAN_MAX_SEATS];
	const char *const *argvs[PLAN_MAX_SEATS];
	const char *bundled[PLAN_MAX_SEATS][32];
	char *bins[PLAN_MAX_SEATS], *logs[PLAN_MAX_SEATS], *before, *after;
	struct job_result res[PLAN_MAX_SEATS];
	struct wl_result *wr = calloc(PLAN_MAX_SEATS, sizeof(*wr));
	struct scenario_row rows[PLAN_MAX_SEATS];
	struct vgpu_stats vs[PLAN_MAX_SEATS];
	char names[PLAN_MAX_SEATS][16], reasons[PLAN_MAX_SEATS][512], label[160], kind[80];
	const char *namep[PLAN_MAX_SEATS];
	struct vgpu_sampler sp;
	int sampling;
	double total = 0;

	if (!wr)
		abort();
	snprintf(label, sizeof(label), "scenario-%s-%s-%s", sc->name, ph->policy, ph->phase);
	for (int g = 0; g < n; g++) {
		const struct workload_def *w = ph->seat[g] ? workload_find(ph->seat[g]) : NULL;

		snprintf(names[g], sizeof(names[g]), "guest%d", g + 1);
		namep[g] = names[g];
		slot[g] = -1;
		if (!w)
			continue;
		logs[nb] = run_log_path(r, label, n, g + 1, w->name, rep);
		argvs[nb] = run_resolved_argv(w, WL_GUEST, bundled[nb], &bins[nb]);
		conns[nb] = &gs->conns[g];
		slot[g] = nb++;
	}
	vb_log("%sscenario %s, %s, %s: repetition %d/%d (%s)%s", progress_tag(r), sc->name, ph->policy, ph->phase, rep,
	       r->plan.repetitions, label, progress_left(r));
	before = gpu_backend_request(control, "stats\n");
	sampling = vgpu_sampler_start(&sp, control, namep, n, SCENARIO_SAMPLE_S) == 0;
	agent_run_parallel(conns, nb, argvs, NULL, r->plan.job_timeout_s, (const char *const *)logs, res);
	if (sampling)
		vgpu_sampler_stop(&sp);
	after = gpu_backend_request(control, "stats\n");
	if (!vb_stop_requested) {
		for (int g = 0; g < n; g++) {
			struct vgpu_stats b, a;

			memset(&vs[g], 0, sizeof(vs[g]));
			if (before && after && vgpu_stats_parse(before, names[g], &b) == 0 &&
			    vgpu_stats_parse(after, names[g], &a) == 0)
				vgpu_stats_delta(&b, &a, &vs[g]);
			total += vs[g].present ? vs[g].gpu_ms : 0;
		}
		if (!before || !after)
			vb_err("scenario %s: the mediator's counters could not be read", sc->name);
		/* The contended window: from the start until the first busy guest's job ended, from the samples. */
		double wend = -1;
		size_t last = 0;

		for (int k = 0; k < nb; k++)
			if (res[k].wall_s > 0 && (wend < 0 || res[k].wall_s < wend))
				wend = res[k].wall_s;
		for (size_t i = 0; sampling && i < sp.ns; i++)
			if (sp.s[i].t_s <= wend)
				last = i;
		for (int g = 0; g < n; g++) {
			const struct workload_def *w = ph->seat[g] ? workload_find(ph->seat[g]) : NULL;
			int k = slot[g];
			const char *st = "ok";

			reasons[g][0] = 0;
			rows[g] = (struct scenario_row){ .scenario = sc->name, .policy_run = ph->policy, .phase = ph->phase,
							 .guest_index = g + 1, .workload = w ? w->name : "idle",
							 .repetition = rep, .status = "ok", .wall_s = -1,
							 .vgpu_name = names[g], .vgpu = vs[g].present ? &vs[g] : NULL,
							 .samples = sampling ? sp.s : NULL, .nsamples = sampling ? sp.ns : 0,
							 .sample_col = g, .window_gpu_ms = -1, .window_s = -1 };
			if (sampling && last > 0 && sp.s[0].present[g] && sp.s[last].present[g]) {
				rows[g].window_gpu_ms = sp.s[last].gpu_ms[g] - sp.s[0].gpu_ms[g];
				rows[g].window_s = sp.s[last].t_s - sp.s[0].t_s;
			}
			if (w && vs[g].present && vs[g].target_fps > 0 && sampling)
				target_windows(&sp, g, res[k].wall_s, &vs[g]);
			if (w) {
				st = run_judge(r, c, SEAT_GUEST, c->guest_kms_driver, w, &res[k], &wr[k], reasons[g],
					       sizeof(reasons[g]));
				rows[g].status = st;
				rows[g].reason = reasons[g][0] ? reasons[g] : NULL;
				rows[g].renderer = wr[k].renderer[0] ? wr[k].renderer : NULL;
				rows[g].wall_s = res[k].wall_s;
				rows[g].log_path = run_results_rel(r, logs[k]);
				take_headline(&rows[g], w, &wr[k]);
				if (strcmp(st, "ok") != 0 && strcmp(st, "skipped") != 0)
					r->failed_jobs++;
			}
			say_guest(&rows[g], &vs[g], total, w ? st : "nothing to run", reasons[g]);
		}
		if (run_stored(r, store_scenario_jobs(&r->store, r->id, rows, n), "a scenario's jobs"))
			r->jobs_stored += n;
		progress_step_done(r, step_kind(sc, kind, sizeof(kind)), n);
	}
	for (int k = 0; k < nb; k++) {
		wl_result_free(&wr[k]);
		job_result_free(&res[k]);
		free(logs[k]);
		free(bins[k]);
	}
	if (sampling)
		vgpu_sampler_free(&sp);
	free(wr);
	free(before);
	free(after);
}

/* Set the mediator to a policy with the scenario's weights and targets. 0, or -1 with the refusal printed. */
static int scenario_policy(const struct plan_scenario *sc, int policy, const char *control)
{
	char line[128], *ans;
	int ok = 1;

	snprintf(line, sizeof(line), "policy %s\n", plan_policy_name(policy));
	ans = gpu_backend_request(control, line);
	ok = ans && strstr(ans, "\"ok\":true");
	if (!ok)
		vb_err("scenario %s: the mediator refused '%s': %s", sc->name, plan_policy_name(policy),
		       ans ? ans : "no answer");
	free(ans);
	for (int g = 1; ok && g <= sc->nguests; g++) {
		snprintf(line, sizeof(line), "set guest%d weight=%d fps=%g\n", g, sc->med.weight[g] ? sc->med.weight[g] : 1,
			 sc->med.target_fps[g]);
		ans = gpu_backend_request(control, line);
		ok = ans && strstr(ans, "\"ok\":true");
		if (!ok)
			vb_err("scenario %s: the mediator refused '%s': %s", sc->name, line, ans ? ans : "no answer");
		free(ans);
	}
	return ok ? 0 : -1;
}

/* Is repetition rep of a phase stored, every guest's job? */
static int rep_done(struct run *r, const struct scenario_phase *ph, int rep)
{
	for (int g = 1; g <= ph->sc->nguests; g++)
		if (!store_scenario_done(&r->store, r->id, ph->sc->name, ph->policy, ph->phase, g, rep))
			return 0;
	return 1;
}

static int phase_done(struct run *r, const struct scenario_phase *ph)
{
	for (int rep = 1; rep <= r->plan.repetitions; rep++)
		if (!rep_done(r, ph, rep))
			return 0;
	return 1;
}

/* How many phases scenario sc runs under each policy: contended, and baseline when it has one. */
static int scenario_phases(const struct plan_scenario *sc)
{
	return sc->nbaseline ? 2 : 1;
}

/* Phase b (0 contended, 1 baseline) of scenario sc under its policy p. */
static struct scenario_phase scenario_phase_at(const struct plan_scenario *sc, int p, int b)
{
	return (struct scenario_phase){ sc, plan_policy_name(sc->policies[p]), b ? "baseline" : "contended",
					b ? sc->baseline : sc->guests };
}

/* Every phase of scenario sc under its policy p, as `status` for `reason`. */
static void scenario_fail_policy(struct run *r, const struct plan_scenario *sc, int p, const char *status,
				 const char *reason)
{
	for (int b = 0; b < scenario_phases(sc); b++) {
		struct scenario_phase ph = scenario_phase_at(sc, p, b);

		for (int rep = 1; rep <= r->plan.repetitions; rep++)
			scenario_fail(r, &ph, rep, status, reason);
	}
}

/* Every phase of scenario sc under every policy, as `status` for `reason`. */
static void scenario_fail_all(struct run *r, const struct plan_scenario *sc, const char *status, const char *reason)
{
	for (int p = 0; p < sc->npolicies; p++)
		scenario_fail_policy(r, sc, p, status, reason);
}

/* One scenario: its guests booted once on one mediator; under each policy (set over the control socket) the
 * contended phase, then the baseline, each for the plan's repetitions. */
static void run_scenario(struct run *r, const struct config_def *c, const struct plan_scenario *sc)
{
	int n = sc->nguests, all = 1;
	struct guest_set gs;
	struct gpu_backend gb;
	char err[512], reason[512] = "", label[96];
	char *dir;
	struct plan_mediator med = sc->med;

	for (int p = 0; p < sc->npolicies; p++)
		for (int b = 0; b < scenario_phases(sc); b++) {
			struct scenario_phase ph = scenario_phase_at(sc, p, b);

			all &= phase_done(r, &ph);
		}
	if (all)
		return;
	dir = vb_strdupf("%s/vms/sc-%s", r->dir, sc->name); /* short: unix socket paths live in it */
	if (vb_mkdirs(dir, 0755) < 0) {
		vb_err("cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return;
	}
	med.policy = sc->policies[0];
	/* The scenario gives the scheduling; the mediator process's own settings ([mediator]: watchdog, display
	 * refresh, and calibrate's throttle) are the plan's, as for every other mediated boot. */
	med.watchdog_set = r->plan.med.watchdog_set;
	med.watchdog_ms = r->plan.med.watchdog_ms;
	med.watchdog_quarantine = r->plan.med.watchdog_quarantine;
	med.display_fps_set = r->plan.med.display_fps_set;
	med.display_fps = r->plan.med.display_fps;
	med.render_workers = r->plan.med.render_workers;
	memcpy(med.vgpu_mem_mb, r->plan.med.vgpu_mem_mb, sizeof(med.vgpu_mem_mb));
	med.throttle_pct = r->plan.med.throttle_pct;
	char link[64];
	struct backend_env env = {
		.host = &r->host, .plan = &r->plan, .dir = dir, .mediator = r->mediator, .memory_mb = r->plan.memory_mb,
		.sched = &med
	};

	env.sockdir = run_socket_dir(dir, link, sizeof(link));
	if (gpu_backend_start(&gb, c, n, &env, err, sizeof(err)) < 0 || !gb.control[0]) {
		char *why = vb_strdupf("the mediator did not start: %s", err);

		vb_err("scenario %s: %s", sc->name, why);
		scenario_fail_all(r, sc, "failed", why);
		free(why);
		if (link[0])
			unlink(link);
		free(dir);
		return;
	}
	snprintf(label, sizeof(label), "scenario:%s", sc->name);
	vb_log("scenario %s: booting %d guests at once (%s; %s)", sc->name, n, r->host.accel, gb.description);
	if (run_guests_boot(r, c, label, n, dir, env.sockdir, &gb, &gs, reason, sizeof(reason)) < 0) {
		if (!vb_stop_requested) {
			char *why = vb_strdupf("guests did not boot: %s", reason);

			scenario_fail_all(r, sc, "failed", why);
			free(why);
		}
	} else {
		for (int p = 0; p < sc->npolicies && !run_stopping(r); p++) {
			if (scenario_policy(sc, sc->policies[p], gb.control) < 0) {
				scenario_fail_policy(r, sc, p, "failed", "the mediator refused the policy");
				continue;
			}
			for (int b = 0; b < scenario_phases(sc) && !run_stopping(r); b++) {
				struct scenario_phase ph = scenario_phase_at(sc, p, b);

				for (int rep = 1; rep <= r->plan.repetitions && !run_stopping(r); rep++)
					if (!store_scenario_done(&r->store, r->id, sc->name, ph.policy, ph.phase, 1, rep))
						scenario_rep(r, c, &ph, rep, &gs, gb.control);
			}
		}
	}
	run_record_backend(r, c, n, &gb, dir);
	run_guests_stop(&gs);
	gpu_backend_stop(&gb);
	if (link[0])
		unlink(link);
	free(dir);
}

void run_scenario_steps(struct run *r, int *total, int *done)
{
	const struct config_def *c = config_with_role(ROLE_MEDIATED);
	char buf[256];

	if (!r->plan.nscenarios || !c || host_skip_reason(&r->host, &r->plan, c, buf, sizeof(buf)))
		return; /* stored skipped, no step */
	for (int i = 0; i < r->plan.nscenarios; i++) {
		const struct plan_scenario *sc = &r->plan.scenarios[i];

		int steps = 0, stored = 0;

		for (int p = 0; p < sc->npolicies; p++)
			for (int b = 0; b < scenario_phases(sc); b++) {
				struct scenario_phase ph = scenario_phase_at(sc, p, b);

				for (int rep = 1; rep <= r->plan.repetitions; rep++) {
					steps++;
					stored += rep_done(r, &ph, rep);
				}
			}
		*total += steps;
		*done += stored;
		progress_scenario_kind(r, sc->name, sc->nguests, steps, stored);
	}
}

/* The plan's scenarios, on the mediated configuration; where it cannot run here, each is stored skipped with why. */
void run_scenarios(struct run *r)
{
	const struct config_def *c = config_with_role(ROLE_MEDIATED);
	char buf[256];
	const char *skip;

	if (!r->plan.nscenarios)
		return;
	skip = c ? host_skip_reason(&r->host, &r->plan, c, buf, sizeof(buf)) : "no mediated configuration is built in";
	for (int i = 0; i < r->plan.nscenarios && !run_stopping(r); i++) {
		if (skip) {
			vb_log("scenario %s: skipped: %s", r->plan.scenarios[i].name, skip);
			scenario_fail_all(r, &r->plan.scenarios[i], "skipped", skip);
			continue;
		}
		if (run_ensure_image(r) < 0) {
			scenario_fail_all(r, &r->plan.scenarios[i], "failed",
					  "the guest image could not be built (see the harness's messages)");
			continue;
		}
		run_scenario(r, c, &r->plan.scenarios[i]);
	}
}
