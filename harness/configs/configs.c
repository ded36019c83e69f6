/* configs.c: the registry of run configurations. One list, CONFIG_LIST,
 * names each configuration's definition (config_<id> in config_<id>.c);
 * the declarations and the table are generated from it. */
#include "configs/configs.h"

#include <string.h>

#define CONFIG_LIST(X) X(native) X(qemu_virgl) X(mediated) X(qemu_vhost_user_gpu) X(passthrough) X(gvt_g)

#define DECLARE(id) extern const struct config_def config_##id;
CONFIG_LIST(DECLARE)
#undef DECLARE

#define ENTRY(id) &config_##id,
static const struct config_def *const configs[] = { CONFIG_LIST(ENTRY) };
#undef ENTRY

#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))

const struct config_def *config_find(const char *name)
{
	for (size_t i = 0; name && i < NCONFIGS; i++)
		if (strcmp(configs[i]->name, name) == 0)
			return configs[i];
	return NULL;
}

const struct config_def *config_at(size_t i)
{
	return i < NCONFIGS ? configs[i] : NULL;
}

const struct config_def *config_with_role(enum config_role role)
{
	for (size_t i = 0; i < NCONFIGS; i++)
		if (role != ROLE_NONE && configs[i]->role == role)
			return configs[i];
	return NULL;
}

int config_rank(const char *name)
{
	const struct config_def *c = config_find(name);

	if (!c)
		return 5;
	switch (c->role) {
	case ROLE_NATIVE:
		return 0;
	case ROLE_PASSTHROUGH:
		return 1;
	case ROLE_MEDIATED:
		return 2;
	default:
		return c->peer ? 3 : 4;
	}
}

const char *config_baseline(void)
{
	const struct config_def *c = config_with_role(ROLE_NATIVE);

	return c ? c->name : "";
}
