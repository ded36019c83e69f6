/* export_kcidb_test.c: vgpubench export --format kcidb against KCIDB I/O schema v5's rules, as kcidb-io's v5.3
 * schema documents them (written from its descriptions, not taken from it): only the schema's properties, no
 * nulls, ids that start with their origin and a colon, origins of [a-z0-9_]+, test paths of dot-separated
 * [a-zA-Z0-9_-]+ parts, the six statuses, a number only with a status that ran and with a value, an environment of
 * compatible, comment and misc, and every test's build and every build's checkout present. The checker is shown to
 * catch each rule broken on purpose. Then what the run's tests say: a metric DONE with its number and unit, a
 * piglit subtest PASS, a failed job ERROR with its reason, the host in each environment, the origin from
 * VGPUBENCH_KCIDB_ORIGIN (and one that breaks the schema refused). */
#define _GNU_SOURCE
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "check.h"
#include "report/export.h"
#include "runs_fixture.h"
#include "util.h"

/* The properties each object may have (kcidb-io v5.3: additionalProperties false). */
static const char *const root_props[] = { "version", "checkouts", "builds", "tests", "issues", "incidents", NULL };
static const char *const version_props[] = { "major", "minor", NULL };
static const char *const checkout_props[] = {
	"_timestamp",	  "id",		    "origin",	      "tree_name",
	"git_repository_url", "git_commit_hash", "git_commit_name", "git_commit_tags",
	"git_commit_message", "git_repository_branch", "git_repository_branch_tip", "patchset_files",
	"patchset_hash",  "message_id",	    "comment",	      "start_time",
	"origin_builds_finish_time", "origin_tests_finish_time", "log_url", "log_excerpt",
	"valid",	  "misc",	    NULL
};
static const char *const build_props[] = { "_timestamp", "checkout_id", "id",	       "origin",       "comment",
					   "start_time", "duration",	"architecture", "command",      "compiler",
					   "input_files", "output_files", "config_name", "config_url",  "log_url",
					   "log_excerpt", "status",	"misc",	       NULL };
static const char *const test_props[] = { "_timestamp", "build_id", "id",	  "origin",	 "environment",
					  "path",	"comment",  "log_url",	  "log_excerpt", "status",
					  "number",	"start_time", "duration", "input_files", "output_files",
					  "misc",	NULL };
static const char *const number_props[] = { "value", "unit", "prefix", NULL };
static const char *const env_props[] = { "compatible", "comment", "misc", NULL };
static const char *const statuses[] = { "FAIL", "ERROR", "MISS", "PASS", "DONE", "SKIP", NULL };
/* The schema's "date-time" (RFC 3339). */
#define RFC3339 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"

/* The rules' findings: how many, and the first few in words. */
struct findings {
	int n;
	char first[1024];
};

__attribute__((format(printf, 2, 3))) static void finding(struct findings *f, const char *fmt, ...)
{
	va_list ap;
	size_t used = strlen(f->first);

	if (f->n++ < 4 && used + 4 < sizeof(f->first)) {
		va_start(ap, fmt);
		vsnprintf(f->first + used, sizeof(f->first) - used, fmt, ap);
		va_end(ap);
		strncat(f->first, "; ", sizeof(f->first) - strlen(f->first) - 1);
	}
}

static int listed(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static int matches(const char *pattern, const char *s)
{
	regex_t re;
	int ok;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* No property anywhere is null ("no properties can be null"). */
static void no_nulls(struct findings *f, struct json_object *o, const char *where)
{
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, v)
		{
			if (!v)
				finding(f, "%s.%s is null", where, key);
			else
				no_nulls(f, v, key);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			if (!json_object_array_get_idx(o, i))
				finding(f, "%s[%zu] is null", where, i);
			else
				no_nulls(f, json_object_array_get_idx(o, i), where);
		}
	}
}

/* o is an object with only the listed properties and the required ones. */
static void shape(struct findings *f, struct json_object *o, const char *what, const char *const *props,
		  const char *const *required)
{
	if (!json_object_is_type(o, json_type_object)) {
		finding(f, "a %s is not an object", what);
		return;
	}
	json_object_object_foreach(o, key, v)
	{
		(void)v;
		if (!listed(props, key))
			finding(f, "a %s has property '%s', which the schema does not", what, key);
	}
	for (; required && *required; required++)
		if (!json_object_object_get_ex(o, *required, NULL))
			finding(f, "a %s lacks required '%s'", what, *required);
}

