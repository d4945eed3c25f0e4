#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# PID 1 of a harness guest (host busybox: one static binary, fast to load
# over 9p), run from the host's root (9p + tmpfs overlay)
# after the initramfs switch_root.  Sets up a minimal system, mounts the
# per-run output share (tag "mlout") at the same path as on the host, runs
# the command the host wrote to $ML_OUT/cmd with its output on ttyS1 (the
# host's stdout), saves the kernel log and the exit code, and powers off.
#
# Kernel command line: mlinit=THIS mlrepo=REPO mlout=OUTDIR mltimeout=SECONDS

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
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/lock /run/netns
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null

repo="" out="" tmo="" mods=""
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case $arg in
	mlrepo=*) repo=${arg#mlrepo=} ;;
	mlout=*) out=${arg#mlout=} ;;
	mltimeout=*) tmo=${arg#mltimeout=} ;;
	mlmods=*) mods=${arg#mlmods=} ;;
	esac
done
if [ -z "$repo" ] || [ -z "$out" ]; then
	fail "mlrepo= / mlout= missing on the kernel command line"
fi

mkdir -p "$out" || fail "mkdir $out"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none mlout "$out" ||
	fail "cannot mount the output share at $out"

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
ML_KO=$repo/build/$krel/megalink.ko
ML_OUT=$out
ML_REPO=$repo
HOME=/root
TERM=dumb
LANG=C.UTF-8
export ML_KREL ML_KO ML_OUT ML_REPO HOME TERM LANG

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
