"""Tests of ``companion.sequences.beam``: beam search against exhaustive search.

On a tiny vocabulary every sequence can be enumerated, so the oracle is the
exhaustive optimum: a beam wide enough to never drop anything finds it; any
beam stays below it; width 1 is greedy decoding; and a width in between can
even lose to greedy decoding (a hand-made case shows it).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion import sequences as sq

V, EOS, GO, PAD = 4, 3, 0, 0  # vocabulary of 4 tokens; GO doubles as PAD
N_NEURONS = 5


class RandomDecoder:
    """A fixed random decoder over ``V`` tokens: an RNN whose state is ``(h, count)``.

    ``count`` is the number of steps each row has taken; all live hypotheses have
    the same length, so every call checks that the counts agree (rows were gathered
    consistently across the tuple). Works on NumPy arrays and on torch tensors.
    """

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.Wx = rng.normal(size=(V, N_NEURONS))
        self.Wy = rng.normal(scale=0.8, size=(N_NEURONS, N_NEURONS))
        self.Wo = rng.normal(scale=2.0, size=(N_NEURONS, V))
        self.h0 = rng.normal(size=(3, N_NEURONS))  # three sources
        self.calls: list[int] = []

    def start_state(self, lib=np):
        h0, count = self.h0, np.zeros(len(self.h0))
        if lib is torch:
            return torch.as_tensor(h0), torch.as_tensor(count)
        return h0, count

    def __call__(self, prev, state):
        h, count = state
        assert len(set(count.tolist())) == 1, "the parts of the state were gathered differently"
        self.calls.append(len(prev))
        if isinstance(h, torch.Tensor):
            Wx, Wy, Wo = (torch.as_tensor(w) for w in (self.Wx, self.Wy, self.Wo))
            h = torch.tanh(Wx[prev] + h @ Wy)
        else:
            h = np.tanh(self.Wx[prev] + h @ self.Wy)
            Wo = self.Wo
        return h @ Wo, (h, count + 1)


def exhaustive(step_fn, state, max_steps, length_penalty=None):
    """Every sequence one source can produce (ending at EOS, or cut at ``max_steps``),
    with its rank, best first. ``state`` is that source's state, batch 1."""
    found = []

    def visit(prev, state, prefix, score):
        logits, state = step_fn(np.array([prev]), state)
        log_p = logits[0] - np.log(np.exp(logits[0]).sum())  # small logits: no overflow
        for w in range(V):
            y, s = [*prefix, w], score + log_p[w]
            if w == EOS or len(y) == max_steps:
                found.append((s if length_penalty is None else s / len(y) ** length_penalty, y))
            else:
                visit(w, state, y, s)

    visit(GO, state, [], 0.0)
    return sorted(found, key=lambda item: -item[0])


def source(state, b):
    """Source ``b`` of a batched state, as a batch of one."""
    return tuple(part[b : b + 1] for part in state)


def sum_log_p(step_fn, state, tokens):
    """Sum of log p of ``tokens`` (one source, batch-1 ``state``), by direct evaluation."""
    total, prev = 0.0, GO
    for w in tokens:
        logits, state = step_fn(np.array([prev]), state)
        total += logits[0, w] - np.log(np.exp(logits[0]).sum())
        prev = w
    return total


# ------------------------------------------------------------------ exhaustive search


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**16),
    max_steps=st.integers(1, 4),
    length_penalty=st.sampled_from([None, 0.75, 2.0]),
)
def test_a_beam_that_never_drops_anything_is_exhaustive_search(seed, max_steps, length_penalty):
    dec = RandomDecoder(seed)
    state = dec.start_state()
    width = V**max_steps  # >= the number of candidates at any step
    best = sq.beam_search(
        dec, state, GO, EOS, max_steps, beam_width=width, length_penalty=length_penalty
    )
    beams = sq.beam_search(
        dec,
        state,
        GO,
        EOS,
        max_steps,
        beam_width=width,
        length_penalty=length_penalty,
        return_beams=True,
    )
    for b in range(3):
        every = exhaustive(dec, source(state, b), max_steps, length_penalty)
        rank, y = every[0]
        assert best.lengths[b] == len(y)
        np.testing.assert_array_equal(best.tokens[b, : len(y)], y)
        assert best.tokens[b, len(y) :].tolist() == [PAD] * (best.tokens.shape[1] - len(y))
        assert math.isclose(best.scores[b], rank, rel_tol=1e-12, abs_tol=1e-12)
        # return_beams lists every sequence, best first, then empty rows.
        n = len(every)
        np.testing.assert_allclose(
            beams.scores[b, :n], [r for r, _ in every], rtol=1e-12, atol=1e-12
        )
        listed = {tuple(beams.tokens[b, i, : beams.lengths[b, i]]) for i in range(n)}
        assert listed == {tuple(y) for _, y in every}
        assert np.all(beams.scores[b, n:] == -np.inf) and np.all(beams.lengths[b, n:] == 0)


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**16),
    max_steps=st.integers(1, 4),
    beam_width=st.integers(1, 6),
    length_penalty=st.sampled_from([None, 0.75]),
)
def test_any_beam_returns_a_real_sequence_scored_no_better_than_the_optimum(
    seed, max_steps, beam_width, length_penalty
):
    dec = RandomDecoder(seed)
    state = dec.start_state()
    tokens, lengths, scores = sq.beam_search(
        dec, state, GO, EOS, max_steps, beam_width=beam_width, length_penalty=length_penalty
    )
    assert tokens.dtype == np.int64 and lengths.dtype == np.int64 and scores.dtype == np.float64
    assert tokens.shape == (3, int(lengths.max()))
    np.testing.assert_array_equal(sq.lengths_from_eos(tokens, EOS), lengths)
    for b in range(3):
        y = tokens[b, : lengths[b]].tolist()
        assert EOS not in y[:-1] and (y[-1] == EOS or len(y) == max_steps)
        log_p = sum_log_p(dec, source(state, b), y)
        rank = log_p if length_penalty is None else log_p / len(y) ** length_penalty
        assert math.isclose(scores[b], rank, rel_tol=1e-12, abs_tol=1e-12)
        optimum = exhaustive(dec, source(state, b), max_steps, length_penalty)[0][0]
        assert scores[b] <= optimum + 1e-12


