/* sandbox_test.c: the two seccomp policies (mediator/process/sandbox.h), each
 * entered by a child process: the broker's refuses a socket with EPERM and
 * lets a file be created; a render worker's reads files but refuses to
 * create one or a directory, and dies on making a socket or on accepting a
 * connection (a call the broker's allows). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "process/sandbox.h"

/* What a confined child saw, each an errno (0: the call worked). */
struct seen {
	int entered, read_proc, create_file, make_dir, make_socket;
};

/* In a child: enter profile, try each call, report on fd, and end with the socket call (or accept) last: it may
 * kill. */
static void child(enum sandbox_profile profile, int use_accept, int fd, const char *file, const char *dir)
{
	struct seen s = { 0 };
	char err[256];
	int keep[1] = { fd }, f;

	if (sandbox_enter(profile, keep, 1, NULL, NULL, err, sizeof(err)) < 0) {
		s.entered = 1;
		(void)!write(fd, &s, sizeof(s));
		_exit(2);
	}
	f = open("/proc/self/status", O_RDONLY);
	s.read_proc = f < 0 ? errno : 0;
	if (f >= 0)
		close(f);
	f = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	s.create_file = f < 0 ? errno : 0;
	if (f >= 0)
		close(f);
	s.make_dir = mkdir(dir, 0700) < 0 ? errno : 0;
	(void)!write(fd, &s, sizeof(s)); /* before the call that may kill */
	f = use_accept ? accept(fd, NULL, NULL) : socket(AF_UNIX, SOCK_STREAM, 0);
	s.make_socket = f < 0 ? errno : 0;
	(void)!write(fd, &s, sizeof(s));
	_exit(0);
}

/* Run a child under profile: what it saw (the last report) and how it ended. */
static int run(enum sandbox_profile profile, int use_accept, struct seen *s, int *status)
{
	char file[64], dir[64];
	int p[2];
	pid_t pid;

	snprintf(file, sizeof(file), "/tmp/vgpu-sandbox-test-%d-f", (int)getpid());
	snprintf(dir, sizeof(dir), "/tmp/vgpu-sandbox-test-%d-d", (int)getpid());
	if (pipe(p) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		child(profile, use_accept, p[1], file, dir);
	}
	close(p[1]);
	memset(s, 0xff, sizeof(*s));
	{
		struct seen got;

		while (read(p[0], &got, sizeof(got)) == (ssize_t)sizeof(got))
			*s = got;
	}
	close(p[0]);
	waitpid(pid, status, 0);
	unlink(file);
	rmdir(dir);
	return 0;
}

int main(void)
{
	struct seen s;
	int st = 0;

	CHECK(run(SANDBOX_BROKER, 0, &s, &st) == 0 && s.entered == 0, "the broker's policy is entered");
	CHECK(s.read_proc == 0 && s.create_file == 0 && s.make_dir == 0,
	      "the broker's policy reads, creates files and directories (Mesa's shader cache): %d %d %d", s.read_proc,
	      s.create_file, s.make_dir);
	CHECK(s.make_socket == EPERM && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "and refuses a new socket with EPERM (%d), living on (status 0x%x)", s.make_socket, st);

	CHECK(run(SANDBOX_WORKER, 0, &s, &st) == 0 && s.entered == 0, "a render worker's policy is entered");
	CHECK(s.read_proc == 0, "a worker reads files (%d)", s.read_proc);
	CHECK(s.create_file == EPERM && s.make_dir == EPERM, "but creates no file (%d) and no directory (%d)",
	      s.create_file, s.make_dir);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "and dies on making a socket (status 0x%x)", st);
	CHECK(run(SANDBOX_BROKER, 1, &s, &st) == 0 && s.make_socket == ENOTSOCK && WIFEXITED(st),
	      "the broker may accept (on a pipe: ENOTSOCK, %d)", s.make_socket);
	CHECK(run(SANDBOX_WORKER, 1, &s, &st) == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	      "a worker dies on accepting (status 0x%x)", st);
	return check_done("sandbox_test");
}
