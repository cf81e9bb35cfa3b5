"""The fast PyTorch path of ``dynamic_rnn`` for LSTM and GRU cells: BPTT written by hand.

Chapter 11 (LSTM 与 GRU) teaches the cells; chapter 9 (训练 RNN：随时间反向传播)
back-propagation through time. The reference this must agree with is the autograd
loop of ``companion.torch_rnn.dynamic_rnn(..., backend="reference")``, which calls
the cell of :mod:`companion.cells.torch_cells` at every step.

The cells' equations, row-vector convention (``x_t`` [batch, n_inputs], states
[batch, n], ``n = n_neurons``)::

    LSTM  z_t = x_t @ Wx + b + h_{t-1} @ Wy          [batch, 4n], blocks i, f, g, o
          i, f, o = σ(z_i), σ(z_f), σ(z_o);   g = tanh(z_g)
          c_t = f ⊙ c_{t-1} + i ⊙ g;          h_t = o ⊙ tanh(c_t)
    GRU   a_t = x_t @ Wx + bx                         [batch, 3n], blocks r, z, n
          u_t = h_{t-1} @ Wy + by                     [batch, 3n]
          r = σ(a_r + u_r);   z = σ(a_z + u_z);   n = tanh(a_n + r ⊙ u_n)
          h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}            (nn.GRU: reset_after=True)

:class:`LSTMRecurrence` and :class:`GRURecurrence` are ``autograd.Function`` s for
the whole sequence, their backward pass written out by hand:

* the input term ``x_t @ Wx + b`` of every step is one GEMM before the loop, and
  its gradients (``dX``, ``dWx``, ``db``) one GEMM or one sum each after it;
* per step, only what must wait for the previous step: the product with ``Wy``
  (accumulated in place into the input term's buffer) and the gates;
* the gate activations of the forward pass are kept, so the backward pass
  recomputes nothing, and ``dWy`` is *one* GEMM over all steps where autograd
  would take one small product per step;
* buffers for whole sequences, allocated once per call and written in place; per
  step, as few calls as possible (each costs microseconds at these sizes).

``sequence_length`` (TensorFlow 1.x semantics, as the reference): every instance
runs every step -- the work is ``batch * n_steps`` rows, nothing is packed -- and
afterwards its outputs past its length are set to exactly 0 and its final state
is the state after its last valid step (the initial state for length 0). In the
backward pass the gradient of a zeroed output is 0 and the final state's
gradient enters at the last valid step, so the steps past the length get none.

Double backward is not supported: the backward passes work in place and are
``once_differentiable`` (differentiating them raises a RuntimeError).
``GRUCell(reset_after=False)`` is not run here (``dynamic_rnn`` uses its autograd
loop for it).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from torch.autograd.function import once_differentiable

__all__ = ["GRURecurrence", "LSTMRecurrence", "Lengths", "gru_dynamic_rnn", "lstm_dynamic_rnn"]


class Lengths(NamedTuple):
    """``sequence_length`` as the masks the recurrences use, all on the data's device.

    ``valid`` bool [n_steps, batch, 1]: ``t < length[i]``; ``last`` bool [n_steps,
    batch, 1]: ``t == length[i] - 1``; ``empty`` bool [batch, 1]: ``length[i] == 0``;
    ``last_step`` int64 [batch]: ``max(length[i] - 1, 0)``.
    """

    valid: torch.Tensor
    last: torch.Tensor
    empty: torch.Tensor
    last_step: torch.Tensor

    @classmethod
    def of(cls, lengths: np.ndarray, n_steps: int, device: torch.device) -> Lengths:
        lengths_t = torch.as_tensor(lengths, device=device)
        steps = torch.arange(n_steps, device=device)[:, None, None]
        per_instance = lengths_t[None, :, None]
        return cls(
            valid=steps < per_instance,
            last=steps == per_instance - 1,
            empty=(lengths_t == 0)[:, None],
            last_step=(lengths_t - 1).clamp(min=0),
        )

    def final(self, states: torch.Tensor, initial: torch.Tensor) -> torch.Tensor:
        """The state after each instance's last valid step: [batch, n] from ``states``
        [n_steps, batch, n], or ``initial`` [batch, n] where the length is 0."""
        batch = states.shape[1]
        taken = states[self.last_step, torch.arange(batch, device=states.device)]
        return torch.where(self.empty, initial, taken)

    def inject(self, d_outputs: torch.Tensor, d_final: torch.Tensor) -> torch.Tensor:
        """``dL/dh_t`` from outside the loop, [n_steps, batch, n]: the outputs' gradient
        where the output was not zeroed, plus the final state's at each last valid step."""
        return torch.where(self.valid, d_outputs, 0.0) + torch.where(self.last, d_final, 0.0)


