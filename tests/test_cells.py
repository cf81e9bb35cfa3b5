"""LSTMCell and GRUCell in both backends, and static_rnn/dynamic_rnn running them (chapter 11).

Written from the contract: PyTorch's formulas and gate order (i, f, g, o; r, z, n),
the cell protocol of ``companion.cells`` and TensorFlow 1.x's ``sequence_length``
semantics (outputs exactly 0 past each length, every part of the state carried).
The oracle is a direct float64 NumPy loop written here; the comparison with
``torch.nn.LSTM``/``nn.GRU`` and TensorFlow 1.x's layouts is in
``test_cells_interop.py``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Backend, RNNCase, assert_bitwise_zero, rnn_cases

from companion import numpy_rnn, torch_rnn

KINDS = ["lstm", "gru", "gru_tf"]  # gru_tf: GRUCell(reset_after=False)
EPS32 = float(np.finfo(np.float32).eps)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gated_weights(kind: str, n_inputs: int, n_neurons: int, seed: int = 0) -> list[np.ndarray]:
    """float64 ``Wx``, ``Wy`` and the biases (one for the LSTM, two for the GRU), all non-zero."""
    rng = np.random.default_rng(seed)
    width = (4 if kind == "lstm" else 3) * n_neurons
    shapes = [(n_inputs, width), (n_neurons, width)] + [(width,)] * (1 if kind == "lstm" else 2)
    return [rng.uniform(-0.8, 0.8, shape) for shape in shapes]


def make_cell(B: Backend, kind: str, n_inputs=3, n_neurons=5, *, seed=0, dtype="float64"):
    weights = [B.array(w) for w in gated_weights(kind, n_inputs, n_neurons, seed)]
    if kind == "lstm":
        return B.module.LSTMCell.from_weights(*weights, dtype=B.dtype(dtype))
    reset_after = kind == "gru"
    return B.module.GRUCell.from_weights(*weights, reset_after=reset_after, dtype=B.dtype(dtype))


def oracle_step(kind: str, weights, x, state):
    """One step of the equations, float64; ``state`` is ``(c, h)`` for the LSTM, else ``h``."""
    if kind == "lstm":
        Wx, Wy, b = weights
        c, h = state
        n = h.shape[1]
        z = x @ Wx + h @ Wy + b
        i, f = sigmoid(z[:, :n]), sigmoid(z[:, n : 2 * n])
        g, o = np.tanh(z[:, 2 * n : 3 * n]), sigmoid(z[:, 3 * n :])
        c = f * c + i * g
        return (c, o * np.tanh(c))
    Wx, Wy, bx, by = weights
    h = state
    n = h.shape[1]
    gx, gh = x @ Wx + bx, h @ Wy + by
    r = sigmoid(gx[:, :n] + gh[:, :n])
    z = sigmoid(gx[:, n : 2 * n] + gh[:, n : 2 * n])
    if kind == "gru":
        cand = np.tanh(gx[:, 2 * n :] + r * gh[:, 2 * n :])
    else:
        cand = np.tanh(gx[:, 2 * n :] + (r * h) @ Wy[:, 2 * n :] + by[2 * n :])
    return (1 - z) * cand + z * h


def oracle(kind: str, weights, X, state0, lengths=None):
    """float64 loop over batch-major ``X`` with TensorFlow 1.x ``sequence_length`` semantics."""
    X = np.asarray(X, np.float64)
    batch, n_steps, _ = X.shape
    n = weights[1].shape[0]
    parts = [np.array(p, np.float64) for p in (state0 if kind == "lstm" else (state0,))]
    lengths = np.full(batch, n_steps) if lengths is None else np.asarray(lengths)
    outputs = np.zeros((batch, n_steps, n))
    for t in range(n_steps):
        valid = t < lengths
        prev = tuple(p[valid] for p in parts)
        new = oracle_step(kind, weights, X[valid, t], prev if kind == "lstm" else prev[0])
        new = new if kind == "lstm" else (new,)
        for p, q in zip(parts, new, strict=True):
            p[valid] = q
        outputs[valid, t] = new[-1]
    return outputs, (tuple(parts) if kind == "lstm" else parts[0])


def initial_state(kind: str, batch: int, n_neurons: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    if kind == "lstm":
        return (rng.standard_normal((batch, n_neurons)), rng.standard_normal((batch, n_neurons)))
    return rng.standard_normal((batch, n_neurons))


def to_backend(B: Backend, state, dtype=np.float64):
    if isinstance(state, tuple):
        return tuple(B.array(p.astype(dtype)) for p in state)
    return B.array(state.astype(dtype))


def state_parts(state) -> list[np.ndarray]:
    """A state as a list of NumPy arrays: ``[c, h]`` for the LSTM, ``[h]`` otherwise."""
    if isinstance(state, tuple):
        return [Backend.numpy(p) for p in state]
    return [Backend.numpy(state)]


def assert_close(a, b, tol):
    np.testing.assert_allclose(Backend.numpy(a), Backend.numpy(b), rtol=tol, atol=tol)


# ---------------------------------------------------------------------------- cells


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_attributes_shapes_default_dtype_and_zero_state(backend, kind):
    Cell = backend.module.LSTMCell if kind == "lstm" else backend.module.GRUCell
    cell = Cell(3, 5, seed=0)
    gates = 4 if kind == "lstm" else 3
    assert (cell.n_inputs, cell.n_neurons) == (3, 5)
    assert backend.dtype_name(cell.dtype) == "float32"
    assert tuple(cell.Wx.shape) == (3, gates * 5) and tuple(cell.Wy.shape) == (5, gates * 5)
    biases = [cell.b] if kind == "lstm" else [cell.bx, cell.by]
    assert all(tuple(b.shape) == (gates * 5,) for b in biases)
    state = cell.zero_state(4)
    if kind == "lstm":
        assert isinstance(state, backend.module.LSTMState)
        assert state._fields == ("c", "h")
    for part in state_parts(state):
        assert part.shape == (4, 5) and part.dtype == np.float32
        assert_bitwise_zero(part)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_init_uniform_in_plus_minus_k_biases_included_and_same_seed_in_both_backends(kind):
    cells = [
        (B.module.LSTMCell if kind == "lstm" else B.module.GRUCell)(40, 64, seed=3)
        for B in (Backend("numpy"), Backend("torch"))
    ]
    names = ["Wx", "Wy", "b"] if kind == "lstm" else ["Wx", "Wy", "bx", "by"]
    k = 1 / np.sqrt(64)
    for name in names:
        a, b = (Backend.numpy(getattr(c, name)) for c in cells)
        np.testing.assert_array_equal(a, b)
        assert np.all(np.abs(a) <= k) and a.max() > 0.9 * k and a.min() < -0.9 * k
    other = type(cells[0])(40, 64, seed=4)
    assert not np.array_equal(other.Wx, cells[0].Wx)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_step_is_the_equation(backend, kind, dtype):
    cell = make_cell(backend, kind, dtype=dtype)
    weights = gated_weights(kind, 3, 5)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3))
    state = initial_state(kind, 4, 5)
    new = cell(backend.array(x.astype(dtype)), to_backend(backend, state, dtype))
    expected = oracle_step(kind, weights, x, state)
    tol = 1e-12 if dtype == "float64" else 8 * EPS32
    for got, want in zip(state_parts(new), state_parts(expected), strict=True):
        assert got.dtype == np.dtype(dtype)
        assert_close(got, want, tol)
    # state=None means zeros
    zeros = tuple(np.zeros((4, 5)) for _ in range(2)) if kind == "lstm" else np.zeros((4, 5))
    from_none = state_parts(cell(backend.array(x.astype(dtype))))
    from_zeros = state_parts(
        cell(backend.array(x.astype(dtype)), to_backend(backend, zeros, dtype))
    )
    for a, b in zip(from_none, from_zeros, strict=True):
        np.testing.assert_array_equal(a, b)


def test_output_of_each_cell(backend):
    m = backend.module
    h = backend.array(np.ones((2, 5), np.float32))
    assert m.BasicRNNCell(3, 5, seed=0).output(h) is h
    assert m.GRUCell(3, 5, seed=0).output(h) is h
    c = backend.array(np.zeros((2, 5), np.float32))
    assert m.LSTMCell(3, 5, seed=0).output(m.LSTMState(c, h)) is h


def test_lstm_accepts_any_pair_and_int_inputs(backend):
    cell = make_cell(backend, "lstm", dtype="float32")
    c = np.zeros((2, 5), np.int64)
    x = np.array([[1, 2, 3], [4, 5, 6]])
    as_tuple = cell(backend.array(x), (backend.array(c), backend.array(c)))
    as_list = cell(backend.array(x.astype(np.float32)), [backend.array(c), backend.array(c)])
    assert isinstance(as_tuple, backend.module.LSTMState)
    for a, b in zip(as_tuple, as_list, strict=True):
        assert Backend.numpy(a).dtype == np.float32
        np.testing.assert_array_equal(Backend.numpy(a), Backend.numpy(b))


# ---------------------------------------------------------------------- the loops


@settings(max_examples=30)
@given(case=rnn_cases(max_steps=6, max_size=6), kind=st.sampled_from(KINDS))
def test_dynamic_rnn_is_the_oracle_with_lengths(backend, case: RNNCase, kind):
    """Outputs exactly 0 past each length, state after the last valid step (float64)."""
    cell = make_cell(backend, kind, case.n_inputs, case.n_neurons, seed=case.seed % 1000)
    weights = gated_weights(kind, case.n_inputs, case.n_neurons, seed=case.seed % 1000)
    X = case.arrays(np.float64)["X"]
    state0 = initial_state(kind, case.batch, case.n_neurons, seed=case.seed % 997)
    given_state = to_backend(backend, state0) if case.with_initial_state else None
    if not case.with_initial_state:
        state0 = tuple(np.zeros_like(p) for p in state0) if kind == "lstm" else 0 * state0
    out, state = backend.module.dynamic_rnn(
        cell,
        backend.array(X.transpose(1, 0, 2) if case.time_major else X),
        sequence_length=case.sequence_length,
        initial_state=given_state,
        time_major=case.time_major,
    )
    out = Backend.numpy(out)
    out = out.transpose(1, 0, 2) if case.time_major else out
    want_out, want_state = oracle(kind, weights, X, state0, case.effective_lengths)
    assert out.shape == (case.batch, case.n_steps, case.n_neurons)
    assert_close(out, want_out, 1e-12)
    for i, length in enumerate(case.effective_lengths):
        assert_bitwise_zero(out[i, length:])
    if kind == "lstm":
        assert isinstance(state, backend.module.LSTMState)
    for got, want in zip(state_parts(state), state_parts(want_state), strict=True):
        assert got.shape == (case.batch, case.n_neurons)
        assert_close(got, want, 1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_static_rnn_equals_dynamic_rnn(backend, kind):
    cell = make_cell(backend, kind, seed=5)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((5, 4, 3))
    lengths = np.array([0, 4, 2, 1, 3])
    state0 = to_backend(backend, initial_state(kind, 5, 5))
    outs, s_state = backend.module.static_rnn(
        cell, [backend.array(X[:, t]) for t in range(4)], state0, lengths
    )
    d_out, d_state = backend.module.dynamic_rnn(cell, backend.array(X), lengths, state0)
    assert len(outs) == 4
    assert_close(np.stack([Backend.numpy(o) for o in outs], axis=1), d_out, 1e-13)
    for a, b in zip(state_parts(s_state), state_parts(d_state), strict=True):
        assert_close(a, b, 1e-13)
    # The length-0 row keeps the initial state, for both parts of an LSTM state.
    for a, b in zip(state_parts(s_state), state_parts(state0), strict=True):
        np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("kind", KINDS)
def test_zero_steps_give_empty_outputs_and_a_copy_of_the_initial_state(backend, kind):
    cell = make_cell(backend, kind)
    state0 = to_backend(backend, initial_state(kind, 3, 5))
    out, state = backend.module.dynamic_rnn(cell, backend.array(np.zeros((3, 0, 3))), None, state0)
    assert tuple(out.shape) == (3, 0, 5)
    outs, s_state = backend.module.static_rnn(cell, [], state0, [0, 0, 0])
    assert outs == []
    for got in (state, s_state):
        for a, b in zip(state_parts(got), state_parts(state0), strict=True):
            np.testing.assert_array_equal(a, b)
        parts = got if isinstance(got, tuple) else (got,)
        given = state0 if isinstance(state0, tuple) else (state0,)
        assert all(p is not q for p, q in zip(parts, given, strict=True))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_equals_torch(kind, dtype):
    N, T = Backend("numpy"), Backend("torch")
    rng = np.random.default_rng(7)
    X = rng.standard_normal((6, 8, 3)).astype(dtype)
    lengths = np.array([8, 0, 3, 8, 1, 5])
    state0 = initial_state(kind, 6, 5)
    n_out, n_state = numpy_rnn.dynamic_rnn(
        make_cell(N, kind, dtype=dtype), X, lengths, to_backend(N, state0, dtype)
    )
    tol = 1e-12 if dtype == "float64" else 16 * EPS32
    for backend in ("loop", "reference"):
        t_out, t_state = torch_rnn.dynamic_rnn(
            make_cell(T, kind, dtype=dtype),
            torch.from_numpy(X),
            lengths,
            to_backend(T, state0, dtype),
            backend=backend,
        )
        assert Backend.numpy(t_out).dtype == np.dtype(dtype)
        assert_close(t_out, n_out, tol)
        for a, b in zip(state_parts(t_state), state_parts(n_state), strict=True):
            assert_close(a, b, tol * 4)  # c is not bounded by 1


@pytest.mark.parametrize("kind", KINDS)
def test_torch_backends_give_the_same_gradients(kind):
    rng = np.random.default_rng(8)
    X0 = rng.standard_normal((5, 6, 3))
    w_out = torch.from_numpy(rng.standard_normal((5, 6, 5)))
    lengths = [6, 0, 2, 6, 4]
    results = []
    for backend in ("loop", "auto", "reference"):
        cell = make_cell(Backend("torch"), kind)
        X = torch.tensor(X0, requires_grad=True)
        state0 = to_backend(Backend("torch"), initial_state(kind, 5, 5))
        parts0 = [p.requires_grad_(True) for p in (state0 if kind == "lstm" else (state0,))]
        given_state = tuple(parts0) if kind == "lstm" else parts0[0]
        out, state = torch_rnn.dynamic_rnn(cell, X, lengths, given_state, backend=backend)
        parts = list(state) if kind == "lstm" else [state]
        loss = (out * w_out).sum() + sum((p * (k + 2)).sum() for k, p in enumerate(parts))
        loss.backward()
        results.append([X.grad, *(p.grad for p in parts0), *(w.grad for w in cell.parameters())])
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            assert_close(a, b, 1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_through_dynamic_rnn(kind):
    """To X, the initial state and every weight, with a length-0 row and a short row."""
    cell = make_cell(Backend("torch"), kind, 2, 3, seed=9)
    rng = np.random.default_rng(10)
    X = torch.tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    parts0 = [torch.tensor(p, requires_grad=True) for p in state_parts(initial_state(kind, 3, 3))]

    def run(X, *parts_and_weights):
        # gradcheck perturbs its inputs in place: the weights are the cell's own parameters.
        parts = parts_and_weights[: len(parts0)]
        state0 = tuple(parts) if kind == "lstm" else parts[0]
        out, state = torch_rnn.dynamic_rnn(cell, X, [4, 1, 0], state0)
        return (out, *state) if kind == "lstm" else (out, state)

    assert torch.autograd.gradcheck(run, (X, *parts0, *cell.parameters()))


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kind", KINDS)
def test_bad_step_inputs(backend, kind):
    cell = make_cell(backend, kind, dtype="float32")
    with pytest.raises(ValueError, match=r"x_t must have rank 2"):
        cell(backend.array(np.zeros(3)))
    with pytest.raises(ValueError, match=r"x_t must have shape \[batch, n_inputs\] = \[\*, 3\]"):
        cell(backend.array(np.zeros((2, 4))))
    with pytest.raises(TypeError, match="x_t must hold integers or floats"):
        cell(backend.array(np.zeros((2, 3), bool)))


def test_lstm_state_must_be_a_pair_of_matching_shapes(backend):
    cell = make_cell(backend, "lstm", dtype="float32")
    x = backend.array(np.zeros((2, 3), np.float32))
    h = backend.array(np.zeros((2, 5), np.float32))
    with pytest.raises(TypeError, match=r"state must be a pair \(c, h\) of \[batch, n_neurons\]"):
        cell(x, h)
    with pytest.raises(ValueError, match=r"state must be a pair \(c, h\).*got a tuple of 3"):
        cell(x, (h, h, h))
    with pytest.raises(ValueError, match=r"state\.c must have shape .* = \[2, 5\]"):
        cell(x, (backend.array(np.zeros((2, 4), np.float32)), h))
    with pytest.raises(ValueError, match=r"state\.h must have shape .* = \[2, 5\]"):
        cell(x, (h, backend.array(np.zeros((3, 5), np.float32))))
    X = backend.array(np.zeros((2, 4, 3), np.float32))
    with pytest.raises(TypeError, match=r"initial_state must be a pair \(c, h\)"):
        backend.module.dynamic_rnn(cell, X, initial_state=h)
    with pytest.raises(ValueError, match=r"initial_state\.h must have shape"):
        backend.module.dynamic_rnn(cell, X, initial_state=(h, h[:1]))


@pytest.mark.parametrize("kind", ["gru", "gru_tf"])
def test_gru_state_shape(backend, kind):
    cell = make_cell(backend, kind, dtype="float32")
    with pytest.raises(ValueError, match=r"initial_state must have shape .* = \[2, 5\]"):
        backend.module.dynamic_rnn(
            cell, np.zeros((2, 4, 3)), initial_state=backend.array(np.zeros((2, 6)))
        )
    with pytest.raises(ValueError, match=r"sequence_length values must lie in \[0, n_steps\]"):
        backend.module.dynamic_rnn(cell, np.zeros((2, 4, 3)), sequence_length=[5, 1])


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_from_weights_rejects_wrong_shapes_and_non_finite_values(backend, kind):
    Cell = backend.module.LSTMCell if kind == "lstm" else backend.module.GRUCell
    gates = 4 if kind == "lstm" else 3
    Wx, Wy, *biases = gated_weights(kind, 3, 5)
    with pytest.raises(
        ValueError, match=rf"Wy must have shape \[n_neurons, {gates} \* n_neurons\]"
    ):
        Cell.from_weights(Wx, Wy[:, :-1], *biases)
    with pytest.raises(ValueError, match=rf"Wx must have shape .* = \[\*, {gates * 5}\]"):
        Cell.from_weights(Wx[:, :-1], Wy, *biases)
    with pytest.raises(ValueError, match=r"Wx must have rank 2"):
        Cell.from_weights(Wx[0], Wy, *biases)
    bias_name = "b" if kind == "lstm" else "bx"
    with pytest.raises(ValueError, match=rf"{bias_name} must have shape .* = \[{gates * 5}\]"):
        Cell.from_weights(Wx, Wy, biases[0][:-1], *biases[1:])
    bad = Wy.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Wy must contain only finite values"):
        Cell.from_weights(Wx, bad, *biases)
    bad = biases[-1].copy()
    bad[1] = np.inf
    with pytest.raises(ValueError, match=f"{'b' if kind == 'lstm' else 'by'} must contain only"):
        Cell.from_weights(Wx, Wy, *biases[:-1], bad)


def test_from_weights_dtype_rule_copies_and_zero_biases(backend):
    Wx, Wy, bx, by = gated_weights("gru", 3, 5)
    cell = backend.module.GRUCell.from_weights(backend.array(Wx.astype(np.float32)), Wy)
    assert backend.dtype_name(cell.dtype) == "float64"  # Wy is float64
    assert_bitwise_zero(Backend.numpy(cell.bx)) and assert_bitwise_zero(Backend.numpy(cell.by))
    source = backend.array(Wx.astype(np.float32))
    cell32 = backend.module.LSTMCell.from_weights(
        np.zeros((3, 20), np.float32), np.zeros((5, 20), np.float32)
    )
    assert backend.dtype_name(cell32.dtype) == "float32"
    copy = backend.module.GRUCell.from_weights(source, Wy.astype(np.float32), bx, by)
    source[0, 0] = 100
    assert Backend.numpy(copy.Wx)[0, 0] != 100


def test_reset_after_must_be_a_bool(backend):
    with pytest.raises(TypeError, match=r"reset_after must be a bool \(True or False\); got int"):
        backend.module.GRUCell(3, 5, reset_after=1)
    Wx, Wy, bx, by = gated_weights("gru", 3, 5)
    with pytest.raises(TypeError, match="reset_after must be a bool"):
        backend.module.GRUCell.from_weights(Wx, Wy, bx, by, reset_after="no")


def test_sizes_and_dtype_are_checked(backend):
    with pytest.raises(ValueError, match="n_neurons must be an int >= 1"):
        backend.module.LSTMCell(3, 0)
    with pytest.raises(TypeError, match="dtype must be"):
        backend.module.GRUCell(3, 5, dtype=np.int32)


def test_backends_a_gated_cell_does_not_run():
    cell = numpy_rnn.LSTMCell(3, 5, seed=0)
    with pytest.raises(ValueError, match=r"backend must be one of"):
        numpy_rnn.dynamic_rnn(cell, np.zeros((2, 4, 3)), backend="cudnn")
    t_cell = torch_rnn.GRUCell(3, 5, seed=0)
    with pytest.raises(ValueError, match="backend='cudnn' runs only BasicRNNCell; for a GRUCell"):
        torch_rnn.dynamic_rnn(t_cell, np.zeros((2, 4, 3)), backend="cudnn")


def test_a_cell_of_the_other_backend_is_a_type_error():
    with pytest.raises(TypeError, match="cell must be one of .*LSTMCell.*; got LSTMCell"):
        numpy_rnn.dynamic_rnn(torch_rnn.LSTMCell(3, 5, seed=0), np.zeros((2, 4, 3)))
    with pytest.raises(TypeError, match="cell must be one of .*; got GRUCell"):
        torch_rnn.static_rnn(numpy_rnn.GRUCell(3, 5, seed=0), [np.zeros((2, 3))])


def test_numpy_cells_never_import_torch():
    code = (
        "import sys\n"
        "from companion import numpy_rnn\n"
        "import companion.cells.interop\n"
        "c = numpy_rnn.LSTMCell(2, 3, seed=0)\n"
        "numpy_rnn.dynamic_rnn(c, [[[1, 2]]])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
