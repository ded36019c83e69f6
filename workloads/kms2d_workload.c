/* kms2d_workload.c: the kms2d workload (workloads/kms2d/kms2d.c, built by this
 * project): 2D on KMS dumb buffers. Parses its "key: value" output; on a host
 * without a KMS device the program skips itself with the reason. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static const char *const kms2d_args[] = { "build/kms2d", "--seconds", "3", NULL };

static const char *const *kms2d_argv(enum workload_where where)
{
	(void)where;
	return kms2d_args;
}

static const struct {
	const char *key, *unit;
	int higher;
} expected[] = {
	{ "fill.per_s", "fills/s", 1 },	      { "fill.mb_per_s", "MB/s", 1 },	     { "copy.per_s", "copies/s", 1 },
	{ "copy.mb_per_s", "MB/s", 1 },	      { "dirty.per_s", "updates/s", 1 },   { "flip.per_s", "flips/s", 1 },
	{ "flip.latency_p50_ms", "ms", 0 },    { "flip.latency_p99_ms", "ms", 0 },
};

#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

static int kms2d_parse(const char *out, size_t len, struct wl_result *r)
{
	const char *p = out, *end = out + len;
	int format = 0, done = 0, seen[NEXPECTED] = { 0 };

	memset(r, 0, sizeof(*r));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);
		char line[256], *colon;

		if (ll < sizeof(line)) {
			memcpy(line, p, ll);
			line[ll] = '\0';
			colon = strstr(line, ": ");
			if (colon) {
				*colon = '\0';
				const char *val = colon + 2;

				if (!strcmp(line, "kms2d-format"))
					format = atoi(val);
				else if (!strcmp(line, "driver"))
					snprintf(r->renderer, sizeof(r->renderer), "%s", val);
				else if (!strcmp(line, "mode"))
					snprintf(r->surface, sizeof(r->surface), "%s", val);
				else if (!strcmp(line, "done"))
					done = 1;
				for (size_t i = 0; i < NEXPECTED; i++) {
					char *e;
					double v;

					if (strcmp(line, expected[i].key))
						continue;
					errno = 0;
					v = strtod(val, &e);
					if (errno || e == val || *e || !isfinite(v) || v < 0) {
						snprintf(r->error, sizeof(r->error), "kms2d: unreadable %s '%.40s'",
							 expected[i].key, val);
						return -1;
					}
					if (seen[i]++) {
						snprintf(r->error, sizeof(r->error), "kms2d: %s given twice", expected[i].key);
						return -1;
					}
					wl_add_metric(r, expected[i].key, v, expected[i].unit, expected[i].higher);
				}
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (format != 1) {
		snprintf(r->error, sizeof(r->error), "kms2d: no 'kms2d-format: 1' line (not kms2d output?)");
		return -1;
	}
	for (size_t i = 0; i < NEXPECTED; i++)
		if (!seen[i]) {
			snprintf(r->error, sizeof(r->error), "kms2d: no %s: the run did not finish", expected[i].key);
			return -1;
		}
	if (!done) {
		snprintf(r->error, sizeof(r->error), "kms2d: no 'done' line: the run did not finish");
		return -1;
	}
	return 0;
}

static const char *const kms2d_needs[] = { "a KMS device with dumb buffers (/dev/dri/card*)", NULL };
static const struct wl_metric_decl kms2d_metrics[] = {
	{ "fill.per_s", "fills/s", 1, "full-screen solid fills, each pushed with DIRTYFB" },
	{ "copy.per_s", "copies/s", 1, "full-screen blits, each pushed with DIRTYFB" },
	{ "*.mb_per_s", "MB/s", 1, "bytes written per second" },
	{ "dirty.per_s", "updates/s", 1, "64x64 partial updates, one DIRTYFB rectangle each" },
	{ "flip.per_s", "flips/s", 1, "page flips, each waited for" },
	{ "flip.latency_p*_ms", "ms", 0, "page flip to its vblank event" },
	{ NULL, NULL, 0, NULL },
};

const struct workload_def workload_kms2d = {
	.budget = "4 tests x 3 s",
	.requires = kms2d_needs,
	.metrics = kms2d_metrics,
	.name = "kms2d",
	.cls = "2d",
	.description = "kms2d: dumb-buffer fills, blits, DIRTYFB partial updates and page flips on KMS",
	.path = WL_PATH_KMS,
	.argv = kms2d_argv,
	.bundled = 1,
	.headline_metric = "fill.mb_per_s",
	.parse = kms2d_parse,
};
