/* robustness_workload.c: the robustness catalogue (vgpu-hostile, built from
 * tools/hostile.c): a hostile vhost-user front-end runs every named
 * malformed input against vgpu-mediator and QEMU's vhost-user-gpu on the
 * host. Each case of each back-end becomes one test status, so the store
 * keeps them like piglit's and compare flags a case that regressed:
 *   survived, recovered (after a front-end device reset)  -> pass
 *   reconnect (served again only on a new connection)     -> warn
 *   dead, or the neighbouring vGPU stalled                -> fail
 *   hung -> timeout, crashed -> crash, setup-failed or skipped (a worker
 *   case on a back-end without render workers) -> skip
 * Per back-end metrics: cases passed (%), crashed, hung, neighbour stalls. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define MAX_BACKENDS 4

static const char *const host_argv[] = { "build/vgpu-hostile", NULL };
/* Guests have no back-end to attack: the job says so and skips. */
static const char *const guest_argv[] = { "/bin/sh", "-c",
					  "echo 'skip: the robustness catalogue drives back-ends on the host (plan it "
					  "under the native config)'; exit 77",
					  NULL };

static const char *const *robustness_argv(enum workload_where where)
{
	return where == WL_HOST ? host_argv : guest_argv;
}

static const char *status_of(const char *outcome, const char *neighbour)
{
	if (!strcmp(neighbour, "stalled"))
		return "fail";
	if (!strcmp(outcome, "survived") || !strcmp(outcome, "recovered"))
		return "pass";
	if (!strcmp(outcome, "reconnect"))
		return "warn";
	if (!strcmp(outcome, "hung"))
		return "timeout";
	if (!strcmp(outcome, "crashed"))
		return "crash";
	if (!strcmp(outcome, "setup-failed") || !strcmp(outcome, "skipped"))
		return "skip";
	return !strcmp(outcome, "dead") ? "fail" : NULL;
}

struct tally {
	char name[48];
	int cases, pass, crashed, hung, stalled;
};

static int robustness_parse(const char *out, size_t len, struct wl_result *r)
{
	struct tally t[MAX_BACKENDS];
	size_t nt = 0;
	char *text = strndup(out, len), *save = NULL;
	int format = 0;

	memset(r, 0, sizeof(*r));
	if (!text) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return -1;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char backend[48], name[64], cls[24], outcome[24], nb[16], test[128];
		const char *st;
		size_t k;

		if (!strcmp(line, "robustness-format: 1"))
			format = 1;
		if (strncmp(line, "case: ", 6))
			continue;
		if (sscanf(line + 6, "%47s %63s %23s %23s %15s", backend, name, cls, outcome, nb) != 5 ||
		    !(st = status_of(outcome, nb))) {
			snprintf(r->error, sizeof(r->error), "robustness: unreadable case line '%.200s'", line);
			goto fail;
		}
		for (k = 0; k < nt && strcmp(t[k].name, backend); k++)
			;
		if (k == nt) {
			if (nt == MAX_BACKENDS) {
				snprintf(r->error, sizeof(r->error), "robustness: more than %d back-ends", MAX_BACKENDS);
				goto fail;
			}
			memset(&t[nt], 0, sizeof(t[0]));
			snprintf(t[nt++].name, sizeof(t[0].name), "%s", backend);
		}
		/* A case that does not apply to a back-end is not one of its cases. */
		t[k].cases += strcmp(outcome, "skipped") != 0;
		t[k].pass += !strcmp(st, "pass");
		t[k].crashed += !strcmp(outcome, "crashed");
		t[k].hung += !strcmp(outcome, "hung");
		t[k].stalled += !strcmp(nb, "stalled");
		snprintf(test, sizeof(test), "%s/%s", backend, name);
		if (wl_add_subtest(r, test, st) < 0) {
			snprintf(r->error, sizeof(r->error), "robustness: out of memory");
			goto fail;
		}
	}
	if (!format || !nt) {
		snprintf(r->error, sizeof(r->error), "robustness: no %s in the output",
			 format ? "case" : "'robustness-format: 1' header");
		goto fail;
	}
	for (size_t k = 0; k < nt; k++) {
		char m[160];

		snprintf(m, sizeof(m), "%.47s cases_passed_pct", t[k].name);
		if (t[k].cases)
			wl_add_metric(r, m, 100.0 * t[k].pass / t[k].cases, "%", 1);
		snprintf(m, sizeof(m), "%.47s crashed", t[k].name);
		wl_add_metric(r, m, t[k].crashed, "cases", 0);
		snprintf(m, sizeof(m), "%.47s hung", t[k].name);
		wl_add_metric(r, m, t[k].hung, "cases", 0);
		snprintf(m, sizeof(m), "%.47s neighbour_stalled", t[k].name);
		wl_add_metric(r, m, t[k].stalled, "cases", 0);
	}
	snprintf(r->renderer, sizeof(r->renderer), "none (drives vhost-user back-ends)");
	free(text);
	return 0;
fail:
	wl_result_free(r);
	free(text);
	return -1;
}

static const char *const robustness_needs[] = {
	"vgpu-mediator built; QEMU's vhost-user-gpu (/usr/lib/qemu/vhost-user-gpu) for the comparison", NULL
};
static const struct wl_metric_decl robustness_metrics[] = {
	{ "* cases_passed_pct", "%", 1, "cases the back-end survived or recovered from, its neighbour served" },
	{ "* crashed", "cases", 0, "cases that ended the back-end's process" },
	{ "* hung", "cases", 0, "cases after which the back-end answered nobody" },
	{ "* neighbour_stalled", "cases", 0, "cases during which another VM's vGPU on the same process stalled" },
	{ NULL, NULL, 0, NULL },
};

const struct workload_def workload_robustness = {
	.name = "robustness",
	.cls = "robustness",
	.description = "robustness: a hostile vhost-user front-end's catalogue of malformed inputs against "
		       "vgpu-mediator and QEMU's vhost-user-gpu, case by case",
	.path = WL_PATH_NONE,
	.argv = robustness_argv,
	.bundled = 1,
	.budget = "41 cases per back-end, about a minute",
	.requires = robustness_needs,
	.metrics = robustness_metrics,
	.headline_metric = "vgpu-mediator cases_passed_pct",
	.parse = robustness_parse,
};
