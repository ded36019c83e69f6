#!/usr/bin/env bash
# kill_resume_test.sh: a killed harness leaves no QEMU behind and no corrupt
# database, and --resume finishes the run; Ctrl-C stops a run cleanly. Its
# guests have a display of 800x600 ([guest] displays): QEMU's own device
# offers larger modes in its EDIDs (glmark2-es2-drm takes the largest), so
# the guests' kernel takes the harness's EDID for it, and glmark2 renders at
# 800x600, as planned (glmark2's own default size, at which it made no
# window until it was asked for another: glmark2_workload.c).
# Usage: kill_resume_test.sh BUILD_DIR. Prints "N passed, N failed".
set -u
build=${1:?build dir}
vb="$build/vgpubench"
CHECK_NAME=kill_resume
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
check_tmpdir kill

cat > "$tmp/plan.ini" <<'PLAN'
[plan]
name = killtest
configs = qemu-virgl
guests = 1
workloads = glmark2-short
repetitions = 2
[guest]
memory_mb = 768
boot_timeout_s = 180
job_timeout_s = 300
displays = 800x600
PLAN

# 1. SIGKILL once the first repetition is stored.
"$vb" run "$tmp/plan.ini" --results "$tmp/results" > "$tmp/run1.log" 2>&1 &
pid=$!
wait_for_jobs $pid 1
check '[ "${n:-0}" -ge 1 ]' "no job was stored before the kill (log: $(tail -5 "$tmp/run1.log"))"
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
sleep 2
check '! pgrep -f "qemu-system.*$tmp" >/dev/null' "QEMU survived the killed harness"
check '[ "$(q "PRAGMA integrity_check")" = ok ]' "database integrity after the kill"
run=$(q "SELECT id FROM runs")
check '[ -n "$run" ]' "the run is in the database"
check '[ "$(q "SELECT status FROM runs")" = running ]' "a killed run stays 'running'"

# 2. --resume finishes it, without re-running what is stored.
before=$(q "SELECT count(*) FROM jobs")
"$vb" run --resume "$run" --results "$tmp/results" > "$tmp/run2.log" 2>&1
rc=$?
check '[ $rc -eq 0 ] || [ $rc -eq 3 ]' "resume exited $rc: $(log_gist "$tmp/run2.log")"
check '[ "$(q "SELECT status FROM runs")" = complete ]' "resumed run is complete"
check '[ "$(q "SELECT count(*) FROM jobs")" = 2 ]' "both repetitions stored exactly once (had $before)"
check '[ "$(q "SELECT count(*) FROM jobs WHERE status = '"'ok'"'")" = 2 ]' "both repetitions ok: $(q "SELECT reason FROM jobs WHERE status <> 'ok' LIMIT 1")"
check 'grep -q "resuming run" "$tmp/run2.log"' "resume announced"
check '! grep -q "repetition 1/2" "$tmp/run2.log" || [ "$before" -lt 1 ]' "repetition 1 ran again on resume"
# Where the run is: its steps counted with what was stored before the kill, each step's line tagged [k/N].
check 'grep -q "progress: 2 steps (0 stored before)" "$tmp/run1.log" &&
	grep -q "\[1/2\] qemu-virgl: glmark2-short repetition 1/2" "$tmp/run1.log"' \
	"the first run counts 2 steps and tags the first: $(grep -E "progress|\[[0-9]" "$tmp/run1.log")"
check '[ "$before" != 1 ] || { grep -q "progress: 2 steps (1 stored before)" "$tmp/run2.log" &&
	grep -q "\[2/2\] qemu-virgl: glmark2-short repetition 2/2" "$tmp/run2.log"; }' \
	"the resumed run starts at step 2 of 2: $(grep -E "progress|\[[0-9]" "$tmp/run2.log")"
check '! pgrep -f "qemu-system.*$tmp" >/dev/null' "no QEMU left after the resumed run"
sizes=$(grep -h "Surface Size" "$tmp"/results/runs/*/logs/*glmark2-short*.log | tr -s ' ' | sort | uniq -c | tr -s ' ')
check '[ "$sizes" = " 2 Surface Size: 800x600 fullscreen" ]' "glmark2 rendered at the planned display's mode: $sizes"
check 'grep -qh "drm.edid_firmware=Virtual-1:edid/vgpubench-cvt-800x600.bin,edid/vgpubench-cvt-800x600.bin" \
	"$tmp"/results/runs/*/vms/*/guest1.qemu.log' "the guest's kernel takes the harness's EDID for it"

# 3. SIGINT while guests boot: exit 130, status interrupted, no QEMU left.
"$vb" run "$tmp/plan.ini" --results "$tmp/results" > "$tmp/run3.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	pgrep -f "qemu-system.*$tmp" >/dev/null && break
	sleep 0.2
done
sleep 1
kill -INT $pid
wait $pid
rc=$?
check '[ $rc -eq 130 ]' "Ctrl-C exit code $rc"
check '[ "$(q "SELECT status FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1")" = interrupted ]' "interrupted status"
check 'grep -q -- "--resume" "$tmp/run3.log"' "the message says how to resume"
sleep 1
check '! pgrep -f "qemu-system.*$tmp" >/dev/null' "QEMU left after Ctrl-C"

check_done
