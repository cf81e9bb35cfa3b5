"""Forecasting baselines: naive, seasonal naive, linear autoregression; MAE and MSE.

Taught in chapter 12 (深层 RNN、双向 RNN 与应用: time-series forecasting). A
recurrent forecaster means something only next to these yardsticks, and a
yardstick computed wrongly (a forecast shifted by one day, so that it sees the
value it should predict, or one that is compared with the wrong day) makes any
model look good or bad at will. Each baseline reads only the input window
``X`` [n, window, 1] that :func:`companion.data.series.windows` builds, never a
value after it, and returns forecasts ``[n, horizon]`` aligned with ``Y``::

    naive:           Y_hat[i, k] = X[i, -1]                                    (the last value)
    seasonal naive:  Y_hat[i, k] = X[i, window - period + (k mod period)]      (a period earlier)
    linear AR:       Y_hat[i, :] = X[i, -p:] @ W + c,   W [p, horizon], c [horizon]

``LinearAR`` fits ``W`` and ``c`` by least squares on the training windows, in
closed form and float64 (``numpy.linalg.lstsq``), one column per step ahead.

Errors over all forecasts::

    mae = mean |Y - Y_hat|,   mse = mean (Y - Y_hat)²

NumPy only; this module does not import torch.
"""

from __future__ import annotations

import numpy as np

from companion import validation as v

__all__ = ["LinearAR", "mae", "mse", "naive", "seasonal_naive"]


def _check_windows(X: object, name: str = "X") -> np.ndarray:
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array [n, window, 1]; got {type(X).__name__}")
    if X.ndim != 3 or X.shape[2] != 1:
        raise ValueError(f"{name} must have shape [n, window, 1]; got {list(X.shape)}")
    v.check_numeric_kind(name, v.dtype_kind(X), X.dtype)
    return X[:, :, 0].astype(np.float64)


def naive(X: np.ndarray, horizon: int = 1) -> np.ndarray:
    """Repeat the last observed value: ``Y_hat[i, k] = X[i, -1, 0]`` for every ``k``.

    Parameters
    ----------
    X : [n, window, 1], input windows
    horizon : int >= 1

    Returns
    -------
    Y_hat : float64 [n, horizon]
    """
    x = _check_windows(X)
    horizon = v.check_positive_int("horizon", horizon)
    return np.repeat(x[:, -1:], horizon, axis=1)


def seasonal_naive(X: np.ndarray, horizon: int = 1, period: int = 7) -> np.ndarray:
    """Repeat the last observed period: the forecast for a day is the value one period earlier.

    The day ``k`` steps after the window (``k = 0`` is the next day) is forecast by
    the same day of the last observed cycle::

        Y_hat[i, k] = X[i, window - period + (k mod period), 0]

    so for ``k < period`` it is the value exactly one period before that day, and
    beyond one period the last cycle repeats.

    Parameters
    ----------
    X : [n, window, 1] with ``window >= period``
    horizon : int >= 1
    period : int >= 1 (7 for a weekly pattern in daily data)

    Returns
    -------
    Y_hat : float64 [n, horizon]
    """
    x = _check_windows(X)
    horizon = v.check_positive_int("horizon", horizon)
    period = v.check_positive_int("period", period)
    window = x.shape[1]
    if window < period:
        raise ValueError(
            f"X must hold at least one period: window >= period = {period}; got window {window}"
        )
    columns = window - period + np.arange(horizon) % period
    return x[:, columns]


