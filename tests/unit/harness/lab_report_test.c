/* lab_report_test.c: vgpubench report --lab on both back-ends, over a database three hosts (and one run from before
 * hosts were recorded) wrote into: each host's latest run of its plan with its headline ratios (mediated ÷ native,
 * ÷ the peer that ran, ÷ passthrough where it ran), a host whose last run failed and one whose last run is three
 * days old marked, a host's plan with no complete run said, and the trend chart with a line per host; an empty
 * database gets a page that says so. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "pg_fixture.h"
#include "report/report.h"
#include "runs_fixture.h"
#include "util.h"

/* A glmark2 run of plan "nightly" on host, started days_ago days ago, with status: its configurations' scores
 * (3 repetitions each, 0: that configuration did not run). */
static void lab_run(struct store *s, const char *id, const char *host, double days_ago, const char *status,
		    double native, double mediated, double peer, double passthrough)
{
	const struct {
		const char *config;
		int topology, guest;
		double score;
	} rows[] = { { "native", 0, 0, native },
		     { "mediated", 1, 1, mediated },
		     { "mediated", 3, 1, mediated / 2 }, /* a larger guest count: not the headline */
		     { "qemu-virgl", 1, 1, peer },
		     { "passthrough", 1, 1, passthrough } };
	char at[32], *sql;
	time_t t = time(NULL) - (time_t)(days_ago * 86400);

	CHECK(store_run_create(s, id, "nightly", host, "nightly.ini", "[plan]\n", "/tmp") == 0, "run %s: %s", id,
	      s->err);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].score <= 0)
			continue;
		for (int rep = 1; rep <= 3; rep++) {
			struct wl_result m = { 0 };
			struct job_row j = { .config = rows[i].config, .topology = rows[i].topology,
					     .guest_index = rows[i].guest, .workload = "glmark2", .repetition = rep,
					     .status = "ok", .wall_s = 1, .metrics = &m };

			wl_add_metric(&m, "score", rows[i].score * (1 + 0.01 * (rep - 2)), "score", 1);
			CHECK(store_jobs(s, id, &j, 1) == 0, "a job of %s: %s", id, s->err);
		}
	}
	store_run_set_status(s, id, status, strcmp(status, "failed") ? NULL : "the guest did not boot");
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	sql = vb_strdupf("UPDATE runs SET started_at = '%s'%s WHERE id = '%s'", at, host ? "" : ", host = NULL", id);
	exec_sql(s, sql);
	free(sql);
}

/* The lab page made from db into dir: its text (malloc'ed), report_lab's return value in *rc. */
static char *lab_page(struct store *s, const char *dir, int *rc)
{
	char *path = NULL, *text = NULL;
	size_t len;

	*rc = report_lab(s, dir, &path);
	if (path)
		text = vb_read_file(path, &len);
	free(path);
	return text;
}

/* The table row of host (from its first cell to the end of its first row). */
static char *row_of(const char *page, const char *host)
{
	char *cell = vb_strdupf("<tr><td rowspan=1>%s</td>", host);
	const char *p = page ? strstr(page, cell) : NULL, *end = p ? strstr(p, "</tr>") : NULL;
	char *row = p && end ? strndup(p, (size_t)(end - p)) : strdup("");

	free(cell);
	return row;
}

