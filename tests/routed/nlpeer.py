#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""nlpeer.py: raw generic netlink PEER_ADD / PEER_DEL requests to megalink,
for the error cases the tools cannot send (bad attribute lengths).

    nlpeer.py [--uid N] add|del DEV ADDR [--addr-len N] [--local ADDR]
              [--also-addr ADDR]

An ADDR with a colon is IPv6: sent as peer-addr6 (peer-local6 for
--local), 16 bytes unless --addr-len says otherwise; --also-addr adds a
second address attribute (of its own family) to the same request.

Prints "errno=N msg=TEXT" (N = 0 on success) and exits 0, or 2 on a usage
or protocol error.  Attribute and command numbers are read from
include/uapi/linux/megalink.h, so they cannot drift from the kernel's.
"""
import argparse
import errno
import os
import re
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HDR = os.path.join(HERE, "..", "..", "include", "uapi", "linux", "megalink.h")

NETLINK_GENERIC = 16
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NLMSG_ERROR = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLMSGERR_ATTR_MSG = 1


def enum_values(text, name):
    body = re.search(r"enum %s \{(.*?)\};" % name, text, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    vals = {}
    for i, ident in enumerate(re.findall(r"^\s*(\w+)\s*,", body, re.M)):
        vals[ident] = i
    return vals


def attr(t, payload):
    a = struct.pack("=HH", 4 + len(payload), t) + payload
    return a + b"\0" * ((4 - len(a) % 4) % 4)


def request(sk, ftype, cmd, attrs, seq):
    body = struct.pack("=BBH", cmd, 1, 0) + b"".join(attrs)
    msg = struct.pack("=IHHII", 16 + len(body), ftype,
                      NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body
    sk.send(msg)
    reply = []
    while True:
        data = sk.recv(65536)
        off = 0
        while off < len(data):
            ln, typ, flags, _, _ = struct.unpack_from("=IHHII", data, off)
            if typ == NLMSG_ERROR:
                err = -struct.unpack_from("=i", data, off + 16)[0]
                text = ""
                # NETLINK_CAP_ACK: only the request's header is echoed.
                toff = off + 20 + 16
                while toff + 4 <= off + ln:
                    alen, atype = struct.unpack_from("=HH", data, toff)
                    if alen < 4:
                        break
                    if atype == NLMSGERR_ATTR_MSG:
                        text = data[toff + 4:toff + alen].split(b"\0")[0].decode()
                    toff += (alen + 3) & ~3
                return err, text, reply
            reply.append(data[off:off + ln])
            off += (ln + 3) & ~3


def family_id(sk):
    err, _, reply = request(sk, GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                            [attr(CTRL_ATTR_FAMILY_NAME, b"megalink\0")], 1)
    if err or not reply:
        sys.exit("nlpeer: no megalink family (errno %d)" % err)
    msg = reply[0]
    off = 20
    while off < len(msg):
        alen, atype = struct.unpack_from("=HH", msg, off)
        if atype == CTRL_ATTR_FAMILY_ID:
            return struct.unpack_from("=H", msg, off + 4)[0]
        off += (alen + 3) & ~3
    sys.exit("nlpeer: no family id")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uid", type=int)
    ap.add_argument("--addr-len", type=int)
    ap.add_argument("--also-addr")
    ap.add_argument("--local")
    ap.add_argument("--no-dev", action="store_true")
    ap.add_argument("op", choices=["add", "del"])
    ap.add_argument("dev")
    ap.add_argument("addr")
    a = ap.parse_args()
    text = open(HDR).read()
    cmds = enum_values(text, "ml_cmd")
    attrs = enum_values(text, "ml_attr")
    if a.uid is not None:
        os.setgroups([])
        os.setgid(a.uid)
        os.setuid(a.uid)
    sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sk.setsockopt(270, NETLINK_EXT_ACK, 1)
    sk.setsockopt(270, NETLINK_CAP_ACK, 1)
    fam = family_id(sk)
    def addr_attr(text, v4, v6, length=None):
        six = ":" in text
        raw = socket.inet_pton(socket.AF_INET6 if six else socket.AF_INET,
                               text)
        if length is None:
            length = len(raw)
        raw = (raw * 2)[:length]
        return attr(attrs[v6 if six else v4], raw)

    req = [addr_attr(a.addr, "ML_A_PEER_ADDR", "ML_A_PEER_ADDR6", a.addr_len)]
    if a.also_addr:
        req.append(addr_attr(a.also_addr, "ML_A_PEER_ADDR", "ML_A_PEER_ADDR6"))
    if not a.no_dev:
        req.append(attr(attrs["ML_A_DEV_NAME"], a.dev.encode() + b"\0"))
    if a.local:
        req.append(addr_attr(a.local, "ML_A_PEER_LOCAL", "ML_A_PEER_LOCAL6"))
    cmd = cmds["ML_CMD_PEER_ADD" if a.op == "add" else "ML_CMD_PEER_DEL"]
    err, msg, _ = request(sk, fam, cmd, req, 2)
    print("errno=%d (%s) msg=%s" % (err, errno.errorcode.get(err, "0"), msg))


if __name__ == "__main__":
    main()
