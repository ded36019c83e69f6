/* control_test.c: the mediator's control-socket request parser: every
 * request form, and the malformed lines it must refuse with a reason. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "process/control.h"
#include "sched/gpu_sched.h"

static int refused(const char *line, const char *why)
{
	struct control_req r;
	char err[160] = "";

	return control_parse(line, &r, err, sizeof(err)) == -1 && strstr(err, why) != NULL;
}

int main(void)
{
	struct control_req r;
	char err[160], longline[CONTROL_MAX_LINE + 10];
	char *a;

	CHECK(control_parse("", &r, err, sizeof(err)) == 0 && r.op == CTL_STATS, "an empty line asks for the counters");
	CHECK(control_parse("stats\r\n", &r, err, sizeof(err)) == 0 && r.op == CTL_STATS, "stats, CRLF");
	CHECK(control_parse("policy fixed-share\n", &r, err, sizeof(err)) == 0 && r.op == CTL_POLICY &&
		      r.policy == SCHED_FIXED_SHARE,
	      "policy fixed-share");
	CHECK(control_parse("policy equal-share-wc\n", &r, err, sizeof(err)) == 0 && r.op == CTL_POLICY &&
		      r.policy == SCHED_EQUAL_SHARE_WC,
	      "policy equal-share-wc");
	CHECK(control_parse("policy lottery\n", &r, err, sizeof(err)) == -1 && strstr(err, "fixed-share-wc, sla"),
	      "an unknown policy is refused with every known one named: %s", err);
	CHECK(control_parse("timeslice 5", &r, err, sizeof(err)) == 0 && r.op == CTL_TIMESLICE && r.timeslice_ms == 5,
	      "timeslice 5");
	CHECK(control_parse("set guest1 weight=2 fps=30.5", &r, err, sizeof(err)) == 0 && r.op == CTL_SET &&
		      !strcmp(r.vgpu, "guest1") && r.weight == 2 && fabs(r.fps - 30.5) < 1e-9,
	      "set guest1 weight=2 fps=30.5");
	CHECK(control_parse("set g fps=0", &r, err, sizeof(err)) == 0 && r.weight == 0 && r.fps == 0,
	      "fps=0 clears a target; weight untouched");
	CHECK(control_parse("watchdog 500 quarantine", &r, err, sizeof(err)) == 0 && r.op == CTL_WATCHDOG &&
		      r.watchdog_ms == 500 && r.watchdog_action == 1,
	      "watchdog 500 quarantine");
	CHECK(control_parse("watchdog 0", &r, err, sizeof(err)) == 0 && r.watchdog_ms == 0 && r.watchdog_action == -1,
	      "watchdog 0: off, the action unchanged");
	CHECK(control_parse("fault guest1 worker-crash", &r, err, sizeof(err)) == 0 && r.op == CTL_FAULT &&
		      r.fault == FAULT_WORKER_CRASH && !strcmp(r.vgpu, "guest1"),
	      "fault guest1 worker-crash");
	CHECK(control_parse("fault g worker-stop", &r, err, sizeof(err)) == 0 && r.fault == FAULT_WORKER_STOP &&
		      control_parse("fault g worker-cont", &r, err, sizeof(err)) == 0 && r.fault == FAULT_WORKER_CONT,
	      "fault g worker-stop, worker-cont");
	CHECK(control_parse("fault g worker-delay=2500", &r, err, sizeof(err)) == 0 && r.fault == FAULT_WORKER_DELAY &&
		      r.delay_ms == 2500,
	      "fault g worker-delay=2500");
	CHECK(refused("fault g", "fault takes"), "fault without what");
	CHECK(refused("fault g worker-explode", "unknown fault"), "an unknown fault");
	CHECK(refused("fault g worker-delay=-5", "unknown fault"), "a negative delay");
	CHECK(refused("fault g worker-delay=600001", "unknown fault"), "a delay over 10 minutes");
	CHECK(refused("watchdog", "watchdog takes"), "watchdog without a bound");
	CHECK(refused("watchdog -1", "watchdog takes"), "a negative bound");
	CHECK(refused("watchdog 500 reboot", "watchdog takes"), "an unknown action");
	CHECK(refused("stats now", "no argument"), "stats with an argument");
	CHECK(refused("policy", "policy takes"), "policy without a name");
	CHECK(refused("policy lottery", "policy takes"), "an unknown policy");
	CHECK(refused("timeslice 0", "1 to 1000"), "timeslice 0");
	CHECK(refused("timeslice 5ms", "1 to 1000"), "timeslice with a unit");
	CHECK(refused("timeslice 99999999999999999999", "1 to 1000"), "timeslice overflowing");
	CHECK(refused("set g", "set takes"), "set without a value");
	CHECK(refused("set g weight=0", "weight must be"), "weight 0");
	CHECK(refused("set g weight=1001", "weight must be"), "weight 1001");
	CHECK(refused("set g weight=2x", "weight must be"), "weight 2x");
	CHECK(refused("set g fps=-1", "fps must be"), "fps -1");
	CHECK(refused("set g fps=nan", "fps must be"), "fps nan");
	CHECK(refused("set g fps=inf", "fps must be"), "fps inf");
	CHECK(refused("set g colour=red", "unknown setting"), "an unknown setting");
	CHECK(refused("reboot", "unknown request"), "an unknown request");
	CHECK(refused("a b c d e f g h i", "too many words"), "nine words");
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	CHECK(refused(longline, "longer than"), "a line over the limit");
	memset(longline, 'n', 100);
	memcpy(longline, "set ", 4);
	strcpy(longline + 100, " weight=2");
	CHECK(refused(longline, "name longer"), "a vGPU name over 63 bytes");
	a = control_answer(NULL);
	CHECK(a && !strcmp(a, "{\"ok\":true}"), "the plain answer: %s", a ? a : "NULL");
	free(a);
	a = control_answer("no vGPU named \"x\"");
	CHECK(a && strstr(a, "\"ok\":false") && strstr(a, "no vGPU named \\\"x\\\""), "an error is JSON-escaped: %s",
	      a ? a : "NULL");
	free(a);
	return check_done("control_test");
}
