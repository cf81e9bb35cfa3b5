"""Tests of ``companion.data.reber``: the embedded Reber grammar, its negatives, one-hot batches."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.data.reber import (
    SYMBOLS,
    embedded_reber,
    is_embedded_reber,
    is_reber,
    long_range_negatives,
    one_hot,
    reber,
    substitution_negatives,
)

# Strings from Hochreiter & Schmidhuber's description, checked by hand against the automaton.
REBER_YES = ["BTXSE", "BPVVE", "BTSSXXTVVE", "BPTVPXVVE", "BTXXVPSE", "BPVPXVPXVPXVVE"]
REBER_NO = ["", "B", "BTE", "BTSE", "BPVE", "TXSE", "BTXS", "BTXSEE", "BTXSEB", "BPVVVE"]


def test_recogniser_on_hand_checked_strings():
    assert all(is_reber(s) for s in REBER_YES)
    assert not any(is_reber(s) for s in REBER_NO)
    assert is_embedded_reber("BTBTXSETE") and is_embedded_reber("BPBPVVEPE")
    for s in ["BTBTXSEPE", "BPBPVVETE", "BTBTXSET", "TBTXSETE", "BTBTXSTE", "BSBTXSESE", "BTTE"]:
        assert not is_embedded_reber(s), s


@settings(max_examples=40)
@given(st.integers(0, 2**32 - 1))
def test_generated_strings_are_grammatical_and_negatives_are_not(seed):
    positives = embedded_reber(20, seed=seed)
    assert all(is_embedded_reber(s) for s in positives)
    assert not any(is_embedded_reber(s) for s in long_range_negatives(20, seed=seed))
    assert not any(is_embedded_reber(s) for s in substitution_negatives(20, seed=seed))
    assert all(is_reber(reber(seed + i)) for i in range(5))


def test_long_range_negatives_break_only_the_long_range_rule():
    positives = embedded_reber(200, seed=7)
    negatives = long_range_negatives(200, seed=7)
    for pos, neg in zip(positives, negatives, strict=True):
        # the same string except the second-to-last symbol, T <-> P
        assert neg[:-2] == pos[:-2] and neg[-1] == "E"
        assert {neg[-2], pos[-2]} == {"T", "P"}
        # the inner string is still a Reber string: every local transition is legal
        assert is_reber(neg[2:-2])
        # the mismatch is invisible without the second symbol: with it removed
        # (B + the rest), the negative is a positive of the other branch
        assert is_embedded_reber("B" + neg[-2] + neg[2:])


def test_substitution_negatives_change_exactly_one_symbol():
    # substitution_negatives draws its positives first (as embedded_reber does), then changes them
    positives = embedded_reber(100, seed=3)
    negatives = substitution_negatives(100, seed=3)
    assert len(negatives) == 100
    for pos, neg in zip(positives, negatives, strict=True):
        assert len(neg) == len(pos) and set(neg) <= set(SYMBOLS)
        assert sum(a != b for a, b in zip(pos, neg, strict=True)) == 1
        assert not is_embedded_reber(neg)


def test_both_branches_and_lengths():
    strings = embedded_reber(2000, seed=0)
    second = [s[1] for s in strings]
    assert 0.45 < second.count("T") / len(strings) < 0.55
    lengths = np.array([len(s) for s in strings])
    assert lengths.min() == 9  # B T B T X S E T E
    assert 11 < lengths.mean() < 13


def test_determinism_per_seed():
    assert embedded_reber(30, seed=5) == embedded_reber(30, seed=np.random.default_rng(5))
    assert embedded_reber(30, seed=5) != embedded_reber(30, seed=6)
    assert long_range_negatives(30, seed=5) == long_range_negatives(30, seed=5)
    assert substitution_negatives(30, seed=5) == substitution_negatives(30, seed=5)


def test_one_hot_shapes_and_values():
    strings = ["BTXSE", "BPVVE", "BTSSXXTVVE"]
    X, lengths = one_hot(strings)
    assert X.shape == (3, 10, 7) and X.dtype == np.float64
    assert lengths.dtype == np.int64 and lengths.tolist() == [5, 5, 10]
    for i, s in enumerate(strings):
        np.testing.assert_array_equal(X[i, : len(s)].sum(axis=1), 1)
        np.testing.assert_array_equal(X[i, len(s) :], 0)  # padding is all zeros
        assert "".join(SYMBOLS[j] for j in X[i, : len(s)].argmax(axis=1)) == s
    X12, _ = one_hot(strings, n_steps=12)
    assert X12.shape == (3, 12, 7)
    np.testing.assert_array_equal(X12[:, :10], X)


def test_bad_input():
    with pytest.raises(TypeError, match="strings must be a list of strings"):
        one_hot("BTXSE")
    with pytest.raises(TypeError, match=r"strings\[1\] must be a str"):
        one_hot(["BTXSE", 3])
    with pytest.raises(ValueError, match="strings must hold at least one string"):
        one_hot([])
    with pytest.raises(
        ValueError, match=r"strings\[0\] must use only the symbols BTPSXVE; got 'A' at 2"
    ):
        one_hot(["BTA"])
    with pytest.raises(ValueError, match="n_steps must be an int >= 5"):
        one_hot(["BTXSE"], n_steps=4)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        embedded_reber(0, seed=0)
    with pytest.raises(TypeError, match="seed must be an int or a numpy.random.Generator"):
        embedded_reber(3, seed="x")
    with pytest.raises(TypeError, match="string must be a str"):
        is_embedded_reber(["B"])


def test_does_not_import_torch():
    code = "import companion.data.reber, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
