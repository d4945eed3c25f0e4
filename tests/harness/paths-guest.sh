#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# paths-guest.sh DECOY (inside a harness guest; run by test-paths.sh): reports
# what the guest sees of the paths the run needs, one KEY=VALUE a line, in
# $ML_OUT/seen.  The host side judges them.
set -u
{
	echo "repo=$ML_REPO"
	echo "cwd=$(pwd -P)"
	echo "version=$(cat VERSION 2>&1)"
	echo "token=$(cat "$ML_PATHS_DATA/token" 2>&1)"
	if [ -e "/tmp/$1" ]; then echo "decoy=visible"; else echo "decoy=hidden"; fi
	if echo private >/tmp/ml-paths-private && [ "$(cat /tmp/ml-paths-private)" = private ]; then
		echo "tmp=writable"
	else
		echo "tmp=broken"
	fi
	echo "tmpfs=$(stat -f -c %T /tmp)"
} >"$ML_OUT/seen"
echo "paths-guest: wrote $ML_OUT/seen"
