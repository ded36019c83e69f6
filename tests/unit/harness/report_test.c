/* report_test.c: the HTML report's structure: a complete HTML page, every
 * section, one inline gnuplot SVG per chart with data drawn in it, the
 * summary's numbers, and the regression marked on the trend. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "report/report.h"
#include "analysis/summary.h"
#include "pg_fixture.h"
#include "runs_fixture.h"
#include "configs/vgpu_stats.h"

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Runs a and b (b 10% slower, with dom0, mediated guests, a scaling curve and stage times) to report on. */
static void make_runs(struct store *s)
{
	make_run(s, "a");
	copy_run(s, "a", "b", 0.9);
	exec_sql(s, "UPDATE runs SET started_at = CASE id WHEN 'a' THEN '2026-01-01T00:00:00Z'"
		    " ELSE '2026-01-02T00:00:00Z' END;"
		    "INSERT INTO host_facts VALUES ('b', 'accel', 'tcg'), ('b', 'qemu', '10.0.2 <&>'),"
		    " ('b', 'accel_reason', 'KVM present but a standard kernel does not boot under it (kvm_pvm <loaded>)');"
		    "INSERT INTO configs(run_id, name, status, reason, seq)"
		    " VALUES ('b', 'passthrough', 'skipped', 'needs KVM', 1);"
		    "UPDATE jobs SET renderer = 'virgl (LLVMPIPE)' WHERE config = 'qemu-virgl';"
		    /* dom0 ran alongside the three guests in repetition 1, at 400 */
		    "INSERT INTO jobs(run_id, config, topology, guest_index, workload, repetition, status, accel,"
		    " finished_at) VALUES ('b', 'qemu-virgl', 3, 0, 'glmark2', 1, 'ok', 'none', 'now');"
		    "INSERT INTO metrics SELECT id, 'score', 400, 'score', 'higher' FROM jobs"
		    " WHERE run_id = 'b' AND topology = 3 AND guest_index = 0;"
		    /* three mediated guests at half the native median (766.5) */
		    "INSERT INTO configs(run_id, name, status, reason, seq) VALUES ('b', 'mediated', 'run', NULL, 2);"
		    "INSERT INTO jobs(run_id, config, topology, guest_index, workload, repetition, status, accel,"
		    " finished_at) SELECT 'b', 'mediated', 3, guest_index, workload, repetition, 'ok', 'tcg', 'now'"
		    " FROM jobs WHERE run_id = 'b' AND config = 'qemu-virgl' AND topology = 3 AND guest_index > 0;"
		    "INSERT INTO metrics SELECT id, 'score', 383.25, 'score', 'higher' FROM jobs"
		    " WHERE run_id = 'b' AND config = 'mediated';"
		    /* one qemu-virgl guest alone at 200: with the three above, a scaling curve */
		    "INSERT INTO jobs(run_id, config, topology, guest_index, workload, repetition, status, accel,"
		    " finished_at) SELECT 'b', 'qemu-virgl', 1, 1, 'glmark2', repetition, 'ok', 'tcg', 'now'"
		    " FROM jobs WHERE run_id = 'b' AND config = 'qemu-virgl' AND topology = 3 AND guest_index = 1;"
		    "INSERT INTO metrics SELECT id, 'score', 200, 'score', 'higher' FROM jobs"
		    " WHERE run_id = 'b' AND config = 'qemu-virgl' AND topology = 1;"
		    /* where the mediator's time went: 100 frames a job, 50 ms checking, 30 ms waiting on fences */
		    "INSERT INTO vgpu_stats(job_id, vgpu, frames) SELECT id, 'guest' || guest_index, 100 FROM jobs"
		    " WHERE run_id = 'b' AND config = 'mediated';"
		    "INSERT INTO job_stages SELECT id, 'check', 100, 50.0, 0, 0, 1000, '30:90 40:10' FROM jobs"
		    " WHERE run_id = 'b' AND config = 'mediated';"
		    "INSERT INTO job_stages SELECT id, 'fence', 10, 30.0, 0, 0, 4100, '50:10' FROM jobs"
		    " WHERE run_id = 'b' AND config = 'mediated';");
}

