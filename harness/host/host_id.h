/* host_id.h: who this host is, for a database several hosts write into: the name its runs carry (in their id and
 * in runs.host) and its machine id. */
#ifndef VGPUBENCH_HOST_ID_H
#define VGPUBENCH_HOST_ID_H

#include <stddef.h>

/* The environment variable that names this host instead of its host name (a lab whose hosts share a name, a
 * test playing two hosts). */
#define HOST_NAME_ENV "VGPUBENCH_HOST"

/* This host's name as runs carry it: VGPUBENCH_HOST, or the host name up to its first dot; letters, digits, '_'
 * and '-' only (anything else becomes '-'), at most HOST_LABEL_MAX characters, "host" when nothing is left. */
#define HOST_LABEL_MAX 32
void host_label(char *out, size_t len);

/* A name as host_label makes it from text (the same rules), for a --host given by a user. */
void host_label_of(const char *text, char *out, size_t len);

/* /etc/machine-id (or D-Bus's copy), "" when neither is there. */
void host_machine_id(char *out, size_t len);

#endif
