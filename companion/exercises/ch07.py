"""Checkers for the code exercises of chapter 7 (变长输入序列).

Masking the outputs after the end of each sequence, the final state at each
sequence's last valid step, and a packing plan by hand; the references are
:mod:`companion.sequences`, :func:`companion.numpy_rnn.dynamic_rnn` and
:func:`companion.fast.packing.packing_plan`. Lengths are int64 arrays [batch]; a
position ``(i, t)`` is valid when ``t < lengths[i]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion import numpy_rnn as nr
from companion import sequences as sq
from companion.exercises.cases import chapter_batch, random_cell
from companion.exercises.feedback import Exercise, Mistake
from companion.fast.packing import packing_plan

__all__ = ["check_final_state", "check_mask_outputs", "check_packing_plan"]


def _cell(n_inputs: int, n_neurons: int, seed: int) -> nr.BasicRNNCell:
    """A float64 cell with a non-zero bias (a zero bias would hide some mistakes)."""
    return random_cell(np.random.default_rng(seed), n_inputs, n_neurons, scale=0.6, bias=0.3)


def _keep(outputs: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``outputs`` [batch, n_steps, n] where ``keep`` [batch, n_steps] holds, else 0."""
    return np.where(keep[:, :, None], outputs, 0.0)


def _keras_copy_forward(outputs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Past the end, repeat the last valid output (zeros for length 0): what a Keras
    recurrent layer does by default when it receives a mask."""
    out = np.array(outputs, dtype=np.float64)
    for i, n in enumerate(lengths):
        out[i, n:] = out[i, n - 1] if n > 0 else 0.0
    return out


def _mask_transposed(outputs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A time-major mask ``[n_steps, batch]`` applied to batch-major outputs."""
    if outputs.shape[0] != outputs.shape[1]:
        raise ValueError("only broadcasts when batch == n_steps")
    return outputs * (np.arange(outputs.shape[1])[:, None] < lengths[None, :])[:, :, None]


def _mask_cases() -> list[dict[str, np.ndarray]]:
    """Outputs non-zero everywhere, as if the RNN had run past every end; the first
    case has batch == n_steps, so that a transposed mask runs without an error."""
    rng = np.random.default_rng(7)
    cases = []
    for size, lengths in [
        ((4, 4, 3), [4, 1, 3, 0]),
        ((4, 2, 5), [2, 1, 2, 2]),
        ((2, 6, 4), [0, 3]),
        ((3, 5, 2), [5, 5, 5]),
    ]:
        outputs = np.tanh(rng.normal(size=size) * 2)
        cases.append({"outputs": outputs, "lengths": np.array(lengths, dtype=np.int64)})
    return cases


MASK_OUTPUTS = Exercise(
    "把序列结束之后的输出置零",
    doc="""The outputs with every step after the end of its sequence set to 0::

        masked[i, t] = outputs[i, t] if t < lengths[i] else 0

    Inputs: ``outputs`` [batch, n_steps, n_neurons], ``lengths`` int [batch].
    Outputs: ``masked`` [batch, n_steps, n_neurons].
    """,
    reference=sq.mask_outputs,
    cases=_mask_cases,
    outputs={"masked": ("实例", "时间步", "神经元")},
    mistakes=Mistake.table(
        "把最后一个有效输出复制到了序列结束之后（Keras 的循环层收到掩码时默认这样做）。"
        "本课程（与 TensorFlow 1.x 的 sequence_length 一样）约定："
        "结束之后的输出恰好是零向量，最后一个有效输出只出现在最后一个有效时间步。",
        _keras_copy_forward,
        "掩码差了一步：多保留了一个填充时间步。长度为 n 的序列，"
        "有效时间步是 t = 0, …, n-1，条件应是 t < n 而不是 t <= n。",
        lambda outputs, lengths: _keep(outputs, np.arange(outputs.shape[1]) <= lengths[:, None]),
        "掩码差了一步：丢掉了最后一个有效时间步。长度为 n 的序列，"
        "最后一个有效时间步是 t = n-1，它的输出要保留：条件应是 t < n。",
        lambda outputs, lengths: _keep(outputs, np.arange(outputs.shape[1]) < lengths[:, None] - 1),
        "沿错误的轴做了掩码（掩码是 [n_steps, batch]，却按 [batch, n_steps] 使用）。"
        "outputs 是批量优先的 [batch, n_steps, n_neurons]：掩码的第 0 轴应是实例、"
        "第 1 轴是时间步，即 mask[i, t] = t < lengths[i]。",
        _mask_transposed,
        "沿错误的轴做了掩码（比较的是神经元编号而不是时间步）。"
        "要和 lengths 比较的是时间步 t（outputs 的第 1 轴），不是最后一轴上的神经元编号。",
        lambda outputs, lengths: (
            outputs * (np.arange(outputs.shape[2])[None, :] < lengths[:, None])[:, None, :]
        ),
    ),
)
check_mask_outputs = MASK_OUTPUTS.checker("check_mask_outputs")


def _final_cases() -> list[dict[str, np.ndarray]]:
    """``outputs`` of a run over a padded batch, ``lengths``, ``initial_state``.

    The first case's outputs come from a run *without* ``sequence_length`` (what
    ``nn.RNN`` on a padded batch returns): every step is non-zero, so each
    typical mistake gives a different answer. The others come from runs *with*
    ``sequence_length`` (zeros after each end); the second is the source chapter's batch.
    """
    rng = np.random.default_rng(11)
    specs = [
        # (X, lengths, initial state?, stop at each end?)
        (rng.normal(size=(5, 4, 3)), [4, 2, 1, 0, 3], True, False),
        (chapter_batch(), [2, 1, 2, 2], False, True),
        (rng.normal(size=(3, 1, 3)), [1, 0, 1], True, True),
        (rng.normal(size=(2, 5, 3)), [5, 5], True, True),
    ]
    cases = []
    for k, (X, lengths, with_h0, stop) in enumerate(specs):
        h0 = rng.normal(size=(X.shape[0], 4)) if with_h0 else np.zeros((X.shape[0], 4))
        lengths = np.array(lengths, dtype=np.int64)
        outputs, _ = nr.dynamic_rnn(
            _cell(3, 4, seed=k), X, sequence_length=lengths if stop else None, initial_state=h0
        )
        cases.append({"outputs": outputs, "lengths": lengths, "initial_state": h0})
    return cases


def _at_step(outputs: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``outputs[i, steps[i]]`` for every instance ``i``."""
    return outputs[np.arange(len(steps)), steps]


def _final_reference(outputs, lengths, initial_state):
    """The state after step ``lengths[i] - 1`` (``initial_state[i]`` for length 0)."""
    last = _at_step(outputs, np.maximum(lengths - 1, 0))
    return np.where((lengths > 0)[:, None], last, initial_state)


FINAL_STATE = Exercise(
    "取最后一个有效时间步的状态",
    doc="""The final state of each sequence of a padded batch, read from the outputs
    of the basic cell (its output is its state)::

        state[i] = outputs[i, lengths[i] - 1]   (initial_state[i] when lengths[i] == 0)

    what ``dynamic_rnn`` with ``sequence_length`` returns.

    Inputs: ``outputs`` [batch, n_steps, n_neurons], ``lengths`` int [batch],
    ``initial_state`` [batch, n_neurons].
    Outputs: ``state`` [batch, n_neurons].
    """,
    reference=_final_reference,
    cases=_final_cases,
    outputs={"state": ("实例", "神经元")},
    index_hint="提示：下标越界。长度为 n 的序列，最后一个有效时间步是 n-1，不是 n；"
    "满长度的序列用 n 做下标就越界了",
    mistakes=Mistake.table(
        "直接取了最后一个时间步 outputs[:, -1]，没有看 lengths。"
        "较短的序列在最后一个时间步早已结束：第 i 个实例的最终状态在时间步 lengths[i]-1。",
        lambda outputs, lengths, h0: outputs[:, -1],
        "下标差了一步：用了 lengths - 2。长度为 n 的序列，最后一个有效时间步是 n-1。"
        "注意长度为 1 时 n-2 = -1，NumPy 会悄悄取最后一列，不会报错。",
        lambda outputs, lengths, h0: _at_step(outputs, lengths - 2),
        "长度为 0 的实例没有返回初始状态。长度为 0 时 lengths-1 = -1，"
        "NumPy 取到的是最后一个时间步；这个实例一步也没有运行，"
        "它的最终状态就是 initial_state 中对应的行。",
        lambda outputs, lengths, h0: _at_step(outputs, lengths - 1),
        "长度为 0 的实例没有返回初始状态（返回了零向量）。一步也没有运行的实例，"
        "状态保持不变：应返回 initial_state 中对应的行，初始状态不一定是零。",
        lambda outputs, lengths, h0: _final_reference(outputs, lengths, 0 * h0),
    ),
)
check_final_state = FINAL_STATE.checker("check_final_state")


def _plan_reference(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, active)`` of :func:`companion.fast.packing.packing_plan`."""
    plan = packing_plan(lengths)
    return plan.order, plan.active


def _with_order(order: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], tuple[Any, Any]]:
    """A plan whose ``order`` is wrong and whose ``active`` is right."""
    return lambda lengths: (order(lengths), _plan_reference(lengths)[1])


def _with_active(active: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], tuple[Any, Any]]:
    """A plan whose ``active`` is wrong and whose ``order`` is right."""
    return lambda lengths: (_plan_reference(lengths)[0], active(lengths))


