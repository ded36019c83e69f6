/* store.h: the results database and its schema, on either back-end: an
 * SQLite file (the default, results/vgpubench.db) or a PostgreSQL server
 * (--db postgresql://...), behind one interface (db.h; db/sqlite.c, db/pg.c).
 * The schema is documented in results/SCHEMA.md. Every job and its metrics
 * are written in one transaction, so a crash loses at most the job in flight.
 * Behind it: schema.c (the schema, its versions, opening), write.c (what a
 * run writes), import.c (a run written from an export), read_runs.c,
 * read_values.c, read_scenarios.c and read_export.c (the readers), and
 * sql.c (their helpers, sql.h). */
#ifndef VGPUBENCH_STORE_H
#define VGPUBENCH_STORE_H

#include "stage_hist.h"
#include "workload.h"

struct vgpu_stats;
struct vgpu_sample;

struct db;
struct db_driver;

struct store {
	const struct db_driver *drv; /* the back-end (db.h) */
	struct db *db;
	int version;   /* the schema version the database has (an older one read as it is) */
	char err[512]; /* what the last failure was, in words (disk full, locked for N s, connection lost...) */
};

/* The longest run id, with its NUL: the UTC time (15), the host (HOST_LABEL_MAX, 32), the plan's name (63), an
 * arm's suffix and an attempt's number, with their dashes. */
#define STORE_RUN_ID_MAX 160

/* The database a command uses: --db URL (which sets VGPUBENCH_DB), or the VGPUBENCH_DB environment variable,
 * or results/vgpubench.db under the results folder (malloc'ed). */
char *store_url(const char *results);

/*
 * Open for writing, creating a new database or upgrading an older vgpubench
 * one. url: a path or sqlite:PATH, or postgresql://... (db.h). Every open
 * checks what the database is first: one of another program (application
 * mark, tables) is refused untouched, a newer one is refused, and a vgpubench
 * database with a table missing is reported damaged, never recreated.
 * 0, or -1 with a message printed (and in s->err).
 */
int store_open(struct store *s, const char *url);
/* Open an existing database for reading only: never creates nor upgrades,
 * and works in a read-only folder. 0, or -1 with a message printed. */
int store_open_read(struct store *s, const char *url);
void store_close(struct store *s);
/* The back-end's name: "sqlite" or "postgresql" (an export says which store it came from). */
const char *store_kind(const struct store *s);

/* A new run of plan_name on host (host_id.h's label). 0, -2 when a run with this id exists already, -1 on other
 * errors. */
int store_run_create(struct store *s, const char *id, const char *plan_name, const char *host, const char *plan_path,
		     const char *plan_text, const char *dir);
/* The host a run was run on (malloc'ed), or NULL when it was not recorded (before schema 10) or there is no such
 * run. */
char *store_run_host(struct store *s, const char *run);
/* Load plan text and folder of a run for --resume. Returned strings are malloc'ed. */
int store_run_load(struct store *s, const char *id, char **plan_path, char **plan_text, char **dir, char **status);
/* Is there a run with this id? */
int store_run_exists(struct store *s, const char *id);
/* Every run of host (NULL: of every host; runs whose host was not recorded count as any host's), oldest first: its
 * id, host ("" when not recorded), status, start, and how many jobs it has and how many ran ok. 0, or -1 with the
 * reason in s->err. */
typedef void (*store_run_fn)(void *ctx, const char *id, const char *host, const char *status, const char *started_at,
			     int jobs, int jobs_ok);
int store_run_list(struct store *s, const char *host, store_run_fn fn, void *ctx);
/* Each piglit subtest's worst status in run base and in run cur, per configuration, guest count and name (a side
 * NULL where its run lacks the subtest), in that order: the pairs piglit's summary classifies. 0, or -1 with the
 * reason in s->err. */
typedef void (*store_status_pair_fn)(void *ctx, const char *config, int topology, const char *name,
				     const char *base_status, const char *cur_status);
