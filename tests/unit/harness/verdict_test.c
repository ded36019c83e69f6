/* verdict_test.c: what a run found, said first (harness/analysis/verdict.c), on a synthetic run with known ratios:
 * mediated twice QEMU's virgl with one guest and 1.25 times summed over three, half of native; a peer that ties is
 * not significant; passthrough skipped is said once, and where a lab host's run has its numbers; sharing's scaling
 * and fairness; power; compare against the previous run; and the text the terminal prints. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "analysis/verdict.h"
#include "runs_fixture.h"

#define NEAR(a, b) (fabs((a) - (b)) < 0.02 * fabs(b))

static const double wiggle[] = { 0.99, 1.01, 1.0, 0.995, 1.005 };

/* config's jobs with `topo` guests (0: the host), each repetition's guest g scoring per_guest[g - 1] (times a
 * little noise); kms2d's fill ties between mediated and qemu-virgl. */
static void jobs(struct store *s, const char *run, const char *config, int topo, const double *per_guest)
{
	for (int rep = 1; rep <= 5; rep++)
		for (int g = topo ? 1 : 0; g <= topo; g++) {
			struct wl_result m = { 0 }, k = { 0 };
			double f = wiggle[(rep + g) % 5];
			struct job_row j = { .config = config, .topology = topo, .guest_index = g,
					     .workload = "glmark2", .repetition = rep, .status = "ok", .accel = "tcg",
					     .wall_s = 1, .user_s = 1, .maxrss_kb = 1, .metrics = &m };

			wl_add_metric(&m, "score", per_guest[topo ? g - 1 : 0] * f, "score", 1);
			CHECK(store_jobs(s, run, &j, 1) == 0, "a %s job: %s", config, s->err);
			j.workload = "kms2d";
			j.metrics = &k;
			wl_add_metric(&k, "fill.mb_per_s", 50 * wiggle[(rep * 3 + g) % 5], "MB/s", 1);
			CHECK(store_jobs(s, run, &j, 1) == 0, "a %s kms2d job: %s", config, s->err);
		}
}

static void make_verdict_run(struct store *s, const char *id)
{
	static const double native[] = { 400 }, med1[] = { 200 }, virgl1[] = { 100 }, med3[] = { 100, 100, 100 },
			    virgl3[] = { 80, 80, 80 };

	CHECK(store_run_create(s, id, "verdict", "h1", "plan.ini", "[plan]\n", "/tmp") == 0, "run %s", id);
	store_config(s, id, "native", "run", NULL);
	store_config(s, id, "qemu-virgl", "run", NULL);
	store_config(s, id, "mediated", "run", NULL);
	store_config(s, id, "passthrough", "skipped", "no IOMMU groups here");
	jobs(s, id, "native", 0, native);
	jobs(s, id, "mediated", 1, med1);
	jobs(s, id, "qemu-virgl", 1, virgl1);
	jobs(s, id, "mediated", 3, med3);
	jobs(s, id, "qemu-virgl", 3, virgl3);
	store_run_set_status(s, id, "complete", NULL);
}

static const struct verdict_row *find(const struct run_verdict *v, const char *w, const char *num, const char *den,
				      int topo, int summed)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->rows[i].workload, w) && !strcmp(v->rows[i].num, num) && !strcmp(v->rows[i].den, den) &&
		    v->rows[i].topology == topo && v->rows[i].summed == summed)
			return &v->rows[i];
	return NULL;
}

/* How many of v's lines contain needle. */
static int lines_with(const struct run_verdict *v, const char *needle)
{
	int n = 0;

	for (size_t i = 0; i < v->nlines; i++)
		n += strstr(v->lines[i], needle) != NULL;
	return n;
}

static void test_ratios(struct store *s, struct run_verdict *v)
{
	const struct verdict_row *r;

	CHECK(verdict_build(s, "v1", v) == 0, "built: %s", s->err);
	r = find(v, "glmark2", "mediated", "qemu-virgl", 1, 0);
	CHECK(r && NEAR(r->ratio, 2.0) && r->lo > 1.8 && r->hi < 2.2 && r->significant,
	      "mediated ÷ qemu-virgl with one guest: 2x, significant: %g (%g – %g)", r ? r->ratio : NAN,
	      r ? r->lo : NAN, r ? r->hi : NAN);
	r = find(v, "glmark2", "mediated", "qemu-virgl", 3, 1);
	CHECK(r && NEAR(r->ratio, 1.25) && r->significant, "summed over three: 1.25x: %g", r ? r->ratio : NAN);
	r = find(v, "glmark2", "mediated", "native", 1, 0);
	CHECK(r && NEAR(r->ratio, 0.5) && r->significant, "mediated ÷ native with one guest: 0.5x: %g",
	      r ? r->ratio : NAN);
	r = find(v, "kms2d", "mediated", "qemu-virgl", 1, 0);
	CHECK(r && NEAR(r->ratio, 1.0) && !r->significant && r->lo < 1 && r->hi > 1,
	      "a tie is not significant: %g (%g – %g)", r ? r->ratio : NAN, r ? r->lo : NAN, r ? r->hi : NAN);
	CHECK(!find(v, "glmark2", "mediated", "passthrough", 1, 0) &&
		      !find(v, "glmark2", "passthrough", "native", 1, 0),
	      "no ratio of a corner that did not run");
}

