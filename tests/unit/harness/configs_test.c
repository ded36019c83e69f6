/* configs_test.c: run configurations as plugins (harness/config_*.c): the
 * registry generated from one list, the host checks every configuration of
 * a kind shares and each one's own skip reason, against fake hosts, and
 * the back-ends' start ops: QEMU's virgl device, a missing mediator (an
 * error, nothing left running), QEMU's real vhost-user-gpu back-end and
 * the memfd-shared RAM its guests get. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "configs/configs.h"
#include "configs/gpu_backend.h"
#include "host/hostcheck.h"
#include "plan/plan.h"
#include "sysfs_fixture.h"
#include "util.h"

static void test_registry(void)
{
	int roles[4] = { 0 }, n = 0;

	for (size_t i = 0; config_at(i); i++, n++) {
		const struct config_def *c = config_at(i);

		CHECK(c->name && *c->name && c->description && *c->description, "config %zu has a name and a description", i);
		CHECK(config_find(c->name) == c, "%s is found by its name", c->name);
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(config_at(k)->name, c->name) != 0, "%s is listed once", c->name);
		roles[c->role]++;
		CHECK(c->kind == CONFIG_GUEST || !c->start, "%s: a host configuration starts no back-end", c->name);
		CHECK(!c->snapshot == !c->counters_file, "%s: counters and their file go together", c->name);
		/* An interleaved run's --baseline-mediator arm runs exactly the configurations that start it. */
		CHECK(c->starts_mediator == (strcmp(c->name, "mediated") == 0), "%s: starts_mediator %d", c->name,
		      c->starts_mediator);
	}
	CHECK(n == 6, "six configurations (%d)", n);
	CHECK(roles[ROLE_NATIVE] == 1 && roles[ROLE_MEDIATED] == 1 && roles[ROLE_PASSTHROUGH] == 1,
	      "one configuration for each corner of the triangle");
	CHECK(strcmp(config_baseline(), "native") == 0, "the baseline: '%s'", config_baseline());
	CHECK(config_with_role(ROLE_MEDIATED) == config_find("mediated") &&
		      config_with_role(ROLE_PASSTHROUGH) == config_find("passthrough") && !config_with_role(ROLE_NONE),
	      "the corners");
	CHECK(config_find("qemu-foo") == NULL && config_find(NULL) == NULL, "unknown names are not found");
	CHECK(config_at((size_t)n) == NULL, "past the end");
	static const char *const served[] = { "qemu-virgl", "mediated", "qemu-vhost-user-gpu" };

	for (size_t i = 0; i < 3; i++)
		CHECK(config_find(served[i]) && config_find(served[i])->start, "%s has a back-end", served[i]);
	CHECK(config_find("qemu-virgl")->needs_display && !config_find("mediated")->needs_display,
	      "only QEMU's SDL GL display needs the run's X server");
	CHECK(config_find("mediated")->snapshot != NULL, "the mediator keeps counters");
}

static void fake_host(struct host *h)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->sysfs, "/nonexistent-sysfs");
	strcpy(h->accel, "tcg");
	strcpy(h->accel_reason, "KVM present but a standard kernel does not boot under it");
	strcpy(h->qemu, "/usr/bin/qemu-system-x86_64");
	strcpy(h->qemu_version, "10.0.2");
	h->qemu_major = 10;
	strcpy(h->guest_kernel, "/boot/vmlinuz-test");
	h->has_xvfb = 1;
}

static void test_skip_reasons(void)
{
	struct host h;
	char buf[512];
	const char *why;

	fake_host(&h);
	CHECK(host_skip_reason(&h, NULL, config_find("native"), buf, sizeof(buf)) == NULL, "native runs");
	CHECK(host_skip_reason(&h, NULL, config_find("qemu-virgl"), buf, sizeof(buf)) == NULL, "qemu-virgl runs");
	/* Passthrough runs under TCG too: what it lacks here is an IOMMU (the fake host's sysfs is empty). */
	why = host_skip_reason(&h, NULL, config_find("passthrough"), buf, sizeof(buf));
	CHECK_STR_CONTAINS(why, "no IOMMU groups (VT-d or AMD-Vi is off or absent");
	why = host_skip_reason(&h, NULL, config_find("gvt-g"), buf, sizeof(buf));
	CHECK_STR_CONTAINS(why, "needs KVM, which kvmgt runs under (");
	strcpy(h.accel, "kvm");
	why = host_skip_reason(&h, NULL, config_find("gvt-g"), buf, sizeof(buf));
	CHECK(why && strstr(why, "i915.enable_gvt=1"), "gvt-g: %s", why ? why : "");

	h.has_xvfb = 0;
	CHECK_STR_CONTAINS(host_skip_reason(&h, NULL, config_find("native"), buf, sizeof(buf)), "Xvfb is not installed");
	CHECK_STR_CONTAINS(host_skip_reason(&h, NULL, config_find("qemu-virgl"), buf, sizeof(buf)),
			   "Xvfb is not installed (QEMU's SDL GL display");
	CHECK(host_skip_reason(&h, NULL, config_find("qemu-vhost-user-gpu"), buf, sizeof(buf)) == NULL ||
		      access("/usr/lib/qemu/vhost-user-gpu", X_OK) < 0,
	      "no X server needed without an SDL display");
	h.qemu_major = 7;
	strcpy(h.qemu_version, "7.2.0");
	for (size_t i = 0; config_at(i); i++)
		if (config_at(i)->kind == CONFIG_GUEST)
			CHECK_STR_CONTAINS(host_skip_reason(&h, NULL, config_at(i), buf, sizeof(buf)), "QEMU 7.2.0 is older than 10");
	h.qemu[0] = '\0';
	CHECK_STR_CONTAINS(host_skip_reason(&h, NULL, config_find("mediated"), buf, sizeof(buf)),
			   "qemu-system-x86_64 is not installed");
	fake_host(&h);
	h.guest_kernel[0] = '\0';
	CHECK_STR_CONTAINS(host_skip_reason(&h, NULL, config_find("qemu-virgl"), buf, sizeof(buf)), "no guest kernel");
}

