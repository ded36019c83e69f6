/* displays.c: the report's displays section: for each row whose workload drove several outputs at once (kms2d's
 * outputN.<metric>), how many, each output's median of the headline metric, and their total. */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/rep.h"
#include "stats.h"
#include "util.h"

#define MAX_OUTPUTS 16

/* The output a series' metric names for headline ("output2.fill.mb_per_s": 2), or 0 when it is not one. */
static int output_of(const struct series *s, const char *headline)
{
	char *dot;
	long k;

	if (strncmp(s->metric, "output", 6) || s->metric[6] < '1' || s->metric[6] > '9')
		return 0;
	k = strtol(s->metric + 6, &dot, 10);
	return *dot == '.' && !strcmp(dot + 1, headline) && k >= 1 && k <= MAX_OUTPUTS ? (int)k : 0;
}

/* Whether a and b are the same row but for the metric. */
static int same_row(const struct series *a, const struct series *b)
{
	return !strcmp(a->workload, b->workload) && !strcmp(a->config, b->config) && a->topology == b->topology &&
	       a->dom0 == b->dom0;
}

/* Each output's median of row s's metric into med[1..n] (-1 where one is missing): n, the most outputs its jobs
 * reported, or 0 when they drew on one. */
static int output_medians(const struct rep *r, const struct series *s, double med[MAX_OUTPUTS + 1])
{
	int n = 0;

	for (int k = 0; k <= MAX_OUTPUTS; k++)
		med[k] = -1;
	for (size_t i = 0; i < r->set.n; i++) {
		const struct series *o = &r->set.s[i];
		int k = same_row(o, s) ? output_of(o, s->metric) : 0;

		if (k) {
			med[k] = stats_median_of(o->v, o->n);
			n = k > n ? k : n;
		}
	}
	return n;
}

/* One row: the headline's series s, its n outputs' medians and its own (their sums' median). */
static void displays_row(struct rep *r, const struct series *s, const double *med, int n)
{
	char label[96];

	rep_label(label, sizeof(label), s);
	fprintf(r->html, "<tr><td>%s</td><td>%s (%s)</td><td>", s->workload, s->metric, s->unit);
	vb_xml_escape(r->html, label);
	fprintf(r->html, "</td><td>%d</td><td>", n);
	for (int k = 1; k <= n; k++)
		if (med[k] >= 0)
			fprintf(r->html, "%s%d: %.1f", k > 1 ? ", " : "", k, med[k]);
		else
			fprintf(r->html, "%s%d: –", k > 1 ? ", " : "", k);
	fprintf(r->html, "</td><td>%.1f</td></tr>\n", stats_median_of(s->v, s->n));
}

void rep_section_displays(struct rep *r)
{
	double med[MAX_OUTPUTS + 1];
	int rows = 0, n;

	for (size_t i = 0; i < r->set.n; i++) {
		const struct series *s = &r->set.s[i];

		if (strcmp(s->metric, rep_headline(s->workload)) || !(n = output_medians(r, s, med)))
			continue;
		if (!rows++)
			fprintf(r->html,
				"<h2 id=displays>Displays</h2>\n<p>Rows whose guests drew on several outputs at once: "
				"each output's median, and the row's (their sum, repetition by repetition). A row not "
				"listed drew on one output.</p>\n<table><tr><th>workload</th><th>metric</th><th>config"
				"</th><th>outputs</th><th>each output's median</th><th>total</th></tr>\n");
		displays_row(r, s, med, n);
	}
	if (rows)
		fprintf(r->html, "</table>\n");
}
