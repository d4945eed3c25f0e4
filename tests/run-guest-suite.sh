#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-guest-suite.sh: the in-guest part of `make check`.  Boots each Debian
# kernel (6.1, then 6.12) under QEMU with tests/harness/run-in-guest.sh and
# runs tests/in-guest.sh inside:
#   6.1   insmod of build/<release>/megalink.ko      (ML_LOAD=insmod)
#   6.12  modprobe of the DKMS-installed module      (ML_LOAD=modprobe)
# The last line is "guest: N passed, N failed", counting kernel runs.
#
# Environment: ML_GUEST_KERNELS ("6.1 6.12"), ML_GUEST_DKMS=auto|require|off
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

passed=0 failed=0
results=()
for series in ${ML_GUEST_KERNELS:-6.1 6.12}; do
	if ! krel=$(ml_resolve_kernel "$series"); then
		echo "==== guest $series: NOT INSTALLED (scripts/deps.sh check) ===="
		failed=$((failed + 1))
		results+=("$series: not installed")
		continue
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
				failed=$((failed + 1))
				results+=("$krel: FAILED ($why)")
				continue
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
	results+=("$krel ($load): $verdict, boot ${boot:-?} s, run ${run:-?} s")
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

echo
echo "==== guest summary ===="
for r in "${results[@]}"; do
	echo "  $r"
done
echo "guest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
