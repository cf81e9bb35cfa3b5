"""The fast loops inside ``dynamic_rnn``: packing indices and the hand-written BPTT.

``dynamic_rnn`` (both backends) packs the valid ``(step, instance)`` pairs so
that the work is proportional to ``sum(sequence_length)``, and
``companion.torch_rnn`` back-propagates through time with its own backward
(``_Recurrence``). The contract tests check results against oracles; these
tests pin the machinery itself:

* the packing indices of :class:`companion.packing.PackingPlan` against a
  brute-force enumeration, and the gradient of unpacking;
* ``torch.autograd.gradcheck`` (float64) of the whole ``dynamic_rnn`` --
  inputs, initial state and the three weights, with and without
  ``sequence_length`` (lengths 0 and ``n_steps`` included), tanh and ReLU;
* gradients equal to those of autograd recording a plain per-step loop;
* what the backward keeps: ``swap_memory`` and non-reentrant checkpointing;
* nothing is computed for padding (the GEMM sees ``sum(lengths)`` rows).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from companion import numpy_rnn as nr
from companion import torch_rnn as tr
from companion.packing import packing_plan


def brute_force_packing(lengths: np.ndarray, n_steps: int, time_major: bool):
    """Enumerate the packed layout directly from its definition."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])  # stable: ties keep order
    batch = len(lengths)
    rows, where = [], {}
    for t in range(n_steps):
        for j, i in enumerate(order):
            if t < lengths[i]:
                where[(t, j)] = len(rows)
                rows.append(t * batch + i if time_major else i * n_steps + t)
    last = {i: where[(lengths[i] - 1, j)] for j, i in enumerate(order) if lengths[i] > 0}
    previous = [where[(t - 1, j)] for (t, j) in sorted(where, key=where.get) if t > 0]
    # Padded position -> packed row, or len(rows) (the row of zeros) for padding.
    unpacked = [len(rows)] * (batch * n_steps)
    for r, p in enumerate(rows):
        unpacked[p] = r
    return rows, last, previous, unpacked


@given(
    st.lists(st.integers(0, 6), min_size=0, max_size=7),
    st.integers(0, 3),
    st.booleans(),
)
def test_packing_indices_match_brute_force(lengths, extra_steps, time_major):
    lengths = np.array(lengths, dtype=np.int64)
    n_steps = int(lengths.max(initial=0)) + extra_steps
    plan = packing_plan(lengths)
    rows, last, previous, unpacked = brute_force_packing(lengths, n_steps, time_major)
    assert plan.packed_rows(n_steps, time_major).tolist() == rows
    assert plan.unpacked_rows(n_steps, time_major).tolist() == unpacked
    assert plan.sorted_lengths.tolist() == sorted(lengths.tolist(), reverse=True)
    assert plan.offsets.tolist() == [0, *np.cumsum(plan.active).tolist()]
    instances, last_rows = plan.last_rows()
    assert dict(zip(instances.tolist(), last_rows.tolist(), strict=True)) == last
    assert plan.previous_rows().tolist() == previous


def test_unpack_gradient_is_autograds_own_rule():
    """``_Unpack``'s backward (a gather) equals autograd's rule for ``index_select``
    (a scatter-add), except for the row of zeros, which is a constant."""
    lengths = np.array([3, 0, 1, 3, 2])
    plan = packing_plan(lengths)
    rows, index = plan.packed_rows(4, False), plan.unpacked_rows(4, False)
    H = torch.randn(len(rows) + 1, 2, dtype=torch.float64, requires_grad=True)
    G = torch.randn(len(index), 2, dtype=torch.float64)
    (ours,) = torch.autograd.grad(
        tr._Unpack.apply(H, torch.from_numpy(rows), torch.from_numpy(index)), H, G
    )
    (autograd,) = torch.autograd.grad(H.index_select(0, torch.from_numpy(index)), H, G)
    assert torch.equal(ours[:-1], autograd[:-1])
    assert torch.equal(ours[-1], torch.zeros(2, dtype=torch.float64))


