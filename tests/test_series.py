"""Tests of ``companion.data.series``: generated daily series, windows, chronological split."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.data.series import (
    PERIOD,
    WEEKDAY_PROFILE,
    chronological_split,
    daily_series,
    logistic_series,
    normalization_stats,
    windows,
)


def test_windows_by_hand():
    series = np.array([10.0, 11, 12, 13, 14, 15])
    X, Y = windows(series, window=3, horizon=2)
    assert X.shape == (2, 3, 1) and Y.shape == (2, 2)
    assert X.dtype == Y.dtype == np.float64
    np.testing.assert_array_equal(X[:, :, 0], [[10, 11, 12], [11, 12, 13]])
    np.testing.assert_array_equal(Y, [[13, 14], [14, 15]])
    X1, Y1 = windows(series, window=4)  # one step ahead
    np.testing.assert_array_equal(X1[:, :, 0], [[10, 11, 12, 13], [11, 12, 13, 14]])
    np.testing.assert_array_equal(Y1, [[14], [15]])


def test_per_step_targets_by_hand():
    series = np.arange(6.0)
    X, Y = windows(series, window=3, horizon=2, per_step=True)
    assert X.shape == (2, 3, 1) and Y.shape == (2, 3, 2)
    # window 0 holds days 0, 1, 2; after day s come days s + 1 and s + 2
    np.testing.assert_array_equal(Y[0], [[1, 2], [2, 3], [3, 4]])
    np.testing.assert_array_equal(Y[1], [[2, 3], [3, 4], [4, 5]])


@settings(max_examples=40)
@given(st.integers(1, 12), st.integers(1, 8), st.integers(0, 10), st.booleans())
def test_window_alignment(window, horizon, extra, per_step):
    # day t holds the value t: every entry names its own day
    series = np.arange(window + horizon + extra, dtype=np.float64)
    X, Y = windows(series, window, horizon, per_step=per_step)
    n = extra + 1
    assert X.shape == (n, window, 1)
    np.testing.assert_array_equal(X[:, :, 0], np.arange(n)[:, None] + np.arange(window))
    last = Y[:, -1] if per_step else Y
    assert last.shape == (n, horizon)
    # Y[i, 0] is the day right after X[i, -1]; then one day per column
    np.testing.assert_array_equal(last, X[:, -1, :] + 1 + np.arange(horizon))
    if per_step:
        np.testing.assert_array_equal(Y, X + 1 + np.arange(horizon))


def test_split_is_chronological_and_targets_stay_in_their_period():
    n_days, window, horizon, n_valid, n_test = 100, 7, 3, 20, 15
    series = np.arange(n_days, dtype=np.float64)  # value = day
    split = chronological_split(series, window, horizon, n_valid=n_valid, n_test=n_test)
    n_train = n_days - n_valid - n_test
    periods = {
        "train": (0, n_train),
        "valid": (n_train, n_train + n_valid),
        "test": (n_train + n_valid, n_days),
    }
    for name, (start, end) in periods.items():
        X, Y = getattr(split, name)
        # every day of the period is a target, none outside it
        assert Y.min() == max(start, window) and Y.max() == end - 1
        np.testing.assert_array_equal(Y[:, 0], X[:, -1, 0] + 1)
        assert np.all(np.diff(Y[:, 0]) == 1)  # in time order, not shuffled
    # the inputs of a validation window may reach back into training days
    assert split.valid[0][0, 0, 0] == n_train - window


def test_split_per_step_ends_with_the_sequence_to_vector_target():
    series = daily_series(300, seed=5)
    a = chronological_split(series, 28, 7, n_valid=50, n_test=50)
    b = chronological_split(series, 28, 7, n_valid=50, n_test=50, per_step=True)
    for (Xa, Ya), (Xb, Yb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(Yb[:, -1], Ya)


def test_normalization_uses_the_training_period_only():
    series = np.r_[np.ones(50), 1000 * np.ones(50)]
    mean, std = normalization_stats(series, 50)
    assert (mean, std) == (1.0, 0.0)
    mean, std = normalization_stats(np.arange(10.0), 4)
    assert mean == 1.5 and std == pytest.approx(np.std([0, 1, 2, 3]), rel=1e-15)


def test_daily_series_components():
    n = 1400
    y = daily_series(n, seed=0, trend=0.01, level=3.0)
    assert y.shape == (n,) and y.dtype == np.float64
    t = np.arange(n)
    u = y - 3.0 - 0.01 * t - WEEKDAY_PROFILE[t % PERIOD]
    # the remainder is AR(1) with phi = 0.7 and sigma = 0.1: check both by least squares
    phi = np.dot(u[1:], u[:-1]) / np.dot(u[:-1], u[:-1])
    assert phi == pytest.approx(0.7, abs=0.05)
    assert np.std(u[1:] - 0.7 * u[:-1]) == pytest.approx(0.1, rel=0.1)
    assert WEEKDAY_PROFILE.shape == (PERIOD,) and abs(WEEKDAY_PROFILE.sum()) < 1e-12


def test_logistic_series_follows_the_map():
    y = logistic_series(500, seed=1, sigma=1e-9, scale=1.0, level=0.0)
    t = np.arange(500)
    x = y - WEEKDAY_PROFILE[t % PERIOD] + 0.5
    assert np.all((x > -1e-6) & (x < 1 + 1e-6))
    np.testing.assert_allclose(x[1:], 3.8 * x[:-1] * (1 - x[:-1]), atol=1e-6)


def test_series_are_deterministic_per_seed():
    for make in (daily_series, logistic_series):
        np.testing.assert_array_equal(make(50, seed=3), make(50, seed=np.random.default_rng(3)))
        assert not np.array_equal(make(50, seed=3), make(50, seed=4))


def test_bad_input():
    with pytest.raises(TypeError, match="series must be a NumPy array"):
        windows([1.0, 2.0, 3.0], 1)
    with pytest.raises(
        ValueError, match=r"series must be a 1-D array \[n_days\]; got shape \[2, 3\]"
    ):
        windows(np.zeros((2, 3)), 1)
    with pytest.raises(ValueError, match="at least window \\+ horizon = 5 values; got 4"):
        windows(np.zeros(4), 3, 2)
    with pytest.raises(ValueError, match="window must be an int >= 1"):
        windows(np.zeros(4), 0)
    with pytest.raises(TypeError, match="series must hold integers or floats"):
        windows(np.array([True, False, True]), 1)
    with pytest.raises(ValueError, match="n_valid must be an int >= 3"):
        chronological_split(np.zeros(100), 5, 3, n_valid=2, n_test=10)
    with pytest.raises(ValueError, match="at least window \\+ horizon = 8 training days"):
        chronological_split(np.zeros(30), 7, 1, n_valid=12, n_test=12)
    with pytest.raises(ValueError, match="phi must lie in"):
        daily_series(10, seed=0, phi=1.0)
    with pytest.raises(ValueError, match="r must lie in"):
        logistic_series(10, seed=0, r=4.5)
    with pytest.raises(ValueError, match="n_train must be an int in"):
        normalization_stats(np.zeros(10), 11)


def test_does_not_import_torch():
    import subprocess

    code = "import companion.data.series, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
