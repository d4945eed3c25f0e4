#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-suite.sh: megalink over UDP/IPv6 across a router, inside a harness
# guest as root:
#
#   make modules-all lib tools guest-tests
#   tests/harness/run-in-guest.sh --kernel 6.12 --timeout 1500 -- tests/routed6/run-suite.sh
#
# The scenario of tests/routed over IPv6: pod A (r6a1 fd71:1::1, r6a2
# fd71:1::2 on a bridge in the router) and pod B (r6b1 fd71:2::1), joined by
# router namespace r6r (net.ipv6.conf.all.forwarding=1).  The pods also
# have IPv4 addresses, only for megalink-perf's TCP side channel.  a1/a2
# are Ethernet neighbours; a1 and b1 become UDP/IPv6 neighbours with
# "megalink peer add DEV fd71:2::1 local fd71:1::1" and move data
# byte-exact with megalink-perf --verify: alone, side by side with an
# Ethernet transfer a1 -> a2, under netem loss, and under netem CE marking
# (netem ... ecn), which must raise rx_ecn_ce on b1 and ecn_cwnd_cuts on
# a1.  Then the UDP drop counters (stray datagrams), fuzzed datagrams from
# a peer's address (IPv6, then IPv4), an IPv4 and an IPv6 peer side by side, bad netlink input for the IPv6 attributes
# (tests/routed/nlpeer.py), and unloading the module with IPv6 peers
# configured right after traffic.
# Ends with "routed6: N passed, M failed"; exit 0 only if nothing failed.
set -u

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
ml=$repo/tools/megalink
mlstat=$repo/tools/megalink-stat
perf=$repo/tools/megalink-perf
nlpeer=$repo/tests/routed/nlpeer.py
out=${ML_OUT:-/tmp/megalink-routed6-out}
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
	echo "routed6: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