@settings(max_examples=30)
@given(seed=st.integers(0, 2**16), max_steps=st.integers(1, 6))
def test_beam_width_1_is_greedy_decoding(seed, max_steps):
    dec = RandomDecoder(seed)
    starts = np.array([0, 1, 2])
    greedy_tokens, greedy_lengths = sq.greedy_decode(
        dec, dec.start_state(), starts, EOS, max_steps, pad_id=PAD
    )
    tokens, lengths, _ = sq.beam_search(
        dec, dec.start_state(), starts, EOS, max_steps, beam_width=1, pad_id=PAD
    )
    np.testing.assert_array_equal(tokens, greedy_tokens)
    np.testing.assert_array_equal(lengths, greedy_lengths)


def test_sources_are_searched_independently():
    dec = RandomDecoder(7)
    state = dec.start_state()
    batch = sq.beam_search(dec, state, GO, EOS, 5, beam_width=3, return_beams=True)
    for b in range(3):
        alone = sq.beam_search(dec, source(state, b), GO, EOS, 5, beam_width=3, return_beams=True)
        np.testing.assert_array_equal(batch.lengths[b], alone.lengths[0])
        np.testing.assert_allclose(batch.scores[b], alone.scores[0], rtol=1e-12)  # BLAS rows
        width = alone.tokens.shape[2]
        np.testing.assert_array_equal(batch.tokens[b, :, :width], alone.tokens[0])
    # step_fn only ever sees live hypotheses: at most beam_width per source.
    assert max(dec.calls) <= 3 * 3


# ------------------------------------------------------------------ a heuristic, not a search


# Next-token probabilities after each prefix (tokens: 0 = EOS, 1 = a, 2 = b); uniform otherwise.
TABLE = {(): [0.1, 0.5, 0.4], (1,): [0.34, 0.33, 0.33], (2,): [0.1, 0.45, 0.45]}
GO_TABLE = 9


def table_step(prev, state):
    """State row = the prefix so far, as ``[length, token_1, token_2, ...]`` (max 3 tokens)."""
    logits, new = [], state.copy()
    for i, p in enumerate(prev.tolist()):
        n = int(state[i, 0])
        prefix = tuple(int(w) for w in state[i, 1 : 1 + n])
        if n or p != GO_TABLE:  # the first call feeds GO, which is not part of the prefix
            prefix = (*prefix, p)
            new[i, 0], new[i, len(prefix)] = len(prefix), p
        logits.append(np.log(TABLE.get(prefix, [1 / 3] * 3)))
    return np.array(logits), new


def test_a_narrow_beam_can_lose_to_greedy_decoding():
    state = np.zeros((1, 4))
    greedy, _ = sq.greedy_decode(table_step, state, GO_TABLE, 0, 3)
    assert greedy.tolist() == [[1, 0]]  # a, EOS: p = 0.5 * 0.34 = 0.17, the optimum
    two = sq.beam_search(table_step, state, GO_TABLE, 0, 3, beam_width=2)
    # Width 2 keeps b·a and b·b (p = 0.18 each) over a·EOS (0.17), then both fall to 0.06.
    assert two.tokens.tolist() == [[2, 1, 0]]
    assert math.isclose(two.scores[0], math.log(0.4 * 0.45 / 3), rel_tol=1e-12)
    wide = sq.beam_search(table_step, state, GO_TABLE, 0, 3, beam_width=27)
    assert wide.tokens.tolist() == [[1, 0]] and wide.lengths.tolist() == [2]  # = greedy
    assert math.isclose(wide.scores[0], math.log(0.17), rel_tol=1e-12)


