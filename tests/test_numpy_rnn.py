"""Unit tests of ``companion.numpy_rnn``, the NumPy reference implementation.

The contract is CONTRIBUTING.md's "`companion` contracts": shapes, dtypes, seeds,
the step equation ``h_t = phi(x_t Wx + h_prev Wy + b)``, static and dynamic
unrolling, and TensorFlow 1.x ``sequence_length`` semantics.
"""

from __future__ import annotations

import numpy as np
import pytest
from strategies import (
    CHAPTER_LENGTHS,
    CHAPTER_X0,
    CHAPTER_X1,
    assert_bitwise_zero,
    chapter_by_hand,
    chapter_weights,
    phi,
    random_weights,
    reference_rnn,
)

from companion import numpy_rnn as nr


def random_cell(n_inputs=3, n_neurons=5, *, seed=0, dtype=np.float32, nonlinearity="tanh"):
    """A cell with a non-zero bias (the default init has b = 0, which hides bias bugs)."""
    return nr.BasicRNNCell.from_weights(
        *random_weights(n_inputs, n_neurons, seed),
        nonlinearity=nonlinearity,
        dtype=dtype,
    )


def cell_arrays(cell):
    return cell.Wx, cell.Wy, cell.b


# --------------------------------------------------------------------------- cell


def test_cell_attributes_shapes_and_default_dtype():
    cell = nr.BasicRNNCell(3, 5, seed=0)
    assert (cell.n_inputs, cell.n_neurons, cell.nonlinearity) == (3, 5, "tanh")
    assert np.dtype(cell.dtype) == np.float32
    assert isinstance(cell.Wx, np.ndarray)
    assert cell.Wx.shape == (3, 5)
    assert cell.Wy.shape == (5, 5)
    assert cell.b.shape == (5,)
    for w in cell_arrays(cell):
        assert w.dtype == np.float32


def test_cell_float64_weights():
    cell = nr.BasicRNNCell(2, 4, dtype=np.float64, seed=0)
    assert np.dtype(cell.dtype) == np.float64
    assert all(w.dtype == np.float64 for w in cell_arrays(cell))


def test_init_is_uniform_in_plus_minus_one_over_sqrt_n_neurons_and_zero_bias():
    # n_inputs != n_neurons, so a bound based on n_inputs would be caught.
    cell = nr.BasicRNNCell(40, 64, seed=1)
    k = 1 / np.sqrt(64)
    for w in (cell.Wx, cell.Wy):
        assert np.all(np.abs(w) <= k)
        assert w.max() > 0.9 * k and w.min() < -0.9 * k  # spread over the interval
        assert abs(float(w.mean())) < 0.1 * k
    assert np.all(cell.b == 0)


def test_same_seed_same_weights_and_other_seed_other_weights():
    a, b = nr.BasicRNNCell(3, 5, seed=123), nr.BasicRNNCell(3, 5, seed=123)
    c = nr.BasicRNNCell(3, 5, seed=124)
    for wa, wb in zip(cell_arrays(a), cell_arrays(b), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.Wx, c.Wx)
    assert not np.array_equal(a.Wy, c.Wy)


def test_seed_accepts_a_generator_and_draws_from_it():
    a = nr.BasicRNNCell(3, 5, seed=np.random.default_rng(7))
    b = nr.BasicRNNCell(3, 5, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(a.Wx, b.Wx)
    np.testing.assert_array_equal(a.Wy, b.Wy)
    shared = np.random.default_rng(7)
    first, second = nr.BasicRNNCell(3, 5, seed=shared), nr.BasicRNNCell(3, 5, seed=shared)
    assert not np.array_equal(first.Wx, second.Wx)  # the generator advanced


def test_seed_none_gives_fresh_weights():
    assert not np.array_equal(nr.BasicRNNCell(3, 5).Wx, nr.BasicRNNCell(3, 5).Wx)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 4])
