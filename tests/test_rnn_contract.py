"""The contract both backends keep: ``companion.numpy_rnn`` and ``companion.torch_rnn``.

CONTRIBUTING.md's "`companion` contracts" (chapters 1-5), written once and run once
per backend through the ``backend`` fixture: shapes, dtypes, seeds, the step
equation ``h_t = phi(x_t Wx + h_prev Wy + b)``, static and dynamic unrolling,
TensorFlow 1.x ``sequence_length`` semantics and the ``torch.nn.RNN`` bridge.
What only one backend has (devices, autograd, ``swap_memory``, ``nn.Module``
parameters, NumPy never importing torch) is in ``test_torch_rnn.py`` and
``test_numpy_rnn.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from strategies import (
    CHAPTER_LENGTHS,
    CHAPTER_X0,
    CHAPTER_X1,
    Backend,
    RNNCase,
    assert_bitwise_zero,
    chapter_by_hand,
    chapter_weights,
    random_weights,
    reference_rnn,
    rnn_cases,
)

CHAPTER_X = np.stack([CHAPTER_X0, CHAPTER_X1], axis=1)  # [batch=4, n_steps=2, n_inputs=3]


def random_cell(
    B: Backend, n_inputs=3, n_neurons=5, *, seed=0, dtype="float32", nonlinearity="tanh"
):
    """A cell with a non-zero bias (the default init has b = 0, which hides bias bugs)."""
    return B.module.BasicRNNCell.from_weights(
        *(B.array(w) for w in random_weights(n_inputs, n_neurons, seed)),
        nonlinearity=nonlinearity,
        dtype=B.dtype(dtype),
    )


def weights64(cell) -> list[np.ndarray]:
    """``Wx``, ``Wy``, ``b`` as float64 NumPy arrays, for computing expected values."""
    return [Backend.numpy(w).astype(np.float64) for w in (cell.Wx, cell.Wy, cell.b)]


def random_problem(batch=5, n_steps=6, n_inputs=3, n_neurons=5, seed=0, dtype=np.float32):
    """NumPy ``X``, ``h0`` and lengths that include 0 and the full length."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, n_steps, n_inputs)).astype(dtype)
    h0 = rng.standard_normal((batch, n_neurons)).astype(dtype)
    lengths = rng.integers(0, n_steps + 1, batch)
    lengths[:2] = [0, n_steps]
    return X, h0, lengths


def assert_equal(a, b) -> None:
    """Element for element the same, whatever the backend of ``a`` and ``b``."""
    np.testing.assert_array_equal(Backend.numpy(a), Backend.numpy(b))


def assert_close(a, b, tol: float) -> None:
    np.testing.assert_allclose(Backend.numpy(a), Backend.numpy(b), rtol=tol, atol=tol)


def time_steps(B: Backend, X: np.ndarray) -> list:
    """A batch-major array as ``static_rnn``'s list of ``[batch, n_inputs]`` steps."""
    return [B.array(X[:, t]) for t in range(X.shape[1])]


# --------------------------------------------------------------------------- cell


def test_cell_attributes_shapes_and_default_dtype(backend):
    cell = backend.module.BasicRNNCell(3, 5, seed=0)
    assert (cell.n_inputs, cell.n_neurons, cell.nonlinearity) == (3, 5, "tanh")
    assert backend.dtype_name(cell.dtype) == "float32"
    assert isinstance(cell.Wx, backend.array_type)
    assert tuple(cell.Wx.shape) == (3, 5)
    assert tuple(cell.Wy.shape) == (5, 5)
    assert tuple(cell.b.shape) == (5,)
    for w in (cell.Wx, cell.Wy, cell.b):
        assert backend.dtype_name(w.dtype) == "float32"


def test_cell_float64_weights(backend):
    cell = backend.module.BasicRNNCell(2, 4, dtype=backend.dtype("float64"), seed=0)
    assert backend.dtype_name(cell.dtype) == "float64"
    assert all(backend.dtype_name(w.dtype) == "float64" for w in (cell.Wx, cell.Wy, cell.b))


