/* mdev.h: mediated devices (the kernel's vfio-mdev, e.g. Intel GVT-g's
 * vGPUs): the types a host's devices offer, one instance created per guest
 * and removed afterwards. Every path is under a sysfs root and every write
 * goes through the kernel op of pci_vfio.h, so it runs against a fake kernel
 * in unit tests. Creations are journaled like passthrough's bindings
 * ("create UUID TYPE-PATH" before the write, "removed UUID" after), in a
 * journal a live run holds locked, so a later start removes what a killed
 * run left behind. */
#ifndef VGPUBENCH_MDEV_H
#define VGPUBENCH_MDEV_H

#include <stddef.h>

#include "host/pci_vfio.h"

struct mdev_type {
	char parent[16];       /* the parent device's PCI address */
	char id[64];           /* the type's folder name, e.g. i915-GVTg_V5_4 */
	char name[64];         /* its name file ("" when absent) */
	char description[256]; /* its description file, on one line */
	int available;         /* available_instances */
};

/* The types whose id starts with prefix (NULL: every type), in parent and id order, at most max. Their count. */
int mdev_types(const struct pci_kernel *k, const char *prefix, struct mdev_type *out, int max);

/*
 * The type n guests get: want is a type id, or "auto" (NULL too): among
 * those matching prefix, the one with the most instances left. 0, or -1
 * with why in err (none, not enough instances, an unknown id).
 */
int mdev_choose(const struct pci_kernel *k, const char *prefix, const char *want, int n, struct mdev_type *out,
		char *err, size_t len);

/* Where an instance lives: <sysfs>/bus/mdev/devices/UUID (what QEMU's vfio-pci sysfsdev= takes). */
void mdev_path(const struct pci_kernel *k, const char *uuid, char *out, size_t len);

/* Create an instance of t (journaled first); its UUID into uuid (37 bytes). 0, or -1 with err. */
int mdev_create(const struct pci_kernel *k, struct pci_journal *j, const struct mdev_type *t, char *uuid, char *err,
		size_t len);

/* Remove every instance the journal holds as created and not removed. The number removed, or -1 with err. */
int mdev_remove_all(const struct pci_kernel *k, struct pci_journal *j, char *err, size_t len);

/* mdev_remove_all for each journal matching pattern that no live run holds. The number removed, or -1 with err. */
int mdev_recover(const struct pci_kernel *k, const char *pattern, char *err, size_t len);

#endif
