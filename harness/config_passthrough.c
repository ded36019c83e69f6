/* config_passthrough.c: one guest owns a spare GPU through VT-d or AMD-Vi
 * (vfio-pci), under KVM or TCG. The device is the plan's ([passthrough]
 * device) or the first display-class one the host console does not use, and
 * its IOMMU group must be free for a guest. start binds it to vfio-pci with
 * its old binding journaled in the topology's folder, stop gives it back,
 * and a later run's start gives back what a killed run left bound
 * (pci_vfio.h). The guest's 2D jobs must run on the device's own DRM driver. */
#define _GNU_SOURCE
#include "configs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu_backend.h"
#include "hostcheck.h"
#include "pci_vfio.h"
#include "plan.h"
#include "util.h"

#define JOURNAL "passthrough.journal"

struct pt_state {
	struct pci_kernel k;
	struct pci_journal j;
};

static const char *skip_reason(const struct host *h, const struct plan *p, char *buf, size_t len)
{
	struct pci_kernel k;
	struct pci_fn f;

	pci_kernel_init(&k, h->sysfs);
	if (!host_iommu_groups(h->sysfs))
		return "no IOMMU groups (VT-d or AMD-Vi is off or absent: enable it in the firmware and boot with "
		       "intel_iommu=on or amd_iommu=on)";
	if (pci_vfio_choose(&k, p && p->pt.device[0] ? p->pt.device : "auto", &f, buf, len) < 0 ||
	    pci_vfio_group_check(&k, &f, buf, len) < 0)
		return buf;
	if (strcmp(f.driver, "vfio-pci") != 0 && geteuid() != 0) {
		snprintf(buf, len, "binding %s to vfio-pci needs root (or bind it beforehand, as README's passthrough "
			 "section shows)", f.bdf);
		return buf;
	}
	return NULL;
}

static void stop(struct gpu_backend *b)
{
	struct pt_state *st = b->priv;
	char err[1024];

	if (!st)
		return;
	if (st->j.fd >= 0 && pci_vfio_restore(&st->k, &st->j, err, sizeof(err)) < 0)
		vb_err("passthrough: the device's old binding is not back: %s (the journal %s keeps it; the next run's "
		       "start tries again)", err, st->j.path);
	pci_journal_close(&st->j);
	free(st);
	b->priv = NULL;
}

static int start(struct gpu_backend *b, const struct backend_env *env, int n, char *err, size_t errlen)
{
	struct pt_state *st;
	struct pci_fn f;
	const char *drm;
	char *journal;

	if (n != 1) {
		snprintf(err, errlen, "passthrough hands its one device to one guest, not %d", n);
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->j.fd = -1;
	pci_kernel_init(&st->k, env->host ? env->host->sysfs : NULL);
	b->priv = st;
	if (pci_vfio_choose(&st->k, env->plan && env->plan->pt.device[0] ? env->plan->pt.device : "auto", &f, err,
			    errlen) < 0 ||
	    pci_vfio_group_check(&st->k, &f, err, errlen) < 0)
		return -1;
	journal = vb_strdupf("%s/" JOURNAL, env->dir);
	if (pci_journal_open(&st->j, journal, err, errlen) < 0) {
		free(journal);
		return -1;
	}
	free(journal);
	/* On failure gpu_backend_start calls stop, which gives back whatever the journal says was changed. */
	if (pci_vfio_bind(&st->k, &st->j, &f, err, errlen) < 0)
		return -1;
	b->args[0][0] = "-device";
	b->args[0][1] = b->owned[0][1] = vb_strdupf("vfio-pci,host=%s", f.bdf);
	b->args[0][2] = NULL;
	drm = pci_vfio_guest_driver(&f);
	snprintf(b->kms_driver, sizeof(b->kms_driver), "%s", drm ? drm : "");
	snprintf(b->description, sizeof(b->description), "%s (%04x:%04x, host driver %s) on vfio-pci, for one guest%s%s",
		 f.bdf, f.vendor, f.device, f.driver[0] ? f.driver : "none", drm ? " on " : "",
		 drm ? drm : " (its DRM driver cannot be told: not checked)");
	return 0;
}

static int recover(const struct host *h, const char *results_dir, char *msg, size_t len)
{
	struct pci_kernel k;
	char *pattern = vb_strdupf("%s/*/vms/*/" JOURNAL, results_dir);
	int n;

	pci_kernel_init(&k, h->sysfs);
	n = pci_vfio_recover(&k, pattern, msg, len);
	free(pattern);
	return n;
}

const struct config_def config_passthrough = {
	.name = "passthrough",
	.kind = CONFIG_GUEST,
	.role = ROLE_PASSTHROUGH,
	.description = "one guest owns a spare host GPU through VT-d or AMD-Vi (vfio-pci)",
	.guest_hw_gl = 1,
	.needs_lab_hardware = 1,
	.max_guests = 1,
	.skip_reason = skip_reason,
	.start = start,
	.stop = stop,
	.recover = recover,
};
