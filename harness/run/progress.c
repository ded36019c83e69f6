/* progress.c: where a run is in its plan and how long is left (progress.h): its steps counted, the time left
 * estimated, each step's tag and the status line. */
#define _GNU_SOURCE
#include "run/progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run/run_state.h"
#include "store/store.h"
#include "util.h"

/* How much faster or slower than the previous run this one may be taken to go: beyond that, the first steps say
 * more about a boot or a cold cache than about the run. */
#define SPEED_MIN 0.2
#define SPEED_MAX 5.0

/* The previous run's seconds when it had done x of its steps (0 to nprev), linear between its steps' ends. */
static double prev_at(const struct progress_est *e, double x)
{
	size_t i;
	double a;

	if (x <= 0)
		return 0;
	if (x >= (double)e->nprev)
		return e->prev[e->nprev - 1];
	i = (size_t)x;
	a = i ? e->prev[i - 1] : 0;
	return a + (e->prev[i] - a) * (x - (double)i);
}

/* Without a previous run, by kind: each kind's steps left at its own pace here, else at the pace of the steps with
 * as many guests, else at every step's. -1 when no step was done here. */
static double left_by_kind(const struct progress_est *e)
{
	double all_secs = 0, left = 0;
	int all_ran = 0;

	for (size_t i = 0; i < e->nkinds; i++) {
		all_secs += e->kinds[i].secs;
		all_ran += e->kinds[i].ran;
	}
	if (!all_ran)
		return -1;
	for (size_t i = 0; i < e->nkinds; i++) {
		const struct progress_kind *k = &e->kinds[i];
		double secs = 0;
		int ran = 0;

		if (k->total <= k->done)
			continue;
		if (k->ran) {
			secs = k->secs;
			ran = k->ran;
		} else {
			for (size_t j = 0; j < e->nkinds; j++)
				if (e->kinds[j].guests == k->guests) {
					secs += e->kinds[j].secs;
					ran += e->kinds[j].ran;
				}
		}
		if (!ran) {
			secs = all_secs;
			ran = all_ran;
		}
		left += (k->total - k->done) * secs / ran;
	}
	return left;
}

double progress_left_s(const struct progress_est *e)
{
	int here = e->done - e->done_at_start;

	if (e->total <= 0 || e->done >= e->total)
		return 0;
	if (e->nprev && e->prev_total > 0) {
		/* The same fraction of the previous run's steps, however many it had. */
		double scale = (double)e->nprev / e->total, at = prev_at(e, e->done * scale),
		       from = prev_at(e, e->done_at_start * scale), speed = 1;

		if (here > 0 && e->elapsed > 0 && at - from >= 1)
			speed = fmin(SPEED_MAX, fmax(SPEED_MIN, e->elapsed / (at - from)));
		return fmax(0, e->prev_total - at) * speed;
	}
	if (here <= 0 || !(e->elapsed > 0))
		return -1;
	if (e->nkinds)
		return left_by_kind(e);
	return e->elapsed * (e->total - e->done) / here;
}

/* A duration in words: "40 s", "4 min 30 s", "25 min", "1 h 12 min" (whole seconds under a minute, tens of seconds
 * under ten minutes, whole minutes after). */
static void duration_text(double s, char *out, size_t len)
{
	long m = lround(s / 60), tens = lround(s / 10) * 10;

	if (s < 59.5)
		snprintf(out, len, "%ld s", lround(s));
	else if (tens < 600 && tens % 60)
		snprintf(out, len, "%ld min %ld s", tens / 60, tens % 60);
	else if (tens < 600)
		snprintf(out, len, "%ld min", tens / 60);
	else if (m < 60)
		snprintf(out, len, "%ld min", m);
	else
		snprintf(out, len, "%ld h %ld min", m / 60, m % 60);
}

void progress_left_text(double left_s, char *out, size_t len)
{
	char d[32];

	if (left_s < 0) {
		snprintf(out, len, "%s", "");
		return;
	}
	duration_text(left_s, d, sizeof(d));
	snprintf(out, len, "about %s left", d);
}

