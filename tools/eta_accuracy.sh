#!/usr/bin/env bash
# eta_accuracy.sh: how right a run's "time left" is (harness/run/progress.c). Runs PLAN twice into a new results
# folder (the first run has no history and reckons from its own pace; the second reckons from the first), stamps
# each line of the harness's output with the time, and prints, for the second half of each run's steps, the time
# left each step's line said beside the time that was left (to the run's last line), and the worst error of each
# run. Needs a built tree; the runs take what the plan takes, twice.
# Usage: tools/eta_accuracy.sh BUILD_DIR [PLAN] (PLAN: harness/plans/default.ini)
set -u
build=${1:?usage: eta_accuracy.sh BUILD_DIR [PLAN]}
plan=${2:-harness/plans/default.ini}
out=$(mktemp -d /tmp/vgpubench-eta-XXXXXX)
echo "results and stamped logs in $out"
for i in 1 2; do
	"$build/vgpubench" run "$plan" --results "$out/results" --reports "$out/reports" 2>&1 |
		while IFS= read -r line; do printf '%s %s\n' "$(date +%s)" "$line"; done >"$out/run$i.log"
	echo "run $i: $(grep -m1 "progress: " "$out/run$i.log" | cut -d' ' -f2- | cut -c1-160)"
	# A step's line: "<stamp> vgpubench: [k/N] ..., about 4 min 30 s left"; the run ends at its last line.
	awk '
		function secs(t,   n, a, s, i) {
			n = split(t, a, " ")
			s = 0
			for (i = 1; i < n; i += 2)
				s += a[i] * (a[i + 1] == "h" ? 3600 : a[i + 1] == "min" ? 60 : 1)
			return s
		}
		{ end = $1 }
		match($0, /vgpubench: \[[0-9]+\/[0-9]+\] /) && match($0, /about [0-9hmins ]+ left$/) {
			split(substr($0, index($0, "[") + 1), kn, /[\/\]]/)
			n++
			stamp[n] = $1
			k[n] = kn[1]
			total[n] = kn[2]
			said[n] = secs(substr($0, RSTART + 6, RLENGTH - 11))
		}
		END {
			worst = 0
			for (i = 1; i <= n; i++) {
				if (k[i] <= total[i] / 2)
					continue
				left = end - stamp[i]
				err = left > 0 ? 100 * (said[i] - left) / left : 0
				printf "  step %d/%d: said %d s, was %d s (%+.0f%%)\n", k[i], total[i], said[i], left, err
				if (err < 0)
					err = -err
				if (err > worst)
					worst = err
			}
			printf "  worst error in the second half: %.0f%%\n", worst
		}' "$out/run$i.log"
done
