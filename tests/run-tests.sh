#!/usr/bin/env bash
# run-tests.sh: runs every test program (ASan+UBSan builds) and the shell
# tests, adds up their "N passed, N failed" lines, and prints the total last.
# The test programs run one at a time; the fuzzers and the shell tests go through a queue that runs the ones
# keeping at most one core busy beside each other (run_queue below).
# Each test's time is printed after its name ("time: N s, cpu N s": wall time, and the machine's CPU time
# meanwhile; for a test that shared the machine, the names it ran beside instead of the CPU time), for
# docs/testing.md: a test whose CPU time is well under twice its time leaves a core idle.
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

# The machine's busy CPU time so far, in clock ticks (every core: user, nice, system, irq, softirq; /proc/stat).
# Over one test it counts whatever the test started, however its processes were reaped.
busy_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

run_one() {
	local name=$1
	shift
	local out rc t0=$SECONDS c0 c1
	echo "== $name"
	c0=$(busy_ticks)
	out=$("$@" 2>&1)
	rc=$?
	c1=$(busy_ticks)
	tally "$name" "$out" "$rc" $((SECONDS - t0)) $(((c1 - c0) / $(getconf CLK_TCK)))
}

# A queue of tests that may share the machine, as ctest's PROCESSORS and RUN_SERIAL: `queue CORES NAME COMMAND...`,
# CORES 1 for a test that keeps at most one core busy and checks nothing that another test beside it could upset
# (it runs beside others, as many as there are cores), "all" for one that wants the machine to itself. run_queue
# starts them in order, each as soon as its cores are free (never passing the head of the queue), and counts each
# when it ends, its time beside the names it shared the machine with.
q_names=()
q_cores=()
q_cmds=()
declare -A job_of=() # a running queued test's process group (its pid) -> its index
q_dir=""             # where the queued tests' output waits to be counted
queue() {
	q_cores+=("$1")
	q_names+=("$2")
	shift 2
	q_cmds+=("$(printf '%q ' "$@")")
}

