/* lifecycle.c: a run's life in the store and on disk: its id and folder, the lock that says who runs it,
 * its creation with the host's facts, a resumed run's state, the parts a killed run left behind. */
#define _GNU_SOURCE
#include "run/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "configs/vgpu_stats.h"
#include "host/cpu_quota.h"
#include "host/host_id.h"
#include "run/run_state.h"
#include "store/store.h"
#include "util.h"
#include "vm/vm.h"

void run_record_host(struct run *r)
{
	struct host *h = &r->host;
	char cpus[16], mem[32], name[256] = "", machine[64];

	if (gethostname(name, sizeof(name) - 1) < 0)
		name[0] = '\0';
	host_machine_id(machine, sizeof(machine));
	snprintf(cpus, sizeof(cpus), "%d", h->cpus);
	snprintf(mem, sizeof(mem), "%lld", h->mem_kb);
	/* Each render node with its driver and PCI ids (host_gpus), as doctor shows them. */
	const char *gpu = h->gpus[0]		 ? h->gpus
			  : h->has_render_node ? "a render node whose device sysfs does not show"
					       : "none: native renders with llvmpipe on the CPU";
	const char *accel_args = vm_accel_kernel_args(h->accel);
	const char *const facts[][2] = {
		{ "hostname", name[0] ? name : NULL },
		{ "machine_id", machine[0] ? machine : NULL },
		{ "accel", h->accel },
		{ "accel_reason", h->accel_reason[0] ? h->accel_reason : "KVM boots the guest kernel (boot probe)" },
		{ "qemu", h->qemu_version[0] ? h->qemu_version : NULL },
		{ "host_kernel", h->host_kernel },
		{ "guest_kernel", h->guest_kernel },
		{ "guest_kernel_args", accel_args[0] ? accel_args : NULL },
		{ "cpu_model", h->cpu_model },
		{ "cpus", cpus },
		{ "mem_kb", mem },
		{ "mesa", h->mesa_version },
		{ "virglrenderer", h->virglrenderer_version[0] ? h->virglrenderer_version : NULL },
		{ "host_gpu", gpu },
	};

	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]) && !r->fatal[0]; i++)
		run_stored(r, store_host_fact(&r->store, r->id, facts[i][0], facts[i][1]), "the host's facts");
}

/* What runs killed before they could stop left behind (a device still on vfio-pci, say), given back first. */
void run_recover_left_behind(struct run *r)
{
	for (size_t i = 0; config_at(i); i++) {
		const struct config_def *c = config_at(i);
		char msg[1024] = "";
		int n;

		if (!c->recover)
			continue;
		n = c->recover(&r->host, r->results, msg, sizeof(msg));
		if (n < 0)
			vb_err("%s: what an earlier run left behind could not all be given back: %s", c->name, msg);
		else if (n > 0)
			vb_log("%s: gave back %d device%s an earlier run left bound (see its journal)", c->name, n,
			       n > 1 ? "s" : "");
	}
	int links = vb_short_links_recover();

	if (links > 0)
		vb_log("removed %d short socket link%s a killed harness left in /tmp", links, links > 1 ? "s" : "");
	/* A run killed while its native jobs ran under an injected slowdown left their CPU quota's cgroup. */
	int groups = cpu_quota_recover("/sys/fs/cgroup", "vgpubench-");

	if (groups > 0)
		vb_log("removed %d CPU quota group%s an earlier run left behind", groups, groups > 1 ? "s" : "");
}

int run_locate_parts(struct run *r)
{
	const char *exe = vb_exe_dir();

	snprintf(r->agent, sizeof(r->agent), "%s/vgpu-agent", exe);
	snprintf(r->mediator, sizeof(r->mediator), "%s/vgpu-mediator", exe);
	snprintf(r->init, sizeof(r->init), "%s/../harness/guest/init.sh", exe);
	snprintf(r->cache, sizeof(r->cache), "%s/images", exe);
	snprintf(r->accel_cache, sizeof(r->accel_cache), "%s/accel-probe.json", exe);
	if (access(r->agent, X_OK) < 0) {
		vb_err("the guest agent %s is missing: run make", r->agent);
		return -1;
	}
	if (access(r->init, R_OK) < 0) {
		vb_err("the guest init script %s is missing", r->init);
		return -1;
	}
	return 0;
}

