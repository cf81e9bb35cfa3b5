"""companion: the tested code behind the RNN course.

Two backends with the same public names:

* :mod:`companion.numpy_rnn` -- the NumPy reference implementation;
* :mod:`companion.torch_rnn` -- the PyTorch implementation (CPU or GPU).

Importing :mod:`companion` or :mod:`companion.numpy_rnn` does not import torch.
"""

__version__ = "0.1.0"
