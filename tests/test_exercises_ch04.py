"""Tests of the chapter 4 checkers (``companion.exercises.ch04``).

The reference solution passes (NumPy or torch, tuple or list); every typical
mistake of a hand-unrolled RNN, and of its gradients derived by hand, is named
in its own message; a crashing answer gets a clear message.
"""

from __future__ import annotations

import numpy as np
import pytest

from companion.exercises.ch04 import (
    check_three_step_rnn,
    check_two_step_grads,
    check_two_step_rnn,
)
from companion.exercises.feedback import CheckResult


def two_steps(X0, X1, Wx, Wy, b):
    Y0 = np.tanh(X0 @ Wx + b)
    Y1 = np.tanh(Y0 @ Wy + X1 @ Wx + b)
    return Y0, Y1


def three_steps(X0, X1, X2, Wx, Wy, b):
    Y0, Y1 = two_steps(X0, X1, Wx, Wy, b)
    return Y0, Y1, np.tanh(Y1 @ Wy + X2 @ Wx + b)


# --------------------------------------------------------------------------- two steps


def test_two_steps_reference_passes():
    result = check_two_step_rnn(two_steps)
    assert isinstance(result, CheckResult)
    assert result.passed, str(result)


def test_two_steps_list_and_float32_pass():
    def as_list(X0, X1, Wx, Wy, b):
        f = np.float32
        return list(two_steps(f(X0), f(X1), f(Wx), f(Wy), f(b)))

    assert check_two_step_rnn(as_list)


def test_two_steps_torch_answer_passes():
    torch = pytest.importorskip("torch")

    def in_torch(X0, X1, Wx, Wy, b):
        X0, X1, Wx, Wy, b = (torch.as_tensor(a, dtype=torch.float64) for a in (X0, X1, Wx, Wy, b))
        Y0 = torch.tanh(X0 @ Wx + b)
        return Y0, torch.tanh(Y0 @ Wy + X1 @ Wx + b)

    assert check_two_step_rnn(in_torch)


def tanh_only_first(X0, X1, Wx, Wy, b):
    Y0 = np.tanh(X0 @ Wx + b)
    return Y0, Y0 @ Wy + X1 @ Wx + b


TWO_STEP_MISTAKES = {
    "每个时间步都输入了 X0": lambda X0, X1, Wx, Wy, b: two_steps(X0, X0, Wx, Wy, b),
    "时间步的顺序颠倒": lambda X0, X1, Wx, Wy, b: two_steps(X1, X0, Wx, Wy, b),
    "循环项用了 Wx": lambda X0, X1, Wx, Wy, b: two_steps(X0, X1, Wx, Wx, b),
    "Wx 和 Wy 用反了": lambda X0, X1, Wx, Wy, b: two_steps(X0, X1, Wy, Wx, b),
    "Wx 被转置": lambda X0, X1, Wx, Wy, b: two_steps(X0, X1, Wx.T, Wy, b),
    "Wy 被转置": lambda X0, X1, Wx, Wy, b: two_steps(X0, X1, Wx, Wy.T, b),
    "忘了 tanh": lambda X0, X1, Wx, Wy, b: (X0 @ Wx + b, (X0 @ Wx + b) @ Wy + X1 @ Wx + b),
    "只在第 0 步用了 tanh": tanh_only_first,
    "忘了偏置 b": lambda X0, X1, Wx, Wy, b: two_steps(X0, X1, Wx, Wy, 0 * b),
    "第 1 步漏掉了循环项 Y0 @ Wy": lambda X0, X1, Wx, Wy, b: (
        np.tanh(X0 @ Wx + b),
        np.tanh(X1 @ Wx + b),
    ),
    "第 1 步漏掉了输入项 X1 @ Wx": lambda X0, X1, Wx, Wy, b: (
        np.tanh(X0 @ Wx + b),
        np.tanh(np.tanh(X0 @ Wx + b) @ Wy + b),
    ),
}


@pytest.mark.parametrize("name", list(TWO_STEP_MISTAKES))
def test_two_steps_names_each_mistake(name):
    result = check_two_step_rnn(TWO_STEP_MISTAKES[name])
    assert not result.passed
    assert len(result.messages) == 1
    assert name in result.messages[0], str(result)


