/* export.c: JSON, CSV and JUnit exports of one run (KCIDB: export_kcidb.c), read through the store's named
 * readers (store.h). */
#define _GNU_SOURCE
#include "report/export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "configs/configs.h"
#include "analysis/compare.h"
#include "util.h"

struct json_object *export_text(const char *t)
{
	char *fixed;
	struct json_object *o;

	if (!t)
		return NULL;
	fixed = vb_utf8_fix(t);
	o = json_object_new_string(fixed ? fixed : t);
	free(fixed);
	return o;
}

/* A number, or null where none was stored (NAN). */
static struct json_object *jnum(double v)
{
	return isnan(v) ? NULL : json_object_new_double(v);
}

/* A whole number (a count, an index, an exit code), or null where none was stored (NAN). */
static struct json_object *jint(double v)
{
	return isnan(v) ? NULL : json_object_new_int64((long long)v);
}

/* A stored row's columns as one object, by column name; NULL columns left out. */
static struct json_object *row_object(int ncols, const char *const *names, const struct store_value *values)
{
	struct json_object *o = json_object_new_object();

	for (int c = 0; c < ncols; c++) {
		switch (values[c].type) {
		case STORE_INT:
			json_object_object_add(o, names[c], json_object_new_int64(values[c].i));
			break;
		case STORE_REAL:
			json_object_object_add(o, names[c], json_object_new_double(values[c].d));
			break;
		case STORE_TEXT:
			json_object_object_add(o, names[c], export_text(values[c].t));
			break;
		default:
			break;
		}
	}
	return o;
}

/* The JSON export's jobs as store_run_jobs reports them: the array, and the job being filled. */
struct json_jobs {
	struct json_object *jobs, *job, *metrics, *subtests;
};

static void add_job(void *ctx, const struct store_job_full *r)
{
	struct json_jobs *x = ctx;
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "config", export_text(r->config));
	json_object_object_add(j, "guests", jint(r->topology));
	json_object_object_add(j, "guest", jint(r->guest_index));
	json_object_object_add(j, "workload", export_text(r->workload));
	json_object_object_add(j, "repetition", jint(r->repetition));
	json_object_object_add(j, "status", export_text(r->status));
	json_object_object_add(j, "reason", export_text(r->reason));
	json_object_object_add(j, "accel", export_text(r->accel));
	json_object_object_add(j, "renderer", export_text(r->renderer));
	json_object_object_add(j, "wall_s", jnum(r->wall_s));
	json_object_object_add(j, "user_s", jnum(r->user_s));
	json_object_object_add(j, "sys_s", jnum(r->sys_s));
	json_object_object_add(j, "maxrss_kb", jint(r->maxrss_kb));
	json_object_object_add(j, "exit_code", jint(r->exit_code));
	json_object_object_add(j, "log", export_text(r->log_path));
	json_object_object_add(j, "finished_at", export_text(r->finished_at));
	x->metrics = json_object_new_object();
	json_object_object_add(j, "metrics", x->metrics);
	x->subtests = NULL;
	x->job = j;
	json_object_array_add(x->jobs, j);
}

static void add_metric(void *ctx, const char *name, double value, const char *unit, const char *direction)
{
	struct json_jobs *x = ctx;
	struct json_object *v = json_object_new_object();

	json_object_object_add(v, "value", jnum(value));
	json_object_object_add(v, "unit", export_text(unit));
	json_object_object_add(v, "direction", export_text(direction));
	json_object_object_add(x->metrics, name, v);
}

/* A job's subtests as one object "subtests", present only when it has any. */
static void add_subtest(void *ctx, const char *name, const char *status)
{
	struct json_jobs *x = ctx;

	if (!x->subtests) {
		x->subtests = json_object_new_object();
		json_object_object_add(x->job, "subtests", x->subtests);
	}
	json_object_object_add(x->subtests, name, export_text(status));
}

/* A per-job table's row (store_job_details) into the job's JSON: job_stages as an array "stages", the others as one
 * object each under the table's name; NULL columns left out. */
