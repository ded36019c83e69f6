/* scenario_summary.h: the sharing-quality scenarios of a run, summarised
 * for the report: per scenario, policy and phase, each guest's median
 * throughput, its share of the GPU time against its configured share, time
 * held by the policy and frame-rate windows met; Jain's index on GPU time
 * (per weight) and on throughput; a victim's throughput next to the hog ÷
 * next to an idle guest; what a policy costs, against best effort. Pure
 * arithmetic over stored rows. */
#ifndef VGPUBENCH_SCENARIO_SUMMARY_H
#define VGPUBENCH_SCENARIO_SUMMARY_H

#include <stddef.h>

#include "plan/plan.h"
#include "store/store.h"

struct scen_guest {
	int guest_index;
	char workload[64], metric[64], unit[16];
	double value;        /* median of the headline metric over its ok repetitions; NAN when none */
	double gpu_share;    /* median over repetitions of its GPU time ÷ all the scenario's guests', while every busy
			      * guest still ran (the contended window); NAN unknown */
	double share;        /* the share the policy gave it; NAN for none (work-conserving) */
	double weight, target_fps;
	double throttled_ms; /* median time held by the policy */
	double windows, windows_met; /* one-second windows while active, and those at or above the target (sums) */
	int ok, reps;        /* repetitions that succeeded, of those stored */
	char problem[160];   /* the first failure's status and reason, "" when none */
	long long first_job; /* the first repetition's stored job (its samples), 0 when none */
};

struct scen_phase {
	char scenario[64], policy[24], phase[16];
	int n; /* guests */
	struct scen_guest g[PLAN_MAX_SEATS];
	double jain_gpu;   /* Jain over busy guests' GPU-time share ÷ weight; NAN when under two busy guests */
	double jain_value; /* Jain over busy guests' throughput ÷ weight when they all run one workload; NAN otherwise */
};

/* Group rows (one per guest and repetition) into phases, in the order first stored. *out is malloc'd. 0 or -1. */
int scen_summarise(const struct scenario_result *rows, size_t n, struct scen_phase **out, size_t *nout);

/* The baseline phase of the same scenario and policy as `contended`, or NULL. */
const struct scen_phase *scen_baseline_of(const struct scen_phase *all, size_t n, const struct scen_phase *contended);

/* Guest g's throughput in `contended` ÷ in `baseline` when it ran the same workload in both; NAN otherwise. */
double scen_kept(const struct scen_phase *contended, const struct scen_phase *baseline, int g);

/* The phase of the same scenario and phase name as ph under best effort (the work-conserving policy every other one
 * is measured against), or NULL (none ran, or ph is best effort's own). */
const struct scen_phase *scen_best_effort_of(const struct scen_phase *all, size_t n, const struct scen_phase *ph);

/* What a policy costs guest g: its throughput in ph ÷ in the same phase under best effort (be), when it ran the same
 * workload in both; NAN otherwise. In the baseline phase (the noisy neighbour idle) it is the price of the policy's
 * predictability: equal share keeps an idle guest's share in reserve, best effort gives it to those with work. */
double scen_vs_best_effort(const struct scen_phase *ph, const struct scen_phase *be, int g);

#endif
