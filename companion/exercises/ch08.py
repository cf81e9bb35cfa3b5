"""Checkers for the code exercises of chapter 8 (变长输出序列).

* :func:`check_lengths_from_eos` -- the length of each row up to and including its first EOS;
* :func:`check_masked_loss` -- the cross-entropy averaged over the valid positions only.

The references are :func:`companion.sequences.lengths_from_eos` and
:func:`companion.sequences.sequence_cross_entropy`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion import sequences as sq
from companion.exercises.feedback import CheckResult, Mistake, on_copies, run_checks

__all__ = ["check_lengths_from_eos", "check_masked_loss"]

PAD, EOS = 0, 2


# --------------------------------------------------------------------------
# Exercise: lengths from EOS positions.
# --------------------------------------------------------------------------


def _eos_matrix(tokens: np.ndarray, eos_id: int) -> tuple[np.ndarray, np.ndarray, int]:
    is_eos = np.asarray(tokens) == eos_id
    return is_eos, is_eos.any(axis=1), is_eos.shape[1]


def _eos_not_counted(tokens, eos_id):
    is_eos, has, n = _eos_matrix(tokens, eos_id)
    return np.where(has, is_eos.argmax(axis=1), n)


def _eos_last(tokens, eos_id):
    is_eos, has, n = _eos_matrix(tokens, eos_id)
    last = n - 1 - is_eos[:, ::-1].argmax(axis=1)
    return np.where(has, last + 1, n)


def _eos_missing_zero(tokens, eos_id):
    is_eos, has, _ = _eos_matrix(tokens, eos_id)
    return np.where(has, is_eos.argmax(axis=1) + 1, 0)


def _eos_argmax_plus_one(tokens, eos_id):
    is_eos, _, _ = _eos_matrix(tokens, eos_id)
    return is_eos.argmax(axis=1) + 1


def _eos_argmax(tokens, eos_id):
    is_eos, _, _ = _eos_matrix(tokens, eos_id)
    return is_eos.argmax(axis=1)


def _eos_fixed_id(tokens, eos_id):
    """Ignores the ``eos_id`` argument and looks for the chapter's EOS (2)."""
    return sq.lengths_from_eos(np.asarray(tokens), EOS)


def _eos_count_before_pad(tokens, eos_id):
    """Counts the tokens that are not PAD (0): wrong when EOS is followed by other tokens."""
    return (np.asarray(tokens) != PAD).sum(axis=1)


def _eos_cases() -> list[dict[str, Any]]:
    main = np.array(
        [
            [5, 3, 2, 0, 0, 0, 0],  # EOS in the middle, PAD after      -> 3
            [2, 0, 0, 0, 0, 0, 0],  # EOS first                         -> 1
            [4, 4, 5, 3, 6, 4, 5],  # no EOS (stopped by max_steps)     -> 7
            [3, 2, 4, 2, 0, 0, 0],  # two EOS: the first one counts     -> 2
            [6, 5, 4, 3, 6, 5, 2],  # EOS at the last position          -> 7
            [3, 3, 2, 6, 2, 2, 5],  # garbage after EOS                 -> 3
        ]
    )
    return [
        {"tokens": main, "eos_id": EOS},
        {"tokens": np.array([[4, 1, 3, 0], [1, 0, 4, 3], [3, 4, 2, 6]]), "eos_id": 1},
        {"tokens": np.array([[2], [7]]), "eos_id": 2},
        {"tokens": np.array([[9, 9, 8], [8, 9, 9]]), "eos_id": 9},
    ]


def check_lengths_from_eos(fn: Callable[[np.ndarray, int], Any]) -> CheckResult:
    """Check ``fn(tokens, eos_id)`` → int [batch]: the length of each row of ``tokens``
    [batch, n_steps] up to *and including* its first ``eos_id``; ``n_steps`` for a
    row without EOS.

    Examples
    --------
    >>> import numpy as np
    >>> def lengths_from_eos(tokens, eos_id):
    ...     is_eos = tokens == eos_id
    ...     return np.where(is_eos.any(axis=1), is_eos.argmax(axis=1) + 1, tokens.shape[1])
    >>> bool(check_lengths_from_eos(lengths_from_eos))
    True
    """
    return run_checks(
        "由 EOS 的位置求序列长度",
        on_copies(fn),
        reference=lambda tokens, eos_id: sq.lengths_from_eos(tokens, eos_id),
        cases=_eos_cases(),
        mistakes=[
            Mistake(
                "没有把 EOS 本身计入长度",
                _eos_not_counted,
                "EOS 是目标序列的一部分（解码器必须学会输出它），长度要数到 EOS 为止并包括它："
                "第一个 EOS 在位置 t，长度就是 t+1。",
            ),
            Mistake(
                "用了最后一个 EOS，而不是第一个",
                _eos_last,
                "序列在第一个 EOS 处就结束了，之后的内容（包括又一个 EOS）都要忽略。",
            ),
            Mistake(
                "没有 EOS 的行得到了长度 0",
                _eos_missing_zero,
                "没有 EOS 的行是被 max_steps 截断的：它的全部 n_steps 个输出都有效，"
                "长度应为 n_steps。",
            ),
            Mistake(
                "没有 EOS 的行得到了长度 1（argmax 在全为 False 时返回 0）",
                _eos_argmax_plus_one,
                "argmax 在一行里找不到 True 时也返回 0，要先用 any 判断这一行是否有 EOS；"
                "没有 EOS 的行长度应为 n_steps。",
            ),
            Mistake(
                "只用了 argmax：EOS 没有计入长度，没有 EOS 的行也得到了 0",
                _eos_argmax,
                "第一个 EOS 在位置 t 时长度是 t+1；argmax 在找不到 EOS 时返回 0，"
                "这样的行应得到 n_steps。",
            ),
            Mistake(
                f"没有使用参数 eos_id，而是写死了 EOS 的编号 {EOS}",
                _eos_fixed_id,
                "EOS 的编号由词表决定，各处不同：请用传入的 eos_id。",
            ),
            Mistake(
                "数的是非 PAD 词元的个数",
                _eos_count_before_pad,
                "EOS 之后不一定是 PAD（解码器可能还在输出），也不能假定 PAD 不出现在别处："
                "长度要由第一个 EOS 的位置决定。",
            ),
        ],
        output_names=("lengths",),
        axes=(("实例",),),
    )


