"""Checkers for the code exercises of chapter 12 (深层 RNN、双向 RNN 与应用).

Reversing only each sequence's valid steps (the reference is
:func:`companion.numpy_rnn.reverse_sequence`), counting the parameters of a
deep, possibly bidirectional ``nn.GRU`` (measured on the module itself), and
drawing a class by inverse CDF from given uniform numbers (the rule of
:func:`companion.sequences.sampling.sample_categorical`).
"""

from __future__ import annotations

import numpy as np

from companion import numpy_rnn as nr
from companion.exercises.feedback import Exercise, Formula, Mistake

__all__ = ["check_gru_parameters", "check_inverse_cdf", "check_reverse_sequence"]


# ------------------------------------------------------------- reverse_sequence


def _reverse_cases() -> list[dict[str, np.ndarray]]:
    """Padding filled with non-zero values (so that moving it shows); lengths 0, 1, full."""
    rng = np.random.default_rng(1212)
    cases = []
    for batch, n_steps, n_features, lengths in [
        (4, 5, 2, [5, 2, 0, 3]),
        (3, 4, 3, [1, 4, 2]),
        (2, 6, 1, [6, 6]),
    ]:
        X = rng.integers(1, 10, (batch, n_steps, n_features)).astype(np.float64)
        cases.append({"X": X, "lengths": np.array(lengths)})
    return cases


def _flip_all(X, lengths):
    return X[:, ::-1]


def _flip_batch(X, lengths):
    return X[::-1]


def _one_step_too_many(X, lengths):
    """Reverses ``L + 1`` steps: the first padding step is pulled in front."""
    rev = np.array(X, dtype=np.float64)
    for i, n in enumerate(lengths):
        k = min(int(n) + 1, X.shape[1])
        rev[i, :k] = X[i, :k][::-1]
    return rev


def _padding_zeroed(X, lengths):
    rev = nr.reverse_sequence(X, lengths)
    return np.where(np.arange(X.shape[1])[None, :, None] < lengths[:, None, None], rev, 0.0)


REVERSE_SEQUENCE = Exercise(
    "只翻转每个序列的有效部分（reverse_sequence）",
    doc="""``rev[i, t] = X[i, L_i - 1 - t]`` for ``t < L_i = lengths[i]``, else ``X[i, t]``.

    Inputs: ``X`` [batch, n_steps, n_features], ``lengths`` int [batch].
    Outputs: ``rev`` [batch, n_steps, n_features] (the padding stays where it is).
    """,
    reference=nr.reverse_sequence,
    cases=_reverse_cases,
    outputs={"rev": ("实例", "时间步", "特征")},
    mistakes=Mistake.table(
        "把整个填充后的序列翻转了。短序列翻转后以填充开头，反向的循环层先读到填充，"
        "再读到序列的最后一个有效元素。只应翻转前 lengths[i] 步：rev[i, t] = X[i, L_i - 1 - t]。",
        _flip_all,
        "翻转的是批量轴（第 0 轴）。要翻转的是每个实例内部的时间步（第 1 轴），实例的顺序不变。",
        _flip_batch,
        "多翻转了一步（差一错误）：把第一个填充步也翻到了前面。"
        "有效步是 t = 0 … L_i - 1，共 L_i 步；X[i, :L_i][::-1] 正好是它们。",
        _one_step_too_many,
        "填充位置被改动了（置零）。reverse_sequence 只搬动有效步，填充原样留在原处"
        "（与 tf.reverse_sequence 相同），这样翻转两次就能回到原数组。",
        _padding_zeroed,
    ),
    index_hint="有效步的下标是 0 … lengths[i] - 1，位置 t 应放 X[i, lengths[i] - 1 - t]",
)
check_reverse_sequence = REVERSE_SEQUENCE.checker("check_reverse_sequence")


# ------------------------------------------------------- parameters of an nn.GRU


def _measured(n_inputs: int, n_neurons: int, num_layers: int, bidirectional: int) -> int:
    """The parameter count of ``torch.nn.GRU`` itself."""
    import torch

    gru = torch.nn.GRU(n_inputs, n_neurons, num_layers, bidirectional=bool(bidirectional))
    return sum(p.numel() for p in gru.parameters())


def _count(*, same_input=False, one_bias=False, ignore_directions=False):
    """A parameter count with one typical mistake."""

    def count(n_inputs, n_neurons, num_layers, bidirectional):
        dirs = 2 if bidirectional else 1
        total = 0
        for k in range(num_layers):
            reads = (
                n_inputs if k == 0 or same_input else n_neurons * (1 if ignore_directions else dirs)
            )
            total += dirs * 3 * n_neurons * (reads + n_neurons + (1 if one_bias else 2))
        return total

    return count


