#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py RESULTS.jsonl OUTDIR: the table, the targets and the plots of
one `make bench` run (tests/bench/bench-guest.sh wrote RESULTS.jsonl).

Writes OUTDIR/summary.json (the table and the targets as data),
OUTDIR/sweep.png (latency and bandwidth against message size, megalink vs
rxe vs TCP) and OUTDIR/scaling.png (message rate and bandwidth against QP
count), and prints the table.  Every baseline stands as a ratio to the
megalink figure.  Exit status 0 whatever the numbers: a benchmark is not a
test.
"""
import json
import sys


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def pick(rows, **kw):
    """Every good row whose fields match kw (one per round), or None."""
    got = [r for r in rows if "error" not in r and all(r.get(k) == v for k, v in kw.items())]
    return got or None


def errors(rows, **kw):
    return [r for r in rows if "error" in r and all(r.get(k) == v for k, v in kw.items())]


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2


def lat(r, key="median"):
    """A latency of a row, or the median of it over a list of rows."""
    if isinstance(r, list):
        return median(lat(x, key) for x in r)
    return r["lat_us"].get(key) if r and r.get("lat_us") else None


def bw(r, key="MBps"):
    if isinstance(r, list):
        return median(bw(x, key) for x in r)
    return r["bw"].get(key) if r and r.get("bw") else None


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if v >= 100:
        return f"{v:.0f}{unit}"
    if v >= 10:
        return f"{v:.1f}{unit}"
    return f"{v:.2f}{unit}"


def ratio(b, m):
    if b is None or m is None or not m:
        return None
    return b / m


def table(rows, mtu):
    """(title, megalink value, [(baseline name, value)]) for one MTU."""
    h = dict(case="headline", mtu=mtu)
    out = []
    ml_l = pick(rows, transport="megalink", mode="write_lat", **h)
    out.append(("8 B WRITE latency, median [us]", lat(ml_l), [
        ("rxe (megalink-perf --verbs)", lat(pick(rows, transport="verbs", mode="write_lat", **h))),
        ("rxe (ib_write_lat)", lat(pick(rows, tool="ib_write_lat", **h))),
        ("TCP (sockperf)", lat(pick(rows, tool="sockperf", **h))),
        ("AF_PACKET floor", lat(pick(rows, transport="raw", **h))),
    ]))
    out.append(("8 B WRITE latency, p99.9 [us]", lat(ml_l, "p999"), [
        ("rxe (megalink-perf --verbs)", lat(pick(rows, transport="verbs", mode="write_lat", **h), "p999")),
        ("rxe (ib_write_lat)", lat(pick(rows, tool="ib_write_lat", **h), "p999")),
        ("TCP (sockperf)", lat(pick(rows, tool="sockperf", **h), "p999")),
        ("AF_PACKET floor", lat(pick(rows, transport="raw", **h), "p999")),
    ]))
    ml_b = pick(rows, transport="megalink", mode="write_bw", size=65536, **h)
    out.append(("64 KiB WRITE bandwidth [MB/s]", bw(ml_b), [
        ("rxe (megalink-perf --verbs)", bw(pick(rows, transport="verbs", mode="write_bw", **h))),
        ("rxe (ib_write_bw)", bw(pick(rows, tool="ib_write_bw", **h))),
        ("TCP (iperf3, 64 KiB writes)", bw(pick(rows, tool="iperf3", **h))),
    ]))
    ml_1m = pick(rows, transport="megalink", mode="write_bw", size=1048576, **h)
    if ml_1m:
        out.append(("1 MiB WRITE bandwidth [MB/s]", bw(ml_1m), [
            ("memcpy floor (1 MiB)", bw(pick(rows, transport="memcpy", case="headline"))),
        ]))
    for loss in ("1", "0.1"):
        m = pick(rows, transport="megalink", mode="write_bw", case="loss" + loss, mtu=mtu)
        if m:
            out.append((f"64 KiB WRITE bandwidth, {loss} % loss [MB/s]", bw(m), [
                ("megalink lossless", bw(ml_b)),
                (f"TCP (iperf3), {loss} % loss", bw(pick(rows, tool="iperf3", case="loss" + loss, mtu=mtu))),
            ]))
    cpu = []
    for name, r in (("megalink", ml_b),
                    ("rxe (megalink-perf --verbs)", pick(rows, transport="verbs", mode="write_bw", **h)),
                    ("rxe (ib_write_bw)", pick(rows, tool="ib_write_bw", **h)),
                    ("TCP (iperf3)", pick(rows, tool="iperf3", **h))):
        cpu.append((name, median((x.get("guest_cpu") or {}).get("cpu0_s_per_GB") for x in r or []),
                    median((x.get("guest_cpu") or {}).get("cpu1_s_per_GB") for x in r or [])))
    return out, cpu


def routed(rows, mtu):
    """(title, megalink over UDP across the router, [(baseline, value)]) rows of
    the routed case (tests/bench/routed.sh) at one MTU, or []."""
    r = dict(case="routed", mtu=mtu)
    h = dict(case="headline", mtu=mtu)
    if not pick(rows, **r) and not errors(rows, **r):
        return []
    ml_l = pick(rows, transport="megalink", mode="write_lat", **r)
    ml_b = pick(rows, transport="megalink", mode="write_bw", **r)
    return [
        ("routed: 8 B WRITE latency, median [us]", lat(ml_l), [
            ("TCP across the router (sockperf, 14 B)", lat(pick(rows, tool="sockperf", **r))),
            ("megalink over Ethernet, one link (headline)",
             lat(pick(rows, transport="megalink", mode="write_lat", **h))),
        ]),
        ("routed: 64 KiB WRITE bandwidth [MB/s]", bw(ml_b), [
            ("TCP across the router (iperf3, 64 KiB writes)", bw(pick(rows, tool="iperf3", **r))),
            ("megalink over Ethernet, one link (headline)",
             bw(pick(rows, transport="megalink", mode="write_bw", size=65536, **h))),
        ]),
    ]


def multipath(rows, mtu):
    """The multipath case (tests/bench/multipath.sh) at one MTU: 64 KiB WRITE
    MB/s with two ports striped and with one, their ratio (the issue's
    target: >= 1.8x) and the guest CPU per GB of each, or None."""
    r = dict(case="multipath", mtu=mtu)
    if not pick(rows, **r) and not errors(rows, **r):
        return None

    def cpu(x, k):
        return median((y.get("guest_cpu") or {}).get(k) for y in x or [])

    def one_form(shaped):
        two = pick(rows, transport="megalink", mode="write_bw", ports=2, shaped=shaped, **r)
        one = pick(rows, transport="megalink", mode="write_bw", ports=1, shaped=shaped, **r)
        return {"two_ports_MBps": bw(two), "one_port_MBps": bw(one),
                "ratio": ratio(bw(two), bw(one)), "target": 1.8,
                "cpu0_s_per_GB": {"two": cpu(two, "cpu0_s_per_GB"), "one": cpu(one, "cpu0_s_per_GB")},
                "cpu1_s_per_GB": {"two": cpu(two, "cpu1_s_per_GB"), "one": cpu(one, "cpu1_s_per_GB")}}

    res = one_form(None)
    rates = sorted({x["shaped"] for x in rows if x.get("case") == "multipath" and x.get("mtu") == mtu
                    and x.get("shaped")})
    if rates:
        res["shaped"] = dict(one_form(rates[0]), rate=rates[0])
    return res


def targets(rows, mtu):
    h = dict(case="headline", mtu=mtu)
    res = []

    def t(name, value, op, bound):
        ok = None if value is None else (value >= bound if op == ">=" else value <= bound)
        res.append({"target": name, "value": value, "op": op, "bound": bound, "met": ok})

    ml_b = bw(pick(rows, transport="megalink", mode="write_bw", size=65536, **h))
    t("64 KiB WRITE bw / iperf3", ratio(ml_b, bw(pick(rows, tool="iperf3", **h))), ">=", 1.2)
    ml_l = pick(rows, transport="megalink", mode="write_lat", **h)
    t("8 B WRITE lat median / rxe ib_write_lat", ratio(lat(ml_l), lat(pick(rows, tool="ib_write_lat", **h))), "<=", 0.5)
    t("8 B WRITE lat median / AF_PACKET floor", ratio(lat(ml_l), lat(pick(rows, transport="raw", **h))), "<=", 1.5)
    t("8 B WRITE lat p99.9 / its median", ratio(lat(ml_l, "p999"), lat(ml_l)), "<=", 5)
    q1 = bw(pick(rows, transport="megalink", case="scale", qps=1, size=8, mtu=mtu), "Mpps")
    q1024 = bw(pick(rows, transport="megalink", case="scale", qps=1024, size=8, mtu=mtu), "Mpps")
    t("8 B msg rate 1024 QPs / 1 QP", ratio(q1024, q1), ">=", 0.8)
    p1 = bw(pick(rows, transport="megalink", case="procs", procs=1, mtu=mtu), "Mpps")
    p2 = bw(pick(rows, transport="megalink", case="procs", procs=2, mtu=mtu), "Mpps")
    t("8 B msg rate 2 procs / 1 proc", ratio(p2, p1), ">=", 1.6)
    for loss, bound in (("1", 0.5), ("0.1", 0.9)):
        m = bw(pick(rows, transport="megalink", mode="write_bw", case="loss" + loss, mtu=mtu))
        t(f"64 KiB WRITE bw at {loss} % loss / lossless", ratio(m, ml_b), ">=", bound)
    m1 = bw(pick(rows, transport="megalink", mode="write_bw", size=1048576, **h))
    t("1 MiB WRITE bw / memcpy", ratio(m1, bw(pick(rows, transport="memcpy"))), ">=", 0.5)
    return [r for r in res]


def plots(rows, outdir, mtu):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report: ML-SKIP-NOTE: python3-matplotlib missing, no plots")
        return []
    made = []
    series = (("megalink", dict(transport="megalink")),
              ("rxe (verbs)", dict(transport="verbs")),
              ("TCP", dict(transport="tcp")))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, sel in series:
        lx, ly, bx, by = [], [], [], []
        for r in rows:
            if "error" in r or r.get("case") != "sweep" or r.get("mtu") != mtu:
                continue
            if any(r.get(k) != v for k, v in sel.items()):
                continue
            if r.get("lat_us"):
                lx.append(r["size"])
                ly.append(r["lat_us"]["median"])
            elif r.get("bw"):
                bx.append(r["size"])
                by.append(r["bw"]["MBps"])
        if lx:
            a1.plot(*zip(*sorted(zip(lx, ly))), marker="o", label=name)
        if bx:
            a2.plot(*zip(*sorted(zip(bx, by))), marker="o", label=name)
    for a, yl in ((a1, "latency, median [us] (RTT/2)"), (a2, "bandwidth [MB/s]")):
        a.set_xscale("log", base=2)
        a.set_yscale("log")
        a.set_xlabel("message size [bytes]")
        a.set_ylabel(yl)
        a.grid(True, which="both", alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend()
    fig.suptitle(f"size sweep, one veth link, MTU {mtu}")
    fig.tight_layout()
    p = f"{outdir}/sweep.png"
    fig.savefig(p, dpi=100)
    made.append(p)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5))
    sizes = sorted({r["size"] for r in rows if r.get("case") == "scale" and "error" not in r
                    and r.get("size") is not None})
    for s in sizes:
        pts = sorted((r["qps"], r["bw"]) for r in rows
                     if r.get("case") == "scale" and r.get("size") == s and "error" not in r
                     and r.get("bw") and r.get("mtu") == mtu)
        if not pts:
            continue
        a1.plot([q for q, _ in pts], [b.get("Mpps") or 0 for _, b in pts], marker="o", label=f"{s} B")
        a2.plot([q for q, _ in pts], [b["MBps"] for _, b in pts], marker="o", label=f"{s} B")
    for a, yl in ((a1, "message rate [Mpps]"), (a2, "bandwidth [MB/s]")):
        a.set_xscale("log", base=2)
        a.set_xlabel("QPs")
        a.set_ylabel(yl)
        a.grid(True, which="both", alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize="small")
    fig.suptitle(f"megalink WRITE, QP scaling, MTU {mtu}")
    fig.tight_layout()
    p = f"{outdir}/scaling.png"
    fig.savefig(p, dpi=100)
    made.append(p)
    return made


def main():
    if len(sys.argv) != 3:
        print("usage: report.py RESULTS.jsonl OUTDIR", file=sys.stderr)
        return 2
    rows = load(sys.argv[1])
    outdir = sys.argv[2]
    mtus = []
    for r in rows:
        if r.get("mtu") and r["mtu"] not in mtus:
            mtus.append(r["mtu"])
    summary = {"mtus": {}, "failed_runs": [r for r in rows if "error" in r]}
    for mtu in mtus:
        tab, cpu = table(rows, mtu)
        tg = targets(rows, mtu)
        summary["mtus"][str(mtu)] = {"table": tab, "cpu_s_per_GB": cpu, "targets": tg}
        rounds = len({r.get("round") for r in rows if r.get("case") == "headline" and r.get("mtu") == mtu})
        print(f"\n== MTU {mtu}: megalink and the baselines on the same link, median of {rounds} rounds"
              " (ratio = baseline / megalink)")
        for title, m, bases in tab:
            print(f"  {title:<44} megalink {fmt(m):>8}")
            for name, v in bases:
                r = ratio(v, m)
                print(f"      {name:<40} {fmt(v):>8}   {('%.2fx' % r) if r is not None else 'n/a':>7}")
        rt = routed(rows, mtu)
        if rt:
            summary["mtus"][str(mtu)]["routed"] = rt
            print("  routed case: megalink over UDP/IPv4 and TCP through an IP router (ratio = baseline / megalink)")
            for title, m, bases in rt:
                print(f"  {title:<44} megalink {fmt(m):>8}")
                for name, v in bases:
                    r = ratio(v, m)
                    print(f"      {name:<40} {fmt(v):>8}   {('%.2fx' % r) if r is not None else 'n/a':>7}")
        mp = multipath(rows, mtu)
        if mp:
            summary["mtus"][str(mtu)]["multipath"] = mp
            print("  multipath case: 64 KiB WRITE over two veth pairs (QP striped on 2 paths) vs one port, same boot")
            forms = [("unshaped (the vCPUs are the limit)", mp)]
            if mp.get("shaped"):
                forms.append((f"links shaped to {mp['shaped']['rate']} each (the wire is the limit)", mp["shaped"]))
            for title, m in forms:
                rt_ = m["ratio"]
                met = "not measured" if rt_ is None else ("met" if rt_ >= m["target"] else "MISSED")
                print(f"    {title}")
                print(f"      two ports {fmt(m['two_ports_MBps']):>8}  one port {fmt(m['one_port_MBps']):>8}"
                      f"  ratio {('%.2fx' % rt_) if rt_ is not None else 'n/a'} (target >= {m['target']}x: {met})")
                print(f"      guest CPU s/GB cpu0 two {fmt(m['cpu0_s_per_GB']['two'])} one {fmt(m['cpu0_s_per_GB']['one'])},"
                      f" cpu1 two {fmt(m['cpu1_s_per_GB']['two'])} one {fmt(m['cpu1_s_per_GB']['one'])}")
        print("  guest CPU seconds per GB moved, 64 KiB (cpu0: client and where veth delivers its frames; cpu1: server)")
        for name, a, b in cpu:
            print(f"      {name:<40} cpu0 {fmt(a):>7}  cpu1 {fmt(b):>7}")
        sc = [r for r in rows if r.get("case") == "scale" and r.get("mtu") == mtu
              and r.get("size") is not None and r.get("qps") is not None]
        if sc:
            sizes = sorted({r["size"] for r in sc})
            qps = sorted({r["qps"] for r in sc})
            print("  megalink WRITE scaling: MB/s / Mpps per QP count and size (n/a: skipped or failed)")
            print("      " + "QPs".ljust(6) + "".join(f"{s:>18}" for s in sizes))
            for q in qps:
                cells = []
                for sz in sizes:
                    got = pick(sc, qps=q, size=sz)
                    b, m = bw(got), bw(got, "Mpps")
                    cells.append(f"{fmt(b)} / {m:.3f}" if b is not None and m is not None else "n/a")
                print("      " + str(q).ljust(6) + "".join(f"{c:>18}" for c in cells))
            summary["mtus"][str(mtu)]["scaling"] = [
                {"qps": q, "size": sz, "MBps": bw(pick(sc, qps=q, size=sz)),
                 "Mpps": bw(pick(sc, qps=q, size=sz), "Mpps")} for q in qps for sz in sizes]
        print("  targets (issue 9)")
        for x in tg:
            v = "n/a" if x["value"] is None else f"{x['value']:.2f}"
            met = {True: "met", False: "MISSED", None: "not measured"}[x["met"]]
            print(f"      {x['target']:<46} {v:>6} {x['op']} {x['bound']:<4} {met}")
    if summary["failed_runs"]:
        print(f"\n{len(summary['failed_runs'])} runs failed:")
        for r in summary["failed_runs"]:
            print(f"  {r.get('case')} mtu {r.get('mtu')} {r.get('tool')}: {r.get('error', '')[:200]}")
    made = plots(rows, outdir, mtus[0]) if mtus else []
    with open(f"{outdir}/summary.json", "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    print(f"\nreport: {outdir}/summary.json" + "".join(f", {p}" for p in made))
    return 0


if __name__ == "__main__":
    sys.exit(main())
