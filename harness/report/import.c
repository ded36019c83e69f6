/* import.c: a run exported as JSON (export.c, schema "vgpubench-run" version 2) stored again, in any store:
 * the file read and its schema checked first, every row written in one transaction (store_import_*, which
 * checks each column against the database's), so a failure part-way leaves nothing; a run that is there already
 * and the same is left alone, a different run under the same id is refused. */
#define _GNU_SOURCE
#include "report/import.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "report/export.h"
#include "util.h"

#define MAX_CELLS 64

/* The largest export import reads (a run of thousands of jobs is a few MB). */
#define IMPORT_MAX_BYTES (1024L * 1024 * 1024)

/* The file's JSON, or NULL with why said: unreadable (a FIFO or a device refused by type), empty, truncated, not
 * JSON, or more than one document. */
static struct json_object *read_json(const char *path)
{
	size_t len = 0, end;
	char *text = vb_read_file_max(path, IMPORT_MAX_BYTES, &len);
	struct json_tokener *tok;
	struct json_object *doc;
	enum json_tokener_error e;

	if (!text) {
		vb_err("cannot read %s: %s", path, errno == EFBIG ? "larger than 1 GiB" : vb_strerror(errno));
		return NULL;
	}
	if (!(tok = json_tokener_new()))
		abort();
	doc = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = (size_t)json_tokener_get_parse_end(tok);
	if (!doc && strspn(text, " \t\r\n") == len)
		vb_err("%s is empty", path);
	else if (!doc && e == json_tokener_continue)
		vb_err("%s ends in the middle of its JSON (%zu bytes): a truncated export?", path, len);
	else if (!doc)
		vb_err("%s is not JSON: %s near byte %zu", path, json_tokener_error_desc(e), end);
	else if (strspn(text + end, " \t\r\n") != len - end) {
		vb_err("%s is not one JSON document: more follows it at byte %zu", path, end);
		json_object_put(doc);
		doc = NULL;
	}
	json_tokener_free(tok);
	free(text);
	return doc;
}

/* Is root a run export this version reads? 0, or -1 with why said. */
static int check_schema(const char *path, struct json_object *root)
{
	struct json_object *schema, *name, *version, *run, *id;
	int v;

	if (!json_object_is_type(root, json_type_object)) {
		vb_err("%s is JSON, but not a vgpubench export (an object with \"schema\" and \"run\")", path);
		return -1;
	}
	if (!json_object_object_get_ex(root, "schema", &schema)) {
		vb_err("%s has no schema version: %s", path,
		       json_object_object_get_ex(root, "jobs", NULL)
			       ? "an export from before version 2 (no plan, guests nor scenario jobs); export the run "
				 "again with this vgpubench"
			       : "not a vgpubench export");
		return -1;
	}
	if (!json_object_object_get_ex(schema, "name", &name) || !json_object_is_type(name, json_type_string) ||
	    strcmp(json_object_get_string(name), EXPORT_SCHEMA_NAME) != 0 ||
	    !json_object_object_get_ex(schema, "version", &version) || !json_object_is_type(version, json_type_int)) {
		vb_err("%s is not a vgpubench run export (its schema is %s)", path, json_object_to_json_string(schema));
		return -1;
	}
	v = json_object_get_int(version);
	if (v > EXPORT_SCHEMA_VERSION) {
		vb_err("%s is export schema version %d, newer than this vgpubench reads (%d): import it with a newer "
		       "vgpubench",
		       path, v, EXPORT_SCHEMA_VERSION);
		return -1;
	}
	if (v < EXPORT_SCHEMA_VERSION) {
		vb_err("%s is export schema version %d, which this vgpubench does not read (%d): export the run again",
		       path, v, EXPORT_SCHEMA_VERSION);
		return -1;
	}
	if (!json_object_object_get_ex(root, "run", &run) || !json_object_object_get_ex(run, "id", &id) ||
	    !json_object_is_type(id, json_type_string) || !vb_is_identifier(json_object_get_string(id))) {
		vb_err("%s has no run id that vgpubench could have made (letters, digits, '.', '_' and '-')", path);
		return -1;
	}
	return 0;
}

/* What is being imported: the store and its transaction, what was written, and why it stopped (said once, with
 * the file's name, when the transaction is rolled back). */
struct importer {
	struct store *st;
	struct store_import *im;
	int jobs, guests, scenario_jobs;
	char why[1024];
};