def test_forbidden_tokens_are_never_emitted():
    def step(prev, h):
        logits = np.zeros((len(prev), V))
        logits[:, 1] = -np.inf  # token 1 is forbidden
        return logits, h

    beams = sq.beam_search(step, np.zeros((2, 1)), GO, EOS, 3, beam_width=64, return_beams=True)
    real = beams.lengths > 0
    assert (
        real.sum(axis=1).tolist() == [1 + 2 + 4 + 8] * 2
    )  # sequences over {0, 2} ending in EOS or cut
    assert np.isfinite(beams.scores[real]).all() and not (beams.tokens == 1).any()


# ------------------------------------------------------------------ torch and plain states


def test_torch_state_gives_the_same_search_on_its_device():
    dec = RandomDecoder(3)
    want = sq.beam_search(dec, dec.start_state(), GO, EOS, 4, beam_width=3, return_beams=True)
    got = sq.beam_search(
        dec, dec.start_state(torch), torch.tensor(GO), EOS, 4, beam_width=3, return_beams=True
    )
    assert all(isinstance(a, torch.Tensor) for a in got)
    assert got.tokens.dtype == torch.int64 and got.scores.dtype == torch.float64
    np.testing.assert_array_equal(got.tokens.numpy(), want.tokens)
    np.testing.assert_array_equal(got.lengths.numpy(), want.lengths)
    np.testing.assert_allclose(got.scores.numpy(), want.scores, rtol=1e-12)


def test_a_single_array_state_is_gathered_by_beam_index():
    dec = RandomDecoder(11)

    def step(prev, h):  # the same decoder, state h alone
        logits, (h, _) = dec(prev, (h, np.zeros(len(h))))
        return logits, h

    want = sq.beam_search(dec, dec.start_state(), GO, EOS, 4, beam_width=2)
    got = sq.beam_search(step, dec.h0, GO, EOS, 4, beam_width=2)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ bad input


def test_bad_input_is_refused_with_a_clear_message():
    h0 = np.zeros((2, 3))

    def ok(prev, h):
        return np.zeros((len(prev), V)), h

    with pytest.raises(TypeError, match="step_fn must be callable"):
        sq.beam_search(None, h0, GO, EOS, 3, beam_width=2)
    with pytest.raises(ValueError, match="beam_width must be an int >= 1; got 0"):
        sq.beam_search(ok, h0, GO, EOS, 3, beam_width=0)
    with pytest.raises(TypeError, match="beam_width must be an int"):
        sq.beam_search(ok, h0, GO, EOS, 3, beam_width=2.0)
    with pytest.raises(ValueError, match="max_steps must be an int >= 1"):
        sq.beam_search(ok, h0, GO, EOS, 0, beam_width=2)
    with pytest.raises(ValueError, match=r"eos_id must be an int in \[0, 3\]; got 4"):
        sq.beam_search(ok, h0, GO, 4, 3, beam_width=2)
    with pytest.raises(ValueError, match="eos_id must be an int >= 0"):
        sq.beam_search(ok, h0, GO, -1, 3, beam_width=2)
    with pytest.raises(ValueError, match="length_penalty must be a finite number > 0"):
        sq.beam_search(ok, h0, GO, EOS, 3, beam_width=2, length_penalty=-1.0)
    with pytest.raises(TypeError, match="start_state must be an array"):
        sq.beam_search(ok, [[0.0]], GO, EOS, 3, beam_width=2)
    with pytest.raises(ValueError, match=r"start_state part 1 must have shape \[2, 3\]"):
        sq.beam_search(ok, (h0, np.zeros((3, 3))), GO, EOS, 3, beam_width=2)
    with pytest.raises(ValueError, match=r"start_token must have shape \[batch\] = \[2\]"):
        sq.beam_search(ok, h0, [1, 1, 1], EOS, 3, beam_width=2)
    with pytest.raises(ValueError, match=r"logits of shape \[k, n_classes\] with k = 2"):
        sq.beam_search(lambda p, h: (np.zeros(V), h), h0, GO, EOS, 3, beam_width=2)
    with pytest.raises(ValueError, match="NaN or \\+inf"):
        sq.beam_search(lambda p, h: (np.full((2, V), np.nan), h), h0, GO, EOS, 3, beam_width=2)
    with pytest.raises(ValueError, match=r"step_fn's new state must have shape \[2, 3\]"):
        sq.beam_search(lambda p, h: (np.zeros((2, V)), h[:, :2]), h0, GO, EOS, 3, beam_width=2)
    with pytest.raises(ValueError, match="must have the structure of start_state"):
        sq.beam_search(lambda p, h: (np.zeros((2, V)), (h, h)), h0, GO, EOS, 3, beam_width=2)
