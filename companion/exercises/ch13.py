"""Checkers for the code exercises of chapter 13 (编码器-解码器).

The decoder's input under teacher forcing (the target shifted right), a softmax
over the valid source positions only (attention), and the numeral converter
extended to 万. References: :func:`companion.models.seq2seq.numeral_batch`'s
shift, :func:`companion.models.attention.numpy_attention`'s weights and
:func:`companion.data.numerals.to_chinese`.
"""

from __future__ import annotations

import numpy as np

from companion.data.numerals import to_chinese
from companion.exercises.feedback import Exercise, Mistake, TextExercise

__all__ = ["check_masked_softmax", "check_shift_right", "check_to_chinese_wan"]

PAD, BOS, EOS = 0, 1, 2


def _shift(targets, lengths, bos_id, *, first=None, keep_after=False, left=False):
    """``[bos] + targets[:-1]`` on each valid part, PAD after; variants make the mistakes."""
    out = np.full_like(targets, PAD)
    for i, n in enumerate(lengths):
        row = targets[i, 1:n] if left else targets[i, : n - 1]
        start = [] if left else [bos_id if first is None else first]
        out[i, : len(row) + len(start)] = start + list(row)
        if keep_after and n < targets.shape[1]:
            out[i, n] = targets[i, n - 1]  # the EOS slides into the padding
    return out


def _shift_cases() -> list[dict]:
    rng = np.random.default_rng(13)
    cases = []
    for batch, n_steps, bos_id in [(3, 5, BOS), (4, 4, BOS), (2, 6, 7)]:
        lengths = rng.integers(1, n_steps + 1, size=batch)
        lengths[0] = 2  # a short row: padding follows its EOS
        targets = rng.integers(3, 9, size=(batch, n_steps))
        targets[np.arange(batch), lengths - 1] = EOS
        targets[np.arange(n_steps)[None, :] >= lengths[:, None]] = PAD
        cases.append({"targets": targets, "lengths": lengths, "bos_id": bos_id})
    return cases


SHIFT_RIGHT = Exercise(
    "教师强制的解码器输入",
    doc="""The decoder's inputs under teacher forcing: the target shifted right by one::

        inputs[i, 0] = bos_id;  inputs[i, t] = targets[i, t - 1]  for 1 <= t < lengths[i]
        inputs[i, t] = PAD (0)                                   for t >= lengths[i]

    Inputs: ``targets`` int [batch, n_steps] (each row ends with EOS = 2, then PAD),
    ``lengths`` int [batch] (EOS included), ``bos_id`` (an int).
    Outputs: ``inputs`` int [batch, n_steps].
    """,
    reference=lambda targets, lengths, bos_id: _shift(targets, lengths, bos_id),
    cases=_shift_cases,
    outputs={"inputs": ("实例", "时间步")},
    mistakes=Mistake.table(
        "EOS 也被送进了解码器。右移之后，最后一个目标（EOS）不再是任何一步的输入："
        "解码器读到 EOS 之前就该输出 EOS 了，有效部分之后应全是 PAD。",
        lambda targets, lengths, bos_id: _shift(targets, lengths, bos_id, keep_after=True),
        "向左移了。第 t 步的输入是第 t-1 步的目标：解码器先读 <bos>，再读它应当已经写出的词元。"
        "左移等于把答案直接交给了解码器。",
        lambda targets, lengths, bos_id: _shift(targets, lengths, bos_id, left=True),
        f"第 0 步用了写死的 {BOS}，而不是参数 bos_id。请用传入的 bos_id。",
        lambda targets, lengths, bos_id: _shift(targets, lengths, bos_id, first=BOS),
        "第 0 步放的是 PAD，而不是 <bos>。解码器需要一个表示“开始”的词元；"
        "PAD 的嵌入从未被训练过（损失里它总被掩码掉）。",
        lambda targets, lengths, bos_id: _shift(targets, lengths, bos_id, first=PAD),
    ),
)
check_shift_right = SHIFT_RIGHT.checker("check_shift_right", with_backend=False)


