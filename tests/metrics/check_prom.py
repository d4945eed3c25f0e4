#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""check_prom.py PROM_FILE JSON_BEFORE JSON_AFTER: megalink-stat
--prometheus against megalink-stat -j all read just before and just after
it, with no data traffic running (HELLOs still flow: a counter must lie
between its two JSON values, any other value must equal one of them).

The exposition is parsed with prometheus_client's own parser
(text_string_to_metric_families).  Checked: every family has HELP and TYPE
(in the raw text, once each), names start with megalink_, counters end in
_total, every sample matches the JSON value of the same object (counters
exactly; ages, which move on their own, only within the dead interval),
and every JSON counter and object has its samples.  Prints one "ok:" or
"FAIL:" line per check and exits 1 on any failure; a missing
prometheus_client is a failure, not a skip.
"""
import json
import re
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:
    print("FAIL: prometheus_client not importable (python3-prometheus-client): %s" % e)
    sys.exit(1)

failed = 0


def ok(msg):
    print("ok: " + msg)


def bad(msg):
    global failed
    failed += 1
    print("FAIL: " + msg)


def main():
    text = open(sys.argv[1]).read()
    js = json.load(open(sys.argv[2]))
    js2 = json.load(open(sys.argv[3]))

    # HELP and TYPE, once each per family, in the raw text
    helps, types = {}, {}
    for line in text.splitlines():
        m = re.match(r"# (HELP|TYPE) (\S+)", line)
        if m:
            d = helps if m.group(1) == "HELP" else types
            d[m.group(2)] = d.get(m.group(2), 0) + 1
    fams = list(text_string_to_metric_families(text))
    nsamples = sum(len(f.samples) for f in fams)
    if not fams or nsamples == 0:
        bad("parser found %d families, %d samples" % (len(fams), nsamples))
        return
    ok("parsed %d families, %d samples" % (len(fams), nsamples))
    probs = []
    for f in fams:
        raw = f.name + "_total" if f.type == "counter" else f.name
        if helps.get(raw) != 1 or types.get(raw) != 1:
            probs.append("%s: HELP x%s TYPE x%s" % (raw, helps.get(raw), types.get(raw)))
        if not f.documentation:
            probs.append("%s: empty HELP" % raw)
        if not raw.startswith("megalink_"):
            probs.append("%s: not megalink_" % raw)
        if f.type not in ("counter", "gauge"):
            probs.append("%s: type %s" % (raw, f.type))
        for s in f.samples:
            if f.type == "counter" and not s.name.endswith("_total"):
                probs.append("%s: counter sample without _total" % s.name)
    if probs:
        bad("families: " + "; ".join(probs[:10]))
    else:
        ok("every family has HELP and TYPE once, megalink_ names, counters _total")

    by_name = {}
    for f in fams:
        for s in f.samples:
            by_name.setdefault(s.name, []).append(s)

    devs = {d["dev"]: d for d in js["devices"]}
    ports = {(p["dev"], p["port"]): p for p in js["ports"]}
    stats = {(p["dev"], p["port"]): p for p in js["stats"]}
    neighs = {(n["dev"], n["port"], n["node_id"]): n for n in js["neighbours"]}
    qps = {(q["dev"], q["qpn"]): q for q in js["qps"]}
    devs2 = {d["dev"]: d for d in js2["devices"]}
    ports2 = {(p["dev"], p["port"]): p for p in js2["ports"]}
    stats2 = {(p["dev"], p["port"]): p for p in js2["stats"]}
    neighs2 = {(n["dev"], n["port"], n["node_id"]): n for n in js2["neighbours"]}
    qps2 = {(q["dev"], q["qpn"]): q for q in js2["qps"]}
    after = {id(devs): devs2, id(ports): ports2, id(stats): stats2, id(neighs): neighs2,
             id(qps): qps2}
    checked = 0
    seen_counter = set()
    probs = []
    cur = {}

    def want(desc, got, exp):
        """exp: from the JSON before; the same expression on the JSON after
        is cur["after"] (set by the caller through two())."""
        nonlocal checked
        checked += 1
        exp2 = cur.get("after", exp)
        if got == exp or got == exp2:
            return
        if isinstance(got, int) and isinstance(exp, int) and isinstance(exp2, int) \
                and exp <= got <= exp2:
            return
        probs.append("%s: prometheus %r, json %r then %r" % (desc, got, exp, exp2))

    def two(table, key, fn):
        """fn(obj) on the JSON before and after; the before value, the after
        value kept in cur for want()."""
        o2 = after[id(table)].get(key)
        cur["after"] = fn(o2) if o2 is not None else fn(table[key])
        return fn(table[key])

    dev_num = {"ports": "ports", "hello_interval_milliseconds": "hello_ms",
               "dead_interval_milliseconds": "dead_ms", "contexts": "num_ctx",
               "protection_domains": "num_pds", "memory_regions": "num_mrs",
               "completion_queues": "num_cqs", "queue_pairs": "num_qps",
               "pinned_pages": "pinned_pages"}
    port_num = {"up": lambda p: int(p["state"] == "up"), "carrier": lambda p: int(p["carrier"]),
                "mtu_bytes": lambda p: p["mtu"], "neighbours": lambda p: p["neighbours"]}
    neigh_num = {"alive": lambda n: 1, "dead_interval_milliseconds": lambda n: n["dead_ms"],
                 "mtu_bytes": lambda n: n["mtu"]}
    qp_num = {"send_psn": "snd_psn", "send_unacked_psn": "snd_una", "receive_psn": "rcv_psn",
              "outstanding": "outstanding", "retransmits_total": "retransmits",
              "timeouts_total": "timeouts", "rnr_naks_total": "rnr_naks",
              "seq_naks_total": "seq_naks", "congestion_window_packets": "cwnd",
              "slow_start_threshold_packets": "ssthresh", "reorder_window_psns": "reorder_nak"}

    for name, samples in sorted(by_name.items()):
        for s in samples:
            lab, v = s.labels, s.value
            if name in ("megalink_build_info", "megalink_scrape_timestamp_seconds"):
                continue
            if name == "megalink_device_info":
                d = devs.get(lab["device"])
                if not d:
                    probs.append("device %s not in JSON" % lab["device"])
                    continue
                want(name + " " + d["dev"], (int(lab["node_id"], 16), int(lab["index"]),
                                             int(lab["caps"], 16), int(v)),
                     two(devs, lab["device"], lambda d: (d["node_id"], d["index"], d["caps"], 1)))
            elif name.startswith("megalink_device_"):
                key = dev_num.get(name[len("megalink_device_"):])
                d = devs.get(lab["device"])
                if key is None or d is None:
                    probs.append("unexpected %s%s" % (name, lab))
                    continue
                want("%s %s" % (name, d["dev"]), int(v), two(devs, lab["device"], lambda d: d[key]))
            elif name == "megalink_port_info":
                p = ports.get((lab["device"], int(lab["port"])))
                if not p:
                    probs.append("port %s/%s not in JSON" % (lab["device"], lab["port"]))
                    continue
                want(name, (lab["ifname"], int(lab["ifindex"]), lab["mac"]),
                     two(ports, (lab["device"], int(lab["port"])),
                         lambda p: (p["ifname"], p["ifindex"], p["mac"])))
            elif name.startswith("megalink_port_") and name.endswith("_total"):
                st = stats.get((lab["device"], int(lab["port"])))
                key = name[len("megalink_port_"):-len("_total")]
                if not st or key not in st:
                    probs.append("unexpected %s%s" % (name, lab))
                    continue
                if not isinstance(v, int) and v != int(v):
                    probs.append("%s: not an integer: %r" % (name, v))
                seen_counter.add((lab["device"], int(lab["port"]), key))
                sk = (lab["device"], int(lab["port"]))
                want("%s %s/%s" % (name, lab["device"], lab["port"]), int(v),
                     two(stats, sk, lambda st: st[key]))
                want("%s ifname" % name, lab["ifname"], two(stats, sk, lambda st: st["ifname"]))
            elif name.startswith("megalink_port_"):
                p = ports.get((lab["device"], int(lab["port"])))
                fn = port_num.get(name[len("megalink_port_"):])
                if not p or not fn:
                    probs.append("unexpected %s%s" % (name, lab))
                    continue
                want("%s %s/%s" % (name, lab["device"], lab["port"]), int(v),
                     two(ports, (lab["device"], int(lab["port"])), fn))
            elif name.startswith("megalink_neighbour_"):
                n = neighs.get((lab["device"], int(lab["port"]), int(lab["neighbour"], 16)))
                if not n:
                    probs.append("neighbour %s not in JSON" % lab)
                    continue
                nk = (lab["device"], int(lab["port"]), int(lab["neighbour"], 16))
                want(name + " mac", lab["mac"], two(neighs, nk, lambda n: n["mac"]))
                short = name[len("megalink_neighbour_"):]
                if short == "info":
                    want(name, (lab["remote_device"], int(lab["remote_port"]),
                                int(lab["caps"], 16)),
                         two(neighs, nk, lambda n: (n["remote_dev"] or "", n["remote_port"],
                                                    n["caps"])))
                elif short == "age_milliseconds":
                    checked += 1
                    if not 0 <= v <= n["dead_ms"] + 1000:
                        probs.append("%s %r outside 0..dead" % (name, v))
                elif short in neigh_num:
                    want(name, int(v), two(neighs, nk, neigh_num[short]))
                else:
                    probs.append("unexpected " + name)
            elif name.startswith("megalink_qp_"):
                q = qps.get((lab["device"], int(lab["qp"])))
                short = name[len("megalink_qp_"):]
                if not q:
                    probs.append("qp %s not in JSON" % lab)
                    continue
                if short == "info":
                    want(name, (lab["state"], int(lab["remote_node"], 16),
                                int(lab["remote_qp"]), int(lab["port"]), int(lab["pid"])),
                         two(qps, (lab["device"], int(lab["qp"])),
                             lambda q: (q["state"], q["remote_node"], q["remote_qpn"],
                                        q["port"], q["pid"])))
                elif short in qp_num:
                    want(name, int(v), two(qps, (lab["device"], int(lab["qp"])),
                                           lambda q: q[qp_num[short]]))
                else:
                    probs.append("unexpected " + name)
            else:
                probs.append("unexpected family " + name)

    # the other way: every JSON counter and object has its samples
    for (dev, port), st in stats.items():
        for k, v in st.items():
            if k in ("dev", "port", "ifname"):
                continue
            if (dev, port, k) not in seen_counter:
                probs.append("JSON counter %s/%s %s has no megalink_port_%s_total" %
                             (dev, port, k, k))
    for what, objs, fam in (("device", devs, "megalink_device_info"),
                            ("port", ports, "megalink_port_info"),
                            ("neighbour", neighs, "megalink_neighbour_info"),
                            ("qp", qps, "megalink_qp_info")):
        n = len(by_name.get(fam, []))
        cur.pop("after", None)
        want("%s count" % what, n, len(objs))
    if probs:
        bad("%d of %d values differ or are unknown: %s" %
            (len(probs), checked, "; ".join(probs[:12])))
    else:
        ok("%d values equal to megalink-stat -j all (%d devices, %d ports, %d neighbours, "
           "%d QPs, %d counters)" % (checked, len(devs), len(ports), len(neighs), len(qps),
                                     len(seen_counter)))
    tx = [st.get("tx_bytes", 0) for st in stats.values()]
    if tx and max(tx) > 0:
        ok("traffic seen: tx_bytes up to %d" % max(tx))
    else:
        bad("no traffic in the counters (tx_bytes all 0)")


main()
sys.exit(1 if failed else 0)
