/* accel.h: which accelerator the guests boot under, decided by booting.
 *
 * A /dev/kvm that opens is not proof that KVM can run our guests: under PVM
 * (kvm_pvm) it opens fine, yet a standard kernel stops right after "Probing
 * EDD" at 100% CPU. So KVM is chosen only after the real guest kernel has
 * been seen printing its banner ("Linux version ...") on the serial console
 * under -accel kvm within a short deadline, without any initramfs.
 *
 * The verdict is cached in a small JSON file keyed by the host kernel, the
 * QEMU binary and version, the guest kernel (path, size, mtime) and whether
 * kvm_pvm is loaded, so the probe runs once per host. Only definite verdicts
 * are cached: the banner came, the deadline passed in silence, or QEMU
 * crashed on the accelerator (an abort such as PVM's "failed to set MSR
 * 0x10a": the same host kernel and QEMU abort the same way every time). A
 * QEMU that exits with a status (refuses KVM, is not executable) is asked
 * again next time: that is a setting a user may fix.
 *
 * A plan ([guest] accel = auto|kvm|tcg) or the environment (VGPUBENCH_ACCEL)
 * can force either accelerator. Forcing kvm on a host where the probe fails
 * is an error within the probe's deadline, never a guest that hangs. */
#ifndef VGPUBENCH_ACCEL_H
#define VGPUBENCH_ACCEL_H

#include <stddef.h>

/* How long the probe waits for the kernel's banner. */
#define ACCEL_PROBE_TIMEOUT_S 15.0

enum accel_mode {
	ACCEL_AUTO,
	ACCEL_KVM,
	ACCEL_TCG,
};

/* "auto", "kvm" or "tcg". 0, or -1 for anything else. */
int accel_mode_parse(const char *s, enum accel_mode *out);
const char *accel_mode_name(enum accel_mode m);

struct accel_query {
	enum accel_mode mode;
	/* Who chose the mode, for messages: "VGPUBENCH_ACCEL=kvm", "the plan ([guest] accel = kvm)". */
	const char *mode_source;
	const char *qemu;	  /* qemu-system-x86_64 to probe with */
	const char *qemu_version; /* part of the cache key */
	const char *guest_kernel; /* the kernel the guests boot */
	const char *cache_path;	  /* verdict cache file; NULL: no cache */
	double timeout_s;	  /* probe deadline; 0: ACCEL_PROBE_TIMEOUT_S */
	const char *kvm_device;	  /* NULL: "/dev/kvm" */
	const char *pvm_module;	  /* NULL: "/sys/module/kvm_pvm" */
};

struct accel_verdict {
	char accel[8];	  /* "kvm" or "tcg" */
	char reason[512]; /* why not KVM ("" when KVM) */
	char how[16];	  /* "forced", "no-device", "probe" or "cache" */
	double probe_s;	  /* how long the probe ran now; -1 when none ran */
};

/*
 * Decide the accelerator. 0 with *v filled. -1 with a message in err when
 * mode is kvm and KVM cannot boot a guest here, or when a stop was requested
 * during the probe. In auto mode every other failure of KVM, the probe's own
 * included, becomes TCG with the reason.
 */
int accel_decide(const struct accel_query *q, struct accel_verdict *v, char *err, size_t errlen);

enum accel_probe_result {
	ACCEL_PROBE_BOOTED,  /* the kernel printed its banner */
	ACCEL_PROBE_SILENT,  /* no banner before the deadline: the accelerator cannot boot it */
	ACCEL_PROBE_EXITED,  /* QEMU exited first (refused the accelerator, bad binary...) */
	ACCEL_PROBE_CRASHED, /* QEMU died first of a crash signal (abort, segfault...) */
	ACCEL_PROBE_ERROR,   /* the probe could not start, or a stop was requested */
};

/*
 * The probe alone: boot `kernel` with no initramfs under -accel `accel`
 * (-cpu host under KVM) until its banner shows on the serial console or
 * timeout_s passes; QEMU is killed either way. `why` says what was seen
 * (the last console line, QEMU's first error line) for every result but
 * BOOTED.
 */
enum accel_probe_result accel_boot_probe(const char *qemu, const char *accel, const char *kernel, double timeout_s,
					 char *why, size_t whylen);

#endif
