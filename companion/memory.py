"""What autograd keeps for the backward pass, and two ways to keep less.

Taught in chapter 5 (静态展开: the memory grows with ``n_steps``) and chapter 6
(动态展开: ``swap_memory`` and gradient checkpointing).

During the forward pass every differentiable operation *saves* the tensors its
backward formula will need: ``x @ W`` saves ``x`` (to compute ``dL/dW``) and
``W`` (for ``dL/dx``), ``tanh`` saves its result ``h`` (``dtanh = 1 - h**2``).
For one step of the basic cell::

    h_t = tanh(x_t @ Wx + h_{t-1} @ Wy + b)

that is ``x_t`` [batch, n_inputs] (only if ``Wx`` needs a gradient),
``h_{t-1}`` and ``h_t`` [batch, n_neurons], and ``Wy`` [n_neurons, n_neurons].
They stay in memory until ``backward()`` has used them, so the memory kept
grows linearly with the number of steps.

Counting them is deterministic (unlike timings), which is what the book needs:

* :func:`record_saved_tensors` / :func:`saved_tensor_log` -- record every
  tensor saved during a forward pass with
  ``torch.autograd.graph.saved_tensors_hooks``, and where it ended up
  (kept as is, copied to the CPU by ``save_on_cpu``, or dropped by
  ``torch.utils.checkpoint`` to be recomputed);
* :func:`checkpointed_dynamic_rnn` -- ``dynamic_rnn`` with gradient
  checkpointing over chunks of ``chunk`` steps;
* :func:`matmul_flops` -- matrix-multiply FLOPs of the forward and backward
  passes (``torch.utils.flop_counter``): the compute checkpointing pays;
* :func:`cuda_peak_memory` -- the true peak of GPU memory over forward plus
  backward, read with ``torch.cuda.max_memory_allocated`` (CUDA only);
* :func:`time_forward_backward` and :func:`compare_strategies` -- wall-clock
  time (and, on a GPU, peak memory) of the default, ``swap_memory`` and
  checkpointed versions. Timings change from run to run: the book shows them
  only as ratios, in cells that nbval does not compare.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.autograd.graph import saved_tensors_hooks
from torch.utils.checkpoint import checkpoint

from companion import validation as v
from companion.torch_rnn import BasicRNNCell, _as_tensor, dynamic_rnn  # one conversion rule

__all__ = [
    "SavedTensor",
    "SavedTensorLog",
    "checkpointed_dynamic_rnn",
    "compare_strategies",
    "cuda_peak_memory",
    "matmul_flops",
    "record_saved_tensors",
    "saved_tensor_log",
    "time_forward_backward",
]

# Names of the hook contexts that may pack a saved tensor, as shown in the log.
_HOOK_NAMES = {"save_on_cpu": "save_on_cpu", "_checkpoint_hook": "checkpoint"}


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
    while recording, ``saved_tensors_hooks.__enter__`` is wrapped to log their
    pack hooks too, together with what each one keeps: a CPU copy, or nothing.
    The wrapper is removed when the block ends; do not record from two threads
    at once.

    Yields
    ------
    SavedTensorLog
        Filled when the block ends.
    """
    log = SavedTensorLog()
    original_enter = saved_tensors_hooks.__enter__

    def spying_enter(self: saved_tensors_hooks) -> None:
        inner = self.pack_hook
        name = _HOOK_NAMES.get(type(self).__name__, type(self).__name__)
        self.pack_hook = log._spy(inner, name)
        try:
            original_enter(self)
        finally:
            self.pack_hook = inner

    with saved_tensors_hooks(log._spy(_keep, "autograd"), _unpack):
        saved_tensors_hooks.__enter__ = spying_enter
        try:
            yield log
        finally:
            saved_tensors_hooks.__enter__ = original_enter
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


# -------------------------------------------------------------------- checkpointing


