#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh [--print]
#
# Builds the debug kernel of `make check-debug` from Debian's
# linux-source-6.12 tarball: allnoconfig + tests/debug/kernel.config
# (KASAN, lockdep, kmemleak, UBSAN, debug objects, fault injection, and only
# the drivers the guest needs).  Fails if any requested option did not make
# it into the final .config (Kconfig drops options silently when a
# dependency is missing).  The result is cached by a hash of its inputs
# under $ML_DEBUG_KERNEL_CACHE (default ~/.cache/megalink/debug-kernel);
# a second run with the same inputs only prints the path.
#
# Prints the kernel build directory (with arch/x86/boot/bzImage, the
# .config and Module.symvers to build megalink.ko against, and
# modroot/lib/modules/RELEASE for the guest) on stdout;
# progress goes to stderr.  --print prints the directory a build would
# use without building.
set -eu
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
tarball=${ML_LINUX_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
cache=${ML_DEBUG_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/megalink/debug-kernel}
jobs=${ML_JOBS:-$(nproc)}

note() { echo "megalink-debug-kernel: $*" >&2; }
die() { note "$*"; exit 1; }

[ -r "$tarball" ] || die "$tarball not found: apt-get install linux-source-6.12 (make check-debug installs it as root)"
for t in gcc make flex bison bc perl xz; do
	command -v "$t" >/dev/null || die "$t not found: apt-get install flex bison bc libelf-dev libssl-dev (scripts/deps.sh debug)"
done

# What decides the kernel: the fragment, the source, the compiler and the
# recipe (bump ML_RECIPE when the make steps below change).
ML_RECIPE=1
hash=$({
	cat "$here/kernel.config"
	echo "recipe $ML_RECIPE"
	stat -L -c '%n %s %Y' "$tarball"
	gcc --version | head -n 1
} | sha256sum | cut -c1-16)
obj=$cache/$hash
if [ "${1:-}" = --print ]; then
	echo "$obj"
	exit 0
fi
if [ -f "$obj/.ml-done" ]; then
	note "cached debug kernel $(cat "$obj/include/config/kernel.release") in $obj (built in $(cat "$obj/.ml-build-seconds" 2>/dev/null || echo '?') s)"
	echo "$obj"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -f "$obj/.ml-done" ]; then
	echo "$obj"
	exit 0
fi

# The unpacked source is shared by every configuration of one tarball.
srcid=$(stat -L -c '%s-%Y' "$tarball")
src=$cache/src-$srcid
if [ ! -f "$src/.ml-unpacked" ]; then
	note "unpacking $tarball (about a minute)"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$tarball" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.ml-unpacked"
	mv "$src.tmp" "$src"
fi
# Older caches of other configurations are not kept.
for d in "$cache"/*; do
	[ -d "$d" ] || continue
	case $d in "$obj" | "$src" | "$src.tmp") continue ;; esac
	note "removing stale cache $d"
	rm -rf "$d"
done

rm -rf "$obj"
mkdir -p "$obj"
t0=$(date +%s)
note "configuring (allnoconfig + $here/kernel.config) in $obj"
make -s -C "$src" O="$obj" ARCH=x86_64 allnoconfig >&2
(cd "$obj" && ARCH=x86_64 "$src/scripts/kconfig/merge_config.sh" -n -m .config "$here/kernel.config" >/dev/null)
make -s -C "$src" O="$obj" ARCH=x86_64 olddefconfig >&2

# Every option asked for must be in the final .config, with its value.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=n)
		opt=${line%%=*}
		if grep -q "^$opt=" "$obj/.config"; then
			note "$opt is set but kernel.config wants it off: $(grep "^$opt=" "$obj/.config")"
			bad=1
		fi
		;;
	CONFIG_*=*)
		if ! grep -qxF "$line" "$obj/.config"; then
			opt=${line%%=*}
			note "$line did not survive the merge (now: $(grep -E "^(# )?$opt[= ]" "$obj/.config" || echo absent)); a dependency is missing"
			bad=1
		fi
		;;
	esac
done <"$here/kernel.config"
[ "$bad" -eq 0 ] || die "the debug kernel configuration is incomplete; fix tests/debug/kernel.config"

note "building with $jobs jobs (10-20 minutes on 2 cores; log in $obj/build.log)"
if ! make -C "$src" O="$obj" ARCH=x86_64 -j"$jobs" \
	KBUILD_BUILD_USER=megalink KBUILD_BUILD_HOST=megalink \
	bzImage modules >"$obj/build.log" 2>&1; then
	tail -n 40 "$obj/build.log" >&2
	die "kernel build failed (whole log: $obj/build.log)"
fi
# modules.builtin and an (empty) modules.dep, so that `modprobe veth` in the
# guest succeeds for the built-in drivers.
make -s -C "$src" O="$obj" ARCH=x86_64 INSTALL_MOD_PATH="$obj/modroot" \
	modules_install >>"$obj/build.log" 2>&1 || die "modules_install failed (log: $obj/build.log)"
t1=$(date +%s)
echo "$((t1 - t0))" >"$obj/.ml-build-seconds"
touch "$obj/.ml-done"
note "built $(cat "$obj/include/config/kernel.release") in $((t1 - t0)) s"
echo "$obj"
