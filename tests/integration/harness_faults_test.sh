#!/usr/bin/env bash
# harness_faults_test.sh: the harness against a careless or hostile user and
# a failing machine, driven through the built vgpubench. Five classes: output
# written before input is validated, results lost behind a zero exit code,
# injection and exhaustion, shared machine state, concurrency and identity.
# Every case checks the exit code, the message, and that the data there
# before (the database, earlier exports and reports) is byte-identical after.
# The full-disk and read-only cases run in a private mount namespace.
# Usage: harness_faults_test.sh BUILD_DIR. Prints "N passed, N failed".
set -u
build=$(cd "${1:?build dir}" && pwd)
vb="$build/vgpubench"
CHECK_NAME=harness_faults
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"

# The second half, in its own mount namespace: see the end of this file.
inner=${2:-}

tmp=${3:-$(mktemp -d /tmp/vgpubench-faults-XXXXXX)}
db="$tmp/r/vgpubench.db"
q() { sqlite3 "$1" "$2"; }

# Checksums of files (absent ones named), to compare before and after.
sums() {
	local f
	for f; do
		if [ -e "$f" ]; then sha256sum <"$f"; else echo "absent $f"; fi
	done
}

# expect NAME RC PATTERN [FILE...] -- COMMAND...: the exit code, a message
# matching PATTERN (grep -E, stdout and stderr), and the files unchanged.
expect() {
	local name=$1 want=$2 pat=$3
	shift 3
	local files=()
	while [ "$1" != "--" ]; do
		files+=("$1")
		shift
	done
	shift
	local before after out rc
	before=$(sums "${files[@]}")
	out=$("$@" 2>&1)
	rc=$?
	after=$(sums "${files[@]}")
	check '[ "$rc" = "$want" ]' "$name: exit $rc, expected $want: $(echo "$out" | tail -3)"
	check 'echo "$out" | grep -qE -- "$pat"' "$name: no /$pat/ in: $(echo "$out" | tail -3)"
	check '[ "$before" = "$after" ]' "$name: data there before was changed"
}

# lp_num_threads = 1: llvmpipe on one core, so the test keeps at most one busy (run-tests.sh runs it beside another).
plan() { # plan FILE NAME WORKLOAD REPETITIONS
	printf '[plan]\nname = %s\nconfigs = native\nworkloads = %s\nrepetitions = %s\n[noise]\nlp_num_threads = 1\n' \
		"$2" "$3" "$4" >"$1"
}

