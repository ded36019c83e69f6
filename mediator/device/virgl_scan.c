/* virgl_scan.c: walk a virgl command stream (header dword: command in bits
 * 0-7, object type in 8-15, payload length in dwords in 16-31) and rewrite
 * the dwords that hold resource handles. Positions are the virgl protocol's
 * (virglrenderer's virgl_protocol.h), counted from the header as 0. */
#include "device/virgl_scan.h"

#include <stdio.h>

enum {
	CMD_CREATE_OBJECT = 1,
	CMD_SET_VERTEX_BUFFERS = 6,
	CMD_DRAW_VBO = 8,
	CMD_RESOURCE_INLINE_WRITE = 9,
	CMD_SET_INDEX_BUFFER = 11,
	CMD_BLIT = 16,
	CMD_RESOURCE_COPY_REGION = 17,
	CMD_SET_UNIFORM_BUFFER = 27,
	CMD_SET_SHADER_BUFFERS = 34,
	CMD_SET_SHADER_IMAGES = 35,
	CMD_LAUNCH_GRID = 37,
	CMD_SET_ATOMIC_BUFFERS = 40,
	CMD_GET_QUERY_RESULT_QBO = 42,
	CMD_TRANSFER3D = 43,
	CMD_COPY_TRANSFER3D = 45,
	CMD_CLEAR_TEXTURE = 47,
	CMD_PIPE_RESOURCE_CREATE = 48,
	CMD_PIPE_RESOURCE_SET_TYPE = 49,
	CMD_GET_MEMORY_INFO = 50,
	CMD_FIRST_VIDEO = 53,
	CMD_LAST_VIDEO = 61,
	CMD_COUNT = 64, /* CLEAR_SURFACE (62) and SET_FRAMEBUFFER_STATE_VIEWS (63) are the last known */
};

enum {
	OBJ_SAMPLER_VIEW = 6,
	OBJ_SURFACE = 8,
	OBJ_QUERY = 9,
	OBJ_STREAMOUT_TARGET = 10,
	OBJ_MSAA_SURFACE = 11,
};

struct scan {
	uint32_t *cmd; /* the header */
	uint32_t len;  /* payload dwords */
	size_t at;     /* dword offset of the header in the stream */
	vscan_lookup lookup;
	void *ctx;
	char *why;
	size_t whylen;
};

/* Translate payload dword `pos` (1-based) when the command has it. */
static int fix(struct scan *s, uint32_t pos)
{
	uint32_t guest, host;

	if (pos > s->len)
		return 0;
	guest = s->cmd[pos];
	if (guest == 0)
		return 0; /* "no resource" */
	host = s->lookup(s->ctx, guest);
	if (!host) {
		snprintf(s->why, s->whylen, "command %u at dword %zu names resource %u, which this vGPU does not have",
			 s->cmd[0] & 0xff, s->at, guest);
		return -1;
	}
	s->cmd[pos] = host;
	return 0;
}

/* Translate `first`, first + step, ... for as long as the payload has them. */
static int fix_each(struct scan *s, uint32_t first, uint32_t step)
{
	for (uint32_t p = first; p <= s->len; p += step)
		if (fix(s, p) < 0)
			return -1;
	return 0;
}

static int scan_one(struct scan *s)
{
	uint32_t cmd = s->cmd[0] & 0xff, obj = (s->cmd[0] >> 8) & 0xff;

	switch (cmd) {
	case CMD_CREATE_OBJECT:
		if (obj == OBJ_SAMPLER_VIEW || obj == OBJ_SURFACE || obj == OBJ_MSAA_SURFACE ||
		    obj == OBJ_STREAMOUT_TARGET)
			return fix(s, 2);
		if (obj == OBJ_QUERY)
			return fix(s, 4);
		return 0;
	case CMD_SET_VERTEX_BUFFERS:
		return fix_each(s, 3, 3);
	case CMD_DRAW_VBO:
		return fix(s, 15) < 0 ? -1 : fix(s, 20);
	case CMD_RESOURCE_INLINE_WRITE:
	case CMD_SET_INDEX_BUFFER:
	case CMD_TRANSFER3D:
	case CMD_CLEAR_TEXTURE:
	case CMD_GET_MEMORY_INFO:
		return fix(s, 1);
	case CMD_BLIT:
		return fix(s, 4) < 0 ? -1 : fix(s, 13);
	case CMD_RESOURCE_COPY_REGION:
		return fix(s, 1) < 0 ? -1 : fix(s, 6);
	case CMD_SET_UNIFORM_BUFFER:
		return fix(s, 5);
	case CMD_SET_SHADER_BUFFERS:
		return fix_each(s, 5, 3);
	case CMD_SET_SHADER_IMAGES:
		return fix_each(s, 7, 5);
	case CMD_LAUNCH_GRID:
		return fix(s, 7);
	case CMD_SET_ATOMIC_BUFFERS:
		return fix_each(s, 4, 3);
	case CMD_GET_QUERY_RESULT_QBO:
		return fix(s, 2);
	case CMD_COPY_TRANSFER3D:
		return fix(s, 1) < 0 ? -1 : fix(s, 12);
	case CMD_PIPE_RESOURCE_CREATE:
	case CMD_PIPE_RESOURCE_SET_TYPE:
		snprintf(s->why, s->whylen, "command %u at dword %zu: blob resources are not offered", cmd, s->at);
		return -1;
	}
	if (cmd >= CMD_FIRST_VIDEO && cmd <= CMD_LAST_VIDEO) {
		snprintf(s->why, s->whylen, "command %u at dword %zu: video commands are not offered", cmd, s->at);
		return -1;
	}
	if (cmd >= CMD_COUNT) {
		snprintf(s->why, s->whylen, "command %u at dword %zu is unknown", cmd, s->at);
		return -1;
	}
	return 0; /* names no resource */
}

int vscan_translate(uint32_t *dw, size_t ndw, vscan_lookup lookup, void *ctx, char *why, size_t whylen)
{
	struct scan s = { .lookup = lookup, .ctx = ctx, .why = why, .whylen = whylen };

	for (size_t at = 0; at < ndw;) {
		s.cmd = dw + at;
		s.len = dw[at] >> 16;
		s.at = at;
		if (s.len > ndw - at - 1) {
			snprintf(why, whylen, "command %u at dword %zu: %u dwords run past the %zu-dword stream",
				 dw[at] & 0xff, at, s.len, ndw);
			return -1;
		}
		if (scan_one(&s) < 0)
			return -1;
		at += (size_t)s.len + 1;
	}
	return 0;
}