def test_init_is_uniform_in_plus_minus_one_over_sqrt_n_neurons_and_zero_bias(backend):
    # n_inputs != n_neurons, so a bound based on n_inputs would be caught.
    cell = backend.module.BasicRNNCell(40, 64, seed=1)
    k = 1 / np.sqrt(64)
    for w in (Backend.numpy(cell.Wx), Backend.numpy(cell.Wy)):
        assert np.all(np.abs(w) <= k)
        assert w.max() > 0.9 * k and w.min() < -0.9 * k  # spread over the interval
        assert abs(float(w.mean())) < 0.1 * k
    assert_bitwise_zero(Backend.numpy(cell.b))


def test_same_seed_same_weights_and_other_seed_other_weights(backend):
    Cell = backend.module.BasicRNNCell
    a, b, c = Cell(3, 5, seed=123), Cell(3, 5, seed=123), Cell(3, 5, seed=124)
    for wa, wb in zip((a.Wx, a.Wy, a.b), (b.Wx, b.Wy, b.b), strict=True):
        assert_equal(wa, wb)
    assert not np.array_equal(Backend.numpy(a.Wx), Backend.numpy(c.Wx))
    assert not np.array_equal(Backend.numpy(a.Wy), Backend.numpy(c.Wy))


def test_seed_accepts_a_generator_and_draws_from_it(backend):
    Cell = backend.module.BasicRNNCell
    a = Cell(3, 5, seed=np.random.default_rng(7))
    b = Cell(3, 5, seed=np.random.default_rng(7))
    assert_equal(a.Wx, b.Wx)
    assert_equal(a.Wy, b.Wy)
    shared = np.random.default_rng(7)
    first, second = Cell(3, 5, seed=shared), Cell(3, 5, seed=shared)
    assert not np.array_equal(Backend.numpy(first.Wx), Backend.numpy(second.Wx))  # it advanced


def test_seed_none_gives_fresh_weights(backend):
    Cell = backend.module.BasicRNNCell
    assert not np.array_equal(Backend.numpy(Cell(3, 5).Wx), Backend.numpy(Cell(3, 5).Wx))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 4])
def test_zero_state(backend, dtype, batch):
    h = backend.module.BasicRNNCell(3, 5, dtype=backend.dtype(dtype), seed=0).zero_state(batch)
    assert isinstance(h, backend.array_type)
    assert tuple(h.shape) == (batch, 5)
    assert backend.dtype_name(h.dtype) == dtype
    assert_bitwise_zero(Backend.numpy(h))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cell_step_equation(backend, dtype):
    cell = random_cell(backend, dtype=dtype)
    Wx, Wy, b = weights64(cell)
    rng = np.random.default_rng(1)
    x, h_prev = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    h = cell(backend.array(x.astype(dtype)), backend.array(h_prev.astype(dtype)))
    assert isinstance(h, backend.array_type)
    assert tuple(h.shape) == (4, 5) and backend.dtype_name(h.dtype) == dtype
    tol = 1e-6 if dtype == "float32" else 1e-13
    assert_close(h, np.tanh(x @ Wx + h_prev @ Wy + b), tol)


def test_cell_without_h_prev_starts_from_zeros(backend):
    cell = random_cell(backend)
    Wx, _, b = weights64(cell)
    x = np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32)
    assert_equal(cell(backend.array(x)), cell(backend.array(x), cell.zero_state(2)))
    assert_close(cell(backend.array(x)), np.tanh(x @ Wx + b), 1e-6)


