#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-guest.sh --kernel <6.1|6.12|RELEASE|debug> [--timeout S] [--out DIR] [--share TAG=DIR]... -- COMMAND [ARGS...]
#
# Boots a Debian kernel (or, with "debug", the debug kernel that
# tests/debug/build-kernel.sh built) under QEMU TCG with the host's root filesystem as the
# guest root (read-only 9p + tmpfs overlay) and runs COMMAND inside, with
# cwd = repo root and this environment:
#   ML_KREL  kernel release of the guest
#   ML_KO    <repo>/build/<release>/megalink.ko
#   ML_OUT   per-run output directory (writable, same path on the host)
#   ML_REPO  repo root
# Variables ML_* and CK_* of the caller's environment are passed on too
# (e.g. ML_LOAD=modprobe, CK_VERBOSITY=verbose).
#
# Paths may hold spaces (no newline, no tab).  The guest has a private tmpfs
# /tmp, /run and /dev/shm; the repository, the build and output directories
# and every existing path named by an ML_* variable stay visible at their
# host paths even when they lie below one of those.  --share TAG=DIR adds
# DIR as a read-only 9p share with mount tag TAG (mount it in the guest with
# mount -t 9p -o ro,trans=virtio,version=9p2000.L TAG MOUNTPOINT).
#
# COMMAND's stdout and stderr appear on this script's stdout (and in
# OUT/output.log); the guest's serial console is saved in OUT/console.log,
# its kernel log in OUT/dmesg.txt.
#
# Exit status: COMMAND's exit status; 120 if COMMAND succeeded but the guest
# kernel log shows a splat (WARN, BUG, Oops, lockdep, ...); 125 if the guest
# failed to boot, panicked or timed out.
#
# Environment: ML_GUEST_TIMEOUT (default 900 s), ML_GUEST_MEM (MiB, 2048),
# ML_GUEST_SMP (2), ML_QEMU (qemu-system-x86_64), ML_GUEST_APPEND (extra
# kernel command line), ML_SPLAT_CHECK=0 disables the splat check,
# ML_QEMU_EXTRA (extra qemu arguments, split on spaces: e.g. a
# "-netdev socket,... -device virtio-net-pci,..." pair that joins guests;
# no paths: use --share for those).
set -eu
set -o pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
# A command that fails where set -e stops the script must not do so silently.
trap 'ml_note "internal error: line $LINENO failed (exit $?)"' ERR

usage() {
	echo "usage: $(sed -n 's/^# \{0,1\}//; 4,4p' "$0")" >&2
	exit 2
}

kspec='' tmo=${ML_GUEST_TIMEOUT:-900} out=''
shares=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || usage; kspec=$2; shift 2 ;;
	--kernel=*) kspec=${1#*=}; shift ;;
	--timeout) [ $# -ge 2 ] || usage; tmo=$2; shift 2 ;;
	--timeout=*) tmo=${1#*=}; shift ;;
	--out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--share) [ $# -ge 2 ] || usage; shares+=("$2"); shift 2 ;;
	--share=*) shares+=("${1#*=}"); shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) echo "run-in-guest.sh: unknown option '$1'" >&2; usage ;;
	esac
done
if [ -z "$kspec" ] || [ $# -eq 0 ]; then
	usage
fi
case $tmo in
'' | *[!0-9]*) echo "run-in-guest.sh: --timeout wants whole seconds, got '$tmo'" >&2; exit 2 ;;
esac

