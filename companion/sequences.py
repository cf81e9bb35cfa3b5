"""Padding, lengths, masks and end-of-sequence (EOS) handling for variable-length sequences.

Taught in chapter 7 (变长输入序列: padding and lengths) and chapter 8
(变长输出序列: EOS, masks and a masked loss); used again by chapter 13
(编码器-解码器).

A mini-batch of sequences of different lengths is stored as one padded array
``X`` [batch, n_steps, ...] plus a vector ``lengths`` [batch]; position
``(i, t)`` is *valid* when ``t < lengths[i]``::

    mask[i, t] = t < lengths[i]                       (length_mask)

For outputs that end with an end-of-sequence token the length of row ``i`` is
counted *up to and including* its first EOS -- the EOS is part of the target,
because the decoder must learn to emit it -- and a row without any EOS has
the full length ``n_steps``::

    lengths[i] = 1 + min{t : tokens[i, t] == eos_id}   or n_steps if there is none

The masked cross-entropy averages over the valid positions only::

    loss = sum_{i, t < lengths[i]} -log softmax(logits[i, t])[targets[i, t]]
           / sum_i lengths[i]

Arrays and tensors
------------------
Everything works on NumPy arrays. Functions whose main argument is a torch
tensor (``X``, ``outputs``, ``tokens``, ``values``, ``logits``, the sequences of
:func:`pad_sequences`, the ``start_state`` of :func:`greedy_decode`) compute
with torch and return tensors on that tensor's device; they never move data
between devices. Lengths are small and decide the shapes, so they are read on
the host (as ``torch.nn.utils.rnn.pack_padded_sequence`` also does); a length
vector *returned* for a tensor input is an int64 tensor on the input's device.
This module does not import torch: it only uses it when it is given tensors.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from companion import validation as v

__all__ = [
    "greedy_decode",
    "length_mask",
    "lengths_from_eos",
    "mask_after_eos",
    "mask_outputs",
    "masked_mean",
    "pad_sequences",
    "sequence_cross_entropy",
    "token_cross_entropy",
    "unpad",
]


# --------------------------------------------------------------------------
# Helpers: which library, dtype kinds, argument checks.
# --------------------------------------------------------------------------


def _torch_if_tensor(value: Any) -> Any:
    """The ``torch`` module if ``value`` is a torch tensor, else None (never imports torch)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return torch
    return None


def _kind(value: Any) -> str:
    """NumPy dtype kind letter (``i``, ``u``, ``f``, ``b``, ``c``, ...) of an array or tensor."""
    torch = _torch_if_tensor(value)
    if torch is None:
        return np.asarray(value).dtype.kind
    if value.dtype == torch.bool:
        return "b"
    if value.is_complex():
        return "c"
    return "f" if value.is_floating_point() else "i"


def _host(value: Any) -> np.ndarray:
    """A NumPy copy of a (small) array, list or tensor, for host-side checks."""
    if _torch_if_tensor(value) is not None:
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _check_integer_kind(name: str, value: Any, what: str) -> None:
    if _kind(value) not in "iu":
        dtype = getattr(value, "dtype", np.asarray(value).dtype)
        raise TypeError(f"{name} must be {what} of integers; got dtype {dtype}")


def _check_lengths(lengths: Any, batch: int, n_steps: int, name: str = "lengths") -> np.ndarray:
    """Validate a length vector (int [batch], each in [0, n_steps]); return it as int64 NumPy.

    Reuses :func:`companion.validation.check_sequence_length` and reports the
    problem under this function's own argument name.
    """
    host = _host(lengths)
    try:
        return v.check_sequence_length(host, _kind(lengths), batch, n_steps)
    except (TypeError, ValueError) as exc:
        raise type(exc)(str(exc).replace("sequence_length", name)) from None