/* Every section, the charts with data drawn, the stage cells, the summary, sharing and the flagged trend. */
static void check_charts(const char *html)
{
	CHECK(html && strncmp(html, "<!DOCTYPE html>", 15) == 0, "an HTML page");
	CHECK_STR_CONTAINS(html, "</body></html>");
	static const char *const sections[] = { "id=triangle", "id=summary", "id=native",    "id=sharing", "id=stages",
						"id=frametime", "id=trends",  "id=piglit", "id=robustness", "id=env" };

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		CHECK_STR_CONTAINS(html, sections[i]);
	CHECK_STR_CONTAINS(html, "detectable</th>");
	/* Power said once under the summary, not as an alarm on every row. */
	CHECK_STR_CONTAINS(html, "<p id=power><b>Power</b>: ");
	CHECK_STR_CONTAINS(html, " rows can see a change of 5% (compare's default threshold)");
	CHECK(!strstr(html ? html : "", "underpowered"), "no row says underpowered");
	CHECK(count(html, "<svg") == 6 && count(html, "</svg>") == 6, "six inline SVG charts (%d)", count(html, "<svg"));
	static const char *const charts[] = { "chart-native", "chart-sharing", "chart-scaling", "chart-stages",
					      "chart-frametime", "chart-trend" };
	/* per frame: 50 ms / 100 frames checking; p50 in bucket 30 (up to 196.6 us), p99 in bucket 40 capped at the
	 * longest (1000 us); fences 0.3 ms a frame, every percentile capped at the longest */
	{
		const char *per = html ? strstr(html, "<caption>time per frame (ms)</caption>") : NULL;
		const char *p50 = per ? strstr(per, "<caption>p50 of each event (µs)</caption>") : NULL;
		const char *p99 = p50 ? strstr(p50, "<caption>p99 of each event (µs)</caption>") : NULL;
		const char *end = p99 ? strstr(p99, "</table>") : NULL;

		CHECK(per && p50 && p99 && end, "a stage table per statistic, units in its caption");
		CHECK(per && p50 && strstr(per, "<td>0.500</td><td class=na>–</td><td>0.300</td>") &&
			      strstr(per, "<td>0.500</td>") < p50,
		      "time per frame: checking 0.500 ms, fences 0.300 ms, one number a cell");
		CHECK(p50 && p99 && strstr(p50, "<td>197</td><td class=na>–</td><td>4100</td>") &&
			      strstr(p50, "<td>197</td>") < p99,
		      "p50: checking 197 µs, fences 4100 µs");
		CHECK(p99 && end && strstr(p99, "<td>1000</td><td class=na>–</td><td>4100</td>") &&
			      strstr(p99, "<td>1000</td>") < end,
		      "p99: checking 1000 µs, fences 4100 µs");
	}
	CHECK_STR_CONTAINS(html, "<td class=na>–</td>");

	for (size_t i = 0; i < 4; i++) {
		const char *c = html ? strstr(html, charts[i]) : NULL, *end = c ? strstr(c, "</svg>") : NULL;

		CHECK(c && end, "%s present", charts[i]);
		if (!c || !end)
			continue;
		char *svg = strndup(c, (size_t)(end - c));

		/* gnuplot draws data as paths with coordinates: a chart with data has several. */
		CHECK(count(svg, "<path") >= 4, "%s has data drawn (%d paths)", charts[i], count(svg, "<path"));
		CHECK(!strstr(svg, "<script"), "%s has no script", charts[i]);
		free(svg);
	}
	CHECK(!strstr(html ? html : "", "class=err"), "no chart failed");
	/* Summary: native median 850 x 1.002 x 0.9 = 766.5; guests 90 x 0.9 = 81 -> 10.6% of native. */
	CHECK_STR_CONTAINS(html, "<td>766.5</td>");
	CHECK_STR_CONTAINS(html, "<td>81.0</td>");
	CHECK_STR_CONTAINS(html, "<td>10.6%</td>");
	/* Sharing: three per-guest medians, Jain close to 1; dom0 kept apart from the guests. */
	CHECK(count(html, "qemu-virgl</td><td>3</td>") >= 1, "sharing row for 3 guests");
	CHECK_STR_CONTAINS(html, "<td>80.8, 81.2, 80.8</td>"); /* per-guest medians over the noisy repetitions */
	CHECK_STR_CONTAINS(html, "<td>400.0</td><td>0.575</td>"); /* 642.8^2 / (4 * (80.8^2 + 81.2^2 + 80.8^2 + 400^2)) */
	CHECK_STR_CONTAINS(html, "qemu-virgl (dom0)");
	/* The slowed run is flagged on the trend line. */
	CHECK_STR_CONTAINS(html, "2 runs of this plan shown; 2 flagged points");
	CHECK_STR_CONTAINS(html, "No piglit results in this run");
}

