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

This is the reference: :func:`dynamic_rnn` *is* the loop, readable top to
bottom. Its fast twin, which computes only the valid rows of a ragged batch and
writes every step in place, lives in :mod:`companion.fast.numpy_packed` and is
tested against it; ``dynamic_rnn(..., backend="auto")`` (the default) runs it, and
``backend="reference"`` runs the loop below.

:mod:`companion.torch_rnn` has the same names. This module never imports torch,
except inside the two conversion methods that exist to talk to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from companion import validation as v
from companion.cells.numpy_cells import GRUCell, LSTMCell, LSTMState
from companion.cells.numpy_stacked import MultiRNNCell
from companion.fast.numpy_gated import gated_dynamic_rnn
from companion.fast.numpy_packed import packed_dynamic_rnn
from companion.layers.numpy_bidirectional import bidirectional_dynamic_rnn, reverse_sequence

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "BasicRNNCell",
    "GRUCell",
    "LSTMCell",
    "LSTMState",
    "MultiRNNCell",
    "bidirectional_dynamic_rnn",
    "dynamic_rnn",
    "reverse_sequence",
    "static_rnn",
]


def _as_array(name: str, value: Any, dtype: np.dtype) -> np.ndarray:
    """Convert user data to an array of the cell's dtype (integers are accepted)."""
    array = np.asarray(value)
    v.check_numeric_kind(name, array.dtype.kind, array.dtype)
    return array.astype(dtype, copy=False)


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
        dtype = v.check_float_dtype(dtype, "numpy")
        self._set(*init_weights(n_inputs, n_neurons, seed), nonlinearity, dtype)

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
        cell._set(Wx, Wy, b, nonlinearity, v.check_float_dtype(dtype, "numpy"))
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

    def phi(self, z: np.ndarray) -> np.ndarray:
        """The activation: tanh, or ReLU ``max(z, 0)``."""
        return np.tanh(z) if self.nonlinearity == "tanh" else np.maximum(z, 0)

    def zero_state(self, batch: int) -> np.ndarray:
        """The initial state used when none is given: zeros [batch, n_neurons]."""
        return np.zeros((v.check_batch_size(batch), self.n_neurons), dtype=self.dtype)

    def output(self, state: np.ndarray) -> np.ndarray:
        """The step's output is the state itself: ``y_t = h_t`` [batch, n_neurons]."""
        return state

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
            return self.phi(x_t @ self.Wx + self.b)
        h_prev = _as_array("h_prev", h_prev, self.dtype)
        v.check_state("h_prev", h_prev.shape, x_t.shape[0], self.n_neurons)
        return self.phi(x_t @ self.Wx + h_prev @ self.Wy + self.b)

    def __repr__(self) -> str:
        return (
            f"BasicRNNCell(n_inputs={self.n_inputs}, n_neurons={self.n_neurons}, "
            f"nonlinearity={self.nonlinearity!r}, dtype={self.dtype})"
        )


#: The cells ``static_rnn`` and ``dynamic_rnn`` run (LSTM and GRU: chapter 11).
Cell = BasicRNNCell | LSTMCell | GRUCell | MultiRNNCell
CELLS = (BasicRNNCell, LSTMCell, GRUCell, MultiRNNCell)


def _initial_state(cell: Cell, initial_state: Any, batch: int) -> Any:
    if initial_state is None:
        return cell.zero_state(batch)
    if not isinstance(cell, BasicRNNCell):
        return cell.as_state("initial_state", initial_state, batch)
    state = _as_array("initial_state", initial_state, cell.dtype)
    v.check_state("initial_state", state.shape, batch, cell.n_neurons)
    return state.copy()


def _lengths(sequence_length: Any, batch: int, n_steps: int) -> np.ndarray | None:
    if sequence_length is None:
        return None
    lengths = np.asarray(sequence_length)
    return v.check_sequence_length(lengths, lengths.dtype.kind, batch, n_steps)


def static_rnn(
    cell: Cell,
    inputs: Sequence[Any],
    initial_state: Any = None,
    sequence_length: Any = None,
) -> tuple[list[np.ndarray], Any]:
    """Unroll ``cell`` over a Python list of per-step inputs: one cell call per step.

    Taught in chapter 5 (静态展开). For step ``t`` and instance ``i``::

        h[i, t] = cell(x[t][i], h[i, t-1])   if t < sequence_length[i]
        y[i, t] = h[i, t]                    if t < sequence_length[i], else 0
        state[i] = h[i, sequence_length[i] - 1]   (initial_state[i] if the length is 0)

    Any cell runs the same way (chapter 11): ``state = cell(x[t], state)``,
    ``y[t] = cell.output(state)``, each part of the state carried past the end.

    Parameters
    ----------
    cell : BasicRNNCell, LSTMCell, GRUCell or MultiRNNCell
    inputs : list of n_steps arrays [batch, n_inputs]
    initial_state : [batch, n_neurons] (LSTMCell: a pair (c, h) of them) or None (zeros)
    sequence_length : int [batch] or None (every sequence has n_steps steps)

    Returns
    -------
    outputs : list of n_steps arrays [batch, n_neurons]
    state : [batch, n_neurons] (LSTMCell: an LSTMState(c, h))
    """
    v.check_cell_types(cell, CELLS)
    v.check_input_list(inputs)
    xs = [_as_array(f"inputs[{t}]", x, cell.dtype) for t, x in enumerate(inputs)]
    for t, x in enumerate(xs):
        v.check_step_input(f"inputs[{t}]", x.shape, cell.n_inputs)
    v.check_same_step_shapes([x.shape for x in xs])
    batch = xs[0].shape[0] if xs else _batch_without_steps(cell, initial_state, sequence_length)
    state = _initial_state(cell, initial_state, batch)
    lengths = _lengths(sequence_length, batch, len(xs))
    if not isinstance(cell, BasicRNNCell):
        return _cell_loop(cell, xs, cell, state, lengths)  # one cell call per step

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


