"""Checkers for the code exercises of chapter 9 (训练 RNN：随时间反向传播).

One step of back-propagation through time for the basic cell, written out by the
reader; the reference is the body of the loop in
:func:`companion.training.bptt.backward` (equations (9.3)-(9.5) of the chapter)::

    δ_t   = dy_t + g_next @ Wy.T          dL/dh_t: this step's loss + the future
    g_t   = δ_t ⊙ (1 - h_t²)              dL/da_t (tanh' written with h_t = tanh(a_t))
    dWx_t = x_tᵀ @ g_t;   dWy_t = h_prevᵀ @ g_t;   db_t = Σ_batch g_t

The cases are float64, with ``n_inputs != n_neurons`` and ``h_prev != h_t``, so that
each typical mistake gives a different answer.
"""

from __future__ import annotations

import numpy as np

from companion.exercises.cases import random_weights
from companion.exercises.feedback import Exercise, Mistake

__all__ = ["check_bptt_step"]


def _step(dy_t, g_next, h_t, h_prev, x_t, Wy):
    delta = dy_t + g_next @ Wy.T
    g = delta * (1 - h_t**2)
    return g, x_t.T @ g, h_prev.T @ g, g.sum(axis=0)


def _with_g(g, h_prev, x_t):
    """The contributions of a (wrong) ``g``: the rest of the step done right."""
    return g, x_t.T @ g, h_prev.T @ g, g.sum(axis=0)


def _cases() -> list[dict[str, np.ndarray]]:
    """Consistent values of one step: h_t = tanh(x_t Wx + h_prev Wy + b)."""
    rng = np.random.default_rng(9)
    cases = []
    for batch, n_inputs, n_neurons in [(3, 2, 4), (2, 3, 5), (4, 1, 3), (1, 4, 2)]:
        Wx, Wy, b = random_weights(rng, n_inputs, n_neurons, scale=0.8, bias=0.3)
        x_t = rng.normal(size=(batch, n_inputs))
        h_prev = np.tanh(rng.normal(size=(batch, n_neurons)))
        h_t = np.tanh(x_t @ Wx + h_prev @ Wy + b)
        cases.append(
            {
                "dy_t": rng.normal(size=(batch, n_neurons)),
                "g_next": rng.normal(size=(batch, n_neurons)),
                "h_t": h_t,
                "h_prev": h_prev,
                "x_t": x_t,
                "Wy": Wy,
            }
        )
    return cases


BPTT_STEP = Exercise(
    "随时间反向传播的一步",
    doc="""One backward step of BPTT for the basic cell h_t = tanh(x_t Wx + h_prev Wy + b)::

        delta = dy_t + g_next @ Wy.T       (dL/dh_t, total)
        g_t   = delta * (1 - h_t**2)       (dL/da_t)
        dWx   = x_t.T @ g_t;  dWy = h_prev.T @ g_t;  db = g_t.sum(axis=0)

    Inputs: ``dy_t`` [batch, n_neurons] (∂L/∂h_t, this step's loss only), ``g_next``
    [batch, n_neurons] (dL/da_{t+1}), ``h_t``, ``h_prev`` [batch, n_neurons], ``x_t``
    [batch, n_inputs], ``Wy`` [n_neurons, n_neurons].
    Outputs: ``g_t`` [batch, n_neurons], ``dWx`` [n_inputs, n_neurons], ``dWy``
    [n_neurons, n_neurons], ``db`` [n_neurons].
    """,
    reference=_step,
    cases=_cases,
    outputs={
        "g_t": ("实例", "神经元"),
        "dWx": ("输入", "神经元"),
        "dWy": ("上一步的神经元", "神经元"),
        "db": ("神经元",),
    },
    mistakes=Mistake.table(
        "忘了乘 tanh 的导数 1 - h_t²。δ_t 是对 h_t 的导数，而权重出现在 a_t 里："
        "要先经过 h_t = tanh(a_t) 这一步，g_t = δ_t ⊙ (1 - h_t²)，再求权重的梯度。",
        lambda dy, gn, h, hp, x, Wy: _with_g(dy + gn @ Wy.T, hp, x),
        "tanh 的导数写成了 1 - h_t（少了平方）。tanh'(a) = 1 - tanh(a)²，"
        "而 h_t = tanh(a_t)，所以导数是 1 - h_t**2。",
        lambda dy, gn, h, hp, x, Wy: _with_g((dy + gn @ Wy.T) * (1 - h), hp, x),
        "漏掉了来自未来的路径 g_next @ Wy.T，只用了这一步的损失 dy_t。"
        "h_t 还通过 a_{t+1} = x_{t+1} Wx + h_t Wy + b 影响后面所有的损失，"
        "全导数是两条路径之和：δ_t = dy_t + g_next @ Wy.T。",
        lambda dy, gn, h, hp, x, Wy: _with_g(dy * (1 - h**2), hp, x),
        "循环路径上的 Wy 没有转置（写成了 g_next @ Wy）。a_{t+1}[i, j] = Σ_k h_t[i, k] Wy[k, j]，"
        "对 h_t[i, k] 求导得 Σ_j g_next[i, j] Wy[k, j]，即 g_next @ Wy.T。"
        "Wy 是方阵，形状对了也可能是错的。",
        lambda dy, gn, h, hp, x, Wy: _with_g((dy + gn @ Wy) * (1 - h**2), hp, x),
        "dWy 用了 h_t 而不是 h_prev。在 a_t = x_t Wx + h_prev Wy + b 中，"
        "与 Wy 相乘的是上一步的状态，所以 dWy = h_prev.T @ g_t。",
        lambda dy, gn, h, hp, x, Wy: (lambda r: (r[0], r[1], h.T @ r[0], r[3]))(
            _step(dy, gn, h, hp, x, Wy)
        ),
        "db 没有对批量求和（返回了每个实例一行）。同一个 b 加在每个实例上，"
        "它的梯度是各实例的贡献之和：db = g_t.sum(axis=0)，形状 [n_neurons]。",
        lambda dy, gn, h, hp, x, Wy: (lambda r: (r[0], r[1], r[2], r[0]))(
            _step(dy, gn, h, hp, x, Wy)
        ),
    ),
)
check_bptt_step = BPTT_STEP.checker("check_bptt_step")
