#!/usr/bin/env bash
# deps.sh: idempotent installer of the Debian packages vgpubench needs.
#
# Adds the distribution's <codename>-backports suite (for QEMU >= 10) by
# reusing the URI of the machine's own Debian apt source, never a hard-coded
# mirror, then installs whatever is missing. Prints what it installs; a second
# run installs nothing and says so.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

. /etc/os-release
codename="${VERSION_CODENAME:-}"
if [ -z "$codename" ] || [ "${ID:-}" != "debian" ]; then
	echo "deps: this installer supports Debian only (found ID=${ID:-?} VERSION_CODENAME=${codename:-?})" >&2
	exit 1
fi

# Packages from the main suite.
MAIN_PKGS=(
	build-essential pkg-config libsqlite3-dev libpq-dev postgresql libjson-c-dev libdrm-dev sqlite3 gnuplot-nox
	libvirglrenderer-dev libepoxy-dev libseccomp-dev
	clang libclang-rt-dev
	linux-image-amd64 busybox-static cpio kmod
	libgl1-mesa-dri libegl-mesa0 libgles2 mesa-utils
	glmark2-es2-drm glmark2-es2-x11 kmscube virgl-server
	piglit waffle-utils
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
	gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-x gstreamer1.0-vaapi vainfo
	xvfb xauth chromium
)
# `deps.sh fixtures`: also what makes the reference fixtures (tools/changepoint_reference.py), not needed to test.
if [ "${1:-}" = fixtures ]; then
	MAIN_PKGS+=(python3-numpy python3-scipy)
fi
# Packages that must come from <codename>-backports (QEMU >= 10).
BPO_PKGS=(qemu-system-x86 qemu-system-gui qemu-utils)
QEMU_MIN_MAJOR=10

missing() {
	local p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			echo "$p"
		fi
	done
}

# The URI of the machine's own Debian source that serves "$codename" main.
debian_uri() {
	local f
	# deb822 .sources files
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v cn="$codename" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && suites ~ ("(^| )" cn "( |$)") && comps ~ /(^| )main( |$)/ && uris != "") {
					split(uris, u, " "); print u[1]; found = 1; exit
				}
				types = suites = comps = uris = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
			/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
			/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
			/^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
			END { if (!found) flush() }
		' "$f"
	done | head -n1
	# one-line format
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v cn="$codename" '
			$1 == "deb" {
				i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == cn) { print $i; exit }
			}' "$f"
	done | head -n1
}

BPO_FILE=/etc/apt/sources.list.d/vgpubench-backports.sources
need_update=0
if ! grep -rqs -- "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	uri=$(debian_uri | head -n1)
	if [ -z "$uri" ]; then
		echo "deps: found no Debian apt source for '$codename' to derive the backports URI from" >&2
		exit 1
	fi
	echo "deps: adding ${codename}-backports from the machine's own source ($uri)"
	printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uri" "$codename" | $SUDO tee "$BPO_FILE" >/dev/null
	need_update=1
fi

qemu_major() {
	local v
	v=$(qemu-system-x86_64 --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -n1)
	echo "${v:-0}"
}

main_missing=$(missing "${MAIN_PKGS[@]}")
bpo_missing=$(missing "${BPO_PKGS[@]}")
if [ -z "$bpo_missing" ] && [ "$(qemu_major)" -lt "$QEMU_MIN_MAJOR" ]; then
	bpo_missing="${BPO_PKGS[*]}"
fi

if [ -z "$main_missing" ] && [ -z "$bpo_missing" ]; then
	echo "deps: all dependencies present, nothing to install"
	exit 0
fi

# An update is needed when a new suite was added or when the lists are absent.
if [ "$need_update" = 1 ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ] ||
	! apt-cache policy qemu-system-x86 2>/dev/null | grep -q -- "${codename}-backports"; then
	echo "deps: apt-get update"
	$SUDO apt-get update -qq
fi

export DEBIAN_FRONTEND=noninteractive
if [ -n "$main_missing" ]; then
	echo "deps: installing:" $main_missing
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $main_missing
fi
if [ -n "$bpo_missing" ]; then
	echo "deps: installing from ${codename}-backports:" $bpo_missing
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends -t "${codename}-backports" $bpo_missing
fi

if [ "$(qemu_major)" -lt "$QEMU_MIN_MAJOR" ]; then
	echo "deps: QEMU $QEMU_MIN_MAJOR or newer is required, found: $(qemu-system-x86_64 --version | head -n1)" >&2
	exit 1
fi
echo "deps: done"
