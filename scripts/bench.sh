#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh (make bench): megalink against soft-RoCE and TCP on the same
# link, in one guest boot.  Installs the Debian packages it needs (as root),
# builds the module for the guest's kernel, the library and the tools,
# boots BENCH_KERNEL (6.12 or 6.1, default 6.12) and runs
# tests/bench/bench-guest.sh there, then prints the table and draws the
# plots (tests/bench/report.py).  Results: build/bench/<release>/
# (results.jsonl: every run; summary.json: the table and the targets;
# sweep.png, scaling.png).
#
#   BENCH_KERNEL=6.1|6.12     the guest kernel (default 6.12)
#   ML_BENCH_QUICK=1          the headline runs only (a minute)
#   ML_BENCH_RPS=0            the veth as it comes (default 1: each end's
#                             receive work on its own vCPU, as on two hosts)
#   ML_BENCH_SECONDS, ML_BENCH_LAT_ITERS, ML_BENCH_MTUS, ML_BENCH_ROUNDS:
#                             see tests/bench/bench-guest.sh
#   ML_BENCH_TIMEOUT          seconds for the whole guest run (default 1500)
#   ML_BENCH_TAG=NAME         results in build/bench/<release>-NAME/ instead
#
# A benchmark, not a test: its exit status says whether it ran, never
# whether the numbers are good.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../tests/harness/lib.sh disable=SC1091
. "$repo/tests/harness/lib.sh"
# shellcheck source-path=SCRIPTDIR source=steps.sh disable=SC1091
. "$repo/scripts/steps.sh"
cd "$repo"

series=${BENCH_KERNEL:-6.12}
case $series in
6.1 | 6.12) ;;
*)
	echo "bench: BENCH_KERNEL=$series: must be 6.1 or 6.12" >&2
	exit 2
	;;
esac

steps_begin bench 4
step "Debian packages (installed when missing, as root)" -- scripts/deps.sh bench
krel=$(ml_resolve_kernel "$series") || {
	echo "bench: no Debian $series kernel installed (scripts/deps.sh bench installs it as root)" >&2
	exit 1
}
step "build: megalink.ko for every installed kernel, library, tools" -- \
	make -s --no-print-directory modules-all lib tools
out="$ML_BUILD_DIR/bench/$krel${ML_BENCH_TAG:+-$ML_BENCH_TAG}"
rm -rf "$out"
mkdir -p "$out"
export ML_BENCH_QUICK="${ML_BENCH_QUICK:-0}"
step "boot $krel and run the benchmarks (about 15 minutes; ML_BENCH_QUICK=1: about one)" -- \
	"$ML_HARNESS_DIR/run-in-guest.sh" --kernel "$krel" --timeout "${ML_BENCH_TIMEOUT:-1500}" \
	--out "$out/guest" -- tests/bench/bench-guest.sh
cp "$out/guest/bench/results.jsonl" "$out/results.jsonl"
step "report: table, targets, plots" -- /usr/bin/python3 tests/bench/report.py "$out/results.jsonl" "$out"
steps_end