def _check_token_id(name: str, value: Any) -> int:
    """A token id: an int (not bool) >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int >= 0; got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be an int >= 0; got {value}")
    return int(value)


def _check_tokens(name: str, tokens: Any) -> tuple[int, int]:
    """``tokens``: integer ids of shape [batch, n_steps]; returns (batch, n_steps)."""
    _check_integer_kind(name, tokens, "an array [batch, n_steps]")
    shape = v.shape_of(tokens) if hasattr(tokens, "shape") else np.shape(tokens)
    v.check_rank_and_sizes(name, shape, ("batch", "n_steps"), (None, None))
    return int(shape[0]), int(shape[1])


def _as_data(name: str, value: Any) -> Any:
    """A tensor stays a tensor; anything else becomes a NumPy array of numbers."""
    if _torch_if_tensor(value) is not None:
        return value
    array = np.asarray(value)
    if array.dtype.kind not in "iufb":
        raise TypeError(f"{name} must hold numbers; got dtype {array.dtype}")
    return array


def _mask_like(lengths: np.ndarray, n_steps: int, like: Any) -> Any:
    """``length_mask`` as a bool array/tensor in the library (and on the device) of ``like``."""
    torch = _torch_if_tensor(like)
    if torch is None:
        return np.arange(n_steps)[None, :] < lengths[:, None]
    lengths_t = torch.as_tensor(lengths, device=like.device)
    return torch.arange(n_steps, device=like.device)[None, :] < lengths_t[:, None]


def _zero_where_not(mask: Any, values: Any) -> Any:
    """``values`` where ``mask`` is True, exactly +0.0 (or 0) elsewhere; ``mask`` broadcasts
    over trailing axes. ``where`` rather than multiplication: NaN * 0 would stay NaN."""
    torch = _torch_if_tensor(values)
    extra = (None,) * (values.ndim - mask.ndim)
    mask = mask[(..., *extra)]
    if torch is None:
        return np.where(mask, values, np.zeros((), dtype=values.dtype))
    return torch.where(mask, values, torch.zeros((), dtype=values.dtype, device=values.device))


# --------------------------------------------------------------------------
# Padding and lengths (chapter 7).
# --------------------------------------------------------------------------


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
    torch = _torch_if_tensor(seqs[0])
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
        v.check_numeric_kind(f"seqs[{i}]", "i" if _kind(s) == "b" else _kind(s), s.dtype)
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

    Parameters
    ----------
    X : [batch, n_steps, ...] array or tensor
    lengths : int [batch], each in [0, n_steps]

    Returns
    -------
    list of ``batch`` arrays (tensors for a tensor ``X``): ``X[i, :lengths[i]]``,
    shape [lengths[i], ...]. They are views of ``X``, not copies.
    """
    X = _as_data("X", X)
    if X.ndim < 2:
        raise ValueError(f"X must have rank >= 2, shape [batch, n_steps, ...]; got {list(X.shape)}")
    batch, n_steps = int(X.shape[0]), int(X.shape[1])
    lengths = _check_lengths(lengths, batch, n_steps)
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
    shape = np.shape(_host(lengths))
    v.check_rank_and_sizes("lengths", shape, ("batch",), (None,))
    checked = _check_lengths(lengths, int(shape[0]), int(n_steps))
    return _mask_like(checked, int(n_steps), lengths)


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
    outputs = _as_data("outputs", outputs)
    if outputs.ndim < 2:
        raise ValueError(
            f"outputs must have rank >= 2, shape [batch, n_steps, ...]; got {list(outputs.shape)}"
        )
    batch, n_steps = int(outputs.shape[0]), int(outputs.shape[1])
    checked = _check_lengths(lengths, batch, n_steps)
    return _zero_where_not(_mask_like(checked, n_steps, outputs), outputs)


# --------------------------------------------------------------------------
# End-of-sequence tokens (chapter 8).
# --------------------------------------------------------------------------


def lengths_from_eos(tokens: Any, eos_id: int) -> Any:
    """Length of each row up to *and including* its first EOS.

    ``lengths[i] = 1 + (first t with tokens[i, t] == eos_id)``, or ``n_steps``
    when row ``i`` has no EOS (a decoder stopped by ``max_steps``). The EOS is
    counted because it belongs to the target: the decoder must learn to emit
    it. Whatever follows the first EOS (padding, further EOS, garbage) is
    ignored.

    Parameters
    ----------
    tokens : int [batch, n_steps] array or tensor
    eos_id : int >= 0

    Returns
    -------
    lengths : int64 [batch] (a tensor on the device of ``tokens`` if it is one)

    Examples
    --------
    >>> lengths_from_eos(np.array([[5, 2, 0], [2, 2, 2], [5, 6, 7]]), eos_id=2).tolist()
    [2, 1, 3]
    """
    eos_id = _check_token_id("eos_id", eos_id)
    tokens = _as_data("tokens", tokens)
    _, n_steps = _check_tokens("tokens", tokens)
    torch = _torch_if_tensor(tokens)
    is_eos = tokens == eos_id
    if torch is None:
        if n_steps == 0:
            return np.zeros(tokens.shape[0], dtype=np.int64)
        first = np.argmax(is_eos, axis=1)  # index of the first True (0 if none)
        return np.where(is_eos.any(axis=1), first + 1, n_steps).astype(np.int64)
    if n_steps == 0:
        return torch.zeros(tokens.shape[0], dtype=torch.int64, device=tokens.device)
    # torch.argmax on bool is not implemented everywhere: use the cumulative count.
    seen = torch.cumsum(is_eos.to(torch.int64), dim=1)  # number of EOS up to t
    before_first = (seen == 0).sum(dim=1)  # positions before the first EOS
    has = seen[:, -1] > 0
    return torch.where(has, before_first + 1, torch.full_like(before_first, n_steps))


