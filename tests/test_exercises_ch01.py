"""The checkers of chapter 1: the right answer passes, each typical mistake is named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.exercises import CheckResult, ch01


def rnn_step(Wx, Wy, b, x, h):
    return np.tanh(x @ Wx + h @ Wy + b)


def stack_weights(Wx, Wy):
    return np.vstack([Wx, Wy])


def stacked_step(W, b, x, h):
    return np.tanh(np.concatenate([x, h], axis=1) @ W + b)


CHECKERS = [
    (ch01.check_rnn_step, rnn_step, ch01.RNN_STEP.mistakes),
    (ch01.check_stack_weights, stack_weights, ch01.STACK_WEIGHTS.mistakes),
    (ch01.check_stacked_step, stacked_step, ch01.STACKED_STEP.mistakes),
]
IDS = ["rnn_step", "stack_weights", "stacked_step"]


@pytest.mark.parametrize(("check", "solution", "mistakes"), CHECKERS, ids=IDS)
def test_reference_solution_passes(check, solution, mistakes):
    result = check(solution)
    assert isinstance(result, CheckResult)
    assert result.passed and bool(result)
    assert str(result).startswith("✔ 通过")


def test_rnn_step_transposed_weights_named_even_though_non_square_cases_would_crash():
    result = ch01.check_rnn_step(lambda Wx, Wy, b, x, h: np.tanh(x @ Wx.T + h @ Wy.T + b))
    assert "第 1 个测试用例：权重矩阵被转置了" in result.messages[0]


def test_crashing_function_gets_a_clear_message():
    def broken(Wx, Wy, b, x, h):
        return np.tanh(x @ h + b)  # [batch, n_inputs] @ [batch, n_neurons]: shapes do not fit

    def raises(Wx, Wy, b, x, h):
        raise RuntimeError("boom")

    result = ch01.check_rnn_step(raises)
    assert not result.passed
    assert result.messages == ["第 1 个测试用例运行出错：RuntimeError: boom"]
    result = ch01.check_rnn_step(broken)
    assert not result.passed
    assert "运行出错" in result.messages[0] and "ValueError" in result.messages[0]


def test_forgotten_return_is_named():
    result = ch01.check_rnn_step(lambda Wx, Wy, b, x, h: None)
    assert not result.passed
    assert "忘了写 return" in result.messages[0]


def test_wrong_numbers_are_located():
    result = ch01.check_rnn_step(lambda Wx, Wy, b, x, h: rnn_step(Wx, Wy, b, x, h) + 1e-3)
    message = result.messages[0]
    assert "h_t 的数值不对" in message and "实例 = " in message and "神经元 = " in message


def test_wrong_shape_is_reported():
    result = ch01.check_stack_weights(lambda Wx, Wy: np.zeros((2, 2)))
    assert "W 的形状应为 [8, 4]，得到的是 [2, 2]" in result.messages[0]


def test_in_place_updates_do_not_spoil_the_cases():
    def in_place(Wx, Wy, b, x, h):
        h[...] = np.tanh(x @ Wx + h @ Wy + b)
        return h

    assert ch01.check_rnn_step(in_place).passed
    assert ch01.check_rnn_step(rnn_step).passed


def test_torch_answers_are_accepted():
    def torch_step(Wx, Wy, b, x, h):
        t = torch.as_tensor
        return torch.tanh(t(x) @ t(Wx) + t(h) @ t(Wy) + t(b))

    assert ch01.check_rnn_step(torch_step).passed


def test_cases_are_reproducible_and_unsaturated():
    first, second = ch01.RNN_STEP.cases(), ch01.RNN_STEP.cases()
    for a, b in zip(first, second, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    for case in first:
        out = rnn_step(**case)
        assert np.abs(out).max() < 0.999  # tanh is not saturated: "forgot tanh" differs


# ------------------------------------------------------------ no_recurrence (Wy = 0)


def no_recurrence(Wx, b, X):
    return np.tanh(X @ Wx + b)


def no_recurrence_loop(Wx, b, X):
    return np.stack([np.tanh(X[:, t] @ Wx + b) for t in range(X.shape[1])], axis=1)


@pytest.mark.parametrize("fn", [no_recurrence, no_recurrence_loop])
def test_no_recurrence_reference_solutions_pass(fn):
    result = ch01.check_no_recurrence(fn)
    assert result.passed, str(result)
    assert str(result).startswith("✔ 通过")


def test_no_recurrence_accepts_torch_and_cells():
    def with_torch(Wx, b, X):
        return torch.tanh(torch.as_tensor(X) @ torch.as_tensor(Wx) + torch.as_tensor(b))

    def with_a_cell(Wx, b, X):
        cell = ch01.BasicRNNCell.from_weights(Wx, np.zeros((Wx.shape[1],) * 2), b)
        return ch01.dynamic_rnn(cell, X)[0]

    assert ch01.check_no_recurrence(with_torch).passed
    assert ch01.check_no_recurrence(with_a_cell).passed


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (
            lambda Wx, b, X: np.stack([np.tanh(X[:, t] @ Wx + b) for t in range(X.shape[1])]),
            "时间优先",
        ),
        (lambda Wx, b, X: np.tanh(X[:, -1] @ Wx + b), "最后一个时间步"),
        (lambda Wx, b, X: np.tanh(X @ Wx.T + b), "转置"),
        (lambda Wx, b, X: np.tanh(X @ Wx), "偏置"),
        (lambda Wx, b, X: X @ Wx + b, "tanh"),
    ],
)
def test_no_recurrence_mistakes_written_by_hand_are_named(fn, words):
    result = ch01.check_no_recurrence(fn)
    assert not result.passed
    assert words in result.messages[0], str(result)


def test_no_recurrence_crash_and_unknown_error():
    def crashes(Wx, b, X):
        return np.tanh(X @ Wx + b[:, None])  # b as a column: shapes do not broadcast

    result = ch01.check_no_recurrence(crashes)
    assert not result.passed
    assert "第 1 个测试用例运行出错" in result.messages[0] and "ValueError" in result.messages[0]
    result = ch01.check_no_recurrence(lambda Wx, b, X: no_recurrence(Wx, b, X) * 1.01)
    message = result.messages[0]
    assert "outputs 的数值不对" in message and "时间步 = " in message


def test_no_recurrence_cases_are_recurrent_for_a_real_Wy():
    """With a non-zero Wy the outputs would differ: the exercise is not trivial."""
    for case in ch01.NO_RECURRENCE.cases():
        Wx, b, X = case["Wx"], case["b"], case["X"]
        if X.shape[1] < 2:
            continue
        with_loop = ch01._run_with_Wy(Wx, np.full((Wx.shape[1],) * 2, 0.5), b, X)
        assert np.abs(with_loop - no_recurrence(Wx, b, X)).max() > 1e-2
