"""The fast PyTorch path of :func:`companion.torch_rnn.dynamic_rnn`: packed rows, BPTT by hand.

Taught in chapter 7 (packing) and chapter 9 (back-propagation through time);
the reference it must agree with is the autograd loop of
``companion.torch_rnn.dynamic_rnn(..., backend="reference")`` (chapter 6).

Forward, as :mod:`companion.fast.numpy_packed`: pack the valid ``(t, i)`` pairs
step by step with the instances sorted by length (:mod:`companion.fast.packing`),
run :class:`Recurrence` on the packed rows, gather them into padded outputs
(:class:`Unpack`; padding positions read a row of zeros). Backward: every
gradient is written out by hand in :meth:`Recurrence.backward` (equations
below), so autograd records three nodes for the whole sequence instead of a
few per step. With ``fused``, cuDNN's kernel (:mod:`companion.fast.cudnn`)
replaces :class:`Recurrence` and its own backward is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from companion.fast import cudnn
from companion.fast.packing import PackingPlan, packing_plan

__all__ = ["Recurrence", "Unpack", "packed_dynamic_rnn"]


def packed_dynamic_rnn(
    X: torch.Tensor,
    h0: torch.Tensor,
    lengths: np.ndarray | None,
    Wx: torch.Tensor,
    Wy: torch.Tensor,
    b: torch.Tensor,
    nonlinearity: str,
    time_major: bool,
    fused: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``dynamic_rnn`` on packed rows: validated arguments in, ``(outputs, state)`` out.

    Differentiable with respect to ``X``, ``h0``, ``Wx``, ``Wy`` and ``b``. Same
    results as the reference loop to float rounding; exact zeros past each length.

    Parameters
    ----------
    X : [batch, n_steps, n_inputs] ([n_steps, batch, n_inputs] if ``time_major``)
    h0 : [batch, n_neurons], the initial state
    lengths : int64 NumPy [batch] with ``0 <= lengths[i] <= n_steps``, or None (full
        length). On the host: it decides how many steps run.
    Wx : [n_inputs, n_neurons]
    Wy : [n_neurons, n_neurons]
    b : [n_neurons]
    nonlinearity : {"tanh", "relu"}
    time_major : bool
    fused : bool
        Run the recurrence in cuDNN's fused kernel (:func:`companion.fast.cudnn.fused_recurrence`).

    Returns
    -------
    outputs : [batch, n_steps, n_neurons] ([n_steps, batch, n_neurons] if ``time_major``)
        At full length, batch-major outputs are a transposed view of time-major
        memory, as ``torch.nn.RNN(batch_first=True)`` returns them.
    state : [batch, n_neurons]
    """
    n_steps, batch = X.shape[:2] if time_major else X.shape[1::-1]
    n_inputs, n_neurons, device = Wx.shape[0], Wx.shape[1], Wx.device
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
        H = cudnn.fused_recurrence(X_packed, h0_sorted, Wx, Wy, b, sizes, nonlinearity)
        if not full:
            H = torch.cat([H, H.new_zeros(1, n_neurons)])  # the row of zeros Unpack reads
    else:
        # The packed rows [sum(lengths), n_neurons], and with padding one row of zeros.
        H = Recurrence.apply(X_packed, h0_sorted, Wx, Wy, b, plan, nonlinearity, not full)

    if full:
        outputs_tm = H.view(n_steps, batch, n_neurons)
        outputs = outputs_tm if time_major else outputs_tm.transpose(0, 1)
        state = outputs_tm[-1].clone() if n_steps else h0.clone()
    else:
        padded = Unpack.apply(H, rows, index)
        outputs = padded.view(*X.shape[:2], n_neurons)
        state = h0.index_copy(0, instances, H.index_select(0, last))
    return outputs, state


def _index(rows: np.ndarray, device: torch.device) -> torch.Tensor:
    """An int64 index computed by :mod:`companion.fast.packing`, on ``device``."""
    return torch.from_numpy(rows).to(device)


class Unpack(torch.autograd.Function):
    """Packed rows -> zero-padded rows with one gather; the gradient goes back with another.

    Inputs: ``H`` [n_packed + 1, n] (the packed rows, then a row of zeros),
    ``rows`` int64 [n_packed] (:meth:`PackingPlan.packed_rows`), ``index`` int64
    [batch * n_steps] (:meth:`PackingPlan.unpacked_rows`).
    Output: ``padded = H[index]`` [batch * n_steps, n]; every padding position
    reads the row of zeros, so no separate zero fill is needed.

    Backward: ``dH[:-1] = dpadded[rows]`` -- a gather again, where autograd's own
    rule for ``index_select`` would scatter-add every padding gradient into the
    zero row -- and ``dH[-1] = 0``, the row of zeros being a constant.
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
        dH[-1] = 0
        return dH, None, None


def _phi_(z: torch.Tensor, nonlinearity: str) -> None:
    """``z = phi(z)`` in place."""
    if nonlinearity == "tanh":
        torch.tanh(z, out=z)
    else:
        torch.relu_(z)


class Recurrence(torch.autograd.Function):
    """``h_t = phi(x_t @ Wx + b + h_{t-1} @ Wy)`` over packed rows, with BPTT by hand.

    Inputs: ``X_packed`` [sum(sizes), n_inputs] -- with ``sizes = plan.active``,
    ``sizes[0]`` rows of step 0, then ``sizes[1]`` rows of step 1, ...; the
    instances running at step ``t`` are the first ``sizes[t]`` of the sorted
    batch (:meth:`PackingPlan.packed_rows`) --; ``h0`` [batch, n_neurons] (sorted);
    ``Wx``, ``Wy``, ``b``; ``plan``; ``nonlinearity``; ``zero_row`` (bool).

    Output: ``H`` [sum(sizes), n_neurons], ``h_t`` of every packed row, and with
    ``zero_row`` one more row of zeros, which :class:`Unpack` reads for every
    padding position.

    Backward (back-propagation through time), with ``z_t`` the argument of ``phi`` and ``dh_t`` the
    gradient arriving at ``h_t`` from the outputs, from the last step back::

        dz_t      = (dh_t + dz_{t+1} @ Wy.T) * phi'(z_t)   phi'(z_t) = 1 - h_t^2 (tanh)
        dX        = dZ @ Wx.T                               (every packed row at once)
        dWx       = X_packed.T @ dZ
        dWy       = sum_t h_{t-1}.T @ dz_t                  (one GEMM over all rows)
        db        = dZ.sum(0)
        dh0       = dz_0 @ Wy.T

    Why a custom ``autograd.Function`` rather than letting autograd record every
    operation of the loop: autograd would save ``h_{t-1}``, ``h_t`` and ``Wy`` at
    every step, and its backward would compute ``dL/dWy`` as ``n_steps`` small
    products. BPTT only needs the inputs and the states ``h_t``, and the weight
    gradients of all steps are each *one* GEMM over all packed rows.
    ``save_for_backward`` goes through saved-tensor hooks, so ``swap_memory``
    (``save_on_cpu``) and checkpointing keep working.
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
        # turned, step by step from the last, into dL/dz_t.
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
