/* calibrate.c: `vgpubench calibrate`: A/A and A/B runs of a plan, and the
 * false-alarm and detection rates of each row (calibrate.h). */
#define _GNU_SOURCE
#include "run/calibrate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/boots.h"
#include "configs/configs.h"
#include "host/host_id.h"
#include "plan/plan.h"
#include "report/report.h"
#include "run/progress.h"
#include "run/runner.h"
#include "stats.h"
#include "util.h"

#define CALIBRATE_MAX_ROUNDS 20

/* A row being counted, with the figures its medians are taken from. */
struct tally {
	struct calibration_row row;
	double *changes, *detectable;
	size_t nchanges, ndetectable;
};

struct tallies {
	struct tally *t;
	size_t n;
};

static void push(double **v, size_t *n, double x)
{
	double *nv = realloc(*v, (*n + 1) * sizeof(double));

	if (!nv)
		abort();
	nv[(*n)++] = x;
	*v = nv;
}

static struct tally *tally_for(struct tallies *ts, const struct series *s, int slowdown_pct)
{
	const struct config_def *c = config_find(s->config);
	struct tally *t;

	for (size_t i = 0; i < ts->n; i++) {
		const struct calibration_row *r = &ts->t[i].row;

		if (!strcmp(r->workload, s->workload) && !strcmp(r->metric, s->metric) && !strcmp(r->config, s->config) &&
		    r->topology == s->topology && r->dom0 == s->dom0)
			return &ts->t[i];
	}
	t = realloc(ts->t, (ts->n + 1) * sizeof(*t));
	if (!t)
		abort();
	ts->t = t;
	t = &ts->t[ts->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->row.workload, sizeof(t->row.workload), "%s", s->workload);
	snprintf(t->row.metric, sizeof(t->row.metric), "%s", s->metric);
	snprintf(t->row.config, sizeof(t->row.config), "%s", s->config);
	t->row.topology = s->topology;
	t->row.dom0 = s->dom0;
	if (c && c->slowdown)
		snprintf(t->row.injected, sizeof(t->row.injected), "%s %d%%", c->slowdown, slowdown_pct);
	return t;
}

/* One pair: run against base, counted as A/A (ab = 0) or A/B. 0, or -1 when the comparison could not be made. */
static int count_pair(struct store *st, const char *run, const char *base, int ab, const struct calibrate_opts *o,
		      struct tallies *ts)
{
	struct comparison c;

	if (compare_build(st, run, base, &o->cmp, &c) < 0)
		return -1;
	for (size_t i = 0; i < c.nrows; i++) {
		const struct compare_row *r = &c.rows[i];
		struct tally *t;

		if (!r->old || isnan(r->change_pct))
			continue; /* no values on one side: no pair for this row */
		t = tally_for(ts, r->cur, o->slowdown_pct);
		if (ab) {
			t->row.ab_pairs++;
			t->row.ab_detected += r->verdict == V_REGRESSION;
			push(&t->changes, &t->nchanges, r->change_pct);
		} else {
			t->row.aa_pairs++;
			t->row.aa_flagged += r->verdict != V_SAME;
			if (isfinite(r->detectable_pct))
				push(&t->detectable, &t->ndetectable, r->detectable_pct);
		}
	}
	compare_free(&c);
	return 0;
}

static double median_or_nan(double *v, size_t n)
{
	return n ? stats_median(v, n) : NAN;
}

/* A round's three run ids: A, A' and B. */
typedef char round_ids[3][STORE_RUN_ID_MAX];

/* What a calibration in progress keeps under its own run, so that calibrate --resume can finish it: its options,
 * and each run it started as soon as that run exists (round r from 1; run k 1 = A, 2 = A', 3 = B; an interleaved
 * round names only A, whose host facts name its arms). */
#define CAL_OPTIONS_FACT "calibration options"
#define CAL_RUN_FACT "calibration round %d run %d"
#define CAL_OPTIONS_FMT "slowdown=%d rounds=%d separate=%d threshold=%lf alpha=%lf"

