#!/bin/bash
# SPDX-License-Identifier: MIT
#
# simple.sh: a first megalink-perf benchmark on one veth link, inside a
# harness guest as root:
#
#   make -s lib tools
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/bench/simple.sh
#
# Loads the module (tests/harness/ml-load.sh hello_ms=100 dead_ms=1000)
# unless it is loaded, builds two nodes: netns mpa/mpb joined by a veth
# pair pa/pb (MTU 9000, IPv4 10.77.0.1/.2 for megalink-perf's TCP side
# channel), binds each end as its own megalink device (node ids 0xa/0xb)
# with the `megalink` admin tool, and runs megalink-perf between them:
# server in mpb on vCPU 1, client in mpa on vCPU 0, both at nice 19 (a
# spinning poller must not starve the softirq work on its vCPU).
#
#   write_lat -s 8, send_lat -s 8, read_lat -s 8        (-n ML_BENCH_LAT_ITERS)
#   write_bw -s 64K, send_bw -s 64K, read_bw -s 64K     (-n ML_BENCH_BW_ITERS, --verify)
#
# Prints a short table, writes every result (the client's -j objects) to
# $ML_OUT/bench-simple.json, removes the nodes and unloads the module if it
# loaded it.  NOT A TEST of speed: it never looks at a number.  A run fails
# only when megalink-perf fails (exit status, no result, --verify) or times
# out; after the runs the devices' object counts must be 0 and rmmod must
# succeed.  Numbers from a TCG guest say little in absolute terms.
#
# Environment:
#   ML_BENCH_MODES       runs (default: write_lat write_bw send_lat send_bw
#                        read_lat read_bw)
#   ML_BENCH_LAT_ITERS   iterations of the latency runs (default 2000)
#   ML_BENCH_BW_ITERS    iterations of the bandwidth runs (default 2000)
#   ML_BENCH_TIMEOUT     seconds per run (default 300)
#   ML_BENCH_EXTRA       extra megalink-perf options for every run
set -u

NAME=bench-simple
repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${ML_OUT:-/tmp/megalink-bench-out}
perf=$repo/tools/megalink-perf
adm=$repo/tools/megalink
modes=${ML_BENCH_MODES:-write_lat write_bw send_lat send_bw read_lat read_bw}
lat_iters=${ML_BENCH_LAT_ITERS:-2000}
bw_iters=${ML_BENCH_BW_ITERS:-2000}
run_timeout=${ML_BENCH_TIMEOUT:-300}
extra=${ML_BENCH_EXTRA:-}
json=$out/bench-simple.json
mkdir -p "$out"
cd "$repo" || exit 1

passed=0 failed=0 loaded=0
declare -a results=()

finish() {
	echo "$NAME: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

fail_setup() {
	echo "$NAME: $*"
	failed=$((failed + 1))
	cleanup
	finish
}

cleanup() {
	ip netns del mpa 2>/dev/null || true
	ip netns del mpb 2>/dev/null || true
}

[ "$(id -u)" = 0 ] || { echo "$NAME: must run as root (inside the test guest)"; failed=1; finish; }
for x in "$perf" "$adm"; do
	[ -x "$x" ] || { echo "ML-SKIP-NOTE: $x not built (make -s lib tools)"; failed=1; finish; }
done
command -v jq >/dev/null || { echo "ML-SKIP-NOTE: jq missing: cannot read the JSON results"; failed=1; finish; }

echo "== megalink-perf simple benchmark: kernel $(uname -r), $(nproc) vCPUs (a TCG guest: absolute numbers mean little)"
modprobe veth 2>/dev/null || true
if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 || fail_setup "cannot load the module"
	loaded=1
fi

# ---- the two nodes ----
cleanup
ip netns add mpa && ip netns add mpb &&
	ip link add pa mtu 9000 netns mpa type veth peer name pb mtu 9000 netns mpb ||
	fail_setup "cannot create the namespaces and the veth pair"
for n in a b; do
	ip -n "mp$n" link set lo up
	ip -n "mp$n" link set "p$n" up
done
ip -n mpa addr add 10.77.0.1/24 dev pa
ip -n mpb addr add 10.77.0.2/24 dev pb

# "port ml0/0 ifname pa ..." -> ml0
bind() {
	ip netns exec "$1" "$adm" port bind "$2" node-id "$3" | sed -n 's|^port \(ml[0-9]*\)/.*|\1|p'
}
deva=$(bind mpa pa 0xa)
devb=$(bind mpb pb 0xb)
[ -n "$deva" ] && [ -n "$devb" ] || fail_setup "cannot bind pa/pb as megalink ports"

# Both ports up (carrier and the neighbour alive), at most 15 s.
port_up() {
	ip netns exec "$1" "$adm" -j port show "$2" 2>/dev/null |
		jq -e '[.. | objects | select(has("state")) | .state] | any(. == "up")' >/dev/null
}
i=0
until port_up mpa "$deva" && port_up mpb "$devb"; do
	i=$((i + 1))
	[ $i -lt 150 ] || fail_setup "ports $deva/$devb not up after 15 s"
	sleep 0.1
done
echo "nodes: mpa/pa $deva (0xa, 10.77.0.1) <-> mpb/pb $devb (0xb, 10.77.0.2), mtu 9000"

# ---- the runs ----
# run MODE OPTIONS...: server in mpb, client in mpa; the client's JSON
# lines are the result.
run() {
	local mode=$1 sp src crc t0 lines
	shift
	local base=$out/bench-simple-$mode
	echo
	echo "== $mode: megalink-perf $* $mode"
	t0=$(date +%s)
	# shellcheck disable=SC2086
	ip netns exec mpb taskset -c 1 nice -n 19 timeout -k 5 "$run_timeout" \
		"$perf" -d "$devb" -j "$@" $extra "$mode" >"$base-server.json" 2>"$base-server.err" &
	sp=$!
	# shellcheck disable=SC2086
	ip netns exec mpa taskset -c 0 nice -n 19 timeout -k 5 "$run_timeout" \
		"$perf" -d "$deva" -j "$@" $extra "$mode" 10.77.0.2 >"$base.json" 2>"$base.err"
	crc=$?
	wait "$sp"
	src=$?
	lines=$(grep -c '^{' "$base.json" 2>/dev/null || true)
	cat "$base.err" "$base-server.err" | sed 's/^/  /'
	echo "  (took $(($(date +%s) - t0)) s; client exit $crc, server exit $src, $lines result(s))"
	if [ "$crc" -ne 0 ] || [ "$src" -ne 0 ] || [ "${lines:-0}" -lt 1 ] ||
	   ! jq -e . "$base.json" >/dev/null 2>&1; then
		echo "$NAME: $mode FAILED (client exit $crc, server exit $src; 124 = timeout)"
		ip netns exec mpa "$adm" qp show "$deva" 2>&1 | sed 's/^/  mpa: /'
		ip netns exec mpb "$adm" qp show "$devb" 2>&1 | sed 's/^/  mpb: /'
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + 1))
	results+=("$base.json")
}