/* Where the browser's screenshot of the report is kept for a person to look at: the build folder, when the test
 * runs from the tree (make test), else nowhere. */
#define SCREENSHOT_DIR "build/artifacts"

/* Headless Chromium draws the page as a person sees its top, into SCREENSHOT_DIR/report_test.png. */
static void check_screenshot(const char *dir, const char *path)
{
	char *shot = vb_strdupf("%s/report_test.png", SCREENSHOT_DIR);
	char *cmd = vb_strdupf("timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic "
			       "--no-first-run --disable-background-networking --disable-component-update "
			       "--disable-sync --user-data-dir=%s/chromium --hide-scrollbars --window-size=1100,1600 "
			       "--screenshot=%s file://%s >%s/screenshot.log 2>&1",
			       dir, shot, path, dir);
	size_t len = 0;
	char *png;

	if (access("build", W_OK) != 0 || vb_mkdirs(SCREENSHOT_DIR, 0755) < 0) {
		free(shot);
		free(cmd);
		return;
	}
	unlink(shot);
	CHECK(system(cmd) == 0, "Chromium took a screenshot of the report (%s/screenshot.log)", dir);
	png = vb_read_file(shot, &len);
	CHECK(png && len > 8 && !memcmp(png, "\x89PNG", 4), "the screenshot is a PNG (%zu bytes): %s", len, shot);
	free(png);
	free(shot);
	free(cmd);
}

/* No reason is said twice in the triangle: a cell that does not hold a number says so in a word ("passthrough
 * skipped"), and a text with a reason in it (after a colon) is said once. */
static void check_no_repeats(const char *html)
{
	const char *from = html ? strstr(html, "id=triangle") : NULL, *to = from ? strstr(from, "id=summary") : NULL;
	char seen[64][160];
	int n = 0, repeats = 0;

	for (const char *p = from; p && p < to && (p = strstr(p, "class=na>")) && p < to; p++) {
		const char *end = strchr(p, '<');
		size_t len = end ? (size_t)(end - p - 9) : 0;

		if (!memchr(p + 9, ':', len) || n == 64)
			continue;
		snprintf(seen[n], sizeof(seen[0]), "%.*s", (int)(len < 159 ? len : 159), p + 9);
		for (int i = 0; i < n; i++)
			if (!strcmp(seen[i], seen[n])) {
				repeats++;
				fprintf(stderr, "said again in the triangle: %s\n", seen[n]);
			}
		n++;
	}
	CHECK(from && to && repeats == 0, "no sentence said twice in the triangle (%d)", repeats);
}

/* The page as a browser sees it: headless Chromium loads it, its DOM has every chart and opens with the
 * verdict, the console has no error, and a screenshot is kept. */
static void check_browser(const char *dir, const char *path)
{
	char *cmd = vb_strdupf("timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic "
			       "--no-first-run --disable-background-networking --disable-component-update "
			       "--disable-sync --user-data-dir=%s/chromium --enable-logging=stderr --v=0 "
			       "--dump-dom file://%s 2> %s/chromium.log",
			       dir, path, dir);
	FILE *p = access("/usr/bin/chromium", X_OK) == 0 ? popen(cmd, "r") : NULL;
	char *dom = NULL, *log;
	size_t got = 0;

	CHECK(p != NULL, "headless Chromium (/usr/bin/chromium, installed by make deps)");
	if (p) {
		char buf[65536];
		size_t r;

		while ((r = fread(buf, 1, sizeof(buf), p)) > 0) {
			dom = realloc(dom, got + r + 1);
			if (!dom)
				abort();
			memcpy(dom + got, buf, r);
			got += r;
			dom[got] = '\0';
		}
		CHECK(pclose(p) == 0, "Chromium loaded the report");
		CHECK(dom && count(dom, "<svg") == 6, "the browser's DOM has the 6 charts (%d)", dom ? count(dom, "<svg") : 0);
		CHECK(dom && strstr(dom, "id=\"summary\""), "the browser's DOM has the summary");
		CHECK(dom && strstr(dom, "<h2") && !strncmp(strstr(dom, "<h2"), "<h2 id=\"verdict\">Verdict</h2>", 29),
		      "the first section the browser shows is the verdict: %.60s",
		      dom && strstr(dom, "<h2") ? strstr(dom, "<h2") : "(none)");
		log = vb_strdupf("%s/chromium.log", dir);
		char *text = vb_read_file(log, NULL);

		CHECK(!text || !strstr(text, "CONSOLE"), "no console errors: %s", text ? text : "");
		free(text);
		free(log);
		check_screenshot(dir, path);
	}
	free(dom);
	free(cmd);
}

