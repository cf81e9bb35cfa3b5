"""The LSTM and GRU fast path (:mod:`companion.fast.torch_gated`) against the reference loop.

``dynamic_rnn(cell, ..., backend="reference")`` calls the cell at every step and
lets autograd differentiate the loop: it is the definition. The default backend
runs :class:`LSTMRecurrence` / :class:`GRURecurrence`, whose backward pass is
written by hand. These tests check, by behaviour only:

* values, final states and every gradient (``X``, the initial state, ``Wx``,
  ``Wy`` and the biases) equal the reference in float64 to 1e-12, with and without
  ``sequence_length`` (lengths 0 and full included), batch- and time-major; exact
  +0.0 past each length;
* ``torch.autograd.gradcheck`` (float64) of the recurrences themselves;
* float32 agrees with float64 to a few float32 epsilons;
* ``GRUCell(reset_after=False)`` gives the reference's results (it runs an autograd loop);
* what the backward pass keeps: no tensor per step, ``swap_memory`` and
  checkpointing give the same gradients; double backward is refused clearly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import RNNCase, assert_bitwise_zero, rnn_cases

from companion import torch_rnn as tr
from companion.fast import torch_gated

KINDS = ["lstm", "gru", "gru_tf"]  # gru_tf: GRUCell(reset_after=False)
EPS32 = float(np.finfo(np.float32).eps)
LENGTHS = {
    "none": None,
    "ragged": [5, 0, 2, 5, 1],
    "all-full": [5, 5, 5, 5, 5],
    "all-zero": [0, 0, 0, 0, 0],
}


def gated_cell(kind: str, n_inputs: int, n_neurons: int, seed: int, dtype=torch.float64):
    """A cell with weights ~ U(-0.8, 0.8) and non-zero biases (every bias matters)."""
    rng = np.random.default_rng(seed)
    width = (4 if kind == "lstm" else 3) * n_neurons
    n_biases = 1 if kind == "lstm" else 2
    shapes = [(n_inputs, width), (n_neurons, width)] + [(width,)] * n_biases
    weights = [rng.uniform(-0.8, 0.8, shape) for shape in shapes]
    if kind == "lstm":
        return tr.LSTMCell.from_weights(*weights, dtype=dtype)
    return tr.GRUCell.from_weights(*weights, reset_after=kind == "gru", dtype=dtype)


def run(kind, backend, X, lengths, time_major, seed=0, dtype=torch.float64):
    """Outputs (batch-major), state parts and the gradient of a random loss with respect to
    ``X``, every part of the initial state and every weight, as float64 NumPy arrays."""
    batch, n_steps, n_inputs = X.shape
    n_neurons = 4
    cell = gated_cell(kind, n_inputs, n_neurons, seed, dtype)
    rng = np.random.default_rng(seed + 1)
    n_parts = 2 if kind == "lstm" else 1
    parts0 = [
        torch.tensor(rng.standard_normal((batch, n_neurons)), dtype=dtype, requires_grad=True)
        for _ in range(n_parts)
    ]
    w_out = torch.tensor(rng.standard_normal((batch, n_steps, n_neurons)), dtype=dtype)
    w_state = [torch.tensor(rng.standard_normal((batch, n_neurons)), dtype=dtype)] * n_parts
    X = torch.tensor(X, dtype=dtype, requires_grad=True)
    out, state = tr.dynamic_rnn(
        cell,
        X.transpose(0, 1) if time_major else X,
        sequence_length=lengths,
        initial_state=tuple(parts0) if kind == "lstm" else parts0[0],
        time_major=time_major,
        backend=backend,
    )
    if time_major:
        out = out.transpose(0, 1)
    parts = list(state) if kind == "lstm" else [state]
    loss = (out * w_out).sum() + sum((p * w).sum() for p, w in zip(parts, w_state, strict=True))
    inputs = [X, *parts0, *cell.parameters()]
    grads = torch.autograd.grad(loss, inputs, allow_unused=True)
    # (A tensor no step used -- no step ran -- gets None from autograd: zeros, to compare.)
    grads = [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads, strict=True)]
    return [t.detach().double().numpy() for t in (out, *parts, *grads)]


def assert_all_close(found, expected, tol):
    for a, b in zip(found, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lengths", list(LENGTHS.values()), ids=list(LENGTHS))
@pytest.mark.parametrize("time_major", [False, True])
def test_values_and_every_gradient_equal_the_reference(kind, lengths, time_major):
    X = np.random.default_rng(2).standard_normal((5, 5, 3))
    fast = run(kind, "loop", X, lengths, time_major)
    assert_all_close(fast, run(kind, "reference", X, lengths, time_major), 1e-12)
    assert_all_close(fast, run(kind, "auto", X, lengths, time_major), 0)  # "auto" is "loop"
    if lengths is not None:
        for i, length in enumerate(lengths):
            assert_bitwise_zero(fast[0][i, length:])


@settings(max_examples=30)
@given(
    case=rnn_cases(max_batch=5, max_steps=6, max_size=5, nonlinearities=("tanh",)),
    kind=st.sampled_from(["lstm", "gru"]),
)
def test_random_problems_equal_the_reference(case: RNNCase, kind):
    X = case.arrays(np.float64)["X"]
    args = (kind, X, case.sequence_length, case.time_major, case.seed % 1000)
    fast, reference = run(args[0], "loop", *args[1:]), run(args[0], "reference", *args[1:])
    assert_all_close(fast, reference, 1e-12)
    for i, length in enumerate(case.effective_lengths):
        assert_bitwise_zero(fast[0][i, length:])


def test_float32_agrees_with_float64_to_a_few_eps():
    """The same problem in both dtypes, 8 steps: outputs and states within a few float32
    eps of float64, as close as the reference's own float32; gradients likewise."""
    X = np.random.default_rng(3).standard_normal((6, 8, 3))
    lengths = [8, 0, 3, 8, 1, 5]
    for kind in ("lstm", "gru"):
        exact = run(kind, "reference", X, lengths, False)
        for backend in ("loop", "reference"):
            found = run(kind, backend, X, lengths, False, dtype=torch.float32)
            n_values = 3 if kind == "lstm" else 2  # outputs and state parts
            for a, b in zip(found[:n_values], exact[:n_values], strict=True):
                np.testing.assert_allclose(a, b, rtol=0, atol=16 * EPS32)
            for a, b in zip(found[n_values:], exact[n_values:], strict=True):
                scale = np.abs(b).max()
                np.testing.assert_allclose(a, b, rtol=0, atol=64 * EPS32 * scale)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("lengths", [None, [4, 0, 1, 3]], ids=["full", "ragged"])
