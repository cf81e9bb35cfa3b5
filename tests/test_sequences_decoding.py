"""Tests of ``companion.sequences.decoding``: greedy decoding until EOS (chapter 8).

Each row stops at its first EOS, is never decoded again, and its length
equals ``lengths_from_eos`` of the tokens; NumPy and torch agree.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from companion import numpy_rnn as nr
from companion import sequences as sq

EOS, PAD, GO = 2, 0, 1

# ----------------------------------------------------------------- greedy decoding


class Scripted:
    """A fake decoder: row ``r`` emits ``script[r, t]`` at step ``t``.

    Its state is ``[row id, steps taken]``; it checks that it is fed the token
    emitted at the previous step and records the batch size of every call.
    """

    def __init__(self, script: np.ndarray, start_token: int, n_classes: int = 6) -> None:
        self.script, self.start, self.n_classes = script, start_token, n_classes
        self.calls: list[int] = []

    def start_state(self) -> np.ndarray:
        return np.stack([np.arange(len(self.script)), np.zeros(len(self.script))], axis=1)

    def __call__(self, prev, state):
        lib = torch if isinstance(state, torch.Tensor) else np
        rows = np.asarray(state[:, 0].tolist(), dtype=int)
        t = np.asarray(state[:, 1].tolist(), dtype=int)
        fed = np.asarray(prev.tolist())
        want = np.where(t == 0, self.start, self.script[rows, np.maximum(t - 1, 0)])
        assert np.array_equal(fed, want), "step_fn was not fed the previous token"
        assert not any((self.script[r, :k] == EOS).any() for r, k in zip(rows, t, strict=True)), (
            "a finished row was decoded again"
        )
        self.calls.append(len(rows))
        logits = np.full((len(rows), self.n_classes), -5.0)
        logits[np.arange(len(rows)), self.script[rows, t]] = 3.0
        step = np.array([0.0, 1.0])
        if lib is torch:
            return torch.as_tensor(logits), state + torch.as_tensor(step)
        return logits, state + step


@given(
    st.integers(1, 5).flatmap(
        lambda b: st.lists(
            st.lists(st.integers(1, 5), min_size=6, max_size=6), min_size=b, max_size=b
        )
    ),
    st.integers(1, 6),
)
def test_greedy_decode_stops_each_row_at_eos(script, max_steps):
    script = np.array(script)
    fake = Scripted(script, start_token=GO)
    tokens, lengths = sq.greedy_decode(fake, fake.start_state(), GO, EOS, max_steps, pad_id=PAD)
    want_lengths = sq.lengths_from_eos(script[:, :max_steps], EOS)
    np.testing.assert_array_equal(lengths, want_lengths)
    np.testing.assert_array_equal(sq.lengths_from_eos(tokens, EOS), lengths)
    assert tokens.dtype == np.int64 and lengths.dtype == np.int64
    assert tokens.shape == (len(script), int(want_lengths.max()))  # stops when all rows are done
    mask = sq.length_mask(lengths, tokens.shape[1])
    np.testing.assert_array_equal(tokens[mask], script[:, : tokens.shape[1]][mask])
    assert np.all(tokens[~mask] == PAD)
    # Only the rows still running are passed to step_fn: work = sum of lengths.
    assert sum(fake.calls) == int(lengths.sum())


def test_greedy_decode_torch_matches_numpy():
    script = np.array([[3, 4, 2, 5], [2, 3, 3, 3], [5, 5, 5, 5]])
    fake = Scripted(script, start_token=GO)
    tokens, lengths = sq.greedy_decode(fake, fake.start_state(), GO, EOS, 4)
    fake_t = Scripted(script, start_token=GO)
    state_t = torch.as_tensor(fake_t.start_state())
    tokens_t, lengths_t = sq.greedy_decode(fake_t, state_t, torch.tensor(GO), EOS, 4)
    assert isinstance(tokens_t, torch.Tensor) and tokens_t.dtype == torch.int64
    np.testing.assert_array_equal(tokens_t.numpy(), tokens)
    np.testing.assert_array_equal(lengths_t.numpy(), lengths)
    assert lengths.tolist() == [3, 1, 4]
    assert tokens.tolist() == [[3, 4, 2, 0], [2, 0, 0, 0], [5, 5, 5, 5]]


def test_greedy_decode_with_a_real_cell_and_tuple_state():
    # A decoder whose state is a tuple (h, count), e.g. an LSTM's (h, c).
    rng = np.random.default_rng(0)
    cell = nr.BasicRNNCell(6, 8, seed=rng)
    Wo = rng.normal(size=(8, 6))

    def step(prev, state):
        h, count = state
        h = cell(np.eye(6)[prev], h)
        return h @ Wo, (h, count + 1)

    h0 = rng.normal(size=(4, 8)).astype(np.float32)
    tokens, lengths = sq.greedy_decode(step, (h0, np.zeros(4)), np.array([1, 1, 3, 4]), 2, 10)
    np.testing.assert_array_equal(sq.lengths_from_eos(tokens, 2), lengths)
    # Each row decoded alone gives the same tokens: rows do not interact.
    for i in range(4):
        alone, n = sq.greedy_decode(step, (h0[i : i + 1], np.zeros(1)), [[1, 1, 3, 4][i]], 2, 10)
        np.testing.assert_array_equal(alone[0], tokens[i, : alone.shape[1]])
        assert n[0] == lengths[i]


def test_greedy_decode_errors():
    h0 = np.zeros((2, 3))

    def ok(prev, h):
        return np.zeros((len(prev), 4)), h

    with pytest.raises(TypeError, match="step_fn must be callable"):
        sq.greedy_decode(None, h0, GO, EOS, 3)
    with pytest.raises(ValueError, match="max_steps must be an int >= 1"):
        sq.greedy_decode(ok, h0, GO, EOS, 0)
    with pytest.raises(TypeError, match="start_state must be an array"):
        sq.greedy_decode(ok, [[0.0]], GO, EOS, 3)
    with pytest.raises(ValueError, match=r"start_token must have shape \[batch\] = \[2\]"):
        sq.greedy_decode(ok, h0, [1, 1, 1], EOS, 3)
    with pytest.raises(ValueError, match="logits of shape"):
        sq.greedy_decode(lambda p, h: (np.zeros(4), h), h0, GO, EOS, 3)
    with pytest.raises(ValueError, match="step_fn must return a state of shape"):
        sq.greedy_decode(lambda p, h: (np.zeros((len(p), 4)), h[:, :2]), h0, GO, EOS, 3)
