# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# link.sh (sourced, inside a harness guest as root): one veth link that
# carries every transport the benchmarks compare, so that they are measured
# on the same wire.
#
#   link_up MTU      veth va <-> vb, both ends in the initial network
#                    namespace (rdma_rxe of 6.1 works only there), with
#                    10.9.0.1/24 on va and 10.9.0.2/24 on vb and policy
#                    routing that sends traffic between the two addresses
#                    out of the veth instead of through loopback; megalink
#                    device $ML_DEV_A on va (node 0xa) and $ML_DEV_B on vb
#                    (node 0xb); rxe0 on va and rxe1 on vb when rdma_rxe
#                    loads (LINK_RXE=1, else LINK_RXE_WHY says why).
#   link_mtu MTU     change the MTU of both ends (megalink renegotiates
#                    with the next HELLOs; rxe follows the netdev)
#   link_down        remove all of it
#
# The policy routing is the recipe of design.md ("Baselines"): rules that
# look up a per-interface table for traffic leaving va or vb (by oif, or
# by source address for locally sent packets) come before the local
# table, so 10.9.0.1 -> 10.9.0.2 leaves through va and arrives on vb;
# rp_filter off and accept_local on let the kernel take it.  Clients must
# bind their source address (iperf3 -B, sockperf --client_ip).
# link_bytes prints the bytes va has sent and received: a run that moved
# nothing over the veth did not measure the link.
#
# LINK_RPS=1 (the default) gives each end its own vCPU for its receive
# processing, as two hosts would have: a veth delivers a frame on the CPU
# that sent it (the receiver's softirq work would otherwise run on the
# sender's CPU), so RPS steers what arrives on vb to vCPU 1 (the server's)
# and what arrives on va to vCPU 0 (the client's).  Every transport gets
# the same link.  LINK_RPS=0 leaves the veth as it comes.

LINK_A=va LINK_B=vb
LINK_IP_A=10.9.0.1 LINK_IP_B=10.9.0.2
ML_DEV_A='' ML_DEV_B=''
LINK_RXE=0 LINK_RXE_WHY=''

link_note() {
	echo "link: $*"
}

link_sysctl() {
	sysctl -qw "$1=$2" 2>/dev/null || link_note "sysctl $1=$2 failed"
}

