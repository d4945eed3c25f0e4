#!/bin/bash
# SPDX-License-Identifier: MIT
#
# stress.sh: the concurrency stress of the megalink debug lane, inside a
# harness guest as root (run.sh runs it under the debug kernel):
#
#   make -s modules-all lib tools && make -s -C tests/debug
#   tests/harness/run-in-guest.sh --kernel debug -- tests/debug/stress.sh
#
# Loads the module (tests/harness/ml-load.sh hello_ms=100 dead_ms=1000)
# and builds a pod of six nodes, each a netns with one megalink device:
#
#   A(msa) a1 ==== b1 B(msb) b2 ~~~~ c2 C(msc) c1 ==== d1 D(msd) d2 ~~~~ a2 A
#   E(mse) e1 ~~~~ f1 F(msf)
#
# ==== stable links (A-B MTU 9000, C-D MTU 1500), ~~~~ chaos links; A..D
# are two-port devices, E and F one-port devices (destroyed and re-created
# by the chaos).  Then, in two phases separated by a real unload and reload
# of the module (with every port still bound) in a quiet moment:
#
#   churn     threads creating/destroying PD/MR/CQ/QP, a shared CQ, work in
#             flight to absent QPs, MRs deregistered and QPs destroyed and
#             files closed under it, children killed mid-work (on A, C, E)
#   traffic   SEND/WRITE/READ (+IMM) pairs with every byte and guard
#             checked: strict on the stable links (every completion must
#             succeed), lenient on the chaos links (flush/retry errors end
#             a session, a new one starts); never a hang, never corruption
#   dump      netlink dumps and queries, device opens, the monitor group
#             (a C worker) and megalink-stat -j / megalink -j (a shell loop)
#   chaos     link down/up, MTU changes, netem loss/corruption/reordering,
#             veth deleted and re-created, ports unbound and bound, netdevs
#             moved to another netns and back, DEV_SET, and `rmmod megalink`
#             while in use (must be refused)
#
# After each phase every worker must have exited in time and with no
# failure, the devices' object counts must be zero; at the end the pod is
# removed and rmmod must succeed, and the kernel log must be clean.
# Prints operation counts per kind and ends with "stress: N passed, N failed".
#
# Environment: ML_STRESS_SECONDS (default 120: the two phases' total; set-up
# and draining come on top), ML_SEED (64-bit seed, printed at the start),
# ML_STRESS_AVOID_MR_INFLIGHT=1 (skip deregistering MRs under work in
# flight: a known kernel bug, see /work/notes/bugs-stress.md; off by
# default), ML_STRESS_LIGHT=1 (fewer workers).
# shellcheck disable=SC2317 # functions run in the background by start()
set -u

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$repo" || exit 125
S=$repo/tests/debug/stress
MEGALINK=$repo/tools/megalink
MLSTAT=$repo/tools/megalink-stat
out=${ML_OUT:-/tmp}/stress
mkdir -p "$out"
total=${ML_STRESS_SECONDS:-120}
light=${ML_STRESS_LIGHT:-0}

if [ -n "${ML_SEED:-}" ]; then
	seed=$((ML_SEED))