def test_relu_nonlinearity(backend):
    cell = random_cell(backend, nonlinearity="relu")
    assert cell.nonlinearity == "relu"
    Wx, Wy, b = weights64(cell)
    x = 3 * np.random.default_rng(3).standard_normal((8, 3))
    h_prev = np.random.default_rng(4).standard_normal((8, 5))
    h = Backend.numpy(
        cell(backend.array(x.astype(np.float32)), backend.array(h_prev.astype(np.float32)))
    )
    np.testing.assert_allclose(h, np.maximum(x @ Wx + h_prev @ Wy + b, 0), rtol=1e-5, atol=1e-5)
    assert (h == 0).any() and (h > 1).any()  # clipped below, unbounded above: not tanh


def test_relu_via_constructor(backend):
    cell = backend.module.BasicRNNCell(3, 5, nonlinearity="relu", seed=0)
    X = 5 * np.random.default_rng(0).standard_normal((6, 4, 3))
    out, _ = backend.module.dynamic_rnn(cell, backend.array(X))
    ref, _ = reference_rnn(X, *weights64(cell), nonlinearity="relu")
    assert_close(out, ref, 1e-5)


def test_cell_casts_int_and_other_float_inputs_to_its_dtype(backend):
    cell = random_cell(backend)
    h = cell(backend.array(CHAPTER_X0))
    assert backend.dtype_name(h.dtype) == "float32"
    assert_equal(h, cell(backend.array(CHAPTER_X0.astype(np.float32))))
    h64_in = cell(backend.array(CHAPTER_X0.astype(np.float64)), backend.array(np.zeros((4, 5))))
    assert backend.dtype_name(h64_in.dtype) == "float32"
    cell64 = random_cell(backend, dtype="float64")
    x32, h32 = CHAPTER_X0.astype(np.float32), np.zeros((4, 5), np.float32)
    assert backend.dtype_name(cell64(backend.array(x32), backend.array(h32)).dtype) == "float64"


# ------------------------------------------------------------------- from_weights


def test_from_weights_sets_weights_sizes_and_default_zero_bias(backend):
    Wx, Wy, _ = chapter_weights()
    cell = backend.module.BasicRNNCell.from_weights(backend.array(Wx), backend.array(Wy))
    assert_equal(cell.Wx, Wx)
    assert_equal(cell.Wy, Wy)
    assert tuple(cell.b.shape) == (5,) and backend.dtype_name(cell.b.dtype) == "float32"
    assert_bitwise_zero(Backend.numpy(cell.b))
    assert (cell.n_inputs, cell.n_neurons, cell.nonlinearity) == (3, 5, "tanh")


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        (("float32", "float32", "float32"), "float32"),
        (("float64", "float64", "float64"), "float64"),
        (("float32", "float64", "float32"), "float64"),
        (("float32", "float32", "float64"), "float64"),
        (("int64", "int64", "int64"), "float32"),
        (("int32", "float32", "int64"), "float32"),
    ],
)
def test_from_weights_infers_dtype(backend, dtypes, expected):
    shapes = [(3, 5), (5, 5), (5,)]
    arrays = [backend.array(np.ones(s, dtype=d)) for s, d in zip(shapes, dtypes, strict=True)]
    cell = backend.module.BasicRNNCell.from_weights(*arrays)
    assert backend.dtype_name(cell.dtype) == expected
    assert all(backend.dtype_name(w.dtype) == expected for w in (cell.Wx, cell.Wy, cell.b))


def test_from_weights_explicit_dtype_wins(backend):
    Cell = backend.module.BasicRNNCell
    weights32 = [backend.array(w) for w in chapter_weights(dtype=np.float32)]
    cell = Cell.from_weights(*weights32, dtype=backend.dtype("float64"))
    assert backend.dtype_name(cell.dtype) == "float64"
    assert backend.dtype_name(cell.Wx.dtype) == "float64"
    weights64_ = [backend.array(w) for w in chapter_weights(dtype=np.float64)]
    cell = Cell.from_weights(*weights64_, dtype=backend.dtype("float32"))
    assert backend.dtype_name(cell.Wy.dtype) == "float32"


