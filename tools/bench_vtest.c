/* bench_vtest.c: `make bench-vtest`. glmark2 (Mesa's virpipe driver, the way
 * dom0's jobs run in mediated runs) through vgpu-mediator's vtest socket and
 * through virglrenderer's own server (virgl_test_server
 * --use-egl-surfaceless), on the same machine in the same run: the mediator
 * with one renderer in its process, and with a render worker per client
 * (--render-workers). Each repetition starts a fresh server; the three take
 * turns so drift on the machine favours none. glmark2 runs in the private mount namespace the
 * harness gives dom0's agent (harness/host/vtest_ns.h), so the host's own
 * /tmp/.virgl_test is never touched. Prints each score, the medians and the
 * ratios of the mediator to virglrenderer's server and of workers to one renderer; a run whose GL_RENDERER
 * is not "virgl (…)" counts as failed, never as a score.
 *
 *   bench-vtest [--reps N] [--size WxH] [--clients N] [--mediator PATH]
 * --clients N runs N glmark2 processes at once against each server (their scores summed). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"
#include "util.h"
#include "host/vtest_ns.h"
#include "host/xvfb.h"

#define MAX_REPS 50
#define MAX_CLIENTS 8
#define NSERVERS 3 /* the mediator, virglrenderer's server, the mediator with render workers */

struct server {
	const char *label;
	double score[MAX_REPS];
	int n, failed;
};

/* Start one server on sock; its pid, or -1. */
static pid_t server_start(int which, const char *mediator, const char *sock, const char *dir)
{
	char spec[600], log[400], ctl[400], path_opt[600];
	pid_t pid;

	snprintf(spec, sizeof(spec), "name=dom0,socket=%s", sock);
	snprintf(ctl, sizeof(ctl), "%s/control.sock", dir);
	/* virgl_test_server takes the path only as --socket-path=PATH (a separate word is its replay file). */
	snprintf(path_opt, sizeof(path_opt), "--socket-path=%s", sock);
	snprintf(log, sizeof(log), "%s/%s.log", dir, which == 1 ? "virgl_test_server" : "vgpu-mediator");
	unlink(sock);
	if (which == 0 || which == 2) {
		char *const argv[] = { (char *)mediator, "--vtest", spec, "--control", ctl,
				       which == 2 ? "--render-workers" : NULL, NULL };

		pid = vb_spawn(argv, NULL, log);
	} else {
		char *const argv[] = { "virgl_test_server", "--use-egl-surfaceless", path_opt, NULL };

		pid = vb_spawn(argv, NULL, log);
	}
	for (int i = 0; pid > 0 && i < 200 && access(sock, F_OK) != 0; i++)
		usleep(25000);
	if (pid <= 0 || access(sock, F_OK) != 0) {
		fprintf(stderr, "bench-vtest: %s did not come up (see %s)\n", which == 1 ? "virgl_test_server" : mediator,
			log);
		if (pid > 0) {
			kill(pid, SIGTERM);
			vb_reap(pid, 5);
		}
		return -1;
	}
	return pid;
}

/* glmark2 in the dom0 namespace against sock; its output to log. */
static pid_t glmark2(const char *sock, const char *display, const char *size, const char *log)
{
	char *const argv[] = { "glmark2-es2", "--off-screen", "-s", (char *)size, "-b", "build:duration=5", "-b",
			       "texture:duration=5", "-b", "shading:duration=5", NULL };

	return vtest_ns_spawn(sock, argv, display, log);
}

/* The score in a glmark2 log, or -1 when it did not render through virgl or printed none. */
static double score_of(const char *log)
{
	char *out = vb_read_file(log, NULL), *s;
	double v = -1;

	if (out && strstr(out, "GL_RENDERER:    virgl (") && (s = strstr(out, "glmark2 Score:")))
		v = atof(s + strlen("glmark2 Score:"));
	free(out);
	return v;
}