static void test_all(const char *db, const char *dir)
{
	struct store s;
	char *page, *row, *dat;
	size_t len;
	int rc;

	CHECK(store_open(&s, db) == 0, "open %s", db);
	page = lab_page(&s, dir, &rc);
	CHECK(rc == 0 && page && strstr(page, "The database has no runs yet."), "an empty database: said");
	free(page);

	/* labA: three nights, the last complete: mediated 400, native 800, qemu-virgl 200, passthrough 500. */
	lab_run(&s, "a1", "labA", 2.5, "complete", 800, 380, 200, 0);
	lab_run(&s, "a2", "labA", 1.5, "complete", 800, 390, 200, 0);
	lab_run(&s, "a3", "labA", 0.5, "complete", 800, 400, 200, 500);
	/* labB: complete, then a failed last night (its ratios are the complete one's). */
	lab_run(&s, "b1", "labB", 1.2, "complete", 900, 300, 150, 0);
	lab_run(&s, "b2", "labB", 0.2, "failed", 0, 0, 0, 0);
	/* labC: its only run three days old. */
	lab_run(&s, "c1", "labC", 3.0, "complete", 700, 350, 0, 0);
	/* labD: running, never complete. */
	lab_run(&s, "d1", "labD", 0.1, "running", 0, 0, 0, 0);
	/* A run stored before hosts were recorded. */
	lab_run(&s, "o1", NULL, 10, "complete", 500, 100, 0, 0);

	page = lab_page(&s, dir, &rc);
	CHECK(rc == 0 && page, "the lab page is written (%d)", rc);
	CHECK(page && strstr(page, "vgpubench lab: 5 host plans"), "5 host plans (4 hosts and one unrecorded)");

	row = row_of(page, "labA");
	CHECK(strstr(row, "a3") && strstr(row, "(3 runs)") && !strstr(row, "class=mark") &&
		      strstr(row, "glmark2 (score)</td><td>1</td>") && strstr(row, ">0.50x<") &&
		      strstr(row, ">2.00x<") && strstr(row, ">0.80x<") && strstr(row, "qemu-virgl"),
	      "labA: its latest run, unmarked; mediated ÷ native 0.50x, ÷ qemu-virgl 2.00x, ÷ passthrough 0.80x, "
	      "at 1 guest: %s",
	      row);
	free(row);
	row = row_of(page, "labB");
	CHECK(strstr(row, "b2") && strstr(row, "class=mark") && strstr(row, "last run failed") &&
		      strstr(row, ">0.33x<") && strstr(row, ">2.00x<") && strstr(row, "<td class=na>–</td>"),
	      "labB: marked failed, its ratios from its last complete run, no passthrough: %s", row);
	free(row);
	row = row_of(page, "labC");
	CHECK(strstr(row, "class=mark") && strstr(row, "stale: 3 days without a run") && strstr(row, ">0.50x<"),
	      "labC: marked stale: %s", row);
	free(row);
	row = row_of(page, "labD");
	CHECK(strstr(row, "no complete run yet") && !strstr(row, "last run running"),
	      "labD: running, no complete run yet, not marked failed: %s", row);
	free(row);
	row = row_of(page, "(not recorded)");
	CHECK(strstr(row, "o1") && strstr(row, "stale") && strstr(row, ">0.20x<"),
	      "a run without a recorded host has a row of its own: %s", row);
	free(row);

	CHECK(page && strstr(page, "<svg") && strstr(page, "id=\"chart-lab-trend-0\""),
	      "the trend chart is drawn (gnuplot's SVG inlined)");
	{
		char *path = vb_strdupf("%s/lab/data/lab-trend-0.dat", dir);

		dat = vb_read_file(path, &len);
		free(path);
	}
	/* labA's line: three points, the medians 380, 390, 400 (the 3-guest rows left out). */
	CHECK(dat && strstr(dat, " 380\n") && strstr(dat, " 390\n") && strstr(dat, " 400\n") && !strstr(dat, " 200\n"),
	      "labA's line has its three nights' mediated medians, nothing of the 3-guest rows: %s", dat ? dat : "");
	CHECK(page && strstr(page, "labA: glmark2 x1") && strstr(page, "labC: glmark2 x1"),
	      "a line per host in the chart's legend");
	free(dat);
	free(page);
	store_close(&s);
}

int main(void)
{
	char dir[] = "/tmp/vgpubench-lab-XXXXXX", *db, *reports;
	const char *server;

	if (!mkdtemp(dir))
		return 1;
	db = vb_strdupf("%s/lab.db", dir);
	reports = vb_strdupf("%s/sqlite", dir);
	test_all(db, reports);
	free(db);
	free(reports);
	if ((server = pg_fixture_server("lab_report"))) {
		db = pg_fixture_db(server, "lab");
		reports = vb_strdupf("%s/pg", dir);
		test_all(db, reports);
		free(db);
		free(reports);
	}
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("lab_report");
}
