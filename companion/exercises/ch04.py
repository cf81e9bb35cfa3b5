"""Checkers for the exercises of chapter 4 (从零实现 RNN).

A layer of recurrent neurons unrolled by hand, without any RNN function::

    Y0 = tanh(X0 @ Wx + b)
    Y1 = tanh(Y0 @ Wy + X1 @ Wx + b)
    Y2 = tanh(Y1 @ Wy + X2 @ Wx + b)        (three-step version)

with ``Xt`` [batch, n_inputs], ``Wx`` [n_inputs, n_neurons], ``Wy``
[n_neurons, n_neurons], ``b`` [n_neurons] and ``Yt`` [batch, n_neurons].

* :func:`check_two_step_rnn` -- ``fn(X0, X1, Wx, Wy, b) -> (Y0, Y1)``;
* :func:`check_three_step_rnn` -- ``fn(X0, X1, X2, Wx, Wy, b) -> (Y0, Y1, Y2)``.

The reference is :func:`companion.numpy_rnn.static_rnn`; the reader may
return NumPy arrays or torch tensors, as a tuple or a list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion import numpy_rnn as nrnn
from companion.exercises.feedback import CheckResult, Mistake, run_checks

__all__ = ["check_three_step_rnn", "check_two_step_rnn"]

_AXES = ("实例", "神经元")

#: The mini-batch of the chapter (4 instances, 2 time steps, 3 inputs).
CHAPTER_X0 = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]])
CHAPTER_X1 = np.array([[9, 8, 7], [0, 0, 0], [6, 5, 4], [3, 2, 1]])


def _reference(*xs: np.ndarray, Wx: Any, Wy: Any, b: Any) -> tuple[np.ndarray, ...]:
    cell = nrnn.BasicRNNCell.from_weights(Wx, Wy, b, dtype=np.float64)
    outputs, _ = nrnn.static_rnn(cell, list(xs))
    return tuple(outputs)


def _cases(n_x: int) -> list[dict[str, Any]]:
    """Inputs and weights to try (float64), with ``n_x`` per-step inputs ``X0``, ``X1``, ...

    * case 1 is square (``n_inputs == n_neurons``) so that mistakes mixing up
      ``Wx`` and ``Wy`` or transposing ``Wx`` still run and can be recognised;
    * case 2 is the chapter's example (integer inputs, standard-normal weights,
      ``b = 0``), extended with a third step ``[[1, 0, 0], ...]`` if needed;
    * case 3 has 3 inputs, 5 neurons and a non-zero bias.

    Weights of cases 1 and 3 are small so that tanh does not saturate and
    every mistake changes the numbers visibly.
    """
    rng = np.random.default_rng(404)
    cases = []

    def case(xs: list[np.ndarray], Wx: np.ndarray, Wy: np.ndarray, b: np.ndarray) -> None:
        entry: dict[str, Any] = {f"X{t}": x for t, x in enumerate(xs)}
        entry.update(Wx=Wx, Wy=Wy, b=b)
        cases.append(entry)

    n = 4
    case(
        [rng.normal(size=(3, n)) for _ in range(n_x)],
        rng.uniform(-0.7, 0.7, (n, n)),
        rng.uniform(-0.7, 0.7, (n, n)),
        rng.uniform(-0.5, 0.5, n),
    )
    extra = [np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])]
    case(
        [CHAPTER_X0, CHAPTER_X1, *extra][:n_x],
        rng.standard_normal((3, 5)),
        rng.standard_normal((5, 5)),
        np.zeros(5),
    )
    case(
        [rng.normal(size=(2, 3)) for _ in range(n_x)],
        rng.uniform(-0.6, 0.6, (3, 5)),
        rng.uniform(-0.6, 0.6, (5, 5)),
        rng.uniform(-0.5, 0.5, 5),
    )
    return cases


def _as_tuple(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Accept a list as well as a tuple of outputs (the reader's function is called as is)."""
    if not callable(fn):
        return fn

    def wrapped(**kwargs: Any) -> Any:
        result = fn(**kwargs)
        return tuple(result) if isinstance(result, list) else result

    return wrapped


