/* progress.h: where a run is in its plan and how long is left. A step is one planned repetition of a row of jobs
 * (a configuration, a guest count and a workload, on every seat at once) or of a scenario's phase, over every arm;
 * warm-ups and repetitions redone for steal are time inside a step. The steps are counted before the first runs,
 * each step's line starts with [k/N] and says the time left, and on a terminal one status line under the messages
 * says it too. The time left comes from the previous complete run of the plan on this host (when it was so many
 * seconds in at the same fraction of its steps, scaled by how fast this run goes beside it), or from this run's
 * pace when there is none. */
#ifndef VGPUBENCH_PROGRESS_H
#define VGPUBENCH_PROGRESS_H
#include <stddef.h>

struct config_def;
struct run;

/* A kind of step: a workload's repetitions with a number of guests (0: on the host), or a scenario's phases. Steps
 * of one kind take about as long as each other; a glmark2 repetition on three guests is not a kms2d one on the host. */
struct progress_kind {
	char name[72]; /* the workload, or "scenario NAME" */
	int guests;
	int total, done; /* its steps, and those done */
	int ran;	 /* done by this harness, in */
	double secs;	 /* this many seconds (each from the end of the step before it) */
};
#define PROGRESS_KINDS 64

/* What the time left is estimated from: a run's steps so far, and the previous run's step times (prev[i]: seconds
 * from its start to the end of its step i + 1, ascending; nprev of them, none without a previous run) and its whole
 * length in seconds; or, without them, the steps' kinds and what each took so far here. */
struct progress_est {
	int done, done_at_start, total; /* steps stored, those stored before this harness began, all of them */
	double elapsed;			/* seconds since this harness began the steps */
	const double *prev;
	size_t nprev;
	double prev_total;
	const struct progress_kind *kinds;
	size_t nkinds;
};

/* A run's progress, kept in its struct run. */
struct run_progress {
	int on;				/* counted (progress_start ran) */
	int done, done_at_start, total; /* as in struct progress_est */
	double t0;			/* vb_now() when counted */
	double *prev;			/* the previous run's step times (store_step_times), or NULL */
	size_t nprev;
	double prev_total;
	struct progress_kind kinds[PROGRESS_KINDS];
	size_t nkinds;
	double last_end; /* vb_now() when the last step ended (t0 before the first) */
	char tag[32], left[64];
};

/* Seconds left, estimated; -1 when nothing can be said yet (no previous run and no step done here). Without a
 * previous run, each kind's steps left take what its steps took here, or, for a kind not met yet, what steps with
 * as many guests took, or what every step took. */
double progress_left_s(const struct progress_est *e);

/* "about 8 min left" and the like into out (len bytes); "" when left_s < 0. */
void progress_left_text(double left_s, char *out, size_t len);

/* Count the run's steps (skip[i]: configuration i's skip reason, NULL when it runs) and those stored already, load
 * the previous run's step times, and say what the estimate comes from. */
void progress_start(struct run *r, const char *const *skip);

/* A step begins: its tag ("[k/N]"), for the line that says what it runs. Valid until the next call. */
const char *progress_tag(struct run *r);

/* The time left as the step lines end it (", about 8 min left"), or "" when it cannot be said yet. */
const char *progress_left(struct run *r);

/* A step of kind (name: the workload, or "scenario NAME"; guests: 0 on the host) ended, stored or not: counted,
 * with the time it took, and the status line said again. */
void progress_step_done(struct run *r, const char *name, int guests);

/* How many steps of workload's row of config c with topo guests (0: the host) the current arm has stored (a nested
 * lab's run brings them all at once). */
int progress_stored_steps(struct run *r, const struct config_def *c, int topo, const char *workload);

/* A scenario's steps of kind ("scenario NAME", guests) while the run's steps are counted: steps planned, done of
 * them stored. */
void progress_scenario_kind(struct run *r, const char *scenario, int guests, int steps, int done);

/* One step more than planned, of kind (name, guests): a row under repetitions = auto goes on past what was counted
 * for it. */
void progress_add_step(struct run *r, const char *name, int guests);

/* The run's steps are over: the status line goes, the previous run's times are freed. */
void progress_end(struct run *r);

#endif
