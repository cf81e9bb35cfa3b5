"""Tests of ``companion.training.torch_loop``: SequenceRegressor and the torch step (ch. 9)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion import torch_rnn as trnn
from companion.training.clipping import global_norm
from companion.training.loop import train
from companion.training.torch_loop import SequenceRegressor, linear_head, make_torch_step


def small_cell(seed=0):
    return trnn.BasicRNNCell(2, 6, dtype=torch.float64, seed=seed)


def test_linear_head_is_reproducible_and_in_pytorchs_bound():
    a, b = linear_head(6, 3, seed=1), linear_head(6, 3, seed=1)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    assert a.weight.shape == (3, 6) and float(a.weight.detach().abs().max()) <= 1 / np.sqrt(6)


def test_sequence_regressor_last_output_and_per_step():
    X = torch.randn(4, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = SequenceRegressor(small_cell(), 3, seed=1)
    Y = model(X)
    assert Y.shape == (4, 3) and Y.dtype == torch.float64
    outputs, state = trnn.dynamic_rnn(model.cell, X)
    torch.testing.assert_close(Y, outputs[:, -1] @ model.head.weight.T + model.head.bias)
    per_step = SequenceRegressor(small_cell(), 3, per_step=True, seed=1)
    Y_all = per_step(X)
    assert Y_all.shape == (4, 5, 3)
    torch.testing.assert_close(Y_all[:, -1], Y)


def test_sequence_regressor_reads_the_last_valid_step():
    X = torch.randn(3, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    model = SequenceRegressor(small_cell(), 1, seed=0)
    lengths = [5, 2, 0]
    Y = model(X, sequence_length=lengths)
    for i, n in enumerate(lengths):
        alone = model(X[i : i + 1, :n]) if n else model.head(torch.zeros(1, 6, dtype=torch.float64))
        torch.testing.assert_close(Y[i : i + 1], alone)


def test_make_torch_step_trains_and_records_the_norm_before_clipping():
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.standard_normal((16, 4, 2)))
    Y = X[:, 0, :1]  # remember the first input
    model = SequenceRegressor(small_cell(), 1, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    step = make_torch_step(model, torch.nn.functional.mse_loss, optimizer, (X, Y))
    history = train(step, 60)
    assert history.last("loss") < 0.5 * history["loss"][0]

    clipped = SequenceRegressor(small_cell(), 1, seed=0)
    sgd = torch.optim.SGD(clipped.parameters(), lr=0.0)  # lr 0: the gradients stay to inspect
    step = make_torch_step(clipped, torch.nn.functional.mse_loss, sgd, lambda i: (X, 10 * Y), 0.1)
    record = step(0)
    grads = [p.grad for p in clipped.parameters()]
    assert record["grad_norm"] > 0.1
    assert global_norm(grads) == pytest.approx(0.1, rel=1e-5)  # PyTorch's clip: a hair below


def test_bad_input():
    with pytest.raises(TypeError, match="cell must be a torch cell"):
        SequenceRegressor(object(), 1)
    with pytest.raises(ValueError, match="n_outputs must be an int >= 1; got 0"):
        SequenceRegressor(small_cell(), 0)
    model = SequenceRegressor(small_cell(), 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"batches must be a function i -> \(X, Y\)"):
        make_torch_step(model, torch.nn.functional.mse_loss, opt, [1, 2, 3])
    with pytest.raises(ValueError, match="clip_norm must be a finite number > 0"):
        make_torch_step(model, torch.nn.functional.mse_loss, opt, (1, 2), clip_norm=0.0)
