/* piglit_workload.c: piglit with its own runner on vgpubench's curated profile
 * (workloads/piglit/vgpubench.list, ~430 tests across GL, GLES and GLSL),
 * through workloads/piglit/run-piglit.sh. Imports every test's status the way
 * `piglit summary console` lists them (a test with subtests is one entry per
 * subtest), keeps piglit's results.json as an artifact, and derives counts
 * and the pass rate. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "workload.h"

#define BEGIN "--- piglit results.json ---\n"
#define END "\n--- end ---"

static const char *const host_argv[] = { "workloads/piglit/run-piglit.sh", "glx", "vgpubench.list", NULL };
static const char *const guest_argv[] = { "workloads/piglit/run-piglit.sh", "gbm", "vgpubench.list", NULL };
static const char *const smoke_host_argv[] = { "workloads/piglit/run-piglit.sh", "glx", "vgpubench-smoke.list", NULL };
static const char *const smoke_guest_argv[] = { "workloads/piglit/run-piglit.sh", "gbm", "vgpubench-smoke.list",
						NULL };

static const char *const *piglit_argv(enum workload_where where)
{
	return where == WL_HOST ? host_argv : guest_argv;
}

static const char *const *piglit_smoke_argv(enum workload_where where)
{
	return where == WL_HOST ? smoke_host_argv : smoke_guest_argv;
}

/* piglit's statuses onto the store's: dmesg-* keep their base, incomplete counts as a crash. */
static const char *map_status(const char *s)
{
	static const char *const same[] = { "pass", "warn", "fail", "crash", "timeout", "skip", "notrun" };

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (!strcmp(s, same[i]))
			return same[i];
	if (!strcmp(s, "dmesg-warn"))
		return "warn";
	if (!strcmp(s, "dmesg-fail"))
		return "fail";
	if (!strcmp(s, "incomplete"))
		return "crash";
	return NULL;
}

static int cmp_sub(const void *a, const void *b)
{
	return strcmp(((const struct wl_subtest *)a)->name, ((const struct wl_subtest *)b)->name);
}

static int add(struct wl_result *r, const char *name, struct json_object *status)
{
	const char *st = json_object_is_type(status, json_type_string) ? map_status(json_object_get_string(status))
								       : NULL;

	if (!st) {
		snprintf(r->error, sizeof(r->error), "piglit: test '%.200s' has an unknown status", name);
		return -1;
	}
	if (wl_add_subtest(r, name, st) < 0) {
		snprintf(r->error, sizeof(r->error), "piglit: out of memory");
		return -1;
	}
	return 0;
}

