# check.sh: the shell tests' assertion helpers, the twin of check.h. Source it
# after setting CHECK_NAME; end the test with check_done, which prints
# "NAME: N passed, N failed" and returns non-zero on any failure.
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
	failed=$((failed + 1))
	echo "FAIL $CHECK_NAME: $*" >&2
}
# check 'shell condition' 'message when it is false'
check() { if eval "$1"; then ok; else bad "$2"; fi; }
check_done() {
	echo "$CHECK_NAME: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# check_tmpdir NAME: a scratch folder $tmp (/tmp/vgpubench-NAME-XXXXXX) that is removed, and any process still
# naming it killed, when the test exits; q SQL asks the results database kept in it.
check_tmpdir() {
	tmp=$(mktemp -d "/tmp/vgpubench-$1-XXXXXX")
	trap 'pkill -KILL -f "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
}
q() { sqlite3 "$tmp/results/vgpubench.db" "$1"; }
# log_gist FILE: what a failure message should quote of a run's log (which goes with $tmp): the last lines that
# say something went wrong (an error, a failed or timed-out job, a refusal, a crash), then the log's last two lines
# (a run ends with its verdict, which names no failure), on one line.
log_gist() {
	{
		grep -aE "error|fail|FAIL|refus|timed out|timeout|killed|panic|Abort|signal" "$1" 2>/dev/null |
			grep -avE " 0 failed|no job failed" | tail -4
		echo "... $(tail -2 "$1" 2>/dev/null | tr '\n' ' ')"
	} | tr '\n' ' ' | cut -c1-1500
}
# wait_for_jobs PID N: wait (up to 5 minutes) until the results database holds N jobs, or process PID ended; the
# count is left in $n (used to kill a harness once it has stored something).
wait_for_jobs() {
	for _ in $(seq 1 600); do
		n=$(q "SELECT count(*) FROM jobs" 2>/dev/null || echo 0)
		[ "${n:-0}" -ge "$2" ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}
