/* glmark2.c: the glmark2 workload: build/texture/shading at 640x480, off-screen
 * on the host (glmark2-es2 under Xvfb) and on KMS in a guest (glmark2-es2-drm).
 * The parser reads glmark2's console output: GL_RENDERER, per-scene FPS and
 * frame time, and the score, recomputed as the mean scene FPS and
 * cross-checked against the one glmark2 printed (kept as score_reported). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define PLANNED_SIZE "640x480"
#define SCENE_ARGS "-b", "build:duration=5", "-b", "texture:duration=5", "-b", "shading:duration=5"

static const char *const host_argv[] = { "glmark2-es2", "--off-screen", "-s", PLANNED_SIZE, SCENE_ARGS, NULL };
/*
 * virtio-gpu planes take XRGB8888 only: no alpha in the visual. The DRM
 * flavour takes the connector's largest mode (and fails with -s), so the guest
 * is given a 640x480-only EDID instead (harness/edid.c).
 */
static const char *const guest_argv[] = { "glmark2-es2-drm", "--visual-config", "a=0", SCENE_ARGS, NULL };


static const char *const *glmark2_argv(enum workload_where where)
{
	return where == WL_HOST ? host_argv : guest_argv;
}

/* Copy the value after "KEY:" on a line, trimmed. */
static void field_value(const char *line, size_t len, const char *key, char *out, size_t outlen)
{
	const char *p = memmem(line, len, key, strlen(key));
	const char *end = line + len;
	size_t n;

	if (!p)
		return;
	p += strlen(key);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	n = (size_t)(end - p);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Drop "duration=N" from a scene's option text: it is how long, not what. */
static void scene_name(const char *scene, size_t slen, const char *opts, size_t olen, char *out, size_t outlen)
{
	char o[128];
	size_t on = 0;

	for (size_t i = 0; i < olen;) {
		size_t j = i;

		while (j < olen && opts[j] != ':')
			j++;
		if (!(j - i >= 9 && strncmp(opts + i, "duration=", 9) == 0) &&
		    !(j - i == 9 && strncmp(opts + i, "<default>", 9) == 0) && on + (j - i) + 2 < sizeof(o)) {
			if (on)
				o[on++] = ':';
			memcpy(o + on, opts + i, j - i);
			on += j - i;
		}
		i = j + 1;
	}
	o[on] = '\0';
	snprintf(out, outlen, "%.*s%s%s", (int)(slen > 60 ? 60 : slen), scene, on ? ":" : "", o);
}

static int parse_number(const char *p, const char *end, double *out)
{
	char buf[64];
	size_t n = 0;
	char *e;

	while (p < end && *p == ' ')
		p++;
	while (p < end && n < sizeof(buf) - 1 && (strchr("0123456789.eE+-", *p)))
		buf[n++] = *p++;
	buf[n] = '\0';
	if (n == 0)
		return -1;
	errno = 0;
	*out = strtod(buf, &e);
	if (errno || *e || !isfinite(*out) || *out < 0)
		return -1;
	return 0;
}

/* "[scene] options: FPS: 738 FrameTime: 1.356 ms" */
static int parse_scene(const char *line, size_t len, struct wl_result *r, double *fps_sum, int *nscenes)
{
	const char *end = line + len, *close, *fps, *ft;
	char name[96], mname[128];
	double f, t;

	close = memchr(line, ']', len);
	fps = memmem(line, len, "FPS:", 4);
	ft = memmem(line, len, "FrameTime:", 10);
	if (!close || !fps || !ft || fps < close || ft < fps)
		return 0; /* not a scene line */
	const char *opts = close + 1;

	while (opts < fps && *opts == ' ')
		opts++;
	const char *oend = fps;

	while (oend > opts && (oend[-1] == ' ' || oend[-1] == ':'))
		oend--;
	scene_name(line + 1, (size_t)(close - line - 1), opts, (size_t)(oend - opts), name, sizeof(name));
	if (parse_number(fps + 4, ft, &f) < 0 || parse_number(ft + 10, end, &t) < 0) {
		snprintf(r->error, sizeof(r->error), "glmark2: unreadable numbers in scene line '%.*s'",
			 (int)(len > 200 ? 200 : len), line);
		return -1;
	}
	snprintf(mname, sizeof(mname), "%s.fps", name);
	if (wl_add_metric(r, mname, f, "fps", 1) < 0)
		goto full;
	snprintf(mname, sizeof(mname), "%s.frame_time", name);
	if (wl_add_metric(r, mname, t, "ms", 0) < 0)
		goto full;
	if (t <= 0) {
		snprintf(r->error, sizeof(r->error), "glmark2: zero frame time in scene '%s'", name);
		return -1;
	}
	*fps_sum += f;
	(*nscenes)++;
	return 0;
full:
	snprintf(r->error, sizeof(r->error), "glmark2: more than %d metrics", WL_MAX_METRICS);
	return -1;
}

static int glmark2_parse(const char *out, size_t len, struct wl_result *r)
{
	const char *p = out, *end = out + len;
	double fps_sum = 0, reported = -1;
	int nscenes = 0;
	char errline[256] = "";

	memset(r, 0, sizeof(*r));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		const char *s = p;

		while (s < le && (*s == ' ' || *s == '\t'))
			s++;
		ll = (size_t)(le - s);
		if (ll > 12 && memcmp(s, "GL_RENDERER:", 12) == 0) {
			field_value(s, ll, "GL_RENDERER:", r->renderer, sizeof(r->renderer));
		} else if (ll > 13 && memcmp(s, "Surface Size:", 13) == 0) {
			field_value(s, ll, "Surface Size:", r->surface, sizeof(r->surface));
		} else if (ll > 0 && *s == '[') {
			if (parse_scene(s, ll, r, &fps_sum, &nscenes) < 0)
				return -1;
		} else if (memmem(s, ll, "glmark2 Score:", 14)) {
			const char *v = (const char *)memmem(s, ll, "glmark2 Score:", 14) + 14;

			if (parse_number(v, le, &reported) < 0) {
				snprintf(r->error, sizeof(r->error), "glmark2: unreadable score line");
				return -1;
			}
		} else if (ll > 6 && memcmp(s, "Error:", 6) == 0) {
			/* glmark2 prints the top-level reason last. */
			snprintf(errline, sizeof(errline), "%.*s", (int)(ll > 200 ? 200 : ll), s);
		}
		p = nl ? nl + 1 : end;
	}
	if (nscenes == 0) {
		snprintf(r->error, sizeof(r->error), "glmark2: no scene results%s%s", errline[0] ? ": " : " (truncated output?)",
			 errline);
		return -1;
	}
	if (reported < 0) {
		snprintf(r->error, sizeof(r->error), "glmark2: no score line: the run did not finish%s%s",
			 errline[0] ? ": " : "", errline);
		return -1;
	}
	/* A result at another size is not comparable with the rest. */
	if (strncmp(r->surface, PLANNED_SIZE, strlen(PLANNED_SIZE)) != 0 ||
	    (r->surface[strlen(PLANNED_SIZE)] != ' ' && r->surface[strlen(PLANNED_SIZE)] != '\0')) {
		snprintf(r->error, sizeof(r->error), "glmark2: rendered at '%s', planned %s", r->surface, PLANNED_SIZE);
		return -1;
	}
	double score = fps_sum / nscenes;

	/*
	 * glmark2 sums a per-scene rate it does not print exactly (its score
	 * can sit a few units off the mean of the printed FPS), so only a gross
	 * disagreement, i.e. corrupt or spliced output, is rejected.
	 */
	if (fabs(score - reported) > 2.0 + 0.05 * reported) {
		snprintf(r->error, sizeof(r->error),
			 "glmark2: reported score %.0f disagrees with the mean of its %d scenes (%.1f)", reported, nscenes,
			 score);
		return -1;
	}
	if (wl_add_metric(r, "score", score, "score", 1) < 0 ||
	    wl_add_metric(r, "score_reported", reported, "score", 1) < 0) {
		snprintf(r->error, sizeof(r->error), "glmark2: more than %d metrics", WL_MAX_METRICS);
		return -1;
	}
	return 0;
}

static const char *const glmark2_needs[] = { "OpenGL ES 2.0 (glmark2-es2 on the host, glmark2-es2-drm and KMS in a guest)",
					    NULL };
static const struct wl_metric_decl glmark2_metrics[] = {
	{ "score", "score", 1, "mean of the scenes' FPS (recomputed)" },
	{ "score_reported", "score", 1, "the score glmark2 printed" },
	{ "*.fps", "fps", 1, "frames per second of a scene" },
	{ "*.frame_time", "ms", 0, "mean frame time of a scene" },
	{ NULL, NULL, 0, NULL },
};

const struct workload_def workload_glmark2 = {
	.budget = "3 scenes x 5 s, 640x480",
	.requires = glmark2_needs,
	.metrics = glmark2_metrics,
	.name = "glmark2",
	.cls = "3d",
	.path = WL_PATH_GL,
	.description = "glmark2 build, texture and shading scenes at 640x480 (OpenGL ES 2.0)",
	.argv = glmark2_argv,
	.headline_metric = "score",
	.parse = glmark2_parse,
};
