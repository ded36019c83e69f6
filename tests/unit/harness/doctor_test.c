/* doctor_test.c: `vgpubench doctor` (harness/doctor.c) against a fixture
 * sysfs tree: a console GPU and a spare one bound to vfio-pci in IOMMU
 * group 7, one vfio module missing, a GVT-g mdev type; the accelerator
 * forced to TCG so no probe runs. Every fact and configuration is printed,
 * and the exit status says whether the plan can run. The host's GPUs as its
 * render nodes show them (host_gpus). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sysfs_fixture.h"
#include "doctor.h"
#include "host/hostcheck.h"
#include "util.h"

static char root[] = "/tmp/vgpubench-doctor-XXXXXX";

/* doctor_run's output and exit status for plan text. */
static char *doctor(const char *plan_text, int *rc)
{
	char *plan = vb_strdupf("%s/plan.ini", root), *cache = vb_strdupf("%s/accel.json", root), *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	struct doctor_opts o = { .plan = plan, .sysfs = root, .accel_cache = cache };

	if (plan_text)
		fixture_put("plan.ini", plan_text);
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
	fixture_root = root;
	fixture_put("bus/pci/devices/0000:00:02.0/class", "0x030000\n");
	fixture_put("bus/pci/devices/0000:00:02.0/boot_vga", "1\n");
	fixture_put("bus/pci/drivers/i915/bind", "");
	fixture_put("bus/pci/drivers/vfio-pci/bind", "");
	fixture_link("bus/pci/devices/0000:00:02.0/driver", "../../drivers/i915");
	fixture_put("bus/pci/devices/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/available_instances", "2\n");
	fixture_put("bus/pci/devices/0000:01:00.0/class", "0x030200\n");
	fixture_put("bus/pci/devices/0000:01:00.0/boot_vga", "0\n");
	fixture_link("bus/pci/devices/0000:01:00.0/driver", "../../drivers/vfio-pci");
	fixture_put("kernel/iommu_groups/7/type", "DMA\n");
	fixture_link("bus/pci/devices/0000:01:00.0/iommu_group", "../../../../kernel/iommu_groups/7");
	fixture_link("kernel/iommu_groups/7/devices/0000:01:00.0", "../../../../bus/pci/devices/0000:01:00.0");
	fixture_put("bus/pci/devices/0000:00:1f.0/class", "0x060100\n");
	fixture_put("module/vfio/refcnt", "1\n");
	fixture_put("module/vfio_pci/refcnt", "0\n");

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

	{
		char gpus[256];

		host_gpus(root, gpus, sizeof(gpus));
		CHECK(!strcmp(gpus, ""), "no render node: no GPU (%s)", gpus);
		fixture_put("bus/pci/devices/0000:00:02.0/vendor", "0x8086\n");
		fixture_put("bus/pci/devices/0000:00:02.0/device", "0x46a6\n");
		fixture_link("class/drm/renderD128/device", "../../../bus/pci/devices/0000:00:02.0");
		fixture_put("class/drm/renderD129/dev", "226:129\n");
		host_gpus(root, gpus, sizeof(gpus));
		CHECK(!strcmp(gpus, "renderD128 i915 8086:46a6, renderD129 unbound"),
		      "each render node with its driver and ids, one without a device unbound: %s", gpus);
		fixture_rm("class/drm");
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
	CHECK_STR_CONTAINS(out, "GVT-g                    ok   1 mdev type: i915-GVTg_V5_4 on 0000:00:02.0 (2 left)\n");
	static const char *const names[] = { "native", "qemu-virgl", "mediated", "qemu-vhost-user-gpu", "passthrough",
					     "gvt-g" };

	for (size_t i = 0; i < 6; i++) {
		char *line = vb_strdupf("\n  %-24s ", names[i]);

		CHECK_STR_CONTAINS(out, line);
		free(line);
	}
	/* Under TCG too: the spare GPU is on vfio-pci already, alone in its group. */
	CHECK_STR_CONTAINS(out, "passthrough              runnable\n");
	CHECK_STR_CONTAINS(out, "every configuration it names can run here");
	free(out);

	out = doctor("[plan]\nconfigs = native, passthrough\nworkloads = glmark2\n[passthrough]\ndevice = 0000:00:02.0\n",
		     &rc);
	CHECK_STR_CONTAINS(out, "passthrough              skipped: 0000:00:02.0 shows the host console");
	CHECK(rc == 0, "a plan naming passthrough can run without it (%d)", rc);
	CHECK_STR_CONTAINS(out, "it can run here\n  without the hardware it needs, passthrough: skipped, and the run "
				"keeps the reason (harness/plans/lab.ini proves the passthrough path in a nested lab)");
	free(out);

	out = doctor("[plan]\nconfigs = native, qemu-vhost-user-gpu, gvt-g\nworkloads = glmark2\n", &rc);
	if (access("/usr/lib/qemu/vhost-user-gpu", X_OK) < 0) {
		CHECK(rc == 1, "a plan naming a configuration that cannot run here (%d)", rc);
		CHECK_STR_CONTAINS(out, "some configurations it names cannot run here");
	}
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
