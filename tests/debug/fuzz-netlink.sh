#!/bin/bash
# SPDX-License-Identifier: MIT
#
# fuzz-netlink.sh: fuzz the generic netlink family "megalink" (inside a
# harness guest, as root):
#
#   make -C tests/debug
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/debug/fuzz-netlink.sh
#
# Loads the module (tests/harness/ml-load.sh hello_ms=100 dead_ms=1000)
# unless it is loaded, builds the pod (netns fna/fnb joined by veth na/nb,
# each end its own device, node ids 0x1a/0x1b, as
# tests/dataplane/run-suite.sh does) and two privileged sandboxes (netns
# fnx with veth pairs x0a/x0b x1a/x1b x2a/x2b, fny with y0a/y0b y1a/y1b,
# both ends in the sandbox) whose netdevs the fuzzer binds, unbinds, flaps,
# deletes and re-creates.  Then runs tests/debug/fuzz_netlink for
# ML_FUZZ_SECONDS (default 120) with seed ML_SEED (default: random,
# printed): privileged fuzzers in the sandboxes, unprivileged ones (uid
# 65534, before and after opening their sockets) in the pod's namespaces
# and the initial one, a monitor of the event group, and a byte-checked
# pair moving data on the pod the whole time.  Afterwards: the pod's
# object counts are zero, the namespaces go, the module unloads, and the
# kernel log has no splat.
#
# Ends with "fuzz-netlink: N passed, N failed"; exit 0 only if nothing
# failed.
set -u

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$repo" || exit 125
prog=$repo/tests/debug/fuzz_netlink
secs=${ML_FUZZ_SECONDS:-120}
passed=0 failed=0

pass() { passed=$((passed + 1)); echo "fuzz-netlink: ok: $*"; }
flunk() { failed=$((failed + 1)); echo "fuzz-netlink: FAILED: $*"; }
finish() {
	echo "fuzz-netlink: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

if [ "$(id -u)" != 0 ]; then
	echo "ML-SKIP-NOTE: fuzz-netlink.sh must run as root inside the test guest"
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

all_ns="fna fnb fnx fny"
cleanup_ns() {
	for ns in $all_ns; do
		ip netns del "$ns" 2>/dev/null || true
	done
}
cleanup_ns

# The pod: fna/na <-> fnb/nb, each end bound as its own device.
setup() {
	local ns
	for ns in $all_ns; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up || return 1
	done
	ip link add na netns fna type veth peer name nb netns fnb || return 1
	ip -n fna link set na up && ip -n fnb link set nb up || return 1
	dev_a=$(ip netns exec fna "$prog" bind na 0x1a) || return 1
	dev_b=$(ip netns exec fnb "$prog" bind nb 0x1b) || return 1
	ip netns exec fna "$prog" wait "$dev_a" 20 || return 1
	ip netns exec fnb "$prog" wait "$dev_b" 20 || return 1
	# sandboxes: both ends of each pair in the same netns
	for p in x0 x1 x2; do
		ip -n fnx link add ${p}a type veth peer name ${p}b || return 1
		ip -n fnx link set ${p}a up && ip -n fnx link set ${p}b up || return 1
	done
	for p in y0 y1; do
		ip -n fny link add ${p}a type veth peer name ${p}b || return 1
		ip -n fny link set ${p}a up && ip -n fny link set ${p}b up || return 1
	done
	# a first pair of neighbouring devices in each sandbox (the QP churner
	# needs them; the fuzzers unbind and re-bind them soon enough)
	ip netns exec fnx "$prog" bind x0a 0x3a >/dev/null &&
		ip netns exec fnx "$prog" bind x0b 0x3b >/dev/null &&
		ip netns exec fny "$prog" bind y0a 0x3c >/dev/null &&
		ip netns exec fny "$prog" bind y0b 0x3d >/dev/null || return 1
}

dev_a='' dev_b=''
if ! setup; then
	flunk "cannot build the pod and the sandboxes"
	cleanup_ns
	finish
fi
echo "fuzz-netlink: pod fna/na $dev_a (0x1a) <-> fnb/nb $dev_b (0x1b); sandboxes fnx, fny; ${secs} s"

out=${ML_OUT:-/tmp}/fuzz-netlink.log
env DP_NS_A=fna DP_NS_B=fnb DP_IF_A=na DP_IF_B=nb DP_DEV_A="$dev_a" DP_DEV_B="$dev_b" \
	FN_NODE_A=0x1a FN_NODE_B=0x1b \
	FN_SANDBOX="fnx:x0a,x0b,x1a,x1b,x2a,x2b;fny:y0a,y0b,y1a,y1b" \
	timeout -k 10 $((secs + 900)) "$prog" run 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
n_ok=$(grep -c '^CHECK ok:' "$out")
n_bad=$(grep -c '^CHECK FAIL:' "$out")
passed=$((passed + n_ok))
failed=$((failed + n_bad))
if [ "$rc" -ne 0 ]; then
	flunk "fuzz_netlink exited $rc"
elif [ "$n_ok" -eq 0 ]; then
	flunk "fuzz_netlink reported no checks"
fi

# Every object of the pod's processes is gone once they are.
for x in fna:"$dev_a" fnb:"$dev_b"; do
	if ip netns exec "${x%%:*}" "$prog" counts "${x#*:}"; then
		pass "object counts of ${x#*:} are zero"
	else
		flunk "objects left on ${x#*:} after every process exited"
	fi
done

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
	flunk "kernel splat during the fuzzing:"
	dmesg | tail -n +"$((kstart + 1))" | grep -E -B5 -A40 "$splat" | head -n 120
else
	pass "no kernel splat"
fi
finish
