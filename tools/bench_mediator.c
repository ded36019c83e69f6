/* bench_mediator.c: `make bench-mediator`. One 2D command stream, the guest
 * side of full-frame display updates (TRANSFER_TO_HOST_2D + RESOURCE_FLUSH of
 * the whole frame, one frame in flight), driven over vhost-user into
 * vgpu-mediator and into QEMU's own vhost-user-gpu back-end (2D mode) by a
 * front-end that plays QEMU's part: guest RAM in a memfd, split rings with
 * event index, and a display channel that takes every frame and checks the
 * last one against what the guest drew. Prints frames/s, commands/s, MB/s,
 * frame-time p50/p99, back-end CPU and memory (its processes and theirs: the
 * mediator's render workers too) for each back-end and size, and the
 * ratio of vgpu-mediator to QEMU's back-end, all measured in the same run.
 *
 * Each measurement starts a fresh back-end process; back-ends take turns in a
 * rotating order so drift on the machine does not favour one of them.
 *
 * With --policy, it measures the mediator's scheduler instead: the VMs
 * (weights from --weights, VM 1 a hog sending --hog transfers per frame)
 * stream at once under each policy, and it prints the share of the GPU time
 * each VM received (read from the mediator's control socket) against the
 * share its policy configured.
 *
 * This file holds the options, the measurements and the tables; the sessions that drive one back-end (its
 * process, connection, frames and display channel) are in bench_session.c (bench_mediator.h). */
#define _GNU_SOURCE

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_mediator.h"
#include "host/hostcheck.h"
#include "stats.h"
#include "util.h"

/* Each VM's driver: its session (no connection yet, its display channel's frame buffer), the options, the start
 * line it waits at, and how many transfers a frame it sends (the hog, VM 1 under --policy, more). */
static void workers_init(struct worker *ws, int nv, const struct opts *o, uint32_t w, uint32_t h, int *ready, int *go)
{
	for (int i = 0; i < nv; i++) {
		struct session *s = &ws[i].s;

		*s = (struct session){ .kick = { -1, -1 }, .call = { -1, -1 }, .w = w, .h = h };
		s->disp.fd = -1;
		s->disp.w = w;
		s->disp.h = h;
		s->disp.cap = (size_t)w * h * 4;
		pthread_mutex_init(&s->disp.lock, NULL);
		s->disp.last = malloc(s->disp.cap);
		ws[i].o = o;
		ws[i].ready = ready;
		ws[i].go = go;
		ws[i].xfers = i == 0 && o->policy && o->hog > 1 ? o->hog : 1;
	}
}

/* The run's result from each VM's: frames a second summed, their spread and fairness, frame-time percentiles,
 * commands and bytes a second. The first VM whose display did not check out fails the result. */
static void sum_vms(struct result *r, struct worker *ws, int nv, const struct opts *o, const struct backend *b,
		    uint32_t w, uint32_t h)
{
	double *all = NULL;
	size_t nall = 0;

	r->min_fps = INFINITY;
	for (int i = 0; i < nv && !r->error[0]; i++) {
		struct worker *wk = &ws[i];

		if (wk->r.error[0] ||
		    check_display(&wk->s, &wk->r, wk->warm + wk->frames, !b->is_mediator || o->display_fps == 0) < 0) {
			fail(r, "VM %d of %d: %.200s", i + 1, nv, wk->r.error);
			break;
		}
		double fps = (double)wk->frames / wk->elapsed;
		double *na = realloc(all, (nall + wk->ntimes) * sizeof(double));

		if (!na) {
			fail(r, "out of memory for frame times");
			break;
		}
		all = na;
		memcpy(all + nall, wk->times, wk->ntimes * sizeof(double));
		nall += wk->ntimes;
		r->fps += fps;
		/* the share of its frames (warm-up included) the display took, at the measured frame rate */
		r->disp_fps += fps * (double)display_updates(&wk->s.disp) / (double)(wk->warm + wk->frames);
		r->min_fps = fps < r->min_fps ? fps : r->min_fps;
		r->max_fps = fps > r->max_fps ? fps : r->max_fps;
	}
	if (!r->error[0]) {
		double per[MAX_VGPUS];

		for (int i = 0; i < nv; i++)
			per[i] = r->vm_fps[i] = (double)ws[i].frames / ws[i].elapsed;
		r->jain = stats_jain(per, NULL, (size_t)nv);
		r->cmds = 2.0 * r->fps;
		r->mbs = r->fps * w * h * 4 / 1e6;
		qsort(all, nall, sizeof(double), cmp_double);
		r->p50_ms = nall ? all[nall / 2] * 1e3 : NAN;
		r->p99_ms = nall ? all[(size_t)((double)(nall - 1) * 0.99)] * 1e3 : NAN;
	}
	free(all);
}

