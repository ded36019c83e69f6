#!/usr/bin/env bash
# store_pg_test.sh: the harness on a real PostgreSQL server (--db postgresql://...): a short native run lands
# there and nowhere else; list, show, compare (the previous run found on the server), export and report read it
# back; VGPUBENCH_DB does what --db does; the run moves to SQLite with export and import, and imports twice to
# nothing; a server killed in the middle of a run stops it with rc 1 and the reason, keeps what was stored, and
# --resume finishes it once the server is back (and a restart between two repetitions costs nothing); two hosts
# write into it at once, each listing, showing, reporting and comparing its own runs (across hosts only with
# --cross-host), and the lab page shows both; URLs that cannot be used are refused with a one-line reason and
# write nothing. Uses run-tests.sh's server (PG_TEST_CONNINFO), or starts its own. Usage: store_pg_test.sh
# BUILD_DIR. Prints "N passed, N failed".
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
[noise]
# llvmpipe on one core: the test keeps at most one busy, and tests/run-tests.sh runs it beside another
lp_num_threads = 1
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

# 2b. Moving the run: exported from the server, imported into a SQLite database, exported again: the same JSON but
# the store it names; the copy reads like the original (show); imported twice, or back into the server that has
# it: nothing to do; as KCIDB, every metric a DONE test; a truncated file: one line, exit 1, nothing written.
"$vb" import "$tmp/run1.json" --db "sqlite:$tmp/copy.db" >"$tmp/import.log" 2>&1
rc=$?
check '[ $rc = 0 ] && grep -q "imported run $run1: 2 jobs" "$tmp/import.log"' "import into SQLite (exit $rc): $(cat "$tmp/import.log")"
"$vb" export "$run1" --format json --db "sqlite:$tmp/copy.db" --out "$tmp/copy.json" >/dev/null 2>&1
diff <(grep -v '^  "store":' "$tmp/run1.json") <(grep -v '^  "store":' "$tmp/copy.json") >"$tmp/diff.log"
check '[ ! -s "$tmp/diff.log" ] && grep -q "\"store\":\"sqlite\"" "$tmp/copy.json"' \
	"exported again from SQLite: the same JSON but its store: $(head -20 "$tmp/diff.log")"
"$vb" show "$run1" --db "sqlite:$tmp/copy.db" >"$tmp/copy-show.log" 2>&1
check 'diff <(grep -v "^database\|^results" "$tmp/show.log") <(grep -v "^database\|^results" "$tmp/copy-show.log") >/dev/null' \
	"show prints the copy as the original: $(diff "$tmp/show.log" "$tmp/copy-show.log" | head -5)"
for target in "sqlite:$tmp/copy.db" "$url"; do
	"$vb" import "$tmp/run1.json" --db "$target" >"$tmp/import2.log" 2>&1
	rc=$?
	check '[ $rc = 0 ] && grep -q "the same: nothing to do" "$tmp/import2.log"' "imported again into ${target%%:*}: nothing to do (exit $rc): $(cat "$tmp/import2.log")"
done
check '[ "$(q "SELECT count(*) FROM runs")" = 1 ]' "the server still has one run: $(q "SELECT id FROM runs")"
"$vb" export "$run1" --format kcidb --db "$url" --out "$tmp/run1.kcidb.json" >"$tmp/kcidb.log" 2>&1
rc=$?
check '[ $rc = 0 ] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); t=d[\"tests\"]; sys.exit(0 if d[\"version\"][\"major\"] == 5 and t and all(x[\"status\"] == \"DONE\" and x[\"id\"].startswith(\"vgpubench:\") for x in t) else 1)" "$tmp/run1.kcidb.json"' \
	"export as KCIDB (exit $rc): every metric a DONE test: $(head -c 400 "$tmp/run1.kcidb.json") $(cat "$tmp/kcidb.log")"
head -c 1000 "$tmp/run1.json" >"$tmp/cut.json"
"$vb" import "$tmp/cut.json" --db "sqlite:$tmp/cut.db" >"$tmp/cut.log" 2>&1
rc=$?
check '[ $rc = 1 ] && [ "$(wc -l <"$tmp/cut.log")" = 1 ] && grep -q "truncated" "$tmp/cut.log"' \
	"a truncated export: one line, exit 1 (exit $rc): $(cat "$tmp/cut.log")"
