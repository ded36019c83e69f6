/* plan.h: the plan file (INI): which configs, guest counts, workloads and
 * repetitions a run takes, the guest machine shape, how the mediator
 * schedules, and the sharing-quality scenarios. */
#ifndef VGPUBENCH_PLAN_H
#define VGPUBENCH_PLAN_H

#include <stddef.h>

#include "host/accel.h"

#define PLAN_MAX_LIST 16
/* A plan file larger than this is refused before it is read whole (/dev/zero is not a plan). */
#define PLAN_MAX_BYTES (256 * 1024)
#define PLAN_MAX_SCENARIOS 8
#define PLAN_MAX_SEATS 8 /* guests in one scenario */
#define PLAN_MAX_GUEST 16 /* guest numbers run 1..16 */

/* How vgpu-mediator schedules ([mediator], or a scenario's own). Guests are named guest1, guest2, ... */
struct plan_mediator {
	int policy;       /* index in SCHED_POLICY_LIST, -1 when not given (the mediator's default) */
	int timeslice_ms; /* 0 when not given */
	int weight[PLAN_MAX_GUEST + 1];        /* by guest number; 0 when not given (weight 1) */
	double target_fps[PLAN_MAX_GUEST + 1]; /* by guest number; 0 for none */
	int max_guest;                         /* highest guest number a weight or target names */
	int watchdog_set;        /* watchdog_ms was given */
	int watchdog_ms;         /* a fence or renderer call past this trips the vGPU's watchdog; 0 off */
	int watchdog_quarantine; /* on a trip the vGPU is quarantined until its device is reset (else reported) */
	int display_fps_set;     /* display_fps was given */
	int display_fps;         /* vgpu-mediator --display-fps: display updates a second at most (0: every flush) */
	int render_workers;      /* vgpu-mediator --render-workers: a renderer process per vGPU */
	int vgpu_mem_mb[PLAN_MAX_GUEST + 1]; /* by guest number: its vGPU's size in MiB (--vgpu ...,mem=); 0: none */
	int line;                              /* where that guest was named, for the message */
	int throttle_pct; /* vgpu-mediator --throttle: a known slowdown (set by vgpubench calibrate, not by plans) */
};

/* A sharing-quality scenario ([scenario NAME]): one boot of mediated guests, each running its own workload
 * ("idle": none), once under each policy; with a baseline, the same again with the baseline's workloads. */
struct plan_scenario {
	char name[64];
	int policies[8]; /* indexes in SCHED_POLICY_LIST */
	int npolicies;
	const char *guests[PLAN_MAX_SEATS]; /* workload names (registry strings), NULL for idle */
	int nguests;
	const char *baseline[PLAN_MAX_SEATS];
	int nbaseline; /* 0: no baseline */
	struct plan_mediator med; /* its weights, targets and time slice (policy unused) */
	int line;                 /* of its header */
};

#define PLAN_MAX_BOOTS 16

struct plan {
	char name[64];
	const char *configs[PLAN_MAX_LIST]; /* registry names (static strings) */
	int nconfigs;
	int guests[PLAN_MAX_LIST]; /* guest counts ("topologies") for guest configs */
	int nguests;
	const char *workloads[PLAN_MAX_LIST];
	int nworkloads;
	int repetitions; /* planned per row; with repetitions = auto, the least (min_repetitions) */
	/* repetitions = auto: repeat a row until the 95% interval of its median is within ±target_ci_pct, between
	 * min_repetitions and max_repetitions times (Phoronix Test Suite's dynamic run count, on the interval). */
	struct plan_adaptive {
		int on;
		int min, max;
		double target_ci_pct;
	} adaptive;
	int dom0_load; /* dom0 runs the workload alongside 2 or more guests */
	/* [guest] */
	int memory_mb;
	int vcpus;
	char cpu[64];
	double boot_timeout_s;
	double job_timeout_s;
	enum accel_mode accel; /* auto (default): KVM when a boot probe shows it works */
	/* kernel_boot = bzimage: QEMU boots the distribution's bzImage as it is, not its unpacked ELF at the PVH
	 * entry (the default, pvh: vm/kernel_elf.h) */
	int kernel_bzimage;
	/* displays = WxH, WxH: each guest's outputs and their modes (ndisplays 0: one output, the device's own), the
	 * guest's KMS seeing the device's EDIDs instead of the harness's 640x480 one */
#define PLAN_MAX_DISPLAYS 16
	int ndisplays;
	struct plan_display {
		int width, height;
	} displays[PLAN_MAX_DISPLAYS];
	/* [noise]: what keeps a measurement clean (docs/plans.md "Noise") */
	struct plan_noise {
		int warmup;           /* a discarded repetition before the measured ones */
		double max_steal_pct; /* a repetition with more CPU steal than this is redone (0: never) */
		int max_redos;        /* ... at most this many times */
		int lp_num_threads;   /* LP_NUM_THREADS for every renderer of the run (0: llvmpipe's own choice) */
		int pin_cpus;         /* guests, back-end and dom0 on CPUs of their own where the host has enough
				       * (cpu_pin.h; default yes) */
		/* A guest topology's repetitions spread over this many fresh starts of its back-end and guests
		 * (default 1): what differs between boots then is inside every run's spread, not between runs. */
		int boots;
		int boots_line;
	} noise;
	/* [passthrough]: the host device the passthrough config hands to its guest */
	struct plan_passthrough {
		char device[16]; /* a PCI address, "" for auto (the first spare display-class device) */
		int nested_lab;  /* lab = nested: prove the path in a nested lab VM instead (nested_lab.h) */
	} pt;
	/* [gvt-g]: the GVT-g vGPU type the gvt-g config's guests get */
	struct plan_gvt {
		char type[64]; /* a type id (i915-GVTg_V5_4), "" for auto (the one with the most instances left) */
	} gvt;
	/* [mediator]: for the mediated config's runs */
	struct plan_mediator med;
	/* [scenario NAME] */
	struct plan_scenario scenarios[PLAN_MAX_SCENARIOS];
	int nscenarios;
};

/* The planned repetitions [*first, *last] that boot b (1..noise.boots) of a guest topology takes: consecutive, as
 * even as they divide. With repetitions = auto the last boot goes on past *last while its rows repeat. */
void plan_boot_reps(const struct plan *p, int b, int *first, int *last);

/* The mediator's name for policy index i ("best-effort", ...), or NULL past the end. */
const char *plan_policy_name(int i);

/*
 * Parse plan text. `file` names it in messages. On error returns -1 and
 * writes "FILE:LINE: what is wrong" (or "FILE: ...") into err.
 */
int plan_parse(const char *file, const char *text, struct plan *p, char *err, size_t errlen);

/* Read and parse a plan file; *text_out (if non-NULL) gets the file's text. */
int plan_load(const char *path, struct plan *p, char **text_out, char *err, size_t errlen);

/* Does the plan boot guests (a guest configuration, or a scenario)? Only then does the accelerator matter. */
int plan_boots_guests(const struct plan *p);

#endif
