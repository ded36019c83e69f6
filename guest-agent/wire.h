/* wire.h: newline-delimited JSON framing over a byte stream (agent side). */
#ifndef VGPU_AGENT_WIRE_H
#define VGPU_AGENT_WIRE_H

#include <stddef.h>
#include <json-c/json.h>

/* Longest request line accepted, newline included. */
#define WIRE_MAX_LINE 65536

struct wire {
	int in_fd;
	int out_fd;
	char buf[WIRE_MAX_LINE];
	size_t len;
	int discarding; /* dropping the rest of an oversized line */
	int eof;
};

void wire_init(struct wire *w, int in_fd, int out_fd);

/*
 * Read what is available and call on_line for every complete line.
 * on_line gets the line without its newline, NUL-terminated, and its length;
 * an oversized line is reported once with line == NULL.
 * Returns 0, or -1 on end of stream or a read error (w->eof is then set).
 */
int wire_read(struct wire *w, void (*on_line)(void *ctx, const char *line, size_t len),
	      void *ctx);

/* Write one JSON object followed by a newline; drops the reference. 0 or -1. */
int wire_send(struct wire *w, struct json_object *msg);

#endif
