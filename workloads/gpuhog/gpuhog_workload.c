/* gpuhog_workload.c: the gpuhog workload (workloads/gpuhog/gpuhog.c, built by
 * this project): fragment-heavy off-screen draws that keep the renderer busy
 * for a set time, the noisy neighbour of the sharing-quality scenarios.
 * Parses its "key: value" output. */
#include "kv_output.h"
#include "workload.h"

/* 40 s: longer than a glmark2 job in a TCG guest, so the victims never run next to a hog that has stopped. */
static const char *const gpuhog_args[] = { "build/gpuhog", "--seconds", "40", "--size", "640x480", "--iterations",
					   "48", NULL };

static const char *const *gpuhog_argv(enum workload_where where)
{
	(void)where;
	return gpuhog_args;
}

static const struct kv_metric metrics[] = {
	{ "fps", "fps", 1 },
	{ "frame_time_p50_ms", "ms", 0 },
	{ "frame_time_p99_ms", "ms", 0 },
	{ "frame_time_max_ms", "ms", 0 },
	{ "frames", "frames", 1 },
};

static const struct kv_output output = { "gpuhog", "gpuhog-format", "renderer", "size", metrics,
					 sizeof(metrics) / sizeof(metrics[0]), NULL, 0 };

static int gpuhog_parse(const char *out, size_t len, struct wl_result *r)
{
	return kv_output_parse(&output, out, len, r);
}

static const char *const gpuhog_needs[] = { "EGL on Mesa's surfaceless platform with GLES2", NULL };
static const struct wl_metric_decl gpuhog_metrics[] = {
	{ "fps", "fps", 1, "full-screen frames of a fragment-heavy shader, each finished before the next" },
	{ "frame_time_p*_ms", "ms", 0, "time per frame, draw to glFinish" },
	{ "frame_time_max_ms", "ms", 0, "the longest frame: how long the guest's GPU stalled at worst" },
	{ "frames", "frames", 1, "frames drawn in the set time" },
	{ NULL, NULL, 0, NULL },
};

const struct workload_def workload_gpuhog = {
	.budget = "40 s",
	.requires = gpuhog_needs,
	.metrics = gpuhog_metrics,
	.name = "gpuhog",
	.cls = "3d",
	.description = "gpuhog: a GPU hog (640x480 fragment-heavy draws, one glFinish a frame) for sharing scenarios",
	.path = WL_PATH_GL,
	.argv = gpuhog_argv,
	.bundled = 1,
	.headline_metric = "fps",
	.parse = gpuhog_parse,
};
