#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-guest.sh (inside a harness guest as root; scripts/bench.sh boots it):
# megalink and what a user would pick instead, on one veth link
# (tests/bench/link.sh), side by side in one boot:
#
#   megalink   megalink-perf, native
#   rxe        megalink-perf --verbs on soft-RoCE (rdma_rxe), and perftest's
#              ib_write_lat / ib_write_bw on the same devices as a cross-check
#   tcp        sockperf ping-pong (latency) and iperf3 (bandwidth)
#   raw        megalink-perf --raw: AF_PACKET ping-pong, the latency floor
#   memcpy     megalink-perf --memcpy: the copy floor
#   routed     megalink over UDP and TCP across an IP router (routed.sh)
#   multipath  two ports striped vs one port, 64 KiB WRITE (multipath.sh)
#
# Client on vCPU 0, server on vCPU 1, both nice 19 (a spinning poller must
# not starve the softirq work on its vCPU).  Every run has a timeout and
# its result (or its error) is one JSON line in $ML_OUT/bench/results.jsonl;
# a failed run does not stop the others.  Guest CPU time per run comes from
# /proc/stat (cpu0, cpu1: user+nice+system+irq+softirq) and is reported per
# GB of payload moved.  The host side (tests/bench/report.py) makes the
# table and the plots.
#
# Environment (all optional):
#   ML_BENCH_QUICK=1      a few runs only (the smoke form)
#   ML_BENCH_MTUS         MTUs (default "9000 1500"; the sweeps run on the first)
#   ML_BENCH_SECONDS      seconds per bandwidth point (default 2)
#   ML_BENCH_LAT_ITERS    iterations per latency point (default 5000)
#   ML_BENCH_RUN_TIMEOUT  seconds before a run is killed (default 120)
#   ML_BENCH_ROUNDS       rounds of the headline runs (default 3; quick: 1)
#   ML_BENCH_ONLY         cases to run alone, of "routed multipath" (the
#                         issue 12 cases; the others take minutes)
#   ML_BENCH_RPS          1 (default): each end's receive work on its own
#                         vCPU, as on two hosts; 0: as the veth comes (link.sh)
set -u

repo=${ML_REPO:?}
out=${ML_OUT:-/tmp}/bench
mkdir -p "$out/logs"
res=$out/results.jsonl
: >"$res"
cd "$repo" || exit 1
# shellcheck source=link.sh
. tests/bench/link.sh

P=$repo/tools/megalink-perf
export LINK_RPS=${ML_BENCH_RPS:-1}
quick=${ML_BENCH_QUICK:-0}
[ "$quick" = 1 ] && ML_BENCH_ROUNDS=${ML_BENCH_ROUNDS:-1}
mtus=${ML_BENCH_MTUS:-9000 1500}
secs=${ML_BENCH_SECONDS:-2}
lat_iters=${ML_BENCH_LAT_ITERS:-5000}
tmo=${ML_BENCH_RUN_TIMEOUT:-120}
rounds=${ML_BENCH_ROUNDS:-3}
round=1
ip_b=$LINK_IP_B
ip_a=$LINK_IP_A
nrun=0 nfail=0
t_start=$(date +%s)
scratch=$(mktemp -d)

c0() { taskset -c "${BENCH_CLIENT_CPUS:-0}" nice -n 19 timeout -k 5 "$tmo" "$@"; }
c1() { taskset -c 1 nice -n 19 timeout -k 5 "$tmo" "$@"; }

