#!/usr/bin/env bash
# scenario_run_test.sh: a sharing-quality scenario end to end on real TCG
# guests and a real vgpu-mediator: two guests (kms2d and an idle one, then a
# baseline), the policy set over the control socket, every guest's row with
# the mediator's counters and its samples stored, the terminal table and the
# report's scenario section with its charts; --resume of the finished run
# runs nothing again. Usage: scenario_run_test.sh BUILD_DIR. Prints
# "N passed, N failed".
set -u
build=${1:?build dir}
vb="$build/vgpubench"
CHECK_NAME=scenario_run
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
check_tmpdir sc

cat > "$tmp/plan.ini" <<'PLAN'
[plan]
name = scentest
repetitions = 1
[guest]
memory_mb = 768
boot_timeout_s = 180
job_timeout_s = 120
[mediator]
display_fps = 30
[scenario pair]
policies = fixed-share
weights = guest1:3
guests = kms2d, idle
baseline = idle, kms2d
PLAN

"$vb" run "$tmp/plan.ini" --results "$tmp/results" --reports "$tmp/reports" > "$tmp/run.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "the scenario run exits $rc: $(log_gist "$tmp/run.log")"
check '[ "$(q "SELECT count(*) FROM scenario_jobs")" -eq 4 ]' "two guests in two phases: $(q "SELECT * FROM scenario_jobs")"
check '[ "$(q "SELECT count(*) FROM scenario_jobs WHERE status = '"'"'ok'"'"'")" -eq 4 ]' \
	"every row ok: $(q "SELECT guest_index, phase, workload, status, reason FROM scenario_jobs")"
check '[ "$(q "SELECT count(*) FROM scenario_jobs WHERE policy_run = '"'"'fixed-share'"'"' AND policy = '"'"'fixed-share'"'"'")" -eq 4 ]' \
	"the mediator ran the scenario's policy: $(q "SELECT guest_index, policy FROM scenario_jobs")"
check '[ "$(q "SELECT share FROM scenario_jobs WHERE guest_index = 1 AND phase = '"'"'contended'"'"'")" = "0.75" ]' \
	"guest1's configured share is 3/4: $(q "SELECT guest_index, share, weight FROM scenario_jobs")"
check '[ "$(q "SELECT count(*) FROM scenario_jobs WHERE workload = '"'"'kms2d'"'"' AND metric IS NOT NULL AND value > 0 AND renderer = '"'"'virtio_gpu'"'"'")" -eq 2 ]' \
	"kms2d measured on virtio_gpu in both phases: $(q "SELECT guest_index, phase, metric, value, renderer FROM scenario_jobs")"
check '[ "$(q "SELECT count(*) FROM scenario_jobs WHERE workload = '"'"'kms2d'"'"' AND gpu_ms > 0 AND window_gpu_ms >= 0")" -eq 2 ]' \
	"the busy guest's GPU time is stored: $(q "SELECT guest_index, phase, gpu_ms, window_gpu_ms FROM scenario_jobs")"
check '[ "$(q "SELECT count(DISTINCT job_id) FROM scenario_samples")" -eq 4 ]' "samples for every guest"
check 'grep -q "\[1/2\] scenario pair, fixed-share, contended: repetition 1/1" "$tmp/run.log" &&
	grep -q "\[2/2\] scenario pair, fixed-share, baseline: repetition 1/1" "$tmp/run.log"' \
	"each phase's repetition is announced as a step of the run: $(grep -F "scenario pair, " "$tmp/run.log")"
check 'grep -q "scenario pair: booting 2 guests at once (.*display updates at most 30 a second" "$tmp/run.log"' \
	"the scenario's mediator takes [mediator] display_fps: $(grep "scenario pair: booting" "$tmp/run.log")"
check 'grep -qE "^pair +fixed-share +contended +guest1 +kms2d" "$tmp/run.log"' "the terminal table lists the guests: $(tail -12 "$tmp/run.log")"
run=$(q "SELECT id FROM runs")
html="$tmp/reports/$run/index.html"
check '[ -f "$html" ] && grep -q "<h3>scenario pair</h3>" "$html"' "the report's scenario section"
check '[ "$(grep -c "<svg" "$html")" -ge 2 ]' "its charts: $(grep -c "<svg" "$html" 2>/dev/null)"
check '! grep -q "class=err" "$html"' "no chart failed"
check '[ "$(q "SELECT count(*) FROM guests WHERE config = '"'"'scenario:pair'"'"' AND status = '"'"'up'"'"'")" -eq 2 ]' "both boots stored"

"$vb" run --resume "$run" --results "$tmp/results" --reports "$tmp/reports" > "$tmp/resume.log" 2>&1
rc=$?
check '[ $rc -eq 0 ] && ! grep -qE "booting [0-9]+ guests? at once" "$tmp/resume.log"' "a resumed finished run boots nothing (exit $rc): $(tail -5 "$tmp/resume.log")"
check '[ "$(q "SELECT count(*) FROM scenario_jobs")" -eq 4 ]' "and stores nothing twice"
check '! pgrep -f "$tmp" >/dev/null' "no QEMU or mediator left running"
check_done
