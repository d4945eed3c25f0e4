#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest.sh ROLE (inside a harness guest; run.sh starts two): bind the
# guest's virtio-net link as a megalink port, wait for the other guest's
# node, and run xfer against it.  The other guest's output directory is
# the 9p share "mlpeer", mounted uncached so that its new files show.
set -eu
role=$1
repo=${ML_REPO:-$(pwd)}
tools=$repo/tools
sizes=${ML_XFER_SIZES:-1 7 4097 65537 1048589 8388608}

modprobe virtio_net 2>/dev/null || true
peer=/tmp/peer
mkdir -p "$peer"
mount -t 9p -o ro,trans=virtio,version=9p2000.L,cache=none mlpeer "$peer"
"$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000

ifname=
for i in $(seq 50); do
	for d in /sys/class/net/*; do
		n=${d##*/}
		[ "$n" != lo ] && [ "$(cat "$d/type")" = 1 ] && ifname=$n && break
	done
	[ -n "$ifname" ] && break
	sleep 0.1
done
[ -n "$ifname" ] || { echo "twoguest $role: no Ethernet device in this guest" >&2; exit 1; }
ip link set "$ifname" up
"$tools/megalink" port bind "$ifname"

# The other kernel's HELLOs must arrive (both guests boot at their own pace).
for i in $(seq 600); do
	if "$tools/megalink-stat" neigh | grep -q '^neigh '; then
		break
	fi
	[ "$i" -lt 600 ] || { echo "twoguest $role: no neighbour after 60 s" >&2; exit 1; }
	sleep 0.1
done
"$tools/megalink-stat" neigh
# shellcheck disable=SC2086 # sizes are words
"$repo/tests/twoguest/xfer" "$role" ml0 "$ML_OUT" "$peer" $sizes
rc=$?
"$tools/megalink-stat" stats
exit $rc
