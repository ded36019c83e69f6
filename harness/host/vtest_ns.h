/* vtest_ns.h: the private mount namespace dom0's GL clients run in when a
 * mediator serves them. Mesa 22.3's vtest client (GALLIUM_DRIVER=virpipe)
 * connects to /tmp/.virgl_test and nowhere else, so the calling process
 * moves to a mount namespace of its own whose /tmp is a fresh tmpfs holding
 * every entry of the host's /tmp (each bound in, so the X server's socket and
 * the run's files stay reachable and writes inside them reach the host) plus
 * /tmp/.virgl_test, bound to the mediator's vtest socket. Nothing outside the
 * namespace changes. Needs CAP_SYS_ADMIN (root). */
#ifndef VGPUBENCH_VTEST_NS_H
#define VGPUBENCH_VTEST_NS_H

#include <stddef.h>
#include <sys/types.h>

#define VTEST_CLIENT_SOCKET "/tmp/.virgl_test"

/* Enter the namespace (the calling process; its children inherit it). 0, or -1 with the reason in err. */
int vtest_ns_enter(const char *socket, char *err, size_t errlen);

/* Start argv (PATH searched) in the namespace as a GL client of socket: GALLIUM_DRIVER=virpipe, DISPLAY=display
 * (NULL: inherited), stdout and stderr to log_path. Its pid, or -1. A child that cannot enter the namespace says
 * why in the log and exits 126. */
pid_t vtest_ns_spawn(const char *socket, char *const argv[], const char *display, const char *log_path);

#endif
