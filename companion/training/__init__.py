"""Training recurrent networks: BPTT by hand, gradient checks, clipping, optimizers, loops.

Taught in chapter 9 (训练 RNN：随时间反向传播), chapter 10 (梯度消失与梯度爆炸)
and chapter 11 (LSTM 与 GRU). One idea per module:

* :mod:`~companion.training.bptt` -- :func:`forward` / :func:`backward`:
  back-propagation through time for the basic cell, in NumPy (chapter 9);
* :mod:`~companion.training.jacobians` -- Jacobian products and gradient norms against
  distance, spectral radius (chapter 10);
* :mod:`~companion.training.gradcheck` -- :func:`numerical_gradient`,
  :func:`relative_error`: checking a gradient with finite differences (chapter 9);
* :mod:`~companion.training.clipping` -- :func:`global_norm`,
  :func:`clip_by_global_norm`, :func:`clip_by_value` (NumPy or torch) and
  :func:`clip_grad_norm` (torch, in place) (chapter 10);
* :mod:`~companion.training.optimizers` -- :func:`sgd_step`, :class:`Adam` in NumPy;
* :mod:`~companion.training.loop` -- :func:`train` and its :class:`History`;
* :mod:`~companion.training.torch_loop` -- ``SequenceRegressor``, ``linear_head``,
  ``make_torch_step`` (PyTorch);
* :mod:`~companion.training.truncated` -- truncated BPTT: ``detach_state``,
  ``truncated_windows``, ``train_truncated`` (PyTorch, chapter 9).

Importing this package does not import torch: the names above come from the
NumPy modules; the last two modules are imported by name
(``from companion.training.truncated import train_truncated``).
"""

from companion.training.bptt import ForwardCache, Gradients, backward, forward
from companion.training.clipping import (
    clip_by_global_norm,
    clip_by_value,
    clip_grad_norm,
    global_norm,
)
from companion.training.gradcheck import numerical_gradient, relative_error
from companion.training.loop import History, train
from companion.training.optimizers import Adam, sgd_step

__all__ = [
    "Adam",
    "ForwardCache",
    "Gradients",
    "History",
    "backward",
    "clip_by_global_norm",
    "clip_by_value",
    "clip_grad_norm",
    "forward",
    "global_norm",
    "numerical_gradient",
    "relative_error",
    "sgd_step",
    "train",
]
