"""The basic recurrent layer in PyTorch: same names and results as :mod:`companion.numpy_rnn`.

One step (equation (1.2), chapter 1)::

    h_t = phi(x_t @ Wx + h_prev @ Wy + b)

``x_t`` [batch, n_inputs], ``h_prev``/``h_t`` [batch, n_neurons], ``Wx``
[n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons].

Everything runs on the device and in the dtype of the cell's parameters and is
differentiable with autograd (to ``X``, ``initial_state`` and the weights).
Data is never moved between devices behind the caller's back: a tensor on
another device than the cell is an error. NumPy arrays and lists are accepted
and created on the cell's device (:func:`as_tensor`). Only ``sequence_length``,
which decides how many steps run, is read on the host (as
``pack_padded_sequence`` also does).

Taught in chapters 4-7. ``dynamic_rnn(..., backend="reference")`` is the
readable loop, differentiated by autograd; the default ``backend="loop"`` runs
its fast twin, :mod:`companion.fast.torch_packed` (only the valid rows, and
back-propagation through time written out by hand), and ``"cudnn"`` / ``"auto"``
NVIDIA's fused kernel (:mod:`companion.fast.cudnn`). All are tested against the
reference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from companion import validation as v
from companion.cells.torch_cells import GRUCell, LSTMCell, LSTMState
from companion.cells.torch_stacked import MultiRNNCell
from companion.fast import cudnn, torch_gated
from companion.fast.torch_packed import packed_dynamic_rnn
from companion.layers.torch_bidirectional import bidirectional_dynamic_rnn, reverse_sequence
from companion.numpy_rnn import init_weights
from companion.torch_interop import torch_rnn_from_weights, weights_from_torch_rnn

__all__ = [
    "BasicRNNCell",
    "GRUCell",
    "LSTMCell",
    "LSTMState",
    "MultiRNNCell",
    "as_tensor",
    "bidirectional_dynamic_rnn",
    "dynamic_rnn",
    "reverse_sequence",
    "static_rnn",
]


def as_tensor(name: str, value: Any, cell: BasicRNNCell) -> torch.Tensor:
    """The argument ``name`` as a tensor of the cell's dtype on the cell's device.

    Every function of this module converts its data with it, so that the rule is
    one: integer or float data of any dtype is accepted and converted; a tensor on
    another device than the cell is an error, never silently moved.

    Parameters
    ----------
    name : the argument's name, for error messages (``"X"``, ``"initial_state"``)
    value : tensor, NumPy array or nested list, any shape
    cell : BasicRNNCell, whose ``dtype`` and ``device`` the result takes

    Returns
    -------
    torch.Tensor, same shape as ``value`` (``value`` itself if it already matches)

    Raises
    ------
    TypeError
        ``value`` holds booleans, complex numbers, strings or objects.
    ValueError
        ``value`` is a tensor on another device than the cell.
    """
    if isinstance(value, torch.Tensor):
        v.check_numeric_kind(name, v.dtype_kind(value), value.dtype)
        if value.device != cell.device:
            raise ValueError(
                f"{name} is on device {value.device} but the cell is on {cell.device}; "
                f"move one of them (e.g. {name}.to({str(cell.device)!r}))"
            )
        return value.to(cell.dtype)
    array = np.asarray(value)
    v.check_numeric_kind(name, array.dtype.kind, array.dtype)
    return torch.as_tensor(array, device=cell.device).to(cell.dtype)


class BasicRNNCell(torch.nn.Module):
    """A layer of ``n_neurons`` recurrent neurons; one call computes one time step.

    ``h_t = phi(x_t @ Wx + h_prev @ Wy + b)`` (equation (1.2), chapter 1).

    Parameters
    ----------
    n_inputs, n_neurons : int
    nonlinearity : {"tanh", "relu"}
    dtype : torch.float32 (default) or torch.float64
    device : where the parameters live (default: CPU)
    seed : int, numpy.random.Generator or None
        The weights are drawn with NumPy, so the same seed gives the same weights
        as :class:`companion.numpy_rnn.BasicRNNCell`.

    Parameters of the module: ``Wx`` [n_inputs, n_neurons], ``Wy``
    [n_neurons, n_neurons], ``b`` [n_neurons].
    """

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        *,
        nonlinearity: str = "tanh",
        dtype: Any = torch.float32,
        device: Any = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        n_inputs = v.check_positive_int("n_inputs", n_inputs)
        n_neurons = v.check_positive_int("n_neurons", n_neurons)
        weights = (torch.as_tensor(w) for w in init_weights(n_inputs, n_neurons, seed))
        self._set(*weights, nonlinearity, v.check_float_dtype(dtype, "torch"), device)

    def _set(
        self, Wx: Any, Wy: Any, b: Any, nonlinearity: str, dtype: torch.dtype, device: Any
    ) -> None:
        self.nonlinearity = v.check_nonlinearity(nonlinearity)
        tensors = {}
        for name, value in (("Wx", Wx), ("Wy", Wy), ("b", b)):
            tensor = value.detach() if isinstance(value, torch.Tensor) else np.asarray(value)
            v.check_numeric_kind(name, v.dtype_kind(tensor), tensor.dtype)
            tensors[name] = torch.as_tensor(tensor, device=device).to(dtype)
        v.check_weights(
            v.shape_of(tensors["Wx"]), v.shape_of(tensors["Wy"]), v.shape_of(tensors["b"])
        )
        for name, tensor in tensors.items():
            v.check_finite(name, bool(torch.isfinite(tensor).all()))
        # clone(): the cell owns its weights; later changes to the sources don't leak in.
        self.Wx = torch.nn.Parameter(tensors["Wx"].clone())
        self.Wy = torch.nn.Parameter(tensors["Wy"].clone())
        self.b = torch.nn.Parameter(tensors["b"].clone())

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
        """Build a cell from given weights (arrays or tensors; copied, device kept).

        Parameters
        ----------
        Wx : [n_inputs, n_neurons]
        Wy : [n_neurons, n_neurons]
        b : [n_neurons] or None (zeros)
        dtype : float32, float64 or None: float64 if any weight is float64, else float32.
        """
        given = [w for w in (Wx, Wy, b) if w is not None]
        if dtype is None:
            is64 = any(
                (w.dtype == torch.float64)
                if isinstance(w, torch.Tensor)
                else (np.asarray(w).dtype == np.float64)
                for w in given
            )
            dtype = torch.float64 if is64 else torch.float32
        device = Wx.device if isinstance(Wx, torch.Tensor) else None
        if b is None:
            shape = v.shape_of(Wx) if isinstance(Wx, torch.Tensor) else np.shape(Wx)
            v.check_rank_and_sizes("Wx", shape, ("n_inputs", "n_neurons"), (None, None))
            b = np.zeros(shape[1])
        cell = cls.__new__(cls)
        torch.nn.Module.__init__(cell)
        cell._set(Wx, Wy, b, nonlinearity, v.check_float_dtype(dtype, "torch"), device)
        return cell

    @classmethod
    def from_torch_rnn(cls, rnn: torch.nn.RNN) -> BasicRNNCell:
        """Copy a one-layer ``torch.nn.RNN``: ``Wx = weight_ih.T``, ``Wy = weight_hh.T``,
        ``b = bias_ih + bias_hh``; dtype and device kept."""
        Wx, Wy, b, nonlinearity = weights_from_torch_rnn(rnn)
        device = rnn.weight_ih_l0.device
        return cls.from_weights(
            Wx.to(device), Wy.to(device), b.to(device), nonlinearity=nonlinearity
        )

    def to_torch_rnn(self, batch_first: bool = True) -> torch.nn.RNN:
        """A ``torch.nn.RNN`` computing the same function, on the same device and dtype."""
        return torch_rnn_from_weights(
            self.Wx, self.Wy, self.b, self.nonlinearity, batch_first=batch_first
        )

    @property
    def n_inputs(self) -> int:
        return int(self.Wx.shape[0])

    @property
    def n_neurons(self) -> int:
        return int(self.Wx.shape[1])

    @property
    def dtype(self) -> torch.dtype:
        return self.Wx.dtype

    @property
    def device(self) -> torch.device:
        return self.Wx.device

    def phi(self, z: torch.Tensor) -> torch.Tensor:
        """The activation: tanh or ReLU."""
        return torch.tanh(z) if self.nonlinearity == "tanh" else torch.relu(z)

    def zero_state(self, batch: int) -> torch.Tensor:
        """Zeros [batch, n_neurons] in the cell's dtype, on its device."""
        batch = v.check_batch_size(batch)
        return torch.zeros(batch, self.n_neurons, dtype=self.dtype, device=self.device)

    def output(self, state: torch.Tensor) -> torch.Tensor:
        """The step's output is the state itself: ``y_t = h_t`` [batch, n_neurons]."""
        return state

    def forward(self, x_t: Any, h_prev: Any = None) -> torch.Tensor:
        """One time step: ``x_t`` [batch, n_inputs], ``h_prev`` [batch, n_neurons] or None
        (zeros) → ``h_t`` [batch, n_neurons]."""
        x_t = as_tensor("x_t", x_t, self)
        v.check_step_input("x_t", v.shape_of(x_t), self.n_inputs)
        if h_prev is None:
            return self.phi(x_t @ self.Wx + self.b)
        h_prev = as_tensor("h_prev", h_prev, self)
        v.check_state("h_prev", v.shape_of(h_prev), x_t.shape[0], self.n_neurons)
        return self.phi(x_t @ self.Wx + h_prev @ self.Wy + self.b)

    def extra_repr(self) -> str:
        return (
            f"n_inputs={self.n_inputs}, n_neurons={self.n_neurons}, "
            f"nonlinearity={self.nonlinearity!r}"
        )


