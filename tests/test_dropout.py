"""``DropoutWrapper`` in both backends (TensorFlow 1.x's, chapter 12).

The contract: in evaluation the wrapper is the bare cell; in training each entry of
the step's input and output is kept with probability ``keep_prob`` and divided by
it (so the expectation is unchanged), with a fresh mask every step; the state
carried to the next step is never dropped (an LSTM's ``(c, h)`` included); the masks
are reproducible from a seed (NumPy) or from torch's generator.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from stacked_cases import state_parts
from strategies import Backend, assert_bitwise_zero

from companion import numpy_rnn, torch_rnn
from companion.cells.numpy_dropout import DropoutWrapper as NumpyDropout
from companion.cells.torch_dropout import DropoutWrapper as TorchDropout

torch.set_num_threads(1)
BACKENDS = [Backend("numpy"), Backend("torch")]


def wrap(B: Backend, cell, input_keep_prob=1.0, output_keep_prob=1.0, seed=0):
    """A wrapper of backend ``B``; NumPy masks from ``seed``, torch masks from a generator."""
    if B.name == "numpy":
        return NumpyDropout(cell, input_keep_prob, output_keep_prob, seed=seed)
    return TorchDropout(
        cell, input_keep_prob, output_keep_prob, generator=torch.Generator().manual_seed(seed)
    )


def set_training(B: Backend, module, mode: bool):
    if B.name == "numpy":
        for cell in getattr(module, "cells", [module]):
            if isinstance(cell, NumpyDropout):
                cell.training = mode
    else:
        module.train(mode)


def make(B: Backend, kind: str, n_inputs: int, n_neurons: int, seed: int):
    Cell = {"rnn": B.module.BasicRNNCell, "lstm": B.module.LSTMCell, "gru": B.module.GRUCell}
    return Cell[kind](n_inputs, n_neurons, seed=seed, dtype=B.dtype("float64"))


def np_(a) -> np.ndarray:
    return Backend.numpy(a)


# ------------------------------------------------------------------ evaluation: no-op


@settings(max_examples=20)
@given(
    kinds=st.lists(st.sampled_from(["rnn", "lstm", "gru"]), min_size=1, max_size=3),
    keep=st.floats(0.1, 1.0),
    seed=st.integers(0, 2**16),
)
def test_in_evaluation_the_wrapper_is_the_bare_cell(backend, kinds, keep, seed):
    cells = [make(backend, k, 2 if i == 0 else 3, 3, seed + i) for i, k in enumerate(kinds)]
    bare = backend.module.MultiRNNCell(cells)
    wrapped = backend.module.MultiRNNCell([wrap(backend, c, keep, keep, seed) for c in cells])
    set_training(backend, wrapped, False)
    X = backend.array(np.random.default_rng(seed).standard_normal((3, 5, 2)))
    lengths = [5, 0, 2]
    want, want_state = backend.module.dynamic_rnn(bare, X, lengths)
    got, state = backend.module.dynamic_rnn(wrapped, X, lengths)
    np.testing.assert_array_equal(np_(got), np_(want))
    for a, b in zip(state_parts(state), state_parts(want_state), strict=True):
        np.testing.assert_array_equal(a, b)


def test_numpy_training_is_on_by_default_like_tf1_and_torch_follows_train_eval():
    cell = NumpyDropout(numpy_rnn.GRUCell(2, 3), output_keep_prob=0.5)
    assert cell.training is True and cell.eval().training is False and cell.train().training
    stack = torch_rnn.MultiRNNCell([TorchDropout(torch_rnn.GRUCell(2, 3), 0.5, 0.5)])
    assert stack.cells[0].training
    stack.eval()
    assert not stack.cells[0].training


# ------------------------------------------------------------------- training: masks


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
@pytest.mark.parametrize("keep", [0.3, 0.8])
def test_output_fraction_dropped_scaling_and_mean(B, keep):
    cell = make(B, "gru", 4, 10, 1)
    wrapper = wrap(B, cell, output_keep_prob=keep, seed=2)
    x = np.random.default_rng(3).standard_normal(4)
    X = B.array(np.tile(x, (4000, 1)))  # 4000 copies of one input: one output row, many masks
    state = wrapper(X)
    y = np_(cell.output(state))  # the undropped output: the same row 4000 times
    dropped = np_(wrapper.output(state))
    assert np.all(y != 0)
    zeros = dropped == 0
    n, q = zeros.size, 1 - keep  # binomial count of zeros: within 5 standard deviations
    assert abs(zeros.sum() - n * q) < 5 * np.sqrt(n * q * keep)
    np.testing.assert_array_equal(dropped[~zeros], y[~zeros] / keep)  # exactly 1 / keep_prob
    assert_bitwise_zero(dropped[zeros])
    # E[dropped] = y: each column's mean over 4000 masks, within 5 standard errors
    se = np.abs(y[0]) * np.sqrt(q / keep / len(y))
    assert np.all(np.abs(dropped.mean(axis=0) - y[0]) < 5 * se)


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_input_dropout_feeds_the_cell_kept_inputs_divided_by_keep_prob(B):
    eye = np.eye(6)  # h = relu(x @ I): the cell shows what it was fed
    cell = B.module.BasicRNNCell.from_weights(eye, eye * 0, np.zeros(6), nonlinearity="relu")
    wrapper = wrap(B, cell, input_keep_prob=0.25, seed=4)
    X = np.random.default_rng(5).uniform(0.5, 1.5, (500, 6))
    fed = np_(wrapper(B.array(X)))
    kept = fed != 0
    np.testing.assert_array_equal(fed[kept], X[kept] / 0.25)
    assert abs(kept.mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / kept.size)
    # no output dropout asked for: the output is the state
    np.testing.assert_array_equal(np_(wrapper.output(fed)), fed)


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_lstm_state_carried_in_time_is_never_dropped(B):
    lstm = make(B, "lstm", 3, 4, 6)
    X = B.array(np.random.default_rng(7).standard_normal((5, 8, 3)))
    lengths = [8, 3, 0, 5, 8]
    bare_out, bare_state = B.module.dynamic_rnn(B.module.MultiRNNCell([lstm]), X, lengths)
    wrapped = B.module.MultiRNNCell([wrap(B, lstm, output_keep_prob=0.5, seed=8)])
    out, state = B.module.dynamic_rnn(wrapped, X, lengths)
    # the state (c and h) follows the bare run exactly: only the emitted output is dropped
    for a, b in zip(state_parts(state), state_parts(bare_state), strict=True):
        np.testing.assert_array_equal(a, b)
    out, bare_out = np_(out), np_(bare_out)
    kept = out != 0
    assert 0.3 < kept.sum() / (bare_out != 0).sum() < 0.7
    np.testing.assert_array_equal(out[kept], bare_out[kept] / 0.5)
    padding = np.arange(8)[None, :] >= np.asarray(lengths)[:, None]
    assert_bitwise_zero(out[padding])


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_the_layer_above_reads_the_dropped_output(B):
    low, high = make(B, "lstm", 3, 4, 1), make(B, "gru", 4, 2, 2)
    wrapper = wrap(B, low, output_keep_prob=0.5, seed=9)
    stack = B.module.MultiRNNCell([wrapper, high])
    x = B.array(np.random.default_rng(0).standard_normal((6, 3)))
    s_low, s_high = stack(x)
    y_low = wrapper.output(s_low)  # the mask this step drew
    assert np.any(np_(y_low) == 0) and not np.any(np_(low.output(s_low)) == 0)
    np.testing.assert_array_equal(np_(s_high), np_(high(y_low)))
    np.testing.assert_array_equal(np_(s_low.h), np_(low(x).h))  # the state: undropped


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_masks_are_reproducible_and_new_at_every_step(B):
    def run(seed):
        cell = make(B, "rnn", 3, 5, 0)
        stack = B.module.MultiRNNCell([wrap(B, cell, 0.7, 0.6, seed)])
        X = np.random.default_rng(1).standard_normal((4, 6, 3))
        return np_(B.module.dynamic_rnn(stack, B.array(X))[0])

    a, b, c = run(11), run(11), run(12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a == 0, c == 0)
    masks = [tuple(map(tuple, a[:, t] == 0)) for t in range(6)]
    assert len(set(masks)) > 1  # a fresh mask every step


def test_torch_global_generator_and_gradients():
    cell = torch_rnn.GRUCell(3, 4, seed=0, dtype=torch.float64)
    wrapper = TorchDropout(cell, output_keep_prob=0.5)  # torch's global generator
    X = torch.from_numpy(np.random.default_rng(0).standard_normal((6, 3)))
    torch.manual_seed(3)
    y1 = wrapper.output(wrapper(X))
    torch.manual_seed(3)
    y2 = wrapper.output(wrapper(X))
    assert torch.equal(y1, y2)
    h = cell(X).detach().requires_grad_(True)
    wrapper._output_mask = y1 != 0  # the same mask on a leaf: d(output)/dh = mask / keep
    wrapper.output(h).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), (y1 != 0).double().numpy() / 0.5)


# ------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_bad_arguments(B):
    Wrapper = NumpyDropout if B.name == "numpy" else TorchDropout
    cell = B.module.GRUCell(3, 4)
    for bad in (0, 0.0, -0.5, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"output_keep_prob must be in \(0, 1\]"):
            Wrapper(cell, output_keep_prob=bad)
    with pytest.raises(ValueError, match=r"input_keep_prob must be in \(0, 1\] .*got 2"):
        Wrapper(cell, input_keep_prob=2)
    for bad in ("0.5", True, None):
        with pytest.raises(TypeError, match=r"input_keep_prob must be a number in \(0, 1\]"):
            Wrapper(cell, input_keep_prob=bad)
    other = torch_rnn if B.name == "numpy" else numpy_rnn
    for bad in ("cell", other.GRUCell(3, 4), Wrapper(cell)):
        with pytest.raises(TypeError, match=r"cell must be one of .*; got"):
            Wrapper(bad)
    wrapper = Wrapper(cell, output_keep_prob=0.5)
    with pytest.raises(ValueError, match=r"x_t must have shape"):
        wrapper(B.array(np.zeros((2, 5))))
    state = wrapper(B.array(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"state must be the one the latest call returned"):
        wrapper.output(B.array(np.zeros((5, 4))))
    assert np_(wrapper.output(state)).shape == (2, 4)
    if B.name == "numpy":
        with pytest.raises(TypeError, match=r"training must be a bool"):
            NumpyDropout(cell, training=1)
        with pytest.raises(TypeError, match=r"training must be a bool"):
            wrapper.training = "yes"
    else:
        with pytest.raises(TypeError, match=r"mode must be a bool"):
            wrapper.train(1)
        with pytest.raises(TypeError, match=r"generator must be a torch.Generator or None"):
            TorchDropout(cell, generator=np.random.default_rng(0))