static void measure(const struct opts *o, const struct backend *b, uint32_t w, uint32_t h, int nv, struct result *r)
{
	struct fleet f = { .npid = 0 };
	struct worker *ws = calloc((size_t)nv, sizeof(*ws));
	pthread_t thr[MAX_VGPUS];
	int ready = 0, go = 0;
	int nthr = 0;

	memset(r, 0, sizeof(*r));
	if (!ws) {
		fail(r, "out of memory");
		return;
	}
	workers_init(ws, nv, o, w, h, &ready, &go);
	if (fleet_start(&f, o, b, nv, r) < 0)
		goto out;
	for (int i = 0; i < nv; i++) {
		struct session *s = &ws[i].s;

		s->pid = f.pid[b->is_mediator ? 0 : i];
		s->sock = f.sock[i];
		s->log = f.log[i];
		if (!s->disp.last)
			fail(&ws[i].r, "out of memory for a %ux%u frame", w, h);
		else if (session_connect(s, &ws[i].r) == 0 && bring_up(s, b, &ws[i].r) == 0)
			set_up_frame(s, o, b, &ws[i].r);
	}
	for (; nthr < nv; nthr++)
		if (pthread_create(&thr[nthr], NULL, worker_main, &ws[nthr]) != 0)
			break;
	if (nthr < nv)
		fail(r, "cannot start %d driver threads", nv);
	while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < nthr)
		usleep(200);
	double cpu0 = fleet_cpu(&f), t0 = vb_now();
	struct sched_snap before[MAX_VGPUS], after[MAX_VGPUS];

	if (f.control[0] && sched_snapshot(f.control, nv, before) < 0)
		fail(r, "the mediator's control socket did not answer");
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);

	for (int i = 0; i < nthr; i++)
		pthread_join(thr[i], NULL);
	double el = vb_now() - t0, cpu1 = fleet_cpu(&f);

	r->pss_mb = fleet_pss(&f);

	if (f.control[0] && !r->error[0]) {
		double total = 0;

		if (sched_snapshot(f.control, nv, after) < 0)
			fail(r, "the mediator's control socket did not answer");
		for (int i = 0; i < nv; i++) {
			r->gpu_ms[i] = after[i].gpu_ms - before[i].gpu_ms;
			r->held_ms[i] = after[i].held_ms - before[i].held_ms;
			r->share[i] = after[i].share;
			total += r->gpu_ms[i];
		}
		for (int i = 0; i < nv; i++)
			r->gpu_ms[i] = total > 0 ? r->gpu_ms[i] / total : NAN; /* now a share of the total */
	}

	sum_vms(r, ws, nv, o, b, w, h);
	if (!r->error[0])
		r->cpu = (cpu1 - cpu0) / el * 100.0;
	if (r->error[0])
		r->min_fps = 0;
out:
	for (int i = 0; i < nv; i++) {
		session_end(&ws[i].s);
		free(ws[i].times);
	}
	fleet_end(&f, b->is_mediator, r);
	if (r->error[0])
		fprintf(stderr, "bench-mediator: back-end files kept in %s\n", f.dir);
	free(ws);
}

/* ---- the run ---- */

static int parse_sizes(struct opts *o, const char *arg)
{
	char *copy = vb_strdup(arg), *save = NULL;

	o->nsizes = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned w, h;
		char tail;

		if (o->nsizes == 8 || sscanf(t, "%ux%u%c", &w, &h, &tail) != 2 || w < 1 || h < 1 || w > 4096 ||
		    h > 4096) {
			fprintf(stderr, "bench-mediator: --sizes: '%s' is not WxH (1..4096, at most 8 sizes)\n", t);
			free(copy);
			return -1;
		}
		o->sizes[o->nsizes][0] = w;
		o->sizes[o->nsizes][1] = h;
		o->nsizes++;
	}
	free(copy);
	return o->nsizes ? 0 : -1;
}

