#!/bin/bash
# SPDX-License-Identifier: MIT
#
# perf-compare.sh: megalink-perf native vs --verbs on rxe vs perftest on
# the same rxe devices vs the --raw floor vs --memcpy, on the one link of
# tests/bench/link.sh (inside a harness guest as root).  A quick look, not
# `make bench`: 8 B write latency, 64 KiB write bandwidth with 1 and 16
# QPs, the 8 B message rate with 1 and 1024 QPs, printed as one table; every megalink-perf JSON line and perftest's
# output stay in $ML_OUT/perf-compare/.  Never judges a number.
#
#   tests/harness/run-in-guest.sh --kernel 6.12 --timeout 900 -- tests/bench/perf-compare.sh
#
# Environment: PERF_CMP_MTU (9000), PERF_CMP_LAT_ITERS (1000),
# PERF_CMP_BW_SECONDS (3), PERF_CMP_EXTRA (extra megalink-perf options).
set -u
ML_REPO=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ML_REPO" || exit 1
PERF_OUT=${ML_OUT:-/tmp/megalink-perf-compare}/perf-compare
mkdir -p "$PERF_OUT"
# shellcheck source=tests/bench/link.sh
. tests/bench/link.sh
# shellcheck source=tests/bench/perf-lib.sh
. tests/bench/perf-lib.sh
mtu=${PERF_CMP_MTU:-9000}
lat_n=${PERF_CMP_LAT_ITERS:-1000}
bw_d=${PERF_CMP_BW_SECONDS:-3}
extra=${PERF_CMP_EXTRA:-}
rc=0

link_up "$mtu" || exit 1
echo "== perf-compare: kernel $(uname -r), $(nproc) vCPUs, mtu $mtu (TCG guest: ratios only)"

# mp TRANSPORT NAME ARGS...: a megalink-perf pair; its JSON into the table
mp() {
	local tr=$1 name=$2
	shift 2
	perf_transports "$tr"
	echo "-- megalink-perf $tr $*"
	# shellcheck disable=SC2086
	perf_pair "$name" 120 "$PERF_SRV" "$PERF_CLI" -- "$@" $extra || rc=1
}

# pt NAME PROG ARGS...: perftest on rxe1 (server) / rxe0 (client)
pt() {
	local name=$1 prog=$2 sp
	shift 2
	command -v "$prog" >/dev/null || { echo "ML-SKIP-NOTE: $prog not installed"; return; }
	echo "-- perftest $prog $*"
	taskset -c 1 nice -n 19 timeout -k 5 120 "$prog" -d rxe1 -x 1 -F "$@" \
		>"$PERF_OUT/$name-server.txt" 2>&1 &
	sp=$!
	sleep 1
	taskset -c 0 nice -n 19 timeout -k 5 120 "$prog" -d rxe0 -x 1 -F "$@" 127.0.0.1 \
		>"$PERF_OUT/$name.txt" 2>&1 || { echo "  $prog failed:"; tail -5 "$PERF_OUT/$name.txt"; }
	wait "$sp"
}

rm -f "$PERF_OUT"/*.json "$PERF_OUT"/*.txt
before=$(link_bytes)
mp raw raw-lat write_lat -s 8 -n "$lat_n"
mp ml ml-lat write_lat -s 8 -n "$lat_n"
mp ml ml-lat-send-e send_lat -s 8 -n "$lat_n" -e
for q in 1 16; do
	mp ml "ml-bw-q$q" write_bw -s 64K -D "$bw_d" -q "$q"
done
for q in 1 1024; do
	mp ml "ml-rate-q$q" write_bw -s 8 -D "$bw_d" -q "$q"
done
if [ "$LINK_RXE" = 1 ]; then
	mp verbs verbs-lat write_lat -s 8 -n "$lat_n"
	pt pt-lat ib_write_lat -s 8 -n "$lat_n"
	for q in 1 16; do
		mp verbs "verbs-bw-q$q" write_bw -s 64K -D "$bw_d" -q "$q"
		pt "pt-bw-q$q" ib_write_bw -s 65536 -D "$bw_d" -q "$q"
	done
	for q in 1 1024; do
		mp verbs "verbs-rate-q$q" write_bw -s 8 -D "$bw_d" -q "$q"
	done
else
	echo "ML-SKIP-NOTE: no rxe ($LINK_RXE_WHY): no verbs or perftest figures"
fi
"$PERF_BIN" --memcpy -s 64K -j >"$PERF_OUT/memcpy.json" || rc=1
echo "link va tx/rx bytes: before $before, after $(link_bytes)"

python3 - "$PERF_OUT" <<'EOF'
import glob, json, os, re, sys
d = sys.argv[1]
rows = []
for f in sorted(glob.glob(os.path.join(d, "*.json"))):
    if f.endswith("-server.json"):
        continue
    for line in open(f):
        r = json.loads(line)
        name = os.path.basename(f)[:-5]
        if "lat_us" in r:
            l = r["lat_us"]
            rows.append((name, f"{r['transport']} {r['mode']} {r['size']} B q{r['qps']}{' -e' if r['event'] else ''}",
                         f"median {l['median']:9.2f} us  p99 {l['p99']:9.2f}  p99.9 {l['p999']:9.2f}"))
        else:
            b = r["bw"]
            rows.append((name, f"{r['transport']} {r['mode']} {r['size']} B q{r['qps']}",
                         f"{b['MBps']:9.1f} MB/s  {b['Mpps']:.4f} Mpps  share {b['qp_min_share']:.3f}..{b['qp_max_share']:.3f}  cpu c/s {r['cpu']['client_s']:.1f}/{r['cpu']['server_s']:.1f} s guest {r['cpu'].get('guest_s', 0):.1f} s"))
for f in sorted(glob.glob(os.path.join(d, "pt-*.txt"))):
    if f.endswith("-server.txt"):
        continue
    name = os.path.basename(f)[:-4]
    txt = open(f).read()
    nums = [l.split() for l in txt.splitlines() if re.match(r"^\s*\d+\s+\d+\s+[\d.]+", l)]
    if not nums:
        rows.append((name, "perftest", "no result line"))
        continue
    v = nums[-1]
    if "lat" in name:
        # bytes iters t_min t_max t_typical t_avg t_stdev p99 p99.9
        rows.append((name, f"perftest ib_write_lat {v[0]} B",
                     f"median(typical) {float(v[4]):9.2f} us  p99 {float(v[7]):9.2f}  p99.9 {float(v[8]):9.2f}"))
    else:
        # bytes iters peak avg msgrate  (perftest MB/sec = 2^20 B/s)
        rows.append((name, f"perftest ib_write_bw {v[0]} B",
                     f"{float(v[3]) * 1.048576:9.1f} MB/s  {float(v[4]):.4f} Mpps  (avg {v[3]} MiB/s)"))
print("\n== results (latency RTT/2; MB/s = 10^6 B/s)")
for n, w, s in rows:
    print(f"{n:16s} {w:40s} {s}")
EOF
link_down
exit $rc
