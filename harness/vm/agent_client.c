/* agent_client.c: host side of the vgpu-agent protocol. Reads are bounded
 * (a line over AGENT_LINE_MAX marks the agent dead): a guest is untrusted. */
#define _GNU_SOURCE
#include "vm/agent_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_proto.h"
#include "util.h"
#include "host/vtest_ns.h"

/* Most captured stdout per job; more is logged to the file but not kept. */
#define OUT_MAX (8u << 20)
#define JOB_GRACE_S 60.0

static void conn_init(struct agent_conn *c, int rfd, int wfd, const char *label)
{
	memset(c, 0, sizeof(*c));
	c->rfd = rfd;
	c->wfd = wfd;
	c->buf = malloc(AGENT_LINE_MAX);
	if (!c->buf)
		abort();
	c->next_id = 1;
	snprintf(c->label, sizeof(c->label), "%s", label);
}

int agent_connect_unix(struct agent_conn *c, const char *path, double deadline, pid_t owner, const char *label)
{
	int fd = vb_unix_connect(path, deadline, owner);

	if (fd < 0) {
		if (errno == ENAMETOOLONG)
			vb_err("%s: socket path too long: %s", label, path);
		return -1;
	}
	conn_init(c, fd, fd, label);
	return 0;
}

int agent_spawn_local(struct agent_conn *c, const char *agent, char *const env[], const char *vtest_socket,
		      const char *log_path, const char *label)
{
	int in[2], out[2];
	pid_t parent = getpid(), pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (pid == 0) {
		vb_child_signals();
		signal(SIGINT, SIG_IGN); /* the harness decides when it stops */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		if (log_path) {
			int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

			if (fd >= 0) {
				dup2(fd, STDERR_FILENO);
				close(fd);
			}
		}
		for (char *const *e = env; e && *e; e++)
			putenv(*e);
		if (vtest_socket) {
			char err[400];

			if (vtest_ns_enter(vtest_socket, err, sizeof(err)) < 0) {
				fprintf(stderr, "vgpubench: %s's agent cannot reach the vtest socket: %s\n", label, err);
				_exit(127);
			}
		}
		execl(agent, agent, "--stdio", (char *)NULL);
		fprintf(stderr, "vgpubench: cannot start %s: %s\n", agent, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	conn_init(c, out[0], in[1], label);
	c->local_pid = pid;
	return 0;
}

void agent_close(struct agent_conn *c)
{
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0 && c->wfd != c->rfd)
		close(c->wfd);
	c->rfd = c->wfd = -1;
	if (c->local_pid > 0) {
		/* EOF on its stdin makes a local agent kill its jobs and exit. */
		vb_reap(c->local_pid, 5.0);
		c->local_pid = 0;
	}
	free(c->buf);
	c->buf = NULL;
	c->dead = 1;
}

int agent_send(struct agent_conn *c, struct json_object *req)
{
	size_t len;
	const char *s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
	int rc = 0;

	if (c->dead || !s) {
		json_object_put(req);
		return -1;
	}
	for (int part = 0; part < 2 && rc == 0; part++) {
		const char *p = part ? "\n" : s;
		size_t n = part ? 1 : len;

		while (n > 0) {
			ssize_t w = send(c->wfd, p, n, MSG_NOSIGNAL);

			if (w < 0 && errno == ENOTSOCK)
				w = write(c->wfd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = -1;
				c->dead = 1;
				break;
			}
			p += w;
			n -= (size_t)w;
		}
	}
	json_object_put(req);
	return rc;
}

/* Pop one complete line from c's buffer as a JSON object. 1 popped, 0 none, -1 garbage. */
static int pop_line(struct agent_conn *c, struct json_object **msg)
{
	char *nl = memchr(c->buf, '\n', c->len);
	struct json_tokener *tok;
	size_t n;

	if (!nl)
		return 0;
	n = (size_t)(nl - c->buf);
	tok = json_tokener_new_ex(32);
	*msg = tok ? json_tokener_parse_ex(tok, c->buf, (int)n) : NULL;
	if (*msg && (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(*msg, json_type_object))) {
		json_object_put(*msg);
		*msg = NULL;
	}
	if (tok)
		json_tokener_free(tok);
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	if (!*msg) {
		vb_err("%s: the agent sent a line that is not a JSON object", c->label);
		return -1;
	}
	return 1;
}

int agent_next(struct agent_conn *const *cs, int n, double deadline, struct json_object **msg)
{
	*msg = NULL;
	for (;;) {
		struct pollfd pfds[64];
		int map[64], np = 0, r;

		for (int i = 0; i < n; i++) {
			if (cs[i]->dead)
				continue;
			r = pop_line(cs[i], msg);
			if (r == 1)
				return i;
			if (r < 0) {
				cs[i]->dead = 1;
				continue;
			}
			if (np < 64) {
				pfds[np] = (struct pollfd){ .fd = cs[i]->rfd, .events = POLLIN };
				map[np++] = i;
			}
		}
		if (np == 0)
			return -2;
		if (vb_stop_requested)
			return -1;
		double left = deadline - vb_now();

		if (left <= 0)
			return -1;
		r = poll(pfds, (nfds_t)np, left > 0.5 ? 500 : (int)(left * 1000) + 1);
		if (r < 0 && errno != EINTR)
			return -2;
		for (int k = 0; k < np && r > 0; k++) {
			struct agent_conn *c = cs[map[k]];

			if (!pfds[k].revents)
				continue;
			ssize_t got = read(c->rfd, c->buf + c->len, AGENT_LINE_MAX - c->len);

			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got <= 0) {
				c->dead = 1;
				continue;
			}
			c->len += (size_t)got;
			if (c->len == AGENT_LINE_MAX && !memchr(c->buf, '\n', c->len)) {
				vb_err("%s: the agent sent a line longer than %d bytes", c->label, AGENT_LINE_MAX);
				c->dead = 1;
			}
		}
	}
}

