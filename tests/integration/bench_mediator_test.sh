#!/usr/bin/env bash
# bench_mediator_test.sh: `make bench-mediator` works end to end, briefly:
# the benchmark's front-end drives QEMU's own vhost-user-gpu and vgpu-mediator
# with the same stream, every frame reaches the display side intact, a ratio
# is printed and the CSV holds one clean row per back-end; bad arguments and a
# missing back-end are reported, not measured; three VMs against the
# ThreadSanitizer build of the mediator (display updates readied on the loop
# thread and sent by a display-sender thread meanwhile) run clean. Speed is not checked here.
# Usage: bench_mediator_test.sh BUILD_DIR. Prints "N passed, N failed".
set -u
build=${1:?build dir}
bench="$build/bench-mediator"
CHECK_NAME=bench_mediator
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
check_tmpdir bench

"$bench" --sizes 320x240 --vgpus 1 --seconds 0.3 --warmup 0.1 --reps 1 --csv "$tmp/out.csv" > "$tmp/out.txt" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "a short run exits $rc: $(tail -5 "$tmp/out.txt")"
check 'grep -q "ratio vgpu-mediator (2D) / qemu vhost-user-gpu: [0-9.]*x" "$tmp/out.txt"' \
	"no 2D ratio printed: $(cat "$tmp/out.txt")"
check 'grep -q "ratio vgpu-mediator (virgl resources) / qemu vhost-user-gpu: [0-9.]*x" "$tmp/out.txt"' \
	"no virgl-resources ratio printed"
check 'grep -q "ratio vgpu-mediator (2D under virgl) / qemu vhost-user-gpu: [0-9.]*x" "$tmp/out.txt"' \
	"no ratio for a virgl guest's 2D resource printed"
check 'grep -q "ratio vgpu-mediator (virgl on workers) / qemu vhost-user-gpu: [0-9.]*x" "$tmp/out.txt"' \
	"no ratio for the mediator with render workers"
check '[ "$(wc -l < "$tmp/out.csv")" -eq 6 ]' "the CSV should hold a header and 5 rows: $(cat "$tmp/out.csv")"
# Every row measured (frames/s > 0, CPU and memory of the back-end's processes) with an empty error column.
check '[ "$(awk -F, "NR > 1 && \$6 > 0 && \$11 > 0 && \$16 > 0 && \$NF == \"\\\"\\\"\"" "$tmp/out.csv" | wc -l)" -eq 5 ]' \
	"a back-end row failed: $(cat "$tmp/out.csv")"
# The mediator coalesces display updates to its refresh (60 a second by default): fewer updates than frames, at
# least one (the last frame was checked on the display); QEMU's back-end sends every frame.
check '[ "$(awk -F, "NR > 1 && \$4 == \"vgpu-mediator (2D)\" && \$15 > 0 && \$15 < \$6" "$tmp/out.csv" | wc -l)" -eq 1 ]' \
	"the mediator should send fewer display updates than frames: $(cat "$tmp/out.csv")"
check '[ "$(awk -F, "NR > 1 && \$4 ~ /^qemu/ && \$15 == \$6" "$tmp/out.csv" | wc -l)" -eq 1 ]' \
	"QEMU's back-end should display every frame: $(cat "$tmp/out.csv")"

# --display-fps 0: every flush reaches the display, each one counted and the last one checked.
"$bench" --sizes 320x240 --vgpus 1 --seconds 0.3 --warmup 0.1 --reps 1 --display-fps 0 --qemu /nonexistent/q \
	--csv "$tmp/every.csv" > "$tmp/every.txt" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "--display-fps 0: exit $rc: $(tail -5 "$tmp/every.txt")"
check '[ "$(awk -F, "NR > 1 && \$4 ~ /^vgpu-mediator/ && \$6 > 0 && \$15 == \$6 && \$NF == \"\\\"\\\"\"" "$tmp/every.csv" | wc -l)" -eq 4 ]' \
	"--display-fps 0: every frame displayed: $(cat "$tmp/every.csv")"
check 'grep -q "vgpu-mediator sends every frame (--display-fps 0)" "$tmp/every.txt"' "the header says so"

# Two VMs on one mediator process: each VM's frames counted and checked, Jain's index in (0.5, 1].
# (QEMU's side of this is left out here: its back-ends are QEMU's to keep well, not this test's.)
"$bench" --sizes 320x240 --vgpus 2 --seconds 0.3 --warmup 0.1 --reps 1 --qemu /nonexistent/vhost-user-gpu \
	--csv "$tmp/two.csv" > "$tmp/two.txt" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "two VMs: exit $rc: $(tail -5 "$tmp/two.txt")"
check '[ "$(awk -F, "NR > 1 && \$3 == 2 && \$6 > 0 && \$14 >= 0.5 && \$14 <= 1.0001 && \$12 > 0" "$tmp/two.csv" | wc -l)" -eq 4 ]' \
	"2-VM rows without per-VM numbers: $(cat "$tmp/two.csv")"
check 'grep -q "320x240, 2 VMs at once" "$tmp/two.txt"' "no 2-VM table"

