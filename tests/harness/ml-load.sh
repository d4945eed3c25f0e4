#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ml-load.sh [PARAM=VALUE...]  (inside a harness guest)
#
# Loads megalink: `insmod $ML_KO PARAMS` (the module built by
# `make modules-all` for this kernel; its dependencies are modprobe'd
# first), or `modprobe megalink PARAMS` (the DKMS-installed module) when
# ML_LOAD=modprobe.  Prints one line saying what was loaded.
set -eu

if [ -d /sys/module/megalink ]; then
	echo "ml-load: megalink is already loaded" >&2
	exit 1
fi
case ${ML_LOAD:-insmod} in
modprobe)
	file=$(modinfo -F filename megalink 2>/dev/null) || {
		echo "ml-load: modprobe: no megalink module for $(uname -r) (scripts/dkms-install.sh as root)" >&2
		exit 1
	}
	modprobe megalink "$@"
	how="modprobe $file"
	;;
insmod)
	ko=${ML_KO:-}
	if [ -z "$ko" ] || [ ! -f "$ko" ]; then
		echo "ml-load: ML_KO='$ko' is not a file (make modules-all)" >&2
		exit 1
	fi
	for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
		modprobe "$dep"
	done
	insmod "$ko" "$@"
	how="insmod $ko"
	;;
*)
	echo "ml-load: ML_LOAD must be insmod or modprobe, not '$ML_LOAD'" >&2
	exit 2
	;;
esac
[ -d /sys/module/megalink ] || {
	echo "ml-load: $how returned but /sys/module/megalink is missing" >&2
	exit 1
}
ver=$(cat /sys/module/megalink/version 2>/dev/null || echo '?')
echo "ml-load: megalink $ver loaded ($how${*:+ $*})"
