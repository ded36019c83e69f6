/* arms.c: the arms of an interleaved run (a baseline mediator, a slowed-down host): their runs created or
 * loaded, checked, and which arm runs what, in which turn. */
#define _GNU_SOURCE
#include "run/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/run_state.h"
#include "store/store.h"
#include "util.h"

/* Make arm k the current one: its jobs, facts and logs go to its run, its boots start its mediator and slowdown. */
void run_arm_enter(struct run *r, int k)
{
	const struct arm *a = &r->arms[k];

	snprintf(r->id, sizeof(r->id), "%s", a->id);
	snprintf(r->dir, sizeof(r->dir), "%s", a->dir);
	snprintf(r->mediator, sizeof(r->mediator), "%s", a->mediator);
	r->slowdown_pct = a->slowdown_pct;
	r->plan.med.throttle_pct = a->slowdown_pct;
	r->arm = k;
}

/* Does arm k run configuration c? The run's own arm runs all; another one those it changes, or all. */
int run_arm_runs(const struct run *r, int k, const struct config_def *c)
{
	const struct arm *a = &r->arms[k], *own = &r->arms[0];

	return k == 0 || !a->changed_only || (c->starts_mediator && a->names_mediator) ||
	       (c->slowdown && a->slowdown_pct != own->slowdown_pct);
}

/* The arm that takes turn j of block b (1-based): the order rotates from block to block, so over narms blocks each
 * arm goes once in each place (a Latin square: drift within a block does not favour one arm). */
int run_arm_at(const struct run *r, int b, int j)
{
	return (b - 1 + j) % r->narms;
}

/* The current arm's slowdown: asked for (pct, a new run) or recorded (a resumed one); the mediator's throttle follows
 * it. 0, or -1 when it could not be recorded. */
int run_set_slowdown(struct run *r, int resumed, int pct)
{
	char *fact;

	if (resumed) {
		fact = store_host_fact_get(&r->store, r->id, RUNNER_SLOWDOWN_FACT);
		r->slowdown_pct = fact ? atoi(fact) : 0;
		free(fact);
	} else if (pct > 0) {
		r->slowdown_pct = pct;
		fact = vb_strdupf("%d%%: a mediator's --throttle %d (mediated rows), a CPU quota of %d%% of the host's "
				  "CPUs (native rows); configurations without a knob as they are",
				  r->slowdown_pct, r->slowdown_pct, 100 - r->slowdown_pct);
		int rc = store_host_fact(&r->store, r->id, RUNNER_SLOWDOWN_FACT, fact);

		free(fact);
		if (!run_stored(r, rc, "a host fact"))
			return -1;
	}
	r->plan.med.throttle_pct = r->slowdown_pct;
	r->arms[r->arm].slowdown_pct = r->slowdown_pct;
	if (r->slowdown_pct)
		vb_log("run %s: a %d%% slowdown is injected on purpose (%s)", r->id, r->slowdown_pct, RUNNER_SLOWDOWN_FACT);
	return 0;
}

