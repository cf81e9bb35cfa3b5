"""Tests of the chapter 5 checkers (``companion.exercises.ch05``).

The reference solutions pass (NumPy and PyTorch, list or tuple); each typical
mistake gets its own message; a crashing function, a single array instead of
a list, and a list of the wrong length get clear messages.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.exercises import ch05


def unstack_numpy(X):
    return [X[:, t] for t in range(X.shape[1])]


def unstack_moveaxis(X):
    return list(np.moveaxis(X, 1, 0))


def unstack_torch(X):
    return X.unbind(1)  # a tuple


def stack_numpy(outputs):
    return np.stack(outputs, axis=1)


def stack_transpose(outputs):
    return np.stack(outputs).transpose(1, 0, 2)


def stack_torch(outputs):
    return torch.stack(outputs, dim=1)


@pytest.mark.parametrize("fn", [unstack_numpy, unstack_moveaxis])
def test_unstack_reference_solutions_pass(fn):
    result = ch05.check_unstack(fn)
    assert result.passed, str(result)
    assert "通过" in str(result)


def test_unstack_torch_solution_passes_with_a_tuple():
    result = ch05.check_unstack(unstack_torch, backend="torch")
    assert result.passed, str(result)


@pytest.mark.parametrize("fn", [stack_numpy, stack_transpose])
def test_stack_reference_solutions_pass(fn):
    result = ch05.check_stack(fn)
    assert result.passed, str(result)


def test_stack_torch_solution_passes():
    result = ch05.check_stack(stack_torch, backend="torch")
    assert result.passed, str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lambda X: list(X), "沿批量轴"),
        (lambda X: [X[:, t : t + 1] for t in range(X.shape[1])], "长度为 1 的时间轴"),
        (lambda X: np.split(X, X.shape[1], axis=1), "长度为 1 的时间轴"),
        (lambda X: list(X.reshape(X.shape[1], X.shape[0], X.shape[2])), "reshape"),
        (lambda X: [X[:, :, i] for i in range(X.shape[2])], "特征轴"),
    ],
)
def test_unstack_mistakes_are_named(fn, words):
    result = ch05.check_unstack(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_unstack_reshape_mistake_in_torch_is_named():
    result = ch05.check_unstack(
        lambda X: list(X.reshape(X.shape[1], X.shape[0], X.shape[2])), backend="torch"
    )
    assert not result.passed and "reshape" in str(result)


def test_unstack_single_array_is_not_a_list():
    result = ch05.check_unstack(lambda X: np.moveaxis(X, 1, 0))
    assert not result.passed
    assert "列表" in str(result) and "数组" in str(result)


def test_unstack_wrong_number_of_items_is_reported():
    result = ch05.check_unstack(lambda X: [X[:, t] for t in range(X.shape[1] - 1)])
    assert not result.passed
    assert "n_steps = 2" in str(result), str(result)


def test_unstack_generator_and_unequal_items_are_reported():
    result = ch05.check_unstack(lambda X: (X[:, t] for t in range(X.shape[1])))
    assert not result.passed and "generator" in str(result)
    result = ch05.check_unstack(lambda X: [X[:, 0], X[:, 0, :2]])
    assert not result.passed and "不一致" in str(result)


def test_unstack_time_steps_in_the_wrong_order_get_a_precise_message():
    result = ch05.check_unstack(lambda X: [X[:, t] for t in reversed(range(X.shape[1]))])
    assert not result.passed
    assert "时间步 = " in str(result) and "最大差距" in str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lambda outputs: np.stack(outputs), "时间优先"),
        (
            lambda outputs: np.stack(outputs).reshape(
                outputs[0].shape[0], len(outputs), outputs[0].shape[1]
            ),
            "reshape",
        ),
        (lambda outputs: np.concatenate(outputs, axis=1), "沿神经元轴拼接"),
        (lambda outputs: np.concatenate(outputs, axis=0), "沿批量轴拼接"),
    ],
)
def test_stack_mistakes_are_named(fn, words):
    result = ch05.check_stack(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_stack_torch_mistake_is_named():
    result = ch05.check_stack(lambda outputs: torch.stack(outputs), backend="torch")
    assert not result.passed and "时间优先" in str(result)


@pytest.mark.parametrize("check", [ch05.check_unstack, ch05.check_stack])
def test_a_crashing_function_gets_a_clear_message(check):
    def crashes(arg):
        raise KeyError("oops")

    result = check(crashes)
    assert not result.passed
    assert "运行出错" in str(result) and "KeyError" in str(result)


@pytest.mark.parametrize("check", [ch05.check_unstack, ch05.check_stack])
def test_not_a_function(check):
    result = check("X[:, t]")
    assert not result.passed and "函数" in str(result)


# --------------------------------------------------------- node count and saved bytes


def n_nodes(n_steps, n_inputs, n_neurons):
    return 6 * n_steps + 6


def saved_bytes(batch, n_steps, n_inputs, n_neurons):
    return 4 * batch * ((n_inputs + n_neurons) * n_steps + n_neurons)


def test_measurements_equal_the_closed_formulas():
    for case in ch05.NODE_COUNT.cases:
        assert ch05.measured_node_count(*case) == n_nodes(*case)
    for case in ch05.SAVED_BYTES.cases:
        assert ch05.measured_saved_bytes(*case) == saved_bytes(*case)


def test_formula_reference_solutions_pass():
    for check, fn in ((ch05.check_node_count, n_nodes), (ch05.check_saved_bytes, saved_bytes)):
        result = check(fn)
        assert result.passed, str(result)
        assert "实测" in str(result)


def test_formula_checkers_accept_numpy_and_torch_integers():
    assert ch05.check_node_count(lambda *case: np.int64(n_nodes(*case))).passed
    assert ch05.check_saved_bytes(lambda *case: torch.tensor(saved_bytes(*case))).passed


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lambda b, n, i, h: 4 * b * (i + h) * n, "初始状态"),
        (lambda b, n, i, h: 4 * b * (h * n + h), "只算了隐状态"),
        (lambda b, n, i, h: 4 * b * (i * n + h), "漏掉了隐状态"),
        (lambda b, n, i, h: 4 * b * ((i + 2 * h) * n + h), "算了两次"),
        (lambda b, n, i, h: 8 * b * ((i + h) * n + h), "float64"),
        (lambda b, n, i, h: 4 * ((i + h) * n + h), "batch"),
    ],
)
def test_saved_bytes_mistakes_written_by_hand_are_named(fn, words):
    result = ch05.check_saved_bytes(fn)
    assert not result.passed
    assert words in result.messages[0], str(result)


def test_node_count_mistakes_written_by_hand_are_named():
    assert "截距" in ch05.check_node_count(lambda n, i, h: 6 * n).messages[0]
    assert "少数了一个节点" in ch05.check_node_count(lambda n, i, h: 5 * n + 6).messages[0]
    result = ch05.check_node_count(lambda n, i, h: 6 * n + 6 + 2 * h)  # grows with the layer
    assert "第 1 个测试用例" in result.messages[0] and "实测 66 个节点" in result.messages[0]
    result = ch05.check_node_count(lambda n, i, h: 6 * n + 6 + (h - 5))  # right for the chapter
    assert "第 2 个测试用例" in result.messages[0]
    assert "节点数随层的大小变了" in result.messages[0], str(result)


def test_formula_unknown_error_reports_both_numbers():
    result = ch05.check_saved_bytes(lambda *case: saved_bytes(*case) + 3)
    assert not result.passed
    assert "实测 1616 字节" in result.messages[0] and "+3" in result.messages[0]


def test_formula_wrong_return_type():
    result = ch05.check_node_count(lambda *case: "很多")
    assert not result.passed and "应返回一个整数（节点数）" in result.messages[0]
    result = ch05.check_saved_bytes(lambda *case: [1, 2])
    assert not result.passed and "应返回一个整数（字节数）" in result.messages[0]


@pytest.mark.parametrize("check", [ch05.check_node_count, ch05.check_saved_bytes])
def test_formula_crash_and_not_a_function(check):
    def crashes(*args):
        raise ZeroDivisionError("division by zero")

    result = check(crashes)
    assert not result.passed
    assert "运行出错" in result.messages[0] and "ZeroDivisionError" in result.messages[0]
    result = check(42)
    assert not result.passed and "请传入一个函数" in result.messages[0]