#: The cells ``static_rnn`` and ``dynamic_rnn`` run (LSTM and GRU: chapter 11).
Cell = BasicRNNCell | LSTMCell | GRUCell | MultiRNNCell
CELLS = (BasicRNNCell, LSTMCell, GRUCell, MultiRNNCell)


def _initial_state(cell: Cell, initial_state: Any, batch: int) -> Any:
    if initial_state is None:
        return cell.zero_state(batch)
    if not isinstance(cell, BasicRNNCell):
        return cell.as_state("initial_state", initial_state, batch)
    state = as_tensor("initial_state", initial_state, cell)
    v.check_state("initial_state", v.shape_of(state), batch, cell.n_neurons)
    return state


def _lengths(sequence_length: Any, batch: int, n_steps: int) -> np.ndarray | None:
    if sequence_length is None:
        return None
    kind = v.dtype_kind(sequence_length)
    if isinstance(sequence_length, torch.Tensor):
        sequence_length = sequence_length.detach().cpu().numpy()
    return v.check_sequence_length(np.asarray(sequence_length), kind, batch, n_steps)


def _batch_without_steps(cell: Cell, initial_state: Any, sequence_length: Any) -> int:
    """With no time steps the batch size can only come from the other arguments."""
    if isinstance(cell, MultiRNNCell) and isinstance(initial_state, tuple | list):
        cell, initial_state = cell.cells[0], initial_state[0] if initial_state else None
    if isinstance(cell, LSTMCell) and isinstance(initial_state, tuple | list):
        initial_state = initial_state[-1]  # an LSTM state (c, h): the batch is h's first axis
    for value in (initial_state, sequence_length):
        if value is not None and np.ndim(value) >= 1:
            return int(value.shape[0]) if isinstance(value, torch.Tensor) else len(value)
    return 0


