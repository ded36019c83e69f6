/* util_test.c: the harness helpers that stand between it and what it does not
 * control: text made safe for a terminal (control characters, C1 controls,
 * bytes that are not UTF-8, a UTF-8 sequence cut between two writes), files
 * read by name refused by type (a FIFO, a folder, a device) without waiting,
 * and the time scale read from the environment. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

static char dir[] = "/tmp/vgpubench-util-test-XXXXXX";

/* vb_term_safe_dup of s, compared with want. */
static void safe_is(const char *s, const char *want)
{
	char *got = vb_term_safe_dup(s);

	CHECK(strcmp(got, want) == 0, "'%s' became '%s', not '%s'", s, got, want);
	free(got);
}

static void test_term_safe(void)
{
	char out[64];
	size_t used;

	safe_is("plain text, tabs\tand\nnewlines", "plain text, tabs\tand\nnewlines");
	safe_is("native\033[31m", "native\\e[31m");
	safe_is("\033]0;title\007", "\\e]0;title\\x07");
	safe_is("carriage\rreturn\x7f", "carriage\\x0dreturn\\x7f");
	safe_is("c1 \xc2\x9b" "2J", "c1 \\u009b2J");		   /* CSI as a UTF-8 C1 control */
	safe_is("lone \x9b byte", "lone \\x9b byte");		   /* CSI to an 8-bit terminal */
	safe_is("÷ – … 漢字 🎮", "÷ – … 漢字 🎮");		   /* text is text */
	safe_is("overlong \xc0\xaf", "overlong \\xc0\\xaf");	   /* not UTF-8 */
	safe_is("cut at the end \xe2\x80", "cut at the end \\xe2\\x80"); /* final: nothing comes after it */

	/* A sequence cut between two writes waits for the rest. */
	used = vb_term_safe("ab\xe2\x80", 4, 0, out, sizeof(out));
	CHECK(used == 2 && strcmp(out, "ab") == 0, "the cut sequence waits: %zu '%s'", used, out);
	used = vb_term_safe("\xe2\x80\xa6z", 4, 0, out, sizeof(out));
	CHECK(used == 4 && strcmp(out, "…z") == 0, "and is whole once the rest came: %zu '%s'", used, out);
	/* A full output stops early and says how far it got. */
	used = vb_term_safe("\033\033\033\033\033\033\033\033", 8, 1, out, 16);
	CHECK(used < 8 && strlen(out) < 16, "a small output takes what fits: %zu '%s'", used, out);
}

static void test_regular_files(void)
{
	char fifo[300], file[300];
	size_t len;
	char *s;
	double t0;

	snprintf(fifo, sizeof(fifo), "%s/plan.ini", dir);
	snprintf(file, sizeof(file), "%s/ok.ini", dir);
	if (mkfifo(fifo, 0644) < 0 || vb_write_file(file, "[plan]\n", 7) < 0) {
		CHECK(0, "fixture: %s", strerror(errno));
		return;
	}
	t0 = vb_now();
	errno = 0;
	s = vb_read_file(fifo, &len);
	CHECK(!s && errno == VB_ENOTREG && vb_now() - t0 < 2, "a FIFO is refused at once (errno %d)", errno);
	CHECK(strstr(vb_strerror(VB_ENOTREG), "not a regular file") != NULL, "and says so: %s", vb_strerror(VB_ENOTREG));
	s = vb_read_file(dir, &len);
	CHECK(!s && errno == EISDIR, "a folder: EISDIR (errno %d)", errno);
	s = vb_read_file_max("/dev/zero", 1024, &len);
	CHECK(!s && errno == VB_ENOTREG, "/dev/zero is refused, not read forever (errno %d)", errno);
	s = vb_read_file(file, &len);
	CHECK(s && len == 7 && strcmp(s, "[plan]\n") == 0, "a regular file reads as before");
	free(s);
	s = vb_read_file_max("/proc/loadavg", 4096, &len);
	CHECK(s && len > 0, "a /proc file is a regular file");
	free(s);
}

static void test_time_scale(void)
{
	/* Read once per process: this test sets it before anything asks. */
	setenv(VB_TIME_SCALE_ENV, "10", 1);
	CHECK(vb_time_scale() == 10 && vb_scaled(10) == 100, "scale %g", vb_time_scale());
	setenv(VB_TIME_SCALE_ENV, "1000", 1);
	CHECK(vb_time_scale() == 10, "read once: a later change does not move limits already taken");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_term_safe();
	test_regular_files();
	test_time_scale();
	if (vb_rm_rf(dir) < 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("util");
}
