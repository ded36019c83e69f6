/* trends_test.c: vgpubench trends on both back-ends, over 30 nights of one host: native glmark2 drops 10% at night
 * 15, when QEMU changed (found there, a regression, the QEMU change named); the mediated score drops 10% in the
 * last three nights (a new regression: exit 4); a frame time (lower is better) that falls is an improvement; a
 * steady series has none; another host's and another plan's runs stay out unless asked for; --since keeps the
 * nights from a date on; a series shorter than 6 runs is counted, not judged; a failed run is left out. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "analysis/compare.h"
#include "analysis/trends.h"
#include "report/report.h"
#include "pg_fixture.h"
#include "runs_fixture.h"
#include "util.h"

/* A small deterministic noise in [1 - a, 1 + a]. */
static double jitter(uint64_t *s, double a)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return 1 + a * (2.0 * (double)(*s >> 11) / 9007199254740992.0 - 1);
}

/* Night `night` (0-based, 30 nights back from 2026-11-01) of plan on host: native and mediated glmark2, 3
 * repetitions each, with the given levels, and the host's QEMU version. */
static void night_run(struct store *s, const char *host, const char *plan, int night, double native,
		      double mediated, const char *qemu, const char *status)
{
	char id[96], *sql;
	uint64_t seed = (uint64_t)night * 7919 + (uint64_t)strlen(host) * 31 + (uint64_t)strlen(plan);

	snprintf(id, sizeof(id), "202611%02d-020000-%s-%s", night + 1, host, plan);
	CHECK(store_run_create(s, id, plan, host, "p.ini", "[plan]\n", "/tmp") == 0, "run %s: %s", id, s->err);
	for (int rep = 1; rep <= 3; rep++)
		for (int g = 0; g < 2; g++) {
			struct wl_result m = { 0 };
			double level = g ? mediated : native;
			struct job_row j = { .config = g ? "mediated" : "native", .topology = g, .guest_index = g,
					     .workload = "glmark2", .repetition = rep, .status = "ok", .wall_s = 1,
					     .metrics = &m };

			wl_add_metric(&m, "score", level * jitter(&seed, 0.01), "score", 1);
			wl_add_metric(&m, "build.frame_time", 1000 / (level * jitter(&seed, 0.01)), "ms", 0);
			wl_add_metric(&m, "steady", 50 * jitter(&seed, 0.01), "fps", 1);
			CHECK(store_jobs(s, id, &j, 1) == 0, "a job of %s: %s", id, s->err);
		}
	store_host_fact(s, id, "qemu", qemu);
	if (night >= 27) /* the guests' kernel arguments changed with the mediated step */
		store_host_fact(s, id, "guest_kernel_args", "nopti cryptomgr.notests");
	store_run_set_status(s, id, status, NULL);
	sql = vb_strdupf("UPDATE runs SET started_at = '2026-11-%02dT02:00:00Z' WHERE id = '%s'", night + 1, id);
	exec_sql(s, sql);
	free(sql);
}

/* Night `night` of host h3's plan "dips": native glmark2 at `level`, 6 repetitions (enough for compare to flag). */
static void dip_night(struct store *s, int night, double level)
{
	char id[96], *sql;
	uint64_t seed = (uint64_t)night * 104729 + 17;

	snprintf(id, sizeof(id), "202611%02d-030000-h3-dips", night + 1);
	CHECK(store_run_create(s, id, "dips", "h3", "p.ini", "[plan]\n", "/tmp") == 0, "run %s: %s", id, s->err);
	for (int rep = 1; rep <= 6; rep++) {
		struct wl_result m = { 0 };
		struct job_row j = { .config = "native", .workload = "glmark2", .repetition = rep, .status = "ok",
				     .wall_s = 1, .metrics = &m };

		wl_add_metric(&m, "score", level * jitter(&seed, 0.01), "score", 1);
		CHECK(store_jobs(s, id, &j, 1) == 0, "a job of %s: %s", id, s->err);
	}
	store_run_set_status(s, id, "complete", NULL);
	sql = vb_strdupf("UPDATE runs SET started_at = '2026-11-%02dT03:00:00Z' WHERE id = '%s'", night + 1, id);
	exec_sql(s, sql);
	free(sql);
}

