#!/bin/bash
# SPDX-License-Identifier: MIT
#
# plugins/nccl/harness/run.sh: the NCCL net plugin suite, inside a harness
# guest (root, megalink not loaded yet):
#
#   tests/harness/run-in-guest.sh --kernel 6.12 -- plugins/nccl/harness/run.sh
#
#  1. init fails, with a line that says why, when the module is not
#     loaded, when it has no device, when the caller may not open the
#     device, and when no device has a live port in the caller's netns;
#  2. a pod of three nodes (netns mln1..3, a full mesh of veth pairs, each
#     node one megalink device with two ports, node ids 1..3) and a
#     bridge "oob" for the TCP side channel (10.79.0.N), as NCCL's
#     bootstrap network would be;
#  3. nccl-harness on 2 ranks with every ABI version v8..v12 (all cases
#     with the newest, sizes+hostile with the older ones), on 3 ranks with
#     all cases, and a peer killed mid-transfer (sender and receiver) on
#     2 and 3 ranks, and a receiver killed before it ever posted (the
#     sender waits in isend).
# The all-reduce goes up to 4 MiB here (its bandwidth is not the point of
# a test); ML_NCCL_BENCH=1 instead runs, in the same pod, the all-reduce
# to 64 MiB on 2 and 3 ranks beside its baseline: examples/pingpong's
# 64 MiB RDMA WRITE between the same two nodes (numbers, never asserted).
# ML_NCCL_QUICK=1 runs only v12 on 2 and 3 ranks (no older ABIs, no 3-rank kills).
# Prints "nccl-suite: N passed, M failed" and exits non-zero on a failure.
set -u
cd "${ML_REPO:-$(dirname "$0")/../../..}" || exit 125
repo=$(pwd)
h=$repo/plugins/nccl/harness/nccl-harness
ml=$repo/tools/megalink
mlstat=$repo/tools/megalink-stat
export LD_LIBRARY_PATH="$repo/plugins/nccl${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NCCL_NET_PLUGIN=megalink NCCL_SOCKET_IFNAME=oob
pass=0 fail=0

for f in "$h" "$ml" "$mlstat" "$repo/plugins/nccl/libnccl-net-megalink.so"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "nccl-suite: $f is not built (make -C plugins/nccl)"; exit 1; }
done

