"""Checkers for the exercises of chapter 6 (动态展开).

* :func:`check_run_in_chunks` -- ``fn(cell, X, chunk, initial_state) ->
  (outputs, state)``: run a long sequence ``chunk`` steps at a time, passing
  each chunk's final state on as the next chunk's initial state (the forward
  pass of gradient checkpointing, and how a stream too long for memory is
  processed). The reference is ``dynamic_rnn`` over the whole sequence.
* :func:`check_checkpoint_bytes` -- ``fn(batch, n_steps, n_inputs, n_neurons,
  chunk) -> int``: predict how many bytes
  :func:`companion.memory.checkpointed_dynamic_rnn` keeps for the backward
  pass (float32). The reference is the measurement itself
  (:func:`companion.memory.saved_tensor_log`), so the formula is checked
  against what PyTorch really keeps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from companion import numpy_rnn as nrnn
from companion.exercises.feedback import (
    CheckResult,
    Mistake,
    check_formula,
    on_copies,
    run_checks,
)

__all__ = ["check_checkpoint_bytes", "check_run_in_chunks"]


# --------------------------------------------------------------------------
# A long sequence run chunk by chunk
# --------------------------------------------------------------------------


def _chunk_cell(n_inputs: int, n_neurons: int, seed: int) -> nrnn.BasicRNNCell:
    """A float64 cell with a non-zero bias, weights small enough not to saturate."""
    rng = np.random.default_rng(seed)
    return nrnn.BasicRNNCell.from_weights(
        rng.uniform(-0.7, 0.7, (n_inputs, n_neurons)),
        rng.uniform(-0.7, 0.7, (n_neurons, n_neurons)),
        rng.uniform(-0.3, 0.3, n_neurons),
        dtype=np.float64,
    )


def _chunk_cases() -> list[dict[str, Any]]:
    """Chunks that divide ``n_steps`` and chunks that do not, ``chunk = 1``,
    ``chunk > n_steps``; a non-zero initial state in all but one case (and that
    one passes ``None``, which means zeros)."""
    rng = np.random.default_rng(606)
    cases = []
    # (batch, n_steps, n_inputs, n_neurons, chunk, with an initial state?)
    for k, (batch, n_steps, n_inputs, n_neurons, chunk, with_h0) in enumerate(
        [
            (3, 7, 2, 4, 3, True),
            (2, 6, 3, 5, 2, True),
            (4, 5, 2, 3, 1, True),
            (2, 4, 3, 4, 10, True),
            (3, 8, 2, 4, 3, False),
        ]
    ):
        cases.append(
            {
                "cell": _chunk_cell(n_inputs, n_neurons, seed=k),
                "X": rng.normal(size=(batch, n_steps, n_inputs)),
                "chunk": chunk,
                "initial_state": rng.normal(size=(batch, n_neurons)) * 0.8 if with_h0 else None,
            }
        )
    return cases


def _chunk_reference(cell, X, chunk, initial_state):
    return nrnn.dynamic_rnn(cell, X, initial_state=initial_state)


def _chunks(n_steps: int, chunk: int) -> list[slice]:
    return [slice(start, start + chunk) for start in range(0, n_steps, chunk)]


def _chunks_state_not_carried(cell, X, chunk, initial_state):
    """Every chunk starts again from the initial state."""
    pieces = [
        nrnn.dynamic_rnn(cell, X[:, s], initial_state=initial_state)
        for s in _chunks(X.shape[1], chunk)
    ]
    return np.concatenate([out for out, _ in pieces], axis=1), pieces[-1][1]


def _chunks_initial_state_ignored(cell, X, chunk, initial_state):
    """The state is carried from chunk to chunk, but the first chunk starts from zeros."""
    state, outputs = None, []
    for s in _chunks(X.shape[1], chunk):
        out, state = nrnn.dynamic_rnn(cell, X[:, s], initial_state=state)
        outputs.append(out)
    return np.concatenate(outputs, axis=1), state


def _chunks_last_dropped(cell, X, chunk, initial_state):
    """``range(n_steps // chunk)`` chunks: the last, shorter chunk is never run."""
    state, outputs = initial_state, []
    n_full = X.shape[1] // chunk
    for k in range(n_full):
        out, state = nrnn.dynamic_rnn(cell, X[:, k * chunk : (k + 1) * chunk], initial_state=state)
        outputs.append(out)
    if not outputs:
        raise ValueError("no full chunk")
    return np.concatenate(outputs, axis=1), state


def _chunks_first_state(cell, X, chunk, initial_state):
    """The outputs are right, but the state returned is the one after the first chunk."""
    state, outputs, first = initial_state, [], None
    for s in _chunks(X.shape[1], chunk):
        out, state = nrnn.dynamic_rnn(cell, X[:, s], initial_state=state)
        outputs.append(out)
        first = state if first is None else first
    return np.concatenate(outputs, axis=1), first


_CHUNK_MISTAKES = [
    Mistake(
        "每一段都从 initial_state 重新开始，没有把上一段的最终状态传下去",
        _chunks_state_not_carried,
        "分段运行时，第 k 段的初始状态必须是第 k-1 段返回的最终状态："
        "state 要在循环里更新，并作为下一次 dynamic_rnn 的 initial_state。",
    ),
    Mistake(
        "第一段没有用 initial_state（从零状态开始了）",
        _chunks_initial_state_ignored,
        "第一段的初始状态是传进来的 initial_state（它可能不是零，比如上一批留下的状态）；"
        "之后每一段才接着上一段的最终状态。",
    ),
    Mistake(
        "漏掉了最后不满 chunk 步的那一段",
        _chunks_last_dropped,
        "n_steps 不一定是 chunk 的整数倍：段数是 ceil(n_steps / chunk)，"
        "例如 for start in range(0, n_steps, chunk)，最后一段取 X[:, start:start + chunk] 即可。",
    ),
    Mistake(
        "返回的最终状态是第一段之后的状态",
        _chunks_first_state,
        "最终状态是最后一段运行完之后的状态：循环结束时 state 变量里的那个。",
    ),
]


def check_run_in_chunks(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(cell, X, chunk, initial_state) -> (outputs, state)``: a long sequence run
    ``chunk`` steps at a time.

    ``cell`` is a float64 :class:`companion.numpy_rnn.BasicRNNCell`, ``X``
    [batch, n_steps, n_inputs], ``chunk`` a positive int (it need not divide
    ``n_steps``), ``initial_state`` [batch, n_neurons] or ``None`` (zeros). The
    answer must equal ``dynamic_rnn(cell, X, initial_state=initial_state)``:
    outputs [batch, n_steps, n_neurons] and the final state [batch, n_neurons].

    Returns
    -------
    CheckResult
        Passed, or a Chinese message naming the mistake (the state not carried
        from chunk to chunk, the initial state ignored, the last short chunk
        dropped, the state after the first chunk returned).

    Examples
    --------
    >>> from companion import numpy_rnn as nrnn
    >>> def run_in_chunks(cell, X, chunk, initial_state=None):
    ...     state, outputs = initial_state, []
    ...     for start in range(0, X.shape[1], chunk):
    ...         piece = X[:, start : start + chunk]
    ...         out, state = nrnn.dynamic_rnn(cell, piece, initial_state=state)
    ...         outputs.append(out)
    ...     return np.concatenate(outputs, axis=1), state
    >>> bool(check_run_in_chunks(run_in_chunks))
    True
    """
    return run_checks(
        "分段运行一个长序列",
        # positional: the reader may name the arguments freely
        on_copies(
            fn
            if not callable(fn)
            else lambda cell, X, chunk, initial_state: fn(cell, X, chunk, initial_state)
        ),
        reference=_chunk_reference,
        cases=_chunk_cases(),
        mistakes=_CHUNK_MISTAKES,
        output_names=("outputs", "state"),
        axes=(("实例", "时间步", "神经元"), ("实例", "神经元")),
    )


# --------------------------------------------------------------------------
# Bytes kept by checkpointed_dynamic_rnn
# --------------------------------------------------------------------------

#: (batch, n_steps, n_inputs, n_neurons, chunk): divisible and not, chunk = 1, chunk > n_steps.
_BYTES_CASES = (
    (4, 12, 3, 5, 3),
    (2, 10, 1, 8, 4),
    (3, 7, 2, 4, 10),
    (5, 9, 3, 6, 1),
    (1, 25, 2, 16, 6),
)


def measured_checkpoint_bytes(
    batch: int, n_steps: int, n_inputs: int, n_neurons: int, chunk: int
) -> int:
    """Bytes that :func:`companion.memory.checkpointed_dynamic_rnn` keeps for backward.

    Measured, not computed: a float32 cell and ``X`` [batch, n_steps, n_inputs]
    are run under :func:`companion.memory.record_saved_tensors` and the
    distinct storages kept (parameters left out) are added up.
    """
    import torch

    from companion import memory
    from companion.torch_rnn import BasicRNNCell

    cell = BasicRNNCell(n_inputs, n_neurons, seed=0)
    X = torch.zeros(batch, n_steps, n_inputs)
    log = memory.saved_tensor_log(memory.checkpointed_dynamic_rnn, cell, X, chunk)
    return log.kept_nbytes()


def _formula(
    batch: int, n_steps: int, n_inputs: int, n_neurons: int, n_states: int, itemsize: int = 4
) -> int:
    return itemsize * batch * (n_inputs * n_steps + n_neurons * n_states)


_BYTES_MISTAKES = [
    Mistake(
        "块数向下取整了",
        lambda batch, n_steps, n_inputs, n_neurons, chunk: _formula(
            batch, n_steps, n_inputs, n_neurons, n_steps // chunk
        ),
        "最后一块可以不满 chunk 步，但它也要在起点存一个状态：块数是 ceil(n_steps / chunk)。",
    ),
    Mistake(
        "多算了一个状态（最终状态不算在保存的张量里）",
        lambda batch, n_steps, n_inputs, n_neurons, chunk: _formula(
            batch, n_steps, n_inputs, n_neurons, math.ceil(n_steps / chunk) + 1
        ),
        "保存的是每一块起点的状态（第一块的起点是初始状态），一共 ceil(n_steps / chunk) 个。",
    ),
    Mistake(
        "漏掉了输入 X",
        lambda batch, n_steps, n_inputs, n_neurons, chunk: _formula(
            batch, n_steps, 0, n_neurons, math.ceil(n_steps / chunk)
        ),
        "每一块的输入切片也要保存（重算时要用）；切片是 X 的视图，合起来就是整个 X："
        "4 · batch · n_steps · n_inputs 字节。",
    ),
    Mistake(
        "算成了不做检查点时的字节数",
        lambda batch, n_steps, n_inputs, n_neurons, chunk: _formula(
            batch, n_steps, n_inputs, n_neurons, n_steps + 1
        ),
        "检查点只在每块起点保留状态，块内每一步的隐状态都被丢弃、反向传播时再重算。",
    ),
    Mistake(
        "按 float64（8 字节）算了",
        lambda batch, n_steps, n_inputs, n_neurons, chunk: _formula(
            batch, n_steps, n_inputs, n_neurons, math.ceil(n_steps / chunk), itemsize=8
        ),
        "单元默认是 float32，每个数 4 字节。",
    ),
]


def check_checkpoint_bytes(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(batch, n_steps, n_inputs, n_neurons, chunk) -> bytes`` against a measurement.

    Parameters
    ----------
    fn : callable
        Takes five positive ints and returns the number of bytes (an int) that
        ``checkpointed_dynamic_rnn(cell, X, chunk)`` keeps for the backward pass
        with a float32 cell and ``X`` [batch, n_steps, n_inputs] -- distinct
        storages, parameters left out, as ``SavedTensorLog.kept_nbytes()``.

    Returns
    -------
    CheckResult
        Passed, or a Chinese message with the case, the expected and the
        predicted byte counts, and the name of the mistake when it is a
        typical one (floor instead of ceil, the inputs forgotten, ...).
    """
    return check_formula(
        "预测检查点版本为反向传播保留的字节数",
        fn,
        names=("batch", "n_steps", "n_inputs", "n_neurons", "chunk"),
        cases=_BYTES_CASES,
        measure=measured_checkpoint_bytes,
        mistakes=_BYTES_MISTAKES,
        unit="字节",
        quantity="字节数",
    )