for m in $modes; do
	case $m in
	*_lat) run "$m" -s 8 -n "$lat_iters" ;;
	*_bw) run "$m" -s 65536 -n "$bw_iters" --verify ;;
	*) echo "$NAME: unknown mode '$m'"; failed=$((failed + 1)) ;;
	esac
done

# ---- table and JSON ----
echo
echo "== results ($(uname -r), TCG guest; latency = RTT/2 except read_lat = RTT)"
if [ ${#results[@]} -gt 0 ]; then
	printf '%-10s %8s %7s  %s\n' mode bytes iters result
	cat "${results[@]}" | jq -r '
		if .lat_us != null then
			"\(.mode)\t\(.size)\t\(.iters)\tlatency[us] median \(.lat_us.median) p99 \(.lat_us.p99) p99.9 \(.lat_us.p999) min \(.lat_us.min) max \(.lat_us.max) (\(.latency))"
		else
			"\(.mode)\t\(.size)\t\(.iters)\t\(.bw.MBps) MB/s  \(.bw.Gbps) Gbit/s  \(.bw.Mpps) Mpps  verify \(.verify)"
		end' | awk -F'\t' '{ printf "%-10s %8s %7s  %s\n", $1, $2, $3, $4 }'
	cat "${results[@]}" | jq -s --arg k "$(uname -r)" --arg d "$(date -u +%FT%TZ)" '{
		kernel: $k, date: $d,
		setup: "one QEMU TCG guest, 2 vCPUs; netns mpa/mpb joined by veth pa/pb, MTU 9000; client vCPU 0, server vCPU 1, nice 19",
		note: "TCG guest: absolute numbers mean little; compare ratios within one boot",
		results: . }' >"$json" && echo "JSON: $json"
else
	echo "(no results)"
	jq -n --arg k "$(uname -r)" '{kernel: $k, results: []}' >"$json"
fi

# ---- teardown: objects gone, nodes gone, module unloads ----
echo
echo "== teardown"
counts() {
	ip netns exec "$1" "$adm" -j dev show "$2" 2>/dev/null |
		jq -r '[.. | objects | select(has("num_qps"))][0] |
			"ctx \(.num_ctx) pds \(.num_pds) mrs \(.num_mrs) cqs \(.num_cqs) qps \(.num_qps) pinned \(.pinned_pages)"'
}
for d in mpa:"$deva" mpb:"$devb"; do
	c=$(counts "${d%%:*}" "${d#*:}")
	if [ "$c" = "ctx 0 pds 0 mrs 0 cqs 0 qps 0 pinned 0" ]; then
		echo "${d#*:}: $c"
		passed=$((passed + 1))
	else
		echo "$NAME: ${d#*:} still has objects after megalink-perf exited: ${c:-DEV_GET failed}"
		failed=$((failed + 1))
	fi
done
cleanup
if [ "$loaded" = 1 ]; then
	i=0
	while [ -n "$(ls /sys/class/megalink 2>/dev/null)" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if rmmod megalink; then
		echo "megalink unloaded"
		passed=$((passed + 1))
	else
		echo "$NAME: rmmod megalink failed (refcnt $(cat /sys/module/megalink/refcnt 2>/dev/null || echo '?'))"
		failed=$((failed + 1))
	fi
fi
finish