int store_subtest_status_pairs(struct store *s, const char *base, const char *cur, store_status_pair_fn fn, void *ctx);
/* A row of text columns, "" for NULL (valid during the call only). */
typedef void (*store_text_row_fn)(void *ctx, const char *const *cols);
/* A run's host facts by key: key, value. */
int store_host_facts(struct store *s, const char *run, store_text_row_fn fn, void *ctx);
/* A run's configurations in the plan's order: name, status, reason. */
int store_configs(struct store *s, const char *run, store_text_row_fn fn, void *ctx);
/* The GL renderers each configuration's jobs saw, by configuration: config, the distinct renderers comma-separated. */
int store_config_renderers(struct store *s, const char *run, store_text_row_fn fn, void *ctx);
/* The workloads a run has jobs of, by name: workload. */
int store_run_workloads(struct store *s, const char *run, store_text_row_fn fn, void *ctx);
/* One job of a workload and its value of a metric (has_value 0: none), for summaries. */
struct store_job_value {
	const char *config, *status, *reason;
	int topology, dom0; /* dom0: the job ran on dom0 beside guests */
	int has_value;
	double value;
};
typedef void (*store_job_value_fn)(void *ctx, const struct store_job_value *j);
/* A run's jobs of workload with their metric, first_config's first, then by configuration, guest count, dom0 last,
 * guest and repetition. 0, or -1 with the reason in s->err (all three: said on stderr too). */
int store_job_values(struct store *s, const char *run, const char *workload, const char *metric,
		     const char *first_config, store_job_value_fn fn, void *ctx);
/* For each repetition in which all `topology` guests of config ran workload ok: metric summed over them (*v
 * malloc'ed, *n of them). */
int store_rep_sums(struct store *s, const char *run, const char *workload, const char *metric, const char *config,
		   int topology, double **v, size_t *n);
/* Each ok guest job's value of metric for workload on config with topology guests, by guest: guest index, value. */
typedef void (*store_guest_value_fn)(void *ctx, int guest_index, double value);
int store_guest_values(struct store *s, const char *run, const char *workload, const char *config, int topology,
		       const char *metric, store_guest_value_fn fn, void *ctx);
/* One ok job's value of one metric (store_metric_values). */
struct store_metric_value {
	const char *workload, *config, *metric, *unit, *direction;
	int topology, dom0; /* dom0: a host job beside guests */
	double value;
};
/* Every ok job's metric values of a run by workload, first_config first then by configuration, guest count, dom0,
 * metric, repetition and guest. 0, or -1 (said). */
int store_metric_values(struct store *s, const char *run, const char *first_config,
			void (*fn)(void *ctx, const struct store_metric_value *v), void *ctx);
/* The complete run of run's plan that started last before it on host (NULL: on run's own host), into out. 0, or -1
 * when there is none. A run whose host was not recorded counts as any host's. */
int store_previous_run(struct store *s, const char *run, const char *host, char *out, size_t outlen);
/* When each step of run `run` ended (a repetition of a row of jobs that ran, or of a scenario phase), in seconds from
 * its start, ascending, into *t (malloc'd, *n of them), and its whole length into *total (its finish, or its last
 * step's end when it has none). 0, or -1 (said when the database failed). */
int store_step_times(struct store *s, const char *run, double **t, size_t *n, double *total);
/* Run `run` and the complete runs of its plan on its host that started before it, newest first, at most max: id. */
int store_plan_history(struct store *s, const char *run, int max, store_text_row_fn fn, void *ctx);
/* A run's piglit subtests counted per configuration and guest count. */
struct store_piglit_counts {
	const char *config;
	int topology;
	int total, pass, warn, fail, crash, skip; /* crash: crash or timeout; skip: skip or notrun */
};
typedef void (*store_piglit_counts_fn)(void *ctx, const struct store_piglit_counts *c);
int store_piglit_counts(struct store *s, const char *run, store_piglit_counts_fn fn, void *ctx);
/* Why a run failed or was interrupted (malloc'ed), or NULL. */
char *store_run_reason(struct store *s, const char *id);
/* status: running, complete, interrupted or failed; reason: why it failed (NULL otherwise). */
int store_run_set_status(struct store *s, const char *id, const char *status, const char *reason);

