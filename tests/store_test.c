/* store_test.c: the results database: schema creation and re-opening, runs,
 * atomic job groups, resume look-ups, and the summary read back from it. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "store.h"
#include "summary.h"
#include "util.h"

static struct wl_result metrics(double score)
{
	struct wl_result r = { 0 };

	wl_add_metric(&r, "score", score, "score", 1);
	wl_add_metric(&r, "build.frame_time", 1000.0 / score, "ms", 0);
	return r;
}

static int count(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/vgpubench-store-XXXXXX";
	struct store s;
	char *db, *pp = NULL, *pt = NULL, *rd = NULL, *status = NULL;

	if (!mkdtemp(dir))
		return 1;
	db = vb_strdupf("%s/vgpubench.db", dir);
	CHECK(store_open(&s, db) == 0, "open a new database");
	CHECK(store_run_create(&s, "r1", "default", "plan.ini", "[plan]\n", "/tmp/r1") == 0, "create run");
	CHECK(store_run_create(&s, "r1", "default", "plan.ini", "[plan]\n", "/tmp/r1") < 0, "duplicate run id refused");
	CHECK(store_config(&s, "r1", "native", "run", NULL) == 0, "config row");
	CHECK(store_config(&s, "r1", "passthrough", "skipped", "needs KVM") == 0, "skipped config row");
	CHECK(store_host_fact(&s, "r1", "accel", "tcg") == 0, "host fact");

	struct wl_result m1 = metrics(100), m2 = metrics(300), m3 = metrics(200);
	struct job_row native = { .config = "native", .topology = 0, .guest_index = 0, .workload = "glmark2",
				  .repetition = 1, .status = "ok", .accel = "none", .renderer = "llvmpipe",
				  .wall_s = 1, .user_s = 1, .sys_s = 0, .maxrss_kb = 10, .exit_code = 0,
				  .metrics = &m1 };

	CHECK(store_jobs(&s, "r1", &native, 1) == 0, "store native job");
	struct job_row group[2] = { native, native };

	group[0].config = group[1].config = "qemu-virgl";
	group[0].topology = group[1].topology = 2;
	group[0].guest_index = 1;
	group[1].guest_index = 2;
	group[0].metrics = &m2;
	group[1].metrics = &m3;
	CHECK(store_jobs(&s, "r1", group, 2) == 0, "store a two-guest repetition");
	CHECK(store_job_done(&s, "r1", "qemu-virgl", 2, 2, "glmark2", 1), "job found for resume");
	CHECK(!store_job_done(&s, "r1", "qemu-virgl", 2, 2, "glmark2", 2), "missing job not found");

	/* A group whose second row collides is rolled back whole. */
	struct job_row clash[2] = { group[0], group[1] };

	clash[0].repetition = 2;
	CHECK(store_jobs(&s, "r1", clash, 2) < 0, "colliding group refused");
	CHECK(!store_job_done(&s, "r1", "qemu-virgl", 2, 1, "glmark2", 2), "no half-stored group");
	CHECK(count(&s, "SELECT count(*) FROM jobs") == 3, "three jobs stored");
	CHECK(count(&s, "SELECT count(*) FROM metrics") == 6, "six metrics stored");
	CHECK(count(&s, "SELECT count(*) FROM metrics WHERE direction='lower' AND unit='ms'") == 3,
	      "direction and unit stored");

	/* A failed job has no metrics and keeps its reason. */
	struct job_row failed = native;

	failed.repetition = 2;
	failed.status = "failed";
	failed.reason = "wrong GPU path";
	failed.metrics = NULL;
	CHECK(store_jobs(&s, "r1", &failed, 1) == 0, "store a failed job");
	struct job_row bogus = native;

	bogus.repetition = 3;
	bogus.status = "great";
	CHECK(store_jobs(&s, "r1", &bogus, 1) < 0, "an unknown status is refused by the schema");

	CHECK(store_run_load(&s, "r1", &pp, &pt, &rd, &status) == 0, "load run");
	CHECK(pt && strcmp(pt, "[plan]\n") == 0, "plan text kept");
	CHECK(status && strcmp(status, "running") == 0, "status running");
	char *x1, *x2, *x3, *x4;

	CHECK(store_run_load(&s, "nope", &x1, &x2, &x3, &x4) < 0, "unknown run");
	CHECK(store_run_set_status(&s, "r1", "interrupted") == 0, "set status");
	CHECK(count(&s, "SELECT count(*) FROM runs WHERE status='interrupted' AND finished_at IS NOT NULL") == 1,
	      "interrupted with a finish time");

	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	CHECK(summary_print(&s, "r1", mem) == 0, "summary");
	fclose(mem);
	CHECK_STR_CONTAINS(text, "native");
	CHECK_STR_CONTAINS(text, "100.0"); /* native median */
	CHECK_STR_CONTAINS(text, "250.0"); /* median of the two guests */
	CHECK_STR_CONTAINS(text, "500.0"); /* their sum in that repetition */
	CHECK_STR_CONTAINS(text, "250.0%"); /* % of native */
	CHECK_STR_CONTAINS(text, "1/2"); /* one of the two native jobs ok */
	CHECK_STR_CONTAINS(text, "wrong GPU path");
	CHECK_STR_CONTAINS(text, "skipped: needs KVM");
	free(text);
	store_close(&s);

	/* Re-opening keeps everything and does not re-create the schema. */
	CHECK(store_open(&s, db) == 0, "re-open");
	CHECK(count(&s, "SELECT count(*) FROM jobs") == 4, "jobs survive re-opening");
	CHECK(count(&s, "SELECT count(*) FROM schema_version") == 1, "one schema version row");
	CHECK(count(&s, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'") == 1,
	      "integrity check passes");
	store_close(&s);

	/* Not a database: a clear error, no crash. */
	char *junk = vb_strdupf("%s/junk.db", dir);

	vb_write_file(junk, "this is not sqlite, not at all; padding padding padding padding padding padding", 80);
	CHECK(store_open(&s, junk) < 0, "a file that is not a database is refused");
	unlink(junk);
	free(junk);

	free(pp);
	free(pt);
	free(rd);
	free(status);
	char *cmd = vb_strdupf("rm -rf %s", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
	free(db);
	return check_done("store");
}
