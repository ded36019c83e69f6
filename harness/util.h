/* util.h: small helpers shared by the harness: messages, time, files,
 * child processes tied to the harness's lifetime, and the stop flag. */
#ifndef VGPUBENCH_UTIL_H
#define VGPUBENCH_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Set by a stop signal (see vb_catch_stop_signals): every wait loop checks it and unwinds. */
extern volatile int vb_stop_requested;

/* The one place that turns signals into a stop: every signal whose default action would end the process and that
 * comes from outside (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2, SIGALRM...) calls handler, so a run unwinds and
 * is marked interrupted; SIGPIPE and SIGXFSZ are ignored, so a closed pipe or a file-size limit is an error of the
 * write that met it. */
void vb_catch_stop_signals(void (*handler)(int));
/* In a forked child before exec: default dispositions and no mask, as a process started from a shell has. */
void vb_child_signals(void);

void vb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One status line under the messages, when standard error is a terminal (nothing otherwise): each message goes
 * above it, and it is drawn again below. NULL or "" takes it away. */
void vb_status(const char *text);

/*
 * Text made safe for a terminal: control characters (ESC as \e, others as \xNN; newline and tab stay), C1 controls
 * (\u0080-\u009f) and bytes that are not UTF-8 are shown escaped, so a plan, a guest or a workload cannot move the
 * cursor, retitle the window or recolour the user's terminal. in holds n bytes; out (outlen >= 16) gets what fits,
 * NUL-terminated. Returns how many bytes of in were taken: fewer than n when out is full or, unless final, when in
 * ends inside a UTF-8 sequence. Every message (vb_log, vb_err, vb_warn) and standard output after vb_stdout_track
 * go through it.
 */
size_t vb_term_safe(const char *in, size_t n, int final, char *out, size_t outlen);
/* The same for a whole string, into a fresh string. */
char *vb_term_safe_dup(const char *s);

/* Monotonic seconds. */
double vb_now(void);

/* The environment variable that scales the harness's own fixed time limits (Xvfb's start, an agent's hello, the
 * mediator's socket, a guest's power-off): a number from 1 to 100, for a host that is itself slow (the nested
 * lab's host runs under TCG in TCG). A guest's boot and job limits are the plan's and are not scaled. */
#define VB_TIME_SCALE_ENV "VGPUBENCH_TIME_SCALE"
/* That scale (1 when unset; a value that is not a number from 1 to 100 is said once and taken as 1). */
double vb_time_scale(void);
/* s seconds times the scale. */
double vb_scaled(double s);

/*
 * Connect to the unix socket at path, trying again every 50 ms until the
 * deadline (vb_now() time; one attempt if it has passed), until a stop is
 * requested, or until process `watch` (when > 0) is gone. The connected fd,
 * or -1 (errno ENAMETOOLONG when the path does not fit a socket address).
 */
int vb_unix_connect(const char *path, double deadline, pid_t watch);
/*
 * One request line to the unix socket at path (connected as vb_unix_connect
 * does), our side then shut, and the answer read to EOF: each read waits at
 * most 2 s, and an answer of max bytes or more is refused. The answer
 * (malloc'd, NUL-terminated), or NULL.
 */
char *vb_unix_ask(const char *path, const char *line, double deadline, pid_t watch, size_t max);
/* Wall-clock time as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void vb_utc_iso(char *buf, size_t len);
/* That time (2026-12-07T08:00:00Z, UTC; what follows the seconds is not read) as seconds since the epoch into
 * *out. 0, or -1 when iso does not start with one. */
int vb_utc_parse(const char *iso, time_t *out);

/* mkdir -p. 0 or -1 (errno set). */
int vb_mkdirs(const char *path, mode_t mode);
/* errno of the readers below for a path that is no regular file: a FIFO, a device, a socket (EISDIR for a folder).
 * They refuse such files by type, at once: a FIFO would block, /dev/zero would never end. */
