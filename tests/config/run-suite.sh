#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-suite.sh: megalink apply / show --config (megalink.conf(5)) against
# the module, inside a harness guest as root:
#
#   make modules-all lib tools
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/config/run-suite.sh
#
# Loads the module (tests/harness/ml-load.sh: insmod $ML_KO, or
# ML_LOAD=modprobe) unless it is loaded, makes veth pairs in the initial
# netns, writes configuration files to a temporary directory and checks
# that apply makes the running state (megalink -j dev/port show) what they
# say: creation, idempotence, --dry-run, a changed setting, --prune, the
# show --config round trip, malformed files (FILE:LINE naming the field,
# exit 3, nothing changed), --iface for a netdev that appears later, a
# kernel refusal (exit 1 with the kernel's message), and UDP peers (added,
# replaced, pruned, shown).  Ends with
# "config: N passed, M failed"; exit status 0 only if nothing failed.
set -u

repo=${ML_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
ML=$repo/tools/megalink
passed=0 failed=0
tmp=$(mktemp -d /tmp/ml-config.XXXXXX)

ok() { passed=$((passed + 1)); echo "ok     $*"; }
bad() { failed=$((failed + 1)); echo "FAIL   $*"; }
# check DESCRIPTION COMMAND...: the command must succeed
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
# checkx DESCRIPTION 'SHELL EXPRESSION'
checkx() {
	if eval "$2"; then ok "$1"; else bad "$1"; fi
}

fail_setup() {
	echo "run-suite.sh: $*"
	echo "config: 0 passed, 1 failed"
	exit 1
}

[ "$(id -u)" = 0 ] || fail_setup "must run as root (inside the test guest)"
[ -x "$ML" ] || fail_setup "$ML not built (make tools)"
command -v jq >/dev/null || fail_setup "jq is needed"

echo "== megalink config suite: kernel $(uname -r), module ${ML_LOAD:-insmod ${ML_KO:-?}}"
modprobe veth 2>/dev/null || true
if [ ! -d /sys/module/megalink ]; then
	"$repo/tests/harness/ml-load.sh" || fail_setup "cannot load the module"
fi

# Running state as sorted "dev NAME NODE HELLO DEAD" and "port IF DEV" lines.
state() {
	{
		"$ML" -j dev show | jq -r '.[] | "dev \(.dev) \(.node_id) \(.hello_ms) \(.dead_ms)"'
		"$ML" -j port show | jq -r '.[] | "port \(.ifname) \(.dev)"'
	} | sort
}
# has LINE: the state has this line
has() { state | grep -qxF "$1"; }
# run_ml NAME ARGS...: megalink with stdout/stderr in $tmp/NAME.{out,err}, rc in $rc
run_ml() {
	local n=$1
	shift
	"$ML" "$@" >"$tmp/$n.out" 2>"$tmp/$n.err"
	rc=$?
	sed 's/^/    | /' "$tmp/$n.out" "$tmp/$n.err"
}
unbind_all() {
	local i
	for i in $("$ML" -j port show | jq -r '.[].ifname'); do
		"$ML" port unbind "$i"
	done
}

for p in 1 2 3 4; do
	ip link add cfa$p type veth peer name cfb$p || fail_setup "veth"
	ip link set cfa$p up
	ip link set cfb$p up
done

conf=$tmp/etc
mkdir -p "$conf"
cat >"$conf/10-fabric.conf" <<'EOF'
# two devices, the second gets its ports from 20-more.conf
dev ml0 node-id 0xa1 hello 100 dead 400   # the first node
port cfa1 dev ml0
port cfa2 dev ml0

dev ml1 node-id 0xb1
EOF
cat >"$conf/20-more.conf" <<'EOF'
dev ml1 hello 200
port cfb1 dev ml1
EOF
echo "# not read: wrong suffix" >"$conf/README"

# 1. apply creates what the files describe
run_ml apply1 apply "$conf"
check "apply: exit 0 (got $rc)" [ "$rc" = 0 ]
check "apply: dev ml0 node-id 0xa1 hello 100 dead 400" has "dev ml0 161 100 400"
checkx "apply: dev ml1 node-id 0xb1 hello 200" 'state | grep -q "^dev ml1 177 200 "'
checkx "apply: ports cfa1 cfa2 in ml0, cfb1 in ml1" 'has "port cfa1 ml0" && has "port cfa2 ml0" && has "port cfb1 ml1"'
check "apply: printed 3 binds" [ "$(grep -c '^+ bind port' "$tmp/apply1.out")" = 3 ]
check "apply: megalink-stat -j agrees (2 devices)" \
	[ "$("$repo/tools/megalink-stat" -j dev | jq length)" = 2 ]

# 2. a second apply is a no-op
before=$(state)
run_ml apply2 apply "$conf"
check "apply again: exit 0, \"nothing to do\"" \
	[ "$rc" = 0 -a "$(cat "$tmp/apply2.out")" = "nothing to do" ]
check "apply again: state unchanged" [ "$before" = "$(state)" ]

# 3. show --config round trip
"$ML" show --config >"$tmp/round.conf"
sed 's/^/    | /' "$tmp/round.conf"
check "show --config: 2 dev lines, 3 port lines" \
	[ "$(grep -c '^dev ' "$tmp/round.conf")" = 2 -a "$(grep -c '^port ' "$tmp/round.conf")" = 3 ]
run_ml round apply --dry-run "$tmp/round.conf"
check "show --config | apply --dry-run: nothing to do" \
	[ "$rc" = 0 -a "$(cat "$tmp/round.out")" = "nothing to do" ]
"$ML" show --config ml1 >"$tmp/round1.conf"
check "show --config ml1: only ml1" \
	[ "$(grep -c . "$tmp/round1.conf")" = 2 -a "$(grep -c ml0 "$tmp/round1.conf")" = 0 ]

# 4. a changed hello is applied as a set; --dry-run first changes nothing
sed -i 's/hello 200/hello 300/' "$conf/20-more.conf"
before=$(state)
run_ml dry apply --dry-run "$conf"
check "dry-run: exit 0, prints \"~ set dev ml1 hello 200 -> 300\"" \
	[ "$rc" = 0 -a "$(cat "$tmp/dry.out")" = "~ set dev ml1 hello 200 -> 300" ]
check "dry-run: state unchanged" [ "$before" = "$(state)" ]
run_ml set apply "$conf"
checkx "apply: hello 300 set on ml1" 'state | grep -q "^dev ml1 177 300 "'
run_ml set2 apply "$conf"
check "apply after set: nothing to do" [ "$(cat "$tmp/set2.out")" = "nothing to do" ]

# 5. --prune removes what the files do not name
"$ML" port bind cfa3 dev ml0 >/dev/null
"$ML" port bind cfb3 node-id 0xc1 >/dev/null
run_ml noprune apply "$conf"
checkx "apply without --prune leaves extra ports" 'has "port cfa3 ml0" && state | grep -q "^port cfb3 "'
run_ml prune apply --prune "$conf"
check "apply --prune: exit 0, 2 unbinds printed" \
	[ "$rc" = 0 -a "$(grep -c '^- unbind port' "$tmp/prune.out")" = 2 ]
checkx "apply --prune: cfa3, cfb3 and their device gone" '! state | grep -q "cf.3" && [ $(state | grep -c "^dev ") = 2 ]'
run_ml prune2 apply --prune "$conf"
check "apply --prune again: nothing to do" [ "$(cat "$tmp/prune2.out")" = "nothing to do" ]

# 6. malformed files: FILE:LINE naming the field, exit 3, nothing changes
bad_case() {	# NAME LINE PATTERN CONTENT
	local n=$1 line=$2 pat=$3 f=$tmp/bad-$1.conf
	printf '%s\n' "$4" >"$f"
	before=$(state)
	run_ml "bad-$n" apply "$conf" "$f"
	if [ "$rc" = 3 ] && grep -q "^$f:$line: .*$pat" "$tmp/bad-$n.err" &&
	   [ "$before" = "$(state)" ] && ! grep -q . "$tmp/bad-$n.out"; then
		ok "malformed ($n): exit 3, $f:$line names \"$pat\", nothing changed"
	else
		bad "malformed ($n): rc $rc, wanted exit 3 and $f:$line ... $pat"
	fi
}
bad_case unknown-key 2 'unknown key "helo"' $'# x\ndev ml1 helo 100'
bad_case bad-number 3 'hello "fast"' $'\n\ndev ml1 hello fast\nport cfa4 dev ml1'
bad_case range 1 'dead 1000000 out of range' 'dev ml0 dead 1000000'
bad_case dup-port 2 'port cfa4: duplicate port' $'port cfa4 dev ml1\nport cfa4 dev ml1'
bad_case two-devs 1 'port cfa1: in dev ml1 and in dev ml0' 'port cfa1 dev ml1'
bad_case conflict 1 'hello 250 conflicts with hello 300' 'dev ml1 hello 250'
bad_case statement 2 'unknown statement "bind"' $'dev ml2\nbind cfa4'
bad_case undefined 1 'dev ml7 is not defined' 'port cfa4 dev ml7'
bad_case node-dup 1 'node-id 0x000000a1 is also dev ml0' $'dev ml5 node-id 0xa1'
run_ml missing apply "$tmp/nonexistent.conf"
checkx "malformed: a missing file is a config error (exit 3)" \
	'[ $rc = 3 ] && grep -q "nonexistent.conf:0: No such file" "$tmp/missing.err"'

# 7. --iface: a netdev that appears after the first apply (hotplug)
cat >"$conf/30-hotplug.conf" <<'EOF'
port cfh0 dev ml1 up
dev ml3 node-id 0xd1 hello 50 dead 200
port cfh1 dev ml3 up
EOF
run_ml hp0 apply "$conf"
check "apply: missing netdevs are skipped, exit 0" \
	[ "$rc" = 0 -a "$(grep -c '^# skip port cfh' "$tmp/hp0.out")" = 2 ]
ip link add cfh0 type veth peer name cfg0
ip link add cfh1 type veth peer name cfg1
ip link set cfg1 up
run_ml hp-other apply --iface cfg1 "$conf"
checkx "apply --iface of a netdev not in the files: quiet, exit 0" \
	'[ $rc = 0 ] && ! grep -q . "$tmp/hp-other.out" "$tmp/hp-other.err"'
sed -i 's/hello 300/hello 400/' "$conf/20-more.conf"
run_ml hp1 apply --iface cfh1 "$conf"
checkx "apply --iface cfh1: exit 0 ($rc), link set up, new device 0xd1" \
	'[ $rc = 0 ] && grep -q "^+ set link cfh1 up" "$tmp/hp1.out" && has "port cfh1 ml2" && has "dev ml2 209 50 200"'
checkx "apply --iface cfh1: only cfh1 (cfh0 unbound, ml1 hello still 300)" '! state | grep -q "port cfh0" && state | grep -q "^dev ml1 177 300 "'
run_ml hp2 apply --iface cfh1 "$conf"
checkx "apply --iface cfh1 again: quiet no-op" '[ $rc = 0 ] && ! grep -q . "$tmp/hp2.out"'
run_ml hp3 apply --iface cfh0 "$conf"
check "apply --iface cfh0: bound to ml1" has "port cfh0 ml1"
"$ML" show --config >"$tmp/round2.conf"
run_ml round2 apply --dry-run "$tmp/round2.conf"
check "round trip with 3 devices, 5 ports: nothing to do" \
	[ "$rc" = 0 -a "$(cat "$tmp/round2.out")" = "nothing to do" ]

# 8. the kernel refuses: exit 1 and its message
ip netns add cfother
ip link add cfn0 netns cfother type veth peer name cfn1 netns cfother
ip -n cfother link set cfn0 up
ip netns exec cfother "$ML" port bind cfn0 node-id 0xee >/dev/null
cat >"$tmp/refused.conf" <<'EOF'
dev ml9 node-id 0xee
port cfa4 dev ml9
EOF
run_ml refused apply "$tmp/refused.conf"
checkx "kernel refuses a node-id in use: exit 1 with its message" \
	'[ $rc = 1 ] && grep -q "node id is used by another megalink device" "$tmp/refused.err"'
printf 'dev ml0\nport lo dev ml0\n' >"$tmp/lo.conf"
run_ml lo apply "$tmp/lo.conf"
checkx "kernel refuses lo: exit 1, \"... is not an Ethernet device\" (6.1 has no formatted extack: \"netdev is ...\")" \
	'[ $rc = 1 ] && grep -q "is not an Ethernet device" "$tmp/lo.err"'
run_ml usage apply --bogus
check "usage error: exit 2" [ "$rc" = 2 ]

# 9. UDP peers: "peer ADDR dev NAME [local ADDR]"
unbind_all
cat >"$tmp/peers.conf" <<'EOF'
dev pa node-id 0xc1
port cfa1 dev pa
peer 10.77.0.2 dev pa
peer 10.77.0.3 dev pa local 10.77.0.1
EOF
# peers as sorted "ADDR LOCAL" lines of the device
peers() { "$ML" -j peer show "$1" | jq -r '.[] | "\(.addr) \(.local // "-")"' | sort | tr '\n' ' '; }
run_ml peer1 apply "$tmp/peers.conf"
pdev=$("$ML" -j port show | jq -r '.[] | select(.ifname == "cfa1") | .dev')
checkx "peers: apply exit 0, 2 peers added to the new device $pdev" \
	'[ $rc = 0 ] && [ "$(grep -c "^+ add peer 10.77.0.[23] to dev pa" "$tmp/peer1.out")" = 2 ]'
check "peers: the kernel has them, with the local address" \
	[ "$(peers "$pdev")" = "10.77.0.2 - 10.77.0.3 10.77.0.1 " ]
run_ml peer2 apply "$tmp/peers.conf"
check "peers: apply again: nothing to do" [ "$(cat "$tmp/peer2.out")" = "nothing to do" ]
"$ML" show --config "$pdev" >"$tmp/peers-round.conf"
sed 's/^/    | /' "$tmp/peers-round.conf"
checkx "peers: show --config prints them as peer lines" \
	'grep -qxF "peer 10.77.0.2 dev $pdev" "$tmp/peers-round.conf" && grep -qxF "peer 10.77.0.3 dev $pdev local 10.77.0.1" "$tmp/peers-round.conf"'
run_ml peer-round apply --dry-run "$tmp/peers-round.conf"
check "peers: show --config | apply --dry-run: nothing to do" \
	[ "$(cat "$tmp/peer-round.out")" = "nothing to do" ]
sed -i 's/local 10.77.0.1/local 10.77.0.9/' "$tmp/peers.conf"
"$ML" peer add "$pdev" 10.77.0.50
run_ml peer3 apply "$tmp/peers.conf"
checkx "peers: a changed local address is replaced (remove, add)" \
	'grep -qxF -e "- remove peer 10.77.0.3 from dev $pdev" "$tmp/peer3.out" && grep -qxF "+ add peer 10.77.0.3 to dev $pdev local 10.77.0.9" "$tmp/peer3.out"'
check "peers: without --prune a peer added by hand stays" \
	[ "$(peers "$pdev")" = "10.77.0.2 - 10.77.0.3 10.77.0.9 10.77.0.50 - " ]
run_ml peer4 apply --prune "$tmp/peers.conf"
checkx "peers: --prune removes it" \
	'grep -qxF -e "- remove peer 10.77.0.50 from dev $pdev" "$tmp/peer4.out" && [ "$(peers "$pdev")" = "10.77.0.2 - 10.77.0.3 10.77.0.9 " ]'
printf 'dev pa\nport cfa1 dev pa\npeer 10.77.0.300 dev pa\n' >"$tmp/peerbad.conf"
run_ml peerbad apply "$tmp/peerbad.conf"
checkx "peers: a bad address: exit 3, FILE:3 names it, nothing changed" \
	'[ $rc = 3 ] && grep -q "peerbad.conf:3: peer \"10.77.0.300\": not an IPv4 or IPv6 address" "$tmp/peerbad.err" && [ "$(peers "$pdev")" = "10.77.0.2 - 10.77.0.3 10.77.0.9 " ]'

# clean up
unbind_all
ip netns exec cfother "$ML" port unbind cfn0
ip netns del cfother
for p in 1 2 3 4; do ip link del cfa$p; done
ip link del cfh0
ip link del cfh1
rm -rf "$tmp"
echo "config: $passed passed, $failed failed"
[ "$failed" = 0 ]
