"""LSTM/GRU cells against ``torch.nn.LSTM``/``nn.GRU`` and TensorFlow 1.x's layouts (chapter 11).

``nn.LSTM``/``nn.GRU`` are the oracle for PyTorch's formulas: the same weights,
both conversion directions, with and without ``pack_padded_sequence``, and the
gradients. TensorFlow is not installed: its 1.x ``LSTMCell``/``GRUCell`` equations
are written out in NumPy here, from TensorFlow 1.x's ``rnn_cell_impl.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from strategies import Backend, assert_bitwise_zero
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from companion import numpy_rnn, torch_rnn
from companion.cells.interop import gru_from_tf1, lstm_from_tf1

EPS32 = float(np.finfo(np.float32).eps)
BACKENDS = [Backend("numpy"), Backend("torch")]


def torch_module(kind: str, n_inputs=3, n_neurons=5, *, seed=0, dtype=torch.float64):
    """An ``nn.LSTM``/``nn.GRU`` with random weights and two non-zero biases."""
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    module = cls(n_inputs, n_neurons, batch_first=True, dtype=dtype)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.8, 0.8, tuple(p.shape))))
    return module


def our_cell(B: Backend, kind: str, module):
    Cell = B.module.LSTMCell if kind == "lstm" else B.module.GRUCell
    return Cell.from_torch(module)


def as_our_state(kind: str, h0: torch.Tensor, c0: torch.Tensor | None):
    """``nn.LSTM``'s ``(h0, c0)`` [1, batch, n] as our ``(c, h)`` [batch, n]."""
    return (c0[0], h0[0]) if kind == "lstm" else h0[0]


def parts(state) -> list[np.ndarray]:
    """``[c, h]`` (LSTM) or ``[h]`` as float64 NumPy arrays."""
    items = state if isinstance(state, tuple) else (state,)
    return [Backend.numpy(p).astype(np.float64) for p in items]


def close(a, b, tol):
    np.testing.assert_allclose(Backend.numpy(a), Backend.numpy(b), rtol=tol, atol=tol)


def problem(batch=5, n_steps=7, n_inputs=3, n_neurons=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, n_steps, n_inputs))
    h0 = rng.standard_normal((1, batch, n_neurons))
    c0 = rng.standard_normal((1, batch, n_neurons))
    return X, h0, c0


# ----------------------------------------------------- nn.LSTM / nn.GRU, full length


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_from_torch_equals_the_module(B, kind, dtype):
    tdtype = getattr(torch, dtype)
    module = torch_module(kind, dtype=tdtype)
    cell = our_cell(B, kind, module)
    assert B.dtype_name(cell.dtype) == dtype
    X, h0, c0 = (torch.from_numpy(a).to(tdtype) for a in problem())
    with torch.no_grad():
        want_out, want_state = module(X, (h0, c0) if kind == "lstm" else h0)
    out, state = B.module.dynamic_rnn(
        cell, B.array(X.numpy()), initial_state=as_our_state(kind, h0, c0)
    )
    want = [want_state[1][0], want_state[0][0]] if kind == "lstm" else [want_state[0]]
    tol = 1e-12 if dtype == "float64" else 16 * EPS32
    close(out, want_out, tol)
    for got, expected in zip(parts(state), want, strict=True):
        close(got, expected, tol * max(1.0, float(np.abs(got).max())))


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_to_torch_equals_the_cell_and_round_trips(B, kind):
    Cell = B.module.LSTMCell if kind == "lstm" else B.module.GRUCell
    cell = Cell(3, 5, seed=2, dtype=B.dtype("float64"))
    module = cell.to_torch()
    assert isinstance(module, torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)
    assert module.batch_first and module.weight_ih_l0.dtype == torch.float64
    np.testing.assert_array_equal(module.weight_ih_l0.detach().numpy(), Backend.numpy(cell.Wx).T)
    X, h0, c0 = problem(seed=3)
    with torch.no_grad():
        want_out, _ = module(torch.from_numpy(X))
    out, _ = B.module.dynamic_rnn(cell, B.array(X))
    close(out, want_out, 1e-12)
    back = Cell.from_torch(module)
    names = ["Wx", "Wy", "b"] if kind == "lstm" else ["Wx", "Wy", "bx", "by"]
    for name in names:
        np.testing.assert_array_equal(*(Backend.numpy(getattr(c, name)) for c in (back, cell)))
    time_major = cell.to_torch(batch_first=False)
    assert not time_major.batch_first