static const char *text(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* An object's id and origin: origin [a-z0-9_]+, id "origin:" then anything but NUL, its own origin's. */
static void ids(struct findings *f, struct json_object *o, const char *what)
{
	const char *id = text(o, "id"), *origin = text(o, "origin");

	if (!origin || !matches("^[a-z0-9_]+$", origin))
		finding(f, "a %s's origin '%s' is not [a-z0-9_]+", what, origin ? origin : "(none)");
	if (!id || !matches("^[a-z0-9_]+:", id))
		finding(f, "a %s's id '%s' does not start with an origin and ':'", what, id ? id : "(none)");
	else if (origin && (strncmp(id, origin, strlen(origin)) || id[strlen(origin)] != ':'))
		finding(f, "a %s's id '%s' is not of its origin %s", what, id, origin);
}

/* Is there an object in array arr whose id is id? */
static int has_id(struct json_object *arr, const char *id)
{
	for (size_t i = 0; arr && id && i < json_object_array_length(arr); i++) {
		const char *other = text(json_object_array_get_idx(arr, i), "id");

		if (other && !strcmp(other, id))
			return 1;
	}
	return 0;
}

static void check_test(struct findings *f, struct json_object *t, struct json_object *builds)
{
	static const char *const required[] = { "build_id", "id", "origin", NULL };
	struct json_object *num, *env, *v;
	const char *path = text(t, "path"), *status = text(t, "status");

	shape(f, t, "test", test_props, required);
	ids(f, t, "test");
	if (!has_id(builds, text(t, "build_id")))
		finding(f, "test %s names build %s, which is not there", text(t, "id"), text(t, "build_id"));
	if (json_object_object_get_ex(t, "path", NULL) &&
	    (!path || !matches("^([a-zA-Z0-9_-]+([.][a-zA-Z0-9_-]+)*)?$", path)))
		finding(f, "test %s has path '%s', not dot-separated [a-zA-Z0-9_-]+ parts", text(t, "id"), path);
	if (json_object_object_get_ex(t, "status", NULL) && (!status || !listed(statuses, status)))
		finding(f, "test %s has status '%s'", text(t, "id"), status ? status : "(not text)");
	if (json_object_object_get_ex(t, "number", &num)) {
		shape(f, num, "number", number_props, (const char *const[]){ "value", NULL });
		if (!json_object_object_get_ex(num, "value", &v) ||
		    (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)))
			finding(f, "test %s's number has no numeric value", text(t, "id"));
		if (json_object_object_get_ex(num, "unit", &v) && !json_object_is_type(v, json_type_string))
			finding(f, "test %s's unit is not text", text(t, "id"));
		if (json_object_object_get_ex(num, "prefix", &v) &&
		    (!json_object_is_type(v, json_type_string) ||
		     !listed((const char *const[]){ "metric", "binary", NULL }, json_object_get_string(v))))
			finding(f, "test %s's prefix is not metric or binary", text(t, "id"));
		if (!status || !listed((const char *const[]){ "FAIL", "ERROR", "PASS", "DONE", NULL }, status))
			finding(f, "test %s has a number but status %s: it did not run", text(t, "id"), status);
	}
	if (json_object_object_get_ex(t, "environment", &env)) {
		shape(f, env, "environment", env_props, NULL);
		if (json_object_object_get_ex(env, "misc", &v) && !json_object_is_type(v, json_type_object))
			finding(f, "test %s's environment misc is not an object", text(t, "id"));
	}
	if (json_object_object_get_ex(t, "duration", &v) && !json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int))
		finding(f, "test %s's duration is not a number", text(t, "id"));
	if (json_object_object_get_ex(t, "misc", &v) && !json_object_is_type(v, json_type_object))
		finding(f, "test %s's misc is not an object", text(t, "id"));
}

/* Every rule over a whole document. */
static struct findings kcidb_rules(struct json_object *doc)
{
	struct findings f = { 0 };
	struct json_object *version, *v, *checkouts = NULL, *builds = NULL, *tests = NULL;

