"""What autograd keeps for the backward pass, and two ways to keep less.

Taught in chapter 5 (静态展开: the memory grows with ``n_steps``) and chapter 6
(动态展开: ``swap_memory`` and gradient checkpointing). One idea per module:

* :mod:`~companion.memory.saved_tensors` -- :func:`record_saved_tensors` /
  :func:`saved_tensor_log`: every tensor saved during a forward pass, and
  where it ended up (kept as is, copied to the CPU by ``save_on_cpu``, or
  dropped by ``torch.utils.checkpoint`` to be recomputed);
* :mod:`~companion.memory.checkpointing` -- :func:`checkpointed_dynamic_rnn`:
  ``dynamic_rnn`` with gradient checkpointing over chunks of ``chunk`` steps;
* :mod:`~companion.memory.flops` -- :func:`matmul_flops`: the compute
  checkpointing pays, counted exactly;
* :mod:`~companion.memory.measure` -- :func:`cuda_peak_memory`,
  :func:`time_forward_backward`, :func:`compare_strategies`: time and true
  GPU peak, measured (they change from run to run).

For one step of the basic cell, ``h_t = tanh(x_t @ Wx + h_{t-1} @ Wy + b)``,
autograd keeps ``x_t`` [batch, n_inputs], ``h_t`` [batch, n_neurons] and
``Wy``; over ``n_steps`` steps in float32, parameters left out::

    kept_nbytes = 4 * batch * (n_inputs + n_neurons) * n_steps + 4 * batch * n_neurons
"""

from companion.memory.checkpointing import checkpointed_dynamic_rnn
from companion.memory.flops import matmul_flops
from companion.memory.measure import compare_strategies, cuda_peak_memory, time_forward_backward
from companion.memory.saved_tensors import (
    SavedTensor,
    SavedTensorLog,
    record_saved_tensors,
    saved_tensor_log,
)

__all__ = [
    "SavedTensor",
    "SavedTensorLog",
    "checkpointed_dynamic_rnn",
    "compare_strategies",
    "cuda_peak_memory",
    "matmul_flops",
    "record_saved_tensors",
    "saved_tensor_log",
    "time_forward_backward",
]
