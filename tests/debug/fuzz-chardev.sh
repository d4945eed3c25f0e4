#!/bin/bash
# SPDX-License-Identifier: MIT
#
# fuzz-chardev.sh: the char-device fuzzer of the debug lane, inside a
# harness guest as root (run.sh calls it; alone:
#   make -s -C tests/debug
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/debug/fuzz-chardev.sh).
#
# Loads the module unless it is loaded, builds a two-node pod (netns fca
# and fcb joined by a veth pair fca0/fcb0, MTU 1500, node ids 0xfa/0xfb,
# each end its own megalink device, as tests/dataplane/run-suite.sh does),
# runs tests/debug/fuzz_chardev (a healthy pair checked byte by byte beside
# K multi-threaded fuzzer processes; see the program's header), checks the
# kernel log for splats, the object counts of both devices, removes the
# pod and unloads the module.  Last line: "fuzz-chardev: N passed, N failed".
#
# Before the fuzz run, the reproducers of the bugs it found run one by one
# (fuzz_chardev repro NAME; see /work/notes/bugs-fuzz-chardev.md), each
# with its own kernel-log check.
#
# Environment: ML_FUZZ_SECONDS (default 120), ML_SEED (reproduces a run;
# the seed is printed as seed=0x...), ML_FUZZ_PROCS, ML_FUZZ_THREADS,
# ML_FUZZ_KILL_MS, ML_FUZZ_VERBOSE (passed to the program),
# ML_FUZZ_AVOID_KNOWN=1 (off by default: skip the reproducers and keep
# the fuzzer away from the known bugs, to look for others meanwhile).
set -u

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$repo" || exit 125
prog=$repo/tests/debug/fuzz_chardev
ctl=$repo/tests/dataplane/dp_ctl
out=${ML_OUT:-/tmp}/fuzz-chardev
secs=${ML_FUZZ_SECONDS:-120}
mkdir -p "$out"
passed=0 failed=0

ok() { echo "fuzz-chardev: ok: $*"; passed=$((passed + 1)); }
bad() { echo "fuzz-chardev: FAIL: $*"; failed=$((failed + 1)); }
finish() {
	echo "fuzz-chardev: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

splat_re='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|kernel BUG|refcount_t:|list_add corruption|list_del corruption|possible recursive locking|circular locking dependency|INFO: task .* blocked|Call Trace:|RCU stall|unreferenced object|sleeping function called'

if [ "$(id -u)" != 0 ]; then
	bad "must run as root (inside the test guest)"
	finish
fi
for f in "$prog" "$ctl"; do
	if [ ! -x "$f" ]; then
		echo "ML-SKIP-NOTE: $f is not built (make -s -C tests/debug; make -C tests/dataplane)"
		bad "$f missing"
		finish
	fi
done

modprobe veth 2>/dev/null || true
if [ ! -d /sys/module/megalink ]; then
	if ! "$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000; then
		bad "cannot load the module"
		finish
	fi
fi

# mkpair NS_A NS_B IF_A IF_B NODE_A NODE_B: prints "DEV_A DEV_B"
mkpair() {
	local a=$1 b=$2 ia=$3 ib=$4 da db
	ip netns del "$a" 2>/dev/null
	ip netns del "$b" 2>/dev/null
	ip netns add "$a" && ip netns add "$b" &&
		ip link add "$ia" mtu 1500 netns "$a" type veth peer name "$ib" mtu 1500 netns "$b" &&
		ip -n "$a" link set lo up && ip -n "$b" link set lo up &&
		ip -n "$a" link set "$ia" up && ip -n "$b" link set "$ib" up || return 1
	da=$(ip netns exec "$a" "$ctl" bind "$ia" "$5") || return 1
	db=$(ip netns exec "$b" "$ctl" bind "$ib" "$6") || return 1
	ip netns exec "$a" "$ctl" wait "$da" 20 || return 1
	ip netns exec "$b" "$ctl" wait "$db" 20 || return 1
	echo "$da $db"
}

teardown() {
	ip netns del fca 2>/dev/null
	ip netns del fcb 2>/dev/null
	local i=0
	while [ -n "$(ls /sys/class/megalink 2>/dev/null)" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

if ! devs=$(mkpair fca fcb fca0 fcb0 0xfa 0xfb); then
	bad "cannot build the pod (netns fca/fcb)"
	teardown
	finish
fi
da=${devs% *} db=${devs#* }
echo "fuzz-chardev: pod fca/fca0 $da (0xfa) <-> fcb/fcb0 $db (0xfb), kernel $(uname -r)"

export DP_NS_A=fca DP_NS_B=fcb DP_DEV_A=$da DP_DEV_B=$db DP_IF_A=fca0 DP_IF_B=fcb0

# kernel_clean NAME START: no splat in the kernel log since line START
kernel_clean() {
	local klog=$out/dmesg-$1.txt
	dmesg | tail -n +"$(($2 + 1))" >"$klog"
	if grep -Eq "$splat_re" "$klog"; then
		bad "$1: kernel splat (full log: $klog):"
		grep -E -B2 -A40 "$splat_re" "$klog" | head -n 100
	else
		ok "$1: no kernel splat"
	fi
}

# Reproducers of the bugs this fuzzer found (bugs-fuzz-chardev.md), each a
# deterministic check of its own; ML_FUZZ_AVOID_KNOWN=1 skips them.
if [ "${ML_FUZZ_AVOID_KNOWN:-0}" = 1 ]; then
	echo "ML-SKIP-NOTE: ML_FUZZ_AVOID_KNOWN=1: known bugs avoided, their reproducers do not run"
else
	for r in $("$prog" repro); do
		k0=$(dmesg | wc -l)
		echo "megalink-fuzz-chardev: repro $r" >/dev/kmsg 2>/dev/null
		if timeout -k 5 120 "$prog" repro "$r"; then
			ok "repro $r ran"
		else
			bad "repro $r did not run as planned"
		fi
		sleep 1
		kernel_clean "repro-$r" "$k0"
	done
fi

kstart=$(dmesg | wc -l)
echo "megalink-fuzz-chardev: start" >/dev/kmsg 2>/dev/null
log=$out/fuzz_chardev.log
timeout -k 10 $((secs + 900)) "$prog" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
echo "megalink-fuzz-chardev: end" >/dev/kmsg 2>/dev/null
line=$(grep -E '^fuzz_chardev: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
if [ -z "$line" ]; then
	bad "fuzz_chardev printed no summary (exit $rc)"
else
	n=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	passed=$((passed + n))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		bad "fuzz_chardev exited $rc with no failed check"
	fi
fi

# Counts once more from outside, after every process is gone.
for d in "$da:fca" "$db:fcb"; do
	if ip netns exec "${d#*:}" "$ctl" counts "${d%:*}"; then
		ok "${d%:*}: no objects left"
	else
		bad "${d%:*}: objects left after every process exited"
	fi
done

teardown
if [ -d /sys/module/megalink ]; then
	if rmmod megalink; then
		ok "rmmod megalink"
	else
		bad "rmmod megalink (refcnt $(cat /sys/module/megalink/refcnt 2>/dev/null))"
	fi
fi

kernel_clean fuzz "$kstart"
grep -m1 '^seed=' "$log"
finish