skip() {
	echo "ML-SKIP: routed6: $* ***** SKIPPED: prerequisite missing *****"
	echo "routed6: 0 passed, 0 failed (skipped)"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "must run as root (inside the test guest)"
for t in ip tc python3 timeout; do
	command -v $t >/dev/null || skip "$t not found"
done
[ -x "$ml" ] || skip "$ml not built (make tools)"
[ -x "$mlstat" ] || skip "$mlstat not built (make tools)"
[ -x "$perf" ] || skip "$perf not built (make tools)"
[ -e /proc/net/if_inet6 ] || skip "the guest kernel has no IPv6"
modprobe veth 2>/dev/null || true
modprobe bridge 2>/dev/null || true
modprobe sch_netem 2>/dev/null || skip "sch_netem module missing"

echo "== megalink routed6 suite: kernel $(uname -r)"
if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 ||
		{ bad "load the module"; finish; }
fi
echo "udp_port=$(cat /sys/module/megalink/parameters/udp_port)"

nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

for n in r6a1 r6a2 r6b1 r6r; do ip netns del $n 2>/dev/null; done
set -e
for n in r6a1 r6a2 r6b1 r6r; do
	ip netns add $n
	ip -n $n link set lo up
	nsx $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip -n r6r link add brA type bridge
ip -n r6r link set brA up
ip -n r6r addr add 10.72.1.254/24 dev brA
ip -n r6r addr add fd71:1::fe/64 dev brA nodad
for i in 1 2; do
	ip link add a$i netns r6a$i type veth peer name pa$i netns r6r
	ip -n r6r link set pa$i master brA up
	ip -n r6a$i link set a$i up
	ip -n r6a$i addr add 10.72.1.$i/24 dev a$i
	ip -n r6a$i addr add fd71:1::$i/64 dev a$i nodad
	ip -n r6a$i route add default via 10.72.1.254
	ip -n r6a$i -6 route add default via fd71:1::fe
done
ip link add b1 netns r6b1 type veth peer name pb1 netns r6r
ip -n r6r link set pb1 up
ip -n r6r addr add 10.72.2.254/24 dev pb1
ip -n r6r addr add fd71:2::fe/64 dev pb1 nodad
ip -n r6b1 link set b1 up
ip -n r6b1 addr add 10.72.2.1/24 dev b1
ip -n r6b1 addr add fd71:2::1/64 dev b1 nodad
ip -n r6b1 route add default via 10.72.2.254
ip -n r6b1 -6 route add default via fd71:2::fe
nsx r6r sysctl -qw net.ipv4.ip_forward=1
nsx r6r sysctl -qw net.ipv6.conf.all.forwarding=1
set +e

route_ok() {
	nsx r6a1 ip -6 route get fd71:2::1 | grep -q 'via fd71:1::fe'
}
check "IPv6 route a1 -> b1 through the router" route_ok

# bind NS IF NODE -> device name
bind() {
	nsx "$1" "$ml" port bind "$2" node-id "$3" | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p'
}
da1=$(bind r6a1 a1 0xa1)
da2=$(bind r6a2 a2 0xa2)
db1=$(bind r6b1 b1 0xb1)
echo "devices: a1 $da1, a2 $da2, b1 $db1"
[ -n "$da1" ] && [ -n "$da2" ] && [ -n "$db1" ] && ok "bind three ports" ||
	{ bad "bind three ports"; finish; }

# neigh_field NS DEV NODE_ID ADDR FIELD: FIELD of that neighbour (JSON),
# exit 1 if there is none.  ADDR "" matches any (Ethernet too).
neigh_field() {
	nsx "$1" "$ml" -j neigh show "$2" | /usr/bin/python3 -c '
import json, sys
node, addr, field = int(sys.argv[1], 0), sys.argv[2], sys.argv[3]
for n in json.load(sys.stdin):
    if n["node_id"] == node and (not addr or n.get("addr") == addr):
        print(n.get(field, ""))
        sys.exit(0)
sys.exit(1)' "$3" "$4" "$5"
}
neigh_has() { neigh_field "$1" "$2" "$3" "${4:-}" node_id >/dev/null; }
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
# stat NS DEV NAME: the counter summed over the device's ports (JSON)
stat() {
	nsx "$1" "$ml" -j stats show "$2" | /usr/bin/python3 -c '
import json, sys
print(sum(p.get(sys.argv[1], 0) for p in json.load(sys.stdin)))' "$3"
}

check "a1 and a2 are Ethernet neighbours" wait_neigh r6a1 "$da1" 0xa2 "" 15
if neigh_has r6a1 "$da1" 0xb1; then bad "a1 sees b1 before peer add"; else ok "a1 does not see b1 before peer add"; fi

check "peer add a1 -> fd71:2::1 local fd71:1::1" nsx r6a1 "$ml" peer add "$da1" fd71:2::1 local fd71:1::1
check "peer add b1 -> fd71:1::1" nsx r6b1 "$ml" peer add "$db1" fd71:1::1
nsx r6a1 "$ml" peer show
peer_text() {
	nsx r6a1 "$ml" peer show "$da1" | grep -qx "peer $da1 addr fd71:2::1 local fd71:1::1 udp-port [0-9]*"
}
check "peer show: addr fd71:2::1 local fd71:1::1" peer_text
peer_json() {
	nsx r6a1 "$ml" -j peer show "$da1" | /usr/bin/python3 -c '
import json, sys
p = json.load(sys.stdin)
sys.exit(0 if len(p) == 1 and p[0]["family"] == "inet6" and
         p[0]["addr"] == "fd71:2::1" and p[0]["local"] == "fd71:1::1" else 1)'
}
check "peer show -j: family inet6, addr, local" peer_json
check "b1 becomes a UDP/IPv6 neighbour of a1" wait_neigh r6a1 "$da1" 0xb1 fd71:2::1 15
check "a1 becomes a UDP/IPv6 neighbour of b1" wait_neigh r6b1 "$db1" 0xa1 fd71:1::1 15
nsx r6a1 "$ml" neigh show
nsx r6b1 "$mlstat" neigh
mtu=$(neigh_field r6a1 "$da1" 0xb1 fd71:2::1 mtu)
[ "$mtu" = 1452 ] && ok "b1 advertises MTU 1500 - 48 = 1452 over IPv6" ||
	bad "b1 advertises MTU 1452 over IPv6 (got '$mtu')"
fam=$(neigh_field r6a1 "$da1" 0xb1 fd71:2::1 family)
[ "$fam" = inet6 ] && ok "neigh -j: family inet6" || bad "neigh -j: family inet6 (got '$fam')"
stat_neigh_text() { nsx r6a1 "$mlstat" neigh "$da1" | grep -q " udp fd71:2::1\$"; }
check "megalink-stat neigh shows 'udp fd71:2::1'" stat_neigh_text
stat_neigh_json() {
	nsx r6a1 "$mlstat" -j neigh "$da1" | grep -q '"addr": *"fd71:2::1"'
}
check "megalink-stat -j neigh shows the IPv6 address" stat_neigh_json

# transfer NAME MODE SIZE ITERS QPS [SERVER_NS SERVER_DEV SERVER_ADDR]:
# megalink-perf --verify from a1; b1 serves unless said otherwise
port=18700
transfer() {
	local name=$1 mode=$2 size=$3 iters=$4 sns=${6:-r6b1} sdev=${7:-$db1}
	local saddr=${8:-10.72.2.1} spid rc q=()
	[ "$5" != 1 ] && q=(-q "$5")
	port=$((port + 1))
	nsx "$sns" timeout 120 "$perf" "$mode" -d "$sdev" -p $port --timeout 30 \
		>"$out/$name-server.log" 2>&1 &
	spid=$!
	sleep 1
	nsx r6a1 timeout 120 "$perf" "$mode" -d "$da1" -p $port --timeout 30 \
		--verify -s "$size" -n "$iters" "${q[@]}" "$saddr" \
		>"$out/$name-client.log" 2>&1
	rc=$?
	wait $spid
	[ $? -eq 0 ] || rc=1
	tail -n 3 "$out/$name-client.log"
	[ $rc -eq 0 ] || { cat "$out/$name-client.log" "$out/$name-server.log"; }
	return $rc
}

tx0=$(stat r6a1 "$da1" tx_frames)
check "write_bw 64K x200 verified over IPv6" transfer w64k write_bw 64K 200 1
check "send_bw 1M x20, 4 QPs, verified" transfer s1m send_bw 1M 20 4
check "read_bw 200K x50 verified" transfer r200k read_bw 200K 50 1
check "write_lat 4097 B verified" transfer lat write_lat 4097 200 1
tx1=$(stat r6a1 "$da1" tx_frames)
[ $((tx1 - tx0)) -gt 1000 ] && ok "a1 counted $((tx1 - tx0)) frames sent" ||
	bad "a1 counted frames sent ($tx0 -> $tx1)"

# Ethernet (a1 -> a2) and UDP/IPv6 (a1 -> b1) at the same time.
side_by_side() {
	local r1 r2
	transfer sbs-eth write_bw 256K 100 1 r6a2 "$da2" 10.72.1.2 &
	r1=$!
	transfer sbs-udp write_bw 256K 100 1 &
	r2=$!
	wait $r1 || return 1
	wait $r2
}
check "Ethernet and UDP/IPv6 neighbours side by side, both verified" side_by_side

tc -n r6r qdisc add dev pb1 root netem loss 1% delay 1ms
re0=$(stat r6a1 "$da1" retransmits)
check "write_bw 256K x100 verified, netem loss 1% delay 1ms" transfer netw write_bw 256K 100 1
check "send_bw 64K x200, 2 QPs verified under netem" transfer nets send_bw 64K 200 2
re1=$(stat r6a1 "$da1" retransmits)
echo "retransmits under loss: $((re1 - re0))"
tc -n r6r qdisc del dev pb1 root

# ---- ECN: netem marks CE instead of dropping (the frames are ECT(0)) ----
ce0=$(stat r6b1 "$db1" rx_ecn_ce)
cut0=$(stat r6a1 "$da1" ecn_cwnd_cuts)
if tc -n r6r qdisc add dev pb1 root netem loss 5% ecn 2>"$out/tc-ecn.err"; then
	check "write_bw 256K x100 verified under CE marking" transfer ecnw write_bw 256K 100 1
	check "send_bw 64K x200, 2 QPs verified under CE marking" transfer ecns send_bw 64K 200 2
	tc -n r6r qdisc del dev pb1 root
	ce1=$(stat r6b1 "$db1" rx_ecn_ce)
	cut1=$(stat r6a1 "$da1" ecn_cwnd_cuts)
	echo "rx_ecn_ce on b1: $ce0 -> $ce1; ecn_cwnd_cuts on a1: $cut0 -> $cut1"
	[ "$ce1" -gt "$ce0" ] && ok "rx_ecn_ce rises on b1 ($((ce1 - ce0)))" ||
		bad "rx_ecn_ce rises on b1 ($ce0 -> $ce1)"
	[ "$cut1" -gt "$cut0" ] && ok "ecn_cwnd_cuts rises on a1 ($((cut1 - cut0)))" ||
		bad "ecn_cwnd_cuts rises on a1 ($cut0 -> $cut1)"
	# At most one cut per round trip: far fewer cuts than marks.
	[ $((cut1 - cut0)) -le $((ce1 - ce0)) ] && ok "no more window cuts than CE marks" ||
		bad "more window cuts than CE marks"
else
	echo "ML-SKIP: routed6: tc netem ecn unsupported: $(cat "$out/tc-ecn.err") ***** SKIPPED *****"
fi
stat_text() { nsx r6b1 "$mlstat" stats "$db1" | grep -q "udp .*rx_ecn_ce [0-9]* ecn_cwnd_cuts [0-9]*"; }
check "megalink-stat stats shows the udp counter group" stat_text
stat_json() { nsx r6b1 "$mlstat" -j stats "$db1" | grep -q '"drop_udp_unknown"'; }
check "megalink-stat -j stats has drop_udp_unknown" stat_json

# ---- stray datagrams: a2 is no peer of b1 ----
unk0=$(stat r6b1 "$db1" drop_udp_unknown)
mal0=$(stat r6b1 "$db1" drop_udp_malformed)
udp_port=$(cat /sys/module/megalink/parameters/udp_port)
nsx r6a2 /usr/bin/python3 -c '
import socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
hello = struct.pack("!BBHII", 1, 1, 56, 0xa2, 0xffffffff) + bytes(44)
for _ in range(5):
    s.sendto(hello, ("fd71:2::1", port))
for _ in range(3):
    s.sendto(b"\x01\x01", ("fd71:2::1", port))' "$udp_port"
sleep 0.5
unk1=$(stat r6b1 "$db1" drop_udp_unknown)
mal1=$(stat r6b1 "$db1" drop_udp_malformed)
[ $((unk1 - unk0)) -eq 5 ] && ok "5 datagrams from a non-peer count drop_udp_unknown" ||
	bad "drop_udp_unknown $unk0 -> $unk1 (want +5)"
[ $((mal1 - mal0)) -eq 3 ] && ok "3 short datagrams count drop_udp_malformed" ||
	bad "drop_udp_malformed $mal0 -> $mal1 (want +3)"
if neigh_has r6b1 "$db1" 0xa2 fd71:1::2; then bad "a non-peer became a neighbour"; else ok "a non-peer did not become a neighbour"; fi

# ---- fuzzed datagrams from a peer's address (they pass the source check) ----
fuzz_udp() { # fuzz_udp FAMILY DST SRC COUNT SEED
	nsx r6a1 /usr/bin/python3 -c '
import random, socket, struct, sys
fam, dst, src, count, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
port = int(open("/sys/module/megalink/parameters/udp_port").read())
rnd = random.Random(seed)
s = socket.socket(socket.AF_INET6 if fam == "6" else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for i in range(count):
    k = rnd.randrange(4)
    if k == 0:      # garbage of any length
        b = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 1400)))
    else:           # a megalink header with wild fields, then garbage
        typ = rnd.choice([0, 1, 2, 3, 4, 255])
        ln = rnd.choice([0, 11, 12, 32, 48, 56, 57, 100, 1400, 65535, rnd.randrange(65536)])
        dstn = rnd.choice([0xb1, 0xffffffff, 0, 0xa1, rnd.randrange(1 << 32)])
        srcn = rnd.choice([0xa1, 0xa9, 0, 0xb1, rnd.randrange(1 << 32)])
        body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 200)))
        b = struct.pack("!BBHII", rnd.choice([1, 1, 1, 0, 2]), typ, ln, srcn, dstn) + body
    s.sendto(b, (dst, port))' "$@"
}
if fuzz_udp 6 fd71:2::1 fd71:1::1 3000 "${ML_SEED:-1}"; then
	ok "3000 fuzzed datagrams sent to b1 over IPv6 from a peer address"
