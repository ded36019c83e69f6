#!/usr/bin/env bash
# nightly_test.sh: a lab host's nightly as contrib/systemd ships it: the service and timer pass systemd-analyze
# verify (installed at /opt/vgpubench, checked at this clone); contrib/systemd/vgpubench-nightly runs a short plan
# into a PostgreSQL database twice as one host: the first night has nothing to compare with and says so (exit 0),
# the second is compared with the first (exit 0, the baseline named); a plan that cannot run keeps the run's exit
# code (1); a run of a 32-character host and a 63-character plan keeps its whole id; and the lab page shows the
# host. Uses run-tests.sh's server (PG_TEST_CONNINFO), or starts its own.
# Usage: nightly_test.sh BUILD_DIR. Prints "N passed, N failed".
set -u
build=${1:?build dir}
root=$(cd "$(dirname "$0")/../.." && pwd)
CHECK_NAME=nightly
# shellcheck source=tests/lib/check.sh
. "$root/tests/lib/check.sh"
# shellcheck source=tests/lib/pg_server.sh
. "$root/tests/lib/pg_server.sh"
check_tmpdir nightly
own=0
if [ -z "${PG_TEST_CONNINFO:-}" ]; then
	pg_server_start || { echo "$CHECK_NAME: 0 passed, 1 failed"; exit 1; }
	own=1
fi
trap '[ $own = 1 ] && pg_server_stop; pkill -KILL -f "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

# 1. The units as shipped, with /opt/vgpubench standing for this clone (verify checks that the command exists).
mkdir -p "$tmp/units"
for f in vgpubench-nightly.service vgpubench-nightly.timer; do
	sed "s|/opt/vgpubench|$root|g" "$root/contrib/systemd/$f" >"$tmp/units/$f"
done
systemd-analyze verify "$tmp/units/vgpubench-nightly.service" "$tmp/units/vgpubench-nightly.timer" \
	>"$tmp/verify.log" 2>&1
rc=$?
check '[ $rc = 0 ] && ! grep -q "vgpubench" "$tmp/verify.log"' \
	"systemd-analyze verify passes the service and the timer (exit $rc): $(cat "$tmp/verify.log")"
check 'grep -q "^ExecStart=/opt/vgpubench/contrib/systemd/vgpubench-nightly$" "$root/contrib/systemd/vgpubench-nightly.service"' \
	"the service runs the nightly script"
check 'grep -q "^OnCalendar=" "$root/contrib/systemd/vgpubench-nightly.timer" && grep -q "^Persistent=true" "$root/contrib/systemd/vgpubench-nightly.timer"' \
	"the timer fires nightly and catches up a missed night"

# 2. Two nights of one host into the lab's database.
psql "$PG_TEST_CONNINFO" -qc "CREATE DATABASE nightly_$$" || bad "cannot create the test's database"
cat >"$tmp/plan.ini" <<'PLAN'
[plan]
name = nightlyshort
configs = native
workloads = glmark2-short
repetitions = 2
[noise]
# llvmpipe on one core: the test keeps at most one busy, and tests/run-tests.sh runs it beside another
lp_num_threads = 1
PLAN
night() {
	VGPUBENCH_DB="postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/nightly_$$" VGPUBENCH_HOST=labnight \
		VGPUBENCH_PLAN="$1" VGPUBENCH_RESULTS="$tmp/results" VGPUBENCH_REPORTS="$tmp/reports" \
		"$root/contrib/systemd/vgpubench-nightly" >"$tmp/$2.log" 2>&1
}
night "$tmp/plan.ini" night1
rc=$?
check '[ $rc = 0 ] && grep -q "nothing to compare with yet" "$tmp/night1.log"' \
	"the first night: nothing to compare with, said (exit $rc): $(tail -3 "$tmp/night1.log")"
run1=$(sed -n 's/^run \([A-Za-z0-9._-]*\): database .*/\1/p' "$tmp/night1.log")
night "$tmp/plan.ini" night2
rc=$?
check '[ $rc = 0 ] && [ -n "$run1" ] && grep -q "$run1" "$tmp/night2.log" && ! grep -q "nothing to compare" "$tmp/night2.log"' \
	"the second night is compared with the first, $run1 (exit $rc): $(tail -5 "$tmp/night2.log")"
check '[[ "$(sed -n "s/^run \([A-Za-z0-9._-]*\): database .*/\1/p" "$tmp/night2.log")" == *-labnight-nightlyshort ]]' \
	"the run carries the host's name"
# A host name of 32 characters and a plan name of 63: the run id (112 characters) is kept whole.
long_host=labhost-with-a-long-name-0123456
long_plan=plan-$(printf 'x%.0s' $(seq 1 58))
sed "s/^name = .*/name = $long_plan/" "$tmp/plan.ini" >"$tmp/long.ini"
VGPUBENCH_HOST=$long_host "$build/vgpubench" run "$tmp/long.ini" --results "$tmp/long" --reports "$tmp/long/rep" \
	>"$tmp/long.log" 2>&1
rc=$?
long_id=$(sed -n 's/^run \([A-Za-z0-9._-]*\): database .*/\1/p' "$tmp/long.log")
check '[ $rc = 0 ] && [ ${#long_id} = 112 ] && [[ "$long_id" == *-$long_host-$long_plan ]] && [ -d "$tmp/long/runs/$long_id" ]' \
	"a 32-character host and a 63-character plan: the run id whole, ${#long_id} characters (exit $rc): $long_id $(tail -2 "$tmp/long.log")"
night "$tmp/missing.ini" night3
rc=$?
check '[ $rc = 1 ] && grep -q "did not complete (exit 1)" "$tmp/night3.log"' \
	"a plan that cannot run: the run's exit code, 1 (exit $rc): $(tail -2 "$tmp/night3.log")"
"$build/vgpubench" report --lab --db "postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/nightly_$$" \
	--reports "$tmp/lab" >"$tmp/lab.log" 2>&1
rc=$?
check '[ $rc = 0 ] && grep -q "<td rowspan=1>labnight</td>" "$tmp/lab/lab/index.html" && grep -q "(2 runs)" "$tmp/lab/lab/index.html"' \
	"the lab page shows the host and its two nights (exit $rc): $(cat "$tmp/lab.log")"
check_done
