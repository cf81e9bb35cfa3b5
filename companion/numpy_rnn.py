"""The basic recurrent layer in NumPy: the course's reference implementation.

One step of a layer of ``n_neurons`` recurrent neurons (equation (1.2), chapter 1)::

    h_t = phi(x_t @ Wx + h_prev @ Wy + b)

with ``x_t`` [batch, n_inputs], ``h_prev`` and ``h_t`` [batch, n_neurons],
``Wx`` [n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons]
and ``phi`` = tanh (or ReLU). For this basic cell the output is the state:
``y_t = h_t``.

* :class:`BasicRNNCell` -- one step (chapters 1, 4).
* :func:`static_rnn` -- a Python list of per-step inputs, one cell call per step (chapter 5).
* :func:`dynamic_rnn` -- one ``[batch, n_steps, n_inputs]`` array, a loop (chapter 6).
* ``sequence_length`` -- padded batches with TensorFlow 1.x semantics (chapter 7).

:mod:`companion.torch_rnn` has the same names. This module never imports torch,
except inside the two conversion methods that exist to talk to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from companion import validation as v
from companion.packing import packing_plan

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["BasicRNNCell", "dynamic_rnn", "static_rnn"]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _float_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64; got {dtype!r}") from exc
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {dt}")
    return dt


def _as_array(name: str, value: Any, dtype: np.dtype) -> np.ndarray:
    """Convert user data to an array of the cell's dtype (integers are accepted)."""
    array = np.asarray(value)
    v.check_numeric_kind(name, array.dtype.kind, array.dtype)
    return array.astype(dtype, copy=False)


def _activation(nonlinearity: str):
    if nonlinearity == "tanh":
        return np.tanh
    return lambda z, out=None: np.maximum(z, 0, out=out)