/* Stop the import: why, for the one line that says so. -1. */
__attribute__((format(printf, 2, 3))) static int fail(struct importer *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* A row the store refused: where it is in the file, and the database's reason. -1. */
static int refused(struct importer *x, const char *where)
{
	return fail(x, "%s could not be stored: %s", where, x->st->err);
}

/* A JSON key and the column it is stored in, where the export renamed it. */
struct rename {
	const char *key, *column;
};

/*
 * obj's members as a row's cells: each key (renamed by map, which ends with {NULL}; keys in nested skipped: the
 * caller stores them in tables of their own) with its value, null as NULL, a boolean as 0 or 1. Anything else
 * (an object or an array where a value belongs) is refused. where: the row, for messages. Returns the number of
 * cells, or -1 (said).
 */
static int cells_of(struct importer *x, struct json_object *obj, const struct rename *map,
		    const char *const *nested, const char *where, const char **names, struct store_value *values)
{
	int n = 0;

	if (!json_object_is_type(obj, json_type_object))
		return fail(x, "%s is not an object", where);
	json_object_object_foreach(obj, key, v)
	{
		const char *col = key;
		int skip = 0;

		for (int i = 0; nested && nested[i]; i++)
			skip |= !strcmp(nested[i], key);
		if (skip)
			continue;
		for (int i = 0; map && map[i].key; i++)
			if (!strcmp(map[i].key, key))
				col = map[i].column;
		if (n == MAX_CELLS)
			return fail(x, "%s has more than %d fields", where, MAX_CELLS);
		names[n] = col;
		values[n] = (struct store_value){ .type = STORE_NULL };
		switch (json_object_get_type(v)) {
		case json_type_null:
			break;
		case json_type_boolean:
			values[n].type = STORE_INT;
			values[n].i = json_object_get_boolean(v);
			break;
		case json_type_int:
			values[n].type = STORE_INT;
			values[n].i = json_object_get_int64(v);
			break;
		case json_type_double:
			values[n].type = STORE_REAL;
			values[n].d = json_object_get_double(v);
			if (!isfinite(values[n].d)) /* json-c reads NaN and Infinity */
				return fail(x, "%s.%s is not a finite number", where, key);
			break;
		case json_type_string:
			values[n].type = STORE_TEXT;
			values[n].t = json_object_get_string(v);
			break;
		default:
			return fail(x, "%s.%s is an %s, where a value belongs", where, key,
				    json_type_to_name(json_object_get_type(v)));
		}
		n++;
	}
	return n;
}

/* One object as one row of table (parent: its job's id). 0, or -1 (said). */
static int put_object(struct importer *x, const char *table, long long parent, struct json_object *obj,
		      const struct rename *map, const char *const *nested, const char *where, long long *id)
{
	const char *names[MAX_CELLS];
	struct store_value values[MAX_CELLS];
	int n = cells_of(x, obj, map, nested, where, names, values);

	if (n < 0)
		return -1;
	return store_import_row(x->im, table, parent, n, names, values, id) < 0 ? refused(x, where) : 0;
}

/* obj[key] when it is of type t; NULL when absent; absent too (failed, *bad set) when of another type. where: obj's
 * place in the file ("" for the top). */
static struct json_object *member(struct importer *x, struct json_object *obj, const char *key,
				  json_type t, const char *where, int *bad)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return NULL;
	if (json_object_is_type(v, t))
		return v;
	fail(x, "%s%s%s is an %s, not an %s", where, *where ? "." : "", key, json_type_to_name(json_object_get_type(v)),
	     json_type_to_name(t));
	*bad = 1;
	return NULL;
}

/* A name and a value as a two-column row of table (metrics' or subtests' name, host facts' key). */
static int put_named(struct importer *x, const char *table, long long parent, const char *name_col,
		     const char *name, struct json_object *v, const char *value_col, const char *where)
{
	const char *names[2] = { name_col, value_col };
	struct store_value values[2] = { { .type = STORE_TEXT, .t = name }, { .type = STORE_NULL } };

	if (v && !json_object_is_type(v, json_type_string))
		return fail(x, "%s.%s is not text", where, name);
	if (v) {
		values[1].type = STORE_TEXT;
		values[1].t = json_object_get_string(v);
	}
	if (store_import_row(x->im, table, parent, 2, names, values, NULL) < 0)
		return fail(x, "%s.%s could not be stored: %s", where, name, x->st->err);
	return 0;
}

