/* registry.c: the table of workloads vgpubench knows. */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

extern const struct workload_def workload_glmark2;
extern const struct workload_def workload_glmark2_long;
extern const struct workload_def workload_glmark2_short;
extern const struct workload_def workload_kms2d;
extern const struct workload_def workload_gpuhog;
extern const struct workload_def workload_piglit;
extern const struct workload_def workload_piglit_smoke;
extern const struct workload_def workload_media;
extern const struct workload_def workload_robustness;

static const struct workload_def *const workloads[] = {
	&workload_glmark2,
	&workload_glmark2_long,
	&workload_glmark2_short,
	&workload_kms2d,
	&workload_gpuhog,
	&workload_piglit,
	&workload_piglit_smoke,
	&workload_media,
	&workload_robustness,
};

const struct workload_def *workload_find(const char *name)
{
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (strcmp(workloads[i]->name, name) == 0)
			return workloads[i];
	return NULL;
}

const struct workload_def *workload_at(size_t i)
{
	return i < sizeof(workloads) / sizeof(workloads[0]) ? workloads[i] : NULL;
}

const struct wl_metric_decl *workload_metric_decl(const struct workload_def *w, const char *metric)
{
	for (const struct wl_metric_decl *d = w->metrics; d && d->pattern; d++)
		if (fnmatch(d->pattern, metric, 0) == 0)
			return d;
	return NULL;
}

int wl_surface_is(const char *surface, int width, int height)
{
	char want[32];
	int n = snprintf(want, sizeof(want), "%dx%d", width, height);

	return n > 0 && !strncmp(surface, want, (size_t)n) && (surface[n] == ' ' || surface[n] == '\0');
}

int wl_add_metric(struct wl_result *r, const char *name, double value, const char *unit, int higher_is_better)
{
	struct wl_metric *m;

	if (r->n >= WL_MAX_METRICS)
		return -1;
	m = &r->m[r->n++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->unit, sizeof(m->unit), "%s", unit);
	m->value = value;
	m->higher_is_better = higher_is_better;
	return 0;
}

int wl_add_subtest(struct wl_result *r, const char *name, const char *status)
{
	struct wl_subtest *n = realloc(r->sub, (r->nsub + 1) * sizeof(*n));

	if (!n)
		return -1;
	r->sub = n;
	n[r->nsub].name = strdup(name);
	if (!n[r->nsub].name)
		return -1;
	snprintf(n[r->nsub].status, sizeof(n[r->nsub].status), "%s", status);
	r->nsub++;
	return 0;
}

void wl_result_free(struct wl_result *r)
{
	for (size_t i = 0; i < r->nsub; i++)
		free(r->sub[i].name);
	free(r->sub);
	r->sub = NULL;
	r->nsub = 0;
}