else
	seed=$((0x$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')))
fi
printf 'seed=0x%016x\n' "$seed"
printf 'stress: ML_STRESS_SECONDS=%s kernel %s\n' "$total" "$(uname -r)"
RANDOM=$((seed & 0x7fffffff))

passed=0 failed=0
declare -a summary=()
tstart=$EPOCHSECONDS
pass() { passed=$((passed + 1)); echo "ok: $* (+$((EPOCHSECONDS - tstart)) s)"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; summary+=("$*"); }

finish() {
	echo
	echo "== stress summary (seed=$(printf '0x%016x' "$seed"), $(uname -r))"
	for s in "${summary[@]}"; do
		echo "  failed: $s"
	done
	echo "stress: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# sub-seeds for the workers: distinct per tag and phase
subseed() { printf '0x%x' $(((seed ^ ($1 * 0x9E3779B97F4A7C15)) & 0x7fffffffffffffff)); }

[ "$(id -u)" = 0 ] || { fail "must run as root (in the test guest)"; finish; }
for f in "$S" "$MEGALINK" "$MLSTAT"; do
	[ -x "$f" ] || { fail "$f not built (make -s tools; make -s -C tests/debug)"; finish; }
done

kstart=$(dmesg | wc -l)
modprobe veth 2>/dev/null
have_netem=1
if ! modprobe sch_netem 2>/dev/null || ! command -v tc >/dev/null; then
	have_netem=0
	echo "ML-SKIP-NOTE: sch_netem or tc missing: the chaos loop runs without netem (not counted)"
fi

[ -d /sys/module/megalink ] && rmmod megalink 2>/dev/null
if "$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000; then
	pass "module loaded"
else
	fail "cannot load the module"
	finish
fi

nodes="a b c d e f"
# node id and "home" port (the port the device is found by; empty: the
# device is single-port and goes with its port)
declare -A nid=([a]=0x51 [b]=0x52 [c]=0x53 [d]=0x54 [e]=0x55 [f]=0x56)
declare -A home=([a]=a1 [b]=b1 [c]=c1 [d]=d1 [e]='' [f]='')
# HELLO and dead interval of the devices with a stable link: a guest
# starved for a second or two must not lose the neighbour there
declare -A timing=([a]="100 4000" [b]="100 4000" [c]="100 4000" [d]="100 4000"
	[e]="" [f]="")
# links: "nodeA ifA nodeB ifB mtu"
links_stable=("a a1 b b1 9000" "c c1 d d1 1500")
links_chaos=("b b2 c c2 9000" "d d2 a a2 4000" "e e1 f f1 9000")

ns() { echo "ms$1"; }
# sleep without an exec (every exec from the 9p root costs a lot under TCG):
# a read, with a timeout, from a FIFO nobody writes to
# (in the guest's own /tmp: a FIFO on the 9p output directory does not block)
napfifo=/tmp/ml-stress-nap.$$
rm -f "$napfifo"
mkfifo "$napfifo" && exec 8<>"$napfifo"
rm -f "$napfifo"
nap() { read -rt "$1" -u 8 _ || true; }
napt=${EPOCHREALTIME/./}
nap 0.2
if [ $((${EPOCHREALTIME/./} - napt)) -lt 150000 ]; then
	echo "stress: no blocking FIFO here: nap uses sleep(1)"
	nap() { sleep "$1"; }
fi
# every command that enters the kernel is bounded: a stuck one is a hang
T() {
	local r=0
	timeout -k 5 60 "$@" || r=$?
	[ "$r" -eq 124 ] || [ "$r" -eq 137 ] && echo "STRESS-FAIL hang: '$*' still running after 60 s"
	return "$r"
}
devof() { T "$S" ctl devof "$(ns "$1")" "$2" 2>/dev/null; }

# bind_port NODE IF: into the node's device (found by its home port), or
# as a new device with the node's id.  Prints errors; returns the status.
bind_port() {
	local n=$1 ifn=$2 dev=- h=${home[$1]}
	if [ -n "$h" ] && [ "$h" != "$ifn" ]; then
		dev=$(devof "$n" "$h") || { echo "bind $ifn: node $n has no device" >&2; return 1; }
		T "$S" ctl bind "$(ns "$n")" "$ifn" - "$dev" >/dev/null
	else
		# shellcheck disable=SC2086 # two words or none
		T "$S" ctl bind "$(ns "$n")" "$ifn" "${nid[$n]}" - ${timing[$n]} >/dev/null
	fi
}

mkveth() { # nodeA ifA nodeB ifB mtu
	ip link add "$2" mtu "$5" netns "$(ns "$1")" type veth peer name "$4" mtu "$5" \
		netns "$(ns "$3")" || return 1
	ip -n "$(ns "$1")" link set "$2" up && ip -n "$(ns "$3")" link set "$4" up
}

wait_up() { # node if seconds
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		T "$S" ctl linkup "$(ns "$1")" "$2" && return 0
		nap 0.1
	done
	return 1
}

build_pod() {
	local l n
	for n in $nodes x; do
		ip netns del "$(ns "$n")" 2>/dev/null
		ip netns add "$(ns "$n")" || return 1
		ip -n "$(ns "$n")" link set lo up
	done
	for l in "${links_stable[@]}" "${links_chaos[@]}"; do
		# shellcheck disable=SC2086
		mkveth $l || return 1
	done
}

# bind every port: stable (home) ports first so that the devices exist
bind_all() {
	local l a ia b ib m
	for l in "${links_stable[@]}" "${links_chaos[@]}"; do
		read -r a ia b ib m <<<"$l"
		bind_port "$a" "$ia" || return 1
		bind_port "$b" "$ib" || return 1
	done
	for l in "${links_stable[@]}" "${links_chaos[@]}"; do
		read -r a ia b ib m <<<"$l"
		wait_up "$a" "$ia" 30 || { echo "link $ia-$ib not up after 30 s" >&2; return 1; }
		wait_up "$b" "$ib" 30 || { echo "link $ib-$ia not up after 30 s" >&2; return 1; }
	done
}

show_pod() {
	local n
	for n in $nodes; do
		ip netns exec "$(ns "$n")" "$MEGALINK" port show 2>&1 | sed "s/^/  $(ns "$n"): /"
		ip netns exec "$(ns "$n")" "$MEGALINK" neigh show 2>&1 | sed "s/^/  $(ns "$n"): /"
	done
}

if build_pod && bind_all; then
	pass "pod built: 6 nodes, 5 links, 4 two-port devices"
	show_pod
else
	fail "cannot build the pod"
	show_pod
	finish
fi
caps=$("$S" ctl caps msa "$(devof a a1)")
if (((caps & 1) == 0)); then
	echo "ML-SKIP-NOTE: devices lack ML_DEV_CAP_MULTI_PORT (caps $caps)"
fi

# ------------------------------------------------------------------
# chaos: one action at a time, each undone before the next
# ------------------------------------------------------------------

# chaos_loop SECONDS: runs in a subshell; prints its counts and failures;
# exit status: 0, or 1 if a step that must work did not
chaos_loop() {
	local end=$((EPOCHSECONDS + $1)) nfail=0 l a ia b ib m x nsx ifx r dev hold
	declare -A c=()
	cfail() {
		nfail=$((nfail + 1))
		[ "$nfail" -le 30 ] && echo "STRESS-FAIL chaos: $*"
	}
	# a file of device A stays open: the module is in use throughout
	hold=/dev/megalink/$(devof a a1)
	exec 9<>"$hold" || cfail "cannot open $hold"
	while [ "$EPOCHSECONDS" -lt "$end" ]; do
		l=${links_chaos[RANDOM % ${#links_chaos[@]}]}
		read -r a ia b ib m <<<"$l"
		if ((RANDOM % 2)); then
			x=$a ifx=$ia
		else
			x=$b ifx=$ib
		fi
		nsx=$(ns "$x")
		case $((RANDOM % 20)) in
		0 | 1 | 2 | 3)	# admin down/up (carrier loss at the peer)
			ip -n "$nsx" link set "$ifx" down || cfail "link down $ifx"
			nap "0.$((RANDOM % 10))$((RANDOM % 10))"
			ip -n "$nsx" link set "$ifx" up || cfail "link up $ifx"
			c[flap]=$((${c[flap]:-0} + 1))
			;;
		4 | 5)	# MTU of both ends (300: too small for a QP)
			local mtus=(1500 9000 4000 2000 576 300)
			m=${mtus[RANDOM % 6]}
			ip -n "$(ns "$a")" link set "$ia" mtu "$m" || cfail "mtu $m on $ia"
			ip -n "$(ns "$b")" link set "$ib" mtu "$m" || cfail "mtu $m on $ib"
			c[mtu]=$((${c[mtu]:-0} + 1))
			;;
		6 | 7)	# delete the veth, re-create it, bind both ends again
			ip -n "$nsx" link del "$ifx" || cfail "link del $ifx"
			nap "0.$((RANDOM % 5))"
			mkveth "$a" "$ia" "$b" "$ib" "$m" || cfail "re-create $ia/$ib"
			bind_port "$a" "$ia" || cfail "re-bind $ia after re-creation"
			bind_port "$b" "$ib" || cfail "re-bind $ib after re-creation"
			c[recreate]=$((${c[recreate]:-0} + 1))
			;;
		8 | 9 | 10)	# unbind over netlink, bind again
			T ip netns exec "$nsx" "$MEGALINK" port unbind "$ifx" || cfail "unbind $ifx"
			nap "0.$((RANDOM % 5))"
			bind_port "$x" "$ifx" || cfail "re-bind $ifx after unbind"
			c[unbind]=$((${c[unbind]:-0} + 1))
			;;
		11)	# move the netdev to another netns and back
			ip -n "$nsx" link set "$ifx" netns msx || cfail "move $ifx to msx"
			nap "0.$((RANDOM % 5))"
			ip -n msx link set "$ifx" netns "$nsx" || cfail "move $ifx back"
			ip -n "$nsx" link set "$ifx" up || cfail "up $ifx after the move"
			bind_port "$x" "$ifx" || cfail "re-bind $ifx after the netns move"
			c[netns_move]=$((${c[netns_move]:-0} + 1))
			;;
		12 | 13)	# unload attempts: must be refused while files are open
			r=0
			T rmmod megalink 2>"$out/rmmod.err" || r=$?
			if [ "$r" -eq 0 ] || [ ! -d /sys/module/megalink ]; then
				cfail "rmmod megalink succeeded while in use"
				break
			fi
			grep -qiE 'in use|busy|resource temporarily' "$out/rmmod.err" ||
				cfail "rmmod refused with an unexpected message: $(cat "$out/rmmod.err")"
			c[rmmod_refused]=$((${c[rmmod_refused]:-0} + 1))
			;;
		14)	# timers of a one-port device
			dev=$(devof e e1) || dev=''
			if [ -n "$dev" ]; then
				local h=$((50 + RANDOM % 150))
				T ip netns exec mse "$MEGALINK" dev set "$dev" hello "$h" \
					dead $((h * (5 + RANDOM % 6))) || cfail "dev set $dev"
				c[dev_set]=$((${c[dev_set]:-0} + 1))
			fi
			;;
		15 | 16)	# netem on one end for a while
			if [ "$have_netem" = 1 ]; then
				local nets=("loss 5%" "corrupt 3%" "duplicate 5%" "delay 3ms reorder 25%"
					"loss 30%" "delay 20ms")
				# shellcheck disable=SC2086 # the netem options are words
				tc -n "$nsx" qdisc add dev "$ifx" root netem ${nets[RANDOM % 6]} ||
					cfail "netem on $ifx"
				nap "$((RANDOM % 3)).$((RANDOM % 10))"
				tc -n "$nsx" qdisc del dev "$ifx" root 2>/dev/null
				c[netem]=$((${c[netem]:-0} + 1))
			fi
			;;
		*)	# just watch: a full dump in the node's namespace
			ip netns exec "$nsx" "$MLSTAT" -j all >/dev/null 2>&1
			r=$?
			[ "$r" -ge 128 ] && cfail "megalink-stat -j all died (exit $r)"
			c[stat]=$((${c[stat]:-0} + 1))
			;;
		esac
		nap "0.$((RANDOM % 10))"
	done
	exec 9>&-
	local line="chaos:"
	for x in "${!c[@]}"; do
		line+=" $x=${c[$x]}"
	done
	echo "$line failures=$nfail"
	[ "$nfail" -eq 0 ]
}

