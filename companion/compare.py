"""Comparing two implementations of the same computation, in words that hold on every CPU.

Two correct implementations in float32 (NumPy and PyTorch, a loop and a
matrix product, static and dynamic unrolling) agree only up to round-off, and
the size of that round-off depends on the machine: its BLAS kernel, the SIMD
width of ``tanh``, the number of threads. So the chapters never print the
difference itself; they print whether it lies below a bound, and the bound is
what the reader learns (chapter 4 explains where it comes from)::

    >>> import numpy as np
    >>> a = np.float32([0.1, 0.2]); b = a + np.float32(1e-8)
    >>> max_abs_diff(a, b) < 1e-6
    True
    >>> gap_text(a, b, bound=1e-6)
    '< 1e-06'

Accepts NumPy arrays, anything ``np.asarray`` takes, and torch tensors (on
any device, with or without gradient) without importing torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "FLOAT32_EPS",
    "FLOAT64_EPS",
    "as_float64",
    "gap_text",
    "max_abs_diff",
    "round_significant",
]

#: Spacing of float32 numbers at 1.0 (about 1.2e-07): the unit of float32 round-off.
FLOAT32_EPS = float(np.finfo(np.float32).eps)
#: Spacing of float64 numbers at 1.0 (about 2.2e-16).
FLOAT64_EPS = float(np.finfo(np.float64).eps)


def as_float64(x: Any, name: str = "x") -> np.ndarray:
    """``x`` (array, number, list, or torch tensor on any device) as a float64 NumPy array.

    Raises ``TypeError`` naming ``name`` when ``x`` holds something that is not a number.
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be an array, a tensor or a number, got {type(x).__name__}"
        ) from exc


def max_abs_diff(a: Any, b: Any) -> float:
    """``max |a - b|`` over all entries, computed in float64.

    Parameters
    ----------
    a, b : array_like or torch.Tensor
        The same shape (no broadcasting: comparing a ``[4, 5]`` result with a
        ``[5]`` one is a mistake, not a comparison).

    Returns
    -------
    float
        The largest absolute difference; ``0.0`` for two empty arrays.

    Raises
    ------
    ValueError
        If the shapes differ.
    """
    a_np, b_np = as_float64(a, "a"), as_float64(b, "b")
    if a_np.shape != b_np.shape:
        raise ValueError(
            f"a and b must have the same shape, got a {list(a_np.shape)} and b {list(b_np.shape)}"
        )
    if a_np.size == 0:
        return 0.0
    return float(np.max(np.abs(a_np - b_np)))


def gap_text(a: Any, b: Any, bound: float = 1e-12) -> str:
    """``"< bound"`` when ``max_abs_diff(a, b) < bound``, otherwise the gap to 3 digits.

    Meant for printed comparisons: below the bound the exact round-off is not
    shown (it differs from one CPU to the next); a gap at or above the bound is
    a real difference, and is shown.

    Parameters
    ----------
    a, b : array_like or torch.Tensor
        The same shape.
    bound : float, default 1e-12
        A positive bound; 1e-12 suits float64 results of moderate size, 1e-6
        float32 ones.

    Returns
    -------
    str
        For example ``"< 1e-12"`` or ``"0.613"``.
    """
    if not bound > 0:
        raise ValueError(f"bound must be a positive number, got {bound!r}")
    gap = max_abs_diff(a, b)
    return f"< {bound:g}" if gap < bound else f"{gap:.3g}"


def round_significant(x: Any, digits: int = 4) -> np.ndarray:
    """``x`` (float64) rounded to ``digits`` significant digits, element by element.

    What a stored figure or printout shows should not depend on the last bits a
    particular CPU computes: rounding to a few significant digits removes them
    (a value would have to sit within round-off of a rounding boundary to
    change). Zeros, infinities and NaNs are returned unchanged.

    Parameters
    ----------
    x : array_like or torch.Tensor
    digits : int, default 4
        Significant digits to keep, 1 to 15.

    Returns
    -------
    numpy.ndarray
        float64, the shape of ``x``.

    Examples
    --------
    >>> round_significant([123456.0, 0.000123456, -2.5e-13], 3).tolist()
    [123000.0, 0.000123, -2.5e-13]
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an int from 1 to 15, got {digits!r}")
    values = as_float64(x, "x")
    return np.vectorize(lambda v: float(f"{v:.{digits - 1}e}"), otypes=[np.float64])(values)