run_queue() {
	local i=0 used=0 pid j cores total_cores c0 cpu
	local -A t0_of=() beside_of=()
	total_cores=$(nproc)
	[ "$total_cores" -ge 2 ] || total_cores=2
	q_dir=$(mktemp -d)
	set -m # each test in a process group of its own, which stop_queue can end whole (and no terminal's Ctrl-C)
	while [ $i -lt ${#q_names[@]} ] || [ ${#job_of[@]} -gt 0 ]; do
		if [ $i -lt ${#q_names[@]} ]; then
			cores=${q_cores[i]}
			[ "$cores" = all ] && cores=$total_cores
			if [ $((used + cores)) -le "$total_cores" ]; then
				[ ${#job_of[@]} -eq 0 ] && c0=$(busy_ticks)
				(eval "${q_cmds[i]}" </dev/null >"$q_dir/$i.out" 2>&1
					echo $? >"$q_dir/$i.rc") &
				job_of[$!]=$i
				t0_of[$i]=$SECONDS
				beside_of[$i]=""
				for pid in "${!job_of[@]}"; do
					j=${job_of[$pid]}
					[ "$j" = $i ] && continue
					beside_of[$i]+=" ${q_names[j]}"
					beside_of[$j]+=" ${q_names[i]}"
				done
				used=$((used + cores))
				i=$((i + 1))
				continue
			fi
		fi
		wait -n -p pid
		j=${job_of[$pid]}
		unset "job_of[$pid]"
		cores=${q_cores[j]}
		[ "$cores" = all ] && cores=$total_cores
		used=$((used - cores))
		# The machine's CPU time is the test's only when it ran alone; otherwise the names it ran beside.
		cpu=""
		if [ -n "${beside_of[$j]}" ]; then
			echo "== ${q_names[j]} (beside${beside_of[$j]})"
		else
			echo "== ${q_names[j]}"
			cpu=$((($(busy_ticks) - c0) / $(getconf CLK_TCK)))
		fi
		tally "${q_names[j]}" "$(cat "$q_dir/$j.out")" "$(cat "$q_dir/$j.rc" 2>/dev/null || echo 1)" \
			$((SECONDS - t0_of[$j])) "$cpu"
	done
	set +m
	rm -rf "$q_dir"
	q_names=()
	q_cores=()
	q_cmds=()
}

# On the way out (an interrupted suite included): the queue's tests still running are ended with their processes,
# asked first (SIGTERM: their own clean-up runs), then made to (SIGKILL, a second later).
stop_queue() {
	local pid
	[ ${#job_of[@]} -gt 0 ] || return 0
	for pid in "${!job_of[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null
	done
	sleep 1
	for pid in "${!job_of[@]}"; do
		kill -KILL -- "-$pid" 2>/dev/null
	done
	rm -rf "$q_dir"
}
trap 'exit 130' INT TERM
trap stop_queue EXIT

fuzzers=()
tmp_before=$(ls -A /tmp /tmp/.X11-unix 2>/dev/null | sort)
# A private PostgreSQL server for the store's second back-end (tests/lib/pg_server.sh: PG_TEST_CONNINFO), started
# once, stopped before the leftovers are looked for and on any exit. Not starting is a failure, not a skip.
. "$(dirname "$0")/lib/pg_server.sh"
echo "== pg_server"
t0=$SECONDS
if pg_server_start; then
	trap 'stop_queue; pg_server_stop' EXIT
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
	reset_guest_test)
		run_one "$name" "$t" "$build/vgpu-agent" harness/guest/init.sh "$build/vgpu-mediator" "$build/gpuhog" \
			"$build/kms2d"
		;;
	# The fuzzers: each is CPU-bound on one core for a fixed time and checks nothing against the clock.
	*_fuzz) fuzzers+=("$t") ;;
	*) run_one "$name" "$t" ;;
	esac
done
# The tree's layers (what includes what), from the sources alone: under a second.
run_one layers_test bash tests/unit/tree/layers_test.sh
if [ $programs_only = 0 ]; then
	# The nested lab (about 6 minutes, its lab host's guest booting under nested TCG) beside the tests that keep at
	# most one core busy (the native glmark2 runs with lp_num_threads = 1) and check nothing another test could
	# upset; then the rest, one at a time.
	queue 1 nested_lab_test bash tests/integration/nested_lab_test.sh "$build"
	queue 1 kill_resume_test bash tests/integration/kill_resume_test.sh "$build"
	queue 1 harness_faults_test bash tests/integration/harness_faults_test.sh "$build"
	queue 1 store_pg_test bash tests/integration/store_pg_test.sh "$build"
	queue 1 interleave_run_test bash tests/integration/interleave_run_test.sh "$build"
	queue 1 nightly_test bash tests/integration/nightly_test.sh "$build"
	queue 1 adaptive_run_test bash tests/integration/adaptive_run_test.sh "$build"
	queue 1 calibrate_resume_test bash tests/integration/calibrate_resume_test.sh "$build"
	queue 1 bench_mediator_test bash tests/integration/bench_mediator_test.sh "$build"
	# The robustness catalogue mostly waits (3 s of CPU in 65 s alone).
	queue 1 robustness_test bash tests/integration/robustness_test.sh "$build"
fi
for t in "${fuzzers[@]}"; do
	name=$(basename "$t")
	queue 1 "$name" bash tests/fuzz-run.sh "$t" "mediator/fuzz/corpus/${name%_fuzz}"
done
if [ $programs_only = 0 ]; then
	queue all scenario_run_test bash tests/integration/scenario_run_test.sh "$build"
	queue all noise_run_test bash tests/integration/noise_run_test.sh "$build"
	queue all calibrate_run_test bash tests/integration/calibrate_run_test.sh "$build"
fi
run_queue
if [ $programs_only = 1 ]; then
	echo
	echo "$total_pass passed, $total_fail failed"
	[ "$total_fail" -eq 0 ]
	exit
fi

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
