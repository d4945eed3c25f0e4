#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh: the hostile-input part of make check-debug, inside the debug-kernel
# guest (tests/harness/run-in-guest.sh --kernel debug -- tests/debug/run.sh).
#
# Runs each part in turn, each an in-guest script of tests/debug that ends
# with a line "NAME: N passed, N failed" and exits non-zero on failure:
#   failnth.sh        every allocating ioctl / netlink command, Nth allocation failed
#   fuzz-chardev.sh   random ioctl structs, mmaps, ring garbage, racing closes
#   fuzz-netlink.sh   random commands and attribute sets
#   fuzz-wire.sh      frames injected at live QPs through AF_PACKET
#   stress.sh         object churn, traffic, link flaps, netdev deletion, rmmod
# After each part: the module must be unloadable and kmemleak must report
# nothing new (a leak report is printed and fails the part).
#
# Environment: ML_DEBUG_PARTS (default: all of the above, in that order),
# ML_FUZZ_SECONDS (time per fuzz target, default 120), ML_STRESS_SECONDS
# (default 120), ML_SEED (fixed seed for every part; default: each part
# picks one and prints it).
set -u
cd "${ML_REPO:-$(dirname "$0")/../..}" || exit 125

parts=${ML_DEBUG_PARTS:-failnth fuzz-chardev fuzz-netlink fuzz-wire stress}
export ML_FUZZ_SECONDS=${ML_FUZZ_SECONDS:-120}
# The rings are __vmalloc()ed with __GFP_NOWARN, so faults inside vmalloc
# print no warn_alloc() trace and the walk goes through vmalloc too
# (ML_FAILNTH_NOWARN=1 keeps it out, for a module that still warns).
export ML_FAILNTH_NOWARN=${ML_FAILNTH_NOWARN:-0}
export ML_STRESS_SECONDS=${ML_STRESS_SECONDS:-120}
leak=/sys/kernel/debug/kmemleak

kmemleak_clear() {
	[ -w "$leak" ] && echo clear >"$leak"
}

# kmemleak_check PART: scan (objects must be a few seconds old to count)
# and fail if anything is reported.
kmemleak_check() {
	local rep
	[ -w "$leak" ] || { echo "ML-SKIP-NOTE: no $leak: leak check of $1 skipped"; return 0; }
	sleep 6
	echo scan >"$leak"
	echo scan >"$leak"
	rep=$(cat "$leak")
	[ -z "$rep" ] && return 0
	echo "run.sh: *** kmemleak reports unreferenced objects after $1: ***"
	printf '%s\n' "$rep" | head -n 80
	echo clear >"$leak"
	return 1
}

echo "== megalink debug lane: kernel $(uname -r), parts: $parts"
for f in /proc/self/fail-nth /sys/kernel/debug/failslab /sys/kernel/debug/kmemleak; do
	[ -e "$f" ] || echo "ML-SKIP-NOTE: $f missing: this is not the debug kernel"
done

passed=0 failed=0
declare -a summary=()
for p in $parts; do
	s=tests/debug/$p.sh
	echo
	echo "######## $s"
	if [ ! -x "$s" ]; then
		echo "run.sh: *** $s is missing: FAILED ***"
		failed=$((failed + 1))
		summary+=("$p: MISSING")
		continue
	fi
	[ -d /sys/module/megalink ] && rmmod megalink 2>/dev/null
	kmemleak_clear
	t0=$(date +%s)
	rc=0
	"$s" || rc=$?
	if [ -d /sys/module/megalink ] && ! rmmod megalink; then
		echo "run.sh: *** megalink cannot be unloaded after $p ***"
		rc=1
	fi
	kmemleak_check "$p" || rc=1
	t=$(($(date +%s) - t0))
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		summary+=("$p: passed (${t} s)")
	else
		failed=$((failed + 1))
		summary+=("$p: FAILED (exit $rc, ${t} s)")
	fi
done

echo
echo "==== debug lane summary ===="
for s in "${summary[@]}"; do
	echo "  $s"
done
echo "debug-lane: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
