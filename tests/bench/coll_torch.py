#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""coll_torch.py: torch.distributed timings, megalink against gloo (make bench-coll).

One process per rank (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and
GLOO_SOCKET_IFNAME in the environment; tests/bench/coll-guest.sh starts
them on the pod's nodes).  The default group is gloo (it only
synchronises the measurements); two more groups are measured side by
side, one on backend "megalink", one on "gloo" (TCP on the same veth
links), the figures of one kind interleaved so that a disturbance of the
TCG guest hits both:

  allreduce   float32 SUM in place, per size: WARM untimed, then N timed
              calls; a call's time is the slowest rank's (element-wise max
              over ranks), the figure the median over calls;
              busbw = bytes / time * 2 (n - 1) / n (nccl-tests)
  latency     the same for an 8-byte all-reduce (2 float32), many calls
  ddp         one training step of examples/ddp_mlp.py's model (MLP
              16-64-64-4, batch 64 over the ranks, SGD with momentum):
              zero_grad, forward, MSE loss, backward (DDP's all-reduce of
              the gradient bucket), optimizer step; the example's own
              all-reduce of the loss for printing is not part of the step

Rank 0 writes one JSON document (--out).  Numbers, never assertions.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.join(here, "..", "..")
sys.path.insert(0, os.path.join(repo, "plugins", "torch"))
sys.path.insert(0, os.path.join(repo, "examples"))

import megalink_torch  # noqa: E402,F401  (registers the backend)
import ddp_mlp  # noqa: E402

BACKENDS = ("megalink", "gloo")


def slowest(times, world):
    """Element-wise max over ranks of this rank's list of call times."""
    t = torch.tensor(times, dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX, group=world)
    return t.tolist()


def time_allreduce(group, nbytes, iters, warm, world):
    x = torch.ones(max(nbytes // 4, 1), dtype=torch.float32)
    for _ in range(warm):
        dist.all_reduce(x, group=group)
    dist.barrier(group=world)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        dist.all_reduce(x, group=group)
        times.append(time.perf_counter() - t0)
    return statistics.median(slowest(times, world))


def time_ddp(group, steps, warm, world, batch=64, d_in=16, d_out=4, hidden=64):
    rank, size = dist.get_rank(), dist.get_world_size()
    total = warm + steps
    x, y = ddp_mlp.make_data(batch * total, d_in, d_out)
    model = ddp_mlp.make_model(d_in, d_out, hidden, seed=42 + rank)
    ddp = nn.parallel.DistributedDataParallel(model, process_group=group)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.MSELoss()
    per = batch // size
    times = []
    dist.barrier(group=world)
    for step in range(total):
        lo = step * batch + rank * per
        xb, yb = x[lo:lo + per], y[lo:lo + per]
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(ddp(xb), yb)
        loss.backward()
        opt.step()
        if step >= warm:
            times.append(time.perf_counter() - t0)
    nparams = sum(p.numel() for p in model.parameters())
    return statistics.median(slowest(times, world)), nparams, float(loss.detach())


def iters_for(nbytes, budget):
    """Calls for one size: about @budget bytes per rank, 3..30."""
    return max(3, min(30, budget // max(nbytes, 1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--min", type=int, default=4096, help="smallest all-reduce, bytes")
    ap.add_argument("--max", type=int, default=64 << 20, help="largest all-reduce, bytes")
    ap.add_argument("--factor", type=int, default=4)
    ap.add_argument("--budget", type=int, default=32 << 20,
                    help="bytes per rank per size and backend (sets the calls per size)")
    ap.add_argument("--warm", type=int, default=1)
    ap.add_argument("--lat-iters", type=int, default=200)
    ap.add_argument("--ddp-steps", type=int, default=30)
    ap.add_argument("--out", help="rank 0 writes the JSON here")
    args = ap.parse_args()

    t0 = time.time()
    dist.init_process_group("gloo", init_method="env://")
    rank, size = dist.get_rank(), dist.get_world_size()
    world = dist.group.WORLD
    groups = {b: dist.new_group(backend=b) for b in BACKENDS}
    dist.barrier()

    def say(msg):
        if rank == 0:
            print("coll_torch: [%5.1fs] %s" % (time.time() - t0, msg), flush=True)

    say("%d ranks, torch %s, groups %s" % (size, torch.__version__, ", ".join(BACKENDS)))
    res = {"tool": "coll_torch", "ranks": size, "torch": torch.__version__,
           "allreduce": {b: [] for b in BACKENDS}, "latency_8B": {}, "ddp": {}}
    factor = 2.0 * (size - 1) / size
    nbytes = args.min
    while nbytes <= args.max:
        n = iters_for(nbytes, args.budget)
        line = []
        for b in BACKENDS:
            t = time_allreduce(groups[b], nbytes, n, args.warm, world)
            bw = nbytes / t / 1e6
            res["allreduce"][b].append({"size": nbytes, "iters": n, "time_us": t * 1e6,
                                        "algbw_MBps": bw, "busbw_MBps": bw * factor})
            line.append("%s %.0f us %.1f MB/s" % (b, t * 1e6, bw * factor))
        say("all-reduce %9d B x %2d: %s" % (nbytes, n, "; ".join(line)))
        nbytes *= args.factor
    for b in BACKENDS:
        t = time_allreduce(groups[b], 8, args.lat_iters, 20, world)
        res["latency_8B"][b] = {"iters": args.lat_iters, "time_us": t * 1e6}
        say("all-reduce 8 B x %d on %s: %.1f us" % (args.lat_iters, b, t * 1e6))
    for b in BACKENDS:
        t, nparams, loss = time_ddp(groups[b], args.ddp_steps, 3, world)
        res["ddp"][b] = {"steps": args.ddp_steps, "step_ms": t * 1e3, "params": nparams,
                         "last_loss": loss}
        say("DDP step (%d parameters) x %d on %s: %.2f ms" % (nparams, args.ddp_steps, b, t * 1e3))
    if rank == 0 and args.out:
        with open(args.out, "w") as f:
            json.dump(res, f)
    dist.barrier()
    for b in BACKENDS:
        dist.destroy_process_group(groups[b])
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
