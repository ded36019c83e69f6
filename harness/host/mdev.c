/* mdev.c: mediated devices: types, instances, journal (see the header). */
#define _GNU_SOURCE
#include "host/mdev.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define MDEV_ROOT "bus/mdev/devices"

/* A small file's text on one line (control characters become spaces), or "" when absent. */
static void read_line(const char *path, char *out, size_t len)
{
	char *text = vb_read_file_max(path, 4096, NULL);
	size_t k = 0;

	for (const char *p = text; p && *p && k + 1 < len; p++)
		out[k++] = iscntrl((unsigned char)*p) ? ' ' : *p;
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
	free(text);
}

int mdev_types(const struct pci_kernel *k, const char *prefix, struct mdev_type *out, int max)
{
	char *pat = vb_strdupf("%s/bus/pci/devices/*/mdev_supported_types/*", k->sysfs);
	glob_t g;
	int n = 0;

	if (glob(pat, 0, NULL, &g) != 0) {
		free(pat);
		return 0;
	}
	for (size_t i = 0; i < g.gl_pathc && n < max; i++) {
		const char *path = g.gl_pathv[i], *id = strrchr(path, '/') + 1;
		const char *types = strstr(path, "/mdev_supported_types/"), *dev = types;
		struct mdev_type *t = &out[n];
		char num[32], *file;

		if (prefix && strncmp(id, prefix, strlen(prefix)) != 0)
			continue;
		while (dev > path && dev[-1] != '/')
			dev--;
		memset(t, 0, sizeof(*t));
		if ((size_t)(types - dev) >= sizeof(t->parent) || strlen(id) >= sizeof(t->id))
			continue;
		memcpy(t->parent, dev, (size_t)(types - dev));
		strcpy(t->id, id);
		file = vb_strdupf("%s/name", path);
		read_line(file, t->name, sizeof(t->name));
		free(file);
		file = vb_strdupf("%s/description", path);
		read_line(file, t->description, sizeof(t->description));
		free(file);
		file = vb_strdupf("%s/available_instances", path);
		read_line(file, num, sizeof(num));
		free(file);
		t->available = num[0] ? atoi(num) : 0;
		n++;
	}
	globfree(&g);
	free(pat);
	return n;
}

int mdev_choose(const struct pci_kernel *k, const char *prefix, const char *want, int n, struct mdev_type *out,
		char *err, size_t len)
{
	struct mdev_type types[64];
	int nt = mdev_types(k, prefix, types, 64), best = -1;
	int named = want && want[0] && strcmp(want, "auto") != 0;

	if (!nt) {
		snprintf(err, len, "no %s mdev types under %s/bus/pci/devices/*/mdev_supported_types", prefix ? prefix : "",
			 k->sysfs);
		return -1;
	}
	for (int i = 0; i < nt; i++) {
		if (named && strcmp(types[i].id, want) != 0)
			continue;
		if (best < 0 || types[i].available > types[best].available)
			best = i;
	}
	if (best < 0) {
		char known[512] = "";

		for (int i = 0; i < nt; i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "", types[i].id);
		snprintf(err, len, "no mdev type %s here (there are: %s)", want, known);
		return -1;
	}
	if (types[best].available < n) {
		snprintf(err, len, "%s on %s has %d instance%s left, %d guest%s need one each", types[best].id,
			 types[best].parent, types[best].available, types[best].available == 1 ? "" : "s", n,
			 n == 1 ? "" : "s");
		return -1;
	}
	*out = types[best];
	return 0;
}

void mdev_path(const struct pci_kernel *k, const char *uuid, char *out, size_t len)
{
	snprintf(out, len, "%s/" MDEV_ROOT "/%s", k->sysfs, uuid);
}

static int uuid_valid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A fresh random UUID from the kernel. 0 or -1. */
static int new_uuid(char *uuid)
{
	char line[64];

	read_line("/proc/sys/kernel/random/uuid", line, sizeof(line));
	if (!uuid_valid(line))
		return -1;
	strcpy(uuid, line);
	return 0;
}

int mdev_create(const struct pci_kernel *k, struct pci_journal *j, const struct mdev_type *t, char *uuid, char *err,
		size_t len)
{
	char line[160], path[512], *rel;
	double until = vb_now() + k->settle_s;
	int rc;

	if (new_uuid(uuid) < 0) {
		snprintf(err, len, "no UUID from /proc/sys/kernel/random/uuid");
		return -1;
	}
	snprintf(line, sizeof(line), "create %s %s %s\n", uuid, t->parent, t->id);
	if (pci_journal_add(j, line, err, len) < 0)
		return -1;
	rel = vb_strdupf("bus/pci/devices/%s/mdev_supported_types/%s/create", t->parent, t->id);
	rc = pci_kernel_write(k, rel, uuid, err, len);
	free(rel);
	if (rc < 0)
		return -1;
	mdev_path(k, uuid, path, sizeof(path));
	while (access(path, F_OK) < 0) {
		if (vb_now() >= until) {
			snprintf(err, len, "%.36s of type %.63s did not appear at %.300s within %.0f s", uuid, t->id, path,
				 k->settle_s);
			return -1;
		}
		usleep(20000);
	}
	return 0;
}

/* Remove one instance (gone already is fine). 0, or -1 with err. */
static int remove_one(const struct pci_kernel *k, const char *uuid, char *err, size_t len)
{
	char path[512], *rel;
	double until = vb_now() + k->settle_s;
	int rc;

	mdev_path(k, uuid, path, sizeof(path));
	if (access(path, F_OK) < 0)
		return 0;
	rel = vb_strdupf(MDEV_ROOT "/%s/remove", uuid);
	rc = pci_kernel_write(k, rel, "1", err, len);
	free(rel);
	if (rc < 0)
		return -1;
	while (access(path, F_OK) == 0) {
		if (vb_now() >= until) {
			snprintf(err, len, "%.400s is still there %.0f s after its removal (in use?)", path, k->settle_s);
			return -1;
		}
		usleep(20000);
	}
	return 0;
}

/* Undo one journaled instance: "create UUID ...". */
static int remove_line(const struct pci_kernel *k, const char *line, char *why, size_t len)
{
	char u[40];

	if (sscanf(line, "create %39s", u) != 1) {
		snprintf(why, len, "a journal line that is no instance: %s", line);
		return -1;
	}
	return remove_one(k, u, why, len);
}

int mdev_remove_all(const struct pci_kernel *k, struct pci_journal *j, char *err, size_t len)
{
	static const struct pci_journal_kind kind = {
		.what = "mdev", .done = "create", .undone = "removed", .key_ok = uuid_valid, .undo = remove_line
	};

	return pci_journal_replay(k, j, &kind, err, len);
}

int mdev_recover(const struct pci_kernel *k, const char *pattern, char *err, size_t len)
{
	return pci_journal_recover(k, pattern, mdev_remove_all, err, len);
}
