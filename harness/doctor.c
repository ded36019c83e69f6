/* doctor.c: `vgpubench doctor` (doctor.h). Every fact is read from the
 * machine (sysfs, /dev, the installed binaries); nothing is changed. */
#define _GNU_SOURCE
#include "doctor.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "configs/configs.h"
#include "host/hostcheck.h"
#include "host/mdev.h"
#include "host/pci_vfio.h"
#include "plan/plan.h"
#include "util.h"

int doctor_gpus(const char *sysfs, struct doctor_gpu *out, int max)
{
	char *dir = vb_strdupf("%s/bus/pci/devices", sysfs);
	DIR *d = opendir(dir);
	struct dirent *de;
	struct pci_kernel k;
	int n = 0;

	pci_kernel_init(&k, sysfs);
	while (d && (de = readdir(d)) && n < max) {
		struct pci_fn f;

		if (pci_fn_read(&k, de->d_name, &f) < 0 || f.cls >> 16 != 0x03)
			continue;
		struct doctor_gpu *g = &out[n++];

		memset(g, 0, sizeof(*g));
		snprintf(g->bdf, sizeof(g->bdf), "%s", f.bdf);
		snprintf(g->driver, sizeof(g->driver), "%s", f.driver);
		snprintf(g->group, sizeof(g->group), "%s", f.group);
		g->boot_vga = f.console;
	}
	if (d)
		closedir(d);
	free(dir);
	return n;
}

static void fact(FILE *out, const char *name, int ok, const char *value, const char *fix)
{
	fprintf(out, "  %-24s %-4s %s\n", name, ok ? "ok" : "no", value);
	if (!ok && fix)
		fprintf(out, "  %-24s      fix: %s\n", "", fix);
}

/* Does `qemu -device help` list every device guests need? The missing ones into out. */
static int qemu_devices(const char *qemu, char *missing, size_t len)
{
	static const char *const needed[] = { "virtio-gpu-pci", "virtio-gpu-gl-pci", "vhost-user-gpu-pci", "vfio-pci" };
	char *argv[] = { (char *)qemu, "-nodefaults", "-machine", "none", "-device", "help", NULL };
	int st;
	char *text = qemu[0] ? vb_capture(argv, &st) : NULL;

	missing[0] = '\0';
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		char *quoted = vb_strdupf("\"%s\"", needed[i]);

		if (!text || !strstr(text, quoted))
			snprintf(missing + strlen(missing), len - strlen(missing), "%s%s", missing[0] ? ", " : "",
				 needed[i]);
		free(quoted);
	}
	free(text);
	return missing[0] == '\0';
}

/* VA-API profiles vainfo lists, 0 when it fails (no driver). */
static int vaapi_profiles(void)
{
	char *argv[] = { "vainfo", NULL };
	int st, n = 0;
	char *text = vb_capture(argv, &st);

	for (const char *p = text; p && (p = strstr(p, "VAProfile")); p++)
		n++;
	free(text);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? n : 0;
}

static void host_facts(const struct doctor_opts *o, struct host *h, FILE *out)
{
	char buf[1024];
	struct doctor_gpu gpus[32];
	int ngpu = doctor_gpus(o->sysfs, gpus, 32), spare = 0, groups;

	fprintf(out, "host facts:\n");
	if (strcmp(h->accel, "kvm") == 0)
		snprintf(buf, sizeof(buf), "kvm: the guest kernel boots under it (boot probe)");
	else
		snprintf(buf, sizeof(buf), "%s: %s", h->accel, h->accel_reason);
	fact(out, "accelerator", strcmp(h->accel, "kvm") == 0, buf,
	     "a host whose /dev/kvm boots a standard kernel (VT-x or AMD-V exposed, kvm_intel or kvm_amd; not PVM); "
	     "guests run under TCG meanwhile");
	snprintf(buf, sizeof(buf), "QEMU %s (%s)", h->qemu_version[0] ? h->qemu_version : "absent",
		 h->qemu[0] ? h->qemu : "not installed");
	fact(out, "qemu", h->qemu_major >= 10, buf, "make deps (QEMU 10 or newer, from <codename>-backports)");
	{
		char missing[256];
		int ok = qemu_devices(h->qemu, missing, sizeof(missing));

		fact(out, "qemu devices", ok, ok ? "virtio-gpu-pci, virtio-gpu-gl-pci, vhost-user-gpu-pci, vfio-pci" : missing,
		     "make deps (Debian's qemu-system-x86 and qemu-system-gui from backports)");
	}
	fact(out, "guest kernel", h->guest_kernel[0] != '\0', h->guest_kernel[0] ? h->guest_kernel : "none",
	     "apt-get install linux-image-amd64 (make deps)");
	groups = host_iommu_groups(o->sysfs);
	snprintf(buf, sizeof(buf), "%d IOMMU group%s", groups, groups == 1 ? "" : "s");
	fact(out, "IOMMU", groups > 0, buf,
	     "enable VT-d (or AMD-Vi) in the firmware and boot with intel_iommu=on (or amd_iommu=on)");
	{
		static const char *const mods[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };
		char missing[128] = "";

		for (size_t i = 0; i < 3; i++) {
			char *m = vb_strdupf("%s/module/%s", o->sysfs, mods[i]);

			if (access(m, F_OK) < 0)
				snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
					 missing[0] ? ", " : "", mods[i]);
			free(m);
		}
		snprintf(buf, sizeof(buf), missing[0] ? "not loaded: %s" : "vfio, vfio_iommu_type1, vfio_pci loaded",
			 missing);
		fact(out, "vfio modules", !missing[0], buf, "modprobe vfio-pci (it loads the others)");
	}
	buf[0] = '\0';
	for (int i = 0; i < ngpu; i++) {
		spare += !gpus[i].boot_vga;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s (%s%s%s%s)", i ? ", " : "", gpus[i].bdf,
			 gpus[i].driver[0] ? gpus[i].driver : "no driver", gpus[i].boot_vga ? ", the console's" : "",
			 gpus[i].group[0] ? ", IOMMU group " : "", gpus[i].group);
	}
	if (!ngpu)
		snprintf(buf, sizeof(buf), "no display-class PCI device");
	fact(out, "spare GPU", spare > 0, buf,
	     "a second GPU the host console does not use, alone in its IOMMU group, for passthrough");
	{
		struct pci_kernel k;
		struct mdev_type t[8];
		int n;

		pci_kernel_init(&k, o->sysfs);
		n = mdev_types(&k, "i915-GVTg", t, 8);
		snprintf(buf, sizeof(buf), "%d mdev type%s", n, n == 1 ? "" : "s");
		for (int i = 0; i < n; i++)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%.63s on %.15s (%d left)", i ? ", " : ": ",
				 t[i].id, t[i].parent, t[i].available);
		fact(out, "GVT-g", n > 0, buf,
		     "a supported Intel iGPU (Broadwell to Comet Lake) with i915.enable_gvt=1 and the kvmgt module");
	}
	fact(out, "render node", h->has_render_node,
	     h->gpus[0] ? h->gpus : h->has_render_node ? "/dev/dri/renderD*" : "none: llvmpipe renders",
	     "a GPU with a DRM driver (without one, native and virgl render on the CPU, recorded as such)");
	snprintf(buf, sizeof(buf), "virglrenderer %s, Mesa %s", h->virglrenderer_version[0] ? h->virglrenderer_version : "absent",
		 h->mesa_version[0] ? h->mesa_version : "absent");
	fact(out, "virglrenderer, Mesa", h->virglrenderer_version[0] && h->mesa_version[0], buf, "make deps");
	{
		int n = vaapi_profiles();

		snprintf(buf, sizeof(buf), n ? "%d VA-API profiles" : "vainfo lists none", n);
		fact(out, "VA-API", n > 0, buf,
		     "a VA-API driver for the GPU (media workloads decode in software meanwhile, and say so)");
	}
	fact(out, "Xvfb", h->has_xvfb, h->has_xvfb ? "installed" : "not installed", "make deps");
}

