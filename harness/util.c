/* util.c: helpers shared by the harness (messages, time, files, children). */
#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io_full.h"
#include "mono_clock.h"

volatile int vb_stop_requested;

/* Every message goes through vb_term_safe: it may quote a plan, a guest's output or a workload's reason. */
static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char *msg = NULL, *safe;

	if (vasprintf(&msg, fmt, ap) < 0) {
		fputs(prefix, stderr);
		fputs("(a message that could not be formatted)\n", stderr);
		return;
	}
	safe = vb_term_safe_dup(msg);
	fprintf(stderr, "%s%s\n", prefix, safe);
	free(safe);
	free(msg);
}

void vb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("vgpubench: warning: ", fmt, ap);
	va_end(ap);
}

void vb_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("vgpubench: ", fmt, ap);
	va_end(ap);
}

void vb_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("vgpubench: error: ", fmt, ap);
	va_end(ap);
}

double vb_now(void)
{
	return (double)mono_ns() / 1e9;
}

double vb_time_scale(void)
{
	static double scale;
	const char *v;
	char *end;

	if (scale > 0)
		return scale;
	scale = 1;
	if ((v = getenv(VB_TIME_SCALE_ENV)) && *v) {
		double x = strtod(v, &end);

		if (end != v && !*end && x >= 1 && x <= 100)
			scale = x;
		else
			vb_warn("%s='%s' is not a number from 1 to 100: the harness's time limits stay as they are",
				VB_TIME_SCALE_ENV, v);
	}
	return scale;
}

double vb_scaled(double s)
{
	return s * vb_time_scale();
}

