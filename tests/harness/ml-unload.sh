#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ml-unload.sh  (inside a harness guest): rmmod megalink.  Fails, showing
# the module's reference count, when it is still in use.
set -eu

if [ ! -d /sys/module/megalink ]; then
	echo "ml-unload: megalink is not loaded" >&2
	exit 1
fi
if ! rmmod megalink; then
	echo "ml-unload: rmmod failed; refcnt $(cat /sys/module/megalink/refcnt 2>/dev/null || echo '?')" >&2
	exit 1
fi
echo "ml-unload: megalink unloaded"
