"""Padding: one rectangular array for sequences of different lengths.

Taught in chapter 7 (变长输入序列). A mini-batch of ``batch`` sequences of
different lengths is stored as one padded array plus a vector of lengths::

    X[i, t]    = seqs[i][t]  if t < lengths[i]  else pad_value     (pad_sequences)
    mask[i, t] = t < lengths[i]                                     (length_mask)

Position ``(i, t)`` is *valid* when ``mask[i, t]`` is True; an RNN run with
``sequence_length`` outputs exactly 0 at the other positions (:func:`mask_outputs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from companion import validation as v
from companion.sequences._shared import (
    as_data,
    check_lengths,
    host,
    mask_like,
    torch_if_tensor,
    zero_where_not,
)

__all__ = ["length_mask", "mask_outputs", "pad_sequences", "unpad"]


def pad_sequences(
    seqs: Sequence[Any],
    n_steps: int | None = None,
    pad_value: float = 0,
    dtype: Any = None,
) -> tuple[Any, Any]:
    """Stack sequences of different lengths into one padded array.

    ``X[i, t] = seqs[i][t]`` for ``t < len(seqs[i])`` and ``pad_value`` after.

    Parameters
    ----------
    seqs : list (or tuple) of ``batch`` arrays [length_i, ...]
        All with the same trailing shape ``...`` (e.g. [length_i, n_inputs] for
        input vectors, [length_i] for token ids). Lists of numbers are fine.
        If every element is a torch tensor, the result is a tensor on their
        (common) device.
    n_steps : int or None
        Width of the padded array; ``None`` means the longest length. A
        sequence longer than ``n_steps`` is an error (nothing is cut silently).
    pad_value : scalar, default 0
        What fills the positions after each end (the zero vector for inputs,
        the PAD id for tokens).
    dtype : NumPy or torch dtype, or None
        ``None`` keeps the common dtype of the sequences.

    Returns
    -------
    X : [batch, n_steps, ...]
    lengths : int64 [batch], ``len(seqs[i])`` (a tensor on the same device for tensors)

    Examples
    --------
    >>> X, lengths = pad_sequences([[5, 6, 2], [7, 2]], pad_value=0)
    >>> X.tolist(), lengths.tolist()
    ([[5, 6, 2], [7, 2, 0]], [3, 2])
    """
    if not isinstance(seqs, list | tuple):
        raise TypeError(
            f"seqs must be a list (or tuple) of arrays [length_i, ...]; got {type(seqs).__name__}"
        )
    if not seqs:
        raise ValueError("seqs must hold at least one sequence; got an empty list")
    torch = torch_if_tensor(seqs[0])
    if torch is not None:
        if not all(isinstance(s, torch.Tensor) for s in seqs):
            raise TypeError("seqs must be all torch tensors or all arrays/lists, not a mix")
        arrays = list(seqs)
        devices = {s.device for s in arrays}
        if len(devices) > 1:
            raise ValueError(f"seqs must all be on one device; got {sorted(map(str, devices))}")
    else:
        arrays = [np.asarray(s) for s in seqs]
    for i, s in enumerate(arrays):
        v.check_numeric_kind(
            f"seqs[{i}]", "i" if v.dtype_kind(s) == "b" else v.dtype_kind(s), s.dtype
        )
        if s.ndim < 1:
            raise ValueError(
                f"seqs[{i}] must have rank >= 1, shape [length, ...]; got a scalar (rank 0)"
            )
    trailing = tuple(arrays[0].shape[1:])
    for i, s in enumerate(arrays[1:], start=1):
        if tuple(s.shape[1:]) != trailing:
            raise ValueError(
                f"seqs[{i}] must have shape [length, {', '.join(map(str, trailing))}] like "
                f"seqs[0]; got {list(s.shape)}"
            )
    lengths = np.array([int(s.shape[0]) for s in arrays], dtype=np.int64)
    longest = int(lengths.max())
    if n_steps is None:
        n_steps = longest
    elif isinstance(n_steps, bool) or not isinstance(n_steps, int | np.integer) or n_steps < 0:
        raise ValueError(f"n_steps must be None or an int >= 0; got {n_steps!r}")
    n_steps = int(n_steps)
    if longest > n_steps:
        i = int(np.argmax(lengths))
        raise ValueError(
            f"seqs[{i}] has length {longest}, longer than n_steps = {n_steps}; "
            "pad_sequences never truncates"
        )
    shape = (len(arrays), n_steps, *trailing)

    if torch is not None:
        device = arrays[0].device
        if dtype is None:
            dtype = arrays[0].dtype
            for s in arrays[1:]:
                dtype = torch.promote_types(dtype, s.dtype)
        X = torch.full(shape, pad_value, dtype=dtype, device=device)
        for i, s in enumerate(arrays):
            X[i, : s.shape[0]] = s.to(dtype)
        return X, torch.as_tensor(lengths, device=device)

    if dtype is None:
        # An empty list becomes a float64 array: it should not decide the dtype.
        non_empty = [s for s in arrays if s.size] or arrays
        dtype = np.result_type(*non_empty)
    dtype = np.dtype(dtype)
    X = np.full(shape, pad_value, dtype=dtype)
    for i, s in enumerate(arrays):
        X[i, : s.shape[0]] = s
    return X, lengths


def unpad(X: Any, lengths: Any) -> list[Any]:
    """Undo :func:`pad_sequences`: the valid part of each row.

    ``seqs[i] = X[i, :lengths[i]]``

    Parameters
    ----------
    X : [batch, n_steps, ...] array or tensor
    lengths : int [batch], each in [0, n_steps]

    Returns
    -------
    list of ``batch`` arrays (tensors for a tensor ``X``): ``X[i, :lengths[i]]``,
    shape [lengths[i], ...]. They are views of ``X``, not copies.
    """
    X = as_data("X", X)
    if X.ndim < 2:
        raise ValueError(f"X must have rank >= 2, shape [batch, n_steps, ...]; got {list(X.shape)}")
    batch, n_steps = int(X.shape[0]), int(X.shape[1])
    lengths = check_lengths(lengths, batch, n_steps)
    return [X[i, : int(n)] for i, n in enumerate(lengths)]


def length_mask(lengths: Any, n_steps: int) -> Any:
    """Which positions of a padded batch are valid.

    ``mask[i, t] = t < lengths[i]``

    Parameters
    ----------
    lengths : int [batch], each in [0, n_steps] (array, list or tensor)
    n_steps : int >= 0

    Returns
    -------
    mask : bool [batch, n_steps] (a tensor on the device of ``lengths`` if it is one)
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, int | np.integer) or n_steps < 0:
        raise ValueError(f"n_steps must be an int >= 0; got {n_steps!r}")
    shape = np.shape(host(lengths))
    v.check_rank_and_sizes("lengths", shape, ("batch",), (None,))
    checked = check_lengths(lengths, int(shape[0]), int(n_steps))
    return mask_like(checked, int(n_steps), lengths)


def mask_outputs(outputs: Any, lengths: Any) -> Any:
    """Set every output after the end of its sequence to exactly 0.

    ``masked[i, t] = outputs[i, t] if t < lengths[i] else 0`` -- what
    :func:`companion.numpy_rnn.dynamic_rnn` with ``sequence_length`` returns.

    Parameters
    ----------
    outputs : [batch, n_steps, ...] array or tensor
    lengths : int [batch], each in [0, n_steps]

    Returns
    -------
    masked : same shape, dtype, library and device as ``outputs`` (a new array).
    """
    outputs = as_data("outputs", outputs)
    if outputs.ndim < 2:
        raise ValueError(
            f"outputs must have rank >= 2, shape [batch, n_steps, ...]; got {list(outputs.shape)}"
        )
    batch, n_steps = int(outputs.shape[0]), int(outputs.shape[1])
    checked = check_lengths(lengths, batch, n_steps)
    return zero_where_not(mask_like(checked, n_steps, outputs), outputs)
