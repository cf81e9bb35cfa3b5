"""The basic recurrent layer in PyTorch: same names and results as :mod:`companion.numpy_rnn`.

One step (equation (1.2), chapter 1)::

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
from torch.autograd.function import once_differentiable

from companion import cuda_path
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
    backend: str = "loop",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``cell`` over a whole ``[batch, n_steps, n_inputs]`` tensor with a loop.

    Taught in chapter 6 (动态展开) and chapter 7 (``sequence_length``); semantics
    as :func:`companion.numpy_rnn.dynamic_rnn`: for ``t >= sequence_length[i]``
    the output is exactly 0 and the state is carried unchanged. As there, the
    input product ``X @ Wx + b`` is one GEMM hoisted out of the loop and only the
    instances still running are computed at each step; the backward pass is
    back-propagation through time written out by hand (chapter 9), see
    :class:`_Recurrence`.

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
    backend : {"loop", "cudnn", "auto"}
        ``"loop"`` (default): the loop above, on any device. ``"cudnn"``: the whole
        recurrence in one fused cuDNN call (the cell must be on a CUDA device);
        ``"auto"``: cuDNN where available, else the loop. Same semantics; results
        equal to float rounding. See :mod:`companion.cuda_path` (appendix 性能).

    Returns
    -------
    outputs : [batch, n_steps, n_neurons] ([n_steps, batch, n_neurons] if ``time_major``)
        Without ``sequence_length``, batch-major outputs are a transposed view of
        time-major memory, as ``torch.nn.RNN(batch_first=True)`` returns them.
    state : [batch, n_neurons]
    """
    _check_cell(cell)
    backend = cuda_path.resolve_backend(backend, cell.device)
    X = _as_tensor("X", X, cell)
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
        return _run(cell, X, h0, lengths, time_major, fused=backend == "cudnn")


def _run(
    cell: BasicRNNCell,
    X: torch.Tensor,
    h0: torch.Tensor,
    lengths: np.ndarray | None,
    time_major: bool,
    fused: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The body of :func:`dynamic_rnn`: validated arguments in, ``(outputs, state)`` out.

    As :func:`companion.numpy_rnn._run`: pack the valid ``(t, i)`` pairs step by
    step with the instances sorted by length (:mod:`companion.packing`), run
    :class:`_Recurrence` on the packed rows, gather them into padded outputs
    (:class:`_Unpack`; padding positions read a row of zeros). The gathers are
    differentiable, so autograd routes the gradients of the padded outputs and
    of the state to the packed rows, and those of the packed inputs back to
    ``X``. With ``fused``, cuDNN's kernel replaces :class:`_Recurrence`
    (:mod:`companion.cuda_path`).
    """
    n_steps, batch = X.shape[:2] if time_major else X.shape[1::-1]
    n_inputs, n_neurons, device = cell.n_inputs, cell.n_neurons, cell.device
    full = lengths is None or bool(np.all(lengths == n_steps))
    plan = packing_plan(np.full(batch, n_steps) if full else lengths)

    if full:
        # Without padding the time-major tensor is already the packed layout.
        X_tm = X if time_major else X.transpose(0, 1)
        X_packed = X_tm.reshape(n_steps * batch, n_inputs)  # a copy only if batch-major
        h0_sorted = h0
    else:
        # Every index the call needs, computed on the host from the plan up front.
        rows = _index(plan.packed_rows(n_steps, time_major), device)
        index = _index(plan.unpacked_rows(n_steps, time_major), device)
        instances, last = (_index(a, device) for a in plan.last_rows())
        X_packed = X.reshape(-1, n_inputs).index_select(0, rows)
        h0_sorted = h0.index_select(0, _index(plan.order, device))

    if fused and plan.n_run:  # (with no step to run, the loop below is free anyway)
        sizes = plan.active.tolist()  # running instances per step
        H = cuda_path.fused_recurrence(
            X_packed, h0_sorted, cell.Wx, cell.Wy, cell.b, sizes, cell.nonlinearity
        )
        if not full:
            H = torch.cat([H, H.new_zeros(1, n_neurons)])  # the row of zeros _Unpack reads
    else:
        # The packed rows [sum(lengths), n_neurons], and with padding one row of zeros.
        H = _Recurrence.apply(
            X_packed, h0_sorted, cell.Wx, cell.Wy, cell.b, plan, cell.nonlinearity, not full
        )

    if full:
        outputs_tm = H.view(n_steps, batch, n_neurons)
        outputs = outputs_tm if time_major else outputs_tm.transpose(0, 1)
        state = outputs_tm[-1].clone() if n_steps else h0.clone()
    else:
        padded = _Unpack.apply(H, rows, index)
        outputs = padded.view(*X.shape[:2], n_neurons)
        state = h0.index_copy(0, instances, H.index_select(0, last))
    return outputs, state


def _index(rows: np.ndarray, device: torch.device) -> torch.Tensor:
    """An int64 index computed by :mod:`companion.packing`, on ``device``."""
    return torch.from_numpy(rows).to(device)


class _Unpack(torch.autograd.Function):
    """Packed rows -> zero-padded rows with one gather; the gradient goes back with another.

    ``H`` [n_packed + 1, n]: the packed rows, then a row of zeros. Forward:
    ``padded = H[index]`` (``index`` from :meth:`PackingPlan.unpacked_rows`: every
    padding position reads the row of zeros, so no separate zero fill is needed).
    Backward: the packed rows' gradient is ``dpadded[rows]`` (``rows`` from
    :meth:`PackingPlan.packed_rows`) -- a gather again, where autograd's own rule
    for ``index_select`` would scatter-add every padding gradient into the zero row.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, H: torch.Tensor, rows: torch.Tensor, index: torch.Tensor
    ) -> torch.Tensor:
        ctx.save_for_backward(rows)
        return H.index_select(0, index)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, dpadded: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (rows,) = ctx.saved_tensors
        dH = dpadded.new_empty(len(rows) + 1, dpadded.shape[1])
        torch.index_select(dpadded, 0, rows, out=dH[:-1])
        dH[-1] = 0  # the row of zeros is a constant
        return dH, None, None