def test_zero_state(dtype, batch):
    h = nr.BasicRNNCell(3, 5, dtype=dtype, seed=0).zero_state(batch)
    assert isinstance(h, np.ndarray)
    assert h.shape == (batch, 5)
    assert h.dtype == dtype
    assert_bitwise_zero(h)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cell_step_equation(dtype):
    cell = random_cell(dtype=dtype)
    rng = np.random.default_rng(1)
    x, h_prev = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    expected = np.tanh(x @ cell.Wx.astype(np.float64) + h_prev @ cell.Wy + cell.b)
    h = cell(x.astype(dtype), h_prev.astype(dtype))
    assert h.shape == (4, 5) and h.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(h, expected, rtol=tol, atol=tol)


def test_cell_without_h_prev_starts_from_zeros():
    cell = random_cell()
    x = np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(cell(x), cell(x, cell.zero_state(2)))
    np.testing.assert_allclose(cell(x), np.tanh(x @ cell.Wx + cell.b), rtol=1e-6, atol=1e-6)


def test_relu_nonlinearity():
    cell = random_cell(nonlinearity="relu")
    assert cell.nonlinearity == "relu"
    x = 3 * np.random.default_rng(3).standard_normal((8, 3))
    h_prev = np.random.default_rng(4).standard_normal((8, 5))
    h = cell(x.astype(np.float32), h_prev.astype(np.float32))
    expected = np.maximum(x @ cell.Wx + h_prev @ cell.Wy + cell.b, 0)
    np.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-5)
    assert (h == 0).any() and (h > 1).any()  # clipped below, unbounded above: not tanh


def test_relu_via_constructor():
    cell = nr.BasicRNNCell(3, 5, nonlinearity="relu", seed=0)
    X = 5 * np.random.default_rng(0).standard_normal((6, 4, 3))
    out, _ = nr.dynamic_rnn(cell, X)
    ref, _ = reference_rnn(X, *cell_arrays(cell), nonlinearity="relu")
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_cell_casts_int_and_other_float_inputs_to_its_dtype():
    cell = random_cell()
    h = cell(CHAPTER_X0)
    assert h.dtype == np.float32
    np.testing.assert_array_equal(h, cell(CHAPTER_X0.astype(np.float32)))
    assert cell(CHAPTER_X0.astype(np.float64), np.zeros((4, 5))).dtype == np.float32
    cell64 = random_cell(dtype=np.float64)
    assert cell64(CHAPTER_X0.astype(np.float32), np.zeros((4, 5), np.float32)).dtype == np.float64


# ------------------------------------------------------------------- from_weights


def test_from_weights_sets_weights_sizes_and_default_zero_bias():
    Wx, Wy, _ = chapter_weights()
    cell = nr.BasicRNNCell.from_weights(Wx, Wy)
    np.testing.assert_array_equal(cell.Wx, Wx)
    np.testing.assert_array_equal(cell.Wy, Wy)
    assert cell.b.shape == (5,) and cell.b.dtype == np.float32
    assert_bitwise_zero(cell.b)
    assert (cell.n_inputs, cell.n_neurons, cell.nonlinearity) == (3, 5, "tanh")


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        ((np.float32, np.float32, np.float32), np.float32),
        ((np.float64, np.float64, np.float64), np.float64),
        ((np.float32, np.float64, np.float32), np.float64),
        ((np.float32, np.float32, np.float64), np.float64),
        ((np.int64, np.int64, np.int64), np.float32),
        ((np.int32, np.float32, np.int64), np.float32),
    ],
)
def test_from_weights_infers_dtype(dtypes, expected):
    arrays = [
        np.ones(shape, dtype=d) for shape, d in zip([(3, 5), (5, 5), (5,)], dtypes, strict=True)
    ]
    cell = nr.BasicRNNCell.from_weights(*arrays)
    assert np.dtype(cell.dtype) == expected
    assert all(w.dtype == expected for w in cell_arrays(cell))


def test_from_weights_explicit_dtype_wins():
    Wx, Wy, b = chapter_weights(dtype=np.float32)
    cell = nr.BasicRNNCell.from_weights(Wx, Wy, b, dtype=np.float64)
    assert np.dtype(cell.dtype) == np.float64 and cell.Wx.dtype == np.float64
    cell = nr.BasicRNNCell.from_weights(*chapter_weights(dtype=np.float64), dtype=np.float32)
    assert cell.Wy.dtype == np.float32


