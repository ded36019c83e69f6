/* accel_test.c: the accelerator decision (harness/host/accel.c) against a fake
 * qemu-system-x86_64 script that plays each kind of host: a kernel that
 * boots, one that stops after "Probing EDD" (PVM), one with no output at all,
 * a QEMU that refuses KVM, one that aborts on it (PVM elsewhere), one killed
 * from outside. Covers the fallback reasons, the cache and its
 * key, a forced kvm that cannot work, the plan and environment overrides,
 * and the real probe against the real QEMU and kernel under TCG. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/accel.h"
#include "check.h"
#include "host/hostcheck.h"
#include "util.h"

static char tmp[] = "/tmp/vgpubench-accel-test-XXXXXX";
static char qemu[256], kvm_dev[256], pvm[256], kernel[256], cache[256], calls[256], modefile[256], pidfile[256];

/* The fake QEMU: logs its arguments, then acts as the mode file says. */
static const char fake_qemu[] =
    "#!/bin/sh\n"
    "d=$(dirname \"$0\")\n"
    "echo \"$*\" >> \"$d/calls\"\n"
    "echo $$ > \"$d/pid\"\n"
    "serial=\n"
    "for a in \"$@\"; do case \"$a\" in file:*) serial=${a#file:};; esac; done\n"
    "case \"$(cat \"$d/mode\")\" in\n"
    "banner) printf 'Probing EDD (edd=off to disable)... ok\\r\\n[    0.000000] Linux version 6.1.0-fake\\r\\n' "
    "> \"$serial\"; exec sleep 30;;\n"
    "edd) printf 'Probing EDD (edd=off to disable)... ok\\r\\n' > \"$serial\"; exec sleep 30;;\n"
    "nothing) exec sleep 30;;\n"
    "refuse) echo 'qemu-system-x86_64: failed to initialize kvm: Permission denied' >&2; exit 1;;\n"
    /* QEMU 10 under some PVM hosts: an assertion on the accelerator, the same at every start. */
    "abort) echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0xc000069' >&2; kill -ABRT $$;;\n"
    /* Killed from outside (the OOM killer, a user): says nothing about KVM. */
    "killed) kill -KILL $$;;\n"
    "esac\n";

static void set_mode(const char *mode)
{
	if (vb_write_file(modefile, mode, strlen(mode)) < 0)
		fprintf(stderr, "cannot write %s\n", modefile);
}

/* How many times the fake QEMU ran. */
static int ncalls(void)
{
	size_t len;
	char *s = vb_read_file(calls, &len);
	int n = 0;

	for (size_t i = 0; s && i < len; i++)
		n += s[i] == '\n';
	free(s);
	return n;
}

/* Is the last fake QEMU gone (killed by the probe)? */
static int probe_gone(void)
{
	size_t len;
	char *s = vb_read_file(pidfile, &len);
	int pid = s ? atoi(s) : 0;

	free(s);
	return pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
}

static struct accel_query query(enum accel_mode mode)
{
	return (struct accel_query){.mode = mode,
				    .mode_source = "the test",
				    .qemu = qemu,
				    .qemu_version = "10.0.2",
				    .guest_kernel = kernel,
				    .cache_path = cache,
				    .timeout_s = 1.0,
				    .kvm_device = kvm_dev,
				    .pvm_module = pvm};
}

static void test_modes(void)
{
	enum accel_mode m;

	CHECK(accel_mode_parse("auto", &m) == 0 && m == ACCEL_AUTO, "auto");
	CHECK(accel_mode_parse("kvm", &m) == 0 && m == ACCEL_KVM, "kvm");
	CHECK(accel_mode_parse("tcg", &m) == 0 && m == ACCEL_TCG, "tcg");
	CHECK(accel_mode_parse("KVM", &m) < 0, "modes are lower case");
	CHECK(accel_mode_parse("", &m) < 0 && accel_mode_parse("kvm ", &m) < 0 && accel_mode_parse(NULL, &m) < 0,
	      "no empty, padded or missing mode");
	CHECK(strcmp(accel_mode_name(ACCEL_KVM), "kvm") == 0, "name of kvm");
}

