#!/usr/bin/env bash
# fuzz.sh: long fuzzing (make fuzz FUZZ_SECONDS=N): every libFuzzer target for
# N seconds, on a corpus kept under build/fuzz/corpus/NAME (seeded from
# mediator/fuzz/corpus/NAME, so each run goes on from the last), then one
# line per target: executions, executions/s, edges covered (cov), features
# (ft), corpus size, and what crashed. A crash leaves its input as
# build/fuzz/NAME-crash-*; the exit status is 1 when any target crashed.
# Usage: fuzz.sh BUILD_DIR SECONDS FUZZER...
set -u
build=${1:?build dir}
secs=${2:?seconds}
shift 2
case "$secs" in '' | *[!0-9]*)
	echo "fuzz: FUZZ_SECONDS must be a whole number of seconds, not '$secs'" >&2
	exit 2
	;;
esac
failed=0
printf '%-16s %8s %12s %10s %8s %8s %8s  %s\n' target seconds execs execs/s cov ft corpus result
for fuzzer in "$@"; do
	name=$(basename "$fuzzer" _fuzz)
	corpus="$build/fuzz/corpus/$name"
	mkdir -p "$corpus"
	log="$build/fuzz/$name.log"
	"$fuzzer" -max_total_time="$secs" -max_len=16384 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz/$name-" "$corpus" "mediator/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	# libFuzzer's last status line: "#N DONE cov: C ft: F corp: K/..." and its final stats.
	done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1)
	execs=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{print $2}')
	rate=$(grep -E '^stat::average_exec_per_sec:' "$log" | awk '{print $2}')
	cov=$(echo "$done_line" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
	ft=$(echo "$done_line" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
	files=$(find "$corpus" -type f | wc -l)
	result=ok
	if [ $rc -ne 0 ]; then
		result="CRASH (see $log)"
		failed=1
	fi
	printf '%-16s %8s %12s %10s %8s %8s %8s  %s\n' "$name" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
		"$files" "$result"
done
exit $failed
