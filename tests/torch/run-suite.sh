#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-suite.sh: the PyTorch backend's suite, as root inside a harness guest:
#
#   make lib tools coll torch
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/torch/run-suite.sh
#
# Ranks run in the pod of tests/coll/pod.sh (namespaces mlc0.., bridge
# mlcbr, megalink node ids 1.., rank 0 at 10.78.0.1), one python3 process
# per rank with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set.
#
#   smoke-2      tests/torch/smoke.py on 2 ranks (env://): every collective,
#                every dtype, errors, a few DDP steps (make check runs only this)
#   smoke-3-tcp  the same on 3 ranks through tcp://              (full form)
#   ddp-N        examples/ddp_mlp.py on N = 2, 3, 4 ranks, on megalink and
#                on gloo: every rank's parameters identical, and megalink's
#                equal to gloo's within float tolerance          (full form)
#
# ML_TORCH_QUICK=1 (make check, via tests/in-guest.sh) runs smoke-2 only;
# make check-torch runs all.  Without python3-torch or the built extension
# the suite says SKIPPED loudly and passes.  Ends with
# "torch: N passed, N failed".
set -u
repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$repo/tests/torch
tools=$repo/tools
py=/usr/bin/python3
passed=0 failed=0

fail_setup() {
	echo "torch: setup: $*"
	echo "torch: 0 passed, 1 failed"
	exit 1
}
skip() {
	echo "torch: *** SKIPPED: $* ***"
	echo "torch: 0 passed, 0 failed, 1 skipped"
	exit 0
}

[ "$(id -u)" = 0 ] || fail_setup "must run as root (inside the test guest)"
# (import torch costs about 20 s in a TCG guest: look for it, do not import it)
if ! [ -x "$py" ] || ! "$py" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)'; then
	skip "no python3-torch (scripts/deps.sh check installs it)"
fi
ls "$repo"/plugins/torch/megalink_torch/_C*.so >/dev/null 2>&1 ||
	skip "plugins/torch not built (make torch; needs libtorch-dev)"
if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 || fail_setup "cannot load the module"
fi
modprobe veth 2>/dev/null || true
modprobe bridge 2>/dev/null || true

quick=${ML_TORCH_QUICK:-0}
nodes=4
[ "$quick" = 1 ] && nodes=2
# shellcheck source-path=SCRIPTDIR source=../coll/pod.sh
. "$repo/tests/coll/pod.sh"
trap pod_down EXIT
pod_up $nodes || fail_setup "cannot build the $nodes-node pod"
echo "torch: pod of $nodes nodes on bridge mlcbr, kernel $(uname -r), $(nproc) vCPUs," \
	"python3-torch $(dpkg-query -W -f='${Version}' python3-torch 2>/dev/null)"

splat_re='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|kernel BUG|refcount_t:|list_add corruption|list_del corruption|circular locking|INFO: task .* blocked|RCU stall'
port=29700
out=$(mktemp -d /tmp/torch-suite.XXXXXX)
export ML_COLL_TIMEOUT_MS=${ML_COLL_TIMEOUT_MS:-60000}

# ranks NAME N CMD...: CMD on ranks 0..N-1, rank i in mlc<i>; logs in
# $out/NAME.<i>; fails if any rank fails or takes over 300 s.
ranks() {
	local name=$1 n=$2 i rc=0 pids=''
	shift 2
	port=$((port + 1))
	for i in $(seq $((n - 1)) -1 0); do
		ip netns exec "mlc$i" env RANK="$i" WORLD_SIZE="$n" MASTER_ADDR="$(pod_ip 0)" \
			MASTER_PORT=$port GLOO_SOCKET_IFNAME="e$i" PYTHONUNBUFFERED=1 \
			timeout -k 5 300 "$@" >"$out/$name.$i" 2>&1 &
		pids="$pids $!"
	done
	for i in $pids; do wait "$i" || rc=1; done
	return $rc
}

# run NAME N CMD...: one counted test of N ranks
run() {
	local name=$1 n=$2 t0 rc kstart i
	shift 2
	kstart=$(dmesg | wc -l)
	t0=$(date +%s.%N)
	echo
	echo "== torch $name: $n ranks: ${*#"$repo/"}"
	ranks "$name" "$n" "$@"
	rc=$?
	cat "$out/$name.0"
	if [ $rc != 0 ]; then
		for i in $(seq 1 $((n - 1))); do echo "-- rank $i said:"; cat "$out/$name.$i"; done
	fi
	if dmesg | tail -n +"$((kstart + 1))" | grep -E "$splat_re"; then
		echo "torch: kernel log shows a splat during $name"
		rc=1
	fi
	count "$name" $rc "$(echo "$(date +%s.%N) - $t0" | bc)"
}

count() {
	printf 'torch: %s: %s (%.1f s)\n' "$1" "$([ "$2" = 0 ] && echo ok || echo FAILED)" "$3"
	if [ "$2" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

# ddp N: examples/ddp_mlp.py on N ranks over megalink, then gloo; compares
ddp() {
	local n=$1 b rc=0 t0
	t0=$(date +%s.%N)
	for b in megalink gloo; do
		echo
		echo "== torch ddp-$n-$b: $n ranks: examples/ddp_mlp.py --backend $b --steps 20"
		rm -f "$out/p-$b".*.pt
		ranks "ddp-$n-$b" "$n" sh -c "exec $py '$repo/examples/ddp_mlp.py' --backend $b \
			--steps 20 --out '$out/p-$b.'\$RANK.pt" || rc=1
		cat "$out/ddp-$n-$b.0"
		[ $rc = 0 ] || for i in $(seq 1 $((n - 1))); do cat "$out/ddp-$n-$b.$i"; done
	done
	[ $rc = 0 ] && ! "$py" - "$out" "$n" <<'EOF' && rc=1
import sys, torch
d, n = sys.argv[1], int(sys.argv[2])
p = {b: [torch.cat([t.flatten() for t in torch.load("%s/p-%s.%d.pt" % (d, b, r))]).double()
         for r in range(n)] for b in ("megalink", "gloo")}
ranks = max(float((x - p["megalink"][0]).abs().max()) for x in p["megalink"])
gloo = max(float((x - p["gloo"][0]).abs().max()) for x in p["gloo"])
vs = float((p["megalink"][0] - p["gloo"][0]).abs().max())
rel = vs / float(p["gloo"][0].abs().max())
print("torch: ddp-%d: %d parameters; max |diff| between megalink ranks %.3g, between gloo ranks "
      "%.3g, megalink vs gloo %.3g (relative %.3g)" % (n, p["gloo"][0].numel(), ranks, gloo, vs, rel))
assert ranks == 0.0, "megalink ranks disagree"
assert vs <= 1e-4, "megalink and gloo differ by %g" % vs
EOF
	count "ddp-$n" $rc "$(echo "$(date +%s.%N) - $t0" | bc)"
}

run smoke-2 2 "$py" "$here/smoke.py"
if [ "$quick" != 1 ]; then
	run smoke-3-tcp 3 sh -c "exec $py '$here/smoke.py' --init \"tcp://$(pod_ip 0):\$MASTER_PORT?rank=\$RANK&world_size=\$WORLD_SIZE\""
	for n in 2 3 4; do ddp $n; done
fi

rm -rf "$out"
echo
echo "torch: $passed passed, $failed failed"
[ $failed = 0 ]