def test_from_weights_copies_the_arrays():
    Wx, Wy, b = (a.copy() for a in chapter_weights())
    b += 0.5
    cell = nr.BasicRNNCell.from_weights(Wx, Wy, b)
    before = [w.copy() for w in cell_arrays(cell)]
    Wx[:] = 7.0
    Wy[:] = 7.0
    b[:] = 7.0
    for w, w0 in zip(cell_arrays(cell), before, strict=True):
        np.testing.assert_array_equal(w, w0)


def test_from_weights_relu():
    assert nr.BasicRNNCell.from_weights(*chapter_weights(), nonlinearity="relu").nonlinearity == (
        "relu"
    )


# ------------------------------------------------------------ the chapter example


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chapter_example_static_and_dynamic_equal_hand_unrolled(dtype):
    Wx, Wy, b = chapter_weights(dtype=dtype)
    cell = nr.BasicRNNCell.from_weights(Wx, Wy, b)
    Y0, Y1 = chapter_by_hand(Wx, Wy, b)
    tol = 1e-5 if dtype == np.float32 else 1e-12

    outputs, state = nr.static_rnn(cell, [CHAPTER_X0, CHAPTER_X1])
    assert isinstance(outputs, list) and len(outputs) == 2
    for y, ref in zip(outputs, [Y0, Y1], strict=True):
        assert y.shape == (4, 5) and y.dtype == dtype
        np.testing.assert_allclose(y, ref, rtol=tol, atol=tol)
    np.testing.assert_array_equal(state, outputs[1])

    X = np.stack([CHAPTER_X0, CHAPTER_X1], axis=1)  # [batch=4, n_steps=2, n_inputs=3]
    out, dstate = nr.dynamic_rnn(cell, X)
    assert out.shape == (4, 2, 5) and out.dtype == dtype and dstate.dtype == dtype
    np.testing.assert_allclose(out[:, 0], Y0, rtol=tol, atol=tol)
    np.testing.assert_allclose(out[:, 1], Y1, rtol=tol, atol=tol)
    np.testing.assert_array_equal(dstate, out[:, 1])


def check_chapter_lengths(out, state, full_out):
    """out [4, 2, 5] run with lengths [2, 1, 2, 2]; full_out without lengths."""
    assert_bitwise_zero(out[1, 1])
    np.testing.assert_array_equal(state[1], out[1, 0])
    np.testing.assert_array_equal(state[[0, 2, 3]], out[[0, 2, 3], 1])
    np.testing.assert_allclose(out[1, 0], full_out[1, 0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out[[0, 2, 3]], full_out[[0, 2, 3]], rtol=1e-6, atol=1e-6)


def test_chapter_example_with_sequence_length_dynamic():
    cell = nr.BasicRNNCell.from_weights(*chapter_weights())
    X = np.stack([CHAPTER_X0, CHAPTER_X1], axis=1)
    full, _ = nr.dynamic_rnn(cell, X)
    out, state = nr.dynamic_rnn(cell, X, sequence_length=CHAPTER_LENGTHS)
    check_chapter_lengths(out, state, full)


def test_chapter_example_with_sequence_length_static():
    cell = nr.BasicRNNCell.from_weights(*chapter_weights())
    full, _ = nr.static_rnn(cell, [CHAPTER_X0, CHAPTER_X1])
    outputs, state = nr.static_rnn(cell, [CHAPTER_X0, CHAPTER_X1], sequence_length=CHAPTER_LENGTHS)
    check_chapter_lengths(np.stack(outputs, axis=1), state, np.stack(full, axis=1))


# ------------------------------------------------------- static_rnn / dynamic_rnn


def random_problem(batch=5, n_steps=6, n_inputs=3, n_neurons=5, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, n_steps, n_inputs)).astype(dtype)
    h0 = rng.standard_normal((batch, n_neurons)).astype(dtype)
    lengths = rng.integers(0, n_steps + 1, batch)
    lengths[:2] = [0, n_steps]
    return X, h0, lengths


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_dynamic_rnn_matches_reference_with_lengths_and_initial_state(nonlinearity):
    cell = random_cell(nonlinearity=nonlinearity)
    X, h0, lengths = random_problem()
    out, state = nr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    ref_out, ref_state = reference_rnn(
        X, *cell_arrays(cell), initial_state=h0, sequence_length=lengths, nonlinearity=nonlinearity
    )
    assert isinstance(out, np.ndarray) and out.shape == (5, 6, 5) and state.shape == (5, 5)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(state, ref_state, rtol=1e-5, atol=1e-5)


