/* qmp.c: QMP commands to a guest's QEMU (see the header). */
#define _GNU_SOURCE
#include "vm/qmp.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define QMP_LINE_MAX 65536

struct qmp_conn {
	int fd;
	char buf[QMP_LINE_MAX];
	size_t len;
};

/* The next line QEMU sends, as JSON (caller puts it), or NULL on timeout, close or garbage. */
static json_object *next_line(struct qmp_conn *c, double deadline)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);

		if (nl) {
			json_object *o;

			*nl = 0;
			o = json_tokener_parse(c->buf);
			c->len -= (size_t)(nl + 1 - c->buf);
			memmove(c->buf, nl + 1, c->len);
			return o;
		}
		double left = deadline - vb_now();
		struct pollfd p = { c->fd, POLLIN, 0 };
		ssize_t n;

		if (left <= 0 || c->len >= sizeof(c->buf) - 1 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			return NULL;
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
		if (n <= 0)
			return NULL;
		c->len += (size_t)n;
	}
}

/* Send one command and wait for its answer, skipping events. 0 returned, -1 (err says why). */
static int command(struct qmp_conn *c, const char *line, const char *what, double timeout_s, char *err, size_t errlen)
{
	double deadline = vb_now() + timeout_s;
	json_object *o, *e, *f;

	if (send(c->fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
		snprintf(err, errlen, "%s: cannot send: %s", what, strerror(errno));
		return -1;
	}
	while ((o = next_line(c, deadline))) {
		if (json_object_object_get_ex(o, "return", NULL)) {
			json_object_put(o);
			return 0;
		}
		if (json_object_object_get_ex(o, "error", &e)) {
			snprintf(err, errlen, "%s: QEMU says %s: %s", what,
				 json_object_object_get_ex(e, "class", &f) ? json_object_get_string(f) : "?",
				 json_object_object_get_ex(e, "desc", &f) ? json_object_get_string(f) : "?");
			json_object_put(o);
			return -1;
		}
		json_object_put(o); /* an event */
	}
	snprintf(err, errlen, "%s: no answer from QEMU within %.0f s", what, timeout_s);
	return -1;
}

int qmp_execute(const char *path, const char *cmd, const char *arguments, double timeout_s, char *err, size_t errlen)
{
	struct qmp_conn c = { .fd = vb_unix_connect(path, vb_now() + timeout_s, 0) };
	json_object *greeting;
	char *line;
	int rc;

	if (c.fd < 0) {
		snprintf(err, errlen, "%s: cannot connect to QMP at %s", cmd, path);
		return -1;
	}
	greeting = next_line(&c, vb_now() + timeout_s);
	if (!greeting || !json_object_object_get_ex(greeting, "QMP", NULL)) {
		snprintf(err, errlen, "%s: no QMP greeting on %s", cmd, path);
		json_object_put(greeting);
		close(c.fd);
		return -1;
	}
	json_object_put(greeting);
	rc = command(&c, "{\"execute\":\"qmp_capabilities\"}\n", "qmp_capabilities", timeout_s, err, errlen);
	if (rc == 0) {
		line = arguments ? vb_strdupf("{\"execute\":\"%s\",\"arguments\":%s}\n", cmd, arguments)
				 : vb_strdupf("{\"execute\":\"%s\"}\n", cmd);
		rc = command(&c, line, cmd, timeout_s, err, errlen);
		free(line);
	}
	close(c.fd);
	return rc;
}
