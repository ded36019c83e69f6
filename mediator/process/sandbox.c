/* sandbox.c: the mediator's confinement after start-up (see the header). */
#define _GNU_SOURCE
#include "process/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* What the event loop, virglrenderer, Mesa (llvmpipe, LLVM's JIT) and glibc call once the mediator serves. */
static const char *const allowed[] = {
	/* I/O on what is open */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "close", "close_range",
	"lseek", "fcntl", "dup", "dup2", "dup3", "pipe2", "ftruncate", "fallocate", "fsync", "fdatasync", "flock",
	/* files, with the unprivileged user's rights (Mesa's shader cache, /proc and /sys lookups) */
	"open", "openat", "stat", "lstat", "fstat", "newfstatat", "statx", "statfs", "fstatfs", "access",
	"faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "getcwd", "mkdir", "mkdirat", "unlink",
	"unlinkat", "rename", "renameat", "renameat2", "utimensat",
	/* memory */
	"mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "msync", "mincore", "mlock", "munlock",
	"memfd_create", "membarrier",
	/* the event loop and the vhost-user sockets */
	"poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl",
	"epoll_create1", "accept", "accept4", "recvmsg", "sendmsg", "recvfrom", "sendto", "shutdown", "setsockopt",
	"getsockopt", "getsockname", "getpeername", "eventfd2", "timerfd_create", "timerfd_settime",
	"timerfd_gettime",
	/* threads (clone is narrowed below), signals, and waiting for the socket-file helper (sandbox_finish) */
	"futex", "futex_waitv", "set_robust_list", "get_robust_list", "set_tid_address", "rseq", "exit",
	"exit_group", "gettid", "getpid", "getppid", "tgkill", "tkill", "rt_sigaction", "rt_sigprocmask",
	"rt_sigreturn", "rt_sigtimedwait", "wait4", "sigaltstack", "restart_syscall", "sched_yield", "sched_getaffinity",
	"sched_setaffinity", "sched_getparam", "sched_getscheduler", "sched_setscheduler", "sched_setparam",
	"sched_getattr", "sched_setattr", "sched_get_priority_max",
	"sched_get_priority_min", "getpriority", "setpriority", "prctl", "getcpu",
	/* time, identity, limits */
	"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time", "getrandom",
	"uname", "sysinfo", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid",
	"getrlimit", "prlimit64",
};

/* What no device model ever needs: a call is an attack or a bug, and the process dies on it. */
static const char *const fatal[] = {
	"execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev", "mount",
	"umount2", "pivot_root", "chroot", "kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "bpf", "perf_event_open", "unshare", "setns", "keyctl", "add_key", "request_key",
	"reboot", "swapon", "swapoff", "open_by_handle_at", "name_to_handle_at", "userfaultfd", "setuid",
	"setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid",
	"capset", "personality", "iopl", "ioperm", "acct", "settimeofday", "clock_settime", "adjtimex",
	"quotactl", "syslog",
};

/* A render worker (render_worker.h) is confined tighter: it inherited the one connection it needs, so it makes,
 * names and accepts no socket (those kill it); it opens files to read only (Mesa's /proc and /sys lookups) and
 * changes none; it has no children to wait for and no scheduling to change. Refused, unless listed as fatal. */
static const char *const worker_fatal[] = {
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
};
static const char *const worker_refused[] = {
	"open", "openat", /* allowed below for reading only */
	"shutdown", "setsockopt", "getpeername", "mkdir", "mkdirat", "unlink", "unlinkat", "rename", "renameat",
	"renameat2", "utimensat", "flock", "wait4", "sched_setaffinity", "sched_setscheduler", "sched_setparam",
	"sched_setattr", "setpriority",
};

#define NR_MAX 1024

static _Atomic uint64_t refused_count[NR_MAX];
static struct sandbox_status state = { .mode = "off" };

static void count_refused(long nr)
{
	if (nr >= 0 && nr < NR_MAX)
		atomic_fetch_add_explicit(&refused_count[nr], 1, memory_order_relaxed);
}

#ifdef __x86_64__
/* A syscall off the list: counted, and it returns -EPERM to its caller (SECCOMP_RET_TRAP). */
static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	count_refused(si->si_syscall);
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
}
#endif

