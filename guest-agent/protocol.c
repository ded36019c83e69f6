/* protocol.c: request validation and dispatch for vgpu-agent: one table of
 * handlers over the ops of agent_proto.h. Every request is a JSON object
 * {"id": any scalar, "op": OP, ...}; every malformed one gets an error
 * message and changes nothing. */
#define _GNU_SOURCE
#include "protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_proto.h"
#include "jobs.h"
#include "sysinfo.h"

void protocol_emit(void *ctx, struct json_object *msg)
{
	struct agent *a = ctx;

	if (!a->connected) {
		json_object_put(msg);
		return;
	}
	if (wire_send(&a->wire, msg) < 0)
		fprintf(stderr, "vgpu-agent: dropped a message: host not reading\n");
}

static struct json_object *reply(struct json_object *id, const char *type)
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "id", json_object_get(id));
	json_object_object_add(m, "type", json_object_new_string(type));
	return m;
}

static void send_error(struct agent *a, struct json_object *id, const char *fmt, const char *detail)
{
	char msg[512];
	struct json_object *m = reply(id, agent_msg_names[AGENT_MSG_ERROR]);

	snprintf(msg, sizeof(msg), fmt, detail ? detail : "");
	json_object_object_add(m, "error", json_object_new_string(msg));
	protocol_emit(a, m);
}

static void op_hello(struct agent *a, struct json_object *id, struct json_object *req)
{
	(void)req;
	struct json_object *m = reply(id, agent_msg_names[AGENT_MSG_HELLO]);

	json_object_object_add(m, "version", json_object_new_string(AGENT_VERSION));
	json_object_object_add(m, "protocol", json_object_new_int(AGENT_PROTOCOL_VERSION));
	sysinfo_fill(m, a->sysfs_root);
	protocol_emit(a, m);
}

/* Copy a JSON array of strings into a NULL-terminated vector. */
static char **string_vector(struct json_object *arr, size_t max, const char **err)
{
	size_t n = json_object_array_length(arr);
	char **v;

	if (n > max) {
		*err = "too many entries";
		return NULL;
	}
	v = calloc(n + 1, sizeof(*v));
	if (!v) {
		*err = "out of memory";
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(e, json_type_string)) {
			*err = "entries must be strings";
			goto fail;
		}
		const char *s = json_object_get_string(e);

		if (strlen(s) != (size_t)json_object_get_string_len(e)) {
			*err = "entries must not contain NUL";
			goto fail;
		}
		v[i] = strdup(s);
		if (!v[i]) {
			*err = "out of memory";
			goto fail;
		}
	}
	return v;
fail:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return NULL;
}

static void free_vector(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* env is an object of string values; becomes "K=V" entries. */
static char **env_vector(struct json_object *env, const char **err)
{
	size_t n = (size_t)json_object_object_length(env), i = 0;
	char **v;

	if (n > AGENT_MAX_ENV) {
		*err = "too many env entries";
		return NULL;
	}
	v = calloc(n + 1, sizeof(*v));
	if (!v) {
		*err = "out of memory";
		return NULL;
	}
	json_object_object_foreach(env, key, val)
	{
		if (!json_object_is_type(val, json_type_string) || key[0] == '\0' || strchr(key, '=') ||
		    strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val)) {
			*err = "env must map names without '=' to strings";
			free_vector(v);
			return NULL;
		}
		if (asprintf(&v[i], "%s=%s", key, json_object_get_string(val)) < 0) {
			v[i] = NULL;
			*err = "out of memory";
			free_vector(v);
			return NULL;
		}
		i++;
	}
	return v;
}

