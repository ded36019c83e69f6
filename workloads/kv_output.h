/* kv_output.h: the "key: value" output our own workload programs print
 * (kms2d, gpuhog): a format line, the renderer or driver, the surface, the
 * metrics, and a closing "done" line. One parser for all of them. */
#ifndef VGPUBENCH_KV_OUTPUT_H
#define VGPUBENCH_KV_OUTPUT_H

#include <stddef.h>

#include "workload.h"

struct kv_metric {
	const char *key, *unit;
	int higher; /* higher is better */
};

struct kv_output {
	const char *program;      /* names it in messages: "kms2d" */
	const char *format_key;   /* "kms2d-format": its value must be 1 */
	const char *renderer_key; /* copied into wl_result.renderer */
	const char *surface_key;  /* copied into wl_result.surface */
	const struct kv_metric *metrics; /* every one must appear once, a finite number >= 0 */
	size_t nmetrics;
	/* Where a program reports parts of a whole (kms2d's outputs): "<part_prefix>K.<metric key>" lines, K from 1 to
	 * max_parts, are metrics too, each at most once, none required. NULL: none. */
	const char *part_prefix;
	int max_parts;
};

/* Parse a program's output into r. 0, or -1 with the reason in r->error. */
int kv_output_parse(const struct kv_output *f, const char *out, size_t len, struct wl_result *r);

#endif
