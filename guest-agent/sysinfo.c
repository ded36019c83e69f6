/* sysinfo.c: kernel, CPU count, memory and DRM devices (with their kernel
 * driver names) of the machine the agent runs on. */
#define _GNU_SOURCE
#include "sysinfo.h"

#include <dirent.h>
#include <fcntl.h>
#include <drm.h>
#include <sys/ioctl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static long long meminfo_kb(const char *key)
{
	char line[256];
	long long v = -1;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The DRM driver's own name (e.g. "virtio_gpu"), asked of the device node. */
static struct json_object *drm_driver(const char *node)
{
	char path[64], name[64] = "";
	struct drm_version v;
	int fd;

	snprintf(path, sizeof(path), "/dev/dri/%s", node);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	memset(&v, 0, sizeof(v));
	v.name = name;
	v.name_len = sizeof(name) - 1;
	if (ioctl(fd, DRM_IOCTL_VERSION, &v) < 0) {
		close(fd);
		return NULL;
	}
	close(fd);
	name[sizeof(name) - 1] = '\0';
	return json_object_new_string(name);
}

static struct json_object *drm_devices(const char *sysfs_root)
{
	struct json_object *arr = json_object_new_array();
	char path[PATH_MAX], link[PATH_MAX];
	char *names[64];
	int n = 0;
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/class/drm", sysfs_root);
	d = opendir(path);
	if (!d)
		return arr;
	while ((de = readdir(d)) && n < 64) {
		/* Device nodes only: card0, renderD128; not connectors like card0-Virtual-1. */
		if ((strncmp(de->d_name, "card", 4) == 0 || strncmp(de->d_name, "renderD", 7) == 0) &&
		    !strchr(de->d_name, '-'))
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		ssize_t len;

		if (!names[i])
			continue;
		json_object_object_add(o, "node", json_object_new_string(names[i]));
		json_object_object_add(o, "driver", drm_driver(names[i]));
		snprintf(path, sizeof(path), "%s/class/drm/%s/device/driver", sysfs_root, names[i]);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0) {
			link[len] = '\0';
			char *base = strrchr(link, '/');

			json_object_object_add(o, "bus_driver", json_object_new_string(base ? base + 1 : link));
		}
		json_object_array_add(arr, o);
		free(names[i]);
	}
	return arr;
}

void sysinfo_fill(struct json_object *obj, const char *sysfs_root)
{
	struct utsname u;

	if (uname(&u) == 0) {
		json_object_object_add(obj, "kernel", json_object_new_string(u.release));
		json_object_object_add(obj, "kernel_version", json_object_new_string(u.version));
		json_object_object_add(obj, "machine", json_object_new_string(u.machine));
	}
	json_object_object_add(obj, "cpus", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(obj, "mem_kb", json_object_new_int64(meminfo_kb("MemTotal")));
	json_object_object_add(obj, "drm", drm_devices(sysfs_root));
}
