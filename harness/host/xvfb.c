/* xvfb.c: the private X server (xvfb.h). */
#define _GNU_SOURCE
#include "host/xvfb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

/* Does anything accept connections on the unix socket at path? */
static int socket_served(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ok;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	/* Refused or absent: nothing serves it; anything else (EACCES...) counts as served, to be safe. */
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || (errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return ok;
}

/* The PID in an X lock file, or -1 when it cannot be read. */
static long lock_pid(const char *path)
{
	char *s = vb_read_file_max(path, 64, NULL);
	char *end;
	long pid;

	if (!s)
		return -1;
	pid = strtol(s, &end, 10);
	free(s);
	return end == s || pid <= 0 ? -1 : pid;
}

int xvfb_reclaim_stale(const char *x_dir)
{
	char *sockdir = vb_strdupf("%s/.X11-unix", x_dir);
	DIR *d = opendir(x_dir);
	struct dirent *de;
	int removed = 0;

	while (d && (de = readdir(d))) {
		unsigned n;
		char tail[8];

		if (sscanf(de->d_name, ".X%u-loc%7s", &n, tail) != 2 || strcmp(tail, "k") != 0)
			continue;
		char *lock = vb_strdupf("%s/%s", x_dir, de->d_name), *sock = vb_strdupf("%s/X%u", sockdir, n);
		long pid = lock_pid(lock);

		if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH && !socket_served(sock)) {
			vb_log("removing the stale X lock %s (process %ld is gone)", lock, pid);
			removed += unlink(lock) == 0;
			removed += unlink(sock) == 0;
		}
		free(lock);
		free(sock);
	}
	if (d)
		closedir(d);
	/* Sockets of servers killed without a lock (-displayfd servers take none). */
	d = opendir(sockdir);
	while (d && (de = readdir(d))) {
		unsigned n;
		char extra;

		if (sscanf(de->d_name, "X%u%c", &n, &extra) != 1)
			continue;
		char *lock = vb_strdupf("%s/.X%u-lock", x_dir, n), *sock = vb_strdupf("%s/%s", sockdir, de->d_name);

		if (access(lock, F_OK) < 0 && !socket_served(sock)) {
			vb_log("removing the stale X socket %s (nothing serves it)", sock);
			removed += unlink(sock) == 0;
		}
		free(lock);
		free(sock);
	}
	if (d)
		closedir(d);
	free(sockdir);
	return removed;
}

int xvfb_start(struct xvfb *x, const char *log_path, double timeout_s)
{
	int p[2];
	char fdarg[16], buf[32];
	size_t got = 0;
	double deadline = vb_now() + timeout_s;

	memset(x, 0, sizeof(*x));
	xvfb_reclaim_stale("/tmp");
	if (pipe2(p, O_CLOEXEC) < 0) {
		vb_err("cannot start Xvfb: pipe: %s", strerror(errno));
		return -1;
	}
	/* Xvfb writes its display number on this fd once it accepts clients: it must survive exec. */
	if (fcntl(p[1], F_SETFD, 0) < 0) {
		vb_err("cannot start Xvfb: fcntl: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
	char *argv[] = { "Xvfb", "-displayfd", fdarg, "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset",
			 NULL };

	x->pid = vb_spawn(argv, NULL, log_path);
	close(p[1]);
	if (x->pid < 0) {
		vb_err("cannot start Xvfb: %s", strerror(errno));
		close(p[0]);
		x->pid = 0;
		return -1;
	}
	while (!vb_stop_requested && vb_now() < deadline && got < sizeof(buf) - 1) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int r = poll(&pf, 1, 200);

		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		ssize_t n = read(p[0], buf + got, sizeof(buf) - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* Xvfb exited before saying its display */
		got += (size_t)n;
		buf[got] = '\0';
		if (strchr(buf, '\n'))
			break;
	}
	close(p[0]);
	buf[got] = '\0';
	unsigned n;

	if (got && strchr(buf, '\n') && sscanf(buf, "%u", &n) == 1) {
		snprintf(x->display, sizeof(x->display), ":%u", n);
		/* How long it took, for choosing the limit on a slow host (the nested lab's). */
		vb_log("Xvfb %s ready in %.2f s (limit %.0f s)", x->display, vb_now() - (deadline - timeout_s),
		       timeout_s);
		return 0;
	}
	if (vb_stop_requested)
		vb_err("Xvfb start-up interrupted");
	else
		vb_err("Xvfb did not say its display within %.0f s%s (see %s)", timeout_s,
		       vb_now() < deadline ? ": it exited" : "", log_path);
	xvfb_stop(x);
	return -1;
}

void xvfb_stop(struct xvfb *x)
{
	if (x->pid > 0) {
		kill(x->pid, SIGTERM);
		vb_reap(x->pid, 5.0);
	}
	x->pid = 0;
	x->display[0] = '\0';
}
