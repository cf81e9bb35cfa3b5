"""Checkers for the exercises of chapter 3 (输入与输出序列).

* :func:`check_seq_to_vector` -- a sequence-to-vector network keeps only the
  output of the last time step: ``fn(cell, X) -> vector`` with ``X``
  [batch, n_steps, n_inputs] and ``vector`` [batch, n_neurons].
* :func:`check_vector_to_sequence_inputs` -- the input of a vector-to-sequence
  network: the vector at time step 0, zeros after it: ``fn(v, n_steps) -> X``
  with ``v`` [batch, n_inputs] and ``X`` [batch, n_steps, n_inputs].

Both call the reader's function on several cases, compare with the reference
built on :mod:`companion.numpy_rnn` and name the typical mistakes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion import numpy_rnn as nrnn
from companion.exercises.feedback import CheckResult, Mistake, run_checks

__all__ = ["check_seq_to_vector", "check_vector_to_sequence_inputs"]


# --------------------------------------------------------------------------
# Sequence to vector
# --------------------------------------------------------------------------


def _seq_to_vector_cases() -> list[dict[str, Any]]:
    """Cells and inputs to try; float64 so that only real mistakes differ.

    The second case has ``batch == n_steps``: ``outputs[-1]`` then has the right
    shape and only its values give the mistake away.
    """
    rng = np.random.default_rng(303)
    cases = []
    for batch, n_steps, n_inputs, n_neurons in ((4, 6, 3, 5), (3, 3, 2, 3), (2, 5, 4, 2)):
        cell = nrnn.BasicRNNCell.from_weights(
            rng.uniform(-0.9, 0.9, (n_inputs, n_neurons)),
            rng.uniform(-0.9, 0.9, (n_neurons, n_neurons)),
            rng.uniform(-0.3, 0.3, n_neurons),
            dtype=np.float64,
        )
        cases.append({"cell": cell, "X": rng.normal(size=(batch, n_steps, n_inputs))})
    return cases


def _outputs(cell: nrnn.BasicRNNCell, X: np.ndarray) -> np.ndarray:
    return nrnn.dynamic_rnn(cell, X)[0]


_SEQ_TO_VECTOR_MISTAKES = [
    Mistake(
        "取成了第一个时间步的输出 outputs[:, 0]",
        lambda cell, X: _outputs(cell, X)[:, 0],
        "序列到向量网络要的是读完整个序列之后的输出，即最后一个时间步 outputs[:, -1]。",
    ),
    Mistake(
        "outputs[-1] 取的是最后一个实例，而不是最后一个时间步",
        lambda cell, X: _outputs(cell, X)[-1],
        "dynamic_rnn 默认批量在前，outputs 的形状是 [batch, n_steps, n_neurons]，"
        "第 0 轴是实例；最后一个时间步是 outputs[:, -1]。",
    ),
    Mistake(
        "取成了倒数第二个时间步的输出 outputs[:, -2]",
        lambda cell, X: _outputs(cell, X)[:, -2],
        "最后一个时间步的下标是 -1（或 n_steps - 1）。",
    ),
    Mistake(
        "对所有时间步的输出取了平均",
        lambda cell, X: _outputs(cell, X).mean(axis=1),
        "平均池化是另一种汇总方式，但本练习（以及本章的序列到向量网络）只保留最后一个输出。",
    ),
    Mistake(
        "对所有时间步的输出求了和",
        lambda cell, X: _outputs(cell, X).sum(axis=1),
        "只保留最后一个时间步的输出 outputs[:, -1]，不要把各步相加。",
    ),
    Mistake(
        "返回了全部时间步的输出",
        lambda cell, X: _outputs(cell, X),
        "序列到向量网络只保留最后一个时间步：返回 outputs[:, -1]（或 dynamic_rnn 返回的 state）。",
    ),
    Mistake(
        "把批量在前的 X 当成了时间主序（time_major=True）",
        lambda cell, X: nrnn.dynamic_rnn(cell, X, time_major=True)[1],
        "X 的形状是 [batch, n_steps, n_inputs]，调用 dynamic_rnn 时保持默认 time_major=False。",
    ),
]


def check_seq_to_vector(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(cell, X) -> vector``, the output of a sequence-to-vector network.

    Parameters
    ----------
    fn : callable
        Takes ``cell`` (a :class:`companion.numpy_rnn.BasicRNNCell`) and ``X``
        [batch, n_steps, n_inputs]; returns the vector of every instance,
        [batch, n_neurons]: the output at the last time step.

    Returns
    -------
    CheckResult
        Passed, or a Chinese message naming the mistake (first step taken,
        ``outputs[-1]`` on a batch-major array, mean over time, ...).
    """
    return run_checks(
        "序列到向量：只保留最后一个时间步的输出",
        fn,
        reference=lambda cell, X: nrnn.dynamic_rnn(cell, X)[0][:, -1],
        cases=_seq_to_vector_cases(),
        mistakes=_SEQ_TO_VECTOR_MISTAKES,
        output_names=("向量",),
        axes=(("实例", "神经元"),),
    )