static int parse_vgpus(struct opts *o, const char *arg)
{
	char *copy = vb_strdup(arg), *save = NULL;

	o->nvgpus = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		long n = strtol(t, &end, 10);

		if (*end || n < 1 || n > MAX_VGPUS || o->nvgpus == 4) {
			fprintf(stderr, "bench-mediator: --vgpus: '%s' is not a VM count 1..%d (at most 4 counts)\n", t,
				MAX_VGPUS);
			free(copy);
			return -1;
		}
		o->vgpus[o->nvgpus++] = (int)n;
	}
	free(copy);
	return o->nvgpus ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-mediator [--sizes WxH[,WxH...]] [--vgpus N[,N...]] [--seconds S] [--warmup S]\n"
		"                      [--reps N] [--entry-size BYTES] [--mediator PATH] [--qemu PATH] [--csv FILE]\n"
		"                      [--policy P[,P...] [--weights W,W,...] [--hog N]] [--display-fps N]\n"
		"Drives vgpu-mediator and QEMU's vhost-user-gpu (2D) with the same full-frame update stream.\n"
		"With --policy: the mediator's scheduler, the GPU-time share of each VM against its configured share.\n");
}

static int parse_policies(struct opts *o, const char *arg)
{
	char *copy = vb_strdup(arg), *save = NULL;
	enum sched_policy p;

	o->npolicies = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int twice = 0;

		for (int k = 0; k < o->npolicies; k++)
			twice |= !strcmp(o->policies[k], t);
		if (sched_policy_parse(t, &p) < 0 || twice) {
			fprintf(stderr, "bench-mediator: --policy: '%s' is %s\n", t,
				twice ? "named twice" : "not a policy");
			fprintf(stderr, "bench-mediator: the policies are %s\n", sched_policy_names());
			free(copy);
			return -1;
		}
		snprintf(o->policies[o->npolicies++], sizeof(o->policies[0]), "%s", t);
	}
	free(copy);
	return o->npolicies ? 0 : -1;
}

static int parse_weights(struct opts *o, const char *arg)
{
	char *copy = vb_strdup(arg), *save = NULL;

	o->nweights = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		long n = strtol(t, &end, 10);

		if (*end || n < 1 || n > 1000 || o->nweights == MAX_VGPUS) {
			fprintf(stderr, "bench-mediator: --weights: '%s' is not a weight 1..1000 (at most %d VMs)\n", t,
				MAX_VGPUS);
			free(copy);
			return -1;
		}
		o->weights[o->nweights++] = (int)n;
	}
	free(copy);
	return o->nweights ? 0 : -1;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (!v || a[0] != '-' || a[1] != '-') {
			usage();
			return -1;
		}
		i++;
		errno = 0;
		if (!strcmp(a, "--sizes")) {
			if (parse_sizes(o, v) < 0)
				return -1;
		} else if (!strcmp(a, "--seconds") || !strcmp(a, "--warmup")) {
			double d = strtod(v, &end);

			if (*end || errno || d < 0 || d > 600 || (d == 0 && !strcmp(a, "--seconds"))) {
				fprintf(stderr, "bench-mediator: %s: '%s' is not a duration in seconds\n", a, v);
				return -1;
			}
			*(!strcmp(a, "--seconds") ? &o->seconds : &o->warmup) = d;
		} else if (!strcmp(a, "--reps") || !strcmp(a, "--entry-size")) {
			long n = strtol(v, &end, 10);

			if (*end || errno || n < 1 || (!strcmp(a, "--reps") ? n > 100 : n % 4 || n > (1 << 30))) {
				fprintf(stderr, "bench-mediator: %s: '%s' is out of range\n", a, v);
				return -1;
			}
			if (!strcmp(a, "--reps"))
				o->reps = (int)n;
			else
				o->entry_size = (uint32_t)n;
		} else if (!strcmp(a, "--vgpus")) {
			if (parse_vgpus(o, v) < 0)
				return -1;
		} else if (!strcmp(a, "--policy")) {
			if (parse_policies(o, v) < 0)
				return -1;
		} else if (!strcmp(a, "--weights")) {
			if (parse_weights(o, v) < 0)
				return -1;
		} else if (!strcmp(a, "--display-fps")) {
			long n = strtol(v, &end, 10);

			if (*end || errno || n < 0 || n > 1000) {
				fprintf(stderr, "bench-mediator: --display-fps: '%s' is not 0 (every flush) to 1000\n", v);
				return -1;
			}
			o->display_fps = (int)n;
		} else if (!strcmp(a, "--hog")) {
			long n = strtol(v, &end, 10);

			if (*end || errno || n < 1 || n > MAX_HOG) {
				fprintf(stderr, "bench-mediator: --hog: '%s' is not 1..%d transfers a frame\n", v, MAX_HOG);
				return -1;
			}
			o->hog = (int)n;
		} else if (!strcmp(a, "--mediator")) {
			o->mediator = v;
		} else if (!strcmp(a, "--qemu")) {
			o->qemu = v;
		} else if (!strcmp(a, "--csv")) {
			o->csv = v;
		} else {
			usage();
			return -1;
		}
	}
	return 0;
}