check '[ ! -e "$tmp/cut.db" ]' "and nothing was written: no database made for it"

# 3. A second run: compare finds the first as its baseline on the server.
"$vb" run "$tmp/plan.ini" --db "$url" --results "$tmp/results" --reports "$tmp/reports" >"$tmp/run2.log" 2>&1
run2=$(q "SELECT id FROM runs WHERE id <> '$run1'")
"$vb" compare "$run2" --db "$url" --threshold 50 >"$tmp/compare.log" 2>&1
rc=$?
check '[ $rc = 0 ] && grep -q "$run1" "$tmp/compare.log"' "compare takes the earlier run as baseline (exit $rc): $(head -3 "$tmp/compare.log")"

# 4. Two hosts write into one database at once (VGPUBENCH_HOST names them): both runs complete and whole; each
# host's runs are its own to list and compare; across hosts only with --cross-host, which says so first.
psql "$PG_TEST_CONNINFO" -qc "CREATE DATABASE two_$$"
turl="postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/two_$$"
VGPUBENCH_HOST=laba "$vb" run "$tmp/plan.ini" --db "$turl" --results "$tmp/ra" --reports "$tmp/reports" >"$tmp/a.log" 2>&1 &
pa=$!
VGPUBENCH_HOST=labb "$vb" run "$tmp/plan.ini" --db "$turl" --results "$tmp/rb" --reports "$tmp/reports" >"$tmp/b.log" 2>&1
rb=$?
wait $pa
ra=$?
tq() { psql "$turl" -Atqc "$1"; }
check '[ $ra = 0 ] && [ $rb = 0 ]' "both hosts' runs end well (exit $ra, $rb): $(tail -2 "$tmp/a.log") $(tail -2 "$tmp/b.log")"
check '[ "$(tq "SELECT string_agg(host || '"':'"' || status, '"' '"' ORDER BY host) FROM runs")" = "laba:complete labb:complete" ]' \
	"both are complete, each with its host: $(tq "SELECT id, host, status FROM runs")"
per_host=$(tq "SELECT string_agg(n::text, ' ' ORDER BY host) FROM (SELECT r.host, count(*) AS n FROM jobs j
	JOIN runs r ON r.id = j.run_id WHERE j.status = 'ok' GROUP BY r.host) x")
check '[ "$per_host" = "2 2" ]' "each has its own two jobs: $per_host"
runa=$(tq "SELECT id FROM runs WHERE host = 'laba'")
runb=$(tq "SELECT id FROM runs WHERE host = 'labb'")
check '[[ "$runa" == *-laba-pgrun ]] && [[ "$runb" == *-labb-pgrun ]]' "run ids carry the host: $runa $runb"
VGPUBENCH_HOST=labb "$vb" list --db "$turl" >"$tmp/listb.log" 2>&1
check 'grep -q "$runb" "$tmp/listb.log" && ! grep -q "$runa" "$tmp/listb.log"' "list shows this host's runs: $(cat "$tmp/listb.log")"
"$vb" list --db "$turl" --host all >"$tmp/listall.log" 2>&1
check 'grep -qE "^$runa .* laba$" "$tmp/listall.log" && grep -qE "^$runb .* labb$" "$tmp/listall.log"' \
	"list --host all shows both, with their hosts: $(cat "$tmp/listall.log")"
"$vb" compare "$runb" --db "$turl" >"$tmp/nobase.log" 2>&1
rc=$?
check '[ $rc = 1 ] && grep -q "no earlier complete run of the same plan on labb" "$tmp/nobase.log"' \
	"labb's run has no baseline of its own: the other host's is not taken (exit $rc): $(cat "$tmp/nobase.log")"
