# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# multipath.sh (sourced by bench-guest.sh, after link.sh): the multi-port
# case of make bench (issue 12 part 2).  Two nodes in network namespaces
# joined by TWO veth pairs, both ports of each megalink device:
#
#   netns bma: ma0 --veth-- mb0 :netns bmb      (data, port 0)
#              ma1 --veth-- mb1                 (data, port 1)
#              mca 10.9.3.1 --veth-- mcb 10.9.3.2  (megalink-perf's TCP side channel)
#
# 64 KiB WRITE bandwidth with both ports (the QP stripes over two paths),
# then, in the same boot, with port 1 unbound on both ends (one path), in
# rounds as the headline: rows of case "multipath" with ports=2 / ports=1.
# report.py gives the ratio two ports / one port.  A TCG guest is CPU
# bound: two links double the wire, not the vCPUs that drive them, so the
# ratio says how far megalink is from using a second link, not what a
# second NIC would give on hardware; the guest CPU columns tell.
#
# So the case runs twice: unshaped (the vCPUs are the limit), and shaped,
# each data link limited to ML_BENCH_MP_RATE (default 600mbit, netem rate
# with a queue deep enough never to drop) on both ends, well below what
# the vCPUs can drive over one link, so that the wire is the limit, as
# with real NICs: there two ports must give twice one.  Shaped rows carry
# "shaped": "RATE".
#
# multipath_case MTU.  Sets MP_WHY on a setup failure.

MP_IP_A=10.9.3.1 MP_IP_B=10.9.3.2
MP_DEV_A='' MP_DEV_B='' MP_WHY=''

multipath_down() {
	ip netns del bma 2>/dev/null
	ip netns del bmb 2>/dev/null
	return 0
}

