/* cpu_quota.c: a CPU quota on a process tree through a cgroup (cpu_quota.h). */
#define _GNU_SOURCE
#include "host/cpu_quota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Write text to a kernel attribute in one write (no temporary file: cgroupfs takes no renames). 0, or -1 with errno. */
static int attr_write(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX + 64];
	int fd, e;
	ssize_t w;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	w = write(fd, text, strlen(text));
	e = errno;
	close(fd);
	if (w != (ssize_t)strlen(text)) {
		errno = w < 0 ? e : EIO;
		return -1;
	}
	return 0;
}

static int is_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* Does the word `word` appear in the file (a controller list)? */
static int file_has_word(const char *dir, const char *name, const char *word)
{
	char path[PATH_MAX + 64], *text, *tok, *save;
	int found = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = vb_read_file_max(path, 4096, NULL);
	for (tok = text ? strtok_r(text, " \n", &save) : NULL; tok && !found; tok = strtok_r(NULL, " \n", &save))
		found = !strcmp(tok, word);
	free(text);
	return found;
}

/* Where the cpu controller lives under root: v2 (root itself, or root/unified of a hybrid host) or v1 (root/cpu,
 * root/cpu,cpuacct). 0 with *version and the folder, or -1. */
static int find_hierarchy(const char *root, char *out, size_t len, int *version)
{
	static const char *const v2[] = { "", "/unified" };
	static const char *const v1[] = { "/cpu", "/cpu,cpuacct", "/cpuacct,cpu" };

	for (size_t i = 0; i < sizeof(v2) / sizeof(v2[0]); i++) {
		snprintf(out, len, "%s%s", root, v2[i]);
		if (file_has_word(out, "cgroup.controllers", "cpu")) {
			*version = 2;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++) {
		snprintf(out, len, "%s%s", root, v1[i]);
		if (is_file(out, "cpu.cfs_quota_us")) {
			*version = 1;
			return 0;
		}
	}
	return -1;
}

int cpu_quota_create(struct cpu_quota *q, const char *root, const char *name, double slowdown_pct, long cpus,
		     char *err, size_t errlen)
{
	char base[PATH_MAX - 128], text[64];

	memset(q, 0, sizeof(*q));
	if (!(slowdown_pct > 0 && slowdown_pct < 100) || cpus < 1) {
		snprintf(err, errlen, "a CPU quota needs a slowdown between 0 and 100%% and 1 CPU or more (got %g%%, %ld)",
			 slowdown_pct, cpus);
		return -1;
	}
	if (find_hierarchy(root, base, sizeof(base), &q->version) < 0) {
		snprintf(err, errlen, "no cgroup cpu controller under %s (neither v2's cgroup.controllers listing cpu nor "
				      "v1's cpu hierarchy)",
			 root);
		return -1;
	}
	q->period_us = CPU_QUOTA_PERIOD_US;
	q->quota_us = (long)((double)cpus * (double)q->period_us * (100.0 - slowdown_pct) / 100.0 + 0.5);
	if (q->quota_us < 1000)
		q->quota_us = 1000; /* the kernel's least */
	/* v2: the parent must hand the cpu controller down to its children. */
	if (q->version == 2 && !file_has_word(base, "cgroup.subtree_control", "cpu") &&
	    attr_write(base, "cgroup.subtree_control", "+cpu") < 0) {
		snprintf(err, errlen, "cannot enable the cpu controller in %s/cgroup.subtree_control: %s", base,
			 strerror(errno));
		return -1;
	}
	snprintf(q->dir, sizeof(q->dir), "%s/%s", base, name);
	if (mkdir(q->dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot make the cgroup %s: %s", q->dir, strerror(errno));
		q->dir[0] = 0;
		return -1;
	}
	int rc;

	if (q->version == 2) {
		snprintf(text, sizeof(text), "%ld %ld\n", q->quota_us, q->period_us);
		rc = attr_write(q->dir, "cpu.max", text);
	} else {
		snprintf(text, sizeof(text), "%ld\n", q->period_us);
		rc = attr_write(q->dir, "cpu.cfs_period_us", text);
		snprintf(text, sizeof(text), "%ld\n", q->quota_us);
		rc = rc < 0 ? rc : attr_write(q->dir, "cpu.cfs_quota_us", text);
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot set the quota of %s to %s: %s", q->dir, text, strerror(errno));
		cpu_quota_remove(q);
		return -1;
	}
	return 0;
}

int cpu_quota_add(struct cpu_quota *q, pid_t pid, char *err, size_t errlen)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld\n", (long)pid);
	if (!q->dir[0] || attr_write(q->dir, "cgroup.procs", text) < 0) {
		snprintf(err, errlen, "cannot move process %ld into the cgroup %s: %s", (long)pid,
			 q->dir[0] ? q->dir : "(none)", q->dir[0] ? strerror(errno) : "not made");
		return -1;
	}
	return 0;
}

long long cpu_quota_throttled(const struct cpu_quota *q)
{
	char path[PATH_MAX + 64], *text, *at;
	long long n = -1;

	if (!q->dir[0])
		return -1;
	snprintf(path, sizeof(path), "%s/cpu.stat", q->dir);
	text = vb_read_file_max(path, 4096, NULL);
	at = text ? strstr(text, "nr_throttled ") : NULL;
	if (at)
		n = strtoll(at + strlen("nr_throttled "), NULL, 10);
	free(text);
	return n;
}

void cpu_quota_remove(struct cpu_quota *q)
{
	if (!q->dir[0])
		return;
	/* A group can go only once its last process has: the job's stragglers get two seconds. */
	for (int i = 0; i < 200 && rmdir(q->dir) < 0 && errno == EBUSY; i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	q->dir[0] = 0;
}

int cpu_quota_recover(const char *root, const char *prefix)
{
	char base[PATH_MAX - 300], path[PATH_MAX];
	int version, removed = 0;
	DIR *d;
	struct dirent *e;

	if (find_hierarchy(root, base, sizeof(base), &version) < 0 || !(d = opendir(base)))
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)) && strlen(e->d_name) < 256) {
			snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
			removed += rmdir(path) == 0;
		}
	closedir(d);
	return removed;
}
