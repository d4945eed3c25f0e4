#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh (make demo): installs the Debian packages it needs (as root),
# builds the module for every installed kernel, the library, the tools and
# the examples, then boots the 6.12 guest (6.1 if 6.12 is not installed)
# and shows a three-node megalink pod there (tests/harness/demo-guest.sh),
# ending with PyTorch DDP training over the megalink backend.
# Loads build/<release>/megalink.ko, or the DKMS-installed module when that
# is missing.  ML_DEMO_BUILD=0 skips the first two steps.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../tests/harness/lib.sh disable=SC1091
. "$repo/tests/harness/lib.sh"
# shellcheck source-path=SCRIPTDIR source=steps.sh disable=SC1091
. "$repo/scripts/steps.sh"
cd "$repo"

steps_begin demo 3
if [ "${ML_DEMO_BUILD:-1}" != 0 ]; then
	step "Debian packages (installed when missing, as root)" -- scripts/deps.sh demo
	step "build: megalink.ko for every installed kernel, library, tools, examples, torch backend" -- \
		make -s --no-print-directory modules-all lib tools examples coll torch
else
	steps_total=1
fi

krel=''
for series in ${ML_DEMO_KERNEL:-6.12 6.1}; do
	if krel=$(ml_resolve_kernel "$series"); then
		break
	fi
done
[ -n "$krel" ] || { echo "demo: no 6.12 or 6.1 Debian kernel installed (scripts/deps.sh demo)" >&2; exit 1; }

if [ -f "$ML_BUILD_DIR/$krel/megalink.ko" ]; then
	export ML_LOAD=insmod
elif modinfo -k "$krel" megalink >/dev/null 2>&1; then
	export ML_LOAD=modprobe
else
	echo "demo: no megalink module for $krel: run make modules-all (or make dkms-install)" >&2
	exit 1
fi
for t in megalink megalink-stat; do
	[ -x "$repo/tools/$t" ] || { echo "demo: tools/$t not built: run make tools" >&2; exit 1; }
done

step "boot $krel under QEMU (TCG, about 10 s) and show a pod (about two minutes)" -- \
	"$ML_HARNESS_DIR/run-in-guest.sh" --kernel "$krel" --timeout "${ML_DEMO_TIMEOUT:-480}" \
	--out "$ML_BUILD_DIR/guest-out/demo-$krel" -- tests/harness/demo-guest.sh
steps_end