def _cell_loop(
    cell: LSTMCell | GRUCell | MultiRNNCell,
    steps: Any,
    step: Any,
    state: Any,
    lengths: np.ndarray | None,
) -> tuple[list[np.ndarray], Any]:
    """The loop for any cell: ``state = step(steps[t], state)``, ``y[t] = cell.output(state)``.

    ``step`` is the cell itself (``steps``: the inputs ``x_t``) or ``cell.step``
    (``steps``: the input terms ``x_t @ Wx + b``, computed for all steps at once).
    Past ``lengths[i]`` the output is exactly 0 and every part of the state is carried.
    """
    outputs = []
    for t, x in enumerate(steps):
        new_state = step(x, state)
        y = cell.output(new_state)
        if lengths is not None:
            running = (t < lengths)[:, None]  # [batch, 1]: the instances not yet ended
            y = np.where(running, y, cell.dtype.type(0))  # past the end: exactly 0
            new_state = _carry(running, new_state, state)  # past the end: the state is carried
        state = new_state
        outputs.append(y)
    return outputs, state


def _carry(running: np.ndarray, new: Any, old: Any) -> Any:
    """``where(running, new, old)`` for a state: an array, each part of an LSTMState, or
    each layer's state of a MultiRNNCell (a tuple)."""
    if isinstance(new, LSTMState):
        return LSTMState(*(np.where(running, n, o) for n, o in zip(new, old, strict=True)))
    if isinstance(new, tuple):  # MultiRNNCell: every layer's state is carried
        return tuple(_carry(running, n, o) for n, o in zip(new, old, strict=True))
    return np.where(running, new, old)


def _batch_without_steps(cell: Cell, initial_state: Any, sequence_length: Any) -> int:
    """With no time steps the batch size can only come from the other arguments."""
    if isinstance(cell, MultiRNNCell) and isinstance(initial_state, tuple | list):
        cell, initial_state = cell.cells[0], initial_state[0] if initial_state else None
    if isinstance(cell, LSTMCell) and isinstance(initial_state, tuple | list):
        initial_state = initial_state[-1]  # an LSTM state (c, h): the batch is h's first axis
    for value in (initial_state, sequence_length):
        if value is not None and np.ndim(value) >= 1:
            return int(np.shape(value)[0])
    return 0


