"""Tests of ``companion.memory.checkpointing``: one state kept per chunk (chapter 6).

Checkpointing every ``k`` steps keeps the inputs and only ``ceil(n / k)`` states,
and gives the outputs and gradients of ``dynamic_rnn``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from memory_cases import assert_same_rnn, random_cell, random_X

from companion import memory
from companion import torch_rnn as tr

# ------------------------------------------------------------------ checkpointing


@pytest.mark.parametrize(("n_steps", "chunk"), [(12, 1), (12, 3), (12, 5), (12, 12), (12, 40)])
def test_checkpointing_keeps_the_inputs_and_one_state_per_chunk(n_steps, chunk):
    cell = random_cell()
    X = random_X(n_steps=n_steps)
    log = memory.saved_tensor_log(memory.checkpointed_dynamic_rnn, cell, X, chunk)
    n_chunks = math.ceil(n_steps / chunk)
    assert log.kept_nbytes() == 4 * 4 * (3 * n_steps + 5 * n_chunks)
    assert log.dropped_count > 0


def test_checkpointing_divides_the_state_memory_by_about_the_chunk_size():
    cell = random_cell(n_inputs=1, n_neurons=64)
    X = random_X(batch=8, n_steps=100, n_inputs=1)
    default = memory.saved_tensor_log(tr.dynamic_rnn, cell, X).kept_nbytes()
    ckpt = memory.saved_tensor_log(memory.checkpointed_dynamic_rnn, cell, X, 10).kept_nbytes()
    assert 7 < default / ckpt < 10


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 8, 100])
def test_checkpointed_outputs_and_gradients_equal_dynamic_rnn(chunk):
    cell = random_cell(dtype=torch.float64)
    assert_same_rnn(cell, random_X(batch=5, n_steps=7, dtype=torch.float64), chunk)


def test_checkpointed_with_initial_state_lengths_and_time_major():
    cell = random_cell(dtype=torch.float64)
    X = random_X(batch=5, n_steps=9, dtype=torch.float64)
    h0 = torch.from_numpy(np.random.default_rng(3).standard_normal((5, 5)))
    lengths = torch.tensor([0, 9, 4, 3, 7])
    assert_same_rnn(cell, X, 4, initial_state=h0, sequence_length=lengths)
    assert_same_rnn(cell, X.transpose(0, 1).contiguous(), 2, time_major=True, initial_state=h0)
    assert_same_rnn(cell, X, 3, sequence_length=[1, 2, 3, 9, 6])


def test_checkpointed_accepts_numpy_integers_and_zero_steps():
    cell = random_cell(dtype=torch.float64)
    X = np.arange(4 * 3 * 3).reshape(4, 3, 3) % 5
    out, state = memory.checkpointed_dynamic_rnn(cell, X, 2)
    want, want_state = tr.dynamic_rnn(cell, X)
    torch.testing.assert_close(out, want, rtol=0, atol=1e-12)
    torch.testing.assert_close(state, want_state, rtol=0, atol=1e-12)
    out, state = memory.checkpointed_dynamic_rnn(cell, np.zeros((4, 0, 3)), 2)
    assert out.shape == (4, 0, 5)
    torch.testing.assert_close(state, cell.zero_state(4))


@pytest.mark.parametrize("bad", [0, -3])
def test_bad_chunk_raises_value_error_naming_it(bad):
    with pytest.raises(ValueError, match="chunk"):
        memory.checkpointed_dynamic_rnn(random_cell(), random_X(), bad)


@pytest.mark.parametrize("bad", [1.5, "2", True, None])
def test_chunk_of_the_wrong_type_raises_type_error_naming_it(bad):
    with pytest.raises(TypeError, match="chunk"):
        memory.checkpointed_dynamic_rnn(random_cell(), random_X(), bad)


def test_checkpointed_bad_arguments_are_named():
    cell = random_cell()
    with pytest.raises(ValueError, match="X"):
        memory.checkpointed_dynamic_rnn(cell, torch.zeros(4, 6), 2)
    with pytest.raises(ValueError, match="X"):
        memory.checkpointed_dynamic_rnn(cell, torch.zeros(4, 6, 2), 2)
    with pytest.raises(ValueError, match="initial_state"):
        memory.checkpointed_dynamic_rnn(cell, random_X(), 2, initial_state=torch.zeros(3, 5))
    with pytest.raises(ValueError, match="sequence_length"):
        memory.checkpointed_dynamic_rnn(cell, random_X(), 2, sequence_length=[1, 2, 3, 7])
    with pytest.raises(TypeError, match="cell"):
        memory.checkpointed_dynamic_rnn(torch.nn.RNN(3, 5), random_X(), 2)