static char *trends_of(struct store *s, const struct trends_opts *o, int *rc);
static char *report_trends(struct store *s, const char *run, const char *dir);


/* A run of host's plan "odd" started at `at` (an ISO time) with native glmark2 at `level` (3 repetitions), its plan's
 * text `text`. */
static void odd_run(struct store *s, const char *host, const char *id, const char *at, double level, const char *text)
{
	char *sql;
	uint64_t seed = (uint64_t)strlen(id) * 31 + (uint64_t)at[9] * 7 + (uint64_t)at[12];

	CHECK(store_run_create(s, id, "odd", host, "p.ini", text, "/tmp") == 0, "run %s: %s", id, s->err);
	for (int rep = 1; rep <= 3; rep++) {
		struct wl_result m = { 0 };
		struct job_row j = { .config = "native", .workload = "glmark2", .repetition = rep, .status = "ok",
				     .wall_s = 1, .metrics = &m };

		wl_add_metric(&m, "score", level * jitter(&seed, 0.005), "score", 1);
		CHECK(store_jobs(s, id, &j, 1) == 0, "a job of %s: %s", id, s->err);
	}
	store_run_set_status(s, id, "complete", NULL);
	sql = vb_strdupf("UPDATE runs SET started_at = '%s' WHERE id = '%s'", at, id);
	exec_sql(s, sql);
	free(sql);
}

/* Bad input the series must take: the newest night run three times again at a bad level weighs as one night (no
 * change point, where four points would make a new regression), a plan edited under its name and a gap of days
 * are said across the change they come with. */
static void test_odd_series(struct store *s, const char *work)
{
	struct trends_opts o = { .host = "h5" };
	char id[64], at[32], *text;
	int rc;

	for (int night = 0; night < 12; night++) {
		snprintf(id, sizeof(id), "h5-%02d", night);
		snprintf(at, sizeof(at), "2026-10-%02dT02:00:00Z", night + 1);
		odd_run(s, "h5", id, at, 1000, "[plan]\n");
		if (night == 11)
			for (int again = 1; again <= 3; again++) { /* the newest night run three times again, worse */
				snprintf(id, sizeof(id), "h5-%02d-again%d", night, again);
				snprintf(at, sizeof(at), "2026-10-%02dT%02d:00:00Z", night + 1, 2 + 3 * again);
				odd_run(s, "h5", id, at, 700, "[plan]\n");
			}
	}
	text = trends_of(s, &o, &rc);
	CHECK(rc == 0 && text && strstr(text, "1 series (12 points), 0 change points") &&
		      strstr(text, "1 series had nights run more than once: such a night is one point"),
	      "a night run four times (three of them 30%% down) is one point, no change: %s", text);
	free(text);

	/* A small step that three nights do not show and a fourth does: the newest night changed an older one's. */
	o.host = "h7";
	for (int night = 0; night < 24; night++) {
		snprintf(id, sizeof(id), "h7-%02d", night);
		snprintf(at, sizeof(at), "2026-09-%02dT02:00:00Z", night + 1);
		odd_run(s, "h7", id, at, night < 20 ? 1000 : 995, "[plan]\n");
	}
	text = trends_of(s, &o, &rc);
	CHECK(rc == TRENDS_REGRESSION && text &&
		      strstr(text, "the newest night changed what was found before it:\n"
				   "  h7 odd glmark2 score native: a change point appeared at h7-20\n"),
	      "a 0.5%% step three nights did not show and a fourth did: said to have appeared, news (exit 4): %s",
	      text);
	free(text);
	{
		char *dir = vb_strdupf("%s/odd", work), *sec = report_trends(s, "h7-23", dir);

		CHECK(strstr(sec, "<p>The newest night changed what was found before it:</p>") &&
			      strstr(sec, "<li>glmark2 score native: a change point appeared at h7-20</li>") &&
			      strstr(sec, "regression (new)"),
		      "and the report of the newest run says so: %.300s",
		      strstr(sec, "<h3") ? strstr(sec, "<h3") : sec);
		free(sec);
		sec = report_trends(s, "h7-22", dir);
		CHECK(!strstr(sec, "The newest night changed"), "the report of the night before does not");
		free(sec);
		vb_rm_rf(dir);
		free(dir);
	}

	o.host = "h6";
	for (int night = 0; night < 12; night++) {
		int day = night < 6 ? night + 1 : night + 7; /* no run for 6 days before the change */

		snprintf(id, sizeof(id), "h6-%02d", night);
		snprintf(at, sizeof(at), "2026-10-%02dT02:00:00Z", day);
		odd_run(s, "h6", id, at, night < 6 ? 1000 : 850, night < 6 ? "[plan]\n" : "[plan]\nrepetitions = 3\n");
	}
	text = trends_of(s, &o, &rc);
	CHECK(rc == 0 && text && strstr(text, "h6-06") &&
		      strstr(text, "across it: the plan's text was edited; 7 days without a run before it"),
	      "a change after a gap, with the plan edited: both said: %s", text);
	free(text);
}

