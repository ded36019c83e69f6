/* stages.c: the report's stage section: where a mediated command's time goes, stage by stage. */
#define _GNU_SOURCE

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/rep.h"
#include "util.h"

/* What each stage means, for the table's header (the names are the mediator's: stage_hist.h). */
static const char *stage_meaning(int i)
{
	static const char *const m[STAGE_COUNT] = {
		[STAGE_KICK_WAIT] = "a kick seen to its queue served",
		[STAGE_CHECK] = "decoding, checks, ID translation, copies from guest memory",
		[STAGE_RENDER] = "renderer calls of a command (submits, transfers)",
		[STAGE_FENCE] = "a fenced batch from submission to its fence seen retired",
		[STAGE_READBACK] = "a display update read back from the renderer",
		[STAGE_DISPLAY_SEND] = "a display update sent to the front-end",
	};
	return i >= 0 && i < STAGE_COUNT ? m[i] : "";
}

/* What a stage table shows: one number a cell. */
enum stage_stat { STAT_PER_FRAME, STAT_P50, STAT_P99 };

/* One workload's rows [a, b) as a table of one statistic: a row per config and guest count, a column per stage. */
static void stage_table(struct rep *r, const struct stage_row *rows, size_t a, size_t b, enum stage_stat stat)
{
	static const char *const title[] = { "time per frame (ms)", "p50 of each event (µs)",
					     "p99 of each event (µs)" };

	fprintf(r->html, "<table><caption>%s</caption><tr><th>config</th><th>guests</th><th>jobs</th><th>frames</th>",
		title[stat]);
	for (int i = 0; i < STAGE_COUNT; i++)
		fprintf(r->html, "<th>%s</th>", stage_name((enum stage)i));
	fprintf(r->html, "</tr>\n");
	for (size_t k = a; k < b; k++) {
		const struct stage_row *sr = &rows[k];

		fprintf(r->html, "<tr><td>");
		vb_xml_escape(r->html, sr->config);
		fprintf(r->html, sr->dom0 ? "</td><td>dom0+%d</td>" : "</td><td>%d</td>", sr->topology);
		fprintf(r->html, "<td>%d</td><td>%.0f</td>", sr->jobs, sr->frames);
		for (int i = 0; i < STAGE_COUNT; i++) {
			const struct stage_hist *h = &sr->h[i];
			double per = sr->frames > 0 ? (double)h->total_ns / 1e6 / sr->frames : NAN;
			char ms[32];

			if (!h->count)
				fprintf(r->html, "<td class=na>–</td>");
			else if (stat == STAT_PER_FRAME)
				fprintf(r->html, "<td>%s</td>", rep_cell(ms, sizeof(ms), "%.3f", per));
			else
				fprintf(r->html, "<td>%.0f</td>",
					(double)stage_percentile(h, stat == STAT_P50 ? 50 : 99) / 1e3);
		}
		fprintf(r->html, "</tr>\n");
	}
	fprintf(r->html, "</table>\n");
}

/* One workload's rows [a, b): a table each of the stages' time a frame, p50 and p99, and a stacked bar per config
 * and guest count. */
static void stages_workload(struct rep *r, const struct stage_row *rows, size_t a, size_t b)
{
	struct dfile df;
	char key[64], *name, caption[256], *script;

	rep_file_key(key, sizeof(key), rows[a].workload);
	name = vb_strdupf("stages-%s", key);
	rep_data_file(r, name, &df);
	fprintf(df.f, "row");
	for (int i = 0; i < STAGE_COUNT; i++)
		fprintf(df.f, " %s", stage_name((enum stage)i));
	fprintf(df.f, "\n");
	for (size_t k = a; k < b; k++) {
		const struct stage_row *sr = &rows[k];
		char cl[64];

		rep_dat_label(cl, sizeof(cl), sr->config);
		if (sr->dom0)
			fprintf(df.f, "\"%s x%d dom0\"", cl, sr->topology);
		else
			fprintf(df.f, "\"%s x%d\"", cl, sr->topology);
		for (int i = 0; i < STAGE_COUNT; i++) {
			double per = sr->frames > 0 ? (double)sr->h[i].total_ns / 1e6 / sr->frames : NAN;

			fprintf(df.f, " %.4f", isnan(per) ? 0 : per);
		}
		fprintf(df.f, "\n");
	}
	fprintf(r->html, "<h3>");
	vb_xml_escape(r->html, rows[a].workload);
	fprintf(r->html, "</h3>\n");
	stage_table(r, rows, a, b, STAT_PER_FRAME);
	stage_table(r, rows, a, b, STAT_P50);
	stage_table(r, rows, a, b, STAT_P99);
	rep_data_done(r, &df);
	script = vb_strdupf("set style data histograms\nset style histogram rowstacked\n"
			    "set style fill solid 0.7 border -1\nset boxwidth 0.6\n"
			    "set ylabel 'ms per frame'\nset yrange [0:*]\nset xtics rotate by -30\n"
			    "plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)\n",
			    STAGE_COUNT + 1, df.name);
	snprintf(caption, sizeof(caption),
		 "%s: the mediator's time per frame, stage by stage, for each configuration and guest count.",
		 rows[a].workload);
	rep_chart(r, name, script, caption);
	free(script);
	free(name);
	free(df.name);
}

/* Where the mediator's time goes, per workload (from the jobs' stage histograms summed: job_stages). */
void rep_section_stages(struct rep *r)
{
	struct stage_row *rows = NULL;
	size_t n = 0;

	fprintf(r->html, "<h2 id=stages>Where the mediator's time goes</h2>\n");
	if (store_stage_rows(r->st, r->run, &rows, &n) < 0) {
		rep_unreadable(r, "The stage histograms");
		return;
	}
	if (!n) {
		fprintf(r->html, "<p>No job of this run was served by vgpu-mediator with stage histograms.</p>\n");
		return;
	}
	fprintf(r->html, "<p>Each stage's time per frame the guest showed (a flush; dom0: a read-back of a client's "
			 "front buffer, so an off-screen client such as glmark2 --off-screen shows none and its "
			 "row has no time per frame), "
			 "summed over the row's successful jobs, from the mediator's per-vGPU histograms read before "
			 "and after each job. p50/p99 are per event, at most 25%% over the true value (log-linear "
			 "buckets). Stages:");
	for (int i = 0; i < STAGE_COUNT; i++)
		fprintf(r->html, "%s <b>%s</b>: %s", i ? ";" : "", stage_name((enum stage)i), stage_meaning(i));
	fprintf(r->html, ". With one loop thread no queue lies between the check and the renderer.</p>\n");
	for (size_t a = 0, b; a < n; a = b) {
		for (b = a; b < n && !strcmp(rows[b].workload, rows[a].workload); b++)
			;
		stages_workload(r, rows, a, b);
	}
	free(rows);
}
