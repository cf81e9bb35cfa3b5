"""A bidirectional RNN in PyTorch: same names and results as :mod:`.numpy_bidirectional`.

Chapter 12 (深层 RNN、双向 RNN 与应用). With ``L_i = sequence_length[i]``::

    rev[i, t]    = X[i, L_i - 1 - t]   if t < L_i,  else X[i, t]     (reverse_sequence)
    out_fw, state_fw = dynamic_rnn(cell_fw, X)
    out_rev, state_bw = dynamic_rnn(cell_bw, rev)
    out_bw       = reverse_sequence(out_rev)

``reverse_sequence`` is one gather, so autograd differentiates through it; the
result equals ``torch.nn.RNN``/``LSTM``/``GRU(bidirectional=True)`` on a
``pack_padded_sequence``. Lengths are read on the host, as ``dynamic_rnn`` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from companion import validation as v

__all__ = ["bidirectional_dynamic_rnn", "reverse_sequence"]


def _lengths(sequence_length: Any, batch: int, n_steps: int) -> np.ndarray:
    """The lengths as an int64 NumPy vector [batch]; None means full length."""
    if sequence_length is None:
        return np.full(batch, n_steps, dtype=np.int64)
    kind = v.dtype_kind(sequence_length)
    if isinstance(sequence_length, torch.Tensor):
        sequence_length = sequence_length.detach().cpu().numpy()
    return v.check_sequence_length(np.asarray(sequence_length), kind, batch, n_steps)


def reverse_sequence(
    X: torch.Tensor, sequence_length: Any = None, time_major: bool = False
) -> torch.Tensor:
    """Reverse each sequence's valid steps; the padding after them stays where it is.

    ``rev[i, t] = X[i, L_i - 1 - t]`` for ``t < L_i = sequence_length[i]``, else ``X[i, t]``.

    Parameters
    ----------
    X : tensor [batch, n_steps, n_features] ([n_steps, batch, n_features] if ``time_major``)
    sequence_length : int [batch] (tensor, array or list) or None (a plain flip)
    time_major : bool

    Returns
    -------
    rev : a new tensor, same shape, dtype and device as ``X`` (differentiable)
    """
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be a torch.Tensor; got {type(X).__name__}")
    v.check_numeric_kind("X", v.dtype_kind(X), X.dtype)
    dims = ("n_steps", "batch", "n_features") if time_major else ("batch", "n_steps", "n_features")
    v.check_rank_and_sizes("X", v.shape_of(X), dims, (None, None, None))
    X_bm = X.transpose(0, 1) if time_major else X
    batch, n_steps = X_bm.shape[:2]
    L = torch.as_tensor(_lengths(sequence_length, batch, n_steps), device=X.device)[:, None]
    t = torch.arange(n_steps, device=X.device)[None, :]  # [1, n_steps]
    source = torch.where(t < L, L - 1 - t, t)  # [batch, n_steps]: which step lands at t
    rows = torch.arange(batch, device=X.device)[:, None]
    rev = X_bm[rows, source]  # [batch, n_steps, n_features]
    return rev.transpose(0, 1) if time_major else rev


def bidirectional_dynamic_rnn(
    cell_fw: Any,
    cell_bw: Any,
    X: Any,
    sequence_length: Any = None,
    initial_state_fw: Any = None,
    initial_state_bw: Any = None,
    time_major: bool = False,
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[Any, Any]]:
    """Run ``cell_fw`` forwards and ``cell_bw`` backwards over each sequence's valid steps.

    Semantics, shapes and returns as
    :func:`companion.layers.numpy_bidirectional.bidirectional_dynamic_rnn`.

    Parameters
    ----------
    cell_fw, cell_bw : BasicRNNCell, LSTMCell, GRUCell or MultiRNNCell (torch)
        The same ``n_inputs``, dtype and device.
    X : [batch, n_steps, n_inputs] ([n_steps, batch, n_inputs] if ``time_major``)
    sequence_length : int [batch] or None
    initial_state_fw, initial_state_bw : each cell's state, or None (zeros)
    time_major : bool

    Returns
    -------
    (out_fw, out_bw) : [batch, n_steps, n_neurons_fw], [batch, n_steps, n_neurons_bw]
        (time-major if ``time_major``), exactly 0 past each length
    (state_fw, state_bw)
    """
    from companion import torch_rnn  # (it re-exports this function)

    v.check_named_cell("cell_fw", cell_fw, torch_rnn.CELLS)
    v.check_named_cell("cell_bw", cell_bw, torch_rnn.CELLS)
    v.check_bidirectional_cells(cell_fw.n_inputs, cell_bw.n_inputs, cell_fw.dtype, cell_bw.dtype)
    v.check_same_across("cells", "device", [cell_fw.device, cell_bw.device])
    X = torch_rnn.as_tensor("X", X, cell_fw)
    v.check_sequence_input(v.shape_of(X), cell_fw.n_inputs, time_major)
    n_steps, batch = X.shape[:2] if time_major else X.shape[1::-1]
    lengths = _lengths(sequence_length, batch, n_steps)
    # Every argument is checked before the first run computes anything.
    state_fw = _initial_state(cell_fw, "initial_state_fw", initial_state_fw, batch)
    state_bw = _initial_state(cell_bw, "initial_state_bw", initial_state_bw, batch)

    out_fw, state_fw = torch_rnn.dynamic_rnn(cell_fw, X, lengths, state_fw, time_major)
    X_rev = reverse_sequence(X, lengths, time_major)  # each valid part reversed, in place
    out_rev, state_bw = torch_rnn.dynamic_rnn(cell_bw, X_rev, lengths, state_bw, time_major)
    out_bw = reverse_sequence(out_rev, lengths, time_major)  # back to the steps they belong to
    return (out_fw, out_bw), (state_fw, state_bw)


def _initial_state(cell: Any, name: str, value: Any, batch: int) -> Any:
    """``value`` checked against ``cell`` under its own name (None stays None: zeros)."""
    if value is None:
        return None
    if hasattr(cell, "as_state"):  # LSTMCell, GRUCell, MultiRNNCell
        return cell.as_state(name, value, batch)
    from companion.torch_rnn import as_tensor

    tensor = as_tensor(name, value, cell)  # BasicRNNCell: h [batch, n_neurons]
    v.check_state(name, v.shape_of(tensor), batch, cell.n_neurons)
    return tensor
