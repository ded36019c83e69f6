/* qmp.h: a QEMU Machine Protocol client for a guest's QMP socket (vm.h):
 * one connection per command, capabilities negotiated, events skipped. Used
 * to pause, continue and reset guests (stop, cont, system_reset). */
#ifndef VGPUBENCH_QMP_H
#define VGPUBENCH_QMP_H

#include <stddef.h>

/*
 * Run QMP command `command` with `arguments` (a JSON object's text, or NULL)
 * on the socket at path, waiting at most timeout_s for each answer. 0 when
 * QEMU returned, -1 with QEMU's error (class and description) or why it
 * could not be asked in err.
 */
int qmp_execute(const char *path, const char *command, const char *arguments, double timeout_s, char *err,
		size_t errlen);

#endif
