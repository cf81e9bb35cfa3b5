"""A bidirectional RNN in NumPy: TensorFlow 1.x's ``bidirectional_dynamic_rnn`` (chapter 12).

Two RNNs read the same padded batch: ``cell_fw`` from the first step to the last,
``cell_bw`` from each sequence's *last valid* step back to its first. With
``L_i = sequence_length[i]``::

    rev[i, t]    = X[i, L_i - 1 - t]   if t < L_i,  else X[i, t]     (reverse_sequence)
    out_fw, state_fw = dynamic_rnn(cell_fw, X)
    out_rev, state_bw = dynamic_rnn(cell_bw, rev)
    out_bw       = reverse_sequence(out_rev)       (back in place: out_bw[i, t] belongs to x[i, t])

Only the valid part is reversed: flipping the whole padded array would feed the
backward cell the padding first, so it would start from a state that has read
zeros instead of the sequence's last element. Past each length both outputs are
exactly 0 (``dynamic_rnn``'s TensorFlow 1.x semantics). ``torch.nn.RNN``/``LSTM``/
``GRU`` with ``bidirectional=True`` on a ``pack_padded_sequence`` compute the same.
This module never imports torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion import validation as v

__all__ = ["bidirectional_dynamic_rnn", "reverse_sequence"]


def _as_array(name: str, value: Any, dtype: Any = None) -> np.ndarray:
    """User data as an array (integers accepted), in ``dtype`` if one is given."""
    array = np.asarray(value)
    v.check_numeric_kind(name, array.dtype.kind, array.dtype)
    return array if dtype is None else array.astype(dtype, copy=False)


def _lengths(sequence_length: Any, batch: int, n_steps: int) -> np.ndarray:
    """The lengths as an int64 vector [batch]; None means every sequence is full length."""
    if sequence_length is None:
        return np.full(batch, n_steps, dtype=np.int64)
    lengths = np.asarray(sequence_length)
    return v.check_sequence_length(lengths, lengths.dtype.kind, batch, n_steps)


def reverse_sequence(X: Any, sequence_length: Any = None, time_major: bool = False) -> np.ndarray:
    """Reverse each sequence's valid steps; the padding after them stays where it is.

    ``rev[i, t] = X[i, L_i - 1 - t]`` for ``t < L_i = sequence_length[i]``, else ``X[i, t]``
    (TensorFlow's ``tf.reverse_sequence``). Applied twice it gives ``X`` back.

    Parameters
    ----------
    X : [batch, n_steps, n_features] ([n_steps, batch, n_features] if ``time_major``)
    sequence_length : int [batch] or None (every sequence has n_steps steps: a plain flip)
    time_major : bool

    Returns
    -------
    rev : a new array, same shape and dtype as ``X``
    """
    X = _as_array("X", X)
    dims = ("n_steps", "batch", "n_features") if time_major else ("batch", "n_steps", "n_features")
    v.check_rank_and_sizes("X", X.shape, dims, (None, None, None))
    X_bm = X.transpose(1, 0, 2) if time_major else X
    batch, n_steps = X_bm.shape[:2]
    L = _lengths(sequence_length, batch, n_steps)[:, None]  # [batch, 1]
    t = np.arange(n_steps)[None, :]  # [1, n_steps]
    source = np.where(t < L, L - 1 - t, t)  # [batch, n_steps]: which step lands at t
    rev = X_bm[np.arange(batch)[:, None], source]  # [batch, n_steps, n_features]
    return rev.transpose(1, 0, 2) if time_major else rev


def _initial_state(cell: Any, name: str, value: Any, batch: int) -> Any:
    """``value`` checked against ``cell`` under its own name (None stays None: zeros)."""
    if value is None:
        return None
    if hasattr(cell, "as_state"):  # LSTMCell, GRUCell, MultiRNNCell
        return cell.as_state(name, value, batch)
    array = _as_array(name, value, cell.dtype)  # BasicRNNCell: h [batch, n_neurons]
    v.check_state(name, array.shape, batch, cell.n_neurons)
    return array


def bidirectional_dynamic_rnn(
    cell_fw: Any,
    cell_bw: Any,
    X: Any,
    sequence_length: Any = None,
    initial_state_fw: Any = None,
    initial_state_bw: Any = None,
    time_major: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[Any, Any]]:
    """Run ``cell_fw`` forwards and ``cell_bw`` backwards over each sequence's valid steps.

    Equations in the module docstring (:mod:`companion.layers.numpy_bidirectional`).

    Parameters
    ----------
    cell_fw, cell_bw : BasicRNNCell, LSTMCell, GRUCell or MultiRNNCell (NumPy)
        Both with the same ``n_inputs`` and dtype; their ``n_neurons`` may differ.
    X : [batch, n_steps, n_inputs] ([n_steps, batch, n_inputs] if ``time_major``)
    sequence_length : int [batch] or None (full length)
    initial_state_fw, initial_state_bw : each cell's state, or None (zeros)
    time_major : bool

    Returns
    -------
    (out_fw, out_bw) : [batch, n_steps, n_neurons_fw] and [batch, n_steps, n_neurons_bw]
        (time-major if ``time_major``); ``out_bw[i, t]`` is the backward cell's output
        after reading ``x[i, L_i - 1]`` down to ``x[i, t]``; both exactly 0 for ``t >= L_i``.
        Concatenate them on the last axis for the usual ``[..., n_fw + n_bw]`` features.
    (state_fw, state_bw) : ``state_fw`` after step ``L_i - 1``, ``state_bw`` after
        reading back down to step 0 (each the initial state where ``L_i = 0``).
    """
    from companion import numpy_rnn  # (it re-exports this function)

    v.check_named_cell("cell_fw", cell_fw, numpy_rnn.CELLS)
    v.check_named_cell("cell_bw", cell_bw, numpy_rnn.CELLS)
    v.check_bidirectional_cells(cell_fw.n_inputs, cell_bw.n_inputs, cell_fw.dtype, cell_bw.dtype)
    X = _as_array("X", X, cell_fw.dtype)
    v.check_sequence_input(X.shape, cell_fw.n_inputs, time_major)
    n_steps, batch = X.shape[:2] if time_major else X.shape[1::-1]
    lengths = _lengths(sequence_length, batch, n_steps)
    # Every argument is checked before the first run computes anything.
    state_fw = _initial_state(cell_fw, "initial_state_fw", initial_state_fw, batch)
    state_bw = _initial_state(cell_bw, "initial_state_bw", initial_state_bw, batch)

    out_fw, state_fw = numpy_rnn.dynamic_rnn(cell_fw, X, lengths, state_fw, time_major)
    X_rev = reverse_sequence(X, lengths, time_major)  # each valid part reversed, in place
    out_rev, state_bw = numpy_rnn.dynamic_rnn(cell_bw, X_rev, lengths, state_bw, time_major)
    out_bw = reverse_sequence(out_rev, lengths, time_major)  # back to the steps they belong to
    return (out_fw, out_bw), (state_fw, state_bw)
