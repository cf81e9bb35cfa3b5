"""Gated recurrent cells: LSTM and GRU (chapter 11, LSTM 与 GRU).

* :mod:`companion.cells.numpy_cells` -- ``LSTMCell``, ``GRUCell``, ``LSTMState`` in NumPy;
* :mod:`companion.cells.torch_cells` -- the same names in PyTorch (``nn.Module`` cells);
* :mod:`companion.cells.interop` -- weights to and from ``nn.LSTM``/``nn.GRU`` and
  TensorFlow 1.x's layouts.
* :mod:`companion.cells.numpy_stacked`, :mod:`companion.cells.torch_stacked` --
  ``MultiRNNCell``: stacked layers as one cell whose state is a tuple of the
  layers' states (TensorFlow 1.x's ``MultiRNNCell``, chapter 12).
* :mod:`companion.cells.numpy_dropout`, :mod:`companion.cells.torch_dropout` --
  ``DropoutWrapper``: a cell whose input and output are dropped while training
  (TensorFlow 1.x's ``DropoutWrapper``, chapter 12).

Chapters use them through :mod:`companion.numpy_rnn` and :mod:`companion.torch_rnn`,
which re-export them (``nrnn.LSTMCell``) and run them with ``static_rnn`` and
``dynamic_rnn``. Importing this package imports neither torch nor its submodules.

The cell protocol
-----------------
Every cell of the course -- ``BasicRNNCell``, ``LSTMCell``, ``GRUCell``, in both
backends -- offers:

* ``cell(x_t, state) -> new_state``: one time step; ``x_t`` [batch, n_inputs];
  ``state=None`` means zeros.
* ``cell.zero_state(batch)``: the zero state.
* ``cell.output(state) -> y_t`` [batch, n_neurons]: what the step emits -- the
  state itself for ``BasicRNNCell`` and ``GRUCell``, ``state.h`` for ``LSTMCell``.
* ``cell.n_inputs``, ``cell.n_neurons``, ``cell.dtype`` (torch cells also
  ``cell.device``; they are ``nn.Module``s whose parameters are the weights).

A state is an array [batch, n_neurons] (``h``), or for the LSTM an
``LSTMState(c, h)``: a named pair, each part [batch, n_neurons], in TensorFlow
1.x's ``LSTMStateTuple`` order. Any pair ``(c, h)`` is accepted where a state is
expected.

The gated cells also split a step in two, so that a loop over time can compute
every step's input term in one product: ``cell.input_term(X)`` is ``X @ Wx + b``
(any leading axes) and ``cell.step(xw_t, state)`` the rest of the step;
``cell.as_state(name, state, batch)`` checks and converts a state.
"""

__all__: list[str] = []