else
	bad "fuzzed datagrams over IPv6"
fi
check "b1 keeps its UDP/IPv6 neighbour after the fuzz" wait_neigh r6b1 "$db1" 0xa1 fd71:1::1 5
check "a write after the fuzz, verified" transfer fuzz write_bw 64K 50 1

# ---- IPv4 and IPv6 peers side by side ----
check "peer add a1 -> 10.72.2.1 (IPv4) next to the IPv6 one" nsx r6a1 "$ml" peer add "$da1" 10.72.2.1
check "peer add b1 -> 10.72.1.1 (IPv4)" nsx r6b1 "$ml" peer add "$db1" 10.72.1.1
check "b1 is also a UDP/IPv4 neighbour of a1" wait_neigh r6a1 "$da1" 0xb1 10.72.2.1 15
both_listed() {
	nsx r6a1 "$ml" -j peer show "$da1" | /usr/bin/python3 -c '
import json, sys
f = sorted((p["family"], p["addr"]) for p in json.load(sys.stdin))
sys.exit(0 if f == [("inet", "10.72.2.1"), ("inet6", "fd71:2::1")] else 1)'
}
check "peer show lists both families" both_listed
if fuzz_udp 4 10.72.2.1 10.72.1.1 1000 "${ML_SEED:-1}"; then
	ok "1000 fuzzed datagrams sent to b1 over IPv4 from a peer address"
