/* piglit_import_test.c: the piglit import against `piglit summary console`
 * run on the same results folder (tests/fixtures/piglit/: a subset of a real
 * run's results.json, and the console summary piglit printed for it): every
 * test, subtests expanded, with the same status. Plus broken output. */
#define _GNU_SOURCE
#include "parse_fixture.h"

int main(void)
{
	const struct workload_def *w = workload_find("piglit");
	struct wl_result r = { 0 };
	size_t len = 0;
	char *out = vb_read_file("tests/fixtures/piglit/host-llvmpipe.txt", &len);
	char *console = vb_read_file("tests/fixtures/piglit/summary-console.txt", NULL);
	int lines = 0, matched = 0;

	CHECK(w && out && console, "workload and fixtures");
	if (!w || !out || !console)
		return check_done("piglit_import");
	CHECK(w->parse(out, len, &r) == 0, "parse: %s", r.error);
	CHECK(!strcmp(r.renderer, "llvmpipe (LLVM 15.0.6, 256 bits)"), "renderer '%s'", r.renderer);
	CHECK(r.artifact && r.artifact_len > 1000 && r.artifact[0] == '{', "results.json kept as the artifact");

	/* Each "name: status" line before the totals must be one imported entry. */
	for (char *save = NULL, *l = strtok_r(console, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sep = strrchr(l, ':');

		if (!strncmp(l, "summary:", 8))
			break;
		if (!sep || sep[1] != ' ')
			continue;
		*sep = '\0';
		const char *status = sep + 2;
		int found = 0;

		lines++;
		for (size_t i = 0; i < r.nsub && !found; i++) {
			char name[1024];

			snprintf(name, sizeof(name), "%s", r.sub[i].name);
			for (char *c = name; *c; c++)
				if (*c == '@')
					*c = '/';
			if (!strcmp(name, l)) {
				found = 1;
				CHECK(!strcmp(r.sub[i].status, status), "%s: imported %s, piglit says %s", l, r.sub[i].status,
				      status);
				matched += !strcmp(r.sub[i].status, status);
			}
		}
		CHECK(found, "'%s' listed by piglit but not imported", l);
	}
	CHECK(lines > 300 && (size_t)lines == r.nsub, "piglit lists %d entries, %zu imported", lines, r.nsub);
	CHECK(matched == lines, "%d of %d statuses match", matched, lines);
	CHECK(find_metric(&r, "pass_rate") && find_metric(&r, "tests") && find_metric(&r, "fail") && find_metric(&r, "crash"), "counts");
	CHECK(find_metric(&r, "tests")->value == (double)r.nsub, "tests = entries");
	double ran = find_metric(&r, "tests")->value - find_metric(&r, "skip")->value;

	CHECK(ran > 0 && find_metric(&r, "pass_rate")->value == 100.0 * find_metric(&r, "pass")->value / ran, "pass rate");
	CHECK(find_metric(&r, "duration") && find_metric(&r, "duration")->value == 103, "duration");
	wl_result_free(&r);

	/* Broken output: clear errors, nothing kept. */
	const char *notours = "hello\n";

	CHECK(w->parse(notours, strlen(notours), &r) < 0 && strstr(r.error, "not run-piglit.sh output"), "not ours");
	CHECK(r.nsub == 0, "nothing allocated");
	const char *noresults = "piglit-wrapper: 1\nrenderer: x\nerror: piglit wrote no results (exit 1)\n";

	CHECK(w->parse(noresults, strlen(noresults), &r) < 0 && strstr(r.error, "piglit wrote no results"),
	      "no results: %s", r.error);
	char *cut = strndup(out, len / 2);

	CHECK(w->parse(cut, strlen(cut), &r) < 0 && strstr(r.error, "truncated"), "truncated: %s", r.error);
	free(cut);
	const char *garbage = "piglit-wrapper: 1\n--- piglit results.json ---\n{\"tests\": 5}\n--- end ---\n";

	CHECK(w->parse(garbage, strlen(garbage), &r) < 0 && strstr(r.error, "not a piglit results file"), "garbage");
	const char *badstatus = "piglit-wrapper: 1\n--- piglit results.json ---\n{\"tests\": {\"a\": {\"result\": "
				"\"exploded\"}}}\n--- end ---\n";

	CHECK(w->parse(badstatus, strlen(badstatus), &r) < 0 && strstr(r.error, "unknown status"), "unknown status");
	CHECK(r.nsub == 0, "a failed parse frees what it took");
	const char *mapped = "piglit-wrapper: 1\n--- piglit results.json ---\n{\"tests\": {\"a\": {\"result\": "
			     "\"dmesg-fail\"}, \"b\": {\"result\": \"incomplete\"}}}\n--- end ---\n";

	CHECK(w->parse(mapped, strlen(mapped), &r) == 0 && r.nsub == 2 && !strcmp(r.sub[0].status, "fail") &&
		      !strcmp(r.sub[1].status, "crash"),
	      "dmesg-fail is a fail, incomplete a crash");
	wl_result_free(&r);
	free(out);
	free(console);
	return check_done("piglit_import");
}
