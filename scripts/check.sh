#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh (make check): every test, in order, each step numbered and timed.
# Stops at the first failing step and says which.  See README.md.
set -eu
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=steps.sh disable=SC1091
. scripts/steps.sh

m() {
	make --no-print-directory "$@"
}

# Step 3 starts the Debian package build (tests/deb/run.sh step 1) under
# nice 19 in the background; step 13 waits for it.  A check that stops
# before then stops it.
trap 'tests/deb/run.sh --stop-build' EXIT
steps_begin check 13
step "Debian packages (installed when missing, as root)" -- scripts/deps.sh check
step "build: megalink.ko for every installed kernel (W=1), library, tools" -- m modules-all lib tools
step "start the Debian package build in the background (nice 19; step 13 uses it)" -- tests/deb/run.sh --start-build
step "sparse (C=1) on every kernel" -- m sparse
step "checkpatch on the module" -- m checkpatch
step "netlink spec against the header and the driver" -- env ML_REQUIRE=1 docs/netlink/validate.sh
step "host unit tests (Check)" -- m check-unit
step "guest harness from a checkout under /tmp and a path with a space" -- tests/harness/test-paths.sh 6.12
step "DKMS install for every kernel" -- m dkms-install
step "build the in-guest test programs" -- m guest-tests
step "in-guest suites on 6.1 (insmod) and 6.12 (DKMS modprobe)" -- tests/run-guest-suite.sh
step "two 6.12 guests over a QEMU socket network" -- tests/twoguest/run.sh 6.12
step "Debian packages: build, lintian, install, upgrade, purge" -- env ML_DEB_BG=1 tests/deb/run.sh
steps_end