def _phi_(z: torch.Tensor, nonlinearity: str) -> None:
    """``z = phi(z)`` in place."""
    if nonlinearity == "tanh":
        torch.tanh(z, out=z)
    else:
        torch.relu_(z)


class _Recurrence(torch.autograd.Function):
    """``h_t = phi(x_t @ Wx + b + h_{t-1} @ Wy)`` over packed rows, with BPTT by hand.

    Rows are packed as in :func:`companion.packing.PackingPlan.packed_rows`: with
    ``sizes = plan.active``, ``sizes[0]`` rows of step 0, then ``sizes[1]`` rows of
    step 1, ...; the instances running at step ``t`` are the first ``sizes[t]`` of
    the sorted batch.
    With ``zero_row`` the result has one more row, of zeros, which
    :class:`_Unpack` reads for every padding position: [sum(sizes) + 1, n_neurons]
    (else [sum(sizes), n_neurons]).

    Why a custom ``autograd.Function`` rather than letting autograd record every
    operation of the loop: autograd would save ``h_{t-1}``, ``h_t`` and ``Wy`` at
    every step, and its backward would compute ``dL/dWy`` as ``n_steps`` small
    products. Back-propagation through time (chapter 9) only needs the inputs and
    the states ``h_t``, and the weight gradients of all steps are each *one* GEMM
    over all packed rows. ``save_for_backward`` goes through saved-tensor hooks,
    so ``swap_memory`` (``save_on_cpu``) and checkpointing keep working.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        X_packed: torch.Tensor,
        h0: torch.Tensor,
        Wx: torch.Tensor,
        Wy: torch.Tensor,
        b: torch.Tensor,
        plan: PackingPlan,
        nonlinearity: str,
        zero_row: bool,
    ) -> torch.Tensor:
        n_packed = X_packed.shape[0]
        # x_t @ Wx + b does not depend on h: one GEMM for every step at once. The
        # result is also the output buffer: each step overwrites its rows (which hold
        # x_t @ Wx + b) with h_t.
        if zero_row:
            H = X_packed.new_empty(n_packed + 1, Wy.shape[0])
            H[n_packed] = 0
            torch.addmm(b, X_packed, Wx, out=H[:n_packed])
        else:
            H = torch.addmm(b, X_packed, Wx)
        sizes = plan.active.tolist()  # running instances per step
        h, start = h0, 0
        for k in sizes:
            h_t = H[start : start + k]  # a view: this step's rows
            start += k
            h_t.addmm_(h[:k], Wy)  # += h_{t-1} @ Wy: the GEMM accumulates in place (beta = 1)
            _phi_(h_t, nonlinearity)
            h = h_t  # the still-running instances are a prefix of this step's rows
        ctx.save_for_backward(X_packed, h0, Wx, Wy, H[:n_packed] if zero_row else H)
        ctx.plan, ctx.sizes, ctx.nonlinearity = plan, sizes, nonlinearity
        return H

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, dH: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        X_packed, h0, Wx, Wy, H = ctx.saved_tensors
        sizes = ctx.sizes
        n_packed = X_packed.shape[0]
        # phi'(z_t) from h_t = phi(z_t) alone: 1 - h^2 for tanh, [h > 0] for ReLU.
        dphi = 1 - H * H if ctx.nonlinearity == "tanh" else (H > 0).to(H.dtype)
        # dZ starts as dL/dh_t coming from the outputs (and the final state) and is
        # turned, step by step from the last, into dL/dz_t (z_t = argument of phi).
        # (The gradient reaching the row of zeros goes nowhere: that row is a constant.)
        dZ = dH[:n_packed].clone(memory_format=torch.contiguous_format)  # ours to overwrite
        WyT = Wy.T
        dz, dphi = dZ.split(sizes), dphi.split(sizes)  # views, step by step
        for t in reversed(range(len(sizes))):
            dz[t].mul_(dphi[t])  # dL/dz_t = dL/dh_t * phi'(z_t)
            if t > 0:
                # h_{t-1} of the instances running at t: the first rows of step t-1.
                dz[t - 1][: sizes[t]].addmm_(dz[t], WyT)  # dL/dh_{t-1} += dL/dz_t @ Wy.T
        # Everything below is one GEMM (or a sum) over all packed rows at once.
        k0 = sizes[0] if sizes else 0
        dX = dh0 = dWx = dWy = db = None
        needs = ctx.needs_input_grad
        if needs[0]:
            dX = dZ @ Wx.T
        if needs[1]:
            dh0 = torch.zeros_like(h0)
            dh0[:k0] = dZ[:k0] @ WyT
        if needs[2]:
            dWx = X_packed.T @ dZ
        if needs[3]:
            # dL/dWy = sum over rows of h_{t-1}^T dL/dz_t; h_{-1} is the initial state.
            if not sizes or sizes[-1] == k0:  # (sizes never increase: all equal)
                H_prev = H[: n_packed - k0]  # h_{t-1} is simply the block before
            else:
                H_prev = H.index_select(0, _index(ctx.plan.previous_rows(), H.device))
            dWy = torch.addmm(h0[:k0].T @ dZ[:k0], H_prev.T, dZ[k0:])
        if needs[4]:
            db = dZ.sum(0)
        return dX, dh0, dWx, dWy, db, None, None, None
