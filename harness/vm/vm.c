/* vm.c: QEMU guests. The guest boots the host's kernel with our initramfs,
 * reaches the host's root over 9p, and talks to the harness over a
 * virtio-serial port backed by a unix socket. QEMU dies with the harness
 * (PR_SET_PDEATHSIG), so a killed harness leaves no guest behind. */
#define _GNU_SOURCE
#include "vm/vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/edid.h"
#include "util.h"

#define MAX_ARGS 96

/* Under TCG, two things a guest kernel does for a real CPU cost minutes of emulation and prove nothing here:
 *   - nopti: QEMU's named CPU models claim Meltdown (no RDCL_NO), so the kernel isolates its page tables, and each
 *     switch of them (every system call, fault and interrupt) flushes TCG's whole TLB. 100000 one-byte dd reads
 *     and writes took 4.5-4.9 s in a TCG guest with it and 0.4 s without (2026-12-07).
 *   - cryptomgr.notests: the crypto self-tests, 14 s of the nested lab's guest's 99 s of initcalls
 *     (crypto_algapi_init 9.0 s, crypto_kdf108_init 5.0 s; initcall_debug, 2026-12-07).
 * Under KVM the guest sees the host's CPU and decides as the host would. */
const char *vm_accel_kernel_args(const char *accel)
{
	return accel && strcmp(accel, "tcg") == 0 ? "nopti cryptomgr.notests" : "";
}

int vm_start(struct vm *vm, int index, const char *dir, const struct vm_opts *o)
{
	char *argv[MAX_ARGS];
	char *owned[MAX_ARGS];
	int n = 0, no = 0;
	char *env[2] = { NULL, NULL };
	const char *accel_args = vm_accel_kernel_args(o->accel);
	const char *edid = o->edid_firmware ? o->edid_firmware : EDID_FIRMWARE_NAME;

	memset(vm, 0, sizeof(*vm));
	vm->index = index;
	snprintf(vm->name, sizeof(vm->name), "guest%d", index);
	if (strchr(dir, ',')) {
		vb_err("%s: the run folder must not contain ',' (QEMU option syntax): %s", vm->name, dir);
		return -1;
	}
	snprintf(vm->dir, sizeof(vm->dir), "%s", dir);
	snprintf(vm->agent_sock, sizeof(vm->agent_sock), "%s/%s.agent.sock", o->sockdir ? o->sockdir : dir, vm->name);
	snprintf(vm->qmp_sock, sizeof(vm->qmp_sock), "%s/%s.qmp.sock", o->sockdir ? o->sockdir : dir, vm->name);
	snprintf(vm->serial_log, sizeof(vm->serial_log), "%s/%s.serial.log", dir, vm->name);
	snprintf(vm->qemu_log, sizeof(vm->qemu_log), "%s/%s.qemu.log", dir, vm->name);
	unlink(vm->agent_sock);
	unlink(vm->qmp_sock);

#define ARG(s) (argv[n++] = (char *)(s))
#define OWN(s) (owned[no++] = argv[n++] = (s))
	ARG(o->qemu);
	ARG("-name");
	ARG(vm->name);
	ARG("-nodefaults");
	ARG("-no-user-config");
	ARG("-no-reboot");
	ARG("-machine");
	ARG(o->machine ? o->machine : "pc");
	ARG("-accel");
	ARG(o->accel);
	ARG("-cpu");
	ARG(strcmp(o->accel, "kvm") == 0 ? "host" : o->cpu);
	ARG("-smp");
	OWN(vb_strdupf("%d", o->vcpus));
	ARG("-m");
	OWN(vb_strdupf("%d", o->memory_mb));
	ARG("-kernel");
	ARG(o->kernel);
	ARG("-initrd");
	ARG(o->initrd);
	ARG("-append");
	/* no_timer_check: under nested TCG (the lab host's guest) the kernel's check that the 8254 timer reaches the
	 * IO-APIC can time out, and it then panics ("IO-APIC + timer doesn't work!"); the timer works, the check is
	 * only too slow. Seen once in a make test's nested lab, 2026-12-07. */
	OWN(vb_strdupf("console=ttyS0 panic=-1 loglevel=4 no_timer_check%s%s rdinit=/init%s%s vgpu.name=%s%s%s",
		       accel_args[0] ? " " : "", accel_args, edid[0] ? " drm.edid_firmware=" : "", edid, vm->name,
		       o->kernel_args ? " " : "", o->kernel_args ? o->kernel_args : ""));
	ARG("-serial");
	OWN(vb_strdupf("file:%s", vm->serial_log));
	ARG("-monitor");
	ARG("none");
	ARG("-qmp");
	OWN(vb_strdupf("unix:%s,server=on,wait=off", vm->qmp_sock));
	/* The host's root, read-only; the guest puts a tmpfs overlay on top. */
	ARG("-fsdev");
	ARG("local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap");
	ARG("-device");
	ARG("virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot");
	/* The agent's channel. */
	ARG("-device");
	ARG("virtio-serial-pci");
	ARG("-chardev");
	OWN(vb_strdupf("socket,id=agent,path=%s,server=on,wait=off", vm->agent_sock));
	ARG("-device");
	ARG("virtserialport,chardev=agent,name=vgpu.agent");
	for (const char *const *g = o->gpu_args; g && *g && n < MAX_ARGS - 4; g++)
		ARG(*g);
	if (!o->display) {
		ARG("-display");
		ARG("none");
	}
	argv[n] = NULL;
#undef ARG
#undef OWN

	if (o->display)
		env[0] = vb_strdupf("DISPLAY=%s", o->display);
	FILE *f = fopen(vm->qemu_log, "w");

	if (f) {
		fputs("command:", f);
		for (int i = 0; i < n; i++)
			fprintf(f, " %s", argv[i]);
		fputc('\n', f);
		fclose(f);
	}
	vm->started = vb_now();
	vm->pid = vb_spawn(argv, env, vm->qemu_log);
	for (int i = 0; i < no; i++)
		free(owned[i]);
	free(env[0]);
	if (vm->pid < 0) {
		vb_err("%s: cannot start %s: %s", vm->name, o->qemu, strerror(errno));
		vm->pid = 0;
		return -1;
	}
	return 0;
}

