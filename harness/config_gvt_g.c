/* config_gvt_g.c: Intel GVT-g mediated devices (kernel mdev). No launcher
 * yet: the skip reason says what the host lacks. */
#define _GNU_SOURCE
#include "configs.h"

#include <glob.h>
#include <stdio.h>
#include <string.h>

#include "hostcheck.h"

static int has_gvt_types(void)
{
	glob_t g;
	int found = 0;

	if (glob("/sys/class/drm/card*/device/mdev_supported_types/*", 0, NULL, &g) == 0) {
		found = g.gl_pathc > 0;
		globfree(&g);
	}
	return found;
}

static const char *skip_reason(const struct host *h, char *buf, size_t len)
{
	if (strcmp(h->accel, "kvm") != 0) {
		snprintf(buf, len, "needs KVM (%s)", h->accel_reason);
		return buf;
	}
	if (!has_gvt_types())
		return "no GVT-g mdev types under /sys/class/drm/card*/device (needs a supported Intel iGPU, "
		       "i915.enable_gvt=1 and kvmgt)";
	return "GVT-g launcher is not built yet";
}

const struct config_def config_gvt_g = {
	.name = "gvt-g",
	.kind = CONFIG_GUEST,
	.description = "kernel GVT-g mediated device",
	.guest_kms_driver = "i915",
	.skip_reason = skip_reason,
};