def test_two_steps_messages_are_distinct():
    messages = {str(check_two_step_rnn(wrong)) for wrong in TWO_STEP_MISTAKES.values()}
    assert len(messages) == len(TWO_STEP_MISTAKES)


def test_two_steps_unknown_error_reports_output_and_position():
    def off(X0, X1, Wx, Wy, b):
        Y0, Y1 = two_steps(X0, X1, Wx, Wy, b)
        return Y0, Y1 * 0.9

    result = check_two_step_rnn(off)
    assert not result.passed
    message = result.messages[0]
    assert message.startswith("第 1 个测试用例：Y1")
    assert "实例 = " in message and "神经元 = " in message


def test_two_steps_wrong_number_of_outputs():
    result = check_two_step_rnn(lambda X0, X1, Wx, Wy, b: two_steps(X0, X1, Wx, Wy, b)[1])
    assert not result.passed
    assert "应返回 2 个值" in result.messages[0]


def test_two_steps_crash_gets_clear_message():
    def crashes(X0, X1, Wx, Wy, b):
        raise ValueError("matmul: shapes do not match")

    result = check_two_step_rnn(crashes)
    assert not result.passed
    assert "第 1 个测试用例运行出错" in result.messages[0]
    assert "ValueError: matmul: shapes do not match" in result.messages[0]


def test_two_steps_crash_on_a_later_case_names_that_case():
    def crashes_on_rectangular(X0, X1, Wx, Wy, b):
        X0 @ Wy  # only works when n_inputs == n_neurons (case 1)
        return two_steps(X0, X1, Wx, Wy, b)

    result = check_two_step_rnn(crashes_on_rectangular)
    assert not result.passed
    assert "第 2 个测试用例运行出错" in result.messages[0]


def test_two_steps_not_callable():
    result = check_two_step_rnn("Y0, Y1")
    assert not result.passed
    assert "函数" in result.messages[0]


# --------------------------------------------------------------------------- three steps


def test_three_steps_reference_passes():
    result = check_three_step_rnn(three_steps)
    assert result.passed, str(result)


THREE_STEP_MISTAKES = {
    "第 2 步的循环项用了 Y0": lambda X0, X1, X2, Wx, Wy, b: (
        *two_steps(X0, X1, Wx, Wy, b),
        np.tanh(two_steps(X0, X1, Wx, Wy, b)[0] @ Wy + X2 @ Wx + b),
    ),
    "第 2 步输入了 X1": lambda X0, X1, X2, Wx, Wy, b: three_steps(X0, X1, X1, Wx, Wy, b),
    "每个时间步都输入了 X0": lambda X0, X1, X2, Wx, Wy, b: three_steps(X0, X0, X0, Wx, Wy, b),
    "时间步的顺序颠倒": lambda X0, X1, X2, Wx, Wy, b: three_steps(X2, X1, X0, Wx, Wy, b),
    "Wy 被转置": lambda X0, X1, X2, Wx, Wy, b: three_steps(X0, X1, X2, Wx, Wy.T, b),
    "忘了偏置 b": lambda X0, X1, X2, Wx, Wy, b: three_steps(X0, X1, X2, Wx, Wy, 0 * b),
    "第 2 步漏掉了循环项 Y1 @ Wy": lambda X0, X1, X2, Wx, Wy, b: (
        *two_steps(X0, X1, Wx, Wy, b),
        np.tanh(X2 @ Wx + b),
    ),
}


@pytest.mark.parametrize("name", list(THREE_STEP_MISTAKES))
def test_three_steps_names_each_mistake(name):
    result = check_three_step_rnn(THREE_STEP_MISTAKES[name])
    assert not result.passed
    assert name in result.messages[0], str(result)


def test_three_steps_two_outputs_only():
    result = check_three_step_rnn(lambda X0, X1, X2, Wx, Wy, b: two_steps(X0, X1, Wx, Wy, b))
    assert not result.passed
    assert "应返回 3 个值" in result.messages[0]


# --------------------------------------------------------------------------- gradients by hand


def grads(X0, X1, Wx, Wy, b):
    """dL/dWx, dL/dWy for L = sum(Y1), back-propagated by hand."""
    Y0 = np.tanh(X0 @ Wx + b)
    Y1 = np.tanh(Y0 @ Wy + X1 @ Wx + b)
    D1 = 1 - Y1**2  # dL/dZ1 (dL/dY1 = 1)
    D0 = (D1 @ Wy.T) * (1 - Y0**2)  # dL/dZ0
    return X1.T @ D1 + X0.T @ D0, Y0.T @ D1


