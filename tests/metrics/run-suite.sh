#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-suite.sh: megalink-stat --prometheus and --watch against a live pod
# (inside a harness guest as root; make check runs it from tests/in-guest.sh).
#
#   pod       the veth link of tests/bench/link.sh: va <-> vb, megalink
#             devices on both ends (node 0xa, 0xb), HELLOs every 100 ms
#   traffic   megalink-perf write_bw over it, so the transport counters move
#   exposition  megalink-stat --prometheus parsed by prometheus_client's
#             own parser and every sample compared with megalink-stat -j all
#             (tests/metrics/check_prom.py), read with no traffic running
#   -o FILE   written atomically: no FILE.tmp left, the same families
#   --watch   -c 2 gives two reports per port, with rates; -j gives JSON
#   errors    bad arguments name themselves and exit 2
#
# A missing python3-prometheus-client fails the suite (it does not skip).
#
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/metrics/run-suite.sh
set -u
NAME=metrics
ML_REPO=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ML_REPO" || exit 1
OUT=${ML_OUT:-/tmp/megalink-metrics}/metrics
mkdir -p "$OUT"
STAT=$ML_REPO/tools/megalink-stat
PY=/usr/bin/python3
# shellcheck source=tests/bench/link.sh
. tests/bench/link.sh
PERF_OUT=$OUT
# shellcheck source=tests/bench/perf-lib.sh
. tests/bench/perf-lib.sh

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
[ -x "$STAT" ] || { bad "$STAT not built (make lib tools)"; finish; }
[ -x "$PERF_BIN" ] || { bad "$PERF_BIN not built (make lib tools)"; finish; }
if ! "$PY" -c 'import prometheus_client.parser' 2>"$OUT/import.err"; then
	bad "python3-prometheus-client not importable by $PY: $(tail -1 "$OUT/import.err") (scripts/deps.sh check installs it)"
	finish
fi
ok "prometheus_client $("$PY" -c 'import prometheus_client, importlib.metadata as m; print(m.version("prometheus_client"))' 2>/dev/null)"
[ -d /sys/module/megalink ] || loaded=1
link_up 9000 || { bad "link_up failed"; finish; }
ok "pod: $ML_DEV_A on $LINK_A <-> $ML_DEV_B on $LINK_B"

# traffic, then nothing but HELLOs
perf_transports ml
if perf_pair traffic 60 "$PERF_SRV" "$PERF_CLI" -- write_bw -s 64K -n 200 --timeout 10; then
	ok "traffic: megalink-perf write_bw -s 64K -n 200"
else
	bad "traffic: megalink-perf write_bw failed"
fi

# the exposition against JSON read just before and just after it
if "$STAT" -j all >"$OUT/before.json" && "$STAT" --prometheus >"$OUT/stat.prom" &&
	"$STAT" -j all >"$OUT/after.json"; then
	ok "megalink-stat --prometheus: $(grep -vc '^#' "$OUT/stat.prom") samples"
	if "$PY" tests/metrics/check_prom.py "$OUT/stat.prom" "$OUT/before.json" \
		"$OUT/after.json" >"$OUT/check.log" 2>&1; then
		ok "check_prom.py: $(grep -c '^ok:' "$OUT/check.log") checks"
		sed 's/^/  /' "$OUT/check.log"
	else
		bad "check_prom.py:"
		sed 's/^/  /' "$OUT/check.log"
	fi
else
	bad "megalink-stat -j all / --prometheus failed"
fi

# one device only
"$STAT" --prometheus "$ML_DEV_A" >"$OUT/one.prom" 2>&1
if [ $? = 0 ] && grep -q "megalink_device_info{device=\"$ML_DEV_A\"" "$OUT/one.prom" &&
	! grep -Eq "[{,]device=\"$ML_DEV_B\"" "$OUT/one.prom"; then
	ok "--prometheus $ML_DEV_A: only $ML_DEV_A"
else
	bad "--prometheus $ML_DEV_A: $(head -3 "$OUT/one.prom")"
fi

# -o FILE: atomically, into a directory as node_exporter's textfile collector reads
dir=$OUT/textfile
rm -rf "$dir"
mkdir -p "$dir"
echo "stale" >"$dir/megalink.prom"
ino=$(stat -c %i "$dir/megalink.prom")
# (no process substitution: the guest has no /dev/fd)
if "$STAT" --prometheus -o "$dir/megalink.prom" && [ ! -e "$dir/megalink.prom.tmp" ] &&
	[ "$(stat -c %i "$dir/megalink.prom")" != "$ino" ] &&
	grep '^# TYPE' "$OUT/stat.prom" >"$OUT/types.a" &&
	grep '^# TYPE' "$dir/megalink.prom" >"$OUT/types.b" &&
	cmp -s "$OUT/types.a" "$OUT/types.b" &&
	"$PY" -c 'import sys