qemu=${ML_QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || ml_die "$qemu not found: apt-get install qemu-system-x86 (or scripts/deps.sh check)"
mods_append=''
if [ "$kspec" = debug ]; then
	# The debug kernel of make check-debug (tests/debug/build-kernel.sh):
	# everything built in; its modules.builtin is copied into the guest's
	# /lib/modules so that modprobe of a built-in driver succeeds.
	kobj=$("$ML_REPO_ROOT/tests/debug/build-kernel.sh" --print)
	[ -f "$kobj/.ml-done" ] ||
		ml_die "the debug kernel is not built: tests/debug/build-kernel.sh (or make check-debug)"
	krel=$(cat "$kobj/include/config/kernel.release")
	kernel=$kobj/arch/x86/boot/bzImage
	moddir=$kobj/modroot/lib/modules/$krel
	initrd=$("$ML_HARNESS_DIR/mkinitramfs.sh" "$krel" "$moddir") || ml_die "initramfs build failed for $krel"
	# pci=noacpi: under KASAN and emulation the firmware's _PRT method
	# runs into ACPI's 30 s loop timeout twice; the PIRQ table routes the
	# same interrupts at once (boot ~100-200 s -> ~20 s).
	mods_append="pci=noacpi"
else
	krel=$(ml_resolve_kernel "$kspec") ||
		ml_die "no installed kernel matches '$kspec' (looked for /boot/vmlinuz-${kspec}[.-]*-amd64 with /lib/modules)"
	kernel=/boot/vmlinuz-$krel
	initrd=$("$ML_HARNESS_DIR/mkinitramfs.sh" "$krel") || ml_die "initramfs build failed for $krel"
fi
[ -r "$kernel" ] || ml_die "$kernel is not readable"
# A module older than the driver's sources would test old code: refuse.
ko=$ML_BUILD_DIR/$krel/megalink.ko
if [ -f "$ko" ] && [ -n "$(find "$ML_REPO_ROOT/driver" "$ML_REPO_ROOT/include" \
	"$ML_REPO_ROOT/Kbuild" -newer "$ko" -print -quit)" ]; then
	ml_die "$ko is older than the driver's sources: make modules-all (are the headers of $krel installed?)"
fi

if [ -z "$out" ]; then
	out=$ML_BUILD_DIR/guest-out/$krel-$(date +%Y%m%d-%H%M%S)-$$
	# Keep the newest ML_GUEST_KEEP (30) automatically named run directories.
	# (Only when there are some: ls of a glob that matched nothing exits 2,
	# which pipefail would turn into this script's exit status.)
	old_runs=("$ML_BUILD_DIR"/guest-out/*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]-*)
	if [ -e "${old_runs[0]}" ]; then
		# shellcheck disable=SC2012 # names are ours: no odd characters
		ls -dt "${old_runs[@]}" | tail -n +"${ML_GUEST_KEEP:-30}" | xargs -r -d '\n' rm -rf --
	fi
fi
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
rm -f "$out/cmd" "$out/guest.conf" "$out/exit-code" "$out/guest-ready" "$out/console.log" \
	"$out/output.log" "$out/dmesg.txt" "$out/kmemleak.txt" "$out/timing"
# check_path WHAT PATH: refuse, before booting, a path the guest cannot
# show at the same place.
check_path() {
	local what=$1 p=$2
	case $p in
	*$'\n'* | *$'\t'*)
		ml_die "$what '$p' contains a newline or a tab, which the guest configuration cannot carry: use a path without them" ;;
	/proc | /proc/* | /sys | /sys/* | /dev/pts | /dev/pts/* | /dev/mqueue | /dev/mqueue/*)
		ml_die "$what $p is below ${p%"${p#/*/}"}, which the guest mounts for itself: move it elsewhere (e.g. \$HOME or /var/tmp)" ;;
	/dev | /dev/*)
		case $p in /dev/shm | /dev/shm/*) ;; *)
			ml_die "$what $p is below /dev, which the guest mounts for itself: move it elsewhere (e.g. \$HOME or /var/tmp)" ;;
		esac ;;
	/*) ;;
	*) ml_die "$what '$p' is not an absolute path" ;;
	esac
}

# qemu_opt VALUE: VALUE for a QEMU -virtfs option (commas doubled).
qemu_opt() {
	printf '%s' "${1//,/,,}"
}

[ -w "$out" ] || ml_die "output directory $out is not writable"
check_path "the repository" "$ML_REPO_ROOT"
check_path "the build directory" "$ML_BUILD_DIR"
check_path "the output directory" "$out"
[ -z "${moddir:-}" ] || check_path "the debug kernel's module directory" "$moddir"

# The host paths the guest must see, as keep= lines of guest.conf: the
# repository, build and output directories, and every existing path an ML_*
# variable names.  A path through a symlink is kept as its target plus a
# link= line, so that it resolves in the guest too.  Parents come first.
keeps=()
add_keep() {
	local p=$1 phys
	[ -e "$p" ] || return 0
	phys=$(realpath -e -- "$p") || return 0
	check_path "$2" "$phys"
	if [ "$phys" != "$p" ]; then
		check_path "$2" "$p"
		keeps+=("${#phys} link=$p"$'\t'"keep=$phys")
	else
		keeps+=("${#phys} keep=$phys")
	fi
}
add_keep "$ML_REPO_ROOT" "the repository"
add_keep "$ML_BUILD_DIR" "the build directory"
[ -z "${moddir:-}" ] || add_keep "$moddir" "the debug kernel's module directory"
for name in $(compgen -e); do
	case $name in ML_*) ;; *) continue ;; esac
	val=${!name}
	case $val in /*) add_keep "$val" "$name" ;; esac
done

# COMMAND's own path and absolute paths among its arguments, too.
for a in "$@"; do
	case $a in /*) add_keep "$a" "the command argument" ;; esac
done
# A command that is not there would only say "exit 127" from inside the
# guest: say so now.  (cwd in the guest is the repository.)
case $1 in
/*) cmd_path=$1 ;;
*/*) cmd_path=$ML_REPO_ROOT/$1 ;;
*) cmd_path='' ;;
esac
if [ -n "$cmd_path" ] && [ ! -x "$cmd_path" ]; then
	if [ -e "$cmd_path" ]; then
		ml_die "the command $cmd_path is not executable (chmod +x, or run it through bash)"
	fi
	ml_die "the command $cmd_path does not exist (a relative command is taken from the repository root, $ML_REPO_ROOT)"