def test_grads_reference_passes():
    result = check_two_step_grads(grads)
    assert result.passed, str(result)


def test_grads_float32_list_and_torch_answers_pass():
    torch = pytest.importorskip("torch")

    def as_list_float32(X0, X1, Wx, Wy, b):
        f = np.float32
        return list(grads(f(X0), f(X1), f(Wx), f(Wy), f(b)))

    def by_autograd(X0, X1, Wx, Wy, b):
        X0, X1, Wx, Wy, b = (torch.as_tensor(a, dtype=torch.float64) for a in (X0, X1, Wx, Wy, b))
        Wx.requires_grad_()
        Wy.requires_grad_()
        Y1 = torch.tanh(torch.tanh(X0 @ Wx + b) @ Wy + X1 @ Wx + b)
        Y1.sum().backward()
        return Wx.grad, Wy.grad

    assert check_two_step_grads(as_list_float32)
    assert check_two_step_grads(by_autograd)


def only_direct_term(X0, X1, Wx, Wy, b):
    Y0 = np.tanh(X0 @ Wx + b)
    D1 = 1 - np.tanh(Y0 @ Wy + X1 @ Wx + b) ** 2
    return X1.T @ D1, Y0.T @ D1


def no_tanh_derivative(X0, X1, Wx, Wy, b):
    Y0 = np.tanh(X0 @ Wx + b)
    G = np.ones((X0.shape[0], Wx.shape[1]))
    return X1.T @ G + X0.T @ (G @ Wy.T), Y0.T @ G


def no_tanh_derivative_at_step_0(X0, X1, Wx, Wy, b):
    Y0 = np.tanh(X0 @ Wx + b)
    D1 = 1 - np.tanh(Y0 @ Wy + X1 @ Wx + b) ** 2
    return X1.T @ D1 + X0.T @ (D1 @ Wy.T), Y0.T @ D1


def wy_not_transposed(X0, X1, Wx, Wy, b):
    Y0 = np.tanh(X0 @ Wx + b)
    D1 = 1 - np.tanh(Y0 @ Wy + X1 @ Wx + b) ** 2
    return X1.T @ D1 + X0.T @ ((D1 @ Wy) * (1 - Y0**2)), Y0.T @ D1


def dwy_transposed(X0, X1, Wx, Wy, b):
    dWx, dWy = grads(X0, X1, Wx, Wy, b)
    return dWx, dWy.T


def dwx_transposed(X0, X1, Wx, Wy, b):
    dWx, dWy = grads(X0, X1, Wx, Wy, b)
    return dWx.T, dWy


GRAD_MISTAKES = {
    "漏掉了经过 Y0 的那条路径": only_direct_term,
    "漏掉了 tanh 的导数": no_tanh_derivative,
    "第 0 步漏掉了 tanh 的导数": no_tanh_derivative_at_step_0,
    "没有转置 Wy": wy_not_transposed,
    "∂L/∂Wy 的乘积顺序反了": dwy_transposed,
    "∂L/∂Wx 的乘积顺序反了": dwx_transposed,
}


@pytest.mark.parametrize("name", list(GRAD_MISTAKES))
def test_grads_names_each_mistake(name):
    result = check_two_step_grads(GRAD_MISTAKES[name])
    assert not result.passed
    assert len(result.messages) == 1
    assert name in result.messages[0], str(result)


def test_grads_messages_are_distinct():
    messages = {str(check_two_step_grads(wrong)) for wrong in GRAD_MISTAKES.values()}
    assert len(messages) == len(GRAD_MISTAKES)


def test_grads_unfinished_answer_reports_position():
    result = check_two_step_grads(lambda X0, X1, Wx, Wy, b: (np.zeros_like(Wx), np.zeros_like(Wy)))
    assert not result.passed
    assert result.messages[0].startswith("第 1 个测试用例：dWx")
    assert "输入 = " in result.messages[0] and "神经元 = " in result.messages[0]


def test_grads_order_of_outputs_matters():
    result = check_two_step_grads(lambda X0, X1, Wx, Wy, b: grads(X0, X1, Wx, Wy, b)[::-1])
    assert not result.passed
    assert "dWx" in result.messages[0]