#define NBACKENDS 5

static double median_of(const struct result *rs, int n, size_t field)
{
	double v[100];
	int k = 0;

	for (int i = 0; i < n && k < 100; i++)
		if (!rs[i].error[0])
			v[k++] = *(const double *)((const char *)&rs[i] + field);
	return stats_median(v, (size_t)k);
}

static size_t ok_values(const struct result *rs, int n, double *v)
{
	size_t k = 0;

	for (int i = 0; i < n; i++)
		if (!rs[i].error[0])
			v[k++] = rs[i].fps;
	return k;
}

static void print_table(const struct opts *o, const struct backend *bs, struct result rs[][100], uint32_t w,
			uint32_t h, int nv)
{
	if (nv == 1)
		printf("%ux%u, one VM (%.1f MB per frame)\n", w, h, w * h * 4 / 1e6);
	else
		printf("%ux%u, %d VMs at once: totals, and each VM's share (Jain's index: 1 = fair)\n", w, h, nv);
	printf("  %-33s %9s %9s %9s %9s %8s %8s %7s %7s", "back-end", "frames/s", "display/s", "cmds/s", "MB/s", "p50 ms",
	       "p99 ms", "CPU %", "PSS MB");
	printf(nv > 1 ? " %9s %9s %6s\n" : "\n", "VM min", "VM max", "Jain");
	for (int b = 0; b < NBACKENDS; b++) {
		double v[100];

		if (!ok_values(rs[b], o->reps, v)) {
			printf("  %-33s %s\n", bs[b].label, bs[b].skip ? "skipped" : "failed (see above)");
			continue;
		}
		printf("  %-33s %9.1f %9.1f %9.1f %9.1f %8.2f %8.2f %7.0f %7.0f", bs[b].label,
		       median_of(rs[b], o->reps, offsetof(struct result, fps)),
		       median_of(rs[b], o->reps, offsetof(struct result, disp_fps)),
		       median_of(rs[b], o->reps, offsetof(struct result, cmds)),
		       median_of(rs[b], o->reps, offsetof(struct result, mbs)),
		       median_of(rs[b], o->reps, offsetof(struct result, p50_ms)),
		       median_of(rs[b], o->reps, offsetof(struct result, p99_ms)),
		       median_of(rs[b], o->reps, offsetof(struct result, cpu)),
		       median_of(rs[b], o->reps, offsetof(struct result, pss_mb)));
		if (nv > 1)
			printf(" %9.1f %9.1f %6.3f", median_of(rs[b], o->reps, offsetof(struct result, min_fps)),
			       median_of(rs[b], o->reps, offsetof(struct result, max_fps)),
			       median_of(rs[b], o->reps, offsetof(struct result, jain)));
		printf("\n");
	}
	for (int b = 1; b < NBACKENDS; b++) {
		double q[100], m[100];
		size_t nq = ok_values(rs[0], o->reps, q), nm = ok_values(rs[b], o->reps, m);

		if (!nq || !nm) {
			printf("  ratio %s / qemu: not measured\n", bs[b].label);
			continue;
		}
		double ratio = stats_median(m, nm) / stats_median(q, nq);
		struct stats_ci ci = stats_bootstrap_ratio(m, nm, q, nq, 2000, 42);

		printf("  ratio %s / qemu vhost-user-gpu: %.2fx (95%% bootstrap %.2f-%.2f, %zu+%zu runs)\n", bs[b].label,
		       ratio, ci.lo, ci.hi, nm, nq);
	}
	printf("\n");
}

