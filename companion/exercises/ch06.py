"""Checkers for the exercises of chapter 6 (动态展开).

A long sequence run ``chunk`` steps at a time, each chunk starting from the
previous chunk's final state (the forward pass of gradient checkpointing, and
how a stream too long for memory is processed), compared with ``dynamic_rnn``
over the whole sequence; and a formula for the bytes that
:func:`companion.memory.checkpointed_dynamic_rnn` keeps for the backward pass,
checked against the measurement itself (:func:`companion.memory.saved_tensor_log`).
"""

from __future__ import annotations

from math import ceil
from typing import Any

import numpy as np

from companion import numpy_rnn as nrnn
from companion.exercises.cases import measured_kept_bytes, random_cell
from companion.exercises.feedback import Exercise, Formula, Mistake

__all__ = ["check_checkpoint_bytes", "check_run_in_chunks"]


def _chunk_cases() -> list[dict[str, Any]]:
    """Chunks that divide ``n_steps`` and chunks that do not, ``chunk = 1``,
    ``chunk > n_steps``; a non-zero initial state in all but one case (and that
    one passes ``None``, which means zeros)."""
    rng = np.random.default_rng(606)
    cases = []
    # (batch, n_steps, n_inputs, n_neurons, chunk, with an initial state?)
    sizes = [(3, 7, 2, 4, 3, 1), (2, 6, 3, 5, 2, 1), (4, 5, 2, 3, 1, 1)]
    sizes += [(2, 4, 3, 4, 10, 1), (3, 8, 2, 4, 3, 0)]
    for k, (batch, n_steps, n_inputs, n_neurons, chunk, with_h0) in enumerate(sizes):
        cases.append(
            {
                "cell": random_cell(np.random.default_rng(k), n_inputs, n_neurons, 0.7, 0.3),
                "X": rng.normal(size=(batch, n_steps, n_inputs)),
                "chunk": chunk,
                "initial_state": rng.normal(size=(batch, n_neurons)) * 0.8 if with_h0 else None,
            }
        )
    return cases


def _in_chunks(cell, X, chunk, initial_state, *, carry=True, from_zeros=False, n_chunks=None):
    """Run ``X`` chunk by chunk -- right by default, or with one mistake:
    ``carry=False`` restarts every chunk from ``initial_state``; ``from_zeros`` starts
    the first chunk from zeros; ``n_chunks`` runs only that many chunks.
    Returns the outputs, the final state and the state after the first chunk."""
    n_chunks = ceil(X.shape[1] / chunk) if n_chunks is None else n_chunks
    if n_chunks == 0:
        raise ValueError("no chunk to run")
    state = None if from_zeros else initial_state
    outputs, states = [], []
    for k in range(n_chunks):
        h0 = state if carry else initial_state
        out, state = nrnn.dynamic_rnn(cell, X[:, k * chunk : (k + 1) * chunk], initial_state=h0)
        outputs.append(out)
        states.append(state)
    return np.concatenate(outputs, axis=1), state, states[0]