# A back-end that is not there is skipped with its reason, the other one still measured.
"$bench" --sizes 64x64 --vgpus 1 --seconds 0.2 --warmup 0 --reps 1 --qemu /nonexistent/vhost-user-gpu > "$tmp/skip.txt" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "a missing QEMU back-end should be a skip, not a failure (exit $rc)"
check 'grep -q "qemu vhost-user-gpu (2D): skipped: QEMU.s vhost-user-gpu is not installed" "$tmp/skip.txt"' \
	"no skip reason: $(cat "$tmp/skip.txt")"
check 'grep -q "ratio vgpu-mediator (2D) / qemu: not measured" "$tmp/skip.txt"' "a ratio without QEMU's numbers"

# A back-end that dies is a failure with a message, and the run goes on to the others.
printf '#!/bin/sh\necho "dead on purpose" >&2\nexit 3\n' > "$tmp/dead.sh"
chmod +x "$tmp/dead.sh"
"$bench" --sizes 64x64 --vgpus 1 --seconds 0.2 --warmup 0 --reps 1 --mediator "$tmp/dead.sh" > "$tmp/dead.txt" 2>&1
rc=$?
# the failed runs keep their back-end logs for the user: not ours to leave behind
sed -n 's/.*back-end files kept in \(\/tmp\/bench-mediator\.[A-Za-z0-9]*\)$/\1/p' "$tmp/dead.txt" | xargs -r rm -rf
check '[ $rc -eq 1 ]' "a dead back-end should fail the run (exit $rc)"
check 'grep -q "vgpu-mediator (2D) run 1: VM 1 of 1: no connection: the back-end exited before listening; it last wrote .dead on purpose." "$tmp/dead.txt"' \
	"no message for the dead back-end, with its last words: $(cat "$tmp/dead.txt")"
check 'grep -qE "qemu vhost-user-gpu \(2D\) +[0-9]" "$tmp/dead.txt"' "QEMU's back-end not measured after the failure: $(tr "\n" "|" < "$tmp/dead.txt")"

# The scheduler mode: two VMs 3:1 under fixed share, the first a hog; each VM's configured and measured share.
"$bench" --policy fixed-share,best-effort --weights 3,1 --hog 2 --sizes 320x240 --seconds 0.5 --warmup 0.1 --reps 1 \
	> "$tmp/pol.txt" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "--policy: exit $rc: $(tail -5 "$tmp/pol.txt")"
check 'grep -q "320x240, 2 VMs, fixed-share" "$tmp/pol.txt" && grep -q "320x240, 2 VMs, best-effort" "$tmp/pol.txt"' \
	"a table per policy: $(cat "$tmp/pol.txt")"
check 'grep -qE "^  vm0 +3 +2 +0.750 +0\.[0-9]{3}" "$tmp/pol.txt" && grep -qE "^  vm1 +1 +1 +0.250 +0\.[0-9]{3}" "$tmp/pol.txt"' \
	"each VM's weight, transfers a frame, configured and measured share: $(cat "$tmp/pol.txt")"
check 'grep -qE "^  vm0 +3 +2 +- " "$tmp/pol.txt"' "best effort configures no share: $(cat "$tmp/pol.txt")"
check 'grep -q "Jain over GPU share / weight: [0-9.]*" "$tmp/pol.txt"' "no Jain line"

# Bad arguments: a clear message and exit 2.
for args in "--sizes 0x5" "--sizes 640x480x2" "--vgpus 0" "--vgpus 17" "--display-fps -1" "--display-fps 1001" "--vgpus 1,x" "--seconds -1" "--reps 0" "--entry-size 3" "--bogus 1" "--seconds" \
	"--policy lottery" "--policy sla,equal-share,sla" "--weights 0" "--weights 1,x" "--hog 0" "--hog 17"; do
	# shellcheck disable=SC2086
	out=$("$bench" $args 2>&1)
	rc=$?
	check '[ $rc -eq 2 ] && [ -n "$out" ]' "'$args' should be refused with a message (exit $rc)"
done

# ThreadSanitizer: the mediator's loop shares copies with its copy thread and hands display updates to its display
# sender, which sends them while the loop serves; three VMs on each mediator row (2D, a virgl guest's 2D resources,
# virgl resources, virgl on render workers) against the TSan build, which stops at the first race it sees.
if [ -x "$build/tsan/vgpu-mediator" ]; then
	TSAN_OPTIONS="halt_on_error=1:suppressions=$PWD/tests/tsan.supp" "$bench" --sizes 320x240 --vgpus 3 \
		--seconds 0.5 --warmup 0.1 --reps 1 --qemu /nonexistent --mediator "$build/tsan/vgpu-mediator" \
		--csv "$tmp/tsan.csv" > "$tmp/tsan.txt" 2>&1
	rc=$?
	check '[ $rc -eq 0 ]' "the TSan mediator run exits $rc: $(tail -5 "$tmp/tsan.txt")"
	check '[ "$(awk -F, "NR > 1 && \$4 ~ /vgpu-mediator/ && \$6 > 0 && \$15 > 0 && \$NF == \"\\\"\\\"\"" "$tmp/tsan.csv" | wc -l)" -eq 4 ]' \
		"the four mediator rows measured, with display updates, no race: $(cat "$tmp/tsan.csv") $(grep -A5 ThreadSanitizer "$tmp/tsan.txt" | head -20)"
fi
check_done
