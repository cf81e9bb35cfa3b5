"""Checkers for the exercises of chapter 1 (循环神经元与循环层).

The cases are float64 and small enough to keep tanh unsaturated. The first case
is square (n_inputs == n_neurons) so that mixing up ``Wx``, ``Wy`` and their
transposes still runs and can be named; ``batch != n_neurons`` so that a
transposed result has a visibly wrong shape.
"""

from __future__ import annotations

import numpy as np

from companion.exercises.feedback import Exercise, Mistake
from companion.numpy_rnn import BasicRNNCell, dynamic_rnn

__all__ = ["check_no_recurrence", "check_rnn_step", "check_stack_weights", "check_stacked_step"]

_STEP_AXES = ("实例", "神经元")


def _step_case(rng: np.random.Generator, batch: int, n_inputs: int, n_neurons: int, first: bool):
    """Weights, inputs and previous outputs; ``first``: the first step (h = 0)."""
    h = np.zeros((batch, n_neurons)) if first else rng.uniform(-0.9, 0.9, (batch, n_neurons))
    return {
        "Wx": rng.uniform(-0.7, 0.7, (n_inputs, n_neurons)),
        "Wy": rng.uniform(-0.7, 0.7, (n_neurons, n_neurons)),
        "b": rng.normal(0.0, 0.5, n_neurons),
        "x": rng.normal(0.0, 1.0, (batch, n_inputs)),
        "h": h,
    }


def _step_cases() -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(141)
    sizes = [(3, 4, 4, False), (4, 3, 5, False), (1, 2, 3, False), (2, 3, 2, True)]
    return [_step_case(rng, *size) for size in sizes]


def _step(Wx, Wy, b, x, h):
    return BasicRNNCell.from_weights(Wx, Wy, b, dtype=np.float64)(x, h)


RNN_STEP = Exercise(
    "一步循环层 rnn_step(Wx, Wy, b, x, h)",
    doc="""One step of a tanh recurrent layer, equation (1.2)::

        h_t = tanh(x @ Wx + h @ Wy + b)

    Inputs: ``Wx`` [n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons], ``b``
    [n_neurons], ``x`` [batch, n_inputs], ``h`` [batch, n_neurons].
    Outputs: ``h_t`` [batch, n_neurons].
    """,
    reference=_step,
    cases=_step_cases,
    outputs={"h_t": _STEP_AXES},
    mistakes=Mistake.table(
        "权重矩阵被转置了。本课程的约定是行向量：x 的形状是 [batch, n_inputs]，"
        "Wx 是 [n_inputs, n_neurons]，所以直接写 x @ Wx、h @ Wy，不需要 .T。",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx.T + h @ Wy.T + b),
        "循环权重 Wy 被转置了。"
        "Wy[i, j] 是“上一步第 i 个神经元的输出”连到“第 j 个神经元”的权重，"
        "小批量形式里写 h @ Wy，不需要 .T。",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + h @ Wy.T + b),
        "Wx 与 Wy 用反了。当前输入 x 乘 Wx，上一步的输出 h 乘 Wy。",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wy + h @ Wx + b),
        "循环项也用了 Wx。上一步的输出 h 要乘循环权重 Wy，而不是输入权重 Wx。",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + h @ Wx + b),
        "漏掉了循环项 h @ Wy。这样算出来的是普通的全连接层："
        "循环层还要把上一步的输出 h 乘 Wy 加进来。",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + b),
        "漏掉了偏置 b。在激活函数之前加上 b（形状 [n_neurons]，会沿实例广播）。",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + h @ Wy),
        "偏置加在了 tanh 之后。b 属于激活函数的输入：tanh(x @ Wx + h @ Wy + b)。",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + h @ Wy) + b,
        "忘了激活函数 tanh。最后要对整个线性组合取 np.tanh。",
        lambda Wx, Wy, b, x, h: x @ Wx + h @ Wy + b,
        "用了 ReLU 而不是 tanh。本练习的激活函数 φ 是 tanh（np.tanh）。",
        lambda Wx, Wy, b, x, h: np.maximum(x @ Wx + h @ Wy + b, 0.0),
        "结果被转置了（按列向量算的）。式 (1.1) 里的 x 是列向量；"
        "一次处理整个小批量时每个实例占一行，结果的形状应是 [batch, n_neurons]。",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + h @ Wy + b).T,
    ),
)
check_rnn_step = RNN_STEP.checker("check_rnn_step")


