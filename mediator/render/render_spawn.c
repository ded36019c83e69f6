/* render_spawn.c: the spawner of render workers (render_worker.h): a small process forked before the broker
 * starts threads or confines itself, which forks a worker on request (a new SOCK_SEQPACKET pair: one end stays
 * with the worker, the other goes to the broker), kills one on request, and reports each one's end. It dies with
 * the broker, and its workers with it. */
#define _GNU_SOURCE
#include "render/render_worker.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mono_clock.h"
#include "process/proc_mem.h"
#include "render/render_proto.h"

#define SPAWN_WAIT_MS 2000
#define MAX_WORKERS 256

/* ---- the spawner process ---- */

/* Its workers: they die with it (PR_SET_PDEATHSIG), and when the broker goes it kills them and waits for each, so
 * that once the broker has waited for the spawner (render_spawner_stop) no worker is left, not even a zombie. */

static int children[MAX_WORKERS];
static unsigned nchildren;

static int is_child(int pid)
{
	for (unsigned i = 0; i < nchildren; i++)
		if (children[i] == pid)
			return 1;
	return 0;
}

static void forget_child(int pid)
{
	for (unsigned i = 0; i < nchildren; i++)
		if (children[i] == pid) {
			children[i] = children[--nchildren];
			return;
		}
}

/* Close every descriptor but keep and the standard ones. */
static void close_others(int keep)
{
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range((unsigned)keep + 1, ~0u, 0);
}

/* Lower both the soft and the hard limit of res to at most v (a worker cannot raise it back). 0, or -1. */
static int bound(int res, rlim_t v)
{
	struct rlimit l;

	if (getrlimit(res, &l) < 0)
		return -1;
	if (l.rlim_max != RLIM_INFINITY && l.rlim_max < v)
		v = l.rlim_max;
	l.rlim_cur = l.rlim_max = v;
	return setrlimit(res, &l);
}

/* A fresh worker's bounds (render_worker.h): its descriptors, and its data on top of what the fork left it (the
 * broker's at its start; a sanitizer's shadow). 0, or -1 with errno. */
static int bound_worker(const struct rs_spawn *req)
{
	uint64_t kb;

	if (bound(RLIMIT_NOFILE, RENDER_WORKER_FDS) < 0)
		return -1;
	if (!req->mem_limit_mb)
		return 0;
	if (!(kb = proc_data_kb(0))) {
		errno = ENOENT; /* no /proc/self/status to start from */
		return -1;
	}
	return bound(RLIMIT_DATA, ((rlim_t)kb << 10) + ((rlim_t)req->mem_limit_mb << 20));
}

static void spawn(int sock, uint32_t seq, const struct render_worker_opts *o, int sfd, const struct rs_spawn *req)
{
	struct rs_spawned r = { .pid = -1 };
	int sv[2] = { -1, -1 };
	pid_t pid;

	if (nchildren == MAX_WORKERS) {
		r.err = EAGAIN;
	} else if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r.err = errno;
	} else if ((pid = fork()) < 0) {
		r.err = errno;
	} else if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGCHLD, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sock);
		close(sfd);
		close(sv[0]);
		close_others(sv[1]);
		if (bound_worker(req) < 0) {
			fprintf(stderr, "vgpu-mediator: render worker %d: its bounds (%u MiB of data): %s\n", (int)getpid(),
				req->mem_limit_mb, strerror(errno));
			_exit(1);
		}
		{
			struct render_worker_opts wo = *o;

			wo.start_delay_ms = req->start_delay_ms;
			_exit(render_worker_main(sv[1], &wo));
		}
	} else {
		r.pid = pid;
		children[nchildren++] = pid;
	}
	if (rp_send(sock, RS_SPAWNED, seq, &r, sizeof(r), sv[0]) < 0 && r.pid > 0)
		kill(r.pid, SIGKILL);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
}

static void reap(int sock)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct rs_exited e = { pid, status };

		forget_child(pid);
		rp_send(sock, RS_EXITED, 0, &e, sizeof(e), -1);
	}
}

static void spawner_main(int sock, const struct render_worker_opts *o)
{
	static _Alignas(16) uint8_t buf[RP_MAX_MSG]; /* read as the payload's struct */
	sigset_t set;
	int sfd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "vgpu-spawner");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		_exit(1);
	for (;;) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct rp_hdr h;
		int fd, r;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			_exit(1);
		if (p[1].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			reap(sock);
		}
		while ((r = rp_recv(sock, &h, buf, &fd)) > 0) {
			if (fd >= 0)
				close(fd);
			if (h.op >= RS_NOPS || h.len != rs_payload_size(h.op))
				_exit(2); /* not the broker speaking */
			if (h.op == RS_SPAWN) {
				spawn(sock, h.seq, o, sfd, (const struct rs_spawn *)buf);
			} else if (h.op == RS_KILL && is_child(((struct rs_pid *)buf)->pid)) {
				const struct rs_pid *k = (const struct rs_pid *)buf;

				/* Only these: a worker is killed, or (tests) crashed, stopped or continued. */
				if (!k->sig || k->sig == SIGKILL || k->sig == SIGSEGV || k->sig == SIGSTOP ||
				    k->sig == SIGCONT)
					kill(k->pid, k->sig ? k->sig : SIGKILL);
			}
		}
		if (r == 0 || errno != EAGAIN) { /* the broker went: so do the workers, gone before the spawner is */
			for (unsigned i = 0; i < nchildren; i++)
				kill(children[i], SIGKILL);
			for (unsigned i = 0; i < nchildren; i++)
				while (waitpid(children[i], NULL, 0) < 0 && errno == EINTR)
					;
			_exit(0);
		}
	}
}