# One step of each variant: ``step(t, xs, ys, Wx, Wy, b) -> Y_t`` where ``xs`` are
# the inputs X0, X1, ... and ``ys`` the outputs of the steps before t.
Step = Callable[..., np.ndarray]


def _right(t, xs, ys, Wx, Wy, b):
    recurrent = ys[t - 1] @ Wy if t > 0 else 0.0
    return np.tanh(recurrent + xs[t] @ Wx + b)


def _unroll(case: dict[str, Any], n_x: int, step: Step) -> tuple[np.ndarray, ...]:
    """Run ``step`` over the ``n_x`` inputs of ``case`` (in float64)."""
    xs = [np.asarray(case[f"X{t}"], dtype=np.float64) for t in range(n_x)]
    Wx, Wy, b = (np.asarray(case[k], dtype=np.float64) for k in ("Wx", "Wy", "b"))
    ys: list[np.ndarray] = []
    for t in range(n_x):
        ys.append(step(t, xs, ys, Wx, Wy, b))
    return tuple(ys)


def _mistake(name: str, step: Step, hint: str, n_x: int) -> Mistake:
    return Mistake(name, lambda **case: _unroll(case, n_x, step), hint)


def _common_mistakes(n_x: int) -> list[Mistake]:
    """Typical mistakes of a layer unrolled over ``n_x`` steps by hand."""
    last = n_x - 1

    def recurrent(t, ys, W):
        return ys[t - 1] @ W if t > 0 else 0.0

    mistakes = [
        (
            "每个时间步都输入了 X0",
            lambda t, xs, ys, Wx, Wy, b: np.tanh(recurrent(t, ys, Wy) + xs[0] @ Wx + b),
            "第 t 步的输入是 Xt：第 1 步用 X1" + ("，第 2 步用 X2。" if n_x > 2 else "。"),
        ),
        (
            "时间步的顺序颠倒了（先输入了最后一步的数据）",
            lambda t, xs, ys, Wx, Wy, b: np.tanh(recurrent(t, ys, Wy) + xs[last - t] @ Wx + b),
            "第 0 步输入 X0，第 1 步输入 X1……时间顺序不能颠倒。",
        ),
        (
            "循环项用了 Wx（应为 Wy）",
            lambda t, xs, ys, Wx, Wy, b: np.tanh(recurrent(t, ys, Wx) + xs[t] @ Wx + b),
            "上一步的输出 Y(t-1) 通过 Wy [n_neurons, n_neurons] 进入本步；"
            "Wx [n_inputs, n_neurons] 只乘当前输入 Xt。",
        ),
        (
            "Wx 和 Wy 用反了",
            lambda t, xs, ys, Wx, Wy, b: np.tanh(recurrent(t, ys, Wx) + xs[t] @ Wy + b),
            "Wx [n_inputs, n_neurons] 乘当前输入 Xt，Wy [n_neurons, n_neurons] 乘上一步的输出。",
        ),
        (
            "Wx 被转置了",
            lambda t, xs, ys, Wx, Wy, b: np.tanh(recurrent(t, ys, Wy) + xs[t] @ Wx.T + b),
            "Wx 的形状是 [n_inputs, n_neurons]，直接写 Xt @ Wx；"
            "torch.nn.RNN 的 weight_ih 才是 Wx 的转置。",
        ),
        (
            "Wy 被转置了",
            lambda t, xs, ys, Wx, Wy, b: np.tanh(recurrent(t, ys, Wy.T) + xs[t] @ Wx + b),
            "写 Y(t-1) @ Wy：Wy[i, j] 是神经元 i 上一步的输出连到神经元 j 的权重。",
        ),
        (
            "忘了 tanh",
            lambda t, xs, ys, Wx, Wy, b: recurrent(t, ys, Wy) + xs[t] @ Wx + b,
            "每一步都要经过激活函数：Yt = tanh(…)。",
        ),
        (
            "只在第 0 步用了 tanh",
            lambda t, xs, ys, Wx, Wy, b: (
                _right(t, xs, ys, Wx, Wy, b) if t == 0 else recurrent(t, ys, Wy) + xs[t] @ Wx + b
            ),
            "之后的每一步同样要经过 tanh。",
        ),
        (
            "忘了偏置 b",
            lambda t, xs, ys, Wx, Wy, b: np.tanh(recurrent(t, ys, Wy) + xs[t] @ Wx),
            "每一步的括号里都要加上 b（形状 [n_neurons]，按行广播）。",
        ),
        (
            f"第 {last} 步漏掉了循环项 Y{last - 1} @ Wy",
            lambda t, xs, ys, Wx, Wy, b: (
                np.tanh(xs[t] @ Wx + b) if t == last else _right(t, xs, ys, Wx, Wy, b)
            ),
            "没有循环项，这一步就记不住之前的输入：Yt = tanh(Y(t-1) @ Wy + Xt @ Wx + b)。",
        ),
        (
            f"第 {last} 步漏掉了输入项 X{last} @ Wx",
            lambda t, xs, ys, Wx, Wy, b: (
                np.tanh(ys[t - 1] @ Wy + b) if t == last else _right(t, xs, ys, Wx, Wy, b)
            ),
            "每一步都要加上当前输入的贡献 Xt @ Wx。",
        ),
    ]
    return [_mistake(name, step, hint, n_x) for name, step, hint in mistakes]


