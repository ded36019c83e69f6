/* doctor_test.c: `vgpubench doctor` (harness/doctor.c) against a fixture
 * sysfs tree: a console GPU and a spare one bound to vfio-pci in IOMMU
 * group 7, one vfio module missing, a GVT-g mdev type; the accelerator
 * forced to TCG so no probe runs. Every fact and configuration is printed,
 * and the exit status says whether the plan can run. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "doctor.h"
#include "util.h"

static char root[] = "/tmp/vgpubench-doctor-XXXXXX";

static void put(const char *rel, const char *text)
{
	char *path = vb_strdupf("%s/%s", root, rel), *dir = vb_strdup(path);

	*strrchr(dir, '/') = '\0';
	if (vb_mkdirs(dir, 0755) < 0 || vb_write_file(path, text, strlen(text)) < 0)
		fprintf(stderr, "fixture: cannot write %s\n", path);
	free(path);
	free(dir);
}

static void link_to(const char *rel, const char *target)
{
	char *path = vb_strdupf("%s/%s", root, rel);

	if (symlink(target, path) < 0)
		fprintf(stderr, "fixture: cannot link %s\n", path);
	free(path);
}

/* doctor_run's output and exit status for plan text. */
static char *doctor(const char *plan_text, int *rc)
{
	char *plan = vb_strdupf("%s/plan.ini", root), *cache = vb_strdupf("%s/accel.json", root), *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	struct doctor_opts o = { .plan = plan, .sysfs = root, .accel_cache = cache };

	if (plan_text)
		put("plan.ini", plan_text);
	else
		unlink(plan);
	*rc = doctor_run(&o, mem);
	fclose(mem);
	free(plan);
	free(cache);
	return text;
}

int main(void)
{
	struct doctor_gpu g[8];
	int rc, n;
	char *out;

	if (!mkdtemp(root))
		return 1;
	put("bus/pci/devices/0000:00:02.0/class", "0x030000\n");
	put("bus/pci/devices/0000:00:02.0/boot_vga", "1\n");
	put("bus/pci/drivers/i915/bind", "");
	put("bus/pci/drivers/vfio-pci/bind", "");
	link_to("bus/pci/devices/0000:00:02.0/driver", "../../drivers/i915");
	put("bus/pci/devices/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/available_instances", "2\n");
	put("bus/pci/devices/0000:01:00.0/class", "0x030200\n");
	put("bus/pci/devices/0000:01:00.0/boot_vga", "0\n");
	link_to("bus/pci/devices/0000:01:00.0/driver", "../../drivers/vfio-pci");
	put("kernel/iommu_groups/7/type", "DMA\n");
	link_to("bus/pci/devices/0000:01:00.0/iommu_group", "../../../../kernel/iommu_groups/7");
	put("bus/pci/devices/0000:00:1f.0/class", "0x060100\n");
	put("module/vfio/refcnt", "1\n");
	put("module/vfio_pci/refcnt", "0\n");

	n = doctor_gpus(root, g, 8);
	CHECK(n == 2, "two display-class devices (%d)", n);
	for (int i = 0; i < n; i++) {
		if (strcmp(g[i].bdf, "0000:00:02.0") == 0)
			CHECK(g[i].boot_vga && !strcmp(g[i].driver, "i915") && !g[i].group[0], "the console GPU");
		else
			CHECK(!strcmp(g[i].bdf, "0000:01:00.0") && !g[i].boot_vga && !strcmp(g[i].driver, "vfio-pci") &&
				      !strcmp(g[i].group, "7"),
			      "the spare GPU: %s %s %s", g[i].bdf, g[i].driver, g[i].group);
	}

	setenv("VGPUBENCH_ACCEL", "tcg", 1);
	out = doctor("[plan]\nconfigs = native\nworkloads = glmark2\n", &rc);
	CHECK(rc == 0, "a native plan can run (%d)", rc);
	CHECK_STR_CONTAINS(out, "accelerator              no   tcg: TCG chosen by VGPUBENCH_ACCEL=tcg");
	CHECK_STR_CONTAINS(out, "fix: a host whose /dev/kvm boots a standard kernel");
	CHECK_STR_CONTAINS(out, "IOMMU                    ok   1 IOMMU group\n");
	CHECK_STR_CONTAINS(out, "vfio modules             no   not loaded: vfio_iommu_type1\n");
	CHECK_STR_CONTAINS(out, "fix: modprobe vfio-pci");
	CHECK_STR_CONTAINS(out, "spare GPU                ok");
	CHECK_STR_CONTAINS(out, "0000:01:00.0 (vfio-pci, IOMMU group 7)");
	CHECK_STR_CONTAINS(out, "0000:00:02.0 (i915, the console's)");
	CHECK_STR_CONTAINS(out, "GVT-g                    ok   1 mdev type\n");
	static const char *const names[] = { "native", "qemu-virgl", "mediated", "qemu-vhost-user-gpu", "passthrough",
					     "gvt-g" };

	for (size_t i = 0; i < 6; i++) {
		char *line = vb_strdupf("\n  %-24s ", names[i]);

		CHECK_STR_CONTAINS(out, line);
		free(line);
	}
	CHECK_STR_CONTAINS(out, "passthrough              skipped: needs KVM (TCG chosen by VGPUBENCH_ACCEL=tcg)");
	CHECK_STR_CONTAINS(out, "every configuration it names can run here");
	free(out);

	out = doctor("[plan]\nconfigs = native, passthrough\nworkloads = glmark2\n", &rc);
	CHECK(rc == 1, "a plan naming passthrough cannot run here (%d)", rc);
	CHECK_STR_CONTAINS(out, "some configurations it names cannot run here");
	free(out);

	out = doctor(NULL, &rc);
	CHECK(rc == 1, "no plan (%d)", rc);
	CHECK_STR_CONTAINS(out, "cannot read the plan");
	free(out);
	unsetenv("VGPUBENCH_ACCEL");

	if (vb_rm_rf(root) < 0)
		fprintf(stderr, "cannot remove %s\n", root);
	return check_done("doctor");
}
