#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo-guest.sh (inside a harness guest; scripts/demo.sh boots it):
# a three-node pod in one kernel.  Nodes n1, n2, n3 are network namespaces,
# full-meshed by veth pairs (each node's megalink device has two ports):
#
#        n1-n2 ---- n2-n1
#   n1 {                 } n2
#        n1-n3      n2-n3
#          |          |
#        n3-n1      n3-n2
#             } n3 {
#
# The ports are bound with tools/megalink, discovery runs, megalink-stat in
# n1 shows the pod; then the n1-n2 link is cut and restored; pingpong runs
# the data plane; last, examples/ddp_mlp.py trains an MLP with PyTorch DDP
# over the megalink backend on three nodes (the pod of tests/coll/pod.sh).
set -eu
set -o pipefail

repo=${ML_REPO:-$(pwd)}
ml=$repo/tools/megalink
mlstat=$repo/tools/megalink-stat
hello=${ML_DEMO_HELLO_MS:-100}
dead=${ML_DEMO_DEAD_MS:-1000}
nsteps=9
step=0

say() {
	step=$((step + 1))
	echo
	echo "[demo $step/$nsteps] $*"
}
die() {
	echo "demo: FAILED: $*" >&2
	exit 1
}
# on NODE CMD...: run CMD inside node NODE's network namespace
on() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
# neighbours NODE: number of neighbours NODE's megalink sees
neighbours() {
	on "$1" "$mlstat" neigh | grep -c '^neigh ' || true
}
# wait_neigh NODE N SECONDS: until NODE sees N neighbours
wait_neigh() {
	local i=0 n
	while :; do
		n=$(neighbours "$1")
		[ "$n" -eq "$2" ] && return 0
		i=$((i + 1))
		[ "$i" -lt $(($3 * 5)) ] || return 1
		sleep 0.2
	done
}

for t in "$ml" "$mlstat"; do
	[ -x "$t" ] || die "$t not built (make tools)"
done

say "loading megalink (${ML_LOAD:-insmod})"
"$repo/tests/harness/ml-load.sh"

say "creating a three-node pod: namespaces n1 n2 n3, full mesh of veth pairs"
for n in 1 2 3; do
	ip netns add "n$n"
	on "n$n" ip link set lo up
done
for pair in 1:2 1:3 2:3; do
	a=${pair%:*} b=${pair#*:}
	ip link add "n$a-n$b" netns "n$a" type veth peer name "n$b-n$a" netns "n$b"
	on "n$a" ip link set "n$a-n$b" up
	on "n$b" ip link set "n$b-n$a" up
	echo "  link n$a <-> n$b: n$a-n$b (in n$a) <-> n$b-n$a (in n$b)"
done

say "binding ports: megalink port bind IFNAME [dev DEV] node-id N hello $hello dead $dead"
for n in 1 2 3; do
	dev=''
	for peer in 1 2 3; do
		[ "$peer" -ne "$n" ] || continue
		ifname=n$n-n$peer
		if [ -z "$dev" ]; then
			cmd=(port bind "$ifname" node-id "$n" hello "$hello" dead "$dead")
		else
			cmd=(port bind "$ifname" dev "$dev")
		fi
		echo "  n$n# megalink ${cmd[*]}"
		res=$(on "n$n" "$ml" "${cmd[@]}") || die "megalink ${cmd[*]} in n$n"
		echo "    $res"
		if [ -z "$dev" ]; then
			dev=$(printf '%s\n' "$res" | sed -n 's|^port \([^/ ]*\)/.*|\1|p')
			[ -n "$dev" ] || die "cannot tell the device name from '$res'"
		fi
	done
done

say "waiting for discovery (HELLO every ${hello} ms): each node must see two neighbours"
for n in 1 2 3; do
	wait_neigh "n$n" 2 20 || die "n$n sees $(neighbours "n$n") neighbours, not 2"
	echo "  n$n: 2 neighbours"
done

say "the pod as n1 sees it: megalink-stat (in n1)"
on n1 "$mlstat"

say "cutting the n1 <-> n2 link (ip link set n1-n2 down in n1); n2 loses n1 after ${dead} ms"
on n1 ip link set n1-n2 down
wait_neigh n1 1 20 || die "n1 still sees $(neighbours n1) neighbours"
wait_neigh n2 1 20 || die "n2 still sees $(neighbours n2) neighbours"
echo "  n1: 1 neighbour, n2: 1 neighbour"
echo "  n1# megalink-stat"
on n1 "$mlstat"

say "restoring the n1 <-> n2 link"
on n1 ip link set n1-n2 up
wait_neigh n1 2 20 || die "n1 sees $(neighbours n1) neighbours after restore, not 2"
wait_neigh n2 2 20 || die "n2 sees $(neighbours n2) neighbours after restore, not 2"
echo "  n1# megalink-stat neigh"
on n1 "$mlstat" neigh

say "data plane: examples/pingpong between two more nodes (ping-pong, then a 64 MiB RDMA WRITE checked byte by byte)"
if [ -x "$repo/examples/pingpong" ]; then
	"$repo/examples/netns-pingpong.sh" -n 200 || die "examples/pingpong failed"
else
	echo "  examples/pingpong not built (make examples): SKIPPED"
fi

echo
echo "demo: tearing down the mesh"
for n in 1 2 3; do
	ip netns del "n$n"
done

say "PyTorch: examples/ddp_mlp.py, DistributedDataParallel on 3 nodes over the megalink backend"
if ls "$repo"/plugins/torch/megalink_torch/_C*.so >/dev/null 2>&1; then
	tools=$repo/tools
	# shellcheck source-path=SCRIPTDIR source=../coll/pod.sh
	. "$repo/tests/coll/pod.sh"
	pod_up 3 || die "cannot build the 3-node pod for torch"
	echo "  nodes mlc0 mlc1 mlc2 (megalink node ids 1-3), one rank each; import torch takes ~20 s here"
	pids=''
	for i in 2 1 0; do
		ip netns exec "mlc$i" env RANK=$i WORLD_SIZE=3 MASTER_ADDR="$(pod_ip 0)" MASTER_PORT=29990 \
			timeout 300 /usr/bin/python3 "$repo/examples/ddp_mlp.py" --backend megalink --steps 8 \
			>"/tmp/demo-ddp.$i" 2>&1 &
		pids="$pids $!"
	done
	rc=0
	for p in $pids; do wait "$p" || rc=1; done
	sed 's/^/  /' /tmp/demo-ddp.0
	[ $rc = 0 ] || { cat /tmp/demo-ddp.1 /tmp/demo-ddp.2; die "examples/ddp_mlp.py failed"; }
	pod_down
else
	echo "  plugins/torch not built (make torch; needs libtorch-dev): SKIPPED"
fi

echo
echo "demo: tearing down (module)"
i=0
until "$repo/tests/harness/ml-unload.sh" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || die "megalink still in use after the namespaces were deleted"
	sleep 0.1
done
echo "demo: done"