else
	bad "fuzzed datagrams over IPv4"
fi
check "b1 keeps its UDP/IPv4 neighbour after the fuzz" wait_neigh r6b1 "$db1" 0xa1 10.72.1.1 5
mtu4=$(neigh_field r6a1 "$da1" 0xb1 10.72.2.1 mtu)
[ "$mtu4" = 1472 ] && ok "the IPv4 neighbour advertises 1500 - 28 = 1472" ||
	bad "the IPv4 neighbour advertises 1472 (got '$mtu4')"
check "write_bw 64K x50 verified with both neighbours" transfer both write_bw 64K 50 1
check "peer del the IPv4 peer of a1" nsx r6a1 "$ml" peer del "$da1" 10.72.2.1
check "peer del the IPv4 peer of b1" nsx r6b1 "$ml" peer del "$db1" 10.72.1.1
check "the IPv4 neighbour is gone" wait_neigh r6a1 "$da1" 0xb1 10.72.2.1 1 gone
check "the IPv6 neighbour stays" neigh_has r6a1 "$da1" 0xb1 fd71:2::1

# ---- bad netlink input for the IPv6 attributes ----
# nlcase DESC EXPECT_ERRNO EXPECT_TEXT ARGS...
nlcase() {
	local d=$1 e=$2 t=$3 r
	shift 3
	r=$(nsx r6a1 /usr/bin/python3 "$nlpeer" "$@" 2>&1)
	echo "  $d: $r"
	case $r in
	"errno=$e "*"$t"*) ok "$d" ;;
	*) bad "$d (want errno=$e, \"$t\")" ;;
	esac
}
nlcase "IPv6 address of 15 bytes" 34 "size out of range" add "$da1" fd00::9 --addr-len 15
nlcase "IPv6 address of 17 bytes" 34 "size out of range" add "$da1" fd00::9 --addr-len 17
nlcase "IPv6 address of 4 bytes" 34 "size out of range" add "$da1" fd00::9 --addr-len 4
nlcase "v4-mapped IPv6 address" 22 "v4-mapped" add "$da1" ::ffff:10.9.0.1
nlcase "multicast IPv6 address" 22 "multicast IPv6 address" add "$da1" ff02::1
nlcase "unspecified IPv6 address" 22 "unspecified IPv6 address" add "$da1" ::
nlcase "loopback IPv6 address" 22 "loopback IPv6 address" add "$da1" ::1
nlcase "link-local IPv6 address" 22 "link-local" add "$da1" fe80::1
nlcase "multicast local6" 22 "multicast IPv6 address" add "$da1" fd00::9 --local ff05::2
nlcase "IPv4 local with an IPv6 peer" 22 "peer-local is IPv4" add "$da1" fd00::9 --local 10.72.1.1
nlcase "IPv6 local with an IPv4 peer" 22 "peer-local6 is IPv6" add "$da1" 10.9.0.1 --local fd00::1
nlcase "peer-addr and peer-addr6 together" 22 "exclusive" add "$da1" fd00::9 --also-addr 10.9.0.1
nlcase "local6 on del" 22 "peer-local6 is only for peer-add" del "$da1" fd71:2::1 --local fd71:1::1
nlcase "duplicate IPv6 peer" 17 "peer already configured" add "$da1" fd71:2::1
nlcase "del of an unknown IPv6 peer" 2 "no such peer" del "$da1" fd00::99
nlcase "non-admin IPv6 add" 1 "CAP_NET_ADMIN required" --uid 65534 add "$da1" fd00::9
r=$(nsx r6a1 "$ml" peer add "$da1" ff02::1 2>&1)
[ $? -ne 0 ] && [[ $r == *multicast* ]] && ok "tool: multicast IPv6 refused: $r" || bad "tool multicast: $r"
r=$(nsx r6a1 "$ml" peer add "$da1" fd00::9 local 10.72.1.1 2>&1)
[ $? -ne 0 ] && ok "tool: IPv6 peer with an IPv4 local refused: $r" || bad "tool mixed local: $r"
# 63 IPv6 peers more fill the table (1 is there); the 65th is refused.
n=0
for i in $(seq 1 63); do
	nsx r6a1 "$ml" peer add "$da1" fd00:9::$i && n=$((n + 1))