static void test_lines(const struct run_verdict *v)
{
	CHECK(lines_with(v, "glmark2 (score): mediated is 2.00x qemu-virgl with 1 guest") == 1,
	      "glmark2's sentence opens with the peer: %s", v->nlines ? v->lines[0] : "(none)");
	CHECK(lines_with(v, "1.25x qemu-virgl summed over 3 guests") == 1, "and says the sum over three guests");
	CHECK(lines_with(v, "kms2d (fill.mb_per_s): mediated is 1.00x qemu-virgl with 1 guest (not significant)") == 1,
	      "a tie says it is not significant");
	CHECK(lines_with(v, "passthrough did not run here: no IOMMU groups here") == 1 && lines_with(v, "IOMMU") == 1,
	      "passthrough's reason, said once");
	CHECK(lines_with(v, "sharing, glmark2 on mediated with 3 guests: scaling efficiency 1.50") == 1 &&
		      lines_with(v, "fairness 1.000") >= 1,
	      "sharing: 300 ÷ 200, even");
	CHECK(lines_with(v, "no earlier complete run of this plan") == 1, "no previous run to compare with");
	CHECK(lines_with(v, "power: 10 of 10 rows can see a change of 5% (compare's default threshold)") == 1,
	      "power, said once: every row of 5 repetitions at a 1%% spread sees 5%%");
}

static void test_previous(struct store *s, struct run_verdict *v)
{
	copy_run(s, "v1", "v2", 0.7);
	exec_sql(s, "UPDATE runs SET started_at = '2099-01-01T00:00:00Z' WHERE id = 'v2';"
		    "INSERT INTO configs(run_id, name, status, reason, seq)"
		    " SELECT 'v2', name, status, reason, seq FROM configs WHERE run_id = 'v1'");
	CHECK(verdict_build(s, "v2", v) == 0, "built: %s", s->err);
	CHECK(lines_with(v, "against run v1 (the previous of this plan here): ") == 1 &&
		      lines_with(v, "0 improvements"),
	      "compare against the previous run: %s", v->nlines ? v->lines[v->nlines - 1] : "(none)");
	CHECK(lines_with(v, ": 0 regressions") == 0 && lines_with(v, " regressions, 0 improvements") == 1,
	      "a 30%% slowdown is a regression: %s", v->nlines ? v->lines[v->nlines - 1] : "(none)");
}

/* Passthrough skipped here, run on a lab host into the same database: the verdict says where its numbers are. */
static void test_elsewhere(struct store *s, struct run_verdict *v)
{
	static const double pt[] = { 380 };

	CHECK(lines_with(v, "passthrough's newest results") == 0, "no other run has passthrough yet");
	CHECK(store_run_create(s, "p1", "lab", "labhost", "lab.ini", "[plan]\n", "/tmp") == 0, "a lab host's run");
	jobs(s, "p1", "passthrough", 1, pt);
	store_run_set_status(s, "p1", "complete", NULL);
	CHECK(verdict_build(s, "v2", v) == 0, "built: %s", s->err);
	CHECK(lines_with(v, "passthrough did not run here: no IOMMU groups here") == 1 &&
		      lines_with(v, "passthrough's newest results for these workloads are in run p1 on labhost "
				    "(started ") == 1,
	      "passthrough's numbers are pointed at, once: %s", v->nlines > 3 ? v->lines[3] : "(none)");
}

static void test_print(const struct run_verdict *v)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	verdict_print(v, f);
	fclose(f);
	CHECK_STR_CONTAINS(text, "verdict (ratios of medians, with 95% bootstrap intervals):\n  glmark2 (score): ");
	CHECK_STR_CONTAINS(text, "glmark2      mediated ÷ qemu-virgl");
	CHECK_STR_CONTAINS(text, "3 summed");
	free(text);
}

int main(void)
{
	char dir[] = "/tmp/vgpubench-verdict-XXXXXX";
	struct run_verdict *v = calloc(1, sizeof(*v));
	struct store s;
	char *db;

	if (!v || !mkdtemp(dir))
		return 1;
	db = vb_strdupf("%s/vgpubench.db", dir);
	CHECK(store_open(&s, db) == 0, "open: %s", s.err);
	make_verdict_run(&s, "v1");
	test_ratios(&s, v);
	test_lines(v);
	test_print(v);
	test_previous(&s, v);
	test_elsewhere(&s, v);
	store_close(&s);
	unlink(db);
	rmdir(dir);
	free(db);
	free(v);
	return check_done("verdict");
}
