"""reverse_sequence and bidirectional_dynamic_rnn in both backends (deep RNNs, planned).

Oracles: ``torch.nn.RNN``/``LSTM``/``GRU(bidirectional=True)`` on
``pack_padded_sequence(enforce_sorted=False)`` + ``pad_packed_sequence`` (the
backward direction reads each sequence's valid part reversed), and a direct loop
for ``reverse_sequence`` and for lengths of 0, which packing refuses.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from stacked_cases import (
    layer_weights,
    our_cell,
    our_state,
    padded_problem,
    run_module,
    state_parts,
    torch_module,
)
from strategies import Backend, assert_bitwise_zero

from companion import numpy_rnn, torch_rnn

BACKENDS = [Backend("numpy"), Backend("torch")]
KINDS = ["rnn", "lstm", "gru"]
RAGGED = [6, 1, 3, 6, 2]  # unsorted


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(Backend.numpy(a), Backend.numpy(b), rtol=tol, atol=tol)


def directions(B: Backend, kind: str, module):
    """Our (cell_fw, cell_bw) from a one-layer bidirectional ``nn`` module."""
    return tuple(our_cell(B, kind, layer_weights(module, 0, s)) for s in ("", "_reverse"))


def reverse_by_loop(X: np.ndarray, lengths) -> np.ndarray:
    """``rev[i, :L] = X[i, L-1::-1]``, the rest unchanged (batch-major)."""
    rev = X.copy()
    for i, L in enumerate(lengths):
        rev[i, :L] = X[i, :L][::-1]
    return rev


# ------------------------------------------------------------------ reverse_sequence


@settings(max_examples=30)
@given(
    batch=st.integers(1, 4),
    n_steps=st.integers(0, 6),
    data=st.data(),
    time_major=st.booleans(),
)
def test_reverse_sequence_reverses_only_the_valid_part(backend, batch, n_steps, data, time_major):
    lengths = data.draw(st.lists(st.integers(0, n_steps), min_size=batch, max_size=batch))
    X = np.random.default_rng(n_steps).standard_normal((batch, n_steps, 2))
    given_X = X.transpose(1, 0, 2) if time_major else X
    rev = backend.module.reverse_sequence(backend.array(given_X), lengths, time_major)
    rev = Backend.numpy(rev).transpose(1, 0, 2) if time_major else Backend.numpy(rev)
    np.testing.assert_array_equal(rev, reverse_by_loop(X, lengths))
    twice = backend.module.reverse_sequence(backend.array(rev), lengths)
    np.testing.assert_array_equal(Backend.numpy(twice), X)
    full = backend.module.reverse_sequence(backend.array(X))  # no lengths: a plain flip
    np.testing.assert_array_equal(Backend.numpy(full), X[:, ::-1])


# ----------------------------------------------------- nn.* with bidirectional=True


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lengths", [None, RAGGED], ids=["full", "ragged"])
def test_equals_torch_bidirectional_on_packed_sequences(B, kind, lengths):
    module = torch_module(kind, bidirectional=True, seed=7)
    cell_fw, cell_bw = directions(B, kind, module)
    X, h0, c0 = (torch.from_numpy(a) for a in padded_problem(seed=8))
    with torch.no_grad():
        want_out, want_final = run_module(module, kind, X, h0, c0, lengths)
    states = [our_state(kind, h0, c0, d) for d in range(2)]
    states = [
        tuple(B.array(p.numpy()) for p in s) if kind == "lstm" else B.array(s.numpy())
        for s in states
    ]
    (out_fw, out_bw), (state_fw, state_bw) = B.module.bidirectional_dynamic_rnn(
        cell_fw, cell_bw, B.array(X.numpy()), lengths, states[0], states[1]
    )
    close(out_fw, want_out[..., :5])
    close(out_bw, want_out[..., 5:])
    h_n, c_n = want_final if kind == "lstm" else (want_final, None)
    for d, state in enumerate((state_fw, state_bw)):
        want = (c_n[d], h_n[d]) if kind == "lstm" else h_n[d]
        for got, expected in zip(state_parts(state), state_parts(want), strict=True):
            close(got, expected)
    if lengths is not None:
        padding = np.arange(6)[None, :] >= np.asarray(lengths)[:, None]
        for out in (out_fw, out_bw):
            assert_bitwise_zero(Backend.numpy(out)[padding])


@pytest.mark.parametrize("kind", KINDS)
def test_torch_gradients_equal_nn_bidirectional(kind):
    module = torch_module(kind, bidirectional=True, seed=9)
    X, h0, c0 = padded_problem(seed=10)
    rng = np.random.default_rng(11)
    w_out, w_h = (torch.from_numpy(rng.standard_normal(s)) for s in ((5, 6, 10), (2, 5, 5)))

    def leaves():
        return [torch.from_numpy(a.copy()).requires_grad_(True) for a in (X, h0, c0)]

    def loss(out, h_n):
        return (out * w_out).sum() + (h_n * w_h).sum()

    Xa, h0a, c0a = leaves()
    out, final = run_module(module, kind, Xa, h0a, c0a, RAGGED)
    loss(out, final[0] if kind == "lstm" else final).backward()
    want = [Xa.grad, h0a.grad] + ([c0a.grad] if kind == "lstm" else [])
    want += [p.grad for p in module.parameters()]  # forward direction's four, then reverse's

    cells = directions(Backend("torch"), kind, module)
    Xb, h0b, c0b = leaves()
    initial = [our_state(kind, h0b, c0b, d) for d in range(2)]
    (out_fw, out_bw), states = torch_rnn.bidirectional_dynamic_rnn(*cells, Xb, RAGGED, *initial)
    h_n = torch.stack([c.output(s) for c, s in zip(cells, states, strict=True)])
    loss(torch.cat([out_fw, out_bw], dim=-1), h_n).backward()
    got = [Xb.grad, h0b.grad] + ([c0b.grad] if kind == "lstm" else [])
    for c in cells:  # in nn's layout: weight = W.T; both nn biases get the gradient of ours
        got += [c.Wx.grad.T, c.Wy.grad.T]
        got += [c.bx.grad, c.by.grad] if kind == "gru" else [c.b.grad, c.b.grad]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        close(g, w)


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_flipping_the_padded_array_is_wrong_reverse_sequence_is_right(B):
    module = torch_module("gru", bidirectional=True, seed=12)
    cell_fw, cell_bw = directions(B, "gru", module)
    X, _, _ = padded_problem(seed=13)
    with torch.no_grad():
        want_out, _ = run_module(module, "gru", torch.from_numpy(X), None, None, RAGGED)
    want_bw = want_out[..., 5:].numpy()
    (_, out_bw), _ = B.module.bidirectional_dynamic_rnn(cell_fw, cell_bw, B.array(X), RAGGED)
    close(out_bw, want_bw)
    # The wrong way: flip the whole padded array, run, flip back.
    flipped, _ = B.module.dynamic_rnn(cell_bw, B.array(X[:, ::-1].copy()), RAGGED)
    wrong = Backend.numpy(flipped)[:, ::-1]
    short = np.asarray(RAGGED) < 6
    assert np.abs(wrong[short] - want_bw[short]).max() > 0.1  # the padding was read first
    close(wrong[~short], want_bw[~short])  # full-length sequences: the flip is the reversal


# ------------------------------------------------------------------ beyond nn: oracle


@settings(max_examples=25)
@given(
    batch=st.integers(1, 4),
    n_steps=st.integers(0, 5),
    data=st.data(),
    time_major=st.booleans(),
)
def test_any_cells_with_lengths_including_zero(backend, batch, n_steps, data, time_major):
    B = backend
    lengths = data.draw(st.lists(st.integers(0, n_steps), min_size=batch, max_size=batch))
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    dtype = B.dtype("float64")
    cell_fw = B.module.MultiRNNCell(
        [B.module.LSTMCell(3, 4, seed=seed, dtype=dtype), B.module.GRUCell(4, 2, dtype=dtype)]
    )
    cell_bw = B.module.BasicRNNCell(3, 5, seed=seed + 1, dtype=dtype)
    X = rng.standard_normal((batch, n_steps, 3))
    h_bw = rng.standard_normal((batch, 5))
    X_given = X.transpose(1, 0, 2) if time_major else X
    (out_fw, out_bw), (state_fw, state_bw) = B.module.bidirectional_dynamic_rnn(
        cell_fw, cell_bw, B.array(X_given), lengths, None, B.array(h_bw), time_major
    )
    if time_major:
        out_fw, out_bw = (Backend.numpy(o).transpose(1, 0, 2) for o in (out_fw, out_bw))
    want_fw, want_state_fw = B.module.dynamic_rnn(cell_fw, B.array(X), lengths)
    close(out_fw, want_fw)
    for got, want in zip(state_parts(state_fw), state_parts(want_state_fw), strict=True):
        close(got, want)
    # The backward cell, instance by instance, on x[i, L-1], ..., x[i, 0]:
    Wx, Wy, b = (Backend.numpy(w) for w in (cell_bw.Wx, cell_bw.Wy, cell_bw.b))
    for i, L in enumerate(lengths):
        h = h_bw[i]
        for t in reversed(range(L)):
            h = np.tanh(X[i, t] @ Wx + h @ Wy + b)
            close(Backend.numpy(out_bw)[i, t], h)
        close(Backend.numpy(state_bw)[i], h)  # L = 0: the initial state
        assert_bitwise_zero(Backend.numpy(out_bw)[i, L:])


def test_numpy_equals_torch():
    X = np.random.default_rng(14).integers(-3, 4, (4, 5, 3))  # integers: converted
    runs = {}
    for B in BACKENDS:
        cells = [B.module.LSTMCell(3, 4, seed=s, dtype=B.dtype("float64")) for s in (0, 1)]
        runs[B.name] = B.module.bidirectional_dynamic_rnn(*cells, B.array(X), [5, 0, 2, 4])
    for a, b in zip(runs["numpy"][0], runs["torch"][0], strict=True):
        close(a, b)
    for a, b in zip(*(state_parts(runs[n][1]) for n in ("numpy", "torch")), strict=True):
        close(a, b)


# ------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_bad_inputs(B):
    fw = B.module.BasicRNNCell(3, 4)
    X = B.array(np.zeros((2, 5, 3)))
    run = B.module.bidirectional_dynamic_rnn
    other = numpy_rnn if B.name == "torch" else torch_rnn
    with pytest.raises(TypeError, match=r"cell_bw must be one of .*; got BasicRNNCell"):
        run(fw, other.BasicRNNCell(3, 4), X)
    with pytest.raises(TypeError, match=r"cell_fw must be one of .*; got str"):
        run("lstm", fw, X)
    with pytest.raises(ValueError, match=r"cell_bw must have n_inputs = 3 like cell_fw"):
        run(fw, B.module.GRUCell(2, 4), X)
    with pytest.raises(ValueError, match=r"cell_bw must have the dtype of cell_fw"):
        run(fw, B.module.GRUCell(3, 4, dtype=B.dtype("float64")), X)
    with pytest.raises(ValueError, match=r"X must have rank 3"):
        run(fw, fw, B.array(np.zeros((5, 3))))
    with pytest.raises(ValueError, match=r"sequence_length values must lie in \[0, n_steps\]"):
        run(fw, fw, X, [5, 6])
    with pytest.raises(ValueError, match=r"initial_state_bw must have shape .*\[2, 7\]"):
        run(fw, B.module.BasicRNNCell(3, 7), X, None, None, B.array(np.zeros((2, 4))))
    with pytest.raises(TypeError, match=r"initial_state_fw must be a pair \(c, h\)"):
        run(B.module.LSTMCell(3, 4), fw, X, None, B.array(np.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"sequence_length must have shape"):
        B.module.reverse_sequence(X, [1, 2, 3])