static int piglit_parse(const char *out, size_t len, struct wl_result *r)
{
	const char *begin, *end, *line;
	struct json_tokener *tok;
	struct json_object *root = NULL, *tests;
	int counts[7] = { 0 }; /* pass warn fail crash timeout skip notrun */
	double duration = -1;

	memset(r, 0, sizeof(*r));
	if (!memmem(out, len, "piglit-wrapper: 1\n", 18)) {
		snprintf(r->error, sizeof(r->error), "piglit: not run-piglit.sh output");
		return -1;
	}
	line = memmem(out, len, "\nrenderer: ", 11);
	if (line) {
		line += 11;
		size_t n = strcspn(line, "\n");

		snprintf(r->renderer, sizeof(r->renderer), "%.*s", (int)(n < 255 ? n : 255), line);
	}
	line = memmem(out, len, "\nduration_s: ", 13);
	if (line)
		duration = strtod(line + 13, NULL);
	begin = memmem(out, len, BEGIN, strlen(BEGIN));
	if (!begin) {
		line = memmem(out, len, "\nerror: ", 8);
		snprintf(r->error, sizeof(r->error), "piglit: no results%s%.*s", line ? ": " : "",
			 line ? (int)strcspn(line + 8, "\n") : 0, line ? line + 8 : "");
		return -1;
	}
	begin += strlen(BEGIN);
	end = memmem(begin, len - (size_t)(begin - out), END, strlen(END));
	if (!end) {
		snprintf(r->error, sizeof(r->error), "piglit: results.json is truncated (no end marker)");
		return -1;
	}
	tok = json_tokener_new_ex(64);
	if (tok) {
		root = json_tokener_parse_ex(tok, begin, (int)(end - begin));
		if (json_tokener_get_error(tok) != json_tokener_success) {
			json_object_put(root);
			root = NULL;
		}
		json_tokener_free(tok);
	}
	if (!root || !json_object_object_get_ex(root, "tests", &tests) || !json_object_is_type(tests, json_type_object)) {
		snprintf(r->error, sizeof(r->error), "piglit: results.json is not a piglit results file");
		json_object_put(root);
		return -1;
	}
	json_object_object_foreach(tests, name, t)
	{
		struct json_object *result, *subs;
		int had = 0;

		if (!json_object_is_type(t, json_type_object) || !json_object_object_get_ex(t, "result", &result)) {
			snprintf(r->error, sizeof(r->error), "piglit: test '%.200s' has no result", name);
			goto bad;
		}
		/* piglit's summary lists a test with subtests as one entry per subtest. */
		if (json_object_object_get_ex(t, "subtests", &subs) && json_object_is_type(subs, json_type_object)) {
			json_object_object_foreach(subs, sname, sst)
			{
				char *full;

				if (!strncmp(sname, "__", 2))
					continue; /* piglit's own bookkeeping (__type__, __order__) */
				if (asprintf(&full, "%s@%s", name, sname) < 0)
					goto bad;
				int rc = add(r, full, sst);

				free(full);
				if (rc < 0)
					goto bad;
				had = 1;
			}
		}
		if (!had && add(r, name, result) < 0)
			goto bad;
	}
	json_object_put(root);
	qsort(r->sub, r->nsub, sizeof(*r->sub), cmp_sub);
	for (size_t i = 0; i < r->nsub; i++) {
		static const char *const order[] = { "pass", "warn", "fail", "crash", "timeout", "skip", "notrun" };

		for (int k = 0; k < 7; k++)
			if (!strcmp(r->sub[i].status, order[k]))
				counts[k]++;
	}
	int ran = (int)r->nsub - counts[5] - counts[6];

	if (r->nsub == 0) {
		snprintf(r->error, sizeof(r->error), "piglit: the results hold no tests");
		return -1;
	}
	wl_add_metric(r, "pass_rate", ran > 0 ? 100.0 * counts[0] / ran : 0, "%", 1);
	wl_add_metric(r, "tests", (double)r->nsub, "tests", 1);
	wl_add_metric(r, "pass", counts[0], "tests", 1);
	wl_add_metric(r, "warn", counts[1], "tests", 0);
	wl_add_metric(r, "fail", counts[2], "tests", 0);
	wl_add_metric(r, "crash", counts[3], "tests", 0);
	wl_add_metric(r, "timeout", counts[4], "tests", 0);
	wl_add_metric(r, "skip", counts[5] + counts[6], "tests", 0);
	if (duration >= 0)
		wl_add_metric(r, "duration", duration, "s", 0);
	r->artifact = begin;
	r->artifact_len = (size_t)(end - begin);
	r->artifact_name = "results.json";
	return 0;
bad:
	json_object_put(root);
	wl_result_free(r);
	r->n = 0;
	return -1;
}

static const char *const piglit_needs[] = { "piglit and waffle (wflinfo)",
					   "GLX on the host (under Xvfb), GBM on a DRM device in a guest", NULL };
static const struct wl_metric_decl piglit_metrics[] = {
	{ "pass_rate", "%", 1, "pass / tests that ran (skips excluded)" },
	{ "tests", "tests", 1, "entries, subtests expanded as piglit's summary does" },
	{ "pass", "tests", 1, "passed" },
	{ "warn", "tests", 0, "warned" },
	{ "fail", "tests", 0, "failed" },
	{ "crash", "tests", 0, "crashed" },
	{ "timeout", "tests", 0, "timed out" },
	{ "skip", "tests", 0, "skipped or not run" },
	{ "duration", "s", 0, "wall time of the piglit run" },
	{ NULL, NULL, 0, NULL },
};

const struct workload_def workload_piglit = {
	.budget = "~430 tests, 2-3 minutes on llvmpipe (about an hour in a TCG guest)",
	.requires = piglit_needs,
	.metrics = piglit_metrics,
	.name = "piglit",
	.cls = "3d",
	.description = "piglit, curated profile of ~430 GL, GLES and GLSL tests, run by piglit's own runner",
	.path = WL_PATH_GL,
	.argv = piglit_argv,
	.bundled = 1,
	.headline_metric = "pass_rate",
	.parse = piglit_parse,
};

const struct workload_def workload_piglit_smoke = {
	.budget = "~27 tests, a few minutes in a TCG guest",
	.requires = piglit_needs,
	.metrics = piglit_metrics,
	.name = "piglit-smoke",
	.cls = "3d",
	.description = "piglit, every 16th test of the curated profile (~27 tests), for guests under TCG",
	.path = WL_PATH_GL,
	.argv = piglit_smoke_argv,
	.bundled = 1,
	.headline_metric = "pass_rate",
	.parse = piglit_parse,
};
