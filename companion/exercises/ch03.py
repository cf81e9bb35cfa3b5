"""Checkers for the exercises of chapter 3 (输入与输出序列).

Sequence to vector on a padded batch, and the input of a vector-to-sequence
network; both compare with a reference built on :mod:`companion.numpy_rnn`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion import numpy_rnn as nrnn
from companion.exercises.cases import random_cell
from companion.exercises.feedback import Exercise, Mistake

__all__ = ["check_last_valid_outputs", "check_vector_to_sequence_inputs"]


def _last_valid_cases() -> list[dict[str, Any]]:
    """The padding is random, not zeros, so that reading past the end of a sequence
    always changes the answer. The first two cases have no sequence of full
    length (so an answer one step too late can be computed and named); the
    second has ``batch == n_steps`` (``outputs[:, lengths - 1]`` then has a
    plausible size); the last has a sequence of length 1 and one of full length."""
    rng = np.random.default_rng(305)
    cases = []
    for batch, n_steps, n_inputs, n_neurons, lengths in [
        (4, 6, 3, 5, [3, 5, 1, 4]),
        (3, 3, 2, 3, [2, 1, 2]),
        (3, 5, 4, 2, [5, 1, 3]),
    ]:
        cell = random_cell(rng, n_inputs, n_neurons, scale=0.9, bias=0.3)
        X = rng.normal(size=(batch, n_steps, n_inputs))
        cases.append({"cell": cell, "X": X, "lengths": np.array(lengths)})
    return cases


def _outputs(cell: nrnn.BasicRNNCell, X: np.ndarray) -> np.ndarray:
    return nrnn.dynamic_rnn(cell, X)[0]


LAST_VALID_OUTPUTS = Exercise(
    "序列到向量：长短不一的序列各取最后一个真实时间步",
    doc="""Sequence to vector on padded sequences: the output of every instance at
    its last real step (the padding never reaches it: ``y(t)`` depends on ``x(0) ... x(t)``)::

        vector[i] = dynamic_rnn(cell, X)[0][i, lengths[i] - 1]

    Inputs: ``cell`` (a float64 ``BasicRNNCell``), ``X`` [batch, n_steps, n_inputs]
    (sequence ``i`` is real for its first ``lengths[i]`` steps, padded after them),
    ``lengths`` int [batch] (1 <= lengths[i] <= n_steps).
    Outputs: ``vector`` [batch, n_neurons].
    """,
    reference=lambda cell, X, lengths: _outputs(cell, X)[np.arange(X.shape[0]), lengths - 1],
    cases=_last_valid_cases,
    outputs={"向量": ("实例", "神经元")},
    mistakes=Mistake.table(
        "取成了补齐后的最后一个时间步 outputs[:, -1]（或 dynamic_rnn 返回的 state）。"
        "较短的序列在补齐的部分也被运行了，最后一步的输出已经读过填充值。"
        "第 i 个实例要取它自己的最后一步：outputs[i, lengths[i] - 1]。",
        lambda cell, X, lengths: _outputs(cell, X)[:, -1],
        "差了一步：取的是 outputs[i, lengths[i]]。长度为 L 的序列占第 0 … L-1 步，"
        "最后一个真实时间步的下标是 lengths[i] - 1。",
        lambda cell, X, lengths: _outputs(cell, X)[np.arange(X.shape[0]), lengths],
        "outputs[:, lengths - 1] 的形状是 [batch, batch, n_neurons]。"
        "这样写会给每个实例取出所有实例的那些时间步。实例的下标也要给出，"
        "并与时间步一一配对：outputs[np.arange(batch), lengths - 1]。",
        lambda cell, X, lengths: _outputs(cell, X)[:, lengths - 1],
    ),
)
check_last_valid_outputs = LAST_VALID_OUTPUTS.checker("check_last_valid_outputs")


def _vector_to_sequence_cases() -> list[dict[str, Any]]:
    """The second case has ``batch == n_steps``, so a time-major answer has the right
    shape and only its values give the mistake away."""
    rng = np.random.default_rng(304)
    sizes = [((2, 3), 4), ((3, 2), 3), ((1, 4), 1), ((5, 3), 6)]
    return [{"v": rng.normal(size=shape), "n_steps": n_steps} for shape, n_steps in sizes]


def _placed(v: np.ndarray, n_steps: int, at: int = 0, axes: str = "btf") -> np.ndarray:
    """Zeros with ``v`` at time step ``at``; ``axes`` orders batch, time and features."""
    sizes = {"b": v.shape[0], "t": n_steps, "f": v.shape[1]}
    X = np.zeros(tuple(sizes[a] for a in axes))
    X[tuple(at if a == "t" else slice(None) for a in axes)] = v
    return X


VECTOR_TO_SEQUENCE = Exercise(
    "向量到序列：第 0 步输入向量，之后输入零向量",
    doc="""The input of a vector-to-sequence network: the vector at step 0, zeros after it::

        X[:, 0] = v;   X[:, t] = 0  for t >= 1

    Inputs: ``v`` [batch, n_inputs], ``n_steps`` (an int >= 1).
    Outputs: ``X`` [batch, n_steps, n_inputs].
    """,
    reference=_placed,
    cases=_vector_to_sequence_cases,
    outputs={"X": ("实例", "时间步", "特征")},
    mistakes=Mistake.table(
        "向量在每个时间步都重复输入了。每一步都输入同一个向量是另一种可行的做法，"
        "但本练习要求只在第 0 步输入它，之后输入零向量。",
        lambda v, n_steps: np.repeat(v[:, None, :], n_steps, axis=1),
        "向量放在了最后一个时间步。向量应放在第 0 个时间步 X[:, 0]，"
        "网络从一开始就看到它，后面的步骤输入零向量。",
        lambda v, n_steps: _placed(v, n_steps, at=-1),
        "轴的顺序不对：时间步放在了第 0 轴（时间优先）。"
        "要求的形状是批量优先的 [batch, n_steps, n_inputs]，第 0 轴是实例。",
        lambda v, n_steps: _placed(v, n_steps, axes="tbf"),
        "轴的顺序不对：得到的是 [batch, n_inputs, n_steps]。特征应在最后一个轴："
        "[batch, n_steps, n_inputs]，向量放在 X[:, 0, :]。",
        lambda v, n_steps: _placed(v, n_steps, axes="bft"),
        "多了一个时间步：向量之后又接了 n_steps 个零向量。序列一共 n_steps 步，"
        "向量本身占第 0 步，后面只有 n_steps - 1 个零向量。",
        lambda v, n_steps: _placed(v, n_steps + 1),
    ),
)
check_vector_to_sequence_inputs = VECTOR_TO_SEQUENCE.checker("check_vector_to_sequence_inputs")
