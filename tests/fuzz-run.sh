#!/usr/bin/env bash
# fuzz-run.sh: runs a libFuzzer target for a short time from its seed corpus
# (new inputs go to a scratch folder, not into the tree) and prints a closing
# "name: N passed, N failed" line. A crash leaves its input in build/fuzz/.
# Usage: fuzz-run.sh FUZZER SEED_CORPUS [SECONDS]
set -u
fuzzer=${1:?fuzzer}
seeds=${2:?seed corpus}
secs=${3:-20}
name=$(basename "$fuzzer")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
out=$("$fuzzer" -max_total_time="$secs" -max_len=16384 -artifact_prefix="$(dirname "$fuzzer")/$name-" \
	"$scratch" "$seeds" 2>&1)
rc=$?
echo "$out" | grep -E '^(Done|INFO: seed corpus|==[0-9]+==ERROR|SUMMARY)' | head -5
if [ $rc -eq 0 ]; then
	echo "$name: 1 passed, 0 failed"
else
	echo "$out" | tail -20
	echo "$name: 0 passed, 1 failed"
fi
