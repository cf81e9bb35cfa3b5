"""What only ``companion.torch_rnn``, the PyTorch backend of chapters 1-6, adds (CPU here).

The contract it shares with the NumPy reference is tested once for both backends in
``test_rnn_contract.py``. Here: the cell is an ``nn.Module`` with exactly the
parameters ``Wx``, ``Wy``, ``b``; NumPy inputs are accepted; autograd reaches X,
the initial state and the parameters; ``swap_memory=True`` changes nothing but
where activations live. GPU behaviour is in ``test_gpu.py``.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from strategies import (
    CHAPTER_LENGTHS,
    CHAPTER_X0,
    CHAPTER_X1,
    RNNCase,
    assert_bitwise_zero,
    chapter_weights,
    random_weights,
    rnn_cases,
    torch_outputs_and_gradients,
)

from companion import torch_rnn as tr


def random_cell(n_inputs=3, n_neurons=5, *, seed=0, dtype=torch.float32, nonlinearity="tanh"):
    """A cell with a non-zero bias (the default init has b = 0, which hides bias bugs)."""
    weights = random_weights(n_inputs, n_neurons, seed)
    return tr.BasicRNNCell.from_weights(
        *(torch.from_numpy(w) for w in weights), nonlinearity=nonlinearity, dtype=dtype
    )


def random_problem(batch=5, n_steps=6, n_inputs=3, n_neurons=5, seed=0, dtype=torch.float32):
    rng = np.random.default_rng(seed)
    X = torch.from_numpy(rng.standard_normal((batch, n_steps, n_inputs))).to(dtype)
    h0 = torch.from_numpy(rng.standard_normal((batch, n_neurons))).to(dtype)
    lengths = rng.integers(0, n_steps + 1, batch)
    lengths[:2] = [0, n_steps]
    return X, h0, torch.from_numpy(lengths)


# ------------------------------------------------------------------ nn.Module


def test_cell_is_a_module_with_exactly_three_named_parameters_on_the_cpu():
    cell = tr.BasicRNNCell(3, 5, seed=0)
    assert isinstance(cell, torch.nn.Module)
    params = dict(cell.named_parameters())
    assert set(params) == {"Wx", "Wy", "b"}
    assert len(list(cell.parameters())) == 3
    assert params["Wx"] is cell.Wx and params["Wy"] is cell.Wy and params["b"] is cell.b
    assert all(p.requires_grad for p in params.values())
    assert set(cell.state_dict()) == {"Wx", "Wy", "b"}
    assert all(p.device.type == "cpu" for p in cell.parameters())
    assert cell.zero_state(4).device.type == "cpu"


def test_explicit_cpu_device():
    cell = tr.BasicRNNCell(2, 4, dtype=torch.float64, device="cpu", seed=0)
    assert all(w.dtype == torch.float64 and w.device.type == "cpu" for w in cell.parameters())
    assert cell.zero_state(3).device.type == "cpu"


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


def test_from_weights_and_from_torch_rnn_make_the_three_parameters():
    Wx, Wy, _ = chapter_weights()
    cells = [
        tr.BasicRNNCell.from_weights(Wx, Wy),
        tr.BasicRNNCell.from_weights(torch.from_numpy(Wx), torch.from_numpy(Wy)),
        tr.BasicRNNCell.from_torch_rnn(torch.nn.RNN(3, 5)),
    ]
    for cell in cells:
        assert isinstance(cell, tr.BasicRNNCell)
        assert all(isinstance(w, torch.nn.Parameter) for w in (cell.Wx, cell.Wy, cell.b))
        assert {n for n, _ in cell.named_parameters()} == {"Wx", "Wy", "b"}


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


# ------------------------------------------------------------------ NumPy inputs


def test_from_weights_takes_numpy_arrays():
    Wx, Wy, _ = chapter_weights()
    cell = tr.BasicRNNCell.from_weights(Wx, Wy)
    np.testing.assert_array_equal(cell.Wx.detach().numpy(), Wx)
    np.testing.assert_array_equal(cell.Wy.detach().numpy(), Wy)
    assert tuple(cell.b.shape) == (5,) and cell.b.dtype == torch.float32
    assert_bitwise_zero(cell.b.detach().numpy())
    assert (cell.n_inputs, cell.n_neurons) == (3, 5)
    Wx_np = np.ones((3, 5), np.float32)
    cell = tr.BasicRNNCell.from_weights(Wx_np, np.ones((5, 5), np.float32))
    Wx_np[:] = 5
    assert torch.all(cell.Wx == 1)  # copied


def test_from_weights_infers_dtype_from_numpy_arrays():
    Wx, Wy, b = chapter_weights(dtype=np.float64)
    assert tr.BasicRNNCell.from_weights(Wx, Wy, b).dtype == torch.float64
    assert tr.BasicRNNCell.from_weights(Wx.astype(int), Wy.astype(int)).dtype == torch.float32
    assert tr.BasicRNNCell.from_weights(Wx, Wy, dtype=torch.float32).Wx.dtype == torch.float32


def test_cell_takes_numpy_arrays():
    cell = random_cell()
    h_np = cell(CHAPTER_X0)
    assert isinstance(h_np, torch.Tensor) and h_np.dtype == torch.float32
    assert torch.equal(h_np, cell(torch.from_numpy(CHAPTER_X0)))


def test_numpy_inputs_everywhere():
    cell = random_cell()
    X, h0, lengths = random_problem()
    a = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    b = tr.dynamic_rnn(cell, X.numpy(), sequence_length=lengths.numpy(), initial_state=h0.numpy())
    assert isinstance(b[0], torch.Tensor) and isinstance(b[1], torch.Tensor)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    steps = list(X.unbind(1))
    a = tr.static_rnn(cell, steps, sequence_length=lengths, initial_state=h0)
    b = tr.static_rnn(
        cell, [x.numpy() for x in steps], sequence_length=lengths.numpy(), initial_state=h0.numpy()
    )
    assert all(isinstance(y, torch.Tensor) for y in b[0]) and isinstance(b[1], torch.Tensor)
    assert all(torch.equal(ya, yb) for ya, yb in zip(a[0], b[0], strict=True))
    assert torch.equal(a[1], b[1])
    # The chapter's NumPy integer arrays, straight from the page.
    X_int = np.stack([CHAPTER_X0, CHAPTER_X1], axis=1)
    a = tr.dynamic_rnn(cell, X_int, sequence_length=CHAPTER_LENGTHS)
    b = tr.dynamic_rnn(
        cell, torch.from_numpy(X_int), sequence_length=torch.from_numpy(CHAPTER_LENGTHS)
    )
    assert isinstance(a[0], torch.Tensor) and tuple(a[0].shape) == (4, 2, 5)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


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


# ------------------------------------------------------------------- swap_memory


@given(rnn_cases(max_batch=4, max_steps=5, max_size=5))
def test_swap_memory_gives_identical_outputs_and_gradients(case: RNNCase):
    """Outputs, state and the gradients of X, h0, Wx, Wy, b, bit for bit."""
    plain = torch_outputs_and_gradients(case, swap_memory=False)
    swapped = torch_outputs_and_gradients(case, swap_memory=True)
    for a, b in zip(plain, swapped, strict=True):
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