class LinearAR:
    """A linear autoregressive forecaster, fitted by least squares.

    Each of the ``horizon`` values ahead is a linear function of the last
    ``n_lags`` values of the window (an AR(p) model, ``p = n_lags``)::

        Y_hat = X[:, -p:, 0] @ W + c          W [p, horizon], c [horizon]

    :meth:`fit` solves ``min ||[x, 1] @ [W; c] - Y||²`` in closed form (float64,
    ``numpy.linalg.lstsq``), each column of ``Y`` on its own.

    Parameters
    ----------
    n_lags : int >= 1 or None (all the window's values)

    Attributes (after :meth:`fit`)
    -------------------------------
    W : float64 [p, horizon]; ``W[j, k]`` multiplies ``X[:, window - p + j]``, so the
        last row belongs to the most recent value (lag 1)
    c : float64 [horizon]
    """

    def __init__(self, n_lags: int | None = None) -> None:
        self.n_lags = None if n_lags is None else v.check_positive_int("n_lags", n_lags)
        self.W: np.ndarray | None = None
        self.c: np.ndarray | None = None

    def _lags(self, X: np.ndarray) -> np.ndarray:
        x = _check_windows(X)
        p = x.shape[1] if self.n_lags is None else self.n_lags
        if p > x.shape[1]:
            raise ValueError(f"X must have window >= n_lags = {p}; got window {x.shape[1]}")
        return x[:, x.shape[1] - p :]

    def fit(self, X: np.ndarray, Y: np.ndarray) -> LinearAR:
        """Least-squares fit on training windows.

        Parameters
        ----------
        X : [n, window, 1], ``n >= p + 1`` (enough equations for ``W`` and ``c``)
        Y : [n, horizon], the values after each window

        Returns
        -------
        self
        """
        x = self._lags(X)
        if not isinstance(Y, np.ndarray):
            raise TypeError(f"Y must be a NumPy array [n, horizon]; got {type(Y).__name__}")
        if Y.ndim != 2 or Y.shape[0] != x.shape[0]:
            raise ValueError(f"Y must have shape [{x.shape[0]}, horizon]; got {list(Y.shape)}")
        v.check_numeric_kind("Y", v.dtype_kind(Y), Y.dtype)
        if x.shape[0] < x.shape[1] + 1:
            raise ValueError(
                f"X must hold at least n_lags + 1 = {x.shape[1] + 1} windows to fit; "
                f"got {x.shape[0]}"
            )
        design = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)  # [n, p + 1]
        coef, *_ = np.linalg.lstsq(design, Y.astype(np.float64), rcond=None)
        self.W, self.c = coef[:-1], coef[-1]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Forecasts ``X[:, -p:, 0] @ W + c``: float64 [n, horizon]."""
        if self.W is None or self.c is None:
            raise ValueError("LinearAR must be fitted first: call fit(X, Y)")
        x = self._lags(X)
        if x.shape[1] != self.W.shape[0]:
            raise ValueError(
                f"X must have window >= {self.W.shape[0]} (as in fit); got {x.shape[1]}"
            )
        return x @ self.W + self.c

    def __repr__(self) -> str:
        fitted = "unfitted" if self.W is None else f"W {list(self.W.shape)}"
        return f"LinearAR(n_lags={self.n_lags}, {fitted})"


def _check_pair(y_true: object, y_pred: object) -> tuple[np.ndarray, np.ndarray]:
    for name, value in (("y_true", y_true), ("y_pred", y_pred)):
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{name} must be a NumPy array; got {type(value).__name__}")
        v.check_numeric_kind(name, v.dtype_kind(value), value.dtype)
    if y_true.shape != y_pred.shape:  # type: ignore[union-attr]
        raise ValueError(
            "y_true and y_pred must have the same shape (no broadcasting); got "
            f"{list(y_true.shape)} and {list(y_pred.shape)}"  # type: ignore[union-attr]
        )
    if y_true.size == 0:  # type: ignore[union-attr]
        raise ValueError("y_true must hold at least one value; got an empty array")
    return y_true.astype(np.float64), y_pred.astype(np.float64)  # type: ignore[union-attr]


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error ``mean |y_true - y_pred|`` over all entries (same shapes), float64."""
    a, b = _check_pair(y_true, y_pred)
    return float(np.mean(np.abs(a - b)))


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error ``mean (y_true - y_pred)²`` over all entries (same shapes), float64."""
    a, b = _check_pair(y_true, y_pred)
    return float(np.mean((a - b) ** 2))
