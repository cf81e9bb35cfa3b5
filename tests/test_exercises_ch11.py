"""Tests of the chapter 11 checkers (``companion.exercises.ch11``).

Each typical mistake is written here the way a reader would write it, and must
be named by the checker; a correct answer passes (NumPy and torch); a crash is reported.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.exercises import ch11


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# --------------------------------------------------------------------- GRU step


def gru_step(x_t, h_prev, Wx, Wy, bx, by):
    n = h_prev.shape[1]
    xw = x_t @ Wx + bx
    hw = h_prev @ Wy + by
    r = _sigmoid(xw[:, :n] + hw[:, :n])
    z = _sigmoid(xw[:, n : 2 * n] + hw[:, n : 2 * n])
    cand = np.tanh(xw[:, 2 * n :] + r * hw[:, 2 * n :])
    return (1 - z) * cand + z * h_prev


def gru_step_torch(x_t, h_prev, Wx, Wy, bx, by):
    x_r, x_z, x_n = (x_t @ Wx + bx).chunk(3, dim=1)
    h_r, h_z, h_n = (h_prev @ Wy + by).chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + r * h_n) + z * h_prev


def gru_swapped_z(x_t, h_prev, Wx, Wy, bx, by):
    n = h_prev.shape[1]
    xw, hw = x_t @ Wx + bx, h_prev @ Wy + by
    r = _sigmoid(xw[:, :n] + hw[:, :n])
    z = _sigmoid(xw[:, n : 2 * n] + hw[:, n : 2 * n])
    cand = np.tanh(xw[:, 2 * n :] + r * hw[:, 2 * n :])
    return z * cand + (1 - z) * h_prev


def gru_tf_form(x_t, h_prev, Wx, Wy, bx, by):
    n = h_prev.shape[1]
    xw, hw = x_t @ Wx + bx, h_prev @ Wy + by
    r = _sigmoid(xw[:, :n] + hw[:, :n])
    z = _sigmoid(xw[:, n : 2 * n] + hw[:, n : 2 * n])
    cand = np.tanh(xw[:, 2 * n :] + (r * h_prev) @ Wy[:, 2 * n :] + by[2 * n :])
    return (1 - z) * cand + z * h_prev


def gru_rz_swapped(x_t, h_prev, Wx, Wy, bx, by):
    n = h_prev.shape[1]
    xw, hw = x_t @ Wx + bx, h_prev @ Wy + by
    z = _sigmoid(xw[:, :n] + hw[:, :n])
    r = _sigmoid(xw[:, n : 2 * n] + hw[:, n : 2 * n])
    cand = np.tanh(xw[:, 2 * n :] + r * hw[:, 2 * n :])
    return (1 - z) * cand + z * h_prev


def gru_bias_outside(x_t, h_prev, Wx, Wy, bx, by):
    n = h_prev.shape[1]
    xw, hw = x_t @ Wx + bx, h_prev @ Wy + by
    r = _sigmoid(xw[:, :n] + hw[:, :n])
    z = _sigmoid(xw[:, n : 2 * n] + hw[:, n : 2 * n])
    cand = np.tanh(xw[:, 2 * n :] + r * (h_prev @ Wy[:, 2 * n :]) + by[2 * n :])
    return (1 - z) * cand + z * h_prev


def gru_crashes(x_t, h_prev, Wx, Wy, bx, by):
    return x_t @ Wy  # wrong shapes: a ValueError from NumPy


def test_gru_step_passes_numpy():
    result = ch11.check_gru_step(gru_step)
    assert result.passed, str(result)
    assert "通过" in str(result)


def test_gru_step_passes_torch():
    result = ch11.check_gru_step(gru_step_torch, backend="torch")
    assert result.passed, str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (gru_swapped_z, "z 与 1 - z 用反了"),
        (gru_tf_form, "重置门用在了矩阵乘法之前"),
        (gru_rz_swapped, "r 与 z 的列块顺序颠倒了"),
        (gru_bias_outside, "偏置 by_n 放在了 r ⊙ (…) 的外面"),
    ],
)
def test_gru_step_names_each_mistake(fn, words):
    result = ch11.check_gru_step(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_gru_step_reports_a_crash():
    result = ch11.check_gru_step(gru_crashes)
    assert not result.passed and "运行出错" in str(result)


def test_gru_tf_form_is_companion_reset_after_false():
    """The named TF-form mistake is exactly GRUCell(reset_after=False)."""
    from companion.numpy_rnn import GRUCell

    case = ch11.GRU_STEP.cases()[0]
    cell = GRUCell.from_weights(
        case["Wx"], case["Wy"], case["bx"], case["by"], reset_after=False, dtype=np.float64
    )
    np.testing.assert_allclose(gru_tf_form(*case.values()), cell(case["x_t"], case["h_prev"]))


# -------------------------------------------------------------------- LSTM step


def lstm_step(x_t, h_prev, c_prev, Wx, Wy, b):
    n = h_prev.shape[1]
    zz = x_t @ Wx + h_prev @ Wy + b
    i, f = _sigmoid(zz[:, :n]), _sigmoid(zz[:, n : 2 * n])
    g, o = np.tanh(zz[:, 2 * n : 3 * n]), _sigmoid(zz[:, 3 * n :])
    c = f * c_prev + i * g
    return c, o * np.tanh(c)


def lstm_step_torch(x_t, h_prev, c_prev, Wx, Wy, b):
    z_i, z_f, z_g, z_o = (x_t @ Wx + h_prev @ Wy + b).chunk(4, dim=1)
    c = torch.sigmoid(z_f) * c_prev + torch.sigmoid(z_i) * torch.tanh(z_g)
    return c, torch.sigmoid(z_o) * torch.tanh(c)


def lstm_ig_swapped(x_t, h_prev, c_prev, Wx, Wy, b):
    n = h_prev.shape[1]
    zz = x_t @ Wx + h_prev @ Wy + b
    g, f = np.tanh(zz[:, :n]), _sigmoid(zz[:, n : 2 * n])
    i, o = _sigmoid(zz[:, 2 * n : 3 * n]), _sigmoid(zz[:, 3 * n :])
    c = f * c_prev + i * g
    return c, o * np.tanh(c)


def lstm_forget_on_input(x_t, h_prev, c_prev, Wx, Wy, b):
    n = h_prev.shape[1]
    zz = x_t @ Wx + h_prev @ Wy + b
    i, f = _sigmoid(zz[:, :n]), _sigmoid(zz[:, n : 2 * n])
    g, o = np.tanh(zz[:, 2 * n : 3 * n]), _sigmoid(zz[:, 3 * n :])
    c = i * c_prev + f * g
    return c, o * np.tanh(c)


def lstm_no_tanh(x_t, h_prev, c_prev, Wx, Wy, b):
    n = h_prev.shape[1]
    zz = x_t @ Wx + h_prev @ Wy + b
    i, f = _sigmoid(zz[:, :n]), _sigmoid(zz[:, n : 2 * n])
    g, o = np.tanh(zz[:, 2 * n : 3 * n]), _sigmoid(zz[:, 3 * n :])
    c = f * c_prev + i * g
    return c, o * c


def lstm_only_h(x_t, h_prev, c_prev, Wx, Wy, b):
    return lstm_step(x_t, h_prev, c_prev, Wx, Wy, b)[1]


def test_lstm_step_passes_numpy():
    result = ch11.check_lstm_step(lstm_step)
    assert result.passed, str(result)


def test_lstm_step_passes_torch():
    result = ch11.check_lstm_step(lstm_step_torch, backend="torch")
    assert result.passed, str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lstm_ig_swapped, "i 与 g 的列块顺序颠倒了"),
        (lstm_forget_on_input, "遗忘门与输入门用反了"),
        (lstm_no_tanh, "漏掉了 tanh(c_t)"),
    ],
)
def test_lstm_step_names_each_mistake(fn, words):
    result = ch11.check_lstm_step(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_lstm_step_asks_for_two_outputs():
    result = ch11.check_lstm_step(lstm_only_h)
    assert not result.passed and "2 个值" in str(result), str(result)
