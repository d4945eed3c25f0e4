#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# in-guest.sh V1DIR V2DIR (inside a harness guest, as root; tests/deb/run.sh
# boots it): the Debian packages on a clean root.
#
#   1. clean: removes any megalink DKMS install the host has (make check's
#      scripts/dkms-install.sh) from the guest's overlay, and hides the
#      build trees of the kernels other than the running one, so that the
#      DKMS postinst builds for this kernel only (a TCG guest compiles
#      slowly);
#   2. dpkg -i V1DIR/*.deb (timed: DKMS builds the module), the module is
#      registered, built and installed, modprobe loads it;
#   3. only the installed programs: command -v must find /usr/sbin/megalink,
#      /usr/sbin/megalink-stat and /usr/bin/megalink-perf, owned by
#      megalink-tools; a program built against libmegalink-dev with
#      pkg-config runs; ldconfig knows the libraries and the NCCL plugin;
#   4. a three-node pod (netns, full mesh of veth pairs), discovery, and
#      megalink-perf write_bw --verify between two nodes;
#   5. upgrade: dpkg -i V2DIR/*.deb (the next version): DKMS has only the
#      new version, its module loads and the pod comes up again;
#   6. dpkg --purge of every package: nothing left (the files of the
#      dpkg -L lists taken before, /usr/src/megalink-*, the DKMS tree, the
#      module under /lib/modules/*/updates).
# Prints "ok:"/"FAIL:" lines, timings as "time: ...", and ends with
# "deb-guest: N passed, M failed".
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive

v1dir=$1 v2dir=$2
krel=$(uname -r)
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { bad "not root"; finish deb-guest; }
pkgs=$(for f in $(debs "$v1dir"); do dpkg-deb -f "$f" Package; done | sort)
v1=$(dpkg-deb -f "$(debs "$v1dir" | head -n 1)" Version)
v2=$(dpkg-deb -f "$(debs "$v2dir" | head -n 1)" Version)
echo "deb-guest: kernel $krel, packages $(echo $pkgs), $v1 -> $v2"

# ---- 1. a clean root
t=$(now)
# The harness's devtmpfs has no /dev/fd (udev makes it on a real system):
# dkms needs it for its <(...) redirections.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for n in 0:stdin 1:stdout 2:stderr; do
	[ -e "/dev/${n#*:}" ] || ln -s "/proc/self/fd/${n%%:*}" "/dev/${n#*:}"
done
# man-db's trigger rebuilds its whole index database on every dpkg run:
# minutes under TCG, and nothing this test looks at (the guest's overlay
# only; as "man-db/auto-update false" does).
rm -f /var/lib/man-db/auto-update
removed=0
for d in /var/lib/dkms/megalink/*/; do
	[ -d "$d" ] || continue
	v=$(basename "$d")
	echo "deb-guest: removing the host's DKMS megalink/$v from the overlay"
	dkms remove "megalink/$v" --all >/dev/null 2>&1 || rm -rf "/var/lib/dkms/megalink/$v"
	removed=1
done
rm -rf /var/lib/dkms/megalink /usr/src/megalink-*
if ls /lib/modules/*/updates/dkms/megalink.ko* >/dev/null 2>&1; then
	rm -f /lib/modules/*/updates/dkms/megalink.ko*
	removed=1
fi
# (depmod of a whole kernel takes a minute under TCG: only when needed)
[ "$removed" = 0 ] || depmod -a "$krel"
# shellcheck disable=SC2086
inst=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $pkgs 2>/dev/null | awk '$2 ~ /^[ihr]/ { print $1 }')
if [ -n "$inst" ]; then
	echo "deb-guest: installed on the host: $(echo $inst): purging them in the overlay first"
	# shellcheck disable=SC2086
	dpkg --purge $inst >/dev/null 2>&1 || true
fi
hidden=''
for b in /lib/modules/*/build; do
	k=$(basename "$(dirname "$b")")
	[ "$k" != "$krel" ] || continue
	mv "$b" "$b.hidden-by-deb-test" && hidden="$hidden $k"