/* The report opens with the triangle; a corner that did not run says why; the scaling curve; the environment. */
static void check_triangle(const char *html, const char *reports)
{
	CHECK(html && strstr(html, "<h2 id=verdict>Verdict</h2>") &&
		      strstr(html, "id=verdict") < strstr(html, "id=triangle") &&
		      strstr(html, "id=triangle") < strstr(html, "id=summary"),
	      "the verdict comes first, then the triangle");
	CHECK_STR_CONTAINS(html, "<li>passthrough did not run here: needs KVM</li>");
	CHECK_STR_CONTAINS(html, "<li>glmark2 (score): mediated is 4.73x qemu-virgl summed over 3 guests, 0.50x native "
				 "with 3 guests</li>");
	check_no_repeats(html);
	CHECK_STR_CONTAINS(html, "<th>mediated ÷ native</th><th>passthrough ÷ native</th><th>mediated ÷ passthrough</th>");
	CHECK_STR_CONTAINS(html, "<tr><td>glmark2</td><td>score</td><td>3</td><td>50.0% (");
	/* three guests: both of passthrough's cells; one guest (qemu-virgl alone ran it): passthrough ÷ native, while
	 * mediated ÷ passthrough names the first corner missing, mediated; the reason once, under the table */
	CHECK(count(html, "<td class=na>passthrough skipped</td>") == 3, "passthrough's cells say skipped (%d)",
	      count(html, "<td class=na>passthrough skipped</td>"));
	CHECK(count(html, "<p class=na>passthrough did not run here: needs KVM</p>") == 1 &&
		      count(html, "passthrough did not run here: needs KVM") == 2,
	      "and why once under the triangle, once in the verdict (%d)",
	      count(html, "passthrough did not run here: needs KVM"));
	/* One chart per workload for sharing and trends: units never mix. */
	CHECK_STR_CONTAINS(html, "id=\"chart-sharing-glmark2\"");
	/* qemu-virgl ran 1 and 3 guests: a scaling curve with its ideal; mediated only 3, a lone point */
	CHECK_STR_CONTAINS(html, "id=\"chart-scaling-glmark2\"");
	{
		char *dat = vb_strdupf("%s/b/data/scaling-glmark2.dat", reports), *txt = vb_read_file(dat, NULL);

		CHECK(txt && strstr(txt, "# qemu-virgl\n1 200.0000 200.0000\n3 ") && strstr(txt, " 600.0000\n") && strstr(txt, "# mediated\n3 1149.7500 nan\n"),
		      "the curve's points per config (3 x 383.25 for mediated, no ideal without one guest alone): %s",
		      check_str(txt));
		free(txt);
		free(dat);
	}
	CHECK_STR_CONTAINS(html, "id=\"chart-trend-glmark2\"");
	/* Environment, escaped. */
	CHECK_STR_CONTAINS(html, "10.0.2 &lt;&amp;&gt;");
	CHECK_STR_CONTAINS(html, "GL_RENDERER (qemu-virgl)");
	CHECK_STR_CONTAINS(html, "needs KVM");
	CHECK_STR_CONTAINS(html, "<th>accel</th><td>tcg</td>");
	CHECK_STR_CONTAINS(html, "<th>accel_reason</th><td>KVM present but a standard kernel does not boot under it "
				 "(kvm_pvm &lt;loaded&gt;)</td>");
}

/* A passthrough that ran its one guest beside three mediated guests: at three guests passthrough's cells say it
 * never runs with more, at one mediated's that it was not run so; neither claims a failure, each said once. */
