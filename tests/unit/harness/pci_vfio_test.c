/* pci_vfio_test.c: handing a PCI function to vfio-pci and back
 * (harness/host/pci_vfio.c) against a fixture sysfs tree and a fake kernel that
 * acts on the writes the way the real one does (driver_override, unbind,
 * bind, drivers_probe): choosing the device, the IOMMU group check, bind and
 * restore with the journal, a bind the kernel does not carry out, and a
 * killed run's journal given back by the next start but a live run's left
 * alone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "host/pci_vfio.h"
#include "sysfs_fixture.h"
#include "util.h"

/* The fake kernel: each driver a device would bind to without an override, and faults to inject. */
struct fake {
	char log[2048];
	int ignore_probe; /* drivers_probe binds nothing */
	int refuse_unbind;
};

static const char *native_driver(const char *bdf)
{
	return strcmp(bdf, "0000:01:00.0") == 0 ? "amdgpu" : strcmp(bdf, "0000:01:00.1") == 0 ? "snd_hda_intel" : "";
}

static char *read_attr(const char *bdf, const char *name)
{
	char *path = vb_strdupf("%s/bus/pci/devices/%s/%s", fixture_root, bdf, name);
	char *text = vb_read_file(path, NULL);

	free(path);
	if (text)
		text[strcspn(text, "\n")] = '\0';
	return text;
}

static void fake_bind(const char *bdf, const char *driver)
{
	char *target = vb_strdupf("../../drivers/%s", driver);

	fixture_attr(bdf, "driver", NULL, target);
	free(target);
}

