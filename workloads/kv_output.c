/* kv_output.c: the parser of our workload programs' "key: value" output, parts' metrics included. */
#define _GNU_SOURCE
#include "kv_output.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_METRICS 32
#define MAX_PARTS 16

/* A metric's value; 0, or -1 with r->error. */
static int read_value(const struct kv_output *f, const char *key, const char *val, double *v, struct wl_result *r)
{
	char *e;

	errno = 0;
	*v = strtod(val, &e);
	if (errno || e == val || *e || !isfinite(*v) || *v < 0) {
		snprintf(r->error, sizeof(r->error), "%s: unreadable %s '%.40s'", f->program, key, val);
		return -1;
	}
	return 0;
}

/* A part's metric ("output2.fill.per_s"): 1 taken, 0 not one, -1 with r->error. */
static int take_part(const struct kv_output *f, const char *key, const char *val, struct wl_result *r,
		     int seen[][MAX_METRICS])
{
	size_t plen = f->part_prefix ? strlen(f->part_prefix) : 0;
	char *dot;
	long k;

	if (!plen || strncmp(key, f->part_prefix, plen) || key[plen] < '1' || key[plen] > '9')
		return 0;
	errno = 0;
	k = strtol(key + plen, &dot, 10);
	if (errno || *dot != '.')
		return 0;
	for (size_t i = 0; i < f->nmetrics; i++) {
		double v;

		if (strcmp(dot + 1, f->metrics[i].key))
			continue;
		if (k < 1 || k > f->max_parts || k > MAX_PARTS) {
			snprintf(r->error, sizeof(r->error), "%s: %s: no part %ld (1 to %d)", f->program, key, k,
				 f->max_parts);
			return -1;
		}
		if (read_value(f, key, val, &v, r) < 0)
			return -1;
		if (seen[k - 1][i]++) {
			snprintf(r->error, sizeof(r->error), "%s: %s given twice", f->program, key);
			return -1;
		}
		wl_add_metric(r, key, v, f->metrics[i].unit, f->metrics[i].higher);
		return 1;
	}
	return 0;
}

/* One "key: value" line: a metric, a part's metric, or one of the format's named lines. 0, or -1 with r->error. */
static int take_line(const struct kv_output *f, char *line, struct wl_result *r, int *format, int *done, int *seen,
		     int part_seen[][MAX_METRICS])
{
	char *colon = strstr(line, ": ");
	const char *val;
	int part;

	if (!colon)
		return 0;
	*colon = '\0';
	val = colon + 2;
	if (!strcmp(line, f->format_key))
		*format = atoi(val);
	else if (!strcmp(line, f->renderer_key))
		snprintf(r->renderer, sizeof(r->renderer), "%s", val);
	else if (!strcmp(line, f->surface_key))
		snprintf(r->surface, sizeof(r->surface), "%s", val);
	else if (!strcmp(line, "done"))
		*done = 1;
	if ((part = take_part(f, line, val, r, part_seen)) != 0)
		return part < 0 ? -1 : 0;
	for (size_t i = 0; i < f->nmetrics; i++) {
		double v;

		if (strcmp(line, f->metrics[i].key))
			continue;
		if (read_value(f, f->metrics[i].key, val, &v, r) < 0)
			return -1;
		if (seen[i]++) {
			snprintf(r->error, sizeof(r->error), "%s: %s given twice", f->program, f->metrics[i].key);
			return -1;
		}
		wl_add_metric(r, f->metrics[i].key, v, f->metrics[i].unit, f->metrics[i].higher);
	}
	return 0;
}

int kv_output_parse(const struct kv_output *f, const char *out, size_t len, struct wl_result *r)
{
	const char *p = out, *end = out + len;
	int format = 0, done = 0, seen[MAX_METRICS] = { 0 }, part_seen[MAX_PARTS][MAX_METRICS] = { { 0 } };

	memset(r, 0, sizeof(*r));
	if (f->nmetrics > MAX_METRICS) {
		snprintf(r->error, sizeof(r->error), "%s: more metrics than the parser takes", f->program);
		return -1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *start = p;
		size_t ll = (size_t)((nl ? nl : end) - p);
		char line[320];

		p = nl ? nl + 1 : end;
		if (ll >= sizeof(line))
			continue;
		memcpy(line, start, ll);
		line[ll] = '\0';
		if (take_line(f, line, r, &format, &done, seen, part_seen) < 0)
			return -1;
	}
	if (format != 1) {
		snprintf(r->error, sizeof(r->error), "%s: no '%s: 1' line (not %s output?)", f->program, f->format_key,
			 f->program);
		return -1;
	}
	for (size_t i = 0; i < f->nmetrics; i++)
		if (!seen[i]) {
			snprintf(r->error, sizeof(r->error), "%s: no %s: the run did not finish", f->program,
				 f->metrics[i].key);
			return -1;
		}
	if (!done) {
		snprintf(r->error, sizeof(r->error), "%s: no 'done' line: the run did not finish", f->program);
		return -1;
	}
	return 0;
}
