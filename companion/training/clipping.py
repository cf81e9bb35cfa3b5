"""Gradient clipping (梯度裁剪): by global norm and by value, NumPy and PyTorch.

Taught in chapter 10 (梯度消失与梯度爆炸). An exploding gradient is tamed by
shrinking it before the update. Two ways:

* **by global norm** -- treat all gradients as one long vector ``g``; if its norm
  exceeds ``max_norm``, scale every gradient by the same factor, so the
  *direction* of the update is kept::

      global_norm = sqrt(Σ_k Σ_j g_k[j]²)
      g_k ← g_k · max_norm / max(global_norm, max_norm)          (TensorFlow 1.x)

  :func:`clip_by_global_norm` uses TensorFlow 1.x's ``tf.clip_by_global_norm``
  formula: a clipped gradient has norm exactly ``max_norm``. PyTorch's
  ``torch.nn.utils.clip_grad_norm_`` (our twin: :func:`clip_grad_norm`) adds
  ``1e-6`` to the denominator, ``g ← g · min(1, max_norm / (global_norm +
  1e-6))``: its clipped norm is ``max_norm · n / (n + 1e-6)``, a hair below
  ``max_norm``, and it scales (by slightly less than 1) gradients whose norm
  lies within ``1e-6`` of ``max_norm``.

* **by value** -- clamp every entry to ``[-limit, limit]`` (:func:`clip_by_value`,
  like ``torch.nn.utils.clip_grad_value_``). Simpler, but it changes the
  direction of the gradient.

:func:`global_norm`, :func:`clip_by_global_norm` and :func:`clip_by_value` take a
list of NumPy arrays or a list of torch tensors and return the same kind; they
never modify their input. :func:`clip_grad_norm` works in place on the
``.grad`` of torch parameters, like PyTorch's. This module does not import
torch: it uses it only when given tensors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from companion import validation as v

__all__ = ["clip_by_global_norm", "clip_by_value", "clip_grad_norm", "global_norm"]


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "detach") and hasattr(value, "cpu")


def _check_grads(grads: Any) -> tuple[list, bool]:
    """A list of arrays or a list of tensors, not a mix: ``(list, is_torch)``."""
    grads = v.check_array_list("grads", grads)
    kinds = {_is_tensor(g) for g in grads}
    if len(kinds) > 1:
        raise TypeError("grads must be all NumPy arrays or all torch tensors; got a mix")
    return grads, kinds == {True}


def global_norm(grads: Any) -> float:
    """The norm of all gradients taken as one vector: ``sqrt(Σ_k Σ_j g_k[j]²)``.

    Parameters
    ----------
    grads : list of arrays, or list of tensors, any shapes

    Returns
    -------
    float (0.0 for an empty list). For tensors it is computed as PyTorch does,
    the norm of the per-tensor norms.
    """
    grads, is_torch = _check_grads(grads)
    if not grads:
        return 0.0
    if is_torch:
        import torch

        norms = [torch.linalg.vector_norm(g.detach()) for g in grads]
        return float(torch.linalg.vector_norm(torch.stack(norms)))
    return float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))


def clip_by_global_norm(grads: Any, max_norm: float) -> tuple[list, float]:
    """Scale all gradients together so their global norm is at most ``max_norm``.

    TensorFlow 1.x's ``tf.clip_by_global_norm``::

        scale = max_norm / max(global_norm, max_norm)      (1 when nothing to clip)
        clipped_k = g_k * scale

    Parameters
    ----------
    grads : list of arrays, or list of tensors, any shapes
    max_norm : float > 0

    Returns
    -------
    clipped : list, new arrays (tensors), same shapes and order as ``grads``
    global_norm : float, the norm *before* clipping (to log it)
    """
    grads, _ = _check_grads(grads)
    max_norm = v.check_positive_number("max_norm", max_norm)
    norm = global_norm(grads)
    scale = max_norm / max(norm, max_norm)
    return [g * scale for g in grads], norm


def clip_grad_norm(parameters: Iterable[Any], max_norm: float) -> float:
    """PyTorch's ``torch.nn.utils.clip_grad_norm_``, written out: in place on ``p.grad``.

    ::

        global_norm = ||(||p_1.grad||, ..., ||p_K.grad||)||    (parameters without grad skipped)
        p.grad ← p.grad * min(1, max_norm / (global_norm + 1e-6))

    The ``1e-6`` is PyTorch's (see the module docstring for how it differs from
    :func:`clip_by_global_norm`).

    Parameters
    ----------
    parameters : iterable of torch tensors (``model.parameters()``)
    max_norm : float > 0

    Returns
    -------
    float, the global norm before clipping
    """
    import torch

    max_norm = v.check_positive_number("max_norm", max_norm)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    with torch.no_grad():
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
        for g in grads:
            g.mul_(scale)
    return float(norm)


def clip_by_value(grads: Any, limit: float) -> list:
    """Clamp every entry of every gradient to ``[-limit, limit]``.

    ``clipped_k[j] = min(max(g_k[j], -limit), limit)``; equal to
    ``torch.nn.utils.clip_grad_value_`` (which works in place).

    Parameters
    ----------
    grads : list of arrays, or list of tensors, any shapes
    limit : float > 0

    Returns
    -------
    list of new arrays (tensors), same shapes and order as ``grads``
    """
    grads, is_torch = _check_grads(grads)
    limit = v.check_positive_number("limit", limit)
    if is_torch:
        return [g.clamp(-limit, limit) for g in grads]
    return [np.clip(g, -limit, limit) for g in grads]
