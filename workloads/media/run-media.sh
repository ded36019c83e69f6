#!/usr/bin/env bash
# run-media.sh: the media workload. For every cached clip: decode throughput
# (decoder into fakesink sync=false, frames counted at the sink) and real-time
# playback to the display (fpsdisplaysink, dropped frames counted). The
# decoder is the VA-API one where vainfo lists the codec's profile and the
# GStreamer element exists, else a software decoder; every line says which.
# Usage: run-media.sh CLIP_DIR SINK   (SINK: ximagesink on the host under Xvfb, kmssink in a guest)
# A relative CLIP_DIR is taken from the project's root.
set -u
dir=${1:?clip folder}
sink=${2:?video sink}
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
if [ "$sink" = kmssink ]; then
	# kmssink finds the device by driver name; virtio-gpu has no vblank counter to wait on.
	for drv in virtio_gpu i915 amdgpu nouveau radeon vc4 msm; do
		if [ -d "/sys/module/$drv" ]; then
			sink="kmssink driver-name=$drv skip-vsync=true"
			break
		fi
	done
fi
echo "media-wrapper: 1"
if ! command -v gst-launch-1.0 > /dev/null; then
	echo "skip: GStreamer (gst-launch-1.0) is not installed"
	exit 77
fi
ls "$dir"/*.mp4 "$dir"/*.webm > /dev/null 2>&1 || { echo "skip: no clips in $dir"; exit 77; }
have() { gst-inspect-1.0 "$1" > /dev/null 2>&1; }
# VA-API is asked of the DRM render node, not of a display.
node=$(ls /dev/dri/renderD* 2>/dev/null | head -n1)
profiles="" driver=""
if [ -n "$node" ] && command -v vainfo > /dev/null; then
	info=$(vainfo --display drm --device "$node" 2>/dev/null)
	profiles=$(echo "$info" | sed -n 's/^ *\(VAProfile[A-Za-z0-9]*\) *: *VAEntrypointVLD.*/\1/p' | tr '\n' ' ')
	driver=$(echo "$info" | sed -n 's/.*Driver version: *//p' | head -n1)
fi
if [ -n "$profiles" ]; then
	echo "vaapi: ${driver:-unknown driver}: $profiles"
elif [ -z "$node" ]; then
	echo "vaapi: none (no DRM render node)"
else
	echo "vaapi: none (vainfo lists no decode profile on $node)"
fi

# decoder CODEC -> "element path"
decoder() {
	local codec=$1 va sw profile
	case "$codec" in
	h264) va=vah264dec profile=VAProfileH264 sw=avdec_h264 ;;
	hevc) va=vah265dec profile=VAProfileHEVC sw=avdec_h265 ;;
	vp9) va=vavp9dec profile=VAProfileVP9 sw=vp9dec ;;
	esac
	if [ -n "$profiles" ] && echo "$profiles" | grep -q "$profile" && have "$va"; then
		echo "$va vaapi"
	elif have "$sw"; then
		echo "$sw software"
	fi
}

for clip in "$dir"/*.mp4 "$dir"/*.webm; do
	name=$(basename "$clip")
	name=${name%.*}
	codec=${name%%-*}
	case "$clip" in
	*.mp4) demux="qtdemux" ;;
	*.webm) demux="matroskademux" ;;
	esac
	case "$codec" in
	h264) parse="! h264parse" ;;
	hevc) parse="! h265parse" ;;
	*) parse="" ;;
	esac
	read -r dec path <<< "$(decoder "$codec")"
	if [ -z "${dec:-}" ]; then
		echo "clip: $name skipped: no decoder for $codec"
		continue
	fi
	start=$(date +%s.%N)
	# shellcheck disable=SC2086
	frames=$(gst-launch-1.0 -v filesrc location="$clip" ! $demux $parse ! $dec \
		! fakesink sync=false silent=false 2>&1 | grep -c 'last-message = chain')
	end=$(date +%s.%N)
	echo "decode: $name decoder: $dec path: $path frames: $frames seconds: $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')"
	# Real-time playback, scaled to the display: the last fpsdisplaysink report
	# says how many frames were shown; the rest of the clip's frames were dropped
	# (late frames are also dropped before the sink, by QoS).
	# shellcheck disable=SC2086
	last=$(gst-launch-1.0 -v filesrc location="$clip" ! $demux $parse ! $dec ! videoconvert ! videoscale \
		! fpsdisplaysink video-sink="$sink" text-overlay=false sync=true fps-update-interval=100 2>&1 |
		grep -o 'rendered: [0-9]*, dropped: [0-9]*' | tail -n1)
	if [ -n "$last" ]; then
		echo "playback: $name decoder: $dec path: $path frames: $frames $last"
	else
		echo "playback: $name failed: no frames reached ${sink%% *}"
	fi
done
echo "done: 1"
