"""Packing plans: how to compute only the valid time steps of a padded mini-batch.

Taught in chapter 7 (变长输入序列). Sort the instances by length, longest first;
then at step ``t`` the instances still running are a *prefix* of the sorted
batch, of size ``active[t] = #{i : length[i] > t}``. Running the cell on that
prefix only makes the work proportional to ``sum(lengths)`` rather than to
``batch * n_steps`` -- the same idea as PyTorch's ``PackedSequence``.

Both fast paths (:mod:`companion.fast.numpy_packed`,
:mod:`companion.fast.torch_packed`) use this plan; it is pure NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

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

    @cached_property
    def offsets(self) -> np.ndarray:
        """int64 [n_run + 1]: step ``t`` occupies rows ``offsets[t]:offsets[t + 1]`` of the
        packed layout (``offsets[-1]`` is ``sum(lengths)``, the number of packed rows)."""
        return np.concatenate([[0], np.cumsum(self.active)]).astype(np.int64)

    def packed_rows(self, n_steps: int, time_major: bool) -> np.ndarray:
        """Where each packed row comes from in the caller's padded array.

        The packed layout lists the valid ``(t, j)`` pairs step by step: step 0's
        running rows ``j = 0 .. active[0]-1`` of the sorted batch, then step 1's,
        and so on (PyTorch's ``PackedSequence.data``). Row ``r`` of that layout is
        row ``packed_rows(...)[r]`` of ``X.reshape(-1, n_features)`` when ``X`` is
        ``[batch, n_steps, ...]`` (``time_major=False``) or ``[n_steps, batch, ...]``.

        Returns
        -------
        int64 [sum(lengths)]
        """
        t = np.repeat(np.arange(self.n_run, dtype=np.int64), self.active)
        j = np.arange(int(self.offsets[-1]), dtype=np.int64) - self.offsets[t]
        instance = self.order[j]
        batch = self.order.size
        return t * batch + instance if time_major else instance * n_steps + t

    def unpacked_rows(self, n_steps: int, time_major: bool) -> np.ndarray:
        """The inverse of :meth:`packed_rows`: where each padded row comes from.

        Row ``p`` of the caller's padded array (reshaped to ``[-1, n_features]``,
        ``[batch, n_steps, ...]`` or, with ``time_major``, ``[n_steps, batch, ...]``)
        is packed row ``unpacked_rows(...)[p]``; a padding position (``t >=
        length``) gets ``sum(lengths)``, one past the last packed row. Appending
        one row of zeros to the packed rows therefore turns unpacking into a single
        gather that also writes the zeros of the padding.

        Returns
        -------
        int64 [batch * n_steps]
        """
        total = int(self.offsets[-1])
        t = np.arange(n_steps, dtype=np.int64)
        # Instance i sits at row j = inverse[i] of the sorted batch; while it runs,
        # step t holds it at packed row offsets[t] + j.
        j = self.inverse[:, None]
        start = self.offsets[np.minimum(t, self.n_run)][None, :]
        rows = np.where(t[None, :] < self.sorted_lengths[j], start + j, total)
        return (rows.T if time_major else rows).ravel()

    @cached_property
    def sorted_lengths(self) -> np.ndarray:
        """int64 [batch]: the lengths of the sorted batch (non-increasing)."""
        j = np.arange(self.order.size, dtype=np.int64)
        # Length of sorted instance j = number of steps with more than j running
        # (``active`` is non-increasing, so those steps are a prefix).
        return np.searchsorted(-self.active, -j, side="left").astype(np.int64)

    def last_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(instances, rows)``: for every instance with ``length >= 1``, the packed row
        that holds its last valid step -- the final state ``state[instance]``."""
        n_started = int(self.active[0]) if self.n_run else 0
        j = np.arange(n_started, dtype=np.int64)
        return self.order[:n_started], self.offsets[self.sorted_lengths[:n_started] - 1] + j

    def previous_rows(self) -> np.ndarray:
        """For every packed row of steps ``t >= 1``, the packed row of the same instance
        at step ``t - 1`` (where ``h_{t-1}`` lives). int64 [sum(lengths) - active[0]]."""
        if self.n_run < 2:
            return np.zeros(0, dtype=np.int64)
        t = np.repeat(np.arange(1, self.n_run, dtype=np.int64), self.active[1:])
        j = np.arange(t.size, dtype=np.int64) - (self.offsets[t] - self.offsets[1])
        return self.offsets[t - 1] + j


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
    # active[t] = #{i : lengths[i] > t} = batch - #{i : lengths[i] <= t}
    active = lengths.size - np.cumsum(np.bincount(lengths, minlength=longest + 1))[:longest]
    return PackingPlan(order=order, inverse=inverse, active=active.astype(np.int64))