static void test_no_probe_needed(void)
{
	struct accel_verdict v;
	struct accel_query q = query(ACCEL_TCG);
	char err[512] = "";

	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0, "tcg forced: %s", err);
	CHECK(strcmp(v.accel, "tcg") == 0 && strcmp(v.how, "forced") == 0, "tcg forced: %s (%s)", v.accel, v.how);
	CHECK_STR_CONTAINS(v.reason, "TCG chosen by the test");
	CHECK(ncalls() == 0, "a forced tcg runs no probe (%d)", ncalls());

	/* No /dev/kvm: TCG without a probe, or a fast error when KVM is forced. */
	q = query(ACCEL_AUTO);
	q.kvm_device = "/nonexistent/kvm";
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.accel, "tcg") == 0, "no device: %s", v.accel);
	CHECK_STR_CONTAINS(v.reason, "/nonexistent/kvm is absent");
	CHECK(strcmp(v.how, "no-device") == 0, "how: %s", v.how);
	q.mode = ACCEL_KVM;
	CHECK(accel_decide(&q, &v, err, sizeof(err)) < 0, "kvm forced without a device fails");
	CHECK_STR_CONTAINS(err, "KVM was asked for by the test, but /nonexistent/kvm is absent");
	CHECK(ncalls() == 0, "no probe without a device (%d)", ncalls());
}

static void test_probe_and_cache(void)
{
	struct accel_verdict v;
	struct accel_query q = query(ACCEL_AUTO);
	char err[512] = "";
	double t0;

	/* Silent QEMU, no PVM: TCG with what was seen. */
	set_mode("nothing");
	t0 = vb_now();
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0, "silent: %s", err);
	CHECK(strcmp(v.accel, "tcg") == 0 && strcmp(v.how, "probe") == 0, "silent: %s (%s)", v.accel, v.how);
	CHECK_STR_CONTAINS(v.reason, "KVM present but the guest kernel does not boot under it");
	CHECK_STR_CONTAINS(v.reason, "no console output at all within 1 s");
	CHECK(v.probe_s >= 1.0 && vb_now() - t0 < 10, "the probe keeps its deadline (%.1f s)", v.probe_s);
	CHECK(ncalls() == 1, "one probe (%d)", ncalls());
	CHECK(probe_gone(), "the probe's QEMU was killed at the deadline");

	/* The verdict is cached: no second probe. */
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.how, "cache") == 0, "cached: %s", v.how);
	CHECK(strcmp(v.accel, "tcg") == 0 && v.probe_s < 0, "cached verdict %s", v.accel);
	CHECK_STR_CONTAINS(v.reason, "no console output at all");
	CHECK(ncalls() == 1, "the cache saved a probe (%d)", ncalls());

	/* PVM loaded, stuck after "Probing EDD": the key changed (kvm_pvm), so a new probe names PVM. */
	set_mode("edd");
	if (mkdir(pvm, 0755) < 0)
		fprintf(stderr, "cannot create %s\n", pvm);
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.how, "probe") == 0, "pvm: %s", v.how);
	CHECK(strcmp(v.accel, "tcg") == 0, "pvm: %s", v.accel);
	CHECK_STR_CONTAINS(v.reason, "KVM present but a standard kernel does not boot under it (kvm_pvm is loaded: "
				     "PVM runs only PVM-enabled guest kernels)");
	CHECK_STR_CONTAINS(v.reason, "the console stopped at 'Probing EDD (edd=off to disable)... ok'");
	CHECK(ncalls() == 2, "kvm_pvm is part of the key (%d)", ncalls());

	/* Forced kvm on that host: a fast, clear error, from the cache this time. */
	q.mode = ACCEL_KVM;
	t0 = vb_now();
	CHECK(accel_decide(&q, &v, err, sizeof(err)) < 0, "forced kvm on a failing host fails");
	CHECK_STR_CONTAINS(err, "KVM was asked for by the test, but it cannot boot the guest kernel here: KVM present "
				"but a standard kernel does not boot under it (kvm_pvm is loaded");
	CHECK_STR_CONTAINS(err, "delete ");
	CHECK(vb_now() - t0 < 5 && ncalls() == 2, "from the cache, at once (%d probes)", ncalls());
	q.mode = ACCEL_AUTO;

	/* Another QEMU version: probe again. */
	q.qemu_version = "10.1.0";
	set_mode("banner");
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.how, "probe") == 0, "new key: %s", v.how);
	CHECK(strcmp(v.accel, "kvm") == 0 && v.reason[0] == '\0', "banner: %s (%s)", v.accel, v.reason);
	CHECK(ncalls() == 3, "QEMU's version is part of the key (%d)", ncalls());
	CHECK(probe_gone(), "the probe's QEMU was killed once the banner came");
	{
		size_t len;
		char *args = vb_read_file(calls, &len);

		CHECK_STR_CONTAINS(args, "-accel kvm -cpu host");
		CHECK_STR_CONTAINS(args, "-kernel ");
		CHECK(args && !strstr(args, "-initrd"), "the probe boots no initramfs");
		free(args);
	}
	q.mode = ACCEL_KVM;
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.accel, "kvm") == 0, "forced kvm that works: %s",
	      err);
	CHECK(strcmp(v.how, "cache") == 0 && ncalls() == 3, "kvm verdict cached (%s)", v.how);
	q.mode = ACCEL_AUTO;

	/* A touched guest kernel is another kernel. */
	if (vb_write_file(kernel, "another kernel image", 20) < 0)
		fprintf(stderr, "cannot write %s\n", kernel);
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && ncalls() == 4, "the kernel is part of the key (%d)",
	      ncalls());

	/* A corrupt cache is probed over and rewritten. */
	if (vb_write_file(cache, "{not json", 9) < 0)
		fprintf(stderr, "cannot write %s\n", cache);
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.how, "probe") == 0, "corrupt cache: %s", v.how);
	CHECK(ncalls() == 5, "corrupt cache probed again (%d)", ncalls());
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.how, "cache") == 0, "rewritten: %s", v.how);
}

