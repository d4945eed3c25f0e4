#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-suite.sh: multi-port striping and failover (issue 12 part 2), inside
# a harness guest as root:
#
#   make modules-all lib tools guest-tests
#   tests/harness/run-in-guest.sh --kernel 6.12 --timeout 1500 -- tests/multipath/run-suite.sh
#
# Two nodes in network namespaces, mpa (device of node 0x61) and mpb (node
# 0x62), joined by TWO veth pairs a0-b0 and a1-b1 (both ports of each
# device), plus a third pair ca-cb (10.73.9.1/2) that carries only the TCP
# side channel of megalink-perf, so that cutting a data link never cuts
# the test's own connection.
#
#  1. both ports see the other node; a QP has 2 paths;
#  2. write_bw --verify is striped: both ports' tx_frames rise, and both
#     paths of the live QP carry packets (qp show -j);
#  3. a long verified transfer while link 0 goes down and up (ip link set)
#     and link 1 is deleted and made again (and rebound) three times: it
#     completes byte-exact with no error completion, failovers are counted;
#  4. both links down for longer than the retry budget: the transfer fails
#     cleanly (an error completion, no hang), and the QP shows in ERROR;
#  5. unloading the module right after traffic with both paths live.
# Ends with "multipath: N passed, M failed"; exit 0 only if nothing failed.
set -u

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
ml=$repo/tools/megalink
perf=$repo/tools/megalink-perf
out=${ML_OUT:-/tmp/megalink-multipath-out}
mkdir -p "$out"
cd "$repo" || exit 1

passed=0 failed=0

