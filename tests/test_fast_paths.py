"""The fast paths of ``dynamic_rnn`` (:mod:`companion.fast`) against the reference loops.

``dynamic_rnn``'s own loop (``backend="reference"``) is the readable definition;
``companion.fast`` computes the same function faster: packed rows, so that the
work is proportional to ``sum(sequence_length)``, and in torch a hand-written
backward pass. These tests check the fast paths against the reference, by
behaviour only:

* the packing indices of :class:`companion.fast.packing.PackingPlan` against a
  brute-force enumeration, and the gradient of unpacking;
* fast == reference on random problems (both backends; outputs, state, exact
  zeros past each length, and in torch every gradient), and which one
  ``backend="auto"`` runs;
* ``torch.autograd.gradcheck`` (float64) of the packed path and of the
  reference, with and without ``sequence_length``, tanh and ReLU;
* what the backward keeps: ``swap_memory`` and non-reentrant checkpointing;
* the work: the rows multiplied by ``Wx`` and ``Wy`` (NumPy) and the FLOPs
  (torch) grow with ``sum(lengths)`` on the fast path, ``batch * n_steps`` on
  the reference.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import Backend, RNNCase, assert_bitwise_zero, rnn_cases
from torch.utils.flop_counter import FlopCounterMode

from companion import numpy_rnn as nr
from companion import torch_rnn as tr
from companion.fast import torch_packed
from companion.fast.packing import packing_plan


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
    """``Unpack``'s backward (a gather) equals autograd's rule for ``index_select``
    (a scatter-add), except for the row of zeros, which is a constant."""
    lengths = np.array([3, 0, 1, 3, 2])
    plan = packing_plan(lengths)
    rows, index = plan.packed_rows(4, False), plan.unpacked_rows(4, False)
    H = torch.randn(len(rows) + 1, 2, dtype=torch.float64, requires_grad=True)
    G = torch.randn(len(index), 2, dtype=torch.float64)
    (ours,) = torch.autograd.grad(
        torch_packed.Unpack.apply(H, torch.from_numpy(rows), torch.from_numpy(index)), H, G
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

    def packed(X, h0, Wx, Wy, b):
        lengths = None if seq is None else seq.numpy()
        return torch_packed.packed_dynamic_rnn(X, h0, lengths, Wx, Wy, b, nonlinearity, time_major)

    weights = [p.detach().clone().requires_grad_() for p in (cell.Wx, cell.Wy, cell.b)]
    assert torch.autograd.gradcheck(packed, (X, h0, *weights), eps=1e-6, atol=1e-7)
    # The reference, through dynamic_rnn itself (autograd differentiates its loop).
    X, h0 = X.detach().requires_grad_(), h0.detach().requires_grad_()

    def reference(X, h0):
        return tr.dynamic_rnn(
            cell, X, seq, initial_state=h0, time_major=time_major, backend="reference"
        )

    assert torch.autograd.gradcheck(reference, (X, h0), eps=1e-6, atol=1e-7)


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

    # Autograd through every operation of a direct loop: the oracle for the hand-written BPTT.
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
    out, state = tr.dynamic_rnn(
        cell, X, sequence_length=lengths, initial_state=h0, backend="reference"
    )
    reference = torch.autograd.grad(
        (out * G).sum() + (state * Gs).sum(), (X, h0, *cell.parameters())
    )
    for a, b in zip(ours, reference, strict=True):
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


# ------------------------------------------------------- fast == reference


def run_both(B: Backend, case: RNNCase):
    """``dynamic_rnn`` of ``case`` with the fast and the reference backend (float64)."""
    a = case.arrays(np.float64)
    cell = B.module.BasicRNNCell.from_weights(
        B.array(a["Wx"]), B.array(a["Wy"]), B.array(a["b"]), nonlinearity=case.nonlinearity
    )
    X = a["X"].transpose(1, 0, 2).copy() if case.time_major else a["X"]
    h0 = None if a["initial_state"] is None else B.array(a["initial_state"])
    args = (cell, B.array(X), case.sequence_length, h0, case.time_major)
    return [B.module.dynamic_rnn(*args, backend=backend) for backend in ("loop", "reference")]


@given(rnn_cases())
@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_fast_path_equals_the_reference(name, case):
    B = Backend(name)
    (fast_out, fast_state), (ref_out, ref_state) = run_both(B, case)
    fast_out, ref_out = B.numpy(fast_out), B.numpy(ref_out)
    np.testing.assert_allclose(fast_out, ref_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(B.numpy(fast_state), B.numpy(ref_state), rtol=1e-12, atol=1e-12)
    if not case.time_major:
        fast_out, ref_out = fast_out.transpose(1, 0, 2), ref_out.transpose(1, 0, 2)
    for t in range(case.n_steps):  # time-major from here: past each length, bitwise +0.0
        ended = case.effective_lengths <= t
        assert_bitwise_zero(fast_out[t, ended])
        assert_bitwise_zero(ref_out[t, ended])


@given(rnn_cases(max_batch=4, max_steps=5, max_size=4))
def test_hand_written_backward_equals_autograd_of_the_reference(case):
    B = Backend("torch")
    grads = []
    for backend in ("loop", "reference"):
        a = case.arrays(np.float64)
        cell = tr.BasicRNNCell.from_weights(
            a["Wx"], a["Wy"], a["b"], nonlinearity=case.nonlinearity
        )
        X = torch.from_numpy(a["X"].transpose(1, 0, 2).copy() if case.time_major else a["X"])
        X.requires_grad_()
        out, state = tr.dynamic_rnn(
            cell, X, case.sequence_length, time_major=case.time_major, backend=backend
        )
        w_out, w_state = case.loss_weights()
        if case.time_major:
            w_out = w_out.transpose(1, 0, 2)
        loss = (out * B.array(w_out)).sum() + (state * B.array(w_state)).sum()
        inputs = (X, *cell.parameters())
        found = torch.autograd.grad(loss, inputs, allow_unused=True)
        # (Nothing to differentiate -- no step ran -- is None for autograd, zeros for ours.)
        pairs = zip(inputs, found, strict=True)
        grads.append([torch.zeros_like(x) if g is None else g for x, g in pairs])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["numpy", "torch"])
@pytest.mark.parametrize("backend", ["loop", "reference"])
def test_full_length_batch_major_outputs_are_a_view_of_time_major_memory(name, backend):
    """As ``nn.RNN(batch_first=True)``: no copy into batch-major memory; the state is its own."""
    B = Backend(name)
    cell = B.module.BasicRNNCell(3, 4, seed=0)
    X = B.array(np.ones((3, 5, 3), dtype=np.float32))
    with torch.no_grad():
        out, state = B.module.dynamic_rnn(cell, X, backend=backend)
    assert tuple(out.shape) == (3, 5, 4)
    time_major = out.transpose(1, 0, 2) if name == "numpy" else out.transpose(0, 1)
    if name == "numpy":
        assert out.base is not None and time_major.flags.c_contiguous
    else:
        assert out._base is not None and time_major.is_contiguous()
    np.testing.assert_array_equal(B.numpy(state), B.numpy(out)[:, -1])
    state[:] = 7  # the state is its own array, not a view of the outputs
    assert not np.any(B.numpy(out) == 7)


# ------------------------------------------------------------------- the work


class CountingWeight(np.ndarray):
    """A weight matrix that counts the rows of every matrix product it takes part in."""

    rows: int

    @staticmethod
    def _plain(values):
        return tuple(x.view(np.ndarray) if isinstance(x, CountingWeight) else x for x in values)

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if ufunc is np.matmul and inputs[1] is self:  # (rows of the other operand) @ W
            self.rows += int(np.prod(np.shape(inputs[0])[:-1]))
        if out is not None:
            kwargs["out"] = self._plain(out)
        return getattr(ufunc, method)(*self._plain(inputs), **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.dot and args[1] is self:
            self.rows += int(np.prod(np.shape(args[0])[:-1]))
        return func(*self._plain(args), **kwargs)


def counting(a: np.ndarray) -> CountingWeight:
    w = a.view(CountingWeight)
    w.rows = 0
    return w


@pytest.mark.parametrize("time_major", [False, True])
def test_numpy_fast_path_multiplies_only_the_valid_rows(time_major):
    """The rows multiplied by ``Wx`` and by ``Wy`` are ``sum(lengths)`` on the fast path --
    which the default ``"auto"`` runs for this ragged batch -- and ``batch * n_steps`` on
    the reference (which computes every row, then selects)."""
    lengths = np.array([5, 0, 2, 1])
    X = np.random.default_rng(0).standard_normal((7, 4, 3) if time_major else (4, 7, 3))
    cases = (("auto", lengths.sum()), ("loop", lengths.sum()), ("reference", 4 * 7))
    for backend, expected in cases:
        cell = nr.BasicRNNCell(3, 6, seed=0)
        cell.Wx, cell.Wy = counting(cell.Wx), counting(cell.Wy)
        out, _ = nr.dynamic_rnn(cell, X, lengths, time_major=time_major, backend=backend)
        assert (cell.Wx.rows, cell.Wy.rows) == (expected, expected), backend
        assert type(out) is np.ndarray


def _addmm_inplace_flops(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """``z.addmm_(a, b)``, ``z += a @ b``: ``2 m k n`` FLOPs, as ``addmm`` (which
    FlopCounterMode knows; the in-place form it does not)."""
    return 2 * a_shape[0] * a_shape[1] * b_shape[1]


def forward_backward_flops(cell, X, lengths, **backend):
    """Matrix-product FLOPs of ``dynamic_rnn``'s forward and of its backward pass."""
    h0 = torch.zeros(X.shape[0], cell.n_neurons, requires_grad=True)
    counting_inplace = {torch.ops.aten.addmm_: _addmm_inplace_flops}
    with FlopCounterMode(display=False, custom_mapping=counting_inplace) as forward:
        out, state = tr.dynamic_rnn(cell, X, lengths, h0, **backend)
    with FlopCounterMode(display=False, custom_mapping=counting_inplace) as backward:
        (out.sum() + state.sum()).backward()
    return forward.get_total_flops(), backward.get_total_flops()


def test_torch_fast_path_flops_grow_with_the_sum_of_lengths():
    n_inputs, n_neurons = 3, 6
    cell = tr.BasicRNNCell(n_inputs, n_neurons, seed=0)
    X = torch.randn(4, 7, n_inputs, requires_grad=True)
    per_row = 2 * (n_inputs + n_neurons) * n_neurons  # x_t @ Wx and h_{t-1} @ Wy, one row
    for lengths in ([5, 0, 2, 1], [7, 7, 7, 7], [1, 0, 0, 0]):
        fwd, bwd = forward_backward_flops(cell, X, lengths)  # the default: backend="loop"
        assert fwd == sum(lengths) * per_row
        assert bwd == 2 * sum(lengths) * per_row  # dX and dWx; dh_{t-1} and dWy
        ref_fwd, ref_bwd = forward_backward_flops(cell, X, lengths, backend="reference")
        assert ref_fwd == 4 * 7 * per_row and ref_bwd == 2 * 4 * 7 * per_row
