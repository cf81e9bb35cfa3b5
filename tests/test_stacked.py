"""MultiRNNCell in both backends, run by static_rnn and dynamic_rnn (deep RNNs, planned).

Oracles: ``torch.nn.RNN``/``LSTM``/``GRU`` with ``num_layers=2`` (weights copied layer
by layer, with and without ``pack_padded_sequence``), and the definition itself --
a stacked run equals running each layer over the whole sequence with
``dynamic_rnn`` and feeding its outputs to the next layer.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from stacked_cases import (
    layer_weights,
    our_cell,
    our_state,
    padded_problem,
    run_module,
    state_parts,
    torch_module,
)
from strategies import Backend, assert_bitwise_zero

from companion import numpy_rnn, torch_rnn

BACKENDS = [Backend("numpy"), Backend("torch")]
KINDS = ["rnn", "lstm", "gru"]
LENGTHS = [None, [6, 1, 3, 6, 2]]  # unsorted, as pack_padded_sequence(enforce_sorted=False)


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(Backend.numpy(a), Backend.numpy(b), rtol=tol, atol=tol)


def make_layer(B: Backend, kind: str, n_inputs: int, n_neurons: int, seed: int):
    Cell = {"rnn": B.module.BasicRNNCell, "lstm": B.module.LSTMCell, "gru": B.module.GRUCell}
    cell = Cell[kind](n_inputs, n_neurons, seed=seed, dtype=B.dtype("float64"))
    if kind == "rnn":  # the default init has b = 0, which would hide a forgotten bias
        cell = B.module.BasicRNNCell.from_weights(cell.Wx, cell.Wy, cell.Wx[0] * 0.5)
    return cell


# ------------------------------------------------------------- nn.* with num_layers=2


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lengths", LENGTHS, ids=["full", "ragged"])
def test_equals_torch_num_layers_2(B, kind, lengths):
    module = torch_module(kind, num_layers=2, seed=3)
    cell = B.module.MultiRNNCell([our_cell(B, kind, layer_weights(module, k)) for k in range(2)])
    X, h0, c0 = (torch.from_numpy(a) for a in padded_problem())
    with torch.no_grad():
        want_out, want_final = run_module(module, kind, X, h0, c0, lengths)
    initial = tuple(
        B.module.LSTMState(*map(B.array, (c0[k].numpy(), h0[k].numpy())))
        if kind == "lstm"
        else B.array(h0[k].numpy())
        for k in range(2)
    )
    out, state = B.module.dynamic_rnn(
        cell, B.array(X.numpy()), sequence_length=lengths, initial_state=initial
    )
    close(out, want_out)
    h_n, c_n = want_final if kind == "lstm" else (want_final, None)
    want_state = [(c_n[k], h_n[k]) if kind == "lstm" else h_n[k] for k in range(2)]
    for got, want in zip(state_parts(state), state_parts(tuple(want_state)), strict=True):
        close(got, want)
    if lengths is not None:
        padding = np.arange(X.shape[1])[None, :] >= np.asarray(lengths)[:, None]
        assert_bitwise_zero(Backend.numpy(out)[padding])


@pytest.mark.parametrize("kind", KINDS)
def test_torch_gradients_equal_nn_module(kind):
    module = torch_module(kind, num_layers=2, seed=4)
    X, h0, c0 = padded_problem(seed=5)
    lengths = [6, 1, 3, 6, 2]
    rng = np.random.default_rng(6)
    w_out, w_h = (torch.from_numpy(rng.standard_normal(s)) for s in ((5, 6, 5), (2, 5, 5)))

    def leaves():
        return [torch.from_numpy(a.copy()).requires_grad_(True) for a in (X, h0, c0)]

    def loss(out, h_n):
        return (out * w_out).sum() + (h_n * w_h).sum()

    Xa, h0a, c0a = leaves()
    out, final = run_module(module, kind, Xa, h0a, c0a, lengths)
    loss(out, final[0] if kind == "lstm" else final).backward()
    want = [Xa.grad, h0a.grad] + ([c0a.grad] if kind == "lstm" else [])
    want += [p.grad for p in module.parameters()]  # per layer: weight_ih, weight_hh, biases

    cells = [our_cell(Backend("torch"), kind, layer_weights(module, k)) for k in range(2)]
    Xb, h0b, c0b = leaves()
    initial = tuple(our_state(kind, h0b, c0b, k) for k in range(2))
    out, state = torch_rnn.dynamic_rnn(torch_rnn.MultiRNNCell(cells), Xb, lengths, initial)
    loss(out, torch.stack([c.output(s) for c, s in zip(cells, state, strict=True)])).backward()
    got = [Xb.grad, h0b.grad] + ([c0b.grad] if kind == "lstm" else [])
    for c in cells:  # in nn's layout: weight = W.T; both nn biases get the gradient of ours
        got += [c.Wx.grad.T, c.Wy.grad.T]
        got += [c.bx.grad, c.by.grad] if kind == "gru" else [c.b.grad, c.b.grad]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        close(g, w)


# ------------------------------------------------- the definition: layer after layer


@st.composite
def stacked_cases(draw):
    """Random layer kinds and sizes (they need not be equal), lengths including 0 and full."""
    batch = draw(st.integers(1, 4))
    n_steps = draw(st.integers(0, 5))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3))
    sizes = draw(st.lists(st.integers(1, 4), min_size=len(kinds) + 1, max_size=len(kinds) + 1))
    lengths = draw(st.none() | st.lists(st.integers(0, n_steps), min_size=batch, max_size=batch))
    return batch, n_steps, kinds, sizes, lengths, draw(st.integers(0, 2**16))


@settings(max_examples=30)
@given(case=stacked_cases(), time_major=st.booleans())
def test_stacked_run_is_each_layer_run_over_the_outputs_of_the_one_below(backend, case, time_major):
    batch, n_steps, kinds, sizes, lengths, seed = case
    layers = [
        make_layer(backend, kind, sizes[k], sizes[k + 1], seed + k) for k, kind in enumerate(kinds)
    ]
    cell = backend.module.MultiRNNCell(layers)
    assert (cell.n_inputs, cell.n_neurons) == (sizes[0], sizes[-1])
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(
        (n_steps, batch, sizes[0]) if time_major else (batch, n_steps, sizes[0])
    )
    initial = tuple(
        layer.zero_state(batch) if k % 2 else state_like(backend, layer, batch, rng)
        for k, layer in enumerate(layers)
    )
    out, state = backend.module.dynamic_rnn(
        cell, backend.array(X), lengths, initial, time_major=time_major
    )
    y = backend.array(X)
    for layer, layer_initial, layer_state in zip(layers, initial, state, strict=True):
        y, want_state = backend.module.dynamic_rnn(
            layer, y, lengths, layer_initial, time_major=time_major, backend="reference"
        )
        for got, want in zip(state_parts(layer_state), state_parts(want_state), strict=True):
            close(got, want)
    close(out, y)
    if lengths is not None:
        out_bm = Backend.numpy(out).transpose(1, 0, 2) if time_major else Backend.numpy(out)
        padding = np.arange(n_steps)[None, :] >= np.asarray(lengths)[:, None]
        assert_bitwise_zero(out_bm[padding])


def state_like(B: Backend, layer, batch: int, rng) -> object:
    """A random non-zero state for ``layer``."""
    n = layer.n_neurons
    if isinstance(layer, B.module.LSTMCell):
        return B.module.LSTMState(*(B.array(rng.standard_normal((batch, n))) for _ in "ch"))
    return B.array(rng.standard_normal((batch, n)))


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_static_rnn_equals_dynamic_rnn_and_one_call_is_one_step(B):
    layers = [make_layer(B, "lstm", 3, 4, 0), make_layer(B, "gru", 4, 2, 1)]
    cell = B.module.MultiRNNCell(layers)
    X = np.random.default_rng(2).standard_normal((4, 3, 3))
    lengths = [3, 0, 2, 1]
    outs, state = B.module.static_rnn(cell, [B.array(X[:, t]) for t in range(3)], None, lengths)
    out, want_state = B.module.dynamic_rnn(cell, B.array(X), lengths)
    close(np.stack([Backend.numpy(o) for o in outs], axis=1), out)
    for got, want in zip(state_parts(state), state_parts(want_state), strict=True):
        close(got, want)
    one = cell(B.array(X[:, 0]))  # state None: zeros
    c_h = layers[0](B.array(X[:, 0]))
    close(one[1], layers[1](c_h.h))
    assert isinstance(one, tuple) and len(one) == 2


def test_numpy_equals_torch():
    cells = {
        B.name: B.module.MultiRNNCell(
            [
                make_layer(B, "rnn", 3, 4, 0),
                make_layer(B, "lstm", 4, 4, 1),
                make_layer(B, "gru", 4, 2, 2),
            ]
        )
        for B in BACKENDS
    }
    X = np.random.default_rng(3).integers(-3, 4, (4, 5, 3))  # integers: converted
    runs = {B.name: B.module.dynamic_rnn(cells[B.name], B.array(X), [5, 2, 0, 4]) for B in BACKENDS}
    close(runs["numpy"][0], runs["torch"][0])
    for a, b in zip(*(state_parts(runs[n][1]) for n in ("numpy", "torch")), strict=True):
        close(a, b)


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_zero_steps_and_float32_default(B):
    cell = B.module.MultiRNNCell(
        [B.module.LSTMCell(3, 4, seed=0), B.module.BasicRNNCell(4, 2, seed=1)]
    )
    assert B.dtype_name(cell.dtype) == "float32"
    h0 = (B.module.LSTMState(*(B.array(np.ones((2, 4))) for _ in "ch")), B.array(np.ones((2, 2))))
    out, state = B.module.dynamic_rnn(cell, B.array(np.zeros((2, 0, 3))), initial_state=h0)
    assert tuple(out.shape) == (2, 0, 2)
    for part in state_parts(state):
        np.testing.assert_array_equal(part, 1.0)
    outs, state = B.module.static_rnn(cell, [], initial_state=h0)
    assert outs == [] and Backend.numpy(state[1]).shape == (2, 2)


# ------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_bad_cells(B):
    M = B.module.MultiRNNCell
    with pytest.raises(TypeError, match=r"cells must be a list \(or tuple\) of cells"):
        M(B.module.BasicRNNCell(3, 4))
    with pytest.raises(ValueError, match="cells must hold at least one cell"):
        M([])
    other = numpy_rnn if B.name == "torch" else torch_rnn
    with pytest.raises(TypeError, match=r"cells\[1\] must be one of .*; got BasicRNNCell"):
        M([B.module.BasicRNNCell(3, 4), other.BasicRNNCell(4, 4)])
    with pytest.raises(ValueError, match=r"cells\[1\] must have n_inputs = 4 \(the n_neurons of "):
        M([B.module.BasicRNNCell(3, 4), B.module.LSTMCell(5, 2)])
    with pytest.raises(ValueError, match=r"cells\[1\] must have the same dtype as cells\[0\]"):
        M([B.module.BasicRNNCell(3, 4), B.module.GRUCell(4, 2, dtype=B.dtype("float64"))])


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_bad_states_and_inputs(B):
    cell = B.module.MultiRNNCell([B.module.LSTMCell(3, 4), B.module.BasicRNNCell(4, 2)])
    X = B.array(np.zeros((2, 5, 3)))
    with pytest.raises(TypeError, match=r"initial_state must be a tuple of 2 states, one per "):
        B.module.dynamic_rnn(cell, X, initial_state=B.array(np.zeros((2, 2))))
    with pytest.raises(ValueError, match=r"initial_state must be a tuple of 2 states.*of 3"):
        B.module.dynamic_rnn(cell, X, initial_state=cell.zero_state(2) + (None,))
    bad = (cell.zero_state(2)[0], B.array(np.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"initial_state\[1\] must have shape .*\[2, 2\]"):
        B.module.dynamic_rnn(cell, X, initial_state=bad)
    with pytest.raises(TypeError, match=r"initial_state\[0\] must be a pair \(c, h\)"):
        B.module.dynamic_rnn(cell, X, initial_state=(B.array(np.zeros((2, 4))),) * 2)
    with pytest.raises(ValueError, match=r"X must have shape .*n_inputs.*\[\*, \*, 3\]"):
        B.module.dynamic_rnn(cell, B.array(np.zeros((2, 5, 4))))
    with pytest.raises(ValueError, match=r"x_t must have shape"):
        cell(B.array(np.zeros((2, 4))))


def test_numpy_rnn_never_imports_torch():
    code = (
        "import sys, numpy as np; from companion import numpy_rnn as n; "
        "c = n.MultiRNNCell([n.LSTMCell(3, 4), n.GRUCell(4, 2)]); "
        "n.bidirectional_dynamic_rnn(c, c, np.zeros((2, 3, 3)), [3, 1]); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