static struct progress_est est_of(const struct run_progress *p)
{
	return (struct progress_est){ .done = p->done, .done_at_start = p->done_at_start, .total = p->total,
				      .elapsed = vb_now() - p->t0, .prev = p->prev, .nprev = p->nprev,
				      .prev_total = p->prev_total, .kinds = p->kinds, .nkinds = p->nkinds };
}

/* The status line: the step under way, the time so far, the time left and when that is on the clock. */
static void draw_status(const struct run_progress *p)
{
	struct progress_est e = est_of(p);
	double left = progress_left_s(&e);
	char line[160], so_far[32], left_text[64] = "", ends[16] = "";
	time_t at = time(NULL) + (time_t)lround(left > 0 ? left : 0);
	struct tm tm;

	duration_text(e.elapsed, so_far, sizeof(so_far));
	progress_left_text(left, left_text, sizeof(left_text));
	if (left > 0 && localtime_r(&at, &tm))
		strftime(ends, sizeof(ends), "%H:%M", &tm);
	snprintf(line, sizeof(line), "vgpubench: step %d of %d, %s in%s%s%s%s%s",
		 p->done < p->total ? p->done + 1 : p->total, p->total, so_far, left_text[0] ? ", " : "", left_text,
		 ends[0] ? " (ends about " : "", ends, ends[0] ? ")" : "");
	vb_status(line);
}

/* Kind (name, guests) of p, made when it is new; NULL when PROGRESS_KINDS are taken (its steps then count in the
 * totals only). */
static struct progress_kind *kind_of(struct run_progress *p, const char *name, int guests)
{
	for (size_t i = 0; i < p->nkinds; i++)
		if (p->kinds[i].guests == guests && !strcmp(p->kinds[i].name, name))
			return &p->kinds[i];
	if (p->nkinds == PROGRESS_KINDS)
		return NULL;
	p->kinds[p->nkinds] = (struct progress_kind){ .guests = guests };
	snprintf(p->kinds[p->nkinds].name, sizeof(p->kinds[0].name), "%s", name);
	return &p->kinds[p->nkinds++];
}

/* steps more of kind (name, guests), done of them stored. */
static void kind_add(struct run_progress *p, const char *name, int guests, int steps, int done)
{
	struct progress_kind *k = kind_of(p, name, guests);

	if (k) {
		k->total += steps;
		k->done += done;
	}
}

/* The rows of config c with topo guests (0: the host) in the current arm (only workload's, when not NULL): their
 * planned steps into *total and those stored into *done, and into their kinds in p when p is not NULL. Under
 * repetitions = auto a row counts its least repetitions, or what it stored when that is more. */
static void topology_steps(struct run *r, const struct config_def *c, int topo, const char *workload, int *total,
			   int *done, struct run_progress *p)
{
	struct seats s;

	run_seats_for(r, c, topo, &s);
	for (int wi = 0; wi < r->plan.nworkloads; wi++) {
		const struct workload_def *w = workload_find(r->plan.workloads[wi]);
		int last = r->plan.adaptive.on ? r->plan.adaptive.max : r->plan.repetitions, stored = 0, steps;

		if (workload && strcmp(workload, w->name))
			continue;
		for (int rep = 1; rep <= last; rep++)
			stored += run_rep_done(r, c, topo, &s, w, rep);
		if (!r->plan.adaptive.on)
			steps = r->plan.repetitions;
		else
			steps = stored > r->plan.adaptive.min ? stored : r->plan.adaptive.min;
		*total += steps;
		*done += stored;
		if (p)
			kind_add(p, w->name, topo, steps, stored);
	}
}

/* A configuration's rows of jobs on every arm that runs it: their planned steps, and those stored. */
static void count_config(struct run *r, const struct config_def *c, int *total, int *done)
{
	for (int k = 0; k < r->narms; k++) {
		if (!run_arm_runs(r, k, c))
			continue;
		run_arm_enter(r, k);
		for (int t = 0; t < (c->kind == CONFIG_HOST ? 1 : r->plan.nguests); t++) {
			int topo = c->kind == CONFIG_HOST ? 0 : r->plan.guests[t];

			if (!c->max_guests || topo <= c->max_guests) /* else stored skipped, no step */
				topology_steps(r, c, topo, NULL, total, done, &r->progress);
		}
	}
	run_arm_enter(r, 0);
}

