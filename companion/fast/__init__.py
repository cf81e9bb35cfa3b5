"""The fast paths of ``dynamic_rnn``, beside the readable reference loops.

Taught in chapter 7 (packing) and the appendix 性能 (cuDNN). The reference is
the loop in :func:`companion.numpy_rnn.dynamic_rnn` and
:func:`companion.torch_rnn.dynamic_rnn` (chapter 6); everything here computes
the same function faster and is tested against it (``tests/test_fast_paths.py``):

* :mod:`companion.fast.packing` -- the plan: sort the batch by length, so that the
  instances running at step ``t`` are a prefix; pure NumPy;
* :mod:`companion.fast.numpy_packed` -- the NumPy recurrence on packed rows, in place;
* :mod:`companion.fast.numpy_gated` -- the NumPy LSTM and GRU loops, in place (chapter 11);
* :mod:`companion.fast.torch_packed` -- the same in PyTorch, with a hand-written
  backward pass (back-propagation through time) as ``autograd.Function`` s;
* :mod:`companion.fast.torch_gated` -- the LSTM and GRU cells' whole sequence (chapter 11)
  as ``autograd.Function`` s with a hand-written backward pass;
* :mod:`companion.fast.cudnn` -- PyTorch's fused RNN kernel (cuDNN on a GPU).

``dynamic_rnn`` chooses among them with its ``backend`` argument; its docstring
says which runs by default. This package imports nothing itself, so that
:mod:`companion.numpy_rnn` can use its NumPy part without importing torch.
"""
