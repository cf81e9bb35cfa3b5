"""What autograd keeps for the backward pass, counted tensor by tensor.

Taught in chapter 5 (静态展开: the memory grows with ``n_steps``) and chapter 6
(动态展开: ``swap_memory`` and gradient checkpointing keep less).

During the forward pass every differentiable operation *saves* the tensors its
backward formula will need: ``x @ W`` saves ``x`` (to compute ``dL/dW``) and
``W`` (for ``dL/dx``), ``tanh`` saves its result ``h`` (``dtanh = 1 - h**2``).
For one step of the basic cell::

    h_t = tanh(x_t @ Wx + h_{t-1} @ Wy + b)

that is ``x_t`` [batch, n_inputs] (only if ``Wx`` needs a gradient),
``h_{t-1}`` and ``h_t`` [batch, n_neurons], and ``Wy`` [n_neurons, n_neurons].
They stay in memory until ``backward()`` has used them, so for ``n_steps``
steps in float32 the memory kept is, parameters left out::

    kept_nbytes = 4 * batch * (n_inputs + n_neurons) * n_steps + 4 * batch * n_neurons

Counting them is deterministic (unlike timings), which is what the book needs.
They are recorded with ``torch.autograd.graph.saved_tensors_hooks``: a pack
hook sees each tensor as it is saved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.autograd.graph import saved_tensors_hooks

from companion.memory._nested_hooks import spy_on_nested_hooks

__all__ = ["SavedTensor", "SavedTensorLog", "record_saved_tensors", "saved_tensor_log"]


@dataclass(frozen=True)
class SavedTensor:
    """One tensor that autograd saved for the backward pass.

    Attributes
    ----------
    shape : the saved tensor's shape, e.g. ``(4, 5)`` for an ``h_t`` [batch, n_neurons]
    dtype : ``"float32"``, ``"float64"`` ...
    device : where the tensor was when it was saved (``"cpu"``, ``"cuda:0"``)
    nbytes : ``numel * element_size``
    is_parameter : a ``torch.nn.Parameter`` (``Wy``): it lives in the model anyway
    packed_by : ``"autograd"`` (kept as is), ``"save_on_cpu"`` or ``"checkpoint"``
    kept_on : device of what is kept until backward; ``None`` if nothing is kept
        (``checkpoint`` drops it and recomputes it during backward)
    copied : the hook kept a copy (new memory), not the tensor itself
    """

    shape: tuple[int, ...]
    dtype: str
    device: str
    nbytes: int
    is_parameter: bool
    packed_by: str
    kept_on: str | None
    copied: bool


@dataclass
class SavedTensorLog:
    """Every tensor saved during one forward pass (see :func:`record_saved_tensors`).

    Two ways to add them up, both deterministic:

    * :attr:`count` / :attr:`nbytes`: every save, repeats included -- ``Wy`` is
      saved once per step, and ``h_t`` twice (by ``tanh`` at step ``t`` and by
      the product ``h_t @ Wy`` at step ``t + 1``);
    * :meth:`kept_count` / :meth:`kept_nbytes`: the memory those saves keep
      alive until ``backward()``: distinct storages, each counted once with its
      full size (a slice ``X[:, t]`` keeps all of ``X``), parameters left out
      (the model holds them anyway) unless a hook copied them.
    """

    records: list[SavedTensor] = field(default_factory=list)
    # (record index, storage key, storage bytes) of each tensor kept, filled while recording.
    _kept: list[tuple[int, tuple[str, int], int]] = field(default_factory=list, repr=False)
    _alive: list[torch.Tensor] = field(default_factory=list, repr=False)

    @property
    def count(self) -> int:
        """Number of saves."""
        return len(self.records)

    @property
    def nbytes(self) -> int:
        """Bytes of all saved tensors, every save counted (what ``save_on_cpu`` copies on a GPU)."""
        return sum(r.nbytes for r in self.records)

    def _storages(self, device: str | None) -> dict[tuple[str, int], int]:
        _check_device_filter(device)
        storages: dict[tuple[str, int], int] = {}
        for index, key, size in self._kept:
            record = self.records[index]
            if record.is_parameter and not record.copied:
                continue
            if device is not None and key[0].split(":")[0] != device:
                continue
            storages[key] = size
        return storages

    def kept_count(self, device: str | None = None) -> int:
        """Number of distinct storages kept alive for backward (``device`` as in kept_nbytes)."""
        return len(self._storages(device))

    def kept_nbytes(self, device: str | None = None) -> int:
        """Bytes kept alive for backward: distinct storages, parameters left out.

        Parameters
        ----------
        device : ``None`` (everywhere), ``"cpu"`` or ``"cuda"``
        """
        return sum(self._storages(device).values())

    @property
    def copied_nbytes(self) -> int:
        """Bytes of the copies the hooks made (``save_on_cpu`` moving tensors off a GPU)."""
        return sum(r.nbytes for r in self.records if r.copied)

    @property
    def dropped_count(self) -> int:
        """Saves for which nothing is kept (``checkpoint`` recomputes them in backward)."""
        return sum(r.kept_on is None for r in self.records)

    def by(self, attribute: str) -> dict[Any, int]:
        """Number of saves per value of one :class:`SavedTensor` attribute.

        ``log.by("shape")`` → ``{(4, 5): 10, (5, 5): 4, ...}``; keys sorted.
        """
        if attribute not in SavedTensor.__dataclass_fields__:
            raise ValueError(
                f"attribute must be one of {sorted(SavedTensor.__dataclass_fields__)}; "
                f"got {attribute!r}"
            )
        counts: dict[Any, int] = {}
        for record in self.records:
            key = getattr(record, attribute)
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: str(item[0])))

    def __str__(self) -> str:
        kept = ", ".join(
            f"{device}: {self.kept_nbytes(device)} B"
            for device in ("cpu", "cuda")
            if self.kept_count(device)
        )
        return (
            f"saved {self.count} times ({self.nbytes} B in all); "
            f"kept {self.kept_count()} storages, {self.kept_nbytes()} B"
            + (f" ({kept})" if kept else "")
            + f"; copied {self.copied_nbytes} B; dropped {self.dropped_count}"
        )

    # ---------------------------------------------------------------- recording

    def _spy(self, pack: Callable[[torch.Tensor], Any], packed_by: str) -> Callable:
        """Wrap a pack hook so that each call is logged, then return what it packed."""

        def logged_pack(tensor: torch.Tensor) -> Any:
            packed = pack(tensor)
            kept = _tensors_in(packed)
            key = _storage_key(tensor)
            copied = any(_storage_key(k) != key for k in kept)
            self.records.append(
                SavedTensor(
                    shape=tuple(int(n) for n in tensor.shape),
                    dtype=str(tensor.dtype).removeprefix("torch."),
                    device=str(tensor.device),
                    nbytes=tensor.numel() * tensor.element_size(),
                    is_parameter=isinstance(tensor, torch.nn.Parameter),
                    packed_by=packed_by,
                    kept_on=str(kept[0].device) if kept else None,
                    copied=copied,
                )
            )
            for k in kept:
                self._kept.append(
                    (len(self.records) - 1, _storage_key(k), k.untyped_storage().nbytes())
                )
                # Hold the tensor while recording, so that no storage address can be
                # freed and reused by another tensor before the log is complete.
                self._alive.append(k)
            return packed

        return logged_pack


def _check_device_filter(device: Any) -> None:
    if device not in (None, "cpu", "cuda"):
        raise ValueError(f"device must be None, 'cpu' or 'cuda'; got {device!r}")


def _storage_key(tensor: torch.Tensor) -> tuple[str, int]:
    return (str(tensor.device), tensor.untyped_storage().data_ptr())


def _tensors_in(packed: Any) -> list[torch.Tensor]:
    """The tensors a pack hook returned: itself, inside a tuple/list, or none (a holder)."""
    if isinstance(packed, torch.Tensor):
        return [packed]
    if isinstance(packed, tuple | list):
        return [p for p in packed if isinstance(p, torch.Tensor)]
    return []


def _keep(tensor: torch.Tensor) -> torch.Tensor:
    # detach(): same storage, and no reference cycle through the tensor's grad_fn.
    return tensor.detach()


def _unpack(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


@contextlib.contextmanager
def record_saved_tensors() -> Iterator[SavedTensorLog]:
    """Log every tensor that autograd saves for backward inside the ``with`` block.

    Usage (chapter 5)::

        with record_saved_tensors() as log:
            outputs, state = static_rnn(cell, inputs)
        log.count, log.nbytes, log.kept_nbytes()

    Run only the forward pass inside the block (call ``backward()`` after it).

    How it works: a pair of ``torch.autograd.graph.saved_tensors_hooks`` whose
    pack hook logs the tensor and keeps it unchanged (``tensor.detach()``, the
    same memory). Hook contexts opened *inside* the block -- ``save_on_cpu``
    (``dynamic_rnn(..., swap_memory=True)``) or ``torch.utils.checkpoint`` --
    take precedence over ours (PyTorch applies the innermost pair only), so
    their pack hooks are logged too, together with what each one keeps: a CPU
    copy, or nothing (see :mod:`companion.memory._nested_hooks` for how, and
    why it needs a patch). Do not record from two threads at once.

    Yields
    ------
    SavedTensorLog
        Filled when the block ends.
    """
    log = SavedTensorLog()
    with saved_tensors_hooks(log._spy(_keep, "autograd"), _unpack):
        try:
            with spy_on_nested_hooks(log._spy):
                yield log
        finally:
            log._alive.clear()


def saved_tensor_log(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> SavedTensorLog:
    """Run ``fn(*args, **kwargs)`` (a forward pass) and return the log of what it saved.

    The outputs are dropped; what ``fn`` saved is freed with them. For example
    ``saved_tensor_log(dynamic_rnn, cell, X).kept_nbytes()``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    with record_saved_tensors() as log:
        fn(*args, **kwargs)
    return log
