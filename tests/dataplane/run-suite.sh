#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-suite.sh: the megalink data-plane suite (tests/dataplane), inside a
# harness guest as root:
#
#   make -C tests/dataplane
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/dataplane/run-suite.sh
#
# Loads the module (tests/harness/ml-load.sh, i.e. insmod $ML_KO or
# ML_LOAD=modprobe) unless it is loaded, builds two nodes per pair: netns
# dpa/dpb joined by a veth pair va/vb (MTU 1500, node ids 0xa/0xb) and
# dpc/dpd joined by vc/vd (MTU 9000, 0xc/0xd), each end bound as its own
# megalink device.  Runs every Check program (each test forks one process
# per node, each in its own netns), prints Check's lines and summary per
# program, checks the kernel log after each, removes the nodes, unloads the
# module, and ends with the line "N passed, N failed".  Exit status 0 only
# if nothing failed.
#
# A third pair crosses an IP router, as between two pods: netns dpra
# (ra 10.77.1.1, node 0xe) and dprb (rb 10.77.2.1, 0xf) each joined by a
# veth to router namespace dprr (ip_forward on), the megalink devices
# UDP/IPv4 neighbours by "megalink peer add" (HELLOs do not cross
# routers).  The router's two egress links (the inter-pod link) carry
# netem (ML_DP_ROUTED_NETEM, default "delay 1ms loss 0.2%") for the whole
# run; the routed runs repeat there dp_data's transfers, dp_faults' fault
# matrix (whose netem goes on the pods' own uplinks, on top) and dp_peer's
# netdev-down and kill tests.
#
# Environment:
#   ML_DP_TESTS         runs to do (default: all): data1500 data9000 access
#                    peer faults hostile hugemr regress, and on request
#                    routed routedfaults routedpeer
#   ML_DP_ROUTED        1: the default runs add routed routedfaults
#                    routedpeer (not in make check, for its time: about
#                    3 minutes on 6.1)
#   ML_DP_ROUTED_NETEM  netem on the router's egress links (default above;
#                    "none": no qdisc)
#   ML_DP_PROG_TIMEOUT  seconds per program (default 420)
#   CK_RUN_CASE / CK_RUN_SUITE / CK_VERBOSITY   as Check defines them
set -eu
set -o pipefail

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$repo/tests/dataplane
out=${ML_OUT:-/tmp/megalink-dp-out}
runs=${ML_DP_TESTS:-data1500 data9000 access peer faults hostile hugemr regress}
[ "${ML_DP_ROUTED:-0}" = 1 ] && [ -z "${ML_DP_TESTS:-}" ] && runs="$runs routed routedfaults routedpeer"
routed_netem=${ML_DP_ROUTED_NETEM:-delay 1ms loss 0.2%}
prog_timeout=${ML_DP_PROG_TIMEOUT:-420}
mkdir -p "$out"
cd "$repo"

passed=0 failed=0 skipped=0
declare -a summary=()

fail_setup() {
	echo "run-suite.sh: $*"
	echo "0 passed, 1 failed"
	exit 1
}

[ "$(id -u)" = 0 ] || fail_setup "must run as root (inside the test guest)"
[ -x "$here/dp_ctl" ] || fail_setup "$here/dp_ctl not built (make -C tests/dataplane)"

echo "== megalink data-plane suite: kernel $(uname -r), module ${ML_LOAD:-insmod ${ML_KO:-?}}"
modprobe veth 2>/dev/null || true
DP_HAVE_NETEM=1
if ! modprobe sch_netem 2>/dev/null || ! command -v tc >/dev/null; then
	DP_HAVE_NETEM=0
	echo "ML-SKIP-NOTE: sch_netem or tc missing: the fault-injection tests will skip"
fi
export DP_HAVE_NETEM

if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" hello_ms=100 dead_ms=1000 ||
		fail_setup "cannot load the module"
fi

