#!/usr/bin/env bash
# interleave_run_test.sh: `vgpubench run PLAN --baseline-mediator PATH`, the
# A/B run a nightly takes (runner.h run_arm): the mediated rows also run with
# the baseline mediator, stored as a run of their own, the two taking turns
# boot by boot (the order rotating); what the baseline does not change (the
# native rows) runs once. A harness killed between the arms' boots is
# resumed through the run, never through its arm, and both finish. A
# baseline that cannot run stops the run before anything starts. The
# results folder is deep enough that its sockets need short links in /tmp,
# and none is left behind.
# Usage: interleave_run_test.sh BUILD_DIR. Prints "N passed, N failed".
set -u
build=${1:?build dir}
vb="$build/vgpubench"
CHECK_NAME=interleave_run
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
check_tmpdir il

cat > "$tmp/plan.ini" <<'PLAN'
[plan]
name = ab
configs = native, qemu-virgl, mediated
guests = 1
workloads = kms2d
repetitions = 2
[guest]
memory_mb = 768
boot_timeout_s = 180
job_timeout_s = 300
[noise]
boots = 2
PLAN
# $tmp/results is a link to a folder too deep for unix socket paths (the harness takes its real path).
deep="$tmp/deep/$(printf 'd%.0s' $(seq 1 40))"
mkdir -p "$deep" && ln -s "$deep" "$tmp/results"

# 1. A baseline that is no program: refused before a run exists.
"$vb" run "$tmp/plan.ini" --baseline-mediator "$tmp/nothing" --results "$tmp/results" > "$tmp/bad.log" 2>&1
rc=$?
check '[ "$rc" = 1 ] && grep -q "the mediator $tmp/nothing of an interleaved arm cannot be run" "$tmp/bad.log"' \
	"a missing baseline mediator stops the run (exit $rc): $(tail -2 "$tmp/bad.log")"
check '[ "$(q "SELECT count(*) FROM runs")" = 0 ]' "... before it creates a run: $(q "SELECT id, status FROM runs")"

# 2. Killed once the baseline arm stored its first repetition (its first boot, after the build's own).
"$vb" run "$tmp/plan.ini" --baseline-mediator "$build/vgpu-mediator" --threshold 4 --results "$tmp/results" \
	> "$tmp/run1.log" 2>&1 &
