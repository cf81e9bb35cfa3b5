"""Checkers for the code exercises of chapter 7 (变长输入序列).

* :func:`check_mask_outputs` -- zero every output after the end of its sequence;
* :func:`check_final_state` -- take the final state at each sequence's last valid step.
* :func:`check_packing_plan` -- the order and the number of running instances per
  step (``order``, ``active``) of :func:`companion.packing.packing_plan`.

Each checker calls the reader's function on several cases (copies of the
arrays, so a function that works in place does no harm), compares with
:mod:`companion.sequences` / :func:`companion.numpy_rnn.dynamic_rnn`, and names
the typical mistake when the answer matches one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion import numpy_rnn as nr
from companion import sequences as sq
from companion.exercises.feedback import CheckResult, Mistake, on_copies, run_checks
from companion.packing import packing_plan

__all__ = ["check_final_state", "check_mask_outputs", "check_packing_plan"]

_OUTPUT_AXES = ("实例", "时间步", "神经元")
_STATE_AXES = ("实例", "神经元")

# The source chapter's padded mini-batch: instance 1 has one step and a zero vector.
_SOURCE_X = np.array(
    [
        [[0, 1, 2], [9, 8, 7]],
        [[3, 4, 5], [0, 0, 0]],
        [[6, 7, 8], [6, 5, 4]],
        [[9, 0, 1], [3, 2, 1]],
    ],
    dtype=np.float64,
)
_SOURCE_LENGTHS = np.array([2, 1, 2, 2])


def _cell(n_inputs: int, n_neurons: int, seed: int) -> nr.BasicRNNCell:
    """A float64 cell with a non-zero bias (a zero bias would hide some mistakes)."""
    rng = np.random.default_rng(seed)
    return nr.BasicRNNCell.from_weights(
        rng.uniform(-0.6, 0.6, (n_inputs, n_neurons)),
        rng.uniform(-0.6, 0.6, (n_neurons, n_neurons)),
        rng.uniform(-0.3, 0.3, n_neurons),
        dtype=np.float64,
    )


# --------------------------------------------------------------------------
# Exercise: mask the outputs.
# --------------------------------------------------------------------------


def _keras_copy_forward(outputs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Past the end, repeat the last valid output (zeros for length 0).

    What a Keras recurrent layer does by default when it receives a mask (from
    ``Embedding(mask_zero=True)`` or a ``Masking`` layer): masked steps carry
    the previous output and state forward.
    """
    out = np.array(outputs, dtype=np.float64)
    for i, n in enumerate(lengths):
        out[i, n:] = out[i, n - 1] if n > 0 else 0.0
    return out