/* A job's metrics ({name: {value, unit, direction}}), subtests ({name: status}), stages and per-job rows. */
static int put_job_parts(struct importer *x, long long job, struct json_object *j, const char *where)
{
	static const char *const one_row[] = { "job_noise", "vgpu_stats", "vgpu_health" };
	struct json_object *metrics, *subtests, *stages, *row;
	char at[160];
	int bad = 0;

	metrics = member(x, j, "metrics", json_type_object, where, &bad);
	subtests = member(x, j, "subtests", json_type_object, where, &bad);
	stages = member(x, j, "stages", json_type_array, where, &bad);
	if (bad)
		return -1;
	if (metrics) {
		json_object_object_foreach(metrics, name, m)
		{
			const char *names[MAX_CELLS + 1];
			struct store_value values[MAX_CELLS + 1];
			int n;

			snprintf(at, sizeof(at), "%s.metrics.%s", where, name);
			if ((n = cells_of(x, m, NULL, NULL, at, names + 1, values + 1)) < 0)
				return -1;
			names[0] = "name";
			values[0] = (struct store_value){ .type = STORE_TEXT, .t = name };
			if (store_import_row(x->im, "metrics", job, n + 1, names, values, NULL) < 0)
				return refused(x, at);
		}
	}
	if (subtests) {
		snprintf(at, sizeof(at), "%s.subtests", where);
		json_object_object_foreach(subtests, name, status)
		if (put_named(x, "subtests", job, "name", name, status, "status", at) < 0)
			return -1;
	}
	for (size_t i = 0; stages && i < json_object_array_length(stages); i++) {
		snprintf(at, sizeof(at), "%s.stages[%zu]", where, i);
		if (put_object(x, "job_stages", job, json_object_array_get_idx(stages, i), NULL, NULL, at, NULL) < 0)
			return -1;
	}
	for (size_t t = 0; t < sizeof(one_row) / sizeof(one_row[0]); t++) {
		if (!json_object_object_get_ex(j, one_row[t], &row) || !row)
			continue;
		snprintf(at, sizeof(at), "%s.%s", where, one_row[t]);
		if (put_object(x, one_row[t], job, row, NULL, NULL, at, NULL) < 0)
			return -1;
	}
	return 0;
}

/* The run's jobs, each with its parts. */
static int put_jobs(struct importer *x, struct json_object *jobs)
{
	static const struct rename map[] = {
		{ "guests", "topology" }, { "guest", "guest_index" }, { "log", "log_path" }, { NULL, NULL }
	};
	static const char *const nested[] = { "metrics",    "subtests",	  "stages", "job_noise",
					      "vgpu_stats", "vgpu_health", NULL };

	for (size_t i = 0; i < json_object_array_length(jobs); i++) {
		struct json_object *j = json_object_array_get_idx(jobs, i);
		char where[48];
		long long id;

		snprintf(where, sizeof(where), "jobs[%zu]", i);
		if (put_object(x, "jobs", 0, j, map, nested, where, &id) < 0 || put_job_parts(x, id, j, where) < 0)
			return -1;
		x->jobs++;
	}
	return 0;
}

/* The run's scenario jobs, each with its samples ([[t_s, gpu_ms, frames], ...]). */
static int put_scenario_jobs(struct importer *x, struct json_object *rows)
{
	static const char *const nested[] = { "samples", NULL };
	static const char *const sample_cols[] = { "t_s", "gpu_ms", "frames" };

	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i), *samples;
		char where[64];
		long long id;
		int bad = 0;

		snprintf(where, sizeof(where), "scenario_jobs[%zu]", i);
		if (put_object(x, "scenario_jobs", 0, r, NULL, nested, where, &id) < 0)
			return -1;
		samples = member(x, r, "samples", json_type_array, where, &bad);
		if (bad)
			return -1;
		for (size_t k = 0; samples && k < json_object_array_length(samples); k++) {
			struct json_object *sm = json_object_array_get_idx(samples, k);
			struct store_value v[3];

			if (!json_object_is_type(sm, json_type_array) || json_object_array_length(sm) != 3)
				return fail(x, "%s.samples[%zu] is not three numbers", where, k);
			for (int c = 0; c < 3; c++) {
				struct json_object *e = json_object_array_get_idx(sm, (size_t)c);

				if ((!json_object_is_type(e, json_type_double) && !json_object_is_type(e, json_type_int)) ||
				    !isfinite(json_object_get_double(e)))
					return fail(x, "%s.samples[%zu] is not three numbers", where, k);
				v[c] = (struct store_value){ .type = STORE_REAL, .d = json_object_get_double(e) };
			}
			if (store_import_row(x->im, "scenario_samples", id, 3, sample_cols, v, NULL) < 0)
				return fail(x, "%s.samples[%zu] could not be stored: %s", where, k, x->st->err);
		}
		x->scenario_jobs++;
	}
	return 0;
}

/* Everything under root but the run's own row: host facts, configurations in their order, guests, jobs, scenario
 * jobs, calibration rows. */
