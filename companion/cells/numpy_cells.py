"""LSTM and GRU cells in NumPy: PyTorch's exact formulas and gate order (chapter 11).

Row-vector convention, as for :class:`companion.numpy_rnn.BasicRNNCell`: ``x_t``
[batch, n_inputs], states [batch, n_neurons], and each weight holds one column
block of width ``n_neurons`` per gate.

LSTM (gates i, f, g, o; ``Wx`` [n_inputs, 4n], ``Wy`` [n, 4n], ``b`` [4n])::

    z = x_t @ Wx + h_prev @ Wy + b
    i = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
    c_t = f ⊙ c_prev + i ⊙ g
    h_t = o ⊙ tanh(c_t)                         state (c_t, h_t), output h_t

GRU (gates r, z, n; ``Wx`` [n_inputs, 3n], ``Wy`` [n, 3n], ``bx``, ``by`` [3n])::

    r = σ(x_t @ Wx_r + bx_r + h_prev @ Wy_r + by_r)
    z = σ(x_t @ Wx_z + bx_z + h_prev @ Wy_z + by_z)
    n = tanh(x_t @ Wx_n + bx_n + r ⊙ (h_prev @ Wy_n + by_n))    reset_after=True (nn.GRU)
    n = tanh(x_t @ Wx_n + bx_n + (r ⊙ h_prev) @ Wy_n + by_n)    reset_after=False (TF 1.x)
    h_t = (1 - z) ⊙ n + z ⊙ h_prev              state and output h_t

Each cell splits its step in two so that :func:`companion.numpy_rnn.dynamic_rnn`
can compute the input term of every time step in one product:
``input_term(x) = x @ Wx + b`` and ``step(xw_t, state)``, the rest of the step.
``cell(x_t, state)`` is ``step(input_term(x_t), state)`` after checking its
arguments. The cell protocol they share with ``BasicRNNCell`` is described in
:mod:`companion.cells`. This module never imports torch, except inside the
conversion methods that exist to talk to it.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from companion import validation as v

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["GRUCell", "LSTMCell", "LSTMState", "init_gate_weights", "sigmoid"]

#: The state of an LSTM: ``c`` (the memory cell) and ``h``, each [batch, n_neurons].
#: TensorFlow 1.x's ``LSTMStateTuple`` order.
LSTMState = namedtuple("LSTMState", "c h")


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``σ(z) = 1 / (1 + exp(-z))``, any shape, computed without overflow.

    ``exp(-|z|)`` never exceeds 1, so neither branch overflows (no warning for
    ``z = -1000``): for ``z < 0``, ``σ(z) = exp(z) / (1 + exp(z))``.
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def init_gate_weights(
    n_inputs: int,
    n_neurons: int,
    n_gates: int,
    n_biases: int,
    seed: int | np.random.Generator | None,
) -> list[np.ndarray]:
    """``Wx`` [n_inputs, G*n], ``Wy`` [n, G*n] and ``n_biases`` biases [G*n] (float64).

    All drawn from U(-k, k) with ``k = 1/sqrt(n_neurons)``, PyTorch's
    initialisation of ``nn.LSTM``/``nn.GRU``; drawing with NumPy gives both
    backends the same weights for the same ``seed``.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    k = 1.0 / np.sqrt(n_neurons)
    width = n_gates * n_neurons
    shapes = [(n_inputs, width), (n_neurons, width)] + [(width,)] * n_biases
    return [rng.uniform(-k, k, size=shape) for shape in shapes]


def _as_array(name: str, value: Any, dtype: np.dtype) -> np.ndarray:
    """User data as an array of the cell's dtype (integers accepted)."""
    array = np.asarray(value)
    v.check_numeric_kind(name, array.dtype.kind, array.dtype)
    return array.astype(dtype, copy=False)


def _weights(
    names: tuple[str, ...], values: tuple[Any, ...], n_gates: int, dtype: np.dtype
) -> dict[str, np.ndarray]:
    """Copies of the weights in ``dtype``, their shapes and values checked."""
    arrays = {}
    for name, value in zip(names, values, strict=True):
        array = np.array(value, copy=True)
        v.check_numeric_kind(name, array.dtype.kind, array.dtype)
        arrays[name] = array.astype(dtype)
    biases = {name: arrays[name].shape for name in names[2:]}
    v.check_gate_weights(n_gates, arrays["Wx"].shape, arrays["Wy"].shape, biases)
    for name, array in arrays.items():
        v.check_finite(name, bool(np.isfinite(array).all()))
    return arrays


