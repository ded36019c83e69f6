/* robustness_parse_test.c: the robustness workload's reading of vgpu-hostile's
 * output (tests/fixtures/robustness: a real run against vgpu-mediator and
 * QEMU's vhost-user-gpu): one test status per back-end and case, mapped the
 * way the workload's header says, the per-back-end metrics, and output it
 * must refuse. */
#include "parse_fixture.h"

static const char *status(const struct wl_result *r, const char *test)
{
	for (size_t i = 0; i < r->nsub; i++)
		if (!strcmp(r->sub[i].name, test))
			return r->sub[i].status;
	return "";
}

static int parse_text(const char *text, struct wl_result *r)
{
	return workload_find("robustness")->parse(text, strlen(text), r);
}

int main(void)
{
	struct wl_result r = { 0 };
	const struct wl_metric *m;

	CHECK(parse_fixture("robustness", "tests/fixtures/robustness/host-both.txt", &r) == 0, "fixture: %s", r.error);
	CHECK(r.nsub == 88, "44 cases for each of two back-ends (%zu)", r.nsub);
	CHECK(!strcmp(status(&r, "vgpu-mediator/worker-watchdog"), "pass"), "a worker killed by the watchdog: pass");
	CHECK(!strcmp(status(&r, "qemu-vhost-user-gpu/worker-crash"), "skip"), "no worker in QEMU's back-end: skip");
	CHECK(!strcmp(status(&r, "vgpu-mediator/ring-chain-loop"), "pass"), "recovered after a reset: pass");
	CHECK(!strcmp(status(&r, "vgpu-mediator/cmd-create-overflow"), "pass"), "survived: pass");
	CHECK(!strcmp(status(&r, "vgpu-mediator/msg-payload-1gib"), "warn"), "served only on a new connection: warn");
	CHECK(!strcmp(status(&r, "qemu-vhost-user-gpu/ring-chain-loop"), "crash"), "QEMU's back-end ended: crash");
	CHECK((m = find_metric(&r, "vgpu-mediator crashed")) && m->value == 0 && !m->higher_is_better,
	      "vgpu-mediator crashed on no case");
	CHECK((m = find_metric(&r, "qemu-vhost-user-gpu crashed")) && m->value == 19, "QEMU's on 19");
	CHECK((m = find_metric(&r, "vgpu-mediator cases_passed_pct")) && fabs(m->value - 100.0 * 42 / 44) < 1e-9,
	      "42 of 44 passed (%f)", m ? m->value : -1);
	CHECK((m = find_metric(&r, "qemu-vhost-user-gpu cases_passed_pct")) && fabs(m->value - 100.0 * 22 / 41) < 1e-9,
	      "QEMU's: 22 of the 41 that apply to it (%f)", m ? m->value : -1);
	CHECK(strstr(r.renderer, "none") != NULL, "it renders nothing: '%s'", r.renderer);
	wl_result_free(&r);

	CHECK(parse_text("robustness-format: 1\ncase: b x ring hung - \n", &r) == 0 && !strcmp(status(&r, "b/x"), "timeout"),
	      "hung: timeout");
	wl_result_free(&r);
	CHECK(parse_text("robustness-format: 1\ncase: q w worker skipped - a process per VM\ncase: q x ring survived -\n"
			 "case: m w worker recovered served meanwhile the neighbour was served 10 of 10 times\n",
			 &r) == 0 &&
		      !strcmp(status(&r, "q/w"), "skip") && !strcmp(status(&r, "m/w"), "pass"),
	      "a case that does not apply: skip; a worker case recovered: pass");
	CHECK((m = find_metric(&r, "q cases_passed_pct")) && m->value == 100.0,
	      "a skipped case is not counted among the back-end's cases (%f)", m ? m->value : -1);
	wl_result_free(&r);
	CHECK(parse_text("robustness-format: 1\ncase: q w worker skipped -\n", &r) == 0 &&
		      !find_metric(&r, "q cases_passed_pct"),
	      "no applicable case: no pass rate");
	wl_result_free(&r);
	CHECK(parse_text("robustness-format: 1\ncase: b x ring survived stalled\n", &r) == 0 &&
		      !strcmp(status(&r, "b/x"), "fail"),
	      "a stalled neighbour fails the case whatever became of the victim");
	wl_result_free(&r);
	CHECK(parse_text("robustness-format: 1\ncase: b x ring exploded -\n", &r) < 0 &&
		      strstr(r.error, "unreadable case line"),
	      "an unknown outcome is refused: %s", r.error);
	CHECK(parse_text("case: b x ring survived -\n", &r) < 0 && strstr(r.error, "header"), "no header: refused");
	CHECK(parse_text("robustness-format: 1\n", &r) < 0 && strstr(r.error, "no case"), "no case: refused");
	CHECK(parse_text("robustness-format: 1\ncase: truncated\n", &r) < 0, "a cut line: refused");
	return check_done("robustness_parse");
}
