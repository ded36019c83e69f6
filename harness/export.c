/* export.c: JSON, CSV and JUnit exports of one run. */
#define _GNU_SOURCE
#include "export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "configs.h"
#include "compare.h"
#include "util.h"

static const char *txt(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t ? (const char *)t : NULL;
}

/* A text column as JSON, made valid UTF-8 (rows written by older versions may hold any bytes). */
static struct json_object *jtxt(sqlite3_stmt *q, int i)
{
	char *fixed = vb_utf8_fix(txt(q, i));
	struct json_object *o = txt(q, i) ? json_object_new_string(fixed ? fixed : txt(q, i)) : NULL;

	free(fixed);
	return o;
}

static struct json_object *jnum(sqlite3_stmt *q, int i)
{
	if (sqlite3_column_type(q, i) == SQLITE_NULL)
		return NULL;
	return json_object_new_double(sqlite3_column_double(q, i));
}

static const char *const job_cols = "SELECT j.id, j.config, j.topology, j.guest_index, j.workload, j.repetition,"
				    " j.status, j.reason, j.accel, j.renderer, j.wall_s, j.user_s, j.sys_s,"
				    " j.maxrss_kb, j.exit_code, j.log_path FROM jobs j WHERE j.run_id = ?"
				    " ORDER BY j.workload, j.config, j.topology, j.repetition, j.guest_index";

/* A per-job table's row (store_job_details) into the job's JSON: job_stages as an array "stages", the others as one
 * object each under the table's name; NULL columns left out. */
static void add_detail(void *ctx, const char *table, int ncols, const char *const *names, sqlite3_value **values)
{
	struct json_object *job = ctx, *o = json_object_new_object(), *arr;

	for (int c = 0; c < ncols; c++) {
		switch (sqlite3_value_type(values[c])) {
		case SQLITE_INTEGER:
			json_object_object_add(o, names[c], json_object_new_int64(sqlite3_value_int64(values[c])));
			break;
		case SQLITE_FLOAT:
			json_object_object_add(o, names[c], json_object_new_double(sqlite3_value_double(values[c])));
			break;
		case SQLITE_TEXT: {
			char *fixed = vb_utf8_fix((const char *)sqlite3_value_text(values[c]));

			json_object_object_add(o, names[c],
					       json_object_new_string(fixed ? fixed
									    : (const char *)sqlite3_value_text(values[c])));
			free(fixed);
			break;
		}
		default:
			break;
		}
	}
	if (strcmp(table, "job_stages") != 0) {
		json_object_object_add(job, table, o);
		return;
	}
	if (!json_object_object_get_ex(job, "stages", &arr)) {
		arr = json_object_new_array();
		json_object_object_add(job, "stages", arr);
	}
	json_object_array_add(arr, o);
}

/* Text as a JSON string, made valid UTF-8 like jtxt. */
static struct json_object *jstr(const char *t)
{
	char *fixed = vb_utf8_fix(t);
	struct json_object *o = json_object_new_string(fixed ? fixed : t);

	free(fixed);
	return o;
}

static struct json_object *jpct(double v)
{
	return isnan(v) ? NULL : json_object_new_double(v);
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

		json_object_object_add(o, "workload", jstr(r->workload));
		json_object_object_add(o, "metric", jstr(r->metric));
		json_object_object_add(o, "config", jstr(r->config));
		json_object_object_add(o, "guests", json_object_new_int(r->topology));
		json_object_object_add(o, "dom0", json_object_new_boolean(r->dom0));
		json_object_object_add(o, "injected", r->injected[0] ? jstr(r->injected) : NULL);
		json_object_object_add(o, "aa_pairs", json_object_new_int(r->aa_pairs));
		json_object_object_add(o, "aa_flagged", json_object_new_int(r->aa_flagged));
		json_object_object_add(o, "ab_pairs", json_object_new_int(r->ab_pairs));
		json_object_object_add(o, "ab_detected", json_object_new_int(r->ab_detected));
		json_object_object_add(o, "change_pct", jpct(r->change_pct));
		json_object_object_add(o, "detectable_pct", jpct(r->detectable_pct));
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