fi

share_args=()
for sh in "${shares[@]}"; do
	tag=${sh%%=*}
	dir=${sh#*=}
	[[ $tag =~ ^[A-Za-z0-9_]{1,31}$ ]] && [ "$tag" != "$sh" ] ||
		ml_die "--share wants TAG=DIR with a tag of letters, digits and _, got '$sh'"
	[ -d "$dir" ] || ml_die "--share $tag: $dir is not a directory"
	share_args+=(-virtfs "local,path=$(qemu_opt "$dir"),mount_tag=$tag,security_model=none,readonly=on,multidevs=remap")
done

{
	echo "init=$ML_HARNESS_DIR/guest-init.sh"
	echo "repo=$ML_REPO_ROOT"
	echo "build=$ML_BUILD_DIR"
	echo "out=$out"
	echo "timeout=$tmo"
	[ -z "${moddir:-}" ] || echo "mods=$moddir"
	if [ ${#keeps[@]} -gt 0 ]; then
		printf '%s\n' "${keeps[@]}" | sort -n -s -k1,1 | cut -d' ' -f2- | tr '\t' '\n'
	fi
} >"$out/guest.conf"

{
	echo '#!/bin/bash'
	echo '# Written by run-in-guest.sh; run by guest-init.sh inside the guest.'
	for name in $(compgen -e); do
		case $name in
		ML_KREL | ML_KO | ML_OUT | ML_REPO | ML_HARNESS_DIR | ML_REPO_ROOT | ML_BUILD_DIR) ;;
		ML_* | CK_*) printf 'export %s=%q\n' "$name" "${!name}" ;;
		esac
	done
	printf 'cd %q || exit 125\n' "$ML_REPO_ROOT"
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$out/cmd"

# tsc=reliable: under TCG a loaded host skews the TSC against the HPET, and
# the clocksource watchdog then marks it unstable, which flips the
# sched_clock static key at run time: live text patching, which TCG
# sometimes runs into (an int3 oops in sched_clock_cpu, seen at boot and
# 57 s into a make bench).  The guest's TSC follows the host's clock.
append="console=ttyS0,115200 panic=-1 tsc=reliable"
append="$append watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=60 $mods_append ${ML_GUEST_APPEND:-}"

# A Debian kernel sometimes dies under TCG while it boots, before init and
# so before anything of ours ran (seen: an int3 oops in sched_clock_cpu
# while jump labels are patched on the other vCPU).  Such a boot is retried
# once, loudly; a crash after ML-GUEST-READY is never retried.
attempt=1
while :; do
	ml_note "booting $krel (timeout ${tmo}s, out $out)"
	t0=$(date +%s.%N)
	# qemu runs in the background so that an interrupt of this script (which
	# `timeout`, in its own process group, would not see) stops it too.
	read -ra qemu_extra <<<"${ML_QEMU_EXTRA:-}"
	fifo_dir=$(mktemp -d "${TMPDIR:-/tmp}/ml-guest.XXXXXX")
	mkfifo "$fifo_dir/stdout"
	tee "$out/output.log" <"$fifo_dir/stdout" &
	tee_pid=$!
	timeout --kill-after=10 "$tmo" "$qemu" \
		-accel tcg -cpu max -smp "${ML_GUEST_SMP:-2}" -m "${ML_GUEST_MEM:-2048}" \
		-nodefaults -display none -no-reboot -monitor none \
		-kernel "$kernel" -initrd "$initrd" -append "$append" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$(qemu_opt "$out"),mount_tag=mlout,security_model=none,multidevs=remap" \
		"${share_args[@]}" \
		-chardev "file,id=con0,path=$(qemu_opt "$out/console.log")" -serial chardev:con0 -serial stdio \
		"${qemu_extra[@]}" \
		</dev/null >"$fifo_dir/stdout" &
	qemu_pid=$!
	interrupted=''
	trap 'interrupted=1; kill -TERM "$qemu_pid" 2>/dev/null || true' INT TERM HUP
	qrc=0
	while :; do
		wait "$qemu_pid" && qrc=0 || qrc=$?
		kill -0 "$qemu_pid" 2>/dev/null || break
	done
	wait "$tee_pid" || true
	trap - INT TERM HUP
	rm -rf "$fifo_dir"
	if [ -n "$interrupted" ]; then
		ml_note "$krel: interrupted; guest stopped (logs in $out)"
		exit 130
	fi
	if [ ! -e "$out/guest-ready" ] && [ "$attempt" -lt "${ML_BOOT_ATTEMPTS:-2}" ] &&
		grep -aq 'Kernel panic\|Oops:' "$out/console.log" 2>/dev/null; then
		mv "$out/console.log" "$out/console-attempt$attempt.log"
		ml_note "$krel: the guest kernel crashed while booting, before the command ran:"
		grep -a -m 3 -E 'Oops:|RIP:|Kernel panic' "$out/console-attempt$attempt.log" | tr -d '\r' >&2 || true
		ml_note "$krel: booting again (attempt $((attempt + 1)); that console is in console-attempt$attempt.log)"
		attempt=$((attempt + 1))
		rm -f "$out/output.log"
		continue
	fi
	break
done
t1=$(date +%s.%N)

boot_s=- run_s=-
if [ -e "$out/guest-ready" ]; then
	ready=$(stat -c %.3Y "$out/guest-ready")
	boot_s=$(awk -v a="$t0" -v b="$ready" 'BEGIN { printf "%.1f", b - a }')
	if [ -e "$out/exit-code" ]; then
		done_t=$(stat -c %.3Y "$out/exit-code")
	else
		done_t=$t1
	fi
	run_s=$(awk -v a="$ready" -v b="$done_t" 'BEGIN { printf "%.1f", b - a }')
fi
total_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
printf 'krel=%s\nboot_s=%s\nrun_s=%s\ntotal_s=%s\n' "$krel" "$boot_s" "$run_s" "$total_s" >"$out/timing"

# console_tail [after-ready]: the end of the serial console, or with
# "after-ready" only what the kernel said while the command ran.
console_tail() {
	local n=40 what=
	[ "$splat" -eq 0 ] || n=12
	if [ "${1:-}" = after-ready ]; then
		what=$(tr -d '\r' <"$out/console.log" 2>/dev/null |
			sed -n '/^ML-GUEST-READY:/,$p' | sed '1d;/^ML-GUEST-EXIT:/,$d' | tail -n "$n")
		[ -n "$what" ] || return 0
		echo "---- guest kernel messages while the command ran (last $n) ----" >&2
	else
		what=$(tail -n "$n" "$out/console.log" 2>/dev/null | tr -d '\r')
		echo "---- last $n lines of $out/console.log ----" >&2
	fi
	printf '%s\n' "$what" >&2
	echo "---- end of console ----" >&2
}

rc=
why=
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	why="TIMEOUT: guest killed after ${tmo}s (--timeout / ML_GUEST_TIMEOUT)"
elif [ -s "$out/exit-code" ]; then
	rc=$(cat "$out/exit-code")
	case $rc in '' | *[!0-9]*) why="bad exit-code file"; rc= ;; esac
elif grep -q 'Kernel panic' "$out/console.log" 2>/dev/null; then
	why="guest kernel panicked"
elif grep -q 'ML-INITRAMFS-FAIL\|ML-GUEST-FAIL' "$out/console.log" 2>/dev/null; then
	why="guest boot failed: $(grep -a -o 'ML-[A-Z]*-FAIL: .*' "$out/console.log" | head -n 1 | tr -d '\r')"
elif [ ! -e "$out/guest-ready" ]; then
	why="guest did not boot (qemu exit status $qrc)"
else
	why="guest stopped before the command finished (qemu exit status $qrc)"
fi

splat=0
if [ "${ML_SPLAT_CHECK:-1}" != 0 ]; then
	if ! "$ML_HARNESS_DIR/check-splat.sh" "$out/dmesg.txt" "$out/kmemleak.txt" \
		"$out/console.log" >"$out/splat.txt" 2>&1; then
		splat=1
		echo "megalink-harness: KERNEL SPLAT in the guest kernel log ($krel):" >&2
		cat "$out/splat.txt" >&2
	fi
fi

if [ -n "$why" ]; then
	ml_note "$krel: $why"
	console_tail
	ml_note "$krel: boot ${boot_s}s, run ${run_s}s, total ${total_s}s; logs in $out"
	exit 125
fi
if [ "$splat" -eq 1 ] && [ "$rc" -eq 0 ]; then
	rc=120
fi
if [ "$rc" -ne 0 ] && [ "$splat" -eq 0 ]; then
	console_tail after-ready
fi
ml_note "$krel: exit $rc$([ "$splat" -eq 1 ] && echo ' (kernel splat)'), boot ${boot_s}s, run ${run_s}s, total ${total_s}s; logs in $out"
exit "$rc"
