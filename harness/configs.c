/* configs.c: the run configurations known to vgpubench. Whether the host can
 * run one is decided by hostcheck.c; this table only says what each one is. */
#include "configs.h"

#include <string.h>

static const struct config_def configs[] = {
	{ "native", CONFIG_HOST, "workload on the host, straight on the host GPU", NULL, NULL, NULL },
	{ "qemu-virgl", CONFIG_GUEST, "peer baseline: QEMU's built-in virtio-gpu-gl-pci (virgl)", "virgl",
	  "virtio_gpu", NULL },
	{ "mediated", CONFIG_GUEST, "guests served by one vgpu-mediator process over vhost-user-gpu", "virgl",
	  "virtio_gpu", NULL },
	{ "qemu-vhost-user-gpu", CONFIG_GUEST, "peer baseline: QEMU's own vhost-user-gpu back-end, one per guest",
	  "virgl", "virtio_gpu", NULL },
	{ "passthrough", CONFIG_GUEST, "one guest owns the physical GPU via vfio-pci", NULL, NULL, NULL },
	{ "gvt-g", CONFIG_GUEST, "kernel GVT-g mediated device", NULL, "i915", NULL },
};

const struct config_def *config_find(const char *name)
{
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		if (strcmp(configs[i].name, name) == 0)
			return &configs[i];
	return NULL;
}

const struct config_def *config_at(size_t i)
{
	return i < sizeof(configs) / sizeof(configs[0]) ? &configs[i] : NULL;
}
