#!/usr/bin/env bash
# make-clips.sh: generates the media test clips once with GStreamer and keeps
# them in DIR (a cache: a clip that exists is not made again). H.264 always;
# HEVC and VP9 where their encoders exist; 720p and 1080p; 3 s at 30 fps of a
# moving test pattern. Prints one line per clip: made, cached or skipped.
# Usage: make-clips.sh DIR   (a relative DIR is taken from the project's root)
set -u
dir=${1:?clip folder}
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
mkdir -p "$dir" || exit 1
frames=90
have() { gst-inspect-1.0 "$1" > /dev/null 2>&1; }
make_clip() { # NAME ENCODER-PIPELINE MUXER
	local name=$1 enc=$2 mux=$3 w h
	case "$name" in *-720p*) w=1280 h=720 ;; *) w=1920 h=1080 ;; esac
	if [ -s "$dir/$name" ]; then
		echo "clip: $name cached"
		return
	fi
	# shellcheck disable=SC2086
	if gst-launch-1.0 -q videotestsrc num-buffers=$frames pattern=ball motion=sweep \
		! "video/x-raw,width=$w,height=$h,framerate=30/1,format=I420" ! $enc ! $mux \
		! filesink location="$dir/$name.part" > /dev/null 2>&1 && [ -s "$dir/$name.part" ]; then
		mv "$dir/$name.part" "$dir/$name"
		echo "clip: $name made"
	else
		rm -f "$dir/$name.part"
		echo "clip: $name skipped: encoding failed"
	fi
}
for res in 720p 1080p; do
	if have x264enc; then
		make_clip "h264-$res.mp4" "x264enc speed-preset=ultrafast key-int-max=30 ! h264parse" mp4mux
	else
		echo "clip: h264-$res.mp4 skipped: no x264enc"
	fi
	if have x265enc; then
		make_clip "hevc-$res.mp4" "x265enc speed-preset=ultrafast key-int-max=30 ! h265parse" mp4mux
	else
		echo "clip: hevc-$res.mp4 skipped: no x265enc"
	fi
	if have vp9enc; then
		make_clip "vp9-$res.webm" "vp9enc deadline=1 cpu-used=8 keyframe-max-dist=30" webmmux
	else
		echo "clip: vp9-$res.webm skipped: no vp9enc"
	fi
done
