/* cpu_quota_test.c: the CPU quota calibrate injects into native jobs: which
 * hierarchy it picks (v2, the hybrid's unified one without cpu, v1), what it
 * writes there for a slowdown, what it refuses; then, where this host lets
 * root make cgroups, a real one: a child spinning for 0.6 s inside a quota
 * of a quarter CPU gets well under half of it, and the group goes away. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "host/cpu_quota.h"
#include "sysfs_fixture.h"

static int fixture_exists(const char *rel)
{
	char *path = vb_strdupf("%s/%s", fixture_root, rel);
	int yes = access(path, F_OK) == 0;

	free(path);
	return yes;
}

static char *fixture_read(const char *rel)
{
	char *path = vb_strdupf("%s/%s", fixture_root, rel), *text = vb_read_file(path, NULL);

	free(path);
	return text;
}

static int fixture_text_is(const char *rel, const char *want)
{
	char *text = fixture_read(rel);
	int same = text && !strcmp(text, want);

	if (!same)
		fprintf(stderr, "%s: '%s', not '%s'\n", rel, text ? text : "(none)", want);
	free(text);
	return same;
}

static void test_v2(void)
{
	struct cpu_quota q;
	char err[512], *dir;

	fixture_rm("v2");
	fixture_put("v2/cgroup.controllers", "cpuset cpu io memory pids\n");
	fixture_put("v2/cgroup.subtree_control", "");
	/* cgroupfs makes a group's files with the group: here they are there beforehand. */
	fixture_put("v2/vb/cpu.max", "");
	fixture_put("v2/vb/cgroup.procs", "");
	fixture_put("v2/vb/cpu.stat", "usage_usec 100\nnr_periods 9\nnr_throttled 4\nthrottled_usec 7\n");
	dir = vb_strdupf("%s/v2", fixture_root);
	CHECK(cpu_quota_create(&q, dir, "vb", 5, 2, err, sizeof(err)) == 0, "v2: made (%s)", err);
	CHECK(q.version == 2 && q.quota_us == 190000 && q.period_us == 100000, "v2: 95%% of 2 CPUs: %ld/%ld", q.quota_us,
	      q.period_us);
	CHECK(fixture_text_is("v2/vb/cpu.max", "190000 100000\n"), "v2: cpu.max says so");
	CHECK(fixture_text_is("v2/cgroup.subtree_control", "+cpu"), "v2: the parent hands the cpu controller down");
	CHECK(cpu_quota_add(&q, 4242, err, sizeof(err)) == 0 && fixture_text_is("v2/vb/cgroup.procs", "4242\n"),
	      "v2: a process is moved in by cgroup.procs");
	CHECK(cpu_quota_throttled(&q) == 4, "v2: nr_throttled is read");
	free(dir);
}