def static_rnn(
    cell: Cell,
    inputs: Sequence[Any],
    initial_state: Any = None,
    sequence_length: Any = None,
) -> tuple[list[torch.Tensor], Any]:
    """Unroll ``cell`` over a Python list of per-step inputs: one cell call per step.

    Taught in chapter 5 (静态展开); semantics as :func:`companion.numpy_rnn.static_rnn`.

    Parameters
    ----------
    cell : BasicRNNCell, LSTMCell, GRUCell or MultiRNNCell
    inputs : list of n_steps tensors [batch, n_inputs]
    initial_state : [batch, n_neurons] (LSTMCell: a pair (c, h) of them) or None (zeros)
    sequence_length : int [batch] or None

    Returns
    -------
    outputs : list of n_steps tensors [batch, n_neurons] (exactly 0 past each length)
    state : [batch, n_neurons] (LSTMCell: an LSTMState(c, h)), the state after each
        instance's last valid step
    """
    v.check_cell_types(cell, CELLS)
    v.check_input_list(inputs)
    xs = [as_tensor(f"inputs[{t}]", x, cell) for t, x in enumerate(inputs)]
    for t, x in enumerate(xs):
        v.check_step_input(f"inputs[{t}]", v.shape_of(x), cell.n_inputs)
    v.check_same_step_shapes([v.shape_of(x) for x in xs])
    batch = xs[0].shape[0] if xs else _batch_without_steps(cell, initial_state, sequence_length)
    state = _initial_state(cell, initial_state, batch)
    lengths = _lengths(sequence_length, batch, len(xs))
    if not isinstance(cell, BasicRNNCell):
        return _cell_loop(cell, xs, cell, state, lengths)  # one cell call per step
    if lengths is not None:
        lengths = torch.as_tensor(lengths, device=cell.device)

    outputs = []
    for t, x in enumerate(xs):
        h = cell(x, state)
        if lengths is not None:
            # Every row is computed, then selected: static unrolling does not skip work.
            running = (t < lengths)[:, None]
            h = torch.where(running, h, torch.zeros_like(h))
            state = torch.where(running, h, state)
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
) -> tuple[list[torch.Tensor], Any]:
    """The loop for any cell: ``state = step(steps[t], state)``, ``y[t] = cell.output(state)``.

    ``step`` is the cell itself (``steps``: the inputs ``x_t``) or ``cell.step``
    (``steps``: the input terms ``x_t @ Wx + b``, computed for all steps at once).
    Past ``lengths[i]`` the output is exactly 0 and every part of the state is carried.
    """
    if lengths is not None:
        lengths = torch.as_tensor(lengths, device=cell.device)
    outputs = []
    for t, x in enumerate(steps):
        new_state = step(x, state)
        y = cell.output(new_state)
        if lengths is not None:
            running = (t < lengths)[:, None]  # [batch, 1]: the instances not yet ended
            y = torch.where(running, y, 0.0)  # past the end: exactly 0
            new_state = _carry(running, new_state, state)  # past the end: the state is carried
        state = new_state
        outputs.append(y)
    return outputs, state


