/* out.c: what the harness writes out: a file written whole or not at all (vb_out), or standard output, made
 * terminal-safe on its way and checked at the end. */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_full.h"
#include "util.h"

/* Standard output as it was before vb_stdout_track (NULL until then). */
static FILE *raw_stdout;

static int is_stdout(const FILE *f)
{
	return f == stdout || (raw_stdout && f == raw_stdout);
}

/* Remove the temporary files of path (path.tmp.PID.XXXXXX) that writers which are gone left behind (a report
 * killed while it wrote): a writer still running keeps its own. */
static void remove_stale_tmps(const char *path)
{
	char *copy = vb_strdup(path), *slash = strrchr(copy, '/');
	const char *dir = slash ? (slash == copy ? "/" : copy) : ".", *base = slash ? slash + 1 : copy;
	size_t blen;
	DIR *d;
	struct dirent *e;

	if (slash)
		*slash = '\0';
	blen = strlen(base);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		char *end;
		long pid;

		if (strncmp(e->d_name, base, blen) != 0 || strncmp(e->d_name + blen, ".tmp.", 5) != 0)
			continue;
		pid = strtol(e->d_name + blen + 5, &end, 10);
		if (end == e->d_name + blen + 5 || *end != '.' || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *stale = vb_strdupf("%s/%s", dir, e->d_name);

		if (unlink(stale) == 0)
			vb_log("removed %s, left by a writer that is gone (PID %ld)", stale, pid);
		free(stale);
	}
	if (d)
		closedir(d);
	free(copy);
}

int vb_out_open(struct vb_out *o, const char *path)
{
	struct stat st;

	memset(o, 0, sizeof(*o));
	if (!path || strcmp(path, "-") == 0) {
		o->f = vb_raw_stdout(); /* data: its bytes as they are */
		o->direct = 1;
		o->path = vb_strdup("standard output");
		return 0;
	}
	o->path = vb_strdup(path);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A device, a pipe, /dev/stdout: no rename possible, write it directly. */
		o->direct = 1;
		o->f = fopen(path, "w");
	} else {
		remove_stale_tmps(path);
		o->tmp = vb_strdupf("%s.tmp.%ld.XXXXXX", path, (long)getpid());
		int fd = mkstemp(o->tmp);

		if (fd >= 0 && fchmod(fd, 0644) == 0)
			o->f = fdopen(fd, "w");
		else if (fd >= 0)
			close(fd);
		if (!o->f && fd >= 0)
			unlink(o->tmp);
	}
	if (!o->f) {
		vb_err("cannot write %s: %s", path, strerror(errno));
		free(o->path);
		free(o->tmp);
		memset(o, 0, sizeof(*o));
		return -1;
	}
	return 0;
}

int vb_out_commit(struct vb_out *o)
{
	int bad = fflush(o->f) != 0 || ferror(o->f);
	int e = errno;

	if (!bad && o->tmp && fsync(fileno(o->f)) < 0) {
		bad = 1;
		e = errno;
	}
	if (!is_stdout(o->f) && fclose(o->f) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	o->f = NULL;
	if (!bad && o->tmp && rename(o->tmp, o->path) < 0) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		vb_err("cannot write %s: %s%s", o->path, strerror(e ? e : EIO),
		       o->tmp ? " (the file there, if any, is unchanged)" : "");
		if (o->tmp)
			unlink(o->tmp);
	}
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return bad ? -1 : 0;
}

void vb_out_abort(struct vb_out *o)
{
	if (o->f && !is_stdout(o->f))
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
}

/* The first error a write to standard output met: by the time it is checked, errno says something else. */
static int stdout_errno;

static int write_all(int fd, const char *buf, size_t len)
{
	if (io_write_full(fd, buf, len) < 0) {
		if (!stdout_errno)
			stdout_errno = errno;
		return -1;
	}
	return 0;
}

/* Standard output for people (tables, show, list): text from guests, workloads and plans is made terminal-safe on
 * its way out. A UTF-8 sequence cut by the buffer's end waits for the next call. */
static ssize_t stdout_write(void *cookie, const char *buf, size_t len)
{
	static char held[4];
	static size_t nheld;
	char in[4096 + 4], out[4 * sizeof(in) + 16];
	size_t done = 0;

	(void)cookie;
	while (done < len) {
		size_t take = len - done < 4096 ? len - done : 4096, n, used;

		memcpy(in, held, nheld);
		memcpy(in + nheld, buf + done, take);
		n = nheld + take;
		used = vb_term_safe(in, n, 0, out, sizeof(out));
		if (write_all(STDOUT_FILENO, out, strlen(out)) < 0)
			return -1;
		nheld = n - used; /* at most 3 bytes: an unfinished sequence */
		memcpy(held, in + used, nheld);
		done += take;
	}
	return (ssize_t)done;
}

FILE *vb_raw_stdout(void)
{
	if (raw_stdout && stdout != raw_stdout)
		fflush(stdout);
	return raw_stdout ? raw_stdout : stdout;
}

void vb_stdout_track(void)
{
	cookie_io_functions_t io = { .write = stdout_write };
	FILE *f = fopencookie(NULL, "w", io);

	if (!f)
		return; /* stdout stays as it was; its errors are still caught, with a vaguer reason */
	setvbuf(f, NULL, _IOLBF, 0);
	fflush(stdout);
	raw_stdout = stdout;
	stdout = f;
}

int vb_stdout_check(void)
{
	int e = errno;

	if (fflush(stdout) != 0 || ferror(stdout)) {
		vb_err("cannot write to standard output: %s", strerror(stdout_errno ? stdout_errno : e ? e : EIO));
		return -1;
	}
	return 0;
}
