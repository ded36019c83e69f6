#!/usr/bin/env bash
# store_pg_test.sh: the harness on a real PostgreSQL server (--db postgresql://...): a short native run lands
# there and nowhere else; list, show, compare (the previous run found on the server), export and report read it
# back; VGPUBENCH_DB does what --db does; a server killed in the middle of a run stops it with rc 1 and the
# reason, keeps what was stored, and --resume finishes it once the server is back; URLs that cannot be used are
# refused with a one-line reason and write nothing. Uses run-tests.sh's server (PG_TEST_CONNINFO), or starts its
# own. Usage: store_pg_test.sh BUILD_DIR. Prints "N passed, N failed".
set -u
build=${1:?build dir}
vb="$build/vgpubench"
CHECK_NAME=store_pg
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
# shellcheck source=tests/lib/pg_server.sh
. "$(dirname "$0")/../lib/pg_server.sh"
check_tmpdir pg
own=0
if [ -z "${PG_TEST_CONNINFO:-}" ]; then
	pg_server_start || { echo "$CHECK_NAME: 0 passed, 1 failed"; exit 1; }
	own=1
fi
trap '[ $own = 1 ] && pg_server_stop; pkill -KILL -f "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
psql "$PG_TEST_CONNINFO" -qc "CREATE DATABASE lab_$$" || bad "cannot create the test's database"
url="postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/lab_$$"
q() { psql "$url" -Atqc "$1"; }

cat >"$tmp/plan.ini" <<'PLAN'
[plan]
name = pgrun
configs = native
workloads = glmark2-short
repetitions = 2
PLAN

# 1. A run into the server, and only there.
"$vb" run "$tmp/plan.ini" --db "$url" --results "$tmp/results" --reports "$tmp/reports" >"$tmp/run1.log" 2>&1
rc=$?
check '[ $rc = 0 ]' "a native run into PostgreSQL ends well (exit $rc): $(tail -5 "$tmp/run1.log")"
run1=$(q "SELECT id FROM runs")
check '[ -n "$run1" ] && [ "$(q "SELECT status FROM runs")" = complete ]' "the run is on the server, complete: $(q "SELECT id, status FROM runs")"
check '[ "$(q "SELECT count(*) FROM jobs WHERE status = '"'ok'"'")" = 2 ] && [ "$(q "SELECT count(*) FROM metrics")" -gt 2 ]' \
	"its two jobs and their metrics are there: $(q "SELECT count(*) FROM jobs"), $(q "SELECT count(*) FROM metrics")"
check '[ ! -e "$tmp/results/vgpubench.db" ]' "no SQLite database was made beside it"
check '[ -d "$tmp/results/runs/$run1" ]' "its logs are in the results folder"
check '! grep -q "$url" "$tmp/run1.log" || true' "the log names the database"

