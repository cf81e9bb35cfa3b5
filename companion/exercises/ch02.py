"""Checkers for the exercises of chapter 2 (记忆单元).

Cases use :class:`companion.numpy_rnn.BasicRNNCell` in float64 with a recurrent
matrix large enough that every time step leaves a visible trace, so that an
off-by-one final state, a state that is not carried, or steps taken in the
wrong order all give different numbers and can be named. ``batch != n_steps``
everywhere, so the time axis and the batch axis cannot be confused silently.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion.exercises.feedback import Exercise, Mistake
from companion.numpy_rnn import BasicRNNCell, dynamic_rnn

__all__ = ["check_final_state", "check_readout", "check_steps_remembered"]

#: The threshold of the chapter: s(t) >= 1e-6 counts as "still remembered".
_MEMORY_THRESHOLD = 1e-6


def _cell(rng: np.random.Generator, n_inputs: int, n_neurons: int, gain: float) -> BasicRNNCell:
    """The default initialisation with ``Wy`` multiplied by ``gain`` and a random bias."""
    base = BasicRNNCell(n_inputs, n_neurons, dtype=np.float64, seed=rng)
    b = rng.normal(0.0, 0.3, n_neurons)
    return BasicRNNCell.from_weights(base.Wx, gain * base.Wy, b, dtype=np.float64)


def _sequence_cases(sizes, with_readout: bool) -> list[dict[str, Any]]:
    rng = np.random.default_rng(142 + with_readout)
    cases = []
    for batch, n_steps, n_inputs, n_neurons, n_outputs in sizes:
        # gain 2: every step changes the state noticeably, so different mistakes differ
        case: dict[str, Any] = {"cell": _cell(rng, n_inputs, n_neurons, gain=2.0)}
        if with_readout:
            case["Wo"] = rng.uniform(-1.0, 1.0, (n_neurons, n_outputs))
        case["X"] = rng.normal(0.0, 1.0, (batch, n_steps, n_inputs))
        cases.append(case)
    return cases


FINAL_STATE = Exercise(
    "最终状态 final_state(cell, X)",
    doc="""The state after the last time step, carried from the zero state::

        h = zeros;  for t in range(n_steps): h = cell(X[:, t], h)

    Inputs: ``cell`` (a float64 ``BasicRNNCell``), ``X`` [batch, n_steps, n_inputs].
    Outputs: the final state ``h`` [batch, n_neurons].
    """,
    reference=lambda cell, X: dynamic_rnn(cell, X)[1],
    cases=lambda: _sequence_cases([(3, 5, 2, 4, 0), (2, 7, 3, 3, 0), (4, 1, 2, 3, 0)], False),
    outputs={"最终状态": ("实例", "神经元")},
    mistakes=Mistake.table(
        "差了一步：返回的是倒数第二步之后的状态。循环要覆盖全部 X.shape[1] 个时间步，"
        "最后一次调用 cell 的结果才是最终状态。",
        lambda cell, X: dynamic_rnn(cell, X[:, :-1])[1],
        "状态没有传下去：每一步都从零状态重新开始。"
        "每一步都要把上一步算出的 h 作为 cell(x_t, h) 的第二个参数，并用结果更新 h。",
        lambda cell, X: cell(X[:, -1], cell.zero_state(X.shape[0])),
        "返回的是第一个时间步的输出。要返回最后一个时间步之后的状态，而不是第 0 步的。",
        lambda cell, X: cell(X[:, 0], cell.zero_state(X.shape[0])),
        "时间步的顺序反了。从 t = 0 到 t = n_steps - 1 依次处理。",
        lambda cell, X: dynamic_rnn(cell, X[:, ::-1])[1],
        "把第 0 轴当成了时间轴。X 的形状是 [batch, n_steps, n_inputs]："
        "第 t 步的输入是 X[:, t]，不是 X[t]。",
        lambda cell, X: dynamic_rnn(cell, X, time_major=True)[1],
        "返回了所有时间步的输出，而不只是最终状态。最终状态的形状是 [batch, n_neurons]："
        "只返回最后一步之后的 h。",
        lambda cell, X: dynamic_rnn(cell, X)[0],
    ),
)
check_final_state = FINAL_STATE.checker("check_final_state")


def _readout(cell, Wo, X):
    outputs, state = dynamic_rnn(cell, X)
    return outputs @ Wo, state


def _output_fed_back(cell, Wo, X):
    """The output y, not the state h, is passed on to the next step."""
    carried = cell.zero_state(X.shape[0])
    ys = []
    for t in range(X.shape[1]):
        carried = cell(X[:, t], carried) @ Wo
        ys.append(carried)
    return np.stack(ys, axis=1), carried


READOUT = Exercise(
    "输出不等于状态的记忆单元 run_with_readout(cell, Wo, X)",
    doc="""A memory cell whose output is not its state::

        h_t = cell(x_t, h_{t-1}),   h_{-1} = 0;    y_t = h_t @ Wo

    Inputs: ``cell`` (a float64 ``BasicRNNCell``), ``Wo`` [n_neurons, n_outputs],
    ``X`` [batch, n_steps, n_inputs].
    Outputs: ``Y`` [batch, n_steps, n_outputs] (``Y[:, t] = y_t``) and the final
    state [batch, n_neurons].
    """,
    reference=_readout,
    # case 1 has n_outputs == n_neurons, so feeding y back as the state still runs
    cases=lambda: _sequence_cases([(2, 4, 3, 3, 3), (3, 5, 2, 4, 1), (1, 6, 2, 5, 2)], True),
    outputs={"Y": ("实例", "时间步", "输出"), "最终状态": ("实例", "神经元")},
    mistakes=Mistake.table(
        "把输出 y 当成状态传给了下一步。传给下一步的是状态 h_t = cell(x_t, h_{t-1})；"
        "y_t = h_t @ Wo 只向外输出，不参与循环。",
        _output_fed_back,
        "返回的“状态”其实是最后一个输出 y。"
        "第二个返回值应是最后一步之后的状态 h（形状 [batch, n_neurons]），不是 y。",
        lambda cell, Wo, X: (_readout(cell, Wo, X)[0], _readout(cell, Wo, X)[0][:, -1]),
        "输出没有乘 Wo（返回的 Y 就是状态序列）。每一步的输出是 y_t = h_t @ Wo，"
        "形状 [batch, n_outputs]。",
        lambda cell, Wo, X: dynamic_rnn(cell, X),
        "Wo 被转置了。Wo 的形状是 [n_neurons, n_outputs]，直接写 h @ Wo。",
        lambda cell, Wo, X: (dynamic_rnn(cell, X)[0] @ Wo.T, dynamic_rnn(cell, X)[1]),
        "输出又多取了一次 tanh。本练习的读出是线性的：y_t = h_t @ Wo，不再套激活函数。",
        lambda cell, Wo, X: (np.tanh(_readout(cell, Wo, X)[0]), dynamic_rnn(cell, X)[1]),
    ),
)
check_readout = READOUT.checker("check_readout")


def _steps_remembered_cases() -> list[dict[str, Any]]:
    """One instance each (``X`` [1, n_steps, 4], 16 neurons), like the chapter's
    experiment: the default Wy, half of it, three times it (``s(t)`` never drops
    below the threshold: all steps count) and the default Wy with inputs five
    times larger. In every case ``s(t)`` stays below the threshold once it has
    dropped there, so counting and "first step below" agree except when it
    never drops; the ``eps`` differ so that a missing division by ``eps`` shows."""
    rng = np.random.default_rng(144)
    cases = []
    sizes = [(1, 1, 30, 1e-4), (0.5, 1, 20, 1e-5), (3, 1, 30, 1e-4), (1, 5, 25, 1e-4)]
    for gain, scale, n_steps, eps in sizes:
        cell = _cell(rng, 4, 16, gain)
        cases.append({"cell": cell, "X": scale * rng.normal(0.0, 1.0, (1, n_steps, 4)), "eps": eps})
    return cases


def _sensitivity(cell, X, eps):
    """``s(t) = ||Δy(t)|| / eps`` [n_steps] of instance 0, ``eps`` added to ``X[0, 0, 0]``."""
    X_nudged = np.array(X, dtype=np.float64)
    X_nudged[0, 0, 0] += eps
    change = np.linalg.norm(dynamic_rnn(cell, X_nudged)[0] - dynamic_rnn(cell, X)[0], axis=-1)
    return change[0] / eps


STEPS_REMEMBERED = Exercise(
    "记忆的步数 steps_remembered(cell, X, eps)",
    doc="""How many time steps ``x(0)`` is remembered: nudge ``X[0, 0, 0]`` by ``eps``,
    run twice, and count the steps with::

        s(t) = ||y'(t) - y(t)|| / eps >= 1e-6          (norm over the neurons)

    (all ``n_steps`` when it never drops below).

    Inputs: ``cell`` (a float64 ``BasicRNNCell``), ``X`` [1, n_steps, n_inputs],
    ``eps`` (a float).
    Outputs: the number of steps remembered (an int).
    """,
    reference=lambda cell, X, eps: int(np.sum(_sensitivity(cell, X, eps) >= _MEMORY_THRESHOLD)),
    cases=_steps_remembered_cases,
    outputs={"记住的步数": None},
    mistakes=Mistake.table(
        "用了绝对阈值：没有除以 eps。要比较的是相对变化 s(t) = ||Δy(t)|| / eps，"
        "而不是差值 ||Δy(t)|| 本身；后者随 eps 一起变小，换一个 eps 答案就变了。",
        lambda cell, X, eps: int(np.sum(_sensitivity(cell, X, eps) * eps >= _MEMORY_THRESHOLD)),
        "差了一步：返回的是最后一个不低于阈值的时间步的编号。时间步从 0 开始编号："
        "t = 0, …, k-1 不低于阈值，就是 k 步，不是 k-1 步。",
        lambda cell, X, eps: int(
            np.flatnonzero(_sensitivity(cell, X, eps) >= _MEMORY_THRESHOLD)[-1]
        ),
        "求的是首次低于阈值的时间步，而 s(t) 一直不低于阈值时得到了 0。"
        "np.argmax 在全为 False 时返回 0。s(t) 在整个序列上都不低于 1e-6 时，"
        "记住的步数是全部 n_steps 步：直接数 np.sum(s >= 1e-6) 就不会有这个问题。",
        lambda cell, X, eps: int(np.argmax(_sensitivity(cell, X, eps) < _MEMORY_THRESHOLD)),
        "数的是低于阈值的步数。要数的是 s(t) 不低于 1e-6（s >= 1e-6）的时间步。",
        lambda cell, X, eps: int(np.sum(_sensitivity(cell, X, eps) < _MEMORY_THRESHOLD)),
        "两次运行的输入相同：得到 0 步。改动 x(0) 之前要先复制：X_nudged = X.copy()。"
        "直接写 X_nudged = X 时两个名字指向同一个数组，两次运行的输入都被改动了，"
        "差值处处为零。",
        lambda cell, X, eps: 0,
    ),
)
check_steps_remembered = STEPS_REMEMBERED.checker("check_steps_remembered", with_backend=False)