def test_static_rnn_equals_dynamic_rnn():
    cell = random_cell()
    X, h0, lengths = random_problem()
    out, state = nr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    outputs, sstate = nr.static_rnn(
        cell, [X[:, t] for t in range(6)], sequence_length=lengths, initial_state=h0
    )
    assert isinstance(outputs, list) and len(outputs) == 6
    np.testing.assert_allclose(np.stack(outputs, axis=1), out, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sstate, state, rtol=1e-6, atol=1e-6)


def test_static_rnn_calls_the_cell_once_per_step():
    """Chapter 5: static unrolling is one cell call per step, shared weights."""
    calls = []

    class SpyCell(nr.BasicRNNCell):
        def __call__(self, x_t, h_prev=None):
            calls.append(np.shape(x_t))
            return super().__call__(x_t, h_prev)

    spy = SpyCell(3, 5, seed=0)
    X, h0, lengths = random_problem(n_steps=4)
    outputs, state = nr.static_rnn(spy, list(X.transpose(1, 0, 2)), initial_state=h0)
    assert calls == [(5, 3)] * 4
    expected, expected_state = nr.dynamic_rnn(spy, X, initial_state=h0)
    np.testing.assert_allclose(np.stack(outputs, axis=1), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(state, expected_state, rtol=1e-6, atol=1e-6)


def test_static_rnn_accepts_a_tuple():
    cell = random_cell()
    a, _ = nr.static_rnn(cell, (CHAPTER_X0, CHAPTER_X1))
    b, _ = nr.static_rnn(cell, [CHAPTER_X0, CHAPTER_X1])
    for ya, yb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ya, yb)


def test_time_major_equals_transposed_batch_major():
    cell = random_cell()
    X, h0, lengths = random_problem()
    out, state = nr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    out_tm, state_tm = nr.dynamic_rnn(
        cell, X.transpose(1, 0, 2), sequence_length=lengths, initial_state=h0, time_major=True
    )
    assert out_tm.shape == (6, 5, 5)
    np.testing.assert_allclose(out_tm.transpose(1, 0, 2), out, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(state_tm, state, rtol=1e-6, atol=1e-6)


def test_initial_state_is_used():
    cell = random_cell()
    X, h0, _ = random_problem()
    out, _ = nr.dynamic_rnn(cell, X, initial_state=h0)
    expected = np.tanh(X[:, 0] @ cell.Wx + h0 @ cell.Wy + cell.b)
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-6, atol=1e-6)
    zero_out, _ = nr.dynamic_rnn(cell, X)
    assert not np.allclose(out[:, 0], zero_out[:, 0])
    outputs, _ = nr.static_rnn(cell, [X[:, 0]], initial_state=h0)
    np.testing.assert_allclose(outputs[0], expected, rtol=1e-6, atol=1e-6)


def test_sequence_length_zero_outputs_and_carried_state_exactly():
    cell = random_cell()
    X, h0, lengths = random_problem()
    out, state = nr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    for i, n in enumerate(lengths):
        assert_bitwise_zero(out[i, n:])
        np.testing.assert_array_equal(state[i], out[i, n - 1] if n > 0 else h0[i])


def test_sequence_length_none_means_full_length():
    cell = random_cell()
    X, h0, _ = random_problem()
    a = nr.dynamic_rnn(cell, X, initial_state=h0)
    b = nr.dynamic_rnn(cell, X, initial_state=h0, sequence_length=np.full(5, 6))
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(a[1], a[0][:, -1])


@pytest.mark.parametrize("int_dtype", [np.int32, np.int64, np.uint8])
def test_sequence_length_accepts_integer_dtypes(int_dtype):
    cell = random_cell()
    X, _, lengths = random_problem()
    a = nr.dynamic_rnn(cell, X, sequence_length=lengths)
    b = nr.dynamic_rnn(cell, X, sequence_length=lengths.astype(int_dtype))
    np.testing.assert_array_equal(a[0], b[0])


