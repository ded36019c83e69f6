/* protocol.h: the agent's request handling: validate one request line and
 * act on it (hello, run, cancel, shutdown). */
#ifndef VGPU_AGENT_PROTOCOL_H
#define VGPU_AGENT_PROTOCOL_H

#include <stddef.h>
#include "wire.h"

#define AGENT_VERSION "0.1.0"
#define AGENT_MAX_ARGS 256
#define AGENT_MAX_ENV 256
#define AGENT_MAX_TIMEOUT_S 86400.0
#define AGENT_DEFAULT_TIMEOUT_S 600.0

struct agent {
	struct wire wire;
	int connected;
	int shutdown_requested;
	const char *sysfs_root;
};

/* Handle one request line (line == NULL: the line was too long). */
void protocol_handle_line(void *agent, const char *line, size_t len);

/* Send a message to the host if connected (reference dropped either way). */
void protocol_emit(void *agent, struct json_object *msg);

#endif