static int fake_write(const struct pci_kernel *k, const char *path, const char *val)
{
	struct fake *f = k->priv;
	size_t root = strlen(k->sysfs);
	const char *rel = path + root;
	char drv[64], what[16];

	snprintf(f->log + strlen(f->log), sizeof(f->log) - strlen(f->log), "%s=%s;", rel + 1,
		 val[0] == '\n' ? "" : val);
	if (strncmp(path, k->sysfs, root) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (strstr(rel, "/driver_override")) {
		char *bdf = vb_strdup(rel + strlen("/bus/pci/devices/"));

		*strchr(bdf, '/') = '\0';
		fixture_attr(bdf, "driver_override", val[0] == '\n' ? "(null)\n" : val, NULL);
		free(bdf);
		return 0;
	}
	if (sscanf(rel, "/bus/pci/drivers/%63[^/]/%15s", drv, what) == 2) {
		char *bound = vb_strdupf("%s/bus/pci/devices/%s/driver", fixture_root, val);

		if (strcmp(what, "unbind") == 0) {
			if (f->refuse_unbind) {
				free(bound);
				errno = EBUSY;
				return -1;
			}
			unlink(bound);
		} else {
			fake_bind(val, drv);
		}
		free(bound);
		return 0;
	}
	if (strcmp(rel, "/bus/pci/drivers_probe") == 0) {
		char *over = read_attr(val, "driver_override");
		const char *to = over && strcmp(over, "(null)") != 0 ? over : native_driver(val);

		if (!f->ignore_probe && to[0])
			fake_bind(val, to);
		free(over);
		return 0;
	}
	errno = EACCES;
	return -1;
}

static void fixture_host(void)
{
	fixture_pci("0000:00:02.0", "0x030000\n", "0x8086\n", "0x46a6\n", 1, "i915", "0");
	fixture_pci("0000:00:01.0", "0x060400\n", "0x8086\n", "0x460d\n", 0, "pcieport", "1");
	fixture_pci("0000:01:00.0", "0x030000\n", "0x1002\n", "0x73bf\n", 0, "amdgpu", "1");
	fixture_pci("0000:01:00.1", "0x040300\n", "0x1002\n", "0xab28\n", 0, "snd_hda_intel", "1");
	fixture_pci("0000:00:1f.0", "0x060100\n", "0x8086\n", "0x7a84\n", 0, NULL, "2");
	fixture_put("bus/pci/drivers/vfio-pci/bind", "");
	fixture_put("bus/pci/drivers/vfio-pci/unbind", "");
	fixture_put("bus/pci/drivers_probe", "");
}

static void test_choose(struct pci_kernel *k)
{
	struct pci_fn f;
	char err[1024];

	CHECK(pci_bdf_valid("0000:01:00.0") && pci_bdf_valid("abcd:ef:1f.7"), "full PCI addresses");
	CHECK(!pci_bdf_valid("01:00.0") && !pci_bdf_valid("0000:01:00.8") && !pci_bdf_valid("0000-01:00.0") &&
		      !pci_bdf_valid("0000:01:00.0 ") && !pci_bdf_valid(NULL),
	      "short, out of range and malformed addresses are not");
	CHECK(pci_fn_read(k, "../../etc/x", &f) < 0 && pci_fn_read(k, "0000:09:00.0", &f) < 0,
	      "no path escapes, no phantom devices");

	CHECK(pci_fn_read(k, "0000:00:02.0", &f) == 0 && f.console && !strcmp(f.driver, "i915") && f.cls == 0x030000 &&
		      !f.override[0],
	      "the console GPU: boot_vga, i915, an unset override");
	CHECK(pci_vfio_choose(k, "auto", &f, err, sizeof(err)) == 0 && !strcmp(f.bdf, "0000:01:00.0") &&
		      !strcmp(f.driver, "amdgpu") && !strcmp(f.group, "1") && f.vendor == 0x1002,
	      "auto picks the spare GPU, not the console's: %s", err);
	CHECK(pci_vfio_choose(k, NULL, &f, err, sizeof(err)) == 0 && !strcmp(f.bdf, "0000:01:00.0"), "NULL is auto");
	CHECK(pci_vfio_choose(k, "0000:00:02.0", &f, err, sizeof(err)) < 0, "the console's GPU is refused");
	CHECK_STR_CONTAINS(err, "0000:00:02.0 shows the host console");
	CHECK(pci_vfio_choose(k, "0000:01:00.1", &f, err, sizeof(err)) < 0, "an audio function is refused");
	CHECK_STR_CONTAINS(err, "0000:01:00.1 is not a display-class device (class 0x040300)");
	CHECK(pci_vfio_choose(k, "0000:05:00.0", &f, err, sizeof(err)) < 0, "a missing device is refused");
	CHECK_STR_CONTAINS(err, "no PCI device 0000:05:00.0 under");
	CHECK(pci_vfio_choose(k, "5:00.0", &f, err, sizeof(err)) < 0, "a short address is refused");
	CHECK_STR_CONTAINS(err, "'5:00.0' is not a PCI address in full form");

	/* A device already on vfio-pci goes first. */
	fixture_pci("0000:03:00.0", "0x030200\n", "0x10de\n", "0x2204\n", 0, "vfio-pci", "3");
	CHECK(pci_vfio_choose(k, "auto", &f, err, sizeof(err)) == 0 && !strcmp(f.bdf, "0000:03:00.0"),
	      "auto prefers a device bound to vfio-pci already (%s)", f.bdf);
	CHECK(pci_vfio_group_check(k, &f, err, sizeof(err)) == 0, "a group of its own: %s", err);
	CHECK(!strcmp(pci_vfio_guest_driver(&f), "nouveau"), "NVIDIA on vfio-pci: nouveau in the guest");
	fixture_rm("bus/pci/devices/0000:03:00.0");
	fixture_rm("kernel/iommu_groups/3");
}

static void test_group(struct pci_kernel *k)
{
	struct pci_fn f, g;
	char err[1024];

	pci_fn_read(k, "0000:01:00.0", &f);
	CHECK(pci_vfio_group_check(k, &f, err, sizeof(err)) < 0, "its audio function is bound to the host");
	CHECK_STR_CONTAINS(err, "IOMMU group 1 of 0000:01:00.0 also holds 0000:01:00.1 (snd_hda_intel)");
	CHECK(!strstr(err, "0000:00:01.0"), "the bridge in the group is no obstacle: %s", err);
	fixture_rm("bus/pci/devices/0000:01:00.1/driver");
	CHECK(pci_vfio_group_check(k, &f, err, sizeof(err)) == 0, "unbound, it is no obstacle: %s", err);
	fake_bind("0000:01:00.1", "pci-stub");
	CHECK(pci_vfio_group_check(k, &f, err, sizeof(err)) == 0, "on pci-stub neither: %s", err);
	fake_bind("0000:01:00.1", "vfio-pci");
	CHECK(pci_vfio_group_check(k, &f, err, sizeof(err)) == 0, "on vfio-pci neither: %s", err);

	pci_fn_read(k, "0000:00:02.0", &g);
	g.group[0] = '\0';
	CHECK(pci_vfio_group_check(k, &g, err, sizeof(err)) < 0, "no group");
	CHECK_STR_CONTAINS(err, "is in no IOMMU group: the IOMMU is off");
	CHECK(!strcmp(pci_vfio_guest_driver(&f), "amdgpu") && !strcmp(pci_vfio_guest_driver(&g), "i915"),
	      "a host GPU's guest driver");
	g.vendor = 0x1af4;
	g.device = 0x1050;
	CHECK(!strcmp(pci_vfio_guest_driver(&g), "virtio_gpu"), "the nested lab's virtio GPU: virtio_gpu");
	g.vendor = 0x1234;
	g.device = 0x5678;
	g.driver[0] = '\0';
	CHECK(pci_vfio_guest_driver(&g) == NULL, "an unknown device's guest driver cannot be told");
}

static void test_bind_restore(struct pci_kernel *k, struct fake *fk)
{
	struct pci_journal j, j2;
	struct pci_fn f;
	char err[1024], *jpath = vb_strdupf("%s/run1/passthrough.journal", fixture_root), *text, *o;

	fixture_put("run1/.keep", "");
	pci_fn_read(k, "0000:01:00.0", &f);
	CHECK(pci_journal_open(&j, jpath, err, sizeof(err)) == 0, "journal: %s", err);
	CHECK(pci_journal_open(&j2, jpath, err, sizeof(err)) < 0, "a held journal cannot be opened twice");
	CHECK_STR_CONTAINS(err, "held by a running vgpubench");
	fk->log[0] = '\0';
	CHECK(pci_vfio_bind(k, &j, &f, err, sizeof(err)) == 0, "bind: %s", err);
	CHECK(pci_fn_read(k, "0000:01:00.0", &f) == 0 && !strcmp(f.driver, "vfio-pci") && !strcmp(f.override, "vfio-pci"),
	      "the device is on vfio-pci (%s, override %s)", f.driver, f.override);
	CHECK(!strcmp(fk->log, "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci;"
			       "bus/pci/drivers/amdgpu/unbind=0000:01:00.0;bus/pci/drivers_probe=0000:01:00.0;"),
	      "override, unbind, probe, in that order: %s", fk->log);
	text = vb_read_file(jpath, NULL);
	CHECK(text && !strcmp(text, "bind 0000:01:00.0 amdgpu -\n"), "the journal: %s", text ? text : "(none)");
	free(text);
	fk->log[0] = '\0';
	CHECK(pci_vfio_bind(k, &j, &f, err, sizeof(err)) == 0 && !fk->log[0],
	      "binding a device on vfio-pci already changes nothing: %s", fk->log);
	text = vb_read_file(jpath, NULL);
	CHECK(text && !strstr(text, "vfio-pci"), "and journals nothing");
	free(text);

	fk->log[0] = '\0';
	CHECK(pci_vfio_restore(k, &j, err, sizeof(err)) == 1, "restore: %s", err);
	CHECK(pci_fn_read(k, "0000:01:00.0", &f) == 0 && !strcmp(f.driver, "amdgpu") && !f.override[0],
	      "back on amdgpu, no override (%s, %s)", f.driver, f.override);
	CHECK(!strcmp(fk->log, "bus/pci/devices/0000:01:00.0/driver_override=;"
			       "bus/pci/drivers/vfio-pci/unbind=0000:01:00.0;bus/pci/drivers/amdgpu/bind=0000:01:00.0;"),
	      "clear the override, unbind, bind the old driver: %s", fk->log);
	text = vb_read_file(jpath, NULL);
	CHECK_STR_CONTAINS(text, "restored 0000:01:00.0\n");
	free(text);
	CHECK(pci_vfio_restore(k, &j, err, sizeof(err)) == 0, "nothing left to restore");

	/* The kernel does not carry the bind out: an error, and restore still puts the old driver back. */
	fk->ignore_probe = 1;
	k->settle_s = 0.2;
	CHECK(pci_vfio_bind(k, &j, &f, err, sizeof(err)) < 0, "a bind that does not happen fails");
	CHECK_STR_CONTAINS(err, "0000:01:00.0 did not bind to vfio-pci within 0 s (its driver: no driver)");
	fk->ignore_probe = 0;
	CHECK(pci_vfio_restore(k, &j, err, sizeof(err)) == 1 && pci_fn_read(k, "0000:01:00.0", &f) == 0 &&
		      !strcmp(f.driver, "amdgpu") && !f.override[0],
	      "restored after a failed bind: %s (%s)", err, f.driver);
	/* An unbind the kernel refuses. */
	fk->refuse_unbind = 1;
	CHECK(pci_vfio_bind(k, &j, &f, err, sizeof(err)) < 0, "a refused unbind fails");
	CHECK_STR_CONTAINS(err, "writing '0000:01:00.0' to ");
	CHECK_STR_CONTAINS(err, "/bus/pci/drivers/amdgpu/unbind: Device or resource busy");
	fk->refuse_unbind = 0;
	CHECK(pci_vfio_restore(k, &j, err, sizeof(err)) == 1, "the override of a refused bind is undone: %s", err);
	o = read_attr("0000:01:00.0", "driver_override");
	CHECK(o && !strcmp(o, "(null)"), "override cleared (%s)", o ? o : "?");
	free(o);
	pci_journal_close(&j);
	free(jpath);
}

/* A run killed while its device was on vfio-pci, and a live run: the next start gives back the first only. */
static void test_recover(struct pci_kernel *k)
{
	struct pci_journal live;
	struct pci_fn f;
	char err[1024], *pattern = vb_strdupf("%s/*/passthrough.journal", fixture_root);
	char *live_path = vb_strdupf("%s/run3/passthrough.journal", fixture_root);
	pid_t pid;
	int st;

	fixture_put("run2/.keep", "");
	pid = fork();
	if (pid == 0) {
		struct pci_journal j;
		char e[512];
		struct pci_fn d;
		char *path = vb_strdupf("%s/run2/passthrough.journal", fixture_root);

		pci_fn_read(k, "0000:01:00.0", &d);
		if (pci_journal_open(&j, path, e, sizeof(e)) < 0 || pci_vfio_bind(k, &j, &d, e, sizeof(e)) < 0)
			_exit(1);
		_exit(0); /* killed before it could restore: the lock goes with it */
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "a run bound the device");
	CHECK(pci_fn_read(k, "0000:01:00.0", &f) == 0 && !strcmp(f.driver, "vfio-pci"), "and left it on vfio-pci");
	fixture_put("run3/passthrough.journal", "bind 0000:01:00.1 snd_hda_intel -\n");
	CHECK(pci_journal_open(&live, live_path, err, sizeof(err)) == 0, "a live run's journal: %s", err);
	CHECK(pci_vfio_recover(k, pattern, err, sizeof(err)) == 1, "one device given back: %s", err);
	CHECK(pci_fn_read(k, "0000:01:00.0", &f) == 0 && !strcmp(f.driver, "amdgpu"), "the killed run's device is back");
	CHECK(pci_fn_read(k, "0000:01:00.1", &f) == 0 && !strcmp(f.driver, "vfio-pci"),
	      "the live run's device is left alone (%s)", f.driver);
	CHECK(pci_vfio_recover(k, pattern, err, sizeof(err)) == 0, "nothing twice");
	pci_journal_close(&live);
	fixture_put("run4/passthrough.journal", "bind 0000:07:00.0 amdgpu -\n");
	CHECK(pci_vfio_recover(k, pattern, err, sizeof(err)) < 0, "a journaled device that is gone is an error");
	CHECK_STR_CONTAINS(err, "run4/passthrough.journal: 0000:07:00.0 is gone from");
	free(pattern);
	free(live_path);
}

/* A back-end's hold: the journal opened with the kernel, given back and freed in one call. */
static void test_hold(struct pci_kernel *k)
{
	char err[1024], *jpath = vb_strdupf("%s/run5/passthrough.journal", fixture_root);
	struct pci_hold *h, *h2;
	struct pci_fn f;

	fixture_put("run5/.keep", "");
	h = pci_hold_open(fixture_root, jpath, err, sizeof(err));
	CHECK(h && !strcmp(h->k.sysfs, fixture_root) && h->j.fd >= 0, "a hold: %s", err);
	h2 = pci_hold_open(fixture_root, jpath, err, sizeof(err));
	CHECK(!h2, "a second hold on a held journal fails");
	CHECK_STR_CONTAINS(err, "held by a running vgpubench");
	if (!h)
		return;
	h->k.write = k->write;
	h->k.priv = k->priv;
	h->k.settle_s = k->settle_s;
	pci_fn_read(&h->k, "0000:01:00.0", &f);
	CHECK(pci_vfio_bind(&h->k, &h->j, &f, err, sizeof(err)) == 0, "bound through the hold: %s", err);
	CHECK(pci_hold_release(h, pci_vfio_restore, err, sizeof(err)) == 0, "released: %s", err);
	CHECK(pci_fn_read(k, "0000:01:00.0", &f) == 0 && !strcmp(f.driver, "amdgpu"), "given back on release");
	CHECK(pci_hold_release(NULL, pci_vfio_restore, err, sizeof(err)) == 0, "releasing no hold is nothing");
	h = pci_hold_open(fixture_root, jpath, err, sizeof(err));
	CHECK(h != NULL, "the journal is free again after release");
	if (h) {
		/* A journaled device that is gone: the release says what is left and where it is kept. */
		if (pci_journal_add(&h->j, "bind 0000:08:00.0 amdgpu -\n", err, sizeof(err)) < 0)
			fprintf(stderr, "%s\n", err);
		CHECK(pci_hold_release(h, pci_vfio_restore, err, sizeof(err)) < 0, "a release that cannot undo all");
		CHECK_STR_CONTAINS(err, "0000:08:00.0 is gone from");
		CHECK_STR_CONTAINS(err, "(the journal ");
		CHECK_STR_CONTAINS(err, "run5/passthrough.journal keeps it)");
	}
	free(jpath);
}

int main(void)
{
	static char root[] = "/tmp/vgpubench-pci-XXXXXX";
	struct fake fk = { .log = "" };
	struct pci_kernel k;

	if (!mkdtemp(root))
		return 1;
	fixture_root = root;
	fixture_host();
	pci_kernel_init(&k, root);
	k.write = fake_write;
	k.priv = &fk;
	k.settle_s = 1;
	test_choose(&k);
	test_group(&k);
	test_bind_restore(&k, &fk);
	test_recover(&k);
	test_hold(&k);
	if (vb_rm_rf(root) < 0)
		fprintf(stderr, "cannot remove %s\n", root);
	return check_done("pci_vfio");
}