def test_padding_never_leaks_into_outputs_or_state():
    cell = random_cell()
    X, h0, lengths = random_problem()
    clean = nr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    dirty_X = X.copy()
    for i, n in enumerate(lengths):
        dirty_X[i, n:] = np.nan
    out, state = nr.dynamic_rnn(cell, dirty_X, sequence_length=lengths, initial_state=h0)
    np.testing.assert_array_equal(out, clean[0])
    np.testing.assert_array_equal(state, clean[1])


def test_arguments_are_not_modified():
    cell = random_cell()
    X, h0, lengths = random_problem()
    copies = [X.copy(), h0.copy(), lengths.copy()]
    weights = [w.copy() for w in cell_arrays(cell)]
    nr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    nr.static_rnn(cell, list(X.transpose(1, 0, 2)), sequence_length=lengths, initial_state=h0)
    for a, a0 in zip([X, h0, lengths, *cell_arrays(cell)], copies + weights, strict=True):
        np.testing.assert_array_equal(a, a0)


def test_zero_steps_dynamic():
    cell = random_cell()
    out, state = nr.dynamic_rnn(cell, np.zeros((2, 0, 3), np.float32))
    assert out.shape == (2, 0, 5) and out.dtype == np.float32
    assert state.shape == (2, 5) and state.dtype == np.float32
    assert_bitwise_zero(state)
    h0 = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    out, state = nr.dynamic_rnn(
        cell, np.zeros((2, 0, 3)), initial_state=h0, sequence_length=np.array([0, 0])
    )
    np.testing.assert_array_equal(state, h0)
    out_tm, _ = nr.dynamic_rnn(cell, np.zeros((0, 2, 3)), time_major=True)
    assert out_tm.shape == (0, 2, 5)


def test_zero_steps_static():
    cell = random_cell()
    h0 = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    outputs, state = nr.static_rnn(cell, [], initial_state=h0)
    assert outputs == []
    assert state.shape == (2, 5) and state.dtype == np.float32
    np.testing.assert_array_equal(state, h0)


def test_batch_of_one_and_single_step():
    cell = random_cell()
    X = np.random.default_rng(5).standard_normal((1, 1, 3)).astype(np.float32)
    out, state = nr.dynamic_rnn(cell, X)
    assert out.shape == (1, 1, 5) and state.shape == (1, 5)
    expected = phi("tanh")(X[0, 0] @ cell.Wx + cell.b)
    np.testing.assert_allclose(out[0, 0], expected, rtol=1e-6, atol=1e-6)
    outputs, sstate = nr.static_rnn(cell, [X[:, 0]])
    np.testing.assert_allclose(outputs[0], out[:, 0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sstate, state, rtol=1e-6, atol=1e-6)


def test_int_inputs_are_cast_to_the_cell_dtype():
    for dtype in (np.float32, np.float64):
        cell = random_cell(dtype=dtype)
        X_int = np.stack([CHAPTER_X0, CHAPTER_X1], axis=1)
        out, state = nr.dynamic_rnn(cell, X_int)
        ref, _ = nr.dynamic_rnn(cell, X_int.astype(dtype))
        assert out.dtype == dtype and state.dtype == dtype
        np.testing.assert_array_equal(out, ref)
        outputs, _ = nr.static_rnn(cell, [CHAPTER_X0, CHAPTER_X1])
        assert all(y.dtype == dtype for y in outputs)


def test_other_float_dtypes_are_cast_to_the_cell_dtype():
    X, h0, lengths = random_problem(dtype=np.float64)
    out, state = nr.dynamic_rnn(random_cell(), X, initial_state=h0, sequence_length=lengths)
    assert out.dtype == np.float32 and state.dtype == np.float32
    X, h0, lengths = random_problem(dtype=np.float32)
    out, state = nr.dynamic_rnn(
        random_cell(dtype=np.float64), X, initial_state=h0, sequence_length=lengths
    )
    assert out.dtype == np.float64 and state.dtype == np.float64


# ------------------------------------------------------------ torch.nn.RNN bridge


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_to_torch_rnn(nonlinearity, batch_first):
    torch = pytest.importorskip("torch")
    cell = random_cell(nonlinearity=nonlinearity)
    rnn = cell.to_torch_rnn(batch_first=batch_first)
    assert isinstance(rnn, torch.nn.RNN)
    assert (rnn.input_size, rnn.hidden_size, rnn.num_layers) == (3, 5, 1)
    assert rnn.nonlinearity == nonlinearity and rnn.batch_first is batch_first
    assert not rnn.bidirectional
    np.testing.assert_array_equal(rnn.weight_ih_l0.detach().numpy(), cell.Wx.T)
    np.testing.assert_array_equal(rnn.weight_hh_l0.detach().numpy(), cell.Wy.T)
    np.testing.assert_array_equal(rnn.bias_ih_l0.detach().numpy(), cell.b)
    assert_bitwise_zero(rnn.bias_hh_l0.detach().numpy())

    X, h0, _ = random_problem()
    expected, expected_state = nr.dynamic_rnn(cell, X, initial_state=h0)
    x = torch.from_numpy(X if batch_first else X.transpose(1, 0, 2).copy())
    with torch.no_grad():
        y, h_n = rnn(x, torch.from_numpy(h0)[None])
    y = y.numpy() if batch_first else y.numpy().transpose(1, 0, 2)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h_n[0].numpy(), expected_state, rtol=1e-5, atol=1e-5)


