/* config_gvt_g.c: Intel GVT-g vGPUs (the kernel's mdev: i915 with
 * enable_gvt=1, and kvmgt, so KVM only). One instance of a GVT-g type per
 * guest ([gvt-g] type, or the type with the most instances left), created
 * before the guests boot and removed after, journaled in the topology's
 * folder so a later run removes what a killed one left (mdev.h). Each guest
 * gets its vGPU as -device vfio-pci,sysfsdev=...,display=off, and its 2D
 * jobs must run on i915. Not run on hardware here: tested against a fixture
 * sysfs and a fake kernel. */
#define _GNU_SOURCE
#include "configs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu_backend.h"
#include "hostcheck.h"
#include "mdev.h"
#include "plan.h"
#include "util.h"

#define GVT_PREFIX "i915-GVTg"
#define JOURNAL "gvt-g.journal"

struct gvt_state {
	struct pci_kernel k;
	struct pci_journal j;
};

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
	struct gvt_state *st = b->priv;
	char err[1024];

	if (!st)
		return;
	if (st->j.fd >= 0 && mdev_remove_all(&st->k, &st->j, err, sizeof(err)) < 0)
		vb_err("gvt-g: vGPUs left behind: %s (the journal %s keeps them; the next run's start tries again)", err,
		       st->j.path);
	pci_journal_close(&st->j);
	free(st);
	b->priv = NULL;
}

static int start(struct gpu_backend *b, const struct backend_env *env, int n, char *err, size_t errlen)
{
	struct gvt_state *st = calloc(1, sizeof(*st));
	struct mdev_type t;
	char *journal;

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->j.fd = -1;
	pci_kernel_init(&st->k, env->host ? env->host->sysfs : NULL);
	b->priv = st;
	if (mdev_choose(&st->k, GVT_PREFIX, wanted(env->plan), n, &t, err, errlen) < 0)
		return -1;
	journal = vb_strdupf("%s/" JOURNAL, env->dir);
	if (pci_journal_open(&st->j, journal, err, errlen) < 0) {
		free(journal);
		return -1;
	}
	free(journal);
	/* On failure gpu_backend_start calls stop, which removes what the journal says was created. */
	for (int i = 0; i < n; i++) {
		char uuid[40], path[512];

		if (mdev_create(&st->k, &st->j, &t, uuid, err, errlen) < 0)
			return -1;
		mdev_path(&st->k, uuid, path, sizeof(path));
		b->args[i][0] = "-device";
		b->args[i][1] = b->owned[i][1] = vb_strdupf("vfio-pci,sysfsdev=%s,display=off", path);
		b->args[i][2] = NULL;
	}
	snprintf(b->description, sizeof(b->description), "%d GVT-g vGPU%s of type %.63s (%.120s) on %.15s", n, n > 1 ? "s" : "",
		 t.id, t.description[0] ? t.description : t.name, t.parent);
	return 0;
}

static int recover(const struct host *h, const char *results_dir, char *msg, size_t len)
{
	struct pci_kernel k;
	char *pattern = vb_strdupf("%s/*/vms/*/" JOURNAL, results_dir);
	int n;

	pci_kernel_init(&k, h->sysfs);
	n = mdev_recover(&k, pattern, msg, len);
	free(pattern);
	return n;
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
