"""Tests of ``companion.training.truncated``: truncated BPTT (chapter 9).

The state is carried across windows (the forward pass equals one long run), the
gradient stops at the window's first step, and tuple states (LSTMState) detach.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
import torch

from companion import torch_rnn as trnn
from companion.data import echo_task
from companion.training.torch_loop import linear_head
from companion.training.truncated import detach_state, train_truncated, truncated_windows


class PairState(NamedTuple):
    c: torch.Tensor
    h: torch.Tensor


def test_detach_state_keeps_values_and_type():
    x = torch.ones(2, 3, requires_grad=True)
    for state in (x * 2, PairState(x * 2, x * 3), (x * 2, x * 3)):
        cut = detach_state(state)
        assert type(cut) is type(state)
        parts = cut if isinstance(cut, tuple) else (cut,)
        originals = state if isinstance(state, tuple) else (state,)
        for part, original in zip(parts, originals, strict=True):
            assert not part.requires_grad and torch.equal(part, original)
    with pytest.raises(TypeError, match="state must be a tensor or a tuple of tensors"):
        detach_state([x])


@pytest.mark.skipif(not hasattr(trnn, "LSTMState"), reason="LSTM cells not available")
def test_detach_state_of_an_lstm_state():
    x = torch.ones(2, 3, requires_grad=True)
    cut = detach_state(trnn.LSTMState(x * 2, x * 3))
    assert isinstance(cut, trnn.LSTMState) and not cut.h.requires_grad


def test_windows_carry_the_state():
    cell = trnn.BasicRNNCell(1, 4, dtype=torch.float64, seed=0)
    X, _ = echo_task(3, 10, 2, seed=0)
    starts, pieces = zip(*truncated_windows(cell, X, 4), strict=True)
    assert starts == (0, 4, 8) and [p.shape[1] for p in pieces] == [4, 4, 2]
    full, _ = trnn.dynamic_rnn(cell, X)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, rtol=1e-14, atol=1e-14)


def test_the_gradient_stops_at_the_window_start():
    cell = trnn.BasicRNNCell(1, 4, dtype=torch.float64, seed=0)
    X = torch.tensor(echo_task(2, 9, 1, seed=1)[0], requires_grad=True)
    *_, (start, last) = truncated_windows(cell, X, 3)
    (dX,) = torch.autograd.grad(last.sum(), X)
    assert start == 6
    assert torch.all(dX[:, :6] == 0)  # earlier inputs shaped the state, but get no gradient
    assert torch.all(dX[:, 6:] != 0)


def test_one_window_is_full_bptt():
    """window = n_steps: every update is an ordinary Adam step on the whole sequence."""
    X, Y = echo_task(4, 6, 1, seed=2)
    cell = trnn.BasicRNNCell(1, 3, dtype=torch.float64, seed=1)
    head = linear_head(3, 1, seed=2, dtype=torch.float64)
    ref_cell = trnn.BasicRNNCell(1, 3, dtype=torch.float64, seed=1)
    ref_head = linear_head(3, 1, seed=2, dtype=torch.float64)
    history = train_truncated(cell, head, X, Y, window=6, n_updates=3, lr=0.01)
    opt = torch.optim.Adam([*ref_cell.parameters(), *ref_head.parameters()], lr=0.01)
    losses = []
    for _ in range(3):
        outputs, _ = trnn.dynamic_rnn(ref_cell, X)
        loss = torch.mean((ref_head(outputs) - torch.from_numpy(Y)) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-13)
    torch.testing.assert_close(cell.Wy, ref_cell.Wy, rtol=1e-13, atol=1e-15)


def test_each_pass_restarts_from_the_zero_state():
    X, Y = echo_task(2, 4, 1, seed=3)
    cell = trnn.BasicRNNCell(1, 3, dtype=torch.float64, seed=1)
    head = linear_head(3, 1, seed=2, dtype=torch.float64)
    history = train_truncated(cell, head, X, Y, window=2, n_updates=5, lr=1e-9, clip_norm=1.0)
    # A learning rate of ~0 changes nothing: updates 0, 2, 4 see the same first window.
    assert history["loss"][0] == pytest.approx(history["loss"][2], rel=1e-6)
    assert history["loss"][2] == pytest.approx(history["loss"][4], rel=1e-6)
    assert history["loss"][1] != pytest.approx(history["loss"][0], rel=1e-3)
    assert history.keys() == ["loss", "grad_norm"]


def test_a_short_window_cannot_learn_a_long_echo():
    """The chapter's point, small: delay 6, window 2 stays near chance, window 12 learns."""
    X, Y = echo_task(16, 96, 6, seed=0)
    final = {}
    for window in (2, 12):
        cell = trnn.BasicRNNCell(1, 16, dtype=torch.float64, seed=0)
        head = linear_head(16, 1, seed=1, dtype=torch.float64)
        history = train_truncated(cell, head, X, Y, window, 400, lr=0.01, clip_norm=1.0)
        final[window] = float(np.mean(history["loss"][-8:]))
    assert final[2] > 0.5
    assert final[12] < 0.1


def test_bad_input():
    cell = trnn.BasicRNNCell(1, 3, seed=0)
    head = linear_head(3, 1)
    X, Y = echo_task(2, 4, 1, seed=0)
    with pytest.raises(ValueError, match=r"Y must have shape .*got shape \[2, 3, 1\]"):
        train_truncated(cell, head, X, Y[:, :3], 2, 1, 0.1)
    with pytest.raises(ValueError, match="window must be an int >= 1; got 0"):
        train_truncated(cell, head, X, Y, 0, 1, 0.1)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        train_truncated(cell, head, X, Y, 2, 1, -0.1)
    with pytest.raises(ValueError, match=r"X must have shape .*got shape \[2, 4, 2\]"):
        next(truncated_windows(cell, np.zeros((2, 4, 2)), 2))