def test_to_torch_rnn_default_is_batch_first_and_keeps_float64():
    pytest.importorskip("torch")
    cell = random_cell(dtype=np.float64)
    rnn = cell.to_torch_rnn()
    assert rnn.batch_first is True
    np.testing.assert_array_equal(rnn.weight_ih_l0.detach().numpy(), cell.Wx.T)
    assert rnn.weight_hh_l0.dtype == rnn.bias_ih_l0.dtype == rnn.weight_ih_l0.dtype


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_from_torch_rnn(nonlinearity):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5, nonlinearity=nonlinearity, batch_first=True)
    cell = nr.BasicRNNCell.from_torch_rnn(rnn)
    assert isinstance(cell, nr.BasicRNNCell) and isinstance(cell.Wx, np.ndarray)
    assert (cell.n_inputs, cell.n_neurons, cell.nonlinearity) == (3, 5, nonlinearity)
    assert np.dtype(cell.dtype) == np.float32
    np.testing.assert_array_equal(cell.Wx, rnn.weight_ih_l0.detach().numpy().T)
    np.testing.assert_array_equal(cell.Wy, rnn.weight_hh_l0.detach().numpy().T)
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(cell.b, b, rtol=0, atol=1e-7)

    X, h0, lengths = random_problem()
    lengths = np.maximum(lengths, 1)  # packing rejects length 0
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch.from_numpy(X), torch.from_numpy(lengths), batch_first=True, enforce_sorted=False
    )
    with torch.no_grad():
        y, h_n = rnn(packed, torch.from_numpy(h0)[None])
    y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=6)
    out, state = nr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    np.testing.assert_allclose(out, y.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(state, h_n[0].numpy(), rtol=1e-5, atol=1e-5)


def test_from_torch_rnn_without_bias_and_in_float64():
    torch = pytest.importorskip("torch")
    rnn = torch.nn.RNN(2, 4, bias=False).double()
    cell = nr.BasicRNNCell.from_torch_rnn(rnn)
    assert np.dtype(cell.dtype) == np.float64
    assert cell.b.shape == (4,)
    assert_bitwise_zero(cell.b)
    np.testing.assert_array_equal(cell.Wy, rnn.weight_hh_l0.detach().numpy().T)


def test_torch_rnn_round_trip_keeps_the_weights():
    pytest.importorskip("torch")
    cell = random_cell(nonlinearity="relu")
    back = nr.BasicRNNCell.from_torch_rnn(cell.to_torch_rnn())
    assert back.nonlinearity == "relu"
    for w, w0 in zip(cell_arrays(back), cell_arrays(cell), strict=True):
        np.testing.assert_array_equal(w, w0)
