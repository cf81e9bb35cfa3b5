"""Tests of ``companion.sequences.padding``: padding, masks, ``mask_outputs`` (chapter 7).

``X[i, t] = seqs[i][t]`` before each end and ``pad_value`` after;
``mask[i, t] = t < lengths[i]``; ``mask_outputs`` equals ``dynamic_rnn`` with
``sequence_length``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
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
