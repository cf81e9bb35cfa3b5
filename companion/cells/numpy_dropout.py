"""Dropout around a cell, in NumPy: TensorFlow 1.x's ``DropoutWrapper`` (chapter 12).

``DropoutWrapper(cell, input_keep_prob, output_keep_prob)`` is a cell that, while
``training``, drops entries of the step's input and of its output, each kept
with probability ``keep_prob`` and then divided by it (*inverted* dropout)::

    m_in  ~ Bernoulli(input_keep_prob)   [batch, n_inputs],  a new mask every step
    m_out ~ Bernoulli(output_keep_prob)  [batch, n_neurons], a new mask every step
    s_t = cell(m_in ⊙ x_t / input_keep_prob, s_{t-1})
    y_t = m_out ⊙ cell.output(s_t) / output_keep_prob

Each kept entry is scaled by ``1 / keep_prob``, so ``E[y_t] = cell.output(s_t)``:
the next layer sees on average what it sees in evaluation, when the wrapper is
the bare cell (``training = False``). The default is ``training = True``, as in
TensorFlow 1.x, whose wrapper always drops (one fed ``keep_prob = 1.0`` to evaluate).

Only the *output* is dropped, never the state ``s_t`` carried to the next step.
For an LSTM the output ``h_t`` is a part of the state ``(c_t, h_t)``: the next
step still receives the undropped ``h_t``. So the state returned by a call is the
cell's own state, nothing extra, and the output mask lives in the wrapper: a call
draws it, ``output(state)`` applies it. ``static_rnn``, ``dynamic_rnn`` and
``MultiRNNCell`` always ask for the output of the state the latest call returned,
so a ``MultiRNNCell`` of wrapped cells feeds the dropped output to the layer above
and carries every layer's undropped state in time. Masks come from a
``numpy.random.Generator`` made from ``seed``: the same seed, the same masks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion import validation as v

__all__ = ["DropoutWrapper"]


class DropoutWrapper:
    """A cell whose input and output are dropped (inverted dropout) while ``training``.

    Parameters
    ----------
    cell : BasicRNNCell, LSTMCell, GRUCell or MultiRNNCell (NumPy)
    input_keep_prob, output_keep_prob : float in (0, 1]
        The probability of keeping an entry; 1.0 keeps everything.
    seed : int, numpy.random.Generator or None
        Where the masks come from.
    training : bool
        True (default, like TensorFlow 1.x): drop. False: the wrapper is the bare cell.

    Attributes
    ----------
    cell, input_keep_prob, output_keep_prob, training
    n_inputs, n_neurons, dtype : the wrapped cell's
    """

    def __init__(
        self,
        cell: Any,
        input_keep_prob: float = 1.0,
        output_keep_prob: float = 1.0,
        *,
        seed: int | np.random.Generator | None = None,
        training: bool = True,
    ) -> None:
        from companion.numpy_rnn import CELLS  # (it imports us)

        v.check_cell_types(cell, CELLS)
        self.cell = cell
        self.input_keep_prob = v.check_keep_prob("input_keep_prob", input_keep_prob)
        self.output_keep_prob = v.check_keep_prob("output_keep_prob", output_keep_prob)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.training = training
        self._output_mask: np.ndarray | None = None  # drawn by the latest call

    @property
    def training(self) -> bool:
        return self._training

    @training.setter
    def training(self, value: bool) -> None:
        self._training = v.check_bool("training", value)

    def train(self, mode: bool = True) -> DropoutWrapper:
        """``training = mode`` (as ``nn.Module.train``); returns the wrapper."""
        self.training = mode
        return self

    def eval(self) -> DropoutWrapper:
        """``training = False``; returns the wrapper."""
        return self.train(False)

    @property
    def n_inputs(self) -> int:
        return self.cell.n_inputs

    @property
    def n_neurons(self) -> int:
        return self.cell.n_neurons

    @property
    def dtype(self) -> np.dtype:
        return self.cell.dtype

    def zero_state(self, batch: int) -> Any:
        """The wrapped cell's zero state."""
        return self.cell.zero_state(batch)

    def as_state(self, name: str, state: Any, batch: int) -> Any:
        """The wrapped cell's state, checked and converted (a new array)."""
        if hasattr(self.cell, "as_state"):
            return self.cell.as_state(name, state, batch)
        array = np.asarray(state)  # BasicRNNCell: h [batch, n_neurons]
        v.check_numeric_kind(name, array.dtype.kind, array.dtype)
        v.check_state(name, array.shape, batch, self.n_neurons)
        return array.astype(self.dtype)

    def _mask(self, shape: tuple[int, ...], keep_prob: float) -> np.ndarray:
        """Bernoulli(keep_prob) as booleans: True where the entry is kept."""
        return self.rng.random(shape) < keep_prob

    def __call__(self, x_t: Any, state: Any = None) -> Any:
        """One time step: ``x_t`` [batch, n_inputs] (dropped while training) → the cell's
        new state (never dropped). Draws this step's output mask [batch, n_neurons]."""
        x_t = np.asarray(x_t)
        v.check_numeric_kind("x_t", x_t.dtype.kind, x_t.dtype)
        x_t = x_t.astype(self.dtype, copy=False)
        v.check_step_input("x_t", x_t.shape, self.n_inputs)
        if self.training and self.input_keep_prob < 1:
            keep = self._mask(x_t.shape, self.input_keep_prob)
            x_t = np.where(keep, x_t / self.dtype.type(self.input_keep_prob), self.dtype.type(0))
        state = self.cell(x_t, state)
        batch = x_t.shape[0]
        if self.training and self.output_keep_prob < 1:
            self._output_mask = self._mask((batch, self.n_neurons), self.output_keep_prob)
        else:
            self._output_mask = None
        return state

    def output(self, state: Any) -> np.ndarray:
        """The step's output [batch, n_neurons], dropped with the mask the latest call drew."""
        y = self.cell.output(state)
        if self._output_mask is None:
            return y
        if self._output_mask.shape != y.shape:
            raise ValueError(
                f"state must be the one the latest call returned (its output mask is "
                f"{list(self._output_mask.shape)}); got an output of shape {list(y.shape)}"
            )
        scaled = y / self.dtype.type(self.output_keep_prob)
        return np.where(self._output_mask, scaled, self.dtype.type(0))

    def __repr__(self) -> str:
        return (
            f"DropoutWrapper({self.cell!r}, input_keep_prob={self.input_keep_prob}, "
            f"output_keep_prob={self.output_keep_prob}, training={self.training})"
        )