static int put_run_parts(struct importer *x, struct json_object *root)
{
	static const struct rename cal_map[] = { { "guests", "topology" }, { NULL, NULL } };
	struct json_object *host, *configs, *guests, *jobs, *scenarios, *cal;
	int bad = 0;

	host = member(x, root, "host", json_type_object, "", &bad);
	configs = member(x, root, "configs", json_type_array, "", &bad);
	guests = member(x, root, "guests", json_type_array, "", &bad);
	jobs = member(x, root, "jobs", json_type_array, "", &bad);
	scenarios = member(x, root, "scenario_jobs", json_type_array, "", &bad);
	cal = member(x, root, "calibration", json_type_array, "", &bad);
	if (bad)
		return -1;
	if (host) {
		json_object_object_foreach(host, key, value)
		if (put_named(x, "host_facts", 0, "key", key, value, "value", "host") < 0)
			return -1;
	}
	for (size_t i = 0; configs && i < json_object_array_length(configs); i++) {
		struct json_object *c = json_object_array_get_idx(configs, i);
		const char *names[MAX_CELLS + 1];
		struct store_value values[MAX_CELLS + 1];
		char where[48];
		int n;

		snprintf(where, sizeof(where), "configs[%zu]", i);
		if ((n = cells_of(x, c, NULL, NULL, where, names + 1, values + 1)) < 0)
			return -1;
		names[0] = "seq"; /* the plan's order, as the array keeps it */
		values[0] = (struct store_value){ .type = STORE_INT, .i = (long long)i };
		if (store_import_row(x->im, "configs", 0, n + 1, names, values, NULL) < 0)
			return refused(x, where);
	}
	for (size_t i = 0; guests && i < json_object_array_length(guests); i++) {
		char where[48];

		snprintf(where, sizeof(where), "guests[%zu]", i);
		if (put_object(x, "guests", 0, json_object_array_get_idx(guests, i), NULL, NULL, where, NULL) < 0)
			return -1;
		x->guests++;
	}
	if ((jobs && put_jobs(x, jobs) < 0) || (scenarios && put_scenario_jobs(x, scenarios) < 0))
		return -1;
	for (size_t i = 0; cal && i < json_object_array_length(cal); i++) {
		char where[48];

		snprintf(where, sizeof(where), "calibration[%zu]", i);
		if (put_object(x, "calibration_rows", 0, json_object_array_get_idx(cal, i), cal_map, NULL, where,
			       NULL) < 0)
			return -1;
	}
	return 0;
}

/* Is the run that st holds under root's run id the same run as root (its export equal, the store it came from
 * aside)? 1 yes, 0 no, -1 when it could not be read (said). */
static int same_run(struct store *st, const char *run, struct json_object *root)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	struct json_object *there, *mine;
	int made, same;

	if (!mem)
		abort();
	made = export_run(st, run, "json", mem);
	fclose(mem);
	there = made == 0 ? json_tokener_parse(text) : NULL;
	free(text);
	if (!there)
		return -1;
	mine = json_object_get(root);
	json_object_object_del(there, "store");
	json_object_object_del(mine, "store");
	same = json_object_equal(there, mine);
	json_object_put(there);
	json_object_put(mine);
	return same;
}

struct json_object *import_load(const char *path)
{
	struct json_object *root = read_json(path);

	if (root && check_schema(path, root) < 0) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

int import_run(struct store *st, struct json_object *root, const char *path, char *run, size_t runlen)
{
	struct json_object *r = json_object_object_get(root, "run");
	struct importer x = { .st = st };
	const char *id = json_object_get_string(json_object_object_get(r, "id"));

	snprintf(run, runlen, "%s", id);
	if (store_run_exists(st, id)) {
		int same = same_run(st, id, root);

		if (same == 0)
			vb_err("a different run %s is in the database already (%s holds another copy of it, or another "
			       "run with its id): nothing imported",
			       id, path);
		return same == 1 ? 1 : -1;
	}
	if (!(x.im = store_import_begin(st, id)))
		return -1;
	if (put_object(&x, "runs", 0, r, (const struct rename[]){ { "plan", "plan_name" }, { NULL, NULL } },
		       (const char *const[]){ "id", NULL }, "run", NULL) < 0 ||
	    put_run_parts(&x, root) < 0) {
		store_import_end(x.im, 0);
		vb_err("%s: %s; nothing imported", path, x.why);
		return -1;
	}
	if (store_import_end(x.im, 1) < 0) {
		vb_err("%s: nothing imported (the database's reason is above)", path);
		return -1;
	}
	printf("imported run %s: %d jobs, %d guests, %d scenario jobs\n", id, x.jobs, x.guests, x.scenario_jobs);
	return 0;
}