def mask_after_eos(tokens: Any, eos_id: int, pad_id: int) -> Any:
    """Replace everything after each row's first EOS by ``pad_id`` (the EOS is kept).

    ``masked[i, t] = tokens[i, t] if t < lengths_from_eos(tokens)[i] else pad_id``

    Parameters
    ----------
    tokens : int [batch, n_steps] array or tensor
    eos_id, pad_id : int >= 0

    Returns
    -------
    masked : int [batch, n_steps], same dtype, library and device as ``tokens``
    """
    pad_id = _check_token_id("pad_id", pad_id)
    lengths = lengths_from_eos(tokens, eos_id)  # validates tokens and eos_id
    tokens = _as_data("tokens", tokens)
    mask = _mask_like(_host(lengths), int(tokens.shape[1]), tokens)
    torch = _torch_if_tensor(tokens)
    if torch is None:
        return np.where(mask, tokens, np.asarray(pad_id, dtype=tokens.dtype))
    return torch.where(mask, tokens, torch.full_like(tokens, pad_id))


# --------------------------------------------------------------------------
# Masked averages and the sequence cross-entropy (chapter 8).
# --------------------------------------------------------------------------


def masked_mean(values: Any, mask: Any) -> Any:
    """Mean of ``values`` over the positions where ``mask`` is True.

    ``sum(values[mask]) / count(mask)``; masked-out values are never read into
    the sum (a NaN there does not matter).

    Parameters
    ----------
    values : float [...] array or tensor
    mask : bool, same shape as ``values``; at least one True

    Returns
    -------
    A 0-d array / tensor (differentiable in torch).
    """
    values = _as_data("values", values)
    torch = _torch_if_tensor(values)
    if _kind(mask) != "b":
        dtype = getattr(mask, "dtype", np.asarray(mask).dtype)
        raise TypeError(f"mask must be a bool array; got dtype {dtype}")
    if tuple(np.shape(_host(mask))) != tuple(values.shape):
        raise ValueError(
            f"mask must have the shape of values, {list(values.shape)}; "
            f"got {list(np.shape(_host(mask)))}"
        )
    count = int(_host(mask).sum())
    if count == 0:
        raise ValueError("mask must select at least one position; got an all-False mask")
    if torch is None:
        values = values.astype(np.result_type(values.dtype, np.float32), copy=False)
        return np.where(mask, values, 0).sum() / count
    mask = torch.as_tensor(mask, device=values.device)
    if not values.is_floating_point():
        values = values.to(torch.get_default_dtype())
    return (
        torch.where(mask, values, torch.zeros((), dtype=values.dtype, device=values.device)).sum()
        / count
    )


def _targets_like(targets: Any, logits: Any, batch: int, n_steps: int) -> Any:
    """Integer ``targets`` [batch, n_steps], a tensor on ``logits``' device if it is one."""
    torch = _torch_if_tensor(logits)
    if torch is not None and _torch_if_tensor(targets) is None:
        targets = torch.as_tensor(np.asarray(targets), device=logits.device)
    elif torch is None:
        targets = np.asarray(targets)
    _check_integer_kind("targets", targets, "an array [batch, n_steps]")
    v.check_rank_and_sizes("targets", tuple(targets.shape), ("batch", "n_steps"), (batch, n_steps))
    return targets


