#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# docs/netlink/ynl-guest.sh [--kernel 6.12]
#
# Drives the real megalink.ko with the kernel's own YNL CLI
# (tools/net/ynl/cli.py) and docs/netlink/megalink.yaml: if cli.py can
# issue every request and decode every reply and notification with the
# spec, the spec describes the module.
#
# On the host: copies cli.py, its lib/ and the netlink schemas from the
# kernel source (as docs/netlink/validate.sh finds it, which runs first)
# into build/ynl/, then boots a guest with tests/harness/run-in-guest.sh
# and runs this script there with --inner.  Needs the module built
# (make modules-all) and python3-yaml, python3-jsonschema on the host
# (the guest runs the host's /usr/bin/python3).
#
# In the guest (--inner): two netns a and b joined by a veth pair, a port
# bound on each side with cli.py, then cli.py dumps and gets of every object, some
# requests that must fail, a write, and the notifications seen meanwhile.
# Exit status: 0 when every cli.py call behaved as expected.
set -eu
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
ynldir=$repo/build/ynl

if [ "${1:-}" != --inner ]; then
	kernel=6.12
	if [ "${1:-}" = --kernel ] && [ $# -ge 2 ]; then
		kernel=$2
	fi
	"$here/validate.sh" >/dev/null
	ksrc=${ML_KERNEL_SRC:-}
	if [ -z "$ksrc" ]; then
		tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' | sort -V | tail -n 1)
		ksrc=$repo/build/kernel-src/$(basename "$tarball" .tar.xz)
	fi
	[ -r "$ksrc/tools/net/ynl/cli.py" ] || { echo "ynl-guest.sh: no YNL in $ksrc" >&2; exit 1; }
	/usr/bin/python3 -c 'import yaml, jsonschema' ||
		{ echo "ynl-guest.sh: apt-get install python3-yaml python3-jsonschema" >&2; exit 1; }
	rm -rf "$ynldir"
	mkdir -p "$ynldir"
	cp -r "$ksrc/tools/net/ynl/cli.py" "$ksrc/tools/net/ynl/lib" "$ynldir/"
	cp "$ksrc"/Documentation/netlink/*.yaml "$ynldir/"
	exec "$repo/tests/harness/run-in-guest.sh" --kernel "$kernel" -- \
		docs/netlink/ynl-guest.sh --inner
fi

# ---- In the guest --------------------------------------------------------
cd "$repo"
spec=docs/netlink/megalink.yaml
# The first call also validates the spec against the schema (slow under
# TCG); the others skip that.
ynl=(/usr/bin/python3 "$ynldir/cli.py" --spec "$spec" --schema "$ynldir/genetlink-legacy.yaml")
fails=0
run() {	# run NETNS EXPECT(ok|ERRNO-NAME) cli.py-args...
	local ns=$1 want=$2 out rc=0 msg
	shift 2
	echo "### [$ns] ynl $*"
	if [ "$ns" = init ]; then
		out=$("${ynl[@]}" "$@" 2>&1) || rc=$?
	else
		out=$(ip netns exec "$ns" "${ynl[@]}" "$@" 2>&1) || rc=$?
	fi
	echo "$out"
	ynl=(/usr/bin/python3 "$ynldir/cli.py" --spec "$spec" --no-schema)
	# cli.py prints this for a reply whose command id is not the one the
	# spec gives the operation.
	if grep -q "^Unexpected message" <<<"$out"; then
		echo "!!! FAILED: a reply's command id differs from the spec"
		fails=$((fails + 1))
	fi
	if [ "$want" = ok ]; then
		[ "$rc" = 0 ] || { echo "!!! FAILED: expected success"; fails=$((fails + 1)); }
		return 0
	fi
	msg=$(/usr/bin/python3 -c 'import errno, os, sys; print(os.strerror(getattr(errno, sys.argv[1])))' "$want")
	if [ "$rc" = 0 ] || ! grep -q "Netlink error: $msg" <<<"$out"; then
		echo "!!! FAILED: expected $want ($msg)"
		fails=$((fails + 1))
	fi
}

tests/guest/ml-load.sh hello_ms=200 dead_ms=1000
ip netns add a
ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a link set lo up
ip -n a link set va up
ip -n b link set vb up

# Monitor of netns a: the YNL library subscribed to "monitor" until the
# flag file goes away.
mon=$ML_OUT/ynl-monitor
rm -f "$mon.ready" "$mon.json"
touch "$mon.run"
ip netns exec a /usr/bin/python3 - "$ynldir" "$spec" "$mon" <<'EOF' &
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from lib import YnlFamily
ynl = YnlFamily(sys.argv[2], sys.argv[1] + '/genetlink-legacy.yaml')
ynl.ntf_subscribe('monitor')
mon = sys.argv[3]
open(mon + '.ready', 'w').close()
msgs = []
while os.path.exists(mon + '.run'):
    ynl.check_ntf()
    time.sleep(0.2)
ynl.check_ntf()
with open(mon + '.json', 'w') as f:
    for m in ynl.async_msg_queue:
        f.write(json.dumps(m, default=sorted) + '\n')
EOF
monpid=$!
for _ in $(seq 100); do
	[ -e "$mon.ready" ] && break
	sleep 0.2
done
[ -e "$mon.ready" ] || { echo "monitor did not start"; exit 1; }

run a ok --do port-bind --json '{"ifname": "va"}'
run b ok --do port-bind --json '{"ifname": "vb", "node-id": 4660}'
sleep 1.5	# a few HELLOs each way

run a ok --dump dev-get
run a ok --do dev-get --json '{"dev-index": 0}'
run a ok --dump port-get
run a ok --do port-get --json '{"ifname": "va"}'
run a ok --dump neigh-get
run a ok --dump stats-get
run a ok --do stats-get --json '{"dev-name": "ml0", "port-index": 0}'
run b ok --dump neigh-get --json '{"dev-name": "ml1"}'
run a ok --dump qp-get	# no QPs here: an empty dump that must decode
run a ok --dump qp-get --json '{"dev-name": "ml0"}'
run a ENODEV --dump qp-get --json '{"dev-index": 1}'	# filter checked in .start

# A QP of ml0, by raw ioctls (no library): created, dumped in INIT, then
# connected to a QP number ml1 does not have, with a 10 ms timeout and one
# retry, so that it fails with RETRY_EXC_ERR and qp-error-ntf goes out.
qpd=$ML_OUT/ynl-qp
rm -f "$qpd".*
/usr/bin/python3 - "$qpd" <<'PYEOF' &
import fcntl, mmap, os, struct, sys, time
base = sys.argv[1]
def io(fd, nr, fmt, *vals):
    buf = bytearray(struct.pack(fmt, *vals))
    fcntl.ioctl(fd, 0xB580 + nr, buf, True)
    return buf
def wait(name):
    for _ in range(600):
        if os.path.exists(base + '.' + name):
            return
        time.sleep(0.1)
    sys.exit('ynl-qp: timeout waiting for ' + name)
def query(fd, qp):
    return struct.unpack_from('<II', io(fd, 8, '<8I3Q2I', 64, 0, qp, *([0] * 10)), 12)
fd = os.open('/dev/megalink/ml0', os.O_RDWR)
pd = struct.unpack_from('<I', io(fd, 2, '<4I', 16, 0, 0, 0), 8)[0]
cq = struct.unpack_from('<I', io(fd, 5, '<4I2Q', 32, 0, 16, 0, 0, 0), 12)[0]
b = io(fd, 6, '<12I4Q', 80, 0, pd, cq, cq, 4, 4, 1, 1, 64, 0, 0, 0, 0, 0, 0)
qp, qpn, sqoff, sqsize = struct.unpack_from('<IIQQ', b, 40)
print(f'ynl-qp: pd {pd} cq {cq} qp {qp} qpn {qpn}', flush=True)
open(base + '.init', 'w').close()
wait('go')
sq = mmap.mmap(fd, sqsize, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
               offset=sqoff)
# SEND, SIGNALED | INLINE, 2 bytes; then publish producer = 1.
wqe = struct.pack('<QBBHIQII', 42, 1, 0, 3, 0, 0, 0, 2) + b'hi'
sq[mmap.PAGESIZE:mmap.PAGESIZE + 128] = wqe + bytes(128 - len(wqe))
sq[0:4] = struct.pack('<I', 1)
io(fd, 7, '<6IBBHI', 32, 0, qp, 4660, 1, 10, 1, 1, 0, 0)
io(fd, 9, '<4I', 16, 0, qp, 0)
for _ in range(200):
    st, _ = query(fd, qp)
    if st == 4:
        break
    time.sleep(0.1)
status = struct.unpack_from('<I', io(fd, 8, '<8I3Q2I', 64, 0, qp, *([0] * 10)), 60)[0]
print(f'ynl-qp: state {st} status {status}', flush=True)
open(base + ('.err' if st == 4 and status == 6 else '.bad'), 'w').close()
wait('done')
PYEOF
qppid=$!
for _ in $(seq 300); do
	[ -e "$qpd.init" ] && break
	sleep 0.2
done
if [ -e "$qpd.init" ]; then
	run a ok --dump qp-get --json '{"dev-index": 0}'
	touch "$qpd.go"
	for _ in $(seq 300); do
		if [ -e "$qpd.err" ] || [ -e "$qpd.bad" ]; then
			break
		fi
		sleep 0.2
	done
	[ -e "$qpd.err" ] || { echo "!!! FAILED: the QP did not fail with RETRY_EXC_ERR"; fails=$((fails + 1)); }
	run a ok --dump qp-get
	run a ok --dump dev-get
else
	echo "!!! FAILED: could not create a QP"
	fails=$((fails + 1))
fi
touch "$qpd.done"
wait "$qppid" || { echo "!!! FAILED: the QP helper failed"; fails=$((fails + 1)); }
run a ok --dump dev-get	# the QP's file is closed: the counts are 0 again
run init ok --dump dev-get	# the initial netns sees no device
run a ENODEV --do dev-get --json '{"dev-index": 1}'	# ml1 lives in netns b
run a EINVAL --do dev-get
run a ENOENT --do port-get --json '{"ifname": "lo"}'
run a EOPNOTSUPP --do port-bind --json '{"ifname": "lo"}'
run a EBUSY --do port-bind --json '{"ifname": "va"}'
run a EINVAL --do dev-get --json '{"dev-name": "ml0123456789abcdef"}'
run a EINVAL --do dev-get --json '{"dev-index": 0, "node-id": 1}'
run a EINVAL --do port-get --json '{"ifname": "va", "node-id": 1}'
run a EOPNOTSUPP --do neigh-get
run a EOPNOTSUPP --dump dev-set
run a ERANGE --do dev-set --json '{"dev-index": 0, "hello-ms": 5}'
run a EINVAL --do dev-set --json '{"dev-index": 0, "hello-ms": 600}'
run a EEXIST --do dev-set --json '{"dev-index": 0, "node-id": 4660}'
run a ok --do dev-set --json '{"dev-index": 0, "hello-ms": 100, "dead-ms": 500}'
run a ok --do dev-get --json '{"dev-name": "ml0"}'
echo "### [a] without CAP_NET_ADMIN: ynl --do dev-set"
out=$(ip netns exec a capsh --drop=cap_net_admin -- -c \
	"/usr/bin/python3 $ynldir/cli.py --spec $spec --no-schema --do dev-set --json '{\"dev-index\": 0, \"hello-ms\": 300}'" 2>&1) || true
echo "$out"
grep -q "Netlink error: Operation not permitted" <<<"$out" || { echo "!!! FAILED: expected EPERM"; fails=$((fails + 1)); }
ip -n b link set vb down
sleep 1
run a ok --do port-get --json '{"dev-index": 0, "port-index": 0}'
run a ok --do port-unbind --json '{"ifname": "va"}'
sleep 0.5

rm -f "$mon.run"
wait "$monpid"
echo "### notifications seen by a monitor in netns a"
cat "$mon.json"
for n in dev-new-ntf neigh-found-ntf port-up-ntf qp-error-ntf neigh-lost-ntf port-down-ntf dev-del-ntf; do
	grep -q "\"name\": \"$n\"" "$mon.json" || { echo "!!! FAILED: no $n"; fails=$((fails + 1)); }
done
ip netns del a
ip netns del b
rmmod megalink
echo "### ynl-guest: $fails failure(s)"
[ "$fails" = 0 ]
