/* mdev_test.c: mediated devices (harness/host/mdev.c) against a fixture sysfs
 * with GVT-g types and a fake kernel that creates and removes instances the
 * way the real one does: discovery, the type n guests get, create and
 * remove with the journal, a creation the kernel refuses, and a killed run's
 * vGPUs removed by the next start while a live run's stay; then the gvt-g
 * configuration's skip reasons against the same tree. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "configs/configs.h"
#include "host/hostcheck.h"
#include "host/mdev.h"
#include "plan/plan.h"
#include "sysfs_fixture.h"
#include "util.h"

#define TYPES "bus/pci/devices/0000:00:02.0/mdev_supported_types/"

struct fake {
	int refuse_create;
	int creates, removes;
};

/* available_instances of the type folder rel, moved by delta. */
static void move_available(const char *type_rel, int delta)
{
	char *rel = vb_strdupf("%s/available_instances", type_rel), *path = vb_strdupf("%s/%s", fixture_root, rel);
	char *text = vb_read_file(path, NULL), num[16];

	snprintf(num, sizeof(num), "%d\n", (text ? atoi(text) : 0) + delta);
	fixture_put(rel, num);
	free(text);
	free(rel);
	free(path);
}

static int fake_write(const struct pci_kernel *k, const char *path, const char *val)
{
	struct fake *f = k->priv;
	const char *rel = path + strlen(k->sysfs) + 1;
	size_t n = strlen(rel);

	if (n > 7 && strcmp(rel + n - 7, "/create") == 0) {
		char *type = strndup(rel, n - 7), *dev = vb_strdupf("bus/mdev/devices/%s/remove", val);
		char *back = vb_strdupf("bus/mdev/devices/%s/type", val);

		if (f->refuse_create) {
			free(type);
			free(dev);
			free(back);
			errno = EINVAL;
			return -1;
		}
		fixture_put(dev, "");
		fixture_put(back, type);
		move_available(type, -1);
		f->creates++;
		free(type);
		free(dev);
		free(back);
		return 0;
	}
	if (strncmp(rel, "bus/mdev/devices/", 17) == 0 && n > 7 && strcmp(rel + n - 7, "/remove") == 0 &&
	    strcmp(val, "1") == 0) {
		char *dir = strndup(rel, n - 7), *tpath = vb_strdupf("%s/%s/type", fixture_root, dir);
		char *type = vb_read_file(tpath, NULL);

		if (type)
			move_available(type, +1);
		fixture_rm(dir);
		f->removes++;
		free(dir);
		free(tpath);
		free(type);
		return 0;
	}
	errno = EACCES;
	return -1;
}

static void fixture_types(void)
{
	fixture_pci("0000:00:02.0", "0x030000\n", "0x8086\n", "0x5912\n", 1, "i915", NULL);
	fixture_put(TYPES "i915-GVTg_V5_4/name", "GVTg_V5_4\n");
	fixture_put(TYPES "i915-GVTg_V5_4/description",
		    "low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4\n");
	fixture_put(TYPES "i915-GVTg_V5_4/available_instances", "2\n");
	fixture_put(TYPES "i915-GVTg_V5_4/create", "");
	fixture_put(TYPES "i915-GVTg_V5_8/name", "GVTg_V5_8\n");
	fixture_put(TYPES "i915-GVTg_V5_8/available_instances", "1\n");
	fixture_put(TYPES "i915-GVTg_V5_8/create", "");
	fixture_put("bus/pci/devices/0000:03:00.0/mdev_supported_types/nvidia-63/available_instances", "4\n");
}