	if (!doc) {
		finding(&f, "not JSON");
		return f;
	}
	shape(&f, doc, "document", root_props, (const char *const[]){ "version", NULL });
	no_nulls(&f, doc, "document");
	if (json_object_object_get_ex(doc, "version", &version)) {
		shape(&f, version, "version", version_props, (const char *const[]){ "major", NULL });
		if (!json_object_object_get_ex(version, "major", &v) || json_object_get_int(v) != 5)
			finding(&f, "version.major is not 5");
		if (json_object_object_get_ex(version, "minor", &v) &&
		    (json_object_get_int(v) < 0 || json_object_get_int(v) > 3))
			finding(&f, "version.minor is not 0 to 3");
	}
	json_object_object_get_ex(doc, "checkouts", &checkouts);
	json_object_object_get_ex(doc, "builds", &builds);
	json_object_object_get_ex(doc, "tests", &tests);
	for (size_t i = 0; checkouts && i < json_object_array_length(checkouts); i++) {
		struct json_object *c = json_object_array_get_idx(checkouts, i);

		shape(&f, c, "checkout", checkout_props, (const char *const[]){ "id", "origin", NULL });
		ids(&f, c, "checkout");
		if (json_object_object_get_ex(c, "valid", &v) && !json_object_is_type(v, json_type_boolean))
			finding(&f, "a checkout's valid is not a boolean");
		if (text(c, "start_time") && !matches(RFC3339, text(c, "start_time")))
			finding(&f, "a checkout's start_time %s is not an RFC 3339 date-time", text(c, "start_time"));
	}
	for (size_t i = 0; builds && i < json_object_array_length(builds); i++) {
		struct json_object *b = json_object_array_get_idx(builds, i);

		shape(&f, b, "build", build_props, (const char *const[]){ "checkout_id", "id", "origin", NULL });
		ids(&f, b, "build");
		if (!has_id(checkouts, text(b, "checkout_id")))
			finding(&f, "build %s names checkout %s, which is not there", text(b, "id"),
				text(b, "checkout_id"));
		if (json_object_object_get_ex(b, "status", NULL) &&
		    (!text(b, "status") || !listed(statuses, text(b, "status"))))
			finding(&f, "build %s has status %s", text(b, "id"), text(b, "status"));
	}
	for (size_t i = 0; tests && i < json_object_array_length(tests); i++) {
		check_test(&f, json_object_array_get_idx(tests, i), builds);
		const char *id = text(json_object_array_get_idx(tests, i), "id");

		for (size_t k = 0; id && k < i; k++)
			if (text(json_object_array_get_idx(tests, k), "id") &&
			    !strcmp(id, text(json_object_array_get_idx(tests, k), "id")))
				finding(&f, "two tests have id %s", id);
	}
	return f;
}

/* The export of run as KCIDB, parsed (NULL when export_run failed), with its return value in *rc. */
static struct json_object *kcidb_of(struct store *s, const char *run, int *rc)
{
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);
	struct json_object *doc;

	*rc = export_run(s, run, "kcidb", mem);
	fclose(mem);
	doc = *rc == 0 ? json_tokener_parse(out) : NULL;
	free(out);
	return doc;
}

/* The first test whose path ends with suffix. */
static struct json_object *test_at(struct json_object *doc, const char *suffix)
{
	struct json_object *tests = json_object_object_get(doc, "tests");

	for (size_t i = 0; tests && i < json_object_array_length(tests); i++) {
		const char *p = text(json_object_array_get_idx(tests, i), "path");

		if (p && strlen(p) >= strlen(suffix) && !strcmp(p + strlen(p) - strlen(suffix), suffix))
			return json_object_array_get_idx(tests, i);
	}
	return NULL;
}

/* The checker catches each rule broken on purpose in a copy of doc: edit(copy) must give a finding. */
static void test_checker(struct json_object *doc)
{
	static const struct {
		const char *what, *json_path_key, *value;
	} breaks[] = {
		{ "a status the schema lacks", "status", "\"OK\"" },
		{ "a null", "comment", "null" },
		{ "an id of another origin", "id", "\"other:x\"" },
		{ "a path with a space", "path", "\"glmark2.mediated score\"" },
		{ "a property the schema lacks", "score", "1" },
		{ "a number without a value", "number", "{\"unit\": \"ms\"}" },
		{ "a build that is not there", "build_id", "\"vgpubench:nothing\"" },
		{ "an environment property the schema lacks", "environment", "{\"host\": \"x\"}" },
	};

	for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		struct json_object *copy = NULL, *t;
		struct findings f;

		json_object_deep_copy(doc, &copy, NULL);
		t = test_at(copy, ".score");
		if (t)
			json_object_object_add(t, breaks[i].json_path_key, json_tokener_parse(breaks[i].value));
		f = kcidb_rules(copy);
		CHECK(t && f.n > 0, "the checker catches %s: %s", breaks[i].what, f.first);
		json_object_put(copy);
	}
	{
		struct json_object *copy = NULL;
		struct findings f;

		json_object_deep_copy(doc, &copy, NULL);
		json_object_object_add(json_object_object_get(copy, "version"), "major", json_object_new_int(4));
		f = kcidb_rules(copy);
		CHECK(f.n > 0, "the checker catches a version 4 document: %s", f.first);
		json_object_put(copy);
	}
}

