/* parse_fixture.h: tests' shortcuts for parsing captured workload output. */
#ifndef VGPUBENCH_PARSE_FIXTURE_H
#define VGPUBENCH_PARSE_FIXTURE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util.h"
#include "workload.h"

/* Parse fixture file `path` with workload `name`'s parser: its return value, -2 without the file. */
static inline int parse_fixture(const char *name, const char *path, struct wl_result *r)
{
	size_t len = 0;
	char *text = vb_read_file(path, &len);
	int rc = text ? workload_find(name)->parse(text, len, r) : -2;

	CHECK(text != NULL, "fixture %s", path);
	free(text);
	return rc;
}

/* The metric called name, or NULL. */
static inline const struct wl_metric *find_metric(const struct wl_result *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->m[i].name, name))
			return &r->m[i];
	return NULL;
}

/* Its value, or NAN. */
static inline double metric_value(const struct wl_result *r, const char *name)
{
	const struct wl_metric *m = find_metric(r, name);

	return m ? m->value : NAN;
}

#endif
