#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kbuild.sh all|sparse|one KDIR|clean
#
# Builds megalink.ko with the kernel's build system (make -C KDIR M=...):
#   all        for every installed Debian kernel with headers:
#              build/<release>/megalink.ko (make modules-all)
#   sparse     the same with C=1, failing on any warning (make sparse)
#   one KDIR   for the headers in KDIR, in place: driver/megalink.ko
#              (make modules)
#   clean      removes what "one" left in the source tree
#
# Kbuild cannot take an M= path with spaces or colons, and a checkout may
# live anywhere.  Each kernel gets its own copy of the sources (so objects
# of different kernels never mix) under build/ when that path is clean,
# else under a clean per-user, per-checkout directory
# ($ML_KBUILD_DIR, default /var/tmp/megalink-kbuild-UID/HASH); the results
# are copied back into the tree.
#
# Environment: VERSION (the module's version string), ML_BUILD_DIR.
set -eu
set -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd -P)
build=${ML_BUILD_DIR:-$repo/build}
version=${VERSION:-$(cat "$repo/VERSION")}
cd "$repo"

clean_path() {
	[[ $1 =~ ^/[A-Za-z0-9._/+@=-]*$ ]]
}

# The directory that holds the per-kernel copies.
kbuild_root() {
	if clean_path "$build"; then
		echo "$build"
		return
	fi
	local base=${ML_KBUILD_DIR:-/var/tmp/megalink-kbuild-$(id -u)}
	clean_path "$base" || {
		echo "megalink: ML_KBUILD_DIR=$base has spaces or colons; the kernel build cannot use it" >&2
		exit 1
	}
	echo "$base/$(printf '%s' "$repo" | sha256sum | cut -c1-16)"
}

# copy_src DIR: the module's sources into DIR (objects there are kept).
copy_src() {
	mkdir -p "$1"
	if command -v rsync >/dev/null; then
		rsync -a --delete --exclude '*.o' --exclude '*.ko' --exclude '*.cmd' \
			--exclude '*.mod' --exclude '*.mod.c' --exclude '.*.d' \
			Kbuild driver include "$1/"
	else
		rm -rf "$1/driver" "$1/include"
		cp -r Kbuild driver include "$1/"
	fi
}

kernels() {
	local d
	for d in /usr/src/linux-headers-*-amd64; do
		[ -d "$d" ] && echo "${d#/usr/src/linux-headers-}"
	done | sort -V
}

missing_headers() {
	local v k
	for v in /boot/vmlinuz-*-amd64; do
		[ -e "$v" ] || continue
		k=${v#/boot/vmlinuz-}
		[ -d "/usr/src/linux-headers-$k" ] ||
			echo "megalink: *** no headers for the installed kernel $k: no module for it (apt-get install linux-headers-$k)" >&2
	done
}

case ${1:-} in
all)
	missing_headers
	root=$(kbuild_root)
	for k in $(kernels); do
		src=$root/$k/src
		copy_src "$src"
		echo "  KMOD    $k"
		make -s -C "/usr/src/linux-headers-$k" M="$src" ML_VERSION="$version" W=1 modules
		mkdir -p "$build/$k"
		cp "$src/driver/megalink.ko" "$build/$k/megalink.ko"
	done
	;;
sparse)
	root=$(kbuild_root)
	for k in $(kernels); do
		d=$root/sparse-$k
		rm -rf "$d"
		copy_src "$d"
		echo "  SPARSE  $k"
		make -s -C "/usr/src/linux-headers-$k" M="$d" ML_VERSION="$version" W=1 C=1 modules 2>&1 |
			tee "$d/log"
		if grep -qE 'warning|error' "$d/log"; then
			echo "megalink: sparse or W=1 found problems with $k (above; log $d/log)" >&2
			exit 1
		fi
	done
	;;
one)
	kdir=${2:-}
	[ -n "$kdir" ] && [ -d "$kdir" ] || {
		echo "megalink: no kernel headers found; set KDIR= or install linux-headers-amd64" >&2
		exit 1
	}
	if clean_path "$repo"; then
		make -C "$kdir" M="$repo" ML_VERSION="$version" W=1 modules
	else
		src=$(kbuild_root)/here/src
		echo "megalink: the checkout's path has spaces or colons: building in $src"
		copy_src "$src"
		make -C "$kdir" M="$src" ML_VERSION="$version" W=1 modules
		cp "$src/driver/megalink.ko" driver/megalink.ko
	fi
	;;
clean)
	rm -f driver/*.o driver/*.ko driver/*.mod driver/*.mod.c driver/.*.cmd \
		driver/modules.order driver/Module.symvers modules.order Module.symvers \
		.*.cmd driver/.*.d
	;;
*)
	echo "usage: $0 all|sparse|one KDIR|clean" >&2
	exit 2
	;;
esac