# mkpair NS_A NS_B IF_A IF_B MTU NODE_A NODE_B: prints "DEV_A DEV_B"
mkpair() {
	local a=$1 b=$2 ia=$3 ib=$4 mtu=$5 da db
	ip netns del "$a" 2>/dev/null || true
	ip netns del "$b" 2>/dev/null || true
	ip netns add "$a"
	ip netns add "$b"
	ip link add "$ia" mtu "$mtu" netns "$a" type veth peer name "$ib" mtu "$mtu" netns "$b"
	ip -n "$a" link set lo up
	ip -n "$b" link set lo up
	ip -n "$a" link set "$ia" up
	ip -n "$b" link set "$ib" up
	da=$(ip netns exec "$a" "$here/dp_ctl" bind "$ia" "$6") || return 1
	db=$(ip netns exec "$b" "$here/dp_ctl" bind "$ib" "$7") || return 1
	ip netns exec "$a" "$here/dp_ctl" wait "$da" 15 || return 1
	ip netns exec "$b" "$here/dp_ctl" wait "$db" 15 || return 1
	echo "$da $db"
}

# wait_udp_neigh NS DEV NODE ADDR: the UDP neighbour is there within 15 s
wait_udp_neigh() {
	local i
	for i in $(seq 150); do
		ip netns exec "$1" "$repo/tools/megalink" -j neigh show "$2" 2>/dev/null |
			python3 -c '
import json, sys
sys.exit(0 if any(n["node_id"] == int(sys.argv[1], 0) and n.get("addr") == sys.argv[2]
                  for n in json.load(sys.stdin)) else 1)' "$3" "$4" && return 0
		sleep 0.1
	done
	echo "run-suite.sh: $2 in $1: no UDP neighbour $3 at $4 after 15 s" >&2
	return 1
}

# mkrouted: the two pods behind router dprr (see the top); prints "DEV_A DEV_B"
mkrouted() {
	local n da db
	for n in dpra dprb dprr; do
		ip netns del $n 2>/dev/null || true
		ip netns add $n
		ip -n $n link set lo up
	done
	ip link add ra netns dpra type veth peer name rra netns dprr
	ip link add rb netns dprb type veth peer name rrb netns dprr
	ip -n dpra addr add 10.77.1.1/24 dev ra
	ip -n dprb addr add 10.77.2.1/24 dev rb
	ip -n dprr addr add 10.77.1.254/24 dev rra
	ip -n dprr addr add 10.77.2.254/24 dev rrb
	for n in dpra:ra dprb:rb dprr:rra dprr:rrb; do
		ip -n "${n%:*}" link set "${n#*:}" up
	done
	ip -n dpra route add default via 10.77.1.254
	ip -n dprb route add default via 10.77.2.254
	ip netns exec dprr sysctl -qw net.ipv4.ip_forward=1
	if [ "$routed_netem" != none ]; then
		# shellcheck disable=SC2086 # the netem options are words
		tc -n dprr qdisc add dev rra root netem $routed_netem || return 1
		# shellcheck disable=SC2086
		tc -n dprr qdisc add dev rrb root netem $routed_netem || return 1
	fi
	da=$(ip netns exec dpra "$here/dp_ctl" bind ra 0xe) || return 1
	db=$(ip netns exec dprb "$here/dp_ctl" bind rb 0xf) || return 1
	ip netns exec dpra "$repo/tools/megalink" peer add "$da" 10.77.2.1 >&2 || return 1
	ip netns exec dprb "$repo/tools/megalink" peer add "$db" 10.77.1.1 >&2 || return 1
	wait_udp_neigh dpra "$da" 0xf 10.77.2.1 || return 1
	wait_udp_neigh dprb "$db" 0xe 10.77.1.1 || return 1
	echo "$da $db"
}

