"""The basic recurrent layer in PyTorch: same names and results as :mod:`companion.numpy_rnn`.

One step (equation 14-2, chapter 1)::

    h_t = phi(x_t @ Wx + h_prev @ Wy + b)

``x_t`` [batch, n_inputs], ``h_prev``/``h_t`` [batch, n_neurons], ``Wx``
[n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons].

Everything runs on the device and in the dtype of the cell's parameters and is
differentiable with autograd (to ``X``, ``initial_state`` and the weights).
Data is never moved between devices behind the caller's back: a tensor on
another device than the cell is an error. NumPy arrays and lists are accepted
and created on the cell's device. Only ``sequence_length``, which decides how
many steps run, is read on the host (as ``pack_padded_sequence`` also does).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from companion import validation as v
from companion.numpy_rnn import init_weights
from companion.packing import PackingPlan, packing_plan
from companion.torch_interop import torch_rnn_from_weights, weights_from_torch_rnn

__all__ = ["BasicRNNCell", "dynamic_rnn", "static_rnn"]

_FLOAT_DTYPES = {torch.float32: torch.float32, torch.float64: torch.float64}


def _float_dtype(dtype: Any) -> torch.dtype:
    if isinstance(dtype, torch.dtype) and dtype in _FLOAT_DTYPES:
        return dtype
    if not isinstance(dtype, torch.dtype):
        with contextlib.suppress(TypeError):
            np_dtype = np.dtype(dtype)
            if np_dtype == np.float32:
                return torch.float32
            if np_dtype == np.float64:
                return torch.float64
    raise TypeError(f"dtype must be torch.float32 or torch.float64; got {dtype!r}")


def _kind(value: torch.Tensor | np.ndarray) -> str:
    """The NumPy dtype kind letter (``i``, ``u``, ``f``, ``b``, ``c``) of an array or tensor."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind
    if value.dtype == torch.bool:
        return "b"
    if value.is_complex():
        return "c"
    return "f" if value.is_floating_point() else "i"


def _as_tensor(name: str, value: Any, cell: BasicRNNCell) -> torch.Tensor:
    """Tensor of the cell's dtype on the cell's device; integers are accepted."""
    if isinstance(value, torch.Tensor):
        v.check_numeric_kind(name, _kind(value), value.dtype)
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

    ``h_t = phi(x_t @ Wx + h_prev @ Wy + b)`` (equation 14-2, chapter 1).

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
        self._set(*weights, nonlinearity, _float_dtype(dtype), device)

    def _set(
        self, Wx: Any, Wy: Any, b: Any, nonlinearity: str, dtype: torch.dtype, device: Any
    ) -> None:
        self.nonlinearity = v.check_nonlinearity(nonlinearity)
        tensors = {}
        for name, value in (("Wx", Wx), ("Wy", Wy), ("b", b)):
            tensor = value.detach() if isinstance(value, torch.Tensor) else np.asarray(value)
            v.check_numeric_kind(name, _kind(tensor), tensor.dtype)
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
        cell._set(Wx, Wy, b, nonlinearity, _float_dtype(dtype), device)
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
        if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 0:
            raise ValueError(f"batch must be an int >= 0; got {batch!r}")
        return torch.zeros(int(batch), self.n_neurons, dtype=self.dtype, device=self.device)

    def forward(self, x_t: Any, h_prev: Any = None) -> torch.Tensor:
        """One time step: ``x_t`` [batch, n_inputs], ``h_prev`` [batch, n_neurons] or None
        (zeros) → ``h_t`` [batch, n_neurons]."""
        x_t = _as_tensor("x_t", x_t, self)
        v.check_step_input("x_t", v.shape_of(x_t), self.n_inputs)
        if h_prev is None:
            return self.phi(x_t @ self.Wx + self.b)
        h_prev = _as_tensor("h_prev", h_prev, self)
        v.check_state("h_prev", v.shape_of(h_prev), x_t.shape[0], self.n_neurons)
        return self.phi(x_t @ self.Wx + h_prev @ self.Wy + self.b)

    def extra_repr(self) -> str:
        return (
            f"n_inputs={self.n_inputs}, n_neurons={self.n_neurons}, "
            f"nonlinearity={self.nonlinearity!r}"
        )


def _check_cell(cell: Any) -> None:
    if not isinstance(cell, BasicRNNCell):
        raise TypeError(
            f"cell must be a companion.torch_rnn.BasicRNNCell; got {type(cell).__name__}"
        )


def _initial_state(cell: BasicRNNCell, initial_state: Any, batch: int) -> torch.Tensor:
    if initial_state is None:
        return cell.zero_state(batch)
    state = _as_tensor("initial_state", initial_state, cell)
    v.check_state("initial_state", v.shape_of(state), batch, cell.n_neurons)
    return state


def _lengths(sequence_length: Any, batch: int, n_steps: int) -> np.ndarray | None:
    if sequence_length is None:
        return None
    if isinstance(sequence_length, torch.Tensor):
        kind = _kind(sequence_length)
        sequence_length = sequence_length.detach().cpu().numpy()
    else:
        sequence_length = np.asarray(sequence_length)
        kind = sequence_length.dtype.kind
    return v.check_sequence_length(sequence_length, kind, batch, n_steps)


def _batch_without_steps(initial_state: Any, sequence_length: Any) -> int:
    """With no time steps the batch size can only come from the other arguments."""
    for value in (initial_state, sequence_length):
        if value is not None and np.ndim(value) >= 1:
            return int(value.shape[0]) if isinstance(value, torch.Tensor) else len(value)
    return 0


