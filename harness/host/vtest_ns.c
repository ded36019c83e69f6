/* vtest_ns.c: a private /tmp whose .virgl_test is the mediator's vtest socket (see vtest_ns.h). */
#define _GNU_SOURCE
#include "host/vtest_ns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

/* Bind source (a path the caller resolved before /tmp was covered) onto a fresh entry `name` of the new /tmp,
 * made a directory or an empty file to match. */
static int bind_entry(const char *source, const char *name, int is_dir, char *err, size_t errlen)
{
	char target[300];
	int fd;

	snprintf(target, sizeof(target), "/tmp/%s", name);
	if (is_dir) {
		if (mkdir(target, 0700) < 0)
			return fail(err, errlen, "mkdir", target);
	} else {
		if ((fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
			return fail(err, errlen, "create", target);
		close(fd);
	}
	if (mount(source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail(err, errlen, "bind onto", target);
	return 0;
}

int vtest_ns_enter(const char *socket, char *err, size_t errlen)
{
	struct stat st;
	int tmp = -1, sock = -1, rc = -1;
	char src[64];
	DIR *d = NULL;
	struct dirent *e;

	errno = 0;
	if (stat(socket, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s is no socket (%s)", socket, errno ? strerror(errno) : "another kind of file");
		return -1;
	}
	if (unshare(CLONE_NEWNS) < 0) {
		fail(err, errlen, "a private mount namespace (needs root) for", socket);
		goto out;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fail(err, errlen, "make private", "/");
		goto out;
	}
	/* Both are reached through these descriptors once the new /tmp covers the host's: opened in the new
	 * namespace, as a bind mount's source must be one of its own mounts. */
	if ((tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (sock = open(socket, O_PATH | O_CLOEXEC)) < 0) {
		fail(err, errlen, "open", tmp < 0 ? "/tmp" : socket);
		goto out;
	}
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0) {
		fail(err, errlen, "mount a tmpfs on", "/tmp");
		goto out;
	}
	if (!(d = fdopendir(tmp))) {
		fail(err, errlen, "read", "/tmp");
		goto out;
	}
	tmp = -1; /* the directory stream owns it now */
	while ((e = readdir(d))) {
		char path[300];
		struct stat es;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".virgl_test"))
			continue;
		if (fstatat(dirfd(d), e->d_name, &es, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd(d), e->d_name);
		if (S_ISLNK(es.st_mode)) {
			char to[300];
			ssize_t n = readlinkat(dirfd(d), e->d_name, to, sizeof(to) - 1);

			if (n < 0)
				continue;
			to[n] = 0;
			snprintf(path, sizeof(path), "/tmp/%s", e->d_name);
			if (symlink(to, path) < 0) {
				fail(err, errlen, "symlink", path);
				goto out;
			}
		} else if (bind_entry(path, e->d_name, S_ISDIR(es.st_mode), err, errlen) < 0) {
			goto out;
		}
	}
	snprintf(src, sizeof(src), "/proc/self/fd/%d", sock);
	if (bind_entry(src, ".virgl_test", 0, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	if (d)
		closedir(d);
	if (tmp >= 0)
		close(tmp);
	if (sock >= 0)
		close(sock);
	return rc;
}

pid_t vtest_ns_spawn(const char *socket, char *const argv[], const char *display, const char *log_path)
{
	pid_t pid = fork();

	if (pid == 0) {
		char err[400];
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		vb_child_signals();
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if (vtest_ns_enter(socket, err, sizeof(err)) < 0) {
			printf("vtest_ns_enter: %s\n", err);
			_exit(126);
		}
		setenv("GALLIUM_DRIVER", "virpipe", 1);
		if (display)
			setenv("DISPLAY", display, 1);
		execvp(argv[0], argv);
		printf("%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}