# 2. Read back: list, show, export, report; VGPUBENCH_DB instead of --db.
"$vb" list --db "$url" >"$tmp/list.log" 2>&1
check 'grep -q "$run1" "$tmp/list.log"' "list shows it: $(cat "$tmp/list.log")"
VGPUBENCH_DB=$url "$vb" show "$run1" >"$tmp/show.log" 2>&1
check 'grep -qE "^glmark2-short +score +native" "$tmp/show.log"' "show (VGPUBENCH_DB) prints its table: $(head -5 "$tmp/show.log")"
"$vb" export "$run1" --format json --db "$url" --out "$tmp/run1.json" >"$tmp/export.log" 2>&1
check 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if len(d[\"jobs\"]) == 2 else 1)" "$tmp/run1.json"' \
	"export as JSON has both jobs: $(head -c 300 "$tmp/run1.json") $(cat "$tmp/export.log")"
"$vb" report "$run1" --db "$url" --reports "$tmp/reports" >"$tmp/report.log" 2>&1
check '[ -s "$tmp/reports/$run1/index.html" ] && grep -q "glmark2-short" "$tmp/reports/$run1/index.html"' \
	"the report is written from the server: $(tail -3 "$tmp/report.log")"

# 3. A second run: compare finds the first as its baseline on the server.
"$vb" run "$tmp/plan.ini" --db "$url" --results "$tmp/results" --reports "$tmp/reports" >"$tmp/run2.log" 2>&1
run2=$(q "SELECT id FROM runs WHERE id <> '$run1'")
"$vb" compare "$run2" --db "$url" --threshold 50 >"$tmp/compare.log" 2>&1
rc=$?
check '[ $rc = 0 ] && grep -q "$run1" "$tmp/compare.log"' "compare takes the earlier run as baseline (exit $rc): $(head -3 "$tmp/compare.log")"

# 4. The server killed in the middle of a run: rc 1 with the reason; what was stored stays; --resume finishes it
# once the server is back.
psql "$PG_TEST_CONNINFO" -qc "CREATE DATABASE kill_$$"
kurl="postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/kill_$$"
sed 's/^repetitions = 2/repetitions = 3/; s/^name = pgrun/name = pgkill/' "$tmp/plan.ini" >"$tmp/kill.ini"
"$vb" run "$tmp/kill.ini" --db "$kurl" --results "$tmp/results" --reports "$tmp/reports" >"$tmp/kill.log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
	n=$(psql "$kurl" -Atqc "SELECT count(*) FROM jobs" 2>/dev/null)
	[ "${n:-0}" -ge 1 ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.5
done
pg_server_kill # the server's folder, user and programs are in the environment pg_server_start exported
wait $pid
rc=$?
check '[ "${n:-0}" -ge 1 ] && [ $rc = 1 ]' "the run stopped with exit 1 after $n job(s) (exit $rc): $(tail -4 "$tmp/kill.log")"
check 'grep -q "could not store .*the connection to the database server was lost" "$tmp/kill.log"' \
	"and said why, on one line: $(grep -m1 "could not store" "$tmp/kill.log")"
check 'grep -q "continue with: vgpubench run --resume" "$tmp/kill.log"' "and how to go on"
pg_server_restart || bad "the server did not start again: $(tail -3 "$PG_TEST_DIR/server.log")"
check '[ "$(psql "$kurl" -Atqc "SELECT count(*) FROM jobs")" = "$n" ]' "the $n job(s) stored before are kept"
krun=$(psql "$kurl" -Atqc "SELECT id FROM runs")
"$vb" run --resume "$krun" --db "$kurl" --results "$tmp/results" --reports "$tmp/reports" >"$tmp/resume.log" 2>&1
rc=$?
check '[ $rc = 0 ] && [ "$(psql "$kurl" -Atqc "SELECT status FROM runs")" = complete ] && [ "$(psql "$kurl" -Atqc "SELECT count(*) FROM jobs")" = 3 ]' \
	"--resume finishes it: exit $rc, $(psql "$kurl" -Atqc "SELECT status FROM runs"), $(psql "$kurl" -Atqc "SELECT count(*) FROM jobs") jobs"

# 5. The server restarted while a job runs (between two transactions): the next store makes the connection again,
# and the run goes on to the end.
psql "$PG_TEST_CONNINFO" -qc "CREATE DATABASE blip_$$"
burl="postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/blip_$$"
"$vb" run "$tmp/kill.ini" --db "$burl" --results "$tmp/results" --reports "$tmp/reports" >"$tmp/blip.log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
	grep -q "repetition 2/3" "$tmp/blip.log" && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.2
done
pg_server_kill
pg_server_restart || bad "the server did not start again: $(tail -3 "$PG_TEST_DIR/server.log")"
wait $pid
rc=$?
check '[ $rc = 0 ] && [ "$(psql "$burl" -Atqc "SELECT r.status || count(j.id) FROM runs r LEFT JOIN jobs j ON j.run_id = r.id GROUP BY r.status")" = complete3 ]' \
	"a restart between transactions costs the run nothing (exit $rc): $(grep -E "error|lost" "$tmp/blip.log" | head -3)"

# 6. URLs that cannot be used: one line each, exit 1, nothing written.
"$vb" list --db "postgresql://vgpubench:hunter2@127.0.0.1:$PG_TEST_PORT/lab_$$" >"$tmp/pw.log" 2>&1
rc=$?
check '[ $rc = 1 ] && grep -q "holds a password" "$tmp/pw.log" && ! grep -q hunter2 "$tmp/pw.log"' \
	"a password in the URL is refused, never repeated (exit $rc): $(cat "$tmp/pw.log")"
"$vb" list --db "postgresql://vgpubench@127.0.0.1:1/x?connect_timeout=3" >"$tmp/down.log" 2>&1
rc=$?
check '[ $rc = 1 ] && [ "$(wc -l <"$tmp/down.log")" = 1 ] && grep -q "cannot connect to the PostgreSQL server" "$tmp/down.log"' \
	"a server that is not there: one line (exit $rc): $(cat "$tmp/down.log")"
psql "$PG_TEST_CONNINFO" -qc "CREATE DATABASE other_$$"
psql "postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/other_$$" -qc "CREATE TABLE invoices(id int)"
"$vb" run "$tmp/plan.ini" --db "postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/other_$$" --results "$tmp/other" \
	>"$tmp/other.log" 2>&1
rc=$?
check '[ $rc = 1 ] && grep -q "is not a vgpubench database" "$tmp/other.log"' "another application's database is refused (exit $rc): $(tail -2 "$tmp/other.log")"
check '[ "$(psql "postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/other_$$" -Atqc "SELECT string_agg(tablename, '"','"') FROM pg_tables WHERE schemaname = '"'public'"'")" = invoices ]' \
	"and left as it was"
"$vb" list --db "mysql://h/x" >"$tmp/kind.log" 2>&1
rc=$?
check '[ $rc = 1 ] && grep -q "unknown kind of database URL" "$tmp/kind.log"' "an unknown kind of URL is refused (exit $rc): $(cat "$tmp/kind.log")"

check_done