def init_weights(
    n_inputs: int, n_neurons: int, seed: int | np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``Wx``, ``Wy`` ~ U(-k, k) with ``k = 1/sqrt(n_neurons)`` and ``b = 0`` (float64).

    The bound is the one PyTorch's ``nn.RNN`` uses; drawing with NumPy lets both
    backends start from the same weights for the same ``seed``.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    k = 1.0 / np.sqrt(n_neurons)
    Wx = rng.uniform(-k, k, size=(n_inputs, n_neurons))
    Wy = rng.uniform(-k, k, size=(n_neurons, n_neurons))
    return Wx, Wy, np.zeros(n_neurons)


class BasicRNNCell:
    """A layer of ``n_neurons`` recurrent neurons; one call computes one time step.

    ``h_t = phi(x_t @ Wx + h_prev @ Wy + b)`` (equation (1.2), chapter 1).

    Parameters
    ----------
    n_inputs : int
        Features per time step.
    n_neurons : int
        Recurrent neurons in the layer (the size of the state).
    nonlinearity : {"tanh", "relu"}
        ``phi``; tanh is the classic basic cell.
    dtype : float32 (default) or float64
    seed : int, numpy.random.Generator or None
        Makes the random initialisation reproducible; the same seed gives the
        same weights as :class:`companion.torch_rnn.BasicRNNCell`.

    Attributes
    ----------
    Wx : [n_inputs, n_neurons]
    Wy : [n_neurons, n_neurons]
    b : [n_neurons]
    """

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        *,
        nonlinearity: str = "tanh",
        dtype: Any = np.float32,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        n_inputs = v.check_positive_int("n_inputs", n_inputs)
        n_neurons = v.check_positive_int("n_neurons", n_neurons)
        self._set(*init_weights(n_inputs, n_neurons, seed), nonlinearity, _float_dtype(dtype))

    def _set(self, Wx: Any, Wy: Any, b: Any, nonlinearity: str, dtype: np.dtype) -> None:
        self.nonlinearity = v.check_nonlinearity(nonlinearity)
        self.dtype = dtype
        arrays = {}
        for name, value in (("Wx", Wx), ("Wy", Wy), ("b", b)):
            array = np.array(value, copy=True)
            v.check_numeric_kind(name, array.dtype.kind, array.dtype)
            arrays[name] = array.astype(dtype)
        v.check_weights(arrays["Wx"].shape, arrays["Wy"].shape, arrays["b"].shape)
        for name, array in arrays.items():
            v.check_finite(name, bool(np.isfinite(array).all()))
        self.Wx, self.Wy, self.b = arrays["Wx"], arrays["Wy"], arrays["b"]
        self.n_inputs, self.n_neurons = (int(n) for n in self.Wx.shape)
        self._phi = _activation(self.nonlinearity)

    @classmethod
    def from_weights(
        cls,
        Wx: Any,
        Wy: Any,
        b: Any = None,
        *,
        nonlinearity: str = "tanh",
        dtype: Any = None,
    ) -> BasicRNNCell:
        """Build a cell from given weights (copied).

        Parameters
        ----------
        Wx : [n_inputs, n_neurons]
        Wy : [n_neurons, n_neurons]
        b : [n_neurons] or None (zeros)
        dtype : float32, float64 or None: float64 if any weight is float64, else float32.
        """
        arrays = [np.asarray(w) for w in (Wx, Wy) + (() if b is None else (b,))]
        if dtype is None:
            dtype = np.float64 if any(a.dtype == np.float64 for a in arrays) else np.float32
        if b is None:
            v.check_rank_and_sizes("Wx", arrays[0].shape, ("n_inputs", "n_neurons"), (None, None))
            b = np.zeros(arrays[0].shape[1])
        cell = cls.__new__(cls)
        cell._set(Wx, Wy, b, nonlinearity, _float_dtype(dtype))
        return cell

    @classmethod
    def from_torch_rnn(cls, rnn: torch.nn.RNN) -> BasicRNNCell:
        """Copy the weights of a one-layer ``torch.nn.RNN``: ``Wx = weight_ih.T``,
        ``Wy = weight_hh.T``, ``b = bias_ih + bias_hh`` (dtype kept)."""
        from companion.torch_interop import weights_from_torch_rnn

        Wx, Wy, b, nonlinearity = weights_from_torch_rnn(rnn)
        return cls.from_weights(
            Wx.numpy(), Wy.numpy(), b.numpy(), nonlinearity=nonlinearity, dtype=Wx.numpy().dtype
        )

    def to_torch_rnn(self, batch_first: bool = True) -> torch.nn.RNN:
        """A ``torch.nn.RNN`` computing the same function (``b`` goes to ``bias_ih``)."""
        from companion.torch_interop import torch_rnn_from_weights

        return torch_rnn_from_weights(
            self.Wx, self.Wy, self.b, self.nonlinearity, batch_first=batch_first
        )

    def zero_state(self, batch: int) -> np.ndarray:
        """The initial state used when none is given: zeros [batch, n_neurons]."""
        if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 0:
            raise ValueError(f"batch must be an int >= 0; got {batch!r}")
        return np.zeros((int(batch), self.n_neurons), dtype=self.dtype)

    def __call__(self, x_t: Any, h_prev: Any = None) -> np.ndarray:
        """One time step.

        Parameters
        ----------
        x_t : [batch, n_inputs]
        h_prev : [batch, n_neurons] or None (zeros)

        Returns
        -------
        h_t : [batch, n_neurons], ``phi(x_t @ Wx + h_prev @ Wy + b)``
        """
        x_t = _as_array("x_t", x_t, self.dtype)
        v.check_step_input("x_t", x_t.shape, self.n_inputs)
        if h_prev is None:
            return self._phi(x_t @ self.Wx + self.b)
        h_prev = _as_array("h_prev", h_prev, self.dtype)
        v.check_state("h_prev", h_prev.shape, x_t.shape[0], self.n_neurons)
        return self._phi(x_t @ self.Wx + h_prev @ self.Wy + self.b)

    def __repr__(self) -> str:
        return (
            f"BasicRNNCell(n_inputs={self.n_inputs}, n_neurons={self.n_neurons}, "
            f"nonlinearity={self.nonlinearity!r}, dtype={self.dtype})"
        )


def _check_cell(cell: Any) -> None:
    if not isinstance(cell, BasicRNNCell):
        raise TypeError(
            f"cell must be a companion.numpy_rnn.BasicRNNCell; got {type(cell).__name__}"
        )


def _initial_state(cell: BasicRNNCell, initial_state: Any, batch: int) -> np.ndarray:
    if initial_state is None:
        return cell.zero_state(batch)
    state = _as_array("initial_state", initial_state, cell.dtype)
    v.check_state("initial_state", state.shape, batch, cell.n_neurons)
    return state.copy()


def _lengths(sequence_length: Any, batch: int, n_steps: int) -> np.ndarray | None:
    if sequence_length is None:
        return None
    lengths = np.asarray(sequence_length)
    return v.check_sequence_length(lengths, lengths.dtype.kind, batch, n_steps)


def static_rnn(
    cell: BasicRNNCell,
    inputs: Sequence[Any],
    initial_state: Any = None,
    sequence_length: Any = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Unroll ``cell`` over a Python list of per-step inputs: one cell call per step.

    Taught in chapter 5 (静态展开). For step ``t`` and instance ``i``::

        h[i, t] = cell(x[t][i], h[i, t-1])   if t < sequence_length[i]
        y[i, t] = h[i, t]                    if t < sequence_length[i], else 0
        state[i] = h[i, sequence_length[i] - 1]   (initial_state[i] if the length is 0)

    Parameters
    ----------
    cell : BasicRNNCell
    inputs : list of n_steps arrays [batch, n_inputs]
    initial_state : [batch, n_neurons] or None (zeros)
    sequence_length : int [batch] or None (every sequence has n_steps steps)

    Returns
    -------
    outputs : list of n_steps arrays [batch, n_neurons]
    state : [batch, n_neurons]
    """
    _check_cell(cell)
    v.check_input_list(inputs)
    xs = [_as_array(f"inputs[{t}]", x, cell.dtype) for t, x in enumerate(inputs)]
    for t, x in enumerate(xs):
        v.check_step_input(f"inputs[{t}]", x.shape, cell.n_inputs)
    v.check_same_step_shapes([x.shape for x in xs])
    batch = xs[0].shape[0] if xs else _batch_without_steps(initial_state, sequence_length)
    state = _initial_state(cell, initial_state, batch)
    lengths = _lengths(sequence_length, batch, len(xs))

    outputs = []
    for t, x in enumerate(xs):
        h = cell(x, state)
        if lengths is not None:
            # Computed for every row, then selected: static unrolling does not skip work.
            running = (t < lengths)[:, None]
            h = np.where(running, h, 0).astype(cell.dtype, copy=False)
            state = np.where(running, h, state)
        else:
            state = h
        outputs.append(h)
    return outputs, state


def _batch_without_steps(initial_state: Any, sequence_length: Any) -> int:
    """With no time steps the batch size can only come from the other arguments."""
    for value in (initial_state, sequence_length):
        if value is not None and np.ndim(value) >= 1:
            return int(np.shape(value)[0])
    return 0


def dynamic_rnn(
    cell: BasicRNNCell,
    X: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    time_major: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``cell`` over a whole ``[batch, n_steps, n_inputs]`` array with a loop.

    Taught in chapter 6 (动态展开); ``sequence_length`` in chapter 7. Same results as
    :func:`static_rnn`, computed faster than one cell call per step:

    * the input product ``X @ Wx + b`` of every valid step is one matrix product,
      hoisted out of the loop; the loop only adds ``h_prev @ Wy`` and applies ``phi``;
    * with ``sequence_length``, instances are sorted by length and step ``t`` runs
      only those still going (a prefix), so the work is proportional to
      ``sum(sequence_length)``, not to ``batch * n_steps``.

    Parameters
    ----------
    cell : BasicRNNCell
    X : [batch, n_steps, n_inputs] ([n_steps, batch, n_inputs] if ``time_major``)
    sequence_length : int [batch] or None
        For ``t >= sequence_length[i]`` the output is exactly 0 and the state is
        carried unchanged; ``state[i]`` is the state after step
        ``sequence_length[i] - 1`` (``initial_state[i]`` when it is 0).
    initial_state : [batch, n_neurons] or None (zeros)
    time_major : bool

    Returns
    -------
    outputs : [batch, n_steps, n_neurons] ([n_steps, batch, n_neurons] if ``time_major``)
        Without ``sequence_length``, batch-major outputs are a transposed view of
        time-major memory, as ``torch.nn.RNN(batch_first=True)`` returns them.
    state : [batch, n_neurons]
    """
    _check_cell(cell)
    X = _as_array("X", X, cell.dtype)
    v.check_sequence_input(X.shape, cell.n_inputs, time_major)
    n_steps, batch = X.shape[:2] if time_major else X.shape[1::-1]
    h0 = _initial_state(cell, initial_state, batch)
    lengths = _lengths(sequence_length, batch, n_steps)
    return _run(cell, X, h0, lengths, time_major)


def _run(
    cell: BasicRNNCell,
    X: np.ndarray,
    h0: np.ndarray,
    lengths: np.ndarray | None,
    time_major: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The body of :func:`dynamic_rnn`: validated arguments in, ``(outputs, state)`` out.

    1. *Pack*: list the valid ``(t, i)`` pairs step by step, instances sorted by
       length, so that the instances running at step ``t`` are a prefix
       (``PackedSequence.data``'s layout; :mod:`companion.packing`).
    2. :func:`_recurrence` on the packed rows, followed by one row of zeros.
    3. *Unpack*: one gather builds the padded outputs; every padding position
       reads the row of zeros.

    Without ``sequence_length`` (or when every length is ``n_steps``) the
    time-major array already is the packed layout, and 1 and 3 cost nothing.
    """
    n_steps, batch = X.shape[:2] if time_major else X.shape[1::-1]
    n_inputs, n_neurons = cell.n_inputs, cell.n_neurons
    full = lengths is None or bool(np.all(lengths == n_steps))
    plan = packing_plan(np.full(batch, n_steps) if full else lengths)

    if full:
        X_tm = X if time_major else X.transpose(1, 0, 2)
        X_packed = X_tm.reshape(n_steps * batch, n_inputs)  # a copy only if batch-major
        packed = _recurrence(cell, X_packed, h0, plan.active.tolist())
        outputs_tm = packed.reshape(n_steps, batch, n_neurons)
        # Batch-major outputs are a transposed view, as torch.nn.RNN(batch_first=True)
        # returns: copying them into batch-major memory would cost one more pass.
        outputs = outputs_tm if time_major else outputs_tm.transpose(1, 0, 2)
        state = outputs_tm[-1].copy() if n_steps else h0.copy()
        return outputs, state

    # With padding: every index the call needs, then the loop on the packed rows.
    rows = plan.packed_rows(n_steps, time_major)
    index = plan.unpacked_rows(n_steps, time_major)
    instances, last = plan.last_rows()
    X_packed = np.take(X.reshape(-1, n_inputs), rows, axis=0)  # gather the valid rows
    packed = np.empty((len(rows) + 1, n_neurons), dtype=cell.dtype)
    packed[-1] = 0  # the row every padding position reads: exact zeros
    _recurrence(cell, X_packed, h0[plan.order], plan.active.tolist(), out=packed[:-1])
    outputs = np.take(packed, index, axis=0).reshape(X.shape[:2] + (n_neurons,))
    state = h0.copy()
    state[instances] = packed[last]
    return outputs, state


def _recurrence(
    cell: BasicRNNCell,
    X_packed: np.ndarray,
    h0: np.ndarray,
    sizes: list[int],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The recurrence on packed rows: ``h_t = phi(x_t @ Wx + b + h_{t-1} @ Wy)``.

    Parameters
    ----------
    X_packed : [sum(sizes), n_inputs]
        Step 0's ``sizes[0]`` rows, then step 1's ``sizes[1]`` rows, ...; the rows
        of step ``t`` are the first ``sizes[t]`` instances of the sorted batch.
    h0 : [batch, n_neurons], the initial states of the sorted batch.
    sizes : non-increasing number of running instances per step.
    out : C-contiguous [sum(sizes), n_neurons] or None
        Where to write the result (a new array if None).

    Returns
    -------
    [sum(sizes), n_neurons]: ``h_t`` of every packed row (``out`` if given).
    """
    # x_t @ Wx + b does not depend on h: one GEMM for every step at once. The
    # result is also the output buffer: each step overwrites its rows with h_t.
    H = np.matmul(X_packed, cell.Wx, out=out)
    H += cell.b
    # Scratch for h_{t-1} @ Wy, allocated once: no allocation inside the loop.
    hWy = np.empty((sizes[0] if sizes else 0, cell.n_neurons), dtype=cell.dtype)
    h, start = h0, 0
    for k in sizes:
        h_t = H[start : start + k]  # a view: rows of step t, holding x_t @ Wx + b
        start += k
        # The recurrent GEMM, the only one per step (np.dot: less call overhead than matmul).
        np.dot(h[:k], cell.Wy, out=hWy[:k])
        h_t += hWy[:k]
        cell._phi(h_t, out=h_t)  # in place: no new array
        h = h_t  # the still-running instances are a prefix of this step's rows
    return H
