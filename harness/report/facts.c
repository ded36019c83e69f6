/* facts.c: the report's sections about the run itself: robustness, the environment (host, renderers, skipped
 * configurations), calibration and the interleaved arms. */
#define _GNU_SOURCE

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "report/rep.h"
#include "store/run_facts.h"
#include "util.h"

#define ROBUST_MAX_BACKENDS 4

/* The robustness catalogue case by case: one column per back-end, its last repetition's status in each cell, and
 * how many cases each passed. */
void rep_section_robustness(struct rep *r)
{
	struct subtest_result *t = NULL;
	size_t n = 0;
	char backends[ROBUST_MAX_BACKENDS][48];
	int nb = 0, pass[ROBUST_MAX_BACKENDS] = { 0 }, cases[ROBUST_MAX_BACKENDS] = { 0 };
	struct health_totals h = { 0 };

	fprintf(r->html, "<h2 id=robustness>Robustness</h2>\n");
	if (store_health_totals(r->st, r->run, &h) == 0 && h.jobs)
		fprintf(r->html, "<p>The mediated jobs' vGPUs (%lld jobs): %lld device reset(s), %lld recovery(ies), %lld "
				 "command(s) answered with an error, %lld watchdog trip(s)%s",
			h.jobs, h.resets, h.recoveries, h.errors, h.watchdog_trips,
			h.watchdog_trips ? ", the longest " : ".</p>\n");
	if (h.jobs && h.watchdog_trips)
		fprintf(r->html, "%.0f ms (a fence unretired or a renderer call holding every vGPU past the bound).</p>\n",
			h.watchdog_longest_ms);
	if (store_subtests(r->st, r->run, "robustness", &t, &n) < 0 || !n) {
		fprintf(r->html, "<p>No robustness catalogue in this run (workload <code>robustness</code>).</p>\n");
		free(t);
		return;
	}
	for (size_t i = 0; i < n; i++) { /* back-ends in order of first appearance */
		const char *slash = strchr(t[i].name, '/');
		int k, len = slash ? (int)(slash - t[i].name) : (int)strlen(t[i].name);

		for (k = 0; k < nb && (strncmp(backends[k], t[i].name, (size_t)len) || backends[k][len]); k++)
			;
		if (k == nb && nb < ROBUST_MAX_BACKENDS)
			snprintf(backends[nb++], sizeof(backends[0]), "%.*s", len, t[i].name);
	}
	fprintf(r->html, "<p>A hostile vhost-user front-end's malformed inputs (vgpu-hostile), each on a fresh connection: "
			 "<b>pass</b> = the back-end refused it and served on, or served again after a device reset, "
			 "with its other VMs served throughout; <b>warn</b> = served again only on a new connection; "
			 "<b>fail</b> = that vGPU never served again, or another VM's stalled; <b>crash</b> = the "
			 "process ended; <b>timeout</b> = it answered nobody.</p>\n<table><tr><th>case</th>");
	for (int k = 0; k < nb; k++) {
		fprintf(r->html, "<th>");
		vb_xml_escape(r->html, backends[k]);
		fprintf(r->html, "</th>");
	}
	fprintf(r->html, "</tr>\n");
	for (size_t i = 0; i < n; i++) {
		const char *slash = strchr(t[i].name, '/');
		const char *cname = slash ? slash + 1 : t[i].name;
		const char *cell[ROBUST_MAX_BACKENDS] = { NULL };
		int first = 1;

		/* A case's row is written where its name first appears, with every back-end's last repetition. */
		for (size_t j = 0; j < n; j++) {
			const char *sl = strchr(t[j].name, '/');

			if (strcmp(sl ? sl + 1 : t[j].name, cname))
				continue;
			if (j < i) {
				first = 0;
				break;
			}
			for (int k = 0; k < nb; k++)
				if ((size_t)(sl ? sl - t[j].name : 0) == strlen(backends[k]) &&
				    !strncmp(t[j].name, backends[k], strlen(backends[k])))
					cell[k] = t[j].status;
		}
		if (!first)
			continue;
		fprintf(r->html, "<tr><td>");
		vb_xml_escape(r->html, cname);
		fprintf(r->html, "</td>");
		for (int k = 0; k < nb; k++) {
			if (cell[k]) {
				cases[k]++;
				pass[k] += !strcmp(cell[k], "pass");
			}
			fprintf(r->html, "<td class=%s>%s</td>", cell[k] && strcmp(cell[k], "pass") ? "err" : "na",
				cell[k] ? cell[k] : "–");
		}
		fprintf(r->html, "</tr>\n");
	}
	fprintf(r->html, "<tr><th>passed</th>");
	for (int k = 0; k < nb; k++)
		fprintf(r->html, "<th>%d of %d</th>", pass[k], cases[k]);
	fprintf(r->html, "</tr></table>\n");
	free(t);
}

