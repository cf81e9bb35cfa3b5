"""Checkers for the code exercises of chapter 8 (变长输出序列).

The length of each output row up to and including its first EOS, and the
cross-entropy averaged over the valid positions only; the references are
:func:`companion.sequences.lengths_from_eos` and
:func:`companion.sequences.sequence_cross_entropy`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion import sequences as sq
from companion.exercises.feedback import Exercise, Mistake

__all__ = ["check_lengths_from_eos", "check_masked_loss"]

PAD, EOS = 0, 2


def _first_eos(tokens: np.ndarray, eos_id: int, *, counted: int = 1, missing: Any = "n") -> Any:
    """Per row, the position of the first EOS plus ``counted``; ``missing`` for a
    row without EOS (``"n"``: n_steps, ``None``: whatever argmax gives)."""
    is_eos = tokens == eos_id
    first = is_eos.argmax(axis=1) + counted
    if missing is None:
        return first
    return np.where(is_eos.any(axis=1), first, tokens.shape[1] if missing == "n" else missing)


def _last_eos(tokens: np.ndarray, eos_id: int) -> np.ndarray:
    is_eos = tokens == eos_id
    last = is_eos.shape[1] - is_eos[:, ::-1].argmax(axis=1)
    return np.where(is_eos.any(axis=1), last, tokens.shape[1])


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


LENGTHS_FROM_EOS = Exercise(
    "由 EOS 的位置求序列长度",
    doc="""The length of each row up to *and including* its first EOS::

        lengths[i] = 1 + min{t : tokens[i, t] == eos_id}   (n_steps if there is none)

    Inputs: ``tokens`` int [batch, n_steps], ``eos_id`` (an int).
    Outputs: ``lengths`` int [batch] (an array or a list).
    """,
    reference=sq.lengths_from_eos,
    cases=_eos_cases,
    outputs={"lengths": ("实例",)},
    mistakes=Mistake.table(
        "没有把 EOS 本身计入长度。EOS 是目标序列的一部分（解码器必须学会输出它），"
        "长度要数到 EOS 为止并包括它：第一个 EOS 在位置 t，长度就是 t+1。",
        lambda tokens, eos_id: _first_eos(tokens, eos_id, counted=0),
        "用了最后一个 EOS，而不是第一个。序列在第一个 EOS 处就结束了，"
        "之后的内容（包括又一个 EOS）都要忽略。",
        _last_eos,
        "没有 EOS 的行得到了长度 0。没有 EOS 的行是被 max_steps 截断的："
        "它的全部 n_steps 个输出都有效，长度应为 n_steps。",
        lambda tokens, eos_id: _first_eos(tokens, eos_id, missing=0),
        "没有 EOS 的行得到了长度 1（argmax 在全为 False 时返回 0）。"
        "argmax 在一行里找不到 True 时也返回 0，要先用 any 判断这一行是否有 EOS；"
        "没有 EOS 的行长度应为 n_steps。",
        lambda tokens, eos_id: _first_eos(tokens, eos_id, missing=None),
        "只用了 argmax：EOS 没有计入长度，没有 EOS 的行也得到了 0。"
        "第一个 EOS 在位置 t 时长度是 t+1；argmax 在找不到 EOS 时返回 0，"
        "这样的行应得到 n_steps。",
        lambda tokens, eos_id: _first_eos(tokens, eos_id, counted=0, missing=None),
        f"没有使用参数 eos_id，而是写死了 EOS 的编号 {EOS}。"
        "EOS 的编号由词表决定，各处不同：请用传入的 eos_id。",
        lambda tokens, eos_id: sq.lengths_from_eos(tokens, EOS),
        "数的是非 PAD 词元的个数。EOS 之后不一定是 PAD（解码器可能还在输出），"
        "也不能假定 PAD 不出现在别处：长度要由第一个 EOS 的位置决定。",
        lambda tokens, eos_id: (tokens != PAD).sum(axis=1),
    ),
)
check_lengths_from_eos = LENGTHS_FROM_EOS.checker("check_lengths_from_eos")


def _masked_ce(logits, targets, lengths) -> np.ndarray:
    """Per-position cross-entropy, 0 at the padded positions."""
    valid = sq.length_mask(lengths, logits.shape[1])
    return np.where(valid, sq.token_cross_entropy(logits, targets), 0)


def _loss_no_log_softmax(logits, targets, lengths):
    picked = np.take_along_axis(logits, targets[..., None], -1)[..., 0]
    return sq.masked_mean(-picked, sq.length_mask(lengths, logits.shape[1]))


def _loss_cases() -> list[dict[str, np.ndarray]]:
    """Ordinary tokens, each target ending with EOS, then PAD; random logits."""
    rng = np.random.default_rng(3)
    cases = []
    for batch, n_steps, n_classes, lengths in [
        (3, 5, 6, [5, 2, 3]),
        (2, 4, 4, [1, 4]),
        (4, 3, 5, [3, 3, 3, 3]),
        (1, 6, 7, [4]),
    ]:
        lengths = np.array(lengths, dtype=np.int64)
        targets = rng.integers(3, n_classes, size=(batch, n_steps))
        targets[np.arange(batch), lengths - 1] = EOS
        targets[~sq.length_mask(lengths, n_steps)] = PAD
        logits = rng.normal(scale=2.0, size=(batch, n_steps, n_classes))
        cases.append({"logits": logits, "targets": targets, "lengths": lengths})
    return cases


MASKED_LOSS = Exercise(
    "只在有效位置上求平均的交叉熵",
    doc="""The cross-entropy averaged over the valid positions only (every valid
    token weighs the same)::

        loss = sum_{i, t < lengths[i]} -log softmax(logits[i, t])[targets[i, t]]
               / sum_i lengths[i]

    Inputs: ``logits`` [batch, n_steps, n_classes], ``targets`` int [batch, n_steps]
    (PAD = 0 after each EOS), ``lengths`` int [batch].
    Outputs: ``loss`` (a scalar).
    """,
    reference=sq.sequence_cross_entropy,
    cases=_loss_cases,
    outputs={"loss": None},
    mistakes=Mistake.table(
        "在全部位置上求了平均，EOS 之后的填充位置也算进了损失。"
        "EOS 之后的位置没有真正的目标，要用掩码 t < lengths[i] 把它们排除在外。",
        lambda logits, targets, lengths: sq.token_cross_entropy(logits, targets).mean(),
        "除以了批大小，而不是有效词元的个数。平均要对有效位置求："
        "分母是 lengths 之和（有效词元总数），不是实例个数。",
        lambda logits, targets, lengths: _masked_ce(logits, targets, lengths).sum() / len(lengths),
        "掩码之后除以了 batch × n_steps。被掩掉的位置不应出现在分母里："
        "分母是有效词元的个数 lengths.sum()。",
        lambda logits, targets, lengths: _masked_ce(logits, targets, lengths).mean(),
        "返回了总和而不是平均值。把有效位置上的交叉熵加起来之后，还要除以有效词元的个数。",
        lambda logits, targets, lengths: _masked_ce(logits, targets, lengths).sum(),
        "先对每个序列求平均，再对批求平均。这样短序列里的每个词元权重更大；"
        "这里要求每个有效词元权重相同：总和除以有效词元总数。",
        lambda logits, targets, lengths: (
            _masked_ce(logits, targets, lengths).sum(axis=1) / lengths
        ).mean(),
        "没有做 log-softmax，直接用了 -logits[target]。"
        "交叉熵是 -log softmax(logits)[target] = logsumexp(logits) - logits[target]，"
        "别忘了减去 logsumexp（先减去每行最大值，数值才稳定）。",
        _loss_no_log_softmax,
    ),
)
check_masked_loss = MASKED_LOSS.checker("check_masked_loss")