step() {	# step NAME CMD...: run, count, show the time it took
	local name=$1 t0 rc
	shift
	echo "==== nccl: $name"
	t0=$(date +%s.%N)
	"$@"
	rc=$?
	printf 'nccl-suite: %s: %s (%.1f s)\n' "$name" "$([ $rc -eq 0 ] && echo PASS || echo FAIL)" \
		"$(echo "$(date +%s.%N) - $t0" | bc)"
	if [ $rc -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

cleanup() {
	for n in 1 2 3; do ip netns del "mln$n" 2>/dev/null; done
	ip link del oob-br 2>/dev/null
	true
}
trap cleanup EXIT

# ---- 1. init failures ----
[ -d /sys/module/megalink ] && rmmod megalink
step "init without the module" "$h" --expect-init-fail "module is not loaded"
tests/harness/ml-load.sh || exit 1
step "init with no device" "$h" --expect-init-fail "has no device"
modprobe veth
ip link add mlx0 type veth peer name mlx1
ip link set mlx0 up
"$ml" port bind mlx0 node-id 99 >/dev/null || exit 1
if setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	# Uid 65534 may not reach the tree (a checkout in a 0700 directory,
	# as mktemp -d makes): it runs copies of the harness, the plugin and
	# libmegalink from a directory it can read.
	nobody=$(mktemp -d)
	chmod 0755 "$nobody"
	cp "$h" "$repo/plugins/nccl/libnccl-net-megalink.so" "$repo"/lib/libmegalink.so.1 "$nobody/"
	step "init without permission" env LD_LIBRARY_PATH="$nobody" \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all "$nobody/nccl-harness" --expect-init-fail "permission denied"
	rm -rf "$nobody"
else
	echo "ML-SKIP-NOTE: setpriv cannot drop to uid 65534 here: permission case not run"
fi
# mlx1 is down: the device has no live port
step "init with no live port" "$h" --expect-init-fail "no megalink device with a live port"
"$ml" port unbind mlx0 >/dev/null
ip link del mlx0

# ---- 2. the pod ----
ip link add oob-br type bridge
ip link set oob-br up
for n in 1 2 3; do
	ip netns add "mln$n"
	ip -n "mln$n" link set lo up
	ip link add "oob$n" type veth peer name oob netns "mln$n"
	ip link set "oob$n" master oob-br up
	ip -n "mln$n" addr add "10.79.0.$n/24" dev oob
	ip -n "mln$n" link set oob up
done
for pair in 1:2 1:3 2:3; do
	a=${pair%:*} b=${pair#*:}
	ip link add "n$a-n$b" mtu 9000 netns "mln$a" type veth peer name "n$b-n$a" mtu 9000 netns "mln$b"
	ip -n "mln$a" link set "n$a-n$b" up
	ip -n "mln$b" link set "n$b-n$a" up
done
for n in 1 2 3; do
	dev=
	for p in 1 2 3; do
		[ "$p" -eq "$n" ] && continue
		if [ -z "$dev" ]; then
			dev=$(ip netns exec "mln$n" "$ml" port bind "n$n-n$p" node-id "$n" |
				sed -n 's|^port \(ml[0-9]*\)/.*|\1|p')
			[ -n "$dev" ] || { echo "nccl-suite: bind in mln$n failed"; exit 1; }
		else
			ip netns exec "mln$n" "$ml" port bind "n$n-n$p" dev "$dev" >/dev/null ||
				{ echo "nccl-suite: bind n$n-n$p failed"; exit 1; }
		fi
	done
done
for i in $(seq 100); do
	ok=1
	for n in 1 2 3; do
		c=$(ip netns exec "mln$n" "$mlstat" neigh | grep -c 'node-id')
		[ "$c" -ge 2 ] || ok=0
	done
	[ $ok -eq 1 ] && break
	sleep 0.2
done
[ $ok -eq 1 ] || { echo "nccl-suite: the pod did not find its neighbours"; exit 1; }
echo "nccl-suite: pod of 3 nodes up (mln1..3, full mesh, side channel on oob 10.79.0.0/24)"

# ---- 3. the harness ----
two=(-n 2 -N mln1,mln2)
three=(-n 3 -N mln1,mln2,mln3)
if [ -n "${ML_NCCL_BENCH:-}" ]; then
	pp=$repo/examples/pingpong
	[ -x "$pp" ] || { echo "nccl-bench: make -C examples first"; exit 1; }
	d1=$(ip netns exec mln1 "$mlstat" dev | sed -n 's/^dev \(ml[0-9]*\).*/\1/p' | head -n 1)
	d2=$(ip netns exec mln2 "$mlstat" dev | sed -n 's/^dev \(ml[0-9]*\).*/\1/p' | head -n 1)
	echo "==== nccl-bench: baseline, examples/pingpong 64 MiB RDMA WRITE mln1 ($d1) -> mln2 ($d2)"
	for i in 1 2; do
		ip netns exec mln2 "$pp" -d "$d2" -n 10 > "${ML_OUT:-/tmp}/pp-server.$i" 2>&1 &
		ip netns exec mln1 "$pp" -d "$d1" -n 10 10.79.0.2 | grep 'MB/s'
		wait
	done
	for args in "${two[*]}" "${three[*]}"; do
		echo "==== nccl-bench: ring all-reduce $args"
		# shellcheck disable=SC2086 # the words of the rank options
		"$h" $args -j -A $((64 << 20)) allreduce | grep -e allreduce -e passed
	done
	exit 0
fi
step "2 ranks, ABI v12, all cases" "$h" "${two[@]}" -A 4194304 all
if [ -z "${ML_NCCL_QUICK:-}" ]; then
	for v in 8 9 10 11; do
		step "2 ranks, ABI v$v, sizes grouped hostile" "$h" "${two[@]}" -a "$v" -s 1048576 \
			sizes grouped hostile
	done
fi
step "3 ranks, ABI v12, all cases" "$h" "${three[@]}" -A 4194304 all
step "2 ranks, sender killed mid-transfer" "$h" "${two[@]}" kill-sender
step "2 ranks, receiver killed mid-transfer" "$h" "${two[@]}" kill-receiver
step "2 ranks, receiver killed before it posted" "$h" "${two[@]}" kill-idle-receiver
if [ -z "${ML_NCCL_QUICK:-}" ]; then
	step "3 ranks, sender killed mid-transfer" "$h" "${three[@]}" kill-sender
	step "3 ranks, receiver killed mid-transfer" "$h" "${three[@]}" kill-receiver
fi

echo "nccl-suite: $pass passed, $fail failed"
[ $fail -eq 0 ]
