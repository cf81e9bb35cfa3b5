"""The loss of a padded batch: average over the valid positions only.

Taught in chapter 8 (变长输出序列). Each position's cross-entropy is the
negative log-probability of its target class::

    ce[i, t] = -log softmax(logits[i, t])[targets[i, t]]
             = logsumexp(logits[i, t]) - logits[i, t, targets[i, t]]

and the loss of the batch averages it over the valid positions, so that every
real token counts once and padding not at all::

    loss = sum_{i, t < lengths[i]} ce[i, t] / sum_i lengths[i]
"""

from __future__ import annotations

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

__all__ = ["masked_mean", "sequence_cross_entropy", "token_cross_entropy"]


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
    values = as_data("values", values)
    torch = torch_if_tensor(values)
    if v.dtype_kind(mask) != "b":
        dtype = getattr(mask, "dtype", np.asarray(mask).dtype)
        raise TypeError(f"mask must be a bool array; got dtype {dtype}")
    if tuple(np.shape(host(mask))) != tuple(values.shape):
        raise ValueError(
            f"mask must have the shape of values, {list(values.shape)}; "
            f"got {list(np.shape(host(mask)))}"
        )
    count = int(host(mask).sum())
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


def _check_logits(logits: Any) -> Any:
    """``logits``: float [batch, n_steps, n_classes], as an array or tensor."""
    logits = as_data("logits", logits)
    if logits.ndim != 3:
        raise ValueError(
            "logits must have rank 3, shape [batch, n_steps, n_classes]; "
            f"got rank {logits.ndim}, shape {list(logits.shape)}"
        )
    return logits


def _targets_like(targets: Any, logits: Any, batch: int, n_steps: int) -> Any:
    """Integer ``targets`` [batch, n_steps], a tensor on ``logits``' device if it is one."""
    torch = torch_if_tensor(logits)
    if torch is not None and torch_if_tensor(targets) is None:
        targets = torch.as_tensor(np.asarray(targets), device=logits.device)
    elif torch is None:
        targets = np.asarray(targets)
    v.check_integer_kind("targets", targets, "an array [batch, n_steps]")
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
    logits = _check_logits(logits)
    batch, n_steps, n_classes = (int(n) for n in logits.shape)
    if n_classes < 1:
        raise ValueError("logits must have n_classes >= 1 on its last axis; got 0")
    targets = _targets_like(targets, logits, batch, n_steps)
    torch = torch_if_tensor(logits)
    on_host = host(targets)
    bad = np.argwhere((on_host < 0) | (on_host >= n_classes))
    if bad.size:
        i, t = (int(k) for k in bad[0])
        raise ValueError(
            f"targets must be class ids in [0, n_classes) = [0, {n_classes}); "
            f"got targets[{i}, {t}] = {int(on_host[i, t])}"
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
        (for EOS-terminated targets: :func:`companion.sequences.lengths_from_eos`)

    Returns
    -------
    loss : 0-d array / tensor (differentiable in torch)
    """
    logits = _check_logits(logits)
    batch, n_steps = int(logits.shape[0]), int(logits.shape[1])
    checked = check_lengths(lengths, batch, n_steps)
    if checked.sum() == 0:
        raise ValueError("lengths must not all be 0: there is no valid position to average over")
    targets = _targets_like(targets, logits, batch, n_steps)
    mask = mask_like(checked, n_steps, logits)
    # Padded targets may be out of range: class 0 stands in for the lookup, then is masked out.
    safe = zero_where_not(mask, targets)
    return masked_mean(token_cross_entropy(logits, safe), mask)
