"""End-of-sequence (EOS) tokens: where each output sequence ends.

Taught in chapter 8 (变长输出序列). A decoder marks the end of its output with
an EOS token. The length of row ``i`` is counted *up to and including* its
first EOS -- the EOS is part of the target, because the decoder must learn to
emit it -- and a row without any EOS has the full length ``n_steps``::

    lengths[i] = 1 + min{t : tokens[i, t] == eos_id}   or n_steps if there is none

Everything after the first EOS is padding, whatever it holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion import validation as v
from companion.sequences._shared import as_data, host, mask_like, torch_if_tensor

__all__ = ["lengths_from_eos", "mask_after_eos"]


def _check_tokens(name: str, tokens: Any) -> tuple[int, int]:
    """``tokens``: integer ids of shape [batch, n_steps]; returns (batch, n_steps)."""
    v.check_integer_kind(name, tokens, "an array [batch, n_steps]")
    shape = v.shape_of(tokens) if hasattr(tokens, "shape") else np.shape(tokens)
    v.check_rank_and_sizes(name, shape, ("batch", "n_steps"), (None, None))
    return int(shape[0]), int(shape[1])


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
    eos_id = v.check_int("eos_id", eos_id, 0)
    tokens = as_data("tokens", tokens)
    _, n_steps = _check_tokens("tokens", tokens)
    torch = torch_if_tensor(tokens)
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
    pad_id = v.check_int("pad_id", pad_id, 0)
    lengths = lengths_from_eos(tokens, eos_id)  # validates tokens and eos_id
    tokens = as_data("tokens", tokens)
    mask = mask_like(host(lengths), int(tokens.shape[1]), tokens)
    torch = torch_if_tensor(tokens)
    if torch is None:
        return np.where(mask, tokens, np.asarray(pad_id, dtype=tokens.dtype))
    return torch.where(mask, tokens, torch.full_like(tokens, pad_id))
