"""The NumPy LSTM and GRU loops, in place: the fast twin of the reference loop.

Taught in chapter 11 (LSTM 与 GRU); the reference is the loop of
:func:`companion.numpy_rnn.dynamic_rnn` over :meth:`LSTMCell.step` /
:meth:`GRUCell.step`, which allocates a dozen new arrays per step. Here the same
equations (PyTorch's, gate blocks ``i, f, g, o`` and ``r, z, n``) write into
buffers allocated once::

    LSTM:  z = (x_t @ Wx + b) + h @ Wy          [batch, 4n], in the input-term buffer
           i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_g)
           c = f ⊙ c + i ⊙ g;  h = o ⊙ tanh(c)
    GRU:   a = h @ Wy + by                       [batch, 3n]
           r, z = σ(xw_r + a_r), σ(xw_z + a_z)
           n = tanh(xw_n + r ⊙ a_n)              (reset_after=False: (r ⊙ h) @ Wy_n + by_n)
           h = n + z ⊙ (h - n)                   (= (1 - z) ⊙ n + z ⊙ h)

with ``σ(z) = (1 + tanh(z / 2)) / 2``, the logistic function written so that it
never overflows. ``sequence_length`` keeps TensorFlow 1.x's semantics: past
``length[i]`` the output row is exactly 0 and every part of the state is
carried. Tested against the reference in ``tests/test_fast_numpy_gated.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion.cells.numpy_cells import LSTMCell, LSTMState

__all__ = ["gated_dynamic_rnn", "sigmoid_"]


def sigmoid_(z: np.ndarray) -> np.ndarray:
    """``z = σ(z) = (1 + tanh(z / 2)) / 2`` in place; returns ``z``."""
    z *= 0.5
    np.tanh(z, out=z)
    z += 1
    z *= 0.5
    return z


def gated_dynamic_rnn(
    cell: Any, X_tm: np.ndarray, state: Any, lengths: np.ndarray | None
) -> tuple[np.ndarray, Any]:
    """Run an LSTMCell or GRUCell over time-major inputs, writing every step in place.

    Parameters
    ----------
    cell : companion.numpy_rnn.LSTMCell or GRUCell
    X_tm : [n_steps, batch, n_inputs], already of the cell's dtype
    state : the validated initial state: LSTMState(c, h) or h, each [batch, n_neurons]
    lengths : int [batch] with ``0 <= lengths[i] <= n_steps``, or None (full length)

    Returns
    -------
    outputs : [n_steps, batch, n_neurons], time-major
    state : the final state, new arrays (LSTMState(c, h) for an LSTM)
    """
    lstm = isinstance(cell, LSTMCell)
    n = cell.n_neurons
    XW = X_tm @ cell.Wx  # every step's input product at once: [n_steps, batch, gates * n]
    XW += cell.b if lstm else cell.bx
    H = np.empty(XW.shape[:2] + (n,), dtype=XW.dtype)
    if lstm:
        c, h = (s.copy() for s in state)
    else:
        c, h = None, state.copy()
    hW = np.empty((h.shape[0], XW.shape[2]), dtype=XW.dtype)  # h @ Wy, per step
    new = np.empty_like(h)  # with lengths: this step's h before masking (h is the other buffer)
    scratch = np.empty_like(h)
    for t in range(XW.shape[0]):
        out = H[t] if lengths is None else new
        np.dot(h, cell.Wy, out=hW)
        if lstm:
            z = XW[t]
            z += hW
            sigmoid_(z[:, : 2 * n])  # i and f
            np.tanh(z[:, 2 * n : 3 * n], out=z[:, 2 * n : 3 * n])  # g
            sigmoid_(z[:, 3 * n :])  # o
            c_new = np.multiply(z[:, n : 2 * n], c, out=scratch)  # f ⊙ c ...
            c_new += z[:, :n] * z[:, 2 * n : 3 * n]  # ... + i ⊙ g
            np.tanh(c_new, out=out)
            out *= z[:, 3 * n :]  # h = o ⊙ tanh(c)
        else:
            _gru_step(cell, XW[t], h, hW, out, scratch)
        if lengths is None:
            h = H[t]
            if lstm:
                c, scratch = scratch, c  # the new c is the state; the old buffer is scratch
            continue
        running = (t < lengths)[:, None]  # [batch, 1]: the instances not yet ended
        np.copyto(H[t], 0)
        np.copyto(H[t], new, where=running)  # past the end the output is exactly 0 ...
        np.copyto(new, h, where=~running)  # ... and h is carried
        if lstm:
            np.copyto(c, scratch, where=running)  # ... and so is c
        h, new = new, h
    final_h = h.copy() if lengths is None else h  # without lengths h is a view of H
    return H, (LSTMState(c, final_h) if lstm else final_h)


def _gru_step(
    cell: Any, xw: np.ndarray, h: np.ndarray, hW: np.ndarray, out: np.ndarray, scratch: np.ndarray
) -> None:
    """One GRU step into ``out``; ``xw`` (this step's input term) and ``hW`` are overwritten."""
    n = cell.n_neurons
    if cell.reset_after:
        hW += cell.by
        rz = xw[:, : 2 * n]
        rz += hW[:, : 2 * n]
        sigmoid_(rz)
        a_n = hW[:, 2 * n :]
        a_n *= rz[:, :n]  # r ⊙ (h @ Wy_n + by_n)
    else:
        rz = xw[:, : 2 * n]
        rz += hW[:, : 2 * n]
        rz += cell.by[: 2 * n]
        sigmoid_(rz)
        np.multiply(rz[:, :n], h, out=scratch)  # r ⊙ h, before the product
        a_n = scratch @ cell.Wy[:, 2 * n :] + cell.by[2 * n :]
    cand = xw[:, 2 * n :]
    cand += a_n
    np.tanh(cand, out=cand)
    np.subtract(h, cand, out=out)
    out *= rz[:, n:]  # z ⊙ (h - n)
    out += cand
