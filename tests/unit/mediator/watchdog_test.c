/* watchdog_test.c: the stuck-renderer watchdog's rules (mediator/sched/watchdog.h):
 * a fence trips once when it passes the bound, stays reported with its age
 * until it retires, the next fence starts afresh, a reset forgets the stuck
 * one, a renderer call that lasts past the bound trips too, and a bound of
 * 0 never trips. */
#include "check.h"
#include "sched/watchdog.h"

#define MS 1000000ull

int main(void)
{
	struct watchdog w;

	watchdog_init(&w, 2000 * MS);
	CHECK(watchdog_check(&w, 0, 0, 0, 5000 * MS) == 0 && w.trips == 0, "nothing pending: no trip");
	CHECK(watchdog_check(&w, 1, 7, 1000 * MS, 2900 * MS) == 0, "fence 7 at 1.9 s: within the bound");
	CHECK(watchdog_check(&w, 1, 7, 1000 * MS, 3000 * MS) == 0, "at exactly the bound: not yet");
	CHECK(watchdog_check(&w, 1, 7, 1000 * MS, 3001 * MS) == 1, "past the bound: a trip");
	CHECK(w.tripped && w.fence == 7 && w.stuck_ns == 2001 * MS && w.trips == 1, "fence 7 stuck for 2001 ms");
	CHECK(watchdog_check(&w, 1, 7, 1000 * MS, 6000 * MS) == 0, "still stuck: the same trip, not a new one");
	CHECK(w.trips == 1 && w.stuck_ns == 5000 * MS && w.longest_ns == 5000 * MS, "its age grows to 5 s");
	CHECK(watchdog_check(&w, 1, 8, 5900 * MS, 6100 * MS) == 0 && !w.tripped, "fence 7 retired: 8 is young");
	CHECK(watchdog_check(&w, 0, 0, 0, 9000 * MS) == 0 && !w.tripped, "then nothing pending");
	CHECK(watchdog_check(&w, 1, 9, 10000 * MS, 12500 * MS) == 1 && w.trips == 2, "fence 9 trips: the second");
	watchdog_clear(&w);
	CHECK(!w.tripped && w.trips == 2 && w.longest_ns == 5000 * MS, "a reset forgets it, the counters stay");
	CHECK(watchdog_check(&w, 1, 9, 10000 * MS, 13000 * MS) == 0, "and the same fence does not trip again");

	CHECK(watchdog_call(&w, 20000 * MS, 21500 * MS, 0, 0, 0) == 0 && w.trips == 2, "a 1.5 s renderer call: no trip");
	CHECK(watchdog_call(&w, 30000 * MS, 35500 * MS, 0, 0, 0) == 1 && w.trips == 3 && w.call_trips == 1,
	      "a 5.5 s renderer call (it held the loop): a trip");
	CHECK(w.longest_ns == 5500 * MS, "the longest is that call's 5.5 s");
	CHECK(watchdog_call(&w, 40000 * MS, 43000 * MS, 1, 12, 39900 * MS) == 1 && w.trips == 4 && w.tripped &&
		      w.fence == 12,
	      "a 3 s call that waited on batch 12: a trip, batch 12 the stuck one");
	CHECK(watchdog_check(&w, 1, 12, 39900 * MS, 43100 * MS) == 0 && w.trips == 4,
	      "batch 12 still unretired: the same trip, not a second");
	CHECK(watchdog_call(&w, 43100 * MS, 46000 * MS, 1, 12, 39900 * MS) == 0 && w.trips == 4,
	      "nor another call waiting on it");

	watchdog_init(&w, 0);
	CHECK(watchdog_check(&w, 1, 1, 0, 100000 * MS) == 0 && w.trips == 0, "bound 0: off");
	return check_done("watchdog");
}
