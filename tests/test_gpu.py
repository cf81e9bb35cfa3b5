"""``companion.torch_rnn`` on a CUDA device: same numbers as on the CPU, and nothing moves.

Skipped (with a reason) where ``torch.cuda.is_available()`` is False. TF32 is
switched off for these tests so that float32 matmuls are true float32.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from strategies import CHAPTER_X0, CHAPTER_X1, assert_bitwise_zero

from companion import torch_rnn as tr

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
    pytest.mark.usefixtures("no_tf32"),  # true float32 (tests/conftest.py)
]


def problem(batch=6, n_steps=7, n_inputs=3, n_neurons=5, seed=0, dtype=torch.float32):
    rng = np.random.default_rng(seed)
    X = torch.from_numpy(rng.standard_normal((batch, n_steps, n_inputs))).to(dtype)
    h0 = torch.from_numpy(rng.standard_normal((batch, n_neurons))).to(dtype)
    lengths = torch.from_numpy(np.array([n_steps, 0, 1, 3, n_steps, 5][:batch]))
    b = torch.from_numpy(rng.uniform(-0.5, 0.5, n_neurons)).to(dtype)
    return X, h0, lengths, b


def cpu_and_cuda_cells(dtype=torch.float32, nonlinearity="tanh"):
    _, _, _, b = problem(dtype=dtype)
    cpu = tr.BasicRNNCell(3, 5, seed=0, dtype=dtype, nonlinearity=nonlinearity)
    with torch.no_grad():
        cpu.b.copy_(b)  # a non-zero bias
    cuda = tr.BasicRNNCell.from_weights(cpu.Wx, cpu.Wy, cpu.b, nonlinearity=nonlinearity).to("cuda")
    return cpu, cuda


def on_cuda(*tensors):
    return all(t.device.type == "cuda" for t in tensors)


def test_device_argument_and_module_to():
    cell = tr.BasicRNNCell(3, 5, seed=0, device="cuda")
    assert on_cuda(*cell.parameters())
    assert on_cuda(cell.zero_state(4))
    cpu = tr.BasicRNNCell(3, 5, seed=0)
    for p, p_cpu in zip(cell.parameters(), cpu.parameters(), strict=True):
        assert torch.equal(p.cpu(), p_cpu)  # the same seed gives the same weights anywhere
    moved = tr.BasicRNNCell(3, 5, seed=0).to("cuda")
    assert on_cuda(*moved.parameters(), moved.zero_state(2))
    moved.to("cpu")
    assert moved.zero_state(2).device.type == "cpu"


def test_from_weights_keeps_the_device_of_tensors():
    cell = tr.BasicRNNCell.from_weights(torch.randn(3, 5, device="cuda"), torch.randn(5, 5).cuda())
    assert on_cuda(*cell.parameters())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_cuda_equals_cpu_and_stays_on_cuda(dtype, nonlinearity):
    cpu, cuda = cpu_and_cuda_cells(dtype, nonlinearity)
    X, h0, lengths, _ = problem(dtype=dtype)
    out, state = tr.dynamic_rnn(cpu, X, sequence_length=lengths, initial_state=h0)
    g_out, g_state = tr.dynamic_rnn(
        cuda, X.cuda(), sequence_length=lengths.cuda(), initial_state=h0.cuda()
    )
    assert on_cuda(g_out, g_state)
    assert g_out.dtype == g_state.dtype == dtype
    torch.testing.assert_close(g_out.cpu(), out, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(g_state.cpu(), state, rtol=1e-5, atol=1e-5)
    g_out, g_state = g_out.detach().cpu(), g_state.detach().cpu()
    for i, n in enumerate(lengths.tolist()):
        assert_bitwise_zero(g_out[i, n:].numpy())
        assert torch.equal(g_state[i], g_out[i, n - 1] if n > 0 else h0[i])


def test_static_rnn_and_cell_call_on_cuda():
    cpu, cuda = cpu_and_cuda_cells()
    X, h0, lengths, _ = problem()
    outputs, state = tr.static_rnn(
        cuda, [x.cuda() for x in X.unbind(1)], initial_state=h0.cuda(), sequence_length=lengths
    )
    assert on_cuda(*outputs, state)
    ref, ref_state = tr.static_rnn(
        cpu, list(X.unbind(1)), initial_state=h0, sequence_length=lengths
    )
    for y, r in zip(outputs, ref, strict=True):
        torch.testing.assert_close(y.cpu(), r, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(state.cpu(), ref_state, rtol=1e-5, atol=1e-5)
    h = cuda(X[:, 0].cuda())
    assert on_cuda(h)
    torch.testing.assert_close(h.cpu(), cpu(X[:, 0]), rtol=1e-5, atol=1e-5)


def test_numpy_and_int_inputs_go_to_the_cells_device():
    _, cuda = cpu_and_cuda_cells()
    X = np.stack([CHAPTER_X0, CHAPTER_X1], axis=1)
    out, state = tr.dynamic_rnn(cuda, X, sequence_length=np.array([2, 1, 2, 2]))
    assert on_cuda(out, state) and out.dtype == torch.float32
    assert on_cuda(cuda(CHAPTER_X0))


def test_cpu_tensor_for_a_cuda_cell_is_rejected():
    _, cuda = cpu_and_cuda_cells()
    X, h0, _, _ = problem()
    with pytest.raises(ValueError, match=r"\bX\b"):
        tr.dynamic_rnn(cuda, X)
    with pytest.raises(ValueError, match="initial_state"):
        tr.dynamic_rnn(cuda, X.cuda(), initial_state=h0)
    with pytest.raises(ValueError, match="x_t"):
        cuda(X[:, 0])
    cpu, _ = cpu_and_cuda_cells()
    with pytest.raises(ValueError, match=r"\bX\b"):
        tr.dynamic_rnn(cpu, X.cuda())


def run_with_grads(cell, X, h0, lengths, *, swap_memory=False):
    X = X.clone().requires_grad_(True)
    h0 = h0.clone().requires_grad_(True)
    cell.zero_grad()
    out, state = tr.dynamic_rnn(
        cell, X, sequence_length=lengths, initial_state=h0, swap_memory=swap_memory
    )
    w = torch.linspace(-1, 1, out.numel(), device=out.device, dtype=out.dtype).view_as(out)
    ((out * w).sum() + state.square().sum()).backward()
    return [out.detach(), state.detach(), X.grad, h0.grad, cell.Wx.grad, cell.Wy.grad, cell.b.grad]


def test_gradients_on_cuda_equal_cpu_gradients():
    cpu, cuda = cpu_and_cuda_cells(torch.float64)
    X, h0, lengths, _ = problem(dtype=torch.float64)
    ref = run_with_grads(cpu, X, h0, lengths)
    got = run_with_grads(cuda, X.cuda(), h0.cuda(), lengths.cuda())
    for g, r in zip(got, ref, strict=True):
        assert g is not None and g.device.type == "cuda"
        torch.testing.assert_close(g.cpu(), r, rtol=1e-10, atol=1e-10)


def test_swap_memory_on_cuda_gives_identical_results_and_gradients():
    _, cuda = cpu_and_cuda_cells()
    X, h0, lengths, _ = problem(batch=6, n_steps=7)
    X, h0 = X.cuda(), h0.cuda()
    plain = run_with_grads(cuda, X, h0, lengths)
    swapped = run_with_grads(cuda, X, h0, lengths, swap_memory=True)
    for a, b in zip(plain, swapped, strict=True):
        assert b.device.type == "cuda"
        assert torch.equal(a, b)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_matches_cudnn_nn_rnn(nonlinearity):
    _, cuda = cpu_and_cuda_cells(nonlinearity=nonlinearity)
    rnn = cuda.to_torch_rnn(batch_first=True)
    assert all(p.device.type == "cuda" for p in rnn.parameters())
    X, h0, lengths, _ = problem()
    X, h0 = X.cuda(), h0.cuda()
    rows = lengths > 0
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        X[rows.cuda()], lengths[rows], batch_first=True, enforce_sorted=False
    )
    with torch.no_grad():
        y, h_n = rnn(packed, h0[rows.cuda()][None])
    y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=X.shape[1])
    out, state = tr.dynamic_rnn(cuda, X, sequence_length=lengths, initial_state=h0)
    torch.testing.assert_close(out[rows.cuda()].detach(), y, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(state[rows.cuda()].detach(), h_n[0], rtol=1e-4, atol=1e-4)
    assert torch.equal(state[~rows.cuda()], h0[~rows.cuda()])
