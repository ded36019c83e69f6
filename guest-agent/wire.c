/* wire.c: newline-delimited JSON framing for the guest agent: bounded line
 * reassembly on input, whole-message writes with a deadline on output. */
#define _GNU_SOURCE
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

/* How long one message may wait for a slow reader before it is dropped. */
#define WIRE_WRITE_TIMEOUT_MS 10000

void wire_init(struct wire *w, int in_fd, int out_fd)
{
	memset(w, 0, sizeof(*w));
	w->in_fd = in_fd;
	w->out_fd = out_fd;
}

static void wire_deliver(struct wire *w, void (*on_line)(void *, const char *, size_t), void *ctx)
{
	size_t start = 0;

	for (size_t i = 0; i < w->len; i++) {
		if (w->buf[i] != '\n')
			continue;
		if (w->discarding) {
			w->discarding = 0;
		} else {
			size_t n = i - start;

			if (n > 0 && w->buf[start + n - 1] == '\r')
				n--;
			w->buf[start + n] = '\0';
			on_line(ctx, w->buf + start, n);
		}
		start = i + 1;
	}
	memmove(w->buf, w->buf + start, w->len - start);
	w->len -= start;
	if (w->len == sizeof(w->buf) - 1) {
		/* A full buffer without a newline: report once, then skip to the next newline. */
		if (!w->discarding)
			on_line(ctx, NULL, 0);
		w->discarding = 1;
		w->len = 0;
	}
}

int wire_read(struct wire *w, void (*on_line)(void *, const char *, size_t), void *ctx)
{
	ssize_t n = read(w->in_fd, w->buf + w->len, sizeof(w->buf) - 1 - w->len);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		w->eof = 1;
		return -1;
	}
	w->len += (size_t)n;
	wire_deliver(w, on_line, ctx);
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int r = poll(&pfd, 1, WIRE_WRITE_TIMEOUT_MS);

			if (r <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int wire_send(struct wire *w, struct json_object *msg)
{
	const char *s;
	size_t len;
	int rc;

	if (!msg)
		return -1;
	s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
					      &len);
	rc = s ? write_all(w->out_fd, s, len) : -1;
	if (rc == 0)
		rc = write_all(w->out_fd, "\n", 1);
	json_object_put(msg);
	return rc;
}