int vm_alive(struct vm *vm)
{
	int status;

	if (vm->pid <= 0)
		return 0;
	if (waitpid(vm->pid, &status, WNOHANG) == vm->pid) {
		vm->pid = 0;
		return 0;
	}
	return 1;
}

void vm_stop(struct vm *vm)
{
	if (vm->pid > 0) {
		kill(vm->pid, SIGTERM);
		vb_reap(vm->pid, 10.0);
		vm->pid = 0;
	}
	if (vm->agent_sock[0])
		unlink(vm->agent_sock);
	if (vm->qmp_sock[0])
		unlink(vm->qmp_sock);
}

int vm_console_empty(const struct vm *vm)
{
	struct stat st;

	return stat(vm->serial_log, &st) < 0 || st.st_size == 0;
}

char *vm_command_line(const struct vm *vm)
{
	size_t len;
	char *log = vb_read_file(vm->qemu_log, &len);
	char *cmd = NULL;

	if (log && strncmp(log, "command: ", 9) == 0) {
		log[strcspn(log, "\n")] = '\0';
		cmd = vb_strdup(log + 9);
	}
	free(log);
	return cmd;
}

const char *vm_serial_tail(const struct vm *vm)
{
	static char tail[1024];
	size_t len;
	char *s = vb_read_file(vm->serial_log, &len);
	size_t start;

	tail[0] = '\0';
	if (!s)
		return tail;
	start = len > sizeof(tail) - 1 ? len - (sizeof(tail) - 1) : 0;
	snprintf(tail, sizeof(tail), "%s", s + start);
	free(s);
	return tail;
}
