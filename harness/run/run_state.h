/* run_state.h: a run in progress, as the run's files share it (nothing outside run/ includes it): the run, its
 * arms, the seats a repetition runs on, and what each file of the run offers the others. */
#ifndef VGPUBENCH_RUN_STATE_H
#define VGPUBENCH_RUN_STATE_H

#include <limits.h>

#include "configs/configs.h"
#include "host/hostcheck.h"
#include "host/xvfb.h"
#include "plan/plan.h"
#include "run/progress.h"
#include "run/runner.h"
#include "store/store.h"
#include "vm/agent_client.h"
#include "vm/image.h"
#include "vm/vm.h"
#include "workload.h"

struct json_object;

#define MAX_GUESTS 16

/* An arm of an interleaved run (runner.h run_arm): the run its jobs are stored in, and what it changes. */
struct arm {
	char id[STORE_RUN_ID_MAX];
	char dir[PATH_MAX];
	char mediator[PATH_MAX];
	int slowdown_pct;
	int changed_only;
	int names_mediator; /* it starts a mediator of its own (the same binary counts: an A/A check of two builds) */
};

struct run {
	struct plan plan;
	struct host host;
	struct store store;
	char id[STORE_RUN_ID_MAX];
	char dir[PATH_MAX];
	char agent[PATH_MAX];
	char mediator[PATH_MAX];
	char init[PATH_MAX];
	char cache[PATH_MAX];
	char accel_cache[PATH_MAX];
	char results[PATH_MAX]; /* the results folder, absolute */
	int lock_fd;		/* owner.lock in the run folder, held while we run it */
	char fatal[768];	/* why the run must stop (a result that cannot be stored), or "" */
	struct xvfb x;
	int failed_jobs;
	int jobs_stored;  /* job rows stored by this harness: a resume of a complete run that stores none changes it not */
	int was_complete; /* resumed: the run was complete already */
	struct json_object *host_env;  /* the environment of jobs on the host */
	struct json_object *guest_env; /* ... in guests (NULL: their own) */
	const struct workload_def *prepared[PLAN_MAX_LIST];
	struct image img;
	int have_img;
	int slowdown_pct; /* run_opts.slowdown_pct, or what a resumed run recorded */
	int boot;	  /* which boot of a topology's guests jobs run in now (1..[noise] boots), 0 on the host */
	struct arm arms[RUN_MAX_ARMS]; /* arms[0] is the run itself; id, dir, mediator and slowdown above are the
					* current arm's */
	int narms, arm;
	struct run_progress progress;
};

/* Where a job ran, for the path it must show. */
enum seat_path {
	SEAT_GUEST, /* in a guest: the config's path */
	SEAT_HOST,  /* on the host itself (native, or dom0 beside guests of a config that does not serve it) */
	SEAT_VTEST, /* dom0 beside guests, its GL through the back-end's vtest socket (GALLIUM_DRIVER=virpipe) */
};

/*
 * Who runs a repetition at once: stored guest indexes (0 is the host: the
 * native config, or dom0 alongside guests) and their agents.
 */
struct seats {
	int n;
	int index[MAX_GUESTS + 1];
	struct agent_conn *conn[MAX_GUESTS + 1];
	const char *control; /* the mediator's control socket, when a mediator serves the guests */
	const char *vtest;   /* the back-end's vtest socket, when it serves dom0's GL too (dom0 is then its vGPU) */
	const char *kms_driver; /* the KMS driver the guests' 2D jobs must show (NULL: not checked) */
};

/* Guests booted together, and their agents. */
struct guest_set {
	struct vm vms[MAX_GUESTS];
	struct agent_conn conns[MAX_GUESTS];
	int nvm, nconn;
};

/* runner.c */
/* Should the run unwind: a stop was requested, or a result could not be stored. */
int run_stopping(const struct run *r);
/*
 * Check a store call: a result that cannot be stored stops the run (the
 * first reason is kept for the run's record). 1 when rc says it was stored.
 */
