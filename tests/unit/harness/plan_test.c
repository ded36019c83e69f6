/* plan_test.c: the plan parser: a good plan, defaults, and bad plans that
 * must each fail with a message naming the file and the line. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "check.h"
#include "sched_policy.h"
#include "plan/plan.h"

struct bad {
	const char *text;
	const char *expect; /* substring of the message, file:line included */
};

static const struct bad bad_plans[] = {
	{ "", "bad.ini: no [plan] section" },
	{ "[plan]\nworkloads = glmark2\n", "bad.ini: [plan] needs 'configs'" },
	{ "[plan]\nconfigs = native\n", "bad.ini: [plan] needs 'workloads'" },
	{ "configs = native\n", "bad.ini:1: key 'configs' outside any section" },
	{ "[plan\n", "bad.ini:1: malformed section header" },
	{ "[plan] x\n", "bad.ini:1: malformed section header" },
	{ "# c\n[plan]\n[bogus]\n", "bad.ini:3: unknown section [bogus]" },
	{ "[plan]\nconfigs native\n", "bad.ini:2: expected 'key = value'" },
	{ "[plan]\n= native\n", "bad.ini:2: missing key" },
	{ "[plan]\nconfigs =\n", "bad.ini:2: configs: missing value" },
	{ "[plan]\nconfigs = native, qemu-foo\n", "bad.ini:2: configs: unknown config 'qemu-foo' (known: native" },
	{ "[plan]\nconfigs = native native\n", "bad.ini:2: configs: 'native' is listed twice" },
	{ "[plan]\nconfigs = native\nconfigs = native\n", "bad.ini:3: duplicate key 'configs'" },
	{ "[plan]\nworkloads = glmark3\n", "bad.ini:2: workloads: unknown workload 'glmark3' (known: glmark2" },
	{ "[plan]\nrepetitions = 0\n", "bad.ini:2: repetitions: '0' is not a whole number from 1 to 100" },
	{ "[plan]\nrepetitions = 3x\n", "bad.ini:2: repetitions: '3x'" },
	{ "[plan]\nrepetitions = 99999999999999999999\n", "bad.ini:2: repetitions:" },
	{ "[plan]\nguests = 1, 0\n", "bad.ini:2: guests: '0' is not a whole number from 1 to 16" },
	{ "[plan]\nguests = 3 3\n", "bad.ini:2: guests: 3 is listed twice" },
	{ "[plan]\nguests = ,\n", "bad.ini:2: guests: the list is empty" },
	{ "[plan]\nname = a b\n", "bad.ini:2: name: 'a b' must be" },
	{ "[plan]\nfoo = 1\n", "bad.ini:2: unknown key 'foo' in [plan]" },
	{ "[plan]\n[guest]\nmemory_mb = 12\n", "bad.ini:3: memory_mb: '12' is not a whole number from 256" },
	{ "[plan]\n[guest]\ncpu = max;rm -rf\n", "bad.ini:3: cpu: 'max;rm -rf' is not a QEMU CPU model name" },
	{ "[plan]\n[guest]\nboot_timeout_s = nan\n", "bad.ini:3: boot_timeout_s: 'nan' is not a number of seconds" },
	{ "[plan]\n[guest]\njob_timeout_s = -1\n", "bad.ini:3: job_timeout_s: '-1'" },
	{ "[plan]\n[plan]\n", "bad.ini:2: section [plan] appears twice" },
	{ "[plan]\ndom0_load = maybe\n", "bad.ini:2: dom0_load: 'maybe' is not yes or no" },
	{ "[plan]\n[guest]\n[guest]\n", "bad.ini:3: section [guest] appears twice" },
	{ "[plan]\n[noise]\n[noise]\n", "bad.ini:3: section [noise] appears twice" },
	{ "[plan]\nrepetitions = many\n", "bad.ini:2: repetitions: 'many'" },
	{ "[plan]\nconfigs=native\nworkloads=glmark2\nrepetitions = auto\nmin_repetitions = 9\nmax_repetitions = 4\n",
	  "bad.ini: min_repetitions (9) is more than max_repetitions (4)" },
	{ "[plan]\nmin_repetitions = 1\n", "bad.ini:2: min_repetitions: '1' is not a whole number from 2 to 100" },
	{ "[plan]\ntarget_ci_pct = 0\n", "bad.ini:2: target_ci_pct: '0' is not a percentage from 0.1 to 100" },
	{ "[plan]\n[noise]\nwarmup = later\n", "bad.ini:3: warmup: 'later' is not yes or no" },
	{ "[plan]\n[noise]\nmax_steal_pct = 101\n", "bad.ini:3: max_steal_pct: '101' is not a percentage from 0 to 100" },
	{ "[plan]\n[noise]\nmax_redos = 11\n", "bad.ini:3: max_redos: '11' is not a whole number from 0 to 10" },
	{ "[plan]\n[noise]\nlp_num_threads = 0\n", "bad.ini:3: lp_num_threads: '0' is not a whole number from 1" },
	{ "[plan]\n[passthrough]\ndevice = 01:00.0\n",
	  "bad.ini:3: device: '01:00.0' is neither auto nor a PCI address in full form (like 0000:03:00.0)" },
	{ "[plan]\n[passthrough]\n[passthrough]\n", "bad.ini:3: section [passthrough] appears twice" },
	{ "[plan]\n[passthrough]\nlab = yes\n", "bad.ini:3: lab: 'yes' is neither none nor nested" },
	{ "[plan]\n[gvt-g]\ntype = ../x\n", "bad.ini:3: type: '../x' is neither auto nor an mdev type id" },
	{ "[plan]\n[gvt-g]\ninstances = 2\n", "bad.ini:3: unknown key 'instances' in [gvt-g] (known: type)" },
	{ "[plan]\n[passthrough]\nbus = 1\n", "bad.ini:3: unknown key 'bus' in [passthrough] (known: device, lab)" },
	{ "[plan]\n[noise]\npin = yes\n",
	  "bad.ini:3: unknown key 'pin' in [noise] (known: warmup, max_steal_pct, max_redos, lp_num_threads, pin_cpus, "
	  "boots)" },
	{ "[plan]\n[noise]\nboots = 0\n", "bad.ini:3: boots: '0' is not a whole number from 1 to 16" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\nrepetitions = 3\n[noise]\nboots = 4\n",
	  "bad.ini:6: boots = 4: a row takes 3 repetitions, and every boot needs one at least" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\nrepetitions = auto\nmin_repetitions = 2\n[noise]\nboots = 3\n",
	  "bad.ini:7: boots = 3: a row takes 2 repetitions (min_repetitions)" },
	{ "[plan]\n[guest]\nvcpus = 1\nvcpus = 2\n", "bad.ini:4: duplicate key 'vcpus' in [guest]" },
	{ "[plan]\n[guest]\naccel = hvf\n", "bad.ini:3: accel: 'hvf' is not auto, kvm or tcg" },
	{ "[plan]\n[guest]\naccel = KVM\n", "bad.ini:3: accel: 'KVM' is not auto, kvm or tcg" },
	{ "[plan]\n[guest]\nkernel_boot = uefi\n", "bad.ini:3: kernel_boot: 'uefi' is not pvh or bzimage" },
	{ "[plan]\n[guest]\ndisplays = 0x0\n", "bad.ini:3: displays: 0x0: each side 64 to 4095" },
	{ "[plan]\n[guest]\ndisplays = 100000x100000\n", "bad.ini:3: displays: 100000x100000: each side 64 to 4095" },
	{ "[plan]\n[guest]\ndisplays = 800 by 600\n", "bad.ini:3: displays: '800' is not WIDTHxHEIGHT" },
	{ "[plan]\n[guest]\ndisplays = 64x64 64x64 64x64 64x64 64x64 64x64 64x64 64x64 64x64 64x64 64x64 64x64 64x64 "
	  "64x64 64x64 64x64 64x64\n",
	  "bad.ini:3: displays: more than 16" },
	{ "[plan]\n[guest]\naccel = tcg\naccel = kvm\n", "bad.ini:4: duplicate key 'accel' in [guest]" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\npolicy = lottery\n",
	  "bad.ini:5: policy: unknown policy 'lottery' (known: best-effort" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\ntimeslice_ms = 0\n",
	  "bad.ini:5: timeslice_ms: '0' is not a whole number from 1 to 1000" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\ndisplay_fps = 2000\n",
	  "bad.ini:5: display_fps: '2000' is not a whole number from 0 to 1000" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\nweights = guest1=2\n",
	  "bad.ini:5: weights: 'guest1=2' is not guestN:VALUE" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\nweights = guest1:0\n",
	  "bad.ini:5: weights: '0' is not a whole number from 1 to 1000" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\nweights = guest1:2 guest1:3\n",
	  "bad.ini:5: weights: guest1 is given twice" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\ntargets = guest0:30\n",
	  "bad.ini:5: targets: '0' is not a whole number from 1 to 16" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\ntargets = guest1:fast\n",
	  "bad.ini:5: targets: 'fast' is not a frame rate (frames/s)" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\ntargets = guest1:-30\n",
	  "bad.ini:5: targets: '-30' is not a frame rate (frames/s) from 1 to" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\nguests=1,3\n[mediator]\n\nweights = guest4:2\n",
	  "bad.ini:7: [mediator] names guest4, but the plan boots at most 3 guests" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\n[mediator]\n",
	  "bad.ini:5: section [mediator] appears twice" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\nwatchdog_ms = soon\n",
	  "bad.ini:5: watchdog_ms: 'soon' is not a whole number from 0 to 600000" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\nwatchdog_action = reboot\n",
	  "bad.ini:5: watchdog_action: 'reboot' is not report or quarantine" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\nvgpu_mem_mb = guest1:0\n",
	  "bad.ini:5: vgpu_mem_mb" },
	{ "[plan]\nconfigs=mediated\nworkloads=glmark2\n[mediator]\nshare = 2\n",
	  "bad.ini:5: unknown key 'share' in [mediator]" },
	{ "[plan]\n[scenario a/b]\n", "bad.ini:2: scenario name 'a/b' must be" },
	{ "[plan]\n[scenario]\n", "bad.ini:2: unknown section [scenario]" },
	{ "[plan]\n[scenario x]\npolicies = sla\n", "bad.ini:2: [scenario x] needs 'guests'" },
	{ "[plan]\n[scenario x]\nguests = glmark2\n[scenario y]\n", "bad.ini:2: [scenario x] needs 'policies'" },
	{ "[plan]\n[scenario x]\nguests = idle idle\npolicies = sla\n", "bad.ini:2: [scenario x]: every guest is idle" },
	{ "[plan]\n[scenario x]\nguests = glmark3\n", "bad.ini:3: guests: unknown workload 'glmark3'" },
	{ "[plan]\n[scenario x]\nguests = glmark2\nbaseline = idle\npolicies = sla\n",
	  "bad.ini:2: [scenario x]: every guest of the baseline is idle" },
	{ "[plan]\n[scenario x]\nguests = glmark2 glmark2\nbaseline = idle\npolicies = sla\n",
	  "bad.ini:2: [scenario x]: baseline names 1 guests, guests 2" },
	{ "[plan]\n[scenario x]\nguests = glmark2 glmark2\npolicies = sla sla\n",
	  "bad.ini:4: policies: 'sla' is listed twice" },
	{ "[plan]\n[scenario x]\nguests = glmark2 glmark2\npolicies = sla\n\ntargets = guest3:30\n",
	  "bad.ini:6: guest3 is named, but [scenario x] has 2 guests" },
	{ "[plan]\n[scenario x]\nguests = glmark2\npolicies = sla\n[scenario x]\n",
	  "bad.ini:5: section [scenario x] appears twice" },
	{ "[plan]\n[scenario x]\nguests = glmark2\nguests = glmark2\n", "bad.ini:4: duplicate key 'guests' in [scenario x]" },
	{ "[plan]\n[scenario x]\nguests = a b c d e f g h i\n", "bad.ini:3: guests: unknown workload 'a'" },
	{ "[plan]\n[scenario x]\nguests = idle idle idle idle idle idle idle idle idle\n",
	  "bad.ini:3: guests: more than 8 guests" },
	{ "[plan]\nworkloads = glmark2\n[scenario x]\nguests = glmark2\npolicies = sla\n",
	  "bad.ini: [plan] lists workloads but no configs" },
};

