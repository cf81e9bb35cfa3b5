"""LSTM and GRU cells in PyTorch: same names, weights and results as :mod:`.numpy_cells`.

Chapter 11. PyTorch's exact formulas and gate order, in the course's row-vector
notation (``x_t`` [batch, n_inputs], states [batch, n_neurons])::

    LSTM  z = x_t @ Wx + h_prev @ Wy + b                      blocks i, f, g, o
          c_t = σ(z_f) ⊙ c_prev + σ(z_i) ⊙ tanh(z_g);   h_t = σ(z_o) ⊙ tanh(c_t)
    GRU   r = σ(x_t @ Wx_r + bx_r + h_prev @ Wy_r + by_r)     blocks r, z, n
          z = σ(x_t @ Wx_z + bx_z + h_prev @ Wy_z + by_z)
          n = tanh(x_t @ Wx_n + bx_n + r ⊙ (h_prev @ Wy_n + by_n))   reset_after=True
          n = tanh(x_t @ Wx_n + bx_n + (r ⊙ h_prev) @ Wy_n + by_n)   reset_after=False
          h_t = (1 - z) ⊙ n + z ⊙ h_prev

Each cell is an ``nn.Module`` whose parameters are these weights; everything runs
on the device and in the dtype of the parameters and is differentiable with
autograd. As in :mod:`.numpy_cells`, a step is split into ``input_term(x) = x @
Wx + b`` (one product for all time steps in :func:`companion.torch_rnn.dynamic_rnn`)
and ``step(xw_t, state)``. The protocol shared with ``BasicRNNCell`` is described
in :mod:`companion.cells`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch

from companion import validation as v
from companion.cells.interop import (
    torch_gru_from_weights,
    torch_lstm_from_weights,
    weights_from_torch_gru,
    weights_from_torch_lstm,
)
from companion.cells.numpy_cells import init_gate_weights

__all__ = ["GRUCell", "LSTMCell", "LSTMState"]


class LSTMState(NamedTuple):
    """The state of an LSTM: ``c`` (the memory cell) and ``h``, each [batch, n_neurons]."""

    c: torch.Tensor
    h: torch.Tensor


def _as_tensor(name: str, value: Any, cell: torch.nn.Module) -> torch.Tensor:
    """:func:`companion.torch_rnn.as_tensor` (imported here: torch_rnn imports this module)."""
    from companion.torch_rnn import as_tensor

    return as_tensor(name, value, cell)


def _weights_dtype(dtype: Any, weights: tuple[Any, ...]) -> torch.dtype:
    """``from_weights``' rule: float64 if any weight is float64, else float32."""
    if dtype is None:
        given = [w.detach().cpu() if isinstance(w, torch.Tensor) else w for w in weights]
        is64 = any(np.asarray(w).dtype == np.float64 for w in given if w is not None)
        dtype = torch.float64 if is64 else torch.float32
    return v.check_float_dtype(dtype, "torch")


class _GatedCell(torch.nn.Module):
    """What LSTMCell and GRUCell share: parameters from arrays or tensors, sizes, dtype."""

    n_gates: int
    weight_names: tuple[str, ...]

    def _set_weights(self, values: tuple[Any, ...], dtype: torch.dtype, device: Any) -> None:
        tensors = {}
        for name, value in zip(self.weight_names, values, strict=True):
            data = value.detach() if isinstance(value, torch.Tensor) else np.asarray(value)
            v.check_numeric_kind(name, v.dtype_kind(data), data.dtype)
            tensors[name] = torch.as_tensor(data, device=device).to(dtype)
        biases = {name: v.shape_of(tensors[name]) for name in self.weight_names[2:]}
        v.check_gate_weights(
            self.n_gates, v.shape_of(tensors["Wx"]), v.shape_of(tensors["Wy"]), biases
        )
        for name, tensor in tensors.items():
            v.check_finite(name, bool(torch.isfinite(tensor).all()))
            # clone(): the cell owns its weights; later changes to the sources don't leak in.
            setattr(self, name, torch.nn.Parameter(tensor.clone()))

    @classmethod
    def _from(cls, values: tuple[Any, ...], dtype: Any, **options: Any) -> Any:
        dtype = _weights_dtype(dtype, values)
        Wx = values[0]
        device = Wx.device if isinstance(Wx, torch.Tensor) else None
        zeros = np.zeros(tuple(np.shape(Wx))[-1:])
        values = tuple(zeros if w is None else w for w in values)
        cell = cls.__new__(cls)
        torch.nn.Module.__init__(cell)
        for name, value in options.items():
            setattr(cell, name, value)
        cell._set_weights(values, dtype, device)
        return cell

    @property
    def n_inputs(self) -> int:
        return int(self.Wx.shape[0])

    @property
    def n_neurons(self) -> int:
        return int(self.Wy.shape[0])

    @property
    def dtype(self) -> torch.dtype:
        return self.Wx.dtype

    @property
    def device(self) -> torch.device:
        return self.Wx.device

    def _zeros(self, batch: int) -> torch.Tensor:
        batch = v.check_batch_size(batch)
        return torch.zeros(batch, self.n_neurons, dtype=self.dtype, device=self.device)

    def _as_h(self, name: str, value: Any, batch: int) -> torch.Tensor:
        """A state [batch, n_neurons], checked; a new tensor (never the caller's own)."""
        tensor = _as_tensor(name, value, self)
        v.check_state(name, v.shape_of(tensor), batch, self.n_neurons)
        return tensor.clone()

    def forward(self, x_t: Any, state: Any = None) -> Any:
        """One time step: ``x_t`` [batch, n_inputs] and the state (None: zeros) → new state."""
        x_t = _as_tensor("x_t", x_t, self)
        v.check_step_input("x_t", v.shape_of(x_t), self.n_inputs)
        batch = x_t.shape[0]
        state = self.zero_state(batch) if state is None else self.as_state("state", state, batch)
        return self.step(self.input_term(x_t), state)

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, n_neurons={self.n_neurons}"