/* The scheduler mode: under each policy, every VM's share of the GPU time against its configured share. */
static int run_policies(struct opts *o, const struct backend *med)
{
	static struct result rs[100];
	int failed = 0, nv = o->nweights ? o->nweights : o->vgpus[0];

	if (med->skip) {
		printf("vgpu-mediator: skipped: %s\n", med->skip);
		return 1;
	}
	printf("bench-mediator --policy: %d VMs stream full-frame 2D updates into one vgpu-mediator at once%s;\n"
	       "%d run(s) of %.1f s after %.1f s warm-up; each VM's share of the GPU time the mediator charged\n"
	       "(its control socket, before and after) against the share its policy configured. Medians over runs.\n\n",
	       nv, o->hog > 1 ? " (VM 1 a hog: several transfers a frame)" : "", o->reps, o->seconds, o->warmup);
	for (int si = 0; si < o->nsizes; si++)
		for (int pi = 0; pi < o->npolicies; pi++) {
			uint32_t w = o->sizes[si][0], h = o->sizes[si][1];
			double x[MAX_VGPUS], wt[MAX_VGPUS];

			o->policy = o->policies[pi];
			for (int rep = 0; rep < o->reps; rep++) {
				measure(o, med, w, h, nv, &rs[rep]);
				if (rs[rep].error[0]) {
					fprintf(stderr, "bench-mediator: %ux%u %s run %d: %s\n", w, h, o->policy, rep + 1,
						rs[rep].error);
					failed = 1;
				}
			}
			printf("%ux%u, %d VMs, %s\n", w, h, nv, o->policy);
			printf("  %-4s %6s %8s %10s %10s %9s %9s\n", "VM", "weight", "xfers", "configured", "GPU share",
			       "frames/s", "held ms");
			for (int i = 0; i < nv; i++) {
				double sh = median_of(rs, o->reps, offsetof(struct result, gpu_ms) + (size_t)i * sizeof(double));
				double cf = median_of(rs, o->reps, offsetof(struct result, share) + (size_t)i * sizeof(double));
				char cfs[16];

				snprintf(cfs, sizeof(cfs), isnan(cf) ? "-" : "%.3f", cf);
				printf("  vm%-2d %6d %8d %10s %10.3f %9.1f %9.0f\n", i, i < o->nweights ? o->weights[i] : 1,
				       i == 0 && o->hog > 1 ? o->hog : 1, cfs, sh,
				       median_of(rs, o->reps, offsetof(struct result, vm_fps) + (size_t)i * sizeof(double)),
				       median_of(rs, o->reps, offsetof(struct result, held_ms) + (size_t)i * sizeof(double)));
				x[i] = sh;
				wt[i] = i < o->nweights ? o->weights[i] : 1;
			}
			printf("  Jain over GPU share / weight: %.3f\n\n", stats_jain(x, wt, (size_t)nv));
		}
	return failed;
}

