/* scenarios.c: the report's scenario sections: GPU time and share over time under each policy, isolation, SLA
 * windows, and the frame-time tails. */
#define _GNU_SOURCE

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/scenario_summary.h"
#include "report/rep.h"
#include "stats.h"
#include "util.h"

/* Each guest's share of the GPU time over one job, from the mediator's samples: a line per guest. */
static void scenario_time_chart(struct rep *r, const struct scen_phase *ph, int index)
{
	double *t[PLAN_MAX_SEATS] = { 0 }, *gpu[PLAN_MAX_SEATS] = { 0 }, *fr[PLAN_MAX_SEATS] = { 0 };
	size_t n[PLAN_MAX_SEATS] = { 0 }, rows = 0;
	char key[80], *name, caption[400], plot[2048] = "";
	struct dfile df;
	FILE *d;

	for (int g = 0; g < ph->n; g++)
		if (ph->g[g].first_job && store_scenario_samples(r->st, ph->g[g].first_job, &t[g], &gpu[g], &fr[g], &n[g]) < 0)
			r->failed++;
	rep_file_key(key, sizeof(key), ph->scenario);
	name = vb_strdupf("scenario-%s-%d-time", key, index);
	d = rep_data_file(r, name, &df);
	/* One block per guest (gnuplot's index): time and that guest's share of the interval's GPU time. */
	for (int g = 0; g < ph->n; g++) {
		int gap = 0;

		for (size_t k = 1; k < n[g]; k++) {
			double mine = gpu[g][k] - gpu[g][k - 1], all = 0;

			for (int o = 0; o < ph->n; o++)
				if (k < n[o])
					all += gpu[o][k] - gpu[o][k - 1];
			/* An interval in which no guest used the GPU has no shares: a gap in the line. */
			if (all > 0) {
				fprintf(d, "%.2f %.4f\n", t[g][k], mine / all);
				rows++;
				gap = 0;
			} else if (!gap) {
				fprintf(d, "\n"); /* one blank line: two would start gnuplot's next index */
				gap = 1;
			}
		}
		fprintf(d, "\n\n");
	}
	rep_data_done(r, &df);
	for (int g = 0; g < ph->n; g++) {
		char title[128], q[160];

		snprintf(title, sizeof(title), "guest%d %s", g + 1, ph->g[g].workload);
		rep_gp_quote(q, sizeof(q), title);
		snprintf(plot + strlen(plot), sizeof(plot) - strlen(plot), "%s'%s' index %d using 1:2 with lines lw 2 title %s",
			 g ? ", " : "plot ", df.name, g, q);
	}
	if (rows) {
		char *script = vb_strdupf("set xlabel 'seconds into the job'\nset ylabel 'share of the GPU time'\n"
					  "set yrange [0:1]\n%s\n",
					  plot);

		snprintf(caption, sizeof(caption),
			 "scenario %s under %s (%s, first repetition): each guest's share of the GPU time the mediator "
			 "charged in each second, from its control socket.",
			 ph->scenario, ph->policy, ph->phase);
		rep_chart(r, name, script, caption);
		free(script);
	} else {
		fprintf(r->html, "<p>No scheduling samples for %s under %s.</p>\n", ph->scenario, ph->policy);
	}
	for (int g = 0; g < ph->n; g++) {
		free(t[g]);
		free(gpu[g]);
		free(fr[g]);
	}
	free(df.name);
	free(name);
}

/* Per scenario: each guest's GPU-time share under each policy (contended phase), clustered by policy. */
static void scenario_share_chart(struct rep *r, const struct scen_phase *p, size_t np, const char *scenario)
{
	char key[80], *name, caption[400], plot[2048] = "";
	struct dfile df;
	FILE *d;
	int guests = 0, rows = 0;

	rep_file_key(key, sizeof(key), scenario);
	name = vb_strdupf("scenario-%s-shares", key);
	d = rep_data_file(r, name, &df);
	for (size_t i = 0; i < np; i++) {
		char pl[64];

		if (strcmp(p[i].scenario, scenario) || strcmp(p[i].phase, "contended"))
			continue;
		rep_dat_label(pl, sizeof(pl), p[i].policy);
		fprintf(d, "\"%s\"", pl);
		for (int g = 0; g < p[i].n; g++)
			fprintf(d, " %.4f", isnan(p[i].g[g].gpu_share) ? 0 : p[i].g[g].gpu_share);
		fprintf(d, "\n");
		guests = p[i].n > guests ? p[i].n : guests;
		rows++;
	}
	rep_data_done(r, &df);
	for (int g = 0; g < guests; g++)
		snprintf(plot + strlen(plot), sizeof(plot) - strlen(plot), "%s'%s' using %d:xtic(1) title 'guest%d'",
			 g ? ", " : "plot ", df.name, g + 2, g + 1);
	if (rows) {
		char *script = vb_strdupf("set style data histogram\nset style histogram clustered gap 1\n"
					  "set style fill solid 0.6 border -1\nset ylabel 'share of the GPU time'\n"
					  "set yrange [0:1]\n%s\n",
					  plot);

		snprintf(caption, sizeof(caption),
			 "scenario %s: each guest's share of the GPU time the mediator charged (median over "
			 "repetitions), under each policy.",
			 scenario);
		rep_chart(r, name, script, caption);
		free(script);
	}
	free(df.name);
	free(name);
}

