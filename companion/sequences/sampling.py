"""Sampling the next token: softmax with a temperature, and a draw by inverse CDF.

Taught in chapter 12 (深层 RNN、双向 RNN 与应用), where a character-level language
model writes text one character at a time. Greedy decoding (chapter 8) always
takes the most likely token; sampling draws it from the model's distribution,
sharpened or flattened by a **temperature** ``T > 0``::

    p_j = exp(z_j / T) / sum_k exp(z_k / T)                         (softmax_with_temperature)

    u ~ U[0, 1),   c_j = p_0 + ... + p_j,   draw j  with  c_{j-1} <= u < c_j   (sample_categorical)

``T = 1`` leaves the model's distribution as it is; ``T -> 0`` puts all the mass
on the largest logit (greedy decoding); a large ``T`` flattens it towards the
uniform distribution. The draw is the **inverse of the cumulative distribution**:
the interval ``[c_{j-1}, c_j)`` has length ``p_j``, so a uniform ``u`` falls into it
with probability exactly ``p_j``, and a class with ``p_j = 0`` has an empty
interval and is never drawn. One ``u`` per row comes from a
``numpy.random.Generator``, so the same seed gives the same draws on every machine.

Everything is NumPy, computed in float64; this module does not import torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion import validation as v

__all__ = ["PROBABILITY_TOLERANCE", "sample_categorical", "softmax_with_temperature"]

#: How far a row of ``probs`` may sum from 1 (float32 probabilities are accepted).
PROBABILITY_TOLERANCE = 1e-6


def _as_float_array(name: str, value: Any) -> np.ndarray:
    """``value`` (an array, a tensor on the CPU or nested lists) as a float64 array."""
    if not (hasattr(value, "shape") or isinstance(value, list | tuple)):
        raise TypeError(f"{name} must be an array of floats; got {type(value).__name__}")
    v.check_numeric_kind(name, v.dtype_kind(value), getattr(value, "dtype", "object"))
    return np.asarray(value, dtype=np.float64)


def softmax_with_temperature(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """``p = softmax(logits / T)`` over the last axis, in float64.

    ``p_j = exp((z_j - max_k z_k) / T) / sum_i exp((z_i - max_k z_k) / T)``: the
    same as ``exp(z_j / T) / sum_i exp(z_i / T)``, but the largest exponent is 0,
    so ``exp`` never overflows, whatever ``T``. A logit of ``-inf`` (a forbidden
    token) gets probability exactly 0.

    * ``T = 1``: the model's own distribution, ``softmax(z)``;
    * ``T -> 0``: every ``(z_j - max z) / T`` with ``z_j < max z`` tends to ``-inf``,
      so ``p`` tends to 1 on the largest logit (shared equally among ties): greedy;
    * ``T -> inf``: every ``(z_j - max z) / T`` tends to 0, so ``p`` tends to
      uniform, ``1 / n_classes``.

    Parameters
    ----------
    logits : [..., n_classes] array (integers or floats), no NaN, no ``+inf``,
        at least one finite value per row
    temperature : float > 0

    Returns
    -------
    p : float64 [..., n_classes], each row non-negative and summing to 1
    """
    z = _as_float_array("logits", logits)
    temperature = v.check_positive_number("temperature", temperature)
    if z.ndim < 1 or z.shape[-1] < 1:
        raise ValueError(
            f"logits must have shape [..., n_classes] with n_classes >= 1; got {list(z.shape)}"
        )
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("logits must not hold NaN or +inf (-inf marks a forbidden class)")
    top = z.max(axis=-1, keepdims=True)
    if np.isneginf(top).any():
        raise ValueError("logits must have at least one finite value in every row; got all -inf")
    e = np.exp((z - top) / temperature)
    return e / e.sum(axis=-1, keepdims=True)


def sample_categorical(probs: Any, rng: np.random.Generator) -> np.ndarray:
    """One class per row, drawn from ``probs`` by inverse CDF with a NumPy generator.

    For each row ``i`` (in order) draw ``u_i = rng.random()`` in ``[0, 1)`` and return
    the first class whose cumulative probability exceeds it::

        c = cumsum(probs[i])                  # c_j = p_0 + ... + p_j
        j = searchsorted(c, u_i, side="right")   # first j with c_j > u_i

    If round-off leaves ``c_last`` a hair below 1 and ``u_i >= c_last``, the draw
    falls past the end; it is then given to the last class with ``p_j > 0`` (never
    to a class of probability 0).

    Parameters
    ----------
    probs : float [batch, n_classes], every entry ``>= 0``, every row summing to 1
        within :data:`PROBABILITY_TOLERANCE`
    rng : numpy.random.Generator; advanced by exactly ``batch`` draws

    Returns
    -------
    classes : int64 [batch], each in ``[0, n_classes)``
    """
    p = _as_float_array("probs", probs)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)); "
            f"got {type(rng).__name__}"
        )
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(
            f"probs must have shape [batch, n_classes] with n_classes >= 1; got {list(p.shape)}"
        )
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be finite and non-negative")
    sums = p.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > PROBABILITY_TOLERANCE)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"each row of probs must sum to 1 (within {PROBABILITY_TOLERANCE:g}); "
            f"row {i} sums to {sums[i]!r}"
        )
    u = rng.random(p.shape[0])  # [batch], one uniform number per row
    classes = np.empty(p.shape[0], dtype=np.int64)
    for i in range(p.shape[0]):
        c = np.cumsum(p[i])
        j = int(np.searchsorted(c, u[i], side="right"))
        if j == p.shape[1]:  # u >= c_last: round-off, not a real outcome
            j = int(np.flatnonzero(p[i] > 0)[-1])
        classes[i] = j
    return classes