int doctor_run(const struct doctor_opts *o, FILE *out)
{
	struct host h;
	struct plan p;
	char err[1024] = "", buf[512], lab[128] = "";
	char accel_err[1024] = "";
	int plan_ok, runnable = 1;

	host_probe(&h);
	snprintf(h.sysfs, sizeof(h.sysfs), "%s", o->sysfs);
	/* The plan's settings (its accelerator, its passthrough device) decide some verdicts. */
	plan_ok = plan_load(o->plan, &p, NULL, err, sizeof(err)) == 0;
	/* The accelerator as run would choose it: a forced one that cannot work, or a VGPUBENCH_ACCEL that is no
	 * accelerator, stops a run, so the plan cannot run here either. */
	if (host_choose_accel(&h, plan_ok ? p.accel : ACCEL_AUTO, o->accel_cache, accel_err, sizeof(accel_err)) < 0) {
		strcpy(h.accel, "tcg");
		snprintf(h.accel_reason, sizeof(h.accel_reason), "%s", accel_err);
	}
	fprintf(out, "vgpubench doctor: what this host can run (%s, %d CPUs)\n", h.cpu_model, h.cpus);
	host_facts(o, &h, out);
	fprintf(out, "configurations:\n");
	for (size_t i = 0; config_at(i); i++) {
		const struct config_def *c = config_at(i);
		const char *why = host_skip_reason(&h, plan_ok ? &p : NULL, c, buf, sizeof(buf));

		fprintf(out, "  %-24s %s%s\n", c->name, why ? "skipped: " : "runnable", why ? why : "");
	}
	if (!plan_ok) {
		fprintf(out, "plan: %s\n", err);
		return 1;
	}
	for (int i = 0; i < p.nconfigs; i++) {
		const struct config_def *c = config_find(p.configs[i]);

		if (!host_skip_reason(&h, &p, c, buf, sizeof(buf)))
			continue;
		if (c->needs_lab_hardware)
			snprintf(lab + strlen(lab), sizeof(lab) - strlen(lab), "%s%s", lab[0] ? ", " : "", c->name);
		else
			runnable = 0;
	}
	/* Scenarios run on the mediated configuration. */
	if (p.nscenarios) {
		const struct config_def *m = config_with_role(ROLE_MEDIATED);
		const char *why = m ? host_skip_reason(&h, &p, m, buf, sizeof(buf)) : "no mediated configuration";

		fprintf(out, "  %d scenario%s on %s: %s%s\n", p.nscenarios, p.nscenarios > 1 ? "s" : "",
			m ? m->name : "?", why ? "skipped: " : "runnable", why ? why : "");
		runnable &= !why;
	}
	if (accel_err[0] && plan_boots_guests(&p)) {
		fprintf(out, "plan %s: vgpubench run would stop at once: %s\n", o->plan, accel_err);
		return 1;
	}
	fprintf(out, "plan %s: %s\n", o->plan,
		!runnable ? "some configurations it names cannot run here (their jobs are skipped with the reason)"
		: lab[0]  ? "it can run here"
			  : "every configuration it names can run here");
	if (lab[0])
		fprintf(out, "  without the hardware it needs, %s: skipped, and the run keeps the reason (harness/plans/lab.ini "
			"proves the passthrough path in a nested lab)\n",
			lab);
	return runnable ? 0 : 1;
}