/* A row of the environment table: a host fact (key, value), or a configuration's GL renderers (config, renderers). */
static void env_fact(void *ctx, const char *const *cols)
{
	FILE *html = ctx;

	fprintf(html, "<tr><th>");
	vb_xml_escape(html, cols[0]);
	fprintf(html, "</th><td>");
	vb_xml_escape(html, cols[1]);
	fprintf(html, "</td></tr>\n");
}

static void env_renderer(void *ctx, const char *const *cols)
{
	char *key = vb_strdupf("GL_RENDERER (%s)", cols[0]);
	const char *row[2] = { key, cols[1] };

	env_fact(ctx, row);
	free(key);
}

/* A skipped configuration (name, status, reason) as a list item, the list opened before the first. */
struct skipped_list {
	FILE *html;
	int n;
};

static void env_skipped(void *ctx, const char *const *cols)
{
	struct skipped_list *l = ctx;

	if (strcmp(cols[1], "skipped"))
		return;
	fprintf(l->html, "%s<li><b>", l->n++ ? "" : "<h3>Skipped configurations</h3><ul>\n");
	vb_xml_escape(l->html, cols[0]);
	fprintf(l->html, "</b>: ");
	vb_xml_escape(l->html, cols[2]);
	fprintf(l->html, "</li>\n");
}

void rep_section_environment(struct rep *r)
{
	struct skipped_list l = { r->html, 0 };

	/* a table the store cannot read is said by it, and the report goes on without those rows */
	fprintf(r->html, "<h2 id=env>Environment</h2>\n<table>\n");
	store_host_facts(r->st, r->run, env_fact, r->html);
	store_config_renderers(r->st, r->run, env_renderer, r->html);
	fprintf(r->html, "</table>\n");
	store_configs(r->st, r->run, env_skipped, &l);
	if (l.n)
		fprintf(r->html, "</ul>\n");
}

/* A row's key as table cells: workload, metric, config (escaped) and guests (host, N or dom0+N). */
static void key_cells(struct rep *r, const char *workload, const char *metric, const char *config, int topology,
		      int dom0)
{
	const char *const cells[] = { workload, metric, config };

	for (size_t k = 0; k < 3; k++) {
		fprintf(r->html, "<td>");
		vb_xml_escape(r->html, cells[k]);
	}
	fprintf(r->html, topology ? (dom0 ? "<td>dom0+%d" : "<td>%d") : "<td>host", topology);
}

/* A calibration's own run (`vgpubench calibrate`): each row's false alarms, detections and measured change. Nothing
 * for other runs. */
