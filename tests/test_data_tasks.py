"""Tests of ``companion.data``: the echo task (chapter 9) and the adding problem (chapter 11)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.data import MEAN_PREDICTOR_MSE, adding_problem, echo_task


@settings(max_examples=30)
@given(
    st.integers(1, 5),
    st.integers(1, 12),
    st.data(),
    st.sampled_from(["sign", "normal"]),
)
def test_echo_target_is_the_delayed_input(batch, n_steps, data, distribution):
    delay = data.draw(st.integers(0, n_steps - 1))
    X, Y = echo_task(batch, n_steps, delay, seed=3, distribution=distribution)
    assert X.shape == Y.shape == (batch, n_steps, 1)
    assert X.dtype == Y.dtype == np.float64
    for t in range(n_steps):
        want = X[:, t - delay] if t >= delay else np.zeros((batch, 1))
        np.testing.assert_array_equal(Y[:, t], want)
    if distribution == "sign":
        assert set(np.unique(X)) <= {-1.0, 1.0}


def test_echo_is_deterministic_and_chance_mse_is_one():
    a = echo_task(4, 6, 2, seed=11)
    b = echo_task(4, 6, 2, seed=np.random.default_rng(11))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], echo_task(4, 6, 2, seed=12)[0])
    for distribution in ("sign", "normal"):
        _, Y = echo_task(2000, 50, 10, seed=0, distribution=distribution)
        assert np.mean(Y[:, 10:] ** 2) == pytest.approx(1.0, abs=0.02)  # predicting 0


@settings(max_examples=30)
@given(st.integers(1, 6), st.integers(2, 30), st.integers(0, 2**32 - 1))
def test_adding_problem_has_one_marker_per_half(batch, n_steps, seed):
    X, Y = adding_problem(batch, n_steps, seed=seed)
    assert X.shape == (batch, n_steps, 2) and Y.shape == (batch, 1)
    values, markers = X[..., 0], X[..., 1]
    half = n_steps // 2
    np.testing.assert_array_equal(markers[:, :half].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, half:].sum(axis=1), 1)
    assert set(np.unique(markers)) <= {0.0, 1.0}
    assert np.all((values >= 0) & (values < 1))
    np.testing.assert_allclose(Y[:, 0], (values * markers).sum(axis=1), rtol=1e-15)


def test_predicting_the_mean_scores_one_sixth():
    _, Y = adding_problem(200_000, 6, seed=0)
    assert MEAN_PREDICTOR_MSE == pytest.approx(1 / 6)
    assert np.mean(Y) == pytest.approx(1.0, abs=0.005)
    assert np.mean((Y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.002)


def test_markers_cover_both_halves():
    X, _ = adding_problem(2000, 10, seed=1)
    positions = X[..., 1].sum(axis=0)
    assert np.all(positions > 0)  # every step gets marked sometimes


def test_data_and_training_do_not_import_torch():
    import subprocess

    code = "import sys, companion.data, companion.training; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bad_input():
    with pytest.raises(ValueError, match="delay must be < n_steps = 5; got 5"):
        echo_task(2, 5, 5, seed=0)
    with pytest.raises(ValueError, match="delay must be an int >= 0; got -1"):
        echo_task(2, 5, -1, seed=0)
    with pytest.raises(ValueError, match="distribution must be one of"):
        echo_task(2, 5, 1, seed=0, distribution="uniform")
    with pytest.raises(TypeError, match="seed must be an int or a numpy.random.Generator"):
        echo_task(2, 5, 1, seed=None)
    with pytest.raises(ValueError, match="n_steps must be an int >= 2; got 1"):
        adding_problem(2, 1, seed=0)
    with pytest.raises(TypeError, match="batch must be an int >= 1; got float"):
        adding_problem(2.0, 10, seed=0)
