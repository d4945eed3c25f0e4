#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# in-guest.sh: everything make check runs inside one guest boot, in order:
#   tests/guest/run-suite.sh         control plane (netlink, ioctl, pod, wire, lifetime)
#   tests/config/run-suite.sh        megalink apply / show --config (megalink.conf(5))
#   tests/unit/guest-verbs-smoke.sh  libmegalink data plane against the module
#   tests/metrics/run-suite.sh       megalink-stat --prometheus and --watch on a pod
#   tests/dataplane/run-suite.sh     data-plane transfers, faults, hostile users
#   tests/bench/perf-smoke.sh        megalink-perf runs (native, --verbs, --raw): no rot
#   plugins/nccl/harness/run.sh      the NCCL net plugin through its ABI
#   tests/coll/run-suite.sh          libmegalink-coll collectives on a 4-node pod (quick form)
#   tests/torch/run-suite.sh         the PyTorch backend: smoke test on 2 ranks (quick form)
#   tests/routed/run-suite.sh        UDP/IPv4 peers across a router (pods in netns)
# Each prints its own summary; this script fails if any of them failed or
# is missing.
set -u
cd "${ML_REPO:-$(dirname "$0")/..}" || exit 125

# tests/coll: the quick form (make check-coll runs all of it)
export ML_COLL_QUICK=${ML_COLL_QUICK:-1}
# tests/torch: the smoke test only (make check-torch runs all of it)
export ML_TORCH_QUICK=${ML_TORCH_QUICK:-1}
rc=0
times=''
for s in tests/guest/run-suite.sh tests/config/run-suite.sh tests/unit/guest-verbs-smoke.sh \
	 tests/metrics/run-suite.sh \
	 tests/dataplane/run-suite.sh tests/bench/perf-smoke.sh \
	 plugins/nccl/harness/run.sh tests/coll/run-suite.sh tests/torch/run-suite.sh \
	 tests/routed/run-suite.sh; do
	echo
	echo "######## $s"
	if [ ! -x "$s" ]; then
		echo "in-guest: *** $s is missing: FAILED ***"
		rc=1
		continue
	fi
	# A suite that needs the module unloaded gets it so.
	[ -d /sys/module/megalink ] && rmmod megalink 2>/dev/null
	t0=$(date +%s)
	if ! "$s"; then
		echo "in-guest: $s FAILED"
		rc=1
	fi
	times="$times $(basename "$(dirname "$s")")=$(($(date +%s) - t0))s"
done
echo "in-guest: seconds per suite:$times"
exit $rc
