"""Property tests: NumPy reference == PyTorch implementation == ``torch.nn.RNN`` (chapters 1-5).

The same seed gives the same weights in both backends; on random problems both
give ``torch.nn.RNN``'s outputs and state, and torch's gradients are ``nn.RNN``'s.

The independent oracle is ``torch.nn.RNN`` run on a packed batch
(``pack_padded_sequence(enforce_sorted=False)`` then
``pad_packed_sequence(total_length=n_steps)``), which has exactly TensorFlow
1.x's ``sequence_length`` semantics for lengths >= 1. Packing rejects length 0,
so those rows are handled outside it: their outputs are zero and their state is
the initial state.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from strategies import (
    RNNCase,
    assert_bitwise_zero,
    float64_tensors,
    rnn_cases,
    torch_outputs_and_gradients,
)

from companion import numpy_rnn as nr
from companion import torch_rnn as tr

TOL32 = {"rtol": 1e-5, "atol": 1e-5}


def oracle_rnn(
    X: torch.Tensor,
    Wx: torch.Tensor,
    Wy: torch.Tensor,
    b: torch.Tensor,
    *,
    initial_state: torch.Tensor,
    lengths: np.ndarray,
    nonlinearity: str,
) -> tuple[torch.Tensor, torch.Tensor, torch.nn.RNN]:
    """``torch.nn.RNN`` over a packed batch; batch-major X; returns (outputs, state, rnn).

    The weights are mapped by hand (not with ``to_torch_rnn``): ``weight_ih = Wx.T``,
    ``weight_hh = Wy.T``, ``bias_ih = bias_hh = b / 2``. Differentiable in X and
    initial_state; the rnn's parameters collect their own gradients.
    """
    batch, n_steps, n_inputs = X.shape
    n_neurons = Wy.shape[0]
    rnn = torch.nn.RNN(
        n_inputs, n_neurons, nonlinearity=nonlinearity, batch_first=True, dtype=X.dtype
    )
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(Wx.T)
        rnn.weight_hh_l0.copy_(Wy.T)
        rnn.bias_ih_l0.copy_(b / 2)
        rnn.bias_hh_l0.copy_(b / 2)
    outputs = X.new_zeros(batch, n_steps, n_neurons)
    state = initial_state
    rows = torch.from_numpy(np.flatnonzero(lengths > 0))
    if len(rows):
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            X[rows], torch.from_numpy(lengths[lengths > 0]), batch_first=True, enforce_sorted=False
        )
        y, h_n = rnn(packed, initial_state[rows].unsqueeze(0))
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=n_steps)
        outputs = outputs.index_put((rows,), y)
        state = state.index_put((rows,), h_n[0])
    return outputs, state, rnn


def to_major(a: np.ndarray, time_major: bool) -> np.ndarray:
    return a.transpose(1, 0, 2).copy() if time_major else a


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 123])
def test_same_seed_same_weights_in_both_backends(dtype, seed):
    t = tr.BasicRNNCell(3, 5, seed=seed, dtype=getattr(torch, dtype))
    n = nr.BasicRNNCell(3, 5, seed=seed, dtype=np.dtype(dtype).type)
    for tw, nw in zip((t.Wx, t.Wy, t.b), (n.Wx, n.Wy, n.b), strict=True):
        assert tw.detach().numpy().dtype == nw.dtype
        np.testing.assert_array_equal(tw.detach().numpy(), nw)
    t_gen = tr.BasicRNNCell(3, 5, seed=np.random.default_rng(seed), dtype=getattr(torch, dtype))
    n_gen = nr.BasicRNNCell(3, 5, seed=np.random.default_rng(seed), dtype=np.dtype(dtype).type)
    np.testing.assert_array_equal(t_gen.Wy.detach().numpy(), n_gen.Wy)


@given(rnn_cases())
def test_numpy_torch_and_nn_rnn_agree_in_float32(case: RNNCase):
    arrays = case.arrays(np.float32)
    X, h0 = arrays["X"], arrays["initial_state"]
    Wx, Wy, b = arrays["Wx"], arrays["Wy"], arrays["b"]
    lengths = case.sequence_length
    kwargs = {"sequence_length": lengths, "initial_state": h0, "time_major": case.time_major}

    n_cell = nr.BasicRNNCell.from_weights(Wx, Wy, b, nonlinearity=case.nonlinearity)
    n_out, n_state = nr.dynamic_rnn(n_cell, to_major(X, case.time_major), **kwargs)
    t_cell = tr.BasicRNNCell.from_weights(Wx, Wy, b, nonlinearity=case.nonlinearity)
    t_out, t_state = tr.dynamic_rnn(t_cell, to_major(X, case.time_major), **kwargs)
    t_out = t_out.detach().numpy()
    t_state = t_state.detach().numpy()
    for out in (n_out, t_out):
        assert out.dtype == np.float32
    n_out, t_out = to_major(n_out, case.time_major), to_major(t_out, case.time_major)

    h0_t = torch.zeros(case.batch, case.n_neurons) if h0 is None else torch.from_numpy(h0)
    with torch.no_grad():
        o_out, o_state, _ = oracle_rnn(
            torch.from_numpy(X),
            *map(torch.from_numpy, (Wx, Wy, b)),
            initial_state=h0_t,
            lengths=case.effective_lengths,
            nonlinearity=case.nonlinearity,
        )
    for out, state in [(n_out, n_state), (t_out, t_state)]:
        assert out.shape == (case.batch, case.n_steps, case.n_neurons)
        assert state.shape == (case.batch, case.n_neurons)
        np.testing.assert_allclose(out, o_out.numpy(), **TOL32)
        np.testing.assert_allclose(state, o_state.numpy(), **TOL32)
        for i, n in enumerate(case.effective_lengths):
            assert_bitwise_zero(out[i, n:])
            expected_state = out[i, n - 1] if n > 0 else h0_t[i].numpy()
            np.testing.assert_array_equal(state[i], expected_state)
    np.testing.assert_allclose(n_out, t_out, **TOL32)


def grad_or_zero(t: torch.Tensor) -> torch.Tensor:
    """A missing gradient (the tensor was not used) is a zero gradient."""
    return torch.zeros_like(t) if t.grad is None else t.grad


@given(rnn_cases(max_batch=4, max_steps=6, max_size=5))
def test_float64_gradients_equal_nn_rnn_gradients(case: RNNCase):
    out, state, *grads = torch_outputs_and_gradients(case)

    p = float64_tensors(case)
    w_out, w_state = map(torch.from_numpy, case.loss_weights())
    X = p["X"].requires_grad_(True)
    h0 = p["initial_state"].requires_grad_(True)
    o_out, o_state, rnn = oracle_rnn(
        X,
        p["Wx"],
        p["Wy"],
        p["b"],
        initial_state=h0,
        lengths=case.effective_lengths,
        nonlinearity=case.nonlinearity,
    )
    ((o_out * w_out).sum() + (o_state * w_state).sum()).backward()
    d_bias = grad_or_zero(rnn.bias_ih_l0)
    torch.testing.assert_close(d_bias, grad_or_zero(rnn.bias_hh_l0))  # both biases see db
    expected = [
        grad_or_zero(X),
        grad_or_zero(h0),
        grad_or_zero(rnn.weight_ih_l0).T,
        grad_or_zero(rnn.weight_hh_l0).T,
        d_bias,
    ]

    torch.testing.assert_close(out, o_out.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(state, o_state.detach(), rtol=1e-12, atol=1e-12)
    for name, g, e in zip(["X", "initial_state", "Wx", "Wy", "b"], grads, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-10, msg=f"d loss / d {name}")


def test_gradcheck_with_sequence_length():
    torch.manual_seed(0)
    cell = tr.BasicRNNCell(2, 3, dtype=torch.float64, seed=0)
    lengths = torch.tensor([3, 1, 0])

    class Unrolled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell

        def forward(self, X, h0):
            return tr.dynamic_rnn(self.cell, X, sequence_length=lengths, initial_state=h0)

    module = Unrolled()

    def f(X, h0, Wx, Wy, b):
        params = {"cell.Wx": Wx, "cell.Wy": Wy, "cell.b": b}
        return torch.func.functional_call(module, params, (X, h0))

    inputs = (
        torch.randn(3, 3, 2, dtype=torch.float64),
        torch.randn(3, 3, dtype=torch.float64),
        0.5 * torch.randn(2, 3, dtype=torch.float64),
        0.5 * torch.randn(3, 3, dtype=torch.float64),
        0.5 * torch.randn(3, dtype=torch.float64),
    )
    inputs = tuple(t.requires_grad_(True) for t in inputs)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-6)
    # The parameters given to functional_call were the ones used.
    out, _ = f(*inputs)
    expected = torch.tanh(inputs[0][:, 0] @ inputs[2] + inputs[1] @ inputs[3] + inputs[4])
    torch.testing.assert_close(out[:2, 0], expected[:2])
