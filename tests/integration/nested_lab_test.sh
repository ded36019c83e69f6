#!/usr/bin/env bash
# nested_lab_test.sh: the passthrough configuration for real, in the nested
# lab (harness/plans/lab.ini): an L1 lab host (q35, emulated VT-d IOMMU, a
# virtio GPU behind a root port) runs this vgpubench with a passthrough plan.
# Asserts that L1 bound the GPU to vfio-pci, that L2's DRM driver sat on the
# passed-through function, that the frame L2 drew reached the outermost
# display pixel-exact, that the binding was given back, and that the inner
# run's job came back into the outer database marked as the lab's.
# About 4 minutes here (nested TCG), both cores busy.
# Usage: nested_lab_test.sh BUILD_DIR. Prints "N passed, N failed".
set -u
build=${1:?build dir}
vb="$build/vgpubench"
CHECK_NAME=nested_lab
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
check_tmpdir lab

"$vb" run harness/plans/lab.ini --results "$tmp/results" --reports "$tmp/reports" > "$tmp/run.log" 2>&1
rc=$?
check '[ "$rc" = 0 ]' "the lab run ends well (exit $rc): $(log_gist "$tmp/run.log")"
dir=$(ls -d "$tmp"/results/runs/*/vms/passthrough-n1 2>/dev/null | head -1)
check '[ -n "$dir" ] && [ -s "$dir/lab-inner.log" ]' "the inner run's log is kept with the outer run"
inner="$dir/lab-inner.log"
fact=$(q "SELECT value FROM host_facts WHERE key = 'nested lab (passthrough)'")

# L1 bound the GPU to vfio-pci (its journal), and its guest got it through vfio-pci.
check 'echo "$fact" | grep -q "0000:01:00.0 bound from virtio-pci to vfio-pci"' "L1 bound the GPU to vfio-pci: $fact"
check 'grep -q -- "-device vfio-pci,host=0000:01:00.0" "$inner"' "L2 was started with the device through vfio-pci"
# L2's DRM driver sat on the passed-through function: its only GPU, virtio_gpu on it, and the job's path check.
check 'grep -q "drm \[{\"node\":\"card0\",\"driver\":\"virtio_gpu\",\"bus_driver\":\"virtio-pci\"}" "$inner"' \
	"L2's card0 is virtio_gpu on the passed-through PCI function: $(grep -o 'drm \[.*' "$inner" | head -1)"
check '[ "$(q "SELECT status || \" \" || renderer FROM jobs WHERE config = '\''passthrough'\'' AND workload = '\''kms2d'\''")" = "ok virtio_gpu" ]' \
	"the inner kms2d job came back ok on virtio_gpu: $(q "SELECT status, reason, renderer FROM jobs")"
check '[ "$(q "SELECT count(*) FROM metrics m JOIN jobs j ON j.id = m.job_id WHERE m.name = '\''fill.mb_per_s'\'' AND m.value > 0")" = 1 ]' \
	"with its metrics"
check '[ "$(q "SELECT count(*) FROM jobs WHERE accel LIKE '\''tcg in a lab host%'\''")" = 1 ]' \
	"marked as run inside the lab host: $(q "SELECT accel FROM jobs")"
# The frame L2 drew (kms2d's full-screen copy buffer) on the outermost display, pixel-exact.
check 'echo "$fact" | grep -q "kms2d'\''s frame seen on the outermost display (640x480, pixel-exact"' "the frame reached the outer display: $fact"
ppm="$dir/lab-screen.ppm.seen.ppm"
check '[ "$(head -c 15 "$ppm" 2>/dev/null | tr "\n" " ")" = "P6 640 480 255 " ]' "the matching screen dump is kept: $ppm"
check '[ "$(tail -c 6 "$ppm" 2>/dev/null | od -An -tx1 | tr -d " \n")" = "336699336699" ]' "and it holds kms2d's colour"
# The binding was given back.
check 'echo "$fact" | grep -q "and restored, virtio-pci after (as before)"' "L1's GPU went back to virtio-pci: $fact"
# The table and report keep the lab apart from % of native.
check '"$vb" show "$(ls "$tmp/results/runs")" --results "$tmp/results" | grep -E "^kms2d .* passthrough +1 +1/1 .* lab$" >/dev/null' \
	"the table says lab, not a share of native"
check 'grep -q "nested lab only" "$tmp"/reports/*/index.html' "the report's triangle says nested lab only"
check_done