static void test_v1_and_hybrid(void)
{
	struct cpu_quota q;
	char err[512], *dir;

	fixture_rm("hy");
	/* A hybrid host: the unified hierarchy without the cpu controller, v1's cpu beside it. */
	fixture_put("hy/unified/cgroup.controllers", "hugetlb\n");
	fixture_put("hy/cpu/cpu.cfs_quota_us", "-1\n");
	fixture_put("hy/cpu/vb/cpu.cfs_quota_us", "");
	fixture_put("hy/cpu/vb/cpu.cfs_period_us", "");
	fixture_put("hy/cpu/vb/cgroup.procs", "");
	dir = vb_strdupf("%s/hy", fixture_root);
	CHECK(cpu_quota_create(&q, dir, "vb", 50, 1, err, sizeof(err)) == 0, "v1: made (%s)", err);
	CHECK(q.version == 1 && q.quota_us == 50000, "v1: 50%% of 1 CPU: %ld", q.quota_us);
	CHECK(fixture_text_is("hy/cpu/vb/cpu.cfs_quota_us", "50000\n") &&
	      fixture_text_is("hy/cpu/vb/cpu.cfs_period_us", "100000\n"),
	      "v1: quota and period are written");
	CHECK(cpu_quota_throttled(&q) == -1, "v1: no cpu.stat, no count");
	/* What killed runs left: empty groups of ours go, a busy one (here: not empty) and others' stay. */
	fixture_put("hy/cpu/vgpubench-old1/.keep", "");
	fixture_rm("hy/cpu/vgpubench-old1/.keep");
	fixture_put("hy/cpu/vgpubench-old2/.keep", "");
	fixture_rm("hy/cpu/vgpubench-old2/.keep");
	fixture_put("hy/cpu/vgpubench-live/cgroup.procs", "77\n");
	fixture_put("hy/cpu/other/.keep", "");
	fixture_rm("hy/cpu/other/.keep");
	CHECK(cpu_quota_recover(dir, "vgpubench-") == 2, "two groups left behind are removed");
	CHECK(!fixture_exists("hy/cpu/vgpubench-old1") && fixture_exists("hy/cpu/vgpubench-live") &&
		      fixture_exists("hy/cpu/other"),
	      "a busy group and another program's stay");
	free(dir);

	dir = vb_strdupf("%s/nothing", fixture_root);
	fixture_put("nothing/unified/cgroup.controllers", "memory\n");
	CHECK(cpu_quota_create(&q, dir, "vb", 5, 2, err, sizeof(err)) == -1 && check_contains(err, "no cgroup cpu") &&
	      !q.dir[0],
	      "no cpu controller anywhere: refused, saying so (%s)", err);
	CHECK(cpu_quota_create(&q, dir, "vb", 0, 2, err, sizeof(err)) == -1 && check_contains(err, "between 0 and 100"),
	      "a 0%% slowdown is refused (%s)", err);
	CHECK(cpu_quota_create(&q, dir, "vb", 100, 2, err, sizeof(err)) == -1, "a 100%% slowdown is refused");
	CHECK(cpu_quota_add(&q, 1, err, sizeof(err)) == -1 && check_contains(err, "not made"),
	      "nothing is moved into a group never made (%s)", err);
	cpu_quota_remove(&q);
	free(dir);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The kernel's own: a quarter of one CPU for a child that would use all of it. */
static void test_real(void)
{
	struct cpu_quota q;
	char err[512], name[64];
	struct rusage ru;
	int status, go[2];
	pid_t pid;

	if (geteuid() != 0) {
		printf("skip: making cgroups needs root (the quota is tested against a fixture only)\n");
		return;
	}
	snprintf(name, sizeof(name), "vgpubench-test-%d", (int)getpid());
	if (cpu_quota_create(&q, "/sys/fs/cgroup", name, 75, 1, err, sizeof(err)) < 0) {
		printf("skip: %s\n", err);
		return;
	}
	if (pipe(go) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		for (double end = now_s() + 0.6; now_s() < end;)
			;
		_exit(0);
	}
	close(go[0]);
	CHECK(cpu_quota_add(&q, pid, err, sizeof(err)) == 0, "the child is moved in (%s)", err);
	CHECK(write(go[1], "x", 1) == 1, "the child is told to start");
	close(go[1]);
	CHECK(wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child ends");
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		     (double)ru.ru_stime.tv_usec / 1e6;

	CHECK(cpu < 0.3, "0.6 s of spinning under a quarter CPU used %.3f s of CPU, not about 0.15", cpu);
	CHECK(cpu_quota_throttled(&q) > 0, "the kernel says it held the group back (%lld)", cpu_quota_throttled(&q));
	char dir[sizeof(q.dir)];

	snprintf(dir, sizeof(dir), "%s", q.dir);
	cpu_quota_remove(&q);
	CHECK(access(dir, F_OK) != 0, "the group is gone");
}

int main(void)
{
	char root[] = "/tmp/vgpubench-cpuquota-XXXXXX";

	if (!mkdtemp(root))
		return 1;
	fixture_root = root;
	test_v2();
	test_v1_and_hybrid();
	test_real();
	if (vb_rm_rf(root) < 0)
		fprintf(stderr, "cannot remove %s\n", root);
	return check_done("cpu_quota_test");
}