ab=$(mkpair dpa dpb va vb 1500 0xa 0xb) || fail_setup "cannot build nodes dpa/dpb"
cd_=$(mkpair dpc dpd vc vd 9000 0xc 0xd) || fail_setup "cannot build nodes dpc/dpd"
echo "nodes: dpa/va ${ab% *} (0xa) <-> dpb/vb ${ab#* } (0xb), mtu 1500"
echo "nodes: dpc/vc ${cd_% *} (0xc) <-> dpd/vd ${cd_#* } (0xd), mtu 9000"
ef=''
case " $runs " in
*" routed"*)
	[ -x "$repo/tools/megalink" ] || fail_setup "$repo/tools/megalink not built (make tools)"
	ef=$(mkrouted) || fail_setup "cannot build the routed pods dpra/dprb"
	echo "nodes: dpra/ra ${ef% *} (0xe, 10.77.1.1) <-> router dprr <-> dprb/rb ${ef#* } (0xf, 10.77.2.1), UDP/IPv4, mtu 1500, inter-pod netem: $routed_netem"
	;;
esac

splat_re='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|kernel BUG|refcount_t:|list_add corruption|list_del corruption|possible recursive locking|circular locking dependency|INFO: task .* blocked|Call Trace:|RCU stall|unreferenced object'

# run NAME PROGRAM PAIR(ab|cd) [VAR=VALUE...]
run() {
	local name=$1 prog=$2 pair=$3 devs log klog kstart rc line n f e sk ok t0
	shift 3
	if [ "$pair" = ab ]; then
		devs=$ab
		set -- DP_NS_A=dpa DP_NS_B=dpb DP_IF_A=va DP_IF_B=vb "$@"
	elif [ "$pair" = ef ]; then
		devs=$ef
		# DP_ROUTE_B: B's route to A, which "ip link set rb down"
		# flushes (dp_peer puts it back after the link is up, as the
		# system's network configuration would)
		set -- DP_NS_A=dpra DP_NS_B=dprb DP_IF_A=ra DP_IF_B=rb DP_ROUTED=1 \
			DP_ROUTE_B="default via 10.77.2.254" "$@"
	else
		devs=$cd_
		set -- DP_NS_A=dpc DP_NS_B=dpd DP_IF_A=vc DP_IF_B=vd "$@"
	fi
	set -- DP_DEV_A="${devs% *}" DP_DEV_B="${devs#* }" "$@"
	log=$out/$name.log
	klog=$out/dmesg-$name.txt
	echo
	echo "== $name: $prog $*"
	if [ ! -x "$here/$prog" ]; then
		echo "run-suite.sh: $here/$prog not built (make -C tests/dataplane)"
		failed=$((failed + 1))
		summary+=("$name: NOT BUILT")
		return 0
	fi
	kstart=$(dmesg | wc -l)
	echo "megalink-dp: start $name" >/dev/kmsg 2>/dev/null || true
	t0=$(date +%s)
	set +e
	env "$@" timeout -k 10 "$prog_timeout" "$here/$prog" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	echo "megalink-dp: end $name" >/dev/kmsg 2>/dev/null || true
	dmesg | tail -n +"$((kstart + 1))" >"$klog" || true
	echo "($name took $(($(date +%s) - t0)) s, exit $rc)"

	line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1 || true)
	sk=$(grep -c '^ML-SKIP:' "$log" || true)
	if [ -z "$line" ]; then
		echo "run-suite.sh: $name printed no Check summary (exit $rc)"
		failed=$((failed + 1))
		summary+=("$name: no Check summary, exit $rc")
	else
		n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
		f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
		e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
		ok=$((n - f - e - sk))
		[ "$ok" -ge 0 ] || ok=0
		passed=$((passed + ok))
		failed=$((failed + f + e))
		skipped=$((skipped + sk))
		summary+=("$name: $line (skipped $sk)")
		if [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ]; then
			echo "run-suite.sh: $name exited $rc with no failed check"
			failed=$((failed + 1))
			summary+=("$name: exit $rc")
		fi
	fi
	if grep -Eq "$splat_re" "$klog"; then
		echo "run-suite.sh: kernel splat during $name (full log: $klog):"
		grep -E -B2 -A30 "$splat_re" "$klog" | head -n 80
		failed=$((failed + 1))
		summary+=("$name: KERNEL SPLAT")
	fi
	# a failed test may leave qdiscs behind: the next program starts clean
	for x in dpa:va dpb:vb dpc:vc dpd:vd dpra:ra dprb:rb; do
		tc -n "${x%:*}" qdisc del dev "${x#*:}" root 2>/dev/null || true
	done
	ip -n dpb link set vb up 2>/dev/null || true
	ip -n dpd link set vd up 2>/dev/null || true
	[ -z "$ef" ] || ip -n dprb link set rb up 2>/dev/null || true
}