void rep_section_calibration(struct rep *r)
{
	struct calibration_row *rows;
	size_t n;
	char *fact;
	struct calibration_totals t;

	if (store_calibration_get(r->st, r->run, &rows, &n) < 0 || !n)
		return;
	fact = store_host_fact_get(r->st, r->run, CALIBRATION_FACT);
	fprintf(r->html, "<h2 id=calibration>Calibration</h2>\n<p>");
	vb_xml_escape(r->html, fact ? fact : "");
	fprintf(r->html, "</p>\n<p>A/A: pairs of unchanged runs, a flag is a false alarm. A/B: an unchanged run against "
			 "one slowed down on purpose, a regression flagged is a detection. Measured: the median change the "
			 "slowdown made; detectable: the median change the A/A pairs could detect at 80%% power.</p>\n"
			 "<table><tr><th>workload<th>metric<th>config<th>guests<th>injected<th>A/A flagged<th>A/B caught"
			 "<th>measured<th>detectable</tr>\n");
	for (size_t i = 0; i < n; i++) {
		const struct calibration_row *c = &rows[i];

		fprintf(r->html, "<tr>");
		key_cells(r, c->workload, c->metric, c->config, c->topology, c->dom0);
		fprintf(r->html, "<td>");
		vb_xml_escape(r->html, c->injected[0] ? c->injected : "nothing (no knob)");
		fprintf(r->html, "<td>%d/%d", c->aa_flagged, c->aa_pairs);
		if (c->injected[0])
			fprintf(r->html, "<td>%d/%d", c->ab_detected, c->ab_pairs);
		else
			fprintf(r->html, "<td class=na>-");
		fprintf(r->html, isnan(c->change_pct) ? "<td class=na>-" : "<td>%+.1f%%", c->change_pct);
		fprintf(r->html, isnan(c->detectable_pct) ? "<td class=na>-</tr>\n" : "<td>%.1f%%</tr>\n",
			c->detectable_pct);
	}
	t = calibration_totals(rows, n);
	fprintf(r->html, "</table>\n<p>False alarms: %d of %d A/A row pairs; detections: %d of %d A/B row pairs.</p>\n",
		t.aa_flagged, t.aa, t.ab_detected, t.ab);
	free(rows);
	free(fact);
}

/* One arm of an interleaved run (runner.h run_arm) against the run: compare's rows for what both ran, at the
 * threshold the run's own compare used (the arm's RUNNER_ARM_THRESHOLD_FACT, else compare's default). */
