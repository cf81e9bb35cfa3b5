"""Small cells, inputs and checks shared by the ``companion.memory`` tests (chapters 5-6).

The byte counts are exact and deterministic. For the basic cell with float32 and
no ``sequence_length``, a forward pass over ``n`` steps keeps alive (distinct
storages, parameters left out)::

    4 * batch * (n_inputs + n_neurons) * n  +  4 * batch * n_neurons

the inputs (or their packed copy), one state per step and the zero initial
state -- for ``static_rnn`` and ``dynamic_rnn`` alike (:func:`kept_formula`).
"""

from __future__ import annotations

import numpy as np
import torch
from strategies import random_weights

from companion import memory
from companion import torch_rnn as tr


def random_cell(n_inputs=3, n_neurons=5, *, seed=0, dtype=torch.float32, nonlinearity="tanh"):
    return tr.BasicRNNCell.from_weights(
        *random_weights(n_inputs, n_neurons, seed),
        nonlinearity=nonlinearity,
        dtype=dtype,
    )


def random_X(batch=4, n_steps=6, n_inputs=3, *, seed=1, dtype=torch.float32):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.standard_normal((batch, n_steps, n_inputs))).to(dtype)


def kept_formula(batch, n_steps, n_inputs, n_neurons, itemsize=4):
    return itemsize * batch * ((n_inputs + n_neurons) * n_steps + n_neurons)


def assert_same_rnn(cell, X, chunk, **kwargs):
    """Outputs, state and every gradient equal to dynamic_rnn's within 1e-6 (float64)."""
    results = []
    for fn, args in ((tr.dynamic_rnn, ()), (memory.checkpointed_dynamic_rnn, (chunk,))):
        cell.zero_grad()
        Xg = X.clone().requires_grad_()
        h0 = kwargs.get("initial_state")
        h0g = None if h0 is None else h0.clone().requires_grad_()
        outputs, state = fn(cell, Xg, *args, **{**kwargs, "initial_state": h0g})
        weights = torch.linspace(-1, 1, outputs.shape[-1], dtype=X.dtype, device=X.device)
        loss = (outputs * weights).sum()
        loss = loss + (state**2).sum()
        loss.backward()
        grads = [Xg.grad] + [p.grad.clone() for p in (cell.Wx, cell.Wy, cell.b)]
        if h0g is not None:
            grads.append(h0g.grad)
        results.append((outputs.detach(), state.detach(), grads))
    (o1, s1, g1), (o2, s2, g2) = results
    torch.testing.assert_close(o2, o1, rtol=0, atol=1e-6)
    torch.testing.assert_close(s2, s1, rtol=0, atol=1e-6)
    assert len(g1) == len(g2)
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-6)
