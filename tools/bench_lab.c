/* bench_lab.c: a lab's database, made up: H hosts x N nights of runs shaped like the default plan's (native,
 * qemu-virgl and mediated, 1 and 3 guests, dom0 beside 3 mediated guests, glmark2 with its scenes and kms2d, 5
 * repetitions; every job's noise, every mediated job's vGPU scheduling and stage histograms), written through the
 * store as a run writes them, each run timed. Prints the median, 10th and 90th
 * percentile of one run's store time and the total; tools/bench_lab.sh runs it on SQLite and on PostgreSQL and
 * times report --lab over the result. Usage: bench-lab --db URL [--hosts H] [--nights N]. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "configs/vgpu_stats.h"
#include "store/store.h"
#include "util.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A small deterministic noise in [0.95, 1.05). */
static double noise(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return 0.95 + (double)((*seed >> 8) % 1000) / 10000.0;
}

/* One job's metrics: glmark2's score and its scenes' frame times, or kms2d's throughput and flips. */
static void metrics_of(struct wl_result *m, const char *workload, double base, unsigned *seed)
{
	static const char *const scenes[] = { "build", "texture", "shading", "bump", "effect2d",
					      "pulsar", "desktop", "buffer", "ideas", "jellyfish" };

	memset(m, 0, sizeof(*m));
	if (!strcmp(workload, "glmark2")) {
		wl_add_metric(m, "score", base * noise(seed), "score", 1);
		for (size_t i = 0; i < sizeof(scenes) / sizeof(scenes[0]); i++) {
			char name[64];

			snprintf(name, sizeof(name), "%s.frame_time", scenes[i]);
			wl_add_metric(m, name, 1000.0 / (base * noise(seed)), "ms", 0);
		}
	} else {
		wl_add_metric(m, "MB/s", base * noise(seed), "MB/s", 1);
		wl_add_metric(m, "flips", base * 2 * noise(seed), "flips/s", 1);
	}
}

/* A mediated job's vGPU over the job: its scheduling, health and every stage's histogram. */
static void vgpu_of(struct vgpu_stats *vs, unsigned *seed)
{
	memset(vs, 0, sizeof(*vs));
	vs->present = 1;
	snprintf(vs->policy, sizeof(vs->policy), "best-effort");
	vs->share = -1;
	vs->gpu_ms = 4000 * noise(seed);
	vs->batches = 3000;
	vs->frames = 600;
	vs->stages_present = 1;
	for (int st = 0; st < STAGE_COUNT; st++)
		for (int i = 0; i < 50; i++)
			stage_record(&vs->stage[st], (uint64_t)(20000 * noise(seed) * (1 + st)));
}

/* The guest index of the g-th job of a row: 0 for the host's and for dom0's beside guests, else g + 1. */
static int guest_of(int topology, int dom0, int g)
{
	return dom0 || !topology ? 0 : g + 1;
}

/* What one run wrote. */
static int jobs_per_run, values_per_run;

/* The run's row as a run starts it, but started at `at` (the night it stands for), through the store's import. */
static int create_run(struct store *st, const char *id, const char *host, const char *at)
{
	static const char *const names[] = { "plan_name", "plan_path", "plan_text", "dir", "started_at", "status",
					     "host" };
	const struct store_value v[7] = { { .type = STORE_TEXT, .t = "default" },
					   { .type = STORE_TEXT, .t = "harness/plans/default.ini" },
					   { .type = STORE_TEXT, .t = "[plan]\nname = default\n" },
					   { .type = STORE_TEXT, .t = "results/runs/x" },
					   { .type = STORE_TEXT, .t = at },
					   { .type = STORE_TEXT, .t = "running" },
					   { .type = STORE_TEXT, .t = host } };
	struct store_import *im = store_import_begin(st, id);

	if (!im)
		return -1;
	if (store_import_row(im, "runs", 0, 7, names, v, NULL) < 0) {
		fprintf(stderr, "bench-lab: %s\n", st->err);
		store_import_end(im, 0);
		return -1;
	}
	return store_import_end(im, 1);
}

