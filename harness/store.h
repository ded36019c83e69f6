/* store.h: the results database (SQLite) and its schema. The schema is
 * documented in results/SCHEMA.md. Every job and its metrics are written in
 * one transaction, so a crash loses at most the job in flight. */
#ifndef VGPUBENCH_STORE_H
#define VGPUBENCH_STORE_H

#include <sqlite3.h>
#include "workload.h"

struct store {
	sqlite3 *db;
	char err[512]; /* what the last failure was, in words (disk full, locked for N s...) */
};

/*
 * Open for writing, creating a new database or upgrading an older vgpubench
 * one. Every open checks what the file is first: a database of another
 * program (application_id, tables) is refused untouched, and a vgpubench
 * database with a table missing is reported damaged, never recreated.
 * 0, or -1 with a message printed (and in s->err).
 */
int store_open(struct store *s, const char *path);
/* Open an existing database for reading only: never creates nor upgrades,
 * and works in a read-only folder. 0, or -1 with a message printed. */
int store_open_read(struct store *s, const char *path);
void store_close(struct store *s);

/* 0, -2 when a run with this id exists already, -1 on other errors. */
int store_run_create(struct store *s, const char *id, const char *plan_name, const char *plan_path,
		     const char *plan_text, const char *dir);
/* Load plan text and folder of a run for --resume. Returned strings are malloc'ed. */
int store_run_load(struct store *s, const char *id, char **plan_path, char **plan_text, char **dir, char **status);
/* Is there a run with this id? */
int store_run_exists(struct store *s, const char *id);
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

struct guest_row {
	const char *config;
	int topology, guest_index;
	const char *accel;
	double boot_s;
	const char *kernel, *agent_version, *drm, *serial_log;
	const char *status, *reason;
};
int store_guest(struct store *s, const char *run, const struct guest_row *g);

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
};

/* Write a group of jobs (one repetition on every guest at once) atomically. */
int store_jobs(struct store *s, const char *run, const struct job_row *jobs, int n);

/* Is there already a row for this job? (for --resume) */
int store_job_done(struct store *s, const char *run, const char *config, int topology, int guest_index,
		   const char *workload, int repetition);

#endif
