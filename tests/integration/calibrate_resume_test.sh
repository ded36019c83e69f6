#!/usr/bin/env bash
# calibrate_resume_test.sh: a calibration killed part-way is finished by
# `calibrate --resume`. The calibration's own run is made first, with its
# options, and names each run it starts as soon as that run exists, so a
# SIGKILL loses only the job in flight: the resume finishes the run it
# stopped in (its arms with it), without re-running what is stored, and
# counts the rates over all of it. It takes the plan text stored with the
# calibration, so it works from another folder for a relative plan path, and
# a plan file changed or moved since does not matter (as for run --resume). It
# refuses a run that is no calibration; a complete calibration is only printed.
# Short: glmark2-short on the host, two repetitions, the CPU quota as the slowdown.
# Usage: calibrate_resume_test.sh BUILD_DIR. Prints "N passed, N failed".
set -u
build=$(cd "${1:?build dir}" && pwd)
vb="$build/vgpubench"
CHECK_NAME=calibrate_resume
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
check_tmpdir calres

cat > "$tmp/plan.ini" <<'PLAN'
[plan]
name = cr
configs = native
workloads = glmark2-short
repetitions = 2
[noise]
# llvmpipe on one core: the test keeps at most one busy, and tests/run-tests.sh runs it beside another
lp_num_threads = 1
PLAN

# 1. SIGKILL once the first job is stored. The plan path is relative to the calibration's folder.
(cd "$tmp" && exec "$vb" calibrate plan.ini --slowdown 50 --threshold 15 --results "$tmp/results" \
	--reports "$tmp/reports") > "$tmp/cal1.log" 2>&1 &
pid=$!
wait_for_jobs $pid 1
check '[ "${n:-0}" -ge 1 ]' "no job was stored before the kill (log: $(tail -5 "$tmp/cal1.log"))"
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
pkill -KILL -f "glmark2.*$tmp" 2>/dev/null
cal=$(q "SELECT id FROM runs WHERE plan_name = 'cr-calibration'")
check '[ -n "$cal" ] && [ "$(q "SELECT status FROM runs WHERE id = '"'$cal'"'")" = running ]' \
	"the calibration's run was made first and a killed one stays running: $(q "SELECT id, status FROM runs")"
check 'grep -q "calibrate --resume $cal" "$tmp/cal1.log"' "calibrate says how to finish it: $(grep -m1 resume "$tmp/cal1.log")"
a=$(q "SELECT value FROM host_facts WHERE run_id = '$cal' AND key = 'calibration round 1 run 1'")
check '[ -n "$a" ] && [ "$(q "SELECT plan_name FROM runs WHERE id = '"'$a'"'")" = cr-cal ]' \
	"it named its run A as soon as that existed: $a"
check '[ "$(q "SELECT value FROM host_facts WHERE run_id = '"'$cal'"' AND key = '"'calibration options'"'")" = "slowdown=50 rounds=1 separate=0 threshold=15.000000 alpha=0.050000" ]' \
	"and its options: $(q "SELECT value FROM host_facts WHERE run_id = '$cal' AND key = 'calibration options'")"
before=$(q "SELECT count(*) FROM jobs")

# 2. The plan file changes and moves: the resume below must not notice. A run that is no calibration is refused.
sed -i "s/^repetitions = 2/repetitions = 3/" "$tmp/plan.ini"
mv "$tmp/plan.ini" "$tmp/plan.moved"
"$vb" calibrate --resume "$a" --results "$tmp/results" > "$tmp/notcal.log" 2>&1
rc=$?
check '[ "$rc" = 1 ] && grep -q "is no calibration" "$tmp/notcal.log"' "a run that is no calibration is refused (exit $rc): $(cat "$tmp/notcal.log")"
"$vb" calibrate "$tmp/plan.ini" --resume "$cal" --results "$tmp/results" > "$tmp/both.log" 2>&1
rc=$?
check '[ "$rc" = 2 ]' "a plan and --resume together are refused: $(cat "$tmp/both.log")"
check '[ "$(q "SELECT count(*) FROM jobs")" = "$before" ]' "none of them ran anything"

# 3. --resume finishes it, from another folder, with the plan text stored with it (two repetitions, not three).
(cd / && exec "$vb" calibrate --resume "$cal" --results "$tmp/results" --reports "$tmp/reports") > "$tmp/cal2.log" 2>&1
rc=$?
check '[ "$rc" = 0 ]' "the resumed calibration ends well (exit $rc): $(log_gist "$tmp/cal2.log")"
check 'grep -q "resuming run $a" "$tmp/cal2.log"' "it resumed the run it was stopped in"
runs() { q "SELECT count(*) FROM runs WHERE plan_name = '$1' AND status = 'complete'"; }
check '[ "$(runs cr-cal)" = 2 ] && [ "$(runs cr-cal-slow)" = 1 ] && [ "$(runs cr-calibration)" = 1 ]' \
	"its three runs and the calibration are complete, and no more were made: $(q "SELECT plan_name, status FROM runs")"
dups=$(q "SELECT count(*) FROM (SELECT run_id, config, repetition, guest_index FROM jobs GROUP BY 1, 2, 3, 4 HAVING count(*) > 1)")
check '[ "$dups" = 0 ] && [ "$(q "SELECT count(*) FROM jobs")" = 6 ]' \
	"each run's two repetitions are stored once ($(q "SELECT count(*) FROM jobs") jobs, $dups twice; $before before the resume)"
row() { q "SELECT $1 FROM calibration_rows WHERE run_id = '$cal' AND config = 'native' AND metric = 'score'"; }
check '[ "$(row "aa_pairs || \",\" || ab_pairs")" = "1,2" ]' "the rates count all three runs: $(row "aa_pairs, ab_pairs, ab_detected")"
check '[ "$(row injected)" = "CPU quota 50%" ] || [ "$(id -u)" != 0 ]' "the native row was slowed by the quota: $(row injected)"
slowed=$(q "SELECT id FROM runs WHERE plan_name = 'cr-cal-slow'")
quota=$(q "SELECT value FROM host_facts WHERE run_id = '$slowed' AND key = 'cpu quota (native)'")
if [ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup ]; then
	check 'echo "$quota" | grep -q "^$(($(getconf _NPROCESSORS_ONLN) * 50000)) us every 100000 us"' \
		"native jobs ran under 50% of the CPUs: $quota"
fi
check 'grep -q "^report: $tmp/reports/$cal/index.html" "$tmp/cal2.log"' "... and reported: $(grep -m1 '^report' "$tmp/cal2.log")"
check '! ls /sys/fs/cgroup 2>/dev/null | grep -q "vgpubench-"' "no quota cgroup is left behind: $(ls /sys/fs/cgroup | grep vgpubench)"

# 4. A complete calibration is printed again, nothing run.
"$vb" calibrate --resume "$cal" --results "$tmp/results" > "$tmp/cal3.log" 2>&1
rc=$?
check '[ "$rc" = 0 ] && grep -q "complete already" "$tmp/cal3.log" && grep -q "^false alarms:" "$tmp/cal3.log"' \
	"a complete calibration is only printed (exit $rc): $(head -3 "$tmp/cal3.log")"
check '[ "$(q "SELECT count(*) FROM jobs")" = 6 ]' "... and nothing ran"
check_done