link_up() {
	local mtu=${1:-9000} adm=${LINK_ADM:-$ML_REPO/tools/megalink} i
	link_down 2>/dev/null
	modprobe veth 2>/dev/null
	ip link add "$LINK_A" mtu "$mtu" type veth peer name "$LINK_B" mtu "$mtu" || return 1
	ip addr add "$LINK_IP_A/24" dev "$LINK_A"
	ip addr add "$LINK_IP_B/24" dev "$LINK_B"
	ip link set "$LINK_A" up
	ip link set "$LINK_B" up
	if [ "${LINK_RPS:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
		echo 1 >"/sys/class/net/$LINK_A/queues/rx-0/rps_cpus" &&
			echo 2 >"/sys/class/net/$LINK_B/queues/rx-0/rps_cpus" ||
			link_note "cannot set rps_cpus: receive work stays on the sending CPU"
	fi
	for k in all default "$LINK_A" "$LINK_B"; do
		link_sysctl "net.ipv4.conf.$k.rp_filter" 0
		link_sysctl "net.ipv4.conf.$k.accept_local" 1
	done
	ip rule add pref 100 oif "$LINK_A" lookup 100
	ip rule add pref 101 oif "$LINK_B" lookup 101
	ip rule add pref 1000 lookup local
	ip rule del pref 0 2>/dev/null
	ip route add "$LINK_IP_B" dev "$LINK_A" src "$LINK_IP_A" table 100
	ip route add "$LINK_IP_A" dev "$LINK_B" src "$LINK_IP_B" table 101
	# Locally sent packets (iif lo) from an address leave on its veth: a
	# socket bound to 10.9.0.1 talks to 10.9.0.2 over the wire.  (Without
	# "iif lo" the rule would also catch the packets arriving on vb, and
	# 10.9.0.2 would stop being local to them.)
	ip rule add pref 102 from "$LINK_IP_A" iif lo lookup 100
	ip rule add pref 103 from "$LINK_IP_B" iif lo lookup 101

	if [ ! -d /sys/module/megalink ]; then
		"$ML_REPO/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 || return 1
	fi
	ML_DEV_A=$("$adm" port bind "$LINK_A" node-id 0xa | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
	ML_DEV_B=$("$adm" port bind "$LINK_B" node-id 0xb | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
	[ -n "$ML_DEV_A" ] && [ -n "$ML_DEV_B" ] || { link_note "cannot bind $LINK_A/$LINK_B"; return 1; }
	link_wait_megalink || return 1

	LINK_RXE=0
	if ! modprobe rdma_rxe 2>/dev/null; then
		LINK_RXE_WHY="modprobe rdma_rxe failed"
	elif ! rdma link add rxe0 type rxe netdev "$LINK_A" 2>/dev/null ||
		! rdma link add rxe1 type rxe netdev "$LINK_B" 2>/dev/null; then
		LINK_RXE_WHY="rdma link add rxe0/rxe1 failed"
	else
		# GID 1 (IPv4-mapped RoCEv2) appears once the address is seen.
		for i in $(seq 50); do
			[ -s /sys/class/infiniband/rxe1/ports/1/gids/1 ] &&
				! grep -q '^0000:0000:0000:0000:0000:0000:0000:0000$' \
					/sys/class/infiniband/rxe1/ports/1/gids/1 && break
			sleep 0.1
		done
		LINK_RXE=1
	fi
	link_note "rps $([ "${LINK_RPS:-1}" = 1 ] && echo "on: $LINK_A -> cpu0, $LINK_B -> cpu1" || echo off); $LINK_A ($LINK_IP_A, $ML_DEV_A node 0xa$([ $LINK_RXE = 1 ] && echo ', rxe0')) <-> $LINK_B ($LINK_IP_B, $ML_DEV_B node 0xb$([ $LINK_RXE = 1 ] && echo ', rxe1')), mtu $mtu${LINK_RXE_WHY:+; no rxe: $LINK_RXE_WHY}"
}

# Both megalink ports up (carrier and the neighbour alive): at most 15 s.
link_wait_megalink() {
	local adm=${LINK_ADM:-$ML_REPO/tools/megalink} i
	for i in $(seq 150); do
		if "$adm" -j port show "$ML_DEV_A" 2>/dev/null | grep -q '"state": *"up"' &&
			"$adm" -j port show "$ML_DEV_B" 2>/dev/null | grep -q '"state": *"up"'; then
			# And each side knows the other's MTU.
			return 0
		fi
		sleep 0.1
	done
	link_note "megalink ports $ML_DEV_A/$ML_DEV_B not up after 15 s"
	return 1
}

link_bytes() {
	echo "$(cat /sys/class/net/$LINK_A/statistics/tx_bytes) $(cat /sys/class/net/$LINK_A/statistics/rx_bytes)"
}

link_mtu() {
	ip link set "$LINK_A" mtu "$1" && ip link set "$LINK_B" mtu "$1" || return 1
	# Two HELLOs later both sides know the new MTU.
	sleep 0.5
	link_wait_megalink
}

link_down() {
	rdma link del rxe0 2>/dev/null
	rdma link del rxe1 2>/dev/null
	ip link del "$LINK_A" 2>/dev/null
	ip rule del pref 100 2>/dev/null
	ip rule del pref 101 2>/dev/null
	ip rule del pref 102 2>/dev/null
	ip rule del pref 103 2>/dev/null
	if ip rule show | grep -q '^1000:'; then
		ip rule add pref 0 lookup local 2>/dev/null
		ip rule del pref 1000 2>/dev/null
	fi
	return 0
}
