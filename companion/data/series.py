"""Generated daily time series, their windows, and a chronological split.

Taught in chapter 12 (深层 RNN、双向 RNN 与应用: time-series forecasting). Two
series of ``n_days`` daily values, both determined by a seed:

:func:`daily_series` -- linear underneath. A weekday profile (period 7), a slow
trend and AR(1) noise::

    y[t] = level + trend · t + profile[t mod 7] + u[t]
    u[t] = phi · u[t-1] + sigma · e[t],      e[t] ~ N(0, 1)

Everything here is a linear function of the past plus fresh noise, so a linear
autoregressive model can be as good as any network.

:func:`logistic_series` -- nonlinear underneath. The same weekday profile, and a
hidden deviation that follows the logistic map (tomorrow is a quadratic function of
today), observed with a little noise::

    x[t+1] = r · x[t] · (1 - x[t]),          r = 3.8 (chaotic), x in (0, 1)
    y[t] = level + profile[t mod 7] + scale · (x[t] - 1/2) + sigma · e[t]

A straight line through the past cannot follow a parabola; a recurrent network can.

:func:`windows` cuts a series into (input window, next values) pairs and
:func:`chronological_split` into training, validation and test parts *in time
order*. Never shuffle across time: neighbouring windows share all but one value,
so a shuffled split puts near-copies of every test window into the training set,
and the test error no longer says how well the model forecasts days it has not
seen. :func:`normalization_stats` takes mean and standard deviation from the
training part only, for the same reason.

NumPy only (float64); this module does not import torch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from companion import validation as v

__all__ = [
    "PERIOD",
    "WEEKDAY_PROFILE",
    "Split",
    "chronological_split",
    "daily_series",
    "logistic_series",
    "normalization_stats",
    "windows",
]

#: The seasonal period of a daily series: one week.
PERIOD = 7
#: A weekday pattern [7] (mean 0): quiet at the start of the week, busy on day 5.
WEEKDAY_PROFILE = np.array([-0.6, -0.4, -0.2, 0.0, 0.3, 0.8, 0.1])


def _check_series(series: object) -> np.ndarray:
    if not isinstance(series, np.ndarray):
        raise TypeError(f"series must be a NumPy array [n_days]; got {type(series).__name__}")
    if series.ndim != 1:
        raise ValueError(f"series must be a 1-D array [n_days]; got shape {list(series.shape)}")
    v.check_numeric_kind("series", v.dtype_kind(series), series.dtype)
    return series.astype(np.float64)


def daily_series(
    n_days: int = 1500,
    *,
    seed: int | np.random.Generator,
    level: float = 10.0,
    trend: float = 0.0002,
    phi: float = 0.7,
    sigma: float = 0.1,
) -> np.ndarray:
    """A daily series that is linear underneath: weekday profile + trend + AR(1) noise.

    ``y[t] = level + trend · t + WEEKDAY_PROFILE[t mod 7] + u[t]`` with
    ``u[t] = phi · u[t-1] + sigma · e[t]``, ``e[t] ~ N(0, 1)``, and ``u[0]`` drawn from
    the stationary distribution ``N(0, sigma² / (1 - phi²))``.

    Parameters
    ----------
    n_days : int >= 1
    seed : int or numpy.random.Generator (a Generator is advanced)
    level, trend : float, the value at day 0 and the change per day
    phi : float in (-1, 1), the AR(1) coefficient of the noise
    sigma : float > 0, the standard deviation of the fresh noise

    Returns
    -------
    y : float64 [n_days]
    """
    n_days = v.check_positive_int("n_days", n_days)
    rng = v.check_seed(seed)
    sigma = v.check_positive_number("sigma", sigma)
    if not -1.0 < phi < 1.0:
        raise ValueError(f"phi must lie in (-1, 1) so that the noise is stationary; got {phi}")
    e = rng.standard_normal(n_days)
    u = np.empty(n_days)
    u[0] = sigma / np.sqrt(1.0 - phi**2) * e[0]
    for t in range(1, n_days):
        u[t] = phi * u[t - 1] + sigma * e[t]
    t = np.arange(n_days)
    return level + trend * t + WEEKDAY_PROFILE[t % PERIOD] + u


def logistic_series(
    n_days: int = 1500,
    *,
    seed: int | np.random.Generator,
    level: float = 10.0,
    r: float = 3.8,
    scale: float = 2.0,
    sigma: float = 0.05,
) -> np.ndarray:
    """A daily series that is nonlinear underneath: weekday profile + a logistic map.

    ``x[t+1] = r · x[t] · (1 - x[t])`` from ``x[0] ~ U(0.2, 0.8)``, and
    ``y[t] = level + WEEKDAY_PROFILE[t mod 7] + scale · (x[t] - 1/2) + sigma · e[t]``,
    ``e[t] ~ N(0, 1)``. With ``r = 3.8`` the map is chaotic: no linear function of
    past values predicts ``x[t+1]`` well, but it is an exact quadratic of ``x[t]``.

    Parameters
    ----------
    n_days : int >= 1
    seed : int or numpy.random.Generator (a Generator is advanced)
    level : float
    r : float in (0, 4], the logistic map's parameter (x stays in [0, 1])
    scale : float > 0, the size of the deviation
    sigma : float > 0, the standard deviation of the observation noise

    Returns
    -------
    y : float64 [n_days]
    """
    n_days = v.check_positive_int("n_days", n_days)
    rng = v.check_seed(seed)
    scale = v.check_positive_number("scale", scale)
    sigma = v.check_positive_number("sigma", sigma)
    if not 0.0 < r <= 4.0:
        raise ValueError(f"r must lie in (0, 4] so that x stays in [0, 1]; got {r}")
    x = np.empty(n_days)
    x[0] = rng.uniform(0.2, 0.8)
    for t in range(1, n_days):
        x[t] = r * x[t - 1] * (1.0 - x[t - 1])
    e = rng.standard_normal(n_days)
    t = np.arange(n_days)
    return level + WEEKDAY_PROFILE[t % PERIOD] + scale * (x - 0.5) + sigma * e


def windows(
    series: np.ndarray, window: int, horizon: int = 1, *, per_step: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into input windows and the values that follow them.

    Window ``i`` holds days ``i, ..., i + window - 1``; its target the next
    ``horizon`` days::

        X[i, s, 0] = series[i + s]                 s = 0 .. window - 1
        Y[i, k]    = series[i + window + k]        k = 0 .. horizon - 1

    so ``Y[i, 0]`` is the value right after ``X[i, -1, 0]``. With ``per_step`` every
    step ``s`` of the window gets its own target, the ``horizon`` values after it
    (sequence to sequence)::

        Y[i, s, k] = series[i + s + 1 + k]

    and ``Y[i, -1]`` is the sequence-to-vector target of the same window.

    Parameters
    ----------
    series : [n_days] array of numbers
    window : int >= 1, the number of past days the model sees
    horizon : int >= 1, how many days ahead to forecast (1: one step ahead)
    per_step : bool

    Returns
    -------
    X : float64 [n, window, 1], ``n = n_days - window - horizon + 1``
    Y : float64 [n, horizon], or [n, window, horizon] with ``per_step``
    """
    y = _check_series(series)
    window = v.check_positive_int("window", window)
    horizon = v.check_positive_int("horizon", horizon)
    per_step = v.check_bool("per_step", per_step)
    n = len(y) - window - horizon + 1
    if n < 1:
        raise ValueError(
            f"series must have at least window + horizon = {window + horizon} values; got {len(y)}"
        )
    X = np.stack([y[i : i + window] for i in range(n)])[:, :, None]
    if per_step:
        after = np.stack([y[t + 1 : t + 1 + horizon] for t in range(n + window - 1)])
        Y = np.stack([after[i : i + window] for i in range(n)])  # after[t]: the days after t
    else:
        Y = np.stack([y[i + window : i + window + horizon] for i in range(n)])
    return X, Y


