#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# in-guest.sh: everything make check runs inside one guest boot, in order:
#   tests/guest/run-suite.sh         control plane (netlink, ioctl, pod, wire, lifetime)
#   tests/unit/guest-verbs-smoke.sh  libmegalink data plane against the module
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
for s in tests/guest/run-suite.sh tests/unit/guest-verbs-smoke.sh \
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
	if ! "$s"; then
		echo "in-guest: $s FAILED"
		rc=1
	fi
done
exit $rc
