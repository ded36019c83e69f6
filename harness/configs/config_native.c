/* config_native.c: the workload on the host, straight on the host GPU
 * (llvmpipe where the host has none, recorded as such): the baseline. */
#include "configs/configs.h"

const struct config_def config_native = {
	.name = "native",
	.kind = CONFIG_HOST,
	.description = "workload on the host, straight on the host GPU",
	.role = ROLE_NATIVE,
	.slowdown = "CPU quota",
};