GRU_PARAMETERS = Formula(
    "深层（双向）nn.GRU 的参数个数",
    doc="""The number of parameters of ``nn.GRU(n_inputs, n_neurons, num_layers,
    bidirectional=bool(bidirectional))``: per layer ``k`` and direction,
    ``3 n (m_k + n + 2)`` with ``m_0 = n_inputs`` and ``m_k = D n`` above (``D`` = 2
    directions if bidirectional, else 1).
    """,
    names=("n_inputs", "n_neurons", "num_layers", "bidirectional"),
    cases=[(10, 8, 1, 0), (10, 8, 3, 0), (10, 8, 2, 1), (4, 16, 3, 1)],
    measure=_measured,
    mistakes=Mistake.table(
        "所有层都按 n_inputs 个输入计算了。只有第 0 层读输入 x；第 k ≥ 1 层读下一层的输出，"
        "每步 n_neurons 个数（双向时两个方向拼接，2·n_neurons 个）。",
        _count(same_input=True),
        "每组门只算了一个偏置。nn.GRU 有 bias_ih 与 bias_hh 两个偏置，"
        "n 块的 bias_hh 在重置门的括号里，不能合并：每层每个方向 2·3n 个偏置参数。",
        _count(one_bias=True),
        "双向时，上面一层的输入宽度没有翻倍。第 k ≥ 1 层读的是下一层两个方向拼接后的输出，"
        "每步 2·n_neurons 个数。",
        _count(ignore_directions=True),
    ),
    unit="个",
    quantity="参数个数",
)
check_gru_parameters = GRU_PARAMETERS.checker("check_gru_parameters", with_backend=False)


# ------------------------------------------------------------ inverse-CDF sampling


def _inverse_cdf(probs, u, *, side="right", guard=True, shift=0):
    """``j = min{j : c_j > u}`` per row, ``c = cumsum(probs)``; ``u`` past ``c_last``
    (round-off) gives the last class of non-zero probability. The keywords make mistakes."""
    probs, u = np.asarray(probs, dtype=np.float64), np.asarray(u, dtype=np.float64)
    out = np.empty(len(u), dtype=np.int64)
    for i, (p, u_i) in enumerate(zip(probs, u, strict=True)):
        j = int(np.searchsorted(np.cumsum(p), u_i, side=side)) + shift
        if guard and j == len(p):
            j = int(np.flatnonzero(p > 0)[-1])
        out[i] = j
    return out


def _inverse_cdf_cases() -> list[dict[str, np.ndarray]]:
    """Exact boundaries (quarters sum exactly in binary) and a class of probability 0;
    random rows; a row summing to 1 - 1e-12 with ``u`` above its last boundary."""
    rng = np.random.default_rng(1213)
    quarters = np.array([[0.25, 0.25, 0.0, 0.5]] * 5)
    random_rows = rng.dirichlet(np.ones(6), size=8)
    short = np.array([[0.5, 0.5 - 1e-12, 0.0], [0.2, 0.3, 0.5]])
    return [
        {"probs": quarters, "u": np.array([0.0, 0.25, 0.3, 0.5, 0.75])},
        {"probs": random_rows, "u": rng.random(8)},
        {"probs": short, "u": np.array([1 - 1e-13, 0.5])},
    ]


INVERSE_CDF = Exercise(
    "按逆累积分布抽取类别",
    doc="""``c_j = p_0 + ... + p_j``; draw ``j = min{j : c_j > u}`` for each row, so that
    ``u`` in ``[c_{j-1}, c_j)`` gives ``j`` (``P(j) = p_j``; a class with ``p_j = 0`` has an
    empty interval and is never drawn). ``u >= c_last`` can only come from round-off: give
    the last class of non-zero probability.

    Inputs: ``probs`` [batch, n_classes] (rows sum to 1), ``u`` [batch] in ``[0, 1)``.
    Outputs: ``classes`` int [batch].
    """,
    reference=_inverse_cdf,
    cases=_inverse_cdf_cases,
    outputs={"classes": ("实例",)},
    mistakes=Mistake.table(
        'u 恰好落在边界 c_j 上时选了第 j 类（searchsorted 的默认 side="left"）。第 j 段是'
        '左闭右开的 [c_{j-1}, c_j)：u = c_j 属于下一段。用 side="right"，即第一个 c_j > u 的 j；'
        "否则概率为 0 的类别（c_j = c_{j-1}）也可能被抽中。",
        lambda probs, u: _inverse_cdf(probs, u, side="left"),
        "没有处理 u 超过最后一个累积和的情况。由于舍入，c 的最后一项可能略小于 1，"
        "u 落在它与 1 之间时 searchsorted 返回 n_classes，不是一个类别；"
        "这时应取最后一个概率不为 0 的类别。",
        lambda probs, u: _inverse_cdf(probs, u, guard=False),
        "u 超过最后一个累积和时取了最后一个类别 n_classes - 1，但它的概率可能是 0"
        "（这一行的最后一类正是如此）。应取最后一个概率不为 0 的类别：np.flatnonzero(p > 0)[-1]。",
        lambda probs, u: np.minimum(_inverse_cdf(probs, u, guard=False), len(probs[0]) - 1),
        "返回的编号小了 1：找到的是 u 左边那条边界 c_{j-1} 的编号。"
        "u 落在 [c_{j-1}, c_j) 时应返回 j，即第一个大于 u 的累积和的编号。",
        lambda probs, u: _inverse_cdf(probs, u, shift=-1),
    ),
    index_hint="searchsorted 可能返回 n_classes（u 不小于最后一个累积和时），它不是合法的类别编号",
)
check_inverse_cdf = INVERSE_CDF.checker("check_inverse_cdf", with_backend=False)
