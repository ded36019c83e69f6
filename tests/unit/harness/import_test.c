/* import_test.c: vgpubench import against export, on both back-ends: a run with a row in every table a run owns
 * (host facts, configurations, guests, jobs with metrics, subtests, noise, vGPU scheduling, health and stages,
 * scenario jobs with samples, calibration rows) exported from SQLite, imported into a new SQLite database and
 * into PostgreSQL, exported again: the same JSON but the store it names; imported twice: nothing changes; a
 * different run under the same id, a truncated file, one that is not JSON, empty, two documents, a FIFO, of a
 * newer or an older schema, with a run id that could be a path, a column the database lacks, a nested value or a
 * value of the wrong type for its column, or a row the database refuses half-way: each refused with its reason,
 * nothing left behind. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "check.h"
#include "pg_fixture.h"
#include "report/export.h"
#include "report/import.h"
#include "runs_fixture.h"
#include "util.h"

/* What export_run writes for run as JSON (malloc'ed; NULL when it failed). */
static char *exported(struct store *s, const char *run)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int rc = export_run(s, run, "json", mem);

	fclose(mem);
	if (rc == 0)
		return text;
	free(text);
	return NULL;
}

/* text without its line naming the store it came from (the field a copy in another store changes). */
static char *without_store(const char *text)
{
	char *out = strdup(text ? text : ""), *p = strstr(out, "\n  \"store\":");

	if (p) {
		char *end = strchr(p + 1, '\n');

		memmove(p, end, strlen(end) + 1);
	}
	return out;
}

/* import_load and import_run on the file at path: import_run's answer, or -1 when the file was refused. */
static int import_file(struct store *d, const char *path, char *run, size_t len)
{
	struct json_object *doc = import_load(path);
	int rc = doc ? import_run(d, doc, path, run, len) : -1;

	json_object_put(doc);
	return rc;
}

/* A count from the database, through the store's connection (-1 when the query fails). */
static long long count(struct store *s, const char *sql)
{
	struct db_stmt *st = s->drv->prepare(s->db, sql);
	long long n = -1;

	if (st && st->drv->step(st) == DB_ROW)
		n = st->drv->col_int64(st, 0);
	if (st)
		st->drv->finalize(st);
	return n;
}

/* Every row the run has, over the tables a run owns. */
static long long rows_of(struct store *s)
{
	static const char *const q[] = {
		"SELECT count(*) FROM runs",	     "SELECT count(*) FROM host_facts",
		"SELECT count(*) FROM configs",	     "SELECT count(*) FROM guests",
		"SELECT count(*) FROM jobs",	     "SELECT count(*) FROM metrics",
		"SELECT count(*) FROM subtests",     "SELECT count(*) FROM job_noise",
		"SELECT count(*) FROM vgpu_stats",   "SELECT count(*) FROM vgpu_health",
		"SELECT count(*) FROM job_stages",   "SELECT count(*) FROM scenario_jobs",
		"SELECT count(*) FROM scenario_samples", "SELECT count(*) FROM calibration_rows",
	};
	long long n = 0;

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		long long c = count(s, q[i]);

		if (c < 0)
			return -1;
		n += c;
	}
	return n;
}

/* The export of run in a file under dir (malloc'ed path), optionally edited: the first `from` replaced by `to`,
 * or cut to `keep` bytes (keep > 0). */
static char *export_file(const char *dir, const char *name, const char *text, const char *from, const char *to,
			 size_t keep)
{
	char *path = vb_strdupf("%s/%s", dir, name), *edited = strdup(text), *p;
	FILE *f;

	if (from && (p = strstr(edited, from))) {
		char *e = vb_strdupf("%.*s%s%s", (int)(p - edited), edited, to, p + strlen(from));

		free(edited);
		edited = e;
	} else if (from) {
		CHECK(0, "the export has %s to edit", from);
	}
	f = fopen(path, "w");
	fwrite(edited, 1, keep ? keep : strlen(edited), f);
	fclose(f);
	free(edited);
	return path;
}

