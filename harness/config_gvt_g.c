/* config_gvt_g.c: Intel GVT-g mediated devices (kernel mdev). No launcher
 * yet: the skip reason says what the host lacks. */
#define _GNU_SOURCE
#include "configs.h"

#include <stdio.h>
#include <string.h>

#include "hostcheck.h"

static const char *skip_reason(const struct host *h, const struct plan *p, char *buf, size_t len)
{
	(void)p;
	if (strcmp(h->accel, "kvm") != 0) {
		snprintf(buf, len, "needs KVM (%s)", h->accel_reason);
		return buf;
	}
	if (!host_gvt_types("/sys"))
		return "no GVT-g mdev types under /sys/bus/pci/devices (needs a supported Intel iGPU, "
		       "i915.enable_gvt=1 and kvmgt)";
	return "GVT-g launcher is not built yet";
}

const struct config_def config_gvt_g = {
	.name = "gvt-g",
	.kind = CONFIG_GUEST,
	.description = "kernel GVT-g mediated device",
	.guest_kms_driver = "i915",
	.needs_lab_hardware = 1,
	.skip_reason = skip_reason,
};