/* The calibration's own run, made before its first round: plan NAME-calibration, status running, its options.
 * 0, or -1 (said). */
static int record_start(struct store *st, const struct calibrate_opts *o, const struct plan *p, const char *plan_text,
			char *id, size_t idlen)
{
	char host[HOST_LABEL_MAX + 1], name[80], *rel = NULL, *dir, *fact;
	int rc = -1;

	host_label(host, sizeof(host));
	snprintf(name, sizeof(name), "%s-calibration", p->name);
	for (int attempt = 0; attempt < 100; attempt++) {
		if (run_make_id(id, idlen, host, name, attempt) < 0) {
			rc = -1;
			break;
		}
		free(rel);
		rel = vb_strdupf("runs/%s", id);
		rc = store_run_create(st, id, name, host, o->plan, plan_text, rel);
		if (rc != -2)
			break;
	}
	if (rc < 0) {
		if (rel) /* run_make_id said why it made none */
			vb_err("cannot record the calibration: %s", st->err);
		free(rel);
		return -1;
	}
	dir = vb_strdupf("%s/%s", o->results, rel);
	free(rel);
	if (vb_mkdirs(dir, 0755) < 0) {
		vb_err("cannot record the calibration: %s", strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	fact = vb_strdupf(CAL_OPTIONS_FMT, o->slowdown_pct, o->rounds, o->separate, o->cmp.threshold_pct, o->cmp.alpha);
	rc = store_host_fact(st, id, CAL_OPTIONS_FACT, fact);
	free(fact);
	if (rc < 0)
		vb_err("cannot record the calibration %s: %s", id, st->err);
	return rc;
}

/* The calibration's results under its run, which is then complete: its summary fact and its rows. 0 or -1 (said). */
static int record_finish(struct store *st, const struct calibrate_opts *o, const char *id, round_ids *ids,
			 const struct tallies *ts)
{
	struct calibration_row *rows;
	size_t len = 0;
	char *runs = NULL, *fact;
	FILE *f = open_memstream(&runs, &len);
	int rc;

	/* The runs it took, round by round: A, A', B. */
	if (!f)
		abort();
	for (int r = 0; r < o->rounds; r++)
		fprintf(f, "%sround %d: A %s, A' %s, B %s", r ? "; " : "", r + 1, ids[r][0], ids[r][1], ids[r][2]);
	fclose(f);
	fact = vb_strdupf("a %d%% slowdown, %d round%s (%s), flagged when the change is over %.1f%% and p < %.2f; %s",
			  o->slowdown_pct, o->rounds, o->rounds == 1 ? "" : "s",
			  o->separate ? "A, A' and B one run after the other"
				      : "A, A' and B interleaved in one run, taking turns boot by boot",
			  o->cmp.threshold_pct, o->cmp.alpha, runs);
	free(runs);
	rows = calloc(ts->n ? ts->n : 1, sizeof(*rows));
	if (!rows)
		abort();
	for (size_t i = 0; i < ts->n; i++) {
		rows[i] = ts->t[i].row;
		rows[i].change_pct = median_or_nan(ts->t[i].changes, ts->t[i].nchanges);
		rows[i].detectable_pct = median_or_nan(ts->t[i].detectable, ts->t[i].ndetectable);
	}
	rc = store_host_fact(st, id, CALIBRATION_FACT, fact) < 0 || store_calibration_put(st, id, rows, ts->n) < 0 ||
		     store_run_set_status(st, id, "complete", NULL) < 0
		 ? -1
		 : 0;
	if (rc < 0)
		vb_err("cannot record the calibration %s: %s", id, st->err);
	free(rows);
	free(fact);
	return rc;
}

static void rate(char *buf, size_t len, int k, int n)
{
	if (n)
		snprintf(buf, len, "%d/%d %3.0f%%", k, n, 100.0 * k / n);
	else
		snprintf(buf, len, "-");
}

/* Boots of one run whose medians lie this far apart (percent) are shown under the calibration. */
#define BOOTS_SHOWN_PCT 5.0

/* The spread between boots of every round's runs, for the calibration's rows: the rows whose boots lie
 * BOOTS_SHOWN_PCT or more apart or have an outlier, each boot's median and the outlier named with what the host
 * noise sampler saw (boots.h); the rest counted. */
static void print_boot_spread(struct store *st, const char *cal, const struct calibration_row *rows, size_t nrows,
			      FILE *out)
{
	static const char *const name[] = { "A", "A'", "B" };
	int spread = 0, shown = 0;

	for (int r = 1; r <= 1000; r++) {
		char ids[3][STORE_RUN_ID_MAX] = { "", "", "" }, key[64], *v;

		for (int k = 0; k < 3; k++) {
			snprintf(key, sizeof(key), CAL_RUN_FACT, r, k + 1);
			if ((v = store_host_fact_get(st, cal, key)))
				snprintf(ids[k], sizeof(ids[k]), "%s", v);
			free(v);
		}
		if (!ids[0][0])
			break;
		for (int a = 1; a <= 2; a++) /* interleaved: A' and B are A's arms */
			if (!ids[a][0])
				runner_arm_id(st, ids[0], a, ids[a], sizeof(ids[a]), NULL);
		for (int k = 0; k < 3; k++)
			for (size_t i = 0; ids[k][0] && i < nrows; i++) {
				const struct calibration_row *w = &rows[i];
				struct boot_spread b;
				char line[768];

				if (boots_spread(st, ids[k], w->config, w->topology, w->dom0, w->workload, w->metric,
						 &b) < 0 ||
				    b.n < 2)
					continue;
				spread++;
				if (b.outlier < 0 && !(b.apart_pct >= BOOTS_SHOWN_PCT))
					continue;
				if (!shown++)
					fprintf(out, "\nbetween boots (each boot's median, for a run's row whose boots "
						     "lie %.0f%% or more apart or one of them far from the others):\n",
						BOOTS_SHOWN_PCT);
				boots_text(&b, line, sizeof(line));
				fprintf(out, "  round %d %-2s %s %s %s %d%s: %s\n", r, name[k], w->workload, w->metric,
					w->config, w->topology, w->dom0 ? "+dom0" : "", line);
			}
	}
	if (spread && !shown)
		fprintf(out, "\nbetween boots: the boots of all %d run rows spread over boots lie within %.0f%%\n",
			spread, BOOTS_SHOWN_PCT);
}

int calibrate_print(struct store *st, const char *run, FILE *out)
{
	struct calibration_row *rows;
	size_t n;
	char *fact = store_host_fact_get(st, run, CALIBRATION_FACT);
	struct calibration_totals t;

	if (!fact || store_calibration_get(st, run, &rows, &n) < 0) {
		free(fact);
		return -1;
	}
	fprintf(out, "calibration %s: %s\n\n", run, fact);
	fprintf(out, "%-9s %-24s %-12s %6s %-22s %12s %12s %9s %8s\n", "workload", "metric", "config", "guests", "injected",
		"A/A flagged", "A/B caught", "measured", "detect");
	for (size_t i = 0; i < n; i++) {
		const struct calibration_row *r = &rows[i];
		char topo[16], aas[32], abs[32], chg[16], det[16];

		snprintf(topo, sizeof(topo), !r->topology ? "host" : r->dom0 ? "dom0+%d" : "%d", r->topology);
		rate(aas, sizeof(aas), r->aa_flagged, r->aa_pairs);
		rate(abs, sizeof(abs), r->ab_detected, r->ab_pairs);
		snprintf(chg, sizeof(chg), isnan(r->change_pct) ? "-" : "%+.1f%%", r->change_pct);
		snprintf(det, sizeof(det), isnan(r->detectable_pct) ? "-" : "%.1f%%", r->detectable_pct);
		fprintf(out, "%-9s %-24s %-12s %6s %-22s %12s %12s %9s %8s\n", r->workload, r->metric, r->config, topo,
			r->injected[0] ? r->injected : "nothing (no knob)", aas, r->injected[0] ? abs : "-", chg, det);
	}
	t = calibration_totals(rows, n);
	fprintf(out, "\nfalse alarms: %d of %d A/A row pairs flagged (%.1f%%); detections: %d of %d A/B row pairs with a "
		     "slowdown injected flagged as regressions (%.1f%%)\n",
		t.aa_flagged, t.aa, t.aa ? 100.0 * t.aa_flagged / t.aa : 0.0, t.ab_detected, t.ab,
		t.ab ? 100.0 * t.ab_detected / t.ab : 0.0);
	fprintf(out, "measured: the median change the slowdown made to the row (a row bound elsewhere than the throttled "
		     "part moves less than the slowdown); detect: the median change its A/A pairs could detect at 80%% "
		     "power\n");
	print_boot_spread(st, run, rows, n, out);
	free(rows);
	free(fact);
	return 0;
}

/* A run a round started, recorded under the calibration as soon as it exists (run_opts.on_created). */
struct created {
	const char *db, *cal_id;
	int round, run;
	char *id_out;
	size_t id_len;
};

static void on_created(void *ctx, const char *id)
{
	struct created *c = ctx;
	struct store st;
	char key[64];

	snprintf(c->id_out, c->id_len, "%s", id);
	snprintf(key, sizeof(key), CAL_RUN_FACT, c->round + 1, c->run + 1);
	if (store_open(&st, c->db) < 0)
		return; /* said; the calibration goes on, only a resume would not find this run */
	if (store_host_fact(&st, c->cal_id, key, id) < 0)
		vb_err("calibration %s: cannot note its run %s: %s", c->cal_id, id, st.err);
	store_close(&st);
}

/* The calibration's run fails or is interrupted: its status says why and how to go on. */
static void record_stop(const char *db, const char *cal_id, int run_rc, const char *why)
{
	struct store st;
	char *reason = vb_strdupf("%s; finish it with vgpubench calibrate --resume %s", why, cal_id);

	vb_err("calibration %s: %s", cal_id, reason);
	if (store_open(&st, db) == 0) {
		store_run_set_status(&st, cal_id, run_rc == 130 ? "interrupted" : "failed", reason);
		store_close(&st);
	}
	free(reason);
}

/* The rounds' runs: each one not yet complete is resumed, each not yet started is run. ids holds the runs known
 * so far and is completed. 0 (failed_jobs set when some job failed), or the exit code of the run that stopped.
 * Each round's line says the time left from the pace of the runs this calibrate ran so far (each run's own lines
 * say its steps). */
static int run_rounds(const struct calibrate_opts *o, const char *db, const char *cal_id, round_ids *ids,
		      int *failed_jobs)
{
	int per_round = o->separate ? 3 : 1, ran = 0;
	double t0 = vb_now();

	for (int r = 0; r < o->rounds; r++)
		for (int k = 0; k < per_round; k++) {
			/* Interleaved: one run (A) with two arms (A', B) taking turns boot by boot. Separate: three
			 * runs, one after the other. */
			struct created cr = { db, cal_id, r, k, ids[r][k], sizeof(ids[r][k]) };
			struct run_arm arms[2] = {
				{ .name_suffix = "-cal",
				  .id_out = ids[r][1],
				  .id_len = sizeof(ids[r][1]),
				  .compare_threshold_pct = o->cmp.threshold_pct },
				{ .name_suffix = "-cal-slow",
				  .slowdown_pct = o->slowdown_pct,
				  .id_out = ids[r][2],
				  .id_len = sizeof(ids[r][2]),
				  .compare_threshold_pct = o->cmp.threshold_pct },
			};
			struct run_opts ro = { .name_suffix = k == 2 ? "-cal-slow" : "-cal",
					       .slowdown_pct = k == 2 ? o->slowdown_pct : 0,
					       .arms = o->separate ? NULL : arms,
					       .narms = o->separate ? 0 : 2,
					       .on_created = on_created,
					       .on_created_ctx = &cr,
					       .plan_text = o->plan_text };
			static const char *const what[] = { "A, unchanged", "A', unchanged", "B, slowed down" };
			int run_rc, runs_left = (o->rounds - r) * per_round - k;
			char left[64] = "", text[48];

			if (ran) {
				progress_left_text((vb_now() - t0) * runs_left / ran, text, sizeof(text));
				snprintf(left, sizeof(left), ", %s", text);
			}

			if (ids[r][k][0]) { /* started before calibrate was stopped */
				struct store st;
				char *pp = NULL, *pt = NULL, *dir = NULL, *status = NULL;
				int done = 0;

				if (store_open(&st, db) < 0)
					return 1;
				if (store_run_load(&st, ids[r][k], &pp, &pt, &dir, &status) == 0)
					done = !strcmp(status, "complete");
				for (int a = 1; !o->separate && a <= 2; a++)
					runner_arm_id(&st, ids[r][k], a, ids[r][a], sizeof(ids[r][a]), NULL);
				store_close(&st);
				free(pp);
				free(pt);
				free(dir);
				free(status);
				if (done)
					continue;
				vb_log("calibrate: round %d of %d: resuming run %s%s", r + 1, o->rounds, ids[r][k], left);
				run_rc = runner_run_with(o->results, o->reports, NULL, ids[r][k], NULL);
			} else {
				if (o->separate)
					vb_log("calibrate: round %d of %d, run %s%s", r + 1, o->rounds, what[k], left);
				else
					vb_log("calibrate: round %d of %d: A and A' unchanged, B slowed down, "
					       "interleaved%s",
					       r + 1, o->rounds, left);
				run_rc = runner_run_with(o->results, o->reports, o->plan, NULL, &ro);
			}
			ran++;
			if (run_rc == 3) {
				*failed_jobs = 1;
			} else if (run_rc != 0) {
				char *why = vb_strdupf("round %d: run %s ended with exit %d (the runs so far are kept)",
						       r + 1, ids[r][k][0] ? ids[r][k] : "(none)", run_rc);

				record_stop(db, cal_id, run_rc, why);
				free(why);
				return run_rc;
			}
		}
	return 0;
}

/* The rounds, then the pairs counted and the calibration recorded, printed and reported. */
static int calibrate_rounds(const struct calibrate_opts *o, const char *db, const char *cal_id, round_ids *ids)
{
	struct store st;
	struct tallies ts = { 0 };
	int failed_jobs = 0, rc = run_rounds(o, db, cal_id, ids, &failed_jobs);

	if (rc != 0)
		return rc;
	if (store_open(&st, db) < 0)
		return 1;
	for (int r = 0; r < o->rounds && rc == 0; r++)
		if (count_pair(&st, ids[r][1], ids[r][0], 0, o, &ts) < 0 ||
		    count_pair(&st, ids[r][2], ids[r][0], 1, o, &ts) < 0 || count_pair(&st, ids[r][2], ids[r][1], 1, o, &ts) < 0)
			rc = 1;
	if (rc == 0 && record_finish(&st, o, cal_id, ids, &ts) == 0) {
		char *report = NULL;

		printf("\n");
		calibrate_print(&st, cal_id, stdout);
		printf("\ncalibration %s: database %s\n", cal_id, db);
		rc = failed_jobs ? 3 : 0;
		if (report_generate(&st, cal_id, o->reports, &report) == 0)
			printf("report: %s\n", report);
		else
			rc = 1;
		free(report);
	} else {
		if (rc == 0)
			rc = 1;
		store_run_set_status(&st, cal_id, "failed", "its runs could not be compared (see the messages above)");
	}
	store_close(&st);
	for (size_t i = 0; i < ts.n; i++) {
		free(ts.t[i].changes);
		free(ts.t[i].detectable);
	}
	free(ts.t);
	return rc;
}

int calibrate_run(const struct calibrate_opts *o)
{
	struct plan p;
	char err[1024], *plan_text = NULL, *db = NULL, id[STORE_RUN_ID_MAX];
	round_ids *ids = NULL;
	struct store st;
	int rc = 1;

	if (o->slowdown_pct < 1 || o->slowdown_pct > 90 || o->rounds < 1 || o->rounds > CALIBRATE_MAX_ROUNDS) {
		vb_err("calibrate takes a slowdown of 1 to 90%% and 1 to %d rounds (got %d%%, %d)", CALIBRATE_MAX_ROUNDS,
		       o->slowdown_pct, o->rounds);
		return 2;
	}
	if (plan_load(o->plan, &p, &plan_text, err, sizeof(err)) < 0) {
		vb_err("%s", err);
		return 1;
	}
	if (vb_mkdirs(o->results, 0755) < 0) {
		vb_err("cannot create %s: %s", o->results, strerror(errno));
		goto out;
	}
	db = store_url(o->results);
	if (store_open(&st, db) < 0)
		goto out;
	rc = record_start(&st, o, &p, plan_text, id, sizeof(id)) < 0 ? 1 : 0;
	store_close(&st);
	if (rc != 0)
		goto out;
	vb_log("calibration %s: if it is stopped, vgpubench calibrate --resume %s finishes it", id, id);
	ids = calloc((size_t)o->rounds, sizeof(*ids));
	if (!ids)
		abort();
	rc = calibrate_rounds(o, db, id, ids);
out:
	free(ids);
	free(db);
	free(plan_text);
	return rc;
}

int calibrate_resume(const char *results, const char *reports, const char *cal_id)
{
	struct calibrate_opts o = { .results = results, .reports = reports };
	struct store st;
	struct plan p;
	char err[1024], *db = store_url(results), *opts = NULL;
	char *plan_path = NULL, *plan_text = NULL, *dir = NULL, *status = NULL;
	round_ids *ids = NULL;
	int rc = 1;

	if (store_open_read(&st, db) < 0)
		goto out_free;
	if (store_run_load(&st, cal_id, &plan_path, &plan_text, &dir, &status) < 0) {
		vb_err("no run '%s' in %s", cal_id, db);
		store_close(&st);
		goto out_free;
	}
	opts = store_host_fact_get(&st, cal_id, CAL_OPTIONS_FACT);
	if (!opts || sscanf(opts, CAL_OPTIONS_FMT, &o.slowdown_pct, &o.rounds, &o.separate, &o.cmp.threshold_pct,
			    &o.cmp.alpha) != 5 ||
	    o.rounds < 1 || o.rounds > CALIBRATE_MAX_ROUNDS) {
		vb_err("run %s is no calibration that can be resumed (its '%s' fact is %s)", cal_id, CAL_OPTIONS_FACT,
		       opts ? opts : "missing");
		store_close(&st);
		goto out_free;
	}
	if (!strcmp(status, "complete")) {
		vb_log("calibration %s is complete already", cal_id);
		rc = calibrate_print(&st, cal_id, stdout) == 0 ? 0 : 1;
		store_close(&st);
		goto out_free;
	}
	ids = calloc((size_t)o.rounds, sizeof(*ids));
	if (!ids)
		abort();
	for (int r = 0; r < o.rounds; r++)
		for (int k = 0; k < 3; k++) {
			char key[64], *v;

			snprintf(key, sizeof(key), CAL_RUN_FACT, r + 1, k + 1);
			if ((v = store_host_fact_get(&st, cal_id, key)))
				snprintf(ids[r][k], sizeof(ids[r][k]), "%s", v);
			free(v);
		}
	store_close(&st);
	/* Runs still to start take the plan text stored with the calibration, as run --resume does: the file may have
	 * moved, changed, or be relative to another folder. */
	o.plan = plan_path;
	o.plan_text = plan_text;
	if (plan_parse(plan_path, plan_text, &p, err, sizeof(err)) < 0) {
		vb_err("calibration %s: its stored plan: %s", cal_id, err);
		goto out_free;
	}
	vb_log("resuming calibration %s (%s)", cal_id, opts);
	if (store_open(&st, db) < 0)
		goto out_free;
	rc = store_run_set_status(&st, cal_id, "running", NULL) < 0 ? 1 : 0;
	store_close(&st);
	if (rc == 0)
		rc = calibrate_rounds(&o, db, cal_id, ids);
out_free:
	free(ids);
	free(db);
	free(opts);
	free(plan_path);
	free(plan_text);
	free(dir);
	free(status);
	return rc;
}