# ------------------------------------------------------------------ BPTT by hand


def cell64(n_inputs=3, n_neurons=4, nonlinearity="tanh", seed=0):
    rng = np.random.default_rng(seed)
    return tr.BasicRNNCell.from_weights(
        rng.uniform(-0.9, 0.9, (n_inputs, n_neurons)),
        rng.uniform(-0.9, 0.9, (n_neurons, n_neurons)),
        rng.uniform(-0.5, 0.5, n_neurons),
        nonlinearity=nonlinearity,
        dtype=torch.float64,
    )


CASES = {
    "full": None,
    "ragged": [4, 0, 2, 4, 1],
    "sorted": [4, 3, 3, 1, 0],
    "all-zero": [0, 0, 0, 0, 0],
}


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("lengths", list(CASES.values()), ids=list(CASES))
@pytest.mark.parametrize("time_major", [False, True])
def test_gradcheck_whole_dynamic_rnn(nonlinearity, lengths, time_major):
    cell = cell64(nonlinearity=nonlinearity)
    rng = np.random.default_rng(1)
    shape = (4, 5, 3) if time_major else (5, 4, 3)
    X = torch.from_numpy(rng.standard_normal(shape)).requires_grad_()
    h0 = torch.from_numpy(rng.standard_normal((5, 4))).requires_grad_()
    seq = None if lengths is None else torch.tensor(lengths)

    def f(X, h0, Wx, Wy, b):
        # dynamic_rnn's body with the weights as plain tensors, so gradcheck can vary them.
        weights = SimpleNamespace(
            Wx=Wx, Wy=Wy, b=b, n_inputs=3, n_neurons=4, device=X.device, nonlinearity=nonlinearity
        )
        lengths = None if seq is None else seq.numpy()
        return tr._run(weights, X, h0, lengths, time_major)

    weights = [p.detach().clone().requires_grad_() for p in (cell.Wx, cell.Wy, cell.b)]
    assert torch.autograd.gradcheck(f, (X, h0, *weights), eps=1e-6, atol=1e-7)


def test_custom_backward_equals_autograd_of_a_plain_loop():
    """The hand-written BPTT gives autograd's gradients, to rounding."""
    cell = cell64(n_inputs=3, n_neurons=6)
    rng = np.random.default_rng(2)
    X = torch.from_numpy(rng.standard_normal((7, 9, 3))).requires_grad_()
    h0 = torch.from_numpy(rng.standard_normal((7, 6))).requires_grad_()
    lengths = np.array([9, 3, 0, 9, 5, 1, 7])
    G = torch.from_numpy(rng.standard_normal((7, 9, 6)))
    Gs = torch.from_numpy(rng.standard_normal((7, 6)))

    out, state = tr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    ours = torch.autograd.grad((out * G).sum() + (state * Gs).sum(), (X, h0, *cell.parameters()))

    # Autograd through every operation of a direct loop (chapter 9's oracle).
    h, outs = h0, []
    running = torch.from_numpy(lengths)[:, None] > torch.arange(9)[None, :]
    for t in range(9):
        new = torch.tanh(X[:, t] @ cell.Wx + h @ cell.Wy + cell.b)
        keep = running[:, t : t + 1]
        outs.append(torch.where(keep, new, torch.zeros_like(new)))
        h = torch.where(keep, new, h)
    loss = (torch.stack(outs, 1) * G).sum() + (h * Gs).sum()
    theirs = torch.autograd.grad(loss, (X, h0, *cell.parameters()))
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_backward_keeps_only_inputs_and_states():
    """What the recurrence saves: the packed inputs, h0, the two weights and every h_t."""
    cell = cell64()
    X = torch.zeros(5, 4, 3)
    saved = []

    def pack(t):
        saved.append(tuple(t.shape))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        tr.dynamic_rnn(cell, X.double(), sequence_length=[4, 0, 2, 4, 1])
    # X_packed and H hold sum(lengths) = 11 rows; nothing is saved per step.
    assert (11, 3) in saved and (11, 4) in saved and (5, 4) in saved
    assert (4, 4) in saved and (3, 4) in saved