static void check_one_guest(struct store *s, const char *reports)
{
	char *path = NULL, *html;

	copy_run(s, "a", "pt", 1.0);
	exec_sql(s, "INSERT INTO configs(run_id, name, status, reason, seq)"
		    " VALUES ('pt', 'passthrough', 'run', NULL, 1), ('pt', 'mediated', 'run', NULL, 2);"
		    "UPDATE jobs SET config = 'mediated' WHERE run_id = 'pt' AND config = 'qemu-virgl';"
		    "INSERT INTO jobs(run_id, config, topology, guest_index, workload, repetition, status, accel,"
		    " finished_at) SELECT 'pt', 'passthrough', 1, 1, workload, repetition, 'ok', 'tcg', 'now'"
		    " FROM jobs WHERE run_id = 'pt' AND config = 'mediated' AND guest_index = 1;"
		    "INSERT INTO metrics SELECT id, 'score', 700, 'score', 'higher' FROM jobs"
		    " WHERE run_id = 'pt' AND config = 'passthrough';");
	CHECK(report_generate(s, "pt", reports, &path) == 0, "the one-guest passthrough run's report");
	html = path ? vb_read_file(path, NULL) : NULL;
	CHECK(count(html, "<td class=na>passthrough 1 guest at most</td>") == 2 &&
		      count(html, "<p class=na>passthrough runs with 1 guest at most (") == 1 &&
		      !strstr(html, "no successful"),
	      "three guests: passthrough runs one guest at most, said once, no failure claimed: %.1500s",
	      html && strstr(html, "id=triangle") ? strstr(html, "id=triangle") : "(none)");
	CHECK(count(html, "<td class=na>mediated not run with 1 guest</td>") == 2 &&
		      count(html, "<p class=na>mediated was not run with 1 guest in this run</p>") == 1,
	      "one guest: mediated was not run so (the plan ran it with three), not a failure");
	check_no_repeats(html);
	free(html);
	free(path);
}

/* Displays: a row whose guest drew on two outputs lists each output's median and the total; a report whose rows
 * drew on one output each has no such section. */
static void check_displays(struct store *s, const char *reports)
{
	char *path = NULL, *html;

	copy_run(s, "a", "dp", 1.0);
	exec_sql(s, "INSERT INTO configs(run_id, name, status, reason, seq) VALUES ('dp', 'mediated', 'run', NULL, 1);"
		    "INSERT INTO jobs(run_id, config, topology, guest_index, workload, repetition, status, accel,"
		    " finished_at) SELECT 'dp', 'mediated', 1, 1, 'kms2d', repetition, 'ok', 'tcg', 'now'"
		    " FROM jobs WHERE run_id = 'dp' AND config = 'native' AND workload = 'glmark2';"
		    "INSERT INTO metrics SELECT id, 'fill.mb_per_s', 600 + repetition, 'MB/s', 'higher' FROM jobs"
		    " WHERE run_id = 'dp' AND workload = 'kms2d';"
		    "INSERT INTO metrics SELECT id, 'output1.fill.mb_per_s', 280 + repetition, 'MB/s', 'higher'"
		    " FROM jobs WHERE run_id = 'dp' AND workload = 'kms2d';"
		    "INSERT INTO metrics SELECT id, 'output2.fill.mb_per_s', 320, 'MB/s', 'higher' FROM jobs"
		    " WHERE run_id = 'dp' AND workload = 'kms2d';"
		    "INSERT INTO metrics SELECT id, 'output2.flip.per_s', 60, 'flips/s', 'higher' FROM jobs"
		    " WHERE run_id = 'dp' AND workload = 'kms2d';");
	CHECK(report_generate(s, "dp", reports, &path) == 0, "the two-output run's report");
	html = path ? vb_read_file(path, NULL) : NULL;
	const char *sec = html ? strstr(html, "<h2 id=displays>") : NULL;
	/* five repetitions (run a's native glmark2 jobs): output 1 at 281-285, the total at 601-605 */
	const char *row = "<tr><td>kms2d</td><td>fill.mb_per_s (MB/s)</td><td>mediated x1</td><td>2</td>"
			  "<td>1: 283.0, 2: 320.0</td><td>603.0</td></tr>";

	CHECK(sec && strstr(sec, row) && count(html, "<h2 id=displays>") == 1,
	      "the row's two outputs, each one's median and the total: %s in %.600s", row, sec ? sec : "(none)");
	char *table = NULL;
	size_t tlen = 0;
	FILE *t = open_memstream(&table, &tlen);

	CHECK(t && summary_print(s, "dp", t) == 0, "the run's table");
	if (t)
		fclose(t);
	CHECK(table && strstr(table, "\n               each output's median: 1: 283.0, 2: 320.0\n") &&
		      count(table, "each output's median") == 1,
	      "the table says each output's median under the row, and only there: %s", table ? table : "");
	free(table);
	free(html);
	free(path);
	path = NULL;
	CHECK(report_generate(s, "b", reports, &path) == 0, "run b's report");
	html = path ? vb_read_file(path, NULL) : NULL;
	CHECK(html && !strstr(html, "id=displays"), "no row drew on several outputs: no displays section");
	free(html);
	free(path);
}