int run_make_id(char *id, size_t len, const char *host, const char *name, int attempt)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	if (attempt)
		n = snprintf(id, len, "%s-%s-%s-%d", ts, host, name, attempt + 1);
	else
		n = snprintf(id, len, "%s-%s-%s", ts, host, name);
	if (n < 0 || (size_t)n >= len) {
		vb_err("a run id of host %s and plan %s would be %d characters, more than %zu", host, name, n, len - 1);
		return -1;
	}
	return 0;
}

/* A run folder: stored relative to the results folder (which may move), used absolute. 0 or -1. */
int run_dir_of(const struct run *r, const char *rel, char *dir, size_t len)
{
	int n;

	if (rel[0] == '/')
		n = snprintf(dir, len, "%s", rel); /* written before paths were relative */
	else
		n = snprintf(dir, len, "%s/%s", r->results, rel);
	if (n < 0 || (size_t)n >= len) {
		vb_err("the run folder %s/%s is too long a path", r->results, rel);
		return -1;
	}
	return 0;
}

static int set_run_dir(struct run *r, const char *rel)
{
	return run_dir_of(r, rel, r->dir, sizeof(r->dir));
}

/*
 * Own the run while this harness lives: an advisory lock on a file in the
 * run folder, with our PID in it. 0, or -1 with a message (another harness
 * runs it, naming its PID).
 */
int run_own(struct run *r)
{
	char *path = vb_strdupf("%s/owner.lock", r->dir), pid[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		vb_err("cannot create %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;
		char *held = busy ? vb_read_file_max(path, 64, NULL) : NULL;

		if (busy)
			vb_err("run %s is being run right now by vgpubench PID %ld (lock %s); refusing to run it twice",
			       r->id, held ? strtol(held, NULL, 10) : -1L, path);
		else
			vb_err("cannot lock %s: %s", path, strerror(errno));
		free(held);
		close(fd);
		free(path);
		return -1;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid))
		vb_err("cannot write our PID into %s: %s", path, strerror(errno));
	r->lock_fd = fd;
	free(path);
	return 0;
}

const char *runner_shown_status(const char *results, const char *dir, const char *status)
{
	char *path;
	int fd, owned = 1;

	if (strcmp(status, "running") != 0)
		return status;
	path = dir[0] == '/' ? vb_strdupf("%s/owner.lock", dir) : vb_strdupf("%s/%s/owner.lock", results, dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	/* No lock file yet: the run was just created and its harness has not taken it (or could not: then the run is
	 * marked failed). A lock file nobody holds: its harness is gone. */
	if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) == 0)
		owned = 0;
	if (fd >= 0)
		close(fd);
	free(path);
	return owned ? status : "interrupted";
}

/* Load the plan of a run to resume and find its folder. 0 or -1 (message printed). */
int run_load_resumed(struct run *r, const char *resume_id, const char *db, char **plan_text)
{
	char *ppath, *pdir, *status, *label;
	char err[1024];
	int rc = -1;

	if (store_run_load(&r->store, resume_id, &ppath, plan_text, &pdir, &status) < 0) {
		vb_err("no run '%s' in %s", resume_id, db);
		return -1;
	}
	label = vb_strdupf("%s (plan stored with run %s)", ppath, resume_id);
	if (plan_parse(label, *plan_text, &r->plan, err, sizeof(err)) < 0) {
		vb_err("%s", err);
	} else {
		r->was_complete = strcmp(status, "complete") == 0;
		if (r->was_complete)
			vb_log("run %s is already complete; checking for missing jobs anyway", resume_id);
		snprintf(r->id, sizeof(r->id), "%s", resume_id);
		rc = set_run_dir(r, pdir);
	}
	free(label);
	free(ppath);
	free(pdir);
	free(status);
	return rc;
}

/* Record a new run of plan `name` under a fresh id (another harness may start the same plan in the same second) into
 * arm a (its id and folder). 0 or -1. */
int run_create(struct run *r, struct arm *a, const char *name, const char *plan_path, const char *plan_text)
{
	char host[HOST_LABEL_MAX + 1];

	host_label(host, sizeof(host));
	for (int attempt = 0; attempt < 100; attempt++) {
		if (run_make_id(a->id, sizeof(a->id), host, name, attempt) < 0)
			return -1;
		char *rel = vb_strdupf("runs/%s", a->id);
		int rc = run_dir_of(r, rel, a->dir, sizeof(a->dir)) < 0
			     ? -1
			     : store_run_create(&r->store, a->id, name, host, plan_path, plan_text, rel);

		free(rel);
		if (rc == 0) {
			vb_log("run %s: plan %s", a->id, plan_path);
			return 0;
		}
		if (rc != -2)
			return -1;
	}
	vb_err("could not find a free run id for plan %s", name);
	return -1;
}
