"""A deep (stacked) RNN as one cell, in PyTorch: TensorFlow 1.x's ``MultiRNNCell`` (chapter 12).

Same names and results as :mod:`companion.cells.numpy_stacked`. ``L`` layers; at
every time step the input goes through layer 0, its output into layer 1, …::

    s_t[0] = cell_0(x_t, s_{t-1}[0]);         y_t[0] = cell_0.output(s_t[0])
    s_t[k] = cell_k(y_t[k-1], s_{t-1}[k]);    y_t[k] = cell_k.output(s_t[k])
    state_t = (s_t[0], ..., s_t[L-1]);        y_t = y_t[L-1]

``torch.nn.RNN``/``nn.LSTM``/``nn.GRU`` with ``num_layers=L`` compute the same
function. The cell is an ``nn.Module`` whose submodules are the layers' cells, so
``parameters()`` lists every layer's weights and autograd reaches them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from companion import validation as v

__all__ = ["MultiRNNCell"]


class MultiRNNCell(torch.nn.Module):
    """Layers of recurrent cells stacked in depth; one call computes one time step of all.

    Parameters
    ----------
    cells : list of BasicRNNCell, LSTMCell, GRUCell or DropoutWrapper (torch), one per layer,
        bottom first
        ``cells[k].n_inputs == cells[k-1].n_neurons``; one dtype and one device.

    Attributes: ``cells`` (an ``nn.ModuleList``), ``n_inputs`` (``cells[0]``'s),
    ``n_neurons`` (``cells[-1]``'s), ``dtype``, ``device``. A state is a tuple with
    one state per layer (``[batch, n_neurons_k]``, or ``LSTMState(c, h)``).
    """

    def __init__(self, cells: Sequence[Any]) -> None:
        super().__init__()
        from companion.cells.torch_dropout import DropoutWrapper
        from companion.torch_rnn import BasicRNNCell, GRUCell, LSTMCell  # (it imports us)

        cells = v.check_cell_list(cells, (BasicRNNCell, LSTMCell, GRUCell, DropoutWrapper))
        v.check_layer_sizes([c.n_inputs for c in cells], [c.n_neurons for c in cells])
        v.check_same_across("cells", "dtype", [c.dtype for c in cells])
        v.check_same_across("cells", "device", [c.device for c in cells])
        self.cells = torch.nn.ModuleList(cells)

    @property
    def n_inputs(self) -> int:
        return self.cells[0].n_inputs

    @property
    def n_neurons(self) -> int:
        return self.cells[-1].n_neurons

    @property
    def dtype(self) -> torch.dtype:
        return self.cells[0].dtype

    @property
    def device(self) -> torch.device:
        return self.cells[0].device

    @classmethod
    def from_torch(cls, module: Any) -> MultiRNNCell:
        """The layers of a unidirectional ``torch.nn.RNN``/``LSTM``/``GRU`` (any
        ``num_layers``), weights copied exactly: layer ``k``'s ``Wx = weight_ih_l{k}.T``,
        ``Wy = weight_hh_l{k}.T``, biases as for one layer (dtype and device kept).
        ``module.dropout`` is not copied: the result computes the module's evaluation mode."""
        from companion.cells.interop import cells_from_torch_stack

        return cls(cells_from_torch_stack(module, "torch"))

    def to_torch(self, batch_first: bool = True) -> Any:
        """One ``torch.nn.RNN``/``LSTM``/``GRU`` with ``num_layers = len(cells)`` computing
        the same function: every layer of one kind and one width (layer 0's ``n_inputs``
        may differ), no ``DropoutWrapper`` (its masks are not a module option)."""
        from companion.cells.interop import torch_stack_from_cells

        return torch_stack_from_cells(list(self.cells), batch_first=batch_first)

    def zero_state(self, batch: int) -> tuple:
        """Each layer's zero state, in a tuple of ``len(cells)``."""
        return tuple(cell.zero_state(batch) for cell in self.cells)

    def as_state(self, name: str, state: Any, batch: int) -> tuple:
        """``state`` checked and converted: a tuple of one state per layer."""
        v.check_layer_states(name, state, len(self.cells))
        return tuple(
            _layer_state(cell, f"{name}[{k}]", part, batch)
            for k, (cell, part) in enumerate(zip(self.cells, state, strict=True))
        )

    def output(self, state: tuple) -> torch.Tensor:
        """The step's output: the last layer's output [batch, cells[-1].n_neurons]."""
        return self.cells[-1].output(state[-1])

    def step(self, x_t: torch.Tensor, state: tuple) -> tuple:
        """One step of every layer, bottom to top: each layer's output is the next one's input."""
        new_state = []
        for cell, layer_state in zip(self.cells, state, strict=True):
            layer_state = cell(x_t, layer_state)
            new_state.append(layer_state)
            x_t = cell.output(layer_state)
        return tuple(new_state)

    def forward(self, x_t: Any, state: Any = None) -> tuple:
        """One time step: ``x_t`` [batch, n_inputs] and a tuple of layer states (None:
        zeros) → the tuple of the layers' new states."""
        from companion.torch_rnn import as_tensor

        x_t = as_tensor("x_t", x_t, self)
        v.check_step_input("x_t", v.shape_of(x_t), self.n_inputs)
        batch = x_t.shape[0]
        state = self.zero_state(batch) if state is None else self.as_state("state", state, batch)
        return self.step(x_t, state)


def _layer_state(cell: Any, name: str, value: Any, batch: int) -> Any:
    """One layer's state checked and converted (a new tensor, never the caller's own)."""
    if hasattr(cell, "as_state"):  # LSTMCell, GRUCell
        return cell.as_state(name, value, batch)
    from companion.torch_rnn import as_tensor

    tensor = as_tensor(name, value, cell)  # BasicRNNCell: h [batch, n_neurons]
    v.check_state(name, v.shape_of(tensor), batch, cell.n_neurons)
    return tensor.clone()
