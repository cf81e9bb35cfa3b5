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


@pytest.mark.parametrize("check", [ch05.check_unstack, ch05.check_stack])
def test_bad_backend_raises_value_error_naming_it(check):
    with pytest.raises(ValueError, match="backend"):
        check(unstack_numpy, backend="jax")
