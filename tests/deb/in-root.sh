#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# in-root.sh PHASE [DEBDIR] (as root, chrooted into the clean root that
# tests/deb/root.sh made: an overlay of the host's root with a tmpfs on
# top, so nothing reaches the host): one step of the package test, done
# natively, where DKMS compiles in seconds rather than in minutes as in a
# TCG guest.
#
#   clean          remove what make check's scripts/dkms-install.sh and any
#                  installed megalink package put there: a clean root
#   install DIR    dpkg -i DIR/*.deb: every package installed, DKMS built
#                  and installed the module for every kernel with headers,
#                  the tools are what PATH finds, a program built with
#                  pkg-config runs, ldconfig and dlopen find the libraries
#   upgrade DIR    dpkg -i of the next version: only it is left in DKMS and
#                  /usr/src, every package at the new version
#   purge          dpkg --purge of every package: no file of their dpkg -L
#                  lists is left, no DKMS entry, no module
#
# STATE (the environment, a directory root.sh binds in) keeps the package
# list and the dpkg -L lists between phases.  Prints "ok:"/"FAIL:" lines
# and "deb-root PHASE: N passed, M failed".
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
phase=$1
dir=${2:-}
state=${STATE:?}
ML_OUT=$state
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

# Kernels DKMS builds for: those whose headers are installed.
krels=$(for b in /lib/modules/*/build; do [ -e "$b/Makefile" ] && basename "$(dirname "$b")"; done)
krel=$(echo "$krels" | head -n 1)
[ -f "$state/pkgs" ] && pkgs=$(cat "$state/pkgs")

case $phase in
clean)
	t=$(now)
	# man-db's trigger re-indexes every manual page on each dpkg run:
	# nothing this test looks at (as "man-db/auto-update false").
	rm -f /var/lib/man-db/auto-update
	for d in /var/lib/dkms/megalink/*/; do
		[ -d "$d" ] || continue
		v=$(basename "$d")
		echo "deb-root: removing the host's DKMS megalink/$v"
		dkms remove "megalink/$v" --all >/dev/null 2>&1 || true
	done
	rm -rf /var/lib/dkms/megalink /usr/src/megalink-* /lib/modules/*/updates/dkms/megalink.ko*
	for k in $krels; do depmod -a "$k"; done
	inst=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' 'megalink*' 'libmegalink*' \
		libnccl-net-megalink python3-megalink-torch 2>/dev/null | awk '$2 ~ /^[ihrtHU]/ { print $1 }')
	if [ -n "$inst" ]; then
		echo "deb-root: installed on the host: $(echo $inst): purged in the overlay first"
		# shellcheck disable=SC2086
		dpkg --purge $inst >/dev/null 2>&1 || true
	fi
	if [ -e /var/lib/dkms/megalink ] || ls -d /usr/src/megalink-* >/dev/null 2>&1 ||
		ls /lib/modules/*/updates/dkms/megalink.ko* >/dev/null 2>&1; then
		bad "clean root: a megalink module or DKMS entry is left"
	else
		ok "clean root: no megalink in DKMS, /usr/src or /lib/modules; kernels with headers: $(echo $krels) ($(since "$t") s)"
	fi
	;;
install | upgrade)
	[ -n "$dir" ] || { bad "$phase: no package directory"; finish "deb-root $phase"; }
	v=$(dpkg-deb -f "$(debs "$dir" | head -n 1)" Version)
	if [ "$phase" = install ]; then
		pkgs=$(for f in $(debs "$dir"); do dpkg-deb -f "$f" Package; done | sort)
		echo "$pkgs" >"$state/pkgs"
	else
		old=$(cat "$state/version")
	fi
	echo "$v" >"$state/version"
	t=$(now)
	# shellcheck disable=SC2046
	if dpkg -i $(debs "$dir") >"$state/dpkg-$phase.log" 2>&1; then
		ok "dpkg -i $v: $(debs "$dir" | wc -l) packages ($phase)"
	else
		bad "dpkg -i $v ($phase)"
		tail -n 30 "$state/dpkg-$phase.log"
	fi
	echo "time: dpkg -i $v ($phase; DKMS for $(echo $krels)): $(since "$t") s"
	for k in $krels; do
		echo "time: the DKMS compile of $v for $k: $(krel=$k make_time "$v")"
	done
	pkgs_ok "$v" && ok "all packages installed at $v" || bad "packages not all at $v"
	# shellcheck disable=SC2086
	dkms_ok "$v" $krels && ok "DKMS: only megalink/$v, installed for $(echo $krels)" ||
		bad "DKMS state after dpkg -i $v"
	mods=0
	for k in $krels; do
		f=$(modinfo -k "$k" -F filename megalink 2>/dev/null)
		mv=$(modinfo -k "$k" -F version megalink 2>/dev/null)
		case $f in
		/lib/modules/"$k"/updates/dkms/megalink.ko*) [ "$mv" = "$v" ] && mods=$((mods + 1)) ;;
		esac
		echo "  $k: $f version $mv"
	done
	[ "$mods" = "$(echo "$krels" | wc -w)" ] &&
		ok "modinfo: megalink $v in updates/dkms of every kernel (depmod knows it)" ||
		bad "modinfo: the DKMS module is not what every kernel finds"
	[ -f "/usr/src/megalink-$v/dkms.conf" ] && grep -q "PACKAGE_VERSION=\"$v\"" "/usr/src/megalink-$v/dkms.conf" &&
		ok "/usr/src/megalink-$v/dkms.conf: PACKAGE_VERSION $v" || bad "/usr/src/megalink-$v/dkms.conf"
	if [ "$phase" = upgrade ]; then
		[ ! -e "/usr/src/megalink-$old" ] && ok "/usr/src/megalink-$old is gone" ||
			bad "/usr/src/megalink-$old is left after the upgrade"
	fi
	installed_ok "$v"
	getent group megalink >/dev/null && ok "the system group megalink exists" || bad "no group megalink"
	[ -L /etc/systemd/system/multi-user.target.wants/megalink.service ] &&
		ok "megalink.service is enabled" || bad "megalink.service is not enabled"
	[ -f /lib/udev/rules.d/90-megalink.rules ] && [ -d /etc/megalink ] &&
		[ -f /usr/share/doc/megalink-tools/examples/example.conf ] && [ -f /usr/share/man/man5/megalink.conf.5.gz ] &&
		ok "udev rules, /etc/megalink, megalink.conf(5) and the example are installed" ||
		bad "udev rules / /etc/megalink / megalink.conf(5) / example.conf missing"
	# shellcheck disable=SC2086
	dpkg -L $pkgs | sort -u >>"$state/lists"
	;;