# the shell's watcher: megalink-stat and megalink in every namespace
dump_sh_loop() {
	local end=$((EPOCHSECONDS + $1)) n=0 bad=0 x r
	while [ "$EPOCHSECONDS" -lt "$end" ]; do
		for x in $nodes; do
			[ "$EPOCHSECONDS" -lt "$end" ] || break
			ip netns exec "$(ns "$x")" "$MLSTAT" -j all >/dev/null 2>&1
			r=$?
			ip netns exec "$(ns "$x")" "$MEGALINK" -j qp show >/dev/null 2>&1
			[ $? -ge 128 ] && r=$?
			if [ "$r" -ge 128 ]; then
				bad=$((bad + 1))
				echo "STRESS-FAIL dump-sh: megalink-stat/megalink died in $(ns "$x") (exit $r)"
			fi
			n=$((n + 1))
		done
	done
	echo "dump-sh: runs=$n failures=$bad"
	[ "$bad" -eq 0 ]
}

# ------------------------------------------------------------------
# phases
# ------------------------------------------------------------------

declare -a wpid=() wtag=() wdog=()

start() { # TAG DURATION CMD...
	local t=$1 d=$2
	shift 2
	if [ "$(type -t "$1")" = function ]; then
		# a shell loop: bounded by its own deadline and a watchdog
		("$@") >"$out/$t.log" 2>&1 &
		wpid+=($!)
		[ "$1" = chaos_loop ] && renice -n -5 -p "$!" >/dev/null
		(
			nap $((d + 300))
			echo "STRESS-FAIL $t: HANG: still running after $((d + 300)) s" >>"$out/$t.log"
			kill -9 "${wpid[-1]}"
		) 2>/dev/null &
		wdog+=($!)
	else
		# the C workers run niced so that the chaos keeps its pace
		timeout -k 10 $((d + 300)) nice -n 10 "$@" >"$out/$t.log" 2>&1 &
		wpid+=($!)
		wdog+=(0)
	fi
	wtag+=("$t")
}

