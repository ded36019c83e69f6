/* boot_wait.h: waiting for a booting guest's agent to say hello, with an
 * early word when the guest's console stays empty: a guest that never boots
 * (a wrong accelerator, a bad kernel) is understood in under a minute
 * instead of at the end of the boot timeout. */
#ifndef VGPUBENCH_BOOT_WAIT_H
#define VGPUBENCH_BOOT_WAIT_H

#include <json-c/json.h>

#include "vm/agent_client.h"
#include "vm/vm.h"

/* Seconds after QEMU's start at which a still-empty serial console is reported. */
#define BOOT_SILENT_S 30.0

/*
 * agent_hello on c until deadline. When the guest's serial log is still
 * empty silent_after_s after QEMU started, say so once (with QEMU's command
 * line and the log's path), then keep waiting. *silent (may be NULL) is set
 * to 1 when that was said. 0 with *hello set, or -1 (timeout, the agent's
 * channel closed, or a stop request).
 */
int boot_wait_hello(struct agent_conn *c, const struct vm *vm, double deadline, double silent_after_s,
		    struct json_object **hello, int *silent);

#endif
