#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/deb/run.sh: the Debian packages, built and used (as root, on the
# host; one step of make check).
#
#   1. make deb (scripts/deb.sh): dpkg-buildpackage out of the tree into
#      build/deb/v1, lintian -i --pedantic on the .changes: any error or
#      warning fails.  Then the same for version VERSION+1 (the last
#      number bumped) into build/deb/v2, without lintian.
#   2. a 6.12 guest (tests/harness/run-in-guest.sh) runs tests/deb/in-guest.sh:
#      dpkg -i on a clean root (DKMS builds the module for the running
#      kernel only), modprobe, a pod and megalink-perf traffic with only
#      the installed programs, the upgrade to v2, dpkg --purge, nothing left.
#
# When dpkg-buildpackage, debhelper or dh-dkms are missing and cannot be
# installed (scripts/deps.sh deb; needs root and an apt mirror), it says
# so LOUDLY and exits 0 without testing anything.
#
# make check runs step 1 in the background while the guests run (their
# TCG CPUs leave the host's cores idle part of the time): an early step
# calls "run.sh --start-build", which starts "run.sh --build-only" under
# nice 19 with its output in build/deb/bg.log, and the last step calls
# run.sh with ML_DEB_BG=1, which waits for that build, prints its log and
# counts its checks, then goes on with step 2.  A check that stops early
# kills the build (run.sh --stop-build).
#
# Environment: ML_DEB_KERNEL (6.12), ML_DEB_TORCH=1 (import megalink_torch
# in the guest too: slow under TCG), ML_DEB_REUSE=1 (keep the debs of a
# previous run in build/deb/v1 and v2 when they are there), ML_DEB_BG=1
# (see above).
# Ends with "deb: N passed, M failed"; exit status 0 only when M is 0.
set -u
set -o pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1
kernel=${ML_DEB_KERNEL:-6.12}
out=$repo/build/deb
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() {
	echo "deb: timings: ${timings# }"
	echo "deb: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
timings=''
t_all=$(date +%s)
lap() { timings="$timings $1=$(($(date +%s) - $2))s"; }

# ---- the background build (see above)
what=${1:-}
case $what in
--start-build)
	mkdir -p "$out"
	rm -f "$out"/bg.pid "$out"/bg.rc "$out"/bg.log
	# Its own session (kill -- -PID stops all of it), every descriptor
	# on a file: the caller's pipes must not wait for it.
	setsid sh -c 'nice -n 19 "$1" --build-only; echo $? >"$2/bg.rc"' sh "$repo/tests/deb/run.sh" "$out" \
		</dev/null >"$out/bg.log" 2>&1 &
	echo $! >"$out/bg.pid"
	echo "deb: building the packages in the background (pid $!, nice 19, log $out/bg.log)"
	exit 0
	;;
--stop-build)
	if [ -f "$out/bg.pid" ] && [ ! -f "$out/bg.rc" ]; then
		kill -- "-$(cat "$out/bg.pid")" 2>/dev/null &&
			echo "deb: stopped the background package build"
	fi
	rm -f "$out/bg.pid"
	exit 0
	;;
--build-only | '') ;;
*)
	echo "usage: $0 [--start-build | --build-only | --stop-build]" >&2
	exit 2
	;;