pid=$!
for _ in $(seq 1 900); do
	n=$(q "SELECT count(*) FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.plan_name = 'ab-base'" 2>/dev/null)
	[ "${n:-0}" -ge 1 ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.5
done
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
run=$(q "SELECT id FROM runs WHERE plan_name = 'ab' AND status = 'running'")
arm=$(q "SELECT id FROM runs WHERE plan_name = 'ab-base'")
check '[ -n "$run" ] && [ -n "$arm" ]' "the run and its arm are stored: $(q "SELECT id, plan_name, status FROM runs")"
fact() { q "SELECT value FROM host_facts WHERE run_id = '$1' AND key = '$2'"; }
check '[ "$(fact "$run" "interleaved arm 1")" = "$arm (only the configurations it changes)" ]' \
	"the run names its arm: $(fact "$run" "interleaved arm 1")"
check '[ "$(fact "$arm" "interleaved with")" = "$run" ] && [ "$(fact "$arm" "arm mediator")" = "$(realpath "$build/vgpu-mediator")" ]' \
	"the arm names its run and its mediator: $(fact "$arm" "interleaved with"), $(fact "$arm" "arm mediator")"
check 'grep -n "boot 1 of 2 (repetition 1, arm 1 of 2" "$tmp/run1.log" | head -1 | cut -d: -f1 | { read -r a; b=$(grep -n "boot 1 of 2 (repetition 1, arm 2 of 2" "$tmp/run1.log" | cut -d: -f1); [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; }' \
	"the first boot goes to the build, then the baseline: $(grep "boot 1 of 2" "$tmp/run1.log")"

# 3. The arm is not resumed on its own; the run resumes both, the second boot in the other order.
"$vb" run --resume "$arm" --results "$tmp/results" > "$tmp/arm.log" 2>&1
rc=$?
check '[ "$rc" = 1 ] && grep -q "is an arm of the interleaved run $run: resume that one" "$tmp/arm.log"' \
	"resuming the arm is refused (exit $rc): $(tail -1 "$tmp/arm.log")"
"$vb" run --resume "$run" --results "$tmp/results" --reports "$tmp/reports" > "$tmp/run2.log" 2>&1
rc=$?
check '[ "$rc" = 0 ] || [ "$rc" = 3 ]' "the resumed run ends (exit $rc): $(log_gist "$tmp/run2.log")"
check '[ "$(q "SELECT group_concat(status) FROM runs WHERE id IN ('"'$run', '$arm'"')")" = complete,complete ]' \
	"the run and its arm are complete: $(q "SELECT id, status FROM runs")"
check '! grep -q "boot 1 of 2" "$tmp/run2.log"' "the first boots are not run again: $(grep "boot 1" "$tmp/run2.log")"
check 'a=$(grep -n "boot 2 of 2 (repetition 2, arm 2 of 2" "$tmp/run2.log" | cut -d: -f1); b=$(grep -n "boot 2 of 2 (repetition 2, arm 1 of 2" "$tmp/run2.log" | cut -d: -f1); [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]' \
	"the second boot goes to the baseline first: $(grep "boot 2 of 2" "$tmp/run2.log")"
jobs() { q "SELECT count(*) FROM jobs WHERE run_id = '$1' AND config = '$2' AND status = 'ok'"; }
check '[ "$(jobs "$run" mediated)" = 2 ] && [ "$(jobs "$arm" mediated)" = 2 ]' \
	"both arms hold both mediated repetitions: $(q "SELECT run_id, config, status, reason FROM jobs")"
check '[ "$(q "SELECT count(*) FROM jobs WHERE run_id = '"'$arm'"' AND config = '"'native'"'")" = 0 ]' \
	"the native rows, which the baseline does not change, run once"
check 'q "SELECT status || '"': '"' || reason FROM configs WHERE run_id = '"'$arm'"' AND name = '"'native'"'" | grep -q "^skipped: this arm of interleaved run $run does not change it"' \
	"... and the arm says so: $(q "SELECT status, reason FROM configs WHERE run_id = '$arm'")"
check '[ -s "$tmp/results/runs/$arm/vms/mediated-n1-boot2/mediator-stats.json" ]' "the arm's boots are in its own folder"
# What the baseline does not change has no one to take turns with: one boot for all its repetitions.
check 'grep -q "qemu-virgl with 1 guest: one boot for its 2 repetitions: no other arm of this run runs it" "$tmp/run1.log" &&
	[ -d "$tmp/results/runs/$run/vms/qemu-virgl-n1" ] && [ ! -e "$tmp/results/runs/$run/vms/qemu-virgl-n1-boot2" ] &&
	[ "$(jobs "$run" qemu-virgl)" = 2 ]' \
	"qemu-virgl, which the arm does not run, boots once for both repetitions: $(grep "qemu-virgl with" "$tmp/run1.log")"

check 'grep -q "compare: vgpubench compare $run $arm" "$tmp/run2.log"' "the resumed run says how to compare: $(grep "interleaved arm" "$tmp/run2.log")"
# The run's report opens with its compare against the arm, at the run's threshold, on the rows both ran.
page="$tmp/reports/$run/index.html"
check '[ "$(fact "$arm" "arm compare threshold")" = 4 ]' "the arm keeps the run's threshold: $(fact "$arm" "arm compare threshold")"
check 'grep -q "This run against its interleaved arms" "$page" && grep -q "more than 4.0%" "$page"' \
	"the report has the arm's compare at 4%: $(grep -c "interleaved arms" "$page" 2>&1)"
check 'sed -n "/id=arms/,/id=triangle/p" "$page" | grep -q "<td>kms2d<td>fill.mb_per_s<td>mediated<td>1<td>" &&
	! sed -n "/id=arms/,/id=triangle/p" "$page" | grep -q "<td>native<td>"' \
	"... with the mediated rows and not native (the arm did not run it): $(sed -n "/id=arms/,/id=triangle/p" "$page" | grep -c "<tr")"
"$vb" compare "$run" "$arm" --results "$tmp/results" > "$tmp/cmp.log" 2>&1
rc=$?
check '[ "$rc" = 0 ] && grep -qE "^kms2d +fill.mb_per_s +mediated +1 " "$tmp/cmp.log"' \
	"the build compares with its baseline row by row (exit $rc): $(grep fill.mb "$tmp/cmp.log")"
check '! pgrep -f "qemu-system.*$tmp" >/dev/null' "no QEMU left"
check '[ -z "$(find /tmp -maxdepth 1 -name "vgpubench-s-*" -lname "$deep/*")" ]' \
	"no short socket link is left: $(find /tmp -maxdepth 1 -name "vgpubench-s-*" -lname "$deep/*")"
check_done