def _carry(running: torch.Tensor, new: Any, old: Any) -> Any:
    """``where(running, new, old)`` for a state: a tensor, each part of an LSTMState, or
    each layer's state of a MultiRNNCell (a tuple)."""
    if isinstance(new, LSTMState):
        return LSTMState(*(torch.where(running, n, o) for n, o in zip(new, old, strict=True)))
    if isinstance(new, tuple):  # MultiRNNCell: every layer's state is carried
        return tuple(_carry(running, n, o) for n, o in zip(new, old, strict=True))
    return torch.where(running, new, old)


def dynamic_rnn(
    cell: Cell,
    X: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    time_major: bool = False,
    swap_memory: bool = False,
    backend: str = "loop",
) -> tuple[torch.Tensor, Any]:
    """Run ``cell`` over a whole ``[batch, n_steps, n_inputs]`` tensor with a loop.

    Taught in chapter 6 (动态展开) and chapter 7 (``sequence_length``); semantics
    as :func:`companion.numpy_rnn.dynamic_rnn`. For every step ``t`` and instance
    ``i`` (equation (1.2), with TensorFlow 1.x's ``sequence_length``)::

        h[i, t] = phi(x[i, t] @ Wx + b + h[i, t-1] @ Wy)   if t < sequence_length[i]
                = h[i, t-1]                                 otherwise (state carried)
        y[i, t] = h[i, t] if t < sequence_length[i] else 0  (exactly 0)
        h[i, -1] = initial_state[i];   state[i] = h[i, n_steps - 1]

    The reference computation (``backend="reference"``) is this function's own
    loop, differentiated by autograd, equivalent to::

        xw = X_tm @ Wx + b                     # every step's input term, one product
        h = initial_state
        for t in range(n_steps):
            h_new = phi(xw[t] + h @ Wy)        # only h @ Wy waits for the previous step
            running = t < sequence_length      # [batch]: instances not yet ended
            outputs[t] = where(running, h_new, 0)
            h = where(running, h_new, h)

    Parameters
    ----------
    cell : BasicRNNCell, LSTMCell, GRUCell or MultiRNNCell
        An LSTM or GRU cell (chapter 11) runs the same loop with ``cell.step`` in
        place of ``phi(...)`` and ``y[t] = cell.output(state)``, every part of its
        state carried past the end.
    X : [batch, n_steps, n_inputs] ([n_steps, batch, n_inputs] if ``time_major``)
        Tensor (on the cell's device), array or list; integers are converted.
    sequence_length : int [batch] (tensor, array or list) or None
        Each ``0 <= sequence_length[i] <= n_steps``; None means full length.
    initial_state : [batch, n_neurons] (LSTMCell: a pair (c, h) of them) or None (zeros)
    time_major : bool
    swap_memory : bool
        Keep the tensors saved for the backward pass in CPU memory
        (``torch.autograd.graph.save_on_cpu``, pinned on CUDA) instead of on the
        device -- PyTorch's counterpart of TensorFlow's ``swap_memory``.
    backend : {"loop", "reference", "cudnn", "auto"}
        Which code computes the result; all give the same values to float rounding
        and exact zeros past each length. ``"loop"`` (default, any device): the
        fast path of :mod:`companion.fast.torch_packed` -- only the
        ``sum(sequence_length)`` valid rows are computed, and the backward pass is
        back-propagation through time written out by hand (chapter 9), one
        autograd node for the whole loop. ``"reference"``: the loop above, every
        ``(t, i)`` computed and selected, autograd recording each step.
        ``"cudnn"``: the whole recurrence in one fused cuDNN call (the cell must be
        on a CUDA device); ``"auto"``: cuDNN where available, else ``"loop"``
        (:mod:`companion.fast.cudnn`, appendix 性能). For LSTMCell and GRUCell,
        ``"loop"`` and ``"auto"`` run :mod:`companion.fast.torch_gated` (back-propagation
        through time written out by hand; ``GRUCell(reset_after=False)``: the loop with
        every step's ``x_t @ Wx + b`` computed in one product first), ``"reference"``
        calls the cell at each step, and ``"cudnn"`` is refused (``cell.to_torch()``
        gives ``nn.LSTM``/``nn.GRU``). A MultiRNNCell (deep RNNs, chapter 12) always runs the
        autograd loop, every layer called at each step and every layer's state carried.

    Returns
    -------
    outputs : [batch, n_steps, n_neurons] ([n_steps, batch, n_neurons] if ``time_major``)
        Without padding, batch-major outputs are a transposed view of time-major
        memory, as ``torch.nn.RNN(batch_first=True)`` returns them.
    state : [batch, n_neurons] (LSTMCell: an LSTMState(c, h))
    """
    v.check_cell_types(cell, CELLS)
    gated = not isinstance(cell, BasicRNNCell)
    if gated:
        backend = v.check_gated_backend(backend, type(cell).__name__)
    else:
        backend = cudnn.resolve_backend(backend, cell.device)
    X = as_tensor("X", X, cell)
    v.check_sequence_input(v.shape_of(X), cell.n_inputs, time_major)
    n_steps, batch = X.shape[:2] if time_major else X.shape[1::-1]
    h0 = _initial_state(cell, initial_state, batch)
    lengths = _lengths(sequence_length, batch, n_steps)

    saving = (
        torch.autograd.graph.save_on_cpu(pin_memory=cell.device.type == "cuda")
        if swap_memory
        else contextlib.nullcontext()
    )
    with saving:
        if gated:
            # LSTM, GRU (chapter 11). "reference": any cell's loop, calling the cell at each
            # step, differentiated by autograd. "loop", "auto": companion.fast.torch_gated
            # (BPTT by hand); the TF 1.x GRU (reset_after=False) runs the autograd loop with
            # every step's input term computed in one product.
            X_tm = X if time_major else X.transpose(0, 1)
            if backend == "reference" or isinstance(cell, MultiRNNCell):
                ys, state = _cell_loop(cell, X_tm, cell, h0, lengths)
            elif isinstance(cell, LSTMCell):
                outputs, c, h = torch_gated.lstm_dynamic_rnn(
                    X_tm, h0.c, h0.h, lengths, cell.Wx, cell.Wy, cell.b
                )
                ys, state = None, LSTMState(c, h)
            elif cell.reset_after:
                weights = (cell.Wx, cell.Wy, cell.bx, cell.by)
                outputs, state = torch_gated.gru_dynamic_rnn(X_tm, h0, lengths, *weights)
                ys = None
            else:
                ys, state = _cell_loop(cell, cell.input_term(X_tm), cell.step, h0, lengths)
            if ys is not None:
                outputs = torch.stack(ys) if ys else X_tm.new_zeros(0, batch, cell.n_neurons)
            return (outputs if time_major else outputs.transpose(0, 1)), state
        if backend != "reference":
            weights = (cell.Wx, cell.Wy, cell.b, cell.nonlinearity)
            return packed_dynamic_rnn(X, h0, lengths, *weights, time_major, backend == "cudnn")

        # The reference loop, time-major inside: step t is X_tm[t], [batch, n_inputs].
        X_tm = X if time_major else X.transpose(0, 1)
        xw = X_tm @ cell.Wx + cell.b  # [n_steps, batch, n_neurons]: x_t @ Wx + b of every step
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=cell.device)
        h, outputs = h0, []
        for t in range(n_steps):
            h_new = cell.phi(xw[t] + h @ cell.Wy)  # the recurrent term is the only serial work
            if lengths is not None:
                running = (t < lengths)[:, None]  # [batch, 1]: the instances not yet ended
                h_new = torch.where(running, h_new, 0.0)  # past the end: exactly 0
                h = torch.where(running, h_new, h)  # past the end: the state is carried
            else:
                h = h_new
            outputs.append(h_new)
        # (With no step, xw is already the empty [0, batch, n_neurons]; and the state must
        # not be the caller's own initial_state tensor.)
        outputs = torch.stack(outputs) if n_steps else xw
        state = h if n_steps else h0.clone()
    return (outputs if time_major else outputs.transpose(0, 1)), state
