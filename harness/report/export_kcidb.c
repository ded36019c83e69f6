/* export_kcidb.c: a run as KernelCI's KCIDB I/O schema version 5 (kcidb-io, v5.3), so that a lab that feeds KCIDB
 * can send it there: one checkout and one build for the run (the stack it ran on), and a test per metric of each
 * job (status DONE with its number), per piglit subtest (PASS, FAIL, ERROR or SKIP), and per job that produced no
 * metric (its own status). Host, GPU, kernel, QEMU, Mesa and virglrenderer go in each test's environment. The
 * schema's rules this follows: every id starts with the origin and a colon, origins are [a-z0-9_]+, test paths
 * are dot-separated [a-zA-Z0-9_-]+ parts, no property is null, only the schema's properties are used (the rest
 * goes under "misc"). */
#define _GNU_SOURCE
#include "report/export.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "util.h"

/* The schema version written. */
#define KCIDB_MAJOR 5
#define KCIDB_MINOR 3

/* Add key: value to o unless value is NULL: the schema allows no nulls, an unknown is left out. */
static void put(struct json_object *o, const char *key, struct json_object *value)
{
	if (value)
		json_object_object_add(o, key, value);
}

/* Append name to a test path as one or more of its parts: '.', '@' and '/' separate parts (piglit's names use
 * '@'), letters, digits, '_' and '-' are kept, anything else becomes '_'; no part is empty. */
static void path_add(char *path, size_t len, const char *name)
{
	size_t n = strlen(path);

	if (n && n + 1 < len && path[n - 1] != '.')
		path[n++] = '.';
	for (const unsigned char *p = (const unsigned char *)name; *p && n + 1 < len; p++) {
		if (*p == '.' || *p == '@' || *p == '/') {
			if (n && path[n - 1] != '.')
				path[n++] = '.';
		} else {
			path[n++] = isalnum(*p) || *p == '_' || *p == '-' ? (char)*p : '_';
		}
	}
	while (n && path[n - 1] == '.')
		n--;
	path[n] = '\0';
}

/* Everything the tests are made of while the run's jobs are read. */
struct kcidb {
	const char *origin, *run;
	char build_id[320];
	struct json_object *tests;
	struct json_object *env_misc; /* the host's facts that describe where every test ran, and */
	const char *comment;          /* them in words */
	int have_job;                 /* job holds the job being read (its text in text[]), with */
	struct store_job_full job;
	char text[6][512];
	char scope[64];        /* its config and guest count, as a path part */
	int metrics, subtests; /* what it had */
};

/* A new test of the current job: id origin:run:config:guests:guest:repetition:workload[:what], its path
 * workload.config.scope[.what], the environment, the job's place as misc. */
static struct json_object *test_new(struct kcidb *k, const char *what, const char *status)
{
	const struct store_job_full *j = &k->job;
	struct json_object *t = json_object_new_object(), *env = json_object_new_object(), *misc;
	char *id, path[512] = "";

	id = vb_strdupf("%s:%s:%s:%d:%d:%d:%s%s%s", k->origin, k->run, j->config, (int)j->topology,
			(int)j->guest_index, (int)j->repetition, j->workload, what ? ":" : "", what ? what : "");
	path_add(path, sizeof(path), j->workload);
	path_add(path, sizeof(path), j->config);
	path_add(path, sizeof(path), k->scope);
	if (what)
		path_add(path, sizeof(path), what);
	put(t, "id", export_text(id));
	free(id);
	put(t, "build_id", json_object_new_string(k->build_id));
	put(t, "origin", json_object_new_string(k->origin));
	put(t, "path", json_object_new_string(path));
	put(t, "status", json_object_new_string(status));
	if (!isnan(j->wall_s))
		put(t, "duration", json_object_new_double(j->wall_s));
	misc = NULL;
	if (json_object_deep_copy(k->env_misc, &misc, NULL) < 0)
		abort();
	put(env, "misc", misc);
	put(env, "comment", export_text(k->comment));
	put(t, "environment", env);
	misc = json_object_new_object();
	put(misc, "config", export_text(j->config));
	put(misc, "guests", json_object_new_int((int)j->topology));
	put(misc, "guest", json_object_new_int((int)j->guest_index));
	put(misc, "repetition", json_object_new_int((int)j->repetition));
	put(misc, "accel", export_text(j->accel));
	put(misc, "renderer", export_text(j->renderer));
	put(misc, "job_status", export_text(j->status));
	put(t, "misc", misc);
	json_object_array_add(k->tests, t);
	return t;
}

