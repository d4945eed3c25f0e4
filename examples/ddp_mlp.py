#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ddp_mlp.py: train a small MLP with DistributedDataParallel.

One process per rank (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT in the
environment, as torchrun sets them):

    RANK=0 WORLD_SIZE=2 MASTER_ADDR=10.78.0.1 MASTER_PORT=29500 \\
        examples/ddp_mlp.py --backend megalink --steps 20

The data set is generated deterministically (a fixed-seed regression
problem: y = sin(x W) + noise); every rank trains on its own shard of each
global batch, so the gradients differ per rank and only the all-reduce of
DDP makes the models agree.  Rank 0 prints the loss of every step.
--out FILE saves this rank's final parameters (torch.save), for comparing
ranks and backends (tests/torch/run-suite.sh).  With --backend megalink
the one line a script adds is `import megalink_torch`.
"""

import argparse
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "plugins", "torch"))


def make_data(n, d_in, d_out, seed=1234):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d_in, generator=g)
    w = torch.randn(d_in, d_out, generator=g) / d_in ** 0.5
    y = torch.sin(x @ w) + 0.01 * torch.randn(n, d_out, generator=g)
    return x, y


def make_model(d_in, d_out, hidden, seed=42):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(),
                         nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, d_out))


def train(steps=10, batch=64, d_in=16, d_out=4, hidden=64, lr=0.05, log=print):
    """Trains with the current default group; returns the final parameters
    (a list of tensors) and the last loss."""
    rank, size = dist.get_rank(), dist.get_world_size()
    x, y = make_data(batch * steps, d_in, d_out)
    # Each rank starts from different weights: DDP broadcasts rank 0's.
    model = make_model(d_in, d_out, hidden, seed=42 + rank)
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.MSELoss()
    per = batch // size
    loss = torch.tensor(0.0)
    for step in range(steps):
        lo = step * batch + rank * per
        xb, yb = x[lo:lo + per], y[lo:lo + per]
        opt.zero_grad()
        loss = loss_fn(ddp(xb), yb)
        loss.backward()
        opt.step()
        # the global loss, for printing: the mean over ranks
        g = loss.detach().clone()
        dist.all_reduce(g)
        if rank == 0 and log:
            log("step %3d  loss %.6f" % (step + 1, g.item() / size))
    return [p.detach().clone() for p in model.parameters()], loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", default="megalink", help="megalink or gloo")
    ap.add_argument("--init", default="env://", help="init_method (env://, tcp://HOST:PORT)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", help="save this rank's final parameters here")
    args = ap.parse_args()
    if args.backend == "megalink":
        import megalink_torch  # noqa: F401  (registers the backend)
    t0 = time.time()
    dist.init_process_group(args.backend, init_method=args.init)
    rank, size = dist.get_rank(), dist.get_world_size()
    if rank == 0:
        print("ddp_mlp: %d ranks, backend %s, %d steps of %d samples (init %.1f s)"
              % (size, args.backend, args.steps, args.batch, time.time() - t0), flush=True)
    t0 = time.time()
    params, _ = train(args.steps, args.batch, log=lambda s: print(s, flush=True))
    if args.out:
        torch.save(params, args.out)
    if rank == 0:
        print("ddp_mlp: done in %.1f s" % (time.time() - t0), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
