/* jobs.h: the agent's running jobs: spawn in their own process group,
 * stream their output, enforce timeouts, reap and report. */
#ifndef VGPU_AGENT_JOBS_H
#define VGPU_AGENT_JOBS_H

#include <poll.h>
#include <json-c/json.h>

#define JOBS_MAX 16

/* Where a job's events go: one JSON message at a time. */
typedef void (*jobs_emit_fn)(void *ctx, struct json_object *msg);

struct job_spec {
	char **argv;     /* NULL-terminated */
	char **env;      /* NULL-terminated "K=V" additions, may be NULL */
	const char *cwd; /* may be NULL */
	double timeout_s;
};

void jobs_init(jobs_emit_fn emit, void *ctx);

/* Start a job answering request `id` (a reference is taken). 0, or -1 with *err set. */
int jobs_start(struct json_object *id, const struct job_spec *spec, const char **err);

/* Cancel the job started by request id `job_id` (compared as JSON text). 0 or -1 if none. */
int jobs_cancel(struct json_object *job_id);

/* Kill every job (shutdown). */
void jobs_kill_all(void);

/* Number of jobs still running or draining. */
int jobs_active(void);

/* Fill pfds with the output pipes to watch; returns how many were added (<= max). */
int jobs_pollfds(struct pollfd *pfds, int max);

/* Handle readiness on the pipes given by jobs_pollfds, reap exited children,
 * enforce deadlines, and report finished jobs. */
void jobs_service(const struct pollfd *pfds, int n);

/* Milliseconds until the next deadline, or -1 when none. */
int jobs_next_timeout_ms(void);

#endif
