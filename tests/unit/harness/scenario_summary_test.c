/* scenario_summary_test.c: the report's arithmetic over scenario rows,
 * against hand-computed cases: medians over repetitions, GPU-time shares in
 * the contended window, configured shares, Jain on GPU time per weight and
 * on throughput, target windows, a victim's throughput kept against its
 * baseline, what a policy costs against best effort, failures named, and
 * unknowns left unknown. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "analysis/scenario_summary.h"

static struct scenario_result row(const char *policy, const char *phase, int guest, const char *workload, int rep,
				  double value, double window_gpu, double weight)
{
	struct scenario_result r;

	memset(&r, 0, sizeof(r));
	r.id = guest * 100 + rep;
	snprintf(r.scenario, sizeof(r.scenario), "noisy");
	snprintf(r.policy_run, sizeof(r.policy_run), "%s", policy);
	snprintf(r.phase, sizeof(r.phase), "%s", phase);
	snprintf(r.workload, sizeof(r.workload), "%s", workload);
	snprintf(r.status, sizeof(r.status), "ok");
	snprintf(r.metric, sizeof(r.metric), "score");
	r.guest_index = guest;
	r.repetition = rep;
	r.value = value;
	r.window_gpu_ms = window_gpu;
	r.gpu_ms = window_gpu;
	r.weight = weight;
	r.share = -1;
	r.throttled_ms = 10.0 * rep;
	r.windows = r.windows_met = -1;
	return r;
}

static int near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

int main(void)
{
	struct scenario_result rows[20];

	struct scen_phase *p;
	size_t n = 0, np;

	/* Contended: a hog (guest1) and two glmark2 guests, two repetitions. */
	rows[n++] = row("equal-share", "contended", 1, "gpuhog", 1, 16, 600, 1);
	rows[n++] = row("equal-share", "contended", 2, "glmark2", 1, 90, 200, 1);
	rows[n++] = row("equal-share", "contended", 3, "glmark2", 1, 110, 200, 1);
	rows[n++] = row("equal-share", "contended", 1, "gpuhog", 2, 18, 400, 1);
	rows[n++] = row("equal-share", "contended", 2, "glmark2", 2, 100, 300, 1);
	rows[n++] = row("equal-share", "contended", 3, "glmark2", 2, 90, 300, 1);
	/* Baseline: the hog idle. */
	rows[n++] = row("equal-share", "baseline", 1, "idle", 1, -1, 0, 1);
	rows[n++] = row("equal-share", "baseline", 2, "glmark2", 1, 200, 500, 1);
	rows[n++] = row("equal-share", "baseline", 3, "glmark2", 1, 100, 500, 1);
	/* Fixed share 2:1 with one failure and one unknown window. */
	rows[n++] = row("fixed-share", "contended", 1, "gpuhog", 1, 20, 660, 2);
	rows[n++] = row("fixed-share", "contended", 2, "gpuhog", 1, 10, 340, 1);
	rows[n++] = row("fixed-share", "contended", 3, "glmark2", 1, 50, -1, 1);
	rows[9].share = 2.0 / 3;
	snprintf(rows[11].status, sizeof(rows[11].status), "failed");
	snprintf(rows[11].reason, sizeof(rows[11].reason), "glmark2 exited with code 1");
	rows[11].value = -1;
	rows[9].target_fps = 30;
	rows[9].windows = 10;
	rows[9].windows_met = 7;

	CHECK(scen_summarise(rows, n, &p, &np) == 0 && np == 3, "three phases: %zu", np);
	if (np != 3)
		return check_done("scenario_summary");
	CHECK(!strcmp(p[0].phase, "contended") && !strcmp(p[1].phase, "baseline") && !strcmp(p[2].policy, "fixed-share"),
	      "in the order stored");
	CHECK(p[0].n == 3 && near(p[0].g[1].value, 95) && near(p[0].g[0].value, 17), "medians: %f %f", p[0].g[1].value,
	      p[0].g[0].value);
	/* Shares per repetition: hog 0.6 and 0.4; guest2 0.2 and 0.3. */
	CHECK(near(p[0].g[0].gpu_share, 0.5) && near(p[0].g[1].gpu_share, 0.25), "window shares: %f %f",
	      p[0].g[0].gpu_share, p[0].g[1].gpu_share);
	CHECK(near(p[0].g[0].throttled_ms, 15) && p[0].g[0].ok == 2 && p[0].g[0].reps == 2, "held median, ok count");
	CHECK(isnan(p[0].g[0].share), "no configured share recorded: unknown");
	CHECK(isnan(p[0].jain_value), "throughput Jain needs one workload for all busy guests");
	/* Jain over 0.5, 0.25, 0.25: 1 / (3 * 0.375) = 0.888... */
	CHECK(near(p[0].jain_gpu, 1.0 / (3 * 0.375)), "Jain on GPU time: %f", p[0].jain_gpu);
	CHECK(isnan(p[1].g[0].value) && !strcmp(p[1].g[0].workload, "idle"), "an idle guest has no throughput");
	CHECK(near(p[1].jain_value, (300.0 * 300) / (2 * (200.0 * 200 + 100.0 * 100))), "baseline Jain on throughput");
	CHECK(scen_baseline_of(p, np, &p[0]) == &p[1] && scen_baseline_of(p, np, &p[2]) == NULL, "baseline found");
	CHECK(near(scen_kept(&p[0], &p[1], 1), 95.0 / 200) && near(scen_kept(&p[0], &p[1], 2), 100.0 / 100),
	      "kept: %f %f", scen_kept(&p[0], &p[1], 1), scen_kept(&p[0], &p[1], 2));
	CHECK(isnan(scen_kept(&p[0], &p[1], 0)), "the hog has nothing to keep (idle in the baseline)");
	CHECK(isnan(scen_kept(&p[0], &p[1], 7)), "a guest past the end");
	CHECK(scen_best_effort_of(p, np, &p[0]) == NULL, "no best-effort phase stored: nothing to weigh against");
	/* Fixed share: the failed guest's unknown window leaves the repetition's shares unknown. */
	CHECK(isnan(p[2].g[0].gpu_share) && isnan(p[2].jain_gpu), "an unknown window makes shares unknown");
	CHECK(near(p[2].g[0].share, 2.0 / 3) && near(p[2].g[0].weight, 2), "configured share and weight kept");
	CHECK(p[2].g[2].ok == 0 && check_contains(p[2].g[2].problem, "failed: glmark2 exited with code 1") &&
		      isnan(p[2].g[2].value),
	      "a failure is named, its value unknown: '%s'", p[2].g[2].problem);
	CHECK(near(p[2].g[0].windows, 10) && near(p[2].g[0].windows_met, 7), "target windows summed");
	free(p);

	/* Per weight: 2:1 shares of 2/3 and 1/3 are perfectly fair. */
	rows[11].window_gpu_ms = 0;
	rows[9].window_gpu_ms = 200;
	rows[10].window_gpu_ms = 100;
	rows[11].workload[0] = 0;
	snprintf(rows[11].workload, sizeof(rows[11].workload), "idle");
	CHECK(scen_summarise(rows + 9, 3, &p, &np) == 0 && np == 1, "one phase");
	CHECK(np == 1 && near(p[0].jain_gpu, 1.0), "2:1 against weights 2:1: Jain %f", np ? p[0].jain_gpu : -1);
	CHECK(np == 1 && near(p[0].jain_value, 1.0), "20 and 10 fps at weights 2:1: Jain per weight %f",
	      np ? p[0].jain_value : -1);
	free(p);
	CHECK(scen_summarise(rows, 0, &p, &np) == 0 && np == 0, "no rows, no phases");
	free(p);

	/* What a policy costs: the same guests and phases under best effort and equal share. With the hog idle,
	 * equal share keeps its share in reserve (victims 120 and 100 against 180 and 150 under best effort); with
	 * the hog busy it protects them (90 against 30). */
	n = 0;
	rows[n++] = row("best-effort", "contended", 1, "gpuhog", 1, 30, 700, 1);
	rows[n++] = row("best-effort", "contended", 2, "glmark2", 1, 30, 150, 1);
	rows[n++] = row("best-effort", "baseline", 1, "idle", 1, -1, 0, 1);
	rows[n++] = row("best-effort", "baseline", 2, "glmark2", 1, 180, 500, 1);
	rows[n++] = row("best-effort", "baseline", 3, "glmark2", 1, 150, 500, 1);
	rows[n++] = row("equal-share", "contended", 1, "gpuhog", 1, 12, 340, 1);
	rows[n++] = row("equal-share", "contended", 2, "glmark2", 1, 90, 330, 1);
	rows[n++] = row("equal-share", "baseline", 1, "idle", 1, -1, 0, 1);
	rows[n++] = row("equal-share", "baseline", 2, "glmark2", 1, 120, 330, 1);
	rows[n++] = row("equal-share", "baseline", 3, "glmark2", 1, 100, 330, 1);
	CHECK(scen_summarise(rows, n, &p, &np) == 0 && np == 4, "four phases: %zu", np);
	if (np == 4) {
		const struct scen_phase *be_base = scen_best_effort_of(p, np, &p[3]);
		const struct scen_phase *be_cont = scen_best_effort_of(p, np, &p[2]);

		CHECK(be_base == &p[1] && be_cont == &p[0], "each equal-share phase finds best effort's same phase");
		CHECK(scen_best_effort_of(p, np, &p[0]) == NULL, "best effort is not weighed against itself");
		CHECK(near(scen_vs_best_effort(&p[3], be_base, 1), 120.0 / 180) &&
			      near(scen_vs_best_effort(&p[3], be_base, 2), 100.0 / 150),
		      "the cost beside an idle neighbour: %f %f", scen_vs_best_effort(&p[3], be_base, 1),
		      scen_vs_best_effort(&p[3], be_base, 2));
		CHECK(near(scen_vs_best_effort(&p[2], be_cont, 1), 3.0), "beside the hog, equal share gives 3x: %f",
		      scen_vs_best_effort(&p[2], be_cont, 1));
		CHECK(isnan(scen_vs_best_effort(&p[3], be_base, 0)), "an idle guest has no cost");
		CHECK(isnan(scen_vs_best_effort(&p[3], NULL, 1)), "no best effort run: unknown");
	}
	free(p);
	return check_done("scenario_summary");
}