static struct json_object *request(struct agent_conn *c, const char *op, long long *id)
{
	struct json_object *req = json_object_new_object();

	*id = c->next_id++;
	json_object_object_add(req, "id", json_object_new_int64(*id));
	json_object_object_add(req, "op", json_object_new_string(op));
	return req;
}

static long long msg_id(struct json_object *m)
{
	struct json_object *id;

	if (!json_object_object_get_ex(m, "id", &id) || !json_object_is_type(id, json_type_int))
		return -1;
	return json_object_get_int64(id);
}

static const char *msg_str(struct json_object *m, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(m, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int agent_hello(struct agent_conn *c, double deadline, struct json_object **hello)
{
	struct agent_conn *one[1] = { c };
	double next_ask = 0;

	*hello = NULL;
	while (!vb_stop_requested && vb_now() < deadline && !c->dead) {
		struct json_object *m;
		long long id;
		int r;

		if (vb_now() >= next_ask) {
			if (agent_send(c, request(c, agent_op_names[AGENT_OP_HELLO], &id)) < 0)
				return -1;
			next_ask = vb_now() + 3.0;
		}
		r = agent_next(one, 1, next_ask < deadline ? next_ask : deadline, &m);
		if (r == -2)
			return -1;
		if (r < 0)
			continue;
		const char *type = msg_str(m, "type");

		if (type && strcmp(type, agent_msg_names[AGENT_MSG_HELLO]) == 0) {
			*hello = m;
			return 0;
		}
		json_object_put(m);
	}
	return -1;
}

static void out_append(struct job_result *r, const char *data, size_t len)
{
	if (r->out_len + len > OUT_MAX)
		len = r->out_len < OUT_MAX ? OUT_MAX - r->out_len : 0;
	if (!len)
		return;
	char *n = realloc(r->out, r->out_len + len + 1);

	if (!n)
		abort();
	r->out = n;
	memcpy(r->out + r->out_len, data, len);
	r->out_len += len;
	r->out[r->out_len] = '\0';
}

static double num(struct json_object *m, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(m, key, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return -1;
	return json_object_get_double(v);
}

static void apply_exit(struct job_result *r, struct json_object *m)
{
	const char *st = msg_str(m, "status");

	snprintf(r->status, sizeof(r->status), "%s", st ? st : "lost");
	r->code = (int)num(m, "code");
	r->signal = (int)num(m, "signal");
	r->wall_s = num(m, "wall_s");
	r->user_s = num(m, "user_s");
	r->sys_s = num(m, "sys_s");
	r->maxrss_kb = (long long)num(m, "maxrss_kb");
}

void agent_run_parallel(struct agent_conn *const *cs, int n, const char *const *const *argvs,
			struct json_object *const *envs, double timeout_s, const char *const *logs,
			struct job_result *res)
{
	long long ids[64];
	FILE *logf[64];
	int pending = 0;
	double deadline = vb_now() + timeout_s + JOB_GRACE_S;

	for (int i = 0; i < n && i < 64; i++) {
		struct json_object *req, *av = json_object_new_array();

		memset(&res[i], 0, sizeof(res[i]));
		strcpy(res[i].status, "lost");
		res[i].code = -1;
		res[i].out = calloc(1, 1);
		logf[i] = logs && logs[i] ? fopen(logs[i], "a") : NULL;
		if (logf[i] && ftell(logf[i]) > 0) {
			char when[32];

			/* A log with lines in it: the job runs again (a resumed run); the first attempt did not end */
			vb_utc_iso(when, sizeof(when));
			fprintf(logf[i],
				"\n--- vgpubench: the job starts again at %s; the lines above are an attempt that did "
				"not finish ---\n",
				when);
		}
		req = request(cs[i], agent_op_names[AGENT_OP_RUN], &ids[i]);
		for (const char *const *a = argvs[i]; *a; a++)
			json_object_array_add(av, json_object_new_string(*a));
		json_object_object_add(req, "argv", av);
		if (envs && envs[i])
			json_object_object_add(req, "env", json_object_get(envs[i]));
		json_object_object_add(req, "timeout", json_object_new_double(timeout_s));
		if (agent_send(cs[i], req) < 0) {
			snprintf(res[i].error, sizeof(res[i].error), "%s: cannot send the job to the agent", cs[i]->label);
			ids[i] = -1;
			continue;
		}
		pending++;
	}
	while (pending > 0) {
		struct json_object *m;
		int i;

		for (int k = 0; k < n; k++)
			if (ids[k] >= 0 && cs[k]->dead) {
				snprintf(res[k].error, sizeof(res[k].error),
					 "the agent connection closed (guest crashed?)");
				ids[k] = -1;
				pending--;
			}
		if (pending == 0)
			break;
		i = agent_next(cs, n, deadline, &m);

		if (i < 0) {
			for (int k = 0; k < n; k++)
				if (ids[k] >= 0) {
					snprintf(res[k].error, sizeof(res[k].error), "%s",
						 vb_stop_requested ? "interrupted"
						 : i == -1	   ? "the agent stopped answering (guest hung?)"
								   : "the agent connection closed (guest crashed?)");
					ids[k] = -1;
					/* An agent that let its own timeout pass is not trusted again. */
					if (!vb_stop_requested)
						cs[k]->dead = 1;
				}
			break;
		}
		const char *type = msg_str(m, "type");

		if (msg_id(m) != ids[i] || !type) {
			json_object_put(m);
			continue;
		}
		if (strcmp(type, agent_msg_names[AGENT_MSG_OUTPUT]) == 0) {
			const char *stream = msg_str(m, "stream"), *data = msg_str(m, "data");
			struct json_object *d;
			size_t dl = 0;

			if (data && json_object_object_get_ex(m, "data", &d))
				dl = (size_t)json_object_get_string_len(d);
			if (data && logf[i]) {
				fwrite(data, 1, dl, logf[i]);
				fflush(logf[i]);
			}
			if (data && stream && strcmp(stream, "stdout") == 0)
				out_append(&res[i], data, dl);
		} else if (strcmp(type, agent_msg_names[AGENT_MSG_EXIT]) == 0) {
			apply_exit(&res[i], m);
			ids[i] = -1;
			pending--;
		} else if (strcmp(type, agent_msg_names[AGENT_MSG_ERROR]) == 0) {
			const char *e = msg_str(m, "error");

			strcpy(res[i].status, "error");
			snprintf(res[i].error, sizeof(res[i].error), "%s", e ? e : "agent error");
			ids[i] = -1;
			pending--;
		}
		json_object_put(m);
		/* any other message for this id (started) needs nothing */
	}
	for (int i = 0; i < n && i < 64; i++)
		if (logf[i])
			fclose(logf[i]);
}

void job_result_free(struct job_result *r)
{
	free(r->out);
	r->out = NULL;
}

const char *agent_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}