/* A plan with every [plan] and [guest] key read right. */
static void test_good(void)
{
	struct plan p;
	char err[512];
	const char *good = "# comment\n"
			   "[plan]\n"
			   "name = nightly-1\n"
			   "configs = native, qemu-virgl  # inline comment\n"
			   "guests = 1 3\n"
			   "workloads = glmark2\n"
			   "repetitions = 5\n"
			   "\n"
			   "[guest]\n"
			   "memory_mb = 2048\n"
			   "cpu = Haswell-noTSX\n"
			   "accel = tcg\n"
			   "kernel_boot = bzimage\n"
			   "displays = 1920x1080, 1280x1024\n"
			   "boot_timeout_s = 90.5\r\n";

	CHECK(plan_parse("good.ini", good, &p, err, sizeof(err)) == 0, "good plan rejected: %s", err);
	CHECK(strcmp(p.name, "nightly-1") == 0, "name '%s'", p.name);
	CHECK(p.nconfigs == 2 && strcmp(p.configs[0], "native") == 0 && strcmp(p.configs[1], "qemu-virgl") == 0,
	      "configs");
	CHECK(p.nguests == 2 && p.guests[0] == 1 && p.guests[1] == 3, "guests");
	CHECK(p.nworkloads == 1 && strcmp(p.workloads[0], "glmark2") == 0, "workloads");
	CHECK(p.repetitions == 5, "repetitions %d", p.repetitions);
	CHECK(p.memory_mb == 2048 && p.vcpus == 1, "memory %d vcpus %d", p.memory_mb, p.vcpus);
	CHECK(strcmp(p.cpu, "Haswell-noTSX") == 0, "cpu '%s'", p.cpu);
	CHECK(p.boot_timeout_s == 90.5, "boot timeout %g", p.boot_timeout_s);
	CHECK(p.accel == ACCEL_TCG, "accel %s", accel_mode_name(p.accel));
	CHECK(p.kernel_bzimage == 1, "kernel_boot = bzimage");
	CHECK(p.ndisplays == 2 && p.displays[0].width == 1920 && p.displays[0].height == 1080 &&
		      p.displays[1].width == 1280 && p.displays[1].height == 1024,
	      "displays: %d", p.ndisplays);

}

