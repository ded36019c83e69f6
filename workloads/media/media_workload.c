/* media_workload.c: GStreamer media: decode throughput and real-time playback
 * of the cached clips (workloads/media/), through run-media.sh. Every metric
 * name carries the decode path it was measured on (vaapi or software), so
 * VA-API and software numbers are never mixed; the clips are made on the host
 * before the first job (make-clips.sh, cached in build/clips). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static const char *const host_argv[] = { "workloads/media/run-media.sh", "build/clips", "ximagesink", NULL };
static const char *const guest_argv[] = { "workloads/media/run-media.sh", "build/clips", "kmssink", NULL };
static const char *const prepare_argv[] = { "workloads/media/make-clips.sh", "build/clips", NULL };

static const char *const *media_argv(enum workload_where where)
{
	return where == WL_HOST ? host_argv : guest_argv;
}

/* Copy the word after "key: " in line into out. 0, or -1 when absent. */
static int field(const char *line, const char *key, char *out, size_t len)
{
	char pat[32];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), " %s: ", key);
	p = strstr(line, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	n = strcspn(p, " ,\n");
	if (n == 0 || n >= len)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int number(const char *line, const char *key, double *v)
{
	char buf[32], *end;

	if (field(line, key, buf, sizeof(buf)) < 0)
		return -1;
	errno = 0;
	*v = strtod(buf, &end);
	return errno || *end || !isfinite(*v) || *v < 0 ? -1 : 0;
}

static int valid_name(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(s);
}

static int media_parse(const char *out, size_t len, struct wl_result *r)
{
	char *text = strndup(out, len);
	int done = 0, wrapper = 0, decoded = 0;
	char paths[64] = "", decoders[128] = "", vaapi[96] = "";

	memset(r, 0, sizeof(*r));
	if (!text) {
		snprintf(r->error, sizeof(r->error), "media: out of memory");
		return -1;
	}
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char clip[64], path[16], dec[64], name[160];
		double frames, secs, rendered;

		if (!strcmp(l, "media-wrapper: 1"))
			wrapper = 1;
		else if (!strncmp(l, "vaapi: ", 7))
			snprintf(vaapi, sizeof(vaapi), "%s", l + 7);
		else if (!strcmp(l, "done: 1"))
			done = 1;
		if (strncmp(l, "decode: ", 8) && strncmp(l, "playback: ", 10))
			continue;
		int is_decode = l[0] == 'd';
		const char *after = strchr(l, ' ');

		if (sscanf(after, " %63s", clip) != 1 || !valid_name(clip)) {
			snprintf(r->error, sizeof(r->error), "media: unreadable line '%.100s'", l);
			goto bad;
		}
		if (strstr(l, " failed: ")) {
			snprintf(r->error, sizeof(r->error), "media: %.200s", l);
			goto bad;
		}
		if (field(l, "path", path, sizeof(path)) < 0 || (strcmp(path, "software") && strcmp(path, "vaapi")) ||
		    field(l, "decoder", dec, sizeof(dec)) < 0 || number(l, "frames", &frames) < 0) {
			snprintf(r->error, sizeof(r->error), "media: unreadable line '%.100s'", l);
			goto bad;
		}
		if (!strstr(paths, path))
			snprintf(paths + strlen(paths), sizeof(paths) - strlen(paths), "%s%s", paths[0] ? "+" : "", path);
		if (!strstr(decoders, dec))
			snprintf(decoders + strlen(decoders), sizeof(decoders) - strlen(decoders), "%s%s",
				 decoders[0] ? ", " : "", dec);
		if (is_decode) {
			if (number(l, "seconds", &secs) < 0 || secs <= 0 || frames <= 0) {
				snprintf(r->error, sizeof(r->error), "media: %s decoded no frames", clip);
				goto bad;
			}
			snprintf(name, sizeof(name), "decode.%s.%s.fps", clip, path);
			wl_add_metric(r, name, frames / secs, "fps", 1);
			decoded++;
		} else {
			if (number(l, "rendered", &rendered) < 0 || frames <= 0) {
				snprintf(r->error, sizeof(r->error), "media: unreadable line '%.100s'", l);
				goto bad;
			}
			if (rendered > frames)
				rendered = frames;
			snprintf(name, sizeof(name), "playback.%s.%s.shown", clip, path);
			wl_add_metric(r, name, 100.0 * rendered / frames, "%", 1);
			snprintf(name, sizeof(name), "playback.%s.%s.dropped", clip, path);
			wl_add_metric(r, name, frames - rendered, "frames", 0);
		}
	}
	free(text);
	if (!wrapper) {
		snprintf(r->error, sizeof(r->error), "media: not run-media.sh output");
		return -1;
	}
	if (!done) {
		snprintf(r->error, sizeof(r->error), "media: no 'done' line: the run did not finish");
		return -1;
	}
	if (!decoded) {
		snprintf(r->error, sizeof(r->error), "media: no clip was decoded");
		return -1;
	}
	/* The path used, for the record: software or vaapi, the elements, and what VA-API offered. */
	snprintf(r->renderer, sizeof(r->renderer), "decode: %s (%s); vaapi: %s", paths, decoders,
		 vaapi[0] ? vaapi : "not probed");
	return 0;
bad:
	free(text);
	r->n = 0;
	return -1;
}

static const char *const media_needs[] = { "GStreamer with demuxers and decoders for H.264, HEVC, VP9",
					  "VA-API decode where vainfo lists the profile (optional: software otherwise)",
					  "a display: ximagesink under Xvfb on the host, kmssink in a guest", NULL };
static const struct wl_metric_decl media_metrics[] = {
	{ "decode.*.software.fps", "fps", 1, "software decode into fakesink sync=false" },
	{ "decode.*.vaapi.fps", "fps", 1, "VA-API decode into fakesink sync=false" },
	{ "playback.*.*.shown", "%", 1, "frames shown in real-time playback" },
	{ "playback.*.*.dropped", "frames", 0, "frames dropped in real-time playback" },
	{ NULL, NULL, 0, NULL },
};

const struct workload_def workload_media = {
	.budget = "up to 6 clips of 3 s (H.264, HEVC, VP9 at 720p and 1080p): decode, then play",
	.requires = media_needs,
	.metrics = media_metrics,
	.name = "media",
	.cls = "media",
	.description = "GStreamer decode throughput and real-time playback of H.264, HEVC and VP9 at 720p and 1080p",
	.path = WL_PATH_MEDIA,
	.argv = media_argv,
	.prepare = prepare_argv,
	.bundled = 1,
	.headline_metric = "decode.h264-1080p.software.fps",
	.parse = media_parse,
};
