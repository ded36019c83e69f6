#!/bin/busybox sh
# init: PID 1 of a vgpubench guest's initramfs. Loads the virtio modules,
# mounts the host's root read-only over 9p under a tmpfs overlay (so
# host-installed workloads run unchanged), then hands PID 1 to vgpu-agent.
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() {
	echo "vgpu-init: FAILED: $*"
	sleep 1
	poweroff -f
}

echo "vgpu-init: loading modules"
# insmod, unlike modprobe, does not apply "module.param=value" from the
# kernel command line: pass those on by hand.
cmdline=$(cat /proc/cmdline)
while read -r m; do
	name=$(basename "$m" .ko | tr - _)
	params=""
	for arg in $cmdline; do
		case "$arg" in
		"$name".*=*) params="$params ${arg#"$name".}" ;;
		esac
	done
	# shellcheck disable=SC2086
	insmod "$m" $params || echo "vgpu-init: insmod $m$params failed"
done < /modules.list

mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose hostroot /lower ||
	fail "cannot mount the host root (9p tag hostroot)"
mount -t tmpfs -o mode=0755 tmpfs /rw || fail "cannot mount the overlay's tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
	fail "cannot mount the overlay root"
for d in proc sys dev tmp run; do mkdir -p "/newroot/$d"; done
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
# /tmp stays the overlay's (host files visible, writes kept in the guest):
# a project checked out under the host's /tmp must be reachable from guests.
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
cp /vgpu-agent /newroot/run/vgpu-agent || fail "cannot install the agent"
# Later connector probes read the EDID override from the new root.
mkdir -p /newroot/lib/firmware/edid && cp /lib/firmware/edid/* /newroot/lib/firmware/edid/
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vgpu.name=*) hostname "${arg#vgpu.name=}" ;;
	esac
done
# A passed-through GPU's driver is not in the initramfs: load it by the
# device's modalias from the host's module tree, with the host's firmware
# visible to the kernel's loader (which looks in this root) beside the EDID
# override. Emulated GPUs are bound by now (virtio-pci): nothing to do.
firmware=""
for dev in /sys/bus/pci/devices/*; do
	case "$(cat "$dev/class")" in
	0x03*) ;;
	*) continue ;;
	esac
	[ -e "$dev/driver" ] && continue
	if [ -z "$firmware" ] && [ -d /lower/lib/firmware ]; then
		firmware=1
		mount -t overlay overlay -o lowerdir=/lib/firmware:/lower/lib/firmware /lib/firmware ||
			echo "vgpu-init: the host's firmware is not visible to GPU drivers"
	fi
	echo "vgpu-init: loading the driver of ${dev##*/} from the host's modules"
	chroot /newroot /sbin/modprobe "$(cat "$dev/modalias")" || echo "vgpu-init: no driver for ${dev##*/}"
done

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
echo "vgpu-init: starting the agent"
exec switch_root /newroot /run/vgpu-agent --port-name vgpu.agent --poweroff