/* compare's output for run against base, with the rows marked by their series. */
static char *compare_of(struct store *s, const char *run, const char *base)
{
	struct compare_opts o = { .threshold_pct = 5, .alpha = 0.05 };
	struct comparison c;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	if (compare_build(s, run, base, &o, &c) < 0)
		return strdup("(compare failed)");
	CHECK(compare_series_marks(s, &c) == 0, "the series of %s read", run);
	mem = open_memstream(&text, &len);
	compare_print(&c, &o, mem);
	fclose(mem);
	compare_free(&c);
	return text;
}

/* compare marks a flagged row by its series: a one-night dip is an outlier once the series has gone on past it,
 * a step is where the series changes, and the newest night is not judged. */
static void test_compare_marks(struct store *s)
{
	char *text;

	for (int night = 0; night < 14; night++)
		dip_night(s, night, night == 4 ? 800 : night < 8 ? 1000 : 800);
	text = compare_of(s, "20261105-030000-h3-dips", "20261104-030000-h3-dips");
	CHECK(text && strstr(text, "REGRESSION") &&
		      strstr(text, "[outlier: the series does not change here, 9 runs after it]") &&
		      strstr(text, "series: a flagged row as"),
	      "a one-night dip, 9 nights on: flagged, and marked an outlier: %s", text);
	free(text);
	text = compare_of(s, "20261106-030000-h3-dips", "20261105-030000-h3-dips");
	CHECK(text && strstr(text, "improvement") && strstr(text, "[outlier: the series does not change here"),
	      "the night after the dip: an improvement, an outlier too: %s", text);
	free(text);
	text = compare_of(s, "20261109-030000-h3-dips", "20261108-030000-h3-dips");
	CHECK(text && strstr(text, "REGRESSION") && strstr(text, "[the series changes here]"),
	      "the step: flagged, and the series changes there: %s", text);
	free(text);
	text = compare_of(s, "20261109-030000-h3-dips", "20261107-030000-h3-dips");
	CHECK(text && strstr(text, "[the series changes here]"), "also against an older base: %s", text);
	free(text);
	dip_night(s, 14, 700);
	text = compare_of(s, "20261115-030000-h3-dips", "20261114-030000-h3-dips");
	CHECK(text && strstr(text, "REGRESSION") && !strstr(text, "[outlier") && !strstr(text, "[the series"),
	      "the newest night: flagged, not judged by a series that has not gone on yet: %s", text);
	free(text);
}