static void add_detail(void *ctx, const char *table, int ncols, const char *const *names,
		       const struct store_value *values)
{
	struct json_jobs *x = ctx;
	struct json_object *o = row_object(ncols, names, values), *arr;

	if (strcmp(table, "job_stages") != 0) {
		json_object_object_add(x->job, table, o);
		return;
	}
	if (!json_object_object_get_ex(x->job, "stages", &arr)) {
		arr = json_object_new_array();
		json_object_object_add(x->job, "stages", arr);
	}
	json_object_array_add(arr, o);
}

/* A calibration run's rows (vgpubench calibrate) as "calibration": what each row caught. 0, or -1. */
static int add_calibration(struct store *st, const char *run, struct json_object *root)
{
	struct calibration_row *rows;
	size_t n;
	struct json_object *a;

	if (store_calibration_get(st, run, &rows, &n) < 0)
		return -1;
	if (!n) {
		free(rows);
		return 0;
	}
	a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct calibration_row *r = &rows[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "workload", export_text(r->workload));
		json_object_object_add(o, "metric", export_text(r->metric));
		json_object_object_add(o, "config", export_text(r->config));
		json_object_object_add(o, "guests", json_object_new_int(r->topology));
		json_object_object_add(o, "dom0", json_object_new_boolean(r->dom0));
		json_object_object_add(o, "injected", r->injected[0] ? export_text(r->injected) : NULL);
		json_object_object_add(o, "aa_pairs", json_object_new_int(r->aa_pairs));
		json_object_object_add(o, "aa_flagged", json_object_new_int(r->aa_flagged));
		json_object_object_add(o, "ab_pairs", json_object_new_int(r->ab_pairs));
		json_object_object_add(o, "ab_detected", json_object_new_int(r->ab_detected));
		json_object_object_add(o, "change_pct", jnum(r->change_pct));
		json_object_object_add(o, "detectable_pct", jnum(r->detectable_pct));
		json_object_array_add(a, o);
	}
	free(rows);
	json_object_object_add(root, "calibration", a);
	return 0;
}

/* A host fact (key, value) into the JSON's "host". */
static void add_fact(void *ctx, const char *const *cols)
{
	char *key = vb_utf8_fix(cols[0]);

	json_object_object_add(ctx, key ? key : cols[0], export_text(cols[1]));
	free(key);
}

/* A configuration (name, status, reason; no reason: null) into the JSON's "configs". */
static void add_config(void *ctx, const char *const *cols)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "name", export_text(cols[0]));
	json_object_object_add(c, "status", export_text(cols[1]));
	json_object_object_add(c, "reason", cols[2][0] ? export_text(cols[2]) : NULL);
	json_object_array_add(ctx, c);
}

/* A guest's row (store_run_table "guests") into the JSON's "guests". */
static void add_guest(void *ctx, long long id, int ncols, const char *const *names, const struct store_value *values)
{
	(void)id;
	json_object_array_add(ctx, row_object(ncols, names, values));
}

/* The scenario jobs' rows being exported, and the first failure to read one's samples. */
struct json_scenarios {
	struct store *st;
	struct json_object *rows;
	int failed;
};

/* A scenario job (store_run_table "scenario_jobs") into the JSON's "scenario_jobs", with its samples as
 * "samples": [[t_s, gpu_ms, frames], ...] when it has any. */
static void add_scenario(void *ctx, long long id, int ncols, const char *const *names,
			 const struct store_value *values)
{
	struct json_scenarios *x = ctx;
	struct json_object *o = row_object(ncols, names, values), *samples;
	double *t = NULL, *gpu = NULL, *frames = NULL;
	size_t n = 0;

	json_object_array_add(x->rows, o);
	if (x->failed || store_scenario_samples(x->st, id, &t, &gpu, &frames, &n) < 0) {
		x->failed = 1;
		return;
	}
	if (n) {
		samples = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			struct json_object *sample = json_object_new_array();

			json_object_array_add(sample, json_object_new_double(t[i]));
			json_object_array_add(sample, json_object_new_double(gpu[i]));
			json_object_array_add(sample, json_object_new_double(frames[i]));
			json_object_array_add(samples, sample);
		}
		json_object_object_add(o, "samples", samples);
	}
	free(t);
	free(gpu);
	free(frames);
}