int store_host_fact(struct store *s, const char *run, const char *key, const char *value);
/* A host fact of a run (malloc'ed), or NULL when it was not recorded. */
char *store_host_fact_get(struct store *s, const char *run, const char *key);
int store_config(struct store *s, const char *run, const char *config, const char *status, const char *reason);
/* A configuration's verdict in a run: *status "run" or "skipped", *reason (malloc'ed). 0, or -1 when the
 * run's plan did not name it. */
int store_config_get(struct store *s, const char *run, const char *config, char **status, char **reason);
/* A configuration whose jobs in a run came from a nested lab (nested_lab.h): what the lab showed. Kept as a host
 * fact. store_lab_get: that evidence (malloc'ed), or NULL when the configuration ran on the host itself. */
int store_lab_set(struct store *s, const char *run, const char *config, const char *evidence);
char *store_lab_get(struct store *s, const char *run, const char *config);

struct guest_row {
	const char *config;
	int topology, guest_index;
	const char *accel;
	double boot_s;
	const char *kernel, *agent_version, *drm, *serial_log;
	const char *status, *reason;
};
int store_guest(struct store *s, const char *run, const struct guest_row *g);

/* What else the host did during a job's repetition (host_noise.h); a NAN figure is stored as NULL. */
struct job_noise {
	double steal_pct;        /* CPU steal over the repetition */
	double load_before, load_after; /* 1-minute load average */
	int redos;               /* times the repetition was run again before this one was kept */
	const char *redo_reason; /* why the last redo was made (NULL: none) */
	int boot;                /* which boot of its guests it ran in ([noise] boots; stored NULL when 0: the host) */
};

struct job_row {
	const char *config;
	int topology;    /* guests running at once (0 for host configs) */
	int guest_index; /* 0 = the host (dom0), 1.. = guests */
	const char *workload;
	int repetition;
	const char *status; /* ok, failed, timeout, skipped */
	const char *reason;
	const char *accel;
	const char *renderer;
	double wall_s, user_s, sys_s;
	long long maxrss_kb;
	int exit_code;
	const char *log_path;
	const struct wl_result *metrics; /* may be NULL */
	const char *vgpu_name;           /* the mediator's vGPU that served it, with */
	const struct vgpu_stats *vgpu;   /* its scheduling over the job (NULL: none, e.g. not mediated) */
	const struct job_noise *noise;   /* the host's noise over its repetition (NULL: not measured) */
};

/* Write a group of jobs (one repetition on every guest at once) atomically. */
int store_jobs(struct store *s, const char *run, const struct job_row *jobs, int n);

/* The values of metric `metric` in one row of a run (config × topology × workload): its guests' jobs, or with dom0
 * set dom0's beside them (a host configuration's, topology 0, either way); successful jobs only, in the order they
 * were stored. *v is malloc'd (NULL when there are none). 0, or -1 with the reason in s->err. */
int store_row_values(struct store *s, const char *run, const char *config, int topology, int dom0, const char *workload,
		     const char *metric, double **v, size_t *n);

/* store_row_values, with each value's boot beside it (job_noise.boot, [noise] boots; 0 where not known): *boot is
 * malloc'd like *v. */
int store_row_boot_values(struct store *s, const char *run, const char *config, int topology, int dom0,
			  const char *workload, const char *metric, double **v, int **boot, size_t *n);

/* What the host noise sampler saw over one boot's jobs of a row (job_noise): the mean steal and load averages (NAN
 * where none was measured) and the repetitions run again. */
struct boot_noise {
	int boot;
	size_t jobs;
	double steal_pct, load_before, load_after;
	int redos;
};
/* A row's (as store_row_values) noise boot by boot, in boot order; *out malloc'd (NULL for none). 0, or -1 (said in
 * s->err). */