def _three_step_mistakes() -> list[Mistake]:
    """Mistakes that only appear once there is a third step."""
    return [
        _mistake(
            "第 2 步的循环项用了 Y0（应为 Y1）",
            lambda t, xs, ys, Wx, Wy, b: (
                np.tanh(ys[0] @ Wy + xs[2] @ Wx + b) if t == 2 else _right(t, xs, ys, Wx, Wy, b)
            ),
            "循环只回看一步：Y2 = tanh(Y1 @ Wy + X2 @ Wx + b)。",
            3,
        ),
        _mistake(
            "第 2 步输入了 X1（应为 X2）",
            lambda t, xs, ys, Wx, Wy, b: (
                np.tanh(ys[1] @ Wy + xs[1] @ Wx + b) if t == 2 else _right(t, xs, ys, Wx, Wy, b)
            ),
            "第 2 步的输入是 X2。",
            3,
        ),
    ]


def check_two_step_rnn(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(X0, X1, Wx, Wy, b) -> (Y0, Y1)``, a recurrent layer unrolled over two steps.

    ``Y0 = tanh(X0 @ Wx + b)``, ``Y1 = tanh(Y0 @ Wy + X1 @ Wx + b)``.

    Parameters
    ----------
    fn : callable
        Takes ``X0``, ``X1`` [batch, n_inputs], ``Wx`` [n_inputs, n_neurons],
        ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons] (NumPy arrays; the
        inputs of one case are integers, as in the chapter) and returns
        ``(Y0, Y1)``, each [batch, n_neurons].

    Returns
    -------
    CheckResult
        Passed, or a Chinese message naming the mistake (X0 fed at both steps,
        missing ``Y0 @ Wy``, ``Wx`` in the recurrent term, transposed weights,
        missing tanh or bias, ...).
    """
    return run_checks(
        "两个时间步的循环层（手写展开）",
        _as_tuple(fn),
        reference=lambda X0, X1, Wx, Wy, b: _reference(X0, X1, Wx=Wx, Wy=Wy, b=b),
        cases=_cases(2),
        mistakes=_common_mistakes(2),
        output_names=("Y0", "Y1"),
        axes=(_AXES, _AXES),
    )


def check_three_step_rnn(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(X0, X1, X2, Wx, Wy, b) -> (Y0, Y1, Y2)``: the same layer over three steps.

    ``Y2 = tanh(Y1 @ Wy + X2 @ Wx + b)``; shapes as in :func:`check_two_step_rnn`.
    """
    return run_checks(
        "三个时间步的循环层（手写展开）",
        _as_tuple(fn),
        reference=lambda X0, X1, X2, Wx, Wy, b: _reference(X0, X1, X2, Wx=Wx, Wy=Wy, b=b),
        cases=_cases(3),
        mistakes=_three_step_mistakes() + _common_mistakes(3),
        output_names=("Y0", "Y1", "Y2"),
        axes=(_AXES, _AXES, _AXES),
    )
