#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-use.sh DIFF VERSION NODES (inside a harness guest, as root;
# tests/deb/root.sh boots it): the root that dpkg left in tests/deb/root.sh's
# clean root, loaded and used.  DIFF holds that root's changes to the
# host's: root.tar (its overlay's upper directory), whiteouts and opaque
# (paths, one a line, that it deleted or replaced whole).  They are applied
# to the guest's overlay, which starts as the same host root; then modprobe
# must load the DKMS module of VERSION, and a pod of NODES nodes comes up
# with the installed megalink alone (PATH without /usr/local, the tree's
# binaries nowhere), with megalink-perf traffic when NODES >= 3.
# Prints "ok:"/"FAIL:" lines and "deb-guest VERSION: N passed, M failed".
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
diff=$1 v=$2 nodes=$3
krel=$(uname -r)
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

t=$(now)
# What the clean root deleted, and directories it replaced whole.
cat "$diff/whiteouts" "$diff/opaque" | while read -r p; do
	p=${p#/}
	[ -n "$p" ] && rm -rf -- "/${p:?}"
done
if tar -xpf "$diff/root.tar" -C /; then
	ok "the installed root applied: $(tar -tf "$diff/root.tar" | wc -l) paths, $(wc -l <"$diff/whiteouts") deleted ($(since "$t") s)"
else
	bad "tar -x of $diff/root.tar"
fi
# dkms and dpkg are not run here, but the tools' <(...) are
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

module_ok "$v" && ok "$krel: modprobe megalink loads the DKMS module, version $v" ||
	bad "$krel: modprobe of the DKMS module $v"
tools_ok=1
for tool in /usr/sbin/megalink /usr/sbin/megalink-stat /usr/bin/megalink-perf; do
	[ "$(command -v "$(basename "$tool")")" = "$tool" ] || tools_ok=0
done
[ "$tools_ok" = 1 ] && [ "$(megalink-stat -V 2>&1 | grep -c "$v")" -ge 1 ] &&
	ok "command -v: the installed megalink, megalink-stat, megalink-perf, version $v" ||
	bad "command -v / -V: not the installed tools of $v"
ex=/usr/share/doc/megalink-tools/examples/example.conf
# Its netdevs are not here: each port is a "# skip" note, and nothing changes.
if megalink apply --dry-run "$ex" >"$ML_OUT/apply-example.txt" 2>&1 &&
	grep -q '^# skip' "$ML_OUT/apply-example.txt"; then
	ok "megalink apply --dry-run of the installed example: $(grep -c '^# skip' "$ML_OUT/apply-example.txt") ports skipped, exit 0"
else
	bad "megalink apply --dry-run $ex: $(head -n 3 "$ML_OUT/apply-example.txt")"
fi
t=$(now)
if pod_up "$nodes" && wait_neigh "$nodes"; then
	ok "pod: $nodes nodes, full mesh, each sees $((nodes - 1)) neighbours ($(since "$t") s)"
	on n1 megalink-stat | sed 's/^/  n1| /'
else
	bad "the pod of $nodes nodes did not come up"
	on n1 megalink-stat 2>&1 | sed 's/^/  n1| /'
fi
[ "$nodes" -lt 3 ] || perf_check
pod_down
rmmod megalink 2>/dev/null && ok "rmmod megalink" || bad "rmmod megalink after the pod"
finish "deb-guest $v"
