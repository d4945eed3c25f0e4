#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [KERNEL]: the two-kernel test.  Boots two QEMU guests of KERNEL
# (default 6.12) joined by a QEMU socket network on the loopback address
# (one virtio-net NIC each), and runs tests/twoguest/guest.sh in both:
# megalink transfers between two separate kernels, so that nothing works
# only because both ends share one.
#
# With ML_TWOGUEST_DDP=1 (make check-torch) the guests then train
# examples/ddp_mlp.py with DistributedDataParallel, rank 0 in guest a and
# rank 1 in guest b, on megalink and on gloo over the same link, and guest a
# checks that both guests' parameters are identical and match gloo's.
#
# Prints "twoguest: N passed, N failed" (the two guests) and exits non-zero
# if either failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kernel=${1:-6.12}
build=${ML_BUILD_DIR:-$repo/build}
outa=$build/guest-out/twoguest-a-$kernel
outb=$build/guest-out/twoguest-b-$kernel
port=$((20000 + $$ % 20000))
tmo=600
[ "${ML_TWOGUEST_DDP:-0}" = 1 ] && tmo=1200

[ -x "$here/xfer" ] || { echo "twoguest: build it first: make -C $here" >&2; exit 1; }
rm -rf "$outa" "$outb"
mkdir -p "$outa" "$outb"

echo "twoguest: two $kernel guests joined by a QEMU socket network on 127.0.0.1:$port"
# Each guest also mounts the other's output directory uncached (9p tag
# mlpeer): that is where they meet.
ML_QEMU_EXTRA="-netdev socket,id=n0,listen=127.0.0.1:$port -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:0a" \
	"$repo/tests/harness/run-in-guest.sh" --kernel "$kernel" --timeout "$tmo" --out "$outa" --share "mlpeer=$outb" \
	-- tests/twoguest/guest.sh a >"$build/twoguest-a.log" 2>&1 &
pida=$!
sleep 3	# the listening side's socket must exist before the other connects
ML_QEMU_EXTRA="-netdev socket,id=n0,connect=127.0.0.1:$port -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:0b" \
	"$repo/tests/harness/run-in-guest.sh" --kernel "$kernel" --timeout "$tmo" --out "$outb" --share "mlpeer=$outa" \
	-- tests/twoguest/guest.sh b >"$build/twoguest-b.log" 2>&1
rcb=$?
wait "$pida"
rca=$?

pass=0 fail=0
for r in a b; do
	log=$build/twoguest-$r.log
	rc=$rca
	[ $r = b ] && rc=$rcb
	echo "---- guest $r (exit $rc) ----"
	grep -E '^(xfer|twoguest|neigh|megalink-harness|ddp_mlp)' "$log" || tail -n 20 "$log"
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		tail -n 30 "$log"
	fi
done
echo "twoguest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