int main(void)
{
	char dir[] = "/tmp/vgpubench-kcidb-XXXXXX", *url;
	struct store s;
	struct json_object *doc, *t, *v;
	struct findings f;
	int rc;

	if (!mkdtemp(dir))
		return 1;
	url = vb_strdupf("%s/k.db", dir);
	CHECK(store_open(&s, url) == 0, "a database");
	make_full_run(&s, "full");

	unsetenv("VGPUBENCH_KCIDB_ORIGIN");
	doc = kcidb_of(&s, "full", &rc);
	f = kcidb_rules(doc);
	CHECK(rc == 0 && doc && f.n == 0, "the export keeps KCIDB v5's rules (%d findings): %s", f.n, f.first);
	CHECK(doc && json_object_array_length(json_object_object_get(doc, "tests")) == 4,
	      "4 tests: 2 metrics and a subtest of the mediated job, the failed piglit job: %s",
	      doc ? json_object_to_json_string(json_object_object_get(doc, "tests")) : "(none)");
	t = doc ? test_at(doc, "glmark2.mediated.guests1.score") : NULL;
	CHECK(t && !strcmp(text(t, "status"), "DONE") && json_object_object_get_ex(t, "number", &v) &&
		      json_object_get_double(json_object_object_get(v, "value")) == 472.0 &&
		      !json_object_object_get_ex(v, "unit", NULL) &&
		      !strcmp(text(t, "id"), "vgpubench:full:mediated:1:1:1:glmark2:score") &&
		      !strcmp(text(t, "build_id"), "vgpubench:full"),
	      "the score: DONE, 472, dimensionless, its id and build: %s",
	      t ? json_object_to_json_string(t) : "(none)");
	t = doc ? test_at(doc, "glmark2.mediated.guests1.build.frame_time") : NULL;
	CHECK(t && json_object_object_get_ex(t, "number", &v) && text(v, "unit") && !strcmp(text(v, "unit"), "ms"),
	      "a frame time in ms, its dot a path part: %s", t ? json_object_to_json_string(t) : "(none)");
	t = doc ? test_at(doc, "guests1.spec.glsl-1.10.execution.__") : NULL;
	CHECK(t && !strcmp(text(t, "status"), "PASS") && !json_object_object_get_ex(t, "number", NULL),
	      "the piglit subtest: PASS, its '@' and '.' as path parts, é made safe: %s",
	      doc ? json_object_to_json_string(json_object_object_get(doc, "tests")) : "(none)");
	t = doc ? test_at(doc, "piglit.native.host") : NULL;
	CHECK(t && !strcmp(text(t, "status"), "ERROR") && text(t, "comment") && strstr(text(t, "comment"), "spec@a"),
	      "the failed job: ERROR with its reason: %s", t ? json_object_to_json_string(t) : "(none)");
	t = doc ? test_at(doc, "score") : NULL;
	v = t ? json_object_object_get(json_object_object_get(t, "environment"), "misc") : NULL;
	CHECK(v && text(v, "host") && !strcmp(text(v, "host"), "lab-1") && text(v, "qemu") &&
		      text(json_object_object_get(t, "environment"), "comment") &&
		      !strcmp(text(json_object_object_get(t, "environment"), "comment"),
			      "host lab-1; CPU AMD EPYC 7B13; QEMU 10.0.2"),
	      "the environment names the host and its facts: %s", t ? json_object_to_json_string(t) : "(none)");
	t = doc ? json_object_array_get_idx(json_object_object_get(doc, "builds"), 0) : NULL;
	CHECK(t && !strcmp(text(t, "status"), "PASS"), "the run complete: its build PASS");
	if (doc)
		test_checker(doc);
	json_object_put(doc);

	setenv("VGPUBENCH_KCIDB_ORIGIN", "mylab", 1);
	doc = kcidb_of(&s, "full", &rc);
	f = kcidb_rules(doc);
	t = doc ? test_at(doc, "score") : NULL;
	CHECK(rc == 0 && f.n == 0 && t && !strncmp(text(t, "id"), "mylab:full:", 11) &&
		      !strcmp(text(t, "origin"), "mylab"),
	      "VGPUBENCH_KCIDB_ORIGIN names the origin: %s", f.first);
	json_object_put(doc);
	setenv("VGPUBENCH_KCIDB_ORIGIN", "My-Lab", 1);
	doc = kcidb_of(&s, "full", &rc);
	CHECK(rc < 0 && !doc, "an origin that breaks the schema is refused");
	unsetenv("VGPUBENCH_KCIDB_ORIGIN");
	doc = kcidb_of(&s, "nothing", &rc);
	CHECK(rc < 0 && !doc, "no such run: refused");

	store_close(&s);
	free(url);
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("export_kcidb");
}