static void op_run(struct agent *a, struct json_object *id, struct json_object *req)
{
	struct json_object *argv_o, *env_o = NULL, *cwd_o = NULL, *timeout_o = NULL;
	struct job_spec spec = { .timeout_s = AGENT_DEFAULT_TIMEOUT_S };
	const char *err = NULL;

	if (!json_object_object_get_ex(req, "argv", &argv_o) || !json_object_is_type(argv_o, json_type_array) ||
	    json_object_array_length(argv_o) == 0) {
		send_error(a, id, "run: argv must be a non-empty array of strings%s", NULL);
		return;
	}
	if (json_object_object_get_ex(req, "env", &env_o) && !json_object_is_type(env_o, json_type_object) &&
	    !json_object_is_type(env_o, json_type_null)) {
		send_error(a, id, "run: env must be an object of strings%s", NULL);
		return;
	}
	if (json_object_object_get_ex(req, "cwd", &cwd_o) && !json_object_is_type(cwd_o, json_type_null)) {
		if (!json_object_is_type(cwd_o, json_type_string)) {
			send_error(a, id, "run: cwd must be a string%s", NULL);
			return;
		}
		spec.cwd = json_object_get_string(cwd_o);
	}
	if (json_object_object_get_ex(req, "timeout", &timeout_o) && !json_object_is_type(timeout_o, json_type_null)) {
		if (!json_object_is_type(timeout_o, json_type_int) && !json_object_is_type(timeout_o, json_type_double)) {
			send_error(a, id, "run: timeout must be a number of seconds%s", NULL);
			return;
		}
		spec.timeout_s = json_object_get_double(timeout_o);
		if (!(spec.timeout_s > 0 && spec.timeout_s <= AGENT_MAX_TIMEOUT_S)) {
			send_error(a, id, "run: timeout must be > 0 and <= 86400 seconds%s", NULL);
			return;
		}
	}
	spec.argv = string_vector(argv_o, AGENT_MAX_ARGS, &err);
	if (!spec.argv) {
		send_error(a, id, "run: argv: %s", err);
		return;
	}
	if (env_o && json_object_is_type(env_o, json_type_object)) {
		spec.env = env_vector(env_o, &err);
		if (!spec.env) {
			free_vector(spec.argv);
			send_error(a, id, "run: %s", err);
			return;
		}
	}
	if (jobs_start(id, &spec, &err) < 0)
		send_error(a, id, "run: %s", err);
	free_vector(spec.argv);
	free_vector(spec.env);
}

static void op_cancel(struct agent *a, struct json_object *id, struct json_object *req)
{
	struct json_object *job;

	if (!json_object_object_get_ex(req, "job", &job)) {
		send_error(a, id, "cancel: missing \"job\" (the id of the run request)%s", NULL);
		return;
	}
	if (jobs_cancel(job) < 0) {
		send_error(a, id, "cancel: no running job with id %s", json_object_to_json_string(job));
		return;
	}
	protocol_emit(a, reply(id, agent_msg_names[AGENT_MSG_OK]));
}

static void op_shutdown(struct agent *a, struct json_object *id, struct json_object *req)
{
	(void)req;
	jobs_kill_all();
	protocol_emit(a, reply(id, agent_msg_names[AGENT_MSG_OK]));
	a->shutdown_requested = 1;
}

/* The handlers, one per op of agent_proto.h, in its order. */
typedef void (*op_handler)(struct agent *a, struct json_object *id, struct json_object *req);
static const op_handler handlers[AGENT_NOPS] = {
	[AGENT_OP_HELLO] = op_hello,
	[AGENT_OP_RUN] = op_run,
	[AGENT_OP_CANCEL] = op_cancel,
	[AGENT_OP_SHUTDOWN] = op_shutdown,
};

void protocol_handle_line(void *ctx, const char *line, size_t len)
{
	struct agent *a = ctx;
	struct json_tokener *tok;
	struct json_object *req, *id = NULL, *op;
	const char *ops;
	int complete;

	if (!line) {
		send_error(a, NULL, "request longer than %s bytes", "65535");
		return;
	}
	if (len == 0)
		return;
	tok = json_tokener_new_ex(16);
	if (!tok)
		return;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	req = json_tokener_parse_ex(tok, line, (int)len);
	complete = json_tokener_get_parse_end(tok) == len;
	/* A complete line ends the value: a bare number would otherwise wait for more digits. */
	if (!req && json_tokener_get_error(tok) == json_tokener_continue && complete)
		req = json_tokener_parse_ex(tok, " ", 1);
	if (!req || json_tokener_get_error(tok) != json_tokener_success || !complete) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		send_error(a, NULL, "malformed JSON: %s",
			   e == json_tokener_continue ? "truncated" : json_tokener_error_desc(e));
		json_object_put(req);
		json_tokener_free(tok);
		return;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(req, json_type_object)) {
		send_error(a, NULL, "request must be a JSON object%s", NULL);
		goto out;
	}
	if (json_object_object_get_ex(req, "id", &id) &&
	    (json_object_is_type(id, json_type_object) || json_object_is_type(id, json_type_array))) {
		send_error(a, NULL, "id must be a number or a string%s", NULL);
		goto out;
	}
	if (!json_object_object_get_ex(req, "op", &op) || !json_object_is_type(op, json_type_string)) {
		send_error(a, id, "missing \"op\"%s", NULL);
		goto out;
	}
	ops = json_object_get_string(op);
	for (int i = 0; i < AGENT_NOPS; i++)
		if (strcmp(ops, agent_op_names[i]) == 0) {
			handlers[i](a, id, req);
			goto out;
		}
	{
		char shown[64];

		snprintf(shown, sizeof(shown), "%.40s", ops);
		send_error(a, id, "unknown op \"%s\"", shown);
	}
out:
	json_object_put(req);
}
