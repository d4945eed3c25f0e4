# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# routed.sh (sourced by bench-guest.sh, after link.sh): the routed case of
# make bench (issue 12).  Two nodes in network namespaces, each on its own
# subnet, joined by an IP router (the guest's initial namespace with
# ip_forward=1):
#
#   netns bra: rta 10.9.1.1/24 --veth-- ra 10.9.1.254 [router] rb 10.9.2.254 --veth-- rtb 10.9.2.1/24 :netns brb
#
# megalink runs over UDP (peers added by address, as across pods); TCP
# (sockperf, iperf3) runs on the same path.  soft-RoCE is RoCEv2, routable
# too, but the Debian kernels' rdma_rxe works only in the initial network
# namespace, so the rxe rows of this case are left out (said in the log).
# Rows carry case "routed"; report.py puts them beside the Ethernet
# headline of the same MTU.  The pair() of bench-guest.sh runs the
# commands; the bytes it reports are those of ra, the router's side of
# node A's link.
#
# routed_up MTU / routed_down.  Sets ROUTED_DEV_A/B, ROUTED_WHY on failure.

ROUTED_IP_A=10.9.1.1 ROUTED_IP_B=10.9.2.1
ROUTED_DEV_A='' ROUTED_DEV_B='' ROUTED_WHY=''

routed_down() {
	ip netns del bra 2>/dev/null
	ip netns del brb 2>/dev/null
	ip link del ra 2>/dev/null
	ip link del rb 2>/dev/null
	[ -n "${routed_fwd:-}" ] && sysctl -qw net.ipv4.ip_forward="$routed_fwd"
	return 0
}

# routed_wait_neigh NS DEV NODE: the UDP neighbour is up, at most 15 s.
routed_wait_neigh() {
	local adm=$ML_REPO/tools/megalink _
	for _ in $(seq 150); do
		ip netns exec "$1" "$adm" -j neigh show "$2" 2>/dev/null |
			grep -q "\"node_id\": *$(($3))" && return 0
		sleep 0.1
	done
	return 1
}

