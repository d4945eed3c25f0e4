#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# placeholder-suite.sh (inside a harness guest): what run-guest-suite.sh runs
# until tests/guest/run-suite.sh exists.  Proves the harness: kernel, netns,
# veth, and loading/unloading megalink when a module is available.
set -eu

fails=0
step() {
	desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "  ok   $desc"
	else
		echo "  FAIL $desc"
		fails=$((fails + 1))
	fi
}

echo "placeholder suite on $(uname -r) (ML_LOAD=${ML_LOAD:-insmod})"
step "modprobe veth" modprobe veth
step "ip netns add n1" ip netns add n1
step "veth pair into n1" sh -c 'ip link add vA type veth peer name vB && ip link set vB netns n1 &&
	ip link set vA up && ip -n n1 link set vB up'
step "ip netns del n1" ip netns del n1
if [ "${ML_LOAD:-insmod}" = modprobe ] || [ -f "${ML_KO:-/nonexistent}" ]; then
	step "load megalink" "$ML_REPO/tests/harness/ml-load.sh"
	step "unload megalink" "$ML_REPO/tests/harness/ml-unload.sh"
else
	echo "  skip megalink load: no $ML_KO (make modules-all)"
fi
echo "placeholder: $fails failed"
[ "$fails" -eq 0 ]