/* The mediator arm a starts: its own (checked: it must run), or this build's. 0, or -1 with a message. */
static int check_arm_mediator(const struct run_arm *ra, struct arm *a)
{
	a->names_mediator = ra->mediator != NULL;
	if (!ra->mediator)
		return 0; /* arms[0]'s, copied by the caller */
	struct stat st;

	if (!realpath(ra->mediator, a->mediator) || stat(a->mediator, &st) < 0 || access(a->mediator, X_OK) < 0) {
		vb_err("the mediator %s of an interleaved arm cannot be run: %s", ra->mediator, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		vb_err("the mediator %s of an interleaved arm is not a program (a file): it is a %s", ra->mediator,
		       S_ISDIR(st.st_mode) ? "folder" : "special file");
		return -1;
	}
	return 0;
}

/* Does arm k run anything of the plan: a configuration, or the scenarios (which run on the mediator)? */
static int arm_runs_any(const struct run *r, int k)
{
	const struct config_def *m = config_with_role(ROLE_MEDIATED);

	for (int i = 0; i < r->plan.nconfigs; i++)
		if (run_arm_runs(r, k, config_find(r->plan.configs[i])))
			return 1;
	return r->plan.nscenarios && m && run_arm_runs(r, k, m);
}

/* Can the arms o asks for run (how many, their mediators)? Checked before the run is created: 1, or 0 with a
 * message. */
int run_arms_valid(struct run *r, const struct run_opts *o)
{
	if (o->narms < 0 || o->narms > RUN_MAX_ARMS - 1) {
		vb_err("a run interleaves at most %d arms besides its own (asked for %d)", RUN_MAX_ARMS - 1, o->narms);
		return 0;
	}
	for (int i = 0; i < o->narms; i++) {
		struct arm *a = &r->arms[i + 1];

		if (check_arm_mediator(&o->arms[i], a) < 0)
			return 0;
		a->slowdown_pct = o->arms[i].slowdown_pct;
		a->changed_only = o->arms[i].changed_only;
		/* An arm that would run nothing compares nothing: say so before anything runs. */
		if (!arm_runs_any(r, i + 1)) {
			vb_err("interleaved arm %d (%s) changes nothing plan %s runs: it needs a configuration that starts "
			       "the mediator%s",
			       i + 1, a->names_mediator ? o->arms[i].mediator : "a slowdown", r->plan.name,
			       a->names_mediator ? " (mediated, or a scenario)" : " or is slowed down");
			return 0;
		}
	}
	return 1;
}

/* The arms of a new interleaved run (o->arms): each a run of its own, plan `base` + its suffix, named in the run's
 * host facts and naming the run in its own. 0, or -1 with a message. */
int run_create_arms(struct run *r, const struct run_opts *o, const char *base, const char *plan_path,
		    const char *plan_text)
{
	for (int i = 0; i < o->narms; i++) {
		const struct run_arm *ra = &o->arms[i];
		struct arm *a = &r->arms[i + 1];
		char *name, *key, *fact;
		int rc;

		/* arms_valid checked its mediator already */
		if (!a->names_mediator)
			snprintf(a->mediator, sizeof(a->mediator), "%s", r->arms[0].mediator);
		a->slowdown_pct = ra->slowdown_pct;
		a->changed_only = ra->changed_only;
		name = vb_strdupf("%s%s", base, ra->name_suffix ? ra->name_suffix : "-arm");
		if (strlen(name) >= sizeof(r->plan.name)) {
			vb_err("plan name %s is too long", name);
			free(name);
			return -1;
		}
		rc = run_create(r, a, name, plan_path, plan_text);
		free(name);
		if (rc < 0)
			return -1;
		r->narms++;
		if (ra->id_out)
			snprintf(ra->id_out, ra->id_len, "%s", a->id);
		key = vb_strdupf("%s %d", RUNNER_ARM_FACT, i + 1);
		fact = vb_strdupf("%s (%s)", a->id,
				  a->changed_only ? "only the configurations it changes" : "every configuration");
		rc = store_host_fact(&r->store, r->arms[0].id, key, fact) < 0 ||
		     store_host_fact(&r->store, a->id, RUNNER_ARM_OF_FACT, r->arms[0].id) < 0 ||
		     (a->names_mediator && store_host_fact(&r->store, a->id, RUNNER_ARM_MEDIATOR_FACT, a->mediator) < 0);
		free(key);
		free(fact);
		if (!rc && ra->compare_threshold_pct > 0) {
			fact = vb_strdupf("%g", ra->compare_threshold_pct);
			rc = store_host_fact(&r->store, a->id, RUNNER_ARM_THRESHOLD_FACT, fact) < 0;
			free(fact);
		}
		if (rc) {
			vb_err("cannot record the interleaved arm %s: %s", a->id, r->store.err);
			return -1;
		}
		vb_log("run %s: interleaved with run %s (mediator %s%s)", r->arms[0].id, a->id, a->mediator,
		       a->changed_only ? "; only the configurations it changes" : "");
	}
	return 0;
}

/* The arms of a resumed run, from its host facts. 0, or -1 with a message. */
int run_load_arms(struct run *r)
{
	for (int k = 1; k < RUN_MAX_ARMS; k++) {
		char *ppath = NULL, *ptext = NULL, *pdir = NULL, *status = NULL, *med = NULL;
		struct arm *a = &r->arms[k];
		int rc = -1;

		if (!runner_arm_id(&r->store, r->id, k, a->id, sizeof(a->id), &a->changed_only))
			return 0;
		if (!vb_is_identifier(a->id) || store_run_load(&r->store, a->id, &ppath, &ptext, &pdir, &status) < 0) {
			vb_err("run %s names an interleaved arm '%s' the database does not hold", r->id, a->id);
		} else if (run_dir_of(r, pdir, a->dir, sizeof(a->dir)) == 0) {
			med = store_host_fact_get(&r->store, a->id, RUNNER_ARM_MEDIATOR_FACT);
			a->names_mediator = med != NULL; /* none: it starts this build's */
			snprintf(a->mediator, sizeof(a->mediator), "%s", med ? med : r->arms[0].mediator);
			r->narms++;
			rc = 0;
		}
		free(ppath);
		free(ptext);
		free(pdir);
		free(status);
		free(med);
		if (rc < 0)
			return -1;
	}
	return 0;
}
