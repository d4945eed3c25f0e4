# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/deb/lib.sh: what the scripts of tests/deb share (sourced).  The
# caller sets pkgs (the package names), krel (the kernel the module is
# loaded into) and ML_OUT, and calls finish TAG at the end.

passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
# finish TAG: "TAG: N passed, M failed", exit status 0 only when M is 0
finish() {
	echo "$1: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
on() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
debs() { ls "$1"/*.deb | grep -v -- '-dbgsym_'; }

# pkgs_ok VERSION: every package is installed at VERSION
pkgs_ok() {
	local st
	# shellcheck disable=SC2086
	st=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}${Version}\n' $pkgs 2>/dev/null)
	echo "$st" | awk -v v="$1" '$2 != "ii" || $3 != v { print "  " $0; bad = 1 } END { exit bad }'
}
# dkms_ok VERSION [KREL...]: DKMS has exactly megalink/VERSION, installed
# for each KREL (default: krel)
dkms_ok() {
	local st v=$1 k
	shift
	st=$(dkms status megalink 2>/dev/null)
	echo "  dkms status: $(echo "$st" | tr '\n' ';')"
	[ "$(ls /var/lib/dkms/megalink 2>/dev/null | grep -vc '^kernel-')" = 1 ] &&
		[ -d "/var/lib/dkms/megalink/$v" ] || return 1
	for k in "${@:-$krel}"; do
		echo "$st" | grep -q "^megalink/$v, $k, [^:]*: installed" || return 1
	done
}
# module_ok VERSION: modprobe loads the DKMS module of VERSION
module_ok() {
	local f v
	f=$(modinfo -k "$krel" -F filename megalink 2>/dev/null)
	v=$(modinfo -k "$krel" -F version megalink 2>/dev/null)
	echo "  module: $f version $v"
	case $f in
	/lib/modules/"$krel"/updates/dkms/megalink.ko*) ;;
	*) return 1 ;;
	esac
	[ "$v" = "$1" ] && modprobe megalink && [ "$(cat /sys/module/megalink/version)" = "$1" ]
}

# make_time VERSION: seconds of DKMS's make, from its make.log (the date
# dkms writes at its top to the file's last change)
make_time() {
	local f a
	f=$(ls /var/lib/dkms/megalink/"$1"/"$krel"/*/log/make.log 2>/dev/null | head -n 1)
	a=$(sed -n 2p "$f" 2>/dev/null)
	a=$(date -d "$a" +%s 2>/dev/null) || { echo "? (no make.log)"; return; }
	echo "$(($(stat -c %Y "$f") - a)) s"
}

# installed_ok VERSION: the installed programs and libraries of VERSION are
# what PATH, pkg-config, ldconfig, dlopen and python3 find
installed_ok() {
	local v=$1 tools_ok tool w ver src out pyf t
	tools_ok=1
	for tool in /usr/sbin/megalink /usr/sbin/megalink-stat /usr/bin/megalink-perf /usr/bin/megalink-coll-perf; do
		w=$(command -v "$(basename "$tool")")
		if [ "$w" != "$tool" ] || ! grep -qx "$tool" /var/lib/dpkg/info/megalink-tools.list; then
			echo "  $(basename "$tool"): command -v says '$w'"
			tools_ok=0
		fi
	done
	[ "$tools_ok" = 1 ] && ok "command -v: megalink, megalink-stat, megalink-perf, megalink-coll-perf of megalink-tools" ||
		bad "command -v: not the installed tools"
	ver=$(megalink -V 2>&1)
	echo "$ver" | grep -q "$v" && ok "megalink -V: $ver" || bad "megalink -V: '$ver'"
	src=$(mktemp -d)
	cat >"$src/t.c" <<'EOF'
#include <stdio.h>
#include <megalink/megalink.h>
#include <megalink/coll.h>
int main(void) { printf("%s\n", ml_version()); return 0; }
EOF
	# shellcheck disable=SC2046
	if cc -o "$src/t" "$src/t.c" $(pkg-config --cflags --libs megalink megalink-coll) 2>"$src/err" &&
		out=$("$src/t") && [ "$out" = "$v" ] &&
		ldd "$src/t" | grep -Eq "libmegalink.so.1 => (/usr)?/lib/[^/]*-linux-gnu/libmegalink.so.1"; then
		ok "libmegalink-dev: cc \$(pkg-config megalink megalink-coll) builds, runs against /usr/lib: ml_version() = $out"
	else
		bad "libmegalink-dev: build or run failed: $(cat "$src/err") '${out:-}' $(ldd "$src/t" 2>&1 | grep megalink)"
	fi
	rm -rf "$src"
	if ldconfig -p | grep -q 'libnccl-net-megalink.so ' && ldconfig -p | grep -q 'libmegalink-coll.so.0 ' &&
		python3 -c 'import ctypes; ctypes.CDLL("libnccl-net-megalink.so")'; then
		ok "ldconfig: libmegalink-coll.so.0 and libnccl-net-megalink.so, which dlopen finds by name"
	else
		bad "ldconfig / dlopen of libnccl-net-megalink.so"
	fi
	pyf=$(python3 -c 'import importlib.util as u; print(u.find_spec("megalink_torch").origin)' 2>/dev/null)
	if [ "$pyf" != /usr/lib/python3/dist-packages/megalink_torch/__init__.py ]; then
		bad "python3 finds megalink_torch at '$pyf'"
	elif [ "${ML_DEB_TORCH:-0}" = 1 ]; then
		# importing torch takes a while under TCG: only when asked
		t=$(now)
		python3 -c 'import megalink_torch' && ok "import megalink_torch ($(since "$t") s)" ||
			bad "import megalink_torch"
	else
		ok "python3 finds megalink_torch in $pyf"
	fi
}