def _weights(scores, lengths, *, masked=True, fill=-np.inf, renormalized=True):
    """The masked softmax; the flags make the mistakes."""
    valid = np.arange(scores.shape[-1])[None, None, :] < np.asarray(lengths)[:, None, None]
    if not masked:
        valid = np.ones_like(valid)
    if not renormalized:  # softmax over every position, then the padding set to 0
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return np.where(valid, e / e.sum(axis=-1, keepdims=True), 0)
    filled = np.where(valid, scores, fill)  # fill = -inf: exp gives exactly 0
    e = np.exp(filled - filled.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_cases() -> list[dict]:
    rng = np.random.default_rng(131)
    cases = []
    for batch, n_tgt, n_src in [(3, 2, 4), (2, 3, 5), (1, 1, 3)]:
        lengths = rng.integers(1, n_src, size=batch)  # every row has padding
        cases.append(
            {"scores": rng.normal(scale=2.0, size=(batch, n_tgt, n_src)), "lengths": lengths}
        )
    return cases


MASKED_SOFTMAX = Exercise(
    "只在有效源位置上做 softmax",
    doc="""Attention weights over the valid source positions only::

        weights[b, t, s] = exp(scores[b, t, s]) / sum_{s' < lengths[b]} exp(scores[b, t, s'])
                           for s < lengths[b];   0 for s >= lengths[b]

    Inputs: ``scores`` [batch, n_tgt, n_src], ``lengths`` int [batch].
    Outputs: ``weights`` [batch, n_tgt, n_src].
    """,
    reference=lambda scores, lengths: _weights(scores, lengths),
    cases=_softmax_cases,
    outputs={"weights": ("实例", "目标步", "源位置")},
    mistakes=Mistake.table(
        "没有掩码：填充位置也分到了权重。填充位置不是源序列的一部分，权重必须恰好为 0，"
        "否则填充处的编码器输出会混进上下文向量。",
        lambda scores, lengths: _weights(scores, lengths, masked=False),
        "先做 softmax 再把填充位置置零，却没有重新归一化：每行的权重之和小于 1。"
        "应当在 softmax 之前把填充位置的分数设为 -inf（或只对有效位置求和）。",
        lambda scores, lengths: _weights(scores, lengths, renormalized=False),
        "把填充位置的分数设成了 0，而不是 -inf。exp(0) = 1，填充位置仍然分到权重；"
        "要让 exp 之后恰为 0，分数必须是 -inf。",
        lambda scores, lengths: _weights(scores, lengths, fill=0.0),
    ),
)
check_masked_softmax = MASKED_SOFTMAX.checker("check_masked_softmax", with_backend=False)


def to_chinese_wan(n: int, *, zero_before_low: bool = True, yi_shi: bool = True) -> str:
    """``n`` in [0, 99999999] in Chinese numerals with 万 (the reference; the flags make
    mistakes): ``high · 万 + low``, 零 before a low part below 1000, 一十 after 万."""
    high, low = divmod(n, 10_000)
    if high == 0:
        return to_chinese(low)
    words = to_chinese(high) + "万"
    if low == 0:
        return words
    low_words = to_chinese(low)
    if yi_shi and low_words.startswith("十"):
        low_words = "一" + low_words  # 十万零一十: 一 is kept after a higher unit
    return words + ("零" if zero_before_low and low < 1000 else "") + low_words


WAN_NUMBERS = [0, 7, 1010, 9999, 10_000, 10_005, 10_010, 100_000, 100_010, 110_000,
               20_000_500, 12_345_678, 99_999_999, 30_004_000]  # fmt: skip
WAN_MISTAKES = Mistake.table(
    "万后面的低位不足一千时漏了“零”。10005 是一万零五，不是一万五（那是 15000 的口语说法）。",
    lambda n: to_chinese_wan(n, zero_before_low=False),
    "万后面的“一十”写成了“十”。只有整个数以十开头时才省略“一”（十万）；"
    "在更高的单位之后要写“一十”：100010 是十万零一十。",
    lambda n: to_chinese_wan(n, yi_shi=False),
    "整万的数（低四位全为 0）后面多写了“零”。to_chinese(0) 是“零”，但低四位为 0 时什么都不写："
    "10000 是一万。",
    lambda n: to_chinese_wan(n) + ("零" if n >= 10_000 and n % 10_000 == 0 else ""),
)


TO_CHINESE_WAN = TextExercise(
    "把转换器扩展到万",
    doc="""``n`` in [0, 99999999] in Chinese numerals: ``high · 万 + low``, ``high, low =
    divmod(n, 10000)``, each part written like ``to_chinese``; 零 before a non-zero low
    part below 1000; 一十 (not 十) right after 万. Input: an int. Output: a str.""",
    reference=to_chinese_wan,
    numbers=WAN_NUMBERS,
    mistakes=WAN_MISTAKES,
)
check_to_chinese_wan = TO_CHINESE_WAN.checker("check_to_chinese_wan", with_backend=False)