def _run_chunk(
    cell: BasicRNNCell, X_chunk: torch.Tensor, h: torch.Tensor, lengths: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    return dynamic_rnn(cell, X_chunk, sequence_length=lengths, initial_state=h, time_major=True)


def checkpointed_dynamic_rnn(
    cell: BasicRNNCell,
    X: Any,
    chunk: int,
    sequence_length: Any = None,
    initial_state: Any = None,
    time_major: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``dynamic_rnn`` with gradient checkpointing every ``chunk`` steps (chapter 6).

    The time axis is cut into chunks of ``chunk`` steps (the last may be
    shorter); each chunk runs :func:`companion.torch_rnn.dynamic_rnn` inside
    ``torch.utils.checkpoint.checkpoint(..., use_reentrant=False)``. The forward
    pass keeps only what enters each chunk (its slice of ``X`` and the state
    ``h`` at its start) and throws away the tensors saved inside it; the
    backward pass recomputes one chunk at a time. Memory kept for backward:
    about ``n_steps / chunk`` states instead of ``n_steps``; compute: one extra
    forward pass.

    Same parameters, semantics and results as ``dynamic_rnn`` (outputs and
    gradients equal up to rounding; ``sequence_length`` included), plus:

    Parameters
    ----------
    chunk : int >= 1
        Steps per checkpointed chunk. ``chunk >= n_steps`` gives one chunk.

    Returns
    -------
    outputs : [batch, n_steps, n_neurons] ([n_steps, batch, n_neurons] if ``time_major``)
    state : [batch, n_neurons]
    """
    chunk = v.check_positive_int("chunk", chunk)
    if not isinstance(cell, BasicRNNCell):
        raise TypeError(
            f"cell must be a companion.torch_rnn.BasicRNNCell; got {type(cell).__name__}"
        )
    X = _as_tensor("X", X, cell)
    v.check_sequence_input(v.shape_of(X), cell.n_inputs, time_major)
    X_tm = X if time_major else X.transpose(0, 1)
    n_steps, batch = int(X_tm.shape[0]), int(X_tm.shape[1])
    if initial_state is None:
        h = cell.zero_state(batch)
    else:
        h = _as_tensor("initial_state", initial_state, cell)
        v.check_state("initial_state", v.shape_of(h), batch, cell.n_neurons)
    lengths = None
    if sequence_length is not None:
        if isinstance(sequence_length, torch.Tensor):
            sequence_length = sequence_length.detach().cpu().numpy()
        lengths_np = np.asarray(sequence_length)
        lengths = torch.as_tensor(
            v.check_sequence_length(lengths_np, lengths_np.dtype.kind, batch, n_steps)
        )
    if n_steps == 0:
        return dynamic_rnn(cell, X, lengths, h, time_major=time_major)

    outputs = []
    for start in range(0, n_steps, chunk):
        X_chunk = X_tm[start : start + chunk]
        # Steps of instance i that fall in this chunk: clip(length_i - start, 0, chunk size).
        chunk_lengths = (
            None if lengths is None else (lengths - start).clamp(0, int(X_chunk.shape[0]))
        )
        out, h = checkpoint(_run_chunk, cell, X_chunk, h, chunk_lengths, use_reentrant=False)
        outputs.append(out)
    outputs_tm = torch.cat(outputs)
    return (outputs_tm if time_major else outputs_tm.transpose(0, 1)), h


# ---------------------------------------------------------------------- compute, GPU


def _loss(result: Any) -> torch.Tensor:
    """Sum of every floating tensor in ``result`` that needs a gradient (a scalar)."""
    if isinstance(result, torch.Tensor):
        tensors = [result]
    elif isinstance(result, tuple | list):
        tensors = [t for item in result for t in _flatten(item)]
    else:
        tensors = []
    tensors = [t for t in tensors if t.is_floating_point() and t.requires_grad]
    if not tensors:
        raise ValueError("fn must return tensors that need a gradient (the outputs of an RNN)")
    return sum(t.sum() for t in tensors)


def _flatten(item: Any) -> list[torch.Tensor]:
    if isinstance(item, torch.Tensor):
        return [item]
    if isinstance(item, tuple | list):
        return [t for sub in item for t in _flatten(sub)]
    return []


def _addmm_inplace_flops(
    self_shape: Any, a_shape: Any, b_shape: Any, out_shape: Any = None, **kwargs: Any
) -> int:
    """``z.addmm_(a, b)``: ``z += a @ b``, ``2 m k n`` FLOPs like ``addmm``."""
    return 2 * a_shape[0] * a_shape[1] * b_shape[1]


# FlopCounterMode knows the out-of-place products only; the recurrent GEMM of
# companion.torch_rnn accumulates in place (``h_t.addmm_(h_prev, Wy)``).
_INPLACE_FLOPS = {torch.ops.aten.addmm_: _addmm_inplace_flops}


def matmul_flops(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[int, int]:
    """Matrix-multiply FLOPs of ``fn(*args, **kwargs)`` and of the backward pass of its outputs.

    Counted with ``torch.utils.flop_counter.FlopCounterMode`` (``mm``, ``addmm``,
    ``bmm`` ..., and the in-place ``addmm_``; element-wise ``tanh`` and additions
    are not counted): a product
    of ``[m, k] @ [k, n]`` is ``2 m k n`` FLOPs. The backward pass is that of
    the sum of all outputs. Deterministic, unlike a timing; with
    :func:`checkpointed_dynamic_rnn` the backward count includes the
    recomputed forward.

    Returns
    -------
    (forward_flops, backward_flops) : tuple of int
    """
    from torch.utils.flop_counter import FlopCounterMode

    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    with FlopCounterMode(display=False, custom_mapping=_INPLACE_FLOPS) as forward:
        loss = _loss(fn(*args, **kwargs))
    with FlopCounterMode(display=False, custom_mapping=_INPLACE_FLOPS) as backward:
        loss.backward()
    return int(forward.get_total_flops()), int(backward.get_total_flops())


def cuda_peak_memory(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """Peak GPU memory (bytes) allocated above the starting point over forward + backward.

    Runs ``fn(*args, **kwargs)``, then the backward pass of the sum of its
    outputs, and reads ``torch.cuda.max_memory_allocated()`` minus the memory
    allocated before the call. Gradients accumulate into the parameters' ``.grad``
    as in training. This is the true peak (the saved tensors plus everything
    else alive at the worst moment), which a count of saved tensors only
    approximates.

    Raises
    ------
    RuntimeError
        If CUDA is not available.
    """
    if not torch.cuda.is_available():
        raise RuntimeError(
            "cuda_peak_memory needs a CUDA device; torch.cuda.is_available() is False"
        )
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = torch.cuda.memory_allocated()
    _loss(fn(*args, **kwargs)).backward()
    torch.cuda.synchronize()
    return int(torch.cuda.max_memory_allocated() - start)


def time_forward_backward(
    fn: Callable[..., Any], *args: Any, repeats: int = 5, **kwargs: Any
) -> float:
    """Wall-clock seconds of ``fn(*args, **kwargs)`` plus the backward pass, best of ``repeats``.

    One untimed warm-up run, then ``repeats`` timed runs (CUDA is synchronized
    before reading the clock); the shortest is the least disturbed by other
    work on the machine. A timing, not a count: it changes from run to
    run and from machine to machine; compare ratios measured together.
    """
    import time

    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    repeats = v.check_positive_int("repeats", repeats)

    def once() -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        _loss(fn(*args, **kwargs)).backward()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter() - start

    once()
    return float(min(once() for _ in range(repeats)))


def compare_strategies(
    cell: BasicRNNCell, X: torch.Tensor, chunk: int, repeats: int = 5
) -> dict[str, dict[str, Any]]:
    """Time (and on CUDA, peak memory) of three ways to run ``dynamic_rnn`` for training.

    Strategies: ``"default"`` (``dynamic_rnn(cell, X)``), ``"swap_memory"``
    (``dynamic_rnn(cell, X, swap_memory=True)``) and ``"checkpoint"``
    (``checkpointed_dynamic_rnn(cell, X, chunk)``), each run forward plus
    backward on the cell's device.

    Returns
    -------
    dict
        ``{strategy: {"seconds": best time, "peak_bytes": int or None,
        "kept_bytes": {device type: bytes kept for backward}}}``;
        ``peak_bytes`` is ``None`` without CUDA (see :func:`cuda_peak_memory`).
    """
    chunk = v.check_positive_int("chunk", chunk)
    strategies: dict[str, tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = {
        "default": (dynamic_rnn, (cell, X), {}),
        "swap_memory": (dynamic_rnn, (cell, X), {"swap_memory": True}),
        "checkpoint": (checkpointed_dynamic_rnn, (cell, X, chunk), {}),
    }
    on_cuda = cell.device.type == "cuda"
    results: dict[str, dict[str, Any]] = {}
    for name, (fn, args, kwargs) in strategies.items():
        log = saved_tensor_log(fn, *args, **kwargs)
        results[name] = {
            "seconds": time_forward_backward(fn, *args, repeats=repeats, **kwargs),
            "peak_bytes": cuda_peak_memory(fn, *args, **kwargs) if on_cuda else None,
            "kept_bytes": {device: log.kept_nbytes(device) for device in ("cpu", "cuda")},
        }
        cell.zero_grad(set_to_none=True)
    return results