ok() { passed=$((passed + 1)); echo "PASS: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check DESC COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
cleanup() {
	ip netns del mpa 2>/dev/null
	ip netns del mpb 2>/dev/null
}
finish() {
	cleanup
	echo "multipath: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
skip() {
	echo "ML-SKIP: multipath: $* ***** SKIPPED: prerequisite missing *****"
	echo "multipath: 0 passed, 0 failed (skipped)"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "must run as root (inside the test guest)"
for t in ip python3 timeout; do
	command -v $t >/dev/null || skip "$t not found"
done
[ -x "$ml" ] || skip "$ml not built (make tools)"
[ -x "$perf" ] || skip "$perf not built (make tools)"
modprobe veth 2>/dev/null || true

echo "== megalink multipath suite: kernel $(uname -r)"
if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 ||
		{ bad "load the module"; finish; }
fi

nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }
py() { /usr/bin/python3 -c "$@"; }

cleanup
set -e
ip netns add mpa
ip netns add mpb
for n in mpa mpb; do ip -n $n link set lo up; done
mklink() { # mklink I: the data pair aI-bI, up, jumbo
	ip link add a$1 netns mpa mtu 9000 type veth peer name b$1 netns mpb mtu 9000
	ip -n mpa link set a$1 up
	ip -n mpb link set b$1 up
}
mklink 0
mklink 1
ip link add ca netns mpa type veth peer name cb netns mpb
ip -n mpa link set ca up
ip -n mpb link set cb up
ip -n mpa addr add 10.73.9.1/24 dev ca
ip -n mpb addr add 10.73.9.2/24 dev cb
set +e

bindp() { # bindp NS IF [dev DEV | node-id N] -> device name
	local ns=$1 ifn=$2
	shift 2
	nsx "$ns" "$ml" port bind "$ifn" "$@" | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p'
}
da=$(bindp mpa a0 node-id 0x61)
db=$(bindp mpb b0 node-id 0x62)
[ -n "$da" ] && [ -n "$db" ] &&
	[ -n "$(bindp mpa a1 dev "$da")" ] && [ -n "$(bindp mpb b1 dev "$db")" ] &&
	ok "bind two ports on each node ($da, $db)" ||
	{ bad "bind two ports on each node"; finish; }

# npaths NS DEV NODE: how many of DEV's ports have NODE as a neighbour
# (text output and grep: python is slow to start on a busy TCG guest)
npaths() {
	nsx "$1" "$ml" neigh show "$2" |
		grep -E "node-id $(printf '0x%08x' "$3")( |\$)" | awk '{print $2}' | sort -u | wc -l
}
wait_paths() { # wait_paths WANT SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(npaths mpa "$da" 0x62)" = "$1" ] &&
			[ "$(npaths mpb "$db" 0x61)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
check "both ports of each node see the other node" wait_paths 2 15
nsx mpa "$ml" neigh show "$da"

# txf NS DEV: "port0 port1" tx_frames
txf() {
	nsx "$1" "$ml" -j stats show "$2" | py '
import json, sys
s = sorted(json.load(sys.stdin), key=lambda p: p["port"])
print(" ".join(str(p["tx_frames"]) for p in s))'
}

port=18700
# start_xfer NAME MODE SIZE OPTS...: server in mpb, client in mpa
start_xfer() {
	local name=$1 mode=$2 size=$3
	shift 3
	port=$((port + 1))
	# nice: the busy-polling peers must leave the guest's vCPUs to the
	# commands that cut and restore the links meanwhile.
	nsx mpb timeout 300 nice -n 19 "$perf" "$mode" -d "$db" -p $port --timeout 60 \
		>"$out/$name-server.log" 2>&1 &
	spid=$!
	sleep 1
	nsx mpa timeout 300 nice -n 19 "$perf" "$mode" -d "$da" -p $port --timeout 60 \
		--verify -s "$size" "$@" 10.73.9.2 \
		>"$out/$name-client.log" 2>&1 &
	cpid=$!
}
# wait_xfer NAME: 0 when both sides succeeded
wait_xfer() {
	local rc=0
	wait $cpid || rc=1
	wait $spid || rc=1
	tail -n 2 "$out/$1-client.log"
	[ $rc -eq 0 ] || cat "$out/$1-client.log" "$out/$1-server.log"
	return $rc
}

# ---- 2. striping ----
read -r a0 a1 <<<"$(txf mpa "$da")"
qp_paths_ok() {
	py '
import json, sys
qs = [q for q in json.load(sys.stdin) if q["state"] == "RTS" and q["remote_node"] == 0x62]
ok = any(q["num_paths"] == 2 and len(q["paths"]) == 2 and
         all(p["tx_packets"] > 0 for p in q["paths"]) for q in qs)
sys.exit(0 if ok else 1)'
}
start_xfer stripe write_bw 64K -D 6
# the QP dump while it runs: 2 paths, both carried packets
qp_seen=0
while kill -0 $cpid 2>/dev/null; do
	qpj=$(nsx mpa "$ml" -j qp show "$da")
	if echo "$qpj" | qp_paths_ok; then qp_seen=1; break; fi
	sleep 0.5
done
check "write_bw 64K for 6 s verified over two ports" wait_xfer stripe
read -r b0 b1 <<<"$(txf mpa "$da")"
echo "tx_frames port0 $a0 -> $b0, port1 $a1 -> $b1"
# each port carried at least 20 % of the data frames (3000+ at MTU 9000)
striped() {
	local d0=$((b0 - a0)) d1=$((b1 - a1))
	[ $((d0 + d1)) -gt 3000 ] && [ $((d0 * 5)) -gt $((d0 + d1)) ] &&
		[ $((d1 * 5)) -gt $((d0 + d1)) ]
}
check "both ports' tx_frames rose (striped)" striped
echo "$qpj" | py 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=1))' | head -60
check "qp show -j: the QP has 2 paths, both carried packets" test $qp_seen = 1
# the congestion state of the striping QP, in the ranges docs/uapi.md gives
cc_ok() {
	echo "$qpj" | py '
import json, sys
qs = [q for q in json.load(sys.stdin) if q["state"] == "RTS" and q["remote_node"] == 0x62]
for q in qs:
    print("qp %d: cwnd %d ssthresh %d reorder_nak %d" % (q["qpn"], q["cwnd"], q["ssthresh"],
                                                          q["reorder_nak"]))
sys.exit(0 if qs and all(4 <= q["cwnd"] <= 512 and 4 <= q["ssthresh"] <= 512 and
                         32 <= q["reorder_nak"] <= 96 for q in qs) else 1)'
}
check "qp show -j: cwnd, ssthresh and reorder_nak in range" cc_ok
text_ok() { nsx mpa "$ml" qp show "$da" >/dev/null && nsx mpa "$repo/tools/megalink-stat" qp "$da" >/dev/null; }
check "qp show / megalink-stat qp (text) run" text_ok

# ---- 3. failover during a long transfer ----
# poll_qps: while the client runs, the largest failover count of a QP of
# node A goes to $fo_file, and the status of every QP seen in ERROR to
# $err_file.
fo_file=$out/failovers
err_file=$out/qp-errors
poll_qps() {
	while kill -0 $cpid 2>/dev/null; do
		nsx mpa "$ml" -j qp show "$da" 2>/dev/null | py '
import json, sys
try:
    qs = json.load(sys.stdin)
except Exception:
    sys.exit(0)
m = max([q["failovers"] for q in qs] or [0])
if m > int(open(sys.argv[1]).read() or 0):
    open(sys.argv[1], "w").write(str(m))
with open(sys.argv[2], "a") as f:
    for q in qs:
        if q["state"] == "ERROR":
            f.write("qp %d: %s\n" % (q["qpn"], q["status"]))' "$fo_file" "$err_file"
		sleep 1
	done
}
poller_start() { echo 0 >"$fo_file"; : >"$err_file"; poll_qps & ppid=$!; }
poller_stop() { kill $ppid 2>/dev/null; wait $ppid 2>/dev/null; }
start_xfer failover write_bw 64K -D 100
poller_start
sleep 2
cut_ok=1
t_rounds=$(date +%s)
for round in 1 2 3; do
	echo "-- round $round: link 0 down"
	ip -n mpa link set a0 down || cut_ok=0
	sleep 1
	ip -n mpa link set a0 up || cut_ok=0
	wait_paths 2 10 || { echo "link 0 did not come back"; cut_ok=0; }
	sleep 0.5
	echo "-- round $round: link 1 deleted"
	ip -n mpa link del a1 || cut_ok=0
	sleep 1
	mklink 1 || cut_ok=0
	[ -n "$(bindp mpa a1 dev "$da")" ] && [ -n "$(bindp mpb b1 dev "$db")" ] || cut_ok=0
	wait_paths 2 10 || { echo "link 1 did not come back"; cut_ok=0; }
	echo "   round $round done at $(($(date +%s) - t_rounds)) s"
	sleep 0.5
	kill -0 $cpid 2>/dev/null ||
		{ echo "the transfer ended before round $round was over: not a mid-transfer test"; cut_ok=0; break; }
done
[ $cut_ok = 1 ] && ok "cut and restored both links three times" || bad "cut and restore the links"
check "the transfer completed byte-exact, no error completion" wait_xfer failover
poller_stop
fo=$(cat "$fo_file")
if [ -s "$err_file" ]; then bad "a QP went to ERROR during the rounds: $(sort -u "$err_file" | head -3)"; else ok "no QP went to ERROR during the rounds"; fi
echo "failovers seen: $fo"
check "failovers were counted ($fo)" test "${fo:-0}" -gt 0
nsx mpa "$ml" stats show "$da" | tr ' ' '\n' | grep -A1 -E '^(retransmits|timeouts|tx_frames)$' | paste - - | head
check "both paths are back after the rounds" wait_paths 2 10

# ---- restored links carry traffic again ----
read -r a0 a1 <<<"$(txf mpa "$da")"
start_xfer again write_bw 64K -n 1000
check "write_bw after the rounds verified" wait_xfer again
read -r b0 b1 <<<"$(txf mpa "$da")"
echo "tx_frames port0 $a0 -> $b0, port1 $a1 -> $b1"
again_ok() { [ $((b0 - a0)) -gt 1000 ] && [ $((b1 - a1)) -gt 1000 ]; }
check "the restored links are used again (both tx_frames rose)" again_ok

# ---- 4. every link down longer than the retry budget ----
start_xfer alldown write_bw 64K -D 60
poller_start
sleep 2
t0=$(date +%s)
ip -n mpa link set a0 down
ip -n mpa link set a1 down
# default timeout 100 ms, retry 7: about 9 s of backoff, then an error
rc=0
wait $cpid || rc=$?
t1=$(date +%s)
poller_stop
kill $spid 2>/dev/null
wait $spid 2>/dev/null
sort -u "$err_file"
tail -n 3 "$out/alldown-client.log"
echo "client exit $rc after $((t1 - t0)) s with every link down"
fails_cleanly() {
	[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $((t1 - t0)) -lt 60 ]
}
check "all links down: the transfer fails (exit $rc, not a hang) in < 60 s" fails_cleanly
# The QP errors with the retry budget spent (no path), not anything else.
# The work request fails with the retry budget spent (no path), not
# anything else: the client says so, or qp show caught the QP in ERROR.
retry_exc() {
	grep -q 'retry count exceeded' "$out/alldown-client.log" ||
		grep -q ': retry count exceeded' "$err_file"
}
check "all links down: the work request failed with retries exceeded" retry_exc
check "all links down: not at once (the retry budget was waited out, >= 3 s)" test $((t1 - t0)) -ge 3
ip -n mpa link set a0 up
ip -n mpa link set a1 up
check "links up again" wait_paths 2 10

# ---- 5. unload with paths live ----
start_xfer last write_bw 64K -n 300
check "a last transfer before unload" wait_xfer last
nsx mpa "$ml" qp show "$da"
if [ -n "${ML_NO_UNLOAD:-}" ]; then
	echo "ML_NO_UNLOAD set: not unloading"
else
	# QPs of a live perf run keep the module; unload right after.
	unload() {
		local i
		for ((i = 0; i < 50; i++)); do
			rmmod megalink 2>/dev/null && return 0
			sleep 0.1
		done
		return 1
	}
	check "rmmod megalink with both paths live" unload
	check "no megalink warnings or oopses in dmesg" \
		bash -c '! dmesg | grep -E "WARNING|BUG:|Oops|general protection" | grep -i -e megalink -e "ml_"'
fi
finish
