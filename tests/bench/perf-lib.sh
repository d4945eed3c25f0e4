# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# perf-lib.sh (sourced, after link.sh, inside a harness guest as root):
# run megalink-perf server and client on the two ends of the link.
#
#   perf_pair NAME TIMEOUT SERVER_TRANSPORT CLIENT_TRANSPORT -- ARGS...
#       server on vCPU 1, client on vCPU 0 (both nice 19: a spinning
#       poller must not starve the softirq work on its vCPU), -j, the TCP
#       exchange over loopback (port $PERF_PORT) so that only the test's
#       traffic crosses the veth.  The client's JSON lines go to
#       $PERF_OUT/NAME.json, stderr of both to NAME.err / NAME-server.err.
#       Returns 0 when both exit 0, else 1 (and prints both stderrs).
#   perf_transports ML|VERBS|RAW   "-d $ML_DEV_B" "-d $ML_DEV_A", ...
#       (PERF_SRV / PERF_CLI are set)

PERF_BIN=${PERF_BIN:-$ML_REPO/tools/megalink-perf}
PERF_OUT=${PERF_OUT:-${ML_OUT:-/tmp}}
PERF_PORT=${PERF_PORT:-18515}

perf_transports() {
	case $1 in
	ml) PERF_SRV="-d $ML_DEV_B" PERF_CLI="-d $ML_DEV_A" ;;
	verbs) PERF_SRV="--verbs rxe1" PERF_CLI="--verbs rxe0" ;;
	raw) PERF_SRV="--raw $LINK_B" PERF_CLI="--raw $LINK_A" ;;
	*) return 1 ;;
	esac
}

perf_pair() {
	local name=$1 to=$2 srv=$3 cli=$4 sp crc src base
	shift 5
	base=$PERF_OUT/$name
	# shellcheck disable=SC2086
	taskset -c 1 nice -n 19 timeout -k 5 "$to" "$PERF_BIN" $srv -p "$PERF_PORT" -j "$@" \
		>"$base-server.json" 2>"$base-server.err" &
	sp=$!
	# shellcheck disable=SC2086
	taskset -c 0 nice -n 19 timeout -k 5 "$to" "$PERF_BIN" $cli -p "$PERF_PORT" -j "$@" \
		127.0.0.1 >"$base.json" 2>"$base.err"
	crc=$?
	wait "$sp"
	src=$?
	if [ "$crc" -ne 0 ] || [ "$src" -ne 0 ]; then
		echo "  $name: client exit $crc, server exit $src (124: timeout)"
		sed 's/^/  client: /' "$base.err"
		sed 's/^/  server: /' "$base-server.err"
		return 1
	fi
	return 0
}