"$vb" compare "$runb" "$runa" --db "$turl" >"$tmp/cross.log" 2>&1
rc=$?
check '[ $rc = 2 ] && grep -q "needs --cross-host" "$tmp/cross.log"' "two hosts' runs are not compared unasked (exit $rc): $(cat "$tmp/cross.log")"
"$vb" compare "$runb" --host laba --cross-host --threshold 50 --db "$turl" >"$tmp/cross2.log" 2>&1
rc=$?
check '[ $rc = 0 ] && head -1 "$tmp/cross2.log" | grep -q "^cross-host comparison: $runb on labb against $runa on laba"' \
	"with --cross-host, --host laba gives laba's run, said at the top (exit $rc): $(head -2 "$tmp/cross2.log")"
VGPUBENCH_HOST=labb "$vb" show --db "$turl" >"$tmp/showb.log" 2>&1
"$vb" show --host laba --db "$turl" >"$tmp/showa.log" 2>&1
check 'head -1 "$tmp/showb.log" | grep -q "^run $runb " && head -1 "$tmp/showa.log" | grep -q "^run $runa "' \
	"show without a run: this host's newest run, or --host's: $(head -1 "$tmp/showb.log") / $(head -1 "$tmp/showa.log")"
"$vb" show --host nosuchhost --db "$turl" >"$tmp/shown.log" 2>&1
rc=$?
check '[ $rc = 1 ] && grep -q "no run of host nosuchhost" "$tmp/shown.log"' "show --host with no runs: exit 1 (exit $rc): $(cat "$tmp/shown.log")"
"$vb" show "$runa" --host laba --db "$turl" >"$tmp/showboth.log" 2>&1
rc=$?
check '[ $rc = 2 ]' "show RUN --host: a usage error (exit $rc): $(cat "$tmp/showboth.log")"
"$vb" report --host laba --db "$turl" --reports "$tmp/hostreports" >"$tmp/reporta.log" 2>&1
rc=$?
check '[ $rc = 0 ] && [ -s "$tmp/hostreports/$runa/index.html" ]' "report --host laba: laba's newest run's report (exit $rc): $(tail -2 "$tmp/reporta.log")"
"$vb" report --lab --db "$turl" --reports "$tmp/labreports" >"$tmp/lab.log" 2>&1
rc=$?
check '[ $rc = 0 ] && grep -q "<td rowspan=1>laba</td>" "$tmp/labreports/lab/index.html" && grep -q "<td rowspan=1>labb</td>" "$tmp/labreports/lab/index.html"' \
	"report --lab shows both hosts (exit $rc): $(cat "$tmp/lab.log")"

# 5. The server killed in the middle of a run: rc 1 with the reason; what was stored stays; --resume finishes it
# once the server is back.
psql "$PG_TEST_CONNINFO" -qc "CREATE DATABASE kill_$$"
kurl="postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/kill_$$"
sed 's/^repetitions = 2/repetitions = 3/; s/^name = pgrun/name = pgkill/' "$tmp/plan.ini" >"$tmp/kill.ini"
VGPUBENCH_DB_WAIT=3 "$vb" run "$tmp/kill.ini" --db "$kurl" --results "$tmp/results" --reports "$tmp/reports" \
	>"$tmp/kill.log" 2>&1 &
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
check 'grep -q "connecting again for up to 3 s" "$tmp/kill.log" &&
	[ "$(grep -c "did not come back within 3 s" "$tmp/kill.log")" = 1 ]' \
	"after waiting VGPUBENCH_DB_WAIT's 3 s for the server, once: $(grep -E "again|come back" "$tmp/kill.log")"
pg_server_restart || bad "the server did not start again: $(tail -3 "$PG_TEST_DIR/server.log")"
check '[ "$(psql "$kurl" -Atqc "SELECT count(*) FROM jobs")" = "$n" ]' "the $n job(s) stored before are kept"
krun=$(psql "$kurl" -Atqc "SELECT id FROM runs")
"$vb" run --resume "$krun" --db "$kurl" --results "$tmp/results" --reports "$tmp/reports" >"$tmp/resume.log" 2>&1
rc=$?
check '[ $rc = 0 ] && [ "$(psql "$kurl" -Atqc "SELECT status FROM runs")" = complete ] && [ "$(psql "$kurl" -Atqc "SELECT count(*) FROM jobs")" = 3 ]' \
	"--resume finishes it: exit $rc, $(psql "$kurl" -Atqc "SELECT status FROM runs"), $(psql "$kurl" -Atqc "SELECT count(*) FROM jobs") jobs"

