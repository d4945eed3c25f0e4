#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh KERNEL-RELEASE [MODULE-DIR]
#
# Builds (or reuses) the tiny initramfs of the guest harness for one kernel:
# busybox-static plus the virtio / 9p / netfs / fscache / overlay modules of
# that kernel, decompressed, with a load order computed from modules.dep.
# MODULE-DIR defaults to /lib/modules/KERNEL-RELEASE (a directory with
# modules.dep and modules.builtin; for the debug kernel everything is built
# in and the archive holds no module).  Prints the path of the cpio archive.  Cached under build/initramfs/ and
# rebuilt when any input (scripts, busybox, the kernel's modules) changes.
set -eu
set -o pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || [ $# -eq 2 ] || { echo "usage: $0 KERNEL-RELEASE [MODULE-DIR]" >&2; exit 2; }
krel=$1
moddir=${2:-/lib/modules/$krel}
[ -f "$moddir/modules.dep" ] || ml_die "no $moddir/modules.dep (kernel $krel not installed?)"

busybox=${ML_BUSYBOX:-}
if [ -z "$busybox" ]; then
	for b in /bin/busybox /usr/bin/busybox; do
		[ -x "$b" ] && { busybox=$b; break; }
	done
fi
[ -n "$busybox" ] || ml_die "busybox not found: apt-get install busybox-static (or run scripts/deps.sh check)"
if LC_ALL=C readelf -l "$busybox" 2>/dev/null | grep -q "program interpreter"; then
	ml_die "$busybox is dynamically linked; install busybox-static"
fi

# Modules the initramfs must load (their dependencies follow from modules.dep).
roots="virtio_pci 9pnet_virtio 9p overlay"

outdir=$ML_BUILD_DIR/initramfs
mkdir -p "$outdir"
img=$outdir/$krel.cpio
stamp=$outdir/$krel.stamp

inputs_hash() {
	{
		cat "$ML_HARNESS_DIR/mkinitramfs.sh" "$ML_HARNESS_DIR/initramfs-init"
		echo "$roots"
		stat -c '%n %s %Y' "$busybox" "$moddir/modules.dep" "$moddir/modules.builtin"
	} | sha256sum | cut -d' ' -f1
}

exec 9>"$outdir/$krel.lock"
flock 9

want=$(inputs_hash)
if [ -s "$img" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	echo "$img"
	exit 0
fi

ml_note "building initramfs for $krel"

declare -A path_of=() builtin=() deps_of=() state=()
# modules.dep: "kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz ..."
while IFS= read -r line; do
	p=${line%%:*}
	n=${p##*/}
	n=${n%%.ko*}
	n=${n//-/_}
	path_of[$n]=$p
	deps_of[$n]=${line#*:}
done <"$moddir/modules.dep"
while IFS= read -r p; do
	n=${p##*/}
	n=${n%%.ko*}
	builtin[${n//-/_}]=1
done <"$moddir/modules.builtin"

order=()
visit() {
	local n=$1 d dn
	n=${n//-/_}
	[ -z "${builtin[$n]:-}" ] || return 0
	case ${state[$n]:-} in
	"done") return 0 ;;
	active) ml_die "dependency loop at $n in $moddir/modules.dep" ;;
	esac
	[ -n "${path_of[$n]:-}" ] || ml_die "module $n of $krel is neither a module nor built in"
	state[$n]=active
	for d in ${deps_of[$n]}; do
		dn=${d##*/}
		visit "${dn%%.ko*}"
	done
	state[$n]="done"
	order+=("$n")
}
for r in $roots; do
	visit "$r"
done

tmp=$(mktemp -d "$outdir/.$krel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/modules" "$tmp/dev" "$tmp/proc" "$tmp/sys" \
	"$tmp/newroot" "$tmp/lower" "$tmp/rw"
cp "$busybox" "$tmp/bin/busybox"
cp "$ML_HARNESS_DIR/initramfs-init" "$tmp/init"
chmod 0755 "$tmp/init" "$tmp/bin/busybox"
: >"$tmp/modules/order"
for n in "${order[@]}"; do
	src=$moddir/${path_of[$n]}
	case $src in
	*.ko.xz) xz -dc "$src" >"$tmp/modules/$n.ko" ;;
	*.ko.zst) zstd -q -dc "$src" >"$tmp/modules/$n.ko" ;;
	*.ko.gz) gzip -dc "$src" >"$tmp/modules/$n.ko" ;;
	*.ko) cp "$src" "$tmp/modules/$n.ko" ;;
	*) ml_die "unknown module format: $src" ;;
	esac
	echo "$n" >>"$tmp/modules/order"
done
(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$img.new"
mv -f "$img.new" "$img"
echo "$want" >"$stamp"
ml_note "initramfs $img: modules $(tr '\n' ' ' <"$tmp/modules/order")"
echo "$img"
