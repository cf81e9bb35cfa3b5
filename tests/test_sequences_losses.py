"""Tests of ``companion.sequences.losses``: masked mean, sequence cross-entropy (chapter 8).

The masked cross-entropy averages over valid positions only and equals
``torch.nn.functional.cross_entropy(..., ignore_index=...)``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from companion import sequences as sq

EOS, PAD, GO = 2, 0, 1

# ----------------------------------------------------------------- strategies


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