def dynamic_rnn(
    cell: Cell,
    X: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    time_major: bool = False,
    backend: str = "auto",
) -> tuple[np.ndarray, Any]:
    """Run ``cell`` over a whole ``[batch, n_steps, n_inputs]`` array with a loop.

    Taught in chapter 6 (动态展开); ``sequence_length`` in chapter 7. Same results as
    :func:`static_rnn`. For every step ``t`` and instance ``i``
    (equation (1.2) of chapter 1, with TensorFlow 1.x's ``sequence_length``)::

        h[i, t] = phi(x[i, t] @ Wx + b + h[i, t-1] @ Wy)   if t < sequence_length[i]
                = h[i, t-1]                                 otherwise (state carried)
        y[i, t] = h[i, t] if t < sequence_length[i] else 0  (exactly 0)
        h[i, -1] = initial_state[i];   state[i] = h[i, n_steps - 1]

    The reference computation is this function's own loop, equivalent to::

        xw = X_tm @ Wx + b                     # every step's input term, one product
        h = initial_state
        for t in range(n_steps):
            h_new = phi(xw[t] + h @ Wy)        # only h @ Wy waits for the previous step
            running = t < sequence_length      # [batch]: instances not yet ended
            outputs[t] = where(running, h_new, 0)
            h = where(running, h_new, h)

    An ``LSTMCell`` or ``GRUCell`` (chapter 11) runs the same loop with
    ``cell.step`` in place of ``phi(...)`` and ``y[t] = cell.output(state)``; every
    part of its state (LSTM: ``c`` and ``h``) is carried past the end. A
    ``MultiRNNCell`` (deep RNNs, chapter 12) runs that loop too, every layer's state carried.

    Parameters
    ----------
    cell : BasicRNNCell, LSTMCell, GRUCell or MultiRNNCell
    X : [batch, n_steps, n_inputs] ([n_steps, batch, n_inputs] if ``time_major``)
        Integers are converted to the cell's dtype.
    sequence_length : int [batch] or None
        Each ``0 <= sequence_length[i] <= n_steps``; None means every sequence has
        ``n_steps`` steps.
    initial_state : [batch, n_neurons] (LSTMCell: a pair (c, h) of them; MultiRNNCell: a
        tuple of one state per layer) or None (zeros)
    time_major : bool
    backend : {"auto", "reference", "loop"}
        (MultiRNNCell: always the loop.)
        Which code computes the result; all give the same values to float rounding
        and exact zeros past each length. ``"reference"``: the loop above, which
        computes every ``(t, i)`` and selects. ``"loop"``: the fast path of
        :mod:`companion.fast.numpy_packed`, which sorts the batch by length and
        computes only the ``sum(sequence_length)`` valid rows, in place.
        ``"auto"`` (default): ``"loop"``, which is faster at every length: on a
        ragged batch it skips the padding, and at full length it writes every step
        in place where the reference allocates new arrays (``make bench``). For an
        LSTMCell or GRUCell ``"loop"`` is :mod:`companion.fast.numpy_gated`, the same
        masked loop with every step written in place.

    Returns
    -------
    outputs : [batch, n_steps, n_neurons] ([n_steps, batch, n_neurons] if ``time_major``)
        Batch-major outputs are a transposed view of time-major memory, as
        ``torch.nn.RNN(batch_first=True)`` returns them (except on the fast path
        with padding).
    state : [batch, n_neurons], a new array (LSTMCell: an LSTMState(c, h))
    """
    v.check_cell_types(cell, CELLS)
    gated = not isinstance(cell, BasicRNNCell)
    backend = v.check_backend(backend, v.NUMPY_BACKENDS)
    X = _as_array("X", X, cell.dtype)
    v.check_sequence_input(X.shape, cell.n_inputs, time_major)
    n_steps, batch = X.shape[:2] if time_major else X.shape[1::-1]
    h0 = _initial_state(cell, initial_state, batch)
    lengths = _lengths(sequence_length, batch, n_steps)
    if isinstance(cell, MultiRNNCell):
        # Stacked layers (deep RNNs, chapter 12): any cell's loop, every layer called at each step.
        X_tm = X if time_major else X.transpose(1, 0, 2)
        ys, state = _cell_loop(cell, X_tm, cell.step, h0, lengths)
        outputs = np.stack(ys) if ys else np.zeros((0, batch, cell.n_neurons), cell.dtype)
        return (outputs if time_major else outputs.transpose(1, 0, 2)), state
    if gated:
        # LSTM, GRU (chapter 11): every step's input term in one product, then any cell's loop
        # -- or its in-place twin, companion.fast.numpy_gated (the default).
        X_tm = X if time_major else X.transpose(1, 0, 2)
        if backend in ("loop", "auto"):
            outputs, state = gated_dynamic_rnn(cell, X_tm, h0, lengths)
            return (outputs if time_major else outputs.transpose(1, 0, 2)), state
        ys, state = _cell_loop(cell, cell.input_term(X_tm), cell.step, h0, lengths)
        outputs = np.stack(ys) if ys else np.zeros((0, batch, cell.n_neurons), cell.dtype)
        return (outputs if time_major else outputs.transpose(1, 0, 2)), state
    if backend in ("loop", "auto"):
        return packed_dynamic_rnn(
            X, h0, lengths, cell.Wx, cell.Wy, cell.b, cell.nonlinearity, time_major
        )

    # The reference loop, time-major inside: step t is X_tm[t], one [batch, n_inputs] block.
    # (One contiguous layout for both layouts of X: the same products, bit for bit.)
    X_tm = np.ascontiguousarray(X if time_major else X.transpose(1, 0, 2))
    xw = X_tm @ cell.Wx + cell.b  # [n_steps, batch, n_neurons]: x_t @ Wx + b of every step
    outputs = np.empty((n_steps, batch, cell.n_neurons), dtype=cell.dtype)
    h = h0  # [batch, n_neurons]; _initial_state made it our own array
    for t in range(n_steps):
        h_new = cell.phi(xw[t] + h @ cell.Wy)  # the recurrent term is the only serial work
        if lengths is not None:
            running = (t < lengths)[:, None]  # [batch, 1]: the instances not yet ended
            h_new = np.where(running, h_new, cell.dtype.type(0))  # past the end: exactly 0
            h = np.where(running, h_new, h)  # past the end: the state is carried
        else:
            h = h_new
        outputs[t] = h_new
    # Batch-major outputs are a transposed view: copying them would cost one more pass.
    return (outputs if time_major else outputs.transpose(1, 0, 2)), h
