#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""perf-check.py FILE TRANSPORT MODE [--verify] [--qps N]: check that FILE
holds megalink-perf -j lines (one JSON object per size) whose fields are
sane: the keys of megalink-perf(1), the transport and mode asked for,
iterations, ordered percentiles, bytes = msgs * size, shares that add up,
verify true when asked.  No timing is judged.  Prints one line per size
and exits 1 on the first problem."""
import json
import sys


def fail(msg):
    print(f"perf-check: {msg}")
    sys.exit(1)


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        fail(__doc__)
    path, transport, mode = args[:3]
    verify = "--verify" in args
    qps = int(args[args.index("--qps") + 1]) if "--qps" in args else 1
    lines = [l for l in open(path) if l.strip()]
    if not lines:
        fail(f"{path}: no result line")
    keys = {"tool", "version", "transport", "device", "mode", "size", "iters",
            "duration_s", "qps", "threads", "procs", "depth", "cq_mod", "event",
            "bidir", "inline", "cpu", "verify"}
    for n, line in enumerate(lines, 1):
        try:
            r = json.loads(line)
        except ValueError as e:
            fail(f"{path}:{n}: not JSON ({e}): {line[:80]}")
        miss = keys - r.keys()
        if miss:
            fail(f"{path}:{n}: missing keys {sorted(miss)}")
        if r["tool"] != "megalink-perf" or r["transport"] != transport or r["mode"] != mode:
            fail(f"{path}:{n}: tool/transport/mode {r['tool']}/{r['transport']}/{r['mode']}, "
                 f"expected megalink-perf/{transport}/{mode}")
        if r["qps"] != qps or r["size"] < 1 or r["iters"] < 1 or not r["device"]:
            fail(f"{path}:{n}: qps {r['qps']} size {r['size']} iters {r['iters']} "
                 f"device '{r['device']}'")
        if not (r["duration_s"] > 0):
            fail(f"{path}:{n}: duration_s {r['duration_s']}")
        cpu = r["cpu"]
        for k in ("client_s", "server_s", "client_s_per_GB", "server_s_per_GB"):
            if k not in cpu or cpu[k] is None or cpu[k] < 0:
                fail(f"{path}:{n}: cpu.{k} = {cpu.get(k)}")
        if mode.endswith("_lat"):
            lat = r.get("lat_us")
            if not lat:
                fail(f"{path}:{n}: no lat_us")
            seq = [lat[k] for k in ("min", "median", "p99", "p999", "max")]
            if not all(v > 0 for v in seq) or seq != sorted(seq):
                fail(f"{path}:{n}: latency percentiles not ordered or not positive: {lat}")
            if not (lat["min"] <= lat["avg"] <= lat["max"]):
                fail(f"{path}:{n}: avg {lat['avg']} outside min..max")
            desc = f"median {lat['median']:.2f} us p99.9 {lat['p999']:.2f} us"
        else:
            bw = r.get("bw")
            if not bw:
                fail(f"{path}:{n}: no bw")
            if not (bw["MBps"] > 0 and bw["Mpps"] > 0 and bw["msgs"] >= r["qps"]):
                fail(f"{path}:{n}: bw {bw}")
            if bw["bytes"] != bw["msgs"] * r["size"]:
                fail(f"{path}:{n}: bytes {bw['bytes']} != msgs {bw['msgs']} x size {r['size']}")
            if not (0 < bw["qp_min_share"] <= bw["qp_max_share"] <= 1):
                fail(f"{path}:{n}: qp shares {bw['qp_min_share']} / {bw['qp_max_share']}")
            if abs(bw["MBps"] - bw["bytes"] / r["duration_s"] / 1e6) > 0.01 * bw["MBps"] + 0.01:
                fail(f"{path}:{n}: MBps {bw['MBps']} != bytes / duration")
            desc = f"{bw['MBps']:.1f} MB/s {bw['Mpps']:.4f} Mpps share {bw['qp_min_share']:.3f}..{bw['qp_max_share']:.3f}"
        if verify and r["verify"] is not True:
            fail(f"{path}:{n}: verify is {r['verify']}, expected true")
        if not verify and r["verify"] is not None:
            fail(f"{path}:{n}: verify is {r['verify']} without --verify")
        print(f"  {transport} {mode} {r['size']} B x {r['iters']}: {desc}, verify {r['verify']}")


main()