void rep_section_scenarios(struct rep *r)
{
	struct scenario_result *rows;
	struct scen_phase *p;
	size_t n, np;

	if (store_scenario_results(r->st, r->run, &rows, &n) < 0) {
		rep_unreadable(r, "The scenarios");
		return;
	}
	if (!n) {
		free(rows);
		return;
	}
	if (scen_summarise(rows, n, &p, &np) < 0)
		abort();
	fprintf(r->html,
		"<h2 id=scenarios>Sharing-quality scenarios</h2>\n<p>Guests booted together on one vgpu-mediator, each "
		"running its own workload (idle: nothing), under each scheduling policy in turn. <b>GPU share</b>: the "
		"guest's part of the GPU time the mediator charged to the scenario's guests while every busy guest still "
		"ran (median over repetitions), "
		"against the <b>configured</b> share the policy gave it (– : best effort, or an SLA target, has none). "
		"<b>held</b>: time the policy kept its work waiting. <b>target met</b>: one-second windows at or above "
		"its frame-rate target, of those while its job ran. <b>kept</b>: its throughput next to the others ÷ "
		"in the baseline (the noisy guest idle), under the same policy: the policy's isolation. <b>÷ best "
		"effort</b>: its throughput ÷ the same phase under best effort: in the baseline, what the policy costs "
		"it while the neighbour is idle (equal share keeps an idle guest's share in reserve). Policies: "
		"best-effort = "
		"work-conserving round robin; equal-share = 1/n of every 100 ms to each connected guest, busy or not "
		"the others; fixed-share = weight ÷ Σweights; equal-share-wc, fixed-share-wc = the same shares, "
		"work-conserving: a guest past its share is served while no guest within its share wants the GPU; "
		"sla = guests with a target first, the others capped while a target is missed.</p>\n");
	for (size_t i = 0; i < np; i++) {
		int first = i == 0 || strcmp(p[i - 1].scenario, p[i].scenario) != 0;
		const struct scen_phase *ph = &p[i], *base = scen_baseline_of(p, np, ph);
		const struct scen_phase *be = scen_best_effort_of(p, np, ph);
		char a[32], b[32], c[32], d[32], e[32], f[32], h[32];

		if (first) {
			fprintf(r->html, "<h3>scenario ");
			vb_xml_escape(r->html, ph->scenario);
			fprintf(r->html, "</h3>\n<table><tr><th>policy</th><th>phase</th><th>guest</th><th>workload</th>"
					 "<th>throughput</th><th>GPU share</th><th>configured</th><th>held (ms)</th>"
					 "<th>target met</th><th>kept</th><th>÷ best effort</th><th>ok/runs</th></tr>\n");
		}
		for (int g = 0; g < ph->n; g++) {
			const struct scen_guest *sg = &ph->g[g];
			double kept = strcmp(ph->phase, "contended") ? NAN : scen_kept(ph, base, g);

			fprintf(r->html, "<tr><td>%s</td><td>%s</td><td>guest%d</td><td>", ph->policy, ph->phase,
				sg->guest_index);
			vb_xml_escape(r->html, sg->workload);
			fprintf(r->html,
				"</td><td>%s %s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>",
				rep_cell(a, sizeof(a), "%.1f", sg->value), isnan(sg->value) ? "" : sg->unit,
				rep_cell(b, sizeof(b), "%.3f", sg->gpu_share),
				rep_cell(c, sizeof(c), "%.3f", sg->share),
				rep_cell(d, sizeof(d), "%.0f", sg->throttled_ms),
				sg->target_fps > 0 && sg->windows > 0
				    ? rep_cell(e, sizeof(e), "%.0f%%", 100 * sg->windows_met / sg->windows)
				    : "–",
				rep_cell(f, sizeof(f), "%.2f", kept),
				rep_cell(h, sizeof(h), "%.2f", scen_vs_best_effort(ph, be, g)));
			fprintf(r->html, "<td%s>%d/%d", sg->problem[0] ? " class=err" : "", sg->ok, sg->reps);
			if (sg->problem[0]) {
				fprintf(r->html, " ");
				vb_xml_escape(r->html, sg->problem);
			}
			fprintf(r->html, "</td></tr>\n");
		}
		fprintf(r->html, "<tr><td colspan=12 class=na>%s, %s: Jain on GPU time per weight %s; on throughput per weight %s</td></tr>\n",
			ph->policy, ph->phase, rep_cell(a, sizeof(a), "%.3f", ph->jain_gpu),
			rep_cell(b, sizeof(b), "%.3f", ph->jain_value));
		if (i + 1 == np || strcmp(p[i + 1].scenario, ph->scenario) != 0) {
			fprintf(r->html, "</table>\n");
			scenario_share_chart(r, p, np, ph->scenario);
			for (size_t k = 0; k < np; k++)
				if (!strcmp(p[k].scenario, ph->scenario) && !strcmp(p[k].phase, "contended"))
					scenario_time_chart(r, &p[k], (int)k);
		}
	}
	free(p);
	free(rows);
}

