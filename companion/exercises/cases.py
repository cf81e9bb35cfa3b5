"""Building blocks of the checkers' test cases (chapters 1-8).

Cases are float64, so that only real mistakes make a difference, and fixed by
a seed, so that a checker says the same thing on every machine. The weights are
drawn small enough to keep tanh away from saturation: then a missing tanh, a
missing bias or a transposed matrix changes the numbers visibly. The integer
mini-batch of the source chapter (4 instances, 2 time steps, 3 inputs) is used
as is wherever the chapter uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion.numpy_rnn import BasicRNNCell

__all__ = [
    "CHAPTER_X0",
    "CHAPTER_X1",
    "chapter_batch",
    "measured_kept_bytes",
    "random_cell",
    "random_weights",
]

#: The mini-batch of the source chapter: inputs at time steps 0 and 1, [4, 3] each.
CHAPTER_X0 = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]])
CHAPTER_X1 = np.array([[9, 8, 7], [0, 0, 0], [6, 5, 4], [3, 2, 1]])


def chapter_batch() -> np.ndarray:
    """The source chapter's mini-batch as one float64 array ``X`` [4, 2, 3] (batch major)."""
    return np.stack([CHAPTER_X0, CHAPTER_X1], axis=1).astype(np.float64)


def random_weights(
    rng: np.random.Generator, n_inputs: int, n_neurons: int, scale: float, bias: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Wx`` [n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons] uniform in
    ``[-scale, scale]`` and ``b`` [n_neurons] uniform in ``[-bias, bias]``, drawn in
    that order (the order fixes the cases)."""
    Wx = rng.uniform(-scale, scale, (n_inputs, n_neurons))
    Wy = rng.uniform(-scale, scale, (n_neurons, n_neurons))
    return Wx, Wy, rng.uniform(-bias, bias, n_neurons)


def random_cell(
    rng: np.random.Generator, n_inputs: int, n_neurons: int, scale: float, bias: float
) -> BasicRNNCell:
    """A float64 :class:`companion.numpy_rnn.BasicRNNCell` with :func:`random_weights`."""
    weights = random_weights(rng, n_inputs, n_neurons, scale, bias)
    return BasicRNNCell.from_weights(*weights, dtype=np.float64)


def measured_kept_bytes(
    run: Callable[[Any, Any], Any], batch: int, n_steps: int, n_inputs: int, n_neurons: int
) -> int:
    """Bytes that ``run(cell, X)`` keeps for the backward pass, measured, not computed: a
    float32 :class:`companion.torch_rnn.BasicRNNCell` and ``X`` [batch, n_steps, n_inputs]
    are run under :func:`companion.memory.saved_tensor_log`, and the distinct storages
    kept (parameters left out) are added up."""
    import torch

    from companion import memory
    from companion.torch_rnn import BasicRNNCell

    cell = BasicRNNCell(n_inputs, n_neurons, seed=0)
    X = torch.zeros(batch, n_steps, n_inputs)
    return memory.saved_tensor_log(run, cell, X).kept_nbytes()
