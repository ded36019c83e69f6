/* report.c: the self-contained HTML report, section by section (one file per kind of section). Numbers come from the
 * database through series.c and stats.c; each chart is drawn by gnuplot (svg terminal) from a data file kept next to
 * the report, and its SVG is inlined. A chart without data is not drawn: the section says why instead. */
#define _GNU_SOURCE
#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/rep.h"
#include "util.h"

int report_generate(struct store *st, const char *run, const char *reports_dir, char **path_out)
{
	struct rep r = { .st = st, .run = run };
	char *path;
	struct vb_out page;
	int rc = -1;

	if (!vb_is_identifier(run)) {
		vb_err("'%s' is not a run id", run);
		return -1;
	}
	if (!store_run_exists(st, run)) {
		vb_err("no run '%s'", run);
		return -1;
	}
	r.dir = vb_strdupf("%s/%s", reports_dir, run);
	r.data = vb_strdupf("%s/data", r.dir);
	path = vb_strdupf("%s/index.html", r.dir);
	if (vb_mkdirs(r.data, 0755) < 0) {
		vb_err("cannot create %s: %s", r.data, strerror(errno));
		goto out;
	}
	if (series_load(st, run, &r.set) < 0)
		goto out;
	if (vb_out_open(&page, path) < 0)
		goto out;
	r.html = page.f;
	fprintf(r.html, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n<title>vgpubench report ");
	vb_xml_escape(r.html, run);
	fprintf(r.html, "</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
			"table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
			"text-align:left}th{background:#eee}.noisy{background:#fde8c8}.err{color:#b00}tr.reg{background:#f8d0d0}"
			"li.regression{color:#b00}li.fix{color:#070}figure{margin:1em 0}"
			"figcaption{font-size:90%%;color:#555}.na{color:#777;font-size:90%%}</style>\n</head><body>\n"
			"<h1>vgpubench report: ");
	vb_xml_escape(r.html, run);
	fprintf(r.html, "</h1>\n<p><a href=#verdict>verdict</a> · <a href=#triangle>mediated, passthrough, native</a> · "
			"<a href=#summary>summary</a> · <a href=#native>%% of native</a> · "
			"<a href=#sharing>sharing quality</a> · <a href=#stages>mediator stages</a> · "
			"<a href=#scenarios>scenarios</a> · "
			"<a href=#frametime>frame times</a> · "
			"<a href=#trends>trends</a> · <a href=#piglit>piglit</a> · <a href=#robustness>robustness</a> · "
			"<a href=#env>environment</a></p>\n");
	rep_section_verdict(&r);
	rep_section_calibration(&r);
	rep_section_arms(&r);
	rep_section_triangle(&r);
	rep_section_summary(&r);
	rep_section_displays(&r);
	rep_section_sharing(&r);
	rep_section_stages(&r);
	rep_section_scenarios(&r);
	rep_section_frametimes(&r);
	rep_section_trends(&r);
	rep_section_piglit(&r);
	rep_section_robustness(&r);
	rep_section_environment(&r);
	fprintf(r.html, "</body></html>\n");
	if (vb_out_commit(&page) < 0)
		goto out;
	/* The page is there, but a chart or data file that is missing makes the report incomplete. */
	rc = r.failed ? -1 : 0;
	if (r.failed)
		vb_err("report %s: %d chart%s or data file%s could not be made", path, r.failed,
		       r.failed == 1 ? "" : "s", r.failed == 1 ? "" : "s");
	if (path_out) {
		*path_out = path;
		path = NULL;
	}
out:
	series_free(&r.set);
	free(r.dir);
	free(r.data);
	free(path);
	return rc;
}
