"""Greedy decoding: emit the most likely token, feed it back, stop at EOS.

Taught in chapter 8 (变长输出序列); used again by the encoder-decoder chapter.
For each row ``i`` still decoding, at step ``t``::

    logits, h_i  = step_fn(prev_i, h_i)        # prev_i: the token emitted at t - 1
    tokens[i, t] = argmax(logits)              # (start_token at t = 0)
    row i stops after step t if tokens[i, t] == eos_id

so each row's length follows the rule of :mod:`companion.sequences.eos`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from companion import validation as v
from companion.sequences._shared import host, start_tokens, torch_if_tensor

__all__ = ["greedy_decode"]


def _rows(state: Any, index: Any) -> Any:
    """Rows ``index`` of a state (an array/tensor or a tuple of them)."""
    if isinstance(state, tuple):
        return tuple(_rows(s, index) for s in state)
    return state[index]


def _put_rows(state: Any, index: Any, new: Any, name: str = "state") -> Any:
    """A copy of ``state`` with rows ``index`` replaced by ``new`` (same structure)."""
    if isinstance(state, tuple):
        if not isinstance(new, tuple) or len(new) != len(state):
            raise ValueError(f"step_fn must return a {name} with {len(state)} parts like its input")
        return tuple(
            _put_rows(s, index, n, f"{name}[{k}]")
            for k, (s, n) in enumerate(zip(state, new, strict=True))
        )
    want = (len(index), *state.shape[1:])
    if tuple(new.shape) != want:
        raise ValueError(
            f"step_fn must return a {name} of shape {list(want)} (the rows still decoding); "
            f"got {list(new.shape)}"
        )
    torch = torch_if_tensor(state)
    if torch is None:
        out = state.copy()
        out[index] = new
        return out
    return state.index_copy(0, index, new.to(state.dtype))


def _first_leaf(state: Any) -> Any:
    while isinstance(state, tuple):
        if not state:
            raise ValueError("start_state must not be an empty tuple")
        state = state[0]
    return state


def greedy_decode(
    step_fn: Callable[[Any, Any], tuple[Any, Any]],
    start_state: Any,
    start_token: Any,
    eos_id: int,
    max_steps: int,
    *,
    pad_id: int = 0,
) -> tuple[Any, Any]:
    """Decode a batch greedily, one token per step, each row until it emits EOS.

    For each row ``i`` still decoding, at step ``t``::

        logits, h_i = step_fn(prev_i, h_i)        # prev_i: the token emitted at t-1
        tokens[i, t] = argmax(logits)             # (start_token at t = 0)
        row i stops after step t if tokens[i, t] == eos_id

    A row that has emitted EOS is no longer passed to ``step_fn``: its state is
    not updated and its remaining positions hold ``pad_id``. Decoding ends when
    every row has stopped or after ``max_steps`` steps; a row that never emits
    EOS is cut at ``max_steps`` and gets the full length (its last token is then
    not EOS).

    Parameters
    ----------
    step_fn : callable ``(prev_tokens, state) -> (logits, new_state)``
        ``prev_tokens`` int64 [k] (the ``k`` rows still decoding, in their
        original order), ``state`` [k, ...] (or a tuple of such arrays, e.g. an
        LSTM's ``(h, c)``); it returns ``logits`` [k, n_classes] and
        ``new_state`` shaped like ``state``.
    start_state : [batch, ...] array or tensor, or a tuple of them
        The decoder's initial state (e.g. an encoder's final state). Tensors
        make the decoding run in torch, on their device.
    start_token : int, or int [batch]
        The token fed to the first step (a GO / BOS token).
    eos_id : int >= 0
    max_steps : int >= 1
    pad_id : int >= 0, default 0
        Written after each row's EOS.

    Returns
    -------
    tokens : int64 [batch, n_run], ``n_run <= max_steps`` the number of steps run
    lengths : int64 [batch], up to and including each row's EOS (``max_steps`` for a
        row without EOS); equal to ``lengths_from_eos(tokens, eos_id)``
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable; got {type(step_fn).__name__}")
    eos_id = v.check_int("eos_id", eos_id, 0)
    pad_id = v.check_int("pad_id", pad_id, 0)
    max_steps = v.check_positive_int("max_steps", max_steps)
    leaf = _first_leaf(start_state)
    if not hasattr(leaf, "shape") or len(leaf.shape) < 1:
        raise TypeError(
            "start_state must be an array or tensor [batch, ...] (or a tuple of them); "
            f"got {type(leaf).__name__}"
        )
    batch = int(leaf.shape[0])
    torch = torch_if_tensor(leaf)
    start = start_tokens(start_token, batch)

    tokens = np.full((batch, max_steps), pad_id, dtype=np.int64)
    lengths = np.full(batch, max_steps, dtype=np.int64)
    prev = start.astype(np.int64)
    running = np.arange(batch)  # rows still decoding, in their original order
    state = start_state
    n_run = 0
    while running.size and n_run < max_steps:
        t = n_run
        if torch is None:
            index, prev_in = running, prev[running]
        else:
            index = torch.as_tensor(running, device=leaf.device)
            prev_in = torch.as_tensor(prev[running], device=leaf.device)
        logits, new_state = step_fn(prev_in, _rows(state, index))
        shape = tuple(int(n) for n in logits.shape)
        if len(shape) != 2 or shape[0] != running.size:
            raise ValueError(
                f"step_fn must return logits of shape [k, n_classes] with k = {running.size} "
                f"(the rows still decoding); got {list(shape)} at step {t}"
            )
        state = _put_rows(state, index, new_state)
        emitted = host(logits.argmax(-1)).astype(np.int64)
        tokens[running, t] = emitted
        prev[running] = emitted
        done = emitted == eos_id
        lengths[running[done]] = t + 1
        running = running[~done]
        n_run += 1
    tokens = tokens[:, :n_run]
    if torch is not None:
        return torch.as_tensor(tokens, device=leaf.device), torch.as_tensor(
            lengths, device=leaf.device
        )
    return tokens, lengths
