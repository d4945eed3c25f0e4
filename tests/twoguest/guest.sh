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
[ $rc = 0 ] || exit $rc
[ "${ML_TWOGUEST_DDP:-0}" = 1 ] || exit 0

# DDP across the two kernels (make check-torch): examples/ddp_mlp.py with
# rank 0 in guest a and rank 1 in guest b, on megalink and then on gloo
# over TCP on the same virtio link; guest a compares the parameters.
py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null || ! ls "$repo"/plugins/torch/megalink_torch/_C*.so >/dev/null 2>&1; then
	echo "twoguest $role: *** ddp: no python3-torch or plugins/torch not built: SKIPPED ***"
	exit 0
fi
rank=0
[ "$role" = b ] && rank=1
ip addr add "10.79.0.$((rank + 1))/24" dev "$ifname"
k=0
for b in megalink gloo; do
	k=$((k + 1))
	echo "twoguest $role: ddp: examples/ddp_mlp.py --backend $b, rank $rank of 2"
	RANK=$rank WORLD_SIZE=2 MASTER_ADDR=10.79.0.1 MASTER_PORT=$((29600 + k)) \
		GLOO_SOCKET_IFNAME=$ifname PYTHONUNBUFFERED=1 timeout -k 5 300 \
		"$py" "$repo/examples/ddp_mlp.py" --backend $b --steps 10 --out "$ML_OUT/p-$b.pt" ||
		{ echo "twoguest $role: ddp on $b FAILED"; exit 1; }
done
touch "$ML_OUT/ddp-done"
[ "$role" = a ] || exit 0
for i in $(seq 600); do
	[ -e "$peer/ddp-done" ] && break
	[ "$i" -lt 600 ] || { echo "twoguest a: ddp: guest b did not finish in 60 s" >&2; exit 1; }
	sleep 0.1
done
"$py" - "$ML_OUT" "$peer" <<'EOF'
import sys, torch
mine, peer = sys.argv[1], sys.argv[2]
def flat(path):
    return torch.cat([t.flatten() for t in torch.load(path)]).double()
p = {b: (flat("%s/p-%s.pt" % (mine, b)), flat("%s/p-%s.pt" % (peer, b))) for b in ("megalink", "gloo")}
ranks = float((p["megalink"][0] - p["megalink"][1]).abs().max())
gloo = float((p["gloo"][0] - p["gloo"][1]).abs().max())
vs = float((p["megalink"][0] - p["gloo"][0]).abs().max())
print("twoguest a: ddp: %d parameters; max |diff| between the guests on megalink %.3g, on gloo "
      "%.3g; megalink vs gloo %.3g" % (p["gloo"][0].numel(), ranks, gloo, vs))
assert ranks == 0.0, "the two guests' parameters differ on megalink"
assert vs <= 1e-4, "megalink and gloo differ by %g" % vs
print("twoguest a: ddp: ok")
EOF
