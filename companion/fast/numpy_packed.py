"""The fast NumPy path of :func:`companion.numpy_rnn.dynamic_rnn`: packed rows, in place.

Taught in chapter 7 (变长输入序列); the reference it must agree with is the
loop in :func:`companion.numpy_rnn.dynamic_rnn` (chapter 6). The recurrence is
the same, equation (1.2) of chapter 1::

    h_t = phi(x_t @ Wx + b + h_{t-1} @ Wy)

computed only where it is needed:

1. *pack* -- list the valid ``(t, i)`` pairs step by step with the instances
   sorted by length (:mod:`companion.fast.packing`), so that the instances
   running at step ``t`` are a prefix of the sorted batch;
2. :func:`recurrence` -- one GEMM for the input term of every packed row, then
   per step one GEMM ``h[:k] @ Wy`` on the ``k`` running rows, in place;
3. *unpack* -- one gather builds the padded outputs; every padding position
   reads one extra row of zeros.

The work is proportional to ``sum(sequence_length)``, not ``batch * n_steps``.
``dynamic_rnn`` uses this path for ragged batches (``backend="auto"``) and
always with ``backend="loop"``.
"""

from __future__ import annotations

import numpy as np

from companion.fast.packing import packing_plan

__all__ = ["packed_dynamic_rnn", "recurrence"]


def _phi_(z: np.ndarray, nonlinearity: str) -> None:
    """``z = phi(z)`` in place: no new array inside the loop."""
    if nonlinearity == "tanh":
        np.tanh(z, out=z)
    else:
        np.maximum(z, 0, out=z)


def packed_dynamic_rnn(
    X: np.ndarray,
    h0: np.ndarray,
    lengths: np.ndarray | None,
    Wx: np.ndarray,
    Wy: np.ndarray,
    b: np.ndarray,
    nonlinearity: str,
    time_major: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """``dynamic_rnn`` on packed rows: validated arguments in, ``(outputs, state)`` out.

    Same results as the reference loop of :func:`companion.numpy_rnn.dynamic_rnn`
    to float rounding, and exact zeros past each length.

    Parameters
    ----------
    X : [batch, n_steps, n_inputs] ([n_steps, batch, n_inputs] if ``time_major``)
    h0 : [batch, n_neurons], the initial state
    lengths : int64 [batch] with ``0 <= lengths[i] <= n_steps``, or None (full length)
    Wx : [n_inputs, n_neurons]
    Wy : [n_neurons, n_neurons]
    b : [n_neurons]
    nonlinearity : {"tanh", "relu"}
    time_major : bool

    Returns
    -------
    outputs : [batch, n_steps, n_neurons] ([n_steps, batch, n_neurons] if ``time_major``)
        At full length, batch-major outputs are a transposed view of time-major
        memory, as ``torch.nn.RNN(batch_first=True)`` returns them.
    state : [batch, n_neurons], a new array
    """
    n_steps, batch = X.shape[:2] if time_major else X.shape[1::-1]
    n_inputs, n_neurons = Wx.shape
    full = lengths is None or bool(np.all(lengths == n_steps))
    plan = packing_plan(np.full(batch, n_steps) if full else lengths)
    sizes = plan.active.tolist()

    if full:
        # Without padding the time-major array already is the packed layout.
        X_tm = X if time_major else X.transpose(1, 0, 2)
        X_packed = X_tm.reshape(n_steps * batch, n_inputs)  # a copy only if batch-major
        packed = recurrence(X_packed, h0, sizes, Wx, Wy, b, nonlinearity)
        outputs_tm = packed.reshape(n_steps, batch, n_neurons)
        # Copying the outputs into batch-major memory would cost one more pass.
        outputs = outputs_tm if time_major else outputs_tm.transpose(1, 0, 2)
        state = outputs_tm[-1].copy() if n_steps else h0.copy()
        return outputs, state

    rows = plan.packed_rows(n_steps, time_major)
    index = plan.unpacked_rows(n_steps, time_major)
    instances, last = plan.last_rows()
    X_packed = np.take(X.reshape(-1, n_inputs), rows, axis=0)  # gather the valid rows
    packed = np.empty((len(rows) + 1, n_neurons), dtype=X.dtype)
    packed[-1] = 0  # the row every padding position reads: exact zeros
    recurrence(X_packed, h0[plan.order], sizes, Wx, Wy, b, nonlinearity, out=packed[:-1])
    outputs = np.take(packed, index, axis=0).reshape(X.shape[:2] + (n_neurons,))
    state = h0.copy()
    state[instances] = packed[last]
    return outputs, state


def recurrence(
    X_packed: np.ndarray,
    h0: np.ndarray,
    sizes: list[int],
    Wx: np.ndarray,
    Wy: np.ndarray,
    b: np.ndarray,
    nonlinearity: str,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``h_t = phi(x_t @ Wx + b + h_{t-1} @ Wy)`` on packed rows.

    Parameters
    ----------
    X_packed : [sum(sizes), n_inputs]
        Step 0's ``sizes[0]`` rows, then step 1's ``sizes[1]`` rows, ...; the rows
        of step ``t`` are the first ``sizes[t]`` instances of the sorted batch.
    h0 : [batch, n_neurons], the initial states of the sorted batch
    sizes : list of int, non-increasing: running instances per step
    Wx, Wy, b, nonlinearity : the cell's weights and ``phi``
    out : C-contiguous [sum(sizes), n_neurons] or None
        Where to write the result (a new array if None).

    Returns
    -------
    H : [sum(sizes), n_neurons], ``h_t`` of every packed row (``out`` if given)
    """
    # x_t @ Wx + b does not depend on h: one GEMM for every step at once. The
    # result is also the output buffer: each step overwrites its rows with h_t.
    H = np.matmul(X_packed, Wx, out=out)
    H += b
    # Scratch for h_{t-1} @ Wy, allocated once: no allocation inside the loop.
    hWy = np.empty((sizes[0] if sizes else 0, Wy.shape[0]), dtype=H.dtype)
    h, start = h0, 0
    for k in sizes:
        h_t = H[start : start + k]  # a view: rows of step t, holding x_t @ Wx + b
        start += k
        # np.dot: less call overhead than matmul, and it writes into the scratch.
        np.dot(h[:k], Wy, out=hWy[:k])
        h_t += hWy[:k]
        _phi_(h_t, nonlinearity)
        h = h_t  # the still-running instances are a prefix of this step's rows
    return H
