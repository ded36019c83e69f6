/* summary.c: workload x config table: jobs ok, median of the headline metric
 * per guest, the median over repetitions of its sum over the guests running
 * at once (aggregate throughput), and % of native (per-guest median). dom0's
 * jobs alongside the guests are a row of their own ("dom0+N"); a row whose
 * guests drew on several outputs says each output's median under it. The
 * run's verdict (verdict.h) closes it. */
#define _GNU_SOURCE
#include "analysis/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "configs/configs.h"
#include "plan/plan.h"
#include "analysis/boots.h"
#include "analysis/scenario_summary.h"
#include "analysis/verdict.h"
#include "stats.h"
#include "workload.h"

#define SUMMARY_MAX_OUTPUTS 16 /* kms2d's outputN.<metric>, N from 1 */

struct group {
	char config[32];
	int topology;
	int dom0;
	int jobs, ok;
	double *values;
	size_t nvalues;
	char reason[160];
};

/*
 * Median over repetitions of the headline metric summed over the guests that
 * ran at once; only repetitions where every guest succeeded count.
 */
static double median_rep_sum(struct store *s, const char *run, const char *workload, const char *metric,
			     const struct group *g)
{
	double *v, med;
	size_t n;

	if (store_rep_sums(s, run, workload, metric, g->config, g->topology, &v, &n) < 0)
		return NAN;
	med = stats_median(v, n);
	free(v);
	return med;
}

/* The rows collect() fills: one group a configuration x guest count x dom0, in the order the jobs come. */
struct groups {
	struct group *g;
	int n, max;
};

static void add_job(void *ctx, const struct store_job_value *j)
{
	struct groups *gs = ctx;
	struct group *cur = gs->n ? &gs->g[gs->n - 1] : NULL;

	if (!cur || strcmp(cur->config, j->config) != 0 || cur->topology != j->topology || cur->dom0 != j->dom0) {
		if (gs->n == gs->max)
			return;
		cur = &gs->g[gs->n++];
		memset(cur, 0, sizeof(*cur));
		snprintf(cur->config, sizeof(cur->config), "%s", j->config);
		cur->topology = j->topology;
		cur->dom0 = j->dom0;
	}
	cur->jobs++;
	if (strcmp(j->status, "ok") == 0 && j->has_value) {
		cur->ok++;
		cur->values = realloc(cur->values, (cur->nvalues + 1) * sizeof(double));
		if (!cur->values)
			abort();
		cur->values[cur->nvalues++] = j->value;
	} else if (!cur->reason[0]) {
		snprintf(cur->reason, sizeof(cur->reason), "%s: %s", j->status, j->reason);
	}
}

/* The order rows are shown in: configurations as config_rank says, guests, dom0 after. */
static int group_order(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;
	int c = config_rank(a->config) - config_rank(b->config);

	if (!c)
		c = strcmp(a->config, b->config);
	if (!c)
		c = a->topology - b->topology;
	return c ? c : a->dom0 - b->dom0;
}

static void collect(struct store *s, const char *run, const char *workload, const char *metric, struct group *g,
		    int *ng, int max)
{
	struct groups gs = { g, 0, max };

	/* a failure is said by the store, and the groups read so far are shown */
	store_job_values(s, run, workload, metric, config_baseline(), add_job, &gs);
	qsort(g, (size_t)gs.n, sizeof(*g), group_order);
	*ng = gs.n;
}

/* The sharing-quality scenarios, one line per guest of each policy and phase. */
static void print_scenarios(struct store *s, const char *run, FILE *out)
{
	struct scenario_result *rows;
	struct scen_phase *p;
	size_t n, np;

	if (store_scenario_results(s, run, &rows, &n) < 0 || !n || scen_summarise(rows, n, &p, &np) < 0) {
		free(rows);
		return;
	}
	fprintf(out, "\n%-12s %-12s %-10s %-7s %-8s %12s %9s %10s %6s %8s\n", "scenario", "policy", "phase", "guest",
		"workload", "throughput", "GPU share", "configured", "kept", "vs b-eff");
	for (int i = 0; i < 120; i++)
		fputc('-', out);
	fputc('\n', out);
	for (size_t i = 0; i < np; i++) {
		const struct scen_phase *b = scen_baseline_of(p, np, &p[i]), *be = scen_best_effort_of(p, np, &p[i]);

		for (int g = 0; g < p[i].n; g++) {
			const struct scen_guest *sg = &p[i].g[g];
			double kept = strcmp(p[i].phase, "contended") ? NAN : scen_kept(&p[i], b, g);
			double vs_be = scen_vs_best_effort(&p[i], be, g);
			char v[24], sh[16], cf[16], kp[16], vb[16];

			snprintf(v, sizeof(v), isnan(sg->value) ? "-" : "%.1f", sg->value);
			snprintf(sh, sizeof(sh), isnan(sg->gpu_share) ? "-" : "%.3f", sg->gpu_share);
			snprintf(cf, sizeof(cf), isnan(sg->share) ? "-" : "%.3f", sg->share);
			snprintf(kp, sizeof(kp), isnan(kept) ? "" : "%.2f", kept);
			snprintf(vb, sizeof(vb), isnan(vs_be) ? "" : "%.2f", vs_be);
			fprintf(out, "%-12s %-12s %-10s guest%-2d %-8s %12s %9s %10s %6s %8s\n", p[i].scenario, p[i].policy,
				p[i].phase, sg->guest_index, sg->workload, v, sh, cf, kp, vb);
			if (sg->problem[0])
				fprintf(out, "%-12s   first failure: %s\n", "", sg->problem);
		}
	}
	free(p);
	free(rows);
}

