/* sharing.c: the report's sharing section: per-guest medians, fairness, scaling efficiency and its curve. */
#define _GNU_SOURCE

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/rep.h"
#include "stats.h"
#include "util.h"

/* One point of a scaling curve: the summed per-guest medians of a config with n guests. */
struct scale_point {
	const char *workload, *config;
	int guests;
	double sum;
};

/* The scaling curve of one workload: summed throughput against the guest count, a line per config, with the ideal
 * (n times one guest alone) for each. Only when some config ran with two guest counts or more. */
static void scaling_chart(struct rep *r, const struct scale_point *pt, size_t a, size_t b)
{
	struct dfile df;
	char key[64], *name, caption[256], ylabel[200], what[160], *script, plot[4096];
	size_t len = 0;
	int blocks = 0, curves = 0;
	double top = 0;

	for (size_t i = a; i < b; i++)
		if (pt[i].sum > top)
			top = pt[i].sum;
	for (size_t i = a; i < b; i++) {
		size_t j = i;

		while (j + 1 < b && !strcmp(pt[j + 1].config, pt[i].config))
			j++;
		curves += j > i;
		i = j;
	}
	if (!curves)
		return;
	rep_file_key(key, sizeof(key), pt[a].workload);
	name = vb_strdupf("scaling-%s", key);
	rep_data_file(r, name, &df);
	plot[0] = 0;
	for (size_t i = a; i < b;) {
		size_t j = i;
		double one = NAN;
		char cq[80];

		while (j < b && !strcmp(pt[j].config, pt[i].config))
			j++;
		/* one gnuplot index per config: guests, sum, and the ideal from one guest alone */
		for (size_t k = i; k < j; k++)
			if (pt[k].guests == 1)
				one = pt[k].sum;
		fprintf(df.f, "# %s\n", pt[i].config);
		for (size_t k = i; k < j; k++)
			fprintf(df.f, "%d %.4f %.4f\n", pt[k].guests, pt[k].sum, isnan(one) ? NAN : one * pt[k].guests);
		fprintf(df.f, "\n\n");
		rep_gp_quote(cq, sizeof(cq), pt[i].config);
		len += (size_t)snprintf(plot + len, len < sizeof(plot) ? sizeof(plot) - len : 0,
					"%s'%s' index %d using 1:2 with linespoints lw 2 title %s", blocks ? ", " : "",
					df.name, blocks, cq);
		if (!isnan(one) && len < sizeof(plot))
			len += (size_t)snprintf(plot + len, sizeof(plot) - len,
						", '%s' index %d using 1:3 with lines dt 2 lc %d title ''", df.name,
						blocks, blocks + 1);
		blocks++;
		i = j;
	}
	rep_data_done(r, &df);
	snprintf(what, sizeof(what), "%s summed over the guests", rep_headline(pt[a].workload));
	rep_gp_quote(ylabel, sizeof(ylabel), what);
	/* The y range follows the measured sums: the ideal may run off the top rather than flatten them. */
	script = vb_strdupf("set xlabel 'guests at once'\nset ylabel %s\nset yrange [0:%.4g]\nset xtics 1\nplot %s\n",
			    ylabel, top > 0 ? top * 1.6 : 1.0, len < sizeof(plot) ? plot : "1/0 title 'too many configurations'");
	snprintf(caption, sizeof(caption),
		 "%s: the guests' summed %s against how many share the GPU, one line per configuration; dashed, "
		 "n times one guest alone (scaling efficiency 1), cut at the top of the chart.",
		 pt[a].workload, rep_headline(pt[a].workload));
	rep_chart(r, name, script, caption);
	free(script);
	free(name);
	free(df.name);
}

