/* xvfb.h: the run's private X server (Xvfb), for the host's off-screen GL
 * and QEMU's SDL GL display. Xvfb picks a free display itself (-displayfd),
 * so stale locks of dead servers never block a run, and those this finds
 * (a lock or socket whose server is gone) are removed. */
#ifndef VGPUBENCH_XVFB_H
#define VGPUBENCH_XVFB_H

#include <stddef.h>
#include <sys/types.h>

struct xvfb {
	pid_t pid;
	char display[16]; /* ":N" */
};

/*
 * Start Xvfb with its output in log_path and wait up to timeout_s for it to
 * say its display, giving up at once on a stop request. 0, or -1 with a
 * message printed (nothing left running).
 */
int xvfb_start(struct xvfb *x, const char *log_path, double timeout_s);

/* Stop it (SIGTERM, then SIGKILL) and reap it. Safe to call twice. */
void xvfb_stop(struct xvfb *x);

/*
 * Remove X lock files (/tmp/.X<n>-lock) whose process is gone and sockets
 * (/tmp/.X11-unix/X<n>) that nothing serves any more. Returns how many
 * files were removed. x_dir is "/tmp" outside tests.
 */
int xvfb_reclaim_stale(const char *x_dir);

#endif