/* Probes that fail or cannot run: which verdicts are cached, and what a forced kvm says. Runs after
 * test_probe_and_cache (the probe count goes on from there). */
static void test_probe_failures(void)
{
	struct accel_verdict v;
	struct accel_query q = query(ACCEL_AUTO);
	char err[512] = "";

	q.qemu_version = "10.1.0";
	/* A QEMU that refuses KVM: TCG with its message, and not cached (it may be fixed). */
	unlink(cache);
	set_mode("refuse");
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.accel, "tcg") == 0, "refused: %s", v.accel);
	CHECK_STR_CONTAINS(v.reason, "failed to initialize kvm: Permission denied");
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.how, "probe") == 0 && ncalls() == 7,
	      "a refusal is not cached (%s, %d)", v.how, ncalls());

	/* A QEMU that aborts on the accelerator (PVM's "failed to set MSR"): TCG with its message, and cached, since
	 * the same host kernel and QEMU abort the same way every time. */
	unlink(cache);
	set_mode("abort");
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.accel, "tcg") == 0, "aborted: %s", v.accel);
	CHECK_STR_CONTAINS(v.reason, "KVM present but QEMU could not use it; probe: QEMU -accel kvm died of signal 6");
	CHECK_STR_CONTAINS(v.reason, "failed to set MSR 0x10a to 0xc000069");
	CHECK(ncalls() == 8, "the aborting QEMU ran once (%d)", ncalls());
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.how, "cache") == 0 && ncalls() == 8,
	      "an abort is a definite verdict, cached (%s, %d)", v.how, ncalls());
	CHECK_STR_CONTAINS(v.reason, "failed to set MSR 0x10a");
	q.mode = ACCEL_KVM;
	CHECK(accel_decide(&q, &v, err, sizeof(err)) < 0 && ncalls() == 8,
	      "forced kvm after an abort fails from the cache");
	CHECK_STR_CONTAINS(err, "cannot boot the guest kernel here: KVM present but QEMU could not use it");
	q.mode = ACCEL_AUTO;

	/* A QEMU killed from outside during the probe: TCG for now, asked again next time. */
	unlink(cache);
	set_mode("killed");
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.accel, "tcg") == 0, "killed: %s", v.accel);
	CHECK_STR_CONTAINS(v.reason, "died of signal 9");
	CHECK(access(cache, F_OK) < 0 && ncalls() == 9, "a QEMU killed from outside is not cached (%d)", ncalls());
	unlink(cache);

	/* The probe cannot run at all: TCG with why in auto mode, an error when KVM is forced. */
	setenv("TMPDIR", "/nonexistent/tmp", 1);
	set_mode("banner");
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.accel, "tcg") == 0, "no probe: %s", v.accel);
	CHECK_STR_CONTAINS(v.reason, "KVM not probed: cannot create a folder for the probe (/nonexistent/tmp/");
	q.mode = ACCEL_KVM;
	CHECK(accel_decide(&q, &v, err, sizeof(err)) < 0, "forced kvm without a probe fails");
	CHECK_STR_CONTAINS(err, "the KVM boot probe did not run: cannot create a folder");
	q.mode = ACCEL_AUTO;
	unsetenv("TMPDIR");
	CHECK(ncalls() == 9 && access(cache, F_OK) < 0, "nothing ran, nothing cached (%d)", ncalls());

	/* An unwritable cache: the verdict stands, the probe just runs again next time. */
	q.cache_path = "/nonexistent/dir/accel.json";
	set_mode("banner");
	CHECK(accel_decide(&q, &v, err, sizeof(err)) == 0 && strcmp(v.accel, "kvm") == 0, "unwritable cache: %s",
	      v.accel);
}

