"""Tests of ``companion.sequences.eos``: lengths from EOS and ``mask_after_eos`` (chapter 8).

Lengths from EOS count the first EOS and give rows without EOS the full
length; everything after the first EOS becomes PAD.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from companion import sequences as sq

EOS, PAD, GO = 2, 0, 1

# ----------------------------------------------------------------- strategies


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
