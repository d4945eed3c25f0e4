#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-suite.sh: the in-guest megalink test suite (one entry point).
#
# Run inside a harness guest (tests/harness/run-in-guest.sh ... --
# tests/guest/run-suite.sh) as root, cwd = repo root, with ML_KREL, ML_KO,
# ML_OUT, ML_REPO (and ML_LOAD=modprobe for a DKMS-installed module).
# Runs every Check program of tests/guest (built on the host by
# `make -C tests/guest`), keeps Check's summary lines visible, saves each
# program's output and kernel log in $ML_OUT, flags kernel splats, and
# ends with "N passed, N failed, N skipped".  Exit status 0 only if
# nothing failed.
#
# Environment:
#   ML_TESTS      programs to run (default: all), e.g. "test_netlink test_wire"
#   ML_PROG_TIMEOUT  seconds per program (default 1200)
#   CK_RUN_SUITE / CK_RUN_CASE / CK_VERBOSITY  as Check defines them
set -eu
set -o pipefail

repo=${ML_REPO:-$(pwd)}
out=${ML_OUT:-/tmp/megalink-guest-out}
dir=$repo/tests/guest
progs=${ML_TESTS:-test_netlink test_ioctl test_pod test_wire test_lifecycle}
prog_timeout=${ML_PROG_TIMEOUT:-1200}
export ML_REPO=$repo ML_OUT=$out
mkdir -p "$out"
cd "$repo"

if [ "$(id -u)" != 0 ]; then
	echo "run-suite.sh: must run as root (inside the test guest)" >&2
	exit 1
fi

echo "== megalink guest suite: kernel $(uname -r), module ${ML_LOAD:-insmod ${ML_KO:-?}}"
for m in veth sch_netem af_packet bridge; do
	if ! modprobe "$m" 2>/dev/null; then
		echo "ML-SKIP-NOTE: modprobe $m failed: tests needing it will skip" >&2
	fi
done

splat_re='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|kernel BUG|refcount_t:|list_add corruption|list_del corruption|possible recursive locking|circular locking dependency|INFO: task .* blocked|Call Trace:|RCU stall|unreferenced object'

passed=0 failed=0 skipped=0
declare -a summary=()

for p in $progs; do
	bin=$dir/$p
	log=$out/$p.log
	klog=$out/dmesg-$p.txt
	echo
	echo "== $p"
	if [ ! -x "$bin" ]; then
		echo "run-suite.sh: $bin not built (make -C tests/guest)"
		failed=$((failed + 1))
		summary+=("$p: NOT BUILT")
		continue
	fi
	kstart=$(dmesg | wc -l)
	echo "megalink-test: start $p" >/dev/kmsg 2>/dev/null || true
	set +e
	timeout -k 10 "$prog_timeout" "$bin" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	echo "megalink-test: end $p" >/dev/kmsg 2>/dev/null || true
	dmesg | tail -n +"$((kstart + 1))" >"$klog" || true

	line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1 || true)
	sk=$(grep -c '^ML-SKIP:' "$log" || true)
	if [ -z "$line" ]; then
		echo "run-suite.sh: $p printed no Check summary (exit $rc)"
		failed=$((failed + 1))
		summary+=("$p: no summary, exit $rc")
	else
		n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
		f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
		e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
		p_ok=$((n - f - e - sk))
		[ "$p_ok" -ge 0 ] || p_ok=0
		passed=$((passed + p_ok))
		failed=$((failed + f + e))
		skipped=$((skipped + sk))
		summary+=("$p: $line (skipped $sk)")
		if [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ]; then
			echo "run-suite.sh: $p exited $rc with no failed check"
			failed=$((failed + 1))
		fi
	fi
	if grep -Eq "$splat_re" "$klog"; then
		echo "run-suite.sh: kernel splat during $p (full log: $klog):"
		grep -E -B2 -A20 "$splat_re" "$klog" | head -n 60
		failed=$((failed + 1))
		summary+=("$p: KERNEL SPLAT")
	fi
done

# Nothing may still hold the module.
echo
echo "== final unload"
if [ -d /sys/module/megalink ]; then
	if rmmod megalink; then
		echo "megalink unloaded"
	else
		echo "run-suite.sh: final rmmod megalink failed (refcount $(cat /sys/module/megalink/refcnt 2>/dev/null))"
		failed=$((failed + 1))
		summary+=("final rmmod: FAILED")
	fi
fi
dmesg >"$out/dmesg-suite.txt" 2>/dev/null || true

echo
echo "== summary"
for s in "${summary[@]}"; do
	echo "  $s"
done
if grep -h '^ML-SKIP:\|^ML-PARTIAL-SKIP:' "$out"/test_*.log 2>/dev/null; then
	:
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
