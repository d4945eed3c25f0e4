#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-suite.sh: the pod-of-pods topology view (link-state flooding), inside
# a harness guest as root:
#
#   make modules-all lib tools guest-tests
#   tests/harness/run-in-guest.sh --kernel 6.12 --timeout 1500 -- tests/topo/run-suite.sh
#
# A ring of four nodes in network namespaces tp1..tp4 (node ids
# 0x101..0x104), each a device with two ports on veth pairs to its two
# neighbours.  Every node must converge to the whole ring (its own view,
# megalink-stat -j topo, checked by topotool.py); node 3 leaves (its ports
# unbound: the device withdraws its record) and returns; a link goes down
# and up; megalink-stat monitor reports the changes; QPs mark their link in
# use; a fifth node joins over a UDP peer link and leaves again; hostile TOPO frames
# sent raw with AF_PACKET (bad lengths, too many links, bad ids, a huge seq
# in our own name, 2000 fake nodes) are dropped and counted and the
# tables stay bounded; the DOT output parses (drawn by dot if installed).
# Ends with "topo: N passed, M failed"; exit 0 only if nothing failed.
set -u

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$repo/tests/topo
ml=$repo/tools/megalink
stat=$repo/tools/megalink-stat
perf=$repo/tools/megalink-perf
tool=$here/topotool.py
out=${ML_OUT:-/tmp/megalink-topo-out}
mkdir -p "$out"
cd "$repo" || exit 1

passed=0 failed=0