static void test_backends(const char *dir)
{
	struct gpu_backend b;
	char err[512] = "";
	struct backend_env env = { .dir = dir, .mediator = "/nonexistent/vgpu-mediator", .memory_mb = 256 };

	CHECK(gpu_backend_start(&b, config_find("qemu-virgl"), 2, &env, err, sizeof(err)) == 0, "virgl: %s", err);
	CHECK(gpu_backend_args(&b, 1) && strcmp(gpu_backend_args(&b, 1)[1], "virtio-gpu-gl-pci,xres=640,yres=480") == 0,
	      "each guest gets virtio-gpu-gl-pci");
	CHECK(gpu_backend_args(&b, 2) == NULL, "no third guest");
	CHECK(gpu_backend_counters(&b, "/nonexistent") < 0, "QEMU's virgl keeps no counters");
	gpu_backend_stop(&b);
	{
		static struct plan two = { .ndisplays = 2, .displays = { { 1920, 1080 }, { 1280, 1024 } } };
		struct backend_env denv = env;

		denv.plan = &two;
		CHECK(gpu_backend_start(&b, config_find("qemu-virgl"), 1, &denv, err, sizeof(err)) == 0 &&
			      gpu_backend_args(&b, 0) &&
			      !strcmp(gpu_backend_args(&b, 0)[1],
				      "virtio-gpu-gl-pci,max_outputs=2,xres=1920,yres=1080"),
		      "[guest] displays: QEMU's device gets its outputs and the first one's mode: %s",
		      gpu_backend_args(&b, 0) ? gpu_backend_args(&b, 0)[1] : err);
		gpu_backend_stop(&b);
	}

	CHECK(gpu_backend_start(&b, config_find("native"), 1, &env, err, sizeof(err)) < 0, "a host config has none");
	CHECK_STR_CONTAINS(err, "config native has no GPU back-end here");
	CHECK(gpu_backend_start(&b, config_find("qemu-virgl"), 0, &env, err, sizeof(err)) < 0, "no guests");
	CHECK(gpu_backend_start(&b, config_find("qemu-virgl"), GPU_BACKEND_MAX + 1, &env, err, sizeof(err)) < 0,
	      "too many guests");

	double t0 = vb_now();

	CHECK(gpu_backend_start(&b, config_find("mediated"), 2, &env, err, sizeof(err)) < 0, "a missing mediator");
	CHECK_STR_CONTAINS(err, "vgpu-mediator did not come up");
	CHECK(vb_now() - t0 < 10 && b.npid == 0, "known at once, nothing left running (%d)", b.npid);

	if (access("/usr/lib/qemu/vhost-user-gpu", X_OK) < 0) {
		CHECK(0, "QEMU's vhost-user-gpu is installed by make deps");
		return;
	}
	CHECK(gpu_backend_start(&b, config_find("qemu-vhost-user-gpu"), 1, &env, err, sizeof(err)) == 0,
	      "QEMU's back-end: %s", err);
	const char *const *a = gpu_backend_args(&b, 0);
	char *joined = vb_strdupf("%s %s %s %s %s %s %s", a[0], a[1], a[2], a[3], a[4], a[5], a[7]);

	CHECK_STR_CONTAINS(joined, "-object memory-backend-memfd,id=gmem,size=256M,share=on -numa node,memdev=gmem");
	CHECK_STR_CONTAINS(joined, "vhost-user-gpu-pci,chardev=vgpu");
	CHECK(access(b.sock[0], F_OK) == 0, "its socket %s is there", b.sock[0]);
	pid_t pid = b.pid[0];

	free(joined);
	gpu_backend_stop(&b);
	CHECK(kill(pid, 0) < 0 && access(b.sock[0], F_OK) < 0, "stopped, socket removed");
}

/*
 * Passthrough's back-end against a fixture sysfs like the nested lab's L1: a
 * virtio GPU behind a root port, alone in its IOMMU group and bound to
 * vfio-pci already (so nothing is written), and the console's GPU.
 */
