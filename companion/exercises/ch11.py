"""Checkers for the code exercises of chapter 11 (LSTM 与 GRU).

One GRU step and one LSTM step written by hand, with PyTorch's formulas and gate
order; the references are :class:`companion.numpy_rnn.GRUCell` and
:class:`companion.numpy_rnn.LSTMCell`. Row-vector convention: ``x_t`` [batch,
n_inputs], states [batch, n], weights with one column block of width ``n`` per
gate (GRU r, z, n; LSTM i, f, g, o).
"""

from __future__ import annotations

import numpy as np

from companion.cells.numpy_cells import GRUCell, LSTMCell, LSTMState, sigmoid
from companion.exercises.feedback import Exercise, Mistake

__all__ = ["check_gru_step", "check_lstm_step"]

_SIZES = [(3, 4, 2), (2, 5, 3), (4, 3, 1)]  # (batch, n_inputs, n_neurons)


def _draw(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> np.ndarray:
    return rng.uniform(-scale, scale, shape)


# -------------------------------------------------------------------- GRU step


def _gru_cases() -> list[dict[str, np.ndarray]]:
    """Float64 cases with non-zero biases and states, so that every mistake shows."""
    rng = np.random.default_rng(1111)
    cases = []
    for batch, n_inputs, n in _SIZES:
        cases.append(
            {
                "x_t": _draw(rng, (batch, n_inputs), 1.0),
                "h_prev": _draw(rng, (batch, n), 0.9),
                "Wx": _draw(rng, (n_inputs, 3 * n), 0.8),
                "Wy": _draw(rng, (n, 3 * n), 0.8),
                "bx": _draw(rng, (3 * n,), 0.6),
                "by": _draw(rng, (3 * n,), 0.6),
            }
        )
    return cases


def _gru_reference(x_t, h_prev, Wx, Wy, bx, by):
    cell = GRUCell.from_weights(Wx, Wy, bx, by, dtype=np.float64)
    return cell(x_t, h_prev)


def _gru_parts(x_t, h_prev, Wx, Wy, bx, by):
    """Every block of the step: x_r, x_z, x_n and h_r, h_z, h_n (without biases on h)."""
    x_r, x_z, x_n = np.split(x_t @ Wx + bx, 3, axis=1)
    hW_r, hW_z, hW_n = np.split(h_prev @ Wy, 3, axis=1)
    by_r, by_z, by_n = np.split(by, 3)
    return (x_r, x_z, x_n), (hW_r + by_r, hW_z + by_z, hW_n), by_n


def _gru_variant(*, swap_z=False, reset_before=False, swap_rz=False, bias_outside=False):
    """A GRU step with one typical mistake."""

    def step(x_t, h_prev, Wx, Wy, bx, by):
        (x_r, x_z, x_n), (h_r, h_z, hW_n), by_n = _gru_parts(x_t, h_prev, Wx, Wy, bx, by)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        if swap_rz:
            r, z = z, r
        n_cols = Wy.shape[0]
        if reset_before:
            n = np.tanh(x_n + (r * h_prev) @ Wy[:, 2 * n_cols :] + by_n)
        elif bias_outside:
            n = np.tanh(x_n + r * hW_n + by_n)
        else:
            n = np.tanh(x_n + r * (hW_n + by_n))
        if swap_z:
            return z * n + (1 - z) * h_prev
        return (1 - z) * n + z * h_prev

    return step


GRU_STEP = Exercise(
    "一步 GRU（PyTorch 的公式与门顺序 r, z, n）",
    doc="""One GRU step, ``nn.GRU``'s formulas (equations (11.7)-(11.10))::

        r = σ(x_t @ Wx_r + bx_r + h_prev @ Wy_r + by_r)
        z = σ(x_t @ Wx_z + bx_z + h_prev @ Wy_z + by_z)
        n = tanh(x_t @ Wx_n + bx_n + r ⊙ (h_prev @ Wy_n + by_n))
        h_t = (1 - z) ⊙ n + z ⊙ h_prev

    where ``Wx_r, Wx_z, Wx_n`` are the three column blocks of ``Wx`` (width n each),
    in that order; likewise ``Wy``, ``bx``, ``by``.

    Inputs: ``x_t`` [batch, n_inputs], ``h_prev`` [batch, n], ``Wx`` [n_inputs, 3n],
    ``Wy`` [n, 3n], ``bx`` [3n], ``by`` [3n].
    Outputs: ``h_t`` [batch, n].
    """,
    reference=_gru_reference,
    cases=_gru_cases,
    outputs={"h_t": ("实例", "神经元")},
    mistakes=Mistake.table(
        "z 与 1 - z 用反了。按 PyTorch 的约定，更新门 z 接近 1 时保留旧状态："
        "h_t = (1 - z) ⊙ n + z ⊙ h_prev。（有的教材写作 z ⊙ n + (1 - z) ⊙ h_prev，"
        "两种写法只差在 z 的含义，权重不能混用。）",
        _gru_variant(swap_z=True),
        "重置门用在了矩阵乘法之前：算的是 (r ⊙ h_prev) @ Wy_n + by_n。"
        "这是 TensorFlow 1.x 的 GRUCell 与 Cho 等人 2014 年原文的写法"
        "（GRUCell(reset_after=False)）；nn.GRU 与 cuDNN 先做乘法再乘 r："
        "r ⊙ (h_prev @ Wy_n + by_n)。同样的权重，两者的结果不同。",
        _gru_variant(reset_before=True),
        "r 与 z 的列块顺序颠倒了。PyTorch 的顺序是 r, z, n："
        "第 0 块（列 0 到 n-1）属于重置门 r，第 1 块属于更新门 z。",
        _gru_variant(swap_rz=True),
        "偏置 by_n 放在了 r ⊙ (…) 的外面。nn.GRU 里 by_n（bias_hh 的 n 块）"
        "和 h_prev @ Wy_n 一起被重置门缩放：r ⊙ (h_prev @ Wy_n + by_n)；"
        "只有 bx_n 在括号外。这也是 GRU 需要两份偏置、不能像 LSTM 那样合并的原因。",
        _gru_variant(bias_outside=True),
    ),
)
check_gru_step = GRU_STEP.checker("check_gru_step")


# ------------------------------------------------------------------- LSTM step


def _lstm_cases() -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(2222)
    cases = []
    for batch, n_inputs, n in _SIZES:
        cases.append(
            {
                "x_t": _draw(rng, (batch, n_inputs), 1.0),
                "h_prev": _draw(rng, (batch, n), 0.9),
                "c_prev": _draw(rng, (batch, n), 1.5),
                "Wx": _draw(rng, (n_inputs, 4 * n), 0.8),
                "Wy": _draw(rng, (n, 4 * n), 0.8),
                "b": _draw(rng, (4 * n,), 0.6),
            }
        )
    return cases


def _lstm_reference(x_t, h_prev, c_prev, Wx, Wy, b):
    cell = LSTMCell.from_weights(Wx, Wy, b, dtype=np.float64)
    state = cell(x_t, LSTMState(c_prev, h_prev))
    return state.c, state.h


def _lstm_variant(*, swap_ig=False, forget_on_input=False, no_tanh_c=False):
    """An LSTM step with one typical mistake."""

    def step(x_t, h_prev, c_prev, Wx, Wy, b):
        z_i, z_f, z_g, z_o = np.split(x_t @ Wx + h_prev @ Wy + b, 4, axis=1)
        if swap_ig:
            z_i, z_g = z_g, z_i
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
        c = i * c_prev + f * g if forget_on_input else f * c_prev + i * g
        h = o * c if no_tanh_c else o * np.tanh(c)
        return c, h

    return step


LSTM_STEP = Exercise(
    "一步 LSTM（PyTorch 的公式与门顺序 i, f, g, o）",
    doc="""One LSTM step, ``nn.LSTM``'s formulas (equations (11.1)-(11.6))::

        [z_i, z_f, z_g, z_o] = x_t @ Wx + h_prev @ Wy + b     (four column blocks)
        i = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
        c_t = f ⊙ c_prev + i ⊙ g
        h_t = o ⊙ tanh(c_t)

    Inputs: ``x_t`` [batch, n_inputs], ``h_prev`` [batch, n], ``c_prev`` [batch, n],
    ``Wx`` [n_inputs, 4n], ``Wy`` [n, 4n], ``b`` [4n].
    Outputs: ``(c_t, h_t)``, each [batch, n].
    """,
    reference=_lstm_reference,
    cases=_lstm_cases,
    outputs={"c_t": ("实例", "神经元"), "h_t": ("实例", "神经元")},
    mistakes=Mistake.table(
        "i 与 g 的列块顺序颠倒了。PyTorch 的顺序是 i, f, g, o：第 0 块是输入门 i，"
        "第 2 块才是候选值 g。（TensorFlow 1.x 的顺序是 i, j, f, o，j 就是 g；"
        "移植权重时要重排列块。）",
        _lstm_variant(swap_ig=True),
        "遗忘门与输入门用反了：遗忘门乘在了新的候选值上。"
        "遗忘门 f 决定旧单元状态保留多少：c_t = f ⊙ c_prev + i ⊙ g。",
        _lstm_variant(forget_on_input=True),
        "h_t 漏掉了 tanh(c_t)。单元状态 c_t 没有界，先经过 tanh 压到 (-1, 1)，"
        "再由输出门缩放：h_t = o ⊙ tanh(c_t)。",
        _lstm_variant(no_tanh_c=True),
    ),
)
check_lstm_step = LSTM_STEP.checker("check_lstm_step")