int run_stored(struct run *r, int rc, const char *what);
/* A path inside the results folder as stored: relative to that folder, so the folder can move. */
const char *run_results_rel(const struct run *r, const char *path);
int run_is_socket(const char *path);
/* Record every missing job of this config/topology as `status` (failed or skipped) for `reason`. */
void run_mark_all(struct run *r, const struct config_def *c, int topo, const char *status, const char *reason);
void run_fail_all(struct run *r, const struct config_def *c, int topo, const char *reason);

/* lifecycle.c */
void run_record_host(struct run *r);
/* What runs killed before they could stop left behind (a device still on vfio-pci, say), given back first. */
void run_recover_left_behind(struct run *r);
int run_locate_parts(struct run *r);
/* A run folder: stored relative to the results folder (which may move), used absolute. 0 or -1. */
int run_dir_of(const struct run *r, const char *rel, char *dir, size_t len);
/*
 * Own the run while this harness lives: an advisory lock on a file in the
 * run folder, with our PID in it. 0, or -1 with a message (another harness
 * runs it, naming its PID).
 */
int run_own(struct run *r);
/* Load the plan of a run to resume and find its folder. 0 or -1 (message printed). */
int run_load_resumed(struct run *r, const char *resume_id, const char *db, char **plan_text);
/* Record a new run of plan `name` under a fresh id (another harness may start the same plan in the same second) into
 * arm a (its id and folder). 0 or -1. */
int run_create(struct run *r, struct arm *a, const char *name, const char *plan_path, const char *plan_text);

/* arms.c */
/* Make arm k the current one: its jobs, facts and logs go to its run, its boots start its mediator and slowdown. */
void run_arm_enter(struct run *r, int k);
/* Does arm k run configuration c? The run's own arm runs all; another one those it changes, or all. */
int run_arm_runs(const struct run *r, int k, const struct config_def *c);
/* The arm that takes turn j of block b (1-based): the order rotates from block to block, so over narms blocks each
 * arm goes once in each place (a Latin square: drift within a block does not favour one arm). */
int run_arm_at(const struct run *r, int b, int j);
/* The current arm's slowdown: asked for (pct, a new run) or recorded (a resumed one); the mediator's throttle follows
 * it. 0, or -1 when it could not be recorded. */
int run_set_slowdown(struct run *r, int resumed, int pct);
/* Can the arms o asks for run (how many, their mediators)? Checked before the run is created: 1, or 0 with a
 * message. */
int run_arms_valid(struct run *r, const struct run_opts *o);
/* The arms of a new interleaved run (o->arms): each a run of its own, plan `base` + its suffix, named in the run's
 * host facts and naming the run in its own. 0, or -1 with a message. */
int run_create_arms(struct run *r, const struct run_opts *o, const char *base, const char *plan_path,
		    const char *plan_text);
/* The arms of a resumed run, from its host facts. 0, or -1 with a message. */
int run_load_arms(struct run *r);

/* host_jobs.c */
/* The plan's [noise] settings: LP_NUM_THREADS in the harness's own environment (every renderer it starts inherits
 * it: the mediator, QEMU's virgl, the host agent; guests get it with each job), and what the run did about noise,
 * kept as a host fact. */
void run_apply_noise_settings(struct run *r);
/* Start the host's own agent (native jobs, dom0); vtest: the socket its GL clients reach the back-end through
 * (NULL: they render on the host). 0, or -1 with a message printed. */
int run_start_host_agent(struct run *r, struct agent_conn *conn, const char *label, const char *vtest);
/* How many blocks configuration c's repetitions take: a guest topology's boots ([noise] boots). In an interleaved
 * run the blocks are the arms' turns, so a configuration no other arm runs (one the baseline does not change) takes
 * one: it has no one to take turns with, and more boots would only cost boot time (spreading one run's repetitions
 * over boots did not bring two runs closer: docs/compare-and-calibrate.md, "What a nightly run catches"). Host configurations take blocks
 * only to take turns. */
int run_config_blocks(const struct run *r, const struct config_def *c, int guests);
/* A host configuration: its repetitions at once, or in an interleaved run split into blocks as a guest topology's
 * boots are ([noise] boots), each arm's block in turn. */
