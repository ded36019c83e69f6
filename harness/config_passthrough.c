/* config_passthrough.c: one guest owns a spare GPU through VT-d/AMD-Vi
 * (vfio-pci). No back-end is started yet: the skip reason says what this
 * host lacks, in the order a lab host would fix it. */
#include "configs.h"

#include <stdio.h>
#include <string.h>

#include "hostcheck.h"

static const char *skip_reason(const struct host *h, char *buf, size_t len)
{
	if (strcmp(h->accel, "kvm") != 0) {
		snprintf(buf, len, "needs KVM (%s)", h->accel_reason);
		return buf;
	}
	if (!host_iommu_groups("/sys"))
		return "no IOMMU groups (VT-d/AMD-Vi off or absent: enable it in the firmware, boot with intel_iommu=on)";
	return "no spare GPU bound to vfio-pci";
}

const struct config_def config_passthrough = {
	.name = "passthrough",
	.kind = CONFIG_GUEST,
	.role = ROLE_PASSTHROUGH,
	.description = "one guest owns the physical GPU via vfio-pci",
	.skip_reason = skip_reason,
};
