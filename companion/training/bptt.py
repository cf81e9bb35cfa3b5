"""Back-propagation through time (BPTT) for the basic cell, by hand, in NumPy.

Taught in chapter 9 (训练 RNN：随时间反向传播). The forward pass is the loop of
:func:`companion.numpy_rnn.dynamic_rnn` (equation (1.2), chapter 1), keeping what
the backward pass needs::

    a_t = x_t @ Wx + h_{t-1} @ Wy + b        pre-activation   [batch, n_neurons]
    h_t = phi(a_t)                           state            [batch, n_neurons]
    y_t = h_t                                output           [batch, n_neurons]

with ``x_t`` [batch, n_inputs], ``Wx`` [n_inputs, n_neurons], ``Wy``
[n_neurons, n_neurons], ``b`` [n_neurons], ``h_{-1}`` the initial state.

The backward pass. A loss ``L`` depends on every output ``y_t`` and on the
final state ``h_{T-1}``; we are given ``d_outputs[:, t] = ∂L/∂y_t`` and
``d_state = ∂L/∂h_{T-1}`` (partial derivatives: the direct dependence only).
``h_t`` reaches ``L`` directly through ``y_t`` and through every later state,
but all later states depend on ``h_t`` only through ``a_{t+1}``. So the *total*
derivative ``δ_t = dL/dh_t`` [batch, n_neurons] obeys, backwards in time::

    δ_{T-1} = d_outputs[:, T-1] + d_state
    δ_t     = d_outputs[:, t] + (δ_{t+1} ⊙ φ'(a_{t+1})) @ Wy.T

and with ``g_t = dL/da_t = δ_t ⊙ φ'(a_t)`` [batch, n_neurons] (``φ'(a) = 1 -
tanh(a)²`` for tanh, ``[a > 0]`` for ReLU) every weight, used at every step,
sums its contributions over the steps::

    dL/dWx = Σ_t x_tᵀ @ g_t          [n_inputs, n_neurons]
    dL/dWy = Σ_t h_{t-1}ᵀ @ g_t      [n_neurons, n_neurons]
    dL/db  = Σ_t Σ_batch g_t         [n_neurons]
    dL/dx_t = g_t @ Wx.T             [batch, n_inputs]
    dL/dh_{-1} = g_0 @ Wy.T          [batch, n_neurons]   (δ of the initial state)

With ``sequence_length`` (TensorFlow 1.x semantics, chapter 7) a step ``t >=
length[i]`` outputs an exact 0 and carries the state, ``h_t = h_{t-1}``. For
that instance ``y_t`` depends on nothing, so ``d_outputs`` there is ignored,
``g_t = 0``, and ``δ`` passes unchanged to ``h_{t-1}``: the gradient flows only
through the valid steps.

The results agree with autograd through
``companion.torch_rnn.dynamic_rnn(..., backend="reference")`` and with finite
differences (:mod:`companion.training.gradcheck`); ``tests/test_training_bptt.py``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from companion import numpy_rnn as nrnn
from companion import validation as v

__all__ = ["ForwardCache", "Gradients", "backward", "forward"]


class ForwardCache(NamedTuple):
    """What :func:`backward` needs from the forward pass (batch-major)."""

    X: np.ndarray  #: [batch, n_steps, n_inputs], the inputs
    initial_state: np.ndarray  #: [batch, n_neurons], h_{-1}
    pre_activations: np.ndarray  #: [batch, n_steps, n_neurons], a_t
    states: np.ndarray  #: [batch, n_steps, n_neurons], h_t (carried past each length)
    running: np.ndarray  #: bool [batch, n_steps], t < length[i] (all True without lengths)


class Gradients(NamedTuple):
    """dL/d(everything the forward pass used), each the shape of what it differentiates."""

    Wx: np.ndarray  #: [n_inputs, n_neurons]
    Wy: np.ndarray  #: [n_neurons, n_neurons]
    b: np.ndarray  #: [n_neurons]
    X: np.ndarray  #: [batch, n_steps, n_inputs]
    initial_state: np.ndarray  #: [batch, n_neurons]


def _as_array(name: str, value: Any, dtype: np.dtype) -> np.ndarray:
    array = np.asarray(value)
    v.check_numeric_kind(name, array.dtype.kind, array.dtype)
    return array.astype(dtype, copy=False)


def phi_derivative(cell: nrnn.BasicRNNCell, a: np.ndarray) -> np.ndarray:
    """``φ'(a)`` elementwise: ``1 - tanh(a)²`` for tanh; for ReLU 1 where ``a > 0``, else 0."""
    if cell.nonlinearity == "tanh":
        return 1 - np.tanh(a) ** 2
    return (a > 0).astype(a.dtype)


