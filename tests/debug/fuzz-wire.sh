#!/bin/bash
# SPDX-License-Identifier: MIT
#
# fuzz-wire.sh: frames injected through AF_PACKET at live queue pairs
# (inside a harness guest, as root):
#
#   make -C tests/debug
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/debug/fuzz-wire.sh
#
# Loads the module (tests/harness/ml-load.sh hello_ms=100 dead_ms=1000)
# unless it is loaded, builds the pod (netns fwa/fwb joined by veth wa/wb,
# MTU 9000 so that big frames arrive as non-linear skbs, each end its own
# device, node ids 0x2a/0x2b, as tests/dataplane/run-suite.sh does), runs
# tests/debug/fuzz_wire for ML_FUZZ_SECONDS (default 120) with seed
# ML_SEED (default: random, printed): a byte-checked healthy pair, a victim
# pair whose QPs get the forged frames, and the injector (see the comment
# at the top of fuzz_wire.c for what is required of each).  Afterwards:
# the object counts are zero, the namespaces go, the module unloads, and
# the kernel log has no splat.
#
# Ends with "fuzz-wire: N passed, N failed"; exit 0 only if nothing
# failed.
set -u

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$repo" || exit 125
prog=$repo/tests/debug/fuzz_wire
secs=${ML_FUZZ_SECONDS:-120}
passed=0 failed=0

pass() { passed=$((passed + 1)); echo "fuzz-wire: ok: $*"; }
flunk() { failed=$((failed + 1)); echo "fuzz-wire: FAILED: $*"; }
finish() {
	echo "fuzz-wire: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

if [ "$(id -u)" != 0 ]; then
	echo "ML-SKIP-NOTE: fuzz-wire.sh must run as root inside the test guest"
	flunk "not root"
	finish
fi
if [ ! -x "$prog" ]; then
	echo "ML-SKIP-NOTE: $prog is not built (make -C tests/debug)"
	flunk "not built"
	finish
fi
modprobe veth 2>/dev/null || true
if [ ! -d /sys/module/megalink ]; then
	if ! "$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000; then
		flunk "cannot load the module"
		finish
	fi
fi
kstart=$(dmesg | wc -l)

all_ns="fwa fwb"
cleanup_ns() {
	for ns in $all_ns; do
		ip netns del "$ns" 2>/dev/null || true
	done
}
cleanup_ns

setup() {
	local ns
	for ns in $all_ns; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up || return 1
	done
	ip link add wa mtu 9000 netns fwa type veth peer name wb mtu 9000 netns fwb || return 1
	ip -n fwa link set wa up && ip -n fwb link set wb up || return 1
	dev_a=$(ip netns exec fwa "$prog" bind wa 0x2a) || return 1
	dev_b=$(ip netns exec fwb "$prog" bind wb 0x2b) || return 1
	ip netns exec fwa "$prog" wait "$dev_a" 20 || return 1
	ip netns exec fwb "$prog" wait "$dev_b" 20 || return 1
}

dev_a='' dev_b=''
if ! setup; then
	flunk "cannot build the pod"
	cleanup_ns
	finish
fi
echo "fuzz-wire: pod fwa/wa $dev_a (0x2a) <-> fwb/wb $dev_b (0x2b), mtu 9000; ${secs} s"

out=${ML_OUT:-/tmp}/fuzz-wire.log
env DP_NS_A=fwa DP_NS_B=fwb DP_IF_A=wa DP_IF_B=wb DP_DEV_A="$dev_a" DP_DEV_B="$dev_b" \
	timeout -k 10 $((secs + 900)) "$prog" run 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
n_ok=$(grep -c '^CHECK ok:' "$out")
n_bad=$(grep -c '^CHECK FAIL:' "$out")
passed=$((passed + n_ok))
failed=$((failed + n_bad))
if [ "$rc" -ne 0 ]; then
	flunk "fuzz_wire exited $rc"
elif [ "$n_ok" -eq 0 ]; then
	flunk "fuzz_wire reported no checks"
fi

cleanup_ns
i=0
while [ -n "$(ls /sys/class/megalink 2>/dev/null)" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -n "$(ls /sys/class/megalink 2>/dev/null)" ]; then
	flunk "devices left after the namespaces were deleted: $(echo /sys/class/megalink/*)"
fi
if rmmod megalink; then
	pass "rmmod megalink"
else
	flunk "rmmod megalink (refcnt $(cat /sys/module/megalink/refcnt 2>/dev/null || echo '?'))"
fi

# kmemleak (debug kernel): what this run left behind, reported not cleared
leak=/sys/kernel/debug/kmemleak
if [ -w "$leak" ]; then
	sleep 6
	echo scan >"$leak"
	echo scan >"$leak"
	rep=$(cat "$leak")
	if [ -n "$rep" ]; then
		flunk "kmemleak reports unreferenced objects:"
		printf '%s\n' "$rep" | head -n 60
	else
		pass "kmemleak: nothing new"
	fi
fi

splat='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|kernel BUG|refcount_t:|list_add corruption|list_del corruption|possible recursive locking|circular locking dependency|INFO: task .* blocked|RCU stall|unreferenced object|kmemleak'
if dmesg | tail -n +"$((kstart + 1))" | grep -Eq "$splat"; then
	flunk "kernel splat during the injection:"
	dmesg | tail -n +"$((kstart + 1))" | grep -E -B5 -A40 "$splat" | head -n 120
else
	pass "no kernel splat"
fi
finish