int store_row_boot_noise(struct store *s, const char *run, const char *config, int topology, int dom0,
			 const char *workload, struct boot_noise **out, size_t *n);

/* Is there already a row for this job? (for --resume) */
int store_job_done(struct store *s, const char *run, const char *config, int topology, int guest_index,
		   const char *workload, int repetition);

/* One guest of a sharing-quality scenario in one repetition (scenario_jobs). */
struct scenario_row {
	const char *scenario, *policy_run; /* the scenario and the policy it ran under */
	const char *phase;                 /* "contended" or "baseline" */
	int guest_index;
	const char *workload; /* "idle" for a guest that ran nothing */
	int repetition;
	const char *status, *reason, *renderer;
	const char *metric; /* the workload's headline metric, with */
	double value;       /* its value, when */
	int has_value;
	const char *unit;
	double wall_s;
	const char *log_path;
	const char *vgpu_name;
	const struct vgpu_stats *vgpu; /* its scheduling over the job (NULL: unknown) */
	double window_gpu_ms; /* its GPU time while every busy guest of the scenario still ran (-1: unknown) */
	double window_s;      /* how long that was */
	const struct vgpu_sample *samples; /* sampled during the job: column sample_col is this guest's */
	size_t nsamples;
	int sample_col;
};

/* Write one repetition of a scenario (every guest, with samples) atomically. */
int store_scenario_jobs(struct store *s, const char *run, const struct scenario_row *rows, int n);
/* Is this scenario job stored already? (for --resume) */
int store_scenario_done(struct store *s, const char *run, const char *scenario, const char *policy_run,
			const char *phase, int guest_index, int repetition);

/* A stored scenario job, as the report reads it (numbers -1 when unknown). */
struct scenario_result {
	long long id;
	char scenario[64], policy_run[24], phase[16], workload[64], status[16], reason[512], metric[64], unit[16];
	int guest_index, repetition;
	double value, share, weight, target_fps, gpu_ms, queued_ms, throttled_ms, frames, windows, windows_met, wall_s;
	double window_gpu_ms, window_s;
};

/* Every scenario job of a run, in the order stored (malloc'd array; none for databases before version 4). */
int store_scenario_results(struct store *s, const char *run, struct scenario_result **out, size_t *n);
/* A scenario job's samples (three malloc'd arrays of *n). */
int store_scenario_samples(struct store *s, long long job_id, double **t, double **gpu_ms, double **frames,
			   size_t *n);

/* What the mediated jobs of a run saw of their vGPUs' health, summed (vgpu_health; zeros before schema 5). */
struct health_totals {
	long long jobs, resets, recoveries, errors, watchdog_trips;
	double watchdog_longest_ms;
};
int store_health_totals(struct store *s, const char *run, struct health_totals *out);

/* One test status of a run's job (a piglit test, a robustness case). */
struct subtest_result {
	int repetition;
	char name[160], status[12];
};

/* Every test status of workload `workload`'s jobs in a run, by name then repetition (malloc'd array). */
int store_subtests(struct store *s, const char *run, const char *workload, struct subtest_result **out, size_t *n);

/* One row of a calibration (vgpubench calibrate): how often A/A pairs of unchanged runs flagged it, how often A/B
 * pairs with the injected slowdown did, the change the slowdown made and the change the row could detect. */
struct calibration_row {
	char workload[64], metric[96], config[32];
	int topology, dom0;
	char injected[96]; /* what was injected into this row ("" for nothing: its configuration has no knob) */
	int aa_pairs, aa_flagged;  /* A/A pairs, and how many flagged it (a false alarm) */
	int ab_pairs, ab_detected; /* A/B pairs, and how many flagged it as a regression */
	double change_pct;         /* the median change over the A/B pairs (NAN: none) */
	double detectable_pct;     /* the median detectable change over the A/A pairs (NAN: unknown, or none at all) */
};

