"""Argument checks shared by both backends.

Every public function of :mod:`companion.numpy_rnn` and :mod:`companion.torch_rnn`
validates its arguments here, *before* any computation, so that a mistake is
reported as a ``ValueError`` (wrong shape or value) or ``TypeError`` (wrong kind
of object) whose message names the argument, the expected shape and what was
given -- never as an ``IndexError`` from deep inside a loop or as silent
broadcasting.

The checks only look at ``.shape``, ``.ndim`` and the dtype's kind, so they work
for NumPy arrays and torch tensors alike and import neither torch nor the
backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

NONLINEARITIES = ("tanh", "relu")


def shape_of(array: Any) -> tuple[int, ...]:
    """Return ``array.shape`` as a plain tuple of ints (works for tensors too)."""
    return tuple(int(n) for n in array.shape)


def _fmt(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _expected(dims: Sequence[str], sizes: Sequence[int | None]) -> str:
    """``[batch, n_inputs] = [*, 3]``: names, then sizes (``*`` = any)."""
    names = "[" + ", ".join(dims) + "]"
    values = "[" + ", ".join("*" if s is None else str(s) for s in sizes) + "]"
    return names if all(s is None for s in sizes) else f"{names} = {values}"


def check_positive_int(name: str, value: Any) -> int:
    """A layer size: an ``int`` (not bool) that is at least 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int >= 1; got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an int >= 1; got {value}")
    return int(value)


def check_nonlinearity(nonlinearity: Any) -> str:
    """``"tanh"`` (the basic cell of the course) or ``"relu"``."""
    if not isinstance(nonlinearity, str):
        raise TypeError(
            f"nonlinearity must be a str, one of {NONLINEARITIES}; "
            f"got {type(nonlinearity).__name__}"
        )
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}; got {nonlinearity!r}")
    return nonlinearity


def check_numeric_kind(name: str, kind: str, dtype: Any) -> None:
    """Accept integer or floating data (``kind`` as in ``numpy.dtype.kind``).

    Booleans, complex numbers, strings and objects are refused: they are never
    what a reader meant to feed an RNN.
    """
    if kind not in "iuf":
        raise TypeError(f"{name} must hold integers or floats; got dtype {dtype}")


def check_rank_and_sizes(
    name: str,
    shape: Sequence[int],
    dims: Sequence[str],
    sizes: Sequence[int | None],
) -> None:
    """Check ``len(shape) == len(dims)`` and every non-``None`` size.

    Parameters
    ----------
    name : the argument's name, as the caller wrote it (``"X"``, ``"inputs[2]"``).
    shape : the shape given.
    dims : symbolic names of the expected axes, e.g. ``("batch", "n_inputs")``.
    sizes : the required size of each axis, ``None`` where any size is fine.
    """
    shape = tuple(shape)
    expected = _expected(dims, sizes)
    if len(shape) != len(dims):
        raise ValueError(
            f"{name} must have rank {len(dims)}, shape {expected}; "
            f"got rank {len(shape)}, shape {_fmt(shape)}"
        )
    for axis, (dim, want, got) in enumerate(zip(dims, sizes, shape, strict=True)):
        if want is not None and got != want:
            raise ValueError(
                f"{name} must have shape {expected}; got shape {_fmt(shape)} "
                f"({dim} is {got} on axis {axis}, expected {want})"
            )


def check_weights(Wx_shape: Sequence[int], Wy_shape: Sequence[int], b_shape: Sequence[int]) -> None:
    """Shapes of ``Wx`` [n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons]."""
    check_rank_and_sizes("Wx", Wx_shape, ("n_inputs", "n_neurons"), (None, None))
    n_inputs, n_neurons = Wx_shape
    if n_inputs < 1 or n_neurons < 1:
        raise ValueError(
            f"Wx must have shape [n_inputs, n_neurons] with both >= 1; got {_fmt(Wx_shape)}"
        )
    check_rank_and_sizes("Wy", Wy_shape, ("n_neurons", "n_neurons"), (n_neurons, n_neurons))
    check_rank_and_sizes("b", b_shape, ("n_neurons",), (n_neurons,))


def check_finite(name: str, all_finite: bool) -> None:
    """Weights with NaN or inf would silently poison every output."""
    if not all_finite:
        raise ValueError(f"{name} must contain only finite values; got NaN or inf")


def check_step_input(name: str, shape: Sequence[int], n_inputs: int) -> None:
    """One time step's input: ``[batch, n_inputs]``."""
    check_rank_and_sizes(name, shape, ("batch", "n_inputs"), (None, n_inputs))


def check_state(name: str, shape: Sequence[int], batch: int, n_neurons: int) -> None:
    """A hidden state (``h_prev``, ``initial_state``): ``[batch, n_neurons]``."""
    check_rank_and_sizes(name, shape, ("batch", "n_neurons"), (batch, n_neurons))


def check_input_list(inputs: Any) -> None:
    """``static_rnn``'s inputs: a Python list or tuple of per-step arrays."""
    if not isinstance(inputs, list | tuple):
        raise TypeError(
            "inputs must be a list (or tuple) of n_steps arrays of shape [batch, n_inputs]; "
            f"got {type(inputs).__name__}"
        )


def check_same_step_shapes(shapes: Sequence[Sequence[int]]) -> None:
    """All per-step inputs of ``static_rnn`` must share one shape."""
    for t, shape in enumerate(shapes[1:], start=1):
        if tuple(shape) != tuple(shapes[0]):
            raise ValueError(
                f"inputs[{t}] must have the same shape as inputs[0], {_fmt(shapes[0])}; "
                f"got {_fmt(shape)}"
            )


def sequence_dims(time_major: bool) -> tuple[str, str, str]:
    """Axis names of ``dynamic_rnn``'s ``X``."""
    return ("n_steps", "batch", "n_inputs") if time_major else ("batch", "n_steps", "n_inputs")


def check_sequence_input(shape: Sequence[int], n_inputs: int, time_major: bool) -> None:
    """``X``: ``[batch, n_steps, n_inputs]`` (``[n_steps, batch, n_inputs]`` if time-major)."""
    check_rank_and_sizes("X", shape, sequence_dims(time_major), (None, None, n_inputs))


def check_sequence_length(lengths: Any, kind: str, batch: int, n_steps: int) -> np.ndarray:
    """Validate ``sequence_length`` and return it as an int64 NumPy vector.

    Parameters
    ----------
    lengths : array-like of shape [batch] (already converted to NumPy by the caller).
    kind : its dtype's kind (``"i"``/``"u"`` accepted).
    batch, n_steps : sizes taken from the inputs.
    """
    shape = tuple(np.shape(lengths))
    if kind not in "iu":
        raise TypeError(
            f"sequence_length must be a vector of integers of shape [batch] = [{batch}]; "
            f"got dtype {np.asarray(lengths).dtype}"
        )
    check_rank_and_sizes("sequence_length", shape, ("batch",), (batch,))
    lengths = np.asarray(lengths, dtype=np.int64)
    bad = np.flatnonzero((lengths < 0) | (lengths > n_steps))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"sequence_length values must lie in [0, n_steps] = [0, {n_steps}]; "
            f"got sequence_length[{i}] = {int(lengths[i])}"
        )
    return lengths


def check_same_batch(name: str, batch: int, other_name: str, other_batch: int) -> None:
    """Two arguments that must agree on the mini-batch size."""
    if batch != other_batch:
        raise ValueError(
            f"{name} has batch size {batch} but {other_name} has batch size {other_batch}; "
            "they must agree"
        )
