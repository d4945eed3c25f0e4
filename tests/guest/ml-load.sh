#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Load megalink for the in-guest tests; arguments are module parameters.
# Same rule as tests/harness/ml-load.sh (which the tests prefer when it
# exists): ML_LOAD=modprobe loads the installed (DKMS) module, otherwise
# insmod $ML_KO (default build/$(uname -r)/megalink.ko).
set -eu

if [ "${ML_LOAD:-insmod}" = modprobe ]; then
	exec modprobe megalink "$@"
fi
ko=${ML_KO:-}
if [ -z "$ko" ]; then
	ko=${ML_REPO:-.}/build/${ML_KREL:-$(uname -r)}/megalink.ko
fi
if [ ! -f "$ko" ]; then
	echo "ml-load.sh: no module at $ko" >&2
	exit 1
fi
exec insmod "$ko" "$@"
