#!/bin/bash
# SPDX-License-Identifier: MIT
#
# In-guest check of megalink-stat and megalink against the real module:
# two nodes (netns a, b) joined by two veth pairs, one two-port device each.
# Checks text and JSON output (JSON parsed by python3, keys compared with the
# documented ones), error lines and exit codes, monitor events, --module.
#
#   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/unit/guest-tools-smoke.sh
#
# Prints "ok"/"FAIL" per check and "tools-smoke: N checks, F failures";
# exits 1 if any check failed.
set -u

T=${ML_REPO:?}/tools
OUT=${ML_OUT:-/tmp}
checks=0 fails=0

ok() {
	checks=$((checks + 1))
	echo "ok   $*"
}

fail() {
	checks=$((checks + 1)) fails=$((fails + 1))
	echo "FAIL $*"
}

# expect CODE DESC -- COMMAND...: exit status CODE
expect() {
	local want=$1 desc=$2 rc
	shift 3
	"$@" >"$OUT/out" 2>"$OUT/err"
	rc=$?
	if [ "$rc" = "$want" ]; then ok "$desc (exit $rc)"; else
		fail "$desc: exit $rc, want $want"; cat "$OUT/out" "$OUT/err"; fi
}

# err_is REGEX: stderr of the last expect is one line matching REGEX
err_is() {
	if [ "$(wc -l <"$OUT/err")" = 1 ] && grep -Eq "$1" "$OUT/err"; then
		ok "stderr: $(cat "$OUT/err")"
	else
		fail "stderr should be one line matching '$1', got: $(cat "$OUT/err")"
	fi
}

# json_check PYTHON-EXPR: evaluated with j = parsed stdout of the last expect
json_check() {
	if python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$OUT/out" "$1" 2>"$OUT/pyerr"; then
		ok "json: $1"
	else
		fail "json: $1"; head -c 600 "$OUT/out"; cat "$OUT/pyerr"
	fi
}

DEV_KEYS='{"dev","index","node_id","hello_ms","dead_ms","caps","abi_version","ethertype","ports","num_ctx","num_pds","num_mrs","num_cqs","num_qps","pinned_pages"}'
PORT_KEYS='{"dev","port","ifname","ifindex","state","carrier","mtu","mac","neighbours"}'
NEIGH_KEYS='{"dev","port","ifname","node_id","remote_dev","remote_port","mac","age_ms","dead_ms","mtu","caps"}'

modprobe veth 2>/dev/null
insmod "${ML_KO:?}" hello_ms=100 dead_ms=3000 || { echo "FAIL insmod"; exit 1; }

expect 0 "--module" -- "$T/megalink-stat" --module
if grep -q "^module megalink state live version" "$OUT/out"; then ok "module text"; else fail "module text"; fi
expect 0 "-j --module" -- "$T/megalink-stat" -j --module
json_check 'j["loaded"] is True and j["refcount"] == 0 and j["parameters"]["hello_ms"]["value"] == "100"'

ip netns add a
ip netns add b
ip link add va netns a type veth peer name vb netns b
ip link add va2 netns a type veth peer name vb2 netns b
for l in va va2; do ip -n a link set "$l" up; done
for l in vb vb2; do ip -n b link set "$l" up; done

ip netns exec a "$T/megalink-stat" -j monitor >"$OUT/mon.json" 2>"$OUT/mon.err" &
mon=$!
sleep 0.5

A=(ip netns exec a)
B=(ip netns exec b)
expect 0 "bind va" -- "${A[@]}" "$T/megalink" port bind va node-id 0xa
if grep -q "^port ml0/0 ifname va " "$OUT/out"; then ok "bind prints the port"; else fail "bind output: $(cat "$OUT/out")"; fi
expect 0 "bind va2 dev ml0 -j" -- "${A[@]}" "$T/megalink" -j port bind va2 dev ml0
json_check 'j[0]["dev"] == "ml0" and j[0]["port"] == 1 and j[0]["ifname"] == "va2"'
expect 0 "bind vb" -- "${B[@]}" "$T/megalink" port bind vb node-id 11 hello 200ms dead 3000
expect 0 "bind vb2" -- "${B[@]}" "$T/megalink" port bind vb2 dev ml1
sleep 2

expect 0 "summary" -- "${A[@]}" "$T/megalink-stat"
for re in '^dev ml0 index 0 node-id 0x0000000a ports 2 ' '^port ml0/0 ifname va .*state up carrier on' \
	'^neigh ml0/0 ifname va node-id 0x0000000b remote ml1/0 ' '^neigh ml0/1 ifname va2 node-id 0x0000000b remote ml1/1 ' \
	'^stats ml0/1 ifname va2' '^    frames +tx_frames [0-9]+' '^    transport +rx_data [0-9]+' \
	'^    objects ctx 0 pd 0 mr 0 cq 0 qp 0 pinned 0$'; do
	if grep -Eq "$re" "$OUT/out"; then ok "summary has /$re/"; else fail "summary lacks /$re/"; fi
done

