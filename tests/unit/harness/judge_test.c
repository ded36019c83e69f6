/* judge_test.c: a job's status from its output (harness/run/judge.c), for the size a sized workload rendered at:
 * glmark2 in a guest must have drawn at output 1's mode when the plan gives [guest] displays, else at the harness's
 * 640x480, on the host always at 640x480; a 1920x1200 frame where 1920x1080 was planned (the stride bug libkrun's
 * users met) fails with both sizes said. kms2d, which draws every output at its own mode, is not sized. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "configs/configs.h"
#include "run/run_state.h"
#include "util.h"

/* The status of a job that exited 0 with out, judged in a run whose plan gives displays (w x h) or none (0). */
static const char *judge(struct run *r, const char *config, enum seat_path where, const char *workload, char *out,
			 int w, int h, char *reason, size_t rlen)
{
	struct job_result jr = { .status = "exited", .code = 0, .out = out, .out_len = strlen(out) };
	struct wl_result wr;
	const char *st;

	r->plan.ndisplays = w ? 1 : 0;
	r->plan.displays[0].width = w;
	r->plan.displays[0].height = h;
	st = run_judge(r, config_find(config), where, "virtio_gpu", workload_find(workload), &jr, &wr, reason, rlen);
	wl_result_free(&wr);
	return st;
}

/* A fixture's text with its "Surface Size:" value replaced by size (malloc'ed), or NULL. */
static char *at_size(const char *fixture, const char *size)
{
	char *text = vb_read_file(fixture, NULL), *at, *out = NULL;

	if (text && (at = strstr(text, "Surface Size:"))) {
		char *eol = strchr(at, '\n');

		if (eol)
			out = vb_strdupf("%.*sSurface Size:   %s%s", (int)(at - text), text, size, eol);
	}
	free(text);
	return out;
}

int main(void)
{
	struct run *r = calloc(1, sizeof(*r));
	char reason[512];
	char *small = at_size("tests/fixtures/glmark2/guest-virgl.txt", "640x480 fullscreen");
	char *hd = at_size("tests/fixtures/glmark2/guest-virgl.txt", "1920x1080 fullscreen");
	char *wuxga = at_size("tests/fixtures/glmark2/guest-virgl.txt", "1920x1200 fullscreen");
	char *host = vb_read_file("tests/fixtures/glmark2/native-llvmpipe.txt", NULL);
	char *kms = vb_read_file("tests/fixtures/kms2d/guest-virtio-2outputs.txt", NULL);

	CHECK(r && small && hd && wuxga && host && kms, "the fixtures");
	if (check_failed)
		return check_done("judge");
	CHECK(!strcmp(judge(r, "mediated", SEAT_GUEST, "glmark2", small, 0, 0, reason, sizeof(reason)), "ok"),
	      "no displays: a guest's glmark2 at 640x480 is ok: %s", reason);
	CHECK(!strcmp(judge(r, "mediated", SEAT_GUEST, "glmark2", hd, 0, 0, reason, sizeof(reason)), "failed"),
	      "no displays: at 1920x1080 it failed");
	CHECK_STR_CONTAINS(reason, "rendered at '1920x1080 fullscreen', planned 640x480 (the harness's size)");
	CHECK(!strcmp(judge(r, "mediated", SEAT_GUEST, "glmark2", hd, 1920, 1080, reason, sizeof(reason)), "ok"),
	      "displays = 1920x1080: a guest's glmark2 at 1920x1080 is ok: %s", reason);
	CHECK(!strcmp(judge(r, "qemu-virgl", SEAT_GUEST, "glmark2-short", wuxga, 1920, 1080, reason, sizeof(reason)),
		      "failed"),
	      "displays = 1920x1080: at 1920x1200 (the standard timings' mode) it failed");
	CHECK_STR_CONTAINS(reason, "rendered at '1920x1200 fullscreen', planned 1920x1080 (output 1's mode in [guest] "
				   "displays)");
	CHECK(!strcmp(judge(r, "mediated", SEAT_GUEST, "glmark2", small, 1920, 1080, reason, sizeof(reason)), "failed"),
	      "displays = 1920x1080: at 640x480 it failed too");
	CHECK(!strcmp(judge(r, "native", SEAT_HOST, "glmark2", host, 1920, 1080, reason, sizeof(reason)), "ok"),
	      "the host renders off-screen at 640x480 whatever the guests' displays: %s", reason);
	CHECK(!strcmp(judge(r, "mediated", SEAT_GUEST, "kms2d", kms, 800, 600, reason, sizeof(reason)), "ok"),
	      "kms2d is not sized (each output at its own mode): %s", reason);
	free(small);
	free(hd);
	free(wuxga);
	free(host);
	free(kms);
	free(r);
	return check_done("judge");
}