static void arm_table(struct rep *r, const char *arm)
{
	char *med = store_host_fact_get(r->st, arm, RUNNER_ARM_MEDIATOR_FACT);
	char *thr = store_host_fact_get(r->st, arm, RUNNER_ARM_THRESHOLD_FACT);
	struct compare_opts o = { .threshold_pct = thr ? atof(thr) : REPORT_THRESHOLD_PCT, .alpha = 0.05 };
	struct comparison c;
	int rows = 0;

	if (!(o.threshold_pct > 0))
		o.threshold_pct = REPORT_THRESHOLD_PCT;
	fprintf(r->html, "<h3>Against ");
	vb_xml_escape(r->html, arm);
	fprintf(r->html, "</h3>\n<p>Mediator of that arm: ");
	vb_xml_escape(r->html, med ? med : "this build's");
	fprintf(r->html, ". A row is flagged when its median moved more than %.1f%% and Mann-Whitney p &lt; %.2f (or "
			 "the same over glmark2's paired scenes); detect is the smallest change the row could flag at "
			 "%.0f%% power.</p>\n",
		o.threshold_pct, o.alpha, 100 * COMPARE_POWER);
	if (compare_build(r->st, r->run, arm, &o, &c) < 0) {
		fprintf(r->html, "<p class=err>The compare could not be made: ");
		vb_xml_escape(r->html, r->st->err[0] ? r->st->err : "see the harness's messages");
		fprintf(r->html, "</p>\n");
		free(med);
		free(thr);
		return;
	}
	for (size_t i = 0; i < c.nrows; i++) {
		const struct compare_row *x = &c.rows[i];

		if (!x->old || !x->old->n)
			continue; /* not run in the arm: it does not change it */
		if (!rows++)
			fprintf(r->html, "<table><tr><th>workload<th>metric<th>config<th>guests<th>arm<th>this run"
					 "<th>change<th>p<th>detect<th>verdict</tr>\n");
		fprintf(r->html, x->verdict == V_REGRESSION ? "<tr class=reg>" : "<tr>");
		key_cells(r, x->cur->workload, x->cur->metric, x->cur->config, x->cur->topology, x->cur->dom0);
		fprintf(r->html, "<td>%.2f<td>%.2f", x->m_old, x->m_new);
		fprintf(r->html, isnan(x->change_pct) ? "<td class=na>-" : "<td>%+.1f%%", x->change_pct);
		fprintf(r->html, isnan(x->p) ? "<td class=na>-" : "<td>%.3g", x->p);
		if (isnan(x->detectable_pct))
			fprintf(r->html, "<td class=na>-");
		else if (isinf(x->detectable_pct))
			fprintf(r->html, "<td>none");
		else
			fprintf(r->html, "<td>%.1f%%", x->detectable_pct);
		fprintf(r->html, "<td>%s</tr>\n",
			x->verdict == V_REGRESSION    ? "<b>regression</b>"
			: x->verdict == V_IMPROVEMENT ? "improvement"
						      : "");
	}
	if (rows)
		fprintf(r->html, "</table>\n<p>%d regression%s, %d improvement%s over %d row%s.</p>\n", c.regressions,
			c.regressions == 1 ? "" : "s", c.improvements, c.improvements == 1 ? "" : "s", rows,
			rows == 1 ? "" : "s");
	else if (!c.nfailed[0])
		fprintf(r->html, "<p>The arm has no row in common with this run yet.</p>\n");
	/* An arm (or this run) whose jobs all failed somewhere has no rows there: say that, and why. */
	for (int side = 0; side < 2; side++) {
		if (!c.nfailed[side])
			continue;
		fprintf(r->html, "<p class=err>Every job failed in %s, so not compared (%d group%s): ",
			side ? "this run" : "the arm", c.nfailed[side], c.nfailed[side] == 1 ? "" : "s");
		vb_xml_escape(r->html, c.failed[side]);
		fprintf(r->html, "</p>\n");
	}
	/* What the arm ran and this run did not (a run stopped part-way, a row that failed on this side): named, as
	 * compare names them "missing". */
	rows = 0;
	for (size_t i = 0; i < c.a.n; i++) {
		const struct series *x = &c.a.s[i];

		if (series_find(&c.b, x->workload, x->config, x->topology, x->dom0, x->metric))
			continue;
		fprintf(r->html, rows++ ? ", " : "<p>Rows the arm has and this run does not, so not compared: ");
		vb_xml_escape(r->html, x->workload);
		fputc(' ', r->html);
		vb_xml_escape(r->html, x->metric);
		fputc(' ', r->html);
		vb_xml_escape(r->html, x->config);
		fprintf(r->html, !x->topology ? " (host)" : x->dom0 ? " (dom0 beside %d guests)" : " (%d guests)",
			x->topology);
	}
	if (rows)
		fprintf(r->html, ".</p>\n");
	compare_free(&c);
	free(med);
	free(thr);
}

/* A run whose arms took turns with it (vgpubench run --baseline-mediator, calibrate): the compare with each arm,
 * the answer such a run is for. Nothing for other runs. */
void rep_section_arms(struct rep *r)
{
	int shown = 0;

	for (int k = 1; k < RUN_MAX_ARMS; k++) {
		char arm[STORE_RUN_ID_MAX];

		if (!runner_arm_id(r->st, r->run, k, arm, sizeof(arm), NULL))
			break;
		if (!vb_is_identifier(arm) || !store_run_exists(r->st, arm))
			continue;
		if (!shown++)
			fprintf(r->html, "<h2 id=arms>This run against its interleaved arms</h2>\n<p>The arms took turns "
					 "with this run boot by boot ([noise] boots; with one boot a topology they ran one "
					 "after the other), so whatever drifted on the host meanwhile fell on each alike. "
					 "Rows the arm did not run (it does not change them) are left out.</p>\n");
		arm_table(r, arm);
	}
}