static void one_rep(struct server *sv, int which, const char *mediator, const char *dir, const char *display,
		    const char *size, int clients, int rep)
{
	char sock[400], log[MAX_CLIENTS][400];
	pid_t server, pid[MAX_CLIENTS];
	double sum = 0;
	int ok = 1;

	snprintf(sock, sizeof(sock), "%s/vtest.sock", dir);
	if ((server = server_start(which, mediator, sock, dir)) < 0) {
		sv->failed++;
		return;
	}
	for (int c = 0; c < clients; c++) {
		snprintf(log[c], sizeof(log[c]), "%s/%s-r%d-c%d.log", dir, which == 1 ? "vts" : which ? "wrk" : "med", rep,
			 c);
		pid[c] = glmark2(sock, display, size, log[c]);
	}
	for (int c = 0; c < clients; c++) {
		int st = vb_reap(pid[c], 300);
		double v = score_of(log[c]);

		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || v < 0) {
			fprintf(stderr, "bench-vtest: %s repetition %d client %d failed (see %s)\n", sv->label, rep, c,
				log[c]);
			ok = 0;
		}
		sum += v;
	}
	if (vb_exited(server)) {
		int st = vb_reap(server, 0);

		fprintf(stderr, "bench-vtest: %s died during repetition %d (%s %d)\n", sv->label, rep,
			WIFSIGNALED(st) ? "signal" : "exit status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		ok = 0;
	} else {
		kill(server, SIGTERM);
		vb_reap(server, 10);
	}
	if (!ok) {
		sv->failed++;
		return;
	}
	sv->score[sv->n++] = sum;
	printf("  %-34s repetition %d: %.0f\n", sv->label, rep, sum);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *mediator = NULL, *size = "640x480";
	int reps = 3, clients = 1;
	char dir[] = "/tmp/bench-vtest.XXXXXX", *xlog;
	struct server sv[NSERVERS] = { { .label = "vgpu-mediator --vtest" },
				       { .label = "virgl_test_server --use-egl-surfaceless" },
				       { .label = "vgpu-mediator --vtest --render-workers" } };
	struct xvfb x = { 0 };
	char *own = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = argv[++i];
		else if (!strcmp(argv[i], "--clients") && i + 1 < argc)
			clients = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--mediator") && i + 1 < argc)
			mediator = argv[++i];
		else {
			fprintf(stderr, "usage: bench-vtest [--reps N] [--size WxH] [--clients N] [--mediator PATH]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS || clients < 1 || clients > MAX_CLIENTS) {
		fprintf(stderr, "bench-vtest: --reps 1..%d, --clients 1..%d\n", MAX_REPS, MAX_CLIENTS);
		return 2;
	}
	if (!mediator)
		mediator = own = vb_strdupf("%s/vgpu-mediator", vb_exe_dir());
	if (geteuid() != 0) {
		fprintf(stderr, "bench-vtest: glmark2 runs in a private mount namespace: run as root\n");
		return 1;
	}
	if (!mkdtemp(dir)) {
		perror("bench-vtest: mkdtemp");
		return 1;
	}
	xlog = vb_strdupf("%s/xvfb.log", dir);
	if (xvfb_start(&x, xlog, 20) < 0) {
		free(xlog);
		return 1;
	}
	free(xlog);
	printf("glmark2-es2 --off-screen -s %s (build, texture, shading: 5 s each), %d client%s at once, "
	       "%d repetitions each, alternating\n",
	       size, clients, clients > 1 ? "s" : "", reps);
	for (int rep = 1; rep <= reps; rep++)
		for (int k = 0; k < NSERVERS; k++) {
			int which = (rep + k) % NSERVERS; /* the order turns every repetition */

			one_rep(&sv[which], which, mediator, dir, x.display, size, clients, rep);
		}
	xvfb_stop(&x);
	printf("\n%-42s %8s %6s %6s\n", "server", "median", "cv%", "failed");
	for (int k = 0; k < NSERVERS; k++)
		printf("%-42s %8.1f %6.1f %6d\n", sv[k].label, sv[k].n ? stats_median(sv[k].score, (size_t)sv[k].n) : 0,
		       sv[k].n > 1 ? 100 * stats_cv(sv[k].score, (size_t)sv[k].n) : 0, sv[k].failed);
	if (sv[0].n && sv[1].n)
		printf("ratio vgpu-mediator / virgl_test_server: %.2fx\n",
		       stats_median(sv[0].score, (size_t)sv[0].n) / stats_median(sv[1].score, (size_t)sv[1].n));
	if (sv[2].n && sv[1].n)
		printf("ratio vgpu-mediator --render-workers / virgl_test_server: %.2fx\n",
		       stats_median(sv[2].score, (size_t)sv[2].n) / stats_median(sv[1].score, (size_t)sv[1].n));
	if (sv[2].n && sv[0].n)
		printf("ratio render workers / one renderer: %.2fx\n",
		       stats_median(sv[2].score, (size_t)sv[2].n) / stats_median(sv[0].score, (size_t)sv[0].n));
	if (!sv[0].failed && !sv[1].failed && !sv[2].failed)
		vb_rm_rf(dir);
	else
		fprintf(stderr, "bench-vtest: logs kept in %s\n", dir);
	free(own);
	return sv[0].failed || sv[1].failed || sv[2].failed ? 1 : 0;
}