int render_spawner_start(struct render_spawner *z, const struct render_worker_opts *o, char *err, size_t errlen)
{
	int sv[2];
	pid_t pid;

	memset(z, 0, sizeof(*z));
	z->sock = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		close_others(sv[1]);
		spawner_main(sv[1], o);
	}
	close(sv[1]);
	z->sock = sv[0];
	z->pid = pid;
	return 0;
}

/* ---- the broker's side ---- */

/* Take one message from the spawner: an EXITED is kept; a SPAWNED fills *sp and *fd. 1 one taken, 0 none waiting,
 * -1 the spawner is gone or spoke nonsense. */
static int take(struct render_spawner *z, struct rs_spawned *sp, int *fd, int *got_spawned)
{
	_Alignas(16) uint8_t buf[RP_MAX_MSG];
	struct rp_hdr h;
	int f, r = rp_recv(z->sock, &h, buf, &f);

	if (r <= 0)
		return r < 0 && errno == EAGAIN ? 0 : -1;
	if (h.op >= RS_NOPS || h.len != rs_payload_size(h.op) || (h.op != RS_SPAWNED && h.op != RS_EXITED)) {
		if (f >= 0)
			close(f);
		return -1;
	}
	if (h.op == RS_EXITED) {
		struct rs_exited e;

		memcpy(&e, buf, sizeof(e));
		if (f >= 0)
			close(f);
		if (z->nended < sizeof(z->ended) / sizeof(z->ended[0])) {
			z->ended[z->nended].pid = e.pid;
			z->ended[z->nended++].status = e.status;
		}
		return 1;
	}
	memcpy(sp, buf, sizeof(*sp));
	*fd = f;
	*got_spawned = 1;
	return 1;
}

int render_spawner_spawn(struct render_spawner *z, const struct render_worker_start *st, int *sock, int *pid,
			 char *err, size_t errlen)
{
	struct rs_spawn req = { st ? st->start_delay_ms : 0, st ? st->mem_limit_mb : 0 };
	struct rs_spawned sp = { .pid = -1 };
	int64_t t0 = mono_ms();
	int fd = -1, got = 0;

	if (z->sock < 0 || rp_send(z->sock, RS_SPAWN, 0, &req, sizeof(req), -1) < 0) {
		snprintf(err, errlen, "the worker spawner is gone");
		return -1;
	}
	while (!got) {
		struct pollfd p = { z->sock, POLLIN, 0 };
		int64_t left = (int64_t)SPAWN_WAIT_MS - (mono_ms() - t0);

		if (left <= 0) {
			snprintf(err, errlen, "the worker spawner did not answer in %d ms", SPAWN_WAIT_MS);
			return -1;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			break;
		while (!got) {
			int r = take(z, &sp, &fd, &got);

			if (r < 0) {
				snprintf(err, errlen, "the worker spawner is gone");
				return -1;
			}
			if (r == 0)
				break;
		}
	}
	if (sp.pid <= 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "the worker spawner could not start a worker: %s", strerror(sp.err));
		return -1;
	}
	*sock = fd;
	*pid = sp.pid;
	return 0;
}

int render_spawner_kill(struct render_spawner *z, int pid)
{
	return render_spawner_signal(z, pid, 0);
}

int render_spawner_signal(struct render_spawner *z, int pid, int sig)
{
	struct rs_pid k = { pid, sig };

	return z->sock >= 0 ? rp_send(z->sock, RS_KILL, 0, &k, sizeof(k), -1) : -1;
}

int render_spawner_ended(struct render_spawner *z, int *pid, int *status)
{
	struct rs_spawned sp;
	int fd = -1, got = 0, r = 0;

	if (z->sock < 0)
		return -1;
	while (!z->nended && (r = take(z, &sp, &fd, &got)) > 0)
		if (got && fd >= 0) { /* a SPAWNED nobody waits for: that worker is not wanted */
			close(fd);
			render_spawner_kill(z, sp.pid);
			got = 0;
		}
	if (!z->nended)
		return r < 0 ? -1 : 0;
	*pid = z->ended[0].pid;
	*status = z->ended[0].status;
	memmove(z->ended, z->ended + 1, --z->nended * sizeof(z->ended[0]));
	return 1;
}

void render_spawner_stop(struct render_spawner *z)
{
	if (z->sock >= 0) {
		close(z->sock); /* the spawner reads EOF and kills its workers */
		waitpid(z->pid, NULL, 0);
	}
	z->sock = -1;
}

void render_exit_text(int status, char *out, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(out, len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(out, len, "exit %d", WEXITSTATUS(status));
	else
		snprintf(out, len, "status 0x%x", (unsigned)status);
}
