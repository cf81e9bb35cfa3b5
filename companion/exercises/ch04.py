"""Checkers for the exercises of chapter 4 (从零实现 RNN).

A layer of recurrent neurons unrolled by hand, without any RNN function, and the
gradients of ``L = sum(Y1)`` derived by hand; the references are
:func:`companion.numpy_rnn.static_rnn` and PyTorch's autograd. The cases are
float64: case 1 is square (``n_inputs == n_neurons``) so that mistakes mixing up
``Wx`` and ``Wy`` or transposing ``Wx`` still run and can be named; case 2 is the
chapter's example (integer inputs, standard-normal weights, ``b = 0``); case 3 has
3 inputs, 5 neurons and a bias.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from functools import partial
from typing import Any

import numpy as np

from companion import numpy_rnn as nrnn
from companion.exercises.cases import CHAPTER_X0, CHAPTER_X1, random_weights
from companion.exercises.feedback import Exercise, Mistake

__all__ = ["check_three_step_rnn", "check_two_step_grads", "check_two_step_rnn"]

_AXES = ("实例", "神经元")
#: A third time step for the chapter's mini-batch.
_CHAPTER_X2 = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])


def _cases(n_x: int, seed: int = 404) -> list[dict[str, Any]]:
    """``X0`` ... ``X{n_x - 1}``, ``Wx``, ``Wy``, ``b`` (the inputs are drawn first)."""
    rng = np.random.default_rng(seed)

    def case(xs: list[np.ndarray], Wx, Wy, b) -> dict[str, Any]:
        return {**{f"X{t}": x for t, x in enumerate(xs)}, "Wx": Wx, "Wy": Wy, "b": b}

    square = [rng.normal(size=(3, 4)) for _ in range(n_x)]
    cases = [case(square, *random_weights(rng, 4, 4, scale=0.7, bias=0.5))]
    chapter = [CHAPTER_X0, CHAPTER_X1, _CHAPTER_X2][:n_x]
    cases.append(
        case(chapter, rng.standard_normal((3, 5)), rng.standard_normal((5, 5)), np.zeros(5))
    )
    small = [rng.normal(size=(2, 3)) for _ in range(n_x)]
    cases.append(case(small, *random_weights(rng, 3, 5, scale=0.6, bias=0.5)))
    return cases


def _reference(*args: np.ndarray) -> tuple[np.ndarray, ...]:
    *xs, Wx, Wy, b = args
    outputs, _ = nrnn.static_rnn(nrnn.BasicRNNCell.from_weights(Wx, Wy, b, dtype=np.float64), xs)
    return tuple(outputs)


# A mistake of the hand-unrolled loop is written as one step of it,
# ``step(t, xs, ys, Wx, Wy, b) -> Y_t``, where ``xs`` are the inputs X0, X1, ... and
# ``ys`` the outputs of the steps before t.
def _recurrent(t: int, ys: list[np.ndarray], W: np.ndarray) -> Any:
    return ys[t - 1] @ W if t > 0 else 0.0


def _right(t, xs, ys, Wx, Wy, b):
    return np.tanh(_recurrent(t, ys, Wy) + xs[t] @ Wx + b)


def _wrong_at(steps: Container[int], wrong: Callable[..., Any]) -> Callable[..., Any]:
    """A step that is ``wrong`` at the time steps in ``steps`` and right at the others."""
    return lambda t, *args: wrong(t, *args) if t in steps else _right(t, *args)


def _run_steps(step: Callable[..., np.ndarray], *args: Any) -> tuple[np.ndarray, ...]:
    *xs, Wx, Wy, b = (np.asarray(a, dtype=np.float64) for a in args)
    ys: list[np.ndarray] = []
    for t in range(len(xs)):
        ys.append(step(t, xs, ys, Wx, Wy, b))
    return tuple(ys)


def _unrolled(*rows: str | Callable[..., np.ndarray]) -> list[Mistake]:
    """Mistakes of the hand-unrolled loop (``text, step, text, step, ...``), each
    running its ``step`` for t = 0, 1, ..."""
    return [Mistake(m.text, partial(_run_steps, m.compute)) for m in Mistake.table(*rows)]


def _common_mistakes(n_x: int) -> list[Mistake]:
    """Typical mistakes of a layer unrolled over ``n_x`` steps by hand."""
    last = n_x - 1
    r = _recurrent
    return _unrolled(
        "每个时间步都输入了 X0。第 t 步的输入是 Xt：第 1 步用 X1"
        + ("，第 2 步用 X2。" if n_x > 2 else "。"),
        lambda t, xs, ys, Wx, Wy, b: np.tanh(r(t, ys, Wy) + xs[0] @ Wx + b),
        "时间步的顺序颠倒了（先输入了最后一步的数据）。第 0 步输入 X0，"
        "第 1 步输入 X1……时间顺序不能颠倒。",
        lambda t, xs, ys, Wx, Wy, b: np.tanh(r(t, ys, Wy) + xs[last - t] @ Wx + b),
        "循环项用了 Wx（应为 Wy）。上一步的输出 Y(t-1) 通过 Wy [n_neurons, n_neurons] "
        "进入本步；Wx [n_inputs, n_neurons] 只乘当前输入 Xt。",
        lambda t, xs, ys, Wx, Wy, b: np.tanh(r(t, ys, Wx) + xs[t] @ Wx + b),
        "Wx 和 Wy 用反了。Wx [n_inputs, n_neurons] 乘当前输入 Xt，"
        "Wy [n_neurons, n_neurons] 乘上一步的输出。",
        lambda t, xs, ys, Wx, Wy, b: np.tanh(r(t, ys, Wx) + xs[t] @ Wy + b),
        "Wx 被转置了。Wx 的形状是 [n_inputs, n_neurons]，直接写 Xt @ Wx；"
        "torch.nn.RNN 的 weight_ih 才是 Wx 的转置。",
        lambda t, xs, ys, Wx, Wy, b: np.tanh(r(t, ys, Wy) + xs[t] @ Wx.T + b),
        "Wy 被转置了。写 Y(t-1) @ Wy：Wy[i, j] 是神经元 i 上一步的输出连到神经元 j 的权重。",
        lambda t, xs, ys, Wx, Wy, b: np.tanh(r(t, ys, Wy.T) + xs[t] @ Wx + b),
        "忘了 tanh。每一步都要经过激活函数：Yt = tanh(…)。",
        lambda t, xs, ys, Wx, Wy, b: r(t, ys, Wy) + xs[t] @ Wx + b,
        "只在第 0 步用了 tanh。之后的每一步同样要经过 tanh。",
        _wrong_at(range(1, n_x), lambda t, xs, ys, Wx, Wy, b: r(t, ys, Wy) + xs[t] @ Wx + b),
        "忘了偏置 b。每一步的括号里都要加上 b（形状 [n_neurons]，按行广播）。",
        lambda t, xs, ys, Wx, Wy, b: np.tanh(r(t, ys, Wy) + xs[t] @ Wx),
        f"第 {last} 步漏掉了循环项 Y{last - 1} @ Wy。没有循环项，这一步就记不住之前的输入："
        "Yt = tanh(Y(t-1) @ Wy + Xt @ Wx + b)。",
        _wrong_at({last}, lambda t, xs, ys, Wx, Wy, b: np.tanh(xs[t] @ Wx + b)),
        f"第 {last} 步漏掉了输入项 X{last} @ Wx。每一步都要加上当前输入的贡献 Xt @ Wx。",
        _wrong_at({last}, lambda t, xs, ys, Wx, Wy, b: np.tanh(ys[t - 1] @ Wy + b)),
    )


TWO_STEP_RNN = Exercise(
    "两个时间步的循环层（手写展开）",
    doc="""A recurrent layer unrolled by hand over two steps::

        Y0 = tanh(X0 @ Wx + b);   Y1 = tanh(Y0 @ Wy + X1 @ Wx + b)

    Inputs: ``X0``, ``X1`` [batch, n_inputs] (integers in one case, as in the
    chapter), ``Wx`` [n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons].
    Outputs: ``(Y0, Y1)`` (a tuple or a list), each [batch, n_neurons].
    """,
    reference=_reference,
    cases=lambda: _cases(2),
    mistakes=_common_mistakes(2),
    outputs={"Y0": _AXES, "Y1": _AXES},
)
check_two_step_rnn = TWO_STEP_RNN.checker("check_two_step_rnn")

THREE_STEP_RNN = Exercise(
    "三个时间步的循环层（手写展开）",
    doc="""The same layer over three steps, adding ``Y2 = tanh(Y1 @ Wy + X2 @ Wx + b)``.

    Inputs: ``X0``, ``X1``, ``X2`` [batch, n_inputs], ``Wx`` [n_inputs, n_neurons],
    ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons].
    Outputs: ``(Y0, Y1, Y2)``, each [batch, n_neurons].
    """,
    reference=_reference,
    cases=lambda: _cases(3),
    # Mistakes that only appear once there is a third step come first.
    mistakes=_unrolled(
        "第 2 步的循环项用了 Y0（应为 Y1）。循环只回看一步：Y2 = tanh(Y1 @ Wy + X2 @ Wx + b)。",
        _wrong_at({2}, lambda t, xs, ys, Wx, Wy, b: np.tanh(ys[0] @ Wy + xs[2] @ Wx + b)),
        "第 2 步输入了 X1（应为 X2）。第 2 步的输入是 X2。",
        _wrong_at({2}, lambda t, xs, ys, Wx, Wy, b: np.tanh(ys[1] @ Wy + xs[1] @ Wx + b)),
    )
    + _common_mistakes(3),
    outputs={"Y0": _AXES, "Y1": _AXES, "Y2": _AXES},
)
check_three_step_rnn = THREE_STEP_RNN.checker("check_three_step_rnn")


def _grads_reference(X0, X1, Wx, Wy, b) -> tuple[np.ndarray, ...]:
    """``(dL/dWx, dL/dWy)`` by PyTorch's autograd in float64."""
    import torch

    X0, X1, Wx, Wy, b = (
        torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (X0, X1, Wx, Wy, b)
    )
    Wx.requires_grad_()
    Wy.requires_grad_()
    Y1 = torch.tanh(torch.tanh(X0 @ Wx + b) @ Wy + X1 @ Wx + b)
    return tuple(g.numpy() for g in torch.autograd.grad(Y1.sum(), (Wx, Wy)))