int main(int argc, char **argv)
{
	static char med_default[4096];
	static struct result rs[NBACKENDS][100];
	struct opts o = { .seconds = 3.0, .warmup = 0.5, .reps = 3, .entry_size = 4096,
			  .sizes = { { 1920, 1080 }, { 1024, 768 } }, .nsizes = 2, .vgpus = { 1, 3 }, .nvgpus = 2, .hog = 1,
			  .display_fps = -1 };
	struct backend bs[NBACKENDS] = {
		{ "qemu vhost-user-gpu (2D)", 0, GUEST_2D, NULL, 0 },
		{ "vgpu-mediator (2D)", 1, GUEST_2D, NULL, 0 },
		{ "vgpu-mediator (2D under virgl)", 1, VIRGL_DUMB, NULL, 0 },
		{ "vgpu-mediator (virgl resources)", 1, VIRGL_USED, NULL, 0 },
		{ "vgpu-mediator (virgl on workers)", 1, VIRGL_USED, NULL, 1 },
	};
	int failed = 0;
	FILE *csv = NULL;

	snprintf(med_default, sizeof(med_default), "%s/vgpu-mediator", vb_exe_dir());
	o.mediator = med_default;
	o.qemu = HOST_VHOST_USER_GPU;
	if (parse_args(&o, argc, argv) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (access(o.qemu, X_OK) != 0)
		bs[0].skip = "QEMU's vhost-user-gpu is not installed (make deps installs it)";
	if (access(o.mediator, X_OK) != 0)
		bs[1].skip = bs[2].skip = bs[3].skip = bs[4].skip = "vgpu-mediator is not built (make build)";
	if (o.csv && !(csv = fopen(o.csv, "w"))) {
		fprintf(stderr, "bench-mediator: --csv %s: %s\n", o.csv, strerror(errno));
		return 2;
	}
	if (csv)
		fprintf(csv, "width,height,vgpus,backend,rep,frames_per_s,cmds_per_s,mb_per_s,p50_ms,p99_ms,cpu_pct,"
			     "vm_min_fps,vm_max_fps,jain,display_per_s,pss_mb,error\n");

	printf("bench-mediator: full-frame 2D updates (TRANSFER_TO_HOST_2D + RESOURCE_FLUSH, one frame in flight\n"
	       "per VM, backing in %u-byte entries), %d run(s) of %.1f s per back-end, size and VM count after\n"
	       "%.1f s warm-up; medians over runs, back-ends take turns. With several VMs, QEMU runs one back-end\n"
	       "process per VM, vgpu-mediator one for all (with --render-workers, a worker process per VM too).\n"
	       "frames/s: frames the guests completed; display/s: updates the display side took. CPU %% and PSS MB:\n"
	       "the back-end's processes and their children (CPU while measured; proportional set size at the end).\n"
	       "QEMU's back-end sends every frame; vgpu-mediator sends %s.\n"
	       "The last frame on the display must equal the one the guest drew.\n\n",
	       o.entry_size, o.reps, o.seconds, o.warmup,
	       o.display_fps == 0 ? "every frame (--display-fps 0)" : "at most its display's refresh a second, the latest frame winning (--display-fps)");
	if (o.npolicies) {
		if (csv)
			fclose(csv);
		return run_policies(&o, &bs[1]) ? 1 : 0;
	}
	for (int b = 0; b < NBACKENDS; b++)
		if (bs[b].skip)
			printf("%s: skipped: %s\n", bs[b].label, bs[b].skip);

	for (int si = 0; si < o.nsizes; si++)
		for (int vi = 0; vi < o.nvgpus; vi++) {
			uint32_t w = o.sizes[si][0], h = o.sizes[si][1];
			int nv = o.vgpus[vi];

			for (int rep = 0; rep < o.reps; rep++)
				for (int k = 0; k < NBACKENDS; k++) {
					int b = (k + rep) % NBACKENDS;
					struct result *r = &rs[b][rep];

					if (bs[b].skip) {
						memset(r, 0, sizeof(*r));
						snprintf(r->error, sizeof(r->error), "skipped");
						continue;
					}
					measure(&o, &bs[b], w, h, nv, r);
					if (r->error[0]) {
						fprintf(stderr, "bench-mediator: %ux%u x%d %s run %d: %s\n", w, h, nv,
							bs[b].label, rep + 1, r->error);
						failed = 1;
					}
					if (csv)
						fprintf(csv,
							"%u,%u,%d,%s,%d,%.2f,%.2f,%.2f,%.3f,%.3f,%.1f,%.2f,%.2f,%.4f,%.2f,%.1f,\"%s\"\n",
							w, h, nv, bs[b].label, rep + 1, r->fps, r->cmds, r->mbs, r->p50_ms,
							r->p99_ms, r->cpu, r->min_fps, r->max_fps, r->jain, r->disp_fps,
							r->pss_mb, r->error);
				}
			print_table(&o, bs, rs, w, h, nv);
		}
	if (csv)
		fclose(csv);
	if (failed)
		printf("bench-mediator: some measurements failed (messages above; back-end logs kept)\n");
	return failed ? 1 : 0;
}