static void check_report(struct store *s, const char *dir, const char *reports, int browser)
{
	char *path = NULL;

	CHECK(report_generate(s, "b", reports, &path) == 0, "report generated");
	CHECK(path && !strncmp(path, reports, strlen(reports)) && !strcmp(path + strlen(reports), "/b/index.html"),
	      "path %s", path ? path : "(none)");

	size_t len = 0;
	char *html = path ? vb_read_file(path, &len) : NULL;

	check_charts(html);
	if (path && browser)
		check_browser(dir, path);
	check_triangle(html, reports);
	free(html);
	free(path);
}

/* The table's footer says which accelerator the guests ran under, and why not KVM. */
static void check_footer(struct store *s)
{
	char *table = NULL;
	size_t tlen = 0;
	FILE *mem = open_memstream(&table, &tlen);

	CHECK(mem && summary_print(s, "b", mem) == 0, "summary printed");
	if (mem)
		fclose(mem);
	CHECK_STR_CONTAINS(table, "\nguests ran under tcg: KVM present but a standard kernel does not boot under "
				  "it (kvm_pvm <loaded>)\n");
	free(table);
	table = NULL;
	mem = open_memstream(&table, &tlen);
	CHECK(mem && summary_print(s, "a", mem) == 0, "summary of a run without accel facts");
	if (mem)
		fclose(mem);
	CHECK(table && !strstr(table, "guests ran under"), "no accelerator line without the fact");
	free(table);
}

/* A run with no successful jobs still gives a page, with no empty charts. */
static void check_empty(struct store *s, const char *reports)
{
	char *path = NULL, *html;
	size_t len = 0;

	exec_sql(s, "INSERT INTO runs(id, plan_name, plan_path, plan_text, dir, started_at, status)"
		    " VALUES ('empty', 'other', 'p', '', '/tmp', '2026-02-01T00:00:00Z', 'complete')");
	CHECK(report_generate(s, "empty", reports, &path) == 0, "empty run report");
	html = path ? vb_read_file(path, &len) : NULL;
	CHECK(html && count(html, "<svg") == 0, "no charts without data");
	CHECK_STR_CONTAINS(html, "No guest results in this run");
	free(html);
	free(path);
}

/* A calibration's own run: its table first, rows of configurations without a knob marked so. */
static void check_calibration(struct store *s, const char *reports)
{
	char *path = NULL, *html;
	size_t len = 0;
	struct calibration_row cal[2] = {
		{ .workload = "glmark2", .metric = "score", .config = "mediated", .topology = 1,
		  .injected = "mediator throttle 5%", .aa_pairs = 3, .aa_flagged = 0, .ab_pairs = 6, .ab_detected = 1,
		  .change_pct = -3.5, .detectable_pct = 3.1 },
		{ .workload = "glmark2", .metric = "score", .config = "qemu-virgl", .topology = 3, .dom0 = 1,
		  .aa_pairs = 3, .aa_flagged = 1, .change_pct = NAN, .detectable_pct = NAN },
	};

	exec_sql(s, "INSERT INTO runs(id, plan_name, plan_path, plan_text, dir, started_at, status)"
		    " VALUES ('cal', 'x-calibration', 'p', '', 'runs/cal', '2026-02-02T00:00:00Z', 'complete')");
	CHECK(store_calibration_put(s, "cal", cal, 2) == 0 &&
		      store_host_fact(s, "cal", "calibration", "a 5% slowdown, 3 rounds <A&B>") == 0,
	      "a calibration stored");
	path = NULL;
	CHECK(report_generate(s, "cal", reports, &path) == 0, "a calibration's report");
	html = path ? vb_read_file(path, &len) : NULL;
	CHECK_STR_CONTAINS(html, "<h2 id=calibration>Calibration</h2>");
	CHECK_STR_CONTAINS(html, "a 5% slowdown, 3 rounds &lt;A&amp;B&gt;");
	CHECK_STR_CONTAINS(html, "<td>mediator throttle 5%<td>0/3<td>1/6<td>-3.5%<td>3.1%</tr>");
	CHECK_STR_CONTAINS(html, "<td>dom0+3<td>nothing (no knob)<td>1/3<td class=na>-<td class=na>-<td class=na>-</tr>");
	CHECK_STR_CONTAINS(html, "False alarms: 1 of 6 A/A row pairs; detections: 1 of 6 A/B row pairs.");
	free(html);
	free(path);
	path = NULL;
	CHECK(report_generate(s, "empty", reports, &path) == 0 && (html = vb_read_file(path, &len)) &&
		      !strstr(html, "id=calibration"),
	      "no calibration section in other runs");
	free(html);
	free(path);
}

	/* A run with an interleaved arm (run --baseline-mediator): its compare with the arm first, at the run's
	 * threshold, over the rows both ran. The arm here ran the guests only, 10% faster than run a. */