/* The run's guests and scenario jobs, as "guests" and "scenario_jobs". 0, or -1 (said). */
static int add_run_tables(struct store *st, const char *run, struct json_object *root)
{
	struct json_object *guests = json_object_new_array();
	struct json_scenarios sc = { st, json_object_new_array(), 0 };

	json_object_object_add(root, "guests", guests);
	json_object_object_add(root, "scenario_jobs", sc.rows);
	if (store_run_table(st, run, "guests", add_guest, guests) < 0 ||
	    store_run_table(st, run, "scenario_jobs", add_scenario, &sc) < 0)
		return -1;
	return sc.failed ? -1 : 0;
}

static int export_json(struct store *st, const char *run, FILE *out)
{
	struct json_object *root = json_object_new_object(), *host = json_object_new_object(), *r;
	struct json_object *configs = json_object_new_array();
	struct json_jobs x = { .jobs = json_object_new_array() };
	struct store_job_fns fns = { add_job, add_metric, add_subtest, add_detail };
	struct store_run_row row;
	int rc = store_run_row_get(st, run, &row);

	if (rc == 1)
		vb_err("no run '%s'", run);
	if (rc != 0)
		goto fail; /* said */
	/* What this file is, and the store it came from (the one field a copy in another store changes). */
	r = json_object_new_object();
	json_object_object_add(r, "name", json_object_new_string(EXPORT_SCHEMA_NAME));
	json_object_object_add(r, "version", json_object_new_int(EXPORT_SCHEMA_VERSION));
	json_object_object_add(root, "schema", r);
	json_object_object_add(root, "store", json_object_new_string(store_kind(st)));
	r = json_object_new_object();
	json_object_object_add(r, "id", export_text(row.id));
	json_object_object_add(r, "plan", export_text(row.plan));
	json_object_object_add(r, "host", export_text(row.host));
	json_object_object_add(r, "status", export_text(row.status));
	json_object_object_add(r, "started_at", export_text(row.started_at));
	json_object_object_add(r, "finished_at", export_text(row.finished_at));
	json_object_object_add(r, "dir", export_text(row.dir));
	json_object_object_add(r, "reason", export_text(row.reason));
	json_object_object_add(r, "plan_path", export_text(row.plan_path));
	json_object_object_add(r, "plan_text", export_text(row.plan_text));
	json_object_object_add(root, "run", r);

	if (store_host_facts(st, run, add_fact, host) < 0 || store_configs(st, run, add_config, configs) < 0)
		goto fail;
	json_object_object_add(root, "host", host);
	host = NULL;
	json_object_object_add(root, "configs", configs);
	configs = NULL;
	if (store_run_jobs(st, run, &fns, &x) < 0)
		goto fail;
	json_object_object_add(root, "jobs", x.jobs);
	x.jobs = NULL;
	if (add_run_tables(st, run, root) < 0 || add_calibration(st, run, root) < 0)
		goto fail;
	fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	store_run_row_free(&row);
	return 0;
fail: /* every failure above was said by the store, or here */
	json_object_put(root);
	json_object_put(host);
	json_object_put(configs);
	json_object_put(x.jobs);
	store_run_row_free(&row);
	return -1;
}

/* RFC 4180: quote a field that holds a comma, quote or line break. */
static void csv_field(FILE *out, const char *text, int last)
{
	char *fixed = vb_utf8_fix(text);
	const char *s = fixed ? fixed : text ? text : "";

	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	} else {
		fputs(s, out);
	}
	free(fixed);
	fputs(last ? "\r\n" : ",", out);
}

static void csv_row(void *ctx, const struct store_metric_row *r)
{
	FILE *out = ctx;
	char topology[16], guest[16], rep[16], value[64];

	snprintf(topology, sizeof(topology), "%d", r->topology);
	snprintf(guest, sizeof(guest), "%d", r->guest_index);
	snprintf(rep, sizeof(rep), "%d", r->repetition);
	if (!isnan(r->value))
		snprintf(value, sizeof(value), "%.17g", r->value);
	csv_field(out, r->run, 0);
	csv_field(out, r->workload, 0);
	csv_field(out, r->config, 0);
	csv_field(out, topology, 0);
	csv_field(out, guest, 0);
	csv_field(out, rep, 0);
	csv_field(out, r->status, 0);
	csv_field(out, r->renderer, 0);
	csv_field(out, r->metric, 0);
	csv_field(out, isnan(r->value) ? NULL : value, 0);
	csv_field(out, r->unit, 0);
	csv_field(out, r->direction, 1);
}

