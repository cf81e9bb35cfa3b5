"""Gradient checkpointing: keep one state per chunk, recompute the rest in backward.

Taught in chapter 6 (动态展开). The time axis of ``n_steps`` steps is cut into
chunks of ``chunk`` steps; the forward pass of each chunk runs under
``torch.utils.checkpoint.checkpoint``, which keeps only what enters the chunk
(its slice of ``X`` and the state at its start) and recomputes the rest when
backward reaches it. For the basic cell in float32, parameters left out::

    kept_nbytes = 4 * batch * n_inputs * n_steps + 4 * batch * n_neurons * ceil(n_steps / chunk)

instead of ``n_steps`` states, for the price of one extra forward pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.checkpoint import checkpoint

from companion import validation as v
from companion.torch_rnn import BasicRNNCell, as_tensor, dynamic_rnn

__all__ = ["checkpointed_dynamic_rnn"]


def _run_chunk(
    cell: BasicRNNCell, X_chunk: torch.Tensor, h: torch.Tensor, lengths: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    return dynamic_rnn(cell, X_chunk, sequence_length=lengths, initial_state=h, time_major=True)


def checkpointed_dynamic_rnn(
    cell: BasicRNNCell,
    X: Any,
    chunk: int,
    sequence_length: Any = None,
    initial_state: Any = None,
    time_major: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``dynamic_rnn`` with gradient checkpointing every ``chunk`` steps (chapter 6).

    The time axis is cut into chunks of ``chunk`` steps (the last may be
    shorter); each chunk runs :func:`companion.torch_rnn.dynamic_rnn` inside
    ``torch.utils.checkpoint.checkpoint(..., use_reentrant=False)``. The forward
    pass keeps only what enters each chunk (its slice of ``X`` and the state
    ``h`` at its start) and throws away the tensors saved inside it; the
    backward pass recomputes one chunk at a time. Memory kept for backward:
    about ``n_steps / chunk`` states instead of ``n_steps``; compute: one extra
    forward pass.

    Same parameters, semantics and results as ``dynamic_rnn`` (outputs and
    gradients equal up to rounding; ``sequence_length`` included), plus:

    Parameters
    ----------
    chunk : int >= 1
        Steps per checkpointed chunk. ``chunk >= n_steps`` gives one chunk.

    Returns
    -------
    outputs : [batch, n_steps, n_neurons] ([n_steps, batch, n_neurons] if ``time_major``)
    state : [batch, n_neurons]
    """
    chunk = v.check_positive_int("chunk", chunk)
    v.check_cell(cell, BasicRNNCell)
    X = as_tensor("X", X, cell)
    v.check_sequence_input(v.shape_of(X), cell.n_inputs, time_major)
    X_tm = X if time_major else X.transpose(0, 1)
    n_steps, batch = int(X_tm.shape[0]), int(X_tm.shape[1])
    if initial_state is None:
        h = cell.zero_state(batch)
    else:
        h = as_tensor("initial_state", initial_state, cell)
        v.check_state("initial_state", v.shape_of(h), batch, cell.n_neurons)
    lengths = None
    if sequence_length is not None:
        if isinstance(sequence_length, torch.Tensor):
            sequence_length = sequence_length.detach().cpu().numpy()
        lengths_np = np.asarray(sequence_length)
        lengths = torch.as_tensor(
            v.check_sequence_length(lengths_np, lengths_np.dtype.kind, batch, n_steps)
        )
    if n_steps == 0:
        return dynamic_rnn(cell, X, lengths, h, time_major=time_major)

    outputs = []
    for start in range(0, n_steps, chunk):
        X_chunk = X_tm[start : start + chunk]
        # Steps of instance i that fall in this chunk: clip(length_i - start, 0, chunk size).
        chunk_lengths = (
            None if lengths is None else (lengths - start).clamp(0, int(X_chunk.shape[0]))
        )
        out, h = checkpoint(_run_chunk, cell, X_chunk, h, chunk_lengths, use_reentrant=False)
        outputs.append(out)
    outputs_tm = torch.cat(outputs)
    return (outputs_tm if time_major else outputs_tm.transpose(0, 1)), h