cpu_snap() {
	awk '/^cpu[01] / { printf "%s %d ", $1, $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

# progress NAME: one line per run, with the time since the start.
progress() {
	nrun=$((nrun + 1))
	printf 'bench: [%4ds] %-3d %s\n' $(($(date +%s) - t_start)) "$nrun" "$*"
}

# record KIND FIELDS-JSON: parse $scratch/client.out into results.jsonl
# with the fields, the CPU deltas and the bytes the veth carried.
record() {
	local kind=$1 fields=$2 line
	local cpu="{\"cpu0_s\": $(((c0b - c0a)))e-2, \"cpu1_s\": $(((c1b - c1a)))e-2}"
	local vb="{\"veth_tx_bytes\": $((vtb - vta)), \"veth_rx_bytes\": $((vrb - vra))}"
	cp "$scratch/client.out" "$out/logs/$nrun-client.out"
	cp "$scratch/server.out" "$out/logs/$nrun-server.out"
	if line=$(BENCH_FIELDS=$fields /usr/bin/python3 tests/bench/parse.py "$kind" <"$scratch/client.out" 2>"$scratch/parse.err"); then
		echo "$line" | jq -c --argjson cpu "$cpu" --argjson v "$vb" '
			. + {guest_cpu: $cpu} + $v |
			if (.bw.bytes // 0) > 0 then
				.guest_cpu.cpu0_s_per_GB = (.guest_cpu.cpu0_s / (.bw.bytes / 1e9)) |
				.guest_cpu.cpu1_s_per_GB = (.guest_cpu.cpu1_s / (.bw.bytes / 1e9))
			else . end' >>"$res"
		summary=$(echo "$line" | jq -r 'if .lat_us then "median \(.lat_us.median) us, p99.9 \(.lat_us.p999) us" elif .bw then "\(.bw.MBps|floor) MB/s, \(.bw.Mpps // 0) Mpps" else "?" end')
		echo "bench:        $summary (veth tx $((vtb - vta)) B)"
	else
		nfail=$((nfail + 1))
		local why
		why=$( (cat "$scratch/parse.err"; tail -n 3 "$scratch/client.out"; tail -n 3 "$scratch/server.out") | tr '\n"\\' '   ' | cut -c1-400)
		echo "bench:        FAILED: $why (bench/logs/$nrun-*.out)"
		echo "$fields" | jq -c --arg e "$why" --arg k "$kind" '. + {error: $e, tool: $k}' >>"$res"
	fi
}

# pair KIND FIELDS SERVER-CMD... -- CLIENT-CMD...: the server on vCPU 1,
# the client on vCPU 0 once the server listens, then record.
pair() {
	local kind=$1 fields=$2 srv=() cli=() spid
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do srv+=("$1"); shift; done
	shift
	cli=("$@")
	c1 "${srv[@]}" >"$scratch/server.out" 2>&1 &
	spid=$!
	sleep "${BENCH_SERVER_WAIT:-0.5}"
	read -r _ c0a _ c1a <<<"$(cpu_snap)"
	vta=$(${LINK_NS:+ip netns exec "$LINK_NS"} cat "/sys/class/net/$LINK_A/statistics/tx_bytes")
	vra=$(${LINK_NS:+ip netns exec "$LINK_NS"} cat "/sys/class/net/$LINK_A/statistics/rx_bytes")
	c0 "${cli[@]}" >"$scratch/client.out" 2>&1
	read -r _ c0b _ c1b <<<"$(cpu_snap)"
	vtb=$(${LINK_NS:+ip netns exec "$LINK_NS"} cat "/sys/class/net/$LINK_A/statistics/tx_bytes")
	vrb=$(${LINK_NS:+ip netns exec "$LINK_NS"} cat "/sys/class/net/$LINK_A/statistics/rx_bytes")
	# Servers that serve one run exit by themselves; the rest are stopped.
	sleep 0.2
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	record "$kind" "$fields"
}

# solo KIND FIELDS CMD...: one process (memcpy floor).
solo() {
	local kind=$1 fields=$2
	shift 2
	: >"$scratch/server.out"
	read -r _ c0a _ c1a <<<"$(cpu_snap)"
	vta=0 vra=0 vtb=0 vrb=0
	c0 "$@" >"$scratch/client.out" 2>&1
	read -r _ c0b _ c1b <<<"$(cpu_snap)"
	record "$kind" "$fields"
}

# Latency iterations for SIZE: fewer for large messages (at most about a
# hundred megabytes each way in a latency run).
lat_n() {
	local n=$((100000000 / ($1 + 1)))
	[ "$n" -gt "$lat_iters" ] && n=$lat_iters
	[ "$n" -lt 20 ] && n=20
	echo "$n"
}

f() { # f CASE MTU [KEY=VALUE...]: the fields JSON
	local j="{\"case\": \"$1\", \"mtu\": $2, \"round\": $round, \"rps\": $LINK_RPS" kv
	shift 2
	for kv in "$@"; do j="$j, \"${kv%%=*}\": ${kv#*=}"; done
	echo "$j}"
}

# --- the transports -------------------------------------------------------

ml_lat() { # CASE MTU SIZE [extra...]
	local c=$1 m=$2 s=$3
	shift 3
	progress "megalink write_lat $s B $* (mtu $m)"
	pair megalink-perf "$(f "$c" "$m" "size=$s")" "$P" -d "$ML_DEV_B" "$@" write_lat -- \
		"$P" -d "$ML_DEV_A" -j -s "$s" -n "$(lat_n "$s")" "$@" write_lat "$ip_b"
}

ml_bw() { # CASE MTU SIZE [extra...]
	local c=$1 m=$2 s=$3
	shift 3
	progress "megalink write_bw $s B $* (mtu $m)"
	pair megalink-perf "$(f "$c" "$m" "size=$s")" "$P" -d "$ML_DEV_B" "$@" write_bw -- \
		"$P" -d "$ML_DEV_A" -j -s "$s" -D "$secs" "$@" write_bw "$ip_b"
}

verbs_lat() {
	local c=$1 m=$2 s=$3
	progress "rxe (megalink-perf --verbs) write_lat $s B (mtu $m)"
	pair megalink-perf "$(f "$c" "$m")" "$P" --verbs rxe1 write_lat -- \
		"$P" --verbs rxe0 -j -s "$s" -n "$(lat_n "$s")" write_lat "$ip_b"
}

verbs_bw() {
	local c=$1 m=$2 s=$3
	progress "rxe (megalink-perf --verbs) write_bw $s B (mtu $m)"
	pair megalink-perf "$(f "$c" "$m")" "$P" --verbs rxe1 write_bw -- \
		"$P" --verbs rxe0 -j -s "$s" -D "$secs" write_bw "$ip_b"
}

perftest_lat() {
	local c=$1 m=$2 s=$3
	progress "rxe ib_write_lat $s B (mtu $m)"
	BENCH_SERVER_WAIT=1 pair perftest-lat "$(f "$c" "$m")" ib_write_lat -d rxe1 -x 1 -s "$s" -n "$lat_iters" -- \
		ib_write_lat -d rxe0 -x 1 -s "$s" -n "$lat_iters" "$ip_b"
}

perftest_bw() {
	local c=$1 m=$2 s=$3 n
	# Iterations for about $secs seconds at rxe's speed in a TCG guest.
	n=$((secs * 60000000 / (s + 64) + 100))
	[ "$n" -gt 100000 ] && n=100000
	progress "rxe ib_write_bw $s B (mtu $m)"
	BENCH_SERVER_WAIT=1 pair perftest-bw "$(f "$c" "$m")" ib_write_bw -d rxe1 -x 1 -s "$s" -n "$n" -- \
		ib_write_bw -d rxe0 -x 1 -s "$s" -n "$n" "$ip_b"
}

tcp_lat() {
	local c=$1 m=$2 s=$3
	# sockperf's smallest message is 14 bytes (its header).
	[ "$s" -lt 14 ] && s=14
	# a port per run, as for iperf3 (tcp_bw)
	local port=$((12001 + nrun % 1000))
	progress "tcp sockperf ping-pong $s B (mtu $m)"
	BENCH_SERVER_WAIT=1 pair sockperf "$(f "$c" "$m" "size=$s")" sockperf server -i "$ip_b" -p "$port" --tcp -- \
		sockperf ping-pong -i "$ip_b" -p "$port" --client_ip "$ip_a" --tcp -m "$s" -t "$secs"
}

tcp_bw() {
	local c=$1 m=$2 s=$3 l=$3 port
	# iperf3 writes at most 1 MiB at a time: larger sizes are measured
	# with 1 MiB writes (the size field still says which row it is).
	[ "$l" -gt 1048576 ] && l=1048576
	# a port per run: a server a failed run left behind cannot refuse the next
	port=$((5201 + nrun % 1000))
	progress "tcp iperf3 $s B ($l B writes, mtu $m)"
	BENCH_SERVER_WAIT=1 pair iperf3 "$(f "$c" "$m" "size=$s" "write=$l")" iperf3 -s -B "$ip_b" -p "$port" -1 -- \
		iperf3 -c "$ip_b" -B "$ip_a" -p "$port" -t "$secs" -l "$l" -J
}

raw_lat() {
	local c=$1 m=$2 s=$3
	progress "raw AF_PACKET ping-pong $s B (mtu $m)"
	pair megalink-perf "$(f "$c" "$m")" "$P" --raw "$LINK_B" write_lat -- \
		"$P" --raw "$LINK_A" -j -s "$s" -n "$lat_iters" write_lat "$ip_b"
}

memcpy_bw() {
	local c=$1 s=$2
	progress "memcpy $s B"
	solo megalink-perf "$(f "$c" 0)" "$P" --memcpy -j -s "$s" -D "$secs"
}

loss() { # PERCENT|off
	tc qdisc del dev "$LINK_A" root 2>/dev/null
	[ "$1" = off ] || tc qdisc add dev "$LINK_A" root netem loss "$1%"
}

# --- the runs -------------------------------------------------------------

echo "bench: $(uname -r), $(nproc) vCPUs, RPS $LINK_RPS, MTUs $mtus, $secs s per bandwidth point, $lat_iters iterations per latency point"
first=1
# ML_BENCH_ONLY="routed multipath" (either or both): those cases alone.
only=${ML_BENCH_ONLY:-}
[ -n "$only" ] && mtus_main='' || mtus_main=$mtus
want_case() { [ -z "$only" ] || case " $only " in *" $1 "*) true ;; *) false ;; esac; }
for mtu in $mtus_main; do
	link_up "$mtu" || { echo "bench: link_up $mtu failed"; exit 1; }
	[ "$LINK_RXE" = 1 ] || echo "ML-SKIP-NOTE: no soft-RoCE: $LINK_RXE_WHY (the rxe columns will be empty)"

	# The headline figures, every transport, in rounds: the report takes
	# the median of each over the rounds, so that a disturbance of the
	# host during one run does not decide a ratio.
	nr=$rounds
	[ "$first" = 1 ] || nr=1
	for round in $(seq "$nr"); do
		ml_lat headline "$mtu" 8
		raw_lat headline "$mtu" 8
		ml_bw headline "$mtu" 65536
		tcp_lat headline "$mtu" 8
		tcp_bw headline "$mtu" 65536
		if [ "$LINK_RXE" = 1 ]; then
			verbs_lat headline "$mtu" 8
			verbs_bw headline "$mtu" 65536
			perftest_lat headline "$mtu" 8
			perftest_bw headline "$mtu" 65536
		fi
	done
	round=1
	[ "$quick" = 1 ] && { first=0; link_down; continue; }

	# The second MTU: the headline figures only.
	[ "$first" = 1 ] || { link_down; continue; }
	ml_bw headline "$mtu" 1048576
	[ "$first" = 1 ] && memcpy_bw headline 1048576

	# Loss: netem on the data direction.
	for l in 1 0.1; do
		loss "$l"
		ml_bw "loss$l" "$mtu" 65536
		tcp_bw "loss$l" "$mtu" 65536
		loss off
	done

	if [ "$first" = 1 ]; then
		# Message rate and QP scaling.
		for q in 1 16 256 1024; do
			for s in 8 4096 65536 1048576 8388608; do
				# megalink-perf registers 2 x SIZE per QP at least: the
				# 2 GiB guest pins at most 256 MiB of it.
				if [ $((q * s)) -gt 134217728 ]; then
					progress "megalink write_bw $s B -q $q: skipped, needs $((q * s / 524288)) MiB registered"
					f scale "$mtu" "qps=$q" "size=$s" | jq -c '. + {transport: "megalink", skipped: "memory"}' >>"$res"
					continue
				fi
				ml_bw scale "$mtu" "$s" -q "$q"
			done
		done
		# Processes: the clients may use both vCPUs (the server of a
		# WRITE test only waits), for one process and for two alike.
		BENCH_CLIENT_CPUS=0,1 ml_bw procs "$mtu" 8 -q 2 --procs 2
		BENCH_CLIENT_CPUS=0,1 ml_bw procs "$mtu" 8 -q 1 --procs 1

		# The size sweep: a second per bandwidth point.
		secs_full=$secs
		secs=1
		s=2
		while [ "$s" -le 8388608 ]; do
			ml_lat sweep "$mtu" "$s"
			ml_bw sweep "$mtu" "$s"
			if [ "$LINK_RXE" = 1 ]; then
				verbs_lat sweep "$mtu" "$s"
				verbs_bw sweep "$mtu" "$s"
			fi
			[ "$s" -le 65536 ] && tcp_lat sweep "$mtu" "$s"
			tcp_bw sweep "$mtu" "$s"
			s=$((s * 4))
		done
		secs=$secs_full
	fi
	first=0
	link_down
done

# The routed case (issue 12): megalink over UDP and TCP across an IP router,
# at every MTU (tests/bench/routed.sh).
# shellcheck source=routed.sh
. tests/bench/routed.sh
if want_case routed; then
	for mtu in $mtus; do
		routed_case "$mtu"
	done
fi

# The multipath case (issue 12 part 2): 64 KiB WRITE bandwidth with two
# ports striped, then one port, at the first MTU (tests/bench/multipath.sh).
# shellcheck source=multipath.sh
. tests/bench/multipath.sh
want_case multipath && multipath_case "${mtus%% *}"
rm -rf "$scratch"
echo "bench: $nrun runs, $nfail failed, $(($(date +%s) - t_start)) s; results in $res"
# Failed runs are in the results (the report shows them); the bench itself
# fails only when nothing ran.
[ "$nrun" -gt "$nfail" ]