run_phase() { # PHASE SECONDS
	local p=$1 d=$2 i rc k=$(($1 * 100))
	wpid=() wtag=() wdog=()
	echo
	echo "== phase $p: $d s of churn, traffic, dumps and chaos"
	start "p$p-churnA" "$d" "$S" churn "churnA" msa a1 "$d" "$(subseed $((k + 1)))" 4
	start "p$p-trafAB" "$d" "$S" traffic "trafAB" msa a1 msb b1 "$d" "$(subseed $((k + 2)))" strict
	start "p$p-trafCD" "$d" "$S" traffic "trafCD" msc c1 msd d1 "$d" "$(subseed $((k + 3)))" strict
	start "p$p-trafEF" "$d" "$S" traffic "trafEF" mse e1 msf f1 "$d" "$(subseed $((k + 4)))" lenient
	start "p$p-dump" "$d" "$S" dump "dump" msa,msb,msc,msd,mse,msf "$d" "$(subseed $((k + 5)))"
	if [ "$light" != 1 ]; then
		start "p$p-churnC" "$d" "$S" churn "churnC" msc c1 "$d" "$(subseed $((k + 6)))" 4
		start "p$p-churnE" "$d" "$S" churn "churnE" mse e1 "$d" "$(subseed $((k + 7)))" 3
		start "p$p-trafBC" "$d" "$S" traffic "trafBC" msb b2 msc c2 "$d" "$(subseed $((k + 8)))" lenient
		start "p$p-trafDA" "$d" "$S" traffic "trafDA" msd d2 msa a2 "$d" "$(subseed $((k + 9)))" lenient
		start "p$p-dumpsh" "$d" dump_sh_loop "$d"
	fi
	start "p$p-chaos" "$d" chaos_loop "$d"
	for i in "${!wpid[@]}"; do
		rc=0
		wait "${wpid[$i]}" || rc=$?
		[ "${wdog[$i]}" != 0 ] && kill "${wdog[$i]}" 2>/dev/null
		grep -E '^(stress-|chaos:|dump-sh:)' "$out/${wtag[$i]}.log" | sed 's/^/  /'
		grep -E '^STRESS-FAIL' "$out/${wtag[$i]}.log" | head -n 20 | sed 's/^/  /'
		if [ "$rc" -eq 0 ]; then
			pass "phase $p ${wtag[$i]#p"$p"-}"
		elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			fail "phase $p ${wtag[$i]#p"$p"-}: HANG, killed after $((d + 300)) s (log $out/${wtag[$i]}.log)"
			tail -n 20 "$out/${wtag[$i]}.log" | sed 's/^/  | /'
		else
			fail "phase $p ${wtag[$i]#p"$p"-}: exit $rc (log $out/${wtag[$i]}.log)"
		fi
	done
}

