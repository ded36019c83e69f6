/* media_parse_test.c: the media parser against real output captured on the
 * host (Xvfb) and in a TCG guest (kmssink on virtio-gpu), and broken output:
 * every metric names its decode path, so software and VA-API never mix. */
#define _GNU_SOURCE
#include "parse_fixture.h"

static int parse(const char *name, struct wl_result *r)
{
	char *path = vb_strdupf("tests/fixtures/media/%s", name);
	int rc = parse_fixture("media", path, r);

	free(path);
	return rc;
}

int main(void)
{
	struct wl_result r;
	const struct workload_def *w = workload_find("media");

	CHECK(w && w->prepare && w->path == WL_PATH_MEDIA && !strcmp(w->cls, "media"), "media is registered");
	CHECK(parse("host-software.txt", &r) == 0, "host: %s", r.error);
	CHECK(r.n == 18, "6 clips x (decode fps + shown + dropped), got %d", r.n);
	CHECK(fabs(metric_value(&r, "decode.h264-1080p.software.fps") - 90 / 0.421) < 1e-9, "decode fps %g",
	      metric_value(&r, "decode.h264-1080p.software.fps"));
	CHECK(metric_value(&r, "playback.hevc-720p.software.shown") == 100.0, "all frames shown");
	CHECK(metric_value(&r, "playback.h264-1080p.software.dropped") == 3, "90 - 87 dropped");
	CHECK(!strcmp(r.renderer, "decode: software (avdec_h264, avdec_h265, vp9dec); vaapi: none (vainfo lists no decode "
		      "profile)"),
	      "path '%s'", r.renderer);
	for (int i = 0; i < r.n; i++)
		CHECK(strstr(r.m[i].name, ".software."), "%s names its path", r.m[i].name);

	CHECK(parse("guest-software.txt", &r) == 0, "guest: %s", r.error);
	CHECK(fabs(metric_value(&r, "playback.h264-1080p.software.shown") - 100.0 * 3 / 90) < 1e-9, "TCG guest drops");
	CHECK(metric_value(&r, "playback.vp9-720p.software.dropped") == 76, "90 - 14 dropped");

	const char *va = "media-wrapper: 1\ndecode: h264-720p decoder: vah264dec path: vaapi frames: 90 seconds: 0.1\n"
			 "done: 1\n";

	CHECK(w->parse(va, strlen(va), &r) == 0 && !isnan(metric_value(&r, "decode.h264-720p.vaapi.fps")) &&
		      isnan(metric_value(&r, "decode.h264-720p.software.fps")),
	      "a VA-API result is named vaapi");
	const char *fail = "media-wrapper: 1\nplayback: h264-720p failed: no frames reached kmssink\ndone: 1\n";

	CHECK(w->parse(fail, strlen(fail), &r) < 0 && strstr(r.error, "no frames reached"), "failed playback");
	const char *noframes = "media-wrapper: 1\ndecode: h264-720p decoder: x path: software frames: 0 seconds: 1\n"
			       "done: 1\n";

	CHECK(w->parse(noframes, strlen(noframes), &r) < 0 && strstr(r.error, "decoded no frames"), "no frames");
	const char *badpath = "media-wrapper: 1\ndecode: h264-720p decoder: x path: magic frames: 9 seconds: 1\n";

	CHECK(w->parse(badpath, strlen(badpath), &r) < 0, "unknown path refused");
	const char *unfinished = "media-wrapper: 1\ndecode: h264-720p decoder: x path: software frames: 9 seconds: 1\n";

	CHECK(w->parse(unfinished, strlen(unfinished), &r) < 0 && strstr(r.error, "did not finish"), "unfinished");
	const char *evil = "media-wrapper: 1\ndecode: ../../etc decoder: x path: software frames: 9 seconds: 1\n";

	CHECK(w->parse(evil, strlen(evil), &r) < 0, "clip names are checked");
	CHECK(w->parse("", 0, &r) < 0, "empty");
	return check_done("media_parse");
}
