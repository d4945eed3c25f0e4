#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Unload megalink if it is loaded.  A reference dropped by a worker may
# need a moment: retry for up to 5 s before giving up.
set -eu

[ -d /sys/module/megalink ] || exit 0
i=0
while ! rmmod megalink 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -ge 50 ]; then
		rmmod megalink
		exit 1
	fi
	sleep 0.1
done
exit 0
