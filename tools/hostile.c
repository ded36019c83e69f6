/* hostile.c: vgpu-hostile, a hostile vhost-user-gpu front-end. It plays a
 * VM whose QEMU and driver misbehave, against each back-end it is given, and
 * runs a named catalogue of malformed inputs (docs/mediator.md): the
 * front-end's messages, rings, descriptors, commands and backing entries,
 * and, where the back-end renders in a worker process per vGPU, that
 * worker crashing, hanging or starting slowly.
 * For every case it records what became of the back-end:
 *   survived   the bad input was refused and the vGPU served on as it was
 *   recovered  the vGPU served again after a front-end device reset
 *              (rings stopped, RESET_DEVICE when offered, rings set up again)
 *   reconnect  it served again only on a new connection
 *   dead       the process lives, but that vGPU never served again
 *   hung       the process stopped answering
 *   crashed    the process died
 *   skipped    the case does not apply (a worker case on a back-end without
 *              render workers)
 * and, where one process serves several VMs (vgpu-mediator), whether a
 * second vGPU on it kept being served. QEMU's vhost-user-gpu serves one VM
 * per process, so each of its cases gets a fresh process and no neighbour.
 *
 *   vgpu-hostile [--mediator PATH] [--qemu PATH] [--cases GLOB] [--list]
 *
 * Without --mediator or --qemu it tries both: the vgpu-mediator next to its
 * own binary and QEMU's /usr/lib/qemu/vhost-user-gpu.
 *
 * Prints "robustness-format: 1", one "case: BACKEND NAME CLASS OUTCOME
 * NEIGHBOUR detail" line per case, and a "summary:" line per back-end. Exits
 * 0 when it ran, 1 when it could not (a back-end that would not start is
 * reported and skipped, not fatal). This file starts the back-ends and runs each case; the cases are in
 * hostile_cases.c, the played VM in hostile_vm.c (hostile.h). */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile.h"
#include "util.h"
#include "vhost/vhost_msg.h"

/* ---- back-end processes ---- */

static int backend_alive(struct backend *b)
{
	int st;

	if (b->pid <= 0)
		return 0;
	if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
		b->pid = 0;
		b->status = st;
		return 0;
	}
	return 1;
}

/* How the process ended, in words. */
static void ended(const struct backend *b, char *det, size_t len)
{
	if (WIFSIGNALED(b->status))
		snprintf(det, len, "killed by signal %d (%s)", WTERMSIG(b->status), strsignal(WTERMSIG(b->status)));
	else
		snprintf(det, len, "exited with status %d", WEXITSTATUS(b->status));
}

/* Does the process still answer its front-end at all (a GET_FEATURES within 2 s)? */
static int answers(struct vm *v)
{
	uint64_t f;
	uint32_t req;

	return v->up && fe_send(&v->fe, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0) == 0 &&
	       fe_reply(&v->fe, &req, &f, 8) == 8;
}

static void backend_stop(struct backend *b)
{
	vm_close(&b->neighbour);
	if (b->pid > 0) {
		kill(b->pid, SIGKILL);
		vb_reap(b->pid, 5.0);
		b->pid = 0;
	}
}

/* Start the back-end (and connect the neighbour where one process serves several VMs), with a render worker per
 * vGPU when asked: faults on request, a watchdog that kills a worker holding a fence or call. 0 or -1. */
