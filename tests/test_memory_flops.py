"""Tests of ``companion.memory.flops``: matrix-multiply FLOPs (chapters 6-7).

``[m, k] @ [k, n]`` costs ``2 m k n``; checkpointing costs one extra forward pass.
"""

from __future__ import annotations

import pytest
import torch
from memory_cases import random_cell, random_X

from companion import memory
from companion import torch_rnn as tr

# ------------------------------------------------------------------ FLOPs


def test_checkpointing_pays_one_extra_forward_pass_in_flops():
    cell = random_cell(n_inputs=2, n_neurons=6)
    X = random_X(batch=3, n_steps=10, n_inputs=2)
    fwd, bwd = memory.matmul_flops(tr.dynamic_rnn, cell, X)
    cfwd, cbwd = memory.matmul_flops(memory.checkpointed_dynamic_rnn, cell, X, 5)
    # Forward: X @ Wx for every step at once, then h @ Wy per step.
    assert fwd == 2 * 30 * 2 * 6 + 10 * 2 * 3 * 6 * 6
    assert cfwd == fwd
    assert cbwd == bwd + fwd
    assert memory.matmul_flops(tr.dynamic_rnn, cell, X) == (fwd, bwd)  # deterministic


def test_matmul_flops_needs_outputs_with_gradients():
    with pytest.raises(ValueError, match="gradient"):
        memory.matmul_flops(lambda: torch.zeros(3))
