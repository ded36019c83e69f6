/* kms2d_workload.c: the kms2d workload (workloads/kms2d/kms2d.c, built by this
 * project): 2D on KMS dumb buffers. Parses its "key: value" output; on a host
 * without a KMS device the program skips itself with the reason. */
#include "kv_output.h"
#include "workload.h"

static const char *const kms2d_args[] = { "build/kms2d", "--seconds", "3", NULL };

static const char *const *kms2d_argv(enum workload_where where)
{
	(void)where;
	return kms2d_args;
}

static const struct kv_metric metrics[] = {
	{ "fill.per_s", "fills/s", 1 },	      { "fill.mb_per_s", "MB/s", 1 },	     { "copy.per_s", "copies/s", 1 },
	{ "copy.mb_per_s", "MB/s", 1 },	      { "dirty.per_s", "updates/s", 1 },   { "flip.per_s", "flips/s", 1 },
	{ "flip.latency_p50_ms", "ms", 0 },    { "flip.latency_p99_ms", "ms", 0 },
};

/* With several outputs, each one's rates and latencies are also given as "outputN.<key>" (N from 1 to 16). */
static const struct kv_output output = { "kms2d", "kms2d-format", "driver", "mode", metrics,
					 sizeof(metrics) / sizeof(metrics[0]), "output", 16 };

static int kms2d_parse(const char *out, size_t len, struct wl_result *r)
{
	return kv_output_parse(&output, out, len, r);
}

static const char *const kms2d_needs[] = { "a KMS device with dumb buffers (/dev/dri/card*)", NULL };
static const struct wl_metric_decl kms2d_metrics[] = {
	{ "fill.per_s", "fills/s", 1, "full-screen solid fills, each pushed with DIRTYFB" },
	{ "copy.per_s", "copies/s", 1, "full-screen blits, each pushed with DIRTYFB" },
	{ "*.mb_per_s", "MB/s", 1, "bytes written per second" },
	{ "dirty.per_s", "updates/s", 1, "64x64 partial updates, one DIRTYFB rectangle each" },
	{ "flip.per_s", "flips/s", 1, "page flips, each waited for" },
	{ "flip.latency_p*_ms", "ms", 0, "page flip to its vblank event" },
	{ "output*.fill.per_s", "fills/s", 1, "one output's fills, while every output draws (the totals sum them)" },
	{ "output*.copy.per_s", "copies/s", 1, "one output's blits" },
	{ "output*.dirty.per_s", "updates/s", 1, "one output's partial updates" },
	{ "output*.flip.per_s", "flips/s", 1, "one output's page flips" },
	{ "output*.flip.latency_p*_ms", "ms", 0, "one output's page flip to its vblank event" },
	{ NULL, NULL, 0, NULL },
};

const struct workload_def workload_kms2d = {
	.budget = "4 tests x 3 s",
	.requires = kms2d_needs,
	.metrics = kms2d_metrics,
	.name = "kms2d",
	.cls = "2d",
	.description = "kms2d: dumb-buffer fills, blits, DIRTYFB partial updates and page flips on every connected "
		       "KMS output",
	.path = WL_PATH_KMS,
	.argv = kms2d_argv,
	.bundled = 1,
	.headline_metric = "fill.mb_per_s",
	.parse = kms2d_parse,
};
