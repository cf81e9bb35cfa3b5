"""Checkers for the exercises of chapter 4 (从零实现 RNN).

A layer of recurrent neurons unrolled by hand, without any RNN function::

    Y0 = tanh(X0 @ Wx + b)
    Y1 = tanh(Y0 @ Wy + X1 @ Wx + b)
    Y2 = tanh(Y1 @ Wy + X2 @ Wx + b)        (three-step version)

with ``Xt`` [batch, n_inputs], ``Wx`` [n_inputs, n_neurons], ``Wy``
[n_neurons, n_neurons], ``b`` [n_neurons] and ``Yt`` [batch, n_neurons].

* :func:`check_two_step_rnn` -- ``fn(X0, X1, Wx, Wy, b) -> (Y0, Y1)``;
* :func:`check_three_step_rnn` -- ``fn(X0, X1, X2, Wx, Wy, b) -> (Y0, Y1, Y2)``;
* :func:`check_two_step_grads` -- ``fn(X0, X1, Wx, Wy, b) -> (dWx, dWy)``: the
  gradients of ``L = sum(Y1)`` derived by hand (back-propagation through the
  two steps), compared with PyTorch's autograd.

The reference of the forward checkers is :func:`companion.numpy_rnn.static_rnn`;
the reader may return NumPy arrays or torch tensors, as a tuple or a list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion import numpy_rnn as nrnn
from companion.exercises.feedback import CheckResult, Mistake, run_checks

__all__ = ["check_three_step_rnn", "check_two_step_grads", "check_two_step_rnn"]

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


# --------------------------------------------------------------------------
# Gradients of the two-step network, derived by hand
# --------------------------------------------------------------------------
#
# With L = sum(Y1), G = dL/dY1 = 1 and
#
#     D1 = dL/dZ1 = G * (1 - Y1**2)              (through tanh at step 1)
#     D0 = dL/dZ0 = (D1 @ Wy.T) * (1 - Y0**2)    (back through Wy, then tanh at step 0)
#     dL/dWy = Y0.T @ D1                          (Wy is used at step 1 only)
#     dL/dWx = X1.T @ D1 + X0.T @ D0              (Wx is used at both steps)


def _grads_reference(X0: Any, X1: Any, Wx: Any, Wy: Any, b: Any) -> tuple[np.ndarray, ...]:
    """``(dL/dWx, dL/dWy)`` for ``L = sum(Y1)``, by PyTorch's autograd in float64."""
    import torch

    def t(a: Any) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.float64))

    Wx_t, Wy_t = t(Wx).requires_grad_(), t(Wy).requires_grad_()
    Y0 = torch.tanh(t(X0) @ Wx_t + t(b))
    Y1 = torch.tanh(Y0 @ Wy_t + t(X1) @ Wx_t + t(b))
    dWx, dWy = torch.autograd.grad(Y1.sum(), (Wx_t, Wy_t))
    return dWx.numpy(), dWy.numpy()


def _grads_by_hand(
    *,
    tanh_prime_1: bool = True,
    tanh_prime_0: bool = True,
    through_y0: bool = True,
    wy_transposed: bool = True,
    dwy_transposed: bool = False,
    dwx_transposed: bool = False,
) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """The hand derivation above, with one or more of its steps done wrong."""

    def grads(X0, X1, Wx, Wy, b):
        X0, X1, Wx, Wy, b = (np.asarray(a, dtype=np.float64) for a in (X0, X1, Wx, Wy, b))
        Y0 = np.tanh(X0 @ Wx + b)
        Y1 = np.tanh(Y0 @ Wy + X1 @ Wx + b)
        D1 = np.ones_like(Y1) * ((1 - Y1**2) if tanh_prime_1 else 1.0)
        D0 = (D1 @ (Wy.T if wy_transposed else Wy)) * ((1 - Y0**2) if tanh_prime_0 else 1.0)
        dWy = D1.T @ Y0 if dwy_transposed else Y0.T @ D1
        dWx = X1.T @ D1
        if through_y0:
            dWx = dWx + X0.T @ D0
        if dwx_transposed:
            dWx = dWx.T
        return dWx, dWy

    return grads


