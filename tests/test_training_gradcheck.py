"""Tests of ``companion.training.gradcheck``: central differences and the relative error (ch. 9)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.training.gradcheck import numerical_gradient, relative_error


def test_numerical_gradient_of_a_known_function():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 3))
    W = rng.standard_normal((3, 2))

    def f():
        return float(np.sum(np.tanh(X @ W)))

    exact = X.T @ (1 - np.tanh(X @ W) ** 2)
    assert relative_error(exact, numerical_gradient(f, W)) < 1e-8


def test_it_catches_a_wrong_gradient():
    """The classic slip, tanh' = 1 - tanh instead of 1 - tanh², scores near 1."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 3))
    W = rng.standard_normal((3, 2))

    def f():
        return np.sum(np.tanh(X @ W))

    numeric = numerical_gradient(f, W)
    right = X.T @ (1 - np.tanh(X @ W) ** 2)
    wrong = X.T @ (1 - np.tanh(X @ W))
    assert relative_error(right, numeric) < 1e-8
    assert relative_error(wrong, numeric) > 0.1


def test_the_array_is_restored_exactly_and_f_called_twice_per_entry():
    W = np.random.default_rng(2).standard_normal((2, 3))
    before = W.copy()
    calls = []

    def f():
        calls.append(1)
        return float(np.sum(W**3))

    grad = numerical_gradient(f, W, eps=1e-5)
    np.testing.assert_array_equal(W, before)
    assert len(calls) == 2 * W.size
    assert grad.shape == W.shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad, 3 * W**2, rtol=1e-8)


def test_the_array_is_restored_when_f_raises():
    W = np.ones(3)

    def f():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(f, W)
    np.testing.assert_array_equal(W, np.ones(3))


@settings(max_examples=30)
@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6))
def test_relative_error_definition(values):
    a = np.array(values)
    assert relative_error(a, a) == 0.0
    b = a * (1 + 1e-9)
    assert relative_error(a, b) <= 1e-9 * (1 + 1e-6)
    assert relative_error(a, -a - 1) > 0.5  # opposite signs: at least 1 wherever nonzero


def test_relative_error_handles_zeros_with_tiny():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([0.0]), np.array([1e-13])) == pytest.approx(0.1)
    assert relative_error(np.array([0.0]), np.array([1e-13]), tiny=1e-15) == pytest.approx(1.0)
    assert relative_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match=r"same shape; got \[3\] and \[2\]"):
        relative_error(np.zeros(3), np.zeros(2))
    with pytest.raises(TypeError, match="array must be a float NumPy array"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match="array must be a float NumPy array"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])
    with pytest.raises(
        TypeError, match=r"f must return a float \(a scalar loss\); got shape \[2\]"
    ):
        numerical_gradient(lambda: np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="eps must be a finite number > 0; got 0"):
        numerical_gradient(lambda: 0.0, np.zeros(3), eps=0)
    with pytest.raises(TypeError, match="f must be a function"):
        numerical_gradient(1.0, np.zeros(3))
