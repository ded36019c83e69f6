/* doctor.h: `vgpubench doctor`, after libvirt's virt-host-validate: every
 * fact about this host that decides what vgpubench can run (the KVM boot
 * probe, IOMMU groups, vfio modules, spare display devices, GVT-g mdev
 * types, render node, QEMU and its devices, virglrenderer, Mesa, VA-API,
 * Xvfb), each with what would fix it; then every configuration, runnable or
 * skipped with its reason; then whether a plan can run. */
#ifndef VGPUBENCH_DOCTOR_H
#define VGPUBENCH_DOCTOR_H

#include <stdio.h>

struct doctor_opts {
	const char *plan;        /* the plan to judge (the default plan) */
	const char *sysfs;       /* "/sys", or a fixture tree in tests */
	const char *accel_cache; /* the KVM probe's verdict cache */
};

/* Print the facts and verdicts to out. 0 when every configuration of the plan can run, 1 when not. */
int doctor_run(const struct doctor_opts *o, FILE *out);

/* One display-class PCI device (PCI class 0x03xxxx). */
struct doctor_gpu {
	char bdf[16];     /* 0000:01:00.0 */
	char driver[32];  /* bound driver, "" when none */
	int boot_vga;     /* the host console's device (the firmware's boot VGA, or the framebuffer console's) */
	char group[16];   /* IOMMU group, "" when none */
};

/* The display-class PCI devices under sysfs (at most max). Their count. */
int doctor_gpus(const char *sysfs, struct doctor_gpu *out, int max);

#endif