static int backend_start(struct backend *b, int workers)
{
	char va[200], vn[200];
	char *med[] = { (char *)b->exe, "--vgpu", va, "--vgpu", vn, "--render-node", "none", NULL };
	char *med_w[] = { (char *)b->exe, "--vgpu", va, "--vgpu", vn, "--render-node", "none", "--render-workers",
			  "--test-faults", "--control", b->ctl, "--watchdog-ms", WORKER_WATCHDOG_MS, "--watchdog-action",
			  "quarantine", NULL };
	char *qemu[] = { (char *)b->exe, "--socket-path", b->victim_sock, NULL };

	unlink(b->victim_sock);
	unlink(b->neighbour_sock);
	snprintf(va, sizeof(va), "name=victim,socket=%s", b->victim_sock);
	snprintf(vn, sizeof(vn), "name=neighbour,socket=%s", b->neighbour_sock);
	b->workers = b->shared && workers;
	b->pid = vb_spawn(b->shared ? (b->workers ? med_w : med) : qemu, NULL, b->log);
	if (b->pid <= 0)
		return -1;
	if (b->shared) {
		b->next_id = 1;
		if (vm_open(&b->neighbour, b->neighbour_sock, b->pid, 0) < 0 || !serves(&b->neighbour, b->next_id++))
			return -1;
	}
	return 0;
}

enum outcome { O_SURVIVED, O_RECOVERED, O_RECONNECT, O_DEAD, O_HUNG, O_CRASHED, O_SETUP, O_SKIPPED, O_COUNT };

static const char *const outcome_name[O_COUNT] = { "survived", "recovered",    "reconnect", "dead",
						   "hung",     "crashed",      "setup-failed", "skipped" };

/* Connect the victim and see it served (resource id). The last connection may not be gone yet on the back-end's
 * side (a named vGPU takes one VM at a time): a few tries, 200 ms apart. 0 or -1 (v closed). */
static int open_serving(struct backend *b, struct vm *v, uint32_t id)
{
	for (int tries = 0; tries < 5; tries++) {
		if (tries)
			usleep(200000);
		if (vm_open(v, b->victim_sock, b->pid, b->workers) == 0 && serves(v, id))
			return 0;
		vm_close(v);
		if (!backend_alive(b))
			break;
	}
	return -1;
}

/* Run one case on b; the outcome, the neighbour's verdict into *nb ("served", "stalled", "-"). */
static enum outcome run_case(struct backend *b, const struct hcase *k, const char **nb, char *det, size_t detlen)
{
	struct vm victim;
	enum outcome o;
	int stalled_during = 0;

	*nb = "-";
	det[0] = 0;
	if (k->run_worker && !b->shared) {
		snprintf(det, detlen, "a process per VM: no render worker of its own to lose");
		return O_SKIPPED;
	}
	/* QEMU's: a fresh process per case; ours: after a crash, or to start with render workers or without. */
	if (!b->shared || !backend_alive(b) || b->workers != (k->run_worker != NULL)) {
		if (b->shared && b->pid == 0 && b->status)
			b->restarts++;
		backend_stop(b);
		if (backend_start(b, k->run_worker != NULL) < 0) {
			snprintf(det, detlen, "the back-end did not start (log %s)", b->log);
			return O_SETUP;
		}
	}
	if (open_serving(b, &victim, 1) < 0) {
		snprintf(det, detlen, "the victim's device did not come up");
		return O_SETUP;
	}
	if (k->run_worker) {
		int w = k->run_worker(b, &victim, det, detlen);

		if (w < 0) {
			snprintf(det, detlen, "the mediator refused to inject the fault (log %s)", b->log);
			vm_close(&victim);
			return O_SETUP;
		}
		stalled_during = w;
	} else
		k->run(&victim);
	usleep(300000);
	if (!backend_alive(b)) {
		ended(b, det, detlen);
		/* A back-end that serves one VM may end cleanly when that VM's connection closes. */
		o = !victim.up && WIFEXITED(b->status) && WEXITSTATUS(b->status) == 0 ? O_SURVIVED : O_CRASHED;
		vm_close(&victim);
		return o;
	}
	if (b->shared)
		*nb = serves(&b->neighbour, b->next_id++) && !stalled_during ? "served" : "stalled";
	if (victim.up && serves(&victim, 2))
		o = O_SURVIVED;
	else if (victim.up && vm_reset(&victim) == 0 && serves(&victim, 3))
		o = O_RECOVERED;
	else if (!backend_alive(b)) {
		ended(b, det, detlen);
		o = O_CRASHED;
	} else if (b->shared) {
		vm_close(&victim);
		if (open_serving(b, &victim, 4) == 0)
			o = O_RECONNECT;
		else
			o = !strcmp(*nb, "stalled") ? O_HUNG : O_DEAD;
	} else {
		/* One VM per process and one connection: either it still answers its front-end, or nothing. */
		o = answers(&victim) ? O_DEAD : O_HUNG;
	}
	vm_close(&victim);
	return o;
}

