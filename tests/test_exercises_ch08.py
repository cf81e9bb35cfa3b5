"""Tests of the chapter 8 checkers (``companion.exercises.ch08``).

Each typical mistake is written here the way a reader would write it, and must
be named by the checker; a correct answer passes; a crash is reported.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion.exercises import ch08

# ----------------------------------------------------------------- lengths_from_eos


def lengths_from_eos(tokens, eos_id):
    is_eos = tokens == eos_id
    return np.where(is_eos.any(axis=1), is_eos.argmax(axis=1) + 1, tokens.shape[1])


def lengths_from_eos_loop(tokens, eos_id):
    lengths = []
    for row in tokens:
        hits = [t for t, token in enumerate(row) if token == eos_id]
        lengths.append(hits[0] + 1 if hits else len(row))
    return lengths


def eos_not_counted(tokens, eos_id):
    is_eos = tokens == eos_id
    return np.where(is_eos.any(axis=1), is_eos.argmax(axis=1), tokens.shape[1])


def last_eos(tokens, eos_id):
    lengths = []
    for row in tokens:
        hits = [t for t, token in enumerate(row) if token == eos_id]
        lengths.append(hits[-1] + 1 if hits else len(row))
    return np.array(lengths)


def no_eos_gets_zero(tokens, eos_id):
    lengths = np.zeros(len(tokens), dtype=int)
    for i, row in enumerate(tokens):
        for t, token in enumerate(row):
            if token == eos_id:
                lengths[i] = t + 1
                break
    return lengths


def argmax_plus_one(tokens, eos_id):
    return np.argmax(tokens == eos_id, axis=1) + 1


def argmax_only(tokens, eos_id):
    return np.argmax(tokens == eos_id, axis=1)


def count_non_pad(tokens, eos_id):
    return (tokens != 0).sum(axis=1)


@pytest.mark.parametrize("fn", [lengths_from_eos, lengths_from_eos_loop])
def test_lengths_from_eos_reference_passes(fn):
    result = ch08.check_lengths_from_eos(fn)
    assert result.passed, str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (eos_not_counted, "没有把 EOS 本身计入长度"),
        (last_eos, "最后一个 EOS"),
        (no_eos_gets_zero, "没有 EOS 的行得到了长度 0"),
        (argmax_plus_one, "长度 1"),
        (argmax_only, "只用了 argmax"),
        (count_non_pad, "非 PAD"),
    ],
)
def test_lengths_from_eos_names_each_mistake(fn, words):
    result = ch08.check_lengths_from_eos(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_lengths_from_eos_hard_coded_eos_is_named():
    result = ch08.check_lengths_from_eos(lambda tokens, eos_id: lengths_from_eos(tokens, 2))
    text = str(result)
    assert not result.passed and "第 2 个测试用例" in text and "写死了 EOS 的编号" in text


def test_lengths_from_eos_unknown_mistake_is_located():
    result = ch08.check_lengths_from_eos(lambda tokens, eos_id: np.ones(len(tokens)))
    text = str(result)
    assert not result.passed and "lengths 的数值不对" in text and "实例 = " in text


def test_lengths_from_eos_crash_is_reported():
    result = ch08.check_lengths_from_eos(lambda tokens, eos_id: tokens.no_such_method())
    assert not result.passed and "运行出错" in str(result) and "AttributeError" in str(result)


# ----------------------------------------------------------------- masked loss


def masked_loss(logits, targets, lengths):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    ce = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    mask = np.arange(targets.shape[1]) < lengths[:, None]
    return ce[mask].mean()


def masked_loss_torch(logits, targets, lengths):
    mask = torch.arange(targets.shape[1]) < torch.as_tensor(lengths)[:, None]
    t = torch.as_tensor(targets).masked_fill(~mask, -100)
    logits = torch.as_tensor(logits)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1), ignore_index=-100)


def _ce(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]


def _mask(targets, lengths):
    return np.arange(targets.shape[1]) < lengths[:, None]


def all_positions(logits, targets, lengths):
    return _ce(logits, targets).mean()


def over_batch(logits, targets, lengths):
    return (_ce(logits, targets) * _mask(targets, lengths)).sum() / len(lengths)


def over_all_slots(logits, targets, lengths):
    return (_ce(logits, targets) * _mask(targets, lengths)).mean()


def total(logits, targets, lengths):
    return (_ce(logits, targets) * _mask(targets, lengths)).sum()


def mean_of_means(logits, targets, lengths):
    ce = _ce(logits, targets) * _mask(targets, lengths)
    return np.mean(ce.sum(axis=1) / lengths)


def no_log_softmax(logits, targets, lengths):
    picked = np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    return -picked[_mask(targets, lengths)].mean()


@pytest.mark.parametrize("fn", [masked_loss, masked_loss_torch])
def test_masked_loss_reference_passes(fn):
    result = ch08.check_masked_loss(fn)
    assert result.passed, str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (all_positions, "在全部位置上求了平均"),
        (over_batch, "除以了批大小"),
        (over_all_slots, "batch × n_steps"),
        (total, "总和"),
        (mean_of_means, "先对每个序列求平均"),
        (no_log_softmax, "log-softmax"),
    ],
)
def test_masked_loss_names_each_mistake(fn, words):
    result = ch08.check_masked_loss(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_masked_loss_unknown_mistake_and_crash():
    result = ch08.check_masked_loss(lambda logits, targets, lengths: 0.0)
    assert not result.passed and "loss 的数值不对" in str(result)
    result = ch08.check_masked_loss(lambda logits, targets: 0.0)
    assert not result.passed and "运行出错" in str(result) and "TypeError" in str(result)
