"""companion.compare: differences between two implementations, printed so they hold on any CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.compare import (
    FLOAT32_EPS,
    FLOAT64_EPS,
    as_float64,
    gap_text,
    max_abs_diff,
    round_significant,
)


def test_max_abs_diff_is_the_largest_entry_of_the_difference():
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    b = np.array([[0.0, 1.5], [1.0, 3.0]])
    assert max_abs_diff(a, b) == 1.0
    assert max_abs_diff(b, a) == 1.0


def test_max_abs_diff_accepts_tensors_that_need_grad_and_lists():
    t = torch.tensor([1.0, 2.0], requires_grad=True) * 2
    assert max_abs_diff(t, [2.0, 4.5]) == 0.5
    assert max_abs_diff(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_max_abs_diff_computes_in_float64():
    # 1 + 2**-30 is not a float32 number; the difference must not be lost.
    a = np.float64(1.0 + 2.0**-30)
    assert max_abs_diff(a, 1.0) == 2.0**-30


def test_max_abs_diff_refuses_to_broadcast():
    with pytest.raises(ValueError, match=r"same shape.*a \[4, 5\] and b \[5\]"):
        max_abs_diff(np.zeros((4, 5)), np.zeros(5))


def test_max_abs_diff_names_a_wrong_kind_of_object():
    with pytest.raises(TypeError, match="a must be an array"):
        max_abs_diff({"x": 1}, np.zeros(1))


def test_gap_text_hides_round_off_below_the_bound_and_shows_real_gaps():
    a = np.float32([0.1, 0.2])
    assert gap_text(a, a + np.float32(3e-8), bound=1e-6) == "< 1e-06"
    assert gap_text(a, a, bound=1e-12) == "< 1e-12"
    assert gap_text([0.0, 0.0], [0.0, 0.6128], bound=1e-6) == "0.613"
    with pytest.raises(ValueError, match="bound must be a positive number"):
        gap_text(a, a, bound=0)


def test_machine_epsilons():
    assert FLOAT32_EPS == 2.0**-23
    assert FLOAT64_EPS == 2.0**-52


def test_round_significant_keeps_digits_not_decimals():
    assert round_significant([123456.0, 0.000123456, -2.5e-13], 3).tolist() == [
        123000.0,
        0.000123,
        -2.5e-13,
    ]
    assert round_significant(np.zeros((2, 2))).shape == (2, 2)
    x = round_significant([np.inf, np.nan, 0.0])
    assert x[0] == np.inf and np.isnan(x[1]) and x[2] == 0.0


def test_round_significant_removes_last_bit_differences():
    a = np.array([0.123456789, 3.3e-9, 7.77e5])
    b = a * (1 + 4 * FLOAT64_EPS)
    assert not np.array_equal(a, b)
    assert np.array_equal(round_significant(a), round_significant(b))


@pytest.mark.parametrize("bad", [0, 16, 2.0, True])
def test_round_significant_checks_digits(bad):
    with pytest.raises(ValueError, match="digits must be an int from 1 to 15"):
        round_significant([1.0], bad)


def test_as_float64_converts_tensors_and_names_bad_input():
    t = torch.tensor([[1.0, 2.0]], requires_grad=True)
    out = as_float64(t)
    assert out.dtype == np.float64 and out.tolist() == [[1.0, 2.0]]
    with pytest.raises(TypeError, match="answer must be an array"):
        as_float64({"h": 1}, "answer")