def _stack_cases() -> list[dict[str, np.ndarray]]:
    """Square first (so concatenating along the wrong axis still runs), then not."""
    rng = np.random.default_rng(142)
    cases = [_step_case(rng, 1, n_in, n, False) for n_in, n in ((4, 4), (3, 5), (6, 2))]
    return [{"Wx": case["Wx"], "Wy": case["Wy"]} for case in cases]


STACK_WEIGHTS = Exercise(
    "堆叠权重 stack_weights(Wx, Wy)",
    doc="""The stacked weight matrix ``W = [Wx; Wy]`` (``Wx`` above ``Wy``).

    Inputs: ``Wx`` [n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons].
    Outputs: ``W`` [n_inputs + n_neurons, n_neurons].
    """,
    reference=lambda Wx, Wy: np.concatenate([Wx, Wy], axis=0),
    cases=_stack_cases,
    outputs={"W": ("行", "列")},
    mistakes=Mistake.table(
        "Wx 与 Wy 上下顺序颠倒了。W 的前 n_inputs 行是 Wx，后 n_neurons 行是 Wy，"
        "与 [x, h] 的拼接顺序一致。",
        lambda Wx, Wy: np.concatenate([Wy, Wx], axis=0),
        "沿列（axis=1）拼接了。要上下堆叠（axis=0，np.vstack）："
        "结果的形状是 [n_inputs + n_neurons, n_neurons]。",
        lambda Wx, Wy: np.concatenate([Wx, Wy], axis=1),
        "堆叠之后又转置了。W 的形状应是 [n_inputs + n_neurons, n_neurons]，不需要 .T。",
        lambda Wx, Wy: np.concatenate([Wx, Wy], axis=0).T,
        "把转置后的 Wx.T、Wy.T 堆叠了。直接堆叠 Wx 和 Wy 本身，不要转置。",
        lambda Wx, Wy: np.concatenate([Wx.T, Wy.T], axis=0),
    ),
)
check_stack_weights = STACK_WEIGHTS.checker("check_stack_weights")


def _stacked_step_cases() -> list[dict[str, np.ndarray]]:
    return [
        {"W": np.concatenate([c["Wx"], c["Wy"]], axis=0), "b": c["b"], "x": c["x"], "h": c["h"]}
        for c in _step_cases()
    ]


STACKED_STEP = Exercise(
    "用堆叠权重计算一步 stacked_step(W, b, x, h)",
    doc="""One step computed with the stacked ``W = [Wx; Wy]``::

        h_t = tanh(concatenate([x, h], axis=1) @ W + b)

    Inputs: ``W`` [n_inputs + n_neurons, n_neurons], ``b`` [n_neurons], ``x``
    [batch, n_inputs], ``h`` [batch, n_neurons].
    Outputs: ``h_t`` [batch, n_neurons].
    """,
    reference=lambda W, b, x, h: _step(W[: x.shape[1]], W[x.shape[1] :], b, x, h),
    cases=_stacked_step_cases,
    outputs={"h_t": _STEP_AXES},
    mistakes=Mistake.table(
        "拼接顺序与 W 的堆叠顺序不一致（写成了 [h, x]）。W 的前 n_inputs 行属于输入，"
        "所以要拼成 [x, h]（x 在左）。",
        lambda W, b, x, h: np.tanh(np.concatenate([h, x], axis=1) @ W + b),
        "漏掉了偏置 b。堆叠只合并了两个权重矩阵，偏置 b 仍要加上。",
        lambda W, b, x, h: np.tanh(np.concatenate([x, h], axis=1) @ W),
        "忘了激活函数 tanh。最后要对整个线性组合取 np.tanh。",
        lambda W, b, x, h: np.concatenate([x, h], axis=1) @ W + b,
        "漏掉了循环项（只用了 x 和 W 的前几行）。[x, h] @ W 同时包含 x @ Wx 和 h @ Wy 两部分。",
        lambda W, b, x, h: np.tanh(x @ W[: x.shape[1]] + b),
    ),
)
check_stacked_step = STACKED_STEP.checker("check_stacked_step")


