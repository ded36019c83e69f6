/* unix_sock.c: unix socket clients: connect with a deadline (giving up if a watched process dies), ask a
 * line and read the answer. */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

int vb_unix_connect(const char *path, double deadline, pid_t watch)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);

	if (len >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, len + 1);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (vb_stop_requested || vb_now() > deadline || (watch > 0 && vb_exited(watch)))
			return -1;
		usleep(50000);
	}
}

char *vb_unix_ask(const char *path, const char *line, double deadline, pid_t watch, size_t max)
{
	struct timeval tv = { 2, 0 };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, ok = 0;

	if ((fd = vb_unix_connect(path, deadline, watch)) < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line) || shutdown(fd, SHUT_WR) < 0) {
		close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (len + 4096 + 1 > cap) {
			char *nb = cap >= max ? NULL : realloc(buf, cap = cap ? cap * 2 : 16384);

			if (!nb)
				break;
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r <= 0) {
			ok = r == 0;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	if (!ok) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}
