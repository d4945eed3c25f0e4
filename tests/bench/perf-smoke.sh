#!/bin/bash
# SPDX-License-Identifier: MIT
#
# perf-smoke.sh: megalink-perf must keep working (make check, inside a
# harness guest as root).  Not a benchmark: a few seconds of small runs on
# the link of tests/bench/link.sh, every JSON line checked for sane fields
# by perf-check.py (keys, ordered percentiles, bytes = msgs x size, QP
# shares, --verify true).  No number is judged.
#
#   native  write_lat -s 8 --verify; write_bw -s 64K -q 4 --threads 2
#           --verify; send_bw -e -b --verify; read_lat --verify
#   verbs   write_lat on rxe0/rxe1 --verify (skips LOUDLY without rxe)
#   raw     AF_PACKET ping-pong on va/vb
#   errors  a bad argument names itself (exit 2); a dead server ends the
#           client with an error within --timeout, not a hang
#
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/bench/perf-smoke.sh
set -u
NAME=perf-smoke
ML_REPO=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ML_REPO" || exit 1
PERF_OUT=${ML_OUT:-/tmp/megalink-perf-smoke}/perf-smoke
mkdir -p "$PERF_OUT"
# shellcheck source=tests/bench/link.sh
. tests/bench/link.sh
# shellcheck source=tests/bench/perf-lib.sh
. tests/bench/perf-lib.sh
check=tests/bench/perf-check.py
iters=${PERF_SMOKE_ITERS:-100}

passed=0 failed=0 loaded=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() {
	link_down
	[ "$loaded" = 1 ] && rmmod megalink 2>/dev/null
	echo "$NAME: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

[ "$(id -u)" = 0 ] || { echo "$NAME: must run as root (in the test guest)"; exit 1; }
[ -x "$PERF_BIN" ] || { bad "$PERF_BIN not built (make -s lib tools)"; finish; }
command -v python3 >/dev/null || { bad "python3 missing: cannot check the JSON"; finish; }
[ -d /sys/module/megalink ] || loaded=1
link_up 9000 || { bad "link_up failed"; finish; }

# one TRANSPORT MODE ARGS...: a pair run, then its JSON checked
one() {
	local tr=$1 mode=$2 name qarg=1 a t0
	shift 2
	name=$tr-$mode-$(echo "$*" | tr -c 'a-zA-Z0-9' '_' | tr -s _)
	for a in "$@"; do
		[ "${prev:-}" = -q ] && qarg=$a
		prev=$a
	done
	prev=
	perf_transports "$tr"
	t0=$(date +%s.%N)
	if perf_pair "$name" 60 "$PERF_SRV" "$PERF_CLI" -- "$mode" --timeout 10 "$@" &&
		python3 "$check" "$PERF_OUT/$name.json" \
			"$([ "$tr" = ml ] && echo megalink || echo "$tr")" \
			"$([ "$tr" = raw ] && echo send_lat || echo "$mode")" \
			--qps "$qarg" $(printf '%s\n' "$@" | grep -x -- --verify); then
		ok "$tr $mode $* ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"
	else
		bad "$tr $mode $*"
	fi
}

one ml write_lat -s 8 -n "$iters" --verify
one ml write_bw -s 64K -n "$iters" -q 4 --threads 2 --verify
one ml send_bw -s 4K -n "$iters" -e -b --verify
one ml read_lat -s 64 -n "$iters" --verify
if [ "$LINK_RXE" = 1 ]; then
	one verbs write_lat -s 8 -n "$iters" --verify
else
	echo "ML-SKIP-NOTE: $NAME: no soft-RoCE ($LINK_RXE_WHY): --verbs not smoke-tested"
fi
one raw write_lat -s 8 -n "$iters"

# A bad argument names itself and exits 2.
msg=$("$PERF_BIN" write_bw -q 2000 2>&1)
rc=$?
if [ "$rc" = 2 ] && echo "$msg" | grep -q -- '-q 2000: must be 1..1024'; then
	ok "bad argument: $msg"
else
	bad "-q 2000: exit $rc, '$msg'"
fi

# A server that dies mid-run: the client fails with a message, no hang.
# (timeout sends SIGTERM, which megalink-perf does not catch: it dies with
# no goodbye, as a crash; the shell then reports no killed job)
timeout 4 taskset -c 1 "$PERF_BIN" write_bw -d "$ML_DEV_B" -p "$PERF_PORT" -D 30 \
	>/dev/null 2>&1 &
t0=$(date +%s)
msg=$(timeout 40 "$PERF_BIN" write_bw -d "$ML_DEV_A" -p "$PERF_PORT" -D 30 --timeout 5 127.0.0.1 2>&1 >/dev/null)
rc=$?
wait
t=$(($(date +%s) - t0))
if [ "$rc" = 1 ] && [ "$t" -lt 30 ] && [ -n "$msg" ]; then
	ok "dead server: client exit 1 after $t s: $(echo "$msg" | tail -1)"
else
	bad "dead server: client exit $rc after $t s (124: hung until timeout): $msg"
fi
finish
