#!/bin/bash
# SPDX-License-Identifier: MIT
#
# coll-guest.sh (inside a harness guest as root; scripts/bench-coll.sh
# boots it): all-reduce and DDP, megalink against gloo over TCP, on the
# same links, in one boot.
#
# The pod of tests/coll/pod.sh: 4 network namespaces mlc0..mlc3, each
# with one veth (MTU 9000) into the bridge mlcbr; each veth is a megalink
# port and carries the IPv4 address gloo uses (GLOO_SOCKET_IFNAME=e<i>).
# Runs on 2 nodes (mlc0, mlc1) and on 4; rank i on vCPU i % 2:
#
#   c          tools/coll/megalink-coll-perf: all-reduce float32 sweep
#              (no check: the suite checks), then 8-byte latency
#   c-cache    the same sweep with the registration cache on
#              (ML_COLL_REG_CACHE_MIB=512: chunks sent from the user buffers),
#              every result checked (-c 1, after the timed calls)
#   torch      tests/bench/coll_torch.py: torch.distributed all-reduce sweep,
#              8-byte latency and the DDP step of examples/ddp_mlp.py,
#              backend megalink and gloo side by side in one process per rank
#
# Every run has a timeout; its JSON (or its error) goes to
# $ML_OUT/bench-coll/coll-results.jsonl, one line per run, its output to
# logs/; a failed run does not stop the others.  The host side
# (tests/bench/coll-report.py) makes the table, coll.json and coll.png.
#
# Environment (all optional):
#   ML_BENCH_COLL_NODES   node counts (default "2 4")
#   ML_BENCH_COLL_MAX     largest all-reduce (default 64M)
#   ML_BENCH_COLL_ITERS   megalink-coll-perf -n per size (default 4)
#   ML_BENCH_COLL_BUDGET  coll_torch.py --budget, bytes per rank per size (32 MiB)
#   ML_BENCH_RUN_TIMEOUT  seconds before a run is killed (default 420)
set -u

repo=${ML_REPO:?}
out=${ML_OUT:-/tmp}/bench-coll
mkdir -p "$out/logs"
res=$out/coll-results.jsonl
: >"$res"
cd "$repo" || exit 1
# shellcheck disable=SC2034 # pod.sh uses it
tools=$repo/tools
perf=$repo/tools/coll/megalink-coll-perf
py=/usr/bin/python3
nodes_list=${ML_BENCH_COLL_NODES:-2 4}
maxb=${ML_BENCH_COLL_MAX:-64M}
iters=${ML_BENCH_COLL_ITERS:-4}
budget=${ML_BENCH_COLL_BUDGET:-33554432}
tmo=${ML_BENCH_RUN_TIMEOUT:-420}
port=29800
nrun=0 nfail=0
t_start=$(date +%s)

progress() {
	nrun=$((nrun + 1))
	printf 'bench-coll: [%4ds] %-3d %s\n' $(($(date +%s) - t_start)) "$nrun" "$*"
}

# ranks NAME N CMD...: CMD on ranks 0..N-1 (rank i in mlc<i>, on vCPU
# i % 2), each with the timeout; rank i's output in logs/NAME.<i>.
ranks() {
	local name=$1 n=$2 i rc=0 pids=''
	shift 2
	port=$((port + 1))
	for i in $(seq $((n - 1)) -1 0); do
		ip netns exec "mlc$i" env RANK="$i" WORLD_SIZE="$n" MASTER_ADDR="$(pod_ip 0)" \
			MASTER_PORT=$port GLOO_SOCKET_IFNAME="e$i" PYTHONUNBUFFERED=1 \
			taskset -c $((i % 2)) timeout -k 5 "$tmo" "$@" >"$out/logs/$name.$i" 2>&1 &
		pids="$pids $!"
	done
	for i in $pids; do wait "$i" || rc=1; done
	return $rc
}

# record NAME FIELDS-JSON FILE: FILE's JSON document with the fields as one
# line of the results, or an error line naming the log.
record() {
	local name=$1 fields=$2 file=$3 why
	if [ -s "$file" ] && jq -e . "$file" >/dev/null 2>&1; then
		jq -c --argjson f "$fields" '$f + {result: .}' "$file" >>"$res"
		return 0
	fi
	nfail=$((nfail + 1))
	# shellcheck disable=SC1003 # tr's set holds a backslash
	why=$(tail -n 4 "$out/logs/$name".* 2>/dev/null | tr '\n"\\' '   ' | cut -c1-400)
	echo "bench-coll:        FAILED: $why (bench-coll/logs/$name.*)"
	echo "$fields" | jq -c --arg e "$why" '. + {error: $e}' >>"$res"
}

