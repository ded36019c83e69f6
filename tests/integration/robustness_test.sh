#!/usr/bin/env bash
# robustness_test.sh: the robustness catalogue end to end. vgpubench runs it
# as the robustness workload (vgpu-hostile runs every case against
# vgpu-mediator and QEMU's vhost-user-gpu): the mediator meets the goals (no
# crash, no hang, no vGPU left dead, every ring case served again after a
# front-end reset, its neighbour served throughout), read from the job's own
# output; QEMU's back-end is only recorded. Every case is stored as a test
# status, the report has its robustness section, and compare flags a case
# that regressed against a baseline in which it passed. One run of the
# catalogue serves all of it. Usage: robustness_test.sh BUILD_DIR.
set -u
build=${1:?build dir}
vb="$build/vgpubench"
CHECK_NAME=robustness
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
check_tmpdir rob

cat > "$tmp/plan.ini" <<'PLAN'
[plan]
name = robust
configs = native
workloads = robustness
repetitions = 1
PLAN
"$vb" run "$tmp/plan.ini" --results "$tmp/results" --reports "$tmp/reports" > "$tmp/run.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "the robustness plan runs (exit $rc): $(tail -8 "$tmp/run.log")"
run=$(q "SELECT id FROM runs")
job=$(q "SELECT id FROM jobs WHERE workload = 'robustness' AND status = 'ok'")
check '[ -n "$job" ]' "its job is ok: $(q "SELECT status, reason FROM jobs")"
check '[ "$(q "SELECT count(*) FROM subtests WHERE job_id = '"${job:-0}"'")" -ge 41 ]' \
	"every case is stored as a test status: $(q "SELECT count(*) FROM subtests")"
check '[ "$(q "SELECT status FROM subtests WHERE name = '"'"'vgpu-mediator/ring-chain-loop'"'"'")" = pass ]' \
	"a ring case the mediator recovered from passes"
check '[ "$(q "SELECT value FROM metrics WHERE name = '"'"'vgpu-mediator crashed'"'"'")" = 0.0 ]' \
	"the mediator's crash count is stored: $(q "SELECT name, value FROM metrics")"
# The catalogue's own output, as the job ran it (build/vgpu-hostile, every case against each back-end).
log=$(q "SELECT log_path FROM jobs WHERE workload = 'robustness' LIMIT 1")
cp "$tmp/results/$log" "$tmp/hostile.txt" 2>/dev/null
code=$(q "SELECT exit_code FROM jobs WHERE workload = 'robustness' LIMIT 1")
check '[ "$code" = 0 ]' "vgpu-hostile exits ${code:-(no job)}: $(tail -5 "$tmp/hostile.txt")"
med=$(grep '^summary: vgpu-mediator ' "$tmp/hostile.txt")
check '[ -n "$med" ]' "vgpu-mediator's summary: $(tail -3 "$tmp/hostile.txt")"
for zero in crashed hung dead setup-failed neighbour_stalled; do
	check 'echo "$med" | grep -q " $zero=0"' "vgpu-mediator: $zero must be 0: $med"
done
check 'echo "$med" | grep -q " cases=44 .* skipped=0 "' "all 44 cases ran, none skipped: $med"
bad_ring=$(grep -E '^case: vgpu-mediator ring-' "$tmp/hostile.txt" | grep -vE ' (recovered|survived) served$')
check '[ -z "$bad_ring" ]' "every ring case recovers after a front-end reset, its neighbour served: $bad_ring"
bad_worker=$(grep -E '^case: vgpu-mediator worker-' "$tmp/hostile.txt" | grep -vE ' recovered served meanwhile ')
check '[ -z "$bad_worker" ]' "a worker that crashes, hangs or starts slowly costs its vGPU a reset, the neighbour nothing: $bad_worker"
check '[ "$(grep -c "^case: vgpu-mediator worker-" "$tmp/hostile.txt")" -eq 3 ]' "three worker cases"
stalled=$(grep -E '^case: vgpu-mediator ' "$tmp/hostile.txt" | grep -v ' served')
check '[ -z "$stalled" ]' "the neighbouring vGPU was served in every case: $stalled"
if [ -x /usr/lib/qemu/vhost-user-gpu ]; then
	check 'grep -qE "^summary: qemu-vhost-user-gpu cases=44 .* skipped=3 " "$tmp/hostile.txt"' \
		"QEMU's back-end went through the catalogue too, its worker cases skipped: $(grep qemu-vhost "$tmp/hostile.txt" | tail -2)"
fi

html="$tmp/reports/$run/index.html"
check 'grep -q "<h2 id=robustness>Robustness</h2>" "$html"' "the report has a robustness section"
check 'grep -q "<td>ring-chain-loop</td>" "$html"' "with the cases, one row each"

# A baseline in which ring-chain-loop passed everywhere: the new run, where it crashed, is a regression.
q "INSERT INTO runs(id, plan_name, plan_path, plan_text, dir, started_at, finished_at, status)
   SELECT 'base', plan_name, plan_path, plan_text, dir, '2000-01-01T00:00:00Z', finished_at, status FROM runs WHERE id = '$run';
   INSERT INTO jobs(run_id, config, topology, guest_index, workload, repetition, status, reason, accel, renderer,
   wall_s, user_s, sys_s, maxrss_kb, exit_code, log_path, finished_at)
   SELECT 'base', config, topology, guest_index, workload, repetition, status, reason, accel, renderer, wall_s,
   user_s, sys_s, maxrss_kb, exit_code, log_path, finished_at FROM jobs WHERE run_id = '$run';"
base_job=$(q "SELECT id FROM jobs WHERE run_id = 'base'")
q "INSERT INTO subtests(job_id, name, status) SELECT $base_job, name, status FROM subtests WHERE job_id = $job;
   INSERT INTO metrics(job_id, name, value, unit, direction) SELECT $base_job, name, value, unit, direction
   FROM metrics WHERE job_id = $job;
   UPDATE subtests SET status = 'crash' WHERE job_id = $job AND name = 'vgpu-mediator/ring-chain-loop';"
"$vb" compare "$run" base --results "$tmp/results" > "$tmp/compare.log" 2>&1
rc=$?
check '[ $rc -eq 4 ]' "compare exits 4 on the regressed case (exit $rc): $(tail -5 "$tmp/compare.log")"
check 'grep -q "vgpu-mediator/ring-chain-loop" "$tmp/compare.log"' "and names it: $(tail -8 "$tmp/compare.log")"
check '! pgrep -f "$tmp" >/dev/null' "no back-end left running"
check_done