def _by_hand(*wrong: str) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """The derivation of :data:`TWO_STEP_GRADS`'s doc with the steps named in ``wrong``
    done wrong: ``"tanh' 1"``, ``"tanh' 0"`` (a tanh derivative left out), ``"via Y0"``
    (the path through Y0 left out), ``"Wy"`` (not transposed on the way back),
    ``"dWy.T"``, ``"dWx.T"`` (the product taken the wrong way round)."""

    def grads(X0, X1, Wx, Wy, b):
        X0, X1, Wx, Wy, b = (np.asarray(a, dtype=np.float64) for a in (X0, X1, Wx, Wy, b))
        Y0 = np.tanh(X0 @ Wx + b)
        Y1 = np.tanh(Y0 @ Wy + X1 @ Wx + b)
        D1 = np.ones_like(Y1) * (1.0 if "tanh' 1" in wrong else (1 - Y1**2))
        D0 = (D1 @ (Wy if "Wy" in wrong else Wy.T)) * (1.0 if "tanh' 0" in wrong else 1 - Y0**2)
        dWy = D1.T @ Y0 if "dWy.T" in wrong else Y0.T @ D1
        dWx = X1.T @ D1 + (0.0 if "via Y0" in wrong else X0.T @ D0)
        return (dWx.T if "dWx.T" in wrong else dWx), dWy

    return grads


