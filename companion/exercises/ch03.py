"""Checkers for the exercises of chapter 3 (输入与输出序列).

* :func:`check_last_valid_outputs` -- a sequence-to-vector network on a batch
  of sequences of different lengths, padded at the end to a common
  ``n_steps``: ``fn(cell, X, lengths) -> vector`` with ``X`` [batch, n_steps,
  n_inputs], ``lengths`` [batch] (integers in 1 .. n_steps) and ``vector``
  [batch, n_neurons], the output of instance ``i`` at its last real step::

      outputs = dynamic_rnn(cell, X)[0]
      vector = outputs[np.arange(batch), lengths - 1]

  The padding never reaches those outputs: ``y(t)`` depends only on
  ``x(0) ... x(t)`` (the last section of the chapter).
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
from companion.exercises.feedback import CheckResult, Mistake, on_copies, run_checks

__all__ = ["check_last_valid_outputs", "check_vector_to_sequence_inputs"]


# --------------------------------------------------------------------------
# Sequence to vector on padded sequences of different lengths
# --------------------------------------------------------------------------


def _last_valid_cases() -> list[dict[str, Any]]:
    """Cells, padded inputs and lengths to try; float64 so that only real mistakes differ.

    The padding is random, not zeros, so that reading past the end of a sequence
    always changes the answer. The first two cases have no sequence of full
    length (so an answer one step too late can be computed and named); the
    second has ``batch == n_steps`` (``outputs[:, lengths - 1]`` then has a
    plausible size, and only its shape or values give it away); the last one
    has a sequence of length 1 and one of full length.
    """
    rng = np.random.default_rng(305)
    sizes = [
        (4, 6, 3, 5, [3, 5, 1, 4]),
        (3, 3, 2, 3, [2, 1, 2]),
        (3, 5, 4, 2, [5, 1, 3]),
    ]
    cases = []
    for batch, n_steps, n_inputs, n_neurons, lengths in sizes:
        cell = nrnn.BasicRNNCell.from_weights(
            rng.uniform(-0.9, 0.9, (n_inputs, n_neurons)),
            rng.uniform(-0.9, 0.9, (n_neurons, n_neurons)),
            rng.uniform(-0.3, 0.3, n_neurons),
            dtype=np.float64,
        )
        X = rng.normal(size=(batch, n_steps, n_inputs))
        cases.append({"cell": cell, "X": X, "lengths": np.array(lengths)})
    return cases


def _outputs(cell: nrnn.BasicRNNCell, X: np.ndarray) -> np.ndarray:
    return nrnn.dynamic_rnn(cell, X)[0]


def _last_valid(cell: nrnn.BasicRNNCell, X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    return _outputs(cell, X)[np.arange(X.shape[0]), np.asarray(lengths) - 1]


_LAST_VALID_MISTAKES = [
    Mistake(
        "取成了补齐后的最后一个时间步 outputs[:, -1]（或 dynamic_rnn 返回的 state）",
        lambda cell, X, lengths: _outputs(cell, X)[:, -1],
        "较短的序列在补齐的部分也被运行了，最后一步的输出已经读过填充值。"
        "第 i 个实例要取它自己的最后一步：outputs[i, lengths[i] - 1]。",
    ),
    Mistake(
        "差了一步：取的是 outputs[i, lengths[i]]",
        lambda cell, X, lengths: _outputs(cell, X)[np.arange(X.shape[0]), lengths],
        "长度为 L 的序列占第 0 … L-1 步，最后一个真实时间步的下标是 lengths[i] - 1。",
    ),
    Mistake(
        "outputs[:, lengths - 1] 的形状是 [batch, batch, n_neurons]",
        lambda cell, X, lengths: _outputs(cell, X)[:, np.asarray(lengths) - 1],
        "这样写会给每个实例取出所有实例的那些时间步。"
        "实例的下标也要给出，并与时间步一一配对：outputs[np.arange(batch), lengths - 1]。",
    ),
]


def check_last_valid_outputs(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(cell, X, lengths) -> vector``: sequence to vector on padded sequences.

    Parameters
    ----------
    fn : callable
        Takes ``cell`` (a float64 :class:`companion.numpy_rnn.BasicRNNCell`),
        ``X`` [batch, n_steps, n_inputs] (sequence ``i`` is real for its first
        ``lengths[i]`` steps and padded after them) and ``lengths`` [batch]
        (integers, 1 <= lengths[i] <= n_steps); returns [batch, n_neurons], the
        output of every instance at its last real step ``lengths[i] - 1``.

    Returns
    -------
    CheckResult
        Passed, or a Chinese message naming the mistake (the padded last step
        ``outputs[:, -1]``, one step too late, ``outputs[:, lengths - 1]``).
    """
    return run_checks(
        "序列到向量：长短不一的序列各取最后一个真实时间步",
        on_copies(fn),
        reference=_last_valid,
        cases=_last_valid_cases(),
        mistakes=_LAST_VALID_MISTAKES,
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
        "轴的顺序不对：时间步放在了第 0 轴（时间优先）",
        _time_major,
        "要求的形状是批量优先的 [batch, n_steps, n_inputs]，第 0 轴是实例。",
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