	json_object_object_add(ctx, key ? key : cols[0], jstr(cols[1]));
	free(key);
}

/* A configuration (name, status, reason; no reason: null) into the JSON's "configs". */
static void add_config(void *ctx, const char *const *cols)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "name", jstr(cols[0]));
	json_object_object_add(c, "status", jstr(cols[1]));
	json_object_object_add(c, "reason", cols[2][0] ? jstr(cols[2]) : NULL);
	json_object_array_add(ctx, c);
}

static int export_json(struct store *st, const char *run, FILE *out)
{
	struct json_object *root = json_object_new_object(), *host = json_object_new_object();
	struct json_object *configs = json_object_new_array(), *jobs = json_object_new_array();
	sqlite3_stmt *q;

	if (sqlite3_prepare_v2(st->db, "SELECT id, plan_name, status, started_at, finished_at, dir FROM runs WHERE id = ?",
			       -1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(q, 1, run, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		vb_err("no run '%s'", run);
		json_object_put(root);
		json_object_put(host);
		json_object_put(configs);
		json_object_put(jobs);
		return -1;
	}
	struct json_object *r = json_object_new_object();
	static const char *const rk[] = { "id", "plan", "status", "started_at", "finished_at", "dir" };

	for (int i = 0; i < 6; i++)
		json_object_object_add(r, rk[i], jtxt(q, i));
	sqlite3_finalize(q);
	json_object_object_add(root, "run", r);

	if (store_host_facts(st, run, add_fact, host) < 0 || store_configs(st, run, add_config, configs) < 0)
		goto fail_said;
	json_object_object_add(root, "host", host);
	host = NULL;
	json_object_object_add(root, "configs", configs);
	configs = NULL;

	sqlite3_stmt *mq, *sq;

	if (sqlite3_prepare_v2(st->db, job_cols, -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT name, value, unit, direction FROM metrics WHERE job_id = ? ORDER BY name",
			       -1, &mq, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT name, status FROM subtests WHERE job_id = ? ORDER BY name", -1, &sq,
			       NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(q, 1, run, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct json_object *j = json_object_new_object(), *m = json_object_new_object();
		static const char *const jk[] = { NULL,	    "config", "guests", "guest",  "workload", "repetition",
						  "status", "reason", "accel",	"renderer", "wall_s",   "user_s",
						  "sys_s",  "maxrss_kb", "exit_code", "log" };

		for (int i = 1; i < 16; i++) {
			int numeric = i == 2 || i == 3 || i == 5 || (i >= 10 && i <= 14);

			json_object_object_add(j, jk[i], numeric ? jnum(q, i) : jtxt(q, i));
		}
		sqlite3_reset(mq);
		sqlite3_bind_int64(mq, 1, sqlite3_column_int64(q, 0));
		while (sqlite3_step(mq) == SQLITE_ROW) {
			struct json_object *v = json_object_new_object();

			json_object_object_add(v, "value", jnum(mq, 1));
			json_object_object_add(v, "unit", jtxt(mq, 2));
			json_object_object_add(v, "direction", jtxt(mq, 3));
			json_object_object_add(m, txt(mq, 0), v);
		}
		json_object_object_add(j, "metrics", m);
		sqlite3_reset(sq);
		sqlite3_bind_int64(sq, 1, sqlite3_column_int64(q, 0));
		struct json_object *subs = NULL;

		while (sqlite3_step(sq) == SQLITE_ROW) {
			if (!subs)
				subs = json_object_new_object();
			json_object_object_add(subs, txt(sq, 0), jtxt(sq, 1));
		}
		if (subs)
			json_object_object_add(j, "subtests", subs);
		json_object_array_add(jobs, j);
		if (store_job_details(st, sqlite3_column_int64(q, 0), add_detail, j) < 0) {
			sqlite3_finalize(q);
			sqlite3_finalize(mq);
			sqlite3_finalize(sq);
			vb_err("%s", st->err);
			json_object_put(root);
			json_object_put(jobs);
			return -1;
		}
	}
	sqlite3_finalize(q);
	sqlite3_finalize(mq);
	sqlite3_finalize(sq);
	json_object_object_add(root, "jobs", jobs);
	if (add_calibration(st, run, root) < 0) { /* said by the store */
		json_object_put(root);
		return -1;
	}
	fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return 0;
fail:
	vb_err("database: %s", sqlite3_errmsg(st->db));
fail_said:
	json_object_put(root);
	json_object_put(host);
	json_object_put(configs);
	json_object_put(jobs);
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

static int export_csv(struct store *st, const char *run, FILE *out)
{
	sqlite3_stmt *q;
	const char *sql = "SELECT j.run_id, j.workload, j.config, j.topology, j.guest_index, j.repetition, j.status,"
			  " j.renderer, m.name, m.value, m.unit, m.direction FROM jobs j"
			  " LEFT JOIN metrics m ON m.job_id = j.id WHERE j.run_id = ?"
			  " ORDER BY j.workload, j.config, j.topology, j.repetition, j.guest_index, m.name";
	static const char *const head[] = { "run",	"workload", "config", "guests", "guest", "repetition",
					    "status",	"renderer", "metric", "value",	"unit",	 "direction" };

	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		vb_err("database: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	sqlite3_bind_text(q, 1, run, -1, SQLITE_TRANSIENT);
	for (int i = 0; i < 12; i++)
		csv_field(out, head[i], i == 11);
	while (sqlite3_step(q) == SQLITE_ROW) {
		for (int i = 0; i < 12; i++) {
			char num[64];
			const char *v = txt(q, i);

			if (i == 9 && sqlite3_column_type(q, i) != SQLITE_NULL) {
				snprintf(num, sizeof(num), "%.17g", sqlite3_column_double(q, i));
				v = num;
			}
			csv_field(out, v, i == 11);
		}
	}
	sqlite3_finalize(q);
	return 0;
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

static int export_junit(struct store *st, const char *run, FILE *out)
{
	sqlite3_stmt *q;
	struct tc *tcs = NULL;
	size_t n = 0;
	int failures = 0, skipped = 0, errors = 0;
	struct comparison c;
	struct compare_opts o = { .threshold_pct = 5, .alpha = 0.05 };
	int have_cmp;
	const char *groups =
	    "SELECT workload, config, topology, count(*), sum(status NOT IN ('ok', 'skipped')),"
	    " (SELECT status || ': ' || coalesce(reason, '') FROM jobs k WHERE k.run_id = j.run_id"
	    "  AND k.workload = j.workload AND k.config = j.config AND k.topology = j.topology"
	    "  AND k.status NOT IN ('ok', 'skipped') LIMIT 1),"
	    " sum(status = 'skipped'),"
	    " (SELECT coalesce(reason, '') FROM jobs k WHERE k.run_id = j.run_id AND k.workload = j.workload"
	    "  AND k.config = j.config AND k.topology = j.topology AND k.status = 'skipped' LIMIT 1)"
	    " FROM jobs j WHERE run_id = ?1 GROUP BY 1, 2, 3 ORDER BY 1, 2 <> ?2, 2, 3";

	/* A run that did not complete is an error of its own, whatever its jobs say. */
	if (sqlite3_prepare_v2(st->db, "SELECT status FROM runs WHERE id = ?", -1, &q, NULL) != SQLITE_OK) {
		vb_err("database: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	sqlite3_bind_text(q, 1, run, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		vb_err("no run '%s'", run);
		return -1;
	}
	if (strcmp(txt(q, 0), "complete") != 0) {
		struct tc *t = tc_add(&tcs, &n);
		char *why = store_run_reason(st, run);

		snprintf(t->classname, sizeof(t->classname), "vgpubench.run");
		snprintf(t->name, sizeof(t->name), "completion");
		snprintf(t->error, sizeof(t->error), "the run is %s%s%s", txt(q, 0), why ? ": " : "", why ? why : "");
		free(why);
		errors++;
	}
	sqlite3_finalize(q);
	/* Configurations the host could not run: skipped, with the reason. */
	if (sqlite3_prepare_v2(st->db,
			       "SELECT name, reason FROM configs WHERE run_id = ? AND status = 'skipped'"
			       " ORDER BY rowid",
			       -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, run, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(q) == SQLITE_ROW) {
			struct tc *t = tc_add(&tcs, &n);

			snprintf(t->classname, sizeof(t->classname), "config.%s", txt(q, 0));
			snprintf(t->name, sizeof(t->name), "host check");
			snprintf(t->skip, sizeof(t->skip), "%s", txt(q, 1) ? txt(q, 1) : "");
			t->skipped = 1;
			skipped++;
		}
		sqlite3_finalize(q);
	}

	/* Regressions against the previous comparable run, when there is one. */
	{
		char base[96];

		have_cmp = series_previous_run(st, run, base, sizeof(base)) == 0 &&
			   compare_build(st, run, base, &o, &c) == 0;
	}
	if (sqlite3_prepare_v2(st->db, groups, -1, &q, NULL) != SQLITE_OK) {
		vb_err("database: %s", sqlite3_errmsg(st->db));
		if (have_cmp)
			compare_free(&c);
		return -1;
	}
	sqlite3_bind_text(q, 1, run, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, config_baseline(), -1, SQLITE_STATIC); /* the baseline first */
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct tc *t = tc_add(&tcs, &n);

		snprintf(t->classname, sizeof(t->classname), "%s.%s", txt(q, 0), txt(q, 1));
		snprintf(t->name, sizeof(t->name), sqlite3_column_int(q, 2) ? "guests=%d" : "host",
			 sqlite3_column_int(q, 2));
		if (sqlite3_column_int(q, 4) > 0)
			snprintf(t->failure, sizeof(t->failure), "%d of %d jobs failed; first: %s",
				 sqlite3_column_int(q, 4), sqlite3_column_int(q, 3), txt(q, 5) ? txt(q, 5) : "");
		if (sqlite3_column_int(q, 6) == sqlite3_column_int(q, 3)) {
			/* Every job skipped itself (e.g. no KMS device here). */
			snprintf(t->skip, sizeof(t->skip), "%s", txt(q, 7) ? txt(q, 7) : "");
			t->skipped = 1;
			skipped++;
		}
		for (size_t i = 0; have_cmp && i < c.nrows; i++) {
			const struct compare_row *r = &c.rows[i];
			size_t used = strlen(t->failure);

			if (r->verdict != V_REGRESSION || strcmp(r->cur->workload, txt(q, 0)) ||
			    strcmp(r->cur->config, txt(q, 1)) || r->cur->topology != sqlite3_column_int(q, 2))
				continue;
			snprintf(t->failure + used, sizeof(t->failure) - used, "%sregression vs %s: %s %+.1f%% (p=%.3g)",
				 used ? "; " : "", c.base, r->cur->metric, r->change_pct, r->p);
		}
		failures += t->failure[0] != '\0';
		if (t->failure[0] && t->skipped) {
			t->skipped = 0; /* a regression outranks a skip */
			skipped--;
		}
	}
	sqlite3_finalize(q);
	/* Each piglit test is a testcase of its own (worst status over repetitions and guests). */
	const char *subs = "SELECT j.config, j.topology, s.name, group_concat(DISTINCT s.status) FROM subtests s"
			   " JOIN jobs j ON j.id = s.job_id WHERE j.run_id = ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";

	if (sqlite3_prepare_v2(st->db, subs, -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, run, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *sts = txt(q, 3) ? txt(q, 3) : "";
			struct tc *t = tc_add(&tcs, &n);

			snprintf(t->classname, sizeof(t->classname), "piglit.%s.%d", txt(q, 0), sqlite3_column_int(q, 1));
			snprintf(t->name, sizeof(t->name), "%s", txt(q, 2));
			if (strstr(sts, "fail") || strstr(sts, "crash") || strstr(sts, "timeout")) {
				snprintf(t->failure, sizeof(t->failure), "status: %s", sts);
				failures++;
			} else if (!strstr(sts, "pass") && !strstr(sts, "warn")) {
				t->skipped = 1;
				skipped++;
			}
		}
		sqlite3_finalize(q);
	}
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
	if (have_cmp)
		compare_free(&c);
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
	vb_err("unknown export format '%s' (json, csv or junit)", format);
	return -1;
}