# ---- a pod of veth pairs in network namespaces, with the installed tools
# pod_up N: nodes n1..nN, full mesh; sets dev_1..dev_N
pod_up() {
	local n=$1 a b i res ifname dev
	for i in $(seq 1 "$n"); do
		ip netns add "n$i" && on "n$i" ip link set lo up
	done
	for a in $(seq 1 "$n"); do
		for b in $(seq $((a + 1)) "$n"); do
			ip link add "n$a-n$b" netns "n$a" type veth peer name "n$b-n$a" netns "n$b" || return 1
			on "n$a" ip link set "n$a-n$b" up
			on "n$b" ip link set "n$b-n$a" up
		done
	done
	for a in $(seq 1 "$n"); do
		dev=''
		for b in $(seq 1 "$n"); do
			[ "$a" != "$b" ] || continue
			ifname=n$a-n$b
			if [ -z "$dev" ]; then
				res=$(on "n$a" megalink port bind "$ifname" node-id "$a" hello 100 dead 1000) || return 1
				dev=$(printf '%s\n' "$res" | sed -n 's|^port \([^/ ]*\)/.*|\1|p')
				eval "dev_$a=\$dev"
			else
				on "n$a" megalink port bind "$ifname" dev "$dev" >/dev/null || return 1
			fi
		done
	done
}
pod_down() {
	local i
	for i in 1 2 3; do
		ip netns del "n$i" 2>/dev/null
	done
	return 0
}
# wait_neigh N: every node n1..nN sees N-1 neighbours (10 s)
wait_neigh() {
	local n=$1 i j c
	for j in $(seq 1 50); do
		c=0
		for i in $(seq 1 "$n"); do
			[ "$(on "n$i" megalink-stat neigh | grep -c '^neigh ')" -eq $((n - 1)) ] && c=$((c + 1))
		done
		[ "$c" -eq "$n" ] && return 0
		sleep 0.2
	done
	return 1
}

# perf_check: megalink-perf write_bw 64 KiB x 200 --verify from n1 to n2
# (its TCP exchange over a second veth pair between them)
perf_check() {
	local t sp crc src summary bytes
	ip link add ctl1 netns n1 type veth peer name ctl2 netns n2
	on n1 ip addr add 10.77.0.1/24 dev ctl1 && on n1 ip link set ctl1 up
	on n2 ip addr add 10.77.0.2/24 dev ctl2 && on n2 ip link set ctl2 up
	t=$(now)
	local perf_args=(write_bw -s 64K -n 200 --verify --timeout 20 -p 18600 -j)
	on n2 timeout 60 megalink-perf -d "${dev_2:-ml0}" "${perf_args[@]}" >"$ML_OUT/perf-server.json" 2>"$ML_OUT/perf-server.err" &
	sp=$!
	sleep 0.5
	on n1 timeout 60 megalink-perf -d "${dev_1:-ml0}" "${perf_args[@]}" 10.77.0.2 >"$ML_OUT/perf.json" 2>"$ML_OUT/perf.err"
	crc=$?
	wait "$sp"
	src=$?
	summary=$(python3 - "$ML_OUT/perf.json" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
rows = [r for r in rows if "bytes" in r.get("bw", {})]
ok = bool(rows) and all(r.get("verify") is True for r in rows)
print(sum(int(r["bw"]["bytes"]) for r in rows), rows[-1]["bw"].get("Gbps", "?") if rows else "?",
      "verified" if ok else "NOT-verified")
EOF
	)
	bytes=${summary%% *}
	if [ "$crc" = 0 ] && [ "$src" = 0 ] && [ "${bytes:-0}" -ge $((200 * 65536)) ] 2>/dev/null &&
		[ "${summary##* }" = verified ]; then
		ok "megalink-perf write_bw 64K x 200 --verify n1 -> n2: bytes Gbps check: $summary ($(since "$t") s)"
	else
		bad "megalink-perf: client $crc server $src, summary '$summary'"
		cat "$ML_OUT/perf.err" "$ML_OUT/perf-server.err" "$ML_OUT/perf.json" | head -n 20
	fi
}