/* src's run "full" imported into dst (a new database): the same JSON again, then the cases that must fail. */
static void test_into(const char *dir, const char *src_text, const char *dst_url, const char *label)
{
	struct store d;
	char run[256], *path, *again, *a, *b;
	long long before;
	int rc;

	CHECK(store_open(&d, dst_url) == 0, "%s: a new database", label);
	path = export_file(dir, "full.json", src_text, NULL, NULL, 0);
	rc = import_file(&d, path, run, sizeof(run));
	CHECK(rc == 0 && !strcmp(run, "full"), "%s: the run is imported (%d): %s", label, rc, d.err);
	again = exported(&d, "full");
	a = without_store(src_text);
	b = without_store(again);
	CHECK(again && !strcmp(a, b), "%s: exported again, the same JSON but the store it names:\n%s\n---\n%s", label,
	      a, b ? b : "(nothing)");
	CHECK(again && strstr(again, strcmp(label, "sqlite") ? "\"store\":\"postgresql\"" : "\"store\":\"sqlite\""),
	      "%s: the copy names its own store", label);
	free(a);
	free(b);
	free(again);

	/* Twice: nothing to do, nothing changed. */
	before = rows_of(&d);
	rc = import_file(&d, path, run, sizeof(run));
	CHECK(rc == 1 && rows_of(&d) == before, "%s: imported twice: nothing to do (%d), %lld rows as before", label,
	      rc, before);
	free(path);

	/* A different run under the same id: refused. */
	path = export_file(dir, "other.json", src_text, "472.0", "473.0", 0);
	CHECK(import_file(&d, path, run, sizeof(run)) < 0 && rows_of(&d) == before,
	      "%s: a different run with the same id is refused, nothing changed", label);
	free(path);

	/* Files that cannot be imported: each refused, nothing written (the run's id changed so that none is there). */
	{
		static const struct {
			const char *what, *from, *to;
			int cut;
		} bad[] = {
			{ "a truncated file", NULL, NULL, 1 },
			{ "a newer schema", "\"version\":2", "\"version\":3", 0 },
			{ "an older schema", "\"version\":2", "\"version\":1", 0 },
			{ "no schema (an export from before version 2)", "\"schema\":{", "\"schemata\":{", 0 },
			{ "a run id that could be a path", "\"id\":\"full\"", "\"id\":\"..\\/full\"", 0 },
			{ "a column the database lacks", "\"accel\":\"tcg\"", "\"accel; DROP TABLE runs\":\"tcg\"", 0 },
			{ "an object where a value belongs", "\"accel\":\"tcg\"", "\"accel\":{\"a\":1}", 0 },
			{ "text where a whole number belongs", "\"repetition\":1", "\"repetition\":\"one\"", 0 },
			{ "a fraction where a whole number belongs", "\"repetition\":1", "\"repetition\":1.5", 0 },
			{ "a number where text belongs", "\"accel\":\"tcg\"", "\"accel\":7", 0 },
			{ "a value that is not a finite number", "\"wall_s\":12.125", "\"wall_s\":NaN", 0 },
			{ "a row the database refuses, half-way", "\"status\":\"failed\"", "\"status\":\"exploded\"",
			  0 },
			{ "a row whose parent it may not set", "\"steal_pct\":", "\"job_id\":1, \"steal_pct\":", 0 },
		};
		char *renamed = strdup(src_text), *p = strstr(renamed, "\"id\":\"full\"");

		/* Under another run id, so that nothing of it is there yet. */
		if (p)
			memcpy(p, "\"id\":\"copy\"", 11);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			const char *from = bad[i].from && !strcmp(bad[i].from, "\"id\":\"full\"") ? "\"id\":\"copy\""
											      : bad[i].from;

			path = export_file(dir, "bad.json", renamed, from, bad[i].to,
					   bad[i].cut ? strlen(renamed) / 2 : 0);
			rc = import_file(&d, path, run, sizeof(run));
			CHECK(rc < 0 && rows_of(&d) == before && !store_run_exists(&d, "copy"),
			      "%s: %s is refused (%d), nothing written (%lld rows)", label, bad[i].what, rc,
			      rows_of(&d));
			free(path);
		}
		path = export_file(dir, "bad.json", "{\"jobs\": [1, 2", NULL, NULL, 0);
		CHECK(import_file(&d, path, run, sizeof(run)) < 0, "%s: not JSON: refused", label);
		free(path);
		path = export_file(dir, "bad.json", "hello, world\n", NULL, NULL, 0);
		CHECK(import_file(&d, path, run, sizeof(run)) < 0, "%s: not JSON at all: refused", label);
		free(path);
		path = export_file(dir, "bad.json", "[]", NULL, NULL, 0);
		CHECK(import_file(&d, path, run, sizeof(run)) < 0, "%s: JSON, but not an export: refused", label);
		free(path);
		CHECK(import_file(&d, "/nonexistent/x.json", run, sizeof(run)) < 0, "%s: no such file: refused", label);
		path = export_file(dir, "bad.json", "", NULL, NULL, 0);
		CHECK(import_file(&d, path, run, sizeof(run)) < 0, "%s: an empty file: refused", label);
		free(path);
		path = export_file(dir, "bad.json", "{\"schema\": 1} {}", NULL, NULL, 0);
		CHECK(import_file(&d, path, run, sizeof(run)) < 0, "%s: two documents: refused", label);
		free(path);
		path = vb_strdupf("%s/fifo.json", dir);
		CHECK(mkfifo(path, 0600) == 0 && import_file(&d, path, run, sizeof(run)) < 0,
		      "%s: a FIFO: refused at once, never waited on", label);
		unlink(path);
		free(path);

		/* The same copy, unedited, goes in whole under its new id. */
		path = export_file(dir, "copy.json", renamed, NULL, NULL, 0);
		CHECK(import_file(&d, path, run, sizeof(run)) == 0 && !strcmp(run, "copy") && rows_of(&d) == 2 * before,
		      "%s: the copy under another id goes in whole: %lld rows (%lld)", label, rows_of(&d), before);
		free(path);
		free(renamed);
	}
	store_close(&d);
}

