"""What every module of :mod:`companion.sequences` shares: which library, masks, checks.

Not taught by itself: chapters 7 and 8 use it through the public functions.
The functions here let one body of code serve NumPy arrays and torch tensors
(without ever importing torch) and keep the argument checks in companion.validation.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from companion import validation as v

# --------------------------------------------------------------------------
# Which library: NumPy or torch, decided by the data, never by an import.
# --------------------------------------------------------------------------


def torch_if_tensor(value: Any) -> Any:
    """The ``torch`` module if ``value`` is a torch tensor, else None (never imports torch)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return torch
    return None


def host(value: Any) -> np.ndarray:
    """A NumPy copy of a (small) array, list or tensor, for host-side checks."""
    if torch_if_tensor(value) is not None:
        return value.detach().cpu().numpy()
    return np.asarray(value)


def as_data(name: str, value: Any) -> Any:
    """A tensor stays a tensor; anything else becomes a NumPy array of numbers."""
    if torch_if_tensor(value) is not None:
        return value
    array = np.asarray(value)
    if array.dtype.kind not in "iufb":
        raise TypeError(f"{name} must hold numbers; got dtype {array.dtype}")
    return array


# --------------------------------------------------------------------------
# The valid positions of a padded batch: mask[i, t] = t < lengths[i].
# --------------------------------------------------------------------------


def mask_like(lengths: np.ndarray, n_steps: int, like: Any) -> Any:
    """``mask[i, t] = t < lengths[i]``, bool [batch, n_steps], in the library and on the
    device of ``like``."""
    torch = torch_if_tensor(like)
    if torch is None:
        return np.arange(n_steps)[None, :] < lengths[:, None]
    lengths_t = torch.as_tensor(lengths, device=like.device)
    return torch.arange(n_steps, device=like.device)[None, :] < lengths_t[:, None]


def zero_where_not(mask: Any, values: Any) -> Any:
    """``values`` where ``mask`` is True, exactly +0.0 (or 0) elsewhere; ``mask`` broadcasts
    over trailing axes. ``where`` rather than multiplication: NaN * 0 would stay NaN."""
    torch = torch_if_tensor(values)
    extra = (None,) * (values.ndim - mask.ndim)
    mask = mask[(..., *extra)]
    if torch is None:
        return np.where(mask, values, np.zeros((), dtype=values.dtype))
    return torch.where(mask, values, torch.zeros((), dtype=values.dtype, device=values.device))


# --------------------------------------------------------------------------
# The package's own length check: companion.validation's, under the caller's name.
# --------------------------------------------------------------------------


def check_lengths(lengths: Any, batch: int, n_steps: int, name: str = "lengths") -> np.ndarray:
    """Validate a length vector (int [batch], each in [0, n_steps]); return it as int64 NumPy."""
    return v.check_sequence_length(host(lengths), v.dtype_kind(lengths), batch, n_steps, name)


def start_tokens(start_token: Any, batch: int) -> np.ndarray:
    """The first input of a decoder, one token per row: int64 [batch] on the host
    (an int is repeated); checked for an integer kind, the shape and ``>= 0``."""
    start = host(start_token)
    if start.dtype.kind not in "iu":
        raise TypeError(f"start_token must be an int or an int array [batch]; got {start.dtype}")
    if start.ndim == 0:
        start = np.full(batch, int(start), dtype=np.int64)
    v.check_rank_and_sizes("start_token", start.shape, ("batch",), (batch,))
    if (start < 0).any():
        raise ValueError(f"start_token must be >= 0; got {start.tolist()}")
    return start