static int export_csv(struct store *st, const char *run, FILE *out)
{
	static const char *const head[] = { "run",	"workload", "config", "guests", "guest", "repetition",
					    "status",	"renderer", "metric", "value",	"unit",	 "direction" };

	for (int i = 0; i < 12; i++)
		csv_field(out, head[i], i == 11);
	return store_metric_rows(st, run, csv_row, out); /* a failure is said by the store */
}

struct tc {
	char classname[160], name[64];
	char failure[1024];
	char error[512]; /* the run itself did not finish */
	char skip[512];	 /* why it was skipped */
	int skipped;
};

/* A new, zeroed testcase at the end of *tcs. */
static struct tc *tc_add(struct tc **tcs, size_t *n)
{
	struct tc *t = realloc(*tcs, (*n + 1) * sizeof(**tcs));

	if (!t)
		abort();
	*tcs = t;
	t = &t[(*n)++];
	memset(t, 0, sizeof(*t));
	return t;
}

/* The JUnit export's testcases as they are collected, with the comparison against the previous run (if any). */
struct junit {
	struct tc *tcs;
	size_t n;
	int failures, skipped, errors;
	struct comparison c;
	int have_cmp;
};

/* A configuration the host could not run: skipped, with the reason. */
static void junit_config(void *ctx, const char *const *cols)
{
	struct junit *J = ctx;
	struct tc *t;

	if (strcmp(cols[1], "skipped") != 0)
		return;
	t = tc_add(&J->tcs, &J->n);
	snprintf(t->classname, sizeof(t->classname), "config.%s", cols[0]);
	snprintf(t->name, sizeof(t->name), "host check");
	snprintf(t->skip, sizeof(t->skip), "%s", cols[2]);
	t->skipped = 1;
	J->skipped++;
}

/* A workload x configuration x guest count: failing on failed jobs and on regressions against the previous run. */
static void junit_group(void *ctx, const struct store_job_group *g)
{
	struct junit *J = ctx;
	struct tc *t = tc_add(&J->tcs, &J->n);

	snprintf(t->classname, sizeof(t->classname), "%s.%s", g->workload, g->config);
	snprintf(t->name, sizeof(t->name), g->topology ? "guests=%d" : "host", g->topology);
	if (g->failed > 0)
		snprintf(t->failure, sizeof(t->failure), "%d of %d jobs failed; first: %s", g->failed, g->jobs,
			 g->first_failure);
	if (g->skipped == g->jobs) {
		/* Every job skipped itself (e.g. no KMS device here). */
		snprintf(t->skip, sizeof(t->skip), "%s", g->skip_reason);
		t->skipped = 1;
		J->skipped++;
	}
	for (size_t i = 0; J->have_cmp && i < J->c.nrows; i++) {
		const struct compare_row *r = &J->c.rows[i];
		size_t used = strlen(t->failure);

		if (r->verdict != V_REGRESSION || strcmp(r->cur->workload, g->workload) ||
		    strcmp(r->cur->config, g->config) || r->cur->topology != g->topology)
			continue;
		snprintf(t->failure + used, sizeof(t->failure) - used, "%sregression vs %s: %s %+.1f%% (p=%.3g)",
			 used ? "; " : "", J->c.base, r->cur->metric, r->change_pct, r->p);
	}
	J->failures += t->failure[0] != '\0';
	if (t->failure[0] && t->skipped) {
		t->skipped = 0; /* a regression outranks a skip */
		J->skipped--;
	}
}

/* A piglit test: a testcase of its own, with its worst status over repetitions and guests. */
static void junit_subtest(void *ctx, const char *config, int topology, const char *name, const char *sts)
{
	struct junit *J = ctx;
	struct tc *t = tc_add(&J->tcs, &J->n);

	snprintf(t->classname, sizeof(t->classname), "piglit.%s.%d", config, topology);
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (strstr(sts, "fail") || strstr(sts, "crash") || strstr(sts, "timeout")) {
		snprintf(t->failure, sizeof(t->failure), "status: %s", sts);
		J->failures++;
	} else if (!strstr(sts, "pass") && !strstr(sts, "warn")) {
		t->skipped = 1;
		J->skipped++;
	}
}