/* The defaults, repetitions = auto, [noise] and the boots' repetitions. */
static void test_defaults(void)
{
	struct plan p;
	char err[512];

	CHECK(plan_parse("min.ini", "[plan]\nconfigs=native\nworkloads=glmark2", &p, err, sizeof(err)) == 0,
	      "minimal plan rejected: %s", err);
	CHECK(p.nguests == 1 && p.guests[0] == 3, "default topology is 3 guests");
	CHECK(p.repetitions == 3, "default repetitions 3");
	CHECK(p.dom0_load == 1, "dom0 joins multi-guest topologies by default");
	CHECK(p.accel == ACCEL_AUTO, "the accelerator is decided by the probe by default");
	CHECK(p.kernel_bzimage == 0, "the kernel boots at its PVH entry by default");
	CHECK(!p.adaptive.on && p.adaptive.min == 5 && p.adaptive.max == 20 && p.adaptive.target_ci_pct == 5,
	      "fixed repetitions by default; auto would run 5 to 20 until ±5%%");
	CHECK(plan_parse("a.ini",
			 "[plan]\nconfigs=native\nworkloads=glmark2\nmin_repetitions = 4\nrepetitions = auto\n"
			 "target_ci_pct = 2.5\n",
			 &p, err, sizeof(err)) == 0 &&
		      p.adaptive.on && p.adaptive.min == 4 && p.adaptive.max == 20 && p.adaptive.target_ci_pct == 2.5 &&
		      p.repetitions == 4,
	      "repetitions = auto, in any order of the keys: the planned count is the least: %s", err);
	CHECK(!p.noise.warmup && p.noise.max_steal_pct == 10 && p.noise.max_redos == 2 && !p.noise.lp_num_threads &&
		      p.noise.pin_cpus && p.noise.boots == 1,
	      "noise defaults: no warm-up, redo past 10%% steal at most twice, llvmpipe's own thread count, pinning, "
	      "one boot");
	CHECK(plan_parse("b.ini", "[plan]\nconfigs=mediated\nworkloads=glmark2\nrepetitions = 7\n[noise]\nboots = 3\n", &p,
			 err, sizeof(err)) == 0 &&
		      p.noise.boots == 3,
	      "boots = 3: %s", err);
	{
		int f1, l1, f2, l2, f3, l3;

		plan_boot_reps(&p, 1, &f1, &l1);
		plan_boot_reps(&p, 2, &f2, &l2);
		plan_boot_reps(&p, 3, &f3, &l3);
		CHECK(f1 == 1 && l1 == 2 && f2 == 3 && l2 == 4 && f3 == 5 && l3 == 7,
		      "7 repetitions over 3 boots: %d-%d, %d-%d, %d-%d", f1, l1, f2, l2, f3, l3);
	}
	CHECK(plan_parse("n.ini",
			 "[plan]\nconfigs=native\nworkloads=glmark2\n[noise]\nwarmup = yes\nmax_steal_pct = 2.5\n"
			 "max_redos = 0\nlp_num_threads = 2\npin_cpus = no\n",
			 &p, err, sizeof(err)) == 0 &&
		      p.noise.warmup && p.noise.max_steal_pct == 2.5 && p.noise.max_redos == 0 &&
		      p.noise.lp_num_threads == 2 && !p.noise.pin_cpus,
	      "[noise] read: %s", err);
	CHECK(!p.pt.device[0], "passthrough's device: auto unless named");
}

