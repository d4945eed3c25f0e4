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
#   tests/routed6/run-suite.sh       UDP/IPv6 peers across a router, ECN, UDP drops
#   tests/topo/run-suite.sh          the fabric topology view (link-state flooding, 4-node ring)
#   tests/multipath/run-suite.sh     striping and failover over two veth pairs
#   tests/debug/hostile-short.sh     the fuzzers (char device, netlink, wire), short
# Each prints its own summary; this script fails if any of them failed or
# is missing.
#
# Suites marked "newest" below are user space layered on libmegalink's
# public API (the same binaries on every kernel, reaching the module only
# through paths the other suites already drive).  They run on the newest
# kernel only, 6.12: on any other kernel each says so and is not counted
# as passed.  Of the kernel suites, the control plane, the library and the
# data plane run on every kernel; the rest are split so that the two
# guests of make check, which run side by side, take about equally long
# (each guest alone took about 22 minutes on a 2-core CI machine when all
# of them ran on both): tests/routed6 (UDP/IPv6 and UDP/IPv4 peers) is
# marked "newest", and the UDP/IPv4 router suite, the topology and
# multipath suites and the short fuzzers are marked "older" (they run on
# the other kernels only).  ML_GUEST_ALL_SUITES=1 runs every suite on every kernel.
set -u
cd "${ML_REPO:-$(dirname "$0")/..}" || exit 125

# tests/coll: the quick form (make check-coll runs all of it)
export ML_COLL_QUICK=${ML_COLL_QUICK:-1}
# tests/torch: the smoke test only (make check-torch runs all of it)
export ML_TORCH_QUICK=${ML_TORCH_QUICK:-1}
rc=0
times=''
# suite:kernels, kernels being "all", "newest" or "older" (see above)
suites='tests/guest/run-suite.sh:all tests/config/run-suite.sh:newest
	tests/unit/guest-verbs-smoke.sh:all tests/metrics/run-suite.sh:newest
	tests/dataplane/run-suite.sh:all tests/bench/perf-smoke.sh:newest
	plugins/nccl/harness/run.sh:newest tests/coll/run-suite.sh:newest
	tests/torch/run-suite.sh:newest tests/routed/run-suite.sh:older
	tests/routed6/run-suite.sh:newest tests/topo/run-suite.sh:older
	tests/multipath/run-suite.sh:older tests/debug/hostile-short.sh:older'
case $(uname -r) in
6.12.*) newest=1 older=${ML_GUEST_ALL_SUITES:-0} ;;
*) newest=${ML_GUEST_ALL_SUITES:-0} older=1 ;;
esac
notrun=''
for entry in $suites; do
	s=${entry%:*}
	if [ "${entry##*:}" = newest ] && [ "$newest" != 1 ]; then
		echo
		echo "######## $s: NOT RUN on $(uname -r): it runs on 6.12 (ML_GUEST_ALL_SUITES=1 runs it here)"
		notrun="$notrun $(basename "$(dirname "$s")")"
		continue
	fi
	if [ "${entry##*:}" = older ] && [ "$older" != 1 ]; then
		echo
		echo "######## $s: NOT RUN on $(uname -r): it runs on the older kernels (ML_GUEST_ALL_SUITES=1 runs it here)"
		notrun="$notrun $(basename "$(dirname "$s")")"
		continue
	fi
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
[ -z "$notrun" ] || echo "in-guest: not run on this kernel (the other one runs them):$notrun"
exit $rc