static int listed(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What a worker's policy takes out of the broker's allow-list: its own refusals and its own fatal calls. */
static int not_for_workers(const char *name)
{
	return listed(name, worker_refused, N(worker_refused)) || listed(name, worker_fatal, N(worker_fatal));
}

/* Add a rule with action for each of names[0..n) but those skip (may be NULL) says no to. */
static int add_rules(scmp_filter_ctx ctx, const char *const *names, size_t n, int (*skip)(const char *),
		     uint32_t action, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		int rc;

		if (skip && skip(names[i]))
			continue;
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a syscall on this architecture */
		if ((rc = seccomp_rule_add(ctx, action, nr, 0)) < 0) {
			snprintf(err, errlen, "seccomp rule for %s: %s", names[i], strerror(-rc));
			return -1;
		}
	}
	return 0;
}

static int build_filter(scmp_filter_ctx ctx, enum sandbox_profile profile, char *err, size_t errlen)
{
	int worker = profile == SANDBOX_WORKER, rc = 0;
	/* everything that opens for writing, creates or truncates */
	const scmp_datum_t wr = O_ACCMODE | O_CREAT | O_TRUNC;

	if (add_rules(ctx, allowed, N(allowed), worker ? not_for_workers : NULL, SCMP_ACT_ALLOW, err, errlen) < 0 ||
	    add_rules(ctx, fatal, N(fatal), NULL, SCMP_ACT_KILL_PROCESS, err, errlen) < 0 ||
	    (worker && add_rules(ctx, worker_fatal, N(worker_fatal), NULL, SCMP_ACT_KILL_PROCESS, err, errlen) < 0))
		return -1;
	if (worker) {
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, wr, O_RDONLY));
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, wr, O_RDONLY));
	}
	/* Threads only (llvmpipe's): clone with CLONE_THREAD. clone3 hides its flags in memory a filter cannot
	 * read, so it answers ENOSYS and glibc falls back to clone. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* ioctl: DRM's (type 'd', the render node) and the few glibc makes on its own descriptors. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, 0x6400));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, 0x5401)); /* TCGETS */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, 0x5421)); /* FIONBIO */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, 0x541b)); /* FIONREAD */
	/* The filter applies to every thread (llvmpipe's run already) and sets no_new_privs. */
	rc |= seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	rc |= seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (rc) {
		snprintf(err, errlen, "building the seccomp filter failed");
		return -1;
	}
	return 0;
}

#define MAX_INHERITED 256

static int inherited[MAX_INHERITED];
static size_t ninherited;

/* The descriptors >= 3 open now, into fds (at most cap). Returns how many. */
static size_t open_fds(int *fds, size_t cap)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0;
	int dfd;

	if (!d)
		return 0;
	dfd = dirfd(d);
	while ((e = readdir(d)) && n < cap) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (!*end && end != e->d_name && fd >= 3 && fd != dfd)
			fds[n++] = (int)fd;
	}
	closedir(d);
	return n;
}

void sandbox_note_inherited(void)
{
	ninherited = open_fds(inherited, MAX_INHERITED);
}

/* Close what was inherited at start-up and is not in keep. Returns how many. */
static int close_inherited(const int *keep, size_t nkeep)
{
	int closed = 0;

	for (size_t i = 0; i < ninherited; i++) {
		int k = 0;

		for (size_t j = 0; j < nkeep && !k; j++)
			k = keep[j] == inherited[i];
		if (!k && close(inherited[i]) == 0)
			closed++;
	}
	return closed;
}

/* What the descriptors >= 3 are, in short ("socket x4, eventpoll, /dev/dri/renderD128"), into state.kept. */
static void describe_fds(void)
{
	int fds[512];
	size_t n = open_fds(fds, sizeof(fds) / sizeof(fds[0])), len = 0;
	char kinds[16][48];
	int count[16] = { 0 };
	size_t nk = 0;

	for (size_t i = 0; i < n; i++) {
		char link[64], target[256];
		ssize_t r;
		size_t k;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fds[i]);
		if ((r = readlink(link, target, sizeof(target) - 1)) < 0)
			continue;
		target[r] = 0;
		if (!strncmp(target, "anon_inode:", 11)) /* anon_inode:[eventfd] -> eventfd */
			memmove(target, target + 11 + (target[11] == '['), strlen(target + 11) + 1);
		target[strcspn(target, ":]")] = 0; /* socket:[123] -> socket */
		for (k = 0; k < nk && strcmp(kinds[k], target); k++)
			;
		if (k == nk && nk < 16)
			snprintf(kinds[nk++], sizeof(kinds[0]), "%.47s", target);
		if (k < 16)
			count[k]++;
	}
	state.kept[0] = 0;
	for (size_t k = 0; k < nk && len < sizeof(state.kept); k++)
		len += (size_t)snprintf(state.kept + len, sizeof(state.kept) - len, count[k] > 1 ? "%s%s x%d" : "%s%s",
					k ? ", " : "", kinds[k], count[k]);
}

