"""``dynamic_rnn(..., backend=...)``: choosing cuDNN's fused kernel, and what it computes.

Without a GPU everything but the kernel itself is tested: the ``backend``
argument and its errors, the choice ``"auto"`` makes, and -- by pretending the
CPU is a cuDNN device -- the whole fused path around PyTorch's native CPU RNN
kernel (the same entry point ``torch.nn.RNN`` uses): packing, weights in
``nn.RNN``'s layout, unpacking, exact zeros, length 0, gradients. The tests
marked ``gpu`` run the real cuDNN kernel (TF32 off) and skip without CUDA.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion import torch_rnn as tr
from companion.fast import cudnn as cuda_path

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def cell_and_problem(dtype=torch.float64, nonlinearity="tanh", device="cpu", seed=0):
    rng = np.random.default_rng(seed)
    cell = tr.BasicRNNCell.from_weights(
        rng.uniform(-0.8, 0.8, (3, 5)),
        rng.uniform(-0.8, 0.8, (5, 5)),
        rng.uniform(-0.5, 0.5, 5),
        nonlinearity=nonlinearity,
        dtype=dtype,
    ).to(device)
    X = torch.from_numpy(rng.standard_normal((6, 7, 3))).to(dtype=dtype, device=device)
    h0 = torch.from_numpy(rng.standard_normal((6, 5))).to(dtype=dtype, device=device)
    return cell, X, h0


LENGTHS = {
    "full": None,
    "ragged": [7, 0, 3, 7, 1, 5],
    "all-zero": [0] * 6,
    "equal": [4] * 6,
}


# ------------------------------------------------------------------------- choosing


def test_default_is_the_loop_and_auto_picks_the_loop_on_cpu():
    assert cuda_path.resolve_backend("loop", torch.device("cpu")) == "loop"
    assert cuda_path.resolve_backend("auto", torch.device("cpu")) == "loop"
    cell, X, _ = cell_and_problem()
    a = tr.dynamic_rnn(cell, X)
    b = tr.dynamic_rnn(cell, X, backend="auto")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_cudnn_on_a_cpu_cell_is_a_clear_value_error():
    cell, X, _ = cell_and_problem()
    with pytest.raises(ValueError, match=r"backend='cudnn' needs the cell on a CUDA device.*cpu"):
        tr.dynamic_rnn(cell, X, backend="cudnn")


@pytest.mark.parametrize(("bad", "error"), [("gpu", ValueError), ("", ValueError), (1, TypeError)])
def test_bad_backend_names_the_argument(bad, error):
    cell, X, _ = cell_and_problem()
    with pytest.raises(error, match="backend"):
        tr.dynamic_rnn(cell, X, backend=bad)


def test_auto_picks_cudnn_where_usable(monkeypatch):
    monkeypatch.setattr(cuda_path, "cudnn_usable", lambda device: True)
    assert cuda_path.resolve_backend("auto", torch.device("cpu")) == "cudnn"
    calls = []
    original = cuda_path.fused_recurrence
    monkeypatch.setattr(
        cuda_path, "fused_recurrence", lambda *a: calls.append(a[5]) or original(*a)
    )
    cell, X, _ = cell_and_problem()
    tr.dynamic_rnn(cell, X, sequence_length=[7, 0, 3, 7, 1, 5], backend="auto")
    assert calls == [[5, 4, 4, 3, 3, 2, 2]]  # the packed batch sizes reach the kernel


# --------------------------------------------- the fused path, run by PyTorch's CPU kernel


@pytest.fixture
def cpu_as_cudnn(monkeypatch):
    """Let backend='cudnn' run on the CPU: same code path, native kernel instead of cuDNN."""
    monkeypatch.setattr(cuda_path, "cudnn_usable", lambda device: True)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("lengths", list(LENGTHS.values()), ids=list(LENGTHS))
@pytest.mark.parametrize("time_major", [False, True])
def test_fused_path_equals_the_loop(cpu_as_cudnn, nonlinearity, lengths, time_major):
    cell, X, h0 = cell_and_problem(nonlinearity=nonlinearity)
    if time_major:
        X = X.transpose(0, 1).contiguous()
    results = []
    for backend in ("loop", "cudnn"):
        cell.zero_grad()
        Xg, hg = X.clone().requires_grad_(), h0.clone().requires_grad_()
        out, state = tr.dynamic_rnn(
            cell, Xg, sequence_length=lengths, initial_state=hg, time_major=time_major,
            backend=backend,
        )  # fmt: skip
        (out.sin().sum() + (3 * state).sum()).backward()
        results.append([out, state, Xg.grad, hg.grad, *(p.grad for p in cell.parameters())])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    out, state = results[1][:2]
    for i, n in enumerate(lengths or [7] * 6):
        row = out[:, i] if time_major else out[i]
        assert torch.equal(row[n:], torch.zeros_like(row[n:]))  # exact zeros, not -0.0 or tiny
        assert torch.equal(state[i], row[n - 1] if n else h0[i])


def test_fused_path_float32_swap_memory_and_no_grad(cpu_as_cudnn):
    cell, X, h0 = cell_and_problem(dtype=torch.float32)
    lengths = torch.tensor([7, 0, 3, 7, 1, 5])
    ref = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    with torch.no_grad():
        fused = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0, backend="cudnn")
    swapped = tr.dynamic_rnn(
        cell, X, sequence_length=lengths, initial_state=h0, backend="cudnn", swap_memory=True
    )
    for a in (fused, swapped):
        torch.testing.assert_close(a[0], ref[0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(a[1], ref[1], rtol=1e-5, atol=1e-6)
    swapped[0].sum().backward()
    assert cell.Wy.grad is not None and torch.isfinite(cell.Wy.grad).all()


def test_fused_path_with_zero_steps_and_empty_batch(cpu_as_cudnn):
    cell, _, h0 = cell_and_problem()
    out, state = tr.dynamic_rnn(cell, torch.zeros(6, 0, 3, dtype=torch.float64), initial_state=h0,
                                backend="cudnn")  # fmt: skip
    assert tuple(out.shape) == (6, 0, 5) and torch.equal(state, h0)
    out, state = tr.dynamic_rnn(cell, torch.zeros(0, 4, 3, dtype=torch.float64), backend="cudnn")
    assert tuple(out.shape) == (0, 4, 5) and tuple(state.shape) == (0, 5)


# -------------------------------------------------------------------- the real cuDNN


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("lengths", list(LENGTHS.values()), ids=list(LENGTHS))
@pytest.mark.usefixtures("no_tf32")
@pytest.mark.gpu
@needs_cuda
def test_cudnn_equals_the_loop_on_cuda(dtype, lengths):
    cell, X, h0 = cell_and_problem(dtype=dtype, device="cuda")
    assert cuda_path.resolve_backend("auto", cell.device) == "cudnn"
    results = []
    for backend in ("loop", "cudnn"):
        cell.zero_grad()
        Xg = X.clone().requires_grad_()
        out, state = tr.dynamic_rnn(
            cell, Xg, sequence_length=lengths, initial_state=h0, backend=backend
        )
        (out.square().sum() + state.sum()).backward()
        results.append([out, state, Xg.grad, *(p.grad for p in cell.parameters())])
        assert all(t.device.type == "cuda" for t in results[-1])
    # Different kernels sum in different orders: float32 gradients differ in the 4th digit.
    tol = {"rtol": 1e-3, "atol": 1e-4} if dtype == torch.float32 else {"rtol": 1e-9, "atol": 1e-10}
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, **tol)
    out = results[1][0]
    for i, n in enumerate(lengths or [7] * 6):
        assert torch.equal(out[i, n:], torch.zeros_like(out[i, n:]))
