#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# PID 1 of a harness guest (host busybox: one static binary, fast to load
# over 9p), run from the host's root (9p + tmpfs overlay)
# after the initramfs switch_root.  Sets up a minimal system, moves the
# per-run output share (tag "mlout", mounted by the initramfs at /.ml-out)
# to the same path as on the host, runs the command the host wrote to
# $ML_OUT/cmd with its output on ttyS1 (the host's stdout), saves the
# kernel log and the exit code, and powers off.
#
# What the host tells it is in /.ml-out/guest.conf, one KEY=VALUE a line
# (values are taken verbatim: spaces and any character but a newline):
#   init=THIS  repo=REPO  build=BUILD-DIR  out=OUT-DIR  timeout=SECONDS
#   mods=MODULE-DIR (the debug kernel's)
#   keep=PATH   a host path the run needs (repeated, parents first)
#   link=PATH   with the next keep=: PATH is a symlink to that path
#
# The guest gets a private tmpfs /tmp, /run and /dev/shm.  Whatever keep=
# path lies below one of them is bind-mounted back from the host's root
# (seen through a bind of the overlay root taken before the tmpfs mounts),
# so a checkout, a build directory or an output directory under /tmp or
# /run/user/... stays visible at its own path.

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

poweroff_now() {
	sync
	echo o >/proc/sysrq-trigger
	# PID 1 must not exit while the power goes: sleep lives on the 9p
	# root, which may already be gone (EIO), so spin if it fails.
	sleep 30 2>/dev/null
	while :; do :; done
}

fail() {
	echo "ML-GUEST-FAIL: $*"
	poweroff_now
	exit 1
}

# The initramfs normally hands /proc, /sys and /dev over already mounted.
[ -e /proc/self/exe ] || mount -t proc proc /proc || fail "mount /proc"
[ -d /sys/kernel ] || mount -t sysfs sysfs /sys || fail "mount /sys"
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
exec </dev/null >/dev/console 2>&1

conf=/.ml-out/guest.conf
[ -r "$conf" ] || fail "no $conf: the output share is not mounted"
repo="" build="" out="" tmo="" mods=""
while IFS= read -r line; do
	case $line in
	repo=*) repo=${line#repo=} ;;
	build=*) build=${line#build=} ;;
	out=*) out=${line#out=} ;;
	timeout=*) tmo=${line#timeout=} ;;
	mods=*) mods=${line#mods=} ;;
	esac
done <"$conf"
if [ -z "$repo" ] || [ -z "$out" ]; then
	fail "repo= / out= missing in $conf"
fi
[ -n "$build" ] || build=$repo/build

# A view of the root as the host shows it, for what the tmpfs mounts hide.
mkdir -p /.ml-host && mount -o bind / /.ml-host || fail "cannot bind the root to /.ml-host"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/lock /run/netns
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
# The first memory cgroup turns on the kernel's memcg static keys (live text
# patching).  Under TCG that has oopsed (int3 in the slab allocator) and
# stalled packet delivery to a socket for 35 s when it happened mid-test
# (dp_regress's memcg test): make one now, while nothing else runs.
if echo +memory >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	mkdir /sys/fs/cgroup/ml-warm 2>/dev/null && rmdir /sys/fs/cgroup/ml-warm
fi

# hidden PATH: true when PATH lies in one of the private tmpfs mounts.
hidden() {
	case $1 in
	/tmp | /tmp/* | /run | /run/* | /dev/shm | /dev/shm/*) return 0 ;;
	esac
	return 1
}

# Bring back the host paths the run needs (parents first, as listed).
link=""
while IFS= read -r line; do
	case $line in
	link=*) link=${line#link=} ;;
	keep=*)
		p=${line#keep=}
		if hidden "$p"; then
			if [ -d "/.ml-host$p" ]; then
				mkdir -p "$p" && mount -o bind "/.ml-host$p" "$p" ||
					fail "cannot bind the host's $p back over the guest's tmpfs"
			elif [ -e "$p" ]; then
				# A file below a directory bound back already: it is
				# there (": >" would truncate the host's file in the
				# overlay).
				:
			elif [ -e "/.ml-host$p" ]; then
				mkdir -p "${p%/*}" && : >"$p" && mount -o bind "/.ml-host$p" "$p" ||
					fail "cannot bind the host's $p back over the guest's tmpfs"
			fi
		fi
		if [ -n "$link" ] && hidden "$link" && [ ! -e "$link" ]; then
			mkdir -p "${link%/*}" && ln -s "$p" "$link" ||
				fail "cannot link $link to $p"
		fi
		link=""
		;;
	esac
done <"$conf"
umount /.ml-host 2>/dev/null && rmdir /.ml-host 2>/dev/null

mkdir -p "$out" || fail "mkdir $out"
mount -o move /.ml-out "$out" || fail "cannot move the output share to $out"
rmdir /.ml-out 2>/dev/null
[ -w "$out" ] || fail "the output directory $out is not writable in the guest"
[ -r "$repo/tests/harness/guest-init.sh" ] ||
	fail "the repository $repo is not visible in the guest (is it below a path the guest mounts itself?)"

hostname megalink-guest
ip link set lo up
sysctl -qw kernel.hung_task_timeout_secs=60 2>/dev/null
sysctl -qw kernel.panic_on_oops=0 2>/dev/null
# Command output goes to the second serial port, byte exact.
stty -F /dev/ttyS1 raw -echo 2>/dev/null

krel=$(uname -r)
# A kernel that is not installed on the host (the debug kernel) brings its
# own modules.builtin / modules.dep; the root is an overlay, so copy them.
if [ -n "$mods" ] && [ ! -e "/lib/modules/$krel" ]; then
	mkdir -p /lib/modules && cp -a "$mods" "/lib/modules/$krel" || fail "cannot copy $mods"
fi
ML_KREL=$krel
ML_KO=$build/$krel/megalink.ko
ML_OUT=$out
ML_REPO=$repo
ML_BUILD_DIR=$build
HOME=/root
TERM=dumb
LANG=C.UTF-8
export ML_KREL ML_KO ML_OUT ML_REPO ML_BUILD_DIR HOME TERM LANG

read -r up _ </proc/uptime
echo "$up" >"$out/guest-ready"
echo "ML-GUEST-READY: kernel $krel up after ${up}s, running $out/cmd"

# Dump the blocked tasks shortly before the host's timeout kills us.
if [ -n "$tmo" ] && [ "$tmo" -gt 60 ] 2>/dev/null; then
	(
		sleep $((tmo - 30))
		echo "ML-GUEST-WATCHDOG: command still running; dumping blocked tasks"
		echo w >/proc/sysrq-trigger
		echo l >/proc/sysrq-trigger
		dmesg >"$out/dmesg.txt" 2>&1
	) &
	wd=$!
fi

cd "$repo" || fail "cd $repo"
bash "$out/cmd" </dev/null >/dev/ttyS1 2>&1
rc=$?
[ -z "${wd:-}" ] || kill "$wd" 2>/dev/null

if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 1
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$out/kmemleak.txt" 2>&1
fi
dmesg >"$out/dmesg.txt" 2>&1
echo "$rc" >"$out/exit-code"
echo "ML-GUEST-EXIT: $rc"
poweroff_now