static void check_arms(struct store *s, const char *reports)
{
	char *path = NULL, *html;
	size_t len = 0;

	copy_run(s, "a", "abase", 1 / 0.9);
	exec_sql(s, "UPDATE runs SET plan_name = 'nightly-base' WHERE id = 'abase';"
		    "DELETE FROM jobs WHERE run_id = 'abase' AND config = 'native';"
		    "INSERT INTO host_facts VALUES ('a', 'interleaved arm 1', 'abase (only the configurations it "
		    "changes)'), ('abase', 'interleaved with', 'a'), ('abase', 'arm mediator', '/old/<m>'),"
		    " ('abase', 'arm compare threshold', '3');"
		    /* a metric only the arm has: named below the table, not compared */
		    "INSERT INTO metrics SELECT id, 'arm_only', 1, 'fps', 'higher' FROM jobs"
		    " WHERE run_id = 'abase' AND config = 'qemu-virgl'");
	path = NULL;
	CHECK(report_generate(s, "a", reports, &path) == 0, "a report of a run with an arm");
	html = path ? vb_read_file(path, &len) : NULL;
	CHECK_STR_CONTAINS(html, "<h2 id=arms>This run against its interleaved arms</h2>");
	CHECK_STR_CONTAINS(html, "Mediator of that arm: /old/&lt;m&gt;. A row is flagged when its median moved "
				 "more than 3.0%");
	CHECK(html && strstr(html, "id=arms") < strstr(html, "id=triangle"), "the arm's compare comes first");
	CHECK_STR_CONTAINS(html, "<tr class=reg><td>glmark2<td>score<td>qemu-virgl<td>3<td>100.00<td>90.00"
				 "<td>-10.0%<td>");
	CHECK(html && !strstr(html, "<td>glmark2<td>score<td>native"), "native, which the arm did not run, is "
								     "left out");
	CHECK_STR_CONTAINS(html, "2 regressions, 0 improvements over 2 rows.");
	CHECK_STR_CONTAINS(html, "<p>Rows the arm has and this run does not, so not compared: glmark2 arm_only "
				 "qemu-virgl (3 guests).</p>");
	free(html);
	free(path);
	path = NULL;
	CHECK(report_generate(s, "b", reports, &path) == 0 && (html = vb_read_file(path, &len)) &&
		      !strstr(html, "id=arms"),
	      "no arms section in a run without arms");
	free(html);
	free(path);
}