static void test_types(struct pci_kernel *k)
{
	struct mdev_type t[8];
	char err[512];
	int n = mdev_types(k, NULL, t, 8);

	CHECK(n == 3, "three types in all (%d)", n);
	n = mdev_types(k, "i915-GVTg", t, 8);
	CHECK(n == 2 && !strcmp(t[0].parent, "0000:00:02.0") && !strcmp(t[0].id, "i915-GVTg_V5_4") &&
		      !strcmp(t[0].name, "GVTg_V5_4") && t[0].available == 2 && t[1].available == 1,
	      "the GVT-g types of the iGPU: %s %s %s %d", t[0].parent, t[0].id, t[0].name, t[0].available);
	CHECK(!strcmp(t[0].description, "low_gm_size: 128MB high_gm_size: 512MB fence: 4 resolution: 1920x1200 weight: 4"),
	      "the description on one line: '%s'", t[0].description);
	CHECK(!t[1].description[0], "no description file: empty");

	CHECK(mdev_choose(k, "i915-GVTg", "auto", 1, t, err, sizeof(err)) == 0 && !strcmp(t[0].id, "i915-GVTg_V5_4"),
	      "auto: the type with the most instances left (%s)", err);
	CHECK(mdev_choose(k, "i915-GVTg", "i915-GVTg_V5_8", 1, t, err, sizeof(err)) == 0 &&
		      !strcmp(t[0].id, "i915-GVTg_V5_8"),
	      "a named type: %s", err);
	CHECK(mdev_choose(k, "i915-GVTg", NULL, 3, t, err, sizeof(err)) < 0, "three guests, two instances");
	CHECK_STR_CONTAINS(err, "i915-GVTg_V5_4 on 0000:00:02.0 has 2 instances left, 3 guests need one each");
	CHECK(mdev_choose(k, "i915-GVTg", "i915-GVTg_V5_2", 1, t, err, sizeof(err)) < 0, "an unknown type");
	CHECK_STR_CONTAINS(err, "no mdev type i915-GVTg_V5_2 here (there are: i915-GVTg_V5_4, i915-GVTg_V5_8)");
	CHECK(mdev_choose(k, "xe-SRIOV", NULL, 1, t, err, sizeof(err)) < 0, "no types of a prefix");
	CHECK_STR_CONTAINS(err, "no xe-SRIOV mdev types under");
}

static void test_create_remove(struct pci_kernel *k, struct fake *f)
{
	struct pci_journal j;
	struct mdev_type t;
	char err[512], u1[40], u2[40], path[512], *text;
	char *jpath = vb_strdupf("%s/run1/gvt-g.journal", fixture_root);

	fixture_put("run1/.keep", "");
	mdev_choose(k, "i915-GVTg", "auto", 2, &t, err, sizeof(err));
	CHECK(pci_journal_open(&j, jpath, err, sizeof(err)) == 0, "journal: %s", err);
	CHECK(mdev_create(k, &j, &t, u1, err, sizeof(err)) == 0 && mdev_create(k, &j, &t, u2, err, sizeof(err)) == 0,
	      "two vGPUs: %s", err);
	CHECK(strcmp(u1, u2) != 0 && strlen(u1) == 36, "each its own UUID (%s, %s)", u1, u2);
	mdev_path(k, u1, path, sizeof(path));
	CHECK(access(path, F_OK) == 0, "the instance is at %s", path);
	CHECK(mdev_types(k, "i915-GVTg_V5_4", &t, 1) == 1 && t.available == 0, "none left of its type (%d)", t.available);
	text = vb_read_file(jpath, NULL);
	CHECK(text && strstr(text, "create ") && strstr(text, u2) && strstr(text, "0000:00:02.0 i915-GVTg_V5_4\n"),
	      "the journal: %s", text ? text : "(none)");
	free(text);

	CHECK(mdev_remove_all(k, &j, err, sizeof(err)) == 2, "both removed: %s", err);
	CHECK(access(path, F_OK) < 0 && mdev_types(k, "i915-GVTg_V5_4", &t, 1) == 1 && t.available == 2,
	      "gone, their instances back (%d)", t.available);
	CHECK(mdev_remove_all(k, &j, err, sizeof(err)) == 0, "nothing twice");

	f->refuse_create = 1;
	CHECK(mdev_create(k, &j, &t, u1, err, sizeof(err)) < 0, "a creation the kernel refuses");
	CHECK_STR_CONTAINS(err, "mdev_supported_types/i915-GVTg_V5_4/create: Invalid argument");
	f->refuse_create = 0;
	CHECK(mdev_remove_all(k, &j, err, sizeof(err)) == 1 && f->removes == 2,
	      "its journal line is settled without a removal (%d removes)", f->removes);
	pci_journal_close(&j);
	free(jpath);
}

