#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-suite.sh: the libmegalink-coll suite, as root inside a harness guest:
#
#   make lib tools && make -C lib/coll && make -C tests/coll
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/coll/run-suite.sh
#
# Builds a pod of 4 nodes: network namespaces mlc0..mlc3, each with one
# veth (MTU 9000) whose other end is in the bridge mlcbr of the initial
# namespace; each veth is a megalink port (node ids 0x1..0x4) and carries
# IPv4 10.78.0.(i+1)/24 for the TCP rendezvous.  Runs coll_check: the
# argument checks, the op x dtype x count matrix on 1..4 ranks, overlap,
# mismatched counts, abort from a thread, a rank killed mid all-reduce;
# checks the kernel log; ends with "coll: N passed, N failed".
# The registration cache's test (regcache) runs on 2 and 4 ranks.
#
# Environment: ML_COLL_SIZES ("1 2 3 4"), ML_COLL_PARTS (all).
set -u
repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$repo/tests/coll
tools=$repo/tools
cc=$here/coll_check
# ML_COLL_QUICK=1 (make check, via tests/in-guest.sh): the matrix on 4
# ranks on 6.12, on 3 on other kernels, and megalink-coll-perf for
# all-reduce and all-to-all only, to keep make check short; make check-coll
# runs all of it on both kernels.
perf_colls="allreduce reduce_scatter allgather broadcast reduce alltoall"
if [ "${ML_COLL_QUICK:-0}" = 1 ]; then
	if [ -z "${ML_COLL_SIZES:-}" ]; then
		case $(uname -r) in 6.12.*) ML_COLL_SIZES="4" ;; *) ML_COLL_SIZES="3" ;; esac
	fi
	perf_colls="allreduce alltoall"
	echo "coll: quick form (ML_COLL_QUICK=1): matrix on $ML_COLL_SIZES ranks, perf of $perf_colls"
fi
sizes=${ML_COLL_SIZES:-1 2 3 4}
parts=${ML_COLL_PARTS:-args matrix overlap regcache mismatch abort kill perf}
perf=$repo/tools/coll/megalink-coll-perf
passed=0 failed=0

fail_setup() {
	echo "coll: setup: $*"
	echo "coll: 0 passed, 1 failed"
	exit 1
}

[ "$(id -u)" = 0 ] || fail_setup "must run as root (inside the test guest)"
[ -x "$cc" ] || fail_setup "$cc not built (make -C tests/coll)"
if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 || fail_setup "cannot load the module"
fi
modprobe veth 2>/dev/null || true
modprobe bridge 2>/dev/null || true

# shellcheck source-path=SCRIPTDIR source=pod.sh
. "$here/pod.sh"
trap pod_down EXIT

pod_up 4 || fail_setup "cannot build the 4-node pod"
echo "coll: pod of 4 nodes mlc0..mlc3 on bridge mlcbr (MTU 9000), kernel $(uname -r)"

splat_re='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|kernel BUG|refcount_t:|list_add corruption|list_del corruption|circular locking|INFO: task .* blocked|RCU stall'
port=29600
export ML_COLL_TIMEOUT_MS=${ML_COLL_TIMEOUT_MS:-30000}
# run NAME ARGS...: one coll_check run, counted
run() {
	local name=$1 t0 rc kstart
	shift
	port=$((port + 1))
	kstart=$(dmesg | wc -l)
	t0=$(date +%s.%N)
	echo
	echo "== coll $name: coll_check $* -p $port"
	timeout -k 5 300 "$cc" "$@" -p "$port"
	rc=$?
	if dmesg | tail -n +"$((kstart + 1))" | grep -E "$splat_re"; then
		echo "coll: kernel log shows a splat during $name"
		rc=1
	fi
	printf 'coll: %s: %s (%.1f s)\n' "$name" "$([ $rc = 0 ] && echo ok || echo FAILED "exit $rc")" \
		"$(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo 0)"
	if [ $rc = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

# perf_smoke: megalink-coll-perf on 3 ranks, every collective, a short
# checked sweep; its JSON must say 0 wrong elements and one row per size.
perf_smoke() {
	local c i rc pids
	for c in $perf_colls; do
		port=$((port + 1))
		echo
		echo "== coll perf-$c: megalink-coll-perf -C $c -b 8 -e 256K -f 8 -n 2 -w 1 -c 1 --json (3 ranks)"
		rc=0 pids=
		for i in 2 1 0; do
			ip netns exec "mlc$i" env RANK=$i WORLD_SIZE=3 MASTER_ADDR=10.78.0.1 MASTER_PORT=$port \
				timeout -k 5 120 "$perf" -C "$c" -d float32 -b 8 -e 256K -f 8 -n 2 -w 1 -c 1 --json \
				>"/tmp/coll-perf.$i" 2>&1 &
			pids="$pids $!"
		done
		for i in $pids; do wait "$i" || rc=1; done
		cat /tmp/coll-perf.0
		if ! python3 -c '
import json, sys
d = json.load(open("/tmp/coll-perf.0"))
rows = d["results"]
assert d["wrong_total"] == 0, "wrong elements: %d" % d["wrong_total"]
assert len(rows) == 6, "%d rows, expected 6 (8 B .. 256 KiB by 8)" % len(rows)
assert all(r["out_of_place"]["wrong"] == 0 for r in rows)
' 2>&1; then rc=1; fi
		for i in 1 2; do [ -s "/tmp/coll-perf.$i" ] && { echo "rank $i said:"; cat "/tmp/coll-perf.$i"; }; done
		printf 'coll: perf-%s: %s\n' "$c" "$([ $rc = 0 ] && echo ok || echo FAILED)"
		if [ $rc = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	done
}

for p in $parts; do
	case $p in
	args) run args args ;;
	matrix)
		# small_max 4096 and 32 KiB chunks: the large and non-divisible
		# counts take the pipelined ring over several chunks and slot wraps.
		for n in $sizes; do
			ML_COLL_SMALL_MAX=4096 ML_COLL_CHUNK=32768 run "matrix-$n" matrix -n "$n" ${ML_COLL_VERBOSE:+-v}
		done ;;
	overlap) run overlap-3 overlap -n 3 ;;
	regcache)
		# the registration cache (2 MiB, 3 entries): hits, limits, release,
		# a buffer mapped again at the same address, every op zero copy
		run regcache-2 regcache -n 2
		run regcache-4 regcache -n 4 ;;
	mismatch) ML_COLL_TIMEOUT_MS=20000 run mismatch-2 mismatch -n 2 ;;
	abort) run abort-3 abort -n 3 ;;
	kill) ML_COLL_PEER_TIMEOUT_MS=10000 ML_COLL_CHUNK=65536 run kill-4 kill -n 4 ;;
	perf) perf_smoke ;;
	esac
done

echo
echo "coll: $passed passed, $failed failed"
[ $failed = 0 ]
