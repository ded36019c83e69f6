/* configs.h: run configurations as plugins (docs/design.md, "Configurations"), shaped like
 * struct workload_def: one file per configuration (harness/config_*.c)
 * fills a struct config_def with what the configuration is, why a host
 * cannot run it, how its guests get their GPU (QEMU arguments, back-end
 * processes), its counters, and the GPU path its jobs must show. The
 * registry (configs.c) lists them once, in CONFIG_LIST. No code outside a
 * configuration's own file looks at its name. */
#ifndef VGPUBENCH_CONFIGS_H
#define VGPUBENCH_CONFIGS_H

#include <stddef.h>

struct host;
struct gpu_backend;
struct plan;

/* The corners of the triangle: native (the baseline "% of native" divides by), mediated, passthrough. */
enum config_role {
	ROLE_NONE,
	ROLE_NATIVE,
	ROLE_MEDIATED,
	ROLE_PASSTHROUGH,
};

enum config_kind {
	CONFIG_HOST,  /* workload runs on the host itself */
	CONFIG_GUEST, /* workload runs in QEMU guests */
};

/* What a configuration's back-end may use: where its files go, the binaries, the guests' shape. */
struct plan_mediator;

struct backend_env {
	const struct host *host;
	const struct plan *plan;
	const char *dir;            /* the topology's folder in the run folder (logs; sockets unless sockdir says) */
	const char *sockdir;        /* where its unix sockets go: dir, or a short link to it (NULL: dir) */
	const char *mediator;       /* the vgpu-mediator binary */
	int memory_mb;              /* each guest's RAM */
	const struct plan_mediator *sched; /* how the mediator schedules (NULL: its defaults) */
};

struct config_def {
	const char *name;
	enum config_kind kind;
	const char *description;
	/* Its corner of the mediated / passthrough / native triangle the report opens with, if any. */
	enum config_role role;
	/* A peer baseline: another back-end a user could pick instead of the mediator (mediated ÷ peer). */
	int peer;
	/* Substring GL_RENDERER must contain in a guest (NULL: not checked). */
	const char *guest_renderer;
	/* The KMS driver a guest's 2D workloads must run on (NULL: not checked). */
	const char *guest_kms_driver;
	/* A guest's GL must be the device's own: a software renderer there is a fallback, and fails the job. */
	int guest_hw_gl;
	/* Its guests show their display in the run's private X server (QEMU's SDL GL display). */
	int needs_display;
	/* It needs hardware most hosts lack (an IOMMU and a spare GPU, a GVT-g iGPU): a plan naming it still runs
	 * where that is missing, with its skip and the reason kept in the results (`vgpubench doctor` exits 0). */
	int needs_lab_hardware;
	/* The most guests one back-end serves (0: no limit); a plan's larger guest counts are skipped with why. */
	int max_guests;
	/* How a known slowdown (vgpubench calibrate) reaches its jobs, in words; NULL: it has no such knob. A host
	 * configuration's is a CPU quota on its jobs (cpu_quota.h); a guest configuration's start reads it from
	 * backend_env.sched->throttle_pct. */
	const char *slowdown;
	/* Its back-end is the vgpu-mediator of backend_env.mediator: an interleaved run's arm that names another
	 * mediator build (runner.h run_arm) changes it. */
	int starts_mediator;
	/* With the plan's [guest] displays, its guests' KMS takes the device's own EDIDs, each offering its output's
	 * planned mode alone (the mediator's). 0: the device's EDIDs offer more (QEMU's list standard timings up to
	 * 5120x2160, and glmark2-es2-drm takes the largest mode), so the harness gives its own, one an output. */
	int device_edids;
	/*
	 * NULL when host h can run it for plan p (NULL: the defaults), beyond
	 * what every configuration of its kind needs (hostcheck.c checks that),
	 * else why not, in words that say what would fix it (buf may hold them).
	 */
	const char *(*skip_reason)(const struct host *h, const struct plan *p, char *buf, size_t len);
	/*
	 * Guest configurations: start what serves n guests and fill b (QEMU
	 * arguments per guest, processes, description). 0, or -1 with the
	 * reason in err and nothing left running.
	 */
	int (*start)(struct gpu_backend *b, const struct backend_env *env, int n, char *err, size_t errlen);
	/* Give back what start took besides processes (b->priv; e.g. a device's binding). NULL: nothing. */
	void (*stop)(struct gpu_backend *b);
	/*
	 * At a run's start: give back what runs killed before they could stop
	 * left behind under results_dir. The number of things given back, or
	 * -1 with what could not be in msg. NULL: it leaves nothing behind.
	 */
	int (*recover)(const struct host *h, const char *results_dir, char *msg, size_t len);
	/* Its counters into path (JSON), or NULL when it keeps none. 0 or -1. */
	int (*snapshot)(const struct gpu_backend *b, const char *path);
	/* The file the counters are kept in, in the topology's folder. */
	const char *counters_file;
};

const struct config_def *config_find(const char *name);
/* Where configuration `name` stands wherever configurations are listed: native, passthrough, mediated, the peers,
 * the others, then names this build does not know (0 to 5; equal ranks by name). */
int config_rank(const char *name);
const struct config_def *config_at(size_t i); /* NULL past the end */
/* The configuration that holds a corner of the triangle (one each), or NULL. */
const struct config_def *config_with_role(enum config_role role);
/* The name of the baseline configuration ("% of native" divides by it): the native corner. */
const char *config_baseline(void);

#endif
