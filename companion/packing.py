"""How to compute only the valid time steps of a padded mini-batch.

Taught in chapter 7 (变长输入序列). Sort the instances by length, longest first;
then at step ``t`` the instances still running are a *prefix* of the sorted
batch, of size ``active[t] = #{i : length[i] > t}``. Running the cell on that
prefix only makes the work proportional to ``sum(lengths)`` rather than to
``batch * n_steps`` -- the same idea as PyTorch's ``PackedSequence``.

Both backends use this plan; it is pure NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PackingPlan:
    """The schedule for running a padded batch step by step.

    Attributes
    ----------
    order : int64 [batch]
        ``order[j]`` is the instance placed at row ``j`` of the sorted batch
        (lengths non-increasing; ties keep their original order).
    inverse : int64 [batch]
        The permutation that undoes ``order``: ``sorted[inverse] == original``.
    active : int64 [n_run]
        ``active[t]`` is the number of instances with ``length > t``; it is
        non-increasing and every entry is at least 1.
    """

    order: np.ndarray
    inverse: np.ndarray
    active: np.ndarray

    @property
    def n_run(self) -> int:
        """Number of steps that need computing: the longest length."""
        return int(self.active.size)

    @property
    def is_identity(self) -> bool:
        """True when the batch is already sorted and nothing needs permuting."""
        return bool(np.array_equal(self.order, np.arange(self.order.size)))


def packing_plan(lengths: np.ndarray) -> PackingPlan:
    """Build the :class:`PackingPlan` of a validated vector of lengths.

    Parameters
    ----------
    lengths : int [batch], each ``0 <= lengths[i] <= n_steps``.

    Examples
    --------
    >>> plan = packing_plan(np.array([2, 1, 2, 2]))
    >>> plan.order.tolist(), plan.active.tolist()
    ([0, 2, 3, 1], [4, 3])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    longest = int(lengths.max()) if lengths.size else 0
    active = (lengths[None, :] > np.arange(longest)[:, None]).sum(axis=1)
    return PackingPlan(order=order, inverse=inverse, active=active.astype(np.int64))