def test_gradcheck_of_the_recurrence(kind, lengths):
    """``gradcheck`` differentiates the hand-written backward numerically, float64: with
    respect to ``X``, the initial state and every weight."""
    rng = np.random.default_rng(4)
    cell = gated_cell(kind, 2, 3, seed=5)
    X = torch.tensor(rng.standard_normal((4, 4, 2)), requires_grad=True)  # time-major
    h0, c0 = (torch.tensor(rng.standard_normal((4, 3)), requires_grad=True) for _ in range(2))
    weights = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    lengths = None if lengths is None else np.array(lengths)
    if kind == "lstm":

        def fn(X, c0, h0, Wx, Wy, b):
            return torch_gated.lstm_dynamic_rnn(X, c0, h0, lengths, Wx, Wy, b)

        inputs = (X, c0, h0, *weights)
    else:

        def fn(X, h0, Wx, Wy, bx, by):
            return torch_gated.gru_dynamic_rnn(X, h0, lengths, Wx, Wy, bx, by)

        inputs = (X, h0, *weights)
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", KINDS)
def test_zero_steps_and_an_empty_batch(kind):
    cell = gated_cell(kind, 3, 4, seed=6)
    zero = tuple(cell.zero_state(2)) if kind == "lstm" else (cell.zero_state(2),)
    out, state = tr.dynamic_rnn(cell, torch.zeros(2, 0, 3, dtype=torch.float64))
    assert tuple(out.shape) == (2, 0, 4)
    parts = tuple(state) if kind == "lstm" else (state,)
    for p, z in zip(parts, zero, strict=True):
        assert torch.equal(p, z)
    out, state = tr.dynamic_rnn(cell, torch.zeros(0, 3, 3, dtype=torch.float64))
    assert tuple(out.shape) == (0, 3, 4)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_the_default_backend_runs_the_hand_written_recurrence(kind):
    """One autograd node for the whole loop (the reference records several per step)."""
    cell = gated_cell(kind, 3, 4, seed=7)
    X = torch.zeros(6, 2, 3, dtype=torch.float64, requires_grad=True)
    out, _ = tr.dynamic_rnn(cell, X, time_major=True)
    assert type(out.grad_fn).__name__ == f"{kind.upper()}RecurrenceBackward"