def static_rnn(
    cell: BasicRNNCell,
    inputs: Sequence[Any],
    initial_state: Any = None,
    sequence_length: Any = None,
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Unroll ``cell`` over a Python list of per-step inputs: one cell call per step.

    Taught in chapter 5 (静态展开); semantics as :func:`companion.numpy_rnn.static_rnn`.

    Parameters
    ----------
    cell : BasicRNNCell
    inputs : list of n_steps tensors [batch, n_inputs]
    initial_state : [batch, n_neurons] or None (zeros)
    sequence_length : int [batch] or None

    Returns
    -------
    outputs : list of n_steps tensors [batch, n_neurons] (exactly 0 past each length)
    state : [batch, n_neurons], the state after each instance's last valid step
    """
    _check_cell(cell)
    v.check_input_list(inputs)
    xs = [_as_tensor(f"inputs[{t}]", x, cell) for t, x in enumerate(inputs)]
    for t, x in enumerate(xs):
        v.check_step_input(f"inputs[{t}]", v.shape_of(x), cell.n_inputs)
    v.check_same_step_shapes([v.shape_of(x) for x in xs])
    batch = xs[0].shape[0] if xs else _batch_without_steps(initial_state, sequence_length)
    state = _initial_state(cell, initial_state, batch)
    lengths = _lengths(sequence_length, batch, len(xs))
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


def dynamic_rnn(
    cell: BasicRNNCell,
    X: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    time_major: bool = False,
    swap_memory: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``cell`` over a whole ``[batch, n_steps, n_inputs]`` tensor with a loop.

    Taught in chapter 6 (动态展开) and chapter 7 (``sequence_length``); semantics
    as :func:`companion.numpy_rnn.dynamic_rnn`: for ``t >= sequence_length[i]``
    the output is exactly 0 and the state is carried unchanged.

    Parameters
    ----------
    cell : BasicRNNCell
    X : [batch, n_steps, n_inputs] ([n_steps, batch, n_inputs] if ``time_major``)
    sequence_length : int [batch] (tensor, array or list) or None
    initial_state : [batch, n_neurons] or None (zeros)
    time_major : bool
    swap_memory : bool
        Keep the tensors saved for the backward pass in CPU memory
        (``torch.autograd.graph.save_on_cpu``, pinned on CUDA) instead of on the
        device -- PyTorch's counterpart of TensorFlow's ``swap_memory``.

    Returns
    -------
    outputs : [batch, n_steps, n_neurons] ([n_steps, batch, n_neurons] if ``time_major``)
    state : [batch, n_neurons]
    """
    _check_cell(cell)
    X = _as_tensor("X", X, cell)
    v.check_sequence_input(v.shape_of(X), cell.n_inputs, time_major)
    X_tm = X if time_major else X.transpose(0, 1)
    n_steps, batch = X_tm.shape[:2]
    h0 = _initial_state(cell, initial_state, batch)
    lengths = _lengths(sequence_length, batch, n_steps)
    if lengths is None:
        lengths = np.full(batch, n_steps, dtype=np.int64)
    plan = packing_plan(lengths)

    saving = (
        torch.autograd.graph.save_on_cpu(pin_memory=cell.device.type == "cuda")
        if swap_memory
        else contextlib.nullcontext()
    )
    with saving:
        outputs_tm, state = _run_sorted(cell, X_tm, h0, plan)
    return (outputs_tm if time_major else outputs_tm.transpose(0, 1)), state


def _run_sorted(
    cell: BasicRNNCell, X_tm: torch.Tensor, h0: torch.Tensor, plan: PackingPlan
) -> tuple[torch.Tensor, torch.Tensor]:
    """The loop of :func:`dynamic_rnn` on a batch sorted by length (time-major)."""
    n_steps, batch = X_tm.shape[:2]
    n_neurons = cell.n_neurons
    if plan.is_identity:
        X_sorted, h = X_tm[: plan.n_run], h0
    else:
        order = torch.as_tensor(plan.order, device=cell.device)
        X_sorted, h = X_tm[: plan.n_run].index_select(1, order), h0.index_select(0, order)

    steps = []
    if plan.n_run:
        sizes = plan.active.tolist()
        full = sizes[-1] == batch
        # The input product of every valid step in one GEMM, hoisted out of the loop.
        if full:
            packed = X_sorted.reshape(plan.n_run * batch, cell.n_inputs)
        else:
            packed = torch.cat([X_sorted[t, :k] for t, k in enumerate(sizes)])
        XW = torch.addmm(cell.b, packed, cell.Wx).split(sizes)
        for t, k in enumerate(sizes):
            if k == batch:
                h = cell.phi(torch.addmm(XW[t], h, cell.Wy))
                steps.append(h)
            else:
                h_run = cell.phi(torch.addmm(XW[t], h[:k], cell.Wy))
                steps.append(torch.cat([h_run, h_run.new_zeros(batch - k, n_neurons)]))
                h = torch.cat([h_run, h[k:]])  # finished rows keep their state
    if plan.n_run < n_steps:
        steps.extend(X_tm.new_zeros(batch, n_neurons).expand(n_steps - plan.n_run, -1, -1))
    outputs = torch.stack(steps) if steps else X_tm.new_zeros(0, batch, n_neurons)
    if not plan.is_identity:
        inverse = torch.as_tensor(plan.inverse, device=cell.device)
        outputs, h = outputs.index_select(1, inverse), h.index_select(0, inverse)
    return outputs, h
