"""Checkers for the exercises of chapter 1 (循环神经元与循环层).

* :func:`check_rnn_step` -- one step of a recurrent layer, equation (1.2)::

      h_t = tanh(x @ Wx + h @ Wy + b)

* :func:`check_stack_weights` -- the stacked matrix ``W = [Wx; Wy]``
  of shape ``[n_inputs + n_neurons, n_neurons]``;
* :func:`check_stacked_step` -- the same step computed with the stacked matrix::

      h_t = tanh(concatenate([x, h], axis=1) @ W + b)

* :func:`check_no_recurrence` -- the whole output sequence of a layer with
  ``Wy = 0``, computed without a loop over time: a dense layer applied to
  every time step, ``tanh(X @ Wx + b)`` for ``X`` [batch, n_steps, n_inputs]
  (compared with ``dynamic_rnn`` of such a cell).

Each checker runs the reader's function on a few fixed cases (float64, inputs
``x`` [batch, n_inputs], previous outputs ``h`` [batch, n_neurons]), compares
with :class:`companion.numpy_rnn.BasicRNNCell`, and names the typical mistake
when the answer equals one (transposed weights, a missing bias, no tanh, ...).
The reader's function gets fresh copies of the case arrays, so a function that
overwrites its arguments in place cannot spoil the comparisons that follow.

Example::

    from companion.exercises.ch01 import check_rnn_step

    def rnn_step(Wx, Wy, b, x, h):
        return np.tanh(x @ Wx + h @ Wy + b)

    print(check_rnn_step(rnn_step))   # ✔ 通过：……
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion.exercises.feedback import CheckResult, Mistake, run_checks
from companion.numpy_rnn import BasicRNNCell, dynamic_rnn

__all__ = ["check_no_recurrence", "check_rnn_step", "check_stack_weights", "check_stacked_step"]

_SEED = 141
_STEP_AXES = ("实例", "神经元")


def _frozen(array: np.ndarray) -> np.ndarray:
    """A read-only float64 copy: the cases stay the same whatever a function does."""
    array = np.array(array, dtype=np.float64)
    array.setflags(write=False)
    return array


def _step_case(
    rng: np.random.Generator, batch: int, n_inputs: int, n_neurons: int, *, first_step: bool
) -> dict[str, np.ndarray]:
    """Weights, one mini-batch of inputs and previous outputs, sized to keep tanh unsaturated."""
    h = np.zeros((batch, n_neurons)) if first_step else rng.uniform(-0.9, 0.9, (batch, n_neurons))
    return {
        "Wx": _frozen(rng.uniform(-0.7, 0.7, (n_inputs, n_neurons))),
        "Wy": _frozen(rng.uniform(-0.7, 0.7, (n_neurons, n_neurons))),
        "b": _frozen(rng.normal(0.0, 0.5, n_neurons)),
        "x": _frozen(rng.normal(0.0, 1.0, (batch, n_inputs))),
        "h": _frozen(h),
    }


def _step_cases() -> list[dict[str, np.ndarray]]:
    """Case 1 is square (n_inputs == n_neurons) so that mixing up Wx, Wy and their
    transposes still runs and can be named; batch differs from n_neurons so that a
    transposed result has a visibly wrong shape; the last case is a first step (h = 0)."""
    rng = np.random.default_rng(_SEED)
    return [
        _step_case(rng, 3, 4, 4, first_step=False),
        _step_case(rng, 4, 3, 5, first_step=False),
        _step_case(rng, 1, 2, 3, first_step=False),
        _step_case(rng, 2, 3, 2, first_step=True),
    ]


def _reference_step(Wx, Wy, b, x, h):
    return BasicRNNCell.from_weights(Wx, Wy, b, dtype=np.float64)(x, h)


_STEP_MISTAKES = [
    Mistake(
        "权重矩阵被转置了",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx.T + h @ Wy.T + b),
        "本课程的约定是行向量：x 的形状是 [batch, n_inputs]，Wx 是 [n_inputs, n_neurons]，"
        "所以直接写 x @ Wx、h @ Wy，不需要 .T。",
    ),
    Mistake(
        "循环权重 Wy 被转置了",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + h @ Wy.T + b),
        "Wy[i, j] 是“上一步第 i 个神经元的输出”连到“第 j 个神经元”的权重，"
        "小批量形式里写 h @ Wy，不需要 .T。",
    ),
    Mistake(
        "Wx 与 Wy 用反了",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wy + h @ Wx + b),
        "当前输入 x 乘 Wx，上一步的输出 h 乘 Wy。",
    ),
    Mistake(
        "循环项也用了 Wx",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + h @ Wx + b),
        "上一步的输出 h 要乘循环权重 Wy，而不是输入权重 Wx。",
    ),
    Mistake(
        "漏掉了循环项 h @ Wy",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + b),
        "这样算出来的是普通的全连接层：循环层还要把上一步的输出 h 乘 Wy 加进来。",
    ),
    Mistake(
        "漏掉了偏置 b",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + h @ Wy),
        "在激活函数之前加上 b（形状 [n_neurons]，会沿实例广播）。",
    ),
    Mistake(
        "偏置加在了 tanh 之后",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + h @ Wy) + b,
        "b 属于激活函数的输入：tanh(x @ Wx + h @ Wy + b)。",
    ),
    Mistake(
        "忘了激活函数 tanh",
        lambda Wx, Wy, b, x, h: x @ Wx + h @ Wy + b,
        "最后要对整个线性组合取 np.tanh。",
    ),
    Mistake(
        "用了 ReLU 而不是 tanh",
        lambda Wx, Wy, b, x, h: np.maximum(x @ Wx + h @ Wy + b, 0.0),
        "本练习的激活函数 φ 是 tanh（np.tanh）。",
    ),
    Mistake(
        "结果被转置了（按列向量算的）",
        lambda Wx, Wy, b, x, h: np.tanh(x @ Wx + h @ Wy + b).T,
        "式 (1.1) 里的 x 是列向量；一次处理整个小批量时每个实例占一行，"
        "结果的形状应是 [batch, n_neurons]。",
    ),
]


def check_rnn_step(rnn_step: Callable[..., Any]) -> CheckResult:
    """Check ``rnn_step(Wx, Wy, b, x, h)``: one step of a tanh recurrent layer.

    Parameters
    ----------
    rnn_step : callable
        Called with keyword arguments ``Wx`` [n_inputs, n_neurons], ``Wy``
        [n_neurons, n_neurons], ``b`` [n_neurons], ``x`` [batch, n_inputs] and
        ``h`` [batch, n_neurons] (float64 arrays); must return
        ``tanh(x @ Wx + h @ Wy + b)`` [batch, n_neurons].

    Returns
    -------
    CheckResult
        Passed, or the first problem found, in Chinese.
    """
    return run_checks(
        "一步循环层 rnn_step(Wx, Wy, b, x, h)",
        rnn_step,
        reference=_reference_step,
        cases=_step_cases(),
        mistakes=_STEP_MISTAKES,
        output_names=("h_t",),
        axes=(_STEP_AXES,),
    )


def _stack_cases() -> list[dict[str, np.ndarray]]:
    """Square first (so concatenating along the wrong axis still runs), then not."""
    rng = np.random.default_rng(_SEED + 1)
    cases = []
    for n_inputs, n_neurons in ((4, 4), (3, 5), (6, 2)):
        case = _step_case(rng, 1, n_inputs, n_neurons, first_step=False)
        cases.append({"Wx": case["Wx"], "Wy": case["Wy"]})
    return cases


_STACK_MISTAKES = [
    Mistake(
        "Wx 与 Wy 上下顺序颠倒了",
        lambda Wx, Wy: np.concatenate([Wy, Wx], axis=0),
        "W 的前 n_inputs 行是 Wx，后 n_neurons 行是 Wy，与 [x, h] 的拼接顺序一致。",
    ),
    Mistake(
        "沿列（axis=1）拼接了",
        lambda Wx, Wy: np.concatenate([Wx, Wy], axis=1),
        "要上下堆叠（axis=0，np.vstack）：结果的形状是 [n_inputs + n_neurons, n_neurons]。",
    ),
    Mistake(
        "堆叠之后又转置了",
        lambda Wx, Wy: np.concatenate([Wx, Wy], axis=0).T,
        "W 的形状应是 [n_inputs + n_neurons, n_neurons]，不需要 .T。",
    ),
    Mistake(
        "把转置后的 Wx.T、Wy.T 堆叠了",
        lambda Wx, Wy: np.concatenate([Wx.T, Wy.T], axis=0),
        "直接堆叠 Wx 和 Wy 本身，不要转置。",
    ),
]


def check_stack_weights(stack_weights: Callable[..., Any]) -> CheckResult:
    """Check ``stack_weights(Wx, Wy)``: the matrix ``W = [Wx; Wy]``.

    Parameters
    ----------
    stack_weights : callable
        Called with keyword arguments ``Wx`` [n_inputs, n_neurons] and ``Wy``
        [n_neurons, n_neurons]; must return ``W`` [n_inputs + n_neurons,
        n_neurons] whose first ``n_inputs`` rows are ``Wx`` and the rest ``Wy``.
    """
    return run_checks(
        "堆叠权重 stack_weights(Wx, Wy)",
        stack_weights,
        reference=lambda Wx, Wy: np.concatenate([Wx, Wy], axis=0),
        cases=_stack_cases(),
        mistakes=_STACK_MISTAKES,
        output_names=("W",),
        axes=(("行", "列"),),
    )


def _stacked_step_cases() -> list[dict[str, np.ndarray]]:
    cases = []
    for case in _step_cases():
        W = _frozen(np.concatenate([case["Wx"], case["Wy"]], axis=0))
        cases.append({"W": W, "b": case["b"], "x": case["x"], "h": case["h"]})
    return cases


def _reference_stacked_step(W, b, x, h):
    n_inputs = x.shape[1]
    return _reference_step(W[:n_inputs], W[n_inputs:], b, x, h)


_STACKED_STEP_MISTAKES = [
    Mistake(
        "拼接顺序与 W 的堆叠顺序不一致（写成了 [h, x]）",
        lambda W, b, x, h: np.tanh(np.concatenate([h, x], axis=1) @ W + b),
        "W 的前 n_inputs 行属于输入，所以要拼成 [x, h]（x 在左）。",
    ),
    Mistake(
        "漏掉了偏置 b",
        lambda W, b, x, h: np.tanh(np.concatenate([x, h], axis=1) @ W),
        "堆叠只合并了两个权重矩阵，偏置 b 仍要加上。",
    ),
    Mistake(
        "忘了激活函数 tanh",
        lambda W, b, x, h: np.concatenate([x, h], axis=1) @ W + b,
        "最后要对整个线性组合取 np.tanh。",
    ),
    Mistake(
        "漏掉了循环项（只用了 x 和 W 的前几行）",
        lambda W, b, x, h: np.tanh(x @ W[: x.shape[1]] + b),
        "[x, h] @ W 同时包含 x @ Wx 和 h @ Wy 两部分。",
    ),
]


def check_stacked_step(stacked_step: Callable[..., Any]) -> CheckResult:
    """Check ``stacked_step(W, b, x, h)``: one step with the stacked ``W = [Wx; Wy]``.

    Parameters
    ----------
    stacked_step : callable
        Called with keyword arguments ``W`` [n_inputs + n_neurons, n_neurons],
        ``b`` [n_neurons], ``x`` [batch, n_inputs], ``h`` [batch, n_neurons];
        must return ``tanh([x, h] @ W + b)`` [batch, n_neurons], where ``[x, h]``
        is the concatenation along the feature axis.
    """
    return run_checks(
        "用堆叠权重计算一步 stacked_step(W, b, x, h)",
        stacked_step,
        reference=_reference_stacked_step,
        cases=_stacked_step_cases(),
        mistakes=_STACKED_STEP_MISTAKES,
        output_names=("h_t",),
        axes=(_STEP_AXES,),
    )


def _no_recurrence_cases() -> list[dict[str, np.ndarray]]:
    """Weights and whole sequences ``X`` [batch, n_steps, n_inputs]. Case 1 is square
    (so a transposed ``Wx`` still runs) and has ``batch != n_steps`` (so a time-major
    result has a visibly wrong shape); case 3 has a single time step."""
    rng = np.random.default_rng(_SEED + 2)
    cases = []
    for batch, n_steps, n_inputs, n_neurons in ((3, 5, 4, 4), (2, 6, 3, 5), (4, 1, 2, 3)):
        case = _step_case(rng, batch, n_inputs, n_neurons, first_step=True)
        X = _frozen(rng.normal(0.0, 1.0, (batch, n_steps, n_inputs)))
        cases.append({"Wx": case["Wx"], "b": case["b"], "X": X})
    return cases


def _run_with_Wy(Wx, Wy, b, X):
    """Outputs of a float64 cell with the given weights, run over ``X`` from zeros."""
    return dynamic_rnn(BasicRNNCell.from_weights(Wx, Wy, b, dtype=np.float64), X)[0]


def _reference_no_recurrence(Wx, b, X):
    return _run_with_Wy(Wx, np.zeros((Wx.shape[1], Wx.shape[1])), b, X)


_NO_RECURRENCE_MISTAKES = [
    Mistake(
        "结果是时间优先的 [n_steps, batch, n_neurons]",
        lambda Wx, b, X: np.swapaxes(_reference_no_recurrence(Wx, b, X), 0, 1),
        "X 是批量优先的 [batch, n_steps, n_inputs]，输出也应是 [batch, n_steps, n_neurons]："
        "X @ Wx 直接作用在最后一轴上，不需要先把时间轴挪到前面；"
        "若逐步计算再叠起来，要用 np.stack(..., axis=1)。",
    ),
    Mistake(
        "只返回了最后一个时间步的输出",
        lambda Wx, b, X: _reference_no_recurrence(Wx, b, X)[:, -1],
        "要返回所有时间步的输出，形状 [batch, n_steps, n_neurons]。",
    ),
    Mistake(
        "权重矩阵 Wx 被转置了",
        lambda Wx, b, X: np.tanh(X @ Wx.T + b),
        "Wx 的形状是 [n_inputs, n_neurons]，直接写 X @ Wx，不需要 .T。",
    ),
    Mistake(
        "漏掉了偏置 b",
        lambda Wx, b, X: np.tanh(X @ Wx),
        "Wy = 0 只去掉了循环项，偏置 b 仍在：tanh(X @ Wx + b)。",
    ),
    Mistake(
        "偏置加在了 tanh 之后",
        lambda Wx, b, X: np.tanh(X @ Wx) + b,
        "b 属于激活函数的输入：tanh(X @ Wx + b)。",
    ),
    Mistake(
        "忘了激活函数 tanh",
        lambda Wx, b, X: X @ Wx + b,
        "去掉循环项并不会去掉激活函数：每一步仍是 tanh(x_t @ Wx + b)。",
    ),
    Mistake(
        "把 Wy 取成了单位矩阵，而不是零矩阵",
        lambda Wx, b, X: _run_with_Wy(Wx, np.eye(Wx.shape[1]), b, X),
        "Wy = I 时上一步的输出原样加进来，循环还在；Wy = 0 才让循环项整个消失，"
        "每一步的输出只取决于这一步的输入。",
    ),
]


def check_no_recurrence(no_recurrence: Callable[..., Any]) -> CheckResult:
    """Check ``no_recurrence(Wx, b, X)``: the outputs of a recurrent layer with ``Wy = 0``.

    Parameters
    ----------
    no_recurrence : callable
        Called with keyword arguments ``Wx`` [n_inputs, n_neurons], ``b``
        [n_neurons] and ``X`` [batch, n_steps, n_inputs] (float64 arrays); must
        return the outputs [batch, n_steps, n_neurons] that a tanh recurrent
        layer with these weights and ``Wy = 0`` produces from the zero state --
        compared with ``dynamic_rnn(BasicRNNCell.from_weights(Wx, 0, b), X)``.
        Without the recurrent term this is one dense layer applied to every
        time step, ``tanh(X @ Wx + b)``.

    Returns
    -------
    CheckResult
        Passed, or the first problem found, in Chinese.
    """
    return run_checks(
        "去掉循环连接（Wy = 0）no_recurrence(Wx, b, X)",
        no_recurrence,
        reference=_reference_no_recurrence,
        cases=_no_recurrence_cases(),
        mistakes=_NO_RECURRENCE_MISTAKES,
        output_names=("outputs",),
        axes=(("实例", "时间步", "神经元"),),
    )
