"""Weights to and from PyTorch's own ``torch.nn.RNN`` (chapters 4, 7 and the tests).

``nn.RNN`` computes ``h_t = phi(x_t @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh)``,
so with the course's notation::

    weight_ih = Wx.T    weight_hh = Wy.T    b = bias_ih + bias_hh

Only one-layer, unidirectional RNNs without projection have a single
``(Wx, Wy, b)``; anything else is refused with a ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import torch

from companion import validation as v


def weights_from_torch_rnn(
    rnn: torch.nn.RNN,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, str]:
    """Return detached CPU copies ``(Wx, Wy, b, nonlinearity)`` of a one-layer ``nn.RNN``.

    Shapes: ``Wx`` [n_inputs, n_neurons], ``Wy`` [n_neurons, n_neurons], ``b`` [n_neurons].
    """
    if not isinstance(rnn, torch.nn.RNN):
        raise TypeError(f"rnn must be a torch.nn.RNN; got {type(rnn).__name__}")
    if rnn.num_layers != 1 or rnn.bidirectional or getattr(rnn, "proj_size", 0):
        raise ValueError(
            "rnn must have num_layers=1, bidirectional=False and no projection; got "
            f"num_layers={rnn.num_layers}, bidirectional={rnn.bidirectional}"
        )
    with torch.no_grad():
        Wx = rnn.weight_ih_l0.detach().cpu().T.clone()
        Wy = rnn.weight_hh_l0.detach().cpu().T.clone()
        if rnn.bias:
            b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().cpu().clone()
        else:
            b = torch.zeros(Wx.shape[1], dtype=Wx.dtype)
    for name, w in (("rnn.weight_ih_l0", Wx), ("rnn.weight_hh_l0", Wy), ("rnn bias", b)):
        v.check_finite(name, bool(torch.isfinite(w).all()))
    return Wx, Wy, b, rnn.nonlinearity


def torch_rnn_from_weights(
    Wx: Any,
    Wy: Any,
    b: Any,
    nonlinearity: str,
    *,
    batch_first: bool = True,
) -> torch.nn.RNN:
    """A one-layer ``nn.RNN`` whose step equals ``phi(x @ Wx + h @ Wy + b)``.

    The whole bias goes to ``bias_ih`` and ``bias_hh`` is zero. The module takes
    the dtype and device of ``Wx`` (NumPy arrays give a CPU module).
    """
    Wx, Wy, b = (torch.as_tensor(w).detach() for w in (Wx, Wy, b))
    n_inputs, n_neurons = Wx.shape
    rnn = torch.nn.RNN(
        n_inputs,
        n_neurons,
        nonlinearity=nonlinearity,
        batch_first=batch_first,
        dtype=Wx.dtype,
        device=Wx.device,
    )
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(Wx.T)
        rnn.weight_hh_l0.copy_(Wy.T)
        rnn.bias_ih_l0.copy_(b)
        rnn.bias_hh_l0.zero_()
    return rnn