/* The socket-file helper (start_reaper): its pid and the write end of its pipe, -1 when there is none. */
static pid_t reaper_pid = -1;
static int reaper_fd = -1;

/* A helper that keeps root's rights only to remove the socket files once the mediator is gone (its end of a
 * pipe reads EOF). It closes everything else first. Returns the pipe's write end to keep, or -1. */
static int start_reaper(const char *const *paths)
{
	int p[2];
	pid_t pid;

	if (!paths || !paths[0] || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) { /* only async-signal-safe calls from here: the parent has threads */
		char c;

		if (dup2(p[0], 3) < 0)
			_exit(1);
		close_range(4, ~0u, 0);
		close(0);
		close(1);
		close(2);
		while (read(3, &c, 1) != 0)
			;
		for (size_t i = 0; paths[i]; i++)
			unlink(paths[i]);
		_exit(0);
	}
	close(p[0]);
	reaper_pid = pid;
	reaper_fd = p[1];
	return p[1];
}

/* Become `user` (root only): no supplementary groups, its gid and uid, no way back. The parent-death signal,
 * which a change of credentials clears, is set again. 0 or -1. */
static int drop_user(const char *user, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	int pdeath = 0;

	if (!pw) {
		snprintf(err, errlen, "no user '%s' to run as", user);
		return -1;
	}
	prctl(PR_GET_PDEATHSIG, &pdeath);
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "becoming %s (uid %u): %s", user, (unsigned)pw->pw_uid, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "root could be regained after becoming %s", user);
		return -1;
	}
	if (pdeath)
		prctl(PR_SET_PDEATHSIG, pdeath);
	snprintf(state.user, sizeof(state.user), "%s", user);
	return 0;
}

int sandbox_enter(enum sandbox_profile profile, const int *keep, size_t nkeep, const char *user,
		  const char *const *unlink_paths, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	uint32_t deflt = SCMP_ACT_ERRNO(EPERM);
	int rc, reaper = -1, was_root = geteuid() == 0;

	if (!user)
		user = "nobody";
	if (was_root)
		reaper = start_reaper(unlink_paths);
	state.fds_closed = close_inherited(keep, nkeep);
	describe_fds();
	if (was_root && drop_user(user, err, errlen) < 0)
		return -1;
	if (!was_root) {
		struct passwd *pw = getpwuid(geteuid());

		snprintf(state.user, sizeof(state.user), "%s", pw ? pw->pw_name : "?");
	}
#ifdef __x86_64__
	{
		struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) == 0)
			deflt = SCMP_ACT_TRAP;
	}
#endif
	ctx = seccomp_init(deflt);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	if (build_filter(ctx, profile, err, errlen) < 0) {
		seccomp_release(ctx);
		return -1;
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "loading the seccomp filter: %s", strerror(-rc));
		return -1;
	}
	state.on = 1;
	snprintf(state.mode, sizeof(state.mode), "seccomp allow-list%s, no_new_privs%s%s",
		 profile == SANDBOX_WORKER ? " (render worker's)" : "", was_root ? ", root dropped" : "",
		 reaper >= 0 ? ", socket files removed by a helper" : "");
	return 0;
}

int sandbox_finish(double timeout_s)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int waited = 0;

	if (reaper_pid < 0)
		return 0;
	close(reaper_fd); /* the helper reads EOF, removes the files and exits */
	reaper_fd = -1;
	for (double t = 0; t < timeout_s; t += 0.01) {
		pid_t r = waitpid(reaper_pid, NULL, WNOHANG);

		if (r == reaper_pid || (r < 0 && errno != EINTR)) {
			waited = r == reaper_pid;
			break;
		}
		nanosleep(&tick, NULL);
	}
	reaper_pid = -1;
	return waited ? 0 : -1;
}

void sandbox_off(const char *why)
{
	state.on = 0;
	snprintf(state.mode, sizeof(state.mode), "off (%s)", why);
}

void sandbox_status(struct sandbox_status *out)
{
	*out = state;
	out->nrefused = 0;
	for (long nr = 0; nr < NR_MAX && out->nrefused < SANDBOX_MAX_REFUSED; nr++) {
		uint64_t c = atomic_load_explicit(&refused_count[nr], memory_order_relaxed);

		if (c) {
			char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);

			out->refused[out->nrefused].nr = nr;
			out->refused[out->nrefused].count = c;
			snprintf(out->refused[out->nrefused].name, sizeof(out->refused[0].name), "%s", name ? name : "?");
			free(name);
			out->nrefused++;
		}
	}
}
