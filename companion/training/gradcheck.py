"""Gradient checking: a hand-written gradient against central finite differences.

Taught in chapter 9 (训练 RNN：随时间反向传播). For a scalar function ``f`` of
an array ``w``, each entry of the gradient is estimated by nudging that entry
alone, by ``±eps``::

    dL/dw[j] ≈ (f(w + eps e_j) - f(w - eps e_j)) / (2 eps)      error O(eps²)

and compared with the analytic gradient by the largest relative error::

    relative_error = max_j |a_j - n_j| / max(|a_j|, |n_j|, tiny)

In float64 with ``eps = 1e-6`` a correct gradient of a smooth function scores
about 1e-8 or less; a wrong one scores near 1. (float32 is too coarse for this:
use float64.) Cost: two evaluations of ``f`` per entry, which is why training
uses back-propagation and only the check uses differences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion import validation as v
from companion.compare import as_float64

__all__ = ["numerical_gradient", "relative_error"]


def numerical_gradient(f: Callable[[], float], array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``f()`` with respect to every entry of ``array``.

    ``f`` takes no argument: it reads ``array`` (a weight of a cell, an input),
    which is changed in place, one entry at a time, and restored exactly::

        grad[j] = (f() with array[j] + eps  -  f() with array[j] - eps) / (2 eps)

    Parameters
    ----------
    f : callable returning the loss, a float (or a 0-d / 1-element array)
    array : float NumPy array, any shape, perturbed in place (float64 recommended)
    eps : float > 0, the step

    Returns
    -------
    grad : float64 array, the shape of ``array``
    """
    if not callable(f):
        raise TypeError(f"f must be a function returning a float; got {type(f).__name__}")
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        dtype = getattr(array, "dtype", None)
        raise TypeError(
            f"array must be a float NumPy array (perturbed in place); got "
            f"{type(array).__name__}{'' if dtype is None else f' of dtype {dtype}'}"
        )
    eps = v.check_positive_number("eps", eps)
    grad = np.zeros(array.shape)
    for j in np.ndindex(array.shape):
        saved = array[j]  # a NumPy scalar: a copy of the entry
        try:
            array[j] = saved + eps
            f_plus = _scalar(f())
            array[j] = saved - eps
            f_minus = _scalar(f())
        finally:
            array[j] = saved  # restored exactly, even if f raised
        grad[j] = (f_plus - f_minus) / (2 * eps)
    return grad


def _scalar(value: Any) -> float:
    if np.size(value) != 1:
        raise TypeError(f"f must return a float (a scalar loss); got shape {list(np.shape(value))}")
    return float(np.asarray(value).reshape(()))


def relative_error(analytic: Any, numeric: Any, tiny: float = 1e-12) -> float:
    """The largest relative difference between two gradients of the same shape.

    ``max_j |a_j - n_j| / max(|a_j|, |n_j|, tiny)``; ``tiny`` keeps entries where
    both are (near) zero from dividing by zero. 0.0 for empty arrays.

    Parameters
    ----------
    analytic, numeric : arrays (or tensors) of the same shape
    tiny : float > 0

    Returns
    -------
    float in [0, 2]
    """
    a, n = as_float64(analytic, "analytic"), as_float64(numeric, "numeric")
    if a.shape != n.shape:
        raise ValueError(
            f"analytic and numeric must have the same shape; got {list(a.shape)} and "
            f"{list(n.shape)}"
        )
    tiny = v.check_positive_number("tiny", tiny)
    if a.size == 0:
        return 0.0
    scale = np.maximum(np.maximum(np.abs(a), np.abs(n)), tiny)
    return float(np.max(np.abs(a - n) / scale))
