"""Truncated back-propagation through time, in PyTorch.

Taught in chapter 9 (训练 RNN：随时间反向传播). Full BPTT over a long sequence
keeps every step for the backward pass. Truncated BPTT cuts the sequence
into consecutive windows of ``window`` steps and makes one update per window::

    state = zero state
    for each window [t0, t0 + window):
        outputs, state = dynamic_rnn(cell, X[:, t0 : t0 + window], initial_state=state)
        loss(outputs, Y[:, t0 : t0 + window]).backward();  update the weights
        state = detach_state(state)

The **state is carried** from one window to the next, so the forward pass sees
the whole past. ``detach()`` **cuts the graph** there, so the gradient of a
window's loss reaches back at most to the window's first step: a dependence
longer than ``window`` steps gets no gradient that could teach it. On the echo
task (:mod:`companion.data.echo`) with delay ``k`` a window much shorter than
``k`` learns nothing, unless the state already happens to carry the signal
(short delays).

Works with any cell of the course: the state may be a tensor or a tuple such
as ``LSTMState(c, h)`` (:func:`detach_state` handles both).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from companion import torch_rnn as trnn
from companion import validation as v
from companion.training.clipping import clip_grad_norm, global_norm
from companion.training.loop import History, train

__all__ = ["detach_state", "train_truncated", "truncated_windows"]


def detach_state(state: Any) -> Any:
    """The same state cut from the graph: a tensor's ``detach()``, or each part of a tuple's.

    Parameters
    ----------
    state : tensor [batch, n_neurons], or a tuple / NamedTuple of them
        (e.g. ``LSTMState(c, h)``); the type is kept.

    Returns
    -------
    The same values, with no history: gradients stop here.
    """
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, tuple):
        parts = [detach_state(part) for part in state]
        return type(state)(*parts) if hasattr(state, "_fields") else tuple(parts)
    raise TypeError(
        "state must be a tensor or a tuple of tensors (such as LSTMState); "
        f"got {type(state).__name__}"
    )


def truncated_windows(
    cell: torch.nn.Module, X: Any, window: int, initial_state: Any = None
) -> Iterator[tuple[int, torch.Tensor]]:
    """Run ``cell`` over ``X`` window by window: state carried, graph cut between windows.

    A generator: the next window is computed only when asked for, so the weights
    an optimizer updated in between are the ones it uses.

    Parameters
    ----------
    cell : a torch cell of the course
    X : [batch, n_steps, n_inputs]
    window : int >= 1; the last window may be shorter
    initial_state : the cell's state for the first window, or None (zeros)

    Yields
    ------
    start : int, the window's first step
    outputs : [batch, length of the window, n_neurons], differentiable back to step ``start``
    """
    window = v.check_positive_int("window", window)
    X = trnn.as_tensor("X", X, cell)
    v.check_sequence_input(v.shape_of(X), cell.n_inputs, time_major=False)
    state = cell.zero_state(X.shape[0]) if initial_state is None else initial_state
    for start in range(0, X.shape[1], window):
        outputs, state = trnn.dynamic_rnn(
            cell, X[:, start : start + window], initial_state=detach_state(state)
        )
        yield start, outputs


def train_truncated(
    cell: torch.nn.Module,
    head: torch.nn.Module,
    X: Any,
    Y: Any,
    window: int,
    n_updates: int,
    lr: float,
    *,
    clip_norm: float | None = None,
    desc: str | None = None,
    log_every: int = 1,
) -> History:
    """Train ``cell`` and ``head`` with truncated BPTT and Adam; one update per window.

    The windows of :func:`truncated_windows` are visited in order, over and over:
    each pass over the sequences starts again from the zero state. For each::

        loss = mean((head(outputs) - Y[:, start : start + window])²)
        loss.backward();  clip to clip_norm (if given);  Adam step with lr

    Parameters
    ----------
    cell : a torch cell of the course
    head : nn.Module, ``[..., n_neurons] -> [..., n_outputs]`` (e.g.
        :func:`companion.training.torch_loop.linear_head`)
    X : [batch, n_steps, n_inputs], one long batch of sequences
    Y : [batch, n_steps, n_outputs], the target at every step
    window : int >= 1, the steps per update (and the gradient's reach)
    n_updates : int >= 0
    lr : float > 0, Adam's learning rate
    clip_norm : float > 0 or None, clipping by global norm (PyTorch's formula)
    desc, log_every : as for :func:`companion.training.loop.train`

    Returns
    -------
    History with ``"loss"`` (the window's MSE) and ``"grad_norm"`` (before clipping).
    """
    X = trnn.as_tensor("X", X, cell)
    v.check_sequence_input(v.shape_of(X), cell.n_inputs, time_major=False)
    Y = trnn.as_tensor("Y", Y, cell)
    batch, n_steps = X.shape[:2]
    v.check_rank_and_sizes(
        "Y", v.shape_of(Y), ("batch", "n_steps", "n_outputs"), (batch, n_steps, None)
    )
    window = v.check_positive_int("window", window)
    lr = v.check_positive_number("lr", lr)
    if clip_norm is not None:
        clip_norm = v.check_positive_number("clip_norm", clip_norm)
    if n_steps == 0:
        raise ValueError("X must have at least one step to train on; got n_steps = 0")
    params = [*cell.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(params, lr=lr)

    def endless_windows() -> Iterator[tuple[int, torch.Tensor]]:
        while True:  # each pass starts again from the zero state
            yield from truncated_windows(cell, X, window)

    windows = endless_windows()

    def step(i: int) -> dict[str, float]:
        start, outputs = next(windows)
        target = Y[:, start : start + window]
        loss = torch.mean((head(outputs) - target) ** 2)
        optimizer.zero_grad()
        loss.backward()
        if clip_norm is None:
            grad_norm = global_norm([p.grad for p in params if p.grad is not None])
        else:
            grad_norm = clip_grad_norm(params, clip_norm)
        optimizer.step()
        return {"loss": float(loss.detach()), "grad_norm": grad_norm}

    return train(step, n_updates, desc=desc, log_every=log_every)
