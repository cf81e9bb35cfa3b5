"""Tests of the chapter 13 checkers (``companion.exercises.ch13``).

Each typical mistake is written here the way a reader would write it, and must
be named by the checker; a correct answer passes; a crash is reported.
"""

from __future__ import annotations

import numpy as np
import pytest

from companion.data.numerals import to_chinese
from companion.exercises import ch13

# ------------------------------------------------------------------- shift_right


def shift_right(targets, lengths, bos_id):
    inputs = np.zeros_like(targets)
    for i, n in enumerate(lengths):
        inputs[i, 0] = bos_id
        inputs[i, 1:n] = targets[i, : n - 1]
    return inputs


def shift_with_eos(targets, lengths, bos_id):
    inputs = np.zeros_like(targets)
    inputs[:, 0] = bos_id
    inputs[:, 1:] = targets[:, :-1]  # the whole row, EOS included
    return inputs


def shift_left(targets, lengths, bos_id):
    inputs = np.zeros_like(targets)
    inputs[:, :-1] = targets[:, 1:]
    return inputs


def hard_coded_bos(targets, lengths, bos_id):
    return shift_right(targets, lengths, 1)


def pad_first(targets, lengths, bos_id):
    return shift_right(targets, lengths, 0)


@pytest.mark.parametrize(
    "fn, named",
    [
        (shift_with_eos, "EOS 也被送进了解码器"),
        (shift_left, "向左移了"),
        (hard_coded_bos, "写死的 1"),
        (pad_first, "第 0 步放的是 PAD"),
    ],
)
def test_shift_right_names_each_mistake(fn, named):
    result = ch13.check_shift_right(fn)
    assert not result and named in str(result)


def test_shift_right_passes_and_reports_a_crash():
    assert ch13.check_shift_right(shift_right)
    result = ch13.check_shift_right(lambda targets, lengths, bos_id: targets[5])
    assert not result and "运行出错" in str(result)


# ---------------------------------------------------------------- masked_softmax


def masked_softmax(scores, lengths):
    valid = np.arange(scores.shape[-1]) < np.asarray(lengths)[:, None, None]
    e = np.where(valid, np.exp(scores - scores.max(-1, keepdims=True)), 0.0)
    return e / e.sum(-1, keepdims=True)


def plain_softmax(scores, lengths):
    e = np.exp(scores)
    return e / e.sum(-1, keepdims=True)


def zero_after(scores, lengths):
    weights = plain_softmax(scores, lengths)
    for b, n in enumerate(lengths):
        weights[b, :, n:] = 0
    return weights


def fill_zero(scores, lengths):
    scores = scores.copy()
    for b, n in enumerate(lengths):
        scores[b, :, n:] = 0.0
    return plain_softmax(scores, lengths)


@pytest.mark.parametrize(
    "fn, named",
    [(plain_softmax, "没有掩码"), (zero_after, "没有重新归一化"), (fill_zero, "而不是 -inf")],
)
def test_masked_softmax_names_each_mistake(fn, named):
    result = ch13.check_masked_softmax(fn)
    assert not result and named in str(result)


def test_masked_softmax_passes():
    assert ch13.check_masked_softmax(masked_softmax)


# -------------------------------------------------------------------------- 万


def to_chinese_wan(n):
    high, low = divmod(n, 10_000)
    if high == 0:
        return to_chinese(n)
    text = to_chinese(high) + "万"
    if low == 0:
        return text
    low_text = to_chinese(low)
    if low_text[0] == "十":
        low_text = "一" + low_text
    return text + ("零" if low < 1000 else "") + low_text


def no_zero(n):
    high, low = divmod(n, 10_000)
    if high == 0:
        return to_chinese(n)
    low_text = "" if low == 0 else to_chinese(low)
    if low_text[:1] == "十":
        low_text = "一" + low_text
    return to_chinese(high) + "万" + low_text


def no_yi(n):
    high, low = divmod(n, 10_000)
    if high == 0:
        return to_chinese(n)
    if low == 0:
        return to_chinese(high) + "万"
    return to_chinese(high) + "万" + ("零" if low < 1000 else "") + to_chinese(low)


def trailing_zero(n):
    high, low = divmod(n, 10_000)
    if high == 0:
        return to_chinese(n)
    return to_chinese(high) + "万" + to_chinese(low) if low == 0 else to_chinese_wan(n)


@pytest.mark.parametrize(
    "fn, named",
    [(no_zero, "漏了“零”"), (no_yi, "“一十”写成了“十”"), (trailing_zero, "多写了“零”")],
)
def test_to_chinese_wan_names_each_mistake(fn, named):
    result = ch13.check_to_chinese_wan(fn)
    assert not result and named in str(result)


def test_to_chinese_wan_passes_and_reports_a_crash_and_a_wrong_answer():
    assert ch13.check_to_chinese_wan(to_chinese_wan)
    assert ch13.check_to_chinese_wan(ch13.to_chinese_wan)
    crash = ch13.check_to_chinese_wan(lambda n: to_chinese(n))
    assert not crash and "运行出错" in str(crash)
    wrong = ch13.check_to_chinese_wan(lambda n: "零")
    assert not wrong and "应写成" in str(wrong)
    assert ch13.to_chinese_wan(100_010) == "十万零一十"
    assert ch13.to_chinese_wan(30_004_000) == "三千万四千"