/* Store a calibration's rows under its run, atomically. 0, or -1 with the reason in s->err. */
int store_calibration_put(struct store *s, const char *run, const struct calibration_row *rows, size_t n);
/* A run's calibration rows (malloc'd; none when it is no calibration, or the database predates schema 7). */
int store_calibration_get(struct store *s, const char *run, struct calibration_row **out, size_t *n);

/* Where the mediator's time went in one row (workload x config x topology x dom0): its ok jobs' stage histograms
 * summed (job_stages), and the frames those jobs' vGPUs showed. */
struct stage_row {
	char workload[64], config[32];
	int topology, dom0;
	int jobs;
	double frames;
	struct stage_hist h[STAGE_COUNT];
};

/* A run's stage rows (malloc'd, none for a run without them). 0, or -1 with the reason in s->err. */
int store_stage_rows(struct store *s, const char *run, struct stage_row **out, size_t *n);

/*
 * A run read back whole, for exports (export.c). Every reader below says what failed on stderr and in s->err,
 * and returns 0 or -1. Text is as stored (NULL where nothing was) and valid during the call only.
 */

/* A run's own row; the strings are malloc'd (NULL: not recorded). */
struct store_run_row {
	char *id, *plan, *host, *status, *started_at, *finished_at, *dir, *plan_path, *plan_text, *reason;
};
/* 0, 1 when there is no run `run` (not said), or -1. Free with store_run_row_free either way. */
int store_run_row_get(struct store *s, const char *run, struct store_run_row *out);
void store_run_row_free(struct store_run_row *r);

/* A value of a stored column: a number (NAN where NULL) or text. */
struct store_value {
	enum { STORE_NULL, STORE_INT, STORE_REAL, STORE_TEXT } type;
	long long i;
	double d;
	const char *t;
};

/* One row of a per-job table: its columns' names and values; job_id left out. */
typedef void (*store_detail_fn)(void *ctx, const char *table, int ncols, const char *const *names,
				const struct store_value *values);

/* Every row that job job_id has in the per-job tables besides its metrics and subtests: job_noise, vgpu_stats,
 * vgpu_health (at most one row each) and job_stages (one a stage), in that order, each through fn. A table an
 * older database lacks has no rows. */
int store_job_details(struct store *s, long long job_id, store_detail_fn fn, void *ctx);

/* A row of a run's table with its own id: the row's id, then its columns but id and run_id. */
typedef void (*store_table_row_fn)(void *ctx, long long id, int ncols, const char *const *names,
				   const struct store_value *values);
/* Every row a run has in table "guests" or "scenario_jobs", in the order they were stored. A table an older
 * database lacks has none. */
int store_run_table(struct store *s, const char *run, const char *table, store_table_row_fn fn, void *ctx);

/* A stored job as a whole (the columns of `jobs`; numbers NAN where NULL). */
struct store_job_full {
	long long id;
	const char *config, *workload, *status, *reason, *accel, *renderer, *log_path, *finished_at;
	double topology, guest_index, repetition, wall_s, user_s, sys_s, maxrss_kb, exit_code;
};
/* What store_run_jobs reports of each job, in this order: the job, its metrics by name, its subtests by name, then
 * its per-job tables' rows (store_job_details). */
struct store_job_fns {
	void (*job)(void *ctx, const struct store_job_full *j);
	void (*metric)(void *ctx, const char *name, double value, const char *unit, const char *direction);
	void (*subtest)(void *ctx, const char *name, const char *status);
	store_detail_fn detail;
};
/* A run's jobs by workload, configuration, guest count, repetition and guest. */
int store_run_jobs(struct store *s, const char *run, const struct store_job_fns *fns, void *ctx);