esac
if [ "${ML_DEB_BG:-0}" = 1 ] && [ -z "$what" ]; then
	if [ ! -f "$out/bg.pid" ]; then
		echo "deb: ML_DEB_BG=1 but no background build was started (run.sh --start-build)" >&2
		exit 1
	fi
	t=$(date +%s)
	n=0
	while [ ! -f "$out/bg.rc" ] && kill -0 "$(cat "$out/bg.pid")" 2>/dev/null; do
		n=$((n + 1))
		[ $((n % 6)) -eq 0 ] && echo "deb: waiting for the background package build ($(tail -n 1 "$out/bg.log"))"
		sleep 5
	done
	sleep 1
	echo "deb: ---- the background build (build/deb/bg.log):"
	cat "$out/bg.log"
	echo "deb: ---- end of the background build (waited $(($(date +%s) - t)) s for it)"
	rc=$(cat "$out/bg.rc" 2>/dev/null || echo none)
	rm -f "$out/bg.pid" "$out/bg.rc"
	grep -q '^deb: 0 passed, 0 failed (SKIPPED)' "$out/bg.log" && exit 0
	summary=$(sed -n 's/^deb: build: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out/bg.log")
	if [ -z "$summary" ]; then
		bad "the background package build did not finish (exit $rc; $out/bg.log)"
		finish
	fi
	passed=${summary% *}
	failed=${summary#* }
	timings=$(sed -n 's/^deb: build: timings: //p' "$out/bg.log")
	[ "$failed" -eq 0 ] || finish
	export ML_DEB_REUSE=1
	what=--bg-done
fi

# ---- the packaging tools
have_tools() {
	command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null &&
		command -v dh_dkms >/dev/null && command -v lintian >/dev/null
}
if ! have_tools; then
	scripts/deps.sh deb || true
fi
if ! have_tools; then
	echo
	echo "ML-SKIP-NOTE: ***************************************************************"
	echo "ML-SKIP-NOTE: deb: *** SKIPPED: dpkg-buildpackage, debhelper, dh-dkms or lintian"
	echo "ML-SKIP-NOTE: deb: *** are missing and could not be installed (scripts/deps.sh deb)."
	echo "ML-SKIP-NOTE: deb: *** The Debian packages were NOT built or tested."
	echo "ML-SKIP-NOTE: ***************************************************************"
	echo "deb: 0 passed, 0 failed (SKIPPED)"
	exit 0
fi

v1=$(cat VERSION)
# VERSION+1: the last number bumped (0.1.0 -> 0.1.1).
v2=$(echo "$v1" | awk -F. -v OFS=. '{ $NF = $NF + 1; print }')

# ---- 1. build, lintian
# The packages in $1, the -dbgsym ones left out.
ndebs() {
	local f n=0

	for f in "$1"/*.deb; do
		case $f in
		*-dbgsym_* | "$1/*.deb") ;;
		*) n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}
build() {
	t=$(date +%s)
	if [ "${ML_DEB_REUSE:-0}" = 1 ] && ls "$out"/v1/megalink-dkms_"$v1"_all.deb >/dev/null 2>&1; then
		ok "reusing build/deb/v1 (ML_DEB_REUSE=1)"
	elif make -s deb DEB_OUT="$out/v1"; then
		ok "make deb $v1: built, lintian -i --pedantic: no error, no warning"
	else
		bad "make deb $v1 (build or lintian; see $out/v1/build.log and lintian.txt)"
	fi
	lap build-v1 "$t"
	t=$(date +%s)
	if [ "${ML_DEB_REUSE:-0}" = 1 ] && ls "$out"/v2/megalink-dkms_"$v2"_all.deb >/dev/null 2>&1; then
		ok "reusing build/deb/v2 (ML_DEB_REUSE=1)"
	elif DEB_BUILD_OPTIONS="noautodbgsym parallel=$(nproc)" scripts/deb.sh --version "$v2" --out "$out/v2" --no-lintian; then
		ok "scripts/deb.sh --version $v2: built"
	else
		bad "build of $v2 (see $out/v2/build.log)"
	fi
	lap build-v2 "$t"
	n1=$(ndebs "$out/v1")
	n2=$(ndebs "$out/v2")
	if [ "$n1" -ne 8 ] || [ "$n2" -ne "$n1" ]; then
		bad "expected 8 packages in each build, got $n1 and $n2"
	fi
}
if [ "$what" != --bg-done ]; then
	build
fi
if [ "$what" = --build-only ]; then
	echo "deb: build: timings: ${timings# }"
	echo "deb: build: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
fi
[ "$failed" -eq 0 ] || finish

# ---- 2. install, use, upgrade, purge
t=$(date +%s)
gout=$repo/build/guest-out/deb-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$gout"
mode=${ML_DEB_MODE:-root}
if [ "$mode" = root ] && ! unshare -m sh -c 'd=$(mktemp -d) && mount -t tmpfs x "$d" &&
	mkdir "$d/u" "$d/w" "$d/m" && mount -t overlay x -o "lowerdir=/,upperdir=$d/u,workdir=$d/w" "$d/m"; r=$?; umount -R "$d" 2>/dev/null; rmdir "$d"; exit $r' 2>/dev/null; then
	echo "ML-SKIP-NOTE: deb: no overlay of / in a mount namespace here: dpkg runs in the guest instead (slow: DKMS compiles under TCG)"
	mode=guest
fi
if [ "$mode" = root ]; then
	# dpkg natively in an overlay of / (tests/deb/root.sh), the result
	# loaded and used in guests.
	unshare -m "$repo/tests/deb/root.sh" "$out/v1" "$out/v2" "$gout" "$kernel"
	rc=$?
	tag=deb-root
	glog=$gout/root.log
	gf=$(grep -c '^FAIL: ' "$glog")
	gp=$(grep -c "^ok: " "$glog")
else
	tests/harness/run-in-guest.sh --kernel "$kernel" --timeout "${ML_DEB_TIMEOUT:-900}" --out "$gout" -- \
		tests/deb/in-guest.sh "$out/v1" "$out/v2"
	rc=$?
	tag=deb-guest
	glog=$gout/output.log
	gp=$(sed -n 's/^deb-guest: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$glog" | tail -n 1)
	gf=$(sed -n 's/^deb-guest: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$glog" | tail -n 1)
fi
lap "$mode" "$t"
passed=$((passed + ${gp:-0}))
failed=$((failed + ${gf:-0}))
if [ -z "$gp" ] || [ "$gp" = 0 ]; then
	bad "$tag did not report (exit $rc; $gout)"
elif [ "$rc" -ne 0 ] && [ "${gf:-0}" -eq 0 ]; then
	bad "$tag: exit $rc (120: kernel splat; 125: boot or timeout) ($gout)"
fi
grep '^time: ' "$glog" | sed 's/^/deb: /'
lap total "$t_all"
finish