def test_from_weights_copies_the_arrays(backend):
    Wx, Wy, b = (backend.array(a) for a in chapter_weights())
    b += 0.5
    cell = backend.module.BasicRNNCell.from_weights(Wx, Wy, b)
    before = [Backend.numpy(w).copy() for w in (cell.Wx, cell.Wy, cell.b)]
    for source in (Wx, Wy, b):
        source[:] = 7.0
    for w, w0 in zip((cell.Wx, cell.Wy, cell.b), before, strict=True):
        assert_equal(w, w0)


def test_from_weights_relu(backend):
    weights = [backend.array(w) for w in chapter_weights()]
    cell = backend.module.BasicRNNCell.from_weights(*weights, nonlinearity="relu")
    assert cell.nonlinearity == "relu"


# ------------------------------------------------------------ the chapter example


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chapter_example_static_and_dynamic_equal_hand_unrolled(backend, dtype):
    Wx, Wy, b = chapter_weights(dtype=np.dtype(dtype))
    cell = backend.module.BasicRNNCell.from_weights(*map(backend.array, (Wx, Wy, b)))
    Y0, Y1 = chapter_by_hand(Wx, Wy, b)
    tol = 1e-5 if dtype == "float32" else 1e-12

    outputs, state = backend.module.static_rnn(cell, time_steps(backend, CHAPTER_X))
    assert isinstance(outputs, list) and len(outputs) == 2
    for y, ref in zip(outputs, [Y0, Y1], strict=True):
        assert isinstance(y, backend.array_type)
        assert tuple(y.shape) == (4, 5) and backend.dtype_name(y.dtype) == dtype
        assert_close(y, ref, tol)
    assert_equal(state, outputs[1])

    out, dstate = backend.module.dynamic_rnn(cell, backend.array(CHAPTER_X))
    assert isinstance(out, backend.array_type) and tuple(out.shape) == (4, 2, 5)
    assert backend.dtype_name(out.dtype) == backend.dtype_name(dstate.dtype) == dtype
    assert_close(out[:, 0], Y0, tol)
    assert_close(out[:, 1], Y1, tol)
    assert_equal(dstate, out[:, 1])