# every device's objects back to zero (MRs unpin in a work queue: wait)
check_counts() {
	local x dev i rc line bad=0
	for x in $nodes; do
		dev=$(devof "$x" "${home[$x]:-${x}1}") || { fail "node $x: no device"; bad=1; continue; }
		for ((i = 0; i < 150; i++)); do
			line=$("$S" ctl counts "$(ns "$x")" "$dev")
			rc=$?
			[ "$rc" -eq 0 ] && break
			sleep 0.1
		done
		if [ "$rc" -ne 0 ]; then
			fail "objects left on $dev ($(ns "$x")) after $1: $line"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] && pass "object counts zero on every device after $1"
}

# restore what the chaos may have left: links up, MTUs, every port bound
restore_pod() {
	local l a ia b ib m
	for l in "${links_chaos[@]}"; do
		read -r a ia b ib m <<<"$l"
		tc -n "$(ns "$a")" qdisc del dev "$ia" root 2>/dev/null
		tc -n "$(ns "$b")" qdisc del dev "$ib" root 2>/dev/null
		ip -n "$(ns "$a")" link set "$ia" mtu "$m" up
		ip -n "$(ns "$b")" link set "$ib" mtu "$m" up
	done
}

splat_since_start() {
	dmesg | tail -n +"$((kstart + 1))" >"$out/dmesg.txt"
	"$repo/tests/harness/check-splat.sh" "$out/dmesg.txt" >"$out/splat.txt" 2>&1
}

