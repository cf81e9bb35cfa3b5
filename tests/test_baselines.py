"""Tests of ``companion.models.baselines``: baselines that cannot be computed wrongly unnoticed.

A forecast that is shifted by one day, or that peeks at the value it predicts,
changes a comparison by a factor of ten. Each test below fails for one such
mistake: hand-computed cases, exact forecasts on series built for them, known
AR coefficients recovered, and forecasts that do not move when the future does.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.data.series import PERIOD, WEEKDAY_PROFILE, daily_series, windows
from companion.models.baselines import LinearAR, mae, mse, naive, seasonal_naive


def test_naive_and_seasonal_naive_by_hand():
    X = np.array([[1.0, 2, 3, 4, 5]])[:, :, None]  # one window, days 0..4
    np.testing.assert_array_equal(naive(X, 3), [[5, 5, 5]])
    # period 2: the day after the window (day 5) repeats day 3, day 6 repeats day 4, ...
    np.testing.assert_array_equal(seasonal_naive(X, 5, period=2), [[4, 5, 4, 5, 4]])
    # period 5 = window: day 5 repeats day 0
    np.testing.assert_array_equal(seasonal_naive(X, 2, period=5), [[1, 2]])
    np.testing.assert_array_equal(seasonal_naive(X, 1, period=1), naive(X, 1))


def test_metrics_by_hand():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    y_hat = np.array([[2.0, 2.0], [1.0, 4.0]])
    assert mae(y, y_hat) == 0.75  # (1 + 0 + 2 + 0) / 4
    assert mse(y, y_hat) == 1.25  # (1 + 0 + 4 + 0) / 4
    assert mae(y, y) == mse(y, y) == 0.0


@settings(max_examples=30)
@given(st.integers(7, 30), st.integers(1, 20), st.integers(0, 2**32 - 1))
def test_seasonal_naive_is_exact_on_a_pure_weekly_series(window, horizon, seed):
    rng = np.random.default_rng(seed)
    profile = rng.normal(size=PERIOD)
    series = profile[np.arange(window + horizon + 40) % PERIOD]
    X, Y = windows(series, window, horizon)
    assert mae(Y, seasonal_naive(X, horizon, period=PERIOD)) == 0.0
    assert mae(Y, naive(X, horizon)) > 0.0  # the naive forecast misses the weekly pattern


@settings(max_examples=30)
@given(st.integers(1, 15), st.integers(1, 10), st.integers(0, 30), st.floats(-5, 5))
def test_naive_is_exact_on_a_constant_series_and_lags_a_step_by_one(window, horizon, jump, level):
    series = np.full(window + horizon + 30, level)
    X, Y = windows(series, window, horizon)
    assert mae(Y, naive(X, horizon)) == 0.0
    # a step at day d: the naive forecast is wrong exactly for the targets on or
    # after d whose window ended before d
    d = window + jump
    step = series.copy()
    step[d:] += 1.0
    X, Y = windows(step, window, horizon)
    errors = np.abs(Y - naive(X, horizon))
    i, k = np.indices(Y.shape)
    target_day, last_seen = i + window + k, i + window - 1
    np.testing.assert_array_equal(errors, ((target_day >= d) & (last_seen < d)).astype(float))


def test_baselines_read_only_the_window():
    # perturbing every value after the window leaves each forecast unchanged
    series = daily_series(200, seed=1)
    window, horizon = 28, 7
    X, Y = windows(series, window, horizon)
    model = LinearAR().fit(X, Y)
    for i in (0, 50, len(X) - 1):
        future = series.copy()
        future[i + window :] += np.random.default_rng(i).normal(size=len(series) - i - window) * 100
        X_changed, Y_changed = windows(future, window, horizon)
        assert not np.array_equal(Y_changed[i], Y[i])  # the targets did change
        for forecast in (
            lambda X: naive(X, horizon),
            lambda X: seasonal_naive(X, horizon),
            model.predict,
        ):
            np.testing.assert_array_equal(forecast(X_changed[i : i + 1]), forecast(X[i : i + 1]))


def test_linear_ar_recovers_ar2_coefficients():
    rng = np.random.default_rng(0)
    a1, a2, c, n = 0.6, -0.3, 0.5, 50_000
    y = np.zeros(n)
    e = rng.normal(scale=0.1, size=n)
    for t in range(2, n):
        y[t] = c + a1 * y[t - 1] + a2 * y[t - 2] + e[t]
    X, Y = windows(y, window=5, horizon=1)
    model = LinearAR().fit(X, Y)
    assert model.W.shape == (5, 1) and model.c.shape == (1,)
    # W's last row multiplies the most recent value (lag 1)
    np.testing.assert_allclose(model.W[::-1, 0], [a1, a2, 0, 0, 0], atol=0.01)
    assert model.c[0] == pytest.approx(c, abs=0.01)
    two_lags = LinearAR(n_lags=2).fit(X, Y)
    np.testing.assert_allclose(two_lags.W[:, 0], [a2, a1], atol=0.01)


def test_linear_ar_is_exact_on_noise_free_ar_data_and_multi_output():
    # y[t] = 0.5 y[t-1] + 0.2 y[t-2] + 1 exactly: one step and h steps ahead are
    # linear in the last two values, so least squares fits them to round-off
    y = np.zeros(60)
    y[:2] = [3.0, -2.0]
    for t in range(2, 60):
        y[t] = 0.5 * y[t - 1] + 0.2 * y[t - 2] + 1.0
    X, Y = windows(y, window=2, horizon=3)
    model = LinearAR().fit(X, Y)
    assert model.predict(X).shape == (len(X), 3)
    np.testing.assert_allclose(model.predict(X), Y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.W[:, 0], [0.2, 0.5], rtol=1e-10)


def test_linear_ar_equals_the_normal_equations():
    series = daily_series(300, seed=2)
    X, Y = windows(series, 10, 2)
    model = LinearAR().fit(X, Y)
    A = np.c_[X[:, :, 0], np.ones(len(X))]
    coef = np.linalg.solve(A.T @ A, A.T @ Y)
    np.testing.assert_allclose(model.W, coef[:-1], rtol=1e-8)
    np.testing.assert_allclose(model.c, coef[-1], rtol=1e-8)


def test_ranking_on_the_weekly_series():
    # with a weekly pattern, seasonal naive beats naive, and linear AR beats both
    series = daily_series(1500, seed=0)
    X, Y = windows(series, 28, 1)
    train, test = slice(0, 1100), slice(1100, None)
    model = LinearAR().fit(X[train], Y[train])
    e_naive = mae(Y[test], naive(X[test]))
    e_seasonal = mae(Y[test], seasonal_naive(X[test]))
    e_ar = mae(Y[test], model.predict(X[test]))
    assert e_ar < e_seasonal < e_naive
    assert WEEKDAY_PROFILE.max() - WEEKDAY_PROFILE.min() > 1.0  # the pattern is large


def test_bad_input():
    X = np.zeros((4, 5, 1))
    with pytest.raises(TypeError, match=r"X must be a NumPy array \[n, window, 1\]"):
        naive([[1.0]], 1)
    with pytest.raises(ValueError, match=r"X must have shape \[n, window, 1\]; got \[4, 5\]"):
        naive(np.zeros((4, 5)), 1)
    with pytest.raises(ValueError, match="horizon must be an int >= 1"):
        naive(X, 0)
    with pytest.raises(ValueError, match="window >= period = 7; got window 5"):
        seasonal_naive(X, 1)
    with pytest.raises(ValueError, match="LinearAR must be fitted first"):
        LinearAR().predict(X)
    with pytest.raises(ValueError, match=r"Y must have shape \[4, horizon\]; got \[3, 1\]"):
        LinearAR().fit(X, np.zeros((3, 1)))
    with pytest.raises(ValueError, match="at least n_lags \\+ 1 = 6 windows"):
        LinearAR().fit(X, np.zeros((4, 1)))
    with pytest.raises(ValueError, match="window >= n_lags = 6; got window 5"):
        LinearAR(n_lags=6).fit(X, np.zeros((4, 1)))
    model = LinearAR().fit(np.zeros((10, 5, 1)) + np.arange(10)[:, None, None], np.zeros((10, 1)))
    with pytest.raises(ValueError, match="window >= 5"):
        model.predict(np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="same shape"):
        mae(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(TypeError, match="y_pred must be a NumPy array"):
        mse(np.zeros(3), [0.0, 0.0, 0.0])


def test_does_not_import_torch():
    code = "import companion.models.baselines, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
