#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-suite.sh: megalink over UDP/IPv4 across a router, inside a harness
# guest as root:
#
#   make modules-all lib tools guest-tests
#   tests/harness/run-in-guest.sh --kernel 6.12 --timeout 900 -- tests/routed/run-suite.sh
#
# Two pods in network namespaces: pod A (rta1 10.71.1.1, rta2 10.71.1.2 on
# a bridge in the router) and pod B (rtb1 10.71.2.1), joined by router
# namespace rtr (ip_forward=1, 10.71.1.254 / 10.71.2.254).  a1/a2 are
# Ethernet neighbours; a1 and b1 become UDP neighbours with "megalink peer
# add" and move data byte-exact with megalink-perf --verify, also with
# netem loss 1% delay 1ms on the router's pod B link.  Then peer del, bad
# netlink input (tests/routed/nlpeer.py: raw genetlink), and unloading the
# module with peers configured right after traffic.
# Ends with "routed: N passed, M failed"; exit 0 only if nothing failed.
set -u

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$repo/tests/routed
ml=$repo/tools/megalink
perf=$repo/tools/megalink-perf
nlpeer=$here/nlpeer.py
out=${ML_OUT:-/tmp/megalink-routed-out}
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
finish() {
	echo "routed: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
skip() {
	echo "ML-SKIP: routed: $* ***** SKIPPED: prerequisite missing *****"
	echo "routed: 0 passed, 0 failed (skipped)"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "must run as root (inside the test guest)"
for t in ip tc python3 timeout; do
	command -v $t >/dev/null || skip "$t not found"
done
[ -x "$ml" ] || skip "$ml not built (make tools)"
[ -x "$perf" ] || skip "$perf not built (make tools)"
modprobe veth 2>/dev/null || true
modprobe bridge 2>/dev/null || true
modprobe sch_netem 2>/dev/null || skip "sch_netem module missing"

echo "== megalink routed suite: kernel $(uname -r)"
if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 ||
		{ bad "load the module"; finish; }
fi
echo "udp_port=$(cat /sys/module/megalink/parameters/udp_port)"

nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

for n in rta1 rta2 rtb1 rtr; do ip netns del $n 2>/dev/null; done
set -e
for n in rta1 rta2 rtb1 rtr; do
	ip netns add $n
	ip -n $n link set lo up
done
ip -n rtr link add brA type bridge
ip -n rtr link set brA up
ip -n rtr addr add 10.71.1.254/24 dev brA
for i in 1 2; do
	ip link add a$i netns rta$i type veth peer name pa$i netns rtr
	ip -n rtr link set pa$i master brA up
	ip -n rta$i link set a$i up
	ip -n rta$i addr add 10.71.1.$i/24 dev a$i
	ip -n rta$i route add default via 10.71.1.254
done
ip link add b1 netns rtb1 type veth peer name pb1 netns rtr
ip -n rtr link set pb1 up
ip -n rtr addr add 10.71.2.254/24 dev pb1
ip -n rtb1 link set b1 up
ip -n rtb1 addr add 10.71.2.1/24 dev b1
ip -n rtb1 route add default via 10.71.2.254
nsx rtr sysctl -qw net.ipv4.ip_forward=1
set +e

# ping is not installed everywhere: the route, and the transfers below
# (their TCP side channel crosses the router too), prove forwarding.
route_ok() {
	nsx rta1 ip route get 10.71.2.1 | grep -q 'via 10.71.1.254'
}
check "IPv4 route a1 -> b1 through the router" route_ok

# bind NS IF NODE -> device name
bind() {
	nsx "$1" "$ml" port bind "$2" node-id "$3" | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p'
}
da1=$(bind rta1 a1 0xa1)
da2=$(bind rta2 a2 0xa2)
db1=$(bind rtb1 b1 0xb1)
echo "devices: a1 $da1, a2 $da2, b1 $db1"
[ -n "$da1" ] && [ -n "$da2" ] && [ -n "$db1" ] && ok "bind three ports" ||
	{ bad "bind three ports"; finish; }

# neigh_has NS DEV NODE_ID [ADDR]: the neighbour is listed (JSON)
neigh_has() {
	nsx "$1" "$ml" -j neigh show "$2" | /usr/bin/python3 -c '
import json, sys
node, addr = int(sys.argv[1], 0), sys.argv[2]
ns = json.load(sys.stdin)
sys.exit(0 if any(n["node_id"] == node and (not addr or n.get("addr") == addr)
                  for n in ns) else 1)' "$3" "${4:-}"
}
# wait_neigh NS DEV NODE ADDR SECONDS [gone]
wait_neigh() {
	local i=0 n=$(($5 * 10))
	while [ $i -lt $n ]; do
		if [ "${6:-}" = gone ]; then
			neigh_has "$1" "$2" "$3" "$4" || return 0
		else
			neigh_has "$1" "$2" "$3" "$4" && return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

check "a1 and a2 are Ethernet neighbours" wait_neigh rta1 "$da1" 0xa2 "" 15
if neigh_has rta1 "$da1" 0xb1; then bad "a1 sees b1 before peer add"; else ok "a1 does not see b1 before peer add"; fi

check "peer add a1 -> 10.71.2.1" nsx rta1 "$ml" peer add "$da1" 10.71.2.1
check "peer add b1 -> 10.71.1.1" nsx rtb1 "$ml" peer add "$db1" 10.71.1.1
nsx rta1 "$ml" peer show
peer_listed() { nsx rta1 "$ml" -j peer show "$da1" | grep -q '10.71.2.1'; }
check "peer show -j lists the peer" peer_listed
check "b1 becomes a UDP neighbour of a1" wait_neigh rta1 "$da1" 0xb1 10.71.2.1 15
check "a1 becomes a UDP neighbour of b1" wait_neigh rtb1 "$db1" 0xa1 10.71.1.1 15
nsx rta1 "$ml" neigh show
nsx rtb1 "$ml" neigh show

# transfer NAME MODE SIZE ITERS [QPS]: megalink-perf --verify, b1 serves
port=18600
transfer() {
	local name=$1 mode=$2 size=$3 iters=$4 spid rc q=()
	[ -n "${5:-}" ] && q=(-q "$5")
	port=$((port + 1))
	nsx rtb1 timeout 120 "$perf" "$mode" -d "$db1" -p $port --timeout 30 \
		>"$out/$name-server.log" 2>&1 &
	spid=$!
	sleep 1
	nsx rta1 timeout 120 "$perf" "$mode" -d "$da1" -p $port --timeout 30 \
		--verify -s "$size" -n "$iters" "${q[@]}" 10.71.2.1 \
		>"$out/$name-client.log" 2>&1
	rc=$?
	wait $spid
	[ $? -eq 0 ] || rc=1
	tail -n 3 "$out/$name-client.log"
	[ $rc -eq 0 ] || { cat "$out/$name-client.log" "$out/$name-server.log"; }
	return $rc
}

check "write_bw 64K x200 verified across the router" transfer w64k write_bw 64K 200
check "send_bw 1M x20, 4 QPs, verified" transfer s1m send_bw 1M 20 4
check "read_bw 200K x50 verified" transfer r200k read_bw 200K 50
check "write_lat 4097 B verified" transfer lat write_lat 4097 200

ip -n rtr link set pb1 up
tc -n rtr qdisc add dev pb1 root netem loss 1% delay 1ms
check "write_bw 256K x100 verified, netem loss 1% delay 1ms" transfer netw write_bw 256K 100
check "send_bw 64K x200, 2 QPs verified under netem" transfer nets send_bw 64K 200 2
nsx rta1 "$ml" stats show "$da1" | tr ' ' '\n' | grep -A1 -E '^(retransmits|timeouts|tx_frames|rx_frames)$' | paste - - | head
tc -n rtr qdisc del dev pb1 root

# ---- bad netlink input ----
# nlcase DESC EXPECT_ERRNO EXPECT_TEXT ARGS...
nlcase() {
	local d=$1 e=$2 t=$3 r
	shift 3
	r=$(nsx rta1 /usr/bin/python3 "$nlpeer" "$@" 2>&1)
	echo "  $d: $r"
	case $r in
	"errno=$e "*"$t"*) ok "$d" ;;
	*) bad "$d (want errno=$e, \"$t\")" ;;
	esac
}
nlcase "address of 2 bytes" 22 "invalid attribute length" add "$da1" 10.9.0.1 --addr-len 2
nlcase "address of 8 bytes" 22 "invalid attribute length" add "$da1" 10.9.0.1 --addr-len 8
nlcase "unknown device" 19 "no such megalink device" add ml250 10.9.0.1
nlcase "no device" 22 "dev-index or dev-name required" add "$da1" 10.9.0.1 --no-dev
nlcase "multicast address" 22 "not a unicast IPv4 address" add "$da1" 224.0.0.1
nlcase "zero address" 22 "not a unicast IPv4 address" add "$da1" 0.0.0.0
nlcase "bad local address" 22 "not a unicast IPv4 address" add "$da1" 10.9.0.1 --local 255.255.255.255
nlcase "duplicate peer" 17 "peer already configured" add "$da1" 10.71.2.1
nlcase "del of an unknown peer" 2 "no such peer" del "$da1" 10.9.9.9
nlcase "non-admin add" 1 "CAP_NET_ADMIN required" --uid 65534 add "$da1" 10.9.0.1
nlcase "non-admin del" 1 "CAP_NET_ADMIN required" --uid 65534 del "$da1" 10.71.2.1
r=$(nsx rta1 "$ml" peer add "$da1" 10.71.2.1 2>&1)
[ $? -eq 1 ] && [[ $r == *"already"* ]] && ok "tool: duplicate peer add exits 1: $r" || bad "tool duplicate: $r"
# 63 more peers fill the table (1 is there); the 65th is refused.
n=0
for i in $(seq 1 63); do
	nsx rta1 "$ml" peer add "$da1" 10.9.1.$i && n=$((n + 1))
done
[ $n -eq 63 ] && ok "63 more peers added" || bad "63 more peers added ($n)"
nlcase "65th peer" 28 "too many peers" add "$da1" 10.9.2.1
c=$(nsx rta1 "$ml" -j peer show "$da1" | grep -o '"addr"' | wc -l)
[ "$c" -eq 64 ] && ok "peer show lists 64" || bad "peer show lists 64 ($c)"
for i in $(seq 1 63); do nsx rta1 "$ml" peer del "$da1" 10.9.1.$i; done
c=$(nsx rta1 "$ml" -j peer show "$da1" | grep -o '"addr"' | wc -l)
[ "$c" -eq 1 ] && ok "63 peers deleted" || bad "63 peers deleted ($c left)"
check "b1 is still a neighbour" neigh_has rta1 "$da1" 0xb1 10.71.2.1

# ---- peer del ----
check "peer del a1 -> 10.71.2.1" nsx rta1 "$ml" peer del "$da1" 10.71.2.1
check "b1's neighbour is gone from a1 at once" wait_neigh rta1 "$da1" 0xb1 10.71.2.1 1 gone
check "a1's neighbour ages out on b1 (dead 1 s)" wait_neigh rtb1 "$db1" 0xa1 10.71.1.1 5 gone
check "a2 is still a neighbour of a1" neigh_has rta1 "$da1" 0xa2
check "peer add again" nsx rta1 "$ml" peer add "$da1" 10.71.2.1
check "b1 comes back" wait_neigh rta1 "$da1" 0xb1 10.71.2.1 15
check "a write after re-adding" transfer again write_bw 64K 50

# ---- teardown with peers configured, just after traffic ----
port=$((port + 1))
nsx rtb1 "$perf" write_bw -d "$db1" -p $port --timeout 30 >"$out/bg-server.log" 2>&1 &
s=$!
sleep 1
nsx rta1 "$perf" write_bw -d "$da1" -p $port --timeout 30 -s 64K -D 30 10.71.2.1 >"$out/bg-client.log" 2>&1 &
c=$!
sleep 4
kill -9 $c $s 2>/dev/null
wait $c $s 2>/dev/null
ip netns del rtb1
ok "netns of b1 deleted with a peer configured and traffic just stopped"
i=0
until rmmod megalink 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.1
done
if [ -d /sys/module/megalink ]; then bad "rmmod with peers configured"; else ok "rmmod with peers configured"; fi
for n in rta1 rta2 rtr; do ip netns del $n 2>/dev/null; done
if dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|refcount_t:|list_(add|del) corruption|circular locking|Call Trace:' >"$out/splat.txt"; then
	bad "kernel log has a splat"; cat "$out/splat.txt"
else
	ok "no splat in the kernel log"
fi
finish
