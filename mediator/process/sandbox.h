/* sandbox.h: confines vgpu-mediator once it is set up, the way crosvm confines
 * its device processes (minijail: a seccomp policy per device, no privileges):
 *   - every file descriptor it inherited is closed but the ones named (its
 *     log); what it keeps is what it opened itself (its sockets, the render
 *     node, the renderer's own), listed on the control socket;
 *   - started as root, it becomes an unprivileged user (default "nobody"),
 *     with no supplementary groups; a small helper that stays behind, and
 *     does nothing else, removes the socket files when the mediator ends;
 *   - no_new_privs, then a seccomp allow-list (libseccomp) on every thread:
 *     what the event loop, virglrenderer and Mesa (llvmpipe, LLVM's JIT)
 *     call. Syscalls no device model needs (exec, ptrace, mount, module and
 *     key management, bpf, namespaces, identity changes, ...) kill the
 *     process; any other syscall off the list fails with EPERM and is counted
 *     by number, so a refusal shows on the control socket instead of
 *     crashing a nightly run.
 * What stays possible: opening files (Mesa opens its shader cache, /proc and
 * /sys lazily) with the unprivileged user's rights; a render worker's policy
 * (SANDBOX_WORKER) allows opening them to read only. */
#ifndef VGPU_SANDBOX_H
#define VGPU_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#define SANDBOX_MAX_REFUSED 16

struct sandbox_status {
	int on;                /* the filter is in force */
	char mode[128];        /* "off (why)" or what is in force */
	char user[32];         /* the user it runs as */
	int fds_closed;        /* inherited descriptors closed on entry */
	char kept[256];        /* what the descriptors >= 3 were then, in short */
	/* Syscalls refused with EPERM since (number, count), the first SANDBOX_MAX_REFUSED numbers seen. */
	struct {
		long nr;
		char name[24];
		uint64_t count;
	} refused[SANDBOX_MAX_REFUSED];
	size_t nrefused;
};

/* Which policy: the broker's, or a render worker's, tighter (no sockets made, named or accepted: those kill it;
 * files opened to read only; no file created, renamed or removed; no children waited for; no scheduling changed). */
enum sandbox_profile { SANDBOX_BROKER, SANDBOX_WORKER };

/* Note the descriptors the process inherited (call first thing in main). */
void sandbox_note_inherited(void);

/*
 * Enter the sandbox: close every inherited fd but keep[0..nkeep), become `user` when
 * root (NULL: "nobody"), and install the profile's filter. unlink_paths (NULL-ended,
 * may be NULL) are removed by the helper when the process ends. 0, or -1
 * with the reason in err; after a failure the process may already have
 * closed fds and dropped its user, but has no filter: the caller exits.
 */
int sandbox_enter(enum sandbox_profile profile, const int *keep, size_t nkeep, const char *user,
		  const char *const *unlink_paths, char *err, size_t errlen);

/*
 * The process is ending: tell the helper to remove the socket files now and wait for it (at most timeout_s), so
 * that whoever sees this process end finds the files gone, and a mediator started next on the same paths cannot
 * lose its sockets to a helper that was late. 0 when there is no helper or it finished, -1 when it did not finish
 * in time (it still removes the files when it gets to run).
 */
int sandbox_finish(double timeout_s);

/* Record that the sandbox is off, and why (shown on the control socket). */
void sandbox_off(const char *why);

/* What ran: mode, user, syscalls refused so far (a snapshot, safe to read any time). */
void sandbox_status(struct sandbox_status *out);

#endif
