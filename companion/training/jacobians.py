"""How the gradient changes with distance: the Jacobians of the basic cell's recursion.

Taught in chapter 10 (梯度消失与梯度爆炸). One step of the basic cell, for one
instance written with column vectors (equation (1.1), chapter 1)::

    a_t = Wxᵀ x_t + Wyᵀ h_{t-1} + b,      h_t = φ(a_t)

has the Jacobian (equation (10.2))::

    J_t = ∂h_t / ∂h_{t-1} = diag(φ'(a_t)) Wyᵀ          [n_neurons, n_neurons]

with ``φ'(a) = 1 - tanh(a)²`` for tanh and ``[a > 0]`` for ReLU. By the chain
rule the state ``d`` steps before the last one reaches it through the product
(equation (10.3))::

    ∂h_{T-1} / ∂h_{T-1-d} = J_{T-1} J_{T-2} ··· J_{T-d}      (the identity for d = 0)

and a loss that reads only ``h_{T-1}`` has the gradient (a row vector)
``∂L/∂h_{T-1-d} = ∂L/∂h_{T-1} · ∂h_{T-1}/∂h_{T-1-d}``: the product decides
whether it shrinks (vanishes) or grows (explodes) with ``d``. Without the
nonlinearity the product is ``(Wyᵀ)^d`` (:func:`power_norms`), whose norm
behaves like ``ρ^d``, ``ρ`` the spectral radius (:func:`spectral_radius`).

``h_{-1}`` is the initial state, so ``d`` runs from 0 to ``n_steps``. Past an
instance's ``sequence_length`` the state is carried (``h_t = h_{t-1}``) and
``J_t`` is the identity. The products agree with autograd and with
:func:`companion.training.bptt.backward` (``tests/test_training_jacobians.py``).
This module does not import torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion import numpy_rnn as nrnn
from companion import validation as v
from companion.training.bptt import forward, phi_derivative

__all__ = [
    "distance_products",
    "gradient_norms_by_distance",
    "power_norms",
    "spectral_radius",
    "step_jacobians",
    "with_spectral_radius",
]


def _square(name: str, W: Any) -> np.ndarray:
    W = np.asarray(W)
    v.check_numeric_kind(name, W.dtype.kind, W.dtype)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be a square matrix [n, n]; got shape {list(W.shape)}")
    return W.astype(np.float64, copy=False)


def spectral_radius(W: Any) -> float:
    """``ρ(W) = max |λ_i|``, the largest modulus of the eigenvalues of a square ``W`` [n, n].

    ``W`` and ``Wᵀ`` have the same eigenvalues, hence the same spectral radius.
    """
    W = _square("W", W)
    return float(np.max(np.abs(np.linalg.eigvals(W)))) if W.size else 0.0


def with_spectral_radius(W: Any, rho: float) -> np.ndarray:
    """``W`` [n, n] scaled so that its spectral radius is ``rho`` (> 0): ``W · rho / ρ(W)``.

    Scaling a matrix scales every eigenvalue by the same factor, so the
    eigenvalues keep their pattern (float64 result).
    """
    W = _square("W", W)
    rho = v.check_positive_number("rho", rho)
    current = spectral_radius(W)
    if current == 0:
        raise ValueError("W has spectral radius 0 (all eigenvalues are 0); it cannot be scaled")
    return W * (rho / current)


def power_norms(W: Any, max_power: int, ord: Any = 2) -> np.ndarray:
    """``‖(Wᵀ)^m‖`` for ``m = 0, ..., max_power``: the linear case of equation (10.3).

    Parameters
    ----------
    W : [n, n], the recurrent matrix ``Wy``
    max_power : int >= 0
    ord : the matrix norm, as for ``numpy.linalg.norm`` (default 2, the largest singular value)

    Returns
    -------
    float64 [max_power + 1]; entry 0 is ``‖I‖`` (1 for the 2-norm).
    """
    W = _square("W", W)
    max_power = v.check_int("max_power", max_power, 0)
    norms = np.empty(max_power + 1)
    P = np.eye(W.shape[0])
    for m in range(max_power + 1):
        norms[m] = np.linalg.norm(P, ord)
        P = P @ W.T
    return norms


def step_jacobians(
    cell: nrnn.BasicRNNCell, X: Any, initial_state: Any = None, sequence_length: Any = None
) -> np.ndarray:
    """``J_t = ∂h_t/∂h_{t-1} = diag(φ'(a_t)) Wyᵀ`` for every instance and step (equation (10.2)).

    Parameters
    ----------
    cell : companion.numpy_rnn.BasicRNNCell (tanh or ReLU)
    X : [batch, n_steps, n_inputs]
    initial_state : [batch, n_neurons] or None (zeros)
    sequence_length : int [batch] or None; past its length ``J_t`` is the identity

    Returns
    -------
    J : [batch, n_steps, n_neurons, n_neurons], in the cell's dtype; ``J[i, t, j, k]``
        is ``∂h_t[j] / ∂h_{t-1}[k]`` for instance ``i``.
    """
    _, cache = forward(cell, X, initial_state, sequence_length)
    d_phi = phi_derivative(cell, cache.pre_activations)  # [batch, n_steps, n_neurons]
    J = d_phi[..., :, None] * cell.Wy.T  # row j of Wyᵀ scaled by φ'(a_t)[j]
    eye = np.eye(cell.n_neurons, dtype=cell.dtype)
    return np.where(cache.running[..., None, None], J, eye)


def distance_products(
    cell: nrnn.BasicRNNCell, X: Any, initial_state: Any = None, sequence_length: Any = None
) -> np.ndarray:
    """``P[:, d] = ∂h_{T-1}/∂h_{T-1-d} = J_{T-1} ··· J_{T-d}`` for ``d = 0, ..., n_steps``.

    Equation (10.3), built backwards from the last step: ``P_0 = I``,
    ``P_d = P_{d-1} J_{T-d}``. ``d = n_steps`` reaches the initial state ``h_{-1}``.

    Parameters
    ----------
    cell, X, initial_state, sequence_length : as for :func:`step_jacobians`

    Returns
    -------
    P : [batch, n_steps + 1, n_neurons, n_neurons]
    """
    J = step_jacobians(cell, X, initial_state, sequence_length)
    batch, n_steps, n, _ = J.shape
    P = np.empty((batch, n_steps + 1, n, n), dtype=J.dtype)
    P[:, 0] = np.eye(n, dtype=J.dtype)
    for d in range(1, n_steps + 1):
        P[:, d] = P[:, d - 1] @ J[:, n_steps - d]
    return P


def gradient_norms_by_distance(
    cell: nrnn.BasicRNNCell,
    X: Any,
    initial_state: Any = None,
    sequence_length: Any = None,
    ord: Any = 2,
) -> np.ndarray:
    """``‖∂h_{T-1}/∂h_{T-1-d}‖`` for every instance and ``d = 0, ..., n_steps``.

    The largest factor by which the gradient of a loss on the last state can
    grow on its way back ``d`` steps (for the 2-norm, the largest singular value
    of the product of :func:`distance_products`).

    Returns
    -------
    float64 [batch, n_steps + 1]
    """
    P = distance_products(cell, X, initial_state, sequence_length).astype(np.float64)
    return np.linalg.norm(P, ord, axis=(-2, -1))