static void test_passthrough(const char *dir)
{
	char *root = vb_strdupf("%s/sys", dir);
	struct host h;
	struct plan p;
	struct gpu_backend b;
	char err[1024] = "", buf[512];
	struct backend_env env = { .host = &h, .plan = &p, .dir = dir, .memory_mb = 256 };
	const struct config_def *c = config_find("passthrough");

	fixture_root = root;
	fixture_pci("0000:00:01.0", "0x030000\n", "0x1234\n", "0x1111\n", 1, "bochs-drm", "0");
	fixture_pci("0000:01:00.0", "0x030000\n", "0x1af4\n", "0x1050\n", 0, "vfio-pci", "5");
	fake_host(&h);
	strcpy(h.sysfs, root);
	memset(&p, 0, sizeof(p));
	CHECK(host_skip_reason(&h, &p, c, buf, sizeof(buf)) == NULL, "runnable: %s", buf);
	CHECK(c->max_guests == 1 && c->needs_lab_hardware && c->stop && c->recover, "one guest; lab hardware");
	CHECK(gpu_backend_start(&b, c, 1, &env, err, sizeof(err)) == 0, "start: %s", err);
	CHECK(gpu_backend_args(&b, 0) && !strcmp(gpu_backend_args(&b, 0)[0], "-device") &&
		      !strcmp(gpu_backend_args(&b, 0)[1], "vfio-pci,host=0000:01:00.0") && !gpu_backend_args(&b, 0)[2],
	      "the guest gets the device through vfio-pci");
	CHECK(!strcmp(b.kms_driver, "virtio_gpu"), "its guest's 2D jobs must show virtio_gpu (%s)", b.kms_driver);
	CHECK_STR_CONTAINS(b.description, "0000:01:00.0 (1af4:1050, host driver vfio-pci) on vfio-pci, for one guest");
	gpu_backend_stop(&b);
	CHECK(b.priv == NULL && b.stop == NULL, "stopped, its state released");

	CHECK(gpu_backend_start(&b, c, 3, &env, err, sizeof(err)) < 0, "one device, not three guests");
	CHECK_STR_CONTAINS(err, "passthrough hands its one device to one guest, not 3");
	strcpy(p.pt.device, "0000:00:01.0");
	CHECK_STR_CONTAINS(host_skip_reason(&h, &p, c, buf, sizeof(buf)), "0000:00:01.0 shows the host console");
	CHECK(gpu_backend_start(&b, c, 1, &env, err, sizeof(err)) < 0, "the plan's device is the console's");
	CHECK_STR_CONTAINS(err, "0000:00:01.0 shows the host console");

	/* The nested lab: its guest is a lab host, and the plan it runs is written for it. */
	p.pt.nested_lab = 1;
	p.nworkloads = 1;
	p.workloads[0] = "kms2d";
	p.repetitions = 2;
	p.job_timeout_s = 600;
	strcpy(p.cpu, "Westmere");
	strcpy(h.kernel_version, "0.0-none");
	CHECK_STR_CONTAINS(host_skip_reason(&h, &p, c, buf, sizeof(buf)),
			   "the guest kernel 0.0-none has no vfio-pci module for the nested lab's host");
	CHECK(gpu_backend_start(&b, c, 1, &env, err, sizeof(err)) == 0, "the lab host's back-end: %s", err);
	CHECK(!strcmp(b.machine, "q35,kernel-irqchip=split") && !strcmp(b.kernel_args, "intel_iommu=on nomodeset") &&
		      b.memory_mb >= 2048 &&
		      b.vcpus == 2,
	      "q35, the IOMMU on, room for its own guest: %s %s %d %d", b.machine, b.kernel_args, b.memory_mb, b.vcpus);
	const char *const *la = gpu_backend_args(&b, 0);
	char *joined = vb_strdupf("%s %s %s %s %s %s", la[0], la[1], la[2], la[3], la[4], la[5]);

	CHECK_STR_CONTAINS(joined, "-device intel-iommu,intremap=on,caching-mode=on -device pcie-root-port,id=lab.rp");
	CHECK_STR_CONTAINS(joined, "virtio-gpu-pci,iommu_platform=on,disable-legacy=on,bus=lab.rp,xres=640,yres=480");
	free(joined);
	char *inner = vb_read_file(b.lab_plan, NULL);
	struct plan ip;

	CHECK(inner && plan_parse("lab-plan.ini", inner, &ip, err, sizeof(err)) == 0, "the inner plan parses: %s", err);
	CHECK(inner && ip.nconfigs == 1 && !strcmp(ip.configs[0], "passthrough") && !strcmp(ip.pt.device, "0000:01:00.0") &&
		      !ip.pt.nested_lab && ip.nworkloads == 1 && !strcmp(ip.workloads[0], "kms2d") &&
		      ip.repetitions == 2 && ip.accel == ACCEL_TCG && !strcmp(ip.cpu, "Westmere"),
	      "the inner plan: passthrough for real on the lab host's GPU, the outer plan's workloads");
	free(inner);
	gpu_backend_stop(&b);
	free(root);
}

int main(void)
{
	char dir[] = "/tmp/vgpubench-configs-XXXXXX";

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_registry();
	test_skip_reasons();
	test_backends(dir);
	test_passthrough(dir);
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("configs");
}