# 6. The server restarted while a job runs (between two transactions): the next store makes the connection again,
# and the run goes on to the end. Once restarted at once; once only after the run found it gone and waits for it.
psql "$PG_TEST_CONNINFO" -qc "CREATE DATABASE blip_$$"
burl="postgresql://vgpubench@127.0.0.1:$PG_TEST_PORT/blip_$$"
"$vb" run "$tmp/kill.ini" --db "$burl" --results "$tmp/results" --reports "$tmp/reports" >"$tmp/blip.log" 2>&1 &
pid=$!
# Wait up to 120 s for what the run's log says.
await_log() {
	for _ in $(seq 1 600); do
		grep -q "$1" "$tmp/blip.log" && return 0
		kill -0 $pid 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
await_log "repetition 2/3"
pg_server_kill
pg_server_restart || bad "the server did not start again: $(tail -3 "$PG_TEST_DIR/server.log")"
await_log "repetition 3/3"
pg_server_kill
await_log "connecting again for up to 60 s"
waited=$?
pg_server_restart || bad "the server did not start again: $(tail -3 "$PG_TEST_DIR/server.log")"
wait $pid
rc=$?
check '[ $rc = 0 ] && [ "$(psql "$burl" -Atqc "SELECT r.status || count(j.id) FROM runs r LEFT JOIN jobs j ON j.run_id = r.id GROUP BY r.status")" = complete3 ]' \
	"two restarts between transactions cost the run nothing (exit $rc): $(grep -E "error|lost" "$tmp/blip.log" |
		head -3)"
check '[ $waited = 0 ] && grep -q "database: connected again after" "$tmp/blip.log"' \
	"the run waited for the server and said so: $(grep -E "^vgpubench: .*database" "$tmp/blip.log")"

# 7. URLs that cannot be used: one line each, exit 1, nothing written.
VGPUBENCH_DB_WAIT=soon "$vb" list --db "$url" >"$tmp/wait.log" 2>&1
rc=$?
check '[ $rc = 1 ] && [ "$(wc -l <"$tmp/wait.log")" = 1 ] &&
	grep -q "VGPUBENCH_DB_WAIT=soon is not a number of seconds" "$tmp/wait.log"' \
	"a VGPUBENCH_DB_WAIT that is no number of seconds: one line (exit $rc): $(cat "$tmp/wait.log")"
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
purl="postgresql://vgpubench_pw@127.0.0.1:$PG_TEST_PORT/postgres"
PGPASSWORD=wrong-one "$vb" list --db "$purl" >"$tmp/wrongpw.log" 2>&1
rc=$?
check '[ $rc = 1 ] && [ "$(wc -l <"$tmp/wrongpw.log")" = 1 ] && grep -q "password authentication failed" "$tmp/wrongpw.log" && ! grep -q wrong-one "$tmp/wrongpw.log"' \
	"a wrong password: one line, not repeated (exit $rc): $(cat "$tmp/wrongpw.log")"
echo "127.0.0.1:$PG_TEST_PORT:*:vgpubench_pw:$PG_TEST_PASSWORD" >"$tmp/pgpass"
chmod 600 "$tmp/pgpass"
PGPASSFILE=$tmp/pgpass "$vb" list --db "$purl" >"$tmp/rightpw.log" 2>&1
check 'grep -q "is empty: no vgpubench results there" "$tmp/rightpw.log" && ! grep -q "$PG_TEST_PASSWORD" "$tmp/rightpw.log"' \
	"the password from PGPASSFILE gets in (to an empty database): $(cat "$tmp/rightpw.log")"
"$vb" list --db "mysql://h/x" >"$tmp/kind.log" 2>&1
rc=$?
check '[ $rc = 1 ] && grep -q "unknown kind of database URL" "$tmp/kind.log"' "an unknown kind of URL is refused (exit $rc): $(cat "$tmp/kind.log")"

check_done