/* The status of a job as KCIDB's: ok PASS, skipped SKIP, failed or timed out ERROR (the workload did not
 * complete: the tested stack's state is unknown). */
static const char *job_status(const char *status)
{
	if (!status)
		return "ERROR";
	if (!strcmp(status, "ok"))
		return "PASS";
	if (!strcmp(status, "skipped"))
		return "SKIP";
	return "ERROR";
}

/* A job with no metric and no subtest is a test of its own, with its status (and reason as the comment). */
static void job_done(struct kcidb *k)
{
	struct json_object *t;

	if (!k->have_job || k->metrics || k->subtests)
		return;
	t = test_new(k, NULL, job_status(k->job.status));
	put(t, "comment", export_text(k->job.reason));
}

static void on_job(void *ctx, const struct store_job_full *j)
{
	struct kcidb *k = ctx;

	const char *src[6] = { j->config, j->workload, j->status, j->reason, j->accel, j->renderer };

	job_done(k); /* the previous one */
	k->metrics = k->subtests = 0;
	if (j->topology == 0)
		snprintf(k->scope, sizeof(k->scope), "host");
	else
		snprintf(k->scope, sizeof(k->scope), "guests%d%s", (int)j->topology,
			 j->guest_index == 0 ? "_dom0" : "");
	/* The job's row is valid during this call only: keep what its tests need. */
	k->job = *j;
	for (int i = 0; i < 6; i++)
		snprintf(k->text[i], sizeof(k->text[i]), "%s", src[i] ? src[i] : "");
	k->job.config = k->text[0];
	k->job.workload = k->text[1];
	k->job.status = k->text[2];
	k->job.reason = src[3] ? k->text[3] : NULL;
	k->job.accel = src[4] ? k->text[4] : NULL;
	k->job.renderer = src[5] ? k->text[5] : NULL;
	k->job.log_path = k->job.finished_at = NULL;
	k->have_job = 1;
}

/* A metric: a test with status DONE and its number; a dimensionless score carries no unit. */
static void on_metric(void *ctx, const char *name, double value, const char *unit, const char *direction)
{
	struct kcidb *k = ctx;
	struct json_object *t, *num, *misc;

	k->metrics++;
	if (isnan(value))
		return;
	t = test_new(k, name, "DONE");
	num = json_object_new_object();
	put(num, "value", json_object_new_double(value));
	if (unit && *unit && strcmp(unit, "score") != 0)
		put(num, "unit", export_text(unit));
	put(t, "number", num);
	if (json_object_object_get_ex(t, "misc", &misc))
		put(misc, "better", export_text(direction));
}

/* A piglit subtest: PASS (pass, warn), FAIL (fail, crash: the driver under test failed), ERROR (timeout), or
 * SKIP (skip, notrun). */
static void on_subtest(void *ctx, const char *name, const char *status)
{
	struct kcidb *k = ctx;
	const char *s = "SKIP";

	k->subtests++;
	if (!status)
		return;
	if (!strcmp(status, "pass") || !strcmp(status, "warn"))
		s = "PASS";
	else if (!strcmp(status, "fail") || !strcmp(status, "crash"))
		s = "FAIL";
	else if (!strcmp(status, "timeout"))
		s = "ERROR";
	put(test_new(k, name, s), "comment", export_text(status));
}

static void on_detail(void *ctx, const char *table, int ncols, const char *const *names,
		      const struct store_value *values)
{
	(void)ctx, (void)table, (void)ncols, (void)names, (void)values; /* JSON carries these; KCIDB has no place */
}

/* A host fact into the environment's misc, under its own key. */
static void on_fact(void *ctx, const char *const *cols)
{
	if (cols[1][0])
		put(ctx, cols[0], export_text(cols[1]));
}

/* The origin: VGPUBENCH_KCIDB_ORIGIN (the name KCIDB gave the lab), or "vgpubench". NULL when it breaks the
 * schema's [a-z0-9_]+ (said). */
static const char *origin(void)
{
	const char *o = getenv("VGPUBENCH_KCIDB_ORIGIN");

	if (!o || !*o)
		return "vgpubench";
	for (const char *p = o; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_') {
			vb_err("VGPUBENCH_KCIDB_ORIGIN '%s' is not a KCIDB origin (lower-case letters, digits and '_')",
			       o);
			return NULL;
		}
	return o;
}

/* The environment in words: the host, then each of its facts that was recorded ("host lab1; CPU ...; QEMU ..."),
 * malloc'ed. */