ok() { passed=$((passed + 1)); echo "PASS: $* [${SECONDS}s]"; }
bad() { failed=$((failed + 1)); echo "FAIL: $* [${SECONDS}s]"; }
check() { # check DESC COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
cleanup() {
	[ -n "${monpid:-}" ] && kill "$monpid" 2>/dev/null
	for n in tp1 tp2 tp3 tp4 tp5; do ip netns del $n 2>/dev/null; done
}
finish() {
	cleanup
	echo "topo: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
skip() {
	echo "ML-SKIP: topo: $* ***** SKIPPED: prerequisite missing *****"
	echo "topo: 0 passed, 0 failed (skipped)"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "must run as root (inside the test guest)"
for t in ip python3 timeout; do
	command -v $t >/dev/null || skip "$t not found"
done
[ -x "$ml" ] || skip "$ml not built (make tools)"
[ -x "$stat" ] || skip "$stat not built (make tools)"
modprobe veth 2>/dev/null || true

echo "== megalink topology suite: kernel $(uname -r)"
if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" hello_ms=200 dead_ms=1000 ||
		{ bad "load the module"; finish; }
fi

nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

cleanup
set -e
for i in 1 2 3 4; do
	ip netns add tp$i
	ip -n tp$i link set lo up
done
# ring 1-2-3-4-1: veth tpXY in tpX <-> tpYX in tpY
for p in 12 23 34 41; do
	a=${p:0:1} b=${p:1:1}
	ip link add v$a$b netns tp$a type veth peer name v$b$a netns tp$b
	ip -n tp$a link set v$a$b up
	ip -n tp$b link set v$b$a up
done
set +e

# ports of node i: its two veths
ports() {
	case $1 in
	1) echo v12 v14 ;; 2) echo v21 v23 ;; 3) echo v32 v34 ;; 4) echo v43 v41 ;;
	esac
}
# bind node i: both ports into one device, node id 0x10i
bind_node() {
	local i=$1 dev p
	set -- $(ports "$i")
	dev=$(nsx tp$i "$ml" port bind "$1" node-id 0x10$i hello 200 dead 1000 |
	      sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
	[ -n "$dev" ] || return 1
	nsx tp$i "$ml" port bind "$2" dev "$dev" >/dev/null || return 1
	echo "$dev"
}
for i in 1 2 3 4; do
	d=$(bind_node $i) || { bad "bind node $i"; finish; }
	eval dev$i=$d
done
ok "bind four nodes, two ports each ($dev1 $dev2 $dev3 $dev4)"

all_nodes=0x101,0x102,0x103,0x104
ring=0x101-0x102,0x102-0x103,0x103-0x104,0x104-0x101

# converged NS NODES EDGES [SECONDS]: the view of NS becomes NODES/EDGES
converged() {
	local ns=$1 nodes=$2 edges=$3 t=${4:-20} i
	for ((i = 0; i < t * 4; i++)); do
		nsx "$ns" "$stat" -j topo >"$out/view-$ns.json" 2>&1 &&
			"$tool" converge "$nodes" "$edges" <"$out/view-$ns.json" \
				>"$out/why-$ns.txt" && return 0
		sleep 0.25
	done
	echo "  $ns: $(cat "$out/why-$ns.txt")"
	return 1
}
all_converged() { # NODES EDGES [NAMESPACES]
	local ns r=0
	for ns in ${3:-tp1 tp2 tp3 tp4}; do
		converged "$ns" "$1" "$2" || r=1
	done
	return $r
}

t0=$(date +%s)
check "every node converges to the whole ring" all_converged $all_nodes $ring
echo "  converged in $(($(date +%s) - t0)) s"
nsx tp1 "$stat" topo | head -20

# monitor in tp1 for the changes below
ip netns exec tp1 "$stat" -j monitor >"$out/monitor.txt" 2>&1 &
monpid=$!	# ip netns exec execs megalink-stat: this is its pid
# listening once it reports a device appearing: bind and unbind a spare
# veth of tp1 until it does
ip -n tp1 link add vmon0 type veth peer name vmon1
ip -n tp1 link set vmon1 up
ip -n tp1 link set vmon0 up
mon_ready() {
	local i
	for ((i = 0; i < 40; i++)); do
		nsx tp1 "$ml" port bind vmon0 node-id 0x1f0 >/dev/null 2>&1
		nsx tp1 "$ml" port unbind vmon0 >/dev/null 2>&1
		grep -q '"dev_new"' "$out/monitor.txt" && return 0
		sleep 0.25
	done
	return 1
}
check "megalink-stat monitor is listening" mon_ready
ip -n tp1 link del vmon0

# node 3 leaves: its device goes (ports unbound), it withdraws its record
for p in $(ports 3); do nsx tp3 "$ml" port unbind "$p"; done
check "node 3 leaves: the others converge without it" \
	all_converged 0x101,0x102,0x104 0x101-0x102,0x104-0x101 "tp1 tp2 tp4"
d=$(bind_node 3) && eval dev3=$d
check "node 3 returns: every node converges to the whole ring again" \
	all_converged $all_nodes $ring

# a link goes down (carrier of both ends) and comes back
ip -n tp1 link set v12 down
check "link 1-2 down: the others see the ring without it" \
	all_converged $all_nodes 0x102-0x103,0x103-0x104,0x104-0x101
ip -n tp1 link set v12 up
check "link 1-2 up: the whole ring again" all_converged $all_nodes $ring

sleep 0.5
kill "$monpid" 2>/dev/null
wait "$monpid" 2>/dev/null
monpid=
mon_has() { # EVENT NODE
	python3 -c '
import json, sys
ev, node = sys.argv[1], int(sys.argv[2], 0)
for line in open(sys.argv[3]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == ev and e.get("node_id") == node:
        sys.exit(0)
sys.exit(1)' "$1" "$2" "$out/monitor.txt"
}
check "monitor: node 3 left" mon_has topo_node_leave 0x103
check "monitor: node 3 joined" mon_has topo_node_join 0x103
check "monitor: node 1 link down" mon_has topo_link_down 0x101
check "monitor: node 2 link up" mon_has topo_link_up 0x102

# text and DOT output
check "topo text output names every node" \
	bash -c "nsx() { ip netns exec \"\$@\"; }; [ \$(ip netns exec tp2 '$stat' topo | grep -c '^  node 0x0000010') = 4 ]"
nsx tp1 "$stat" --dot topo >"$out/topo.dot"
check "DOT output is a graph of the four nodes" \
	"$tool" dotcheck "$out/topo.dot" $all_nodes
if command -v dot >/dev/null; then
	check "dot -Tpng parses the DOT output" dot -Tpng -o "$out/topo-dot.png" "$out/topo.dot"
	nsx tp1 "$stat" --png "$out/topo.png" topo
	check "megalink-stat --png writes a PNG" \
		bash -c "head -c 8 '$out/topo.png' | od -An -tx1 | grep -q '89 50 4e 47'"
else
	echo "ML-SKIP: topo: Graphviz dot not installed: DOT not drawn ***** SKIPPED *****"
	pngerr() {
		! nsx tp1 "$stat" --png "$out/topo.png" topo 2>"$out/png.err" &&
			grep -q 'Graphviz' "$out/png.err"
	}
	check "--png without dot fails with a clear error" pngerr
fi

# ---- a link with live QPs is marked in use ----
# in_use NS NODE: the own record of NS marks its link to NODE in use
in_use() {
	nsx "$1" "$stat" -j topo | python3 -c '
import json, sys
node = int(sys.argv[1], 0)
v = json.load(sys.stdin)
sys.exit(0 if any(l["node_id"] == node and l["in_use"] and l["qps"] > 0
                  for n in v if n["self"] for l in n["links"]) else 1)' "$2"
}
not_in_use() { ! in_use "$@"; }
if [ -x "$perf" ]; then
	ip -n tp1 addr add 10.72.12.1/24 dev v12
	ip -n tp2 addr add 10.72.12.2/24 dev v21
	nsx tp2 timeout 60 "$perf" write_bw -d "$dev2" -p 18620 --timeout 30 \
		>"$out/perf-server.log" 2>&1 &
	ps=$!
	sleep 1
	# -D 30: the QPs must outlive the checks below on a loaded 2-core
	# CI machine, where each megalink-stat call in the guest takes seconds
	nsx tp1 timeout 90 "$perf" write_bw -d "$dev1" -p 18620 --timeout 30 \
		-s 4K -D 30 10.72.12.2 >"$out/perf-client.log" 2>&1 &
	pc=$!
	inuse_seen() {
		local i
		for ((i = 0; i < 32; i++)); do
			if in_use tp1 0x102 && in_use tp2 0x101; then
				# the DOT view taken while the QPs are known live
				nsx tp1 "$stat" --dot topo >"$out/topo-inuse.dot"
				return 0
			fi
			sleep 0.25
		done
		return 1
	}
	check "QPs between nodes 1 and 2 mark their link in use" inuse_seen
	check "DOT shows the link in use" grep -q 'in use' "$out/topo-inuse.dot"
	check "the link 1-4 carries no QP" not_in_use tp1 0x104
	wait $pc 2>/dev/null
	kill $ps 2>/dev/null
	wait $ps 2>/dev/null
	check "no QP left: the link is not in use" not_in_use tp1 0x102
else
	echo "ML-SKIP: topo: $perf not built: in-use marking not tested ***** SKIPPED *****"
fi

# ---- a UDP link: node 5 reaches node 1 only over UDP/IPv4 ----
udp_ok=1
ip netns add tp5 && ip -n tp5 link set lo up &&
	ip link add v15 netns tp1 type veth peer name v51 netns tp5 &&
	ip -n tp1 link set v15 up && ip -n tp5 link set v51 up &&
	ip -n tp1 addr add 10.72.15.1/24 dev v15 &&
	ip -n tp5 addr add 10.72.15.5/24 dev v51 || udp_ok=0
dev5=
[ $udp_ok = 1 ] && dev5=$(nsx tp5 "$ml" port bind v51 node-id 0x105 hello 200 dead 1000 |
	sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
if [ -n "$dev5" ] && nsx tp1 "$ml" peer add "$dev1" 10.72.15.5 &&
	nsx tp5 "$ml" peer add "$dev5" 10.72.15.1; then
	ok "node 5 bound, UDP peers 1 <-> 5 added"
	check "every node converges to the ring plus the UDP link 1-5" \
		all_converged $all_nodes,0x105 $ring,0x101-0x105 "tp1 tp2 tp3 tp4 tp5"
	udp_kind() {
		nsx tp3 "$stat" -j topo | python3 -c '
import json, sys
v = json.load(sys.stdin)
sys.exit(0 if any(n["node_id"] == 0x101 and l["node_id"] == 0x105 and
                  l["kind"] == "udp" for n in v for l in n["links"]) else 1)'
	}
	check "node 3 (two hops away) sees the 1-5 link as udp" udp_kind
	nsx tp1 "$ml" peer del "$dev1" 10.72.15.5
	check "UDP peer deleted: node 5 leaves the others' view" \
		all_converged $all_nodes $ring "tp1 tp2 tp3 tp4"
else
	bad "set up node 5 with a UDP link to node 1"
fi
ip netns del tp5 2>/dev/null

# ---- hostile frames, sent from tp1 out of v12 to node 2 ----
# cnt NAME: counter NAME of node 2's port v21
cnt() {
	nsx tp2 "$stat" -j stats "$dev2" | python3 -c '
import json, sys
print(sum(s[sys.argv[1]] for s in json.load(sys.stdin) if s["ifname"] == "v21"))' "$1"
}
hostile() { # DESC CASE ARG COUNTER MIN
	local before after
	before=$(cnt "$4")
	nsx tp1 "$tool" send v12 "$2" "$3" >/dev/null
	sleep 0.5
	after=$(cnt "$4")
	if [ $((after - before)) -ge "$5" ]; then
		ok "$1 ($4 +$((after - before)))"
	else
		bad "$1 ($4 $before -> $after, want +$5)"
	fi
}
hostile "bad lengths dropped" badlen "" drop_topo_malformed 2
hostile "65 links dropped" toomany "" drop_topo_malformed 1
hostile "bad node ids, ports, flags, lifetime dropped" badid "" drop_topo_malformed 6
seq2=$(nsx tp2 "$stat" -j topo "$dev2" | "$tool" selfseq)
hostile "a huge seq in node 2's own name is dropped" spoof "0x102:$seq2" drop_topo_spoof 1
# node 2 answers with a record above the spoofed one: the others keep
# (or get back) its real links, at its own seq.  Node 2 refreshes its
# record every refresh (1 s here, 5 x hello), and on a loaded CI machine the two
# reads below can be further apart than that: node 1's copy, read first,
# must be above the spoof and at most a few refreshes behind node 2's own
# seq, read second (a spoofed copy would be ahead of it).
same_seq() {
	local i own seen
	for ((i = 0; i < 40; i++)); do
		seen=$(nsx tp1 "$stat" -j topo | python3 -c '
import json, sys
print([n["seq"] for n in json.load(sys.stdin) if n["node_id"] == 0x102][0])')
		own=$(nsx tp2 "$stat" -j topo "$dev2" | "$tool" selfseq)
		# seqs are u32 and compare modulo 2^32
		[ $(((seen - seq2) & 0xffffffff)) -ge $((1 << 30)) ] &&
			[ $(((own - seen) & 0xffffffff)) -le 64 ] && return 0
		sleep 0.25
	done
	echo "  node 2 seq $own, node 1 holds $seen (was $seq2)"
	return 1
}
check "node 2 re-originates above the spoofed record" same_seq
check "the ring is whole after the spoof" all_converged $all_nodes $ring
hostile "2000 fake nodes: the table stays full, evicting fakes" flood 2000 drop_topo_full 100
for ns in tp1 tp2 tp3 tp4; do
	n=$(nsx $ns "$stat" -j topo | "$tool" count)
	check "$ns stores $n records, at most 256" [ "$n" -le 256 ]
done
check "the real ring is still whole after the flood" all_converged $all_nodes $ring

# unload with four devices and full tables: everything is freed
i=0
until rmmod megalink 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.1
done
if [ -d /sys/module/megalink ]; then bad "rmmod with the fabric up"; else ok "rmmod with the fabric up"; fi

if dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|refcount_t:|list_(add|del) corruption|circular locking|Call Trace:' >"$out/splat.txt"; then
	bad "kernel log has a splat"; cat "$out/splat.txt"
else
	ok "no splat in the kernel log"
fi

finish