# Wait until the database has at least N jobs of run RUN (or any run), up to 120 s.
wait_jobs() { # DB N [RUN]
	local n
	for _ in $(seq 1 1200); do
		n=$(q "$1" "SELECT count(*) FROM jobs${3:+ WHERE run_id = '$3'}" 2>/dev/null)
		[ "${n:-0}" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
newest_run() { q "$1" "SELECT id FROM runs ORDER BY rowid DESC LIMIT 1" 2>/dev/null; }

if [ "$inner" = "--private-mounts" ]; then
	# ---- In a private mount namespace: a small full disk, a read-only folder.
	small="$tmp/small"
	mkdir -p "$small"
	mount -t tmpfs -o size=8m tmpfs "$small" || {
		bad "cannot mount a tmpfs in the private namespace"
		check_done
		exit
	}
	sdb="$small/r/vgpubench.db"
	plan "$tmp/fast.ini" fast kms2d 2
	plan "$tmp/slow.ini" slow glmark2-short 3
	"$vb" run "$tmp/fast.ini" --results "$small/r" --reports "$small/rep" >/dev/null 2>&1
	run=$(newest_run "$sdb")
	"$vb" export "$run" --format json --out "$small/prev.json" --results "$small/r" >/dev/null 2>&1
	check '[ -s "$small/prev.json" ]' "an export to keep"
	fill() { dd if=/dev/zero of="$small/fill" bs=64k >/dev/null 2>&1; }

	# 2. Results lost while the exit code says success: a full disk.
	fill
	expect "export onto a full disk" 1 "No space left on device.*unchanged" "$small/prev.json" "$sdb" -- \
		"$vb" export "$run" --format json --out "$small/prev.json" --results "$small/r"
	check '[ -z "$(ls "$small" | grep "prev.json.tmp")" ]' "a failed export leaves no temporary file"
	expect "report onto a full disk" 1 "cannot write|No space left" "$sdb" -- \
		"$vb" report "$run" --results "$small/r" --reports "$small/rep"
	rm -f "$small/fill"

	# The disk fills while a run is going: the run stops, says why, exits 1; --resume finishes it.
	"$vb" run "$tmp/slow.ini" --results "$small/r" --reports "$small/rep" >"$tmp/full.log" 2>&1 &
	pid=$!
	wait_jobs "$sdb" 2 # the fast run's two jobs, then the first of this one
	wait_jobs "$sdb" 3
	slow=$(newest_run "$sdb")
	fill
	wait $pid
	rc=$?
	check '[ $rc = 1 ]' "a run on a full disk exits 1, not $rc: $(tail -3 "$tmp/full.log")"
	check 'grep -q "could not store glmark2-short repetition .*disk holding the database is full" "$tmp/full.log"' \
		"the full disk is named: $(tail -4 "$tmp/full.log")"
	check 'grep -q "continue with: vgpubench run --resume $slow" "$tmp/full.log"' "the way on is named"
	rm -f "$small/fill"
	stored=$(q "$sdb" "SELECT count(*) FROM jobs WHERE run_id = '$slow'")
	check '[ "$stored" -ge 1 ] && [ "$stored" -lt 3 ]' "what was stored stays ($stored jobs)"
	expect "resume after the disk has room again" 0 "resuming run $slow" -- \
		"$vb" run --resume "$slow" --results "$small/r" --reports "$small/rep"
	got=$(q "$sdb" "SELECT (SELECT count(*) FROM jobs WHERE run_id = runs.id) || ' ' || status FROM runs WHERE id = '$slow'")
	check '[ "$got" = "3 complete" ]' "the resumed run has its 3 jobs and is complete: $got"

	# 5. A read-only results folder can still be read.
	mount -o remount,ro "$small"
	expect "list, read-only folder" 0 "$run" "$sdb" -- "$vb" list --results "$small/r"
	expect "show, read-only folder" 0 "kms2d" "$sdb" -- "$vb" show "$run" --results "$small/r"
	expect "export, read-only folder" 0 '"plan":"fast"' "$sdb" -- \
		"$vb" export "$run" --format json --results "$small/r"
	expect "run, read-only folder" 1 "database|Read-only|read-only" "$sdb" -- \
		"$vb" run "$tmp/fast.ini" --results "$small/r" --reports "$tmp/rep"
	umount "$small"
	check_done
	exit
fi

tmp_before=$(ls -A /tmp /tmp/.X11-unix 2>/dev/null | sort)
cleanup() { pkill -KILL -f "$tmp/" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

plan "$tmp/fast.ini" fast kms2d 2
plan "$tmp/slow.ini" slow glmark2-short 2
printf '[plan]\nname = boots\nconfigs = mediated\nworkloads = kms2d\nguests = 1\nrepetitions = 1\n' >"$tmp/bootplan.ini"
"$vb" run "$tmp/fast.ini" --results "$tmp/r" --reports "$tmp/rep" >/dev/null 2>&1
run=$(newest_run "$db")
check '[ -n "$run" ]' "a first run to protect"
"$vb" export "$run" --format json --out "$tmp/prev.json" --results "$tmp/r" >/dev/null 2>&1
mkdir -p "$tmp/somewhere"
echo "not ours" >"$tmp/somewhere/index.html"

# 1. Output written before input is validated.
expect "export of a missing run" 1 "no run 'typo-run'" "$tmp/prev.json" "$db" -- \
	"$vb" export typo-run --format json --out "$tmp/prev.json" --results "$tmp/r"
expect "export over the database" 1 "refusing to write the export over the results database" "$db" -- \
	"$vb" export "$run" --format json --out "$db" --results "$tmp/r"
expect "report outside --reports" 2 "'\.\./\.\./somewhere' is not a run id" "$tmp/somewhere/index.html" "$db" -- \
	"$vb" report ../../somewhere --results "$tmp/r" --reports "$tmp/rep/x/y"
expect "unknown export format" 2 "unknown export format 'xml'" "$tmp/prev.json" "$db" -- \
	"$vb" export "$run" --format xml --out "$tmp/prev.json" --results "$tmp/r"
expect "empty --results" 2 "--results needs a value" "$db" -- "$vb" list --results ""
# The command line is one table: --help lists every command, and each command takes only its own options.
out=$("$vb" --help)
for c in run show list workloads doctor compare calibrate report export; do
	check 'echo "$out" | grep -q "^  vgpubench $c"' "--help lists $c"
done
expect "an option the command does not take" 2 "list does not take --threshold" "$db" -- "$vb" list --threshold 5 --results "$tmp/r"
expect "an unknown command" 2 "unknown command 'frob'" -- "$vb" frob
expect "a missing value" 2 "--results needs a value" -- "$vb" list --results
expect "a command's --help" 0 "vgpubench export RUN --format" -- "$vb" export --help
expect "empty --reports" 2 "--reports needs a value" "$db" -- "$vb" report "$run" --reports "" --results "$tmp/r"

# 2. Results lost while the exit code says success.
expect "export to /dev/full" 1 "cannot write /dev/full: No space left on device" "$db" -- \
	"$vb" export "$run" --format csv --out /dev/full --results "$tmp/r"
expect "list to a full standard output" 1 "cannot write to standard output: No space left on device" "$db" -- \
	sh -c "'$vb' list --results '$tmp/r' >/dev/full"
expect "show to a full standard output" 1 "cannot write to standard output: No space left on device" "$db" -- \
	sh -c "'$vb' show '$run' --results '$tmp/r' >/dev/full"
mkdir -p "$tmp/fakebin"
printf '#!/bin/sh\necho "gnuplot: simulated failure" >&2\nexit 1\n' >"$tmp/fakebin/gnuplot"
chmod +x "$tmp/fakebin/gnuplot"
"$vb" run "$tmp/slow.ini" --results "$tmp/r" --reports "$tmp/rep" >"$tmp/slow1.log" 2>&1
charted=$(newest_run "$db")
check 'grep -q "^report: " "$tmp/slow1.log"' "a glmark2 run with charts: $(tail -3 "$tmp/slow1.log")"
expect "report when gnuplot fails" 1 "gnuplot failed to draw trend" "$db" -- \
	env PATH="$tmp/fakebin:$PATH" "$vb" report "$charted" --results "$tmp/r" --reports "$tmp/rep"

# The database is locked by another process past the busy timeout while a run goes on.
"$vb" run "$tmp/slow.ini" --results "$tmp/r" --reports "$tmp/rep" >"$tmp/locked.log" 2>&1 &
pid=$!
before=$(q "$db" "SELECT count(*) FROM jobs")
wait_jobs "$db" $((before + 1))
locked=$(newest_run "$db")
# 5. While it runs, it is owned: a second harness may not resume it.
expect "resume of a live run" 1 "being run right now by vgpubench PID $pid" -- \
	"$vb" run --resume "$locked" --results "$tmp/r" --reports "$tmp/rep"
(
	echo "BEGIN IMMEDIATE;"
	sleep 60
) | sqlite3 "$db" &
holder=$!
wait $pid
rc=$?
kill $holder 2>/dev/null
pkill -f "sqlite3 $db" 2>/dev/null
wait $holder 2>/dev/null
check '[ $rc = 1 ]' "a run whose results cannot be stored exits 1, not $rc"
check 'grep -q "locked by another process for more than 10 s" "$tmp/locked.log"' \
	"the lock is named: $(tail -3 "$tmp/locked.log")"
expect "resume once the lock is gone" 0 "resuming run $locked" -- \
	"$vb" run --resume "$locked" --results "$tmp/r" --reports "$tmp/rep"
check '[ "$(q "$db" "SELECT count(*) FROM jobs WHERE run_id = '"'$locked'"'")" = 2 ]' "each repetition stored once"

# An interrupted run with no job: JUnit says so.
"$vb" run "$tmp/slow.ini" --results "$tmp/r" --reports "$tmp/rep" >"$tmp/int.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
	[ -n "$(pgrep -P $pid -f 'Xvfb -displayfd')" ] && break
	sleep 0.05
done
kill -TERM $pid
wait $pid
rc=$?
interrupted=$(newest_run "$db")
check '[ $rc = 130 ]' "SIGTERM during start-up: exit $rc, not 130: $(tail -3 "$tmp/int.log")"
check 'grep -q "interrupted: results so far" "$tmp/int.log"' "the interruption is said"
check '[ -z "$(pgrep -f "Xvfb -displayfd" -P $pid)" ]' "no Xvfb left from the interrupted run"
expect "JUnit of an interrupted run" 0 "errors=\"1\".*|<error message=\"the run is interrupted" "$db" -- \
	"$vb" export "$interrupted" --format junit --results "$tmp/r"

# 3. Injection and exhaustion.
evil="$tmp/rep/it's \$(touch $tmp/pwned)"
expect "a quote in the reports folder" 0 "report: " "$db" -- \
	"$vb" report "$charted" --results "$tmp/r" --reports "$evil"
check '[ "$(grep -c "<svg" "$evil/$charted/index.html")" -ge 1 ]' "the charts are drawn there"
check '[ ! -e "$tmp/pwned" ]' "no command ran through gnuplot"
expect "a plan that never ends" 1 "/dev/zero: cannot read the plan: not a regular file" "$db" -- timeout 20 "$vb" run /dev/zero --results "$tmp/r"
printf '\xef\xbb\xbf[plan]\nname = bom\nconfigs = native\nworkloads = kms2d\nrepetitions = 1\n' >"$tmp/bom.ini"
expect "a plan with a byte order mark" 0 "run .*-bom: database" "$tmp/prev.json" -- \
	"$vb" run "$tmp/bom.ini" --results "$tmp/r" --reports "$tmp/rep"
printf '[plan]\nname = a..b\nconfigs = native\nworkloads = kms2d\n' >"$tmp/dots.ini"
expect "a plan name with '..'" 1 "name: 'a..b' must be" "$db" -- "$vb" run "$tmp/dots.ini" --results "$tmp/r"
# Bytes that are not UTF-8 in stored text (as older versions stored workload output): exports stay valid.
cp "$db" "$tmp/bytes.db"
mkdir -p "$tmp/bytes"
mv "$tmp/bytes.db" "$tmp/bytes/vgpubench.db"
q "$tmp/bytes/vgpubench.db" "UPDATE jobs SET reason = CAST(X'6E6F20ff4b4d53c328' AS TEXT) WHERE run_id = '$run'"
"$vb" export "$run" --format json --results "$tmp/bytes" >"$tmp/bytes.json" 2>&1
check 'python3 -c "import json,sys; json.load(open(sys.argv[1], encoding=\"utf-8\"))" "$tmp/bytes.json"' \
	"JSON export of invalid UTF-8 is valid JSON"
"$vb" export "$run" --format junit --results "$tmp/bytes" >"$tmp/bytes.xml" 2>&1
check 'python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" "$tmp/bytes.xml"' \
	"JUnit export of invalid UTF-8 is valid XML"
check 'grep -q "no �KMS" "$tmp/bytes.json"' "invalid bytes became U+FFFD"

# 4. Shared machine state: stale X locks of dead servers are reclaimed, never a reason to fail.
sh -c 'exit 0' &
dead=$!
wait $dead
made=0
for n in $(seq 190 239); do
	if [ ! -e "/tmp/.X$n-lock" ]; then
		printf '%10d\n' "$dead" >"/tmp/.X$n-lock"
		made=$((made + 1))
	fi
done
expect "fifty stale X locks" 0 "removing the stale X lock /tmp/.X190-lock" "$tmp/prev.json" -- \
	"$vb" run "$tmp/fast.ini" --results "$tmp/r" --reports "$tmp/rep"
check '[ -z "$(ls /tmp/.X19[0-9]-lock /tmp/.X2[0-3][0-9]-lock 2>/dev/null)" ]' "the $made stale locks are gone"
expect "Xvfb picks its own display" 0 "skipped: no KMS device|kms2d" -- \
	"$vb" run "$tmp/fast.ini" --results "$tmp/r" --reports "$tmp/rep"

# 5. Concurrency and identity.
before=$(q "$db" "SELECT count(*) FROM runs")
"$vb" run "$tmp/fast.ini" --results "$tmp/r" --reports "$tmp/rep" >"$tmp/twin1.log" 2>&1 &
p1=$!
"$vb" run "$tmp/fast.ini" --results "$tmp/r" --reports "$tmp/rep" >"$tmp/twin2.log" 2>&1 &
p2=$!
wait $p1
rc1=$?
wait $p2
rc2=$?
check '[ $rc1 = 0 ] && [ $rc2 = 0 ]' "two harnesses on one database: exits $rc1 and $rc2"
check '[ "$(q "$db" "SELECT count(DISTINCT id) FROM runs")" = $((before + 2)) ]' "two runs, two ids"
check '[ "$(q "$db" "SELECT count(*) FROM runs WHERE status <> '"'complete'"' AND plan_name = '"'fast'"'")" = 0 ]' \
	"both complete"
cp -a "$tmp/r" "$tmp/moved"
rm -rf "$tmp/r/runs/$run"
expect "resume after the results folder moved" 0 "run $run is already complete; checking for missing jobs" -- \
	"$vb" run --resume "$run" --results "$tmp/moved" --reports "$tmp/rep"
check '[ -d "$tmp/moved/runs/$run/logs" ] && [ ! -e "$tmp/r/runs/$run" ]' "it wrote into the moved folder only"
check '[ "$(q "$db" "SELECT dir FROM runs WHERE id = '"'$run'"'")" = "runs/$run" ]' "runs.dir is relative"
mkdir -p "$tmp/damaged"
cp "$db" "$tmp/damaged/vgpubench.db"
q "$tmp/damaged/vgpubench.db" "PRAGMA foreign_keys=OFF; DROP TABLE metrics;"
expect "a dropped table" 1 "damaged: table 'metrics' is missing" "$tmp/damaged/vgpubench.db" -- \
	"$vb" list --results "$tmp/damaged"
expect "a dropped table, run" 1 "damaged: table 'metrics' is missing" "$tmp/damaged/vgpubench.db" -- \
	"$vb" run "$tmp/fast.ini" --results "$tmp/damaged"
mkdir -p "$tmp/foreign"
q "$tmp/foreign/vgpubench.db" "CREATE TABLE accounts(id INTEGER, owner TEXT); INSERT INTO accounts VALUES (1, 'x');"
expect "a foreign database" 1 "not a vgpubench database" "$tmp/foreign/vgpubench.db" -- \
	"$vb" run "$tmp/fast.ini" --results "$tmp/foreign"
expect "compare across plans warns" 0 "vgpubench: warning: .* ran different plans" "$db" -- \
	"$vb" compare "$charted" "$run" --results "$tmp/r"
check '! "$vb" compare "$charted" "$run" --results "$tmp/r" 2>&1 | grep -q "error: warning"' "a warning is no error"

# 6. The second round: special files, signals, runs left 'running', text for a terminal, messages.
# Special files are refused by type, never waited on.
mkfifo "$tmp/fifo.ini"
expect "a FIFO as the plan (run)" 1 "fifo.ini: cannot read the plan: not a regular file" "$db" -- \
	timeout 20 "$vb" run "$tmp/fifo.ini" --results "$tmp/r"
expect "a FIFO as the plan (doctor)" 1 "not a regular file" -- timeout 20 "$vb" doctor "$tmp/fifo.ini"
expect "a FIFO as the plan (calibrate)" 1 "not a regular file" "$db" -- \
	timeout 20 "$vb" calibrate "$tmp/fifo.ini" --results "$tmp/r"
expect "a folder as the plan" 1 "cannot read the plan: Is a directory" "$db" -- "$vb" run "$tmp" --results "$tmp/r"
# The accelerator's cache beside a copy of the binary: a FIFO, then a link to /dev/zero. The probe runs again and
# replaces it (on a host whose KVM hangs, after its 15 s deadline).
mkdir -p "$tmp/bin"
cp "$vb" "$tmp/bin/vgpubench"
mkfifo "$tmp/bin/accel-probe.json"
expect "a FIFO as the accelerator's cache" 0 "accelerator" -- timeout 60 "$tmp/bin/vgpubench" doctor "$tmp/fast.ini"
rm -f "$tmp/bin/accel-probe.json"
ln -s /dev/zero "$tmp/bin/accel-probe.json"
expect "/dev/zero as the accelerator's cache" 0 "accelerator" -- timeout 60 "$tmp/bin/vgpubench" doctor "$tmp/fast.ini"
check '[ -f "$tmp/bin/accel-probe.json" ] && [ ! -L "$tmp/bin/accel-probe.json" ]' "the verdict replaced the link"
expect "a bad VGPUBENCH_ACCEL in doctor" 1 "run would stop at once: VGPUBENCH_ACCEL='garbage' is not auto, kvm or tcg" -- \
	env VGPUBENCH_ACCEL=garbage "$vb" doctor "$tmp/bootplan.ini"
expect "an empty --threshold" 2 "--threshold takes a percentage, got ''" "$db" -- \
	"$vb" compare "$run" --threshold '' --results "$tmp/r"

# A closed standard output: the run is stored complete and reported, and the lost output is an error (exit 1).
before=$(q "$db" "SELECT count(*) FROM runs")
"$vb" run "$tmp/fast.ini" --results "$tmp/r" --reports "$tmp/rep" 2>"$tmp/pipe.log" | true
rc=${PIPESTATUS[0]}
piped=$(newest_run "$db")
check '[ "$rc" = 1 ] && grep -q "cannot write to standard output: Broken pipe" "$tmp/pipe.log"' \
	"a run into a closed pipe exits 1 and says so (exit $rc): $(tail -2 "$tmp/pipe.log")"
check '[ "$(q "$db" "SELECT status FROM runs WHERE id = '"'$piped'"'")" = complete ] && [ -s "$tmp/rep/$piped/index.html" ]' \
	"... and is complete, with its report"
# SIGUSR1 (or any signal that would end the process) interrupts the run cleanly.
"$vb" run "$tmp/slow.ini" --results "$tmp/r" --reports "$tmp/rep" >"$tmp/usr1.log" 2>&1 &
pid=$!
wait_jobs "$db" $(($(q "$db" "SELECT count(*) FROM jobs") + 1))
kill -USR1 $pid
wait $pid
rc=$?
check '[ $rc = 130 ] && [ "$(q "$db" "SELECT status FROM runs WHERE id = '"'$(newest_run "$db")'"'")" = interrupted ]' \
	"SIGUSR1: exit $rc and the run interrupted: $(tail -2 "$tmp/usr1.log")"
# A harness killed with SIGKILL: list and show say the run is interrupted (its lock is free); its job's scratch file
# stays in the run folder, not in /tmp; the resumed job's log says where the new attempt starts.
ls /tmp | grep '^glmark2-' | sort >"$tmp/csv.before"
"$vb" run "$tmp/slow.ini" --results "$tmp/r" --reports "$tmp/rep" >"$tmp/kill.log" 2>&1 &
pid=$!
wait_jobs "$db" $(($(q "$db" "SELECT count(*) FROM jobs") + 1))
killed=$(newest_run "$db")
sleep 3 # the second repetition (6 s) is under way
kill -KILL $pid
wait $pid 2>/dev/null
pkill -KILL -f "glmark2-es2.*$tmp" 2>/dev/null
sleep 0.5
check '"$vb" list --results "$tmp/r" | grep -qE "^$killed +interrupted"' "list: a killed run is interrupted: $("$vb" list --results "$tmp/r" | grep "$killed")"
check '"$vb" show "$killed" --results "$tmp/r" | grep -q "(interrupted: its harness is gone"' \
	"show says so: $("$vb" show "$killed" --results "$tmp/r" | head -1)"
check '[ "$(ls /tmp | grep "^glmark2-" | sort)" = "$(cat "$tmp/csv.before")" ]' "no glmark2 CSV left in /tmp"
expect "resume of the killed run" 0 "resuming run $killed" -- \
	"$vb" run --resume "$killed" --results "$tmp/r" --reports "$tmp/rep"
check 'grep -q "the job starts again at .*an attempt that did not finish" "$tmp/r/runs/$killed/logs/"*r2.log' \
	"the resumed job's log marks where the new attempt starts"
# A complete run resumed keeps its finished_at.
fin=$(q "$db" "SELECT finished_at FROM runs WHERE id = '$killed'")
sleep 1.1
expect "resume of a complete run" 0 "no job was missing; it stays as it was" -- \
	"$vb" run --resume "$killed" --results "$tmp/r" --reports "$tmp/rep"
check '[ "$(q "$db" "SELECT status || \" \" || finished_at FROM runs WHERE id = '"'$killed'"'")" = "complete $fin" ]' \
	"... complete, finished at $fin still: $(q "$db" "SELECT status, finished_at FROM runs WHERE id = '$killed'")"
# A runs folder that is a file: the new run is marked failed with the reason, never left running.
mkdir -p "$tmp/rf"
: >"$tmp/rf/runs"
expect "a file where the runs folder goes" 1 "logs: Not a directory" -- "$vb" run "$tmp/fast.ini" --results "$tmp/rf"
check '"$vb" list --results "$tmp/rf" | grep -qE " failed +"' "the run is failed, not running: $("$vb" list --results "$tmp/rf" | tail -1)"
# Paths the harness cannot carry are said as such.
expect "a comma in the results folder" 1 "has a comma, which QEMU's and the mediator's option lists cannot carry" -- \
	"$vb" run "$tmp/bootplan.ini" --results "$tmp/co,mma=x"
long="$tmp/$(printf 'l%.0s' $(seq 1 200))/$(printf 'm%.0s' $(seq 1 200))/$(printf 'n%.0s' $(seq 1 100))"
expect "a results path past SQLite's limit" 1 "the database path is [0-9]+ bytes long as an absolute path, and SQLite takes fewer than 512" -- \
	"$vb" run "$tmp/fast.ini" --results "$long"
# Interleaved arms that cannot mean anything are refused before the run exists.
expect "a folder as the baseline mediator" 1 "is not a program \(a file\): it is a folder" "$db" -- \
	"$vb" run "$tmp/fast.ini" --baseline-mediator "$tmp" --results "$tmp/r"
expect "a baseline mediator for a plan with no mediated configuration" 1 "changes nothing plan fast runs" "$db" -- \
	"$vb" run "$tmp/fast.ini" --baseline-mediator "$build/vgpu-mediator" --results "$tmp/r"
# Text from a plan (or a guest, or a workload) reaches the terminal with its control characters shown, not obeyed.
printf '[plan]\nname = esc\nconfigs = native\033]0;pwned\007\033[31m\nworkloads = kms2d\n' >"$tmp/esc.ini"
out=$("$vb" run "$tmp/esc.ini" --results "$tmp/r" 2>&1)
check '! printf "%s" "$out" | grep -q "$(printf "\033")" && printf "%s" "$out" | grep -qF "native\\e]0;pwned\\x07\\e[31m"' \
	"a plan's escape sequences are shown escaped: $(printf "%s" "$out" | cat -v | head -2)"
cp -a "$tmp/r" "$tmp/esc"
q "$tmp/esc/vgpubench.db" "UPDATE jobs SET status = 'skipped', reason = 'no $(printf "\033")[2Jscreen', renderer = 'r$(printf "\033")[2J' WHERE run_id = '$run'"
check '! "$vb" show "$run" --results "$tmp/esc" | grep -q "$(printf "\033")"' "show prints no raw escape from a stored reason"
"$vb" export "$run" --format csv --results "$tmp/esc" --out "$tmp/esc.csv" 2>/dev/null
check '"$vb" export "$run" --format csv --results "$tmp/esc" | cmp -s - "$tmp/esc.csv" && grep -q "$(printf "\033")" "$tmp/esc.csv"' \
	"an export to standard output is the data as it is, byte for byte as to a file"
# A native median of 0 is no share: '-', never nan.
cp -a "$tmp/r" "$tmp/zero"
q "$tmp/zero/vgpubench.db" "UPDATE metrics SET value = 0 WHERE job_id IN (SELECT id FROM jobs WHERE run_id = '$charted' AND config = 'native')"
check '! "$vb" show "$charted" --results "$tmp/zero" | grep -qi nan' "show: no nan for a zero native: $("$vb" show "$charted" --results "$tmp/zero" | grep -i nan | head -2)"
"$vb" report "$charted" --results "$tmp/zero" --reports "$tmp/zrep" >/dev/null 2>&1
check '[ -s "$tmp/zrep/$charted/index.html" ] && ! grep -qi "nan%" "$tmp/zrep/$charted/index.html"' "the report: no nan%"
# A report killed while writing left its temporary file: the next report removes it.
sh -c 'exit 0' &
dead=$!
wait $dead
: >"$tmp/rep/$charted/index.html.tmp.$dead.AbCdEf"
expect "a report after a killed one" 0 "removed .*index.html.tmp.$dead.AbCdEf, left by a writer that is gone" -- \
	"$vb" report "$charted" --results "$tmp/r" --reports "$tmp/rep"
check '[ ! -e "$tmp/rep/$charted/index.html.tmp.$dead.AbCdEf" ]' "the stale temporary file is gone"

# The second half needs its own mount namespace.
if unshare -m true 2>/dev/null; then
	out=$(unshare -m --propagation private bash "$0" "$build" --private-mounts "$tmp" 2>&1)
	echo "$out" | grep '^FAIL' >&2
	line=$(echo "$out" | grep -E "^$CHECK_NAME: [0-9]+ passed, [0-9]+ failed$" | tail -1)
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
		failed=$((failed + $(echo "$line" | sed -E 's/.*passed, ([0-9]+) failed/\1/')))
	else
		bad "the private-mount half died: $(echo "$out" | tail -5)"
	fi
else
	bad "unshare -m is not available (needed for the full-disk case)"
fi

# Nothing of ours is left in /tmp but this test's own folder (removed on exit).
sleep 0.5
tmp_after=$(ls -A /tmp /tmp/.X11-unix 2>/dev/null | sort)
left=$(comm -13 <(echo "$tmp_before") <(echo "$tmp_after") | grep -v "^$(basename "$tmp")$" |
	grep -E '^(vgpubench|\.X|X[0-9]|tmp\.|glmark2-)')
check '[ -z "$left" ]' "left in /tmp: $left"
check_done
