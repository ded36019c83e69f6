/* chart.c: what the report's sections share: gnuplot charts inlined as SVG, their data files, labels and table
 * cells. */
#define _GNU_SOURCE

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/rep.h"
#include "stats.h"
#include "util.h"

const char *rep_headline(const char *workload)
{
	const struct workload_def *w = workload_find(workload);

	return w ? w->headline_metric : "score";
}


void rep_label(char *buf, size_t len, const struct series *s)
{
	if (s->dom0)
		snprintf(buf, len, "%s x%d dom0", s->config, s->topology);
	else if (s->topology)
		snprintf(buf, len, "%s x%d", s->config, s->topology);
	else
		snprintf(buf, len, "%s", s->config);
}

/*
 * Run gnuplot on script `name`.gp in the data folder and inline the SVG it
 * wrote. gnuplot runs in the data folder and sees only file names we made
 * there: no path from the command line or the database reaches its script.
 */
void rep_chart(struct rep *r, const char *name, const char *script, const char *caption)
{
	char *gp = vb_strdupf("%s/%s.gp", r->data, name), *svg = vb_strdupf("%s/%s.svg", r->data, name);
	char *out = vb_strdupf("%s.svg.tmp", name), *outpath = vb_strdupf("%s/%s", r->data, out);
	char *log = vb_strdupf("%s.log", name), *gpname = vb_strdupf("%s.gp", name);
	char *full = vb_strdupf("set terminal svg size 860,380 dynamic noenhanced font 'sans,11' background '#ffffff'\n"
				"set output '%s'\nset grid ytics\nset key outside right top\n%s",
				out, script);
	char *body = NULL;
	int st;
	char *argv[] = { "gnuplot", gpname, NULL };

	if (vb_write_file(gp, full, strlen(full)) < 0) {
		fprintf(r->html, "<p class=err>cannot write %s</p>\n", gp);
		vb_err("report: cannot write %s: %s", gp, strerror(errno));
		r->failed++;
		goto out;
	}
	st = vb_run_in(r->data, argv, log, 120);
	size_t len;

	body = st == 0 ? vb_read_file(outpath, &len) : NULL;
	char *start = body ? strstr(body, "<svg") : NULL;

	if (st != 0 || !start || rename(outpath, svg) < 0) {
		fprintf(r->html, "<p class=err>gnuplot failed to draw %s (script: %s, its messages: %s/%s)</p>\n", name,
			gp, r->data, log);
		vb_err("report: gnuplot failed to draw %s (%s %d; see %s/%s)", name,
		       st >= 0 && WIFEXITED(st) ? "exit status" : "wait status",
		       st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : st, r->data, log);
		unlink(outpath);
		r->failed++;
	} else {
		fprintf(r->html, "<figure id=\"chart-%s\">\n%s\n<figcaption>", name, start);
		vb_xml_escape(r->html, caption);
		fprintf(r->html, "</figcaption></figure>\n");
		r->charts++;
	}
out:
	free(body);
	free(full);
	free(gp);
	free(svg);
	free(out);
	free(outpath);
	free(log);
	free(gpname);
}

/* A section whose rows the store could not give: say so with the store's reason, and count the report incomplete. */
void rep_unreadable(struct rep *r, const char *what)
{
	fprintf(r->html, "<p class=err>%s could not be read: ", what);
	vb_xml_escape(r->html, r->st->err);
	fprintf(r->html, "</p>\n");
	r->failed++;
}

FILE *rep_data_file(struct rep *r, const char *name, struct dfile *df)
{
	(void)r;
	memset(df, 0, sizeof(*df));
	df->name = vb_strdupf("%s.dat", name);
	df->f = open_memstream(&df->buf, &df->len);
	if (!df->f)
		abort();
	return df->f;
}

void rep_data_done(struct rep *r, struct dfile *df)
{
	char *path = vb_strdupf("%s/%s", r->data, df->name);

	if (fclose(df->f) != 0 || vb_write_file(path, df->buf, df->len) < 0) {
		vb_err("report: cannot write %s: %s", path, strerror(errno));
		r->failed++;
	}
	df->f = NULL;
	free(df->buf);
	free(path);
}

/* A label as a gnuplot string literal: single quotes, a quote doubled, no control characters. */
void rep_gp_quote(char *out, size_t len, const char *s)
{
	size_t k = 0;

	if (len < 3)
		return;
	out[k++] = '\'';
	for (; *s && k + 3 < len; s++) {
		if (*s == '\'')
			out[k++] = '\'';
		out[k++] = (unsigned char)*s < 0x20 ? ' ' : *s;
	}
	out[k++] = '\'';
	out[k] = '\0';
}

/* A label for a data file's first column: double-quoted there, so no double quotes nor control characters. */
void rep_dat_label(char *out, size_t len, const char *s)
{
	size_t k = 0;

	for (; *s && k + 1 < len; s++)
		out[k++] = (*s == '"' || (unsigned char)*s < 0x20) ? '_' : *s;
	out[k] = '\0';
}

/* A workload's name as part of a file name: letters, digits, '-' and '_' only. */
void rep_file_key(char *out, size_t len, const char *name)
{
	size_t k = 0;

	for (; *name && k + 1 < len; name++)
		out[k++] = (isalnum((unsigned char)*name) || *name == '-' || *name == '_') ? *name : '_';
	out[k] = '\0';
}

/* A number for a table cell, or an en dash. */
const char *rep_cell(char *buf, size_t len, const char *fmt, double v)
{
	if (isnan(v))
		snprintf(buf, len, "–");
	else
		snprintf(buf, len, fmt, v);
	return buf;
}
