# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# pod.sh (sourced, inside a harness guest as root): the pod of the
# collectives suites (tests/coll, tests/torch).
#
#   pod_up N     nodes mlc0..mlc(N-1): network namespaces, each with one
#                veth e<i> (MTU 9000) whose other end mlcb<i> is in the
#                bridge mlcbr of the initial namespace; each veth is a
#                megalink port (node id i+1) and carries IPv4
#                10.78.0.(i+1)/24 for the TCP rendezvous.  Returns when
#                every node sees the N-1 others (15 s at most).
#   pod_down     removes the namespaces and the bridge (any N up to 8)
#   pod_ip I     the address of node I (rank 0's is the MASTER_ADDR)
#
# Needs $tools (the tree's tools/) and the module loaded.

pod_ip() {
	echo "10.78.0.$(($1 + 1))"
}

pod_up() {
	local n=$1 i t ok
	ip link del mlcbr 2>/dev/null || true
	ip link add mlcbr mtu 9000 type bridge || return 1
	ip link set mlcbr up
	for i in $(seq 0 $((n - 1))); do
		ip netns del "mlc$i" 2>/dev/null || true
		ip netns add "mlc$i"
		ip link add "mlcb$i" mtu 9000 type veth peer name "e$i" mtu 9000 netns "mlc$i" || return 1
		ip link set "mlcb$i" master mlcbr up
		ip -n "mlc$i" link set lo up
		ip -n "mlc$i" link set "e$i" up
		ip -n "mlc$i" addr add "$(pod_ip "$i")/24" dev "e$i"
		ip netns exec "mlc$i" "$tools/megalink" port bind "e$i" node-id "$((i + 1))" >/dev/null ||
			return 1
	done
	# every node sees the n-1 others
	for t in $(seq 1 150); do
		ok=1
		for i in $(seq 0 $((n - 1))); do
			[ "$(ip netns exec "mlc$i" "$tools/megalink-stat" neigh | grep -c 'node-id')" -ge $((n - 1)) ] || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	echo "pod: neighbours not all found after 15 s"
	return 1
}

pod_down() {
	local i
	for i in 0 1 2 3 4 5 6 7; do ip netns del "mlc$i" 2>/dev/null || true; done
	ip link del mlcbr 2>/dev/null || true
}