#define VB_ENOTREG EBADFD
/* strerror, but VB_ENOTREG says what it means. */
const char *vb_strerror(int e);
/* Read a whole regular file (NUL-terminated); *len gets its size. NULL on error (errno set). */
char *vb_read_file(const char *path, size_t *len);
/* The same, refusing (errno EFBIG) a file of more than max bytes before reading it all. */
char *vb_read_file_max(const char *path, size_t max, size_t *len);
/* Write a whole file atomically (tmp in the same folder, fsync, rename). 0 or -1 (errno set). */
int vb_write_file(const char *path, const void *data, size_t len);

/*
 * An output file written whole or not at all: a temporary file next to the
 * target, fsync'd and renamed over it by vb_out_commit. A target that exists
 * and is not a regular file (a device, a pipe) is written directly; NULL or
 * "-" is standard output. Every write error, fflush's and fclose's included,
 * fails the commit, and then a regular target is left as it was.
 */
struct vb_out {
	FILE *f; /* write here */
	char *path;
	char *tmp; /* NULL when written directly */
	int direct;
};
int vb_out_open(struct vb_out *o, const char *path); /* 0, or -1 with a message printed */
int vb_out_commit(struct vb_out *o);		     /* 0, or -1 with a message printed */
void vb_out_abort(struct vb_out *o);		     /* drop what was written */

/* Standard output, line-buffered and terminal-safe (vb_term_safe), remembering the first error a write to it met
 * (ENOSPC, EPIPE) for the check. */
void vb_stdout_track(void);
/* The standard output stream as it was, bytes unchanged: for data (an export to "-"). Flushes stdout first. */
FILE *vb_raw_stdout(void);
/* Flush standard output; -1 with a message (the first error's reason) when anything written to it was lost. */
int vb_stdout_check(void);

/* Is s a run id or name: 1-127 of [A-Za-z0-9._-], starting with a letter or digit, no ".."? */
int vb_is_identifier(const char *s);

/* NULL when s is valid UTF-8; else a malloc'ed copy with U+FFFD for every invalid byte. */
char *vb_utf8_fix(const char *s);

/* A new zeroed element at the end of *v (*n used of *cap, elem bytes each), the array doubling as it fills; aborts
 * on out-of-memory (arrays.c). */
void *vb_push(void **v, size_t *n, size_t *cap, size_t elem);

/* printf into a fresh string; aborts on out-of-memory. */
char *vb_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Unix socket paths hold 107 bytes: a folder too deep for them gets a short name, a symbolic link
 * /tmp/vgpubench-s-PID-N to it, which the caller unlinks when done. 0 with the link in out, or -1 (errno). */
int vb_short_link(const char *dir, char *out, size_t len);
/* Remove the short links of harnesses that no longer run (killed before they could). The number removed. */
int vb_short_links_recover(void);
/* strdup that aborts on out-of-memory. */
char *vb_strdup(const char *s);

/*
 * Start argv[0] with the given extra environment ("K=V" list, may be NULL),
 * stdout/stderr to log_path (appended; NULL keeps ours), stdin from /dev/null.
 * The child dies with the harness (PR_SET_PDEATHSIG) and leads its own
 * process group. Returns the pid or -1.
 */
pid_t vb_spawn(char *const argv[], char *const env[], const char *log_path);

/*
 * Run argv to completion in folder dir (the command sees only paths relative
 * to it), stdin from /dev/null, stdout and stderr into log_path (a path
 * relative to dir, truncated), killed after timeout_s. The wait status or -1.
 */
int vb_run_in(const char *dir, char *const argv[], const char *log_path, double timeout_s);

/* Has process pid exited? Our exited child is seen without being reaped (its status stays for vb_reap). */
int vb_exited(pid_t pid);

/* Wait for pid up to timeout_s; then SIGTERM, then SIGKILL. Returns the wait status or -1. */
int vb_reap(pid_t pid, double timeout_s);

/* Run a command to completion and capture its stdout (NUL-terminated, max 1 MiB).
 * Returns the captured text or NULL; *status gets the wait status. */
char *vb_capture(char *const argv[], int *status);

/* Remove path and everything below it (links are removed, not followed). 0, or -1 when something stayed. */
int vb_rm_rf(const char *path);

/* Write s escaped for XML/HTML text and attributes (control characters XML 1.0 forbids become spaces). */
void vb_xml_escape(FILE *f, const char *s);

/* Path of the directory holding the running executable. */
const char *vb_exe_dir(void);

#endif
