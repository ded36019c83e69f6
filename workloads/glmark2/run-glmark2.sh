#!/usr/bin/env bash
# run-glmark2.sh: runs glmark2 (the command line given) with --results-file
# where the installed glmark2 supports it, and prints its CSV results after
# the console output between markers (a guest's files are not the host's).
# Usage: run-glmark2.sh GLMARK2 [ARGS...]
set -u
prog=${1:?glmark2 binary}
shift
if ! command -v "$prog" > /dev/null; then
	echo "skip: $prog is not installed"
	exit 77
fi
if "$prog" --help 2>&1 | grep -q -- '--results-file'; then
	# In TMPDIR: on the host the harness gives each agent a scratch folder of the run's, so a job killed with
	# SIGKILL (no trap runs) leaves its CSV there, not in /tmp; in a guest /tmp is the guest's own.
	csv=$(mktemp "${TMPDIR:-/tmp}/glmark2-XXXXXX") || exit 1
	mv "$csv" "$csv.csv"
	csv="$csv.csv"
	"$prog" "$@" --results-file "$csv"
	rc=$?
	if [ -s "$csv" ]; then
		echo "--- glmark2 results.csv ---"
		cat "$csv"
		echo "--- end ---"
	fi
	rm -f "$csv"
	exit $rc
fi
exec "$prog" "$@"