class LSTMCell(_GatedCell):
    """A layer of ``n_neurons`` LSTM units; ``cell(x_t, (c, h))`` computes one time step.

    ``z = x_t @ Wx + h_prev @ Wy + b``; ``c_t = σ(z_f) ⊙ c_prev + σ(z_i) ⊙ tanh(z_g)``;
    ``h_t = σ(z_o) ⊙ tanh(c_t)``.

    Parameters
    ----------
    n_inputs, n_neurons : int
    dtype : torch.float32 (default) or torch.float64
    device : where the parameters live (default: CPU)
    seed : int, numpy.random.Generator or None
        Drawn with NumPy: the same seed gives the weights of
        :class:`companion.numpy_rnn.LSTMCell`.

    Parameters of the module: ``Wx`` [n_inputs, 4n], ``Wy`` [n, 4n], ``b`` [4n]
    (column blocks i, f, g, o).
    """

    n_gates = 4
    weight_names = ("Wx", "Wy", "b")

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        *,
        dtype: Any = torch.float32,
        device: Any = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        n_inputs = v.check_positive_int("n_inputs", n_inputs)
        n_neurons = v.check_positive_int("n_neurons", n_neurons)
        weights = tuple(init_gate_weights(n_inputs, n_neurons, 4, 1, seed))
        self._set_weights(weights, v.check_float_dtype(dtype, "torch"), device)

    @classmethod
    def from_weights(cls, Wx: Any, Wy: Any, b: Any = None, *, dtype: Any = None) -> LSTMCell:
        """Build a cell from given weights (arrays or tensors; copied, device kept).

        ``Wx`` [n_inputs, 4n], ``Wy`` [n, 4n], ``b`` [4n] or None (zeros); dtype None:
        float64 if any weight is float64, else float32.
        """
        return cls._from((Wx, Wy, b), dtype)

    @classmethod
    def from_torch(cls, lstm: torch.nn.LSTM) -> LSTMCell:
        """Copy a one-layer ``nn.LSTM`` (``b = bias_ih + bias_hh``); dtype and device kept."""
        device = lstm.weight_ih_l0.device
        return cls.from_weights(*(w.to(device) for w in weights_from_torch_lstm(lstm)))

    def to_torch(self, batch_first: bool = True) -> torch.nn.LSTM:
        """A ``torch.nn.LSTM`` computing the same function, same dtype and device."""
        return torch_lstm_from_weights(self.Wx, self.Wy, self.b, batch_first=batch_first)

    def zero_state(self, batch: int) -> LSTMState:
        """``LSTMState(c, h)`` of zeros [batch, n_neurons] in the cell's dtype and device."""
        return LSTMState(self._zeros(batch), self._zeros(batch))

    def as_state(self, name: str, state: Any, batch: int) -> LSTMState:
        """``state`` checked and converted: a pair ``(c, h)``, each [batch, n_neurons]."""
        v.check_state_pair(name, state, batch, self.n_neurons)
        c, h = state
        return LSTMState(self._as_h(f"{name}.c", c, batch), self._as_h(f"{name}.h", h, batch))

    def output(self, state: LSTMState) -> torch.Tensor:
        """The step's output ``y_t = h_t`` [batch, n_neurons]."""
        return state.h

    def input_term(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ Wx + b``: [..., n_inputs] -> [..., 4n] (all steps at once)."""
        return x @ self.Wx + self.b

    def step(self, xw_t: torch.Tensor, state: LSTMState) -> LSTMState:
        """The rest of one step, from ``xw_t = x_t @ Wx + b`` [batch, 4n]."""
        c_prev, h_prev = state
        z = xw_t + h_prev @ self.Wy
        z_i, z_f, z_g, z_o = z.chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(z_i), torch.sigmoid(z_f), torch.tanh(z_g), torch.sigmoid(z_o)
        c = f * c_prev + i * g
        h = o * torch.tanh(c)
        return LSTMState(c, h)


class GRUCell(_GatedCell):
    """A layer of ``n_neurons`` GRU units; ``cell(x_t, h_prev)`` computes one time step.

    ``r, z = σ(x_t @ Wx_{r,z} + bx_{r,z} + h_prev @ Wy_{r,z} + by_{r,z})``,
    ``n = tanh(x_t @ Wx_n + bx_n + r ⊙ (h_prev @ Wy_n + by_n))`` (``reset_after=True``,
    ``nn.GRU``) or ``tanh(x_t @ Wx_n + bx_n + (r ⊙ h_prev) @ Wy_n + by_n)`` (False, TF 1.x),
    ``h_t = (1 - z) ⊙ n + z ⊙ h_prev``.

    Parameters
    ----------
    n_inputs, n_neurons : int
    reset_after : bool
    dtype : torch.float32 (default) or torch.float64
    device : where the parameters live (default: CPU)
    seed : int, numpy.random.Generator or None
        The same seed gives the weights of :class:`companion.numpy_rnn.GRUCell`.

    Parameters of the module: ``Wx`` [n_inputs, 3n], ``Wy`` [n, 3n], ``bx``, ``by`` [3n]
    (column blocks r, z, n).
    """

    n_gates = 3
    weight_names = ("Wx", "Wy", "bx", "by")

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        *,
        reset_after: bool = True,
        dtype: Any = torch.float32,
        device: Any = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        n_inputs = v.check_positive_int("n_inputs", n_inputs)
        n_neurons = v.check_positive_int("n_neurons", n_neurons)
        self.reset_after = v.check_bool("reset_after", reset_after)
        weights = tuple(init_gate_weights(n_inputs, n_neurons, 3, 2, seed))
        self._set_weights(weights, v.check_float_dtype(dtype, "torch"), device)

    @classmethod
    def from_weights(
        cls,
        Wx: Any,
        Wy: Any,
        bx: Any = None,
        by: Any = None,
        *,
        reset_after: bool = True,
        dtype: Any = None,
    ) -> GRUCell:
        """Build a cell from given weights (arrays or tensors; copied, device kept).

        ``Wx`` [n_inputs, 3n], ``Wy`` [n, 3n], ``bx``, ``by`` [3n] or None (zeros);
        dtype None: float64 if any weight is float64, else float32.
        """
        reset_after = v.check_bool("reset_after", reset_after)
        return cls._from((Wx, Wy, bx, by), dtype, reset_after=reset_after)

    @classmethod
    def from_torch(cls, gru: torch.nn.GRU) -> GRUCell:
        """Copy a one-layer ``nn.GRU`` (``bx = bias_ih``, ``by = bias_hh``); dtype and
        device kept."""
        device = gru.weight_ih_l0.device
        return cls.from_weights(*(w.to(device) for w in weights_from_torch_gru(gru)))

    def to_torch(self, batch_first: bool = True) -> torch.nn.GRU:
        """A ``torch.nn.GRU`` computing the same function (only for ``reset_after=True``)."""
        weights = (self.Wx, self.Wy, self.bx, self.by)
        return torch_gru_from_weights(*weights, self.reset_after, batch_first=batch_first)

    def zero_state(self, batch: int) -> torch.Tensor:
        """Zeros [batch, n_neurons] in the cell's dtype and device."""
        return self._zeros(batch)

    def as_state(self, name: str, state: Any, batch: int) -> torch.Tensor:
        """``state`` checked and converted: [batch, n_neurons]."""
        return self._as_h(name, state, batch)

    def output(self, state: torch.Tensor) -> torch.Tensor:
        """The step's output is the state itself: ``y_t = h_t`` [batch, n_neurons]."""
        return state

    def input_term(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ Wx + bx``: [..., n_inputs] -> [..., 3n] (all steps at once)."""
        return x @ self.Wx + self.bx

    def step(self, xw_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """The rest of one step, from ``xw_t = x_t @ Wx + bx`` [batch, 3n]."""
        x_r, x_z, x_n = xw_t.chunk(3, dim=1)
        if self.reset_after:
            # nn.GRU: one recurrent product for the three blocks; r scales the n block.
            h_r, h_z, h_n = (h_prev @ self.Wy + self.by).chunk(3, dim=1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * h_n)
        else:
            # TF 1.x: r scales h_prev *before* the n block's product, which waits for r.
            n2 = 2 * self.n_neurons  # the r and z blocks
            h_r, h_z = (h_prev @ self.Wy[:, :n2] + self.by[:n2]).chunk(2, dim=1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + (r * h_prev) @ self.Wy[:, n2:] + self.by[n2:])
        return (1 - z) * n + z * h_prev

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, reset_after={self.reset_after}"
