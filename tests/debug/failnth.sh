#!/bin/bash
# SPDX-License-Identifier: MIT
#
# failnth.sh: the fault-injection walk of the debug lane, inside the debug
# kernel guest (tests/debug/run.sh calls it; alone:
#   tests/harness/run-in-guest.sh --kernel debug -- tests/debug/failnth.sh).
#
# Loads megalink (unless loaded), builds two network namespaces fna/fnb
# joined by two veth pairs (fva<->fvb, fva2<->fvb2, MTU 1500), runs
# tests/debug/failnth (which binds the ports itself: PORT_BIND is one of
# the walked commands), removes the namespaces, checks the kernel log of
# the run, and ends with "failnth: N passed, N failed".
#
# Environment: ML_SEED, ML_FAILNTH_CAP, ML_FAILNTH_SECONDS (default 900),
# ML_FAILNTH_TX_MAX, ML_FAILNTH_TX_SECONDS, ML_FAILNTH_ONLY,
# ML_FAILNTH_DRYRUN, ML_FAILNTH_NOWARN: see failnth.c.
set -u

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
prog=$repo/tests/debug/failnth
secs=${ML_FAILNTH_SECONDS:-900}
export ML_FAILNTH_SECONDS=$secs
passed=0 failed=0

finish() {
	echo "failnth: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

setup_fail() {
	echo "failnth: *** set-up: $*"
	failed=$((failed + 1))
	cleanup
	finish
}

cleanup() {
	ip netns del fna 2>/dev/null
	ip netns del fnb 2>/dev/null
}

[ "$(id -u)" = 0 ] || setup_fail "must run as root inside the guest"
[ -x "$prog" ] || setup_fail "$prog is not built (make -C tests/debug)"
echo "== failnth: kernel $(uname -r)"
[ -d /sys/kernel/debug/failslab ] ||
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
modprobe veth 2>/dev/null
if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 ||
		setup_fail "cannot load megalink"
fi

cleanup
ip netns add fna || setup_fail "ip netns add fna"
ip netns add fnb || setup_fail "ip netns add fnb"
for a in fva fva2; do
	b=fvb${a#fva}
	ip link add "$a" mtu 1500 netns fna type veth peer name "$b" mtu 1500 netns fnb ||
		setup_fail "veth $a/$b"
	ip -n fna link set "$a" up || setup_fail "link up $a"
	ip -n fnb link set "$b" up || setup_fail "link up $b"
done
ip -n fna link set lo up
ip -n fnb link set lo up

# The program marks each walk in the kernel log: no rate limit for them.
devkmsg=$(cat /proc/sys/kernel/printk_devkmsg 2>/dev/null || echo ratelimit)
echo on >/proc/sys/kernel/printk_devkmsg 2>/dev/null
kstart=$(dmesg 2>/dev/null | wc -l)
t0=$(date +%s)
# The program has its own alarm; this is the backstop.
out=$(mktemp)
timeout -k 10 $((secs + 60)) "$prog" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
echo "$devkmsg" >/proc/sys/kernel/printk_devkmsg 2>/dev/null
echo "(failnth took $(($(date +%s) - t0)) s, exit $rc)"
sum=$(grep '^failnth-summary: ' "$out" | tail -n 1)
rm -f "$out"
if [ -n "$sum" ]; then
	read -r p f <<<"${sum#failnth-summary: }"
	passed=$((passed + p))
	failed=$((failed + f))
else
	echo "failnth: *** the program printed no summary (exit $rc)"
	failed=$((failed + 1))
fi
[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=$((failed + 1))

cleanup
# Devices go with their netdevs; give the notifier a moment.
for _ in $(seq 50); do
	[ -z "$(ls /sys/class/megalink 2>/dev/null)" ] && break
	sleep 0.1
done
if [ -n "$(ls /sys/class/megalink 2>/dev/null)" ]; then
	echo "failnth: *** megalink devices left: $(echo /sys/class/megalink/*)"
	failed=$((failed + 1))
fi

# A splat during the walk fails it here as well as in the harness.
klog=$(mktemp)
dmesg 2>/dev/null | tail -n +"$((kstart + 1))" >"$klog"
if [ -x "$repo/tests/harness/check-splat.sh" ] && ! "$repo/tests/harness/check-splat.sh" "$klog"; then
	echo "failnth: *** kernel splat during the walk; the first one came during:"
	awk '/failnth: (walk|tx)/ { w = $0 }
	     /(BUG:|WARNING:|Call Trace:|KASAN:|UBSAN:|unreferenced object)/ { print "  " w; exit }' "$klog"
	failed=$((failed + 1))
fi
rm -f "$klog"
finish
