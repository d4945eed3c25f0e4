#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""parse.py KIND < tool-output: one baseline tool's output as one JSON object
in the shape of megalink-perf -j (tests/bench/README.md), on stdout.

KIND: perftest-lat | perftest-bw | sockperf | iperf3 | megalink-perf

Extra fields come from the environment of the caller (bench-guest.sh):
BENCH_FIELDS is a JSON object merged into the result (mtu, case, ...).
Exits 1 with a message on stderr when the output holds no result.
"""
import json
import os
import re
import sys


def fail(msg):
    print(f"parse.py: {msg}", file=sys.stderr)
    sys.exit(1)


def numbers(line):
    """The whitespace-separated fields of a result line as numbers (nan:
    None), or [] when one is not a number."""
    out = []
    for tok in line.split():
        try:
            v = float(tok)
        except ValueError:
            return []
        # nan, or perftest's DBL_MAX for "no sample": not a number.
        out.append(None if v != v or abs(v) > 1e300 else v)
    return out


def perftest_lat(text):
    # " #bytes #iterations t_min t_max t_typical t_avg t_stdev 99% 99.9%"
    for line in text.splitlines():
        v = numbers(line)
        if len(v) >= 9:
            size, iters, tmin, tmax, typ, avg, _sd, p99, p999 = v[:9]
            return {"tool": "ib_write_lat", "transport": "rxe", "mode": "write_lat",
                    "size": int(size), "iters": int(iters),
                    "lat_us": {"min": tmin, "median": typ, "avg": avg, "p99": p99,
                               "p999": p999, "max": tmax}}
    fail("no ib_write_lat result line")


def perftest_bw(text):
    # " #bytes #iterations BW peak[MB/sec] BW average[MB/sec] MsgRate[Mpps]"
    # perftest's MB is 2^20 bytes (its default report unit); converted to
    # 10^6 to compare with megalink-perf and iperf3.
    for line in text.splitlines():
        v = numbers(line)
        if len(v) == 5:
            size, iters, _peak, avg, mpps = v
            mbps = avg * 1048576 / 1e6
            return {"tool": "ib_write_bw", "transport": "rxe", "mode": "write_bw",
                    "size": int(size), "iters": int(iters),
                    "bw": {"MBps": mbps, "Gbps": mbps * 8 / 1000, "Mpps": mpps,
                           "bytes": int(size * iters)}}
    fail("no ib_write_bw result line")


def sockperf(text):
    # sockperf ping-pong reports one-way latency (RTT/2), like perftest.
    lat = {}
    for line in text.splitlines():
        m = re.search(r"avg-(?:lat|rtt)\s*=\s*([\d.]+)", line)
        if m:
            lat["avg"] = float(m.group(1))
        m = re.search(r"percentile\s+([\d.]+)\s*=\s*([\d.]+)", line)
        if m:
            p, val = float(m.group(1)), float(m.group(2))
            key = {50.0: "median", 99.0: "p99", 99.9: "p999"}.get(p)
            if key:
                lat[key] = val
        m = re.search(r"<(MAX|MIN)> observation\s*=\s*([\d.]+)", line)
        if m:
            lat[m.group(1).lower()] = float(m.group(2))
        m = re.search(r"Summary: Latency is ([\d.]+) usec", line)
        if m and "avg" not in lat:
            lat["avg"] = float(m.group(1))
    if "median" not in lat:
        fail("no sockperf percentile 50 line")
    return {"tool": "sockperf", "transport": "tcp", "mode": "pingpong", "lat_us": lat}


def iperf3(text):
    try:
        j = json.loads(text)
    except ValueError:
        fail("iperf3 -J output is not JSON")
    if "error" in j:
        fail("iperf3: " + j["error"])
    r = j["end"]["sum_received"]
    mbps = r["bits_per_second"] / 8e6
    return {"tool": "iperf3", "transport": "tcp", "mode": "stream",
            "duration_s": r["seconds"],
            "bw": {"MBps": mbps, "Gbps": r["bits_per_second"] / 1e9,
                   "bytes": int(r["bytes"])}}


def megalink_perf(text):
    lines = [l for l in text.splitlines() if l.startswith("{")]
    if not lines:
        fail("no megalink-perf -j object")
    j = json.loads(lines[-1])
    # The first megalink-perf printed flat keys; keep both shapes working.
    if "lat_us" not in j and "median" in j:
        j["lat_us"] = {k2: j.get(k1) for k1, k2 in
                       (("min", "min"), ("median", "median"), ("mean", "avg"),
                        ("p99", "p99"), ("p999", "p999"), ("max", "max"))}
    if "bw" not in j and "MB/s" in j:
        j["bw"] = {"MBps": j["MB/s"], "Gbps": j.get("Gbit/s"),
                   "Mpps": (j.get("msg/s") or 0) / 1e6,
                   "bytes": int(j.get("size", 0) * j.get("iterations", 0))}
    j.setdefault("tool", "megalink-perf")
    j.setdefault("transport", "megalink")
    j.setdefault("qps", 1)
    j.setdefault("procs", 1)
    return j


def main():
    if len(sys.argv) != 2:
        fail("usage: parse.py perftest-lat|perftest-bw|sockperf|iperf3|megalink-perf")
    kinds = {"perftest-lat": perftest_lat, "perftest-bw": perftest_bw,
             "sockperf": sockperf, "iperf3": iperf3, "megalink-perf": megalink_perf}
    if sys.argv[1] not in kinds:
        fail(f"unknown kind {sys.argv[1]}")
    res = kinds[sys.argv[1]](sys.stdin.read())
    res.update(json.loads(os.environ.get("BENCH_FIELDS", "{}")))
    print(json.dumps(res, sort_keys=True))


if __name__ == "__main__":
    main()