done
echo "deb-guest: DKMS builds for $krel only (build trees hidden:${hidden:- none})"
# depmod runs at every DKMS install and remove (three times here), and
# reading the kernel's ~4000 compressed modules takes it a minute or more
# each time under TCG.  So the guest's overlay gets a /lib/modules/KREL/kernel
# with only the modules this test can load (veth and what is loaded now):
# depmod and modprobe work as on a real system, over a short list.
# ML_DEB_FULL_DEPMOD=1 keeps the whole tree.
if [ "${ML_DEB_FULL_DEPMOD:-0}" != 1 ]; then
	kdir=/lib/modules/$krel/kernel
	small=$(mktemp -d /tmp/deb-kmods.XXXXXX)
	for m in veth $(awk '{ print $1 }' /proc/modules); do
		f=$(modinfo -k "$krel" -F filename "$m" 2>/dev/null) || continue
		case $f in
		"$kdir"/*) ;;
		*) continue ;;
		esac
		mkdir -p "$small/$(dirname "${f#"$kdir"/}")"
		cp -a "$f" "$small/${f#"$kdir"/}"
	done
	mount --bind "$small" "$kdir" && depmod -a "$krel" &&
		echo "deb-guest: depmod over $(find "$kdir" -name '*.ko*' | wc -l) modules of $krel (ML_DEB_FULL_DEPMOD=1: all)"
fi
if [ -e /var/lib/dkms/megalink ] || ls -d /usr/src/megalink-* >/dev/null 2>&1 ||
	modinfo -k "$krel" megalink >/dev/null 2>&1; then
	bad "clean root: a megalink module or DKMS entry is left"
else
	ok "clean root: no megalink in DKMS, /usr/src or /lib/modules ($(since "$t") s)"
fi

# ---- 2. install
t=$(now)
# shellcheck disable=SC2046
if dpkg -i $(debs "$v1dir") >"$ML_OUT/dpkg-install.log" 2>&1; then
	ok "dpkg -i $v1: $(debs "$v1dir" | wc -l) packages"
else
	bad "dpkg -i $v1"
	tail -n 30 "$ML_OUT/dpkg-install.log"
fi
echo "time: dpkg -i $v1 (DKMS build for $krel included): $(since "$t") s"
grep -i -e 'dkms' -e 'Building' -e 'megalink.ko' "$ML_OUT/dpkg-install.log" | sed 's/^/  | /' | head -n 20
echo "time: the DKMS compile of $v1 for $krel: $(make_time "$v1")"
pkgs_ok "$v1" && ok "all packages installed at $v1" || bad "packages not all at $v1"
dkms_ok "$v1" && ok "DKMS: megalink/$v1 installed for $krel" || bad "DKMS state after install"
[ -f "/usr/src/megalink-$v1/dkms.conf" ] && grep -q "PACKAGE_VERSION=\"$v1\"" "/usr/src/megalink-$v1/dkms.conf" &&
	ok "/usr/src/megalink-$v1/dkms.conf: PACKAGE_VERSION $v1" || bad "/usr/src/megalink-$v1/dkms.conf"
module_ok "$v1" && ok "modprobe megalink: the DKMS module, version $v1" || bad "modprobe of the DKMS module"

# ---- 3. the installed programs and libraries
installed_ok "$v1"

# ---- 4. a pod of three nodes, traffic between n1 and n2
t=$(now)
if pod_up 3 && wait_neigh 3; then
	ok "pod: three nodes, full mesh, each sees two neighbours ($(since "$t") s)"
	on n1 megalink-stat | sed 's/^/  n1| /'
else
	bad "pod of three nodes did not come up"
	on n1 megalink-stat 2>&1 | sed 's/^/  n1| /'
fi
perf_check
pod_down
rmmod megalink 2>/dev/null || bad "rmmod megalink after the pod"

# ---- 5. upgrade
lists_v1=$(mktemp)
# shellcheck disable=SC2086
dpkg -L $pkgs | sort -u >"$lists_v1"
t=$(now)
# shellcheck disable=SC2046
if dpkg -i $(debs "$v2dir") >"$ML_OUT/dpkg-upgrade.log" 2>&1; then
	ok "dpkg -i $v2 (upgrade from $v1)"
else
	bad "dpkg -i $v2 (upgrade)"
	tail -n 30 "$ML_OUT/dpkg-upgrade.log"
fi
echo "time: dpkg -i $v2 (upgrade, DKMS remove $v1 + build $v2): $(since "$t") s"
echo "time: the DKMS compile of $v2 for $krel: $(make_time "$v2")"
pkgs_ok "$v2" && ok "all packages upgraded to $v2" || bad "packages not all at $v2"
dkms_ok "$v2" && ok "DKMS: only megalink/$v2, installed for $krel" || bad "DKMS state after the upgrade"
[ ! -e "/usr/src/megalink-$v1" ] && [ -f "/usr/src/megalink-$v2/dkms.conf" ] &&
	ok "/usr/src: megalink-$v1 gone, megalink-$v2 there" || bad "/usr/src after the upgrade: $(ls -d /usr/src/megalink-* 2>&1)"
module_ok "$v2" && ok "modprobe megalink: version $v2" || bad "modprobe after the upgrade"
ver=$(megalink-stat -V 2>&1)
echo "$ver" | grep -q "$v2" && ok "megalink-stat -V: $ver" || bad "megalink-stat -V after the upgrade: '$ver'"
t=$(now)
if pod_up 2 && wait_neigh 2; then
	ok "after the upgrade: a two-node pod sees its neighbours ($(since "$t") s)"
else
	bad "after the upgrade: the pod did not come up"
fi
pod_down
rmmod megalink 2>/dev/null || bad "rmmod megalink after the upgrade"

# ---- 6. purge
lists=$(mktemp)
# shellcheck disable=SC2086
dpkg -L $pkgs | sort -u >"$lists"
cat "$lists_v1" >>"$lists"
nfiles=$(sort -u "$lists" | while read -r f; do [ -d "$f" ] || echo "$f"; done | wc -l)
t=$(now)
# shellcheck disable=SC2086
if dpkg --purge $pkgs >"$ML_OUT/dpkg-purge.log" 2>&1; then
	ok "dpkg --purge $(echo $pkgs | wc -w) packages"
else
	bad "dpkg --purge"
	tail -n 30 "$ML_OUT/dpkg-purge.log"
fi
echo "time: dpkg --purge: $(since "$t") s"
# shellcheck disable=SC2086
left=$(dpkg-query -W -f='${Package}:${db:Status-Abbrev}\n' $pkgs 2>/dev/null | grep -v ':un $')
[ -z "$left" ] && ok "dpkg knows none of the packages any more" || bad "dpkg still has: $(echo $left)"
# Files (and symlinks) of the lists; directories only where they are the
# packages' own (shared ones like /usr/share/man/man3 stay).
leftf=$(sort -u "$lists" | while read -r f; do
	if [ -d "$f" ] && [ ! -L "$f" ]; then
		case $f in
		/usr/src/megalink-* | /usr/include/megalink* | /usr/share/doc/*megalink* | \
			/usr/lib/python3/dist-packages/megalink_torch*) echo "$f" ;;
		esac
	elif [ -e "$f" ] || [ -L "$f" ]; then
		echo "$f"
	fi
done)
[ -z "$leftf" ] && ok "none of the $nfiles files of the packages' dpkg -L lists is left" ||
	bad "left after purge: $(echo $leftf)"
lefto=$(ls -d /usr/src/megalink-* /var/lib/dkms/megalink /lib/modules/*/updates/dkms/megalink.ko* 2>/dev/null)
[ -z "$lefto" ] && ! modinfo -k "$krel" megalink >/dev/null 2>&1 &&
	ok "no /usr/src/megalink-*, no DKMS entry, no megalink.ko under /lib/modules" ||
	bad "left after purge: $lefto"
ldconfig -p | grep -q megalink && bad "ldconfig still lists a megalink library" ||
	ok "ldconfig lists no megalink library"
finish deb-guest
