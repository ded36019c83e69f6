/* hostcheck.h: what this host is and can do: accelerator, QEMU, kernel for
 * guests, Mesa, and per-config verdicts (runnable, or skipped with why). */
#ifndef VGPUBENCH_HOSTCHECK_H
#define VGPUBENCH_HOSTCHECK_H

/* QEMU's own vhost-user-gpu back-end (Debian: qemu-system-gui). */
#define HOST_VHOST_USER_GPU "/usr/lib/qemu/vhost-user-gpu"

#include "host/accel.h"
#include "configs/configs.h"

struct host {
	char sysfs[128]; /* where sysfs is: "/sys" (a fixture tree in tests) */
	char accel[8]; /* "kvm" or "tcg" once host_choose_accel ran, "none" when no guest boots */
	char accel_reason[512];
	char qemu[256];      /* path */
	char qemu_version[64];
	int qemu_major;
	char guest_kernel[256];  /* /boot/vmlinuz-<ver> */
	char kernel_version[64]; /* <ver> */
	char host_kernel[128];
	char cpu_model[128];
	int cpus;
	long long mem_kb;
	char mesa_version[64];
	char virglrenderer_version[64];
	int has_render_node;
	char gpus[256]; /* host_gpus: each DRM render node, its driver and PCI ids ("": none) */
	int has_xvfb;
	int has_glmark2_host;
	int has_glmark2_guest;
};

/* Probe the host. Never fails: what is missing shows up in the verdicts.
 * The accelerator is left to host_choose_accel ("none" until then). */
void host_probe(struct host *h);

/* The host's GPUs as its DRM render nodes show them under sysfs ("/sys", or a fixture tree), sorted, into out:
 * "renderD128 virtio_gpu 1af4:1050, renderD129 i915 8086:46a6" ("unbound" for a node without a driver, the ids
 * left out where sysfs lacks them); "" when there is none. */
void host_gpus(const char *sysfs, char *out, size_t len);

/* How many IOMMU groups the kernel made, under sysfs ("/sys", or a fixture tree). */
int host_iommu_groups(const char *sysfs);

/* The environment variable that overrides the plan's accelerator. */
#define HOST_ACCEL_ENV "VGPUBENCH_ACCEL"

/*
 * Decide h->accel and h->accel_reason by accel_decide (accel.h), after
 * host_probe. HOST_ACCEL_ENV in the environment (auto, kvm or tcg) wins over
 * plan_mode, the plan's [guest] accel. cache_path: the verdict cache file.
 * 0, or -1 with a message in err: a bad HOST_ACCEL_ENV, KVM forced on a host
 * where it cannot boot a guest, or a probe interrupted by a stop request.
 */
int host_choose_accel(struct host *h, enum accel_mode plan_mode, const char *cache_path, char *err, size_t errlen);

/* NULL when the host can run config c for plan p (NULL: the defaults), else the reason it is skipped. */
const char *host_skip_reason(const struct host *h, const struct plan *p, const struct config_def *c, char *buf,
			     size_t buflen);

#endif
