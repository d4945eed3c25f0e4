#!/bin/sh
# SPDX-License-Identifier: MIT
#
# netns-pingpong.sh [PINGPONG-OPTIONS]
#
# Runs examples/pingpong between two "nodes" on one machine: network
# namespaces mla and mlb joined by a veth pair (MTU 9000), each end bound as
# a megalink port (node ids 0xa and 0xb), with IPv4 10.77.0.1/.2 on the
# veth for pingpong's TCP side channel.  Needs root and the megalink module
# (loaded, or ML_KO=path/to/megalink.ko to insmod it).  Inside a harness
# guest:
#
#   tests/harness/run-in-guest.sh --kernel 6.12 -- examples/netns-pingpong.sh -n 200
#
# Exit status: the client's (0 when the RDMA write checked out).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tools=$here/../tools
pp=$here/pingpong

[ -x "$pp" ] || { echo "netns-pingpong: build it first: make -C $here" >&2; exit 1; }
[ -x "$tools/megalink" ] || { echo "netns-pingpong: make -C $tools first" >&2; exit 1; }
if [ ! -d /sys/module/megalink ]; then
	[ -n "${ML_KO:-}" ] || { echo "netns-pingpong: load megalink or set ML_KO" >&2; exit 1; }
	for dep in $(modinfo -F depends "$ML_KO" | tr ',' ' '); do modprobe "$dep"; done
	insmod "$ML_KO"
fi
modprobe veth 2>/dev/null || true

cleanup() {
	ip netns del mla 2>/dev/null || true
	ip netns del mlb 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add mla
ip netns add mlb
ip link add va mtu 9000 netns mla type veth peer name vb mtu 9000 netns mlb
for n in a b; do
	ip -n "ml$n" link set lo up
	ip -n "ml$n" link set "v$n" up
done
ip -n mla addr add 10.77.0.1/24 dev va
ip -n mlb addr add 10.77.0.2/24 dev vb

# "port ml0/0 ifname va ..." -> ml0
deva=$(ip netns exec mla "$tools/megalink" port bind va node-id 0xa | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
devb=$(ip netns exec mlb "$tools/megalink" port bind vb node-id 0xb | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
echo "netns-pingpong: mla: $deva (node 0xa), mlb: $devb (node 0xb)"

# Wait (up to 10 s) until each side sees the other as a live neighbour.
i=0
until ip netns exec mla "$tools/megalink-stat" neigh | grep -q 'node-id 0x0000000b' &&
	ip netns exec mlb "$tools/megalink-stat" neigh | grep -q 'node-id 0x0000000a'; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "netns-pingpong: no neighbours after 10 s" >&2; exit 1; }
	sleep 0.1
done

ip netns exec mlb "$pp" -d "$devb" "$@" &
server=$!
rc=0
ip netns exec mla "$pp" -d "$deva" "$@" 10.77.0.2 || rc=$?
wait "$server" || rc=$((rc ? rc : $?))
echo "netns-pingpong: exit $rc"
exit $rc