_GRAD_MISTAKES = [
    Mistake(
        "∂L/∂Wx 只算了第 1 步的直接项，漏掉了经过 Y0 的那条路径",
        _grads_by_hand(through_y0=False),
        "Wx 在两个时间步都用到：第 0 步的 Wx 通过 Y0 = tanh(X0 @ Wx + b) 和 Y0 @ Wy 影响 Y1。"
        "把梯度从 Z1 经 Wy 传回 Y0、再乘第 0 步的 tanh 导数，得到第二项 X0.T @ (…)，与第一项相加。",
    ),
    Mistake(
        "漏掉了 tanh 的导数",
        _grads_by_hand(tanh_prime_1=False, tanh_prime_0=False),
        "Yt = tanh(Zt)，链式法则要乘上 ∂Yt/∂Zt = 1 - Yt**2（逐元素）：先算 D1 = 1 - Y1**2，"
        "传回第 0 步时同样要乘 1 - Y0**2。",
    ),
    Mistake(
        "第 0 步漏掉了 tanh 的导数 1 - Y0**2",
        _grads_by_hand(tanh_prime_0=False),
        "梯度经 Wy 传回 Y0 之后，还要穿过第 0 步的 tanh：逐元素乘 1 - Y0**2，才是对 Z0 的梯度。",
    ),
    Mistake(
        "梯度经 Wy 传回 Y0 时没有转置 Wy",
        _grads_by_hand(wy_transposed=False),
        "Z1 = Y0 @ Wy + …，所以 ∂L/∂Y0 = ∂L/∂Z1 @ Wy.T：前向乘 Wy，反向乘它的转置。",
    ),
    Mistake(
        "∂L/∂Wy 的乘积顺序反了，得到的是它的转置",
        _grads_by_hand(dwy_transposed=True),
        "Z1 = Y0 @ Wy + …，所以 ∂L/∂Wy = Y0.T @ ∂L/∂Z1，形状 [n_neurons, n_neurons]："
        "Wy[i, j] 连接上一步的神经元 i 和本步的神经元 j。",
    ),
    Mistake(
        "∂L/∂Wx 的乘积顺序反了，得到的是它的转置",
        _grads_by_hand(dwx_transposed=True),
        "Zt = Xt @ Wx + …，所以每一项都是 Xt.T @ ∂L/∂Zt，形状与 Wx 相同：[n_inputs, n_neurons]。",
    ),
]


def _grads_cases() -> list[dict[str, Any]]:
    """Inputs and weights to try (float64).

    * case 1 is square (``n_inputs == n_neurons``) with small weights, so that
      every mistake (transposed results included) runs and changes the numbers;
    * case 2 is the chapter's example (integer inputs, standard-normal weights,
      ``b = 0``: several neurons saturate);
    * case 3 has 3 inputs, 5 neurons, a non-zero bias and small weights.
    """
    rng = np.random.default_rng(4040)
    n = 4
    return [
        {
            "X0": rng.normal(size=(3, n)),
            "X1": rng.normal(size=(3, n)),
            "Wx": rng.uniform(-0.7, 0.7, (n, n)),
            "Wy": rng.uniform(-0.7, 0.7, (n, n)),
            "b": rng.uniform(-0.5, 0.5, n),
        },
        {
            "X0": CHAPTER_X0,
            "X1": CHAPTER_X1,
            "Wx": rng.standard_normal((3, 5)),
            "Wy": rng.standard_normal((5, 5)),
            "b": np.zeros(5),
        },
        {
            "X0": rng.normal(size=(2, 3)),
            "X1": rng.normal(size=(2, 3)),
            "Wx": rng.uniform(-0.6, 0.6, (3, 5)),
            "Wy": rng.uniform(-0.6, 0.6, (5, 5)),
            "b": rng.uniform(-0.5, 0.5, 5),
        },
    ]


def check_two_step_grads(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(X0, X1, Wx, Wy, b) -> (dWx, dWy)``, gradients derived by hand.

    The network is the chapter's two-step layer, ``Y0 = tanh(X0 @ Wx + b)``,
    ``Y1 = tanh(Y0 @ Wy + X1 @ Wx + b)``, and the loss is ``L = sum(Y1)``; the
    reference gradients come from PyTorch's autograd (float64).

    Parameters
    ----------
    fn : callable
        Takes ``X0``, ``X1`` [batch, n_inputs], ``Wx`` [n_inputs, n_neurons],
        ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons] (NumPy arrays; the
        inputs of one case are integers) and returns ``(dWx, dWy)``, shaped
        like ``Wx`` and ``Wy``.

    Returns
    -------
    CheckResult
        Passed, or a Chinese message naming the mistake (the path through
        ``Y0`` left out, a missing tanh derivative, ``Wy`` not transposed on the
        way back, a transposed product, ...).
    """
    return run_checks(
        "手算两步循环层的梯度 ∂L/∂Wx、∂L/∂Wy（L = Y1 所有元素之和）",
        _as_tuple(fn),
        reference=_grads_reference,
        cases=_grads_cases(),
        mistakes=_GRAD_MISTAKES,
        output_names=("dWx", "dWy"),
        axes=(("输入", "神经元"), ("神经元", "神经元")),
    )
