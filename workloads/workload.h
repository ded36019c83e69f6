/*
 * workload.h: the workload definition and registry. One folder per workload
 * (workloads/<name>/), whose <name>_workload.c fills a struct workload_def:
 * name and class; how it runs on the host and in a guest; its budget; what
 * it needs; the metrics it yields, with unit and direction; and its parser.
 */
#ifndef VGPUBENCH_WORKLOAD_H
#define VGPUBENCH_WORKLOAD_H

#include <stddef.h>

enum workload_where { WL_HOST, WL_GUEST };

#define WL_MAX_METRICS 256

struct wl_metric {
	char name[160];
	double value;
	char unit[16];
	int higher_is_better;
};

/* One test's status, for suites like piglit (pass, warn, fail, crash, timeout, skip, notrun). */
struct wl_subtest {
	char *name;
	char status[12];
};

struct wl_result {
	struct wl_metric m[WL_MAX_METRICS];
	int n;
	struct wl_subtest *sub; /* malloc'ed; wl_result_free */
	size_t nsub;
	/* A file in the workload's own format to keep with the run (points into the job's output). */
	const char *artifact;
	size_t artifact_len;
	const char *artifact_name;
	char renderer[256]; /* the path used: GL_RENDERER, or the KMS driver for 2d */
	char surface[64];
	char error[512]; /* why parsing failed */
};

/* What the "renderer" of a result names, and so what a config's promise is checked against. */
enum wl_path {
	WL_PATH_GL,  /* GL_RENDERER */
	WL_PATH_KMS, /* the KMS driver */
	WL_PATH_MEDIA, /* the decode path, named in each metric (vaapi or software) */
	WL_PATH_NONE,  /* no rendering path: the job drives back-ends itself (robustness) */
};

/* One declared metric: a name pattern (fnmatch), its unit and direction. */
struct wl_metric_decl {
	const char *pattern;
	const char *unit;
	int higher_is_better;
	const char *what;
};

/* A job that exits with this status and prints "skip: reason" was skipped (automake's convention). */
#define WL_EXIT_SKIP 77

/* The size a sized workload renders at on the host, and in a guest whose plan gives no [guest] displays (the
 * harness's EDID offers this mode alone). */
#define WL_PLANNED_WIDTH 640
#define WL_PLANNED_HEIGHT 480
#define WL_PLANNED_SIZE "640x480"

struct workload_def {
	const char *name;
	const char *cls; /* "3d", "media" or "2d" */
	const char *description;
	enum wl_path path;
	/* The command line, NULL-terminated. */
	const char *const *(*argv)(enum workload_where where);
	/* argv[0] is a path inside this project (built or shipped by it), relative to its root. */
	int bundled;
	/* Run once on the host before the workload's first job (NULL: nothing), bundled like argv. */
	const char *const *prepare;
	/* How long or how much one job runs, in words. */
	const char *budget;
	/* What it needs, NULL-terminated; a job whose needs are not met skips itself with the reason. */
	const char *const *requires;
	/* The metrics it yields, ended by a NULL pattern. */
	const struct wl_metric_decl *metrics;
	/* The metric the summary leads with. */
	const char *headline_metric;
	/* Its per-scene metrics (an fnmatch pattern, e.g. "*.fps"; NULL: none): compare also tests the headline's
	 * change scene by scene, paired (compare.h). */
	const char *scene_metrics;
	/* Its results compare only at one size (wl_result.surface "WxH", then a space or the end): a job rendered at
	 * another fails (the judge's: WL_PLANNED_SIZE, or a guest's output 1 mode from the plan's displays). */
	int sized;
	/*
	 * Parse the job's stdout into r (overwritten: wl_result_free it first if
	 * it held subtests). 0, or -1 with r->error set and nothing allocated.
	 * Never crashes on garbage.
	 */
	int (*parse)(const char *out, size_t len, struct wl_result *r);
};

const struct workload_def *workload_find(const char *name);
/* The declaration a metric name falls under, or NULL. */
const struct wl_metric_decl *workload_metric_decl(const struct workload_def *w, const char *metric);
const struct workload_def *workload_at(size_t i); /* NULL past the end */

/* 1 when a result's surface ("640x480 windowed", "1920x1080 fullscreen") is width x height, else 0. */
int wl_surface_is(const char *surface, int width, int height);
/* Append a metric; -1 when full. */
int wl_add_metric(struct wl_result *r, const char *name, double value, const char *unit, int higher_is_better);
/* Append a test status (copied). 0 or -1. */
int wl_add_subtest(struct wl_result *r, const char *name, const char *status);
/* Free what a parser allocated; the result can be parsed into again. */
void wl_result_free(struct wl_result *r);

#endif