static int export_junit(struct store *st, const char *run, FILE *out)
{
	struct junit J = { 0 };
	struct compare_opts o = { .threshold_pct = 5, .alpha = 0.05 };
	struct store_run_row row;
	struct tc *tcs;
	size_t n;
	int failures, skipped, errors, rc = store_run_row_get(st, run, &row);
	char base[STORE_RUN_ID_MAX];

	if (rc == 1)
		vb_err("no run '%s'", run);
	if (rc != 0) {
		store_run_row_free(&row);
		return -1; /* said */
	}
	/* A run that did not complete is an error of its own, whatever its jobs say. */
	if (!row.status || strcmp(row.status, "complete") != 0) {
		struct tc *t = tc_add(&J.tcs, &J.n);
		char *why = store_run_reason(st, run);

		snprintf(t->classname, sizeof(t->classname), "vgpubench.run");
		snprintf(t->name, sizeof(t->name), "completion");
		snprintf(t->error, sizeof(t->error), "the run is %s%s%s", row.status ? row.status : "of no status",
			 why ? ": " : "", why ? why : "");
		free(why);
		J.errors++;
	}
	store_run_row_free(&row);
	/* Regressions against the previous comparable run, when there is one. */
	J.have_cmp = series_previous_run(st, run, base, sizeof(base)) == 0 && compare_build(st, run, base, &o, &J.c) == 0;
	if (store_configs(st, run, junit_config, &J) < 0 ||
	    store_job_groups(st, run, config_baseline(), junit_group, &J) < 0 || /* the baseline first */
	    store_subtest_statuses(st, run, junit_subtest, &J) < 0) {
		free(J.tcs);
		if (J.have_cmp)
			compare_free(&J.c);
		return -1; /* said by the store */
	}
	tcs = J.tcs;
	n = J.n;
	failures = J.failures;
	skipped = J.skipped;
	errors = J.errors;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<testsuites name=\"vgpubench\" tests=\"%zu\" failures=\"%d\" errors=\"%d\">\n", n, failures,
		errors);
	fprintf(out, "  <testsuite name=\"");
	vb_xml_escape(out, run);
	fprintf(out, "\" tests=\"%zu\" failures=\"%d\" errors=\"%d\" skipped=\"%d\">\n", n, failures, errors, skipped);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "    <testcase classname=\"");
		vb_xml_escape(out, tcs[i].classname);
		fprintf(out, "\" name=\"");
		vb_xml_escape(out, tcs[i].name);
		if (!tcs[i].failure[0] && !tcs[i].skipped && !tcs[i].error[0]) {
			fprintf(out, "\"/>\n");
			continue;
		}
		fprintf(out, "\">\n");
		if (tcs[i].error[0]) {
			fprintf(out, "      <error message=\"");
			vb_xml_escape(out, tcs[i].error);
			fprintf(out, "\"/>\n");
		} else if (tcs[i].skipped) {
			fprintf(out, "      <skipped%s", tcs[i].skip[0] ? " message=\"" : "/>\n");
			if (tcs[i].skip[0]) {
				vb_xml_escape(out, tcs[i].skip);
				fprintf(out, "\"/>\n");
			}
		} else {
			fprintf(out, "      <failure message=\"");
			vb_xml_escape(out, tcs[i].failure);
			fprintf(out, "\"/>\n");
		}
		fprintf(out, "    </testcase>\n");
	}
	fprintf(out, "  </testsuite>\n</testsuites>\n");
	free(tcs);
	if (J.have_cmp)
		compare_free(&J.c);
	return 0;
}

int export_run(struct store *st, const char *run, const char *format, FILE *out)
{
	if (!store_run_exists(st, run)) {
		vb_err("no run '%s'", run);
		return -1;
	}
	if (strcmp(format, "json") == 0)
		return export_json(st, run, out);
	if (strcmp(format, "csv") == 0)
		return export_csv(st, run, out);
	if (strcmp(format, "junit") == 0)
		return export_junit(st, run, out);
	if (strcmp(format, "kcidb") == 0)
		return export_kcidb(st, run, out);
	vb_err("unknown export format '%s' (json, csv, junit or kcidb)", format);
	return -1;
}