# a QP whose netdev refuses every frame must still finish (in error)
echo
echo "== refused transmit: WRITE on a QP whose frames the peer veth drops (MTU 576)"
if T "$S" repro-refused msb b2 "ip -n msc link set c2 mtu 576" "ip -n msc link set c2 mtu 9000"; then
	pass "refused transmit completes with retry-exceeded in bounded time"
else
	fail "refused transmit: no RETRY_EXC completion in 30 s (a hang)"
fi
ip -n msc link set c2 mtu 9000
if ! wait_up b b2 30 || ! wait_up c c2 30; then
	fail "link b2-c2 not up again after the refused-transmit check"
fi

t0=$EPOCHSECONDS
d1=$((total * 55 / 100))
d2=$((total - d1))
[ "$d1" -lt 10 ] && d1=10
[ "$d2" -lt 10 ] && d2=10

run_phase 1 "$d1"
restore_pod
check_counts "phase 1"

# the quiet moment: no file open, every port still bound
echo
echo "== unload with 6 devices bound, reload, bind again"
ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	if rmmod megalink 2>"$out/rmmod.err"; then
		ok=1
		break
	fi
	echo "  rmmod try $i: $(cat "$out/rmmod.err") (refcnt $(cat /sys/module/megalink/refcnt 2>/dev/null))"
	sleep 1
done
if [ "$ok" = 1 ] && [ ! -d /sys/module/megalink ] && [ -z "$(ls /sys/class/megalink 2>/dev/null)" ]; then
	pass "rmmod in the quiet moment (devices bound)"
else
	fail "rmmod in the quiet moment failed"
	finish
fi
if "$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 >/dev/null && bind_all; then
	pass "reloaded and bound every port again"
else
	fail "reload and re-bind"
	show_pod
	finish
fi

run_phase 2 "$d2"
restore_pod
check_counts "phase 2"

echo
echo "== teardown"
for x in $nodes x; do
	ip netns del "$(ns "$x")" 2>/dev/null
done
for ((i = 0; i < 100; i++)); do
	[ -z "$(ls /sys/class/megalink 2>/dev/null)" ] && break
	sleep 0.1
done
if [ -z "$(ls /sys/class/megalink 2>/dev/null)" ]; then
	pass "every device gone with its netns"
else
	fail "devices left after the netns were deleted: $(ls /sys/class/megalink)"
fi
if rmmod megalink; then
	pass "final rmmod"
else
	fail "final rmmod (refcnt $(cat /sys/module/megalink/refcnt 2>/dev/null))"
fi
echo "stress: took $((EPOCHSECONDS - t0)) s after set-up"

if splat_since_start; then
	pass "kernel log clean"
else
	fail "kernel splat (full log $out/dmesg.txt)"
	head -n 120 "$out/splat.txt"
fi
finish