def test_double_backward_is_refused_clearly():
    cell = cell64()
    X = torch.zeros(2, 3, 3, dtype=torch.float64, requires_grad=True)
    out, _ = tr.dynamic_rnn(cell, X)
    # The backward is written with in-place operations: it cannot itself be differentiated.
    (g,) = torch.autograd.grad(out.square().sum(), X, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


@pytest.mark.parametrize("lengths", [None, [3, 0, 2, 1]])
def test_swap_memory_and_checkpoint_give_the_same_gradients(lengths):
    from torch.utils.checkpoint import checkpoint

    cell = cell64()
    X = torch.from_numpy(np.random.default_rng(3).standard_normal((4, 3, 3)))
    grads = []
    for mode in ("plain", "swap", "checkpoint"):
        cell.zero_grad()
        Xg = X.clone().requires_grad_()
        if mode == "checkpoint":
            out, state = checkpoint(
                lambda x: tr.dynamic_rnn(cell, x, sequence_length=lengths), Xg, use_reentrant=False
            )
        else:
            out, state = tr.dynamic_rnn(
                cell, Xg, sequence_length=lengths, swap_memory=mode == "swap"
            )
        (out.sin().sum() + state.sum()).backward()
        grads.append([Xg.grad, *(p.grad for p in cell.parameters())])
    for other in grads[1:]:
        for a, b in zip(grads[0], other, strict=True):
            assert torch.equal(a, b)


@pytest.mark.parametrize("module", [nr, tr], ids=["numpy", "torch"])
def test_padding_costs_no_arithmetic(module, monkeypatch):
    """The input GEMM sees sum(lengths) rows and the loop runs max(lengths) steps."""
    lengths = [5, 0, 2, 1]
    is_torch = module is tr
    cell = module.BasicRNNCell(3, 4, seed=0)
    X = np.random.default_rng(0).standard_normal((4, 7, 3)).astype(np.float32)
    seen = []
    if is_torch:
        original = torch.addmm

        def spy(bias, a, b, **kw):
            seen.append(tuple(a.shape))
            return original(bias, a, b, **kw)

        monkeypatch.setattr(torch, "addmm", spy)
        with torch.no_grad():
            out, _ = module.dynamic_rnn(cell, X, sequence_length=lengths)
    else:
        original = nr.np.dot

        def spy_dot(a, b, **kw):
            seen.append(a.shape)
            return original(a, b, **kw)

        monkeypatch.setattr(nr.np, "dot", spy_dot)
        out, _ = module.dynamic_rnn(cell, X, sequence_length=lengths)
    if is_torch:
        assert seen == [(8, 3)]  # one hoisted GEMM over the 8 valid (step, instance) pairs
    else:
        assert seen == [(3, 4), (2, 4), (1, 4), (1, 4), (1, 4)]  # h[:k] @ Wy, k = running
    assert np.asarray(out).shape == (4, 7, 4)


def test_numpy_batch_major_outputs_are_a_view_with_exact_zeros():
    cell = nr.BasicRNNCell(3, 4, seed=0)
    X = np.ones((3, 5, 3), dtype=np.float32)
    out, state = nr.dynamic_rnn(cell, X)
    assert out.shape == (3, 5, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(state, out[:, -1])
    state[:] = 7  # the state is its own array, not a view of the outputs
    assert not np.any(out == 7)
    out, _ = nr.dynamic_rnn(cell, X, sequence_length=[5, 0, 2])
    assert np.all(np.signbit(out[1]) == 0) and np.all(out[1] == 0) and np.all(out[2, 2:] == 0)