/* trends' output with o, and its return value in *rc. */
static char *trends_of(struct store *s, const struct trends_opts *o, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	*rc = trends_print(s, o, mem);
	fclose(mem);
	return text;
}

/* The line of the table that names metric for config, or "". */
static char *line_of(const char *text, const char *config, const char *metric)
{
	for (const char *p = text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *line = strndup(p, len);
		char *c = vb_strdupf(" %s ", config), *m = vb_strdupf(" %s ", metric);
		int hit = strstr(line, c) && strstr(line, m) && !strncmp(line, "h1 ", 3);

		free(c);
		free(m);
		if (hit)
			return line;
		free(line);
		p = end ? end + 1 : NULL;
	}
	return strdup("");
}

/* The report of run's trends section (from its "Nightly trends" heading to the piglit one), or "". */
static char *report_trends(struct store *s, const char *run, const char *dir)
{
	char *path = NULL, *html, *from, *to, *out;

	CHECK(report_generate(s, run, dir, &path) == 0, "the report of %s", run);
	html = path ? vb_read_file(path, NULL) : NULL;
	from = html ? strstr(html, "<h2 id=trends>") : NULL;
	to = from ? strstr(from, "<h2 id=piglit>") : NULL;
	out = from ? strndup(from, to ? (size_t)(to - from) : strlen(from)) : strdup("");
	free(html);
	free(path);
	return out;
}

/* The report draws the levels and change points the trends find, lists them up to its run, and counts the series
 * too short to judge. */
static void test_report(struct store *s, const char *work)
{
	char *dir = vb_strdupf("%s/reports", work), *sec, *row;

	sec = report_trends(s, "20261130-020000-h1-nightly", dir);
	row = strstr(sec, "<td>native</td><td>host</td><td>20261116-020000-h1-nightly</td>") ? strstr(sec, "20261116")
											       : NULL;
	CHECK(strstr(sec, "<h3 id=changepoints>Change points</h3>") &&
		      strstr(sec, "over 6 series and 174 runs' points"),
	      "the newest run's report has the change points of h1's nightly series: %.300s",
	      strstr(sec, "<h3") ? strstr(sec, "<h3") : sec);
	CHECK(row && strstr(row, "regression</td><td>qemu 9.2.0 -&gt; 10.0.2"),
	      "the native score's drop is a row, with the QEMU change: %.400s", row ? row : strstr(sec, "<table>"));
	CHECK(strstr(sec, "<td>20261128-020000-h1-nightly</td>") && strstr(sec, "regression (new)"),
	      "the mediated drop in the newest nights is a new regression");
	CHECK(strstr(sec, "dashed steps are the levels") && strstr(sec, "change point"),
	      "the charts draw the levels and mark the change points");
	free(sec);
	sec = report_trends(s, "20261120-020000-h1-nightly", dir);
	CHECK(strstr(sec, "20261116-020000-h1-nightly</td>") && !strstr(sec, "<td>20261128-020000-h1-nightly</td>"),
	      "an older run's report lists no change point after it");
	free(sec);
	sec = report_trends(s, "20261104-020000-h1-weekly", dir);
	CHECK(strstr(sec, "over 6 series and 24 runs' points") &&
		      strstr(sec, "): 0. 6 series have fewer than 6 runs: a change point needs 3 on either side."),
	      "a plan with 4 runs says it is too short: %.400s", strstr(sec, "<h3") ? strstr(sec, "<h3") : sec);
	free(sec);
	vb_rm_rf(dir);
	free(dir);
}

