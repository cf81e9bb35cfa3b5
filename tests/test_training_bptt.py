"""Tests of ``companion.training.bptt``: back-propagation through time by hand (chapter 9).

The hand-written gradients must equal autograd through the reference loop of
``torch_rnn.dynamic_rnn`` (float64, to ~1e-12) and central finite differences,
with and without ``sequence_length``, for tanh and ReLU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from strategies import random_weights, reference_rnn, rnn_cases

from companion import numpy_rnn as nrnn
from companion import torch_rnn as trnn
from companion.training import bptt
from companion.training.gradcheck import numerical_gradient, relative_error


def float64_problem(case):
    """Cell, X, h0, sequence_length and the loss weights of a hypothesis case, in float64."""
    a = case.arrays(np.float64)
    rng = np.random.default_rng(case.seed + 2)
    h0 = rng.standard_normal((case.batch, case.n_neurons))
    cell = nrnn.BasicRNNCell.from_weights(a["Wx"], a["Wy"], a["b"], nonlinearity=case.nonlinearity)
    w_out, w_state = case.loss_weights()
    return cell, a["X"], h0, case.sequence_length, w_out, w_state


def autograd_gradients(cell, X, h0, lengths, w_out, w_state):
    """d(sum(outputs * w_out) + sum(state * w_state)) via torch's reference loop."""
    tcell = trnn.BasicRNNCell.from_weights(
        cell.Wx, cell.Wy, cell.b, nonlinearity=cell.nonlinearity, dtype=torch.float64
    )
    Xt = torch.tensor(X, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    out, state = trnn.dynamic_rnn(
        tcell, Xt, sequence_length=lengths, initial_state=h0t, backend="reference"
    )
    loss = (out * torch.from_numpy(w_out)).sum() + (state * torch.from_numpy(w_state)).sum()
    params = (tcell.Wx, tcell.Wy, tcell.b, Xt, h0t)
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [
        np.zeros(p.shape) if g is None else g.numpy() for p, g in zip(params, grads, strict=True)
    ]


def assert_close(got, want, rtol=1e-12):
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


@settings(max_examples=40)
@given(rnn_cases(max_steps=6))
def test_backward_equals_autograd_through_the_reference_loop(case):
    cell, X, h0, lengths, w_out, w_state = float64_problem(case)
    outputs, cache = bptt.forward(cell, X, initial_state=h0, sequence_length=lengths)
    grads = bptt.backward(cell, cache, d_outputs=w_out, d_state=w_state)
    want = autograd_gradients(cell, X, h0, lengths, w_out, w_state)
    for name, got, expected in zip(bptt.Gradients._fields, grads, want, strict=True):
        assert got.shape == expected.shape, name
        assert_close(got, expected)


@settings(max_examples=30)
@given(rnn_cases(max_steps=6))
def test_forward_outputs_are_dynamic_rnn(case):
    cell, X, h0, lengths, _, _ = float64_problem(case)
    outputs, cache = bptt.forward(cell, X, initial_state=h0, sequence_length=lengths)
    want, state = reference_rnn(
        X,
        cell.Wx,
        cell.Wy,
        cell.b,
        initial_state=h0,
        sequence_length=lengths,
        nonlinearity=cell.nonlinearity,
    )
    assert_close(outputs, want)
    if case.n_steps:
        assert_close(cache.states[:, -1], state)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("lengths", [None, [3, 0, 1]])
def test_backward_equals_finite_differences(nonlinearity, lengths):
    rng = np.random.default_rng(7)
    Wx, Wy, b = random_weights(2, 4, seed=3)
    cell = nrnn.BasicRNNCell.from_weights(Wx, Wy, b, nonlinearity=nonlinearity)
    X = rng.standard_normal((3, 3, 2))
    h0 = rng.standard_normal((3, 4))
    w_out, w_state = rng.standard_normal((3, 3, 4)), rng.standard_normal((3, 4))

    def loss():
        outputs, cache = bptt.forward(cell, X, initial_state=h0, sequence_length=lengths)
        return np.sum(outputs * w_out) + np.sum(cache.states[:, -1] * w_state)

    _, cache = bptt.forward(cell, X, initial_state=h0, sequence_length=lengths)
    grads = bptt.backward(cell, cache, w_out, w_state)
    for name, array in [("Wx", cell.Wx), ("Wy", cell.Wy), ("b", cell.b), ("X", X), ("h0", h0)]:
        analytic = grads.initial_state if name == "h0" else getattr(grads, name)
        assert relative_error(analytic, numerical_gradient(loss, array)) < 1e-6, name


def test_gradient_flows_only_through_valid_steps():
    Wx, Wy, b = random_weights(3, 5, seed=1)
    cell = nrnn.BasicRNNCell.from_weights(Wx, Wy, b)
    X = np.random.default_rng(0).standard_normal((2, 4, 3))
    lengths = [2, 4]
    _, cache = bptt.forward(cell, X, sequence_length=lengths)
    d_out = np.ones((2, 4, 5))
    grads = bptt.backward(cell, cache, d_out)
    assert np.all(grads.X[0, 2:] == 0)  # no gradient reaches padded inputs
    assert np.all(grads.X[0, :2] != 0)
    # Gradients on padded outputs are ignored: zeroing them changes nothing.
    d_out_valid = d_out.copy()
    d_out_valid[0, 2:] = 0
    again = bptt.backward(cell, cache, d_out_valid)
    for got, want in zip(again, grads, strict=True):
        np.testing.assert_array_equal(got, want)


def test_with_no_steps_the_state_gradient_passes_to_the_initial_state():
    cell = nrnn.BasicRNNCell(3, 5, dtype=np.float64, seed=0)
    _, cache = bptt.forward(cell, np.zeros((2, 0, 3)))
    d_state = np.arange(10.0).reshape(2, 5)
    grads = bptt.backward(cell, cache, np.zeros((2, 0, 5)), d_state)
    np.testing.assert_array_equal(grads.initial_state, d_state)
    assert not grads.Wx.any() and not grads.Wy.any() and not grads.b.any()


def test_float32_cell_gives_float32_gradients():
    cell = nrnn.BasicRNNCell(3, 5, seed=0)
    outputs, cache = bptt.forward(cell, np.ones((2, 4, 3), dtype=int))
    grads = bptt.backward(cell, cache, np.ones_like(outputs))
    assert outputs.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


def test_bad_input():
    cell = nrnn.BasicRNNCell(3, 5, dtype=np.float64, seed=0)
    X = np.zeros((4, 2, 3))
    _, cache = bptt.forward(cell, X)
    with pytest.raises(ValueError, match=r"d_outputs must have shape .*got shape \[4, 2, 4\]"):
        bptt.backward(cell, cache, np.zeros((4, 2, 4)))
    with pytest.raises(ValueError, match=r"d_state must have shape .*got shape \[4, 6\]"):
        bptt.backward(cell, cache, np.zeros((4, 2, 5)), np.zeros((4, 6)))
    with pytest.raises(TypeError, match="cache must be the ForwardCache"):
        bptt.backward(cell, (X,), np.zeros((4, 2, 5)))
    with pytest.raises(ValueError, match="cache was computed by a cell with n_inputs=3"):
        bptt.backward(nrnn.BasicRNNCell(2, 5, seed=0), cache, np.zeros((4, 2, 5)))
    with pytest.raises(TypeError, match="cell must be a companion.numpy_rnn.BasicRNNCell"):
        bptt.forward(trnn.BasicRNNCell(3, 5, seed=0), X)
    with pytest.raises(ValueError, match=r"X must have shape .*got shape \[4, 2, 2\]"):
        bptt.forward(cell, np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match=r"sequence_length values must lie in \[0, n_steps\]"):
        bptt.forward(cell, X, sequence_length=[1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"initial_state must have shape .*got shape \[3, 5\]"):
        bptt.forward(cell, X, initial_state=np.zeros((3, 5)))
