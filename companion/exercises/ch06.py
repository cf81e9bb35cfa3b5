"""Checkers for the exercises of chapter 6 (动态展开).

* :func:`check_time_major` -- ``fn(outputs) -> outputs_tm``: batch-major
  outputs [batch, n_steps, n_neurons] to time-major [n_steps, batch, n_neurons]
  (what ``dynamic_rnn(..., time_major=True)`` returns), ``outputs_tm[t, i] =
  outputs[i, t]``. The classic mistake, ``reshape`` instead of a transpose,
  has the right shape and the wrong numbers.
* :func:`check_checkpoint_bytes` -- ``fn(batch, n_steps, n_inputs, n_neurons,
  chunk) -> int``: predict how many bytes
  :func:`companion.memory.checkpointed_dynamic_rnn` keeps for the backward
  pass (float32). The reference is the measurement itself
  (:func:`companion.memory.saved_tensor_log`), so the formula is checked
  against what PyTorch really keeps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from companion.exercises.feedback import CheckResult, Mistake, check_formula, run_checks

__all__ = ["check_checkpoint_bytes", "check_time_major"]


# --------------------------------------------------------------------------
# Batch-major to time-major
# --------------------------------------------------------------------------


def _time_major_cases() -> list[dict[str, Any]]:
    """Outputs to try; the third has ``batch == n_steps`` so that a missing
    transpose keeps the shape and only the values give it away."""
    rng = np.random.default_rng(606)
    shapes = ((4, 2, 5), (3, 6, 2), (4, 4, 3), (2, 1, 3))
    return [{"outputs": np.tanh(rng.normal(size=shape))} for shape in shapes]


_TIME_MAJOR_MISTAKES = [
    Mistake(
        "用 reshape 代替了转置：形状对，数值错",
        lambda outputs: outputs.reshape(outputs.shape[1], outputs.shape[0], outputs.shape[2]),
        "reshape 只按内存顺序把同一串数重新分组，不交换轴：结果的第 0 个时间步里"
        "装的其实是实例 0 的前几个时间步。交换前两个轴要用 np.swapaxes(outputs, 0, 1)、"
        "outputs.transpose(1, 0, 2) 或 torch 的 outputs.transpose(0, 1) / permute(1, 0, 2)。",
    ),
    Mistake(
        "原样返回了批量在前的 outputs",
        lambda outputs: outputs,
        "时间主序的第 0 轴是时间步：把前两个轴交换。",
    ),
    Mistake(
        "交换了后两个轴：结果是 [batch, n_neurons, n_steps]",
        lambda outputs: outputs.transpose(0, 2, 1),
        "要交换的是批量轴（0）和时间轴（1），神经元轴留在最后：transpose(1, 0, 2)。",
    ),
    Mistake(
        "把三个轴整个倒了过来（outputs.T）：结果是 [n_neurons, n_steps, batch]",
        lambda outputs: outputs.transpose(2, 1, 0),
        "NumPy 的 .T 反转所有轴；只交换前两个：transpose(1, 0, 2)。",
    ),
]


def check_time_major(fn: Callable[..., Any], backend: str = "numpy") -> CheckResult:
    """Check ``fn(outputs) -> outputs_tm``: batch-major to time-major.

    Parameters
    ----------
    fn : callable
        Takes ``outputs`` [batch, n_steps, n_neurons] and returns
        [n_steps, batch, n_neurons] with ``result[t, i] = outputs[i, t]``.
    backend : {"numpy", "torch"}
        What ``fn`` receives: a NumPy array or a torch tensor (float64).

    Returns
    -------
    CheckResult
        Passed, or a Chinese message naming the mistake (reshape instead of a
        transpose, no change, the wrong pair of axes, all axes reversed).
    """
    if backend not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch'; got {backend!r}")
    title = "批量优先 [batch, n_steps, n_neurons] → 时间优先 [n_steps, batch, n_neurons]"
    if not callable(fn):
        return CheckResult(title, False, [f"请传入一个函数，而不是 {type(fn).__name__}。"])

    def convert(outputs: np.ndarray) -> Any:
        if backend == "numpy":
            return outputs.copy()  # a reader's in-place change must not alter the case
        import torch

        return torch.from_numpy(outputs.copy())

    return run_checks(
        title,
        lambda outputs: fn(convert(outputs)),
        reference=lambda outputs: np.swapaxes(outputs, 0, 1),
        cases=_time_major_cases(),
        mistakes=_TIME_MAJOR_MISTAKES,
        output_names=("时间优先的 outputs",),
        axes=(("时间步", "实例", "神经元"),),
    )


# --------------------------------------------------------------------------
# Bytes kept by checkpointed_dynamic_rnn
# --------------------------------------------------------------------------

#: (batch, n_steps, n_inputs, n_neurons, chunk): divisible and not, chunk = 1, chunk > n_steps.
_BYTES_CASES = (
    (4, 12, 3, 5, 3),
    (2, 10, 1, 8, 4),
    (3, 7, 2, 4, 10),
    (5, 9, 3, 6, 1),
    (1, 25, 2, 16, 6),
)


def measured_checkpoint_bytes(
    batch: int, n_steps: int, n_inputs: int, n_neurons: int, chunk: int
) -> int:
    """Bytes that :func:`companion.memory.checkpointed_dynamic_rnn` keeps for backward.

    Measured, not computed: a float32 cell and ``X`` [batch, n_steps, n_inputs]
    are run under :func:`companion.memory.record_saved_tensors` and the
    distinct storages kept (parameters left out) are added up.
    """
    import torch

    from companion import memory
    from companion.torch_rnn import BasicRNNCell

    cell = BasicRNNCell(n_inputs, n_neurons, seed=0)
    X = torch.zeros(batch, n_steps, n_inputs)
    log = memory.saved_tensor_log(memory.checkpointed_dynamic_rnn, cell, X, chunk)
    return log.kept_nbytes()


def _formula(
    batch: int, n_steps: int, n_inputs: int, n_neurons: int, n_states: int, itemsize: int = 4
) -> int:
    return itemsize * batch * (n_inputs * n_steps + n_neurons * n_states)


_BYTES_MISTAKES = [
    Mistake(
        "块数向下取整了",
        lambda batch, n_steps, n_inputs, n_neurons, chunk: _formula(
            batch, n_steps, n_inputs, n_neurons, n_steps // chunk
        ),
        "最后一块可以不满 chunk 步，但它也要在起点存一个状态：块数是 ceil(n_steps / chunk)。",
    ),
    Mistake(
        "多算了一个状态（最终状态不算在保存的张量里）",
        lambda batch, n_steps, n_inputs, n_neurons, chunk: _formula(
            batch, n_steps, n_inputs, n_neurons, math.ceil(n_steps / chunk) + 1
        ),
        "保存的是每一块起点的状态（第一块的起点是初始状态），一共 ceil(n_steps / chunk) 个。",
    ),
    Mistake(
        "漏掉了输入 X",
        lambda batch, n_steps, n_inputs, n_neurons, chunk: _formula(
            batch, n_steps, 0, n_neurons, math.ceil(n_steps / chunk)
        ),
        "每一块的输入切片也要保存（重算时要用）；切片是 X 的视图，合起来就是整个 X："
        "4 · batch · n_steps · n_inputs 字节。",
    ),
    Mistake(
        "算成了不做检查点时的字节数",
        lambda batch, n_steps, n_inputs, n_neurons, chunk: _formula(
            batch, n_steps, n_inputs, n_neurons, n_steps + 1
        ),
        "检查点只在每块起点保留状态，块内每一步的隐状态都被丢弃、反向传播时再重算。",
    ),
    Mistake(
        "按 float64（8 字节）算了",
        lambda batch, n_steps, n_inputs, n_neurons, chunk: _formula(
            batch, n_steps, n_inputs, n_neurons, math.ceil(n_steps / chunk), itemsize=8
        ),
        "单元默认是 float32，每个数 4 字节。",
    ),
]


def check_checkpoint_bytes(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(batch, n_steps, n_inputs, n_neurons, chunk) -> bytes`` against a measurement.

    Parameters
    ----------
    fn : callable
        Takes five positive ints and returns the number of bytes (an int) that
        ``checkpointed_dynamic_rnn(cell, X, chunk)`` keeps for the backward pass
        with a float32 cell and ``X`` [batch, n_steps, n_inputs] -- distinct
        storages, parameters left out, as ``SavedTensorLog.kept_nbytes()``.

    Returns
    -------
    CheckResult
        Passed, or a Chinese message with the case, the expected and the
        predicted byte counts, and the name of the mistake when it is a
        typical one (floor instead of ceil, the inputs forgotten, ...).
    """
    return check_formula(
        "预测检查点版本为反向传播保留的字节数",
        fn,
        names=("batch", "n_steps", "n_inputs", "n_neurons", "chunk"),
        cases=_BYTES_CASES,
        measure=measured_checkpoint_bytes,
        mistakes=_BYTES_MISTAKES,
        unit="字节",
        quantity="字节数",
    )