# --------------------------------------------------------------------------
# Exercise: the masked cross-entropy.
# --------------------------------------------------------------------------


def _ce(logits, targets):
    """Per-position cross-entropy with PAD targets looked up as class 0 (no masking)."""
    return sq.token_cross_entropy(logits, np.asarray(targets))


def _valid(logits, lengths):
    return sq.length_mask(np.asarray(lengths), np.asarray(logits).shape[1])


def _loss_all_positions(logits, targets, lengths):
    return _ce(logits, targets).mean()


def _loss_over_batch(logits, targets, lengths):
    return np.where(_valid(logits, lengths), _ce(logits, targets), 0).sum() / len(lengths)


def _loss_over_all_slots(logits, targets, lengths):
    ce = np.where(_valid(logits, lengths), _ce(logits, targets), 0)
    return ce.sum() / ce.size


def _loss_sum(logits, targets, lengths):
    return np.where(_valid(logits, lengths), _ce(logits, targets), 0).sum()


def _loss_mean_of_means(logits, targets, lengths):
    ce = np.where(_valid(logits, lengths), _ce(logits, targets), 0)
    return (ce.sum(axis=1) / np.asarray(lengths)).mean()


def _loss_no_log_softmax(logits, targets, lengths):
    picked = np.take_along_axis(np.asarray(logits), np.asarray(targets)[..., None], -1)[..., 0]
    return sq.masked_mean(-picked, _valid(logits, lengths))


def _loss_cases() -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(3)
    cases = []
    for batch, n_steps, n_classes, lengths in [
        (3, 5, 6, [5, 2, 3]),
        (2, 4, 4, [1, 4]),
        (4, 3, 5, [3, 3, 3, 3]),
        (1, 6, 7, [4]),
    ]:
        lengths = np.array(lengths, dtype=np.int64)
        targets = rng.integers(3, n_classes, size=(batch, n_steps))  # ordinary tokens
        targets[np.arange(batch), lengths - 1] = EOS  # each target ends with EOS ...
        targets[~sq.length_mask(lengths, n_steps)] = PAD  # ... and PAD follows
        logits = rng.normal(scale=2.0, size=(batch, n_steps, n_classes))
        cases.append({"logits": logits, "targets": targets, "lengths": lengths})
    return cases


def check_masked_loss(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(logits, targets, lengths)`` → a scalar: the cross-entropy
    ``-log softmax(logits[i, t])[targets[i, t]]`` averaged over the valid positions
    ``t < lengths[i]`` only (every valid token weighs the same).

    ``logits`` [batch, n_steps, n_classes], ``targets`` int [batch, n_steps] (PAD = 0
    after each EOS), ``lengths`` int [batch].

    Examples
    --------
    >>> import numpy as np
    >>> def masked_loss(logits, targets, lengths):
    ...     z = logits - logits.max(axis=-1, keepdims=True)
    ...     log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    ...     ce = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    ...     mask = np.arange(targets.shape[1]) < lengths[:, None]
    ...     return ce[mask].mean()
    >>> bool(check_masked_loss(masked_loss))
    True
    """
    return run_checks(
        "只在有效位置上求平均的交叉熵",
        on_copies(fn),
        reference=lambda logits, targets, lengths: sq.sequence_cross_entropy(
            logits, targets, lengths
        ),
        cases=_loss_cases(),
        mistakes=[
            Mistake(
                "在全部位置上求了平均，EOS 之后的填充位置也算进了损失",
                _loss_all_positions,
                "EOS 之后的位置没有真正的目标，要用掩码 t < lengths[i] 把它们排除在外。",
            ),
            Mistake(
                "除以了批大小，而不是有效词元的个数",
                _loss_over_batch,
                "平均要对有效位置求：分母是 lengths 之和（有效词元总数），不是实例个数。",
            ),
            Mistake(
                "掩码之后除以了 batch × n_steps",
                _loss_over_all_slots,
                "被掩掉的位置不应出现在分母里：分母是有效词元的个数 lengths.sum()。",
            ),
            Mistake(
                "返回了总和而不是平均值",
                _loss_sum,
                "把有效位置上的交叉熵加起来之后，还要除以有效词元的个数。",
            ),
            Mistake(
                "先对每个序列求平均，再对批求平均",
                _loss_mean_of_means,
                "这样短序列里的每个词元权重更大；这里要求每个有效词元权重相同："
                "总和除以有效词元总数。",
            ),
            Mistake(
                "没有做 log-softmax，直接用了 -logits[target]",
                _loss_no_log_softmax,
                "交叉熵是 -log softmax(logits)[target] = logsumexp(logits) - logits[target]，"
                "别忘了减去 logsumexp（先减去每行最大值，数值才稳定）。",
            ),
        ],
        output_names=("loss",),
    )
