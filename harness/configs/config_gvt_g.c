/* config_gvt_g.c: Intel GVT-g vGPUs (the kernel's mdev: i915 with
 * enable_gvt=1, and kvmgt, so KVM only). One instance of a GVT-g type per
 * guest ([gvt-g] type, or the type with the most instances left), created
 * before the guests boot and removed after, journaled in the topology's
 * folder so a later run removes what a killed one left (mdev.h). Each guest
 * gets its vGPU as -device vfio-pci,sysfsdev=...,display=off, and its 2D
 * jobs must run on i915. Not run on hardware here: tested against a fixture
 * sysfs and a fake kernel. */
#define _GNU_SOURCE
#include "configs/configs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "configs/gpu_backend.h"
#include "host/hostcheck.h"
#include "host/mdev.h"
#include "plan/plan.h"
#include "util.h"

#define GVT_PREFIX "i915-GVTg"
#define JOURNAL "gvt-g.journal"

static const char *wanted(const struct plan *p)
{
	return p && p->gvt.type[0] ? p->gvt.type : "auto";
}

static const char *skip_reason(const struct host *h, const struct plan *p, char *buf, size_t len)
{
	struct pci_kernel k;
	struct mdev_type t;

	if (strcmp(h->accel, "kvm") != 0) {
		snprintf(buf, len, "needs KVM, which kvmgt runs under (%s)", h->accel_reason);
		return buf;
	}
	pci_kernel_init(&k, h->sysfs);
	if (!mdev_types(&k, GVT_PREFIX, &t, 1))
		return "no GVT-g mdev types under /sys/bus/pci/devices (needs a supported Intel iGPU, Broadwell to Comet "
		       "Lake, booted with i915.enable_gvt=1, and the kvmgt module loaded)";
	if (mdev_choose(&k, GVT_PREFIX, wanted(p), 1, &t, buf, len) < 0)
		return buf;
	if (geteuid() != 0)
		return "creating GVT-g vGPUs needs root";
	return NULL;
}

static void stop(struct gpu_backend *b)
{
	gpu_backend_unhold(b, mdev_remove_all, "gvt-g: vGPUs left behind");
}

static int start(struct gpu_backend *b, const struct backend_env *env, int n, char *err, size_t errlen)
{
	struct pci_hold *h = gpu_backend_hold(b, env, JOURNAL, err, errlen);
	struct mdev_type t;

	if (!h)
		return -1;
	if (mdev_choose(&h->k, GVT_PREFIX, wanted(env->plan), n, &t, err, errlen) < 0)
		return -1;
	/* On failure gpu_backend_start calls stop, which removes what the journal says was created. */
	for (int i = 0; i < n; i++) {
		char uuid[40], path[512];

		if (mdev_create(&h->k, &h->j, &t, uuid, err, errlen) < 0)
			return -1;
		mdev_path(&h->k, uuid, path, sizeof(path));
		b->args[i][0] = "-device";
		b->args[i][1] = b->owned[i][1] = vb_strdupf("vfio-pci,sysfsdev=%s,display=off", path);
		b->args[i][2] = NULL;
	}
	snprintf(b->description, sizeof(b->description), "%d GVT-g vGPU%s of type %.63s (%.120s) on %.15s", n,
		 n > 1 ? "s" : "", t.id, t.description[0] ? t.description : t.name, t.parent);
	return 0;
}

static int recover(const struct host *h, const char *results_dir, char *msg, size_t len)
{
	return pci_hold_recover(h->sysfs, results_dir, JOURNAL, mdev_remove_all, msg, len);
}

const struct config_def config_gvt_g = {
	.name = "gvt-g",
	.kind = CONFIG_GUEST,
	.description = "guests on Intel GVT-g vGPUs (kernel mdev), one per guest",
	.guest_kms_driver = "i915",
	.guest_hw_gl = 1,
	.needs_lab_hardware = 1,
	.skip_reason = skip_reason,
	.start = start,
	.stop = stop,
	.recover = recover,
};
