"""The scalar whose backward pass :mod:`companion.memory.flops` and ``measure`` run.

Not taught by itself (chapters 5 and 6 use it through those modules):
``loss = sum of every floating output that needs a gradient``, so that one
``loss.backward()`` reaches every parameter an RNN's outputs depend on.
"""

from __future__ import annotations

from typing import Any

import torch


def _flatten(item: Any) -> list[torch.Tensor]:
    if isinstance(item, torch.Tensor):
        return [item]
    if isinstance(item, tuple | list):
        return [t for sub in item for t in _flatten(sub)]
    return []


def loss_of(result: Any) -> torch.Tensor:
    """Sum of every floating tensor in ``result`` that needs a gradient (a scalar)."""
    tensors = [t for t in _flatten(result) if t.is_floating_point() and t.requires_grad]
    if not tensors:
        raise ValueError("fn must return tensors that need a gradient (the outputs of an RNN)")
    return sum(t.sum() for t in tensors)
