/* kms2d_parse_test.c: the kms2d parser against real output captured in a TCG
 * guest on virtio-gpu (one output, and two 1920x1080 outputs served by the
 * mediator), its skip output on a host without KMS, and broken output. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>

#include "parse_fixture.h"

static int parse(const char *name, struct wl_result *r)
{
	char *path = vb_strdupf("tests/fixtures/kms2d/%s", name);
	int rc = parse_fixture("kms2d", path, r);

	free(path);
	return rc;
}

int main(void)
{
	struct wl_result r;
	const struct workload_def *w = workload_find("kms2d");

	CHECK(w && w->bundled && w->path == WL_PATH_KMS && !strcmp(w->cls, "2d"), "kms2d is registered as 2d");
	CHECK(parse("guest-virtio.txt", &r) == 0, "guest output: %s", r.error);
	CHECK(r.n == 8, "8 metrics, got %d", r.n);
	CHECK(!strcmp(r.renderer, "virtio_gpu"), "driver '%s'", r.renderer);
	CHECK(!strcmp(r.surface, "640x480@60"), "mode '%s'", r.surface);
	const struct wl_metric *m = find_metric(&r, "fill.mb_per_s"), *lat = find_metric(&r, "flip.latency_p99_ms");

	CHECK(m && m->value == 358.23 && m->higher_is_better && !strcmp(m->unit, "MB/s"), "fill MB/s");
	CHECK(lat && lat->value == 20.975 && !lat->higher_is_better && !strcmp(lat->unit, "ms"), "flip p99 latency");
	CHECK(find_metric(&r, "dirty.per_s") && find_metric(&r, "copy.per_s") && find_metric(&r, "flip.per_s"), "every test reported");

	CHECK(!find_metric(&r, "output1.fill.mb_per_s"), "one output: no per-output metrics");

	/* Two outputs: the totals under the usual names, each output's own as outputN.<key>. */
	CHECK(parse("guest-virtio-2outputs.txt", &r) == 0, "two outputs: %s", r.error);
	CHECK(r.n == 3 * 8, "8 totals and the same 8 for each output, got %d", r.n);
	CHECK(!strcmp(r.surface, "1920x1080@60+1920x1080@60"), "both modes '%s'", r.surface);
	const struct wl_metric *o1 = find_metric(&r, "output1.fill.mb_per_s");
	const struct wl_metric *o2 = find_metric(&r, "output2.fill.mb_per_s");

	m = find_metric(&r, "fill.mb_per_s");
	CHECK(m && o1 && o2 && fabs(o1->value + o2->value - m->value) < 0.02, "the total is the outputs' sum");
	CHECK(o1 && o1->higher_is_better && !strcmp(o1->unit, "MB/s"), "an output's metric keeps its unit");
	lat = find_metric(&r, "output2.flip.latency_p99_ms");
	CHECK(lat && !lat->higher_is_better && !strcmp(lat->unit, "ms"), "an output's latency: lower is better");
	for (int i = 0; i < r.n; i++)
		CHECK(workload_metric_decl(w, r.m[i].name), "%s is declared", r.m[i].name);

	CHECK(parse("host-skip.txt", &r) < 0, "skip output carries no metrics");
	CHECK(parse("truncated.txt", &r) < 0, "truncated output fails");
	CHECK_STR_CONTAINS(r.error, "did not finish");

	const char *bad = "kms2d-format: 1\nfill.per_s: fast\n";

	CHECK(w->parse(bad, strlen(bad), &r) < 0, "unreadable value");
	CHECK_STR_CONTAINS(r.error, "unreadable fill.per_s");
	const char *twice = "kms2d-format: 1\nfill.per_s: 1\nfill.per_s: 2\n";

	CHECK(w->parse(twice, strlen(twice), &r) < 0, "a value given twice");
	const char *other = "fill.per_s: 1\n";

	CHECK(w->parse(other, strlen(other), &r) < 0, "no format line");
	CHECK_STR_CONTAINS(r.error, "kms2d-format");
	CHECK(w->parse("", 0, &r) < 0, "empty output");
	const char *part17 = "kms2d-format: 1\noutput17.fill.per_s: 1\n";

	CHECK(w->parse(part17, strlen(part17), &r) < 0, "an output past 16");
	CHECK_STR_CONTAINS(r.error, "output17.fill.per_s: no part 17 (1 to 16)");
	const char *part_twice = "kms2d-format: 1\noutput2.flip.per_s: 1\noutput2.flip.per_s: 1\n";

	CHECK(w->parse(part_twice, strlen(part_twice), &r) < 0, "an output's value given twice");
	CHECK_STR_CONTAINS(r.error, "output2.flip.per_s given twice");
	const char *part_bad = "kms2d-format: 1\noutput1.copy.mb_per_s: -3\n";

	CHECK(w->parse(part_bad, strlen(part_bad), &r) < 0, "an output's unreadable value");
	CHECK_STR_CONTAINS(r.error, "unreadable output1.copy.mb_per_s");
	return check_done("kms2d_parse");
}