void rep_section_frametimes(struct rep *r)
{
	struct dfile df;
	FILE *d = rep_data_file(r, "frametime", &df);
	const char *path = df.name;
	char xt[2048] = "";
	int x = 0;

	fprintf(r->html, "<h2 id=frametime>Frame times</h2>\n<table><tr><th>workload</th><th>config</th><th>guests</th>"
			 "<th>scenes × jobs</th><th>p50 (ms)</th><th>p99 (ms)</th></tr>\n");
	for (size_t i = 0; i < r->set.n; i++) {
		const struct series *s = &r->set.s[i];
		const char *dot = strrchr(s->metric, '.');

		/* the first frame-time series of each workload x config x guests opens a group */
		if (!dot || strcmp(dot, ".frame_time") != 0)
			continue;
		int first = 1;

		for (size_t k = 0; k < i; k++) {
			const struct series *p = &r->set.s[k];
			const char *pd = strrchr(p->metric, '.');

			if (pd && !strcmp(pd, ".frame_time") && !strcmp(p->workload, s->workload) &&
			    !strcmp(p->config, s->config) && p->topology == s->topology && p->dom0 == s->dom0)
				first = 0;
		}
		if (!first)
			continue;
		double all[4096];
		size_t n = 0;

		for (size_t k = i; k < r->set.n; k++) {
			const struct series *p = &r->set.s[k];
			const char *pd = strrchr(p->metric, '.');

			if (!pd || strcmp(pd, ".frame_time") || strcmp(p->workload, s->workload) ||
			    strcmp(p->config, s->config) || p->topology != s->topology || p->dom0 != s->dom0)
				continue;
			for (size_t v = 0; v < p->n && n < 4096; v++) {
				all[n++] = p->v[v];
				if (d)
					fprintf(d, "%d %.5f\n", x, p->v[v]);
			}
		}
		stats_median(all, n); /* sorts */
		double p50 = all[n / 2], p99 = all[(size_t)fmin((double)n - 1, ceil(0.99 * (double)n) - 1)];
		char l[96];

		rep_label(l, sizeof(l), s);
		fprintf(r->html, "<tr><td>%s</td><td>%s%s</td><td>%s%.0d</td><td>%zu</td><td>%.2f</td><td>%.2f</td></tr>\n",
			s->workload, s->config, s->dom0 ? " (dom0)" : "", s->topology ? "" : "host", s->topology, n, p50,
			p99);
		if (d)
			fprintf(d, "\n\n");
		char ql[200];

		rep_gp_quote(ql, sizeof(ql), l);
		snprintf(xt + strlen(xt), sizeof(xt) - strlen(xt), "%s%s %d", x ? ", " : "", ql, x);
		x++;
	}
	fprintf(r->html, "</table>\n");
	rep_data_done(r, &df);
	if (x) {
		char *script = vb_strdupf("set style fill solid 0.3 border -1\nset style boxplot outliers pointtype 7\n"
					  "set ylabel 'frame time (ms)'\nset logscale y\nset xtics (%s)\nset xrange [-0.6:%d.6]\n"
					  "unset key\nplot for [i=0:%d] '%s' index i using (i):2 with boxplot lc rgb '#a55b3a'\n",
					  xt, x - 1, x - 1, path);

		rep_chart(r, "frametime", script,
			  "Distribution of mean frame times per scene, job and guest (log scale).");
		free(script);
	} else {
		fprintf(r->html, "<p>No workload in this run reports frame times.</p>\n");
	}
	free(df.name);
}
