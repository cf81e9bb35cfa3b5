"""A deep (stacked) RNN as one cell, in NumPy: TensorFlow 1.x's ``MultiRNNCell`` (chapter 12).

``L`` layers, each any cell of the course; at every time step the input goes
through layer 0, its output into layer 1, and so on::

    s_t[0] = cell_0(x_t, s_{t-1}[0]);         y_t[0] = cell_0.output(s_t[0])
    s_t[k] = cell_k(y_t[k-1], s_{t-1}[k]);    y_t[k] = cell_k.output(s_t[k])
    state_t = (s_t[0], ..., s_t[L-1]);        y_t = y_t[L-1]

so layer ``k`` needs ``n_inputs`` equal to layer ``k-1``'s ``n_neurons``. This is
what ``torch.nn.RNN``/``nn.LSTM``/``nn.GRU`` compute with ``num_layers=L`` (no
dropout between layers). The cell follows the protocol of :mod:`companion.cells`,
so :func:`companion.numpy_rnn.dynamic_rnn` and ``static_rnn`` run it like any other
cell, every layer's state carried past each ``sequence_length``. This module never
imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from companion import validation as v

__all__ = ["MultiRNNCell"]


def _as_array(name: str, value: Any, dtype: np.dtype) -> np.ndarray:
    """User data as an array of the cell's dtype (integers accepted)."""
    array = np.asarray(value)
    v.check_numeric_kind(name, array.dtype.kind, array.dtype)
    return array.astype(dtype, copy=False)


class MultiRNNCell:
    """Layers of recurrent cells stacked in depth; one call computes one time step of all.

    Parameters
    ----------
    cells : list of BasicRNNCell, LSTMCell, GRUCell or DropoutWrapper (NumPy), one per layer,
        bottom first
        ``cells[k].n_inputs == cells[k-1].n_neurons``; all of one dtype.

    Attributes
    ----------
    cells : list of the layers' cells (the cells themselves, not copies)
    n_inputs : ``cells[0].n_inputs``
    n_neurons : ``cells[-1].n_neurons`` (the size of the output)
    dtype : the cells' dtype

    A state is a tuple with one state per layer: ``[batch, n_neurons_k]`` for a
    basic or GRU layer, ``LSTMState(c, h)`` for an LSTM layer.
    """

    def __init__(self, cells: Sequence[Any]) -> None:
        from companion.cells.numpy_dropout import DropoutWrapper
        from companion.numpy_rnn import BasicRNNCell, GRUCell, LSTMCell  # (it imports us)

        cells = v.check_cell_list(cells, (BasicRNNCell, LSTMCell, GRUCell, DropoutWrapper))
        v.check_layer_sizes([c.n_inputs for c in cells], [c.n_neurons for c in cells])
        v.check_same_across("cells", "dtype", [c.dtype for c in cells])
        self.cells = cells
        self.n_inputs = cells[0].n_inputs
        self.n_neurons = cells[-1].n_neurons
        self.dtype = cells[0].dtype

    @classmethod
    def from_torch(cls, module: Any) -> MultiRNNCell:
        """The layers of a unidirectional ``torch.nn.RNN``/``LSTM``/``GRU`` (any
        ``num_layers``), weights copied exactly: layer ``k``'s ``Wx = weight_ih_l{k}.T``,
        ``Wy = weight_hh_l{k}.T``, biases as for one layer (CPU arrays).
        ``module.dropout`` is not copied: the result computes the module's evaluation mode."""
        from companion.cells.interop import cells_from_torch_stack

        return cls(cells_from_torch_stack(module, "numpy"))

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
        """``state`` checked and converted: a tuple of one state per layer (new arrays)."""
        v.check_layer_states(name, state, len(self.cells))
        return tuple(
            _layer_state(cell, f"{name}[{k}]", part, batch)
            for k, (cell, part) in enumerate(zip(self.cells, state, strict=True))
        )

    def output(self, state: tuple) -> np.ndarray:
        """The step's output: the last layer's output [batch, cells[-1].n_neurons]."""
        return self.cells[-1].output(state[-1])

    def step(self, x_t: np.ndarray, state: tuple) -> tuple:
        """One step of every layer, bottom to top: each layer's output is the next one's input."""
        new_state = []
        for cell, layer_state in zip(self.cells, state, strict=True):
            layer_state = cell(x_t, layer_state)
            new_state.append(layer_state)
            x_t = cell.output(layer_state)
        return tuple(new_state)

    def __call__(self, x_t: Any, state: Any = None) -> tuple:
        """One time step.

        Parameters
        ----------
        x_t : [batch, n_inputs]
        state : tuple of one state per layer, or None (zeros)

        Returns
        -------
        tuple of the layers' new states
        """
        x_t = _as_array("x_t", x_t, self.dtype)
        v.check_step_input("x_t", x_t.shape, self.n_inputs)
        batch = x_t.shape[0]
        state = self.zero_state(batch) if state is None else self.as_state("state", state, batch)
        return self.step(x_t, state)

    def __repr__(self) -> str:
        layers = ", ".join(repr(cell) for cell in self.cells)
        return f"MultiRNNCell([{layers}])"


def _layer_state(cell: Any, name: str, value: Any, batch: int) -> Any:
    """One layer's state checked and converted (a new array, never the caller's own)."""
    if hasattr(cell, "as_state"):  # LSTMCell, GRUCell
        return cell.as_state(name, value, batch)
    array = _as_array(name, value, cell.dtype)  # BasicRNNCell: h [batch, n_neurons]
    v.check_state(name, array.shape, batch, cell.n_neurons)
    return array.copy()
