/* config_qemu_virgl.c: peer baseline, QEMU's built-in virtio-gpu-gl-pci
 * (virgl in the QEMU process), shown through SDL GL in the run's Xvfb. */
#include "configs/configs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configs/gpu_backend.h"
#include "host/hostcheck.h"
#include "util.h"


static const char *skip_reason(const struct host *h, const struct plan *p, char *buf, size_t len)
{
	(void)p;
	(void)buf;
	(void)len;
	return h->has_xvfb ? NULL : "Xvfb is not installed (QEMU's SDL GL display needs it here; run make deps)";
}

static int start(struct gpu_backend *b, const struct backend_env *env, int n, char *err, size_t errlen)
{
	char *props = gpu_backend_display_props(env->plan);

	(void)err;
	(void)errlen;
	for (int i = 0; i < n; i++) {
		b->args[i][0] = "-device";
		b->args[i][1] = b->owned[i][1] = vb_strdupf("virtio-gpu-gl-pci%s", props);
		b->args[i][2] = "-display";
		b->args[i][3] = "sdl,gl=on";
		b->args[i][4] = NULL;
	}
	free(props);
	snprintf(b->description, sizeof(b->description), "QEMU's built-in virtio-gpu-gl-pci");
	return 0;
}

const struct config_def config_qemu_virgl = {
	.name = "qemu-virgl",
	.kind = CONFIG_GUEST,
	.description = "peer baseline: QEMU's built-in virtio-gpu-gl-pci (virgl)",
	.peer = 1,
	.guest_renderer = "virgl",
	.guest_kms_driver = "virtio_gpu",
	.needs_display = 1,
	.skip_reason = skip_reason,
	.start = start,
};