TWO_STEP_GRADS = Exercise(
    "手算两步循环层的梯度 ∂L/∂Wx、∂L/∂Wy（L = Y1 所有元素之和）",
    doc="""The gradients of ``L = sum(Y1)`` for the two-step layer, derived by hand::

        D1 = dL/dZ1 = 1 - Y1**2                    (through tanh at step 1)
        D0 = dL/dZ0 = (D1 @ Wy.T) * (1 - Y0**2)    (back through Wy, then tanh at step 0)
        dWy = Y0.T @ D1                            (Wy is used at step 1 only)
        dWx = X1.T @ D1 + X0.T @ D0                (Wx is used at both steps)

    Inputs: ``X0``, ``X1`` [batch, n_inputs] (integers in one case), ``Wx``
    [n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons].
    Outputs: ``(dWx, dWy)``: [n_inputs, n_neurons] and [n_neurons, n_neurons].
    """,
    reference=_grads_reference,
    cases=lambda: _cases(2, seed=4040),
    outputs={"dWx": ("输入", "神经元"), "dWy": ("神经元", "神经元")},
    mistakes=Mistake.table(
        "∂L/∂Wx 只算了第 1 步的直接项，漏掉了经过 Y0 的那条路径。Wx 在两个时间步都用到："
        "第 0 步的 Wx 通过 Y0 = tanh(X0 @ Wx + b) 和 Y0 @ Wy 影响 Y1。"
        "把梯度从 Z1 经 Wy 传回 Y0、再乘第 0 步的 tanh 导数，得到第二项 X0.T @ (…)，"
        "与第一项相加。",
        _by_hand("via Y0"),
        "漏掉了 tanh 的导数。Yt = tanh(Zt)，链式法则要乘上 ∂Yt/∂Zt = 1 - Yt**2（逐元素）"
        "：先算 D1 = 1 - Y1**2，传回第 0 步时同样要乘 1 - Y0**2。",
        _by_hand("tanh' 1", "tanh' 0"),
        "第 0 步漏掉了 tanh 的导数 1 - Y0**2。梯度经 Wy 传回 Y0 之后，"
        "还要穿过第 0 步的 tanh：逐元素乘 1 - Y0**2，才是对 Z0 的梯度。",
        _by_hand("tanh' 0"),
        "梯度经 Wy 传回 Y0 时没有转置 Wy。Z1 = Y0 @ Wy + …，所以 ∂L/∂Y0 = ∂L/∂Z1 @ Wy.T："
        "前向乘 Wy，反向乘它的转置。",
        _by_hand("Wy"),
        "∂L/∂Wy 的乘积顺序反了，得到的是它的转置。Z1 = Y0 @ Wy + …，"
        "所以 ∂L/∂Wy = Y0.T @ ∂L/∂Z1，形状 [n_neurons, n_neurons]："
        "Wy[i, j] 连接上一步的神经元 i 和本步的神经元 j。",
        _by_hand("dWy.T"),
        "∂L/∂Wx 的乘积顺序反了，得到的是它的转置。Zt = Xt @ Wx + …，"
        "所以每一项都是 Xt.T @ ∂L/∂Zt，形状与 Wx 相同：[n_inputs, n_neurons]。",
        _by_hand("dWx.T"),
    ),
)
check_two_step_grads = TWO_STEP_GRADS.checker("check_two_step_grads")
