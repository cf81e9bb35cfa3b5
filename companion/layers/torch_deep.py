"""A deep RNN run layer by layer, with dropout between layers: PyTorch's order (chapter 12).

``MultiRNNCell`` (TensorFlow 1.x) computes a deep RNN *step by step*: at each time
step every layer, bottom to top. ``torch.nn.RNN``/``LSTM``/``GRU`` with
``num_layers = L`` compute it *layer by layer*: layer 0 over the whole sequence,
then layer 1 over layer 0's outputs, and so on::

    Y[0] = X
    Y[k + 1], state[k] = dynamic_rnn(cell_k, D_k(Y[k]))
    D_0 = identity;   D_k = dropout(p) for 0 < k < L   (only in training mode)
    outputs = Y[L]

Without dropout both orders compute the same numbers: output ``(t, k)`` needs
only ``(t - 1, k)`` and ``(t, k - 1)``, and both orders compute those first.
With ``dropout = p`` PyTorch drops entries of every layer's output sequence but
the last's (``F.dropout``: kept entries scaled by ``1 / (1 - p)``), drawn from
torch's global generator. So that ``torch.manual_seed`` gives the very same masks
as ``nn.*(num_layers=L, dropout=p)``, the mask is drawn over the same layout:
the time-major outputs ``[n_steps, batch, n_neurons]``, or, with
``sequence_length``, only the valid steps, in the order of a
``pack_padded_sequence`` (time-major, longest sequence first). That equality is
the CPU's: on CUDA, ``nn.*`` runs cuDNN, which draws its masks its own way (the
distribution is the same, the numbers are not).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from companion import validation as v

__all__ = ["deep_dynamic_rnn"]


def _packed_positions(lengths: np.ndarray, n_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(t, i)`` of every valid step, in ``pack_padded_sequence``'s order: step by step,
    and within a step the sequences from the longest (torch's own sort, ties included)."""
    sorted_lengths, order = torch.sort(torch.as_tensor(lengths, dtype=torch.int64), descending=True)
    valid = torch.arange(n_steps)[:, None] < sorted_lengths[None, :]  # [n_steps, batch], sorted
    steps, ranks = valid.nonzero(as_tuple=True)  # row by row: step t, then longest first
    return steps, order[ranks]


def _dropout_between_layers(Y: torch.Tensor, lengths: np.ndarray | None, p: float) -> torch.Tensor:
    """``F.dropout(·, p)`` on time-major outputs ``Y`` [n_steps, batch, n], mask drawn as
    ``nn.*`` draws it (over the valid steps only, in packed order, when there are lengths)."""
    if lengths is None:
        return F.dropout(Y.contiguous(), p, training=True)
    t, i = (index.to(Y.device) for index in _packed_positions(lengths, Y.shape[0]))
    dropped = torch.zeros_like(Y)  # past each length the outputs stay exactly 0
    dropped[t, i] = F.dropout(Y[t, i], p, training=True)
    return dropped


def deep_dynamic_rnn(
    cells: Any,
    X: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    dropout: float = 0.0,
    training: bool = False,
    time_major: bool = False,
) -> tuple[torch.Tensor, tuple]:
    """Run ``L`` stacked layers one after the other, dropping between them while training.

    Equations in the module docstring (:mod:`companion.layers.torch_deep`).

    Parameters
    ----------
    cells : list of BasicRNNCell, LSTMCell or GRUCell (torch), bottom first, or a
        MultiRNNCell of them; ``cells[k].n_inputs == cells[k-1].n_neurons``
    X : [batch, n_steps, n_inputs] ([n_steps, batch, n_inputs] if ``time_major``)
    sequence_length : int [batch] or None (full length)
    initial_state : a tuple of one state per layer, or None (zeros)
    dropout : float in [0, 1)
        The probability of dropping an entry of a layer's outputs before the next layer
        reads them (``nn.RNN``'s ``dropout``); never after the last layer.
    training : bool
        Dropout acts only when True (``nn.Module.training``).
    time_major : bool

    Returns
    -------
    outputs : [batch, n_steps, cells[-1].n_neurons] (time-major if ``time_major``),
        exactly 0 past each length
    state : tuple of the layers' final states, as ``MultiRNNCell`` returns it
    """
    from companion import torch_rnn  # (the cells come from there)

    stack = cells if isinstance(cells, torch_rnn.MultiRNNCell) else torch_rnn.MultiRNNCell(cells)
    layers = list(stack.cells)
    for k, cell in enumerate(layers):
        v.check_named_cell(f"cells[{k}]", cell, torch_rnn.CELLS[:3])
    dropout = v.check_dropout("dropout", dropout)
    training = v.check_bool("training", training)
    X = torch_rnn.as_tensor("X", X, layers[0])
    v.check_sequence_input(v.shape_of(X), stack.n_inputs, time_major)
    n_steps, batch = X.shape[:2] if time_major else X.shape[1::-1]
    lengths = None
    if sequence_length is not None:
        kind = v.dtype_kind(sequence_length)
        if isinstance(sequence_length, torch.Tensor):
            sequence_length = sequence_length.detach().cpu().numpy()
        lengths = v.check_sequence_length(np.asarray(sequence_length), kind, batch, n_steps)
    states: Sequence[Any] = (
        [None] * len(layers)
        if initial_state is None
        else stack.as_state("initial_state", initial_state, batch)
    )

    Y = X if time_major else X.transpose(0, 1)  # time-major inside, as nn.* runs
    final = []
    for k, cell in enumerate(layers):
        if k > 0 and training and dropout > 0:
            Y = _dropout_between_layers(Y, lengths, dropout)
        Y, state = torch_rnn.dynamic_rnn(cell, Y, lengths, states[k], time_major=True)
        final.append(state)
    return (Y if time_major else Y.transpose(0, 1)), tuple(final)
