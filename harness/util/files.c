/* files.c: files and folders: made with their parents, read whole (regular files only), written whole,
 * removed with their contents; short links for unix socket paths; the folder of the running binary. */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_full.h"
#include "mono_clock.h"
#include "util.h"

int vb_mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Open path for reading, refusing by type what is not a regular file: a FIFO would block the harness forever, a
 * device such as /dev/zero never ends. O_NONBLOCK keeps the open itself from waiting for a FIFO's writer. */
static FILE *open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : VB_ENOTREG;
		return NULL;
	}
	/* A regular file reads the same with or without O_NONBLOCK; clear it all the same. */
	if (fcntl(fd, F_SETFL, 0) < 0 || !(f = fdopen(fd, "rb"))) {
		int e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	return f;
}

const char *vb_strerror(int e)
{
	return e == VB_ENOTREG ? "not a regular file (a FIFO, a device or a socket)" : strerror(e);
}

char *vb_read_file_max(const char *path, size_t max, size_t *len)
{
	FILE *f = open_regular(path);
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb = realloc(buf, ncap);

			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap = ncap;
		}
		size_t want = cap - n - 1;

		/* One byte past the cap tells a file at the cap from a larger one. */
		if (max != SIZE_MAX && want > max + 1 - n)
			want = max + 1 - n;
		size_t r = fread(buf + n, 1, want, f);

		n += r;
		if (n > max) {
			free(buf);
			fclose(f);
			errno = EFBIG;
			return NULL;
		}
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;

		free(buf);
		fclose(f);
		errno = e ? e : EIO;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *vb_read_file(const char *path, size_t *len)
{
	return vb_read_file_max(path, SIZE_MAX, len);
}

int vb_write_file(const char *path, const void *data, size_t len)
{
	char *tmp = vb_strdupf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), e;

	if (fd < 0) {
		free(tmp);
		return -1;
	}
	if (io_write_full(fd, data, len) < 0) {
		e = errno;
		goto fail;
	}
	if (fsync(fd) < 0) {
		e = errno;
		goto fail;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		e = errno;
		fd = -1;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = e;
	return -1;
}

const char *vb_exe_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0) {
		strcpy(dir, ".");
		return dir;
	}
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');

	if (slash)
		*slash = '\0';
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

int vb_rm_rf(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT ? -1 : 0;
}

int vb_short_link(const char *dir, char *out, size_t len)
{
	static unsigned seq;

	for (int tries = 0; tries < 100; tries++) {
		int n = snprintf(out, len, "/tmp/vgpubench-s-%ld-%u", (long)getpid(), seq++);

		if (n < 0 || (size_t)n >= len) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (symlink(dir, out) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int vb_short_links_recover(void)
{
	DIR *d = opendir("/tmp");
	struct dirent *e;
	int removed = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		long pid;
		unsigned k;
		char *path;
		struct stat st;

		if (sscanf(e->d_name, "vgpubench-s-%ld-%u", &pid, &k) != 2 || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* its harness still runs (or is not ours to ask) */
		path = vb_strdupf("/tmp/%s", e->d_name);
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && unlink(path) == 0)
			removed++;
		free(path);
	}
	closedir(d);
	return removed;
}
