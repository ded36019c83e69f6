#!/usr/bin/env bash
# make-profile.sh: regenerates vgpubench.list, the curated piglit profile:
# a fixed share of the installed piglit's "quick" profile across desktop GL,
# GLES and GLSL, in piglit's own test-name form. The list is committed so a
# run is comparable with the last; rerun this after a piglit upgrade.
set -euo pipefail
cd "$(dirname "$0")"
all=$(mktemp)
trap 'rm -f "$all"' EXIT
piglit print-cmd quick --format '{name}' | LC_ALL=C sort > "$all"
pick() { # pick PREFIX COUNT: every k-th test under PREFIX, COUNT in all
	local prefix=$1 count=$2 n step
	n=$(grep -cF -- "$prefix" "$all" || true)
	[ "$n" -gt 0 ] || { echo "make-profile: nothing under '$prefix'" >&2; exit 1; }
	step=$(( (n + count - 1) / count ))
	grep -F -- "$prefix" "$all" | awk -v s="$step" '(NR - 1) % s == 0'
}
{
	pick 'spec@!opengl 1.0@' 36
	pick 'spec@!opengl 1.1@' 81
	pick 'spec@!opengl 2.0@' 36
	pick 'spec@!opengl 3.0@' 27
	pick 'spec@!opengl es 2.0@' 18
	pick 'spec@!opengl es 3.0@' 18
	pick 'spec@glsl-1.10@execution@' 72
	pick 'spec@glsl-1.20@execution@' 45
	pick 'spec@glsl-1.30@execution@' 54
	pick 'spec@glsl-es-1.00@execution@' 27
	pick 'spec@glsl-es-3.00@execution@' 45
	pick 'spec@arb_framebuffer_object@' 27
	pick 'spec@arb_vertex_buffer_object@' 14
	pick 'spec@arb_texture_float@' 14
	pick 'spec@ext_framebuffer_object@' 27
} | LC_ALL=C sort -u > vgpubench.list
echo "make-profile: $(wc -l < vgpubench.list) tests in vgpubench.list"
# The smoke profile: every 16th test of the full one, for guests under TCG
# (there each piglit test costs seconds of emulated process start-up).
awk '(NR - 1) % 16 == 0' vgpubench.list > vgpubench-smoke.list
echo "make-profile: $(wc -l < vgpubench-smoke.list) tests in vgpubench-smoke.list"