/* [passthrough], [gvt-g], the nested lab's plan, dom0_load; bad plans and their messages. */
static void test_sections_and_bad(void)
{
	struct plan p;
	char err[512];

	CHECK(plan_parse("pt.ini", "[plan]\nconfigs=passthrough\nworkloads=kms2d\n[passthrough]\ndevice = 0000:03:00.0\n",
			 &p, err, sizeof(err)) == 0 &&
		      !strcmp(p.pt.device, "0000:03:00.0"),
	      "[passthrough] device read: %s", err);
	CHECK(!p.pt.nested_lab, "no lab unless asked for");
	CHECK(!p.gvt.type[0], "gvt-g's type: auto unless named");
	CHECK(plan_parse("g.ini", "[plan]\nconfigs=gvt-g\nworkloads=kms2d\n[gvt-g]\ntype = i915-GVTg_V5_4\n", &p, err,
			 sizeof(err)) == 0 &&
		      !strcmp(p.gvt.type, "i915-GVTg_V5_4"),
	      "[gvt-g] type read: %s", err);
	CHECK(plan_load("harness/plans/lab.ini", &p, NULL, err, sizeof(err)) == 0 && p.pt.nested_lab &&
		      p.nconfigs == 1 && !strcmp(p.configs[0], "passthrough") && p.nguests == 1 && p.guests[0] == 1,
	      "the nested lab's plan: passthrough, one guest, lab = nested: %s", err);
	CHECK(plan_parse("pt.ini", "[plan]\nconfigs=passthrough\nworkloads=kms2d\n[passthrough]\ndevice = auto\n", &p,
			 err, sizeof(err)) == 0 &&
		      !p.pt.device[0],
	      "device = auto: %s", err);
	CHECK(plan_parse("d.ini", "[plan]\nconfigs=native\nworkloads=glmark2\ndom0_load = no\n", &p, err, sizeof(err)) == 0 &&
		      p.dom0_load == 0,
	      "dom0_load = no: %s", err);

	for (size_t i = 0; i < sizeof(bad_plans) / sizeof(bad_plans[0]); i++) {
		err[0] = '\0';
		CHECK(plan_parse("bad.ini", bad_plans[i].text, &p, err, sizeof(err)) < 0, "bad plan %zu accepted", i);
		CHECK(strstr(err, bad_plans[i].expect) != NULL, "plan %zu: got '%s', want '%s'", i, err,
		      bad_plans[i].expect);
	}
	/* A line longer than the parser takes. */
	char *longline = malloc(3000);

	memset(longline, 'x', 2999);
	longline[2999] = '\0';
	memcpy(longline, "[plan]\n", 7);
	CHECK(plan_parse("bad.ini", longline, &p, err, sizeof(err)) < 0, "overlong line accepted");
	CHECK_STR_CONTAINS(err, "bad.ini:2: line longer than");
	free(longline);
}

