/* vm.h: one QEMU guest: its command line, its files (serial log, QEMU log,
 * agent socket) and its teardown. */
#ifndef VGPUBENCH_VM_H
#define VGPUBENCH_VM_H

#include <sys/types.h>

struct vm_opts {
	const char *qemu;
	const char *accel; /* kvm or tcg */
	const char *kernel;
	const char *initrd;
	const char *cpu;
	int memory_mb;
	int vcpus;
	const char *display; /* X display for -display sdl,gl=on, or NULL */
	/* The GPU: extra QEMU args (NULL-terminated), chosen by the config. */
	const char *const *gpu_args;
	const char *machine;     /* QEMU's machine type, with its options (NULL: pc) */
	const char *kernel_args; /* more for the guest kernel's command line (NULL: none) */
	const char *sockdir;     /* where its unix sockets go (NULL: the folder vm_start is given) */
	/* The guest kernel's drm.edid_firmware: the harness's EDIDs it takes instead of its device's (edid.h: the
	 * image carries them), "CONNECTOR:NAME" each, or a NAME for every other connector. NULL: the 640x480 one
	 * for every output (EDID_FIRMWARE_NAME); "": none, the device's own. */
	const char *edid_firmware;
};

struct vm {
	int index; /* 1-based */
	char name[32];
	pid_t pid;
	char dir[512];
	char agent_sock[512];
	char qmp_sock[512]; /* QEMU's QMP socket (qmp.h) */
	char serial_log[512];
	char qemu_log[512];
	double started; /* monotonic */
};

/* Start guest `index` with its files under dir. 0 or -1 (message printed). */
int vm_start(struct vm *vm, int index, const char *dir, const struct vm_opts *o);

/* The kernel arguments every guest gets under accelerator ACCEL ("kvm", "tcg"), beside its own; "" for none. */
const char *vm_accel_kernel_args(const char *accel);

/* Is QEMU still running? Reaps it if not. */
int vm_alive(struct vm *vm);

/* Stop QEMU (SIGTERM, then SIGKILL) and reap it. Safe to call twice. */
void vm_stop(struct vm *vm);

/* 1 when nothing has reached the guest's serial log yet (or it is missing). */
int vm_console_empty(const struct vm *vm);

/* QEMU's command line as vm_start wrote it into the QEMU log (malloc'ed), or NULL. */
char *vm_command_line(const struct vm *vm);

/* The last lines of the serial log, for error messages (static buffer). */
const char *vm_serial_tail(const struct vm *vm);

#endif