def _mask_inclusive(outputs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Keeps ``t <= length``: one padded step too many."""
    keep = np.arange(outputs.shape[1])[None, :] <= np.asarray(lengths)[:, None]
    return np.where(keep[:, :, None], outputs, 0.0)


def _mask_short(outputs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Keeps ``t < length - 1``: drops the last valid step."""
    keep = np.arange(outputs.shape[1])[None, :] < np.asarray(lengths)[:, None] - 1
    return np.where(keep[:, :, None], outputs, 0.0)


def _mask_transposed(outputs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A time-major mask ``[n_steps, batch]`` applied to batch-major outputs."""
    batch, n_steps = outputs.shape[:2]
    if batch != n_steps:
        raise ValueError("only broadcasts when batch == n_steps")
    mask_tm = np.arange(n_steps)[:, None] < np.asarray(lengths)[None, :]  # [n_steps, batch]
    return outputs * mask_tm[:, :, None]


def _mask_neurons(outputs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The mask built along the last axis (neurons) instead of the time axis."""
    keep = np.arange(outputs.shape[2])[None, :] < np.asarray(lengths)[:, None]  # [batch, n_neurons]
    return outputs * keep[:, None, :]


def _mask_cases() -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    cases = []
    # batch == n_steps on purpose: a transposed mask then runs without an error.
    for batch, n_steps, n_neurons, lengths in [
        (4, 4, 3, [4, 1, 3, 0]),
        (4, 2, 5, [2, 1, 2, 2]),
        (2, 6, 4, [0, 3]),
        (3, 5, 2, [5, 5, 5]),
    ]:
        # Non-zero everywhere, as if the RNN had run past every end.
        outputs = np.tanh(rng.normal(size=(batch, n_steps, n_neurons)) * 2)
        cases.append({"outputs": outputs, "lengths": np.array(lengths, dtype=np.int64)})
    return cases


def check_mask_outputs(fn: Callable[[np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(outputs, lengths)``: ``outputs`` [batch, n_steps, n_neurons],
    ``lengths`` int [batch] → the outputs with every step ``t >= lengths[i]`` set to 0.

    Examples
    --------
    >>> import numpy as np
    >>> def mask_outputs(outputs, lengths):
    ...     keep = np.arange(outputs.shape[1]) < lengths[:, None]
    ...     return np.where(keep[:, :, None], outputs, 0.0)
    >>> bool(check_mask_outputs(mask_outputs))
    True
    """
    return run_checks(
        "把序列结束之后的输出置零",
        on_copies(fn),
        reference=lambda outputs, lengths: sq.mask_outputs(outputs, lengths),
        cases=_mask_cases(),
        mistakes=[
            Mistake(
                "把最后一个有效输出复制到了序列结束之后（Keras 的循环层收到掩码时默认这样做）",
                _keras_copy_forward,
                "本课程（与 TensorFlow 1.x 的 sequence_length 一样）约定："
                "结束之后的输出恰好是零向量，"
                "最后一个有效输出只出现在最后一个有效时间步。",
            ),
            Mistake(
                "掩码差了一步：多保留了一个填充时间步",
                _mask_inclusive,
                "长度为 n 的序列，有效时间步是 t = 0, …, n-1，条件应是 t < n 而不是 t <= n。",
            ),
            Mistake(
                "掩码差了一步：丢掉了最后一个有效时间步",
                _mask_short,
                "长度为 n 的序列，最后一个有效时间步是 t = n-1，它的输出要保留：条件应是 t < n。",
            ),
            Mistake(
                "沿错误的轴做了掩码（掩码是 [n_steps, batch]，却按 [batch, n_steps] 使用）",
                _mask_transposed,
                "outputs 是批量优先的 [batch, n_steps, n_neurons]："
                "掩码的第 0 轴应是实例、第 1 轴是时间步，"
                "即 mask[i, t] = t < lengths[i]。",
            ),
            Mistake(
                "沿错误的轴做了掩码（比较的是神经元编号而不是时间步）",
                _mask_neurons,
                "要和 lengths 比较的是时间步 t（outputs 的第 1 轴），不是最后一轴上的神经元编号。",
            ),
        ],
        output_names=("masked",),
        axes=(_OUTPUT_AXES,),
    )


# --------------------------------------------------------------------------
# Exercise: the final state at the last valid step.
# --------------------------------------------------------------------------


def _final_last_column(outputs, lengths, initial_state):
    return np.asarray(outputs)[:, -1]


def _final_lengths_minus_two(outputs, lengths, initial_state):
    return np.asarray(outputs)[np.arange(len(lengths)), np.asarray(lengths) - 2]


def _final_no_zero_handling(outputs, lengths, initial_state):
    """``outputs[i, lengths[i] - 1]`` even for length 0 (that is ``outputs[i, -1]``)."""
    return np.asarray(outputs)[np.arange(len(lengths)), np.asarray(lengths) - 1]


def _final_zeros_for_empty(outputs, lengths, initial_state):
    """Length 0 gives a zero vector instead of the initial state."""
    lengths = np.asarray(lengths)
    state = np.asarray(outputs)[np.arange(len(lengths)), np.maximum(lengths - 1, 0)]
    return np.where((lengths > 0)[:, None], state, 0.0)


def _final_cases() -> list[dict[str, np.ndarray]]:
    """``outputs`` of a run over the padded batch, ``lengths``, ``initial_state``.

    The first case's outputs come from a run *without* ``sequence_length`` (what
    ``nn.RNN`` on a padded batch returns): every step is non-zero, so each
    typical mistake gives a different answer. The others come from runs *with*
    ``sequence_length`` (zeros after each end).
    """
    rng = np.random.default_rng(11)
    specs = [
        # (X, lengths, initial state?, stop at each end?)
        (rng.normal(size=(5, 4, 3)), [4, 2, 1, 0, 3], True, False),
        (_SOURCE_X, _SOURCE_LENGTHS, False, True),
        (rng.normal(size=(3, 1, 3)), [1, 0, 1], True, True),
        (rng.normal(size=(2, 5, 3)), [5, 5], True, True),
    ]
    cases = []
    for k, (X, lengths, with_h0, stop) in enumerate(specs):
        cell = _cell(3, 4, seed=k)
        batch = X.shape[0]
        h0 = rng.normal(size=(batch, 4)) if with_h0 else np.zeros((batch, 4))
        lengths = np.array(lengths, dtype=np.int64)
        outputs, _ = nr.dynamic_rnn(
            cell, X, sequence_length=lengths if stop else None, initial_state=h0
        )
        cases.append({"outputs": outputs, "lengths": lengths, "initial_state": h0})
    return cases


def _final_reference(outputs, lengths, initial_state):
    """The state after step ``lengths[i] - 1`` (``initial_state[i]`` for length 0).

    Valid outputs do not depend on later (padded) steps, so this equals the
    ``state`` that ``dynamic_rnn(..., sequence_length=lengths)`` returns.
    """
    lengths = np.asarray(lengths)
    last = np.asarray(outputs)[np.arange(len(lengths)), np.maximum(lengths - 1, 0)]
    return np.where((lengths > 0)[:, None], last, initial_state)


def check_final_state(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(outputs, lengths, initial_state)`` → ``state`` [batch, n_neurons].

    ``outputs`` [batch, n_steps, n_neurons] come from running the basic cell over
    a padded batch (its output is its state); ``state[i]`` must be the output at
    instance ``i``'s last valid step, ``lengths[i] - 1``, or ``initial_state[i]``
    when ``lengths[i]`` is 0 -- what ``dynamic_rnn`` with ``sequence_length`` returns.

    Examples
    --------
    >>> import numpy as np
    >>> def final_state(outputs, lengths, initial_state):
    ...     last = outputs[np.arange(len(lengths)), np.maximum(lengths - 1, 0)]
    ...     return np.where((lengths > 0)[:, None], last, initial_state)
    >>> bool(check_final_state(final_state))
    True
    """
    return run_checks(
        "取最后一个有效时间步的状态",
        on_copies(
            fn,
            index_hint="提示：下标越界。长度为 n 的序列，最后一个有效时间步是 n-1，不是 n；"
            "满长度的序列用 n 做下标就越界了",
        ),
        reference=_final_reference,
        cases=_final_cases(),
        mistakes=[
            Mistake(
                "直接取了最后一个时间步 outputs[:, -1]，没有看 lengths",
                _final_last_column,
                "较短的序列在最后一个时间步早已结束：第 i 个实例的最终状态在时间步 lengths[i]-1。",
            ),
            Mistake(
                "下标差了一步：用了 lengths - 2",
                _final_lengths_minus_two,
                "长度为 n 的序列，最后一个有效时间步是 n-1。注意长度为 1 时 n-2 = -1，"
                "NumPy 会悄悄取最后一列，不会报错。",
            ),
            Mistake(
                "长度为 0 的实例没有返回初始状态",
                _final_no_zero_handling,
                "长度为 0 时 lengths-1 = -1，NumPy 取到的是最后一个时间步；"
                "这个实例一步也没有运行，它的最终状态就是 initial_state 中对应的行。",
            ),
            Mistake(
                "长度为 0 的实例没有返回初始状态（返回了零向量）",
                _final_zeros_for_empty,
                "一步也没有运行的实例，状态保持不变：应返回 initial_state 中对应的行，"
                "初始状态不一定是零。",
            ),
        ],
        output_names=("state",),
        axes=(_STATE_AXES,),
    )


# --------------------------------------------------------------------------
# Exercise: a packing plan by hand.
# --------------------------------------------------------------------------


def _plan_reference(lengths):
    plan = packing_plan(lengths)
    return plan.order, plan.active


def _active_right(lengths):
    return packing_plan(lengths).active


def _plan_ascending(lengths):
    return np.argsort(lengths, kind="stable"), _active_right(lengths)


def _plan_ties_reversed(lengths):
    """Descending by reversing an ascending sort: instances of equal length come out
    in reverse original order."""
    return np.argsort(lengths, kind="stable")[::-1], _active_right(lengths)


def _plan_at_least(lengths):
    """``active[t] = #{i : lengths[i] >= t}``: one step late."""
    lengths = np.asarray(lengths)
    active = [(lengths >= t).sum() for t in range(int(lengths.max()))]
    return packing_plan(lengths).order, np.array(active)


def _plan_sorted_lengths(lengths):
    """The sorted lengths given where the number of running instances is wanted."""
    order = packing_plan(lengths).order
    return order, np.asarray(lengths)[order]


def _plan_without_empty(lengths):
    """Instances of length 0 left out of ``order``."""
    order = packing_plan(lengths).order
    return order[np.asarray(lengths)[order] > 0], _active_right(lengths)


def _plan_cases() -> list[dict[str, np.ndarray]]:
    """The chapter's exercise first (ties, a zero), then the source chapter's batch,
    a batch with ties among several lengths and zeros, and one of equal lengths."""
    return [
        {"lengths": np.array(lengths, dtype=np.int64)}
        for lengths in ([3, 0, 1, 3], [2, 1, 2, 2], [0, 4, 2, 4, 1, 0, 2], [5, 5, 5])
    ]


def check_packing_plan(fn: Callable[[np.ndarray], Any]) -> CheckResult:
    """Check ``fn(lengths) -> (order, active)``: the plan of :func:`companion.packing.packing_plan`.

    ``lengths`` is an int array [batch] (at least one length is positive).
    ``order`` [batch] lists the instances by length, longest first, equal lengths
    in their original order; ``active`` [max(lengths)] gives, for every step t,
    the number of instances with ``lengths[i] > t``. Lists are accepted.

    Examples
    --------
    >>> import numpy as np
    >>> def plan(lengths):
    ...     order = np.argsort(-lengths, kind="stable")
    ...     active = [int((lengths > t).sum()) for t in range(lengths.max())]
    ...     return order, active
    >>> bool(check_packing_plan(plan))
    True
    """
    return run_checks(
        "打包计划：排序 order 与每步的实例数 active",
        # positional: the reader may name the argument freely
        on_copies(fn if not callable(fn) else lambda lengths: fn(lengths)),
        reference=_plan_reference,
        cases=_plan_cases(),
        mistakes=[
            Mistake(
                "按长度升序排了",
                _plan_ascending,
                "要从长到短排：这样第 t 步还在运行的实例正好是排好序的批的前 active[t] 行。"
                "np.argsort 是升序的，可以对 -lengths 排序。",
            ),
            Mistake(
                "长度相同的实例顺序颠倒了（把升序排序的结果倒了过来）",
                _plan_ties_reversed,
                "np.argsort(lengths)[::-1] 把长度相同的实例也倒了过来；约定是长度相同保持原顺序，"
                '用稳定排序 np.argsort(-lengths, kind="stable")。',
            ),
            Mistake(
                "active 用了 >= 而不是 >",
                _plan_at_least,
                "第 t 步（从 0 开始）还在运行的实例满足 t < lengths[i]，即 lengths[i] > t；"
                "用 >= 时，长度恰好为 t 的实例（它在第 t-1 步已经结束）也被算了进去。",
            ),
            Mistake(
                "active 写成了排好序的长度",
                _plan_sorted_lengths,
                "active 是按时间步排列的：active[t] 是第 t 步还在运行的实例个数，"
                "长度为 max(lengths)；它不是每个实例的长度。",
            ),
            Mistake(
                "order 漏掉了长度为 0 的实例",
                _plan_without_empty,
                "order 是整个批的排列，每个实例都出现一次；长度为 0 的实例排在最后，"
                "只是从不出现在任何一步的前 active[t] 行里。",
            ),
        ],
        output_names=("order", "active"),
        axes=(("排序后的行",), ("时间步",)),
    )
