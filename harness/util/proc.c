/* proc.c: child processes tied to the harness's lifetime: started, run to an end with a timeout, reaped,
 * their output captured. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

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

/* Has process pid exited? A child of ours that exited is a zombie until reaped: look without reaping it. */
int vb_exited(pid_t pid)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0)
		return info.si_pid == pid;
	return kill(pid, 0) < 0; /* not our child */
}
