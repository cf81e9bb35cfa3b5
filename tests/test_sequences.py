"""Tests of ``companion.sequences``: padding, lengths, masks, EOS, masked loss, greedy decoding.

The contract is the module docstring (chapters 7 and 8): ``mask[i, t] = t <
lengths[i]``; lengths from EOS count the first EOS and give rows without EOS the
full length; the masked cross-entropy averages over valid positions only and
equals ``torch.nn.functional.cross_entropy(..., ignore_index=...)``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from strategies import assert_bitwise_zero

from companion import numpy_rnn as nr
from companion import sequences as sq

EOS, PAD, GO = 2, 0, 1

# ----------------------------------------------------------------- strategies


@st.composite
def ragged(draw, *, max_batch=5, max_len=6, trailing=None):
    """A list of arrays [length_i, *trailing] (lengths include 0) and the trailing shape."""
    if trailing is None:
        trailing = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    seed = draw(st.integers(0, 2**32 - 1))
    lengths = draw(st.lists(st.integers(0, max_len), min_size=1, max_size=max_batch))
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, *trailing)) for n in lengths], trailing


@st.composite
def padded_batches(draw, *, max_batch=5, max_steps=6):
    """(X [batch, n_steps, 3] random everywhere, lengths int64 [batch] in [0, n_steps])."""
    batch = draw(st.integers(1, max_batch))
    n_steps = draw(st.integers(0, max_steps))
    one = st.one_of(st.just(0), st.just(n_steps), st.integers(0, n_steps))
    lengths = np.array(draw(st.lists(one, min_size=batch, max_size=batch)), dtype=np.int64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((batch, n_steps, 3)), lengths


@st.composite
def token_batches(draw, *, max_batch=5, max_steps=7, n_classes=6):
    """Token ids [batch, n_steps] with EOS at random places (none, once, several times)."""
    batch = draw(st.integers(1, max_batch))
    n_steps = draw(st.integers(0, max_steps))
    rows = []
    for _ in range(batch):
        row = draw(st.lists(st.integers(0, n_classes - 1), min_size=n_steps, max_size=n_steps))
        rows.append(row)
    return np.array(rows, dtype=np.int64).reshape(batch, n_steps)


@st.composite
def loss_cases(draw, *, n_classes=5):
    """(logits, targets with PAD after each end, lengths >= 1): an EOS-style target batch."""
    batch = draw(st.integers(1, 4))
    n_steps = draw(st.integers(1, 6))
    lengths = np.array(
        draw(st.lists(st.integers(1, n_steps), min_size=batch, max_size=batch)), dtype=np.int64
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    logits = rng.normal(scale=3.0, size=(batch, n_steps, n_classes))
    targets = rng.integers(1, n_classes, size=(batch, n_steps))  # never PAD (= 0) when valid
    targets[~sq.length_mask(lengths, n_steps)] = PAD
    return logits, targets, lengths


def naive_ce(logits_row: np.ndarray, target: int) -> float:
    """-log softmax, written out in float64 for one position."""
    z = np.asarray(logits_row, dtype=np.float64)
    return float(-(z[target] - z.max() - np.log(np.exp(z - z.max()).sum())))


# ----------------------------------------------------------------- padding


@given(ragged(), st.integers(0, 3), st.sampled_from([0, -1.5]))
def test_pad_then_unpad_round_trip(case, extra, pad_value):
    seqs, trailing = case
    longest = max(len(s) for s in seqs)
    X, lengths = sq.pad_sequences(seqs, n_steps=longest + extra, pad_value=pad_value)
    assert X.shape == (len(seqs), longest + extra, *trailing)
    assert lengths.dtype == np.int64
    assert lengths.tolist() == [len(s) for s in seqs]
    back = sq.unpad(X, lengths)
    assert len(back) == len(seqs)
    for got, want in zip(back, seqs, strict=True):
        np.testing.assert_array_equal(got, want)
    mask = sq.length_mask(lengths, X.shape[1])
    assert np.all(X[~mask] == pad_value)


def test_pad_sequences_source_example():
    seqs = [
        [[0, 1, 2], [9, 8, 7]],
        [[3, 4, 5]],
        [[6, 7, 8], [6, 5, 4]],
        [[9, 0, 1], [3, 2, 1]],
    ]
    X, lengths = sq.pad_sequences(seqs)
    assert X.dtype == np.int64
    assert lengths.tolist() == [2, 1, 2, 2]
    np.testing.assert_array_equal(X[1, 1], [0, 0, 0])
    assert X.shape == (4, 2, 3)


def test_pad_sequences_default_width_dtype_and_tokens():
    X, lengths = sq.pad_sequences([[5, 6, 2], [7, 2], []], pad_value=PAD)
    assert X.tolist() == [[5, 6, 2], [7, 2, 0], [0, 0, 0]]
    assert X.dtype == np.int64  # the empty list does not turn the batch into floats
    assert lengths.tolist() == [3, 2, 0]
    Xf, _ = sq.pad_sequences([[1, 2]], dtype=np.float32)
    assert Xf.dtype == np.float32


def test_pad_sequences_torch_keeps_type_dtype_and_device():
    seqs = [torch.ones(3, 2, dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64)]
    X, lengths = sq.pad_sequences(seqs, pad_value=-1.0)
    assert isinstance(X, torch.Tensor) and isinstance(lengths, torch.Tensor)
    assert X.dtype == torch.float64 and lengths.dtype == torch.int64
    assert X.device == seqs[0].device
    assert X[1, 1:].eq(-1.0).all() and lengths.tolist() == [3, 1]
    back = sq.unpad(X, lengths)
    assert all(isinstance(b, torch.Tensor) for b in back)
    assert torch.equal(back[0], seqs[0])


@pytest.mark.parametrize(
    ("seqs", "kwargs", "error", "words"),
    [
        ([], {}, ValueError, "at least one"),
        (np.zeros((2, 3)), {}, TypeError, "seqs must be a list"),
        ([[1, 2], [1, 2, 3]], {"n_steps": 2}, ValueError, "seqs[1] has length 3"),
        ([np.zeros((2, 3)), np.zeros((2, 4))], {}, ValueError, "seqs[1] must have shape"),
        ([np.float64(1.0)], {}, ValueError, "seqs[0] must have rank >= 1"),
        ([["a", "b"]], {}, TypeError, "seqs[0]"),
        ([[1]], {"n_steps": -1}, ValueError, "n_steps"),
        ([torch.ones(2), [1.0]], {}, TypeError, "not a mix"),
    ],
)
def test_pad_sequences_errors(seqs, kwargs, error, words):
    with pytest.raises(error, match=None) as info:
        sq.pad_sequences(seqs, **kwargs)
    assert words in str(info.value)


def test_unpad_errors_name_the_argument():
    X = np.zeros((3, 4, 2))
    with pytest.raises(ValueError, match=r"lengths must have shape \[batch\] = \[3\]"):
        sq.unpad(X, [1, 2])
    with pytest.raises(ValueError, match=r"lengths\[2\] = 5"):
        sq.unpad(X, [1, 2, 5])
    with pytest.raises(TypeError, match="lengths must be a vector of integers"):
        sq.unpad(X, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="X must have rank >= 2"):
        sq.unpad(np.zeros(3), [1, 1, 1])


# ----------------------------------------------------------------- masks


@given(padded_batches())
def test_length_mask_agrees_with_lengths(case):
    X, lengths = case
    n_steps = X.shape[1]
    mask = sq.length_mask(lengths, n_steps)
    assert mask.dtype == bool and mask.shape == (len(lengths), n_steps)
    np.testing.assert_array_equal(mask.sum(axis=1), lengths)
    for i, n in enumerate(lengths):
        assert mask[i, :n].all() and not mask[i, n:].any()  # a prefix of length n
    mask_t = sq.length_mask(torch.as_tensor(lengths), n_steps)
    assert isinstance(mask_t, torch.Tensor) and mask_t.dtype == torch.bool
    np.testing.assert_array_equal(mask_t.numpy(), mask)


def test_length_mask_errors():
    with pytest.raises(ValueError, match="n_steps must be an int >= 0"):
        sq.length_mask([1], -1)
    with pytest.raises(ValueError, match=r"lengths\[0\] = 4"):
        sq.length_mask([4], 3)
    with pytest.raises(ValueError, match="lengths must have rank 1"):
        sq.length_mask([[1, 2]], 3)


@given(padded_batches())
def test_mask_outputs_zeros_exactly_past_each_end(case):
    X, lengths = case
    X = X.copy()
    mask = sq.length_mask(lengths, X.shape[1])
    X[~mask] = np.nan  # multiplying by a 0/1 mask would leave NaN here
    masked = sq.mask_outputs(X, lengths)
    assert masked.dtype == X.dtype and masked.shape == X.shape
    assert_bitwise_zero(masked[~mask])
    np.testing.assert_array_equal(masked[mask], X[mask])
    masked_t = sq.mask_outputs(torch.as_tensor(X), torch.as_tensor(lengths))
    assert isinstance(masked_t, torch.Tensor)
    np.testing.assert_array_equal(masked_t.numpy(), masked)


@given(padded_batches(max_steps=5))
def test_mask_outputs_of_a_full_run_equals_dynamic_rnn_with_sequence_length(case):
    # Outputs before the end depend only on earlier steps, so masking a full run
    # gives what dynamic_rnn computes with sequence_length.
    X, lengths = case
    cell = nr.BasicRNNCell(3, 4, dtype=np.float64, seed=1)
    full, _ = nr.dynamic_rnn(cell, X)
    with_lengths, _ = nr.dynamic_rnn(cell, X, sequence_length=lengths)
    np.testing.assert_allclose(sq.mask_outputs(full, lengths), with_lengths, atol=1e-12)


def test_mask_outputs_errors():
    with pytest.raises(ValueError, match="outputs must have rank >= 2"):
        sq.mask_outputs(np.zeros(4), [1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"lengths must have shape \[batch\] = \[2\]"):
        sq.mask_outputs(np.zeros((2, 3, 1)), [1, 1, 1])
    with pytest.raises(TypeError, match="outputs must hold numbers"):
        sq.mask_outputs(np.array([["a"]]), [1])


# ----------------------------------------------------------------- EOS


def test_lengths_from_eos_counts_the_first_eos_and_full_length_without_eos():
    tokens = np.array([[5, 2, 0, 0], [2, 2, 2, 2], [5, 6, 7, 3], [3, 4, 2, 2], [3, 4, 5, 2]])
    assert sq.lengths_from_eos(tokens, EOS).tolist() == [2, 1, 4, 3, 4]


@given(token_batches())
def test_lengths_from_eos_properties(tokens):
    n_steps = tokens.shape[1]
    lengths = sq.lengths_from_eos(tokens, EOS)
    assert lengths.dtype == np.int64 and lengths.shape == (tokens.shape[0],)
    for i, n in enumerate(lengths):
        has_eos = bool((tokens[i] == EOS).any())
        if has_eos:
            assert 1 <= n <= n_steps
            assert tokens[i, n - 1] == EOS  # the EOS is counted ...
            assert not (tokens[i, : n - 1] == EOS).any()  # ... and it is the first one
        else:
            assert n == n_steps
    # Whatever follows the first EOS does not matter.
    scrambled = tokens.copy()
    scrambled[~sq.length_mask(lengths, n_steps)] = 4
    np.testing.assert_array_equal(sq.lengths_from_eos(scrambled, EOS), lengths)
    # torch gives the same, as an int64 tensor.
    lengths_t = sq.lengths_from_eos(torch.as_tensor(tokens), EOS)
    assert isinstance(lengths_t, torch.Tensor) and lengths_t.dtype == torch.int64
    np.testing.assert_array_equal(lengths_t.numpy(), lengths)


@given(token_batches())
def test_mask_after_eos_properties(tokens):
    masked = sq.mask_after_eos(tokens, EOS, PAD)
    lengths = sq.lengths_from_eos(tokens, EOS)
    mask = sq.length_mask(lengths, tokens.shape[1])
    assert masked.dtype == tokens.dtype
    np.testing.assert_array_equal(masked[mask], tokens[mask])
    assert np.all(masked[~mask] == PAD)
    np.testing.assert_array_equal(sq.lengths_from_eos(masked, EOS), lengths)
    np.testing.assert_array_equal(sq.mask_after_eos(masked, EOS, PAD), masked)  # idempotent
    masked_t = sq.mask_after_eos(torch.as_tensor(tokens), EOS, PAD)
    np.testing.assert_array_equal(masked_t.numpy(), masked)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: sq.lengths_from_eos(np.zeros((2, 3)), EOS), TypeError, "tokens must be"),
        (lambda: sq.lengths_from_eos(np.zeros(3, dtype=int), EOS), ValueError, "rank 2"),
        (lambda: sq.lengths_from_eos(np.zeros((2, 3), dtype=int), -1), ValueError, "eos_id"),
        (lambda: sq.lengths_from_eos(np.zeros((2, 3), dtype=int), 2.0), TypeError, "eos_id"),
        (lambda: sq.mask_after_eos(np.zeros((2, 3), dtype=int), 2, -1), ValueError, "pad_id"),
    ],
)
def test_eos_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


# ----------------------------------------------------------------- masked mean and loss


def test_masked_mean_ignores_masked_values_even_nan():
    values = np.array([[1.0, 3.0, np.nan], [5.0, np.inf, 7.0]])
    mask = np.array([[True, True, False], [True, False, True]])
    assert sq.masked_mean(values, mask) == pytest.approx(4.0)
    got = sq.masked_mean(torch.as_tensor(values), torch.as_tensor(mask))
    assert isinstance(got, torch.Tensor) and float(got) == pytest.approx(4.0)


def test_masked_mean_errors():
    with pytest.raises(ValueError, match="at least one position"):
        sq.masked_mean(np.ones((2, 2)), np.zeros((2, 2), dtype=bool))
    with pytest.raises(TypeError, match="mask must be a bool array"):
        sq.masked_mean(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="mask must have the shape of values"):
        sq.masked_mean(np.ones((2, 2)), np.ones((2, 3), dtype=bool))


@given(loss_cases())
def test_token_cross_entropy_is_minus_log_softmax(case):
    logits, targets, _ = case
    ce = sq.token_cross_entropy(logits, targets)
    assert ce.shape == targets.shape
    for i, t in np.ndindex(*targets.shape):
        assert ce[i, t] == pytest.approx(naive_ce(logits[i, t], targets[i, t]), abs=1e-12)
    ce_t = sq.token_cross_entropy(torch.as_tensor(logits), torch.as_tensor(targets))
    want = F.cross_entropy(
        torch.as_tensor(logits).reshape(-1, logits.shape[-1]),
        torch.as_tensor(targets).reshape(-1),
        reduction="none",
    ).reshape(targets.shape)
    torch.testing.assert_close(ce_t, want)


def test_token_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]]])
    ce = sq.token_cross_entropy(logits, np.array([[0, 2]]))
    assert np.all(np.isfinite(ce))
    np.testing.assert_allclose(ce, [[0.0, np.log(2)]], atol=1e-12)


@given(loss_cases())
def test_masked_loss_equals_loss_on_the_unpadded_sequences(case):
    logits, targets, lengths = case
    loss = sq.sequence_cross_entropy(logits, targets, lengths)
    pieces = [
        naive_ce(logits[i, t], targets[i, t]) for i, n in enumerate(lengths) for t in range(n)
    ]
    assert float(loss) == pytest.approx(np.mean(pieces), abs=1e-12)
    # Equivalently: concatenate the unpadded sequences into one long one.
    flat_logits = np.concatenate(sq.unpad(logits, lengths))[None]
    flat_targets = np.concatenate(sq.unpad(targets, lengths))[None]
    one = sq.sequence_cross_entropy(flat_logits, flat_targets, [flat_targets.shape[1]])
    assert float(loss) == pytest.approx(float(one), abs=1e-12)


@given(loss_cases())
def test_masked_loss_ignores_padded_logits_and_targets(case):
    logits, targets, lengths = case
    loss = sq.sequence_cross_entropy(logits, targets, lengths)
    mask = sq.length_mask(lengths, targets.shape[1])
    noisy_logits, odd_targets = logits.copy(), targets.copy()
    noisy_logits[~mask] = 1e6
    odd_targets[~mask] = -100  # even out-of-range padding is never looked up
    assert float(sq.sequence_cross_entropy(noisy_logits, odd_targets, lengths)) == pytest.approx(
        float(loss), abs=1e-12
    )


@given(loss_cases())
def test_masked_loss_equals_torch_cross_entropy_ignore_index(case):
    logits, targets, lengths = case
    logits_t = torch.tensor(logits, requires_grad=True)
    ours = sq.sequence_cross_entropy(logits_t, torch.as_tensor(targets), torch.as_tensor(lengths))
    theirs = F.cross_entropy(
        logits_t.reshape(-1, logits.shape[-1]),
        torch.as_tensor(targets).reshape(-1),
        ignore_index=PAD,
    )
    torch.testing.assert_close(ours, theirs)
    assert float(ours.detach()) == pytest.approx(
        float(sq.sequence_cross_entropy(logits, targets, lengths))
    )
    (grad,) = torch.autograd.grad(ours, logits_t)
    mask = torch.as_tensor(sq.length_mask(lengths, targets.shape[1]))
    assert grad[~mask].eq(0).all()  # padded positions get no gradient


def test_sequence_cross_entropy_errors():
    logits = np.zeros((2, 3, 4))
    targets = np.zeros((2, 3), dtype=int)
    with pytest.raises(ValueError, match="logits must have rank 3"):
        sq.sequence_cross_entropy(np.zeros((2, 3)), targets, [1, 1])
    with pytest.raises(ValueError, match="lengths must not all be 0"):
        sq.sequence_cross_entropy(logits, targets, [0, 0])
    with pytest.raises(ValueError, match=r"targets must have shape"):
        sq.sequence_cross_entropy(logits, np.zeros((2, 2), dtype=int), [1, 1])
    with pytest.raises(TypeError, match="targets must be"):
        sq.sequence_cross_entropy(logits, np.zeros((2, 3)), [1, 1])
    with pytest.raises(ValueError, match=r"targets\[1, 0\] = 4"):
        sq.sequence_cross_entropy(logits, np.array([[0, 0, 0], [4, 0, 0]]), [1, 1])
    with pytest.raises(ValueError, match=r"lengths\[0\] = 4"):
        sq.sequence_cross_entropy(logits, targets, [4, 1])


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