def token_cross_entropy(logits: Any, targets: Any) -> Any:
    """Cross-entropy of every position, with no masking.

    ``ce[i, t] = -log softmax(logits[i, t])[targets[i, t]]
              = logsumexp(logits[i, t]) - logits[i, t, targets[i, t]]``

    computed stably (the row maximum is subtracted before ``exp``).

    Parameters
    ----------
    logits : float [batch, n_steps, n_classes] array or tensor
    targets : int [batch, n_steps], each in [0, n_classes)

    Returns
    -------
    ce : float [batch, n_steps] (dtype of ``logits``; float64 for integer logits)
    """
    logits = _as_data("logits", logits)
    if logits.ndim != 3:
        raise ValueError(
            "logits must have rank 3, shape [batch, n_steps, n_classes]; "
            f"got rank {logits.ndim}, shape {list(logits.shape)}"
        )
    batch, n_steps, n_classes = (int(n) for n in logits.shape)
    if n_classes < 1:
        raise ValueError("logits must have n_classes >= 1 on its last axis; got 0")
    targets = _targets_like(targets, logits, batch, n_steps)
    torch = _torch_if_tensor(logits)
    host = _host(targets)
    bad = np.argwhere((host < 0) | (host >= n_classes))
    if bad.size:
        i, t = (int(k) for k in bad[0])
        raise ValueError(
            f"targets must be class ids in [0, n_classes) = [0, {n_classes}); "
            f"got targets[{i}, {t}] = {int(host[i, t])}"
        )
    if torch is None:
        if logits.dtype.kind != "f":
            logits = logits.astype(np.float64)
        top = logits.max(axis=-1, keepdims=True)
        log_z = top[..., 0] + np.log(np.exp(logits - top).sum(axis=-1))
        picked = np.take_along_axis(logits, targets[..., None].astype(np.intp), axis=-1)[..., 0]
        return log_z - picked
    if not logits.is_floating_point():
        logits = logits.to(torch.float64)
    log_p = torch.log_softmax(logits, dim=-1)
    return -log_p.gather(-1, targets.to(torch.int64)[..., None])[..., 0]


def sequence_cross_entropy(logits: Any, targets: Any, lengths: Any) -> Any:
    """Mean cross-entropy over the valid positions of a padded batch.

    ``loss = sum_{i, t < lengths[i]} ce[i, t] / sum_i lengths[i]`` with ``ce``
    from :func:`token_cross_entropy`: every valid token counts once, padded
    positions not at all (their targets may be anything, even out of range).
    For tensors it equals ``torch.nn.functional.cross_entropy(logits.reshape(-1,
    n_classes), targets_with_pad.reshape(-1), ignore_index=pad)`` when the
    padded targets are ``pad`` and no valid target is.

    Parameters
    ----------
    logits : float [batch, n_steps, n_classes] array or tensor
    targets : int [batch, n_steps]; valid ones in [0, n_classes)
    lengths : int [batch], each in [0, n_steps], not all 0
        (for EOS-terminated targets: :func:`lengths_from_eos`)

    Returns
    -------
    loss : 0-d array / tensor (differentiable in torch)
    """
    logits = _as_data("logits", logits)
    if logits.ndim != 3:
        raise ValueError(
            "logits must have rank 3, shape [batch, n_steps, n_classes]; "
            f"got rank {logits.ndim}, shape {list(logits.shape)}"
        )
    batch, n_steps = int(logits.shape[0]), int(logits.shape[1])
    checked = _check_lengths(lengths, batch, n_steps)
    if checked.sum() == 0:
        raise ValueError("lengths must not all be 0: there is no valid position to average over")
    targets = _targets_like(targets, logits, batch, n_steps)
    mask = _mask_like(checked, n_steps, logits)
    # Padded targets are replaced by class 0 before the lookup, then masked out.
    safe = _zero_where_not(mask, targets)
    return masked_mean(token_cross_entropy(logits, safe), mask)


# --------------------------------------------------------------------------
# Greedy decoding until EOS (chapter 8, used by chapter 13).
# --------------------------------------------------------------------------


def _rows(state: Any, index: Any) -> Any:
    """Rows ``index`` of a state (an array/tensor or a tuple of them)."""
    if isinstance(state, tuple):
        return tuple(_rows(s, index) for s in state)
    return state[index]


def _put_rows(state: Any, index: Any, new: Any, name: str = "state") -> Any:
    """A copy of ``state`` with rows ``index`` replaced by ``new`` (same structure)."""
    if isinstance(state, tuple):
        if not isinstance(new, tuple) or len(new) != len(state):
            raise ValueError(f"step_fn must return a {name} with {len(state)} parts like its input")
        return tuple(
            _put_rows(s, index, n, f"{name}[{k}]")
            for k, (s, n) in enumerate(zip(state, new, strict=True))
        )
    want = (len(index), *state.shape[1:])
    if tuple(new.shape) != want:
        raise ValueError(
            f"step_fn must return a {name} of shape {list(want)} (the rows still decoding); "
            f"got {list(new.shape)}"
        )
    torch = _torch_if_tensor(state)
    if torch is None:
        out = state.copy()
        out[index] = new
        return out
    return state.index_copy(0, index, new.to(state.dtype))


