"""Unit tests of ``companion.torch_rnn``, the PyTorch implementation (CPU here).

Same contract as the NumPy reference (CONTRIBUTING.md, "`companion` contracts"), plus
what PyTorch adds: the cell is an ``nn.Module`` with parameters ``Wx``, ``Wy``,
``b``; NumPy inputs are accepted; autograd reaches X, the initial state and the
parameters; ``swap_memory=True`` changes nothing but where activations live.
GPU behaviour is in ``test_gpu.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from strategies import (
    CHAPTER_LENGTHS,
    CHAPTER_X0,
    CHAPTER_X1,
    assert_bitwise_zero,
    chapter_by_hand,
    chapter_weights,
    random_weights,
    reference_rnn,
)

from companion import numpy_rnn as nr
from companion import torch_rnn as tr


def random_cell(n_inputs=3, n_neurons=5, *, seed=0, dtype=torch.float32, nonlinearity="tanh"):
    """A cell with a non-zero bias (the default init has b = 0, which hides bias bugs)."""
    weights = random_weights(n_inputs, n_neurons, seed)
    return tr.BasicRNNCell.from_weights(
        *(torch.from_numpy(w) for w in weights),  # tensors: from_weights' tensor path
        nonlinearity=nonlinearity,
        dtype=dtype,
    )


def np_weights(cell) -> list[np.ndarray]:
    return [w.detach().numpy().astype(np.float64) for w in (cell.Wx, cell.Wy, cell.b)]


def random_problem(batch=5, n_steps=6, n_inputs=3, n_neurons=5, seed=0, dtype=torch.float32):
    rng = np.random.default_rng(seed)
    X = torch.from_numpy(rng.standard_normal((batch, n_steps, n_inputs))).to(dtype)
    h0 = torch.from_numpy(rng.standard_normal((batch, n_neurons))).to(dtype)
    lengths = rng.integers(0, n_steps + 1, batch)
    lengths[:2] = [0, n_steps]
    return X, h0, torch.from_numpy(lengths)


# --------------------------------------------------------------------------- cell


def test_cell_is_a_module_with_exactly_three_named_parameters():
    cell = tr.BasicRNNCell(3, 5, seed=0)
    assert isinstance(cell, torch.nn.Module)
    params = dict(cell.named_parameters())
    assert set(params) == {"Wx", "Wy", "b"}
    assert len(list(cell.parameters())) == 3
    assert params["Wx"] is cell.Wx and params["Wy"] is cell.Wy and params["b"] is cell.b
    assert all(p.requires_grad for p in params.values())
    assert set(cell.state_dict()) == {"Wx", "Wy", "b"}


def test_cell_attributes_shapes_and_default_dtype():
    cell = tr.BasicRNNCell(3, 5, seed=0)
    assert (cell.n_inputs, cell.n_neurons, cell.nonlinearity) == (3, 5, "tanh")
    assert cell.dtype == torch.float32
    assert tuple(cell.Wx.shape) == (3, 5)
    assert tuple(cell.Wy.shape) == (5, 5)
    assert tuple(cell.b.shape) == (5,)
    assert all(w.dtype == torch.float32 and w.device.type == "cpu" for w in cell.parameters())


def test_cell_float64_and_explicit_cpu_device():
    cell = tr.BasicRNNCell(2, 4, dtype=torch.float64, device="cpu", seed=0)
    assert cell.dtype == torch.float64
    assert all(w.dtype == torch.float64 for w in cell.parameters())
    assert cell.zero_state(3).device.type == "cpu"


def test_init_is_uniform_in_plus_minus_one_over_sqrt_n_neurons_and_zero_bias():
    cell = tr.BasicRNNCell(40, 64, seed=1)
    k = 1 / np.sqrt(64)
    for w in (cell.Wx.detach().numpy(), cell.Wy.detach().numpy()):
        assert np.all(np.abs(w) <= k)
        assert w.max() > 0.9 * k and w.min() < -0.9 * k
    assert_bitwise_zero(cell.b.detach().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 123])
def test_same_seed_same_weights_as_the_numpy_backend(dtype, seed):
    t = tr.BasicRNNCell(3, 5, seed=seed, dtype=getattr(torch, dtype))
    n = nr.BasicRNNCell(3, 5, seed=seed, dtype=np.dtype(dtype).type)
    for tw, nw in zip((t.Wx, t.Wy, t.b), (n.Wx, n.Wy, n.b), strict=True):
        assert tw.detach().numpy().dtype == nw.dtype
        np.testing.assert_array_equal(tw.detach().numpy(), nw)
    t_gen = tr.BasicRNNCell(3, 5, seed=np.random.default_rng(seed), dtype=getattr(torch, dtype))
    n_gen = nr.BasicRNNCell(3, 5, seed=np.random.default_rng(seed), dtype=np.dtype(dtype).type)
    np.testing.assert_array_equal(t_gen.Wy.detach().numpy(), n_gen.Wy)


def test_same_seed_same_weights_and_other_seed_other_weights():
    a, b, c = (tr.BasicRNNCell(3, 5, seed=s) for s in (9, 9, 10))
    assert torch.equal(a.Wx, b.Wx) and torch.equal(a.Wy, b.Wy)
    assert not torch.equal(a.Wx, c.Wx)
    shared = np.random.default_rng(7)
    assert not torch.equal(
        tr.BasicRNNCell(3, 5, seed=shared).Wx, tr.BasicRNNCell(3, 5, seed=shared).Wx
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_zero_state(dtype):
    h = tr.BasicRNNCell(3, 5, dtype=dtype, seed=0).zero_state(4)
    assert isinstance(h, torch.Tensor)
    assert tuple(h.shape) == (4, 5) and h.dtype == dtype and h.device.type == "cpu"
    assert_bitwise_zero(h.numpy())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cell_step_equation(dtype):
    cell = random_cell(dtype=dtype)
    Wx, Wy, b = np_weights(cell)
    rng = np.random.default_rng(1)
    x, h_prev = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    h = cell(torch.from_numpy(x).to(dtype), torch.from_numpy(h_prev).to(dtype))
    assert isinstance(h, torch.Tensor) and tuple(h.shape) == (4, 5) and h.dtype == dtype
    tol = 1e-6 if dtype == torch.float32 else 1e-13
    expected = np.tanh(x @ Wx + h_prev @ Wy + b)
    np.testing.assert_allclose(h.detach().numpy(), expected, rtol=tol, atol=tol)
    assert torch.equal(
        cell(torch.from_numpy(x).to(dtype)), cell(torch.from_numpy(x).to(dtype), cell.zero_state(4))
    )


def test_relu_nonlinearity():
    cell = random_cell(nonlinearity="relu")
    Wx, Wy, b = np_weights(cell)
    x = 3 * np.random.default_rng(3).standard_normal((8, 3))
    h_prev = np.random.default_rng(4).standard_normal((8, 5))
    h = cell(torch.from_numpy(x).float(), torch.from_numpy(h_prev).float()).detach().numpy()
    np.testing.assert_allclose(h, np.maximum(x @ Wx + h_prev @ Wy + b, 0), rtol=1e-5, atol=1e-5)
    assert (h == 0).any() and (h > 1).any()


def test_cell_accepts_numpy_and_int_inputs():
    cell = random_cell()
    h_np = cell(CHAPTER_X0)
    h_int = cell(torch.from_numpy(CHAPTER_X0))
    assert isinstance(h_np, torch.Tensor) and h_np.dtype == torch.float32
    assert torch.equal(h_np, h_int)
    assert torch.equal(h_np, cell(torch.from_numpy(CHAPTER_X0).float()))
    assert cell(
        torch.from_numpy(CHAPTER_X0).double(), torch.zeros(4, 5, dtype=torch.float64)
    ).dtype == (torch.float32)


def test_module_to_dtype_changes_the_computation_dtype():
    cell = random_cell()
    X, h0, lengths = random_problem()
    out32, _ = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    cell.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in cell.parameters())
    assert cell.dtype == torch.float64
    assert cell.zero_state(2).dtype == torch.float64
    out64, state64 = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    assert out64.dtype == torch.float64 and state64.dtype == torch.float64
    torch.testing.assert_close(out64.float(), out32, rtol=1e-5, atol=1e-5)
    cell.to("cpu")
    assert all(p.device.type == "cpu" for p in cell.parameters())


# ------------------------------------------------------------------- from_weights


def test_from_weights_accepts_arrays_and_tensors_and_defaults_to_zero_bias():
    Wx, Wy, _ = chapter_weights()
    from_np = tr.BasicRNNCell.from_weights(Wx, Wy)
    from_t = tr.BasicRNNCell.from_weights(torch.from_numpy(Wx), torch.from_numpy(Wy))
    for cell in (from_np, from_t):
        assert isinstance(cell, tr.BasicRNNCell) and isinstance(cell.Wx, torch.nn.Parameter)
        np.testing.assert_array_equal(cell.Wx.detach().numpy(), Wx)
        np.testing.assert_array_equal(cell.Wy.detach().numpy(), Wy)
        assert tuple(cell.b.shape) == (5,) and cell.b.dtype == torch.float32
        assert_bitwise_zero(cell.b.detach().numpy())
        assert (cell.n_inputs, cell.n_neurons) == (3, 5)
        assert {n for n, _ in cell.named_parameters()} == {"Wx", "Wy", "b"}


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        ((torch.float32, torch.float32, torch.float32), torch.float32),
        ((torch.float64, torch.float64, torch.float64), torch.float64),
        ((torch.float32, torch.float64, torch.float32), torch.float64),
        ((torch.int64, torch.int64, torch.int64), torch.float32),
    ],
)
def test_from_weights_infers_dtype_from_tensors(dtypes, expected):
    tensors = [
        torch.ones(shape, dtype=d) for shape, d in zip([(3, 5), (5, 5), (5,)], dtypes, strict=True)
    ]
    cell = tr.BasicRNNCell.from_weights(*tensors)
    assert cell.dtype == expected
    assert all(p.dtype == expected for p in cell.parameters())


def test_from_weights_infers_dtype_from_numpy_arrays():
    Wx, Wy, b = chapter_weights(dtype=np.float64)
    assert tr.BasicRNNCell.from_weights(Wx, Wy, b).dtype == torch.float64
    assert tr.BasicRNNCell.from_weights(Wx.astype(int), Wy.astype(int)).dtype == torch.float32
    assert tr.BasicRNNCell.from_weights(Wx, Wy, dtype=torch.float32).Wx.dtype == torch.float32


def test_from_weights_copies_and_makes_leaf_parameters():
    src = [torch.randn(3, 5, requires_grad=True), torch.randn(5, 5), torch.randn(5)]
    cell = tr.BasicRNNCell.from_weights(*src)
    before = [p.detach().clone() for p in (cell.Wx, cell.Wy, cell.b)]
    with torch.no_grad():
        for s in src:
            s.add_(1.0)
    for p, p0 in zip((cell.Wx, cell.Wy, cell.b), before, strict=True):
        assert torch.equal(p.detach(), p0)
        assert p.is_leaf and p.requires_grad
    Wx_np = np.ones((3, 5), np.float32)
    cell = tr.BasicRNNCell.from_weights(Wx_np, np.ones((5, 5), np.float32))
    Wx_np[:] = 5
    assert torch.all(cell.Wx == 1)


# ------------------------------------------------------------ the chapter example


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chapter_example_static_and_dynamic_equal_hand_unrolled(dtype):
    Wx, Wy, b = chapter_weights(dtype=dtype)
    cell = tr.BasicRNNCell.from_weights(torch.from_numpy(Wx), torch.from_numpy(Wy))
    Y0, Y1 = chapter_by_hand(Wx, Wy, b)
    tol = 1e-5 if dtype == np.float32 else 1e-12

    outputs, state = tr.static_rnn(
        cell, [torch.from_numpy(CHAPTER_X0), torch.from_numpy(CHAPTER_X1)]
    )
    assert isinstance(outputs, list) and len(outputs) == 2
    for y, ref in zip(outputs, [Y0, Y1], strict=True):
        assert isinstance(y, torch.Tensor) and tuple(y.shape) == (4, 5)
        np.testing.assert_allclose(y.detach().numpy(), ref, rtol=tol, atol=tol)
    assert torch.equal(state, outputs[1])

    X = np.stack([CHAPTER_X0, CHAPTER_X1], axis=1)
    out, dstate = tr.dynamic_rnn(cell, X)  # a NumPy int array straight from the chapter
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (4, 2, 5)
    np.testing.assert_allclose(out[:, 0].detach().numpy(), Y0, rtol=tol, atol=tol)
    np.testing.assert_allclose(out[:, 1].detach().numpy(), Y1, rtol=tol, atol=tol)
    assert torch.equal(dstate, out[:, 1])


@pytest.mark.parametrize("as_tensor", [True, False])
def test_chapter_example_with_sequence_length(as_tensor):
    cell = tr.BasicRNNCell.from_weights(*chapter_weights())
    X = torch.from_numpy(np.stack([CHAPTER_X0, CHAPTER_X1], axis=1))
    lengths = torch.from_numpy(CHAPTER_LENGTHS) if as_tensor else CHAPTER_LENGTHS
    full, _ = tr.dynamic_rnn(cell, X)
    for out, state in [
        tr.dynamic_rnn(cell, X, sequence_length=lengths),
        (lambda o, s: (torch.stack(o, dim=1), s))(
            *tr.static_rnn(cell, [X[:, 0], X[:, 1]], sequence_length=lengths)
        ),
    ]:
        out, state = out.detach(), state.detach()
        assert_bitwise_zero(out[1, 1].numpy())
        assert torch.equal(state[1], out[1, 0])
        assert torch.equal(state[[0, 2, 3]], out[[0, 2, 3], 1])
        torch.testing.assert_close(out[[0, 2, 3]], full[[0, 2, 3]].detach(), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------- static_rnn / dynamic_rnn


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dynamic_rnn_matches_reference(nonlinearity, dtype):
    cell = random_cell(nonlinearity=nonlinearity, dtype=dtype)
    X, h0, lengths = random_problem(dtype=dtype)
    out, state = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    assert tuple(out.shape) == (5, 6, 5) and tuple(state.shape) == (5, 5)
    assert out.dtype == dtype and state.dtype == dtype
    ref_out, ref_state = reference_rnn(
        X.numpy(),
        *np_weights(cell),
        initial_state=h0.numpy(),
        sequence_length=lengths.numpy(),
        nonlinearity=nonlinearity,
    )
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    np.testing.assert_allclose(out.detach().numpy(), ref_out, rtol=tol, atol=tol)
    np.testing.assert_allclose(state.detach().numpy(), ref_state, rtol=tol, atol=tol)
    for i, n in enumerate(lengths.tolist()):
        assert_bitwise_zero(out[i, n:].detach().numpy())
        assert torch.equal(state[i], out[i, n - 1] if n > 0 else h0[i])


def test_static_rnn_equals_dynamic_rnn():
    cell = random_cell()
    X, h0, lengths = random_problem()
    out, state = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    outputs, sstate = tr.static_rnn(
        cell, tuple(X.unbind(1)), sequence_length=lengths, initial_state=h0
    )
    assert isinstance(outputs, list) and len(outputs) == 6
    torch.testing.assert_close(torch.stack(outputs, 1), out, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(sstate, state, rtol=1e-6, atol=1e-6)


def test_static_rnn_calls_the_cell_once_per_step():
    """Chapter 5: static unrolling is one cell call per step, shared weights."""
    calls = []

    class SpyCell(tr.BasicRNNCell):
        def forward(self, x_t, h_prev=None):
            calls.append(tuple(x_t.shape))
            return super().forward(x_t, h_prev)

    spy = SpyCell(3, 5, seed=0)
    X, h0, _ = random_problem(n_steps=4)
    outputs, state = tr.static_rnn(spy, list(X.unbind(1)), initial_state=h0)
    assert calls == [(5, 3)] * 4
    expected, expected_state = tr.dynamic_rnn(spy, X, initial_state=h0)
    torch.testing.assert_close(torch.stack(outputs, 1), expected, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(state, expected_state, rtol=1e-6, atol=1e-6)


def test_time_major_equals_transposed_batch_major():
    cell = random_cell()
    X, h0, lengths = random_problem()
    out, state = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    out_tm, state_tm = tr.dynamic_rnn(
        cell, X.transpose(0, 1), sequence_length=lengths, initial_state=h0, time_major=True
    )
    assert tuple(out_tm.shape) == (6, 5, 5)
    torch.testing.assert_close(out_tm.transpose(0, 1), out, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(state_tm, state, rtol=1e-6, atol=1e-6)


def test_initial_state_is_used():
    cell = random_cell()
    X, h0, _ = random_problem()
    out, _ = tr.dynamic_rnn(cell, X, initial_state=h0)
    expected = torch.tanh(X[:, 0] @ cell.Wx + h0 @ cell.Wy + cell.b)
    torch.testing.assert_close(out[:, 0], expected, rtol=1e-6, atol=1e-6)
    outputs, _ = tr.static_rnn(cell, [X[:, 0]], initial_state=h0)
    torch.testing.assert_close(outputs[0], expected, rtol=1e-6, atol=1e-6)


def test_numpy_inputs_everywhere():
    cell = random_cell()
    X, h0, lengths = random_problem()
    a = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    b = tr.dynamic_rnn(cell, X.numpy(), sequence_length=lengths.numpy(), initial_state=h0.numpy())
    assert isinstance(b[0], torch.Tensor) and isinstance(b[1], torch.Tensor)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_int_and_other_float_inputs_are_cast():
    cell = random_cell()
    X_int = torch.from_numpy(np.stack([CHAPTER_X0, CHAPTER_X1], axis=1))
    out, state = tr.dynamic_rnn(cell, X_int)
    assert out.dtype == state.dtype == torch.float32
    assert torch.equal(out, tr.dynamic_rnn(cell, X_int.float())[0])
    X, h0, lengths = random_problem(dtype=torch.float64)
    out, state = tr.dynamic_rnn(cell, X, initial_state=h0, sequence_length=lengths)
    assert out.dtype == state.dtype == torch.float32
    cell64 = random_cell(dtype=torch.float64)
    outputs, state = tr.static_rnn(cell64, [X_int[:, 0].float()], initial_state=h0[:4].float())
    assert outputs[0].dtype == state.dtype == torch.float64


@pytest.mark.parametrize("int_dtype", [torch.int32, torch.int64])
def test_sequence_length_integer_tensors(int_dtype):
    cell = random_cell()
    X, _, lengths = random_problem()
    a = tr.dynamic_rnn(cell, X, sequence_length=lengths)
    b = tr.dynamic_rnn(cell, X, sequence_length=lengths.to(int_dtype))
    assert torch.equal(a[0], b[0])


def test_padding_never_leaks_into_outputs_or_state():
    cell = random_cell()
    X, h0, lengths = random_problem()
    clean = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    dirty = X.clone()
    for i, n in enumerate(lengths.tolist()):
        dirty[i, n:] = float("nan")
    out, state = tr.dynamic_rnn(cell, dirty, sequence_length=lengths, initial_state=h0)
    assert torch.equal(out, clean[0]) and torch.equal(state, clean[1])


def test_arguments_are_not_modified():
    cell = random_cell()
    X, h0, lengths = random_problem()
    copies = [t.clone() for t in (X, h0, lengths, cell.Wx, cell.Wy, cell.b)]
    tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    tr.static_rnn(cell, list(X.unbind(1)), sequence_length=lengths, initial_state=h0)
    for t, t0 in zip((X, h0, lengths, cell.Wx, cell.Wy, cell.b), copies, strict=True):
        assert torch.equal(t, t0)


def test_zero_steps():
    cell = random_cell()
    h0 = torch.randn(2, 5)
    out, state = tr.dynamic_rnn(cell, torch.zeros(2, 0, 3))
    assert tuple(out.shape) == (2, 0, 5) and out.dtype == torch.float32
    assert tuple(state.shape) == (2, 5)
    assert_bitwise_zero(state.detach().numpy())
    _, state = tr.dynamic_rnn(
        cell, torch.zeros(2, 0, 3), initial_state=h0, sequence_length=torch.zeros(2, dtype=int)
    )
    assert torch.equal(state, h0)
    assert tuple(tr.dynamic_rnn(cell, torch.zeros(0, 2, 3), time_major=True)[0].shape) == (0, 2, 5)
    outputs, state = tr.static_rnn(cell, [], initial_state=h0)
    assert outputs == [] and torch.equal(state, h0)


def test_batch_of_one_and_single_step():
    cell = random_cell()
    X = torch.randn(1, 1, 3)
    out, state = tr.dynamic_rnn(cell, X)
    assert tuple(out.shape) == (1, 1, 5) and tuple(state.shape) == (1, 5)
    torch.testing.assert_close(out[0, 0], torch.tanh(X[0, 0] @ cell.Wx + cell.b))
    outputs, sstate = tr.static_rnn(cell, [X[:, 0]])
    torch.testing.assert_close(outputs[0], out[:, 0], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(sstate, state, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------- autograd


def test_gradients_reach_inputs_initial_state_and_parameters():
    cell = random_cell()
    X, h0, lengths = random_problem()
    X.requires_grad_(True)
    h0.requires_grad_(True)
    out, state = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    (out.square().sum() + state.sum()).backward()
    for t in (X, h0, cell.Wx, cell.Wy, cell.b):
        assert t.grad is not None and t.grad.shape == t.shape
        assert torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0
    # Padding steps do not influence anything, so their input gradient is zero.
    for i, n in enumerate(lengths.tolist()):
        assert torch.all(X.grad[i, n:] == 0)


def test_static_rnn_gradients_reach_every_step():
    cell = random_cell()
    xs = [torch.randn(2, 3, requires_grad=True) for _ in range(3)]
    outputs, state = tr.static_rnn(cell, xs)
    state.sum().backward()
    assert all(x.grad is not None and x.grad.abs().sum() > 0 for x in xs)


@pytest.mark.parametrize("time_major", [False, True])
def test_swap_memory_gives_identical_outputs_and_gradients(time_major):
    results = []
    for swap in (False, True):
        cell = random_cell(dtype=torch.float64)
        X, h0, lengths = random_problem(dtype=torch.float64)
        if time_major:
            X = X.transpose(0, 1).contiguous()
        X.requires_grad_(True)
        h0.requires_grad_(True)
        out, state = tr.dynamic_rnn(
            cell,
            X,
            sequence_length=lengths,
            initial_state=h0,
            time_major=time_major,
            swap_memory=swap,
        )
        (out.sin().sum() + (state * 3).sum()).backward()
        results.append(
            [out.detach(), state.detach(), X.grad, h0.grad]
            + [p.grad for p in (cell.Wx, cell.Wy, cell.b)]
        )
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)


def test_swap_memory_saves_activations_through_save_on_cpu():
    """With swap_memory the tensors kept for backward go through save_on_cpu's hooks.

    Saved-tensor hooks nest and the innermost wins: an outer recording hook sees
    the saved activations without swap_memory and none with it.
    """
    cell = random_cell()
    X, h0, lengths = random_problem()
    X.requires_grad_(True)
    for swap, expect_outer in [(False, True), (True, False)]:
        seen = []

        def pack(t, seen=seen):
            seen.append(t.shape)
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out, state = tr.dynamic_rnn(
                cell, X, sequence_length=lengths, initial_state=h0, swap_memory=swap
            )
        assert bool(seen) is expect_outer, (swap, seen)
        out.sum().backward()  # unpacking works after the context has closed


# ------------------------------------------------------------ torch.nn.RNN bridge


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_to_torch_rnn(nonlinearity, batch_first):
    cell = random_cell(nonlinearity=nonlinearity)
    rnn = cell.to_torch_rnn(batch_first=batch_first)
    assert isinstance(rnn, torch.nn.RNN)
    assert (rnn.input_size, rnn.hidden_size, rnn.num_layers) == (3, 5, 1)
    assert rnn.nonlinearity == nonlinearity and rnn.batch_first is batch_first
    assert torch.equal(rnn.weight_ih_l0, cell.Wx.T)
    assert torch.equal(rnn.weight_hh_l0, cell.Wy.T)
    assert torch.equal(rnn.bias_ih_l0, cell.b)
    assert_bitwise_zero(rnn.bias_hh_l0.detach().numpy())
    X, h0, _ = random_problem()
    out, state = tr.dynamic_rnn(cell, X, initial_state=h0)
    y, h_n = rnn(X if batch_first else X.transpose(0, 1), h0[None])
    torch.testing.assert_close(y if batch_first else y.transpose(0, 1), out, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(h_n[0], state, rtol=1e-5, atol=1e-5)


def test_to_torch_rnn_default_is_batch_first_and_keeps_float64():
    cell = random_cell(dtype=torch.float64)
    rnn = cell.to_torch_rnn()
    assert rnn.batch_first is True
    assert all(p.dtype == torch.float64 for p in rnn.parameters())
    assert torch.equal(rnn.weight_hh_l0, cell.Wy.T)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_from_torch_rnn(nonlinearity):
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5, nonlinearity=nonlinearity)
    cell = tr.BasicRNNCell.from_torch_rnn(rnn)
    assert isinstance(cell, tr.BasicRNNCell)
    assert (cell.n_inputs, cell.n_neurons, cell.nonlinearity) == (3, 5, nonlinearity)
    assert cell.dtype == torch.float32
    assert torch.equal(cell.Wx, rnn.weight_ih_l0.T)
    assert torch.equal(cell.Wy, rnn.weight_hh_l0.T)
    torch.testing.assert_close(cell.b, rnn.bias_ih_l0 + rnn.bias_hh_l0, rtol=0, atol=1e-7)
    assert {n for n, _ in cell.named_parameters()} == {"Wx", "Wy", "b"}


def test_from_torch_rnn_without_bias_and_in_float64():
    rnn = torch.nn.RNN(2, 4, bias=False).double()
    cell = tr.BasicRNNCell.from_torch_rnn(rnn)
    assert cell.dtype == torch.float64
    assert tuple(cell.b.shape) == (4,)
    assert_bitwise_zero(cell.b.detach().numpy())


def test_torch_rnn_round_trip_keeps_the_weights():
    cell = random_cell(nonlinearity="relu")
    back = tr.BasicRNNCell.from_torch_rnn(cell.to_torch_rnn(batch_first=False))
    assert back.nonlinearity == "relu"
    for p, p0 in zip(back.parameters(), cell.parameters(), strict=True):
        assert torch.equal(p, p0)