# multipath_paths N: each device sees the other node on N ports, at most 15 s.
multipath_paths() {
	local adm=$ML_REPO/tools/megalink _ na nb
	for _ in $(seq 150); do
		# text: one line per neighbour (-j is one line for all)
		na=$(ip netns exec bma "$adm" neigh show "$MP_DEV_A" 2>/dev/null | grep -c 'node-id 0x0000001d')
		nb=$(ip netns exec bmb "$adm" neigh show "$MP_DEV_B" 2>/dev/null | grep -c 'node-id 0x0000001c')
		[ "$na" = "$1" ] && [ "$nb" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

multipath_up() {
	local mtu=$1 adm=$ML_REPO/tools/megalink i
	multipath_down
	modprobe veth 2>/dev/null
	# Loaded by link.sh's link_up, unless the case runs alone.
	if [ ! -d /sys/module/megalink ]; then
		"$ML_REPO/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 ||
			{ MP_WHY="the module did not load"; return 1; }
	fi
	ip netns add bma && ip netns add bmb || { MP_WHY="ip netns add failed"; return 1; }
	for i in 0 1; do
		ip link add ma$i netns bma mtu "$mtu" type veth peer name mb$i netns bmb mtu "$mtu" ||
			{ MP_WHY="veth creation failed"; return 1; }
		ip -n bma link set ma$i up
		ip -n bmb link set mb$i up
		# As link.sh: A's receive work on vCPU 0 (its client), B's on 1.
		if [ "${LINK_RPS:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
			ip netns exec bma sh -c "echo 1 >/sys/class/net/ma$i/queues/rx-0/rps_cpus"
			ip netns exec bmb sh -c "echo 2 >/sys/class/net/mb$i/queues/rx-0/rps_cpus"
		fi
	done
	ip link add mca netns bma type veth peer name mcb netns bmb
	for n in a b; do
		ip -n bm$n link set lo up
		ip -n bm$n link set mc$n up
	done
	ip -n bma addr add "$MP_IP_A/24" dev mca
	ip -n bmb addr add "$MP_IP_B/24" dev mcb
	MP_DEV_A=$(ip netns exec bma "$adm" port bind ma0 node-id 0x1c | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
	MP_DEV_B=$(ip netns exec bmb "$adm" port bind mb0 node-id 0x1d | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
	[ -n "$MP_DEV_A" ] && [ -n "$MP_DEV_B" ] &&
		ip netns exec bma "$adm" port bind ma1 dev "$MP_DEV_A" >/dev/null &&
		ip netns exec bmb "$adm" port bind mb1 dev "$MP_DEV_B" >/dev/null ||
		{ MP_WHY="megalink port bind failed"; return 1; }
	multipath_paths 2 || { MP_WHY="the two paths did not come up in 15 s"; return 1; }
	echo "multipath: bma ($MP_DEV_A node 0x1c, ports ma0 ma1) == two veth pairs == bmb ($MP_DEV_B node 0x1d), mtu $mtu"
}

# multipath_shape RATE|off: netem rate on every data link, both ends.
multipath_shape() {
	local i
	for i in 0 1; do
		ip netns exec bma tc qdisc del dev ma$i root 2>/dev/null
		ip netns exec bmb tc qdisc del dev mb$i root 2>/dev/null
		[ "$1" = off ] && continue
		# A queue of 20000 frames: the rate shapes, it never drops.
		ip netns exec bma tc qdisc add dev ma$i root netem rate "$1" limit 20000 || return 1
		ip netns exec bmb tc qdisc add dev mb$i root netem rate "$1" limit 20000 || return 1
	done
}

# multipath_bw MTU PORTS [RATE]: one 64 KiB write_bw row per round.
multipath_bw() {
	local mtu=$1 ports=$2 rate=${3:-} pa=(ip netns exec bma) pb=(ip netns exec bmb) r
	local extra=() what=''
	[ -n "$rate" ] && extra=("shaped=\"$rate\"") what=", links shaped to $rate"
	for r in $(seq "$rounds"); do
		round=$r
		progress "multipath: megalink write_bw 64 KiB, $ports port(s)$what, round $r (mtu $mtu)"
		pair megalink-perf "$(f multipath "$mtu" "size=65536" "ports=$ports" "${extra[@]}")" \
			"${pb[@]}" "$P" -d "$MP_DEV_B" write_bw -- \
			"${pa[@]}" "$P" -d "$MP_DEV_A" -j -s 65536 -D "$secs" write_bw "$MP_IP_B"
	done
	round=1
}

multipath_case() {
	local mtu=$1 la=$LINK_A adm=$ML_REPO/tools/megalink
	if ! multipath_up "$mtu"; then
		echo "bench: ML-SKIP-NOTE: multipath case not run: $MP_WHY"
		f multipath "$mtu" | jq -c --arg e "setup: $MP_WHY" '. + {transport: "megalink", error: $e}' >>"$res"
		nfail=$((nfail + 1))
		multipath_down
		return
	fi
	# veth byte counters of pair(): port 0's, in bma; port 1's are printed.
	LINK_A=ma0 LINK_NS=bma
	local t0 t1 rate=${ML_BENCH_MP_RATE:-600mbit} shaped=1
	t0=$(ip netns exec bma cat /sys/class/net/ma1/statistics/tx_bytes)
	multipath_bw "$mtu" 2
	t1=$(ip netns exec bma cat /sys/class/net/ma1/statistics/tx_bytes)
	echo "multipath: port 1 (ma1) carried $((t1 - t0)) B during the two-port runs"
	if multipath_shape "$rate"; then
		multipath_bw "$mtu" 2 "$rate"
	else
		shaped=0
		echo "bench: ML-SKIP-NOTE: multipath shaped runs not done: tc netem rate failed"
	fi
	ip netns exec bma "$adm" port unbind ma1 >/dev/null
	ip netns exec bmb "$adm" port unbind mb1 >/dev/null
	multipath_paths 1 || echo "multipath: still two paths after unbinding port 1?"
	[ "$shaped" = 1 ] && multipath_bw "$mtu" 1 "$rate"
	multipath_shape off
	multipath_bw "$mtu" 1
	LINK_A=$la LINK_NS=
	multipath_down
}
