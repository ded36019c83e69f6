/* jobs.c: job lifecycle for the guest agent. Each job runs in its own session
 * (and so process group); a timeout or cancel kills the whole group. A job is
 * reported once it is reaped and its output pipes are drained. */
#define _GNU_SOURCE
#include "jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_proto.h"
#include "mono_clock.h"

/* After the process exits, how long grandchildren may hold the pipes open. */
#define DRAIN_GRACE_MS 2000
#define CHUNK 4096

enum job_end { END_NONE, END_TIMEOUT, END_CANCELLED };

struct job {
	int used;
	struct json_object *id;
	pid_t pid;
	int fds[2]; /* stdout, stderr; -1 once closed */
	long long start_ms, deadline_ms, reaped_ms;
	int reaped;
	int status;
	struct rusage ru;
	enum job_end end;
};

static struct job jobs[JOBS_MAX];
static jobs_emit_fn emit_fn;
static void *emit_ctx;

void jobs_init(jobs_emit_fn emit, void *ctx)
{
	emit_fn = emit;
	emit_ctx = ctx;
	memset(jobs, 0, sizeof(jobs));
}

static struct json_object *msg_new(struct json_object *id, const char *type)
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "id", json_object_get(id));
	json_object_object_add(m, "type", json_object_new_string(type));
	return m;
}

static void child_exec(const struct job_spec *spec, int out, int err, int errpipe)
{
	int e;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	/* A job must not outlive its agent (matters when the agent runs on the host). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		goto fail;
	int devnull = open("/dev/null", O_RDONLY);

	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	if (spec->cwd && chdir(spec->cwd) < 0)
		goto fail;
	for (char **e2 = spec->env; e2 && *e2; e2++)
		if (putenv(*e2) != 0)
			goto fail;
	signal(SIGPIPE, SIG_DFL);
	execvp(spec->argv[0], spec->argv);
fail:
	e = errno;
	if (write(errpipe, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

int jobs_start(struct json_object *id, const struct job_spec *spec, const char **err)
{
	struct job *j = NULL;
	int out[2], errp[2], ep[2];
	int e = 0;
	ssize_t n;

	for (int i = 0; i < JOBS_MAX; i++)
		if (!jobs[i].used) {
			j = &jobs[i];
			break;
		}
	if (!j) {
		*err = "too many jobs running";
		return -1;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		*err = "pipe failed";
		return -1;
	}
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		*err = "pipe failed";
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		close(errp[0]);
		close(errp[1]);
		*err = "pipe failed";
		return -1;
	}
	pid_t pid = fork();

	if (pid == 0) {
		close(ep[0]);
		child_exec(spec, out[1], errp[1], ep[1]);
	}
	close(out[1]);
	close(errp[1]);
	close(ep[1]);
	if (pid < 0) {
		close(out[0]);
		close(errp[0]);
		close(ep[0]);
		*err = "fork failed";
		return -1;
	}
	/* Exec succeeded when the close-on-exec pipe reads EOF. */
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		static char msg[256];

		waitpid(pid, NULL, 0);
		close(out[0]);
		close(errp[0]);
		snprintf(msg, sizeof(msg), "cannot start %s: %s", spec->argv[0], strerror(e));
		*err = msg;
		return -1;
	}
	memset(j, 0, sizeof(*j));
	j->used = 1;
	j->id = json_object_get(id);
	j->pid = pid;
	j->fds[0] = out[0];
	j->fds[1] = errp[0];
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	j->start_ms = mono_ms();
	j->deadline_ms = j->start_ms + (long long)(spec->timeout_s * 1000.0);

	struct json_object *m = msg_new(id, agent_msg_names[AGENT_MSG_STARTED]);

	json_object_object_add(m, "pid", json_object_new_int(pid));
	emit_fn(emit_ctx, m);
	return 0;
}

static void job_kill(struct job *j, enum job_end why)
{
	if (j->reaped)
		return;
	if (j->end == END_NONE)
		j->end = why;
	kill(-j->pid, SIGKILL);
	kill(j->pid, SIGKILL);
}

static int same_id(struct json_object *a, struct json_object *b)
{
	const char *sa = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
	const char *sb = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN);

	return sa && sb && strcmp(sa, sb) == 0;
}

int jobs_cancel(struct json_object *job_id)
{
	for (int i = 0; i < JOBS_MAX; i++)
		if (jobs[i].used && !jobs[i].reaped && same_id(jobs[i].id, job_id)) {
			job_kill(&jobs[i], END_CANCELLED);
			return 0;
		}
	return -1;
}

void jobs_kill_all(void)
{
	for (int i = 0; i < JOBS_MAX; i++)
		if (jobs[i].used)
			job_kill(&jobs[i], END_CANCELLED);
}