/* With the row's repetitions spread over boots ([noise] boots): each boot's median, how far apart they lie against
 * the row's median, and an outlier boot with what the host noise sampler saw (boots.h). Nothing for a row of one
 * boot. */
static void print_boots(struct store *s, const char *run, const char *workload, const char *metric,
			const struct group *g, FILE *out)
{
	struct boot_spread b;
	char line[768];

	if (boots_spread(s, run, g->config, g->topology, g->dom0, workload, metric, &b) < 0 || b.n < 2)
		return;
	boots_text(&b, line, sizeof(line));
	fprintf(out, "%-12s   boot medians %s\n", "", line);
}

/* Under a row whose guests drew on several outputs at once (kms2d's outputN.<metric>): each output's median. */
static void print_outputs(struct store *s, const char *run, const char *workload, const char *metric,
			  const struct group *row, FILE *out)
{
	char line[512] = "", name[160];
	size_t len = 0;

	for (int k = 1; k <= SUMMARY_MAX_OUTPUTS && len < sizeof(line); k++) {
		struct group g[32];
		int ng;
		double med = NAN;

		snprintf(name, sizeof(name), "output%d.%s", k, metric);
		collect(s, run, workload, name, g, &ng, 32);
		for (int i = 0; i < ng; i++) {
			int same = !strcmp(g[i].config, row->config) && g[i].topology == row->topology &&
				   g[i].dom0 == row->dom0;

			if (same && g[i].nvalues)
				med = stats_median(g[i].values, g[i].nvalues);
			free(g[i].values);
		}
		if (isnan(med))
			break;
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%d: %.1f", k > 1 ? ", " : "", k, med);
	}
	if (len)
		fprintf(out, "%-12s   each output's median: %s\n", "", line);
}

/* The workloads of a run (at most 64). */
struct workloads {
	char name[64][64];
	int n;
};

static void add_workload(void *ctx, const char *const *cols)
{
	struct workloads *wl = ctx;

	if (wl->n < 64)
		snprintf(wl->name[wl->n++], sizeof(wl->name[0]), "%s", cols[0]);
}

/* A configuration (name, status, reason) the host could not run, with why. */
static void print_skipped(void *ctx, const char *const *cols)
{
	if (!strcmp(cols[1], "skipped"))
		fprintf(ctx, "%-12s %-30s %-20s skipped: %s\n", "*", "", cols[0], cols[2]);
}

int summary_print(struct store *s, const char *run, FILE *out)
{
	struct workloads wl = { .n = 0 };

	if (store_run_workloads(s, run, add_workload, &wl) < 0)
		return -1;

	fprintf(out, "\n%-12s %-30s %-20s %6s %7s %10s %10s %9s\n", "workload", "metric", "config", "guests", "jobs ok",
		"median", "sum", "% native");
	for (int i = 0; i < 111; i++)
		fputc('-', out);
	fputc('\n', out);
	for (int w = 0; w < wl.n; w++) {
		const struct workload_def *def = workload_find(wl.name[w]);
		const char *metric = def ? def->headline_metric : "score";
		struct group g[32];
		int ng;
		double native = NAN;

		collect(s, run, wl.name[w], metric, g, &ng, 32);
		for (int i = 0; i < ng; i++) {
			double med = stats_median(g[i].values, g[i].nvalues);
			char topo[16], pct[16], sum[16], meds[16];

			if (strcmp(g[i].config, config_baseline()) == 0 && !g[i].topology && !isnan(med))
				native = med;
			snprintf(topo, sizeof(topo), !g[i].topology ? "host" : g[i].dom0 ? "dom0+%d" : "%d",
				 g[i].topology);
			snprintf(meds, sizeof(meds), isnan(med) ? "-" : "%.1f", med);
			double total =
				g[i].topology >= 2 && !g[i].dom0 ? median_rep_sum(s, run, wl.name[w], metric, &g[i]) : NAN;

			snprintf(sum, sizeof(sum), isnan(total) ? "" : "%.1f", total);
			char *lab = store_lab_get(s, run, g[i].config);

			/* A nested lab's numbers prove the path, not the speed: never a share of native. */
			snprintf(pct, sizeof(pct), lab ? "lab" : isnan(med) || !(native > 0) ? "-" : "%.1f%%",
				 100.0 * med / native);
			fprintf(out, "%-12s %-30s %-20s %6s %3d/%-3d %10s %10s %9s\n", wl.name[w], metric, g[i].config, topo,
				g[i].ok, g[i].jobs, meds, sum, pct);
			if (g[i].ok < g[i].jobs)
				fprintf(out, "%-12s   %s %s\n", "", strncmp(g[i].reason, "skipped", 7) ? "first failure:" : "not run:",
					g[i].reason);
			if (lab)
				fprintf(out, "%-12s   %s (nested lab): %s\n", "", g[i].config, lab);
			if (g[i].topology && !isnan(med)) {
				print_outputs(s, run, wl.name[w], metric, &g[i], out);
				print_boots(s, run, wl.name[w], metric, &g[i], out);
			}
			free(lab);
			free(g[i].values);
		}
	}
	store_configs(s, run, print_skipped, out);
	print_scenarios(s, run, out);
	char *accel = store_host_fact_get(s, run, "accel"), *why = store_host_fact_get(s, run, "accel_reason");

	if (accel && strcmp(accel, "none") != 0)
		fprintf(out, "guests ran under %s%s%s\n", accel, why && *why ? ": " : "", why ? why : "");
	free(accel);
	free(why);
	/* What the run found, in words, closes the table (verdict.h). */
	struct run_verdict *v = malloc(sizeof(*v));

	if (v && verdict_build(s, run, v) == 0)
		verdict_print(v, out);
	free(v);
	return 0;
}