int progress_stored_steps(struct run *r, const struct config_def *c, int topo, const char *workload)
{
	int total = 0, done = 0;

	topology_steps(r, c, topo, workload, &total, &done, NULL); /* counted, not planned again */
	return done;
}

void progress_scenario_kind(struct run *r, const char *scenario, int guests, int steps, int done)
{
	char name[72];

	snprintf(name, sizeof(name), "scenario %s", scenario);
	kind_add(&r->progress, name, guests, steps, done);
}

/* Where the time left comes from: the previous complete run of the plan on this host, said in one line. */
static void load_previous(struct run *r)
{
	struct run_progress *p = &r->progress;
	char prev[STORE_RUN_ID_MAX], took[32];

	if (store_previous_run(&r->store, r->id, NULL, prev, sizeof(prev)) < 0 ||
	    store_step_times(&r->store, prev, &p->prev, &p->nprev, &p->prev_total) < 0 || !p->nprev ||
	    !(p->prev_total > 0)) {
		free(p->prev);
		p->prev = NULL;
		p->nprev = 0;
		vb_log("progress: %d steps (%d stored before); the time left is reckoned from this run's pace (no "
		       "earlier complete run of plan %s on this host)",
		       p->total, p->done_at_start, r->plan.name);
		return;
	}
	duration_text(p->prev_total, took, sizeof(took));
	vb_log("progress: %d steps (%d stored before); the time left is reckoned from run %s of this plan on this "
	       "host (%zu steps in %s), at this run's pace",
	       p->total, p->done_at_start, prev, p->nprev, took);
}

void progress_start(struct run *r, const char *const *skip)
{
	struct run_progress *p = &r->progress;
	int total = 0, done = 0;

	*p = (struct run_progress){ .on = 1 };
	for (int i = 0; i < r->plan.nconfigs; i++)
		if (!skip[i])
			count_config(r, config_find(r->plan.configs[i]), &total, &done);
	run_scenario_steps(r, &total, &done);
	p->total = total;
	p->done = p->done_at_start = done;
	p->t0 = p->last_end = vb_now();
	if (total > done)
		load_previous(r);
}

const char *progress_tag(struct run *r)
{
	struct run_progress *p = &r->progress;

	if (!p->on)
		return "";
	snprintf(p->tag, sizeof(p->tag), "[%d/%d] ", p->done < p->total ? p->done + 1 : p->total, p->total);
	draw_status(p);
	return p->tag;
}

const char *progress_left(struct run *r)
{
	struct run_progress *p = &r->progress;
	struct progress_est e = est_of(p);
	char text[48];

	progress_left_text(p->on ? progress_left_s(&e) : -1, text, sizeof(text));
	snprintf(p->left, sizeof(p->left), "%s%s", text[0] ? ", " : "", text);
	return p->left;
}

void progress_step_done(struct run *r, const char *name, int guests)
{
	struct run_progress *p = &r->progress;
	struct progress_kind *k;
	double now = vb_now();

	if (!p->on)
		return;
	p->done++;
	if (p->done > p->total)
		p->total = p->done;
	if ((k = kind_of(p, name, guests))) {
		k->done++;
		k->ran++;
		k->secs += now - p->last_end;
		if (k->done > k->total)
			k->total = k->done;
	}
	p->last_end = now;
	draw_status(p);
}

void progress_add_step(struct run *r, const char *name, int guests)
{
	struct progress_kind *k;

	if (!r->progress.on)
		return;
	r->progress.total++;
	if ((k = kind_of(&r->progress, name, guests)))
		k->total++;
}

void progress_end(struct run *r)
{
	struct run_progress *p = &r->progress;

	vb_status(NULL);
	free(p->prev);
	*p = (struct run_progress){ 0 };
}
