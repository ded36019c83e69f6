/* workloads_test.c: every workload definition is complete, and every metric
 * its parser yields from real captured output matches a declaration with the
 * same unit and direction. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "check.h"
#include "util.h"
#include "workload.h"

static const struct {
	const char *workload, *fixture;
} fixtures[] = {
	{ "glmark2", "tests/fixtures/glmark2/native-llvmpipe.txt" },
	{ "glmark2", "tests/fixtures/glmark2/guest-virgl.txt" },
	{ "glmark2", "tests/fixtures/glmark2/native-csv.txt" },
	{ "glmark2-long", "tests/fixtures/glmark2/native-long-csv.txt" },
	{ "glmark2-short", "tests/fixtures/glmark2/native-short-csv.txt" },
	{ "kms2d", "tests/fixtures/kms2d/guest-virtio.txt" },
	{ "gpuhog", "tests/fixtures/gpuhog/native-llvmpipe.txt" },
	{ "piglit", "tests/fixtures/piglit/host-llvmpipe.txt" },
	{ "piglit-smoke", "tests/fixtures/piglit/host-llvmpipe.txt" },
	{ "media", "tests/fixtures/media/host-software.txt" },
	{ "robustness", "tests/fixtures/robustness/host-both.txt" },
	{ "media", "tests/fixtures/media/guest-software.txt" },
};

int main(void)
{
	size_t n = 0;

	for (size_t i = 0; workload_at(i); i++, n++) {
		const struct workload_def *w = workload_at(i);
		int covered = 0;

		CHECK(w->name && w->description && w->budget && w->headline_metric && w->parse, "%s is complete", w->name);
		CHECK(!strcmp(w->cls, "3d") || !strcmp(w->cls, "2d") || !strcmp(w->cls, "media") ||
			      !strcmp(w->cls, "robustness"),
		      "%s class '%s'",
		      w->name, w->cls);
		CHECK(w->argv(WL_HOST)[0] && w->argv(WL_GUEST)[0], "%s runs on the host and in a guest", w->name);
		CHECK(w->requires && w->requires[0], "%s says what it needs", w->name);
		CHECK(w->metrics && w->metrics[0].pattern, "%s declares its metrics", w->name);
		CHECK(workload_metric_decl(w, w->headline_metric) != NULL, "%s: headline metric %s is declared", w->name,
		      w->headline_metric);
		CHECK(workload_find(w->name) == w, "%s found by name", w->name);
		for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++)
			covered += !strcmp(fixtures[f].workload, w->name);
		CHECK(covered, "%s has a captured-output fixture here", w->name);
	}
	CHECK(n >= 5, "the catalogue has %zu workloads", n);

	for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		const struct workload_def *w = workload_find(fixtures[f].workload);
		size_t len = 0;
		char *text = vb_read_file(fixtures[f].fixture, &len);
		struct wl_result r = { 0 };

		CHECK(w && text, "%s", fixtures[f].fixture);
		if (!w || !text) {
			free(text);
			continue;
		}
		CHECK(w->parse(text, len, &r) == 0, "%s: %s", fixtures[f].fixture, r.error);
		CHECK(r.n > 0, "%s yields metrics", fixtures[f].fixture);
		for (int i = 0; i < r.n; i++) {
			const struct wl_metric_decl *d = workload_metric_decl(w, r.m[i].name);

			CHECK(d != NULL, "%s: metric %s is not declared", w->name, r.m[i].name);
			if (d)
				CHECK(!strcmp(d->unit, r.m[i].unit) && d->higher_is_better == r.m[i].higher_is_better,
				      "%s: %s is %s/%d, declared %s/%d", w->name, r.m[i].name, r.m[i].unit,
				      r.m[i].higher_is_better, d->unit, d->higher_is_better);
		}
		wl_result_free(&r);
		free(text);
	}
	return check_done("workloads");
}
