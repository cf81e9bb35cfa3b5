"""Layers built from whole RNN runs, not from one step (chapter 12, 深层 RNN、双向 RNN 与应用).

A cell (:mod:`companion.cells`) computes one time step and is unrolled by
``dynamic_rnn``; a layer here *calls* ``dynamic_rnn`` -- a bidirectional RNN is two
runs over the same batch, one of them over each sequence reversed:

* :mod:`companion.layers.numpy_bidirectional` -- ``reverse_sequence`` and
  ``bidirectional_dynamic_rnn`` in NumPy;
* :mod:`companion.layers.torch_bidirectional` -- the same names in PyTorch;
* :mod:`companion.layers.torch_deep` -- ``deep_dynamic_rnn``: stacked layers run one
  after the other with dropout between them, as ``nn.RNN(num_layers=L, dropout=p)``.

Chapters use the bidirectional ones through :mod:`companion.numpy_rnn` and
:mod:`companion.torch_rnn`, which re-export them (``nrnn.bidirectional_dynamic_rnn``).
Importing this package imports neither torch nor its submodules.
"""

__all__: list[str] = []
