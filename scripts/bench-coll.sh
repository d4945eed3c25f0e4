#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench-coll.sh (make bench-coll): the collectives against what ML runtimes
# use today, gloo over TCP, on the same links, in one guest boot.
# Installs the Debian packages it needs (as root), builds the module for
# the guest's kernel, the libraries, megalink-coll-perf and the PyTorch
# backend, boots BENCH_KERNEL (6.12 or 6.1, default 6.12) and runs
# tests/bench/coll-guest.sh there (pods of 2 and 4 nodes), then prints the
# table of ratios and draws the plot (tests/bench/coll-report.py).
# Results: build/bench/<release>/ (coll-results.jsonl: every run;
# coll.json: the table and the targets; coll.png).
#
#   BENCH_KERNEL=6.1|6.12       the guest kernel (default 6.12)
#   ML_BENCH_COLL_NODES, ML_BENCH_COLL_MAX, ML_BENCH_COLL_ITERS,
#   ML_BENCH_COLL_BUDGET, ML_BENCH_RUN_TIMEOUT: see tests/bench/coll-guest.sh
#   ML_BENCH_TIMEOUT            seconds for the whole guest run (default 1500)
#   ML_BENCH_TAG=NAME           results in build/bench/<release>-NAME/ instead
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
	echo "bench-coll: BENCH_KERNEL=$series: must be 6.1 or 6.12" >&2
	exit 2
	;;
esac

steps_begin bench-coll 4
step "Debian packages (installed when missing, as root)" -- scripts/deps.sh bench-coll
krel=$(ml_resolve_kernel "$series") || {
	echo "bench-coll: no Debian $series kernel installed (scripts/deps.sh bench-coll installs it as root)" >&2
	exit 1
}
step "build: megalink.ko for every installed kernel, libraries, megalink-coll-perf, the PyTorch backend" -- \
	env ML_TORCH_REQUIRE=1 make -s --no-print-directory modules-all lib tools coll torch
out="$ML_BUILD_DIR/bench/$krel${ML_BENCH_TAG:+-$ML_BENCH_TAG}"
rm -rf "$out/guest-coll" "$out"/coll*
mkdir -p "$out"
# 4 ranks of python3-torch with 64 MiB tensors: more than the harness's 2 GiB
export ML_GUEST_MEM=${ML_GUEST_MEM:-4096}
step "boot $krel and run the collectives against gloo (about 6 minutes)" -- \
	"$ML_HARNESS_DIR/run-in-guest.sh" --kernel "$krel" --timeout "${ML_BENCH_TIMEOUT:-1500}" \
	--out "$out/guest-coll" -- tests/bench/coll-guest.sh
cp "$out/guest-coll/bench-coll/coll-results.jsonl" "$out/coll-results.jsonl"
step "report: table of ratios, targets, plot" -- \
	/usr/bin/python3 tests/bench/coll-report.py "$out/coll-results.jsonl" "$out"
steps_end