from prometheus_client.parser import text_string_to_metric_families as p
n = sum(len(f.samples) for f in p(open(sys.argv[1]).read()))
sys.exit(0 if n > 0 else 1)' "$dir/megalink.prom"; then
	ok "-o FILE: renamed into place (new inode), no .tmp left, same families, parses"
else
	bad "-o FILE: $(ls -la "$dir")"
fi
# an unwritable place: an error, the old file kept
msg=$("$STAT" --prometheus -o "$dir/nodir/megalink.prom" 2>&1)
rc=$?
if [ "$rc" = 1 ] && echo "$msg" | grep -q "nodir/megalink.prom"; then
	ok "-o into a missing directory: exit 1: $msg"
else
	bad "-o into a missing directory: exit $rc: $msg"
fi

# --watch -c 2: two reports, one line per port each, rates (traffic running)
taskset -c 1 nice -n 19 timeout -k 5 30 "$PERF_BIN" $PERF_SRV -p "$PERF_PORT" write_bw -s 64K -D 4 \
	>/dev/null 2>&1 &
sp=$!
taskset -c 0 nice -n 19 timeout -k 5 30 "$PERF_BIN" $PERF_CLI -p "$PERF_PORT" write_bw -s 64K -D 4 \
	127.0.0.1 >/dev/null 2>&1 &
cp=$!
sleep 1
"$STAT" --watch -c 2 >"$OUT/watch.txt" 2>&1
rc=$?
"$STAT" -j --watch=0.5 -c 2 >"$OUT/watch.json" 2>&1
jrc=$?
wait "$cp" "$sp"
nports=$("$STAT" -j stats | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
lines=$(grep -c '^rates ml[0-9]*/[0-9]* ifname .* tx_frames [0-9.]* tx_bytes [0-9.]* ' "$OUT/watch.txt")
if [ "$rc" = 0 ] && [ "$lines" = $((2 * nports)) ] &&
	grep -Eq 'tx_bytes [1-9][0-9.]*' "$OUT/watch.txt"; then
	ok "--watch -c 2: $lines lines for $nports ports, bytes moving: $(grep "$ML_DEV_A/" "$OUT/watch.txt" | tail -1)"
else
	bad "--watch -c 2: exit $rc, $lines lines for $nports ports: $(cat "$OUT/watch.txt")"
fi
if [ "$jrc" = 0 ] && "$PY" -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 2 * int(sys.argv[2]), len(rows)
for r in rows:
    assert 0.4 < r["interval"] < 2, r["interval"]
    assert "tx_bytes" in r["rates"] and r["resets"] == {}, r
' "$OUT/watch.json" "$nports" 2>"$OUT/watch-json.err"; then
	ok "-j --watch=0.5 -c 2: $(wc -l <"$OUT/watch.json") JSON lines with rates, no resets"
else
	bad "-j --watch=0.5 -c 2: exit $jrc: $(cat "$OUT/watch-json.err") $(head -2 "$OUT/watch.json")"
fi

# a rebind starts the counters again: --watch shows a reset, not a huge rate
# (unless the driver keeps them across rebinds: then rates, also fine)
"$STAT" --watch=3 -c 1 >"$OUT/rebind.txt" 2>&1 &
wp=$!
sleep 0.5
tools/megalink port unbind "$LINK_A" >/dev/null 2>&1
dev=$(tools/megalink port bind "$LINK_A" node-id 0xa | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
[ -n "$dev" ] && ML_DEV_A=$dev
wait "$wp"
wrc=$?
if [ "$wrc" = 0 ] && grep -Eq "^rates ml[0-9]+/[0-9]+ ifname $LINK_A " "$OUT/rebind.txt" &&
	! grep -Eq ' [0-9]{12,}\.[0-9]' "$OUT/rebind.txt"; then
	ok "--watch across a rebind of $LINK_A: $(grep -c reset: "$OUT/rebind.txt") port(s) with resets, no wrapped rate: $(grep "ifname $LINK_A " "$OUT/rebind.txt" | cut -c1-110)"
else
	bad "--watch across a rebind: exit $wrc: $(cat "$OUT/rebind.txt")"
fi
link_wait_megalink >/dev/null

# bad arguments: a clear message, exit 2
bad_arg() {
	local want=$1 msg rc
	shift
	msg=$("$STAT" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 2 ] && echo "$msg" | grep -q -- "$want"; then
		ok "megalink-stat $*: exit 2: $msg"
	else
		bad "megalink-stat $*: exit $rc, '$msg' (wanted exit 2 and '$want')"
	fi
}
bad_arg "--watch=0: must be seconds" --watch=0
bad_arg "--watch=abc: must be seconds" --watch=abc
bad_arg "-c 0: must be a count" --watch -c 0
bad_arg "-c COUNT goes with --watch" -c 3
bad_arg "-o FILE goes with --prometheus" -o /tmp/x.prom
bad_arg "-o needs a file name" --prometheus -o
bad_arg "do not go together" --prometheus --watch
bad_arg "at most a device" --prometheus ml0 ml1
finish