def forward(
    cell: nrnn.BasicRNNCell,
    X: Any,
    initial_state: Any = None,
    sequence_length: Any = None,
) -> tuple[np.ndarray, ForwardCache]:
    """Run the basic cell over ``X`` and keep what back-propagation needs.

    The same function as :func:`companion.numpy_rnn.dynamic_rnn` (batch-major)::

        a_t = x_t @ Wx + h_{t-1} @ Wy + b;   h_t = phi(a_t);   y_t = h_t

    Parameters
    ----------
    cell : companion.numpy_rnn.BasicRNNCell
    X : [batch, n_steps, n_inputs]; integers are converted to the cell's dtype.
    initial_state : [batch, n_neurons] or None (zeros)
    sequence_length : int [batch] or None
        TensorFlow 1.x semantics: past its length an instance outputs 0 and keeps its state.

    Returns
    -------
    outputs : [batch, n_steps, n_neurons]
    cache : ForwardCache, to pass to :func:`backward`
    """
    v.check_cell(cell, nrnn.BasicRNNCell)
    X = _as_array("X", X, cell.dtype)
    v.check_sequence_input(X.shape, cell.n_inputs, time_major=False)
    batch, n_steps, _ = X.shape
    if initial_state is None:
        h0 = cell.zero_state(batch)
    else:
        h0 = _as_array("initial_state", initial_state, cell.dtype)
        v.check_state("initial_state", h0.shape, batch, cell.n_neurons)
    lengths = np.full(batch, n_steps)
    if sequence_length is not None:
        lengths = np.asarray(sequence_length)
        lengths = v.check_sequence_length(lengths, lengths.dtype.kind, batch, n_steps)
    running = np.arange(n_steps)[None, :] < lengths[:, None]  # [batch, n_steps]

    A = np.zeros((batch, n_steps, cell.n_neurons), dtype=cell.dtype)
    H = np.zeros((batch, n_steps, cell.n_neurons), dtype=cell.dtype)
    outputs = np.zeros((batch, n_steps, cell.n_neurons), dtype=cell.dtype)
    h = h0
    for t in range(n_steps):
        A[:, t] = X[:, t] @ cell.Wx + h @ cell.Wy + cell.b
        h_new = cell.phi(A[:, t])
        valid = running[:, t, None]  # [batch, 1]
        h = np.where(valid, h_new, h)  # past the end the state is carried
        outputs[:, t] = np.where(valid, h_new, 0)  # ... and the output is 0
        H[:, t] = h
    return outputs, ForwardCache(X, h0.copy(), A, H, running)


def backward(
    cell: nrnn.BasicRNNCell,
    cache: ForwardCache,
    d_outputs: Any,
    d_state: Any = None,
) -> Gradients:
    """Back-propagation through time: every gradient of ``L`` from ``∂L/∂y_t`` and ``∂L/∂h_{T-1}``.

    Runs backwards over the steps (see the module docstring for the derivation)::

        δ = d_state
        for t = T-1, ..., 0:
            δ   = δ + d_outputs[:, t]               # dL/dh_t, total
            g   = δ ⊙ φ'(a_t)                       # dL/da_t
            dWx += x_tᵀ @ g;  dWy += h_{t-1}ᵀ @ g;  db += Σ_batch g;  dX[:, t] = g @ Wx.T
            δ   = g @ Wy.T                          # the part of dL/dh_{t-1} through step t
        d_initial_state = δ

    Past an instance's length ``g = 0`` and ``δ`` is carried to the step before.
    Call it before the weights change: it reads ``cell.Wx`` and ``cell.Wy``.

    Parameters
    ----------
    cell : the companion.numpy_rnn.BasicRNNCell that ran :func:`forward`
    cache : ForwardCache from :func:`forward`
    d_outputs : [batch, n_steps, n_neurons], ``∂L/∂y_t``
    d_state : [batch, n_neurons] or None (the loss does not use the final state)

    Returns
    -------
    Gradients
        ``Wx`` [n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons],
        ``X`` [batch, n_steps, n_inputs], ``initial_state`` [batch, n_neurons].
    """
    v.check_cell(cell, nrnn.BasicRNNCell)
    if not isinstance(cache, ForwardCache):
        raise TypeError(
            f"cache must be the ForwardCache returned by forward(); got {type(cache).__name__}"
        )
    batch, n_steps, n_inputs = cache.X.shape
    if (n_inputs, cache.initial_state.shape[1]) != (cell.n_inputs, cell.n_neurons):
        raise ValueError(
            f"cache was computed by a cell with n_inputs={n_inputs}, "
            f"n_neurons={cache.initial_state.shape[1]}; got a cell with "
            f"n_inputs={cell.n_inputs}, n_neurons={cell.n_neurons}"
        )
    dY = _as_array("d_outputs", d_outputs, cell.dtype)
    v.check_rank_and_sizes(
        "d_outputs", dY.shape, ("batch", "n_steps", "n_neurons"), (batch, n_steps, cell.n_neurons)
    )
    if d_state is None:
        delta = np.zeros((batch, cell.n_neurons), dtype=cell.dtype)
    else:
        delta = _as_array("d_state", d_state, cell.dtype).copy()
        v.check_state("d_state", delta.shape, batch, cell.n_neurons)

    dWx, dWy, db = np.zeros_like(cell.Wx), np.zeros_like(cell.Wy), np.zeros_like(cell.b)
    dX = np.zeros_like(cache.X)
    for t in reversed(range(n_steps)):
        h_prev = cache.states[:, t - 1] if t > 0 else cache.initial_state
        valid = cache.running[:, t, None]  # [batch, 1]
        # δ_t = ∂L/∂y_t + what flows back from step t+1 (a padded output is a constant 0)
        delta = delta + np.where(valid, dY[:, t], 0)
        g = np.where(valid, delta * phi_derivative(cell, cache.pre_activations[:, t]), 0)
        dWx += cache.X[:, t].T @ g
        dWy += h_prev.T @ g
        db += g.sum(axis=0)
        dX[:, t] = g @ cell.Wx.T
        delta = np.where(valid, g @ cell.Wy.T, delta)  # a carried state passes δ on unchanged
    return Gradients(Wx=dWx, Wy=dWy, b=db, X=dX, initial_state=delta)
