/* control.h: the mediator's counters as JSON, served on its control socket
 * (one snapshot per connection: connect, read to EOF). */
#ifndef VGPU_CONTROL_H
#define VGPU_CONTROL_H

#include <stddef.h>

#include "gpu_device.h"

struct control_vgpu {
	const char *name;
	int connected;
	uint64_t connects;
	const struct gpu_device *gd; /* NULL when not connected */
	const char *why;             /* why it last disconnected or broke, "" if never */
};

/* The snapshot as a malloc'd JSON string (NULL without memory). */
char *control_json(const struct control_vgpu *v, size_t n, double uptime_s);

#endif
