#!/usr/bin/env bash
# noise_run_test.sh: a plan's [noise] section in a real run: the warm-up
# repetition runs and is not stored, every stored job has its CPU steal and
# load average (job_noise), LP_NUM_THREADS reaches the host's jobs, and the
# run says what it did about noise (host fact "noise"); with boots = 2 a guest
# topology's repetitions are split over two fresh boots, each job says which.
# Usage: noise_run_test.sh BUILD_DIR. Prints "N passed, N failed".
set -u
build=${1:?build dir}
vb="$build/vgpubench"
CHECK_NAME=noise_run
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
check_tmpdir noise

cat > "$tmp/plan.ini" <<'PLAN'
[plan]
name = noise
configs = native
workloads = kms2d
repetitions = 2
[noise]
warmup = yes
max_steal_pct = 50
max_redos = 1
lp_num_threads = 3
PLAN
"$vb" run "$tmp/plan.ini" --results "$tmp/results" --reports "$tmp/reports" > "$tmp/run.log" 2>&1
rc=$?
check '[ "$rc" = 0 ] || [ "$rc" = 3 ]' "the run ends (exit $rc): $(log_gist "$tmp/run.log")"
check 'grep -q "kms2d warm-up repetition on the host (discarded)" "$tmp/run.log"' "the warm-up is run and said so"
check '[ "$(q "SELECT count(*) FROM jobs")" = 2 ]' "two repetitions stored: $(q "SELECT repetition FROM jobs")"
check '[ "$(q "SELECT count(*) FROM jobs WHERE repetition = 0")" = 0 ]' "the warm-up is not stored"
check '[ "$(q "SELECT count(*) FROM job_noise n JOIN jobs j ON j.id = n.job_id")" = 2 ]' "every job has its noise"
# A job shorter than a clock tick has no steal figure (NULL), never a made-up one.
check '[ "$(q "SELECT count(*) FROM job_noise WHERE (steal_pct IS NULL OR steal_pct BETWEEN 0 AND 100) AND load_before >= 0 AND load_after >= 0 AND redos = 0")" = 2 ]' \
	"steal and load were measured: $(q "SELECT steal_pct, load_before, load_after, redos FROM job_noise")"
fact=$(q "SELECT value FROM host_facts WHERE key = 'noise'")
check 'echo "$fact" | grep -q "warm-up repetition: on"' "the run says the warm-up was on: $fact"
check 'echo "$fact" | grep -q "over 50.0% is redone, at most 1 time;"' "... and the steal bound: $fact"
check 'echo "$fact" | grep -q "LP_NUM_THREADS: 3"' "... and LP_NUM_THREADS: $fact"
log=$(ls "$tmp"/results/runs/*/logs/native-n0-g0-kms2d-r1.log 2>/dev/null | head -1)
check '[ -n "$log" ]' "the job's log is kept"

# boots = 2: one mediated guest booted twice, repetition 1 in the first boot and 2-3 in the second.
cat > "$tmp/boots.ini" <<'PLAN'
[plan]
name = boots
configs = mediated
guests = 1
workloads = kms2d
repetitions = 3
[noise]
boots = 2
PLAN
rm -rf "$tmp/results"
"$vb" run "$tmp/boots.ini" --results "$tmp/results" --reports "$tmp/reports" > "$tmp/boots.log" 2>&1
rc=$?
check '[ "$rc" = 0 ]' "the boots run ends well (exit $rc): $(tail -5 "$tmp/boots.log")"
check 'grep -q "mediated with 1 guest: boot 1 of 2 (repetition 1)" "$tmp/boots.log"' "boot 1 says what it runs"
check 'grep -q "mediated with 1 guest: boot 2 of 2 (repetitions 2 to 3)" "$tmp/boots.log"' "... and boot 2"
got=$(q "SELECT j.repetition || ':' || n.boot FROM jobs j JOIN job_noise n ON n.job_id = j.id WHERE j.status = 'ok' ORDER BY j.repetition" | tr '\n' ' ')
check '[ "$got" = "1:1 2:2 3:2 " ]' "each job ran in its boot (repetition:boot): $got"
check '[ "$(q "SELECT count(*) FROM guests WHERE status = '"'up'"'")" = 2 ]' "the guest was booted twice: $(q "SELECT status FROM guests")"
run=$(q "SELECT id FROM runs")
check '[ -s "$tmp/results/runs/$run/vms/mediated-n1-boot1/guest1.serial.log" ] && [ -s "$tmp/results/runs/$run/vms/mediated-n1-boot2/guest1.serial.log" ]' \
	"each boot keeps its own logs: $(ls "$tmp/results/runs/$run/vms" 2>&1 | tr '\n' ' ')"
fact=$(q "SELECT value FROM host_facts WHERE key = 'noise'")
check 'echo "$fact" | grep -q "guest boots: 2 a topology"' "the run says how many boots: $fact"
check 'grep -Eq "boot medians 1: [0-9.]+, 2: [0-9.]+ \([0-9.]+% apart\)" "$tmp/boots.log"' \
	"the summary gives each boot's median: $(grep -A2 kms2d "$tmp/boots.log" | tail -3)"
check_done
