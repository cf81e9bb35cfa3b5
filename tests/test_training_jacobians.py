"""Tests of ``companion.training.jacobians``: the Jacobian products of chapter 10."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion import numpy_rnn as nrnn
from companion import torch_rnn as trnn
from companion.training import bptt
from companion.training import jacobians as jac


def make_cell(seed, nonlinearity="tanh", n_inputs=2, n_neurons=4):
    rng = np.random.default_rng(seed)
    return nrnn.BasicRNNCell.from_weights(
        rng.normal(size=(n_inputs, n_neurons)),
        rng.normal(size=(n_neurons, n_neurons)),
        rng.normal(size=n_neurons),
        nonlinearity=nonlinearity,
    )


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_products_equal_autograd(nonlinearity):
    cell = make_cell(0, nonlinearity)
    rng = np.random.default_rng(1)
    X, h0 = rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 4))
    P = jac.distance_products(cell, X, h0)
    assert P.shape == (3, 6, 4, 4)
    tcell = trnn.BasicRNNCell.from_weights(cell.Wx, cell.Wy, cell.b, nonlinearity=nonlinearity)
    for i in range(3):
        for d in range(6):
            start = 5 - d  # h_{T-1} as a function of h_{start-1}

            def last_state(h, i=i, start=start):
                X_tail = torch.from_numpy(X[i : i + 1, start:])
                _, state = trnn.dynamic_rnn(
                    tcell, X_tail, initial_state=h[None], backend="reference"
                )
                return state[0]

            _, cache = bptt.forward(cell, X[i : i + 1], h0[i : i + 1])
            h_start = cache.states[0, start - 1] if start > 0 else h0[i]
            J = torch.autograd.functional.jacobian(last_state, torch.from_numpy(h_start))
            assert np.abs(J.numpy() - P[i, d]).max() < 1e-12


def test_products_equal_bptt_with_identity_rows():
    cell = make_cell(2)
    rng = np.random.default_rng(3)
    X, h0 = rng.normal(size=(1, 7, 2)), rng.normal(size=(1, 4))
    P = jac.distance_products(cell, X, h0)
    _, cache = bptt.forward(cell, np.repeat(X, 4, 0), np.repeat(h0, 4, 0))
    grads = bptt.backward(cell, cache, np.zeros((4, 7, 4)), np.eye(4))
    assert np.abs(grads.initial_state - P[0, 7]).max() < 1e-12


def test_step_jacobian_formula_and_lengths():
    cell = make_cell(4)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2, 3, 2))
    J = jac.step_jacobians(cell, X, sequence_length=np.array([3, 1]))
    _, cache = bptt.forward(cell, X)
    expected = np.diag(1 - np.tanh(cache.pre_activations[0, 1]) ** 2) @ cell.Wy.T
    assert np.allclose(J[0, 1], expected)
    assert np.array_equal(J[1, 1], np.eye(4)) and np.array_equal(J[1, 2], np.eye(4))


def test_linear_case_and_spectral_radius():
    rng = np.random.default_rng(6)
    W = jac.with_spectral_radius(rng.normal(size=(6, 6)), 0.8)
    assert jac.spectral_radius(W) == pytest.approx(0.8, rel=1e-12)
    norms = jac.power_norms(W, 40)
    assert norms[0] == pytest.approx(1.0)
    assert norms[7] == pytest.approx(np.linalg.norm(np.linalg.matrix_power(W.T, 7), 2))
    # Gelfand: ‖W^m‖^(1/m) tends to ρ from above
    assert 0.8 <= norms[40] ** (1 / 40) < 0.9
    Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    assert np.allclose(jac.power_norms(Q, 50), 1.0, atol=1e-12)


def test_gradient_norms_shape_and_bad_input():
    cell = make_cell(7)
    norms = jac.gradient_norms_by_distance(cell, np.zeros((2, 4, 2)))
    assert norms.shape == (2, 5) and norms.dtype == np.float64
    with pytest.raises(ValueError, match="square"):
        jac.spectral_radius(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="rho"):
        jac.with_spectral_radius(np.eye(2), -1.0)
    with pytest.raises(ValueError, match="spectral radius 0"):
        jac.with_spectral_radius(np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match="X"):
        jac.step_jacobians(cell, np.zeros((2, 4, 3)))