# c_perf N KIND CHECK EXTRA-ENV...: megalink-coll-perf on N ranks
c_perf() {
	local n=$1 kind=$2 chk=$3 name
	shift 3
	name=c-$kind-$n
	progress "megalink-coll-perf all-reduce float32 4K..$maxb x $iters on $n nodes ($kind, check $chk)"
	ranks "$name" "$n" env "$@" "$perf" -C allreduce -d float32 -b 4K -e "$maxb" -f 4 \
		-n "$iters" -w 1 -c "$chk" --json
	record "$name" "{\"tool\": \"megalink-coll-perf\", \"kind\": \"$kind\", \"nodes\": $n, \"what\": \"sweep\"}" \
		"$out/logs/$name.0"
	jq -r '.results[] | "bench-coll:        \(.size) B: busbw \(.out_of_place.busbw_gbs * 1000 | floor) MB/s out of place, \(.in_place.busbw_gbs * 1000 | floor) in place, wrong \(.in_place.wrong)"' \
		"$out/logs/$name.0" 2>/dev/null | tail -n 3
}

c_lat() {
	local n=$1 name=c-lat-$1
	progress "megalink-coll-perf all-reduce 8 B x 500 on $n nodes"
	ranks "$name" "$n" "$perf" -C allreduce -d float32 -b 8 -e 8 -n 500 -w 20 -c 0 --json
	record "$name" "{\"tool\": \"megalink-coll-perf\", \"kind\": \"c\", \"nodes\": $n, \"what\": \"latency\"}" \
		"$out/logs/$name.0"
	jq -r '.results[0] | "bench-coll:        8 B: \(.out_of_place.time_us) us"' "$out/logs/$name.0" 2>/dev/null
}

torch_run() {
	local n=$1 name=torch-$1
	progress "torch.distributed megalink vs gloo on $n nodes (all-reduce 4K..$maxb, 8 B, DDP)"
	rm -f "$out/$name.json"
	ranks "$name" "$n" "$py" tests/bench/coll_torch.py --max "$(numfmt --from=iec "$maxb")" \
		--budget "$budget" --out "$out/$name.json"
	grep '^coll_torch:' "$out/logs/$name.0" | sed 's/^/bench-coll:        /'
	record "$name" "{\"tool\": \"coll_torch\", \"kind\": \"torch\", \"nodes\": $n}" "$out/$name.json"
}

[ "$(id -u)" = 0 ] || { echo "bench-coll: must run as root (inside the guest)"; exit 1; }
if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 || { echo "bench-coll: cannot load the module"; exit 1; }
fi
modprobe veth 2>/dev/null || true
modprobe bridge 2>/dev/null || true
# shellcheck source-path=SCRIPTDIR source=../coll/pod.sh
. "$repo/tests/coll/pod.sh"
trap pod_down EXIT
pod_up 4 || { echo "bench-coll: cannot build the 4-node pod"; exit 1; }
have_torch=1
if ! "$py" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)' ||
	! ls "$repo"/plugins/torch/megalink_torch/_C*.so >/dev/null 2>&1; then
	have_torch=0
	echo "bench-coll: *** no python3-torch or plugins/torch not built: the torch runs are SKIPPED ***"
fi
echo "bench-coll: $(uname -r), $(nproc) vCPUs, pod of 4 on bridge mlcbr (MTU 9000), nodes $nodes_list," \
	"all-reduce to $maxb, C: $iters iterations per size, torch: $budget bytes per size," \
	"python3-torch $(dpkg-query -W -f='${Version}' python3-torch 2>/dev/null)"

for n in $nodes_list; do
	c_perf "$n" c 0
	c_perf "$n" c-cache 1 ML_COLL_REG_CACHE_MIB=512
	c_lat "$n"
	if [ "$have_torch" = 1 ]; then
		torch_run "$n"
	else
		echo "{\"tool\": \"coll_torch\", \"kind\": \"torch\", \"nodes\": $n, \"error\": \"skipped: no torch\"}" >>"$res"
	fi
done
echo "bench-coll: $nrun runs, $nfail failed, $(($(date +%s) - t_start)) s; results in $res"
[ "$nrun" -gt "$nfail" ]