void rep_section_sharing(struct rep *r)
{
	struct scale_point pts[256];
	size_t npts = 0;
	/* One chart per workload (its own unit): a data file each, drawn after the table. */
	struct sharing_file {
		const char *workload;
		struct dfile df;
		int rows;
	} files[32];
	int nfiles = 0;

	fprintf(r->html, "<h2 id=sharing>Sharing quality</h2>\n<table><tr><th>workload</th><th>config</th>"
			 "<th>guests</th><th>per-guest medians</th><th>sum</th><th>scaling efficiency</th>"
			 "<th>fairness (Jain)</th><th>dom0 alongside</th><th>fairness with dom0</th></tr>\n");
	for (size_t i = 0; i < r->set.n; i++) {
		const struct series *s = &r->set.s[i];
		double g[65];
		size_t n;

		if (!s->topology || s->dom0 || strcmp(s->metric, rep_headline(s->workload)) != 0)
			continue;
		n = series_guest_medians(r->st, r->run, s, g, 64);
		if (!n)
			continue;
		if (!nfiles || strcmp(files[nfiles - 1].workload, s->workload) != 0) {
			if (nfiles == 32)
				break;
			char key[64], *name;

			rep_file_key(key, sizeof(key), s->workload);
			name = vb_strdupf("sharing-%s", key);
			files[nfiles].workload = s->workload;
			files[nfiles].rows = 0;
			rep_data_file(r, name, &files[nfiles].df);
			free(name);
			nfiles++;
		}
		FILE *d = files[nfiles - 1].df.f;
		int *rows = &files[nfiles - 1].rows;
		const struct series *alone = series_find(&r->set, s->workload, s->config, 1, 0, s->metric);
		const struct series *d0 = series_find(&r->set, s->workload, s->config, s->topology, 1, s->metric);
		double one = alone ? stats_median_of(alone->v, alone->n) : NAN, sum = 0;
		char cl[64];

		rep_dat_label(cl, sizeof(cl), s->config);

		fprintf(r->html, "<tr><td>%s</td><td>%s</td><td>%d</td><td>", s->workload, s->config, s->topology);
		for (size_t k = 0; k < n; k++) {
			sum += g[k];
			fprintf(r->html, "%s%.1f", k ? ", " : "", g[k]);
			if (d)
				fprintf(d, "\"%s x%d g%zu\" %.4f\n", cl, s->topology, k + 1, g[k]);
			(*rows)++;
		}
		double eff = stats_scaling(g, n, one), jain = stats_jain(g, NULL, n);

		char effs[16];

		fprintf(r->html, "</td><td>%.1f</td><td>%s</td><td>%.3f</td>", sum,
			rep_cell(effs, sizeof(effs), "%.2f", eff), jain);
		if (npts < sizeof(pts) / sizeof(pts[0]))
			pts[npts++] = (struct scale_point){ s->workload, s->config, s->topology, sum };
		if (d0) {
			/* dom0 is one more VM sharing the GPU: Jain over all of them. */
			g[n] = stats_median_of(d0->v, d0->n);
			if (d)
				fprintf(d, "\"%s x%d dom0\" %.4f\n", cl, s->topology, g[n]);
			fprintf(r->html, "<td>%.1f</td><td>%.3f</td></tr>\n", g[n], stats_jain(g, NULL, n + 1));
		} else {
			fprintf(r->html, "<td>–</td><td>–</td></tr>\n");
		}
	}
	fprintf(r->html, "</table>\n<p>Scaling efficiency: the guests' summed throughput ÷ one guest alone. "
			 "Fairness: Jain's index over per-guest throughput (1 = perfectly fair, 1/n = one guest "
			 "takes all); with dom0 it counts dom0's own workload, run at the same time, as one more "
			 "VM: under mediated its GL goes through the mediator too (its vtest socket: one more vGPU), "
			 "under the other configurations it renders on the host beside them (the environment "
			 "section says which).</p>\n");
	for (int f = 0; f < nfiles; f++) {
		struct sharing_file *sf = &files[f];
		char ylabel[200], what[160], caption[512], *name = vb_strdup(sf->df.name);

		rep_data_done(r, &sf->df);
		*strrchr(name, '.') = '\0'; /* the chart is named like its data */
		snprintf(what, sizeof(what), "%s per-guest %s", sf->workload, rep_headline(sf->workload));
		rep_gp_quote(ylabel, sizeof(ylabel), what);
		char *script = vb_strdupf("set style data histogram\nset style fill solid 0.6 border -1\n"
					  "set ylabel %s\nset yrange [0:*]\nset xtics rotate by -30\n"
					  "unset key\nplot '%s' using 2:xtic(1) lc rgb '#5b8c3a'\n",
					  ylabel, sf->df.name);

		snprintf(caption, sizeof(caption),
			 "%s: per-guest %s (median over repetitions) when 1, 2, 3… guests (and dom0) share the GPU.",
			 sf->workload, rep_headline(sf->workload));
		rep_chart(r, name, script, caption);
		free(script);
		free(name);
		free(sf->df.name);
	}
	if (!nfiles)
		fprintf(r->html, "<p>No guest results in this run.</p>\n");
	/* The series come ordered by workload, config, guests: each workload's points are one stretch. */
	for (size_t a = 0, b; a < npts; a = b) {
		for (b = a; b < npts && !strcmp(pts[b].workload, pts[a].workload); b++)
			;
		scaling_chart(r, pts, a, b);
	}
}