def _first_leaf(state: Any) -> Any:
    while isinstance(state, tuple):
        if not state:
            raise ValueError("start_state must not be an empty tuple")
        state = state[0]
    return state


def greedy_decode(
    step_fn: Callable[[Any, Any], tuple[Any, Any]],
    start_state: Any,
    start_token: Any,
    eos_id: int,
    max_steps: int,
    *,
    pad_id: int = 0,
) -> tuple[Any, Any]:
    """Decode a batch greedily, one token per step, each row until it emits EOS.

    For each row ``i`` still decoding, at step ``t``::

        logits, h_i = step_fn(prev_i, h_i)        # prev_i: the token emitted at t-1
        tokens[i, t] = argmax(logits)             # (start_token at t = 0)
        row i stops after step t if tokens[i, t] == eos_id

    A row that has emitted EOS is no longer passed to ``step_fn``: its state is
    not updated and its remaining positions hold ``pad_id``. Decoding ends when
    every row has stopped or after ``max_steps`` steps; a row that never emits
    EOS is cut at ``max_steps`` and gets the full length (its last token is then
    not EOS).

    Parameters
    ----------
    step_fn : callable ``(prev_tokens, state) -> (logits, new_state)``
        ``prev_tokens`` int64 [k] (the ``k`` rows still decoding, in their
        original order), ``state`` [k, ...] (or a tuple of such arrays, e.g. an
        LSTM's ``(h, c)``); it returns ``logits`` [k, n_classes] and
        ``new_state`` shaped like ``state``.
    start_state : [batch, ...] array or tensor, or a tuple of them
        The decoder's initial state (e.g. an encoder's final state). Tensors
        make the decoding run in torch, on their device.
    start_token : int, or int [batch]
        The token fed to the first step (a GO / BOS token).
    eos_id : int >= 0
    max_steps : int >= 1
    pad_id : int >= 0, default 0
        Written after each row's EOS.

    Returns
    -------
    tokens : int64 [batch, n_run], ``n_run <= max_steps`` the number of steps run
    lengths : int64 [batch], up to and including each row's EOS (``max_steps`` for a
        row without EOS); equal to ``lengths_from_eos(tokens, eos_id)``
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable; got {type(step_fn).__name__}")
    eos_id = _check_token_id("eos_id", eos_id)
    pad_id = _check_token_id("pad_id", pad_id)
    max_steps = v.check_positive_int("max_steps", max_steps)
    leaf = _first_leaf(start_state)
    if not hasattr(leaf, "shape") or len(leaf.shape) < 1:
        raise TypeError(
            "start_state must be an array or tensor [batch, ...] (or a tuple of them); "
            f"got {type(leaf).__name__}"
        )
    batch = int(leaf.shape[0])
    torch = _torch_if_tensor(leaf)
    start = _host(start_token)
    if start.dtype.kind not in "iu":
        raise TypeError(f"start_token must be an int or an int array [batch]; got {start.dtype}")
    if start.ndim == 0:
        start = np.full(batch, int(start), dtype=np.int64)
    v.check_rank_and_sizes("start_token", start.shape, ("batch",), (batch,))
    if (start < 0).any():
        raise ValueError(f"start_token must be >= 0; got {start.tolist()}")

    tokens = np.full((batch, max_steps), pad_id, dtype=np.int64)
    lengths = np.full(batch, max_steps, dtype=np.int64)
    prev = start.astype(np.int64)
    running = np.arange(batch)  # rows still decoding, in their original order
    state = start_state
    n_run = 0
    while running.size and n_run < max_steps:
        t = n_run
        if torch is None:
            index, prev_in = running, prev[running]
        else:
            index = torch.as_tensor(running, device=leaf.device)
            prev_in = torch.as_tensor(prev[running], device=leaf.device)
        logits, new_state = step_fn(prev_in, _rows(state, index))
        shape = tuple(int(n) for n in logits.shape)
        if len(shape) != 2 or shape[0] != running.size:
            raise ValueError(
                f"step_fn must return logits of shape [k, n_classes] with k = {running.size} "
                f"(the rows still decoding); got {list(shape)} at step {t}"
            )
        state = _put_rows(state, index, new_state)
        emitted = _host(logits.argmax(-1)).astype(np.int64)
        tokens[running, t] = emitted
        prev[running] = emitted
        done = emitted == eos_id
        lengths[running[done]] = t + 1
        running = running[~done]
        n_run += 1
    tokens = tokens[:, :n_run]
    if torch is not None:
        return torch.as_tensor(tokens, device=leaf.device), torch.as_tensor(
            lengths, device=leaf.device
        )
    return tokens, lengths