/* Scenarios: their own section, a table per scenario, a share chart and a chart over time per policy. */
static void check_scenarios(struct store *s, const char *reports)
{
	char *path = NULL, *html;
	size_t len = 0;
	struct vgpu_sample smp[4];
	struct vgpu_stats hog = { .present = 1, .share = 0.5, .weight = 1, .gpu_ms = 300, .throttled_ms = 120 },
			  vic = { .present = 1, .share = 0.5, .weight = 1, .target_fps = 30, .gpu_ms = 100,
				  .windows = 10, .windows_met = 9 };
	struct scenario_row rows[4] = {
		{ .scenario = "noisy", .policy_run = "equal-share", .phase = "contended", .guest_index = 1,
		  .workload = "gpuhog", .repetition = 1, .status = "ok", .metric = "fps", .value = 16, .has_value = 1,
		  .unit = "fps", .wall_s = 40, .vgpu_name = "guest1", .vgpu = &hog, .samples = smp, .nsamples = 4,
		  .sample_col = 0, .window_gpu_ms = 150, .window_s = 3 },
		{ .scenario = "noisy", .policy_run = "equal-share", .phase = "contended", .guest_index = 2,
		  .workload = "glmark2", .repetition = 1, .status = "ok", .metric = "score", .value = 90,
		  .has_value = 1, .unit = "score", .wall_s = 20, .vgpu_name = "guest2", .vgpu = &vic, .samples = smp,
		  .nsamples = 4, .sample_col = 1, .window_gpu_ms = 50, .window_s = 3 },
		{ .scenario = "noisy", .policy_run = "equal-share", .phase = "baseline", .guest_index = 1,
		  .workload = "idle", .repetition = 1, .status = "ok", .wall_s = -1, .vgpu_name = "guest1",
		  .window_gpu_ms = 0, .window_s = 3 },
		{ .scenario = "noisy", .policy_run = "equal-share", .phase = "baseline", .guest_index = 2,
		  .workload = "glmark2", .repetition = 1, .status = "ok", .metric = "score", .value = 180,
		  .has_value = 1, .unit = "score", .wall_s = 20, .vgpu_name = "guest2", .window_gpu_ms = 90,
		  .window_s = 3 },
	};

	for (int i = 0; i < 4; i++) {
		memset(&smp[i], 0, sizeof(smp[i]));
		smp[i].t_s = i;
		smp[i].present[0] = smp[i].present[1] = 1;
		smp[i].gpu_ms[0] = 75.0 * i;
		smp[i].gpu_ms[1] = 25.0 * i;
	}
	exec_sql(s, "INSERT INTO runs(id, plan_name, plan_path, plan_text, dir, started_at, status)"
		    " VALUES ('sc', 'sharing', 'p', '', 'runs/sc', '2026-03-01T00:00:00Z', 'complete')");
	CHECK(store_scenario_jobs(s, "sc", rows, 2) == 0 && store_scenario_jobs(s, "sc", rows + 2, 2) == 0,
	      "scenario rows stored: %s", s->err);
	path = NULL;
	CHECK(report_generate(s, "sc", reports, &path) == 0, "a report of scenarios alone");
	html = path ? vb_read_file(path, &len) : NULL;
	CHECK_STR_CONTAINS(html, "<h2 id=scenarios>");
	CHECK_STR_CONTAINS(html, "<h3>scenario noisy</h3>");
	/* The hog: 150 of 200 ms in the window, its configured half, held 120 ms. */
	CHECK_STR_CONTAINS(html, "<td>guest1</td><td>gpuhog</td><td>16.0 fps</td><td>0.750</td><td>0.500</td>"
				 "<td>120</td>");
	/* The victim kept 90 of its 180: 0.50; 9 of 10 windows met its target. */
	CHECK_STR_CONTAINS(html, "<td>guest2</td><td>glmark2</td><td>90.0 score</td><td>0.250</td><td>0.500</td>"
				 "<td>0</td><td>90%</td><td>0.50</td>");
	CHECK_STR_CONTAINS(html, "Jain on GPU time per weight 0.800");
	CHECK(count(html, "<svg") == 2, "a share chart and a chart over time (%d)", count(html, "<svg"));
	CHECK_STR_CONTAINS(html, "id=\"chart-scenario-noisy-shares\"");
	CHECK_STR_CONTAINS(html, "id=\"chart-scenario-noisy-0-time\"");
	CHECK(!strstr(html ? html : "", "class=err"), "no chart failed");
	free(html);
	free(path);
}

/* Every part on a new database at url, its reports under reports; the page in a browser too when browser is set. */
static void test_all(const char *url, const char *dir, const char *reports, int browser)
{
	struct store s;

	CHECK(store_open(&s, url) == 0, "open %s", url);
	make_runs(&s);
	check_report(&s, dir, reports, browser);
	check_footer(&s);
	check_empty(&s, reports);
	check_one_guest(&s, reports);
	check_displays(&s, reports);
	check_calibration(&s, reports);
	check_arms(&s, reports);
	check_scenarios(&s, reports);
	store_close(&s);
}

/* On SQLite (the page also in Chromium), then on the tests' PostgreSQL server when there is one. */
int main(void)
{
	char dir[] = "/tmp/vgpubench-report-XXXXXX";
	const char *server;

	if (!mkdtemp(dir))
		return 1;
	char *db = vb_strdupf("%s/vgpubench.db", dir), *reports = vb_strdupf("%s/reports", dir);

	test_all(db, dir, reports, 1);
	free(db);
	if ((server = pg_fixture_server("report"))) {
		free(reports);
		reports = vb_strdupf("%s/reports-pg", dir);
		db = pg_fixture_db(server, "report");
		test_all(db, dir, reports, 0);
		free(db);
	}
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(reports);
	return check_done("report");
}