void run_host_config(struct run *r, const struct config_def *c);

/* guests.c */
/* Keep the mediator's per-vGPU counters next to the run's guests, and say what rendered for them. */
void run_record_backend(struct run *r, const struct config_def *c, int n, const struct gpu_backend *gb,
			const char *dir);
int run_ensure_image(struct run *r);
/* The folder a back-end's unix sockets go in: dir, or a short link to it (made into link) when the deepest socket
 * name would not fit a unix socket's path (a long results path, an arm's plan name). The caller unlinks link. */
const char *run_socket_dir(const char *dir, char *link, size_t len);
/*
 * Boot n guests of config c whose GPU back-end gb is running (files under dir) and wait for their agents; each
 * boot is stored as a guest row under `label`. 0, or -1 with the reason (what is up stays in gs for
 * guests_stop).
 */
int run_guests_boot(struct run *r, const struct config_def *c, const char *label, int n, const char *dir,
		    const char *sockdir, const struct gpu_backend *gb, struct guest_set *gs, char *reason, size_t rlen);
/* Ask each agent to power its guest off, then make sure QEMU is gone. */
void run_guests_stop(struct guest_set *gs);
/* A guest topology: its repetitions over the plan's boots ([noise] boots), each boot in a folder of its own when
 * there are several (vms/CONFIG-nN-bootB); in an interleaved run, each arm boots in turn, boot by boot. */
void run_guest_topology(struct run *r, const struct config_def *c, int n);

/* jobs.c */
char *run_log_path(struct run *r, const char *config, int topo, int guest, const char *w, int rep);
/* The seats of config c with `topo` guests: the host alone, or the guests plus dom0 when it joins. */
void run_seats_for(struct run *r, const struct config_def *c, int topo, struct seats *s);
/* w's command line in `where`; a program this project builds runs from the build folder (guests see the host's
 * root, so the same path). out has room for 32 entries; *bin (malloc'd, or NULL) is the caller's to free. */
const char *const *run_resolved_argv(const struct workload_def *w, enum workload_where where, const char **out,
				     char **bin);
/* Repetitions [first, last] of every workload on the seats (a warm-up first, when planned and one is still to run);
 * open: the topology's last boot, where repetitions = auto goes on past `last` until the row stops. */
void run_workloads(struct run *r, const struct config_def *c, int topo, const struct seats *s, int first, int last,
		   int open);

/* judge.c */
/* judge_job, and a job that is not ok keeps no metrics nor test statuses. */
const char *run_judge(struct run *r, const struct config_def *c, enum seat_path where, const char *kms,
		      const struct workload_def *w, const struct job_result *jr, struct wl_result *wr, char *reason,
		      size_t rlen);

/* adaptive.c */
int run_rep_done(struct run *r, const struct config_def *c, int topo, const struct seats *s,
		 const struct workload_def *w, int rep);
/* Has row (c, topo, w) stopped repeating (repetitions = auto)? */
int run_row_stopped(struct run *r, const struct config_def *c, int topo, const char *workload);
/* Are repetitions [first, last] of every workload stored? Under repetitions = auto a row that stopped repeating is
 * done, and open (the rows' last repetitions: the run's, or a topology's last boot) one that did not is not. */
int run_reps_done(struct run *r, const struct config_def *c, int topo, const struct seats *s, int first, int last,
		  int open);
int run_all_done(struct run *r, const struct config_def *c, int topo, const struct seats *s);
/* repetitions = auto, after repetition rep: stop here? Then the reason is kept as a host fact. */
int run_row_stop(struct run *r, const struct config_def *c, int topo, const struct seats *s,
		 const struct workload_def *w, int rep);

/* scenarios.c */
/* The plan's scenarios, on the mediated configuration; where it cannot run here, each is stored skipped with why. */
void run_scenarios(struct run *r);
/* The scenarios' steps (progress.h): each policy's phases' repetitions into *total, those stored into *done; none
 * where the mediated configuration cannot run here (they are stored skipped). */
void run_scenario_steps(struct run *r, int *total, int *done);

#endif
