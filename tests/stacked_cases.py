"""Shared by ``test_stacked.py`` and ``test_bidirectional.py``: ``torch.nn`` modules with
random weights, their weights as our cells layer by layer, and padded problems.

Written from the conversion rules of the contract (``Wx = weight_ih.T``, ``Wy =
weight_hh.T``; LSTM and basic cell ``b = bias_ih + bias_hh``; GRU ``bx = bias_ih``,
``by = bias_hh``), not from ``companion``'s own conversions.
"""

from __future__ import annotations

import numpy as np
import torch
from strategies import Backend

MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def torch_module(kind, n_inputs=3, n_neurons=5, *, num_layers=1, bidirectional=False, seed=0):
    """A float64 batch-first ``nn.RNN``/``LSTM``/``GRU`` with every parameter ~ U(-0.8, 0.8)."""
    module = MODULES[kind](
        n_inputs,
        n_neurons,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=True,
        dtype=torch.float64,
    )
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.8, 0.8, tuple(p.shape))))
    return module


def layer_weights(module, layer: int, suffix: str = "") -> list:
    """Our weights of one layer (``suffix="_reverse"``: its backward direction), as tensors
    still attached to the module (so gradients flow back to its parameters)."""

    def get(name):
        return getattr(module, f"{name}_l{layer}{suffix}")

    Wx, Wy, b_ih, b_hh = get("weight_ih").T, get("weight_hh").T, get("bias_ih"), get("bias_hh")
    return [Wx, Wy, b_ih, b_hh] if isinstance(module, torch.nn.GRU) else [Wx, Wy, b_ih + b_hh]


def our_cell(B: Backend, kind: str, weights: list):
    """One of our cells (backend ``B``) from :func:`layer_weights` (detached copies)."""
    arrays = [B.array(w.detach().numpy()) for w in weights]
    if kind == "rnn":
        return B.module.BasicRNNCell.from_weights(*arrays)
    if kind == "lstm":
        return B.module.LSTMCell.from_weights(*arrays)
    return B.module.GRUCell.from_weights(*arrays)


def our_state(kind: str, h0, c0, index: int):
    """``nn``'s initial ``(h0, c0)`` [layers * directions, batch, n] at ``index`` as our state."""
    return (c0[index], h0[index]) if kind == "lstm" else h0[index]


def state_parts(state) -> list[np.ndarray]:
    """A state as a flat list of float64 NumPy arrays (layers, then LSTM ``c, h``)."""
    if isinstance(state, tuple):
        return [p for s in state for p in state_parts(s)]
    return [Backend.numpy(state).astype(np.float64)]


def padded_problem(batch=5, n_steps=6, n_inputs=3, n_neurons=5, n_states=2, seed=1):
    """``X`` [batch, n_steps, n_inputs], ``h0``, ``c0`` [n_states, batch, n_neurons] (float64)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, n_steps, n_inputs))
    h0 = rng.standard_normal((n_states, batch, n_neurons))
    c0 = rng.standard_normal((n_states, batch, n_neurons))
    return X, h0, c0


def run_module(module, kind, X, h0, c0, lengths):
    """``module`` on batch-first ``X`` (tensors), packed when ``lengths`` is given: outputs
    [batch, n_steps, D * n] (zeros past each length) and ``h_n`` (and ``c_n``)."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    state = (h0, c0) if kind == "lstm" else h0
    if lengths is None:
        return module(X, state)
    packed = pack_padded_sequence(X, torch.as_tensor(lengths), True, enforce_sorted=False)
    out, final = module(packed, state)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=X.shape[1])
    return out, final