static void test_all(const char *db, const char *dir)
{
	struct store s;
	struct trends_opts o = { .host = "h1" };
	char *text, *line;
	int rc;

	CHECK(store_open(&s, db) == 0, "open %s", db);
	for (int night = 0; night < 30; night++)
		night_run(&s, "h1", "nightly", night, night < 15 ? 1000 : 900, night < 27 ? 400 : 360,
			  night < 15 ? "9.2.0" : "10.0.2", night == 10 ? "failed" : "complete");
	for (int night = 0; night < 8; night++) /* another host, another plan */
		night_run(&s, "h2", "nightly", night, 500, 200, "10.0.2", "complete");
	for (int night = 0; night < 4; night++)
		night_run(&s, "h1", "weekly", night, 1000, 400, "10.0.2", "complete");

	text = trends_of(&s, &o, &rc);
	CHECK(rc == TRENDS_REGRESSION, "a new regression: exit %d (%d)\n%s", TRENDS_REGRESSION, rc, text);
	CHECK(text && strstr(text, "trends: 12 series (") && strstr(text, "; host h1\n"),
	      "h1's series, both plans': %.200s", text);
	CHECK(text && strstr(text, "6 series have fewer than 6 runs"), "the weekly plan's 4 runs: too few, said");
	line = line_of(text, "native", "score");
	CHECK(strstr(line, "20261116-020000-h1-nightly") && (strstr(line, " -9.") || strstr(line, " -10.")) &&
		      strstr(line, "regression") && !strstr(line, "(new)"),
	      "native score: about -10%% from night 16's run, a regression, not new: %s", line);
	CHECK(text && strstr(text, "across it: qemu 9.2.0 -> 10.0.2"), "the QEMU change across it is named");
	CHECK(text && strstr(text, "across it: guest_kernel_args ? -> nopti cryptomgr.notests"),
	      "and the guests' kernel arguments across the mediated step");
	free(line);
	line = line_of(text, "native", "build.frame_time");
	CHECK(strstr(line, "20261116-020000-h1-nightly") && (strstr(line, "+11.") || strstr(line, "+10.")) &&
		      strstr(line, "regression"),
	      "its frame time rises 11%%: a regression too (lower is better): %s", line);
	free(line);
	line = line_of(text, "mediated", "score");
	CHECK(strstr(line, "20261128-020000-h1-nightly") && strstr(line, "regression (new)"),
	      "mediated score: -10%% in the last three nights, a new regression: %s", line);
	free(line);
	line = line_of(text, "native", "steady");
	CHECK(!line[0], "a steady series: no change point (%s)", line);
	free(line);
	CHECK(text && !strstr(text, "20261111-020000-h1-nightly"), "the failed run is no point");
	free(text);

	o.plan = "nightly";
	o.since = "2026-11-20";
	text = trends_of(&s, &o, &rc);
	CHECK(rc == TRENDS_REGRESSION && text && strstr(text, "trends: 6 series (66 points)") &&
		      !strstr(text, "20261116-020000-h1-nightly"),
	      "--plan nightly --since 2026-11-20: 11 nights of 6 series, the older change out of sight: %.300s", text);
	free(text);

	o = (struct trends_opts){ .host = "h2" };
	text = trends_of(&s, &o, &rc);
	CHECK(rc == 0 && text && strstr(text, "trends: 6 series (48 points), 0 change points; host h2"),
	      "h2: 6 steady series of 8 nights, exit 0: %.200s", text);
	free(text);
	o = (struct trends_opts){ .plan = "nightly" };
	text = trends_of(&s, &o, &rc);
	CHECK(text && strstr(text, "trends: 12 series") && strstr(text, "; every host; plan nightly"),
	      "every host: both hosts' nightly series: %.200s", text);
	free(text);
	o = (struct trends_opts){ .host = "h1", .cp = { .window = 1 } };
	text = trends_of(&s, &o, &rc);
	CHECK(rc < 0, "a window of 1 run: refused");
	free(text);
	test_report(&s, dir);
	test_compare_marks(&s);
	test_odd_series(&s, dir);
	store_close(&s);
}

int main(void)
{
	return pg_fixture_both("trends", test_all);
}
