#!/usr/bin/env bash
# run-tests.sh: runs every test program (ASan+UBSan builds) and the shell
# tests, adds up their "N passed, N failed" lines, and prints the total last.
# Each test's time is printed after its name ("time: N s, cpu N s": wall time, and the CPU time of every process it
# started and waited for), for docs/testing.md: a test whose CPU time is well under twice its time leaves a core idle.
# A test that dies without its closing line counts as one failure.
# With --programs-only (make check), the shell tests that run the harness end to end are left out.
# Usage: run-tests.sh [--programs-only] BUILD_DIR TEST_BINARY...
set -u
programs_only=0
if [ "${1:-}" = --programs-only ]; then
	programs_only=1
	shift
fi
build=${1:?build dir}
shift
total_pass=0
total_fail=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# A race stops the process that saw it (a TSan mediator too, so its test fails rather than passing by).
# Mesa, LLVM and virglrenderer are not built with TSan: tsan.supp leaves out what it cannot see through.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$(cd "$(dirname "$0")" && pwd)/tsan.supp}

# Count a finished test: its time, its notable lines, its closing line (or a failure without one).
tally() {
	local name=$1 out=$2 rc=$3 secs=$4 cpu=${5:-} line
	echo "time: $secs s${cpu:+, cpu $cpu s}"
	echo "$out" | grep -E '^(FAIL|boot: (accelerator|kernel |.* answered in )|real probe: |==[0-9]+==|.*runtime error|WARNING: ThreadSanitizer)' | head -40
	line=$(echo "$out" | grep -E '^[a-z_0-9]+: [0-9]+ passed, [0-9]+ failed$' | tail -n1)
	if [ -z "$line" ]; then
		echo "$out" | tail -20
		echo "$name: died without a result line (exit $rc)"
		total_fail=$((total_fail + 1))
		return
	fi
	echo "$line"
	local p f
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/')
	f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/')
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: exited $rc (sanitizer report?)"
		total_fail=$((total_fail + 1))
	fi
}

# The CPU time (user + system, in clock ticks) of this shell's children that have been waited for.
children_ticks() {
	local stat
	stat=$(cat /proc/$$/stat) || return
	echo "${stat##*) }" | awk '{ print $14 + $15 }'
}

run_one() {
	local name=$1
	shift
	local out rc t0=$SECONDS c0 c1
	echo "== $name"
	c0=$(children_ticks)
	out=$("$@" 2>&1)
	rc=$?
	c1=$(children_ticks)
	tally "$name" "$out" "$rc" $((SECONDS - t0)) $(((c1 - c0) / $(getconf CLK_TCK)))
}

