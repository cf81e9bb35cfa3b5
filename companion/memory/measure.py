"""Measuring on the machine: wall-clock time and the true peak of GPU memory.

Taught in chapter 6 (动态展开). A count of saved tensors
(:mod:`companion.memory.saved_tensors`) or of FLOPs (:mod:`companion.memory.flops`)
is exact; a measurement is not::

    seconds    = min over repeats of (forward + backward wall-clock time)
    peak_bytes = max_memory_allocated() - memory_allocated() before the call

Timings change from run to run and from machine to machine: the book shows
them only as ratios measured together, in cells that nbval does not compare.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from companion import validation as v
from companion.memory._backward import loss_of
from companion.memory.checkpointing import checkpointed_dynamic_rnn
from companion.memory.saved_tensors import saved_tensor_log
from companion.torch_rnn import BasicRNNCell, dynamic_rnn

__all__ = ["compare_strategies", "cuda_peak_memory", "time_forward_backward"]


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
    loss_of(fn(*args, **kwargs)).backward()
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
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    repeats = v.check_positive_int("repeats", repeats)

    def once() -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss_of(fn(*args, **kwargs)).backward()
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