class Split(NamedTuple):
    """The three chronological parts, each a pair ``(X, Y)`` as :func:`windows` returns."""

    train: tuple[np.ndarray, np.ndarray]
    valid: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]


def chronological_split(
    series: np.ndarray,
    window: int,
    horizon: int = 1,
    *,
    n_valid: int,
    n_test: int,
    per_step: bool = False,
) -> Split:
    """Windows of the training, validation and test periods, in time order.

    The last ``n_test`` days are the test period, the ``n_valid`` days before them
    the validation period, everything earlier the training period
    (``n_train = n_days - n_valid - n_test``). A window belongs to the period that
    holds *all its targets*; its inputs may reach back into the period before
    (they are the past, known on the day of the forecast)::

        train: targets in days [0, n_train)
        valid: targets in days [n_train, n_train + n_valid)
        test:  targets in days [n_train + n_valid, n_days)

    Nothing is shuffled: a window's neighbours share all but one value, so mixing
    periods would leak the test days into training (see the module docstring).

    Parameters
    ----------
    series : [n_days] array of numbers
    window, horizon, per_step : as in :func:`windows`
    n_valid, n_test : int >= horizon, days in the validation and test periods

    Returns
    -------
    Split(train, valid, test), each ``(X [n, window, 1], Y [n, horizon])`` (``Y``
    [n, window, horizon] with ``per_step``)
    """
    y = _check_series(series)
    window = v.check_positive_int("window", window)
    horizon = v.check_positive_int("horizon", horizon)
    n_valid = v.check_int("n_valid", n_valid, horizon)
    n_test = v.check_int("n_test", n_test, horizon)
    n_train = len(y) - n_valid - n_test
    if n_train < window + horizon:
        raise ValueError(
            f"series must leave at least window + horizon = {window + horizon} training days "
            f"after n_valid + n_test = {n_valid + n_test}; got {len(y)} days"
        )
    valid_end = n_train + n_valid
    return Split(
        train=windows(y[:n_train], window, horizon, per_step=per_step),
        valid=windows(y[n_train - window : valid_end], window, horizon, per_step=per_step),
        test=windows(y[valid_end - window :], window, horizon, per_step=per_step),
    )


def normalization_stats(series: np.ndarray, n_train: int) -> tuple[float, float]:
    """Mean and standard deviation of the training period ``series[:n_train]`` only.

    Statistics of the whole series would tell the model something about the
    validation and test days (their level, their spread) before it forecasts them.
    Use them as ``(series - mean) / std``, and map forecasts back with
    ``z · std + mean``.

    Parameters
    ----------
    series : [n_days] array of numbers
    n_train : int, ``2 <= n_train <= n_days``

    Returns
    -------
    (mean, std) : two Python floats
    """
    y = _check_series(series)
    n_train = v.check_int_between("n_train", n_train, 2, max(2, len(y)))
    train = y[:n_train]
    return float(train.mean()), float(train.std())
