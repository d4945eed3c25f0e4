#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-guest-suite.sh: the in-guest part of `make check`.  Boots each Debian
# kernel (6.1 and 6.12, side by side) under QEMU with tests/harness/run-in-guest.sh and
# runs tests/in-guest.sh inside:
#   6.1   insmod of build/<release>/megalink.ko      (ML_LOAD=insmod)
#   6.12  modprobe of the DKMS-installed module      (ML_LOAD=modprobe)
# The last line is "guest: N passed, N failed", counting kernel runs.
#
# Environment: ML_GUEST_KERNELS ("6.1 6.12"), ML_GUEST_PARALLEL (1: side by
# side, see below; 0: one after the other), ML_GUEST_DKMS=auto|require|off
# (auto: fall back to insmod, loudly, when the DKMS module for 6.12 is missing
# or stale; require: fail instead; off: insmod everywhere), and everything
# run-in-guest.sh reads (ML_GUEST_TIMEOUT, ...).
set -eu
set -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=harness/lib.sh disable=SC1091
. "$repo/tests/harness/lib.sh"

suite=tests/in-guest.sh
if [ ! -x "$repo/$suite" ]; then
	echo "run-guest-suite: *** $suite does not exist yet: running the harness placeholder ***"
	suite=tests/harness/placeholder-suite.sh
fi
dkms_mode=${ML_GUEST_DKMS:-auto}
stamp=$(date +%Y%m%d-%H%M%S)
# Keep the logs of the last 5 suite runs per kernel.
if [ -d "$ML_BUILD_DIR/guest-out" ]; then
	# shellcheck disable=SC2012 # names are ours: no odd characters
	for k in $(ls "$ML_BUILD_DIR/guest-out" | sed -n 's/^suite-\(.*\)-[0-9]\{8\}-[0-9]\{6\}$/\1/p' | sort -u); do
		ls -dt "$ML_BUILD_DIR/guest-out/suite-$k"-* | tail -n +6 | xargs -r -d '\n' rm -rf --
	done
fi

# run_series SERIES RESULT_FILE: one kernel's guest run; writes "ok LINE"
# or "fail LINE" to RESULT_FILE.
run_series() {
	local series=$1 res=$2 krel load ko dk why what out rc boot run verdict line
	if ! krel=$(ml_resolve_kernel "$series"); then
		echo "==== guest $series: NOT INSTALLED (scripts/deps.sh check) ===="
		echo "fail $series: not installed" >"$res"
		return
	fi
	load=insmod
	ko=$ML_BUILD_DIR/$krel/megalink.ko
	if [ "$series" = 6.12 ] && [ "$dkms_mode" != off ]; then
		load=modprobe
		why=''
		if ! dk=$(modinfo -k "$krel" -F filename megalink 2>/dev/null); then
			why="no DKMS megalink module for $krel (make dkms-install, as root)"
		elif [ -f "$ko" ] && [ "$(modinfo -F srcversion "$ko" 2>/dev/null)" != \
			"$(modinfo -k "$krel" -F srcversion megalink 2>/dev/null)" ]; then
			why="DKMS module $dk is stale: its srcversion differs from $ko (make dkms-install)"
		fi
		if [ -n "$why" ]; then
			if [ "$dkms_mode" = require ]; then
				echo "==== guest $series ($krel): FAILED: $why ===="
				echo "fail $krel: FAILED ($why)" >"$res"
				return
			fi
			echo "run-guest-suite: *** WARNING: $why; using insmod instead ***"
			load=insmod
		fi
	fi
	if [ "$load" = insmod ]; then
		what="insmod $ko"
		[ -f "$ko" ] || echo "run-guest-suite: *** WARNING: $ko missing (make modules-all) ***"
	else
		what="modprobe megalink ($dk)"
	fi
	out=$ML_BUILD_DIR/guest-out/suite-$krel-$stamp
	echo
	echo "==== guest $series: $krel, $what ===="
	rc=0
	ML_LOAD=$load "$ML_HARNESS_DIR/run-in-guest.sh" --kernel "$krel" --out "$out" -- "$suite" || rc=$?
	boot=$(sed -n 's/^boot_s=//p' "$out/timing" 2>/dev/null || true)
	run=$(sed -n 's/^run_s=//p' "$out/timing" 2>/dev/null || true)
	case $rc in
	0) verdict=passed ;;
	120) verdict="FAILED (kernel splat)" ;;
	125) verdict="FAILED (guest boot failure or timeout)" ;;
	*) verdict="FAILED (exit $rc)" ;;
	esac
	echo "==== guest $series: $krel: $verdict; boot ${boot:-?} s, run ${run:-?} s; logs $out ===="
	line="$krel ($load): $verdict, boot ${boot:-?} s, run ${run:-?} s"
	if [ "$rc" -eq 0 ]; then
		echo "ok $line" >"$res"
	else
		echo "fail $line" >"$res"
	fi
}

# The kernels' guests run side by side (ML_GUEST_PARALLEL=1, the default):
# one TCG guest keeps about one of two cores busy, so two together took
# 172 s where one after the other took 252 s (the data-plane suite, 6.1 and
# 6.12, on a 2-core machine).  The last kernel's output streams; the others
# go to a log each, printed whole when they end.  ML_GUEST_PARALLEL=0: one
# after the other.
# The whole in-guest suite, beside another guest: more than the harness's
# default 900 s may be needed; a hang still ends.
export ML_GUEST_TIMEOUT=${ML_GUEST_TIMEOUT:-2400}
resdir=$(mktemp -d)
trap 'rm -rf -- "$resdir"' EXIT
read -ra series_list <<<"${ML_GUEST_KERNELS:-6.1 6.12}"
n=${#series_list[@]}
pids=()
for ((i = 0; i < n; i++)); do
	series=${series_list[i]}
	if [ "${ML_GUEST_PARALLEL:-1}" = 1 ] && [ $((i + 1)) -lt "$n" ]; then
		echo "==== guest $series: running beside the others; its output follows when it ends ===="
		run_series "$series" "$resdir/$i" >"$resdir/$i.log" 2>&1 &
		pids+=($!)
	else
		run_series "$series" "$resdir/$i"
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || true
done
for ((i = 0; i < n; i++)); do
	[ -f "$resdir/$i.log" ] || continue
	echo
	echo "==== guest ${series_list[i]}: its output (it ran beside the others) ===="
	cat "$resdir/$i.log"
done

passed=0 failed=0
results=()
for ((i = 0; i < n; i++)); do
	r=$(cat "$resdir/$i" 2>/dev/null || echo "fail ${series_list[i]}: no result (the run died)")
	case $r in
	ok\ *) passed=$((passed + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	results+=("${r#* }")
done

echo
echo "==== guest summary ===="
for r in "${results[@]}"; do
	echo "  $r"
done
echo "guest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