for r in $runs; do
	case $r in
	data1500) run "$r" dp_data ab DP_EXPECT_MTU=1500 ;;
	data9000) run "$r" dp_data cd DP_EXPECT_MTU=9000 ;;
	access) run "$r" dp_access cd ;;
	peer) run "$r" dp_peer cd ;;
	faults) run "$r" dp_faults cd ;;
	hostile) run "$r" dp_hostile cd CK_RUN_CASE=hostile ;;
	hugemr) run "$r" dp_hostile cd CK_RUN_CASE=huge_mr ;;
	regress) run "$r" dp_regress ab ;;
	routed) run "$r" dp_data ef DP_EXPECT_MTU=1500 ;;
	routedfaults) run "$r" dp_faults ef ;;
	routedpeer) run "$r" dp_peer ef ;;
	*) echo "run-suite.sh: unknown run '$r'"; failed=$((failed + 1)) ;;
	esac
done

# Every object is gone once the processes are: then the nodes go, then the
# module must unload.
echo
echo "== teardown"
teardown_nodes="${ab% *}:dpa ${ab#* }:dpb ${cd_% *}:dpc ${cd_#* }:dpd"
[ -z "$ef" ] || teardown_nodes="$teardown_nodes ${ef% *}:dpra ${ef#* }:dprb"
for d in $teardown_nodes; do
	if ip netns exec "${d#*:}" "$here/dp_ctl" counts "${d%:*}"; then
		passed=$((passed + 1))
	else
		echo "run-suite.sh: ${d%:*} still has objects after every test process exited"
		failed=$((failed + 1))
		summary+=("objects left on ${d%:*}")
	fi
done
for ns in dpa dpb dpc dpd dpra dprb dprr; do
	ip netns del "$ns" 2>/dev/null || true
done
i=0
while [ -n "$(ls /sys/class/megalink 2>/dev/null)" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -d /sys/module/megalink ] && rmmod megalink; then
	echo "megalink unloaded"
	passed=$((passed + 1))
else
	echo "run-suite.sh: rmmod megalink failed (refcnt $(cat /sys/module/megalink/refcnt 2>/dev/null || echo '?'))"
	failed=$((failed + 1))
	summary+=("final rmmod: FAILED")
fi
kt=$out/dmesg-teardown.txt
dmesg >"$out/dmesg-suite.txt" 2>/dev/null || true
tail -n 50 "$out/dmesg-suite.txt" >"$kt" || true
if grep -Eq "$splat_re" "$kt"; then
	echo "run-suite.sh: kernel splat at teardown:"
	grep -E -B2 -A30 "$splat_re" "$kt" | head -n 60
	failed=$((failed + 1))
	summary+=("teardown: KERNEL SPLAT")
fi

echo
echo "== summary ($(uname -r))"
for s in "${summary[@]}"; do
	echo "  $s"
done
grep -h '^ML-SKIP:' "$out"/*.log 2>/dev/null | sed 's/^/  /' || true
echo "skipped: $skipped (counted in neither number below)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