def test_lstm_bias_is_the_sum_of_both_torch_biases_and_gru_keeps_both():
    lstm, gru = torch_module("lstm"), torch_module("gru")
    cell = numpy_rnn.LSTMCell.from_torch(lstm)
    np.testing.assert_array_equal(cell.b, (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().numpy())
    g = numpy_rnn.GRUCell.from_torch(gru)
    np.testing.assert_array_equal(g.bx, gru.bias_ih_l0.detach().numpy())
    np.testing.assert_array_equal(g.by, gru.bias_hh_l0.detach().numpy())
    assert g.reset_after
    no_bias = torch.nn.LSTM(3, 5, bias=False, dtype=torch.float64)
    assert_bitwise_zero(numpy_rnn.LSTMCell.from_torch(no_bias).b)


# ------------------------------------------------- with lengths: pack_padded_sequence


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_lengths_equal_pack_padded_sequence_and_length_0_keeps_the_initial_state(B, kind):
    module = torch_module(kind, seed=4)
    cell = our_cell(B, kind, module)
    X, h0, c0 = (torch.from_numpy(a) for a in problem(batch=6, seed=5))
    lengths = np.array([7, 0, 3, 1, 7, 5])
    out, state = B.module.dynamic_rnn(cell, B.array(X.numpy()), lengths, as_our_state(kind, h0, c0))
    # torch refuses length 0: run nn.* on the other rows only.
    keep = np.flatnonzero(lengths > 0)
    packed = pack_padded_sequence(
        X[keep], torch.from_numpy(lengths[keep]), batch_first=True, enforce_sorted=False
    )
    with torch.no_grad():
        if kind == "lstm":
            packed_out, (h_n, c_n) = module(packed, (h0[:, keep], c0[:, keep]))
            want_state = [c_n[0], h_n[0]]
        else:
            packed_out, h_n = module(packed, h0[:, keep])
            want_state = [h_n[0]]
    want_out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=7)
    out = Backend.numpy(out)
    close(out[keep], want_out, 1e-12)
    for i, length in enumerate(lengths):
        assert_bitwise_zero(out[i, length:])
    given = [c0[0], h0[0]] if kind == "lstm" else [h0[0]]
    for got, want, start in zip(parts(state), want_state, given, strict=True):
        close(got[keep], want, 1e-12)
        np.testing.assert_array_equal(got[1], start[1].numpy())  # length 0: the initial state


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gradients_equal_the_module_with_packed_lengths(kind):
    """d(loss)/d(X, h0, c0, weights) in float64, against nn.* on a packed batch."""
    module = torch_module(kind, seed=6)
    cell = (
        torch_rnn.LSTMCell.from_torch(module)
        if kind == "lstm"
        else torch_rnn.GRUCell.from_torch(module)
    )
    X0, h00, c00 = problem(batch=5, seed=7)
    lengths = np.array([7, 2, 5, 1, 7])
    rng = np.random.default_rng(8)
    w_out = torch.from_numpy(rng.standard_normal((5, 7, 5)))
    w_h, w_c = (torch.from_numpy(rng.standard_normal((5, 5))) for _ in range(2))

    def leaves():
        return [torch.tensor(a, requires_grad=True) for a in (X0, h00, c00)]

    X, h0, c0 = leaves()
    out, state = torch_rnn.dynamic_rnn(cell, X, lengths, as_our_state(kind, h0, c0))
    h_n, c_n = (state.h, state.c) if kind == "lstm" else (state, None)
    loss = (out * w_out).sum() + (h_n * w_h).sum() + (0 if c_n is None else (c_n * w_c).sum())
    loss.backward()

    tX, th0, tc0 = leaves()
    packed = pack_padded_sequence(tX, torch.from_numpy(lengths), True, enforce_sorted=False)
    packed_out, t_state = module(packed, (th0, tc0) if kind == "lstm" else th0)
    t_out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=7)
    t_h, t_c = (t_state[0][0], t_state[1][0]) if kind == "lstm" else (t_state[0], None)
    t_loss = (t_out * w_out).sum() + (t_h * w_h).sum() + (0 if t_c is None else (t_c * w_c).sum())
    t_loss.backward()

    close(X.grad, tX.grad, 1e-12)
    close(h0.grad, th0.grad, 1e-12)
    if kind == "lstm":
        close(c0.grad, tc0.grad, 1e-12)
    close(cell.Wx.grad, module.weight_ih_l0.grad.T, 1e-12)
    close(cell.Wy.grad, module.weight_hh_l0.grad.T, 1e-12)
    if kind == "lstm":
        close(cell.b.grad, module.bias_ih_l0.grad, 1e-12)  # b = bias_ih + bias_hh
        close(cell.b.grad, module.bias_hh_l0.grad, 1e-12)
    else:
        close(cell.bx.grad, module.bias_ih_l0.grad, 1e-12)
        close(cell.by.grad, module.bias_hh_l0.grad, 1e-12)


