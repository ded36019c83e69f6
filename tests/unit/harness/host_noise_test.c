/* host_noise_test.c: CPU steal and load average from /proc texts
 * (harness/host/host_noise.c): the steal share between two samples, the guest
 * columns not counted twice, and texts it must refuse. */
#include <math.h>

#include "check.h"
#include "host/host_noise.h"

int main(void)
{
	struct host_sample a, b;
	/* user nice system idle iowait irq softirq steal guest guest_nice */
	const char *s0 = "cpu  1000 0 500 8000 100 0 0 400 300 0\ncpu0 500 0 250 4000 50 0 0 200 150 0\n";
	const char *s1 = "cpu  1100 0 550 8800 100 0 0 450 350 0\ncpu0 550 0 275 4400 50 0 0 225 175 0\n";

	CHECK(host_sample_parse(s0, "0.55 0.85 1.13 2/78 21551\n", &a) == 0 && a.ok, "a sample is read");
	CHECK(a.total == 10000 && a.steal == 400 && a.load1 == 0.55, "total %llu (guest time is inside user), steal %llu",
	      a.total, a.steal);
	CHECK(host_sample_parse(s1, "2.00 1.00 1.00 1/70 1\n", &b) == 0, "a second sample");
	CHECK(fabs(host_steal_pct(&a, &b) - 5.0) < 1e-9, "50 of 1000 ticks stolen: %.3f%%", host_steal_pct(&a, &b));
	CHECK(isnan(host_steal_pct(&b, &a)), "a clock that went back gives no figure");
	CHECK(isnan(host_steal_pct(&a, &a)), "no time between the samples gives no figure");
	CHECK(host_sample_parse("cpu0 1 2 3 4 5 6 7 8\n", "0.1", &b) < 0 && !b.ok, "a text without the total line");
	CHECK(host_sample_parse("cpu  1 2 3\n", "0.1", &b) < 0, "a total line with too few columns (an old kernel)");
	CHECK(host_sample_parse(s0, "load", &b) < 0, "a load average that is no number");
	CHECK(host_sample_parse(s0, NULL, &b) < 0 && host_sample_parse(NULL, "1", &b) < 0, "a file that was not read");
	CHECK(isnan(host_steal_pct(&a, &b)), "a missing sample gives no figure");
	host_sample_read(&b);
	CHECK(b.ok && b.total > 0, "this machine's /proc is read");
	return check_done("host_noise");
}