PACKING_PLAN = Exercise(
    "打包计划：排序 order 与每步的实例数 active",
    doc="""A packing plan by hand, that of :func:`companion.fast.packing.packing_plan`::

        order = instances by length, longest first, equal lengths in their original order
        active[t] = #{i : lengths[i] > t}      for t < max(lengths)

    Inputs: ``lengths`` int [batch] (at least one positive).
    Outputs: ``order`` [batch] and ``active`` [max(lengths)] (arrays or lists).
    """,
    reference=_plan_reference,
    # The chapter's exercise first (ties, a zero), then the source chapter's batch,
    # a batch with ties among several lengths and zeros, and one of equal lengths.
    cases=lambda: [
        {"lengths": np.array(lengths, dtype=np.int64)}
        for lengths in ([3, 0, 1, 3], [2, 1, 2, 2], [0, 4, 2, 4, 1, 0, 2], [5, 5, 5])
    ],
    outputs={"order": ("排序后的行",), "active": ("时间步",)},
    mistakes=Mistake.table(
        "按长度升序排了。要从长到短排："
        "这样第 t 步还在运行的实例正好是排好序的批的前 active[t] 行。"
        "np.argsort 是升序的，可以对 -lengths 排序。",
        _with_order(lambda lengths: np.argsort(lengths, kind="stable")),
        "长度相同的实例顺序颠倒了（把升序排序的结果倒了过来）。"
        "np.argsort(lengths)[::-1] 把长度相同的实例也倒了过来；约定是长度相同保持原顺序，"
        '用稳定排序 np.argsort(-lengths, kind="stable")。',
        _with_order(lambda lengths: np.argsort(lengths, kind="stable")[::-1]),
        "active 用了 >= 而不是 >。第 t 步（从 0 开始）还在运行的实例满足 t < lengths[i]，"
        "即 lengths[i] > t；用 >= 时，长度恰好为 t 的实例（它在第 t-1 步已经结束）"
        "也被算了进去。",
        _with_active(lambda lengths: [(lengths >= t).sum() for t in range(lengths.max())]),
        "active 写成了排好序的长度。active 是按时间步排列的："
        "active[t] 是第 t 步还在运行的实例个数，长度为 max(lengths)；"
        "它不是每个实例的长度。",
        _with_active(lambda lengths: lengths[_plan_reference(lengths)[0]]),
        "order 漏掉了长度为 0 的实例。order 是整个批的排列，每个实例都出现一次；"
        "长度为 0 的实例排在最后，只是从不出现在任何一步的前 active[t] 行里。",
        _with_order(lambda lengths: [i for i in _plan_reference(lengths)[0] if lengths[i] > 0]),
    ),
)
check_packing_plan = PACKING_PLAN.checker("check_packing_plan")