def saved_shapes(kind, n_steps):
    """The shapes of every tensor ``dynamic_rnn`` saves for its backward pass."""
    cell = gated_cell(kind, 3, 4, seed=8)
    X = torch.zeros(2, n_steps, 3, dtype=torch.float64, requires_grad=True)
    shapes = []

    def pack(t):
        shapes.append(tuple(t.shape))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        tr.dynamic_rnn(cell, X, sequence_length=[n_steps, 1])
    return shapes


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_backward_saves_whole_sequences_not_one_tensor_per_step(kind):
    short, long = saved_shapes(kind, 3), saved_shapes(kind, 9)
    assert len(short) == len(long)  # the count does not grow with n_steps
    assert any(shape[0] == 9 for shape in long)  # the gates of every step, in one tensor


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("lengths", [None, [3, 0, 2, 1]])
def test_swap_memory_and_checkpoint_give_the_same_gradients(kind, lengths):
    from torch.utils.checkpoint import checkpoint

    cell = gated_cell(kind, 3, 4, seed=9)
    X = torch.from_numpy(np.random.default_rng(10).standard_normal((4, 3, 3)))

    def loss(X, **options):
        out, state = tr.dynamic_rnn(cell, X, sequence_length=lengths, **options)
        h = state.h if kind == "lstm" else state
        return out.sin().sum() + h.sum()

    grads = []
    for mode in ("plain", "swap", "checkpoint"):
        cell.zero_grad()
        Xg = X.clone().requires_grad_()
        if mode == "checkpoint":
            checkpoint(loss, Xg, use_reentrant=False).backward()
        else:
            loss(Xg, swap_memory=mode == "swap").backward()
        grads.append([Xg.grad, *(p.grad for p in cell.parameters())])
    for other in grads[1:]:
        for a, b in zip(grads[0], other, strict=True):
            assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_double_backward_is_refused_clearly(kind):
    cell = gated_cell(kind, 3, 4, seed=11)
    X = torch.zeros(2, 3, 3, dtype=torch.float64, requires_grad=True)
    out, _ = tr.dynamic_rnn(cell, X)
    # The backward pass works in place: it cannot itself be differentiated.
    (g,) = torch.autograd.grad(out.square().sum(), X, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_frozen_weights_get_no_gradient_and_the_input_the_same_one(kind):
    """Only what requires a gradient gets one (a frozen cell, e.g. when fine-tuning)."""
    X0 = torch.from_numpy(np.random.default_rng(12).standard_normal((3, 4, 3)))
    grads = []
    for frozen in (False, True):
        cell = gated_cell(kind, 3, 4, seed=13).requires_grad_(not frozen)
        X = X0.clone().requires_grad_()
        out, _ = tr.dynamic_rnn(cell, X, sequence_length=[4, 2, 0])
        out.sin().sum().backward()
        assert all((p.grad is None) == frozen for p in cell.parameters())
        grads.append(X.grad)
    assert torch.equal(*grads)
