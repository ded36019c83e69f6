/* sysinfo.h: facts about the machine the agent runs on, for the hello reply. */
#ifndef VGPU_AGENT_SYSINFO_H
#define VGPU_AGENT_SYSINFO_H

#include <json-c/json.h>

/* Add kernel, cpus, mem_kb and drm fields to obj. sysfs_root is normally "/sys". */
void sysinfo_fill(struct json_object *obj, const char *sysfs_root);

#endif
