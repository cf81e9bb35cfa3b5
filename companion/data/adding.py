"""The adding problem (Hochreiter & Schmidhuber, 1997): add the two marked numbers.

Taught in chapter 11 (LSTM 与 GRU): gated cells learn it for long sequences
(T = 50), the basic cell does not. Each step carries two features, a value and
a marker; exactly two steps are marked, one in each half of the sequence, and
the target is the sum of their values::

    X[i, t] = (u[i, t], m[i, t]),   u[i, t] ~ U(0, 1),   m[i, t] in {0, 1}
    m[i, p] = m[i, q] = 1 for one p < T // 2 <= q, and 0 elsewhere
    Y[i] = u[i, p] + u[i, q]

Chance level: ``Y`` is the sum of two independent U(0, 1) numbers, with mean 1
and variance 2 · 1/12 = 1/6. So a network that ignores the markers and always
predicts the mean scores MSE = 1/6 ≈ 0.167; to beat it, it must find the
markers and remember the first value for up to T steps.
"""

from __future__ import annotations

import numpy as np

from companion import validation as v

__all__ = ["MEAN_PREDICTOR_MSE", "adding_problem"]

#: The MSE of always predicting the mean, 1: Var(u_p + u_q) = 2 · 1/12.
MEAN_PREDICTOR_MSE = 1 / 6


def adding_problem(
    batch: int, n_steps: int, *, seed: int | np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the adding problem, determined by ``seed``.

    Parameters
    ----------
    batch : int >= 1
    n_steps : int >= 2 (the course uses T = 50)
    seed : int or numpy.random.Generator (a Generator is advanced)

    Returns
    -------
    X : float64 [batch, n_steps, 2]; ``X[..., 0]`` the values, ``X[..., 1]`` the markers
        (exactly two 1s per sequence: one in steps ``[0, n_steps // 2)``, one in
        ``[n_steps // 2, n_steps)``)
    Y : float64 [batch, 1], the sum of the two marked values
    """
    batch = v.check_positive_int("batch", batch)
    n_steps = v.check_int("n_steps", n_steps, 2)
    rng = v.check_seed(seed)
    half = n_steps // 2
    values = rng.uniform(0.0, 1.0, size=(batch, n_steps))
    first = rng.integers(0, half, size=batch)  # one marker in the first half
    second = rng.integers(half, n_steps, size=batch)  # one in the second half
    rows = np.arange(batch)
    markers = np.zeros((batch, n_steps))
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=-1)
    Y = (values[rows, first] + values[rows, second])[:, None]
    return X, Y