def _weights_dtype(dtype: Any, weights: tuple[Any, ...]) -> np.dtype:
    """``from_weights``' rule: float64 if any weight is float64, else float32."""
    if dtype is None:
        is64 = any(np.asarray(w).dtype == np.float64 for w in weights if w is not None)
        dtype = np.float64 if is64 else np.float32
    return v.check_float_dtype(dtype, "numpy")


class LSTMCell:
    """A layer of ``n_neurons`` LSTM units; one call computes one time step.

    ``z = x_t @ Wx + h_prev @ Wy + b``; gates ``i, f, o = σ(z_i, z_f, z_o)``,
    ``g = tanh(z_g)``; ``c_t = f ⊙ c_prev + i ⊙ g``; ``h_t = o ⊙ tanh(c_t)``.

    Parameters
    ----------
    n_inputs, n_neurons : int
    dtype : float32 (default) or float64
    seed : int, numpy.random.Generator or None
        The same seed gives the same weights as :class:`companion.torch_rnn.LSTMCell`.

    Attributes
    ----------
    Wx : [n_inputs, 4 * n_neurons]   column blocks i, f, g, o (PyTorch's order)
    Wy : [n_neurons, 4 * n_neurons]
    b : [4 * n_neurons]              ``bias_ih + bias_hh`` of ``nn.LSTM``
    """

    n_gates = 4

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        *,
        dtype: Any = np.float32,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        n_inputs = v.check_positive_int("n_inputs", n_inputs)
        n_neurons = v.check_positive_int("n_neurons", n_neurons)
        dtype = v.check_float_dtype(dtype, "numpy")
        self._set(*init_gate_weights(n_inputs, n_neurons, 4, 1, seed), dtype)

    def _set(self, Wx: Any, Wy: Any, b: Any, dtype: np.dtype) -> None:
        self.dtype = dtype
        arrays = _weights(("Wx", "Wy", "b"), (Wx, Wy, b), 4, dtype)
        self.Wx, self.Wy, self.b = arrays["Wx"], arrays["Wy"], arrays["b"]
        self.n_inputs, self.n_neurons = int(self.Wx.shape[0]), int(self.Wy.shape[0])

    @classmethod
    def from_weights(cls, Wx: Any, Wy: Any, b: Any = None, *, dtype: Any = None) -> LSTMCell:
        """Build a cell from given weights (copied).

        Parameters
        ----------
        Wx : [n_inputs, 4 * n_neurons]
        Wy : [n_neurons, 4 * n_neurons]
        b : [4 * n_neurons] or None (zeros)
        dtype : float32, float64 or None: float64 if any weight is float64, else float32.
        """
        dtype = _weights_dtype(dtype, (Wx, Wy, b))
        if b is None:
            b = np.zeros(np.shape(Wx)[-1:])
        cell = cls.__new__(cls)
        cell._set(Wx, Wy, b, dtype)
        return cell

    @classmethod
    def from_torch(cls, lstm: torch.nn.LSTM) -> LSTMCell:
        """Copy a one-layer ``torch.nn.LSTM``: ``Wx = weight_ih.T``, ``Wy = weight_hh.T``,
        ``b = bias_ih + bias_hh`` (dtype kept)."""
        from companion.cells.interop import weights_from_torch_lstm

        Wx, Wy, b = (w.numpy() for w in weights_from_torch_lstm(lstm))
        return cls.from_weights(Wx, Wy, b, dtype=Wx.dtype)

    def to_torch(self, batch_first: bool = True) -> torch.nn.LSTM:
        """A ``torch.nn.LSTM`` computing the same function (``b`` goes to ``bias_ih``)."""
        from companion.cells.interop import torch_lstm_from_weights

        return torch_lstm_from_weights(self.Wx, self.Wy, self.b, batch_first=batch_first)

    def zero_state(self, batch: int) -> LSTMState:
        """``LSTMState(c, h)`` of zeros, each [batch, n_neurons]."""
        batch = v.check_batch_size(batch)
        zeros = np.zeros((batch, self.n_neurons), dtype=self.dtype)
        return LSTMState(zeros, zeros.copy())

    def as_state(self, name: str, state: Any, batch: int) -> LSTMState:
        """``state`` checked and converted: a pair ``(c, h)``, each [batch, n_neurons]."""
        v.check_state_pair(name, state, batch, self.n_neurons)
        parts = []
        for part, value in zip(("c", "h"), state, strict=True):
            array = _as_array(f"{name}.{part}", value, self.dtype)
            v.check_state(f"{name}.{part}", array.shape, batch, self.n_neurons)
            parts.append(array.copy())  # a new array, never the caller's own
        return LSTMState(*parts)

    def output(self, state: LSTMState) -> np.ndarray:
        """The step's output ``y_t = h_t`` [batch, n_neurons]."""
        return state.h

    def input_term(self, x: np.ndarray) -> np.ndarray:
        """``x @ Wx + b``: [..., n_inputs] -> [..., 4 * n_neurons] (all steps at once)."""
        return x @ self.Wx + self.b

    def step(self, xw_t: np.ndarray, state: LSTMState) -> LSTMState:
        """The rest of one step, from ``xw_t = x_t @ Wx + b`` [batch, 4 * n_neurons]."""
        c_prev, h_prev = state
        z = xw_t + h_prev @ self.Wy
        z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        return LSTMState(c, h)

    def __call__(self, x_t: Any, state: Any = None) -> LSTMState:
        """One time step.

        Parameters
        ----------
        x_t : [batch, n_inputs]
        state : pair (c_prev, h_prev), each [batch, n_neurons], or None (zeros)

        Returns
        -------
        LSTMState(c_t, h_t), each [batch, n_neurons]
        """
        x_t = _as_array("x_t", x_t, self.dtype)
        v.check_step_input("x_t", x_t.shape, self.n_inputs)
        batch = x_t.shape[0]
        state = self.zero_state(batch) if state is None else self.as_state("state", state, batch)
        return self.step(self.input_term(x_t), state)

    def __repr__(self) -> str:
        return f"LSTMCell(n_inputs={self.n_inputs}, n_neurons={self.n_neurons}, dtype={self.dtype})"