/* A plan of scenarios alone: [mediator] and [scenario NAME]. */
static void test_scenarios(void)
{
	struct plan p;
	char err[512];

	const char *sc = "[plan]\nname = sharing\n"
			 "[mediator]\npolicy = fixed-share\ntimeslice_ms = 4\nweights = guest1:2, guest2:1\n"
			 "watchdog_ms = 500\nwatchdog_action = quarantine\ndisplay_fps = 30\nrender_workers = yes\n"
			 "vgpu_mem_mb = guest1:256, guest3:64\n"
			 "[scenario noisy]\npolicies = best-effort, equal-share-wc\nguests = kms2d glmark2 glmark2\n"
			 "baseline = idle glmark2 glmark2\n"
			 "[scenario sla]\npolicies = sla\nguests = kms2d, glmark2\ntargets = guest2:30\n"
			 "weights = guest1:3\n";

	CHECK(plan_parse("sc.ini", sc, &p, err, sizeof(err)) == 0, "a plan of scenarios alone: %s", err);
	CHECK(p.nconfigs == 0 && p.nscenarios == 2, "two scenarios, no configs");
	CHECK(p.med.policy == 2 && !strcmp(plan_policy_name(p.med.policy), "fixed-share") &&
		      p.med.timeslice_ms == 4 && p.med.weight[1] == 2 && p.med.weight[2] == 1 && p.med.weight[3] == 0,
	      "[mediator]: fixed share, 4 ms, 2:1");
	CHECK(p.med.watchdog_set && p.med.watchdog_ms == 500 && p.med.watchdog_quarantine,
	      "[mediator]: watchdog 500 ms, quarantine");
	CHECK(p.med.display_fps_set && p.med.display_fps == 30, "[mediator]: display updates at 30 a second");
	CHECK(p.med.render_workers == 1, "[mediator]: a render worker per vGPU");
	CHECK(p.med.vgpu_mem_mb[1] == 256 && p.med.vgpu_mem_mb[2] == 0 && p.med.vgpu_mem_mb[3] == 64,
	      "[mediator]: vGPU sizes by guest");
	CHECK(p.scenarios[0].npolicies == 2 && !strcmp(plan_policy_name(p.scenarios[0].policies[1]), "equal-share-wc") &&
		      p.scenarios[0].nguests == 3 &&
		      !strcmp(p.scenarios[0].guests[0], "kms2d") && p.scenarios[0].nbaseline == 3 &&
		      p.scenarios[0].baseline[0] == NULL && !strcmp(p.scenarios[0].baseline[1], "glmark2"),
	      "scenario noisy");
	CHECK(!strcmp(p.scenarios[1].name, "sla") && p.scenarios[1].med.target_fps[2] == 30 &&
		      p.scenarios[1].med.weight[1] == 3 && p.scenarios[1].med.policy == -1 && p.med.target_fps[2] == 0,
	      "scenario sla keeps its own target and weight");
	CHECK(plan_policy_name(SCHED_NPOLICIES) == NULL && plan_policy_name(-1) == NULL, "policy names end");
}

