"""Tests of ``companion.data.numerals``: numbers 0-9999 in Chinese numerals."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.data.numerals import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SOURCE_TOKENS,
    TARGET_TOKENS,
    decode_target,
    encode_source,
    encode_target,
    from_chinese,
    numeral_dataset,
    to_chinese,
)

numbers = st.integers(0, 9999)

# Written by hand from the conventions, not from the implementation.
HAND_CHECKED = {
    0: "零",
    1: "一",
    2: "二",
    9: "九",
    10: "十",
    11: "十一",
    15: "十五",
    19: "十九",
    20: "二十",
    22: "二十二",
    99: "九十九",
    100: "一百",
    101: "一百零一",
    110: "一百一十",
    111: "一百一十一",
    200: "二百",
    305: "三百零五",
    350: "三百五十",
    999: "九百九十九",
    1000: "一千",
    1001: "一千零一",
    1005: "一千零五",
    1010: "一千零一十",
    1011: "一千零一十一",
    1050: "一千零五十",
    1100: "一千一百",
    1500: "一千五百",
    2000: "二千",
    2001: "二千零一",
    2222: "二千二百二十二",
    4096: "四千零九十六",
    7030: "七千零三十",
    9009: "九千零九",
    9999: "九千九百九十九",
}


@pytest.mark.parametrize(("n", "chinese"), HAND_CHECKED.items())
def test_hand_checked_cases(n, chinese):
    assert to_chinese(n) == chinese
    assert from_chinese(chinese) == n


@settings(max_examples=40)
@given(numbers)
def test_the_conventions_hold(n):
    chinese = to_chinese(n)
    assert from_chinese(chinese) == n
    assert set(chinese) <= set("零一二三四五六七八九十百千")
    assert not chinese.startswith("一十")
    assert "零零" not in chinese
    assert "两" not in chinese
    if n != 0:
        assert not chinese.endswith("零")
    # At least one character per non-zero digit, at most a digit and a unit per digit.
    n_digits = len(str(n))
    non_zero = sum(d != "0" for d in str(n))
    assert max(1, non_zero) <= len(chinese) <= 2 * n_digits - 1 <= 7


def test_every_number_has_its_own_numeral():
    chinese = [to_chinese(n) for n in range(10_000)]
    assert len(set(chinese)) == 10_000
    assert [from_chinese(s) for s in chinese] == list(range(10_000))


def test_numpy_integers_are_numbers():
    assert to_chinese(np.int64(305)) == "三百零五"
    assert encode_source(np.int32(42)) == encode_source(42)


@pytest.mark.parametrize(
    "not_a_number",
    ["", "两百", "一十", "一十五", "三百五", "五零", "零五", "一百零", "三百零零五", "百", "十十",
     "九千九千", "一万", "305", "三 百", "<eos>"],
)  # fmt: skip
def test_from_chinese_refuses_what_to_chinese_never_writes(not_a_number):
    with pytest.raises(ValueError, match=r"s must be a Chinese numeral .* got '"):
        from_chinese(not_a_number)


def test_bad_numbers():
    for n in (-1, 10_000):
        with pytest.raises(ValueError, match=rf"n must be an int in \[0, 9999\]; got {n}"):
            to_chinese(n)
        with pytest.raises(ValueError, match=r"n must be an int in \[0, 9999\]"):
            encode_source(n)
        with pytest.raises(ValueError, match=r"n must be an int in \[0, 9999\]"):
            encode_target(n)
    for n, kind in ((True, "bool"), (3.0, "float"), ("305", "str"), (None, "NoneType")):
        with pytest.raises(TypeError, match=rf"n must be an int in \[0, 9999\]; got {kind}"):
            to_chinese(n)
    with pytest.raises(TypeError, match="s must be a str, a Chinese numeral .* got int"):
        from_chinese(305)


def test_vocabularies():
    assert (PAD_ID, BOS_ID, EOS_ID) == (0, 1, 2)
    for tokens in (SOURCE_TOKENS, TARGET_TOKENS):
        assert tokens[:3] == ("<pad>", "<bos>", "<eos>")
        assert len(set(tokens)) == len(tokens)
    assert "".join(SOURCE_TOKENS[3:]) == "0123456789"
    assert "".join(TARGET_TOKENS[3:]) == "零一二三四五六七八九十百千"


def test_encoding_305():
    assert [SOURCE_TOKENS[i] for i in encode_source(305)] == ["3", "0", "5"]
    assert [TARGET_TOKENS[i] for i in encode_target(305)] == ["三", "百", "零", "五", "<eos>"]


@settings(max_examples=40)
@given(numbers, st.integers(0, 3))
def test_encode_decode_round_trip(n, n_pad):
    source = encode_source(n)
    assert "".join(SOURCE_TOKENS[i] for i in source) == str(n)
    assert all(3 <= i < len(SOURCE_TOKENS) for i in source)

    target = encode_target(n)
    assert target[-1] == EOS_ID and target.count(EOS_ID) == 1
    assert all(3 <= i < len(TARGET_TOKENS) for i in target[:-1])
    assert decode_target(target) == to_chinese(n)
    # A padded row of a batch, a decoder output starting with <bos>, an int array.
    assert decode_target(target + [PAD_ID] * n_pad) == to_chinese(n)
    assert decode_target([BOS_ID] + target) == to_chinese(n)
    assert decode_target(np.array(target, dtype=np.int64)) == to_chinese(n)


def test_decoding_stops_at_the_first_eos():
    three, hundred = TARGET_TOKENS.index("三"), TARGET_TOKENS.index("百")
    assert decode_target([three, hundred, EOS_ID, three, EOS_ID]) == "三百"
    assert decode_target([three, PAD_ID, hundred]) == "三百"  # pad is skipped anywhere
    assert decode_target([hundred, hundred]) == "百百"  # not a numeral: from_chinese says so
    assert decode_target([]) == decode_target([EOS_ID]) == ""


def test_bad_token_ids():
    with pytest.raises(TypeError, match=r"ids must be a list of token ids \(ints in \[0, 15\]\)"):
        decode_target("三百")
    with pytest.raises(ValueError, match=r"ids\[1\] must be an int in \[0, 15\]; got 16"):
        decode_target([3, 16])
    with pytest.raises(ValueError, match=r"ids\[0\] must be an int in \[0, 15\]; got -1"):
        decode_target([-1])
    with pytest.raises(TypeError, match=r"ids\[0\] must be an int in \[0, 15\]; got float"):
        decode_target([3.0])
    with pytest.raises(ValueError, match=r"ids must be a 1-D sequence .* shape \[1, 2\]"):
        decode_target(np.array([[3, 2]]))


def test_dataset_splits_all_numbers():
    train, heldout = numeral_dataset()
    assert train.shape == (8000,) and heldout.shape == (2000,)
    assert train.dtype.kind == heldout.dtype.kind == "i"
    assert np.intersect1d(train, heldout).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, heldout])), np.arange(10_000))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(heldout) > 0)  # sorted
    # A random split, not the first 8000 numbers: both sides span the whole range.
    assert heldout.min() < 100 and heldout.max() > 9900


@settings(max_examples=20)
@given(st.integers(0, 2**32 - 1), st.integers(0, 10_000))
def test_dataset_is_a_deterministic_split(seed, n_train):
    train, heldout = numeral_dataset(seed, n_train)
    assert len(train) == n_train and len(heldout) == 10_000 - n_train
    assert set(train.tolist()).isdisjoint(heldout.tolist())
    again = numeral_dataset(np.random.default_rng(seed), n_train=n_train)
    np.testing.assert_array_equal(train, again[0])
    np.testing.assert_array_equal(heldout, again[1])


def test_dataset_depends_on_the_seed():
    assert not np.array_equal(numeral_dataset(0)[1], numeral_dataset(1)[1])


def test_bad_dataset_arguments():
    with pytest.raises(ValueError, match=r"n_train must be an int in \[0, 10000\]; got 10001"):
        numeral_dataset(n_train=10_001)
    with pytest.raises(TypeError, match=r"n_train must be an int in \[0, 10000\]; got float"):
        numeral_dataset(n_train=8000.0)
    with pytest.raises(TypeError, match="seed must be an int or a numpy.random.Generator"):
        numeral_dataset(seed=None)


def test_numerals_do_not_import_torch():
    code = "import sys, companion.data.numerals; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
