/* agent_client.h: the harness's side of the vgpu-agent protocol: connect
 * (unix socket of a guest's virtio-serial port, or a local agent's pipes),
 * exchange newline-delimited JSON, run jobs on several agents at once. */
#ifndef VGPUBENCH_AGENT_CLIENT_H
#define VGPUBENCH_AGENT_CLIENT_H

#include <stddef.h>
#include <sys/types.h>
#include <json-c/json.h>

#define AGENT_LINE_MAX (1 << 20)

struct agent_conn {
	int rfd, wfd;
	pid_t local_pid; /* a local agent we spawned, or 0 */
	char *buf;
	size_t len;
	int dead;
	char label[32];
	long long next_id;
};

/* Connect to a unix socket, retrying until deadline (monotonic seconds), or until process owner (the QEMU that
 * serves it; 0: none) is gone. */
int agent_connect_unix(struct agent_conn *c, const char *path, double deadline, pid_t owner, const char *label);
/* Start `agent --stdio` locally with extra env ("K=V" list); stderr to log_path. vtest_socket (NULL: none): the
 * agent and its jobs run in a private mount namespace where Mesa's vtest client reaches that socket (vtest_ns.h);
 * an agent that cannot enter it says why in its log and exits. */
int agent_spawn_local(struct agent_conn *c, const char *agent, char *const env[], const char *vtest_socket,
		      const char *log_path, const char *label);
void agent_close(struct agent_conn *c);

/* Send a request (reference dropped). 0 or -1. */
int agent_send(struct agent_conn *c, struct json_object *req);

/*
 * Wait for the next message from any of the n connections until deadline.
 * Returns the index of the connection with *msg set, -1 on timeout or stop
 * request, or -2 when every connection is dead. A connection that closes or
 * sends garbage is marked dead.
 */
int agent_next(struct agent_conn *const *cs, int n, double deadline, struct json_object **msg);

/*
 * Ask for hello until it arrives or deadline passes. *hello gets the reply.
 * Re-asks every few seconds, since a guest's port may open after the first ask.
 */
int agent_hello(struct agent_conn *c, double deadline, struct json_object **hello);

struct job_result {
	char status[16]; /* exited, signaled, timeout, cancelled, error, lost */
	int code;        /* exit code, or -1 */
	int signal;
	double wall_s, user_s, sys_s;
	long long maxrss_kb;
	char *out; /* stdout, NUL-terminated */
	size_t out_len;
	char error[256];
};

/*
 * Run job i (argvs[i], with env object envs[i]; envs or envs[i] may be NULL)
 * on agent cs[i], all n at once; stdout and stderr of job i are appended to
 * logs[i]. Waits until every job reported or timeout_s + grace passed (those
 * become status "lost").
 */
void agent_run_parallel(struct agent_conn *const *cs, int n, const char *const *const *argvs,
			struct json_object *const *envs, double timeout_s, const char *const *logs,
			struct job_result *res);

void job_result_free(struct job_result *r);

/* The string member `key` of a JSON object an agent (or a job it ran) sent, or NULL when absent or not a string. */
const char *agent_json_str(struct json_object *o, const char *key);

#endif
