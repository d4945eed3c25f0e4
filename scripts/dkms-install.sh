#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-install.sh VERSION
#
# Installs megalink.ko through DKMS for every installed Debian kernel that
# has its headers, so that `modprobe megalink` works in a guest booting any
# of them (tests/run-guest-suite.sh uses it for the 6.12 run):
#   1. copies Kbuild, driver/, include/uapi/, dkms.conf and VERSION to
#      /usr/src/megalink-VERSION;
#   2. removes every megalink version registered with DKMS;
#   3. dkms add, then dkms build + dkms install -k RELEASE for each kernel
#      (dkms runs depmod).
# Needs root; without it, says so loudly and does nothing (exit 0).
# ML_DKMS_KERNELS="rel1 rel2" limits the kernels.
set -eu
set -o pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 VERSION" >&2
	exit 2
fi
ver=$1
case $ver in
*[!A-Za-z0-9.+~_-]*) echo "megalink: dkms-install: bad version '$ver'" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/.." && pwd)
name=megalink
src=/usr/src/$name-$ver

if [ "$(id -u)" -ne 0 ]; then
	echo "megalink: dkms-install: *** NOT ROOT: skipping the DKMS install of $name/$ver ***" >&2
	echo "megalink: dkms-install: run as root: scripts/dkms-install.sh $ver" >&2
	exit 0
fi
command -v dkms >/dev/null || { echo "megalink: dkms-install: dkms not found (scripts/deps.sh check)" >&2; exit 1; }
for f in Kbuild dkms.conf VERSION driver include/uapi; do
	[ -e "$repo/$f" ] || { echo "megalink: dkms-install: $repo/$f missing" >&2; exit 1; }
done

kernels=${ML_DKMS_KERNELS:-}
if [ -z "$kernels" ]; then
	for d in /lib/modules/*/; do
		k=$(basename "$d")
		# An installed Debian kernel image with its headers.
		if [ -e "/boot/vmlinuz-$k" ] && [ -e "/lib/modules/$k/build/Makefile" ]; then
			kernels="$kernels $k"
		fi
	done
fi
# shellcheck disable=SC2086 # list of kernel releases
set -- $kernels
[ $# -gt 0 ] || { echo "megalink: dkms-install: no installed kernel with headers found" >&2; exit 1; }

# dkms quietly; its output (minus the noise of readelf about modules
# without a .comment section) only when it fails.
run_dkms() {
	local log rc=0
	log=$(dkms "$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '%s\n' "$log" | grep -v "readelf: Warning: Section '.comment'" >&2 || true
	fi
	return "$rc"
}

# Drop every registered megalink version (and the sources we put there).
# (Listed from /var/lib/dkms: `dkms status` stops at the first version
# whose source tree is gone.)
for d in "/var/lib/dkms/$name"/*/; do
	if [ ! -d "$d" ] || [ -L "${d%/}" ]; then
		continue
	fi
	v=$(basename "$d")
	echo "megalink: dkms-install: removing $name/$v from DKMS"
	run_dkms remove "$name/$v" --all || true
	if [ -e "/var/lib/dkms/$name/$v" ]; then
		# Typically its source tree is gone: drop it by hand.
		echo "megalink: dkms-install: dkms could not remove $name/$v; deleting it by hand" >&2
		rm -rf "/var/lib/dkms/$name/$v"
		rm -f /lib/modules/*/updates/dkms/"$name".ko /lib/modules/*/updates/dkms/"$name".ko.*
	fi
	if [ "$v" != "$ver" ] && [ -e "/usr/src/$name-$v/.megalink-dkms-install" ]; then
		rm -rf "/usr/src/$name-$v"
	fi
done
rm -rf "/var/lib/dkms/$name/$ver"

echo "megalink: dkms-install: $name/$ver -> $src"
rm -rf "$src"
mkdir -p "$src/include"
cp -a "$repo/Kbuild" "$repo/VERSION" "$repo/driver" "$src/"
cp -a "$repo/include/uapi" "$src/include/"
sed "s/#MODULE_VERSION#/$ver/" "$repo/dkms.conf" >"$src/dkms.conf"
# No build products of a tree build.
find "$src" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
	-o -name '.*.cmd' -o -name 'modules.order' -o -name 'Module.symvers' \
	-o -name '.*.d' \) -delete
: >"$src/.megalink-dkms-install"

run_dkms add -m "$name" -v "$ver"
fail=0
for k in "$@"; do
	echo "megalink: dkms-install: building $name/$ver for $k"
	if ! run_dkms build -m "$name" -v "$ver" -k "$k"; then
		echo "megalink: dkms-install: dkms build failed for $k; make.log:" >&2
		tail -n 30 "/var/lib/dkms/$name/$ver/build/make.log" >&2 || true
		fail=1
		continue
	fi
	if ! run_dkms install -m "$name" -v "$ver" -k "$k" --force; then
		echo "megalink: dkms-install: dkms install failed for $k" >&2
		fail=1
		continue
	fi
	if f=$(modinfo -k "$k" -F filename "$name" 2>/dev/null); then
		echo "megalink: dkms-install: $k: $f"
	else
		echo "megalink: dkms-install: $k: module not found by modinfo after install" >&2
		fail=1
	fi
done
[ "$fail" -eq 0 ] || exit 1
echo "megalink: dkms-install: $name/$ver installed for $# kernel(s)"
