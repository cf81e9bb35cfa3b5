"""Tests of the chapter 9 checker (``companion.exercises.ch09``).

Each typical mistake is written here the way a reader would write it, and must
be named by the checker; a correct answer passes (NumPy and torch); a crash is reported.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion import numpy_rnn as nrnn
from companion.exercises import ch09
from companion.training import backward, forward


def bptt_step(dy_t, g_next, h_t, h_prev, x_t, Wy):
    delta = dy_t + g_next @ Wy.T
    g_t = delta * (1 - h_t**2)
    return g_t, x_t.T @ g_t, h_prev.T @ g_t, g_t.sum(axis=0)


def bptt_step_torch(dy_t, g_next, h_t, h_prev, x_t, Wy):
    assert isinstance(Wy, torch.Tensor)
    delta = dy_t + g_next @ Wy.T
    g_t = delta * (1 - h_t * h_t)
    return [g_t, x_t.T @ g_t, h_prev.T @ g_t, g_t.sum(dim=0)]


def no_tanh_derivative(dy_t, g_next, h_t, h_prev, x_t, Wy):
    g_t = dy_t + g_next @ Wy.T
    return g_t, x_t.T @ g_t, h_prev.T @ g_t, g_t.sum(axis=0)


def derivative_without_square(dy_t, g_next, h_t, h_prev, x_t, Wy):
    g_t = (dy_t + g_next @ Wy.T) * (1 - h_t)
    return g_t, x_t.T @ g_t, h_prev.T @ g_t, g_t.sum(axis=0)


def no_recurrent_path(dy_t, g_next, h_t, h_prev, x_t, Wy):
    g_t = dy_t * (1 - h_t**2)
    return g_t, x_t.T @ g_t, h_prev.T @ g_t, g_t.sum(axis=0)


def untransposed_Wy(dy_t, g_next, h_t, h_prev, x_t, Wy):
    g_t = (dy_t + g_next @ Wy) * (1 - h_t**2)
    return g_t, x_t.T @ g_t, h_prev.T @ g_t, g_t.sum(axis=0)


def h_t_in_dWy(dy_t, g_next, h_t, h_prev, x_t, Wy):
    g_t = (dy_t + g_next @ Wy.T) * (1 - h_t**2)
    return g_t, x_t.T @ g_t, h_t.T @ g_t, g_t.sum(axis=0)


def db_per_instance(dy_t, g_next, h_t, h_prev, x_t, Wy):
    g_t = (dy_t + g_next @ Wy.T) * (1 - h_t**2)
    return g_t, x_t.T @ g_t, h_prev.T @ g_t, g_t


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_correct_answer_passes(backend):
    fn = bptt_step if backend == "numpy" else bptt_step_torch
    result = ch09.check_bptt_step(fn, backend=backend)
    assert result.passed, str(result)
    assert "全部 4 个测试用例一致" in str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (no_tanh_derivative, "忘了乘 tanh 的导数"),
        (derivative_without_square, "少了平方"),
        (no_recurrent_path, "漏掉了来自未来的路径"),
        (untransposed_Wy, "没有转置"),
        (h_t_in_dWy, "dWy 用了 h_t"),
        (db_per_instance, "db 没有对批量求和"),
    ],
)
def test_each_mistake_is_named(fn, words):
    result = ch09.check_bptt_step(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_reference_is_the_loop_body_of_backward():
    """Running the step backwards over a sequence gives companion's BPTT gradients."""
    rng = np.random.default_rng(0)
    cell = nrnn.BasicRNNCell(2, 3, seed=1, dtype=np.float64)
    X = rng.normal(size=(4, 5, 2))
    dY = rng.normal(size=(4, 5, 3))
    _, cache = forward(cell, X)
    want = backward(cell, cache, dY)
    g_next = np.zeros((4, 3))
    total = [np.zeros_like(cell.Wx), np.zeros_like(cell.Wy), np.zeros_like(cell.b)]
    for t in reversed(range(5)):
        h_prev = cache.states[:, t - 1] if t > 0 else cache.initial_state
        g_next, *parts = ch09._step(dY[:, t], g_next, cache.states[:, t], h_prev, X[:, t], cell.Wy)
        total = [a + b for a, b in zip(total, parts, strict=True)]
    for got, expected in zip(total, (want.Wx, want.Wy, want.b), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_unknown_mistake_wrong_count_and_crash():
    result = ch09.check_bptt_step(lambda *args: bptt_step(*args)[0] * 2)
    assert not result.passed and "应返回 4 个值" in str(result)
    result = ch09.check_bptt_step(lambda *args: tuple(2 * a for a in bptt_step(*args)))
    assert not result.passed and "g_t 的数值不对" in str(result)

    def crashes(*args):
        raise RuntimeError("boom")

    result = ch09.check_bptt_step(crashes)
    assert not result.passed and "boom" in str(result)
    assert not ch09.check_bptt_step(None).passed
