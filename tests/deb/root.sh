#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# root.sh V1DIR V2DIR OUT KERNEL (as root, in a mount namespace of its own:
# tests/deb/run.sh starts it with unshare -m): install, use, upgrade and
# purge the packages in a clean root, fast.
#
# The clean root is an overlay of the host's / with a tmpfs as its upper
# layer, mounted in this namespace only: whatever dpkg, DKMS and the
# maintainer scripts do lands in the tmpfs and is gone when this script
# ends.  dpkg runs in it natively (chroot; tests/deb/in-root.sh), so DKMS
# compiles for every kernel in seconds.  To load and use what it
# installed, the overlay's changes (its upper layer) are applied to the
# same host root in a QEMU guest (tests/deb/guest-use.sh): that guest sees
# what a machine with only the packages installed would.
#
#   clean -> install V1 -> guest (modprobe, 3-node pod, megalink-perf)
#         -> upgrade V2 -> guest (modprobe, 2-node pod) -> purge, and the
#   upper layer must then hold nothing of the packages.
# Ends with "deb-root: N passed, M failed".
set -u
set -o pipefail
v1dir=$1 v2dir=$2 out=$3 kernel=$4
repo=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
log=$out/root.log
: >"$log"
ok() { echo "ok: $*" | tee -a "$log"; }
bad() { echo "FAIL: $*" | tee -a "$log"; }
done_() {
	passed=$(grep -c '^ok: ' "$log")
	failed=$(grep -c '^FAIL: ' "$log")
	echo "deb-root: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

work=$(mktemp -d /tmp/megalink-debroot.XXXXXX) || exit 1
cleanup() {
	umount -R "$work/root" 2>/dev/null
	umount "$work" 2>/dev/null
	rmdir "$work" 2>/dev/null
}
trap cleanup EXIT
mount --make-rprivate / &&
	mount -t tmpfs -o mode=0755 megalink-deb "$work" &&
	mkdir "$work/upper" "$work/ovl-work" "$work/root" &&
	mount -t overlay megalink-deb -o "lowerdir=/,upperdir=$work/upper,workdir=$work/ovl-work" "$work/root" || {
	bad "cannot mount an overlay of / (needs root and overlayfs)"
	done_
}
root=$work/root
mount -t proc proc "$root/proc" &&
	mount --rbind /sys "$root/sys" &&
	mount --rbind /dev "$root/dev" &&
	mount -t tmpfs tmpfs "$root/tmp" &&
	mount -t tmpfs tmpfs "$root/run" &&
	mkdir -p "$root/run/lock" || { bad "mounts in the clean root"; done_; }
# The packages, the scripts and a state directory, bound in (not copied:
# they must not show in the upper layer).
mkdir -p "$root/tmp/ml/v1" "$root/tmp/ml/v2" "$root/tmp/ml/t" "$root/tmp/ml/state"
mount --bind "$v1dir" "$root/tmp/ml/v1" && mount --bind "$v2dir" "$root/tmp/ml/v2" &&
	mount --bind "$repo/tests/deb" "$root/tmp/ml/t" &&
	mount --bind "$out" "$root/tmp/ml/state" || { bad "bind mounts"; done_; }
in_root() {
	chroot "$root" env -i STATE=/tmp/ml/state TERM=dumb /tmp/ml/t/in-root.sh "$@" 2>&1 | tee -a "$log"
}
# diff NAME: the upper layer as guest-use.sh applies it, in OUT/NAME
diff_root() {
	local d=$out/$1
	rm -rf "$d"
	mkdir -p "$d"
	(cd "$work/upper" && python3 - "$d" <<'EOF'
import os, stat, sys
d = sys.argv[1]
wh, op, keep = [], [], []
skip = ("./tmp", "./run", "./var/cache", "./var/log", "./root")
for top, dirs, files in os.walk("."):
    if top.startswith(skip):
        dirs[:] = []
        continue
    for n in dirs:
        p = os.path.join(top, n)
        try:
            if os.getxattr(p, "trusted.overlay.opaque", follow_symlinks=False) == b"y":
                op.append(p[1:])
        except OSError:
            pass
    for n in files:
        p = os.path.join(top, n)
        st = os.lstat(p)
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            wh.append(p[1:])
        else:
            keep.append(p)
open(os.path.join(d, "whiteouts"), "w").write("".join(p + "\n" for p in wh))
open(os.path.join(d, "opaque"), "w").write("".join(p + "\n" for p in op))
open(os.path.join(d, "files"), "w").write("".join(p + "\n" for p in keep))
EOF
	) && tar -C "$work/upper" --no-recursion -cf "$d/root.tar" -T "$d/files"
}
guest() {
	local name=$1 v=$2 n=$3 gout=$out/guest-$1
	diff_root "$name" || { bad "the upper layer of the clean root as a diff ($name)"; return; }
	rm -rf "$gout"
	mkdir -p "$gout"
	"$repo/tests/harness/run-in-guest.sh" --kernel "$kernel" --timeout "${ML_DEB_TIMEOUT:-300}" --out "$gout" -- \
		"$repo/tests/deb/guest-use.sh" "$out/$name" "$v" "$n" >/dev/null 2>&1
	rc=$?
	grep -E '^(ok|FAIL|  )' "$gout/output.log" | tee -a "$log"
	grep -q "^deb-guest $v: [0-9]* passed" "$gout/output.log" ||
		bad "the guest of $name did not report (run-in-guest.sh exit $rc; $gout)"
	[ "$rc" = 0 ] || grep -q '^FAIL: ' "$gout/output.log" ||
		bad "guest of $name: run-in-guest.sh exit $rc (120: kernel splat, 125: boot or timeout; $gout)"
	echo "time: guest $name: $(sed -n 's/^total_s=//p' "$gout/timing" 2>/dev/null) s" | tee -a "$log"
}
v1=$(dpkg-deb -f "$v1dir"/megalink-dkms_*_all.deb Version)
v2=$(dpkg-deb -f "$v2dir"/megalink-dkms_*_all.deb Version)

rm -f "$out/lists" "$out/pkgs" "$out/version"
in_root clean
(cd "$work/upper" && find . -path ./tmp -prune -o -path ./run -prune -o -print | sort) >"$out/upper-clean"
in_root install /tmp/ml/v1
guest v1 "$v1" 3
in_root upgrade /tmp/ml/v2
guest v2 "$v2" 2
in_root purge
# What the packages leave in the root, beyond what they may: dpkg's own
# records, logs and caches, the linker and module indexes they refresh,
# the group (a system group stays on purge), and directories the clean
# root had.
(cd "$work/upper" && find . -path ./tmp -prune -o -path ./run -prune -o -print | sort) >"$out/upper-purged"
extra=$(comm -13 "$out/upper-clean" "$out/upper-purged" | grep -Ev \
	'^\./(var/lib/dpkg|var/log|var/cache|var/lib/man-db|var/lib/systemd/deb-systemd-helper|var/lib/dkms/mok\.(key|pub)$|etc/(group|gshadow|passwd|shadow|subuid|subgid)-?$|etc/\.pwd\.lock$|etc/ld\.so\.cache$|lib/modules/[^/]+/modules\.|root)' |
	while read -r p; do
		# a directory copied up from the host's root, or left empty
		if [ -d "$work/upper/$p" ] && [ ! -L "$work/upper/$p" ]; then
			[ -d "/$p" ] && continue
			[ -z "$(ls -A "$work/upper/$p")" ] && continue
		fi
		echo "$p"
	done)
[ -z "$extra" ] && ok "after the purge the root holds nothing new but dpkg's records and refreshed indexes" ||
	bad "left in the root after the purge: $(echo $extra | head -c 600)"
done_