def _no_recurrence_cases() -> list[dict[str, np.ndarray]]:
    """Case 1 is square (a transposed ``Wx`` still runs) with ``batch != n_steps`` (a
    time-major result has a visibly wrong shape); case 3 has a single time step."""
    rng = np.random.default_rng(143)
    cases = []
    for batch, n_steps, n_inputs, n_neurons in ((3, 5, 4, 4), (2, 6, 3, 5), (4, 1, 2, 3)):
        case = _step_case(rng, batch, n_inputs, n_neurons, True)
        X = rng.normal(0.0, 1.0, (batch, n_steps, n_inputs))
        cases.append({"Wx": case["Wx"], "b": case["b"], "X": X})
    return cases


def _run_with_Wy(Wx, Wy, b, X):
    """Outputs of a float64 cell with the given weights, run over ``X`` from zeros."""
    return dynamic_rnn(BasicRNNCell.from_weights(Wx, Wy, b, dtype=np.float64), X)[0]


def _no_recurrence(Wx, b, X):
    return _run_with_Wy(Wx, np.zeros((Wx.shape[1], Wx.shape[1])), b, X)


NO_RECURRENCE = Exercise(
    "去掉循环连接（Wy = 0）no_recurrence(Wx, b, X)",
    doc="""The outputs of a recurrent layer with ``Wy = 0``, run from the zero state::

        outputs = tanh(X @ Wx + b)      (one dense layer applied to every time step)

    Inputs: ``Wx`` [n_inputs, n_neurons], ``b`` [n_neurons], ``X`` [batch, n_steps, n_inputs].
    Outputs: ``outputs`` [batch, n_steps, n_neurons].
    """,
    reference=_no_recurrence,
    cases=_no_recurrence_cases,
    outputs={"outputs": ("实例", "时间步", "神经元")},
    mistakes=Mistake.table(
        "结果是时间优先的 [n_steps, batch, n_neurons]。"
        "X 是批量优先的 [batch, n_steps, n_inputs]，"
        "输出也应是 [batch, n_steps, n_neurons]：X @ Wx 直接作用在最后一轴上，"
        "不需要先把时间轴挪到前面；若逐步计算再叠起来，要用 np.stack(..., axis=1)。",
        lambda Wx, b, X: np.swapaxes(_no_recurrence(Wx, b, X), 0, 1),
        "只返回了最后一个时间步的输出。要返回所有时间步的输出，形状 [batch, n_steps, n_neurons]。",
        lambda Wx, b, X: _no_recurrence(Wx, b, X)[:, -1],
        "权重矩阵 Wx 被转置了。Wx 的形状是 [n_inputs, n_neurons]，直接写 X @ Wx，不需要 .T。",
        lambda Wx, b, X: np.tanh(X @ Wx.T + b),
        "漏掉了偏置 b。Wy = 0 只去掉了循环项，偏置 b 仍在：tanh(X @ Wx + b)。",
        lambda Wx, b, X: np.tanh(X @ Wx),
        "偏置加在了 tanh 之后。b 属于激活函数的输入：tanh(X @ Wx + b)。",
        lambda Wx, b, X: np.tanh(X @ Wx) + b,
        "忘了激活函数 tanh。去掉循环项并不会去掉激活函数：每一步仍是 tanh(x_t @ Wx + b)。",
        lambda Wx, b, X: X @ Wx + b,
        "把 Wy 取成了单位矩阵，而不是零矩阵。Wy = I 时上一步的输出原样加进来，循环还在；"
        "Wy = 0 才让循环项整个消失，每一步的输出只取决于这一步的输入。",
        lambda Wx, b, X: _run_with_Wy(Wx, np.eye(Wx.shape[1]), b, X),
    ),
)
check_no_recurrence = NO_RECURRENCE.checker("check_no_recurrence")