def _lengths(lengths: np.ndarray | None, n_steps: int, device: torch.device) -> Lengths | None:
    """None when every sequence is full length: the recurrences then skip every mask."""
    if lengths is None or bool(np.all(lengths == n_steps)):
        return None
    return Lengths.of(lengths, n_steps, device)


def lstm_dynamic_rnn(
    X_tm: torch.Tensor,
    c0: torch.Tensor,
    h0: torch.Tensor,
    lengths: np.ndarray | None,
    Wx: torch.Tensor,
    Wy: torch.Tensor,
    b: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """An LSTM over a time-major batch: validated arguments in, ``(outputs, c, h)`` out.

    Differentiable with respect to ``X_tm``, ``c0``, ``h0``, ``Wx``, ``Wy`` and ``b``.

    Parameters
    ----------
    X_tm : [n_steps, batch, n_inputs]
    c0, h0 : [batch, n], the initial state
    lengths : int NumPy [batch] with ``0 <= lengths[i] <= n_steps``, or None (full length)
    Wx : [n_inputs, 4n];  Wy : [n, 4n];  b : [4n] (blocks i, f, g, o)

    Returns
    -------
    outputs : [n_steps, batch, n], ``h_t``, exactly 0 past each length
    c, h : [batch, n], the state after each instance's last valid step
    """
    n_steps, batch = X_tm.shape[:2]
    if n_steps == 0:
        return X_tm.new_zeros(0, batch, Wy.shape[0]), c0, h0
    mask = _lengths(lengths, n_steps, X_tm.device)
    return LSTMRecurrence.apply(X_tm, c0, h0, Wx, Wy, b, mask)


def gru_dynamic_rnn(
    X_tm: torch.Tensor,
    h0: torch.Tensor,
    lengths: np.ndarray | None,
    Wx: torch.Tensor,
    Wy: torch.Tensor,
    bx: torch.Tensor,
    by: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A GRU (``reset_after=True``) over a time-major batch: ``(outputs, h)`` out.

    Differentiable with respect to ``X_tm``, ``h0``, ``Wx``, ``Wy``, ``bx`` and ``by``.

    Parameters
    ----------
    X_tm : [n_steps, batch, n_inputs]
    h0 : [batch, n], the initial state
    lengths : int NumPy [batch] with ``0 <= lengths[i] <= n_steps``, or None (full length)
    Wx : [n_inputs, 3n];  Wy : [n, 3n];  bx, by : [3n] (blocks r, z, n)

    Returns
    -------
    outputs : [n_steps, batch, n], ``h_t``, exactly 0 past each length
    h : [batch, n], the state after each instance's last valid step
    """
    n_steps, batch = X_tm.shape[:2]
    if n_steps == 0:
        return X_tm.new_zeros(0, batch, Wy.shape[0]), h0
    mask = _lengths(lengths, n_steps, X_tm.device)
    return GRURecurrence.apply(X_tm, h0, Wx, Wy, bx, by, mask)


def _input_gradients(
    dA: torch.Tensor, X2: torch.Tensor, Wx: torch.Tensor, needs: tuple[bool, bool, bool]
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """``dX``, ``dWx``, ``db`` of ``A = X @ Wx + b`` from ``dA`` [n_steps, batch, width],
    ``X2`` [n_steps * batch, n_inputs]: one GEMM or one sum each, over every step at
    once; None for each one ``needs`` (dX, dWx, db) says is not needed."""
    n_steps, batch, width = dA.shape
    dA2 = dA.view(n_steps * batch, width)
    dX = (dA2 @ Wx.T).view(n_steps, batch, -1) if needs[0] else None
    dWx = X2.T @ dA2 if needs[1] else None
    db = dA2.sum(0) if needs[2] else None
    return dX, dWx, db


def _recurrent_weight_gradient(h0: torch.Tensor, H: torch.Tensor, dZ: torch.Tensor) -> torch.Tensor:
    """``dL/dWy = sum_t h_{t-1}.T @ dz_t`` with ``h_{-1} = h0`` [batch, n], ``H`` [n_steps,
    batch, n] and ``dZ`` [n_steps, batch, width]: one GEMM over all steps,
    [n, n_steps * batch] @ [n_steps * batch, width] (past each length ``dz_t = 0``)."""
    n, width = H.shape[2], dZ.shape[2]
    return torch.addmm(h0.T @ dZ[0], H[:-1].reshape(-1, n).T, dZ[1:].reshape(-1, width))


def _steps(*sequences: torch.Tensor) -> Any:
    """``(s[t] for s in sequences)`` for every step ``t``: views made by one ``unbind`` per
    tensor, since an indexing call costs about as much as a small step's arithmetic."""
    return zip(*(s.unbind(0) for s in sequences), strict=True)


def _tanh(x: torch.Tensor, out: torch.Tensor, one: torch.Tensor) -> torch.Tensor:
    """``out = tanh(x)`` (``out`` may be ``x``), computed as ``2σ(2x) - 1``.

    The same function to about one rounding (1 float eps); but PyTorch's CPU ``tanh``
    takes several times as long as its ``sigmoid`` (64 x 128 float32: ~20-50 µs against
    ~5 µs), and the loops call it at every step. ``one`` is a 0-d tensor of ones: a
    Python number would be wrapped into a new tensor at each call.
    """
    torch.add(x, x, out=out).sigmoid_()
    return out.add_(out).sub_(one)


def _one_minus_square(x: torch.Tensor) -> torch.Tensor:
    """``1 - x²``, the derivative of tanh at ``tanh⁻¹(x)``: one new tensor, no temporaries."""
    out = torch.mul(x, x)
    return out.neg_().add_(1)


class LSTMRecurrence(torch.autograd.Function):
    """A whole LSTM sequence, with back-propagation through time by hand.

    Inputs: ``X_tm`` [n_steps, batch, n_inputs]; ``c0``, ``h0`` [batch, n]; ``Wx``
    [n_inputs, 4n]; ``Wy`` [n, 4n]; ``b`` [4n]; ``lengths`` (:class:`Lengths` or None).
    Outputs: ``H`` [n_steps, batch, n] (every ``h_t``, 0 past each length), and the
    final ``c``, ``h`` [batch, n].

    Backward, from the last step to the first, with ``dH_t`` the gradient arriving
    at ``h_t`` from the outputs (and the final state) and ``dc_T = dL/dc_final``::

        dh_t  = dH_t + dz_{t+1} @ Wy.T                        [batch, n]
        dc_t  = dc_{t+1} ⊙ f_{t+1} + dh_t ⊙ o ⊙ (1 - tanh²(c_t))
        dz_i  = dc_t ⊙ g ⊙ i(1 - i)        dz_f = dc_t ⊙ c_{t-1} ⊙ f(1 - f)
        dz_g  = dc_t ⊙ i ⊙ (1 - g²)        dz_o = dh_t ⊙ tanh(c_t) ⊙ o(1 - o)
        dh0   = dz_0 @ Wy.T;   dc0 = dc_0 ⊙ f_0
        dWy   = sum_t h_{t-1}.T @ dz_t     (one GEMM: [n, T*batch] @ [T*batch, 4n])
        dX    = dZ @ Wx.T;   dWx = X.T @ dZ;   db = sum dZ       (all steps at once)

    What multiplies ``dc_t`` (blocks i, f, g) and ``dh_t`` (block o) depends only on
    the forward pass: it is computed for all steps before the loop, in the buffer
    that the loop then turns into ``dZ`` [n_steps, batch, 4n], in place.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        X_tm: torch.Tensor,
        c0: torch.Tensor,
        h0: torch.Tensor,
        Wx: torch.Tensor,
        Wy: torch.Tensor,
        b: torch.Tensor,
        lengths: Lengths | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n_steps, batch, n_inputs = X_tm.shape
        n = Wy.shape[0]
        X2 = X_tm.reshape(n_steps * batch, n_inputs)
        # x_t @ Wx + b for every step in one GEMM. The buffer then becomes the gates:
        # each step adds h_{t-1} @ Wy in place, then applies the activations in place.
        gates = torch.addmm(b, X2, Wx).view(n_steps, batch, 4 * n)
        C = X_tm.new_empty(n_steps, batch, n)
        tanh_C = torch.empty_like(C)
        H = torch.empty_like(C)
        one = X_tm.new_ones(())
        c, h = c0, h0
        for z, i, f, g, o, c_t, tanh_c, h_t in _steps(gates, *gates.chunk(4, dim=2), C, tanh_C, H):
            z.addmm_(h, Wy)  # z_t = x_t @ Wx + b + h_{t-1} @ Wy
            # i, f, o = σ(z_i, z_f, z_o) and g = tanh(z_g) = 2σ(2 z_g) - 1 (see _tanh):
            # one sigmoid over the whole row.
            g.add_(g)
            z.sigmoid_()
            g.add_(g).sub_(one)
            torch.mul(f, c, out=c_t)
            c_t.addcmul_(i, g)  # c_t = f * c_{t-1} + i * g
            _tanh(c_t, tanh_c, one)
            torch.mul(o, tanh_c, out=h_t)  # h_t = o * tanh(c_t)
            c, h = c_t, h_t
        if lengths is None:
            c_final, h_final = C[-1].clone(), H[-1].clone()
        else:
            c_final, h_final = lengths.final(C, c0), lengths.final(H, h0)
            H.masked_fill_(~lengths.valid, 0.0)  # +0.0 exactly past each length
        ctx.save_for_backward(X2, Wx, Wy, gates, C, tanh_C, H, c0, h0)
        ctx.lengths = lengths
        return H, c_final, h_final

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any, dH: torch.Tensor, dc_final: torch.Tensor, dh_final: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        X2, Wx, Wy, gates, C, tanh_C, H, c0, h0 = ctx.saved_tensors
        lengths: Lengths | None = ctx.lengths
        i, f, g, o = gates.chunk(4, dim=2)

        # dz_t = [dc_t, dc_t, dc_t, dh_t] * dZ[t] once dZ holds these factors:
        dZ = torch.addcmul(gates, gates, gates, value=-1)  # σ' = s(1 - s): blocks i, f, o
        dz_i, dz_f, dz_g, dz_o = dZ.chunk(4, dim=2)
        dz_i.mul_(g)  # i(1 - i) g
        dz_f[0].mul_(c0)  # f(1 - f) c_{t-1}
        dz_f[1:].mul_(C[:-1])
        torch.mul(_one_minus_square(g), i, out=dz_g)  # (1 - g^2) i
        dz_o.mul_(tanh_C)  # o(1 - o) tanh(c_t)
        dh_to_dc = _one_minus_square(tanh_C).mul_(o)  # dc_t += dh_t * o * (1 - tanh^2 c_t)

        if lengths is None:
            dH_in, dC_in, dc = dH, None, dc_final.clone()
            dh_after = dh_final  # the gradient reaching h_{T-1} from beyond the loop
        else:
            dH_in = lengths.inject(dH, dh_final)
            dC_in = torch.where(lengths.last, dc_final, 0.0)
            dc, dh_after = torch.zeros_like(dc_final), torch.zeros_like(dh_final)
        WyT = Wy.T
        steps = _steps(dH_in, dZ, dz_i, dz_f, dz_g, dz_o, dh_to_dc, f)
        dz_next = None  # dz_{t+1}
        for t, (dH_t, dz, dz_i_t, dz_f_t, dz_g_t, dz_o_t, dh_to_dc_t, f_t) in reversed(
            list(enumerate(steps))
        ):
            if dz_next is None:
                dh = dH_t + dh_after
            else:
                dh = torch.addmm(dH_t, dz_next, WyT)  # dh_t = dH_t + dz_{t+1} @ Wy.T
            if dC_in is not None:
                dc += dC_in[t]
            dc.addcmul_(dh, dh_to_dc_t)
            dz_i_t.mul_(dc)
            dz_f_t.mul_(dc)
            dz_g_t.mul_(dc)
            dz_o_t.mul_(dh)
            dc.mul_(f_t)  # dc_{t-1} = dc_t * f_t (plus what h_{t-1} adds, next step)
            dz_next = dz

        dc0, dh0 = dc, dZ[0] @ WyT
        if lengths is not None:  # length 0: the final state is the initial state
            dc0 += torch.where(lengths.empty, dc_final, 0.0)
            dh0 += torch.where(lengths.empty, dh_final, 0.0)
        needs = ctx.needs_input_grad
        dWy = _recurrent_weight_gradient(h0, H, dZ) if needs[4] else None
        dX, dWx, db = _input_gradients(dZ, X2, Wx, (needs[0], needs[3], needs[5]))
        return dX, dc0, dh0, dWx, dWy, db, None


class GRURecurrence(torch.autograd.Function):
    """A whole GRU sequence (``reset_after=True``), with back-propagation through time by hand.

    Inputs: ``X_tm`` [n_steps, batch, n_inputs]; ``h0`` [batch, n]; ``Wx`` [n_inputs,
    3n]; ``Wy`` [n, 3n]; ``bx``, ``by`` [3n]; ``lengths`` (:class:`Lengths` or None).
    Outputs: ``H`` [n_steps, batch, n] (every ``h_t``, 0 past each length) and the
    final ``h`` [batch, n].

    Backward, from the last step to the first, with ``dH_t`` the gradient arriving at
    ``h_t`` from the outputs (and the final state); ``da`` is the gradient of
    ``a_t = x_t @ Wx + bx``, ``du`` that of ``u_t = h_{t-1} @ Wy + by``::

        dh_t  = dH_t + dh_{t+1} ⊙ z_{t+1} + du_{t+1} @ Wy.T        [batch, n]
        da_n  = dh_t ⊙ (1 - z) ⊙ (1 - n²)
        da_z  = dh_t ⊙ (h_{t-1} - n) ⊙ z(1 - z)
        da_r  = da_n ⊙ u_n ⊙ r(1 - r)
        du    = [da_r, da_z, da_n ⊙ r]                              [batch, 3n]
        dh0   = dh_0 ⊙ z_0 + du_0 @ Wy.T
        dWy   = sum_t h_{t-1}.T @ du_t   (one GEMM);   dby = sum du
        dX    = dA @ Wx.T;   dWx = X.T @ dA;   dbx = sum dA        (all steps at once)

    As for the LSTM, the factors multiplying ``dh_t`` come from the forward pass; they
    are computed for all steps before the loop, in the buffer that becomes ``dA``.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        X_tm: torch.Tensor,
        h0: torch.Tensor,
        Wx: torch.Tensor,
        Wy: torch.Tensor,
        bx: torch.Tensor,
        by: torch.Tensor,
        lengths: Lengths | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        n_steps, batch, n_inputs = X_tm.shape
        n = Wy.shape[0]
        X2 = X_tm.reshape(n_steps * batch, n_inputs)
        # a_t = x_t @ Wx + bx for every step in one GEMM; the buffer becomes the gates.
        gates = torch.addmm(bx, X2, Wx).view(n_steps, batch, 3 * n)
        U = torch.empty_like(gates)  # u_t = h_{t-1} @ Wy + by
        H = X_tm.new_empty(n_steps, batch, n)
        one = X_tm.new_ones(())
        h = h0
        for u, r_and_z, r, z, cand, h_t in _steps(
            U, gates[:, :, : 2 * n], *gates.chunk(3, dim=2), H
        ):
            torch.addmm(by, h, Wy, out=u)  # u_t = h_{t-1} @ Wy + by
            r_and_z.add_(u[:, : 2 * n]).sigmoid_()  # r, z = σ(a_r + u_r), σ(a_z + u_z)
            cand.addcmul_(r, u[:, 2 * n :])
            _tanh(cand, cand, one)  # n = tanh(a_n + r * u_n)
            torch.lerp(cand, h, z, out=h_t)  # h_t = n + z * (h_{t-1} - n)
            h = h_t
        if lengths is None:
            h_final = H[-1].clone()
        else:
            h_final = lengths.final(H, h0)
            H.masked_fill_(~lengths.valid, 0.0)  # +0.0 exactly past each length
        ctx.save_for_backward(X2, Wx, Wy, gates, U, H, h0)
        ctx.lengths = lengths
        return H, h_final

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any, dH: torch.Tensor, dh_final: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        X2, Wx, Wy, gates, U, H, h0 = ctx.saved_tensors
        lengths: Lengths | None = ctx.lengths
        n = h0.shape[1]
        r, z, cand = gates.chunk(3, dim=2)

        # da_t = [da_n, dh_t, dh_t] * dA[t] (blocks r, z, n) once dA holds these factors.
        # (Past each length H holds zeros, not h_{t-1}; no gradient reaches those steps.)
        dA = torch.empty_like(gates)
        da_r, da_z, da_n = dA.chunk(3, dim=2)
        torch.addcmul(r, r, r, value=-1, out=da_r).mul_(U[:, :, 2 * n :])  # r(1 - r) u_n
        torch.sub(H[:-1], cand[1:], out=da_z[1:])  # (h_{t-1} - n) z(1 - z)
        torch.sub(h0, cand[0], out=da_z[0])
        da_z.mul_(torch.addcmul(z, z, z, value=-1))
        torch.mul(_one_minus_square(cand), 1 - z, out=da_n)  # (1 - n^2)(1 - z)

        dH_in = dH if lengths is None else lengths.inject(dH, dh_final)
        dh = dH[-1] + dh_final if lengths is None else dH_in[-1]
        dU = torch.empty_like(gates)  # du_t = [da_r, da_z, da_n * r]
        WyT = Wy.T
        steps = _steps(dA, da_r, da_z, da_n, dU, r, z)
        dH_before = [None, *dH_in[:-1].unbind(0)]  # dH_{t-1}; h0 is no output
        for (da, da_r_t, da_z_t, da_n_t, du, r_t, z_t), dH_prev in reversed(
            list(zip(steps, dH_before, strict=True))
        ):
            da_n_t.mul_(dh)
            da_z_t.mul_(dh)
            da_r_t.mul_(da_n_t)
            du[:, : 2 * n].copy_(da[:, : 2 * n])
            torch.mul(da_n_t, r_t, out=du[:, 2 * n :])
            # dh_{t-1} = dH_{t-1} + dh_t * z_t + du_t @ Wy.T
            dh = dh * z_t if dH_prev is None else torch.addcmul(dH_prev, dh, z_t)
            dh.addmm_(du, WyT)

        dh0 = dh
        if lengths is not None:  # length 0: the final state is the initial state
            dh0 += torch.where(lengths.empty, dh_final, 0.0)
        needs = ctx.needs_input_grad
        dWy = _recurrent_weight_gradient(h0, H, dU) if needs[3] else None
        dby = dU.sum((0, 1)) if needs[5] else None
        dX, dWx, dbx = _input_gradients(dA, X2, Wx, (needs[0], needs[2], needs[4]))
        return dX, dh0, dWx, dWy, dbx, dby, None