RUN_IN_CHUNKS = Exercise(
    "分段运行一个长序列",
    doc="""A long sequence run ``chunk`` steps at a time::

        state = initial_state
        for start in range(0, n_steps, chunk):
            out, state = dynamic_rnn(cell, X[:, start:start + chunk], initial_state=state)

    Inputs: ``cell`` (a float64 ``BasicRNNCell``), ``X`` [batch, n_steps, n_inputs],
    ``chunk`` (a positive int, need not divide ``n_steps``), ``initial_state``
    [batch, n_neurons] or ``None`` (zeros).
    Outputs: ``outputs`` [batch, n_steps, n_neurons], ``state`` [batch, n_neurons].
    """,
    reference=lambda cell, X, chunk, h0: nrnn.dynamic_rnn(cell, X, initial_state=h0),
    cases=_chunk_cases,
    outputs={"outputs": ("实例", "时间步", "神经元"), "state": ("实例", "神经元")},
    mistakes=Mistake.table(
        "每一段都从 initial_state 重新开始，没有把上一段的最终状态传下去。分段运行时，"
        "第 k 段的初始状态必须是第 k-1 段返回的最终状态：state 要在循环里更新，"
        "并作为下一次 dynamic_rnn 的 initial_state。",
        lambda cell, X, chunk, h0: _in_chunks(cell, X, chunk, h0, carry=False)[:2],
        "第一段没有用 initial_state（从零状态开始了）。"
        "第一段的初始状态是传进来的 initial_state（它可能不是零，比如上一批留下的状态）；"
        "之后每一段才接着上一段的最终状态。",
        lambda cell, X, chunk, h0: _in_chunks(cell, X, chunk, h0, from_zeros=True)[:2],
        "漏掉了最后不满 chunk 步的那一段。n_steps 不一定是 chunk 的整数倍："
        "段数是 ceil(n_steps / chunk)，例如 for start in range(0, n_steps, chunk)，"
        "最后一段取 X[:, start:start + chunk] 即可。",
        lambda cell, X, chunk, h0: _in_chunks(cell, X, chunk, h0, n_chunks=X.shape[1] // chunk)[:2],
        "返回的最终状态是第一段之后的状态。最终状态是最后一段运行完之后的状态："
        "循环结束时 state 变量里的那个。",
        lambda cell, X, chunk, h0: _in_chunks(cell, X, chunk, h0)[::2],
    ),
)
check_run_in_chunks = RUN_IN_CHUNKS.checker("check_run_in_chunks")


def measured_checkpoint_bytes(
    batch: int, n_steps: int, n_inputs: int, n_neurons: int, chunk: int
) -> int:
    """Bytes that :func:`companion.memory.checkpointed_dynamic_rnn` keeps for backward,
    measured."""
    from companion import memory

    def run(cell, X):
        return memory.checkpointed_dynamic_rnn(cell, X, chunk)

    return measured_kept_bytes(run, batch, n_steps, n_inputs, n_neurons)


# The mistaken formulas write batch, n_steps, n_inputs, n_neurons, chunk as B, T, I, N, C:
# the right one is 4 * B * (I * T + N * ceil(T / C)), the inputs and the state at the
# start of every chunk, 4 bytes each.
CHECKPOINT_BYTES = Formula(
    "预测检查点版本为反向传播保留的字节数",
    doc="""A formula for the bytes ``checkpointed_dynamic_rnn(cell, X, chunk)`` keeps
    for the backward pass (float32 cell; distinct storages, parameters left out, as
    ``SavedTensorLog.kept_nbytes()``), compared with a measurement.

    Inputs: ``batch``, ``n_steps``, ``n_inputs``, ``n_neurons``, ``chunk`` (positive
    ints), ``X`` being [batch, n_steps, n_inputs].
    Outputs: the number of bytes (an int).
    """,
    names=("batch", "n_steps", "n_inputs", "n_neurons", "chunk"),
    # chunks that divide n_steps and not, chunk = 1, chunk > n_steps
    cases=(
        (4, 12, 3, 5, 3),
        (2, 10, 1, 8, 4),
        (3, 7, 2, 4, 10),
        (5, 9, 3, 6, 1),
        (1, 25, 2, 16, 6),
    ),
    measure=measured_checkpoint_bytes,
    unit="字节",
    quantity="字节数",
    mistakes=Mistake.table(
        "块数向下取整了。最后一块可以不满 chunk 步，但它也要在起点存一个状态："
        "块数是 ceil(n_steps / chunk)。",
        lambda B, T, I, N, C: 4 * B * (I * T + N * (T // C)),
        "多算了一个状态（最终状态不算在保存的张量里）。"
        "保存的是每一块起点的状态（第一块的起点是初始状态），"
        "一共 ceil(n_steps / chunk) 个。",
        lambda B, T, I, N, C: 4 * B * (I * T + N * (ceil(T / C) + 1)),
        "漏掉了输入 X。每一块的输入切片也要保存（重算时要用）；切片是 X 的视图，"
        "合起来就是整个 X：4 · batch · n_steps · n_inputs 字节。",
        lambda B, T, I, N, C: 4 * B * N * ceil(T / C),
        "算成了不做检查点时的字节数。检查点只在每块起点保留状态，"
        "块内每一步的隐状态都被丢弃、反向传播时再重算。",
        lambda B, T, I, N, C: 4 * B * (I * T + N * (T + 1)),
        "按 float64（8 字节）算了。单元默认是 float32，每个数 4 字节。",
        lambda B, T, I, N, C: 8 * B * (I * T + N * ceil(T / C)),
    ),
)
check_checkpoint_bytes = CHECKPOINT_BYTES.checker("check_checkpoint_bytes", with_backend=False)