static void test_overrides(void)
{
	struct host h;
	char err[512] = "";

	memset(&h, 0, sizeof(h));
	snprintf(h.qemu, sizeof(h.qemu), "%s", qemu);
	snprintf(h.guest_kernel, sizeof(h.guest_kernel), "%s", kernel);
	snprintf(h.qemu_version, sizeof(h.qemu_version), "10.0.2");

	unsetenv(HOST_ACCEL_ENV);
	CHECK(host_choose_accel(&h, ACCEL_TCG, cache, err, sizeof(err)) == 0 && strcmp(h.accel, "tcg") == 0,
	      "plan tcg: %s", err);
	CHECK_STR_CONTAINS(h.accel_reason, "TCG chosen by the plan ([guest] accel = tcg)");

	setenv(HOST_ACCEL_ENV, "tcg", 1);
	CHECK(host_choose_accel(&h, ACCEL_KVM, cache, err, sizeof(err)) == 0 && strcmp(h.accel, "tcg") == 0,
	      "the environment wins over the plan: %s", err);
	CHECK_STR_CONTAINS(h.accel_reason, "TCG chosen by VGPUBENCH_ACCEL=tcg");

	setenv(HOST_ACCEL_ENV, "fast", 1);
	CHECK(host_choose_accel(&h, ACCEL_AUTO, cache, err, sizeof(err)) < 0, "a bad VGPUBENCH_ACCEL is an error");
	CHECK_STR_CONTAINS(err, "VGPUBENCH_ACCEL='fast' is not auto, kvm or tcg");

	/* KVM forced where nothing can probe it: a clear error at once. */
	setenv(HOST_ACCEL_ENV, "kvm", 1);
	h.qemu[0] = '\0';
	CHECK(host_choose_accel(&h, ACCEL_AUTO, cache, err, sizeof(err)) < 0, "kvm without QEMU fails");
	CHECK_STR_CONTAINS(err, "KVM was asked for by VGPUBENCH_ACCEL=kvm, but there is no qemu-system-x86_64");
	unsetenv(HOST_ACCEL_ENV);
	CHECK(host_choose_accel(&h, ACCEL_AUTO, cache, err, sizeof(err)) == 0 && strcmp(h.accel, "tcg") == 0,
	      "auto without QEMU: %s", h.accel);
}

/* The probe's banner detection against the real QEMU and kernel, under TCG (works on every host). */
static void test_real_probe(void)
{
	struct host h;
	char why[384] = "";

	host_probe(&h);
	if (!h.qemu[0] || !h.guest_kernel[0]) {
		CHECK(0, "QEMU (%s) and a guest kernel (%s) are installed by make deps", h.qemu, h.guest_kernel);
		return;
	}
	double t0 = vb_now();
	enum accel_probe_result r = accel_boot_probe(h.qemu, "tcg", h.guest_kernel, 60, why, sizeof(why));

	CHECK(r == ACCEL_PROBE_BOOTED, "%s prints its banner under TCG: %s", h.guest_kernel, why);
	printf("real probe: %s banner under TCG after %.1f s\n", h.kernel_version, vb_now() - t0);
	r = accel_boot_probe("/nonexistent/qemu", "tcg", h.guest_kernel, 5, why, sizeof(why));
	CHECK(r == ACCEL_PROBE_EXITED, "a missing QEMU exits at once (%d)", r);
	CHECK_STR_CONTAINS(why, "cannot start /nonexistent/qemu");
}

int main(void)
{
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(qemu, sizeof(qemu), "%s/qemu-system-x86_64", tmp);
	snprintf(kvm_dev, sizeof(kvm_dev), "%s/kvm", tmp);
	snprintf(pvm, sizeof(pvm), "%s/kvm_pvm", tmp);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", tmp);
	snprintf(cache, sizeof(cache), "%s/accel-probe.json", tmp);
	snprintf(calls, sizeof(calls), "%s/calls", tmp);
	snprintf(modefile, sizeof(modefile), "%s/mode", tmp);
	snprintf(pidfile, sizeof(pidfile), "%s/pid", tmp);
	if (vb_write_file(qemu, fake_qemu, strlen(fake_qemu)) < 0 || chmod(qemu, 0755) < 0 ||
	    vb_write_file(kvm_dev, "", 0) < 0 || vb_write_file(kernel, "kernel", 6) < 0) {
		perror("fixture");
		return 1;
	}
	set_mode("nothing");
	test_modes();
	test_no_probe_needed();
	test_probe_and_cache();
	test_probe_failures();
	test_overrides();
	test_real_probe();
	if (vb_rm_rf(tmp) < 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	return check_done("accel");
}