static char *environment_comment(const char *host, struct json_object *facts)
{
	static const char *const shown[][2] = { { "cpu_model", "CPU" },	     { "host_gpu", "GPU" },
						{ "host_kernel", "kernel" }, { "qemu", "QEMU" },
						{ "mesa", "Mesa" },	     { "virglrenderer", "virglrenderer" } };
	char *c = vb_strdupf("host %s", host ? host : "not recorded");

	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		struct json_object *v;
		char *more;

		if (!json_object_object_get_ex(facts, shown[i][0], &v) || !v)
			continue;
		more = vb_strdupf("%s; %s %s", c, shown[i][1], json_object_get_string(v));
		free(c);
		c = more;
	}
	return c;
}

/* The run's build status: complete PASS, failed ERROR, interrupted or still running MISS. */
static const char *run_status(const char *status)
{
	if (status && !strcmp(status, "complete"))
		return "PASS";
	if (status && !strcmp(status, "failed"))
		return "ERROR";
	return "MISS";
}

/* An array of the one object o. */
static struct json_object *one_of(struct json_object *o)
{
	struct json_object *a = json_object_new_array();

	json_object_array_add(a, o);
	return a;
}

/* The run as KCIDB's checkout: what was tested, on which host, under the run's id. */
static struct json_object *checkout_of(const struct kcidb *k, const struct store_run_row *row, const char *comment)
{
	struct json_object *c = json_object_new_object(), *misc = json_object_new_object();

	put(c, "id", json_object_new_string(k->build_id));
	put(c, "origin", json_object_new_string(k->origin));
	put(c, "tree_name", json_object_new_string("vgpubench"));
	put(c, "start_time", export_text(row->started_at));
	put(c, "valid", json_object_new_boolean(1));
	put(c, "comment", export_text(comment));
	put(misc, "run", export_text(k->run));
	put(misc, "plan", export_text(row->plan));
	put(misc, "host", export_text(row->host));
	put(c, "misc", misc);
	return c;
}

/* The run as KCIDB's build of that checkout: its status is the run's. */
static struct json_object *build_of(const struct kcidb *k, const struct store_run_row *row)
{
	struct json_object *b = json_object_new_object(), *misc = json_object_new_object();

	put(b, "id", json_object_new_string(k->build_id));
	put(b, "checkout_id", json_object_new_string(k->build_id));
	put(b, "origin", json_object_new_string(k->origin));
	put(b, "start_time", export_text(row->started_at));
	put(b, "status", json_object_new_string(run_status(row->status)));
	put(b, "comment", export_text(row->reason));
	put(misc, "run_status", export_text(row->status));
	put(misc, "finished_at", export_text(row->finished_at));
	put(b, "misc", misc);
	return b;
}

int export_kcidb(struct store *st, const char *run, FILE *out)
{
	struct kcidb k = { .origin = origin(), .run = run };
	struct store_job_fns fns = { on_job, on_metric, on_subtest, on_detail };
	struct json_object *root, *version;
	struct store_run_row row;
	char *comment;
	int rc;

	if (!k.origin)
		return -1;
	if ((rc = store_run_row_get(st, run, &row)) != 0) {
		if (rc == 1)
			vb_err("no run '%s'", run);
		store_run_row_free(&row);
		return -1;
	}
	snprintf(k.build_id, sizeof(k.build_id), "%s:%s", k.origin, run);
	k.env_misc = json_object_new_object();
	k.tests = json_object_new_array();
	/* Where every test ran, made once: the host's facts and the comment that names them. */
	rc = store_host_facts(st, run, on_fact, k.env_misc);
	put(k.env_misc, "host", export_text(row.host));
	comment = environment_comment(row.host, k.env_misc);
	k.comment = comment;
	if (rc < 0 || store_run_jobs(st, run, &fns, &k) < 0) {
		json_object_put(k.env_misc);
		json_object_put(k.tests);
		free(comment);
		store_run_row_free(&row);
		return -1;
	}
	job_done(&k); /* the last one */

	root = json_object_new_object();
	version = json_object_new_object();
	put(version, "major", json_object_new_int(KCIDB_MAJOR));
	put(version, "minor", json_object_new_int(KCIDB_MINOR));
	put(root, "version", version);
	put(root, "checkouts", one_of(checkout_of(&k, &row, comment)));
	put(root, "builds", one_of(build_of(&k, &row)));
	put(root, "tests", k.tests);
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	json_object_put(k.env_misc);
	free(comment);
	store_run_row_free(&row);
	return 0;
}
