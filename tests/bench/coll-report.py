#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""coll-report.py RESULTS.jsonl OUTDIR: the table of make bench-coll.

Reads the lines tests/bench/coll-guest.sh wrote (one per run: the JSON
of megalink-coll-perf or of coll_torch.py under "result", or "error"),
prints one table of all-reduce busbw per size, 8-byte all-reduce latency
and DDP step time, megalink against gloo as ratios, with the targets of
issue 10, and writes OUTDIR/coll.json (the table as data) and
OUTDIR/coll.png (busbw against size; skipped loudly without matplotlib).

Ratios are megalink / gloo through torch.distributed (the same harness,
the same estimator, the same links); the C benchmark's figures are shown
beside them (megalink-coll-perf: the mean over its -n calls, in place).
"""

import json
import os
import sys

MIB = 1 << 20
TARGETS = [
    # key, what, ratio direction, bound
    ("busbw_16M", "all-reduce busbw at 16 MiB, megalink/gloo", ">=", 1.5),
    ("lat_8B", "8-byte all-reduce latency, megalink/gloo", "<=", 0.5),
    ("ddp_step", "DDP step time, megalink/gloo", "<=", 0.8),
]


def human(n):
    for unit, v in (("MiB", MIB), ("KiB", 1024)):
        if n >= v and n % v == 0:
            return "%d %s" % (n // v, unit)
    return "%d B" % n


def ratio(a, b):
    return a / b if a and b else None


def fmt(v, spec="%.1f"):
    return spec % v if v is not None else "-"


def load(path):
    runs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                runs.append(json.loads(line))
    return runs


def main():
    if len(sys.argv) != 3:
        print("usage: coll-report.py RESULTS.jsonl OUTDIR", file=sys.stderr)
        return 2
    runs = load(sys.argv[1])
    outdir = sys.argv[2]
    errors = [r for r in runs if "error" in r]
    nodes = sorted({r["nodes"] for r in runs})
    data = {"nodes": {}, "targets": [], "errors": errors}

    for n in nodes:
        d = {"busbw_MBps": {}, "lat_8B_us": {}, "ddp_step_ms": {}}
        for r in runs:
            if r.get("nodes") != n or "result" not in r:
                continue
            res = r["result"]
            if r["tool"] == "megalink-coll-perf" and r.get("what") == "sweep":
                col = "C" if r["kind"] == "c" else "C+cache"
                for row in res["results"]:
                    d["busbw_MBps"].setdefault(str(row["size"]), {})[col] = \
                        row["in_place"]["busbw_gbs"] * 1000
                if r["kind"] == "c-cache":
                    d["c_cache_wrong"] = res.get("wrong_total")
            elif r["tool"] == "megalink-coll-perf" and r.get("what") == "latency":
                d["lat_8B_us"]["C"] = res["results"][0]["in_place"]["time_us"]
            elif r["tool"] == "coll_torch":
                for b, col in (("megalink", "torch-megalink"), ("gloo", "torch-gloo")):
                    for row in res["allreduce"][b]:
                        d["busbw_MBps"].setdefault(str(row["size"]), {})[col] = row["busbw_MBps"]
                    if b in res["latency_8B"]:
                        d["lat_8B_us"][col] = res["latency_8B"][b]["time_us"]
                    if b in res["ddp"]:
                        d["ddp_step_ms"][col] = res["ddp"][b]["step_ms"]
                        d["ddp_params"] = res["ddp"][b]["params"]
        for row in d["busbw_MBps"].values():
            row["ratio"] = ratio(row.get("torch-megalink"), row.get("torch-gloo"))
            row["ratio_C"] = ratio(row.get("C"), row.get("torch-gloo"))
        d["lat_8B_us"]["ratio"] = ratio(d["lat_8B_us"].get("torch-megalink"),
                                        d["lat_8B_us"].get("torch-gloo"))
        d["lat_8B_us"]["ratio_C"] = ratio(d["lat_8B_us"].get("C"), d["lat_8B_us"].get("torch-gloo"))
        d["ddp_step_ms"]["ratio"] = ratio(d["ddp_step_ms"].get("torch-megalink"),
                                          d["ddp_step_ms"].get("torch-gloo"))
        data["nodes"][str(n)] = d
        got = {"busbw_16M": d["busbw_MBps"].get(str(16 * MIB), {}).get("ratio"),
               "lat_8B": d["lat_8B_us"]["ratio"], "ddp_step": d["ddp_step_ms"]["ratio"]}
        for key, what, op, bound in TARGETS:
            v = got[key]
            ok = None if v is None else (v >= bound if op == ">=" else v <= bound)
            data["targets"].append({"nodes": n, "target": key, "what": what, "bound": op + " %g" % bound,
                                    "ratio": v, "met": ok})

    # --- the table ---
    print("make bench-coll: megalink against gloo (TCP) on the same veth links, one guest boot")
    print("ratios: megalink / gloo through torch.distributed; C: megalink-coll-perf (in place)")
    for n in nodes:
        d = data["nodes"][str(n)]
        print()
        print("%d nodes: all-reduce float32 busbw (MB/s)" % n)
        print("  %-8s %9s %9s %9s %9s %8s %8s" % ("size", "C", "C+cache", "torch-ml", "gloo",
                                                 "ml/gloo", "C/gloo"))
        for size in sorted(d["busbw_MBps"], key=int):
            row = d["busbw_MBps"][size]
            print("  %-8s %9s %9s %9s %9s %8s %8s" % (
                human(int(size)), fmt(row.get("C")), fmt(row.get("C+cache")),
                fmt(row.get("torch-megalink")), fmt(row.get("torch-gloo")),
                fmt(row.get("ratio"), "%.2fx"), fmt(row.get("ratio_C"), "%.2fx")))
        lat = d["lat_8B_us"]
        print("  8-byte all-reduce (us): C %s, torch-megalink %s, gloo %s: ml/gloo %s (C/gloo %s)" % (
            fmt(lat.get("C")), fmt(lat.get("torch-megalink")), fmt(lat.get("torch-gloo")),
            fmt(lat.get("ratio"), "%.2fx"), fmt(lat.get("ratio_C"), "%.2fx")))
        ddp = d["ddp_step_ms"]
        print("  DDP step of examples/ddp_mlp.py (%s parameters, ms): megalink %s, gloo %s: ml/gloo %s" % (
            d.get("ddp_params", "?"), fmt(ddp.get("torch-megalink"), "%.2f"),
            fmt(ddp.get("torch-gloo"), "%.2f"), fmt(ddp.get("ratio"), "%.2fx")))
        if "c_cache_wrong" in d:
            print("  C+cache: %s wrong elements (every size checked)" % d["c_cache_wrong"])
    print()
    print("targets (issue 10), one run:")
    for t in data["targets"]:
        print("  %d nodes  %-44s %-7s %8s  %s" % (
            t["nodes"], t["what"], t["bound"], fmt(t["ratio"], "%.2fx"),
            "met" if t["met"] else ("MISSED" if t["met"] is False else "no figure")))
    for e in errors:
        print("FAILED run: %s %s nodes %s: %s" % (e.get("tool"), e.get("kind"), e.get("nodes"),
                                                  e.get("error")))

    with open(os.path.join(outdir, "coll.json"), "w") as f:
        json.dump(data, f, indent=1)
    print()
    print("coll-report: %s" % os.path.join(outdir, "coll.json"))

    # --- the plot ---
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print("coll-report: *** no plot: matplotlib is not installed (%s; "
              "apt-get install python3-matplotlib, scripts/deps.sh bench) ***" % e)
        return 0
    fig, axes = plt.subplots(1, max(len(nodes), 1), figsize=(6 * max(len(nodes), 1), 4.5),
                             squeeze=False)
    for ax, n in zip(axes[0], nodes):
        d = data["nodes"][str(n)]["busbw_MBps"]
        sizes = sorted(d, key=int)
        for col, style in (("C", "o-"), ("C+cache", "s--"), ("torch-megalink", "^-"),
                           ("torch-gloo", "v-")):
            pts = [(int(s), d[s][col]) for s in sizes if d[s].get(col)]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=col)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("all-reduce size (bytes, float32)")
        ax.set_ylabel("busbw (MB/s)")
        ax.set_title("%d nodes: megalink vs gloo (TCP), same veth links" % n)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    png = os.path.join(outdir, "coll.png")
    fig.savefig(png, dpi=100)
    print("coll-report: %s" % png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