# The fuzzers, two at a time (one a core): each is CPU-bound for a fixed time and checks nothing against the clock.
run_fuzzers() {
	local dir i name t t0
	dir=$(mktemp -d)
	for ((i = 0; i < ${#fuzzers[@]}; i += 2)); do
		t0=$SECONDS
		for t in "${fuzzers[@]:i:2}"; do
			name=$(basename "$t")
			(bash tests/fuzz-run.sh "$t" "mediator/fuzz/corpus/${name%_fuzz}" >"$dir/$name.out" 2>&1
				echo $? >"$dir/$name.rc") &
		done
		wait
		for t in "${fuzzers[@]:i:2}"; do
			name=$(basename "$t")
			echo "== $name (in parallel with its pair)"
			tally "$name" "$(cat "$dir/$name.out")" "$(cat "$dir/$name.rc")" $((SECONDS - t0))
		done
	done
	rm -rf "$dir"
}

fuzzers=()
tmp_before=$(ls -A /tmp /tmp/.X11-unix 2>/dev/null | sort)
# A private PostgreSQL server for the store's second back-end (tests/lib/pg_server.sh: PG_TEST_CONNINFO), started
# once, stopped before the leftovers are looked for and on any exit. Not starting is a failure, not a skip.
. "$(dirname "$0")/lib/pg_server.sh"
echo "== pg_server"
t0=$SECONDS
if pg_server_start; then
	trap pg_server_stop EXIT
	tally pg_server "pg_server: 1 passed, 0 failed" 0 $((SECONDS - t0))
else
	tally pg_server "pg_server: 0 passed, 1 failed" 1 $((SECONDS - t0))
fi
for t in "$@"; do
	name=$(basename "$t")
	# ThreadSanitizer builds (build/tsan/): named apart, and their process tests drive the TSan mediator.
	case "$t" in
	*/tsan/*)
		case "$name" in
		mediator_process_test | mediator_workers_test | vtest_process_test)
			run_one "tsan/$name" "$t" "$build/tsan/vgpu-mediator" ;;
		*) run_one "tsan/$name" "$t" ;;
		esac
		continue
		;;
	esac
	case "$name" in
	agent_proto_test) run_one "$name" "$t" "$build/san/vgpu-agent" ;;
	compare_test) run_one "$name" "$t" "$build/vgpubench" ;;
	mediator_process_test | mediator_workers_test) run_one "$name" "$t" "$build/vgpu-mediator" ;;
	vtest_process_test) # once with the renderer in the mediator, once with a render worker per client
		run_one "$name" "$t" "$build/vgpu-mediator"
		run_one "$name --render-workers" "$t" "$build/vgpu-mediator" --render-workers
		;;
	image_test | boot_test) run_one "$name" "$t" "$build/vgpu-agent" harness/guest/init.sh ;;
	reset_guest_test) run_one "$name" "$t" "$build/vgpu-agent" harness/guest/init.sh "$build/vgpu-mediator" "$build/gpuhog" ;;
	*_fuzz) fuzzers+=("$t") ;;
	*) run_one "$name" "$t" ;;
	esac
done
# The tree's layers (what includes what), from the sources alone: under a second.
run_one layers_test bash tests/unit/tree/layers_test.sh
run_fuzzers
if [ $programs_only = 1 ]; then
	echo
	echo "$total_pass passed, $total_fail failed"
	[ "$total_fail" -eq 0 ]
	exit
fi
run_one kill_resume_test bash tests/integration/kill_resume_test.sh "$build"
run_one store_pg_test bash tests/integration/store_pg_test.sh "$build"
run_one nightly_test bash tests/integration/nightly_test.sh "$build"
run_one interleave_run_test bash tests/integration/interleave_run_test.sh "$build"
run_one harness_faults_test bash tests/integration/harness_faults_test.sh "$build"
run_one scenario_run_test bash tests/integration/scenario_run_test.sh "$build"
run_one bench_mediator_test bash tests/integration/bench_mediator_test.sh "$build"
run_one robustness_test bash tests/integration/robustness_test.sh "$build"
run_one noise_run_test bash tests/integration/noise_run_test.sh "$build"
run_one adaptive_run_test bash tests/integration/adaptive_run_test.sh "$build"
run_one calibrate_run_test bash tests/integration/calibrate_run_test.sh "$build"
run_one calibrate_resume_test bash tests/integration/calibrate_resume_test.sh "$build"
run_one nested_lab_test bash tests/integration/nested_lab_test.sh "$build"

# The suite leaves nothing behind in /tmp: no folder, no X lock or socket, no process.
pg_server_stop
sleep 1
tmp_after=$(ls -A /tmp /tmp/.X11-unix 2>/dev/null | sort)
# What the suite could leave: its folders, X locks and sockets, Chromium's profile, mktemp's files, glmark2's CSV.
left=$(comm -13 <(echo "$tmp_before") <(echo "$tmp_after") | grep -E '^(vgpubench|\.X|X[0-9]|\.org\.chromium|tmp\.|glmark2-)')
echo "== leftovers"
if [ -n "$left" ]; then
	echo "FAIL: the tests left in /tmp:" $left
	total_fail=$((total_fail + 1))
else
	total_pass=$((total_pass + 1))
fi
procs=$(pgrep -a -f '/tmp/vgpubench-' | grep -v -e pgrep -e run-tests)
if [ -n "$procs" ]; then
	echo "FAIL: the tests left processes running: $procs"
	total_fail=$((total_fail + 1))
else
	total_pass=$((total_pass + 1))
fi

echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
