#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hostile-short.sh: the short form of the hostile-input lane, in any
# harness guest: the three fuzzers of tests/debug/run.sh (char device,
# netlink, wire), ML_FUZZ_SECONDS each (default 20).  make check runs it in
# its 6.1 guest (tests/in-guest.sh); make check-hostile alone, on 6.12.
# The full lane, with fault injection, stress and the checkers of the
# debug kernel, is make check-debug.
export ML_DEBUG_PARTS="fuzz-chardev fuzz-netlink fuzz-wire"
export ML_FUZZ_SECONDS=${ML_FUZZ_SECONDS:-20}
exec "$(dirname "$0")/run.sh" "$@"
