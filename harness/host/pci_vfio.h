/* pci_vfio.h: hand one host PCI function to vfio-pci for a guest (VT-d or
 * AMD-Vi passthrough), and give it back. Every path is under a sysfs root
 * ("/sys", or a fixture tree in tests) and every write to the kernel goes
 * through one op, so the whole sequence (choose the device, check its IOMMU
 * group, bind, restore) runs against a fake kernel in unit tests and against
 * the real one on a lab host.
 *
 * The journal: before a device's binding changes, a line saying what it was
 * ("bind BDF DRIVER OVERRIDE", "-" for none) is written and synced to a file
 * in the run folder; "restored BDF" follows once the device is back. A run
 * holds its journal locked (flock) while it lives, so a later start restores
 * the bindings a killed run left behind, and never a live run's. */
#ifndef VGPUBENCH_PCI_VFIO_H
#define VGPUBENCH_PCI_VFIO_H

#include <stddef.h>

struct pci_kernel {
	const char *sysfs; /* the root: "/sys", or a fixture tree */
	/* Write val to the sysfs file at path (absolute). 0, or -1 with errno set. */
	int (*write)(const struct pci_kernel *k, const char *path, const char *val);
	void *priv;      /* the write op's own state (a fake kernel's) */
	double settle_s; /* how long a bind or unbind may take to show in sysfs */
};

/* The kernel under sysfs ("/sys" when NULL): writes go to the files themselves. */
void pci_kernel_init(struct pci_kernel *k, const char *sysfs);

/* Write val to <sysfs>/rel through k's op. 0, or -1 with what failed in err. */
int pci_kernel_write(const struct pci_kernel *k, const char *rel, const char *val, char *err, size_t len);

/* What sysfs says of one PCI function. */
struct pci_fn {
	char bdf[16];           /* domain:bus:device.function, e.g. 0000:01:00.0 */
	unsigned cls;           /* class code: 0x03xxxx display, 0x0604xx PCI bridge */
	unsigned vendor, device;
	char driver[32];        /* the bound driver, "" when none */
	char override[32];      /* driver_override, "" when none */
	char group[16];         /* its IOMMU group, "" when it has none */
	int console;            /* the host console shows on it (boot_vga, or fb0's device) */
};

/* Read function bdf. 0, or -1 (no such device, or a name that is no BDF). */
int pci_fn_read(const struct pci_kernel *k, const char *bdf, struct pci_fn *f);

/* Is s a PCI address in the full form (0000:01:00.0)? */
int pci_bdf_valid(const char *s);

/*
 * The device a passthrough guest gets: want is a BDF, or "auto" (NULL too):
 * the first display-class function the host console does not use, one
 * already bound to vfio-pci first. 0, or -1 with the reason in err.
 */
int pci_vfio_choose(const struct pci_kernel *k, const char *want, struct pci_fn *out, char *err, size_t len);

/*
 * Can f's IOMMU group be handed to a guest? The IOMMU must have put f in a
 * group, and every other member must be bound to vfio-pci or pci-stub, be
 * unbound, or be a PCI bridge (vfio's own rule). 0, or -1 naming the members
 * in the way and what to do.
 */
int pci_vfio_group_check(const struct pci_kernel *k, const struct pci_fn *f, char *err, size_t len);

/* The DRM driver a guest's kernel puts on f ("virtio_gpu", "i915", ...), or NULL when it cannot be told. */
const char *pci_vfio_guest_driver(const struct pci_fn *f);

struct pci_journal {
	int fd; /* locked while open; -1 when closed */
	char path[512];
};

/* Open (create) the journal at path and lock it. 0, or -1 with err (another run holds it, or it cannot be made). */
int pci_journal_open(struct pci_journal *j, const char *path, char *err, size_t len);
void pci_journal_close(struct pci_journal *j);
/* One line into the journal, on disk (fsync) when this returns 0; -1 with err. */
int pci_journal_add(struct pci_journal *j, const char *line, char *err, size_t len);

/*
 * Bind f to vfio-pci through driver_override, its old binding journaled
 * first. 0, or -1 with err; the journal keeps what was changed, for
 * pci_vfio_restore.
 */
int pci_vfio_bind(const struct pci_kernel *k, struct pci_journal *j, const struct pci_fn *f, char *err, size_t len);

/*
 * Give every device the journal holds as bound back to its old driver and
 * override, and mark it restored. The number restored, or -1 with what
 * could not be (the rest is still tried).
 */
int pci_vfio_restore(const struct pci_kernel *k, struct pci_journal *j, char *err, size_t len);

/*
 * Undo what a journal holds, the last change first: each line `done` KEY ...
 * (a change, its key validated by key_ok) not followed by a line `undone`
 * KEY is undone with undo(k, the change's line, why) and then marked so. The
 * number undone, or -1 with what could not be (the rest is still tried).
 * `what` names the journal in messages ("passthrough", "mdev").
 */
struct pci_journal_kind {
	const char *what, *done, *undone;
	int (*key_ok)(const char *key);
	int (*undo)(const struct pci_kernel *k, const char *line, char *why, size_t len);
};
int pci_journal_replay(const struct pci_kernel *k, struct pci_journal *j, const struct pci_journal_kind *kind,
		       char *err, size_t len);

/* What undoes a journal's changes (pci_vfio_restore, mdev_remove_all): the number undone, or -1 with err. */
typedef int (*pci_undo_fn)(const struct pci_kernel *k, struct pci_journal *j, char *err, size_t len);

/*
 * For each journal matching pattern (a glob) that no live run holds (the
 * journals of runs that were killed), undo what it holds with `undo`. The
 * number undone, or -1 with what could not be (the rest is still tried).
 */
int pci_journal_recover(const struct pci_kernel *k, const char *pattern, pci_undo_fn undo, char *err, size_t len);

/* A back-end's hold on host devices: the kernel it writes through and the journal of what it changed there. */
struct pci_hold {
	struct pci_kernel k;
	struct pci_journal j;
};

/* A hold on the kernel under sysfs (NULL: "/sys") with its journal at path, locked. NULL with why in err. */
struct pci_hold *pci_hold_open(const char *sysfs, const char *journal, char *err, size_t len);

/* Undo what the hold's journal holds, then close and free it (NULL: nothing). 0, or -1 with what is left and the
 * journal that keeps it. */
int pci_hold_release(struct pci_hold *h, pci_undo_fn undo, char *err, size_t len);

/*
 * At a run's start: undo what the journals named `name` in the topology
 * folders of the runs under results_dir hold, for each one no live run
 * holds. The number undone, or -1 with what could not be.
 */
int pci_hold_recover(const char *sysfs, const char *results_dir, const char *name, pci_undo_fn undo, char *err,
		     size_t len);

/*
 * Restore what the journals matching pattern (a glob) hold, for each one no
 * live run has locked: the bindings of runs that were killed. The number of
 * devices restored, or -1 with what could not be.
 */
int pci_vfio_recover(const struct pci_kernel *k, const char *pattern, char *err, size_t len);

#endif