static void usage(void)
{
	fprintf(stderr, "usage: vgpu-hostile [--mediator PATH] [--qemu PATH] [--cases GLOB] [--list]\n");
}

int main(int argc, char **argv)
{
	struct backend bs[2] = { { .name = "vgpu-mediator", .shared = 1 }, { .name = "qemu-vhost-user-gpu" } };
	const char *glob = "*";
	char dir[] = "/tmp/vgpu-hostile.XXXXXX";
	int nb = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mediator") && i + 1 < argc)
			bs[0].exe = argv[++i];
		else if (!strcmp(argv[i], "--qemu") && i + 1 < argc)
			bs[1].exe = argv[++i];
		else if (!strcmp(argv[i], "--cases") && i + 1 < argc)
			glob = argv[++i];
		else if (!strcmp(argv[i], "--list")) {
			for (size_t k = 0; k < NCASES; k++)
				printf("%s %s\n", catalogue[k].name, catalogue[k].cls);
			return 0;
		} else {
			usage();
			return 2;
		}
	}
	if (!bs[0].exe && !bs[1].exe) {
		static char med[4096];
		ssize_t n = readlink("/proc/self/exe", med, sizeof(med) - 32);
		char *slash = n > 0 ? memrchr(med, '/', (size_t)n) : NULL;

		if (slash) {
			strcpy(slash + 1, "vgpu-mediator");
			bs[0].exe = med;
		}
		bs[1].exe = QEMU_BACKEND;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "vgpu-hostile: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	printf("robustness-format: 1\n");
	for (int i = 0; i < 2; i++) {
		struct backend *b = &bs[i];
		int count[O_COUNT] = { 0 }, stalled = 0, ran = 0;
		struct stat sb;

		if (!b->exe)
			continue;
		if (stat(b->exe, &sb) < 0) {
			printf("skip: %s: %s is not there\n", b->name, b->exe);
			continue;
		}
		snprintf(b->dir, sizeof(b->dir), "%s/%d", dir, i);
		mkdir(b->dir, 0700);
		snprintf(b->log, sizeof(b->log), "%s/backend.log", b->dir);
		snprintf(b->victim_sock, sizeof(b->victim_sock), "%s/v.sock", b->dir);
		snprintf(b->neighbour_sock, sizeof(b->neighbour_sock), "%s/n.sock", b->dir);
		snprintf(b->ctl, sizeof(b->ctl), "%s/control.sock", b->dir);
		printf("backend: %s %s\n", b->name, b->exe);
		for (size_t k = 0; k < NCASES; k++) {
			const char *nbv;
			char det[160];
			enum outcome o;

			if (fnmatch(glob, catalogue[k].name, 0))
				continue;
			o = run_case(b, &catalogue[k], &nbv, det, sizeof(det));
			count[o]++;
			stalled += !strcmp(nbv, "stalled");
			ran++;
			printf("case: %s %s %s %s %s%s%s\n", b->name, catalogue[k].name, catalogue[k].cls, outcome_name[o], nbv,
			       det[0] ? " " : "", det);
			fflush(stdout);
		}
		printf("summary: %s cases=%d", b->name, ran);
		for (int o = 0; o < O_COUNT; o++)
			printf(" %s=%d", outcome_name[o], count[o]);
		printf(" neighbour_stalled=%d restarts=%d\n", stalled, b->restarts);
		backend_stop(b);
		nb++;
	}
	vb_rm_rf(dir);
	return nb ? 0 : 1;
}