# ---------------------------------------------------------------- bad conversions


def test_gru_with_reset_after_false_has_no_nn_gru():
    for module in (numpy_rnn, torch_rnn):
        cell = module.GRUCell(3, 5, reset_after=False, seed=0)
        with pytest.raises(ValueError, match=r"reset_after=False .* has no torch\.nn\.GRU"):
            cell.to_torch()


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_from_torch_refuses_other_modules_and_non_finite_weights(B):
    with pytest.raises(TypeError, match="lstm must be a torch.nn.LSTM; got GRU"):
        B.module.LSTMCell.from_torch(torch.nn.GRU(3, 5))
    with pytest.raises(TypeError, match="gru must be a torch.nn.GRU; got RNN"):
        B.module.GRUCell.from_torch(torch.nn.RNN(3, 5))
    with pytest.raises(ValueError, match="lstm must have num_layers=1"):
        B.module.LSTMCell.from_torch(torch.nn.LSTM(3, 5, num_layers=2))
    with pytest.raises(ValueError, match="gru must have num_layers=1, bidirectional=False"):
        B.module.GRUCell.from_torch(torch.nn.GRU(3, 5, bidirectional=True))
    with pytest.raises(ValueError, match="lstm must have .*no projection"):
        B.module.LSTMCell.from_torch(torch.nn.LSTM(3, 5, proj_size=2))
    gru = torch.nn.GRU(3, 5)
    with torch.no_grad():
        gru.bias_hh_l0[0] = float("nan")
    with pytest.raises(ValueError, match="gru.bias_hh_l0 must contain only finite values"):
        B.module.GRUCell.from_torch(gru)


# ------------------------------------------------------------------ TensorFlow 1.x


def tf1_lstm(X, kernel, bias, forget_bias, c, h):
    """TF 1.x ``LSTMCell`` (no peepholes, no projection), written out; batch-major X."""
    outputs = []
    for t in range(X.shape[1]):
        lstm_matrix = np.concatenate([X[:, t], h], axis=1) @ kernel + bias
        i, j, f, o = np.split(lstm_matrix, 4, axis=1)
        sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
        c = sig(f + forget_bias) * c + sig(i) * np.tanh(j)
        h = sig(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), (c, h)


