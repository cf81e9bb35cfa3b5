"""Tests of the chapter 6 checkers (``companion.exercises.ch06``).

The reference solutions pass; each typical mistake gets its own message; a
crashing function gets a clear message. The byte-count checker compares with
a measurement, and the measurement must agree with the closed formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from companion.exercises import ch06


def swap_numpy(outputs):
    return np.swapaxes(outputs, 0, 1)


def transpose_numpy(outputs):
    return outputs.transpose(1, 0, 2)


def permute_torch(outputs):
    return outputs.permute(1, 0, 2)


def kept_bytes(batch, n_steps, n_inputs, n_neurons, chunk):
    return 4 * batch * (n_inputs * n_steps + n_neurons * math.ceil(n_steps / chunk))


@pytest.mark.parametrize("fn", [swap_numpy, transpose_numpy, lambda o: np.moveaxis(o, 1, 0)])
def test_time_major_reference_solutions_pass(fn):
    result = ch06.check_time_major(fn)
    assert result.passed, str(result)


def test_time_major_torch_solution_passes():
    assert ch06.check_time_major(permute_torch, backend="torch").passed
    assert ch06.check_time_major(lambda o: o.transpose(0, 1), backend="torch").passed


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lambda o: o.reshape(o.shape[1], o.shape[0], o.shape[2]), "reshape"),
        (lambda o: o, "原样返回"),
        (lambda o: o.transpose(0, 2, 1), "后两个轴"),
        (lambda o: o.T, "整个倒了过来"),
    ],
)
def test_time_major_mistakes_are_named(fn, words):
    result = ch06.check_time_major(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_time_major_reshape_in_torch_is_named():
    result = ch06.check_time_major(
        lambda o: o.reshape(o.shape[1], o.shape[0], o.shape[2]), backend="torch"
    )
    assert not result.passed and "reshape" in str(result)


def test_time_major_in_place_changes_do_not_leak_into_later_cases():
    def swaps_and_scribbles(outputs):
        result = np.swapaxes(outputs, 0, 1).copy()
        outputs[...] = 0
        return result

    assert ch06.check_time_major(swaps_and_scribbles).passed


def test_measured_bytes_equal_the_formula():
    for case in ch06._BYTES_CASES:
        assert ch06.measured_checkpoint_bytes(*case) == kept_bytes(*case)


def test_checkpoint_bytes_reference_passes():
    result = ch06.check_checkpoint_bytes(kept_bytes)
    assert result.passed, str(result)
    assert "实测" in str(result)


def test_checkpoint_bytes_accepts_numpy_and_torch_integers():
    assert ch06.check_checkpoint_bytes(lambda *case: np.int64(kept_bytes(*case))).passed
    assert ch06.check_checkpoint_bytes(lambda *case: torch.tensor(kept_bytes(*case))).passed


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lambda b, n, i, h, k: 4 * b * (i * n + h * (n // k)), "向下取整"),
        (lambda b, n, i, h, k: 4 * b * (i * n + h * (math.ceil(n / k) + 1)), "多算了一个状态"),
        (lambda b, n, i, h, k: 4 * b * h * math.ceil(n / k), "漏掉了输入"),
        (lambda b, n, i, h, k: 4 * b * ((i + h) * n + h), "不做检查点"),
        (lambda b, n, i, h, k: 8 * b * (i * n + h * math.ceil(n / k)), "float64"),
    ],
)
def test_checkpoint_bytes_mistakes_are_named(fn, words):
    result = ch06.check_checkpoint_bytes(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_checkpoint_bytes_unknown_error_reports_both_numbers():
    result = ch06.check_checkpoint_bytes(lambda *case: kept_bytes(*case) + 3)
    assert not result.passed
    want = kept_bytes(4, 12, 3, 5, 3)  # the first case
    assert f"实测 {want} 字节" in str(result) and f"{want + 3} 字节" in str(result)
    assert "+3" in str(result)


def test_checkpoint_bytes_wrong_return_type():
    result = ch06.check_checkpoint_bytes(lambda *case: "很多")
    assert not result.passed and "整数" in str(result)


@pytest.mark.parametrize("check", [ch06.check_time_major, ch06.check_checkpoint_bytes])
def test_a_crashing_function_gets_a_clear_message(check):
    def crashes(*args):
        raise ZeroDivisionError("division by zero")

    result = check(crashes)
    assert not result.passed
    assert "运行出错" in str(result) and "ZeroDivisionError" in str(result)


@pytest.mark.parametrize("check", [ch06.check_time_major, ch06.check_checkpoint_bytes])
def test_not_a_function(check):
    result = check(42)
    assert not result.passed and "函数" in str(result)


def test_bad_backend_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="backend"):
        ch06.check_time_major(swap_numpy, backend="cupy")