purge)
	nfiles=$(sort -u "$state/lists" | while read -r f; do [ -d "$f" ] || echo "$f"; done | wc -l)
	t=$(now)
	# shellcheck disable=SC2086
	if dpkg --purge $pkgs >"$state/dpkg-purge.log" 2>&1; then
		ok "dpkg --purge $(echo $pkgs | wc -w) packages"
	else
		bad "dpkg --purge"
		tail -n 30 "$state/dpkg-purge.log"
	fi
	echo "time: dpkg --purge: $(since "$t") s"
	# shellcheck disable=SC2086
	left=$(dpkg-query -W -f='${Package}:${db:Status-Abbrev}\n' $pkgs 2>/dev/null | grep -v ':un $')
	[ -z "$left" ] && ok "dpkg knows none of the packages any more" || bad "dpkg still has: $(echo $left)"
	# Files and symlinks of the lists; directories only where they are the
	# packages' own (shared ones like /usr/share/man/man3 stay).
	leftf=$(sort -u "$state/lists" | while read -r f; do
		if [ -d "$f" ]; then
			case $f in
			/usr/src/megalink-* | /usr/include/megalink* | /usr/share/doc/*megalink* | \
				/usr/lib/python3/dist-packages/megalink_torch* | /etc/megalink) echo "$f" ;;
			esac
		elif [ -e "$f" ] || [ -L "$f" ]; then
			echo "$f"
		fi
	done)
	[ -z "$leftf" ] && ok "none of the $nfiles files of the packages' dpkg -L lists is left" ||
		bad "left after purge: $(echo $leftf)"
	lefto=$(ls -d /usr/src/megalink-* /var/lib/dkms/megalink /lib/modules/*/updates/dkms/megalink.ko* \
		/etc/systemd/system/*/megalink.service 2>/dev/null)
	mods=$(for k in $krels; do modinfo -k "$k" -n megalink 2>/dev/null; done)
	[ -z "$lefto$mods" ] && ok "no /usr/src/megalink-*, no DKMS entry, no megalink.ko, no enabled unit" ||
		bad "left after purge: $lefto $mods"
	ldconfig -p | grep -q megalink && bad "ldconfig still lists a megalink library" ||
		ok "ldconfig lists no megalink library"
	;;
*)
	bad "unknown phase $phase"
	;;
esac
finish "deb-root $phase"
