/* glmark2_parse_test.c: the glmark2 parser against real captured output,
 * truncated output, garbage and a failed start. */
#define _GNU_SOURCE
#include "parse_fixture.h"

static const struct workload_def *w;

static int parse_file(const char *name, struct wl_result *r)
{
	char *path = vb_strdupf("tests/fixtures/glmark2/%s", name);
	int rc = parse_fixture("glmark2", path, r);

	free(path);
	return rc;
}

int main(void)
{
	struct wl_result r;

	w = workload_find("glmark2");
	CHECK(w != NULL, "glmark2 is not registered");
	if (!w)
		return check_done("glmark2_parse");

	CHECK(parse_file("native-llvmpipe.txt", &r) == 0, "native: %s", r.error);
	CHECK(strcmp(r.renderer, "llvmpipe (LLVM 15.0.6, 256 bits)") == 0, "renderer '%s'", r.renderer);
	CHECK(strcmp(r.surface, "640x480 windowed") == 0, "surface '%s'", r.surface);
	CHECK(r.n == 8, "3 scenes x 2 + score + score_reported, got %d", r.n);
	CHECK(metric_value(&r, "build.fps") == 738, "build.fps %g", metric_value(&r, "build.fps"));
	CHECK(metric_value(&r, "texture.frame_time") == 0.581, "texture.frame_time %g", metric_value(&r, "texture.frame_time"));
	/* mean of 738, 1722 and 369; glmark2 itself printed 942 */
	CHECK(fabs(metric_value(&r, "score") - 943.0) < 1e-9, "score %g", metric_value(&r, "score"));
	CHECK(metric_value(&r, "score_reported") == 942, "score_reported %g", metric_value(&r, "score_reported"));
	const struct wl_metric *ft = find_metric(&r, "shading.frame_time"), *sc = find_metric(&r, "score");

	CHECK(ft && !ft->higher_is_better && strcmp(ft->unit, "ms") == 0, "frame time is ms, lower is better");
	CHECK(sc && sc->higher_is_better, "score is higher-is-better");

	CHECK(parse_file("guest-virgl.txt", &r) == 0, "guest: %s", r.error);
	CHECK_STR_CONTAINS(r.renderer, "virgl");
	CHECK(r.n == 8, "guest metrics %d", r.n);
	/* A real guest capture where glmark2's score (64) sits below the scenes' mean (65.7). */
	CHECK(parse_file("guest-virgl-contended.txt", &r) == 0, "contended guest: %s", r.error);
	CHECK(fabs(metric_value(&r, "score") - 197.0 / 3) < 1e-9, "contended score %g", metric_value(&r, "score"));

	/* Through run-glmark2.sh: scenes from --results-file's CSV, checked against the console. */
	CHECK(parse_file("native-csv.txt", &r) == 0, "native CSV: %s", r.error);
	CHECK(metric_value(&r, "build.fps") == 699 && metric_value(&r, "shading.frame_time") == 2.101, "CSV values");
	CHECK(!strcmp(r.renderer, "llvmpipe (LLVM 15.0.6, 256 bits)") && !strcmp(r.surface, "640x480 windowed"),
	      "CSV header: '%s' '%s'", r.renderer, r.surface);
	CHECK(r.n == 8, "CSV metrics %d", r.n);
	CHECK(parse_file("guest-virgl-csv.txt", &r) == 0, "guest CSV: %s", r.error);
	CHECK_STR_CONTAINS(r.renderer, "virgl");
	CHECK(metric_value(&r, "texture.fps") == 182, "guest texture fps");
	{
		size_t len = 0;
		char *text = vb_read_file("tests/fixtures/glmark2/native-csv.txt", &len), *at;

		/* A scene the CSV says failed. */
		at = text ? strstr(text, "\"Success\"\n\"[texture]") : NULL;
		CHECK(at != NULL, "fixture layout");
		if (at) {
			memcpy(at + 1, "Failure", 7);
			CHECK(w->parse(text, len, &r) < 0 && strstr(r.error, "reports 'Failure'"), "failed scene: %s",
			      r.error);
			memcpy(at + 1, "Success", 7);
		}
		/* A CSV scene the console does not have. */
		at = text ? strstr(text, "[shading] duration=5: FPS") : NULL;
		if (at) {
			at[1] = 'X';
			CHECK(w->parse(text, len, &r) < 0, "console and CSV must agree");
			at[1] = 's';
		}
		/* An unterminated quote in the CSV. */
		at = text ? strstr(text, "\"[build] duration=5\",") : NULL;
		if (at) {
			at[19] = ' ';
			CHECK(w->parse(text, len, &r) < 0 && strstr(r.error, "unreadable results.csv"), "bad CSV: %s",
			      r.error);
		}
		/* The CSV without its end marker. */
		at = text ? strstr(text, "--- end ---") : NULL;
		if (at) {
			CHECK(w->parse(text, (size_t)(at - text), &r) < 0 && strstr(r.error, "truncated"), "cut CSV");
		}
		free(text);
	}

	CHECK(parse_file("truncated.txt", &r) < 0, "output cut after a scene must fail");
	CHECK_STR_CONTAINS(r.error, "did not finish");
	CHECK(parse_file("truncated-header.txt", &r) < 0, "output cut in the header must fail");
	CHECK_STR_CONTAINS(r.error, "no scene results");
	CHECK(parse_file("garbage.bin", &r) < 0, "garbage must fail");
	CHECK(parse_file("canvas-error.txt", &r) < 0, "failed start must fail");
	CHECK_STR_CONTAINS(r.error, "Could not initialize canvas");
	/* The size is the judge's to check (the plan's displays decide a guest's): the parser says it. */
	CHECK(parse_file("wrong-size.txt", &r) == 0 && !strcmp(r.surface, "800x600 windowed"), "another size: '%s'",
	      r.surface);
	CHECK(w->sized && !wl_surface_is(r.surface, 640, 480) && wl_surface_is(r.surface, 800, 600),
	      "glmark2 is sized, and 800x600 is not the planned 640x480");
	CHECK(!wl_surface_is("640x4800 windowed", 640, 480) && !wl_surface_is("", 640, 480) &&
		      wl_surface_is("1920x1080 fullscreen", 1920, 1080) && wl_surface_is("640x480", 640, 480),
	      "a surface's size is read whole");
	CHECK(parse_file("score-mismatch.txt", &r) < 0, "a score that disagrees with its scenes must fail");
	CHECK_STR_CONTAINS(r.error, "disagrees");
	CHECK(parse_file("no-score.txt", &r) < 0, "a run without its score line did not finish");
	CHECK_STR_CONTAINS(r.error, "no score line");

	/* Hostile input straight from memory: no crash, no metrics. */
	CHECK(w->parse("", 0, &r) < 0, "empty output must fail");
	CHECK(w->parse("[", 1, &r) < 0, "a lone bracket must fail");
	const char *bad = "[build] x: FPS: abc FrameTime: 1 ms\n";

	CHECK(w->parse(bad, strlen(bad), &r) < 0, "unreadable numbers must fail");
	CHECK_STR_CONTAINS(r.error, "unreadable numbers");
	const char *neg = "[build] x: FPS: -5 FrameTime: 1 ms\n";

	CHECK(w->parse(neg, strlen(neg), &r) < 0, "negative FPS must fail");
	const char *zero = "[build] x: FPS: 5 FrameTime: 0 ms\nglmark2 Score: 5\n";

	CHECK(w->parse(zero, strlen(zero), &r) < 0, "zero frame time must fail");
	/* No NUL terminator is needed: parse only the first bytes of a buffer. */
	char *big = malloc(1 << 16);

	memset(big, '[', 1 << 16);
	CHECK(w->parse(big, 1 << 16, &r) < 0, "a 64 KiB line of brackets must fail");
	free(big);
	return check_done("glmark2_parse");
}