class GRUCell:
    """A layer of ``n_neurons`` GRU units; one call computes one time step.

    ``r, z = σ(x_t @ Wx_{r,z} + bx_{r,z} + h_prev @ Wy_{r,z} + by_{r,z})``;
    ``n = tanh(x_t @ Wx_n + bx_n + r ⊙ (h_prev @ Wy_n + by_n))`` (``reset_after=True``,
    ``nn.GRU``) or ``tanh(x_t @ Wx_n + bx_n + (r ⊙ h_prev) @ Wy_n + by_n)``
    (``reset_after=False``, TF 1.x and Cho et al. 2014); ``h_t = (1 - z) ⊙ n + z ⊙ h_prev``.

    Parameters
    ----------
    n_inputs, n_neurons : int
    reset_after : bool
        Where the reset gate acts: after the recurrent product (PyTorch, cuDNN) or
        before it (TensorFlow 1.x's ``GRUCell``).
    dtype : float32 (default) or float64
    seed : int, numpy.random.Generator or None
        The same seed gives the same weights as :class:`companion.torch_rnn.GRUCell`.

    Attributes
    ----------
    Wx : [n_inputs, 3 * n_neurons]   column blocks r, z, n (PyTorch's order)
    Wy : [n_neurons, 3 * n_neurons]
    bx, by : [3 * n_neurons]         ``bias_ih`` and ``bias_hh`` of ``nn.GRU``
    """

    n_gates = 3

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        *,
        reset_after: bool = True,
        dtype: Any = np.float32,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        n_inputs = v.check_positive_int("n_inputs", n_inputs)
        n_neurons = v.check_positive_int("n_neurons", n_neurons)
        reset_after = v.check_bool("reset_after", reset_after)
        dtype = v.check_float_dtype(dtype, "numpy")
        self._set(*init_gate_weights(n_inputs, n_neurons, 3, 2, seed), reset_after, dtype)

    def _set(self, Wx: Any, Wy: Any, bx: Any, by: Any, reset_after: bool, dtype: np.dtype) -> None:
        self.reset_after = v.check_bool("reset_after", reset_after)
        self.dtype = dtype
        arrays = _weights(("Wx", "Wy", "bx", "by"), (Wx, Wy, bx, by), 3, dtype)
        self.Wx, self.Wy, self.bx, self.by = (arrays[k] for k in ("Wx", "Wy", "bx", "by"))
        self.n_inputs, self.n_neurons = int(self.Wx.shape[0]), int(self.Wy.shape[0])

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
        """Build a cell from given weights (copied).

        Parameters
        ----------
        Wx : [n_inputs, 3 * n_neurons]
        Wy : [n_neurons, 3 * n_neurons]
        bx, by : [3 * n_neurons] or None (zeros)
        reset_after : bool
        dtype : float32, float64 or None: float64 if any weight is float64, else float32.
        """
        dtype = _weights_dtype(dtype, (Wx, Wy, bx, by))
        zeros = np.zeros(np.shape(Wx)[-1:])
        cell = cls.__new__(cls)
        cell._set(
            Wx,
            Wy,
            zeros if bx is None else bx,
            zeros if by is None else by,
            reset_after,
            dtype,
        )
        return cell

    @classmethod
    def from_torch(cls, gru: torch.nn.GRU) -> GRUCell:
        """Copy a one-layer ``torch.nn.GRU``: ``Wx = weight_ih.T``, ``Wy = weight_hh.T``,
        ``bx = bias_ih``, ``by = bias_hh`` (dtype kept; ``reset_after=True``)."""
        from companion.cells.interop import weights_from_torch_gru

        Wx, Wy, bx, by = (w.numpy() for w in weights_from_torch_gru(gru))
        return cls.from_weights(Wx, Wy, bx, by, dtype=Wx.dtype)

    def to_torch(self, batch_first: bool = True) -> torch.nn.GRU:
        """A ``torch.nn.GRU`` computing the same function (only for ``reset_after=True``)."""
        from companion.cells.interop import torch_gru_from_weights

        return torch_gru_from_weights(
            self.Wx, self.Wy, self.bx, self.by, self.reset_after, batch_first=batch_first
        )

    def zero_state(self, batch: int) -> np.ndarray:
        """Zeros [batch, n_neurons]."""
        return np.zeros((v.check_batch_size(batch), self.n_neurons), dtype=self.dtype)

    def as_state(self, name: str, state: Any, batch: int) -> np.ndarray:
        """``state`` checked and converted: [batch, n_neurons]."""
        array = _as_array(name, state, self.dtype)
        v.check_state(name, array.shape, batch, self.n_neurons)
        return array.copy()  # a new array, never the caller's own

    def output(self, state: np.ndarray) -> np.ndarray:
        """The step's output is the state itself: ``y_t = h_t`` [batch, n_neurons]."""
        return state

    def input_term(self, x: np.ndarray) -> np.ndarray:
        """``x @ Wx + bx``: [..., n_inputs] -> [..., 3 * n_neurons] (all steps at once)."""
        return x @ self.Wx + self.bx

    def step(self, xw_t: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
        """The rest of one step, from ``xw_t = x_t @ Wx + bx`` [batch, 3 * n_neurons]."""
        x_r, x_z, x_n = np.split(xw_t, 3, axis=1)
        if self.reset_after:
            # nn.GRU: one recurrent product for the three blocks; r scales the n block.
            h_r, h_z, h_n = np.split(h_prev @ self.Wy + self.by, 3, axis=1)
            r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
            n = np.tanh(x_n + r * h_n)
        else:
            # TF 1.x: r scales h_prev *before* the n block's product, which waits for r.
            n2 = 2 * self.n_neurons  # the r and z blocks
            h_r, h_z = np.split(h_prev @ self.Wy[:, :n2] + self.by[:n2], 2, axis=1)
            r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
            n = np.tanh(x_n + (r * h_prev) @ self.Wy[:, n2:] + self.by[n2:])
        return (1 - z) * n + z * h_prev

    def __call__(self, x_t: Any, state: Any = None) -> np.ndarray:
        """One time step.

        Parameters
        ----------
        x_t : [batch, n_inputs]
        state : h_prev [batch, n_neurons] or None (zeros)

        Returns
        -------
        h_t : [batch, n_neurons]
        """
        x_t = _as_array("x_t", x_t, self.dtype)
        v.check_step_input("x_t", x_t.shape, self.n_inputs)
        batch = x_t.shape[0]
        state = self.zero_state(batch) if state is None else self.as_state("state", state, batch)
        return self.step(self.input_term(x_t), state)

    def __repr__(self) -> str:
        return (
            f"GRUCell(n_inputs={self.n_inputs}, n_neurons={self.n_neurons}, "
            f"reset_after={self.reset_after}, dtype={self.dtype})"
        )