static void test_recover(struct pci_kernel *k)
{
	struct pci_journal live;
	struct mdev_type t;
	char err[512], uuid[40], path[512];
	char *pattern = vb_strdupf("%s/*/gvt-g.journal", fixture_root);
	char *live_path = vb_strdupf("%s/run3/gvt-g.journal", fixture_root);
	pid_t pid;
	int st;

	fixture_put("run2/.keep", "");
	fixture_put("run3/.keep", "");
	pid = fork();
	if (pid == 0) {
		struct pci_journal j;
		char e[512], u[40];
		char *p = vb_strdupf("%s/run2/gvt-g.journal", fixture_root);

		mdev_choose(k, "i915-GVTg", "i915-GVTg_V5_8", 1, &t, e, sizeof(e));
		_exit(pci_journal_open(&j, p, e, sizeof(e)) < 0 || mdev_create(k, &j, &t, u, e, sizeof(e)) < 0);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "a run made a vGPU");
	CHECK(pci_journal_open(&live, live_path, err, sizeof(err)) == 0, "a live run: %s", err);
	mdev_choose(k, "i915-GVTg", "i915-GVTg_V5_4", 1, &t, err, sizeof(err));
	CHECK(mdev_create(k, &live, &t, uuid, err, sizeof(err)) == 0, "the live run's vGPU: %s", err);
	CHECK(mdev_recover(k, pattern, err, sizeof(err)) == 1, "the killed run's vGPU removed: %s", err);
	mdev_path(k, uuid, path, sizeof(path));
	CHECK(access(path, F_OK) == 0, "the live run's stays");
	CHECK(mdev_types(k, "i915-GVTg_V5_8", &t, 1) == 1 && t.available == 1, "its instance is back");
	mdev_remove_all(k, &live, err, sizeof(err));
	pci_journal_close(&live);
	free(pattern);
	free(live_path);
}

static void test_config(void)
{
	const struct config_def *c = config_find("gvt-g");
	struct host h;
	struct plan p;
	char buf[512];

	memset(&h, 0, sizeof(h));
	memset(&p, 0, sizeof(p));
	snprintf(h.sysfs, sizeof(h.sysfs), "%s", fixture_root);
	strcpy(h.accel, "tcg");
	strcpy(h.accel_reason, "no usable /dev/kvm");
	CHECK(c && c->start && c->stop && c->recover && c->needs_lab_hardware && !strcmp(c->guest_kms_driver, "i915"),
	      "gvt-g has a back-end, gives it back, and needs i915 in its guests");
	CHECK_STR_CONTAINS(c->skip_reason(&h, &p, buf, sizeof(buf)), "needs KVM, which kvmgt runs under (no usable /dev/kvm)");
	strcpy(h.accel, "kvm");
	CHECK(geteuid() != 0 || c->skip_reason(&h, &p, buf, sizeof(buf)) == NULL, "runnable with types and KVM: %s", buf);
	strcpy(p.gvt.type, "i915-GVTg_V5_1");
	CHECK_STR_CONTAINS(c->skip_reason(&h, &p, buf, sizeof(buf)), "no mdev type i915-GVTg_V5_1 here");
	snprintf(h.sysfs, sizeof(h.sysfs), "%s/nowhere", fixture_root);
	CHECK_STR_CONTAINS(c->skip_reason(&h, &p, buf, sizeof(buf)),
			   "no GVT-g mdev types under /sys/bus/pci/devices (needs a supported Intel iGPU");
}

int main(void)
{
	static char root[] = "/tmp/vgpubench-mdev-XXXXXX";
	struct fake f = { 0 };
	struct pci_kernel k;

	if (!mkdtemp(root))
		return 1;
	fixture_root = root;
	fixture_types();
	pci_kernel_init(&k, root);
	k.write = fake_write;
	k.priv = &f;
	k.settle_s = 1;
	test_types(&k);
	test_create_remove(&k, &f);
	test_recover(&k);
	test_config();
	if (vb_rm_rf(root) < 0)
		fprintf(stderr, "cannot remove %s\n", root);
	return check_done("mdev");
}
