"""LSTM and GRU weights to and from ``torch.nn`` and TensorFlow 1.x (chapter 11, appendix).

PyTorch keeps each weight transposed and, for the LSTM, two biases that are
only ever added. With the course's row-vector notation::

    nn.LSTM:  weight_ih = Wx.T   weight_hh = Wy.T   b = bias_ih + bias_hh    gates i, f, g, o
    nn.GRU:   weight_ih = Wx.T   weight_hh = Wy.T   bx = bias_ih, by = bias_hh   gates r, z, n

The GRU needs both biases: ``by_n`` sits inside ``r ⊙ (h @ Wy_n + by_n)``.
Only one-layer, unidirectional modules without projection have one set of
weights; anything else is refused with a ``ValueError``.

TensorFlow 1.x stores the same functions differently; each difference is a trap:

* ``LSTMCell``: one ``kernel`` [n_inputs + n, 4n] multiplying ``concat([x, h])``
  (rows of ``Wx`` on top of rows of ``Wy``), gates in the order **i, j, f, o**
  (``j`` is PyTorch's ``g``), and ``forget_bias`` (default 1.0) added to ``f``
  at run time, not stored in ``bias``::

      i, j, f, o = split(concat([x, h]) @ kernel + bias, 4)
      c = σ(f + forget_bias) ⊙ c_prev + σ(i) ⊙ tanh(j);   h = σ(o) ⊙ tanh(c)

* ``GRUCell``: the reset gate acts *before* the recurrent product (our
  ``reset_after=False``), the update gate ``u`` keeps the old state where
  PyTorch's ``z`` does (``h = u ⊙ h_prev + (1 - u) ⊙ c``: ``u`` is ``z``), and
  the weights come as a gate kernel (r, u) and a candidate kernel::

      r, u = split(σ(concat([x, h]) @ gate_kernel + gate_bias), 2)
      c = tanh(concat([x, r ⊙ h]) @ candidate_kernel + candidate_bias)

torch is imported only inside the functions that need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from companion import validation as v
from companion.cells.numpy_cells import GRUCell, LSTMCell

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "gru_from_tf1",
    "lstm_from_tf1",
    "torch_gru_from_weights",
    "torch_lstm_from_weights",
    "weights_from_torch_gru",
    "weights_from_torch_lstm",
]


def _check_one_layer(module: Any, cls: type, name: str) -> None:
    if not isinstance(module, cls):
        raise TypeError(f"{name} must be a torch.nn.{cls.__name__}; got {type(module).__name__}")
    if module.num_layers != 1 or module.bidirectional or getattr(module, "proj_size", 0):
        raise ValueError(
            f"{name} must have num_layers=1, bidirectional=False and no projection; got "
            f"num_layers={module.num_layers}, bidirectional={module.bidirectional}, "
            f"proj_size={getattr(module, 'proj_size', 0)}"
        )


def _copies(module: Any, name: str) -> list[torch.Tensor]:
    """``Wx``, ``Wy``, ``bias_ih``, ``bias_hh`` of a one-layer module: detached CPU copies."""
    import torch

    Wx = module.weight_ih_l0.detach().cpu().T.clone()
    Wy = module.weight_hh_l0.detach().cpu().T.clone()
    if module.bias:
        biases = [b.detach().cpu().clone() for b in (module.bias_ih_l0, module.bias_hh_l0)]
    else:
        biases = [torch.zeros(Wx.shape[1], dtype=Wx.dtype)] * 2
    parts = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    for part, w in zip(parts, (Wx, Wy, *biases), strict=True):
        v.check_finite(f"{name}.{part}", bool(torch.isfinite(w).all()))
    return [Wx, Wy, *biases]


def weights_from_torch_lstm(lstm: torch.nn.LSTM) -> tuple[torch.Tensor, ...]:
    """``(Wx, Wy, b)`` of a one-layer ``nn.LSTM``, detached CPU copies (dtype kept).

    Shapes: ``Wx`` [n_inputs, 4n], ``Wy`` [n, 4n], ``b = bias_ih + bias_hh`` [4n].
    """
    import torch

    _check_one_layer(lstm, torch.nn.LSTM, "lstm")
    Wx, Wy, bias_ih, bias_hh = _copies(lstm, "lstm")
    return Wx, Wy, bias_ih + bias_hh


def weights_from_torch_gru(gru: torch.nn.GRU) -> tuple[torch.Tensor, ...]:
    """``(Wx, Wy, bx, by)`` of a one-layer ``nn.GRU``, detached CPU copies (dtype kept).

    Shapes: ``Wx`` [n_inputs, 3n], ``Wy`` [n, 3n], ``bx = bias_ih``, ``by = bias_hh`` [3n].
    """
    import torch

    _check_one_layer(gru, torch.nn.GRU, "gru")
    return tuple(_copies(gru, "gru"))


def _module(cls: Any, Wx: Any, Wy: Any, biases: tuple[Any, Any], batch_first: bool) -> Any:
    """A one-layer ``cls`` (``nn.LSTM``/``nn.GRU``) holding the given weights."""
    import torch

    Wx, Wy, bias_ih, bias_hh = (torch.as_tensor(w).detach() for w in (Wx, Wy, *biases))
    module = cls(
        int(Wx.shape[0]),
        int(Wy.shape[0]),
        batch_first=batch_first,
        dtype=Wx.dtype,
        device=Wx.device,
    )
    with torch.no_grad():
        module.weight_ih_l0.copy_(Wx.T)
        module.weight_hh_l0.copy_(Wy.T)
        module.bias_ih_l0.copy_(bias_ih)
        module.bias_hh_l0.copy_(bias_hh)
    return module


def torch_lstm_from_weights(Wx: Any, Wy: Any, b: Any, *, batch_first: bool = True) -> Any:
    """A one-layer ``nn.LSTM`` equal to ``LSTMCell(Wx, Wy, b)``: ``b`` goes to ``bias_ih``.

    The module takes the dtype and device of ``Wx`` (NumPy arrays give a CPU module).
    """
    import torch

    return _module(torch.nn.LSTM, Wx, Wy, (b, np.zeros(np.shape(b))), batch_first)


def torch_gru_from_weights(
    Wx: Any, Wy: Any, bx: Any, by: Any, reset_after: bool, *, batch_first: bool = True
) -> Any:
    """A one-layer ``nn.GRU`` equal to ``GRUCell(Wx, Wy, bx, by)``: ``bias_ih = bx``,
    ``bias_hh = by``.

    Raises
    ------
    ValueError
        ``reset_after=False``: ``nn.GRU`` always applies ``r`` after the recurrent
        product, so TF 1.x's GRU has no ``nn.GRU`` equivalent.
    """
    import torch

    if not reset_after:
        raise ValueError(
            "a GRUCell with reset_after=False (TensorFlow 1.x's GRU: r ⊙ h_prev before the "
            "product with Wy_n) has no torch.nn.GRU equivalent: nn.GRU computes "
            "r ⊙ (h_prev @ Wy_n + by_n), i.e. reset_after=True"
        )
    return _module(torch.nn.GRU, Wx, Wy, (bx, by), batch_first)


def _tf1_array(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    v.check_numeric_kind(name, array.dtype.kind, array.dtype)
    return array


def lstm_from_tf1(kernel: Any, bias: Any, forget_bias: float = 1.0) -> LSTMCell:
    """The :class:`LSTMCell` computing TensorFlow 1.x's ``LSTMCell`` (or ``BasicLSTMCell``).

    Parameters
    ----------
    kernel : [n_inputs + n_neurons, 4 * n_neurons]
        Rows: ``x`` then ``h``; column blocks ``i, j, f, o`` (``j`` is our ``g``).
    bias : [4 * n_neurons]
    forget_bias : float
        What TF adds to ``f`` at run time (``forget_bias=1.0`` by default); it is
        folded into ``b_f`` here.

    Returns
    -------
    LSTMCell with ``Wx = kernel[:n_inputs]``, ``Wy = kernel[n_inputs:]`` and ``b``
    (``b_f = bias_f + forget_bias``), the blocks reordered to ``i, f, g, o``;
    float64 if ``kernel`` or ``bias`` is float64, else float32.
    """
    kernel, bias = _tf1_array("kernel", kernel), _tf1_array("bias", bias)
    n_inputs, n_neurons = v.check_tf1_kernel("kernel", kernel.shape, 4)
    v.check_rank_and_sizes("bias", bias.shape, ("4 * n_neurons",), (4 * n_neurons,))
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, int | float | np.number):
        raise TypeError(f"forget_bias must be a float; got {type(forget_bias).__name__}")
    v.check_finite("forget_bias", bool(np.isfinite(forget_bias)))
    dtype = np.float64 if np.float64 in (kernel.dtype, bias.dtype) else np.float32

    def i_f_g_o(w: np.ndarray) -> np.ndarray:
        i, j, f, o = np.split(w, 4, axis=-1)
        return np.concatenate([i, f, j, o], axis=-1)

    b = bias.astype(np.float64)  # a copy, for the fold
    b[2 * n_neurons : 3 * n_neurons] += forget_bias  # TF's f block is the third
    W = i_f_g_o(kernel)
    return LSTMCell.from_weights(W[:n_inputs], W[n_inputs:], i_f_g_o(b), dtype=dtype)


def gru_from_tf1(
    gate_kernel: Any, gate_bias: Any, candidate_kernel: Any, candidate_bias: Any
) -> GRUCell:
    """The :class:`GRUCell` (``reset_after=False``) computing TensorFlow 1.x's ``GRUCell``.

    Parameters
    ----------
    gate_kernel : [n_inputs + n_neurons, 2 * n_neurons]    column blocks ``r, u``
    gate_bias : [2 * n_neurons]
    candidate_kernel : [n_inputs + n_neurons, n_neurons]
    candidate_bias : [n_neurons]

    Returns
    -------
    GRUCell(reset_after=False) with ``Wx = [gate_kernel_x | candidate_kernel_x]``,
    ``Wy = [gate_kernel_h | candidate_kernel_h]`` (blocks r, z = u, n),
    ``bx = [gate_bias | candidate_bias]`` and ``by = 0``; float64 if any weight is.
    """
    arrays = {
        "gate_kernel": _tf1_array("gate_kernel", gate_kernel),
        "gate_bias": _tf1_array("gate_bias", gate_bias),
        "candidate_kernel": _tf1_array("candidate_kernel", candidate_kernel),
        "candidate_bias": _tf1_array("candidate_bias", candidate_bias),
    }
    n_inputs, n_neurons = v.check_tf1_kernel("gate_kernel", arrays["gate_kernel"].shape, 2)
    rows = n_inputs + n_neurons
    v.check_rank_and_sizes(
        "candidate_kernel",
        arrays["candidate_kernel"].shape,
        ("n_inputs + n_neurons", "n_neurons"),
        (rows, n_neurons),
    )
    v.check_rank_and_sizes(
        "gate_bias", arrays["gate_bias"].shape, ("2 * n_neurons",), (2 * n_neurons,)
    )
    v.check_rank_and_sizes(
        "candidate_bias", arrays["candidate_bias"].shape, ("n_neurons",), (n_neurons,)
    )
    dtype = np.float64 if any(a.dtype == np.float64 for a in arrays.values()) else np.float32
    W = np.concatenate([arrays["gate_kernel"], arrays["candidate_kernel"]], axis=1)
    bx = np.concatenate([arrays["gate_bias"], arrays["candidate_bias"]])
    return GRUCell.from_weights(
        W[:n_inputs], W[n_inputs:], bx, np.zeros_like(bx), reset_after=False, dtype=dtype
    )