void vb_utc_iso(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

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

int vb_is_identifier(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 127 || !isalnum((unsigned char)s[0]) || strstr(s, ".."))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The length of a UTF-8 sequence at s that may run past the avail bytes there: its length, 0 when it is not one,
 * or SIZE_MAX when the bytes there are the start of one that continues past avail. */
static size_t utf8_seq_in(const unsigned char *s, size_t avail)
{
	unsigned char tmp[4] = { 0 };
	size_t need = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;

	if (avail >= need || s[0] < 0xc2 || s[0] > 0xf4) {
		memcpy(tmp, s, avail < 4 ? avail : 4);
		return utf8_seq(tmp);
	}
	for (size_t i = 1; i < avail; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return SIZE_MAX;
}

size_t vb_term_safe(const char *in, size_t n, int final, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, k = 0;

	while (i < n && k + 8 < outlen) {
		size_t m = utf8_seq_in(p + i, n - i);
		unsigned cp = m == 2 ? (unsigned)(p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f) : 0;

		if (m == SIZE_MAX && !final)
			break; /* the rest of the sequence comes with the next call */
		if (m == 1 && (p[i] >= 0x20 || p[i] == '\n' || p[i] == '\t') && p[i] != 0x7f) {
			out[k++] = (char)p[i++];
		} else if (m == 1 && p[i] == 0x1b) {
			k += (size_t)snprintf(out + k, outlen - k, "\\e");
			i++;
		} else if (m == 1 || m == 0 || m == SIZE_MAX) {
			/* A control character, or a byte that is not UTF-8 (0x9b alone is CSI to an 8-bit terminal) */
			k += (size_t)snprintf(out + k, outlen - k, "\\x%02x", p[i++]);
		} else if (m == 2 && cp >= 0x80 && cp <= 0x9f) {
			k += (size_t)snprintf(out + k, outlen - k, "\\u%04x", cp); /* C1 controls, CSI among them */
			i += 2;
		} else {
			memcpy(out + k, p + i, m);
			k += m;
			i += m;
		}
	}
	out[k] = '\0';
	return i;
}

char *vb_term_safe_dup(const char *s)
{
	size_t n = strlen(s), cap = 4 * n + 16;
	char *out = malloc(cap);

	if (!out)
		abort();
	vb_term_safe(s, n, 1, out, cap);
	return out;
}

char *vb_utf8_fix(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t bad = 0, len = 0;

	if (!s)
		return NULL;
	for (size_t i = 0; p[i];) {
		size_t n = utf8_seq(p + i);

		bad += n == 0;
		i += n ? n : 1;
		len = i;
	}
	if (!bad)
		return NULL;
	char *out = malloc(len + 2 * bad + 1), *o = out;

	if (!out)
		abort();
	for (size_t i = 0; p[i];) {
		size_t n = utf8_seq(p + i);

		if (n) {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return out;
}

char *vb_strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

char *vb_strdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

/* The signals whose default action ends the process and that another process sends to end it (not a fault of our
 * own, such as SIGSEGV, and not SIGKILL or SIGSTOP, which nothing can catch). */
static const int stop_signals[] = { SIGINT,  SIGTERM,   SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2,
				    SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGIO,   SIGPWR };
/* Signals the harness ignores, so that what they report comes back as an error of the call that caused it: a closed
 * pipe (EPIPE from write) and a file-size limit (EFBIG). */
static const int ignored_signals[] = { SIGPIPE, SIGXFSZ };

void vb_catch_stop_signals(void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler }, ign = { .sa_handler = SIG_IGN };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaction(stop_signals[i], &sa, NULL);
	for (size_t i = 0; i < sizeof(ignored_signals) / sizeof(ignored_signals[0]); i++)
		sigaction(ignored_signals[i], &ign, NULL);
}

void vb_child_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Handlers are reset by exec, ignored signals are not: give a child what it would have had. */
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		signal(stop_signals[i], SIG_DFL);
	for (size_t i = 0; i < sizeof(ignored_signals) / sizeof(ignored_signals[0]); i++)
		signal(ignored_signals[i], SIG_DFL);
}

pid_t vb_spawn(char *const argv[], char *const env[], const char *log_path)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* child */
	vb_child_signals();
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	int in = open("/dev/null", O_RDONLY);

	if (in >= 0) {
		dup2(in, STDIN_FILENO);
		close(in);
	}
	if (log_path) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
	for (char *const *e = env; e && *e; e++)
		putenv(*e);
	execvp(argv[0], argv);
	fprintf(stderr, "vgpubench: cannot start %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int vb_run_in(const char *dir, char *const argv[], const char *log_path, double timeout_s)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY), fd;

		vb_child_signals();
		if (chdir(dir) < 0)
			_exit(126);
		fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (in >= 0)
			dup2(in, STDIN_FILENO);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp(argv[0], argv);
		fprintf(stderr, "vgpubench: cannot start %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return vb_reap(pid, timeout_s);
}

int vb_reap(pid_t pid, double timeout_s)
{
	int status;
	double deadline = vb_now() + timeout_s;
	int sig = 0;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (vb_now() >= deadline) {
			if (sig == SIGKILL)
				return -1;
			sig = sig ? SIGKILL : SIGTERM;
			kill(pid, sig);
			deadline = vb_now() + 5.0;
		}
		usleep(20000);
	}
}

char *vb_capture(char *const argv[], int *status)
{
	int p[2];
	pid_t pid;
	char *buf;
	size_t n = 0, cap = 1 << 20;

	*status = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		vb_child_signals();
		dup2(p[1], STDOUT_FILENO);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	buf = malloc(cap);
	if (!buf)
		abort();
	for (;;) {
		ssize_t r = read(p[0], buf + n, cap - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap - 1)
			break;
	}
	buf[n] = '\0';
	close(p[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return buf;
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

void vb_xml_escape(FILE *f, const char *text)
{
	char *fixed = vb_utf8_fix(text);
	const char *s = fixed ? fixed : text;

	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '<')
			fputs("&lt;", f);
		else if (ch == '>')
			fputs("&gt;", f);
		else if (ch == '&')
			fputs("&amp;", f);
		else if (ch == '"')
			fputs("&quot;", f);
		else if (ch < 0x20 && ch != '\n' && ch != '\t')
			fputc(' ', f);
		else
			fputc(ch, f);
	}
	free(fixed);
}

/* Has process pid exited? A child of ours that exited is a zombie until reaped: look without reaping it. */
int vb_exited(pid_t pid)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0)
		return info.si_pid == pid;
	return kill(pid, 0) < 0; /* not our child */
}

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
