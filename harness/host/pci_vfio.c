/* pci_vfio.c: a host PCI function to vfio-pci and back, journaled (see the header). */
#define _GNU_SOURCE
#include "host/pci_vfio.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define VFIO_DRIVER "vfio-pci"

static int sys_write(const struct pci_kernel *k, const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), e;
	size_t n = strlen(val);
	ssize_t w;

	(void)k;
	if (fd < 0)
		return -1;
	w = write(fd, val, n);
	e = errno;
	close(fd);
	if (w != (ssize_t)n) {
		errno = w < 0 ? e : EIO;
		return -1;
	}
	return 0;
}

void pci_kernel_init(struct pci_kernel *k, const char *sysfs)
{
	memset(k, 0, sizeof(*k));
	k->sysfs = sysfs ? sysfs : "/sys";
	k->write = sys_write;
	k->settle_s = 5;
}

int pci_bdf_valid(const char *s)
{
	/* dddd:bb:dd.f, hex, function 0-7 */
	static const char shape[] = "xxxx:xx:xx.f";

	if (!s || strlen(s) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'x' && !isxdigit((unsigned char)s[i]))
			return 0;
		if ((shape[i] == ':' || shape[i] == '.') && s[i] != shape[i])
			return 0;
		if (shape[i] == 'f' && (s[i] < '0' || s[i] > '7'))
			return 0;
	}
	return 1;
}

/* The last element of the link at path ("" when it is no link). */
static void link_base(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;

	out[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) < len)
		memcpy(out, base, strlen(base) + 1);
}

/* A small sysfs attribute's first line (malloc'd), or NULL. */
static char *attr(const struct pci_kernel *k, const char *bdf, const char *name)
{
	char *path = vb_strdupf("%s/bus/pci/devices/%s/%s", k->sysfs, bdf, name);
	char *text = vb_read_file_max(path, 256, NULL);

	free(path);
	if (text)
		text[strcspn(text, "\n")] = '\0';
	return text;
}

static unsigned attr_hex(const struct pci_kernel *k, const char *bdf, const char *name)
{
	char *text = attr(k, bdf, name);
	unsigned v = text ? (unsigned)strtoul(text, NULL, 16) : 0;

	free(text);
	return v;
}

int pci_fn_read(const struct pci_kernel *k, const char *bdf, struct pci_fn *f)
{
	char *dir, *p, *text, fb[32];

	memset(f, 0, sizeof(*f));
	if (!pci_bdf_valid(bdf))
		return -1;
	dir = vb_strdupf("%s/bus/pci/devices/%s", k->sysfs, bdf);
	if (access(dir, F_OK) < 0) {
		free(dir);
		return -1;
	}
	snprintf(f->bdf, sizeof(f->bdf), "%s", bdf);
	f->cls = attr_hex(k, bdf, "class");
	f->vendor = attr_hex(k, bdf, "vendor");
	f->device = attr_hex(k, bdf, "device");
	p = vb_strdupf("%s/driver", dir);
	link_base(p, f->driver, sizeof(f->driver));
	free(p);
	p = vb_strdupf("%s/iommu_group", dir);
	link_base(p, f->group, sizeof(f->group));
	free(p);
	/* The kernel shows an unset override as "(null)". */
	text = attr(k, bdf, "driver_override");
	if (text && strcmp(text, "(null)") != 0 && strlen(text) < sizeof(f->override))
		strcpy(f->override, text);
	free(text);
	text = attr(k, bdf, "boot_vga");
	f->console = text && text[0] == '1';
	free(text);
	p = vb_strdupf("%s/class/graphics/fb0/device", k->sysfs);
	link_base(p, fb, sizeof(fb));
	f->console |= strcmp(fb, bdf) == 0;
	free(p);
	free(dir);
	return 0;
}

static int is_display(const struct pci_fn *f)
{
	return f->cls >> 16 == 0x03;
}

static int is_bridge(const struct pci_fn *f)
{
	return f->cls >> 8 == 0x0604;
}

