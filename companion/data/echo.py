"""The echo task: repeat the input of ``delay`` steps ago.

Taught in chapter 9 (训练 RNN：随时间反向传播: what truncated BPTT cannot
learn). One input feature per step, drawn at random; the target at step ``t``
is the input ``delay`` steps earlier::

    x[i, t] ~ ±1 with probability 1/2 each    (or N(0, 1))
    y[i, t] = x[i, t - delay]  if t >= delay,  else 0

To solve it a network must keep each input in its state for ``delay`` steps.
Predicting 0 (knowing nothing) scores MSE 1 on the steps ``t >= delay``
(``E[x²] = 1`` for both distributions): that is chance level.
"""

from __future__ import annotations

import numpy as np

from companion import validation as v

__all__ = ["echo_task"]

DISTRIBUTIONS = ("sign", "normal")


def echo_task(
    batch: int,
    n_steps: int,
    delay: int,
    *,
    seed: int | np.random.Generator,
    distribution: str = "sign",
) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the echo task, determined by ``seed``.

    Parameters
    ----------
    batch : int >= 1
    n_steps : int >= 1
    delay : int, ``0 <= delay < n_steps``
    seed : int or numpy.random.Generator (a Generator is advanced)
    distribution : {"sign", "normal"}: inputs ±1, or standard normal

    Returns
    -------
    X : float64 [batch, n_steps, 1], the inputs
    Y : float64 [batch, n_steps, 1], ``Y[:, t] = X[:, t - delay]`` (0 for ``t < delay``)
    """
    batch = v.check_positive_int("batch", batch)
    n_steps = v.check_positive_int("n_steps", n_steps)
    delay = v.check_int("delay", delay, 0)
    if delay >= n_steps:
        raise ValueError(f"delay must be < n_steps = {n_steps}; got {delay}")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}; got {distribution!r}")
    rng = v.check_seed(seed)
    if distribution == "sign":
        X = rng.choice([-1.0, 1.0], size=(batch, n_steps, 1))
    else:
        X = rng.standard_normal((batch, n_steps, 1))
    Y = np.zeros_like(X)
    Y[:, delay:] = X[:, : n_steps - delay]
    return X, Y
