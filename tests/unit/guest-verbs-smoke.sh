#!/bin/sh
# SPDX-License-Identifier: MIT
#
# In-guest check of the libmegalink data plane (guest_verbs, Check) against
# the real module: two nodes (netns a, b) joined by a veth pair, one device
# each; guest_verbs opens both devices from one process and connects QPs
# across the pair.
#
#   make -C tests/unit guest_verbs
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/unit/guest-verbs-smoke.sh
#
# Prints Check's per-test lines and its summary; exit status is guest_verbs'.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
T=$here/../../tools
[ -x "$here/guest_verbs" ] || { echo "guest-verbs-smoke: make -C $here guest_verbs" >&2; exit 1; }
modprobe veth 2>/dev/null || true
if [ ! -d /sys/module/megalink ]; then
	for dep in $(modinfo -F depends "${ML_KO:?}" | tr ',' ' '); do modprobe "$dep"; done
	insmod "$ML_KO" hello_ms=100 dead_ms=1000
fi

# node N (netns N, veth vN, node id 0xN) <-> node M; prints "mlX mlY"
pair() {
	ip netns add "$1"
	ip netns add "$2"
	ip link add "v$1" mtu 9000 netns "$1" type veth peer name "v$2" mtu 9000 netns "$2"
	ip -n "$1" link set "v$1" up
	ip -n "$2" link set "v$2" up
	d1=$(ip netns exec "$1" "$T/megalink" port bind "v$1" node-id "0x$1" |
		sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
	d2=$(ip netns exec "$2" "$T/megalink" port bind "v$2" node-id "0x$2" |
		sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
	i=0
	until ip netns exec "$1" "$T/megalink-stat" neigh | grep -q "node-id 0x0000000$2" &&
		ip netns exec "$2" "$T/megalink-stat" neigh | grep -q "node-id 0x0000000$1"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "guest-verbs-smoke: no neighbours after 10 s" >&2; exit 1; }
		sleep 0.1
	done
	echo "$d1 $d2"
}

# a <-> b for most tests; c <-> d for the one that unbinds d's port
ab=$(pair a b) && cd=$(pair c d) || exit 1
ML_DEV_A=${ab% *} ML_DEV_B=${ab#* } ML_DEV_C=${cd% *} ML_DEV_D=${cd#* }
export ML_DEV_A ML_DEV_B ML_DEV_C ML_DEV_D
echo "guest-verbs-smoke: $ML_DEV_A (0xa) <-> $ML_DEV_B (0xb), $ML_DEV_C (0xc) <-> $ML_DEV_D (0xd)"

rc=0
"$here/guest_verbs" || rc=$?
ip netns exec a "$T/megalink-stat" stats | grep -E 'retransmits|timeouts|drop_crc|drop_seq|drop_no_qp|rnr_naks|nak' || true
for n in a b c d; do ip netns del "$n"; done
exit $rc
