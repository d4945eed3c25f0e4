# SPDX-License-Identifier: MIT
"""megalink_torch: the torch.distributed backend "megalink".

Importing this package registers the backend, so that a training script
needs one line more than with gloo::

    import megalink_torch  # noqa: F401
    torch.distributed.init_process_group("megalink", init_method="env://")

The collectives run over libmegalink-coll (libmegalink-coll(3)) on the
megalink device of the caller's network namespace ($ML_COLL_DEVICE picks
another); rendezvous goes through the torch store of the init method, so
env://, tcp:// and file:// all work.  CPU tensors of int8, uint8, int32,
int64, float16, bfloat16, float32 and float64; SUM, PRODUCT, MIN, MAX, AVG.
See plugins/torch/README.md.
"""

import torch  # noqa: F401  (loads libtorch before the extension)
import torch.distributed as _dist

from . import _C

__all__ = ["BACKEND", "library_version", "node_ids"]

BACKEND = "megalink"
library_version = _C.library_version


def node_ids(group=None):
    """Megalink node id of each rank of @group (the default group if None)."""
    pg = group if group is not None else _dist.distributed_c10d._get_default_group()
    return _C.node_ids(pg)


def _create(store, rank, size, timeout):
    return _C.create_process_group(store, rank, size, timeout)


if BACKEND.upper() not in _dist.Backend._plugins:
    _dist.Backend.register_backend(BACKEND, _create)
