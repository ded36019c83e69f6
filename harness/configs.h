/* configs.h: the registry of run configurations a plan can name
 * (DESIGN.md §2): where the workload runs and which GPU path it must use. */
#ifndef VGPUBENCH_CONFIGS_H
#define VGPUBENCH_CONFIGS_H

#include <stddef.h>

enum config_kind {
	CONFIG_HOST,  /* workload runs on the host itself */
	CONFIG_GUEST, /* workload runs in QEMU guests */
};

struct config_def {
	const char *name;
	enum config_kind kind;
	const char *description;
	/* Substring GL_RENDERER must contain in a guest (NULL: not checked). */
	const char *guest_renderer;
	/* The KMS driver a guest's 2D workloads must run on (NULL: not checked). */
	const char *guest_kms_driver;
	/* Why this build cannot run it at all (not yet built), or NULL. */
	const char *unavailable;
};

const struct config_def *config_find(const char *name);
const struct config_def *config_at(size_t i); /* NULL past the end */

#endif
