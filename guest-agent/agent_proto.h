/* agent_proto.h: the vgpu-agent protocol's names, once, for both ends (the
 * agent in guest-agent/, the harness's agent_client.c). Each line is a JSON
 * object. The host sends requests {"id": a scalar, "op": OP, ...}; the agent
 * answers with messages {"id": the request's id, "type": TYPE, ...}:
 *
 *   hello     -> hello (version, protocol, kernel, CPUs, memory, DRM devices)
 *   run       -> started, then output (stream, data) as it comes, then exit
 *                (status exited|signaled|timeout|cancelled, code or signal,
 *                wall and CPU time, peak RSS)
 *   cancel    -> ok (the job then ends with exit, status cancelled)
 *   shutdown  -> ok (every job is killed; the agent exits, a guest powers off)
 *
 * A malformed request or an unknown op gets an error message and changes
 * nothing. */
#ifndef VGPU_AGENT_PROTO_H
#define VGPU_AGENT_PROTO_H

#define AGENT_PROTOCOL_VERSION 1

/* Requests: X(enum name, op string). */
#define AGENT_OP_LIST(X)                  \
	X(AGENT_OP_HELLO, "hello")        \
	X(AGENT_OP_RUN, "run")            \
	X(AGENT_OP_CANCEL, "cancel")      \
	X(AGENT_OP_SHUTDOWN, "shutdown")

/* Messages from the agent: X(enum name, type string). */
#define AGENT_MSG_LIST(X)                 \
	X(AGENT_MSG_HELLO, "hello")       \
	X(AGENT_MSG_STARTED, "started")   \
	X(AGENT_MSG_OUTPUT, "output")     \
	X(AGENT_MSG_EXIT, "exit")         \
	X(AGENT_MSG_OK, "ok")             \
	X(AGENT_MSG_ERROR, "error")

#define AGENT_ENUM(e, s) e,
enum agent_op { AGENT_OP_LIST(AGENT_ENUM) AGENT_NOPS };
enum agent_msg { AGENT_MSG_LIST(AGENT_ENUM) AGENT_NMSGS };
#undef AGENT_ENUM

#define AGENT_NAME(e, s) [e] = s,
static const char *const agent_op_names[AGENT_NOPS] = { AGENT_OP_LIST(AGENT_NAME) };
static const char *const agent_msg_names[AGENT_NMSGS] = { AGENT_MSG_LIST(AGENT_NAME) };
#undef AGENT_NAME

#endif
