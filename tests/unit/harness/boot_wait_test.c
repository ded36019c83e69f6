/* boot_wait_test.c: the hello wait of a booting guest (harness/vm/boot_wait.c)
 * against an agent channel that never answers: a guest whose serial console
 * stays empty is reported once, early, with QEMU's command line and the log's
 * path, and waited for still; one whose console has output is not. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vm/boot_wait.h"
#include "check.h"
#include "util.h"

/* A guest that QEMU "started" just now, with its logs in dir; serial holds `console`. */
static void fake_vm(struct vm *vm, const char *dir, const char *console)
{
	memset(vm, 0, sizeof(*vm));
	snprintf(vm->name, sizeof(vm->name), "guest1");
	snprintf(vm->serial_log, sizeof(vm->serial_log), "%s/guest1.serial.log", dir);
	snprintf(vm->qemu_log, sizeof(vm->qemu_log), "%s/guest1.qemu.log", dir);
	if (vb_write_file(vm->serial_log, console, strlen(console)) < 0 ||
	    vb_write_file(vm->qemu_log, "command: qemu-system-x86_64 -accel kvm\nqemu: warning\n", 53) < 0)
		fprintf(stderr, "cannot write the fake logs in %s\n", dir);
	vm->started = vb_now();
}

/* An agent channel whose other end (*peer) never answers. */
static void silent_agent(struct agent_conn *c, int *peer)
{
	int sv[2];

	memset(c, 0, sizeof(*c));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
	c->rfd = c->wfd = sv[0];
	c->buf = malloc(AGENT_LINE_MAX);
	c->next_id = 1;
	snprintf(c->label, sizeof(c->label), "guest1");
	*peer = sv[1];
}

int main(void)
{
	char dir[] = "/tmp/vgpubench-bootwait-XXXXXX";
	struct vm vm;
	struct agent_conn c;
	struct json_object *hello = NULL;
	int peer, silent = -1;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	fake_vm(&vm, dir, "");
	CHECK(vm_console_empty(&vm), "an empty serial log is empty");
	char *cmd = vm_command_line(&vm);

	CHECK(cmd && strcmp(cmd, "qemu-system-x86_64 -accel kvm") == 0, "command line '%s'", cmd ? cmd : "(null)");
	free(cmd);

	silent_agent(&c, &peer);
	double t0 = vb_now();

	CHECK(boot_wait_hello(&c, &vm, t0 + 1.5, 0.5, &hello, &silent) < 0 && !hello, "no hello from a silent agent");
	CHECK(silent == 1, "a silent console is reported (%d)", silent);
	CHECK(vb_now() - t0 >= 1.4, "the wait goes on to the deadline after the report (%.1f s)", vb_now() - t0);
	agent_close(&c);
	close(peer);

	fake_vm(&vm, dir, "Probing EDD (edd=off to disable)... ok\n");
	CHECK(!vm_console_empty(&vm), "a console with output is not empty");
	silent_agent(&c, &peer);
	CHECK(boot_wait_hello(&c, &vm, vb_now() + 1.0, 0.3, &hello, &silent) < 0, "no hello");
	CHECK(silent == 0, "a console with output is not reported (%d)", silent);
	agent_close(&c);
	close(peer);

	/* The agent's channel closing ends the wait at once, before the silent check. */
	fake_vm(&vm, dir, "");
	silent_agent(&c, &peer);
	close(peer);
	t0 = vb_now();
	CHECK(boot_wait_hello(&c, &vm, t0 + 5, 3, &hello, &silent) < 0 && vb_now() - t0 < 2.5,
	      "a closed channel ends the wait (%.1f s)", vb_now() - t0);
	CHECK(silent == 0, "nothing reported after a closed channel (%d)", silent);
	agent_close(&c);

	/* A missing serial log counts as empty. */
	unlink(vm.serial_log);
	CHECK(vm_console_empty(&vm), "a missing serial log is empty");
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("boot_wait");
}