int jobs_active(void)
{
	int n = 0;

	for (int i = 0; i < JOBS_MAX; i++)
		n += jobs[i].used;
	return n;
}

int jobs_pollfds(struct pollfd *pfds, int max)
{
	int n = 0;

	for (int i = 0; i < JOBS_MAX; i++)
		for (int k = 0; k < 2; k++)
			if (jobs[i].used && jobs[i].fds[k] >= 0 && n < max) {
				pfds[n].fd = jobs[i].fds[k];
				pfds[n].events = POLLIN;
				pfds[n].revents = 0;
				n++;
			}
	return n;
}

static void drain(struct job *j, int k)
{
	char buf[CHUNK];
	ssize_t n = read(j->fds[k], buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(j->fds[k]);
		j->fds[k] = -1;
		return;
	}
	struct json_object *m = msg_new(j->id, agent_msg_names[AGENT_MSG_OUTPUT]);

	json_object_object_add(m, "stream", json_object_new_string(k ? "stderr" : "stdout"));
	json_object_object_add(m, "data", json_object_new_string_len(buf, (int)n));
	emit_fn(emit_ctx, m);
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void job_report(struct job *j)
{
	struct json_object *m = msg_new(j->id, agent_msg_names[AGENT_MSG_EXIT]);
	const char *status;

	if (j->end == END_TIMEOUT)
		status = "timeout";
	else if (j->end == END_CANCELLED)
		status = "cancelled";
	else if (WIFSIGNALED(j->status))
		status = "signaled";
	else
		status = "exited";
	json_object_object_add(m, "status", json_object_new_string(status));
	if (WIFEXITED(j->status))
		json_object_object_add(m, "code", json_object_new_int(WEXITSTATUS(j->status)));
	else
		json_object_object_add(m, "code", NULL);
	if (WIFSIGNALED(j->status))
		json_object_object_add(m, "signal", json_object_new_int(WTERMSIG(j->status)));
	else
		json_object_object_add(m, "signal", NULL);
	json_object_object_add(m, "wall_s", json_object_new_double((double)(j->reaped_ms - j->start_ms) / 1000.0));
	json_object_object_add(m, "user_s", json_object_new_double(tv_s(j->ru.ru_utime)));
	json_object_object_add(m, "sys_s", json_object_new_double(tv_s(j->ru.ru_stime)));
	json_object_object_add(m, "maxrss_kb", json_object_new_int64(j->ru.ru_maxrss));
	emit_fn(emit_ctx, m);
	for (int k = 0; k < 2; k++)
		if (j->fds[k] >= 0)
			close(j->fds[k]);
	json_object_put(j->id);
	memset(j, 0, sizeof(*j));
}

static void reap(void)
{
	for (;;) {
		int status;
		struct rusage ru;
		pid_t pid = wait4(-1, &status, WNOHANG, &ru);

		if (pid <= 0)
			return;
		for (int i = 0; i < JOBS_MAX; i++)
			if (jobs[i].used && !jobs[i].reaped && jobs[i].pid == pid) {
				jobs[i].reaped = 1;
				jobs[i].status = status;
				jobs[i].ru = ru;
				jobs[i].reaped_ms = mono_ms();
				/* Leftover members of the group would keep the pipes open. */
				kill(-pid, SIGKILL);
			}
		/* Other pids are orphans adopted by us as PID 1: nothing to do. */
	}
}

void jobs_service(const struct pollfd *pfds, int n)
{
	long long now;

	for (int p = 0; p < n; p++) {
		if (!(pfds[p].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (int i = 0; i < JOBS_MAX; i++)
			for (int k = 0; k < 2; k++)
				if (jobs[i].used && jobs[i].fds[k] == pfds[p].fd)
					drain(&jobs[i], k);
	}
	reap();
	now = mono_ms();
	for (int i = 0; i < JOBS_MAX; i++) {
		struct job *j = &jobs[i];

		if (!j->used)
			continue;
		if (!j->reaped && now >= j->deadline_ms)
			job_kill(j, END_TIMEOUT);
		if (j->reaped && ((j->fds[0] < 0 && j->fds[1] < 0) || now - j->reaped_ms >= DRAIN_GRACE_MS))
			job_report(j);
	}
}

int jobs_next_timeout_ms(void)
{
	long long now = mono_ms(), best = -1;

	for (int i = 0; i < JOBS_MAX; i++) {
		long long t;

		if (!jobs[i].used)
			continue;
		t = jobs[i].reaped ? jobs[i].reaped_ms + DRAIN_GRACE_MS : jobs[i].deadline_ms;
		if (best < 0 || t < best)
			best = t;
	}
	if (best < 0)
		return -1;
	return best <= now ? 0 : (int)(best - now > 60000 ? 60000 : best - now);
}