# --------------------------------------------------------------------------
# Vector to sequence: the input tensor
# --------------------------------------------------------------------------


def _vector_to_sequence_cases() -> list[dict[str, Any]]:
    """Vectors ``v`` [batch, n_inputs] and sequence lengths to try.

    The second case has ``batch == n_steps``, so a time-major answer has the
    right shape and only its values give the mistake away.
    """
    rng = np.random.default_rng(304)
    return [
        {"v": rng.normal(size=(2, 3)), "n_steps": 4},
        {"v": rng.normal(size=(3, 2)), "n_steps": 3},
        {"v": rng.normal(size=(1, 4)), "n_steps": 1},
        {"v": rng.normal(size=(5, 3)), "n_steps": 6},
    ]


def _first_step(v: np.ndarray, n_steps: int) -> np.ndarray:
    X = np.zeros((v.shape[0], n_steps, v.shape[1]))
    X[:, 0] = v
    return X


def _last_step(v: np.ndarray, n_steps: int) -> np.ndarray:
    X = np.zeros((v.shape[0], n_steps, v.shape[1]))
    X[:, -1] = v
    return X


def _time_major(v: np.ndarray, n_steps: int) -> np.ndarray:
    X = np.zeros((n_steps, v.shape[0], v.shape[1]))
    X[0] = v
    return X


def _features_before_time(v: np.ndarray, n_steps: int) -> np.ndarray:
    X = np.zeros((v.shape[0], v.shape[1], n_steps))
    X[:, :, 0] = v
    return X


_VECTOR_TO_SEQUENCE_MISTAKES = [
    Mistake(
        "向量在每个时间步都重复输入了",
        lambda v, n_steps: np.repeat(v[:, None, :], n_steps, axis=1),
        "每一步都输入同一个向量是另一种可行的做法，但本练习要求只在第 0 步输入它，之后输入零向量。",
    ),
    Mistake(
        "向量放在了最后一个时间步",
        _last_step,
        "向量应放在第 0 个时间步 X[:, 0]，网络从一开始就看到它，后面的步骤输入零向量。",
    ),
    Mistake(
        "轴的顺序不对：时间步放在了第 0 轴（时间主序）",
        _time_major,
        "要求的形状是批量在前的 [batch, n_steps, n_inputs]，第 0 轴是实例。",
    ),
    Mistake(
        "轴的顺序不对：得到的是 [batch, n_inputs, n_steps]",
        _features_before_time,
        "特征应在最后一个轴：[batch, n_steps, n_inputs]，向量放在 X[:, 0, :]。",
    ),
    Mistake(
        "多了一个时间步：向量之后又接了 n_steps 个零向量",
        lambda v, n_steps: _first_step(v, n_steps + 1),
        "序列一共 n_steps 步，向量本身占第 0 步，后面只有 n_steps - 1 个零向量。",
    ),
]


def check_vector_to_sequence_inputs(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(v, n_steps) -> X``, the input of a vector-to-sequence network.

    Parameters
    ----------
    fn : callable
        Takes ``v`` [batch, n_inputs] and ``n_steps`` (int >= 1); returns ``X``
        [batch, n_steps, n_inputs] with ``X[:, 0] = v`` and zeros at every
        later time step.

    Returns
    -------
    CheckResult
        Passed, or a Chinese message naming the mistake (vector repeated at
        every step, placed at the last step, time-major axes, ...).
    """
    return run_checks(
        "向量到序列：第 0 步输入向量，之后输入零向量",
        fn,
        reference=_first_step,
        cases=_vector_to_sequence_cases(),
        mistakes=_VECTOR_TO_SEQUENCE_MISTAKES,
        output_names=("X",),
        axes=(("实例", "时间步", "特征"),),
    )