/* One run of the default plan's shape, started at `at`. 0, or -1 (said). */
static int write_run(struct store *st, const char *id, const char *host, const char *at, unsigned *seed)
{
	static const struct {
		const char *config;
		int topology, dom0;
		double glmark2, kms2d;
	} rows[] = { { "native", 0, 0, 1100, 2000 },   { "qemu-virgl", 1, 0, 240, 660 },
		     { "qemu-virgl", 3, 0, 82, 174 },  { "mediated", 1, 0, 470, 1200 },
		     { "mediated", 3, 0, 115, 580 },   { "mediated", 3, 1, 300, 0 } };
	static const char *const workloads[] = { "glmark2", "kms2d" };

	jobs_per_run = values_per_run = 0;
	if (create_run(st, id, host, at) < 0)
		return -1;
	for (int rep = 1; rep <= 5; rep++)
		for (size_t w = 0; w < 2; w++)
			for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
				double base = w ? rows[r].kms2d : rows[r].glmark2;
				int n = rows[r].topology && !rows[r].dom0 ? rows[r].topology : 1;
				struct wl_result m[3];
				struct job_row j[3];
				struct vgpu_stats vs[3];
				struct job_noise noise = { .steal_pct = 0.5, .load_before = 1.5, .load_after = 1.6,
							   .boot = rep };

				if (base <= 0)
					continue;
				for (int g = 0; g < n; g++) {
					metrics_of(&m[g], workloads[w], base, seed);
					j[g] = (struct job_row){ .config = rows[r].config,
								 .topology = rows[r].topology,
								 .guest_index = guest_of(rows[r].topology, rows[r].dom0, g),
								 .workload = workloads[w],
								 .repetition = rep,
								 .status = "ok",
								 .accel = "tcg",
								 .renderer = "virgl (LLVMPIPE)",
								 .wall_s = 20,
								 .user_s = 1,
								 .sys_s = 1,
								 .maxrss_kb = 100000,
								 .log_path = "runs/x/job.log",
								 .metrics = &m[g],
								 .noise = &noise };
					if (!strcmp(rows[r].config, "mediated")) { /* its vGPU's scheduling, stages */
						vgpu_of(&vs[g], seed);
						j[g].vgpu_name = "guest1";
						j[g].vgpu = &vs[g];
					}
				}
				if (store_jobs(st, id, j, n) < 0)
					return -1;
				jobs_per_run += n;
				for (int g = 0; g < n; g++)
					values_per_run += m[g].n;
			}
	return store_run_set_status(st, id, "complete", NULL);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
					      { "hosts", required_argument, NULL, 'h' },
					      { "nights", required_argument, NULL, 'n' },
					      { NULL, 0, NULL, 0 } };
	const char *db = NULL;
	int hosts = 20, nights = 60, opt, k = 0;
	unsigned seed = 1;
	struct store st;
	double *t, total = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'd')
			db = optarg;
		else if (opt == 'h')
			hosts = atoi(optarg);
		else if (opt == 'n')
			nights = atoi(optarg);
		else
			return 2;
	}
	if (!db || hosts < 1 || hosts > 999 || nights < 1 || nights > 9999) {
		fprintf(stderr, "usage: bench-lab --db URL [--hosts 1-999] [--nights 1-9999]\n");
		return 2;
	}
	if (store_open(&st, db) < 0)
		return 1;
	if (!(t = calloc((size_t)hosts * (size_t)nights, sizeof(*t))))
		abort();
	for (int n = 0; n < nights; n++)
		for (int h = 0; h < hosts; h++) {
			char id[96], host[32], date[16], at[32];
			time_t day = time(NULL) - (time_t)(nights - n) * 86400;
			double t0 = now_s();

			strftime(date, sizeof(date), "%Y%m%d", gmtime(&day));
			strftime(at, sizeof(at), "%Y-%m-%dT02:00:00Z", gmtime(&day));
			snprintf(host, sizeof(host), "lab%02d", h + 1);
			snprintf(id, sizeof(id), "%s-020000-%s-default", date, host);
			if (write_run(&st, id, host, at, &seed) < 0) {
				fprintf(stderr, "bench-lab: run %s could not be written: %s\n", id, st.err);
				store_close(&st);
				return 1;
			}
			t[k] = now_s() - t0;
			total += t[k++];
		}
	qsort(t, (size_t)k, sizeof(*t), cmp_double);
	printf("%s: %d runs (%d hosts x %d nights), %d jobs and %d metric values each; one run's store time: "
	       "median %.3f s (10th-90th percentile %.3f-%.3f s); all: %.1f s\n",
	       store_kind(&st), k, hosts, nights, jobs_per_run, values_per_run, t[k / 2], t[k / 10], t[k * 9 / 10],
	       total);
	free(t);
	store_close(&st);
	return 0;
}
