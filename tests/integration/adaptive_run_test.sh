#!/usr/bin/env bash
# adaptive_run_test.sh: repetitions = auto in a real run (native glmark2-short):
# a row whose 95% interval of the median is within the target stops at
# min_repetitions; one whose target cannot be met stops at max_repetitions;
# each says why (host fact "repetitions (...)"), and only the repetitions
# run are stored.
# Usage: adaptive_run_test.sh BUILD_DIR. Prints "N passed, N failed".
set -u
build=${1:?build dir}
vb="$build/vgpubench"
CHECK_NAME=adaptive_run
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
check_tmpdir adaptive

# lp_num_threads = 1: llvmpipe on one core, so the test keeps at most one busy (run-tests.sh runs it beside another).
plan() { # FILE NAME TARGET MIN
	printf '[plan]\nname = %s\nconfigs = native\nworkloads = glmark2-short\nrepetitions = auto\n' "$2" >"$1"
	printf 'min_repetitions = %s\nmax_repetitions = 3\ntarget_ci_pct = %s\n' "$4" "$3" >>"$1"
	printf '[noise]\nlp_num_threads = 1\n' >>"$1"
}
fact() { q "SELECT value FROM host_facts WHERE run_id = '$1' AND key = 'repetitions (native, host 0, glmark2-short)'"; }
jobs() { q "SELECT count(*) FROM jobs WHERE run_id = '$1' AND status = 'ok'"; }

# run_row NAME TARGET_PCT MIN REASON_RE JOBS WHAT: one run of the plan, its row's stop reason and the jobs it stored.
run_row() {
	local name=$1 target=$2 min=$3 re=$4 want=$5 what=$6 rc
	plan "$tmp/$name.ini" "$name" "$target" "$min"
	"$vb" run "$tmp/$name.ini" --results "$tmp/results" --reports "$tmp/reports" > "$tmp/$name.log" 2>&1
	rc=$?
	check '[ "$rc" = 0 ]' "the $name run ends well (exit $rc): $(log_gist "$tmp/$name.log")"
	run=$(q "SELECT id FROM runs WHERE plan_name = '$name'")
	check 'fact "$run" | grep -qE "$re"' "$what: $(fact "$run")"
	check '[ "$(jobs "$run")" = "$want" ]' "$want repetitions stored: $(jobs "$run")"
}

run_row loose 60 2 "^stopped after 2: the 95% interval of the median is within ±[0-9.]+% \(target ±60.0%\)$" 2 \
	"a row within its target stops at the least"
check 'grep -q "\[2/2\] native: glmark2-short repetition 2/3 on the host" "$tmp/loose.log"' \
	"the log counts against the most, the run's steps against the least: $(grep -F "[2/" "$tmp/loose.log")"
# Glmark2's score is a whole number: two repetitions on a quiet host can score the same, an interval of ±0%. Three
# all within ±0.1% of each other practically never do.
run_row tight 0.1 3 "^stopped at the most, 3: the 95% interval of the median is ±[0-9.]+% \(target ±0.1%\)$" 3 \
	"a row that cannot meet its target stops at the most"
check_done
