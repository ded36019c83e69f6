#!/usr/bin/env bash
# bench_lab.sh: what a lab's database costs: HOSTS x NIGHTS runs of the default plan's shape written by bench-lab
# into SQLite and into a private PostgreSQL server (tests/lib/pg_server.sh: initdb and pg_ctl in a new folder),
# one run's store time on each, then vgpubench report --lab and vgpubench trends --host all over each database,
# three times each.
# Usage: bench_lab.sh BUILD_DIR [HOSTS [NIGHTS]] (default 20 60).
set -u
build=${1:?build dir}
hosts=${2:-20}
nights=${3:-60}
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=tests/lib/pg_server.sh
. tests/lib/pg_server.sh
tmp=$(mktemp -d /tmp/vgpubench-benchlab-XXXXXX) || exit 1
chmod 755 "$tmp"
trap 'pg_server_stop; rm -rf "$tmp"' EXIT
pg_server_start || exit 1
psql "$PG_TEST_CONNINFO" -qc "CREATE DATABASE benchlab" || exit 1
echo "bench-lab: $hosts hosts x $nights nights, $(date -u +%Y-%m-%d), $(nproc) CPUs"
for db in "sqlite:$tmp/lab.db" "postgresql:$PG_TEST_CONNINFO dbname=benchlab"; do
	"$build/bench-lab" --db "$db" --hosts "$hosts" --nights "$nights" || exit 1
	times=""
	for i in 1 2 3; do
		t0=$(date +%s.%N)
		"$build/vgpubench" report --lab --db "$db" --reports "$tmp/reports" >"$tmp/report.log" 2>&1 ||
			{ cat "$tmp/report.log"; exit 1; }
		times="$times $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
	done
	grep -q '<svg' "$tmp/reports/lab/index.html" || { echo "bench-lab: the lab page has no chart"; exit 1; }
	echo "${db%%:*}: report --lab over $((hosts * nights)) runs:$times s"
	times=""
	for i in 1 2 3; do
		t0=$(date +%s.%N)
		"$build/vgpubench" trends --host all --db "$db" >"$tmp/trends.log" 2>&1
		rc=$?
		[ "$rc" = 0 ] || [ "$rc" = 4 ] || { cat "$tmp/trends.log"; exit 1; }
		times="$times $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
	done
	echo "${db%%:*}: trends --host all: $(head -1 "$tmp/trends.log" | cut -d';' -f1):$times s"
done