done
[ $n -eq 63 ] && ok "63 more IPv6 peers added" || bad "63 more IPv6 peers added ($n)"
nlcase "65th peer (IPv6)" 28 "too many peers" add "$da1" fd00:9::100
nlcase "65th peer (IPv4)" 28 "too many peers" add "$da1" 10.9.2.1
for i in $(seq 1 63); do nsx r6a1 "$ml" peer del "$da1" fd00:9::$i; done
c=$(nsx r6a1 "$ml" -j peer show "$da1" | grep -o '"addr"' | wc -l)
[ "$c" -eq 1 ] && ok "63 IPv6 peers deleted" || bad "63 IPv6 peers deleted ($c left)"
check "b1 is still a neighbour" neigh_has r6a1 "$da1" 0xb1 fd71:2::1

# ---- peer del ----
check "peer del a1 -> fd71:2::1" nsx r6a1 "$ml" peer del "$da1" fd71:2::1
check "b1's neighbour is gone from a1 at once" wait_neigh r6a1 "$da1" 0xb1 fd71:2::1 1 gone
check "a1's neighbour ages out on b1 (dead 1 s)" wait_neigh r6b1 "$db1" 0xa1 fd71:1::1 5 gone
check "a2 is still a neighbour of a1" neigh_has r6a1 "$da1" 0xa2
check "peer add again (no local)" nsx r6a1 "$ml" peer add "$da1" fd71:2::1
check "b1 comes back" wait_neigh r6a1 "$da1" 0xb1 fd71:2::1 15
check "a write after re-adding" transfer again write_bw 64K 50 1

# ---- teardown with peers configured, just after traffic ----
port=$((port + 1))
nsx r6b1 "$perf" write_bw -d "$db1" -p $port --timeout 30 >"$out/bg-server.log" 2>&1 &
s=$!
sleep 1
nsx r6a1 "$perf" write_bw -d "$da1" -p $port --timeout 30 -s 64K -D 30 10.72.2.1 >"$out/bg-client.log" 2>&1 &
c=$!
sleep 4
kill -9 $c $s 2>/dev/null
wait $c $s 2>/dev/null
ip netns del r6b1
ok "netns of b1 deleted with an IPv6 peer configured and traffic just stopped"
i=0
until rmmod megalink 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.1
done
if [ -d /sys/module/megalink ]; then bad "rmmod with IPv6 peers configured"; else ok "rmmod with IPv6 peers configured"; fi
for n in r6a1 r6a2 r6r; do ip netns del $n 2>/dev/null; done
if dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|refcount_t:|list_(add|del) corruption|circular locking|Call Trace:' >"$out/splat.txt"; then
	bad "kernel log has a splat"; cat "$out/splat.txt"
else
	ok "no splat in the kernel log"
fi
finish