static int name_sort(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* "BDF (driver[, the console's])" appended to buf. */
static void describe(char *buf, size_t len, const struct pci_fn *f)
{
	size_t at = strlen(buf);

	snprintf(buf + at, len - at, "%s%s (%s%s)", at ? ", " : "", f->bdf, f->driver[0] ? f->driver : "no driver",
		 f->console ? ", the console's" : "");
}

int pci_vfio_choose(const struct pci_kernel *k, const char *want, struct pci_fn *out, char *err, size_t len)
{
	char *dir, seen[512] = "";
	struct dirent **names = NULL;
	int n, found = 0;

	if (want && want[0] && strcmp(want, "auto") != 0) {
		if (!pci_bdf_valid(want)) {
			snprintf(err, len, "'%.64s' is not a PCI address in full form (like 0000:03:00.0)", want);
			return -1;
		}
		if (pci_fn_read(k, want, out) < 0) {
			snprintf(err, len, "no PCI device %s under %s/bus/pci/devices", want, k->sysfs);
			return -1;
		}
		if (!is_display(out)) {
			snprintf(err, len, "%s is not a display-class device (class 0x%06x)", want, out->cls);
			return -1;
		}
		if (out->console) {
			snprintf(err, len, "%s shows the host console: handing it to a guest takes the console away "
				 "(name a spare GPU)", want);
			return -1;
		}
		return 0;
	}
	dir = vb_strdupf("%s/bus/pci/devices", k->sysfs);
	n = scandir(dir, &names, NULL, name_sort);
	free(dir);
	/* Two passes: a device already on vfio-pci first, then any spare one. */
	for (int pass = 0; pass < 2 && !found; pass++)
		for (int i = 0; i < n && !found; i++) {
			struct pci_fn f;

			if (pci_fn_read(k, names[i]->d_name, &f) < 0 || !is_display(&f))
				continue;
			if (pass == 0)
				describe(seen, sizeof(seen), &f);
			if (!f.console && (pass == 1 || strcmp(f.driver, VFIO_DRIVER) == 0)) {
				*out = f;
				found = 1;
			}
		}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (found)
		return 0;
	if (seen[0])
		snprintf(err, len, "no spare GPU: the display-class devices here are %s", seen);
	else
		snprintf(err, len, "no spare GPU: no display-class PCI device under %s/bus/pci/devices", k->sysfs);
	return -1;
}

int pci_vfio_group_check(const struct pci_kernel *k, const struct pci_fn *f, char *err, size_t len)
{
	char *dir, busy[768] = "";
	struct dirent **names = NULL;
	int n;

	if (!f->group[0]) {
		snprintf(err, len, "%s is in no IOMMU group: the IOMMU is off (enable VT-d or AMD-Vi in the firmware and "
			 "boot with intel_iommu=on or amd_iommu=on)", f->bdf);
		return -1;
	}
	dir = vb_strdupf("%s/kernel/iommu_groups/%s/devices", k->sysfs, f->group);
	n = scandir(dir, &names, NULL, name_sort);
	if (n < 0) {
		snprintf(err, len, "IOMMU group %s of %s: cannot list %s: %s", f->group, f->bdf, dir, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	for (int i = 0; i < n; i++) {
		struct pci_fn m;

		if (names[i]->d_name[0] != '.' && strcmp(names[i]->d_name, f->bdf) != 0 &&
		    pci_fn_read(k, names[i]->d_name, &m) == 0 && !is_bridge(&m) && m.driver[0] &&
		    strcmp(m.driver, VFIO_DRIVER) != 0 && strcmp(m.driver, "pci-stub") != 0)
			describe(busy, sizeof(busy), &m);
		free(names[i]);
	}
	free(names);
	if (busy[0]) {
		snprintf(err, len, "IOMMU group %s of %s also holds %s: a guest gets a whole group, so bind each of them "
			 "to vfio-pci (or unbind it) first, or pass a device whose group is its own", f->group, f->bdf,
			 busy);
		return -1;
	}
	return 0;
}

const char *pci_vfio_guest_driver(const struct pci_fn *f)
{
	/* Devices QEMU emulates (the nested lab's GPUs), then the host's own DRM driver, then the vendor's. */
	static const struct {
		unsigned vendor, device;
		const char *drm;
	} emulated[] = {
		{ 0x1af4, 0x1050, "virtio_gpu" },
		{ 0x1234, 0x1111, "bochs-drm" },
		{ 0x1b36, 0x0100, "qxl" },
		{ 0x15ad, 0x0405, "vmwgfx" },
	};
	static const char *const drm_drivers[] = { "i915", "xe", "amdgpu", "radeon", "nouveau", "ast", "mgag200" };
	static const struct {
		unsigned vendor;
		const char *drm;
	} vendors[] = { { 0x8086, "i915" }, { 0x1002, "amdgpu" }, { 0x10de, "nouveau" } };

	for (size_t i = 0; i < sizeof(emulated) / sizeof(emulated[0]); i++)
		if (f->vendor == emulated[i].vendor && f->device == emulated[i].device)
			return emulated[i].drm;
	for (size_t i = 0; i < sizeof(drm_drivers) / sizeof(drm_drivers[0]); i++)
		if (strcmp(f->driver, drm_drivers[i]) == 0)
			return drm_drivers[i];
	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		if (f->vendor == vendors[i].vendor)
			return vendors[i].drm;
	return NULL;
}

int pci_journal_open(struct pci_journal *j, const char *path, char *err, size_t len)
{
	j->fd = -1;
	if (strlen(path) >= sizeof(j->path)) {
		snprintf(err, len, "journal path too long: %s", path);
		return -1;
	}
	strcpy(j->path, path);
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (j->fd < 0) {
		snprintf(err, len, "cannot open the passthrough journal %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(j->fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, len, "the passthrough journal %s is held by a running vgpubench", path);
		close(j->fd);
		j->fd = -1;
		return -1;
	}
	return 0;
}

void pci_journal_close(struct pci_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

int pci_journal_add(struct pci_journal *j, const char *line, char *err, size_t len)
{
	size_t n = strlen(line);

	if (write(j->fd, line, n) != (ssize_t)n || fsync(j->fd) < 0) {
		snprintf(err, len, "cannot write the passthrough journal %s: %s", j->path, strerror(errno));
		return -1;
	}
	return 0;
}

int pci_kernel_write(const struct pci_kernel *k, const char *rel, const char *val, char *err, size_t len)
{
	char *path = vb_strdupf("%s/%s", k->sysfs, rel);
	int rc = k->write(k, path, val);

	if (rc < 0)
		snprintf(err, len, "writing '%.40s' to %s: %s", val[0] == '\n' ? "\\n" : val, path, strerror(errno));
	free(path);
	return rc;
}

static int kwrite(const struct pci_kernel *k, const char *val, char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int kwrite(const struct pci_kernel *k, const char *val, char *err, size_t len, const char *fmt, ...)
{
	char rel[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	return pci_kernel_write(k, rel, val, err, len);
}

/* Wait until bdf's driver is `want` ("" for none). 0, or -1 with what it is instead. */
static int settle(const struct pci_kernel *k, const char *bdf, const char *want, char *now, size_t nowlen)
{
	double until = vb_now() + k->settle_s;
	struct pci_fn f;

	for (;;) {
		if (pci_fn_read(k, bdf, &f) < 0) {
			snprintf(now, nowlen, "gone");
			return -1;
		}
		if (strcmp(f.driver, want) == 0)
			return 0;
		if (vb_now() >= until) {
			snprintf(now, nowlen, "%s", f.driver[0] ? f.driver : "no driver");
			return -1;
		}
		usleep(20000);
	}
}

/* Is vfio-pci registered? On the real kernel, load it when it is not. */
static int vfio_driver_ready(const struct pci_kernel *k, char *err, size_t len)
{
	char *dir = vb_strdupf("%s/bus/pci/drivers/" VFIO_DRIVER, k->sysfs);
	int ok = access(dir, F_OK) == 0;

	if (!ok && strcmp(k->sysfs, "/sys") == 0) {
		char *argv[] = { "modprobe", VFIO_DRIVER, NULL };
		int st;
		char *out = vb_capture(argv, &st);

		free(out);
		ok = access(dir, F_OK) == 0;
	}
	if (!ok)
		snprintf(err, len, "the vfio-pci driver is not loaded (%s is missing; modprobe vfio-pci)", dir);
	free(dir);
	return ok ? 0 : -1;
}

int pci_vfio_bind(const struct pci_kernel *k, struct pci_journal *j, const struct pci_fn *f, char *err, size_t len)
{
	char line[128], now[32];

	if (strcmp(f->driver, VFIO_DRIVER) == 0)
		return 0; /* bound by the host's owner: it stays so */
	if (vfio_driver_ready(k, err, len) < 0)
		return -1;
	snprintf(line, sizeof(line), "bind %s %s %s\n", f->bdf, f->driver[0] ? f->driver : "-",
		 f->override[0] ? f->override : "-");
	if (pci_journal_add(j, line, err, len) < 0)
		return -1;
	if (kwrite(k, VFIO_DRIVER, err, len, "bus/pci/devices/%s/driver_override", f->bdf) < 0)
		return -1;
	if (f->driver[0] && kwrite(k, f->bdf, err, len, "bus/pci/drivers/%s/unbind", f->driver) < 0)
		return -1;
	if (kwrite(k, f->bdf, err, len, "bus/pci/drivers_probe") < 0)
		return -1;
	if (settle(k, f->bdf, VFIO_DRIVER, now, sizeof(now)) < 0) {
		snprintf(err, len, "%s did not bind to vfio-pci within %.0f s (its driver: %s)", f->bdf, k->settle_s, now);
		return -1;
	}
	return 0;
}

/* Give one journaled device back. 0, or -1 with err. */
static int restore_one(const struct pci_kernel *k, const char *bdf, const char *driver, const char *override,
		       char *err, size_t len)
{
	struct pci_fn f;
	char now[32];
	const char *want = strcmp(driver, "-") == 0 ? "" : driver;

	if (pci_fn_read(k, bdf, &f) < 0) {
		snprintf(err, len, "%s is gone from %s/bus/pci/devices", bdf, k->sysfs);
		return -1;
	}
	if (kwrite(k, strcmp(override, "-") == 0 ? "\n" : override, err, len, "bus/pci/devices/%s/driver_override",
		   bdf) < 0)
		return -1;
	if (f.driver[0] && strcmp(f.driver, want) != 0 &&
	    kwrite(k, bdf, err, len, "bus/pci/drivers/%s/unbind", f.driver) < 0)
		return -1;
	if (want[0] && (f.driver[0] == '\0' || strcmp(f.driver, want) != 0) &&
	    kwrite(k, bdf, err, len, "bus/pci/drivers/%s/bind", want) < 0 &&
	    kwrite(k, bdf, err, len, "bus/pci/drivers_probe") < 0)
		return -1;
	if (settle(k, bdf, want, now, sizeof(now)) < 0) {
		snprintf(err, len, "%s did not go back to %s within %.0f s (its driver: %s)", bdf,
			 want[0] ? want : "no driver", k->settle_s, now);
		return -1;
	}
	return 0;
}

#define JOURNAL_MAX_ENTRIES 64
#define JOURNAL_MAX_LINE 128

int pci_journal_replay(const struct pci_kernel *k, struct pci_journal *j, const struct pci_journal_kind *kind,
		       char *err, size_t len)
{
	char *text = vb_read_file_max(j->path, 1 << 20, NULL), *save = NULL;
	char line[JOURNAL_MAX_ENTRIES][JOURNAL_MAX_LINE], key[JOURNAL_MAX_ENTRIES][48];
	size_t ldone = strlen(kind->done), lundone = strlen(kind->undone);
	int n = 0, undone = 0, failed = 0;

	if (!text) {
		snprintf(err, len, "cannot read the %s journal %s: %s", kind->what, j->path, vb_strerror(errno));
		return -1;
	}
	err[0] = '\0';
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char kk[48];

		if (!strncmp(l, kind->done, ldone) && l[ldone] == ' ' && sscanf(l + ldone, "%47s", kk) == 1 &&
		    kind->key_ok(kk) && n < JOURNAL_MAX_ENTRIES && strlen(l) < JOURNAL_MAX_LINE) {
			strcpy(line[n], l);
			strcpy(key[n++], kk);
		} else if (!strncmp(l, kind->undone, lundone) && l[lundone] == ' ' &&
			   sscanf(l + lundone, "%47s", kk) == 1) {
			for (int i = 0; i < n; i++)
				if (strcmp(key[i], kk) == 0)
					key[i][0] = '\0';
		}
	}
	free(text);
	/* The last change first. */
	for (int i = n - 1; i >= 0; i--) {
		char why[512], mark[80];

		if (!key[i][0])
			continue;
		snprintf(mark, sizeof(mark), "%s %s\n", kind->undone, key[i]);
		if (kind->undo(k, line[i], why, sizeof(why)) < 0 || pci_journal_add(j, mark, why, sizeof(why)) < 0) {
			snprintf(err + strlen(err), len - strlen(err), "%s%s", failed++ ? "; " : "", why);
			continue;
		}
		undone++;
	}
	return failed ? -1 : undone;
}

/* Undo one journaled binding: "bind BDF DRIVER OVERRIDE". */
static int restore_line(const struct pci_kernel *k, const char *line, char *why, size_t len)
{
	char b[16], d[32], o[32];

	if (sscanf(line, "bind %15s %31s %31s", b, d, o) != 3) {
		snprintf(why, len, "a journal line that is no binding: %s", line);
		return -1;
	}
	return restore_one(k, b, d, o, why, len);
}

int pci_vfio_restore(const struct pci_kernel *k, struct pci_journal *j, char *err, size_t len)
{
	static const struct pci_journal_kind kind = {
		.what = "passthrough", .done = "bind", .undone = "restored", .key_ok = pci_bdf_valid, .undo = restore_line
	};

	return pci_journal_replay(k, j, &kind, err, len);
}

int pci_journal_recover(const struct pci_kernel *k, const char *pattern, pci_undo_fn undo, char *err, size_t len)
{
	glob_t g;
	int total = 0, failed = 0;

	err[0] = '\0';
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct pci_journal j;
		char why[768];
		int n;

		if (pci_journal_open(&j, g.gl_pathv[i], why, sizeof(why)) < 0)
			continue; /* a live run's, or unreadable: not ours to touch */
		n = undo(k, &j, why, sizeof(why));
		pci_journal_close(&j);
		if (n < 0)
			snprintf(err + strlen(err), len - strlen(err), "%s%s: %s", failed++ ? "; " : "", g.gl_pathv[i],
				 why);
		else
			total += n;
	}
	globfree(&g);
	return failed ? -1 : total;
}

int pci_vfio_recover(const struct pci_kernel *k, const char *pattern, char *err, size_t len)
{
	return pci_journal_recover(k, pattern, pci_vfio_restore, err, len);
}

struct pci_hold *pci_hold_open(const char *sysfs, const char *journal, char *err, size_t len)
{
	struct pci_hold *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	pci_kernel_init(&h->k, sysfs);
	if (pci_journal_open(&h->j, journal, err, len) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

int pci_hold_release(struct pci_hold *h, pci_undo_fn undo, char *err, size_t len)
{
	int rc = 0;

	if (!h)
		return 0;
	if (h->j.fd >= 0 && undo(&h->k, &h->j, err, len) < 0) {
		snprintf(err + strlen(err), len - strlen(err), " (the journal %s keeps it)", h->j.path);
		rc = -1;
	}
	pci_journal_close(&h->j);
	free(h);
	return rc;
}

int pci_hold_recover(const char *sysfs, const char *results_dir, const char *name, pci_undo_fn undo, char *err,
		     size_t len)
{
	struct pci_kernel k;
	char *pattern = vb_strdupf("%s/*/vms/*/%s", results_dir, name);
	int n;

	pci_kernel_init(&k, sysfs);
	n = pci_journal_recover(&k, pattern, undo, err, len);
	free(pattern);
	return n;
}
