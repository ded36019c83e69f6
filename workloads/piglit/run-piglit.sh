#!/usr/bin/env bash
# run-piglit.sh: runs vgpubench's curated piglit profile with piglit's own
# runner and prints, for the harness, the GL renderer the platform gives and
# piglit's results.json between markers (a guest's files are not the host's).
# Usage: run-piglit.sh PLATFORM [LIST [RESULTS_DIR]]
#   PLATFORM: glx on the host (under Xvfb), gbm in a guest;
#   LIST: a test list beside this script (default vgpubench.list).
set -u
platform=${1:?platform}
here=$(cd "$(dirname "$0")" && pwd)
list=${2:-vgpubench.list}
out=${3:-}
if [ -z "$out" ]; then
	out=$(mktemp -d /tmp/piglit-XXXXXX)
	trap 'rm -rf "$out" "$out.log"' EXIT
fi
case "$list" in */* | "") echo "error: LIST is a file name beside run-piglit.sh"; exit 2 ;; esac
echo "piglit-wrapper: 1"
if ! command -v piglit > /dev/null; then
	echo "skip: piglit is not installed"
	exit 77
fi
api=gl
[ "$platform" = gbm ] && api=gles2
renderer=$(wflinfo -p "$platform" -a "$api" 2>/dev/null | sed -n 's/^OpenGL renderer string: //p')
echo "renderer: ${renderer:-unknown}"
echo "platform: $platform"
echo "profile: $list ($(wc -l < "$here/$list") tests)"
start=$(date +%s)
PIGLIT_COMPRESSION=none piglit run quick --test-list "$here/$list" -p "$platform" -l dummy \
	--timeout 60 -o "$out" > "$out.log" 2>&1
rc=$?
echo "duration_s: $(($(date +%s) - start))"
if [ ! -s "$out/results.json" ]; then
	echo "error: piglit wrote no results (exit $rc)"
	tail -5 "$out.log"
	exit 1
fi
echo "--- piglit results.json ---"
cat "$out/results.json"
echo
echo "--- end ---"
exit $rc
