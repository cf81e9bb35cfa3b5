"""PyTorch conveniences for the training chapters: a model with a linear head, a step function.

Taught in chapter 9 (训练 RNN：随时间反向传播: the training loop in PyTorch),
used in chapters 10-11. Works with any cell that follows the course's protocol
(:class:`companion.torch_rnn.BasicRNNCell`, the LSTM and GRU cells of chapter
11): ``companion.torch_rnn.dynamic_rnn(cell, X)`` returns ``(outputs, state)``,
``cell.output(state)`` is the output ``y_t`` of a state, and the cell has
``n_neurons``, ``dtype`` and ``device``.

:class:`SequenceRegressor` (sequence to vector, or sequence to sequence)::

    outputs, state = dynamic_rnn(cell, X)       # [batch, n_steps, n_neurons]
    Y_hat = cell.output(state) @ W + c          # [batch, n_outputs]
    Y_hat = outputs @ W + c                     # per_step: [batch, n_steps, n_outputs]

:func:`make_torch_step` turns a model, a loss and an optimizer into the step
function :func:`companion.training.loop.train` calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from companion import torch_rnn as trnn
from companion import validation as v
from companion.training.clipping import clip_grad_norm, global_norm

__all__ = ["SequenceRegressor", "linear_head", "make_torch_step"]


def linear_head(
    n_neurons: int,
    n_outputs: int,
    *,
    seed: int | np.random.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: Any = None,
) -> torch.nn.Linear:
    """``torch.nn.Linear(n_neurons, n_outputs)`` with reproducible weights.

    Computes ``y @ W + c`` (PyTorch stores ``weight = W.T`` [n_outputs, n_neurons]).
    ``W`` and ``c`` are drawn with NumPy from ``U(-k, k)``, ``k = 1/sqrt(n_neurons)``
    (PyTorch's own bound), so the same ``seed`` gives the same head everywhere.
    """
    n_neurons = v.check_positive_int("n_neurons", n_neurons)
    n_outputs = v.check_positive_int("n_outputs", n_outputs)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    k = 1.0 / np.sqrt(n_neurons)
    head = torch.nn.Linear(n_neurons, n_outputs, dtype=dtype, device=device)
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(rng.uniform(-k, k, (n_outputs, n_neurons))))
        head.bias.copy_(torch.as_tensor(rng.uniform(-k, k, n_outputs)))
    return head


class SequenceRegressor(torch.nn.Module):
    """A recurrent cell followed by a linear head on its last output (or on every output).

    Parameters
    ----------
    cell : a torch cell of the course (``BasicRNNCell``, ``LSTMCell``, ``GRUCell``)
    n_outputs : int >= 1
    per_step : bool
        False (default): one prediction per sequence, from the output at its last
        valid step, ``cell.output(state)`` (sequence to vector). True: one prediction
        per step (sequence to sequence).
    seed : int, numpy.random.Generator or None, for the head's weights

    Inputs: ``X`` [batch, n_steps, n_inputs], ``sequence_length`` int [batch] or None.
    Output: [batch, n_outputs], or [batch, n_steps, n_outputs] with ``per_step``.
    """

    def __init__(
        self,
        cell: torch.nn.Module,
        n_outputs: int,
        *,
        per_step: bool = False,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(cell, torch.nn.Module):
            raise TypeError(f"cell must be a torch cell (an nn.Module); got {type(cell).__name__}")
        self.cell = cell
        self.per_step = bool(per_step)
        self.head = linear_head(
            cell.n_neurons, n_outputs, seed=seed, dtype=cell.dtype, device=cell.device
        )

    def forward(self, X: Any, sequence_length: Any = None) -> torch.Tensor:
        outputs, state = trnn.dynamic_rnn(self.cell, X, sequence_length=sequence_length)
        if self.per_step:
            return self.head(outputs)
        return self.head(self.cell.output(state))


def make_torch_step(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    batches: Callable[[int], tuple[Any, Any]] | tuple[Any, Any],
    clip_norm: float | None = None,
) -> Callable[[int], dict[str, float]]:
    """The step function of a PyTorch training loop, for :func:`companion.training.loop.train`.

    ``step(i)``::

        X, Y = batches(i)                       # or the same (X, Y) every step
        loss = loss_fn(model(X), Y)
        loss.backward()                         # gradients of every parameter
        grad_norm = global norm of the gradients (before clipping)
        clip them to clip_norm (PyTorch's clip_grad_norm_), if given
        optimizer.step()
        return {"loss": loss, "grad_norm": grad_norm}

    Parameters
    ----------
    model : nn.Module mapping ``X`` to predictions
    loss_fn : ``(predictions, Y) -> 0-d tensor`` (e.g. ``torch.nn.functional.mse_loss``)
    optimizer : a ``torch.optim`` optimizer over the model's parameters
    batches : function ``i -> (X, Y)``, or one pair ``(X, Y)`` used at every step
    clip_norm : float > 0 or None (no clipping)

    Returns
    -------
    step : function ``i -> {"loss": float, "grad_norm": float}``
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function; got {type(loss_fn).__name__}")
    one_pair = isinstance(batches, tuple) and len(batches) == 2
    if not (one_pair or callable(batches)):
        raise TypeError(
            "batches must be a function i -> (X, Y) or one pair (X, Y); "
            f"got {type(batches).__name__}"
        )
    if clip_norm is not None:
        clip_norm = v.check_positive_number("clip_norm", clip_norm)

    def step(i: int) -> dict[str, float]:
        X, Y = batches if one_pair else batches(i)  # one pair: full-batch training
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        params = [p for p in model.parameters() if p.grad is not None]
        if clip_norm is None:
            grad_norm = global_norm([p.grad for p in params])
        else:
            grad_norm = clip_grad_norm(params, clip_norm)
        optimizer.step()
        return {"loss": float(loss.detach()), "grad_norm": grad_norm}

    return step
