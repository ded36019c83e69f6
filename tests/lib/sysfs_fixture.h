/* sysfs_fixture.h: a fake sysfs tree for tests of what the harness reads
 * there (PCI devices, their drivers and IOMMU groups, mdev types): files
 * and symlinks under a temporary root, parents made as needed. */
#ifndef VGPUBENCH_SYSFS_FIXTURE_H
#define VGPUBENCH_SYSFS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static const char *fixture_root;

static inline char *fixture_path(const char *rel)
{
	char *path = vb_strdupf("%s/%s", fixture_root, rel), *dir = vb_strdup(path);

	*strrchr(dir, '/') = '\0';
	if (vb_mkdirs(dir, 0755) < 0)
		fprintf(stderr, "fixture: cannot make %s\n", dir);
	free(dir);
	return path;
}

/* A file at rel holding text. */
static inline void fixture_put(const char *rel, const char *text)
{
	char *path = fixture_path(rel);

	if (vb_write_file(path, text, strlen(text)) < 0)
		fprintf(stderr, "fixture: cannot write %s\n", path);
	free(path);
}

/* A symlink at rel to target (replacing one that is there). */
static inline void fixture_link(const char *rel, const char *target)
{
	char *path = fixture_path(rel);

	unlink(path);
	if (symlink(target, path) < 0)
		fprintf(stderr, "fixture: cannot link %s\n", path);
	free(path);
}

/* Remove rel (a file, a link or a whole folder). */
static inline void fixture_rm(const char *rel)
{
	char *path = vb_strdupf("%s/%s", fixture_root, rel);

	if (vb_rm_rf(path) < 0)
		fprintf(stderr, "fixture: cannot remove %s\n", path);
	free(path);
}

/* bus/pci/devices/BDF/NAME holding text, or (link != NULL) linking to link. */
static inline void fixture_attr(const char *bdf, const char *name, const char *text, const char *link)
{
	char *rel = vb_strdupf("bus/pci/devices/%s/%s", bdf, name);

	if (link)
		fixture_link(rel, link);
	else
		fixture_put(rel, text);
	free(rel);
}

/*
 * A PCI function: class, vendor, device, boot_vga, an empty driver_override
 * (the kernel shows "(null)"), its driver (NULL: none) and IOMMU group
 * (NULL: none; else the group lists it).
 */
static inline void fixture_pci(const char *bdf, const char *cls, const char *vendor, const char *device, int boot_vga,
			       const char *driver, const char *group)
{
	fixture_attr(bdf, "class", cls, NULL);
	fixture_attr(bdf, "vendor", vendor, NULL);
	fixture_attr(bdf, "device", device, NULL);
	fixture_attr(bdf, "boot_vga", boot_vga ? "1\n" : "0\n", NULL);
	fixture_attr(bdf, "driver_override", "(null)\n", NULL);
	if (driver) {
		char *bind = vb_strdupf("bus/pci/drivers/%s/bind", driver), *target = vb_strdupf("../../drivers/%s", driver);

		fixture_put(bind, "");
		fixture_attr(bdf, "driver", NULL, target);
		free(bind);
		free(target);
	}
	if (group) {
		char *target = vb_strdupf("../../../../kernel/iommu_groups/%s", group);
		char *member = vb_strdupf("kernel/iommu_groups/%s/devices/%s", group, bdf);
		char *back = vb_strdupf("../../../../bus/pci/devices/%s", bdf);

		fixture_attr(bdf, "iommu_group", NULL, target);
		fixture_link(member, back);
		free(target);
		free(member);
		free(back);
	}
}

#endif