@pytest.mark.parametrize("unrolling", ["static", "dynamic"])
def test_chapter_example_with_sequence_length(backend, unrolling):
    """Instance 1 has one step: a 0.0 output at t = 1, its state is the output at t = 0."""
    cell = backend.module.BasicRNNCell.from_weights(*map(backend.array, chapter_weights()))
    lengths = backend.array(CHAPTER_LENGTHS)
    if unrolling == "static":
        full, _ = backend.module.static_rnn(cell, time_steps(backend, CHAPTER_X))
        full = np.stack([Backend.numpy(y) for y in full], axis=1)
        outputs, state = backend.module.static_rnn(
            cell, time_steps(backend, CHAPTER_X), sequence_length=lengths
        )
        out = np.stack([Backend.numpy(y) for y in outputs], axis=1)
    else:
        full, _ = backend.module.dynamic_rnn(cell, backend.array(CHAPTER_X))
        out, state = backend.module.dynamic_rnn(
            cell, backend.array(CHAPTER_X), sequence_length=lengths
        )
    out, state, full = Backend.numpy(out), Backend.numpy(state), Backend.numpy(full)
    assert_bitwise_zero(out[1, 1])
    np.testing.assert_array_equal(state[1], out[1, 0])
    np.testing.assert_array_equal(state[[0, 2, 3]], out[[0, 2, 3], 1])
    np.testing.assert_allclose(out[1, 0], full[1, 0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out[[0, 2, 3]], full[[0, 2, 3]], rtol=1e-6, atol=1e-6)


# ------------------------------------------------------- static_rnn / dynamic_rnn


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dynamic_rnn_matches_reference_with_lengths_and_initial_state(backend, nonlinearity, dtype):
    cell = random_cell(backend, nonlinearity=nonlinearity, dtype=dtype)
    X, h0, lengths = random_problem(dtype=np.dtype(dtype))
    out, state = backend.module.dynamic_rnn(
        cell,
        backend.array(X),
        sequence_length=backend.array(lengths),
        initial_state=backend.array(h0),
    )
    assert isinstance(out, backend.array_type) and isinstance(state, backend.array_type)
    assert tuple(out.shape) == (5, 6, 5) and tuple(state.shape) == (5, 5)
    assert backend.dtype_name(out.dtype) == backend.dtype_name(state.dtype) == dtype
    ref_out, ref_state = reference_rnn(
        X, *weights64(cell), initial_state=h0, sequence_length=lengths, nonlinearity=nonlinearity
    )
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_close(out, ref_out, tol)
    assert_close(state, ref_state, tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sequence_length_zero_outputs_and_carried_state_exactly(backend, dtype):
    cell = random_cell(backend, dtype=dtype)
    X, h0, lengths = random_problem(dtype=np.dtype(dtype))
    out, state = backend.module.dynamic_rnn(
        cell,
        backend.array(X),
        sequence_length=backend.array(lengths),
        initial_state=backend.array(h0),
    )
    out, state = Backend.numpy(out), Backend.numpy(state)
    for i, n in enumerate(lengths):
        assert_bitwise_zero(out[i, n:])
        np.testing.assert_array_equal(state[i], out[i, n - 1] if n > 0 else h0[i])


@given(rnn_cases(max_steps=5))
def test_static_rnn_equals_dynamic_rnn(backend, case: RNNCase):
    arrays = case.arrays(np.float64)
    X, h0 = arrays["X"], arrays["initial_state"]
    weights = [backend.array(arrays[k]) for k in ("Wx", "Wy", "b")]
    lengths = None if case.sequence_length is None else backend.array(case.sequence_length)
    kwargs = {
        "sequence_length": lengths,
        "initial_state": None if h0 is None else backend.array(h0),
    }
    cell = backend.module.BasicRNNCell.from_weights(*weights, nonlinearity=case.nonlinearity)
    out, state = backend.module.dynamic_rnn(cell, backend.array(X), **kwargs)
    if case.n_steps == 0 and h0 is None:
        return  # with no inputs and no state, static_rnn cannot know the batch
    outputs, s_state = backend.module.static_rnn(cell, time_steps(backend, X), **kwargs)
    assert isinstance(outputs, list) and len(outputs) == case.n_steps
    for t, y in enumerate(outputs):
        assert_close(y, out[:, t], 1e-12)
    assert_close(s_state, state, 1e-12)


def test_static_rnn_calls_the_cell_once_per_step(backend):
    """Chapter 5: static unrolling is one cell call per step, shared weights."""
    calls = []

    class SpyCell(backend.module.BasicRNNCell):
        def __call__(self, x_t, h_prev=None):
            calls.append(tuple(x_t.shape))
            return super().__call__(x_t, h_prev)

    spy = SpyCell(3, 5, seed=0)
    X, h0, _ = random_problem(n_steps=4)
    outputs, state = backend.module.static_rnn(
        spy, time_steps(backend, X), initial_state=backend.array(h0)
    )
    assert calls == [(5, 3)] * 4
    expected, expected_state = backend.module.dynamic_rnn(
        spy, backend.array(X), initial_state=backend.array(h0)
    )
    assert_close(np.stack([Backend.numpy(y) for y in outputs], axis=1), expected, 1e-6)
    assert_close(state, expected_state, 1e-6)


def test_static_rnn_accepts_a_tuple(backend):
    cell = random_cell(backend)
    steps = time_steps(backend, CHAPTER_X)
    a, _ = backend.module.static_rnn(cell, tuple(steps))
    b, _ = backend.module.static_rnn(cell, steps)
    for ya, yb in zip(a, b, strict=True):
        assert_equal(ya, yb)


def test_time_major_equals_transposed_batch_major(backend):
    cell = random_cell(backend)
    X, h0, lengths = random_problem()
    kwargs = {"sequence_length": backend.array(lengths), "initial_state": backend.array(h0)}
    out, state = backend.module.dynamic_rnn(cell, backend.array(X), **kwargs)
    X_tm = backend.array(X.transpose(1, 0, 2))
    out_tm, state_tm = backend.module.dynamic_rnn(cell, X_tm, time_major=True, **kwargs)
    assert tuple(out_tm.shape) == (6, 5, 5)
    assert_close(Backend.numpy(out_tm).transpose(1, 0, 2), out, 1e-6)
    assert_close(state_tm, state, 1e-6)


def test_initial_state_is_used(backend):
    cell = random_cell(backend)
    Wx, Wy, b = weights64(cell)
    X, h0, _ = random_problem()
    out, _ = backend.module.dynamic_rnn(cell, backend.array(X), initial_state=backend.array(h0))
    expected = np.tanh(X[:, 0] @ Wx + h0 @ Wy + b)
    assert_close(out[:, 0], expected, 1e-6)
    zero_out, _ = backend.module.dynamic_rnn(cell, backend.array(X))
    assert not np.allclose(Backend.numpy(out[:, 0]), Backend.numpy(zero_out[:, 0]))
    outputs, _ = backend.module.static_rnn(
        cell, [backend.array(X[:, 0])], initial_state=backend.array(h0)
    )
    assert_close(outputs[0], expected, 1e-6)


def test_sequence_length_none_means_full_length(backend):
    cell = random_cell(backend)
    X, h0, _ = random_problem()
    a = backend.module.dynamic_rnn(cell, backend.array(X), initial_state=backend.array(h0))
    b = backend.module.dynamic_rnn(
        cell,
        backend.array(X),
        initial_state=backend.array(h0),
        sequence_length=backend.array(np.full(5, 6)),
    )
    assert_close(a[0], b[0], 1e-6)
    assert_close(a[1], b[1], 1e-6)
    assert_equal(a[1], a[0][:, -1])


@pytest.mark.parametrize("int_dtype", [np.int32, np.int64, np.uint8])
def test_sequence_length_accepts_integer_dtypes(backend, int_dtype):
    cell = random_cell(backend)
    X, _, lengths = random_problem()
    a = backend.module.dynamic_rnn(cell, backend.array(X), sequence_length=backend.array(lengths))
    b = backend.module.dynamic_rnn(
        cell, backend.array(X), sequence_length=backend.array(lengths.astype(int_dtype))
    )
    assert_equal(a[0], b[0])


def test_padding_never_leaks_into_outputs_or_state(backend):
    cell = random_cell(backend)
    X, h0, lengths = random_problem()
    kwargs = {"sequence_length": backend.array(lengths), "initial_state": backend.array(h0)}
    clean_out, clean_state = backend.module.dynamic_rnn(cell, backend.array(X), **kwargs)
    dirty = X.copy()
    for i, n in enumerate(lengths):
        dirty[i, n:] = np.nan
    out, state = backend.module.dynamic_rnn(cell, backend.array(dirty), **kwargs)
    assert_equal(out, clean_out)
    assert_equal(state, clean_state)


def test_arguments_are_not_modified(backend):
    cell = random_cell(backend)
    X, h0, lengths = (backend.array(a) for a in random_problem())
    arguments = (X, h0, lengths, cell.Wx, cell.Wy, cell.b)
    copies = [Backend.numpy(a).copy() for a in arguments]
    backend.module.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    steps = [X[:, t] for t in range(X.shape[1])]
    backend.module.static_rnn(cell, steps, sequence_length=lengths, initial_state=h0)
    for a, a0 in zip(arguments, copies, strict=True):
        assert_equal(a, a0)


def test_zero_steps_dynamic(backend):
    cell = random_cell(backend)
    out, state = backend.module.dynamic_rnn(cell, backend.array(np.zeros((2, 0, 3), np.float32)))
    assert tuple(out.shape) == (2, 0, 5) and backend.dtype_name(out.dtype) == "float32"
    assert tuple(state.shape) == (2, 5) and backend.dtype_name(state.dtype) == "float32"
    assert_bitwise_zero(Backend.numpy(state))
    h0 = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    _, state = backend.module.dynamic_rnn(
        cell,
        backend.array(np.zeros((2, 0, 3))),
        initial_state=backend.array(h0),
        sequence_length=backend.array(np.array([0, 0])),
    )
    assert_equal(state, h0)
    out_tm, _ = backend.module.dynamic_rnn(
        cell, backend.array(np.zeros((0, 2, 3))), time_major=True
    )
    assert tuple(out_tm.shape) == (0, 2, 5)


def test_zero_steps_static(backend):
    cell = random_cell(backend)
    h0 = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    outputs, state = backend.module.static_rnn(cell, [], initial_state=backend.array(h0))
    assert outputs == []
    assert tuple(state.shape) == (2, 5) and backend.dtype_name(state.dtype) == "float32"
    assert_equal(state, h0)


def test_batch_of_one_and_single_step(backend):
    cell = random_cell(backend)
    Wx, _, b = weights64(cell)
    X = np.random.default_rng(5).standard_normal((1, 1, 3)).astype(np.float32)
    out, state = backend.module.dynamic_rnn(cell, backend.array(X))
    assert tuple(out.shape) == (1, 1, 5) and tuple(state.shape) == (1, 5)
    assert_close(out[0, 0], np.tanh(X[0, 0] @ Wx + b), 1e-6)
    outputs, s_state = backend.module.static_rnn(cell, [backend.array(X[:, 0])])
    assert_close(outputs[0], out[:, 0], 1e-6)
    assert_close(s_state, state, 1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_int_inputs_are_cast_to_the_cell_dtype(backend, dtype):
    cell = random_cell(backend, dtype=dtype)
    out, state = backend.module.dynamic_rnn(cell, backend.array(CHAPTER_X))
    ref, _ = backend.module.dynamic_rnn(cell, backend.array(CHAPTER_X.astype(dtype)))
    assert backend.dtype_name(out.dtype) == backend.dtype_name(state.dtype) == dtype
    assert_equal(out, ref)
    outputs, _ = backend.module.static_rnn(cell, time_steps(backend, CHAPTER_X))
    assert all(backend.dtype_name(y.dtype) == dtype for y in outputs)


@pytest.mark.parametrize(
    ("cell_dtype", "input_dtype"), [("float32", "float64"), ("float64", "float32")]
)
def test_other_float_dtypes_are_cast_to_the_cell_dtype(backend, cell_dtype, input_dtype):
    cell = random_cell(backend, dtype=cell_dtype)
    X, h0, lengths = random_problem(dtype=np.dtype(input_dtype))
    out, state = backend.module.dynamic_rnn(
        cell,
        backend.array(X),
        initial_state=backend.array(h0),
        sequence_length=backend.array(lengths),
    )
    assert backend.dtype_name(out.dtype) == backend.dtype_name(state.dtype) == cell_dtype
    outputs, state = backend.module.static_rnn(
        cell, time_steps(backend, X), initial_state=backend.array(h0)
    )
    assert backend.dtype_name(outputs[0].dtype) == backend.dtype_name(state.dtype) == cell_dtype


# ------------------------------------------------------------ torch.nn.RNN bridge


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_to_torch_rnn(backend, nonlinearity, batch_first):
    cell = random_cell(backend, nonlinearity=nonlinearity)
    rnn = cell.to_torch_rnn(batch_first=batch_first)
    assert isinstance(rnn, torch.nn.RNN)
    assert (rnn.input_size, rnn.hidden_size, rnn.num_layers) == (3, 5, 1)
    assert rnn.nonlinearity == nonlinearity and rnn.batch_first is batch_first
    assert not rnn.bidirectional
    assert_equal(rnn.weight_ih_l0, Backend.numpy(cell.Wx).T)
    assert_equal(rnn.weight_hh_l0, Backend.numpy(cell.Wy).T)
    assert_equal(rnn.bias_ih_l0, cell.b)
    assert_bitwise_zero(Backend.numpy(rnn.bias_hh_l0))

    X, h0, _ = random_problem()
    expected, expected_state = backend.module.dynamic_rnn(
        cell, backend.array(X), initial_state=backend.array(h0)
    )
    x = torch.from_numpy(X if batch_first else X.transpose(1, 0, 2).copy())
    with torch.no_grad():
        y, h_n = rnn(x, torch.from_numpy(h0)[None])
    y = y.numpy() if batch_first else y.numpy().transpose(1, 0, 2)
    assert_close(y, expected, 1e-5)
    assert_close(h_n[0], expected_state, 1e-5)


def test_to_torch_rnn_default_is_batch_first_and_keeps_float64(backend):
    cell = random_cell(backend, dtype="float64")
    rnn = cell.to_torch_rnn()
    assert rnn.batch_first is True
    assert all(p.dtype == torch.float64 for p in rnn.parameters())
    assert_equal(rnn.weight_ih_l0, Backend.numpy(cell.Wx).T)
    assert_equal(rnn.weight_hh_l0, Backend.numpy(cell.Wy).T)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_from_torch_rnn(backend, nonlinearity):
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5, nonlinearity=nonlinearity, batch_first=True)
    cell = backend.module.BasicRNNCell.from_torch_rnn(rnn)
    assert isinstance(cell, backend.module.BasicRNNCell)
    assert isinstance(cell.Wx, backend.array_type)
    assert (cell.n_inputs, cell.n_neurons, cell.nonlinearity) == (3, 5, nonlinearity)
    assert backend.dtype_name(cell.dtype) == "float32"
    assert_equal(cell.Wx, Backend.numpy(rnn.weight_ih_l0).T)
    assert_equal(cell.Wy, Backend.numpy(rnn.weight_hh_l0).T)
    b = Backend.numpy(rnn.bias_ih_l0 + rnn.bias_hh_l0)
    np.testing.assert_allclose(Backend.numpy(cell.b), b, rtol=0, atol=1e-7)

    X, h0, lengths = random_problem()
    lengths = np.maximum(lengths, 1)  # packing rejects length 0
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch.from_numpy(X), torch.from_numpy(lengths), batch_first=True, enforce_sorted=False
    )
    with torch.no_grad():
        y, h_n = rnn(packed, torch.from_numpy(h0)[None])
    y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=6)
    out, state = backend.module.dynamic_rnn(
        cell,
        backend.array(X),
        sequence_length=backend.array(lengths),
        initial_state=backend.array(h0),
    )
    assert_close(out, y, 1e-5)
    assert_close(state, h_n[0], 1e-5)


def test_from_torch_rnn_without_bias_and_in_float64(backend):
    rnn = torch.nn.RNN(2, 4, bias=False).double()
    cell = backend.module.BasicRNNCell.from_torch_rnn(rnn)
    assert backend.dtype_name(cell.dtype) == "float64"
    assert tuple(cell.b.shape) == (4,)
    assert_bitwise_zero(Backend.numpy(cell.b))
    assert_equal(cell.Wy, Backend.numpy(rnn.weight_hh_l0).T)


@pytest.mark.parametrize("batch_first", [True, False])
def test_torch_rnn_round_trip_keeps_the_weights(backend, batch_first):
    cell = random_cell(backend, nonlinearity="relu")
    back = backend.module.BasicRNNCell.from_torch_rnn(cell.to_torch_rnn(batch_first=batch_first))
    assert back.nonlinearity == "relu"
    for w, w0 in zip((back.Wx, back.Wy, back.b), (cell.Wx, cell.Wy, cell.b), strict=True):
        assert_equal(w, w0)
