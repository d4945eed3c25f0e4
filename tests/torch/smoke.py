#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""smoke.py: the torch smoke test of the megalink backend, one process per
rank (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set; run-suite.sh starts
them in the pod's namespaces).

Checks, each on every rank against values computed locally: init through
env:// (or --init), all_reduce of every dtype with SUM and of float32 with
PRODUCT, MIN, MAX, AVG, a non-contiguous tensor, all_gather,
reduce_scatter, broadcast, reduce, barrier, send/recv, all_to_all,
all_to_all_single, async Work objects, errors surfacing as RuntimeError
with the library's message, then a few DDP steps of examples/ddp_mlp.py
after which every rank's parameters must be identical.  Prints one line
per check and ends (rank 0) with "torch-smoke: N passed, N failed".
--backend gloo runs the same checks on gloo (a check of the checks).
"""

import argparse
import os
import sys
import time
import traceback

t_import = time.time()
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
t_import = time.time() - t_import

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "plugins", "torch"))
sys.path.insert(0, os.path.join(here, "..", "..", "examples"))

DTYPES = [torch.int8, torch.uint8, torch.int32, torch.int64, torch.float16,
          torch.bfloat16, torch.float32, torch.float64]
results = []


def check(name):
    def deco(fn):
        t0 = time.time()
        try:
            fn()
            ok, why = True, ""
        except Exception as e:  # noqa: BLE001 (reported, counted)
            ok, why = False, "%s: %s" % (type(e).__name__, e)
            traceback.print_exc()
        results.append((name, ok))
        print("torch-smoke: rank %d: %s: %s (%.2f s)%s" % (
            dist.get_rank(), name, "ok" if ok else "FAILED", time.time() - t0,
            "\n    " + why if why else ""), flush=True)
        return fn
    return deco


def eq(got, want, what):
    if got.dtype.is_floating_point:
        ok = torch.allclose(got.double(), want.double(), rtol=1e-2, atol=1e-2)
    else:
        ok = torch.equal(got, want)
    if not ok:
        raise AssertionError("%s: got %s, want %s" % (what, got.flatten()[:8].tolist(),
                                                      want.flatten()[:8].tolist()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="megalink")
    ap.add_argument("--init", default="env://")
    ap.add_argument("--ddp-steps", type=int, default=5)
    args = ap.parse_args()
    t0 = time.time()
    if args.backend == "megalink":
        import megalink_torch  # noqa: F401
    t_ext = time.time() - t0
    t0 = time.time()
    dist.init_process_group(args.backend, init_method=args.init)
    rank, size = dist.get_rank(), dist.get_world_size()
    print("torch-smoke: rank %d of %d: import torch %.1f s, import megalink_torch %.1f s, "
          "init_process_group(%s, %s) %.1f s" % (rank, size, t_import, t_ext, args.backend,
                                                 args.init, time.time() - t0), flush=True)
    n = 1000  # not a multiple of anything in particular
    ranks = torch.arange(size)

    @check("all_reduce sum of each dtype")
    def _():
        for dt in DTYPES:
            t = torch.arange(n).remainder(7).to(dt) + rank
            want = torch.arange(n).remainder(7).to(dt) * size + ranks.sum().to(dt)
            dist.all_reduce(t)
            eq(t, want, "all_reduce %s" % dt)

    @check("all_reduce product, min, max, avg (float32)")
    def _():
        base = torch.linspace(1.0, 2.0, n)
        for op, want in ((dist.ReduceOp.PRODUCT, base ** size * torch.prod(ranks + 1.0)),
                         (dist.ReduceOp.MIN, base * 1.0),
                         (dist.ReduceOp.MAX, base * size),
                         (dist.ReduceOp.AVG, base * (size + 1) / 2)):
            t = base * (rank + 1)
            dist.all_reduce(t, op=op)
            eq(t, want, "all_reduce %s" % op)

    @check("all_reduce of a non-contiguous tensor")
    def _():
        m = torch.arange(12.0).reshape(3, 4).t() * (rank + 1)  # a transposed view
        assert not m.is_contiguous()
        dist.all_reduce(m)
        eq(m, torch.arange(12.0).reshape(3, 4).t() * float((ranks + 1).sum()), "transposed")
        col = torch.zeros(5, 4)
        col[:, 1] = rank + 1  # a strided column of a larger tensor
        v = col[:, 1]
        dist.all_reduce(v)
        eq(col[:, 1], torch.full((5,), float((ranks + 1).sum())), "column")
        eq(col[:, 0], torch.zeros(5), "the rest of the tensor untouched")

    @check("all_gather")
    def _():
        out = [torch.empty(n, dtype=torch.int64) for _ in range(size)]
        dist.all_gather(out, torch.full((n,), rank * 10, dtype=torch.int64))
        for i in range(size):
            eq(out[i], torch.full((n,), i * 10, dtype=torch.int64), "block %d" % i)

    @check("reduce_scatter")
    def _():
        ins = [torch.full((n,), float(rank * size + i)) for i in range(size)]
        out = torch.empty(n)
        dist.reduce_scatter(out, ins)
        eq(out, torch.full((n,), float(sum(r * size + rank for r in range(size)))), "block")

    @check("broadcast from each root")
    def _():
        for root in range(size):
            t = torch.full((n,), float(rank * 100))
            dist.broadcast(t, src=root)
            eq(t, torch.full((n,), float(root * 100)), "root %d" % root)

    @check("reduce to the last rank")
    def _():
        t = torch.full((n,), float(rank + 1), dtype=torch.float64)
        dist.reduce(t, dst=size - 1)
        if rank == size - 1:
            eq(t, torch.full((n,), float((ranks + 1).sum()), dtype=torch.float64), "root")

    @check("barrier")
    def _():
        dist.barrier()

    @check("send/recv around the ring")
    def _():
        if size < 2:
            return
        t = torch.full((n,), float(rank), dtype=torch.float32)
        r = torch.empty(n)
        nxt, prv = (rank + 1) % size, (rank - 1) % size
        if rank % 2 == 0:
            dist.send(t, nxt)
            dist.recv(r, prv)
        else:
            dist.recv(r, prv)
            dist.send(t, nxt)
        eq(r, torch.full((n,), float(prv)), "from %d" % prv)

    @check("all_to_all and all_to_all_single")
    def _():
        ins = [torch.full((n,), rank * 10 + j, dtype=torch.int32) for j in range(size)]
        outs = [torch.empty(n, dtype=torch.int32) for _ in range(size)]
        dist.all_to_all(outs, ins)
        for j in range(size):
            eq(outs[j], torch.full((n,), j * 10 + rank, dtype=torch.int32), "block %d" % j)
        a = torch.arange(size * 6, dtype=torch.float32).reshape(size * 2, 3) + 1000 * rank
        b = torch.empty_like(a)
        dist.all_to_all_single(b, a)
        for j in range(size):
            want = torch.arange(rank * 6, rank * 6 + 6, dtype=torch.float32).reshape(2, 3) + 1000 * j
            eq(b[2 * j:2 * j + 2], want, "single block %d" % j)

    @check("async Work objects, waited out of order")
    def _():
        ts = [torch.full((n,), float(i + rank)) for i in range(4)]
        works = [dist.all_reduce(t, async_op=True) for t in ts]
        for w in reversed(works):
            w.wait()
        for i, t in enumerate(works):
            assert t.is_completed(), "work %d not completed after wait" % i
        for i, t in enumerate(ts):
            eq(t, torch.full((n,), float(i * size + ranks.sum())), "tensor %d" % i)

    @check("errors: bad arguments raise RuntimeError naming the problem")
    def _():
        if args.backend != "megalink":
            return
        for what, fn, words in (
                ("int16 dtype", lambda: dist.all_reduce(torch.zeros(4, dtype=torch.int16)),
                 "dtype"),
                ("bitwise op", lambda: dist.all_reduce(torch.zeros(4, dtype=torch.int32),
                                                       op=dist.ReduceOp.BAND), "reduce op"),
                ("tag", lambda: dist.send(torch.zeros(4), (rank + 1) % size, tag=7), "tag")):
            try:
                fn()
            except RuntimeError as e:
                if "megalink" not in str(e) or words not in str(e):
                    raise AssertionError("%s: message %r lacks %r" % (what, str(e), words))
            else:
                raise AssertionError("%s: no exception" % what)
        # the communicator still works after them
        t = torch.ones(3)
        dist.all_reduce(t)
        eq(t, torch.full((3,), float(size)), "after the errors")

    @check("a library error surfaces with the library's message")
    def _():
        if args.backend != "megalink":
            return
        # a peer rank the communicator does not have: the C library refuses it
        try:
            dist.distributed_c10d._get_default_group().send([torch.zeros(4)], size + 3, 0).wait()
        except RuntimeError as e:
            print("torch-smoke: rank %d: the library said: %s" % (rank, e), flush=True)
            if not str(e).startswith("megalink: send:") or "peer" not in str(e):
                raise AssertionError("message %r" % str(e))
        else:
            raise AssertionError("no exception")

    @check("DDP: %d steps of examples/ddp_mlp.py, parameters identical on every rank"
           % args.ddp_steps)
    def _():
        import ddp_mlp
        params, loss = ddp_mlp.train(steps=args.ddp_steps, log=None)
        flat = torch.cat([p.flatten() for p in params]).double()
        gathered = [torch.empty_like(flat) for _ in range(size)]
        dist.all_gather(gathered, flat)
        worst = max(float((g - flat).abs().max()) for g in gathered)
        if rank == 0:
            print("torch-smoke: DDP: %d parameters, last loss %.6f, max |difference| between "
                  "ranks %.3g" % (flat.numel(), loss, worst), flush=True)
        if worst != 0.0:
            raise AssertionError("ranks disagree by %g" % worst)

    failed = sum(1 for _, ok in results if not ok)
    # every rank's verdict, so that rank 0's summary covers them all
    v = torch.tensor([failed], dtype=torch.int64)
    dist.all_reduce(v)
    dist.destroy_process_group()
    if rank == 0:
        print("torch-smoke: %d passed, %d failed" % (len(results) - failed, failed), flush=True)
        if int(v) != failed:
            print("torch-smoke: other ranks failed %d checks" % (int(v) - failed), flush=True)
    return 1 if int(v) else 0


if __name__ == "__main__":
    sys.exit(main())
