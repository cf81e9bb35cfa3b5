"""Tests of ``companion.memory.measure``: time and GPU peak memory (chapter 6).

Measurements vary: the tests check signs, orders and argument errors, never values.
"""

from __future__ import annotations

import pytest
import torch
from memory_cases import assert_same_rnn, random_cell, random_X

from companion import memory
from companion import torch_rnn as tr

# ------------------------------------------------------------------ time, GPU


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown without CUDA")
def test_cuda_peak_memory_without_cuda_says_so():
    with pytest.raises(RuntimeError, match="CUDA"):
        memory.cuda_peak_memory(tr.dynamic_rnn, random_cell(), random_X())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_swap_moves_saved_tensors_to_the_host_and_checkpointing_lowers_peak():
    cell = random_cell(n_inputs=8, n_neurons=256).to("cuda")
    X = random_X(batch=64, n_steps=200, n_inputs=8).to("cuda")
    plain = memory.saved_tensor_log(tr.dynamic_rnn, cell, X)
    swap = memory.saved_tensor_log(tr.dynamic_rnn, cell, X, swap_memory=True)
    assert plain.kept_nbytes("cuda") > 0 and plain.kept_nbytes("cpu") == 0
    assert swap.kept_nbytes("cuda") == 0
    assert swap.copied_nbytes == swap.nbytes == plain.nbytes
    assert swap.kept_nbytes("cpu") >= plain.kept_nbytes("cuda")
    # The peak comes in backward, when the saved tensors are back on the GPU and the
    # gradient buffers exist: swapping does not lower it for this layer (chapter 6).
    peak = memory.cuda_peak_memory(tr.dynamic_rnn, cell, X)
    peak_ckpt = memory.cuda_peak_memory(memory.checkpointed_dynamic_rnn, cell, X, 20)
    assert peak_ckpt < 0.6 * peak
    assert_same_rnn(
        random_cell(dtype=torch.float64).to("cuda"), random_X(dtype=torch.float64).to("cuda"), 2
    )


def test_timing_helpers_return_positive_seconds_and_no_peak_on_cpu():
    cell = random_cell()
    X = random_X(n_steps=8)
    assert memory.time_forward_backward(tr.dynamic_rnn, cell, X, repeats=2) > 0
    results = memory.compare_strategies(cell, X, 3, repeats=1)
    assert list(results) == ["default", "swap_memory", "checkpoint"]
    for name, entry in results.items():
        assert entry["seconds"] > 0
        assert entry["peak_bytes"] is None
        assert entry["kept_bytes"]["cuda"] == 0, name
    assert results["checkpoint"]["kept_bytes"]["cpu"] < results["default"]["kept_bytes"]["cpu"]
    assert cell.Wx.grad is None


def test_timing_helpers_check_their_arguments():
    with pytest.raises(ValueError, match="repeats"):
        memory.time_forward_backward(tr.dynamic_rnn, random_cell(), random_X(), repeats=0)
    with pytest.raises(ValueError, match="chunk"):
        memory.compare_strategies(random_cell(), random_X(), 0)
