"""Checkers for the exercises of chapter 2 (记忆单元).

* :func:`check_final_state` -- carry the state through a whole sequence and
  return the final state ``h(T-1)`` after the last step (the ``state`` that
  :func:`companion.numpy_rnn.dynamic_rnn` returns)::

      h = zeros;  for t in range(n_steps): h = cell(X[:, t], h)

* :func:`check_readout` -- a memory cell whose output is not its state: the
  state is carried as above, and every step also emits ``y_t = h_t @ Wo``.

Cases use :class:`companion.numpy_rnn.BasicRNNCell` in float64 with a recurrent
matrix large enough that every time step leaves a visible trace, so that an
off-by-one final state, a state that is not carried, or steps taken in the
wrong order all give different numbers and can be named.

Example::

    from companion.exercises.ch02 import check_final_state

    def final_state(cell, X):
        h = cell.zero_state(X.shape[0])
        for t in range(X.shape[1]):
            h = cell(X[:, t], h)
        return h

    print(check_final_state(final_state))   # ✔ 通过：……
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion.exercises.ch01 import _frozen
from companion.exercises.feedback import CheckResult, Mistake, run_checks
from companion.numpy_rnn import BasicRNNCell, dynamic_rnn

__all__ = ["check_final_state", "check_readout"]

_SEED = 142
#: Wy is drawn like the default initialisation, then multiplied by this factor:
#: every step then changes the state noticeably, so different mistakes differ.
_WY_GAIN = 2.0


def _cell(rng: np.random.Generator, n_inputs: int, n_neurons: int) -> BasicRNNCell:
    base = BasicRNNCell(n_inputs, n_neurons, dtype=np.float64, seed=rng)
    b = rng.normal(0.0, 0.3, n_neurons)
    return BasicRNNCell.from_weights(base.Wx, _WY_GAIN * base.Wy, b, dtype=np.float64)


def _sequence_cases(sizes, with_readout: bool) -> list[dict[str, Any]]:
    rng = np.random.default_rng(_SEED + with_readout)
    cases = []
    for batch, n_steps, n_inputs, n_neurons, n_outputs in sizes:
        case: dict[str, Any] = {"cell": _cell(rng, n_inputs, n_neurons)}
        if with_readout:
            case["Wo"] = _frozen(rng.uniform(-1.0, 1.0, (n_neurons, n_outputs)))
        case["X"] = _frozen(rng.normal(0.0, 1.0, (batch, n_steps, n_inputs)))
        cases.append(case)
    return cases


def _final_state_cases() -> list[dict[str, Any]]:
    """batch != n_steps everywhere (so the time axis and the batch axis cannot be
    confused silently); the last case has a single step."""
    sizes = [(3, 5, 2, 4, None), (2, 7, 3, 3, None), (4, 1, 2, 3, None)]
    return _sequence_cases(sizes, with_readout=False)


def _reference_final_state(cell, X):
    return dynamic_rnn(cell, X)[1]


def _no_carry(cell, X):
    """Each step starts again from the zero state: only the last input counts."""
    return cell(X[:, -1], cell.zero_state(X.shape[0]))


_FINAL_STATE_MISTAKES = [
    Mistake(
        "差了一步：返回的是倒数第二步之后的状态",
        lambda cell, X: dynamic_rnn(cell, X[:, :-1])[1],
        "循环要覆盖全部 X.shape[1] 个时间步，最后一次调用 cell 的结果才是最终状态。",
    ),
    Mistake(
        "状态没有传下去：每一步都从零状态重新开始",
        _no_carry,
        "每一步都要把上一步算出的 h 作为 cell(x_t, h) 的第二个参数，并用结果更新 h。",
    ),
    Mistake(
        "返回的是第一个时间步的输出",
        lambda cell, X: cell(X[:, 0], cell.zero_state(X.shape[0])),
        "要返回最后一个时间步之后的状态，而不是第 0 步的。",
    ),
    Mistake(
        "时间步的顺序反了",
        lambda cell, X: dynamic_rnn(cell, X[:, ::-1])[1],
        "从 t = 0 到 t = n_steps - 1 依次处理。",
    ),
    Mistake(
        "把第 0 轴当成了时间轴",
        lambda cell, X: dynamic_rnn(cell, X, time_major=True)[1],
        "X 的形状是 [batch, n_steps, n_inputs]：第 t 步的输入是 X[:, t]，不是 X[t]。",
    ),
    Mistake(
        "返回了所有时间步的输出，而不只是最终状态",
        lambda cell, X: dynamic_rnn(cell, X)[0],
        "最终状态的形状是 [batch, n_neurons]：只返回最后一步之后的 h。",
    ),
]


def check_final_state(final_state: Callable[..., Any]) -> CheckResult:
    """Check ``final_state(cell, X)``: the state after the last time step.

    Parameters
    ----------
    final_state : callable
        Called with keyword arguments ``cell`` (a float64
        :class:`companion.numpy_rnn.BasicRNNCell`) and ``X`` [batch, n_steps,
        n_inputs]; must start from the zero state, apply ``cell``
        once per time step, carrying the state, and return the final state
        [batch, n_neurons] -- what ``dynamic_rnn(cell, X)[1]`` returns.
    """
    return run_checks(
        "最终状态 final_state(cell, X)",
        final_state,
        reference=_reference_final_state,
        cases=_final_state_cases(),
        mistakes=_FINAL_STATE_MISTAKES,
        output_names=("最终状态",),
        axes=(("实例", "神经元"),),
    )


def _readout_cases() -> list[dict[str, Any]]:
    """Case 1 has n_outputs == n_neurons (so feeding y back as the state still runs)."""
    sizes = [(2, 4, 3, 3, 3), (3, 5, 2, 4, 1), (1, 6, 2, 5, 2)]
    return _sequence_cases(sizes, with_readout=True)


def _reference_readout(cell, Wo, X):
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


def _last_output_as_state(cell, Wo, X):
    Y, _ = _reference_readout(cell, Wo, X)
    return Y, Y[:, -1]


_READOUT_MISTAKES = [
    Mistake(
        "把输出 y 当成状态传给了下一步",
        _output_fed_back,
        "传给下一步的是状态 h_t = cell(x_t, h_{t-1})；y_t = h_t @ Wo 只向外输出，不参与循环。",
    ),
    Mistake(
        "返回的“状态”其实是最后一个输出 y",
        _last_output_as_state,
        "第二个返回值应是最后一步之后的状态 h（形状 [batch, n_neurons]），不是 y。",
    ),
    Mistake(
        "输出没有乘 Wo（返回的 Y 就是状态序列）",
        lambda cell, Wo, X: dynamic_rnn(cell, X),
        "每一步的输出是 y_t = h_t @ Wo，形状 [batch, n_outputs]。",
    ),
    Mistake(
        "Wo 被转置了",
        lambda cell, Wo, X: (dynamic_rnn(cell, X)[0] @ Wo.T, dynamic_rnn(cell, X)[1]),
        "Wo 的形状是 [n_neurons, n_outputs]，直接写 h @ Wo。",
    ),
    Mistake(
        "输出又多取了一次 tanh",
        lambda cell, Wo, X: (np.tanh(dynamic_rnn(cell, X)[0] @ Wo), dynamic_rnn(cell, X)[1]),
        "本练习的读出是线性的：y_t = h_t @ Wo，不再套激活函数。",
    ),
]


def check_readout(run_with_readout: Callable[..., Any]) -> CheckResult:
    """Check ``run_with_readout(cell, Wo, X) -> (Y, state)``: output ≠ state.

    Parameters
    ----------
    run_with_readout : callable
        Called with keyword arguments ``cell`` (a float64
        :class:`companion.numpy_rnn.BasicRNNCell`), ``Wo`` [n_neurons,
        n_outputs] and ``X`` [batch, n_steps, n_inputs]. It carries
        the state ``h_t = cell(x_t, h_{t-1})`` from zeros and returns ``Y``
        [batch, n_steps, n_outputs] with ``Y[:, t] = h_t @ Wo`` and the final
        state [batch, n_neurons].
    """
    return run_checks(
        "输出不等于状态的记忆单元 run_with_readout(cell, Wo, X)",
        run_with_readout,
        reference=_reference_readout,
        cases=_readout_cases(),
        mistakes=_READOUT_MISTAKES,
        output_names=("Y", "最终状态"),
        axes=(("实例", "时间步", "输出"), ("实例", "神经元")),
    )