int main(void)
{
	char dir[] = "/tmp/vgpubench-import-XXXXXX", *src_url, *dst_url, *text;
	const char *server;
	struct store s;

	if (!mkdtemp(dir))
		return 1;
	src_url = vb_strdupf("%s/src.db", dir);
	CHECK(store_open(&s, src_url) == 0, "the source database");
	make_full_run(&s, "full");
	text = exported(&s, "full");
	CHECK(text && strstr(text, "\"schema\":{\n    \"name\":\"vgpubench-run\",\n    \"version\":2\n  }") &&
		      strstr(text, "\"store\":\"sqlite\"") && strstr(text, "\"plan_text\":") &&
		      strstr(text, "\"scenario_jobs\":[") && strstr(text, "\"samples\":[") &&
		      strstr(text, "\"guests\":[") && strstr(text, "\"finished_at\":"),
	      "the export names its schema and store and carries the plan, guests, scenario jobs and samples:\n%s",
	      text ? text : "(nothing)");
	store_close(&s);

	dst_url = vb_strdupf("sqlite:%s/dst.db", dir);
	if (text)
		test_into(dir, text, dst_url, "sqlite");
	free(dst_url);
	if (text && (server = pg_fixture_server("import"))) {
		dst_url = pg_fixture_db(server, "import");
		test_into(dir, text, dst_url, "postgresql");
		free(dst_url);
	}
	free(text);
	free(src_url);
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("import");
}