routed_up() {
	local mtu=$1 adm=$ML_REPO/tools/megalink n
	routed_down
	# Loaded by link.sh's link_up, unless the case runs alone.
	if [ ! -d /sys/module/megalink ]; then
		"$ML_REPO/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 ||
			{ ROUTED_WHY="the module did not load"; return 1; }
	fi
	routed_fwd=$(sysctl -n net.ipv4.ip_forward)
	ip netns add bra && ip netns add brb || { ROUTED_WHY="ip netns add failed"; return 1; }
	ip link add ra mtu "$mtu" type veth peer name rta mtu "$mtu" netns bra &&
		ip link add rb mtu "$mtu" type veth peer name rtb mtu "$mtu" netns brb ||
		{ ROUTED_WHY="veth creation failed"; return 1; }
	ip addr add 10.9.1.254/24 dev ra
	ip addr add 10.9.2.254/24 dev rb
	ip link set ra up
	ip link set rb up
	sysctl -qw net.ipv4.ip_forward=1
	for n in a b; do
		ip -n br$n link set lo up
		ip -n br$n link set rt$n up
	done
	ip -n bra addr add "$ROUTED_IP_A/24" dev rta
	ip -n brb addr add "$ROUTED_IP_B/24" dev rtb
	ip -n bra route add default via 10.9.1.254
	ip -n brb route add default via 10.9.2.254
	# As link.sh: what arrives at node A on vCPU 0 (its client), at B on 1.
	if [ "${LINK_RPS:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
		ip netns exec bra sh -c 'echo 1 >/sys/class/net/rta/queues/rx-0/rps_cpus' &&
			ip netns exec brb sh -c 'echo 2 >/sys/class/net/rtb/queues/rx-0/rps_cpus' ||
			echo "routed: cannot set rps_cpus"
	fi
	ROUTED_DEV_A=$(ip netns exec bra "$adm" port bind rta node-id 0x1a | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
	ROUTED_DEV_B=$(ip netns exec brb "$adm" port bind rtb node-id 0x1b | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
	[ -n "$ROUTED_DEV_A" ] && [ -n "$ROUTED_DEV_B" ] || { ROUTED_WHY="megalink port bind failed"; return 1; }
	ip netns exec bra "$adm" peer add "$ROUTED_DEV_A" "$ROUTED_IP_B" &&
		ip netns exec brb "$adm" peer add "$ROUTED_DEV_B" "$ROUTED_IP_A" ||
		{ ROUTED_WHY="megalink peer add failed"; return 1; }
	routed_wait_neigh bra "$ROUTED_DEV_A" 0x1b && routed_wait_neigh brb "$ROUTED_DEV_B" 0x1a ||
		{ ROUTED_WHY="the UDP neighbours did not come up in 15 s"; return 1; }
	echo "routed: rta ($ROUTED_IP_A, $ROUTED_DEV_A node 0x1a) -> router -> rtb ($ROUTED_IP_B, $ROUTED_DEV_B node 0x1b), mtu $mtu; megalink over UDP port $(cat /sys/module/megalink/parameters/udp_port)"
}

# routed_case MTU: the routed rows (latency and bandwidth; megalink, TCP).
routed_case() {
	local mtu=$1 la=$LINK_A a=$ip_a b=$ip_b
	if ! routed_up "$mtu"; then
		echo "bench: ML-SKIP-NOTE: routed case not run: $ROUTED_WHY"
		f routed "$mtu" | jq -c --arg e "setup: $ROUTED_WHY" '. + {transport: "megalink", error: $e}' >>"$res"
		nfail=$((nfail + 1))
		routed_down
		return
	fi
	echo "bench: routed case: soft-RoCE rows left out (rdma_rxe works only in the initial network namespace here)"
	LINK_A=ra ip_a=$ROUTED_IP_A ip_b=$ROUTED_IP_B
	local pa=(ip netns exec bra) pb=(ip netns exec brb)
	progress "routed: megalink (UDP) write_lat 8 B (mtu $mtu)"
	pair megalink-perf "$(f routed "$mtu" "size=8")" "${pb[@]}" "$P" -d "$ROUTED_DEV_B" write_lat -- \
		"${pa[@]}" "$P" -d "$ROUTED_DEV_A" -j -s 8 -n "$(lat_n 8)" write_lat "$ip_b"
	progress "routed: megalink (UDP) write_bw 64 KiB (mtu $mtu)"
	pair megalink-perf "$(f routed "$mtu" "size=65536")" "${pb[@]}" "$P" -d "$ROUTED_DEV_B" write_bw -- \
		"${pa[@]}" "$P" -d "$ROUTED_DEV_A" -j -s 65536 -D "$secs" write_bw "$ip_b"
	local port=$((12001 + nrun % 1000))
	progress "routed: tcp sockperf ping-pong 14 B (mtu $mtu)"
	BENCH_SERVER_WAIT=1 pair sockperf "$(f routed "$mtu" "size=14")" "${pb[@]}" sockperf server -i "$ip_b" -p "$port" --tcp -- \
		"${pa[@]}" sockperf ping-pong -i "$ip_b" -p "$port" --tcp -m 14 -t "$secs"
	port=$((5201 + nrun % 1000))
	progress "routed: tcp iperf3 64 KiB writes (mtu $mtu)"
	BENCH_SERVER_WAIT=1 pair iperf3 "$(f routed "$mtu" "size=65536" "write=65536")" "${pb[@]}" iperf3 -s -B "$ip_b" -p "$port" -1 -- \
		"${pa[@]}" iperf3 -c "$ip_b" -B "$ip_a" -p "$port" -t "$secs" -l 65536 -J
	LINK_A=$la ip_a=$a ip_b=$b
	routed_down
}
