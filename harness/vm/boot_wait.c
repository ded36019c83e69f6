/* boot_wait.c: the hello wait of a booting guest, watching its console (boot_wait.h). */
#define _GNU_SOURCE
#include "vm/boot_wait.h"

#include <stdlib.h>

#include "util.h"

int boot_wait_hello(struct agent_conn *c, const struct vm *vm, double deadline, double silent_after_s,
		    struct json_object **hello, int *silent)
{
	double check_at = vm->started + silent_after_s;

	if (silent)
		*silent = 0;
	if (check_at < deadline) {
		if (agent_hello(c, check_at, hello) == 0)
			return 0;
		if (c->dead || vb_stop_requested)
			return -1;
		if (vm_console_empty(vm)) {
			char *cmd = vm_command_line(vm);

			vb_err("%s: its serial console is still empty %.0f s after QEMU started; waiting up to %.0f s "
			       "more. Serial log: %s; QEMU log: %s; command: %s",
			       vm->name, silent_after_s, deadline - vb_now(), vm->serial_log, vm->qemu_log,
			       cmd ? cmd : "(not logged)");
			free(cmd);
			if (silent)
				*silent = 1;
		}
	}
	return agent_hello(c, deadline, hello);
}
