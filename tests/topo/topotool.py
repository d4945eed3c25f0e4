#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helpers of tests/topo/run-suite.sh.

  topotool.py converge NODES EDGES < json
      NODES: "0x101,0x102"; EDGES: "0x101-0x102,...".  The view (the JSON
      of `megalink-stat -j topo`) must have exactly NODES reachable and,
      among the up links of their records, exactly EDGES (undirected, each
      reported by both ends).  Exit 0 if so, else 1 with the difference.
  topotool.py count < json          number of records in the view
  topotool.py selfseq < json        the own record's seq
  topotool.py send IFACE CASE [ARG] craft hostile TOPO frames (AF_PACKET)
  topotool.py dotcheck FILE NODES   FILE is a plausible DOT graph naming NODES
"""
import json
import socket
import struct
import sys

ETH_P = 0x88B5
NODE_ALL = 0xffffffff
FAKE_SENDER = 0x777


def parse_nodes(s):
    return {int(x, 0) for x in s.split(',') if x}


def parse_edges(s):
    out = set()
    for e in s.split(','):
        if e:
            a, b = (int(x, 0) for x in e.split('-'))
            out.add(frozenset((a, b)))
    return out


def converge(nodes, edges):
    view = json.load(sys.stdin)
    reach = {n['node_id'] for n in view if n['reachable']}
    recs = {n['node_id']: n for n in view if n['reachable']}
    directed = set()
    for n in recs.values():
        for l in n['links']:
            if l['state'] == 'up':
                directed.add((n['node_id'], l['node_id']))
    got = {frozenset(d) for d in directed if (d[1], d[0]) in directed}
    ok = True
    if reach != nodes:
        print('reachable %s, want %s' % (sorted(map(hex, reach)),
                                          sorted(map(hex, nodes))))
        ok = False
    if got != edges:
        fmt = lambda es: sorted('-'.join(hex(x) for x in sorted(e)) for e in es)
        print('edges %s, want %s' % (fmt(got), fmt(edges)))
        ok = False
    return 0 if ok else 1


def payload(origin, seq, life, links, nlinks=None, hlen=None, flags=0,
            src=FAKE_SENDER):
    n = len(links) if nlinks is None else nlinks
    body = struct.pack('>IIIHH', origin, seq, life, n, flags)
    for l in links:
        body += struct.pack('>IBBBBI', *l)
    length = 12 + len(body) if hlen is None else hlen
    return struct.pack('>BBHII', 1, 4, length, src, NODE_ALL) + body


def send(iface, case, arg):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    mac = s.getsockname()[4]
    frames = []
    link = (0x999, 0, 0, 0, 1, 1500)
    if case == 'badlen':
        # the header says one link, the record two; and a short record
        frames.append(payload(0x501, 1, 10000, [link, link], hlen=12 + 16 + 12))
        frames.append(payload(0x502, 1, 10000, [], hlen=12 + 8))
    elif case == 'toomany':
        frames.append(payload(0x503, 1, 10000, [link] * 65))
    elif case == 'badid':
        frames.append(payload(0, 1, 10000, [link]))
        frames.append(payload(NODE_ALL, 1, 10000, [link]))
        frames.append(payload(0x504, 1, 10000, [(0, 0, 0, 0, 1, 1500)]))
        frames.append(payload(0x505, 1, 10000, [(0x999, 9, 0, 0, 1, 1500)]))
        frames.append(payload(0x506, 1, 10000, [link], flags=1))
        frames.append(payload(0x507, 1, 700000, [link]))
    elif case == 'spoof':
        victim, seq = (int(x, 0) for x in arg.split(':'))
        frames.append(payload(victim, (seq + (1 << 30)) & 0xffffffff,
                              10000, [link]))
    elif case == 'flood':
        for i in range(int(arg)):
            frames.append(payload(0x100000 + i, 1, 600000, []))
    else:
        raise SystemExit('unknown case ' + case)
    for p in frames:
        f = b'\xff' * 6 + mac + struct.pack('>H', ETH_P) + p
        s.send(f.ljust(60, b'\0'))
    print('sent %d frames' % len(frames))
    return 0


def dotcheck(path, nodes):
    text = open(path).read()
    if not text.startswith('graph megalink {') or \
            text.count('{') != text.count('}') or ' -- ' not in text:
        print('not a DOT graph')
        return 1
    for n in nodes:
        if '%08x' % n not in text:
            print('node %x missing' % n)
            return 1
    return 0


def main():
    cmd = sys.argv[1]
    if cmd == 'converge':
        return converge(parse_nodes(sys.argv[2]), parse_edges(sys.argv[3]))
    if cmd == 'count':
        print(len(json.load(sys.stdin)))
        return 0
    if cmd == 'selfseq':
        print([n['seq'] for n in json.load(sys.stdin) if n['self']][0])
        return 0
    if cmd == 'send':
        return send(sys.argv[2], sys.argv[3],
                    sys.argv[4] if len(sys.argv) > 4 else '')
    if cmd == 'dotcheck':
        return dotcheck(sys.argv[2], parse_nodes(sys.argv[3]))
    raise SystemExit(__doc__)


if __name__ == '__main__':
    sys.exit(main())
