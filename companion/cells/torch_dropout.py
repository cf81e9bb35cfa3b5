"""Dropout around a cell, in PyTorch: TensorFlow 1.x's ``DropoutWrapper`` (chapter 12).

Same names and equations as :mod:`companion.cells.numpy_dropout`::

    s_t = cell(m_in ⊙ x_t / input_keep_prob, s_{t-1})
    y_t = m_out ⊙ cell.output(s_t) / output_keep_prob

with fresh Bernoulli(keep_prob) masks at every step, only while the module is in
training mode (``.train()``, the default of every ``nn.Module``); after ``.eval()``
the wrapper is the bare cell. The state carried to the next step is never dropped
(an LSTM's ``(c_t, h_t)`` stays whole); the output mask is drawn by the call and
applied by ``output(state)``, which is what ``MultiRNNCell`` feeds the layer above.
Masks come from torch's global generator (``torch.manual_seed``) or from the
``torch.Generator`` given as ``generator`` (on the cell's device). Dropping is
differentiable: gradients flow through the kept entries, scaled by ``1 / keep_prob``.
"""

from __future__ import annotations

from typing import Any

import torch

from companion import validation as v

__all__ = ["DropoutWrapper"]


class DropoutWrapper(torch.nn.Module):
    """A cell whose input and output are dropped (inverted dropout) in training mode.

    Parameters
    ----------
    cell : BasicRNNCell, LSTMCell, GRUCell or MultiRNNCell (torch); a submodule
    input_keep_prob, output_keep_prob : float in (0, 1]
    generator : torch.Generator on the cell's device, or None (torch's global generator)

    Attributes: ``cell``, ``input_keep_prob``, ``output_keep_prob``, ``training``
    (``nn.Module``'s), ``n_inputs``, ``n_neurons``, ``dtype``, ``device`` (the cell's).
    """

    def __init__(
        self,
        cell: Any,
        input_keep_prob: float = 1.0,
        output_keep_prob: float = 1.0,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        from companion.torch_rnn import CELLS  # (it imports us)

        v.check_cell_types(cell, CELLS)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(
                f"generator must be a torch.Generator or None; got {type(generator).__name__}"
            )
        self.cell = cell
        self.input_keep_prob = v.check_keep_prob("input_keep_prob", input_keep_prob)
        self.output_keep_prob = v.check_keep_prob("output_keep_prob", output_keep_prob)
        self.generator = generator
        self._output_mask: torch.Tensor | None = None  # drawn by the latest call

    def train(self, mode: bool = True) -> DropoutWrapper:
        """Training mode on (``mode=True``) or off, for the wrapper and its cell."""
        return super().train(v.check_bool("mode", mode))

    @property
    def n_inputs(self) -> int:
        return self.cell.n_inputs

    @property
    def n_neurons(self) -> int:
        return self.cell.n_neurons

    @property
    def dtype(self) -> torch.dtype:
        return self.cell.dtype

    @property
    def device(self) -> torch.device:
        return self.cell.device

    def zero_state(self, batch: int) -> Any:
        """The wrapped cell's zero state."""
        return self.cell.zero_state(batch)

    def as_state(self, name: str, state: Any, batch: int) -> Any:
        """The wrapped cell's state, checked and converted."""
        if hasattr(self.cell, "as_state"):
            return self.cell.as_state(name, state, batch)
        from companion.torch_rnn import as_tensor

        tensor = as_tensor(name, state, self.cell)  # BasicRNNCell: h [batch, n_neurons]
        v.check_state(name, v.shape_of(tensor), batch, self.n_neurons)
        return tensor.clone()

    def _mask(self, shape: tuple[int, ...], keep_prob: float) -> torch.Tensor:
        """Bernoulli(keep_prob) as booleans: True where the entry is kept."""
        draws = torch.empty(shape, dtype=self.dtype, device=self.device)
        return draws.bernoulli_(keep_prob, generator=self.generator).bool()

    def forward(self, x_t: Any, state: Any = None) -> Any:
        """One time step: ``x_t`` [batch, n_inputs] (dropped in training mode) → the cell's
        new state (never dropped). Draws this step's output mask [batch, n_neurons]."""
        from companion.torch_rnn import as_tensor

        x_t = as_tensor("x_t", x_t, self.cell)
        v.check_step_input("x_t", v.shape_of(x_t), self.n_inputs)
        if self.training and self.input_keep_prob < 1:
            keep = self._mask(tuple(x_t.shape), self.input_keep_prob)
            x_t = torch.where(keep, x_t / self.input_keep_prob, 0.0)
        state = self.cell(x_t, state)
        if self.training and self.output_keep_prob < 1:
            self._output_mask = self._mask((x_t.shape[0], self.n_neurons), self.output_keep_prob)
        else:
            self._output_mask = None
        return state

    def output(self, state: Any) -> torch.Tensor:
        """The step's output [batch, n_neurons], dropped with the mask the latest call drew."""
        y = self.cell.output(state)
        if self._output_mask is None:
            return y
        if self._output_mask.shape != y.shape:
            raise ValueError(
                f"state must be the one the latest call returned (its output mask is "
                f"{list(self._output_mask.shape)}); got an output of shape {list(y.shape)}"
            )
        return torch.where(self._output_mask, y / self.output_keep_prob, 0.0)

    def extra_repr(self) -> str:
        return f"input_keep_prob={self.input_keep_prob}, output_keep_prob={self.output_keep_prob}"