expect 0 "-j dev" -- "${A[@]}" "$T/megalink-stat" -j dev
json_check "len(j) == 1 and set(j[0]) == $DEV_KEYS and j[0]['node_id'] == 10 and j[0]['ports'] == 2"
expect 0 "-j port" -- "${A[@]}" "$T/megalink-stat" -j port
json_check "len(j) == 2 and all(set(p) == $PORT_KEYS for p in j) and all(p['state'] == 'up' and p['carrier'] is True for p in j)"
expect 0 "-j neigh (b)" -- "${B[@]}" "$T/megalink-stat" -j neigh ml1
json_check "len(j) == 2 and all(set(n) == $NEIGH_KEYS and n['node_id'] == 10 and n['remote_dev'] == 'ml0' for n in j)"
expect 0 "-j stats" -- "${A[@]}" "$T/megalink-stat" -j stats
json_check 'len(j) == 2 and all(s["tx_hello"] > 0 and s["rx_hello"] > 0 and s["neigh_found"] >= 1 and "drop_short" in s for s in j)'
expect 0 "-j -p all" -- "${A[@]}" "$T/megalink-stat" -j -p all
json_check 'set(j) == {"devices","ports","neighbours","stats","qps"} and len(j["neighbours"]) == 2 and j["qps"] == []'
expect 0 "-j -s port" -- "${A[@]}" "$T/megalink-stat" -j -s port
json_check 'all(p["stats"]["tx_hello"] > 0 for p in j)'
expect 0 "megalink dev show" -- "${A[@]}" "$T/megalink" dev show ml0
expect 0 "megalink -j neigh show" -- "${A[@]}" "$T/megalink" -j neigh show
json_check 'len(j) == 2'

# errors: exit 1 and one line naming the object and the reason
expect 1 "bind lo" -- "${A[@]}" "$T/megalink" port bind lo
err_is '^megalink: port bind lo: .*Ethernet'
expect 1 "bind unknown" -- "${A[@]}" "$T/megalink" port bind nosuch
err_is '^megalink: port bind nosuch: .*\(attribute ifname\)$'
expect 1 "bind twice" -- "${A[@]}" "$T/megalink" port bind va
err_is '^megalink: port bind va: .*port'
expect 1 "hello out of range" -- "${A[@]}" "$T/megalink" dev set ml0 hello 5
err_is '^megalink: dev set ml0: .*\(attribute hello-ms\)$'
expect 1 "dead < 2 hello" -- "${A[@]}" "$T/megalink" dev set ml0 hello 1000 dead 1000
err_is '^megalink: dev set ml0: '
expect 1 "node id in use" -- "${B[@]}" "$T/megalink" port bind vy 2>/dev/null
expect 1 "unknown dev" -- "${A[@]}" "$T/megalink-stat" dev ml9
err_is '^megalink-stat: dev show ml9: '
expect 1 "unknown dev -j" -- "${A[@]}" "$T/megalink-stat" -j port ml9
if [ ! -s "$OUT/out" ]; then ok "no partial JSON on failure"; else fail "stdout on failure: $(cat "$OUT/out")"; fi
expect 2 "usage error" -- "$T/megalink" port frob
err_is '^megalink: port: unknown command'
expect 2 "bad node id" -- "$T/megalink" port bind va node-id 0
err_is 'out of range'
expect 1 "unprivileged bind" -- "${B[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups "$T/megalink" port unbind vb
err_is 'CAP_NET_ADMIN'
expect 0 "unprivileged read" -- "${B[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups "$T/megalink-stat" -j neigh
json_check 'len(j) == 2'

expect 0 "dev set" -- "${A[@]}" "$T/megalink" dev set ml0 node-id 0x1a hello 100 dead 3500
expect 0 "dev after set" -- "${A[@]}" "$T/megalink-stat" -j dev ml0
json_check 'j[0]["node_id"] == 26 and j[0]["dead_ms"] == 3500'
expect 0 "unbind dev port" -- "${A[@]}" "$T/megalink" port unbind dev ml0 port 1
ip -n b link set vb down
sleep 2
expect 0 "port down after peer down" -- "${A[@]}" "$T/megalink-stat" -j port
json_check 'len(j) == 1 and j[0]["state"] == "down" and j[0]["carrier"] is False'
expect 0 "unbind va" -- "${A[@]}" "$T/megalink" port unbind va
sleep 0.3
kill -INT "$mon"
if wait "$mon"; then ok "monitor exits 0 on SIGINT"; else fail "monitor exit status"; fi
if python3 - "$OUT/mon.json" <<'PY'; then ok "monitor events"; else fail "monitor events: $(cat "$OUT/mon.json")"; fi
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
names = [e["event"] for e in ev]
need = ["dev_new", "neigh_found", "port_up", "neigh_lost", "port_down", "dev_del"]
assert all(n in names for n in need), names
# peer down: "carrier" (the kernel may report "neigh" when its timer sees
# the lost carrier before the netdev notifier does)
assert any(e["event"] == "port_down" and e["reason"] in ("carrier", "neigh") and not e["carrier"] for e in ev)
assert any(e["event"] == "port_down" and e["reason"] == "unbind" for e in ev)
assert all("reason" in e for e in ev)
PY

ip netns del a
ip netns del b
sleep 0.5
rmmod megalink
expect 1 "no module" -- "$T/megalink-stat"
err_is 'megalink module not loaded'
expect 0 "--module after rmmod" -- "$T/megalink-stat" -j --module
json_check 'j["loaded"] is False'

echo "tools-smoke: $checks checks, $fails failures"
[ "$fails" = 0 ]