/* The plans that come with vgpubench. */
static void test_shipped_plans(void)
{
	struct plan p;
	char err[512];

	CHECK(plan_load("tests/fixtures/plans/no-such-file.ini", &p, NULL, err, sizeof(err)) < 0, "missing file");
	CHECK_STR_CONTAINS(err, "no-such-file.ini: cannot read the plan");
	CHECK(plan_load("harness/plans/default.ini", &p, NULL, err, sizeof(err)) == 0, "default plan: %s", err);
	CHECK(plan_load("harness/plans/nightly.ini", &p, NULL, err, sizeof(err)) == 0 && p.noise.warmup &&
		      p.noise.lp_num_threads == 2 && p.repetitions == 6 && p.noise.boots == 3,
	      "the nightly plan: %s", err);
	CHECK(p.nguests == 2 && p.guests[1] == 3, "the default plan runs 1 and 3 guests");
	CHECK(p.nconfigs == 4 && !strcmp(p.configs[3], "passthrough") && !strcmp(p.configs[0], "native"),
	      "the default plan names the triangle's corners: native, mediated, passthrough");
	CHECK(plan_load("harness/plans/scale.ini", &p, NULL, err, sizeof(err)) == 0 && p.nguests == 4 &&
		      p.guests[3] == 8 && p.memory_mb == 512,
	      "the scaling plan: 1, 2, 4 and 8 guests of 512 MiB: %s", err);
	CHECK(plan_load("harness/plans/displays.ini", &p, NULL, err, sizeof(err)) == 0 && p.ndisplays == 2 &&
		      p.displays[1].width == 1920 && p.displays[1].height == 1080 && p.vcpus == 2,
	      "the displays plan: two 1920x1080 outputs, two vCPUs: %s", err);
}

int main(void)
{
	test_good();
	test_defaults();
	test_sections_and_bad();
	test_scenarios();
	test_shipped_plans();
	return check_done("plan");
}
