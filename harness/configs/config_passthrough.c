/* config_passthrough.c: one guest owns a spare GPU through VT-d or AMD-Vi
 * (vfio-pci), under KVM or TCG. The device is the plan's ([passthrough]
 * device) or the first display-class one the host console does not use, and
 * its IOMMU group must be free for a guest. start binds it to vfio-pci with
 * its old binding journaled in the topology's folder, stop gives it back,
 * and a later run's start gives back what a killed run left bound
 * (pci_vfio.h). The guest's 2D jobs must run on the device's own DRM driver.
 * With lab = nested, its guest is a nested lab host instead (below). */
#define _GNU_SOURCE
#include "configs/configs.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "configs/gpu_backend.h"
#include "host/hostcheck.h"
#include "host/pci_vfio.h"
#include "plan/plan.h"
#include "util.h"

#define JOURNAL "passthrough.journal" /* NAME.journal: the nested lab reads the inner run's there */

/*
 * The nested lab ([passthrough] lab = nested; nested_lab.h): the guest is a
 * lab host, q35 with an emulated VT-d IOMMU and a virtio GPU behind a PCIe
 * root port, whose kernel turns the IOMMU on (and leaves the GPU to
 * virtio-pci: no console on it). Inside it, vgpubench runs this
 * configuration for real against that GPU, from the plan written here.
 */
#define LAB_DEVICE "0000:01:00.0" /* the GPU behind the lab host's root port, as the lab host sees it */

static const char *lab_skip_reason(const struct host *h, char *buf, size_t len)
{
	char *pat = vb_strdupf("/lib/modules/%s/kernel/drivers/vfio/pci/vfio-pci.ko*", h->kernel_version);
	glob_t g;
	int found = glob(pat, 0, NULL, &g) == 0;

	if (found)
		globfree(&g);
	free(pat);
	if (found)
		return NULL;
	snprintf(buf, len, "the guest kernel %s has no vfio-pci module for the nested lab's host (install Debian's "
		 "linux-image-amd64)", h->kernel_version[0] ? h->kernel_version : "(none)");
	return buf;
}

static int lab_start(struct gpu_backend *b, const struct backend_env *env, int n, char *err, size_t errlen)
{
	static const char *const args[] = {
		"-device", "intel-iommu,intremap=on,caching-mode=on",
		"-device", "pcie-root-port,id=lab.rp,chassis=1,slot=1",
		"-device", "virtio-gpu-pci,iommu_platform=on,disable-legacy=on,bus=lab.rp,xres=640,yres=480",
		NULL,
	};
	const struct plan *p = env->plan;
	char workloads[512] = "";
	char *text;

	if (n != 1 || !p) {
		snprintf(err, errlen, "the nested lab runs one lab host with one guest, not %d", n);
		return -1;
	}
	for (int i = 0; args[i]; i++)
		b->args[0][i] = args[i];
	/* Interrupt remapping under KVM needs the split irqchip; TCG takes the option and ignores it. */
	snprintf(b->machine, sizeof(b->machine), "q35,kernel-irqchip=split");
	snprintf(b->kernel_args, sizeof(b->kernel_args), "intel_iommu=on nomodeset");
	b->memory_mb = 3072; /* its own guest, QEMU, and what the guest writes into its tmpfs root */
	b->vcpus = 2;
	for (int i = 0; i < p->nworkloads; i++)
		snprintf(workloads + strlen(workloads), sizeof(workloads) - strlen(workloads), "%s%s", i ? ", " : "",
			 p->workloads[i]);
	/* Nested TCG: the inner guest boots in minutes (434-770 s measured on 2026-12-07, and past 900 s once), so its
	 * timeouts are long (the outer run gives the whole inner run LAB_TIMEOUT_S); its RAM is small to fit. */
	text = vb_strdupf("# Written by the outer run for its nested lab host: the passthrough configuration for real.\n"
			  "[plan]\nname = lab-inner\nconfigs = passthrough\nguests = 1\nworkloads = %s\n"
			  "repetitions = %d\n\n[guest]\nmemory_mb = 512\nvcpus = 1\ncpu = %s\naccel = tcg\n"
			  "boot_timeout_s = 1500\njob_timeout_s = %g\n\n[passthrough]\ndevice = " LAB_DEVICE "\n",
			  workloads, p->repetitions, p->cpu, p->job_timeout_s);
	snprintf(b->lab_plan, sizeof(b->lab_plan), "%s/lab-plan.ini", env->dir);
	if (vb_write_file(b->lab_plan, text, strlen(text)) < 0) {
		snprintf(err, errlen, "cannot write the nested lab's plan %s: %s", b->lab_plan, strerror(errno));
		free(text);
		return -1;
	}
	free(text);
	snprintf(b->description, sizeof(b->description),
		 "nested lab: a q35 lab host with an emulated VT-d IOMMU whose virtio GPU (%s) its own guest owns "
		 "through vfio-pci",
		 LAB_DEVICE);
	return 0;
}

static const char *skip_reason(const struct host *h, const struct plan *p, char *buf, size_t len)
{
	struct pci_kernel k;
	struct pci_fn f;

	if (p && p->pt.nested_lab)
		return lab_skip_reason(h, buf, len);
	pci_kernel_init(&k, h->sysfs);
	if (!host_iommu_groups(h->sysfs))
		return "no IOMMU groups (VT-d or AMD-Vi is off or absent: enable it in the firmware and boot with "
		       "intel_iommu=on or amd_iommu=on); harness/plans/lab.ini proves the path in a nested lab";
	if (pci_vfio_choose(&k, p && p->pt.device[0] ? p->pt.device : "auto", &f, buf, len) < 0 ||
	    pci_vfio_group_check(&k, &f, buf, len) < 0) {
		snprintf(buf + strlen(buf), len - strlen(buf), "; harness/plans/lab.ini proves the path in a nested lab");
		return buf;
	}
	if (strcmp(f.driver, "vfio-pci") != 0 && geteuid() != 0) {
		snprintf(buf, len,
			 "binding %s to vfio-pci needs root (or bind it beforehand, as docs/lab-hosts.md's passthrough "
			 "section shows)",
			 f.bdf);
		return buf;
	}
	return NULL;
}

static void stop(struct gpu_backend *b)
{
	gpu_backend_unhold(b, pci_vfio_restore, "passthrough: the device's old binding is not back");
}

static int start(struct gpu_backend *b, const struct backend_env *env, int n, char *err, size_t errlen)
{
	struct pci_hold *h;
	struct pci_fn f;
	const char *drm;

	if (env->plan && env->plan->pt.nested_lab)
		return lab_start(b, env, n, err, errlen);
	if (n != 1) {
		snprintf(err, errlen, "passthrough hands its one device to one guest, not %d", n);
		return -1;
	}
	if (!(h = gpu_backend_hold(b, env, JOURNAL, err, errlen)))
		return -1;
	/* On failure gpu_backend_start calls stop, which gives back whatever the journal says was changed. */
	if (pci_vfio_choose(&h->k, env->plan && env->plan->pt.device[0] ? env->plan->pt.device : "auto", &f, err,
			    errlen) < 0 ||
	    pci_vfio_group_check(&h->k, &f, err, errlen) < 0 || pci_vfio_bind(&h->k, &h->j, &f, err, errlen) < 0)
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
	return pci_hold_recover(h->sysfs, results_dir, JOURNAL, pci_vfio_restore, msg, len);
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