/* The lab page's readers (read_lab.c). A run as the lab page lists it ("" for a host that was not recorded). */
struct store_lab_run {
	const char *id, *host, *plan, *status, *started_at;
};
/* Every run of every host, by host, plan and start. 0, or -1 (said). */
int store_lab_runs(struct store *s, void (*fn)(void *ctx, const struct store_lab_run *r), void *ctx);
/* One guest job's value of its workload's headline metric (store_lab_values). */
struct store_lab_value {
	const char *host, *run, *started_at, *workload, *metric, *unit;
	int topology;
	double value;
};
#define STORE_LAB_PAIRS 32
/* Every ok guest job's value (dom0's aside) in config's runs of the metric pairs names for its workload (npairs
 * {workload, metric}, at most STORE_LAB_PAIRS), by host, workload, metric, guest count, start and run. 0, or -1
 * (said). */
int store_lab_values(struct store *s, const char *config, const char *const (*pairs)[2], size_t npairs,
		     void (*fn)(void *ctx, const struct store_lab_value *v), void *ctx);

/* One ok job's metric value in a complete run, as the trends read them (store_series_values). */
struct store_series_value {
	const char *host, *plan, *workload, *config, *metric, *unit, *direction, *started_at, *run;
	int topology, dom0; /* dom0: a host job beside guests */
	double value;
};
/* Every metric value of the complete runs of host (NULL: every host's; runs whose host was not recorded count as
 * any host's), of plan (NULL: every plan's), started at since or later (an ISO time; NULL: all), by host, plan,
 * workload, configuration, guest count, dom0, metric, start and run: a series at a time, oldest run first.
 * 0, or -1 (said). */
int store_series_values(struct store *s, const char *host, const char *plan, const char *since,
			void (*fn)(void *ctx, const struct store_series_value *v), void *ctx);

/*
 * A run written from outside (vgpubench import), row by row, in one transaction. begin: the transaction, for
 * the run with this id (NULL, said, when it cannot start). row: one row of table (one of the tables a run owns:
 * runs, host_facts, configs, guests, jobs and its metrics, subtests, job_noise, vgpu_stats, vgpu_health,
 * job_stages; scenario_jobs and their scenario_samples; calibration_rows), its columns by name; the run's id and
 * the row's parent (parent: the job's or scenario job's id, for the tables under one) are set here, and a name
 * that is not a column the row may set is refused. *id: the new row's id, for a table that numbers its rows.
 * 0, or -1 with the reason in s->err, not said (the caller says it with the row's place). end: commit
 * (commit 1; 0, or -1 with everything rolled back) or roll back (commit 0; -1); im is freed either way.
 */
struct store_import;
struct store_import *store_import_begin(struct store *s, const char *run);
int store_import_row(struct store_import *im, const char *table, long long parent, int n, const char *const *names,
		     const struct store_value *values, long long *id);
int store_import_end(struct store_import *im, int commit);

/* One metric value of a job, or a job with no metrics (metric, unit, direction NULL, value NAN). */
struct store_metric_row {
	const char *run, *workload, *config, *status, *renderer, *metric, *unit, *direction;
	int topology, guest_index, repetition;
	double value; /* NAN: NULL */
};
/* Every metric value of a run, a row each (a job without metrics: one row), by workload, configuration, guest
 * count, repetition, guest and metric. */
int store_metric_rows(struct store *s, const char *run, void (*fn)(void *ctx, const struct store_metric_row *r),
		      void *ctx);

/* A run's jobs grouped by workload x configuration x guest count: how many there are, failed (neither ok nor
 * skipped) and skipped, with the first failure ("status: reason") and the first skip's reason ("" for none). */
struct store_job_group {
	const char *workload, *config, *first_failure, *skip_reason;
	int topology, jobs, failed, skipped;
};
/* The groups by workload, first_config's first, then by configuration and guest count. */
int store_job_groups(struct store *s, const char *run, const char *first_config,
		     void (*fn)(void *ctx, const struct store_job_group *g), void *ctx);

/* Each subtest name of a run per configuration and guest count, with every status it had there, distinct and
 * comma-separated (over repetitions and guests). By configuration, guest count and name. */
int store_subtest_statuses(struct store *s, const char *run,
			   void (*fn)(void *ctx, const char *config, int topology, const char *name,
				      const char *statuses),
			   void *ctx);

#endif
