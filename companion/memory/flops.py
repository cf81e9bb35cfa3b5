"""The compute a forward and a backward pass cost, in matrix-multiply FLOPs.

Taught in chapter 6 (动态展开: what checkpointing pays); chapter 7 counts
the work a packed run skips. A product of an ``[m, k]`` by a ``[k, n]``
matrix costs::

    flops = 2 * m * k * n            (one multiply and one add per term)

and one step of the basic cell does two of them (``x_t @ Wx`` and
``h_{t-1} @ Wy``). The backward pass of a product costs two products of the
same size (``dL/dA = dL/dZ @ B.T``, ``dL/dB = A.T @ dL/dZ``), so backward
costs about twice the forward; checkpointing adds one more forward.
Counts are deterministic, unlike timings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from companion.memory._backward import loss_of

__all__ = ["matmul_flops"]


def _addmm_inplace_flops(
    self_shape: Any, a_shape: Any, b_shape: Any, out_shape: Any = None, **kwargs: Any
) -> int:
    """``z.addmm_(a, b)``: ``z += a @ b``, ``2 m k n`` FLOPs like ``addmm``."""
    return 2 * a_shape[0] * a_shape[1] * b_shape[1]


# FlopCounterMode knows the out-of-place products only; the recurrent GEMM of
# companion.torch_rnn accumulates in place (``h_t.addmm_(h_prev, Wy)``).
_INPLACE_FLOPS = {torch.ops.aten.addmm_: _addmm_inplace_flops}


def matmul_flops(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[int, int]:
    """Matrix-multiply FLOPs of ``fn(*args, **kwargs)`` and of the backward pass of its outputs.

    Counted with ``torch.utils.flop_counter.FlopCounterMode`` (``mm``, ``addmm``,
    ``bmm`` ..., and the in-place ``addmm_``; element-wise ``tanh`` and additions
    are not counted): a product
    of ``[m, k] @ [k, n]`` is ``2 m k n`` FLOPs. The backward pass is that of
    the sum of all outputs. Deterministic, unlike a timing; with
    :func:`companion.memory.checkpointed_dynamic_rnn` the backward count
    includes the recomputed forward.

    Returns
    -------
    (forward_flops, backward_flops) : tuple of int
    """
    from torch.utils.flop_counter import FlopCounterMode

    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    with FlopCounterMode(display=False, custom_mapping=_INPLACE_FLOPS) as forward:
        loss = loss_of(fn(*args, **kwargs))
    with FlopCounterMode(display=False, custom_mapping=_INPLACE_FLOPS) as backward:
        loss.backward()
    return int(forward.get_total_flops()), int(backward.get_total_flops())
