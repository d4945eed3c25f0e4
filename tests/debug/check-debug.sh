#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-debug.sh [--build-only]: make check-debug.
#
#   1. builds (or reuses from its cache) the debug kernel:
#      tests/debug/build-kernel.sh (KASAN, lockdep, kmemleak, UBSAN, debug
#      objects, fault injection);
#   2. builds megalink.ko against it (build/RELEASE/megalink.ko, W=1), the
#      library, the tools and every in-guest test program;
#   3. boots it and runs the whole in-guest suite (tests/in-guest.sh:
#      control plane, library data plane, data-plane suite);
#   4. boots it again and runs the hostile-input lane (tests/debug/run.sh:
#      fault-injection walks, fuzzers, stress).
# Any KASAN, lockdep, UBSAN, kmemleak, refcount or WARN report fails the
# boot it appears in (tests/harness/check-splat.sh shows it).
#
# --build-only stops after step 2.  Environment: ML_DEBUG_STEPS ("suite
# lane", the boots to do), ML_DEBUG_TIMEOUT (seconds per boot, 2400), and
# everything run.sh and run-in-guest.sh read.
set -eu
set -o pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
note() { echo "check-debug: $*"; }

t0=$(date +%s)
note "step 1: debug kernel (tests/debug/build-kernel.sh)"
kobj=$(tests/debug/build-kernel.sh)
krel=$(cat "$kobj/include/config/kernel.release")
tk=$(date +%s)

note "step 2: megalink.ko for $krel, library, tools, test programs"
d=build/$krel
rm -rf "$d/src"
mkdir -p "$d/src"
cp -r Kbuild driver include "$d/src/"
make -s -C "$kobj" M="$repo/$d/src" ML_VERSION="$(cat VERSION)" W=1 modules
cp "$d/src/driver/megalink.ko" "$d/megalink.ko"
make -s --no-print-directory lib tools examples guest-tests
make -s --no-print-directory -C tests/debug
tb=$(date +%s)
if [ "${1:-}" = --build-only ]; then
	note "built: kernel $krel ($kobj), module $d/megalink.ko"
	exit 0
fi

stamp=$(date +%Y%m%d-%H%M%S)
tmo=${ML_DEBUG_TIMEOUT:-2400}
declare -a results=()
failed=0
for step in ${ML_DEBUG_STEPS:-suite lane}; do
	case $step in
	suite) cmd=tests/in-guest.sh what="in-guest suite (tests/in-guest.sh)" ;;
	lane) cmd=tests/debug/run.sh what="fault walks, fuzzers, stress (tests/debug/run.sh)" ;;
	*) note "unknown step '$step' in ML_DEBUG_STEPS (suite, lane)"; exit 2 ;;
	esac
	out=build/guest-out/debug-$step-$stamp
	note "step: $what on $krel"
	s0=$(date +%s)
	rc=0
	ML_LOAD=insmod tests/harness/run-in-guest.sh --kernel debug --timeout "$tmo" \
		--out "$out" -- "$cmd" || rc=$?
	s1=$(date +%s)
	case $rc in
	0) v=passed ;;
	120) v="FAILED (kernel splat: KASAN/lockdep/UBSAN/kmemleak/WARN, see above)" ;;
	125) v="FAILED (boot failure or timeout)" ;;
	*) v="FAILED (exit $rc)" ;;
	esac
	[ "$rc" -eq 0 ] || failed=$((failed + 1))
	results+=("$step: $v in $((s1 - s0)) s; logs $out")
done

echo
echo "==== check-debug summary ($krel) ===="
echo "  kernel: $((tk - t0)) s (cached: $([ "$((tk - t0))" -lt 60 ] && echo yes || echo no); first build took $(cat "$kobj/.ml-build-seconds") s)"
echo "  builds: $((tb - tk)) s"
for r in "${results[@]}"; do
	echo "  $r"
done
echo "  total: $(($(date +%s) - t0)) s"
echo "check-debug: ${#results[@]} boots, $failed failed"
[ "$failed" -eq 0 ]