def tf1_gru(X, gate_kernel, gate_bias, candidate_kernel, candidate_bias, h):
    """TF 1.x ``GRUCell``, written out; batch-major X."""
    outputs = []
    for t in range(X.shape[1]):
        x = X[:, t]
        value = 1 / (1 + np.exp(-(np.concatenate([x, h], axis=1) @ gate_kernel + gate_bias)))
        r, u = np.split(value, 2, axis=1)
        c = np.tanh(np.concatenate([x, r * h], axis=1) @ candidate_kernel + candidate_bias)
        h = u * h + (1 - u) * c
        outputs.append(h)
    return np.stack(outputs, axis=1), h


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
@pytest.mark.parametrize("forget_bias", [1.0, 0.0, -0.7])
def test_lstm_from_tf1_equals_the_tf1_equations(B, forget_bias):
    rng = np.random.default_rng(9)
    kernel, bias = rng.uniform(-0.8, 0.8, (3 + 5, 20)), rng.uniform(-0.5, 0.5, 20)
    X, h0, c0 = problem(seed=10)
    want_out, (want_c, want_h) = tf1_lstm(X, kernel, bias, forget_bias, c0[0], h0[0])
    given = bias.copy()
    cell = lstm_from_tf1(kernel, bias, forget_bias=forget_bias)
    np.testing.assert_array_equal(bias, given)  # the fold works on a copy
    assert isinstance(cell, numpy_rnn.LSTMCell) and cell.dtype == np.float64
    cell = B.module.LSTMCell.from_weights(B.array(cell.Wx), B.array(cell.Wy), B.array(cell.b))
    out, state = B.module.dynamic_rnn(cell, B.array(X), initial_state=(c0[0], h0[0]))
    close(out, want_out, 1e-12)
    close(state.c, want_c, 1e-12)
    close(state.h, want_h, 1e-12)


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_gru_from_tf1_equals_the_tf1_equations(B):
    rng = np.random.default_rng(11)
    gate_kernel, gate_bias = rng.uniform(-0.8, 0.8, (8, 10)), rng.uniform(0.5, 1.5, 10)
    cand_kernel, cand_bias = rng.uniform(-0.8, 0.8, (8, 5)), rng.uniform(-0.5, 0.5, 5)
    X, h0, _ = problem(seed=12)
    want_out, want_h = tf1_gru(X, gate_kernel, gate_bias, cand_kernel, cand_bias, h0[0])
    cell = gru_from_tf1(gate_kernel, gate_bias, cand_kernel, cand_bias)
    assert isinstance(cell, numpy_rnn.GRUCell) and not cell.reset_after
    weights = [B.array(w) for w in (cell.Wx, cell.Wy, cell.bx, cell.by)]
    cell = B.module.GRUCell.from_weights(*weights, reset_after=False)
    out, state = B.module.dynamic_rnn(cell, B.array(X), initial_state=B.array(h0[0]))
    close(out, want_out, 1e-12)
    close(state, want_h, 1e-12)


def test_tf1_conversions_keep_float32():
    kernel = np.zeros((4, 8), np.float32)
    assert lstm_from_tf1(kernel, np.zeros(8, np.float32)).dtype == np.float32
    cell = gru_from_tf1(
        np.zeros((4, 4), np.float32),
        np.zeros(4, np.float32),
        np.zeros((4, 2), np.float32),
        np.zeros(2, np.float32),
    )
    assert cell.dtype == np.float32 and (cell.n_inputs, cell.n_neurons) == (2, 2)


def test_tf1_conversions_reject_bad_shapes():
    with pytest.raises(ValueError, match=r"kernel must have shape \[n_inputs \+ n_neurons, 4"):
        lstm_from_tf1(np.zeros((8, 18)), np.zeros(18))
    with pytest.raises(ValueError, match=r"kernel must have shape .* n_inputs >= 1"):
        lstm_from_tf1(np.zeros((5, 20)), np.zeros(20))
    with pytest.raises(ValueError, match=r"bias must have shape \[4 \* n_neurons\] = \[20\]"):
        lstm_from_tf1(np.zeros((8, 20)), np.zeros(16))
    with pytest.raises(TypeError, match="forget_bias must be a float"):
        lstm_from_tf1(np.zeros((8, 20)), np.zeros(20), forget_bias="1")
    with pytest.raises(ValueError, match="forget_bias must contain only finite values"):
        lstm_from_tf1(np.zeros((8, 20)), np.zeros(20), forget_bias=float("inf"))
    good = (np.zeros((8, 10)), np.zeros(10), np.zeros((8, 5)), np.zeros(5))
    with pytest.raises(ValueError, match=r"candidate_kernel must have shape .* = \[8, 5\]"):
        gru_from_tf1(good[0], good[1], np.zeros((7, 5)), good[3])
    with pytest.raises(ValueError, match=r"gate_bias must have shape \[2 \* n_neurons\]"):
        gru_from_tf1(good[0], np.zeros(5), good[2], good[3])
    with pytest.raises(ValueError, match=r"candidate_bias must have shape \[n_neurons\] = \[5\]"):
        gru_from_tf1(good[0], good[1], good[2], np.zeros(10))
    with pytest.raises(TypeError, match="gate_kernel must hold integers or floats"):
        gru_from_tf1(good[0].astype(bool), *good[1:])
