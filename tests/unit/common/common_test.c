/* common_test.c: what every part links (common/): whole-buffer reads that
 * gather a writer's small pieces, go on after a signal interrupts them and
 * tell a closed writer (errno 0) from an error; writes and sends that finish
 * a buffer larger than the pipe holds, and say EPIPE (no SIGPIPE) when the
 * reader is gone; the monotonic clock in nanoseconds and milliseconds; a
 * keyed /proc line's first field, or -1 when there is none. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "io_full.h"
#include "mono_clock.h"
#include "proc_field.h"

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* A writer that sends 4096 bytes in 16-byte pieces, pausing between some, then closes. */
static void *piece_writer(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t piece[16];
	sigset_t alrm;

	/* the alarm is for the reader: it lands on the thread waiting in read */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	for (int i = 0; i < 256; i++) {
		for (int k = 0; k < 16; k++)
			piece[k] = (uint8_t)(i * 16 + k);
		if (write(fd, piece, sizeof(piece)) != (ssize_t)sizeof(piece))
			break;
		if (i % 64 == 0)
			usleep(20000);
	}
	close(fd);
	return NULL;
}

/* A reader that drains a pipe slowly, then closes it. */
static void *slow_reader(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t buf[8192];
	size_t total = 0;
	ssize_t n;

	usleep(50000);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	close(fd);
	return (void *)(uintptr_t)total;
}

static void reads(void)
{
	int p[2];
	pthread_t t;
	uint8_t buf[4096], extra;
	int ok = 1;

	/* an interrupted read goes on: SIGALRM without SA_RESTART lands while the reader waits */
	struct sigaction sa = { .sa_handler = on_alarm };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	CHECK(pipe(p) == 0, "pipe");
	ualarm(10000, 0);
	pthread_create(&t, NULL, piece_writer, (void *)(intptr_t)p[1]);
	CHECK(io_read_full(p[0], buf, sizeof(buf)) == 0, "4096 bytes gathered from 256 pieces, through a signal");
	for (int i = 0; i < 4096; i++)
		ok &= buf[i] == (uint8_t)i;
	CHECK(ok, "in order, every byte");
	CHECK(alarms == 1, "the signal came while the reader waited (%d)", (int)alarms);
	pthread_join(t, NULL);
	errno = EINVAL;
	CHECK(io_read_full(p[0], &extra, 1) == -1 && errno == 0, "a closed writer: -1 with errno 0 (%d)", errno);
	close(p[0]);

	/* a writer that closes part-way: -1, not a short buffer taken for whole */
	CHECK(pipe(p) == 0, "pipe");
	CHECK(write(p[1], "abc", 3) == 3, "three bytes");
	close(p[1]);
	CHECK(io_read_full(p[0], buf, 8) == -1 && errno == 0, "3 of 8 bytes then the end: -1");
	close(p[0]);
	CHECK(io_read_full(-1, buf, 1) == -1 && errno == EBADF, "a bad descriptor says so (%d)", errno);
	CHECK(io_read_full(-1, buf, 0) == 0, "nothing to read: done at once");
}

static void writes(void)
{
	int p[2], sv[2];
	pthread_t t;
	void *got;
	size_t big = 1u << 20;
	uint8_t *data = calloc(1, big);

	signal(SIGPIPE, SIG_DFL); /* a write must never raise it from io_send_full */
	CHECK(pipe(p) == 0, "pipe");
	pthread_create(&t, NULL, slow_reader, (void *)(intptr_t)p[0]);
	CHECK(io_write_full(p[1], data, big) == 0, "1 MiB through a 64 KiB pipe");
	close(p[1]);
	pthread_join(t, &got);
	CHECK((size_t)(uintptr_t)got == big, "all of it arrived (%zu)", (size_t)(uintptr_t)got);

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	close(sv[1]);
	CHECK(io_send_full(sv[0], data, 100) == -1 && errno == EPIPE, "a gone peer: EPIPE, and no SIGPIPE (%d)", errno);
	close(sv[0]);

	signal(SIGPIPE, SIG_IGN);
	CHECK(pipe(p) == 0, "pipe");
	close(p[0]);
	CHECK(io_write_full(p[1], data, 10) == -1 && errno == EPIPE, "a write to a gone reader: EPIPE (%d)", errno);
	close(p[1]);
	free(data);
}

static void clock_reads(void)
{
	uint64_t a = mono_ns();
	int64_t ma = mono_ms();
	struct timespec nap = { 0, 30 * 1000000 };

	nanosleep(&nap, NULL);
	uint64_t b = mono_ns();
	int64_t mb = mono_ms();

	CHECK(b > a && b - a >= 30000000u && b - a < 2000000000u, "30 ms later in ns (%llu)",
	      (unsigned long long)(b - a));
	CHECK(mb - ma >= 29 && mb - ma < 2000, "and in ms (%lld)", (long long)(mb - ma));
	CHECK(mb >= (int64_t)(a / 1000000u) && (uint64_t)mb <= b / 1000000u + 1, "the same clock in both units");
}

static void proc_fields(void)
{
	char v[32], tiny[3];
	struct rlimit l;
	char lim[32];

	CHECK(proc_field(0, "status", "VmData:", v, sizeof(v)) == 0 && atoll(v) > 0, "this process's VmData: %s", v);
	CHECK(proc_field(getpid(), "status", "Pid:", v, sizeof(v)) == 0 && atoll(v) == getpid(),
	      "its Pid line by its pid: %s", v);
	getrlimit(RLIMIT_NOFILE, &l);
	snprintf(lim, sizeof(lim), "%llu", (unsigned long long)l.rlim_cur);
	CHECK(proc_field(0, "limits", "Max open files", v, sizeof(v)) == 0 && !strcmp(v, lim),
	      "a key of several words, its first field (the soft limit %s): %s", lim, v);
	CHECK(proc_field(0, "status", "NoSuchKey:", v, sizeof(v)) == -1 && v[0] == 0, "no such line: -1, nothing");
	CHECK(proc_field(0, "no-such-file", "x", v, sizeof(v)) == -1 && v[0] == 0, "no such file: -1");
	CHECK(proc_field(-1, "status", "Pid:", v, sizeof(v)) == -1, "no process -1");
	CHECK(proc_field(0, "status", "VmData:", tiny, sizeof(tiny)) == 0 && strlen(tiny) == 2, "cut to fit: %s", tiny);
}

int main(void)
{
	reads();
	writes();
	clock_reads();
	proc_fields();
	return check_done("common");
}
