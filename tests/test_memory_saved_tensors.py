"""Tests of ``companion.memory.saved_tensors``: what a forward pass saves (chapters 5-6).

Every save is logged; the memory kept (distinct storages, parameters left out)
follows ``kept_formula``; ``save_on_cpu`` copies are logged as copies.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from memory_cases import kept_formula, random_cell, random_X

from companion import graphs, memory
from companion import torch_rnn as tr

# ------------------------------------------------------------------ saved tensors


def per_step_loop(cell, inputs):
    """Static unrolling with autograd recording every operation of every step."""
    return graphs.UnrolledRNN(cell, len(inputs))(inputs, cell.zero_state(inputs[0].shape[0]))


@pytest.mark.parametrize("n_steps", [1, 2, 5, 20])
def test_a_per_step_loop_keeps_one_input_slice_and_one_state_per_step(n_steps):
    cell = random_cell()
    X = random_X(n_steps=n_steps)
    log = memory.saved_tensor_log(per_step_loop, cell, list(X.unbind(1)))
    assert log.kept_nbytes() == kept_formula(4, n_steps, 3, 5)
    assert log.kept_count() == n_steps + 2  # X, h0 and one h per step
    # Every save counted: x_t, h_{t-1}, Wy (not at t = 0: h0 needs no gradient), h_t.
    assert log.count == 4 * n_steps - 1
    assert log.nbytes == (4 * (12 + 20 + 20) + 100) * n_steps - 100


@pytest.mark.parametrize("n_steps", [1, 2, 3, 5, 20])
def test_static_and_dynamic_rnn_keep_the_inputs_and_every_state(n_steps):
    cell = random_cell()
    X = random_X(n_steps=n_steps)
    static = memory.saved_tensor_log(tr.static_rnn, cell, list(X.unbind(1)))
    dynamic = memory.saved_tensor_log(tr.dynamic_rnn, cell, X)
    assert dynamic.kept_nbytes() == static.kept_nbytes() == kept_formula(4, n_steps, 3, 5)


def test_kept_bytes_grow_exactly_linearly_and_double_with_float64():
    def kept(n, dtype):
        cell = random_cell(dtype=dtype)
        return memory.saved_tensor_log(tr.dynamic_rnn, cell, random_X(n_steps=n, dtype=dtype))

    b32 = [kept(n, torch.float32).kept_nbytes() for n in range(1, 8)]
    assert len(set(np.diff(b32))) == 1
    assert np.diff(b32)[0] == 4 * 4 * (3 + 5)
    b64 = [kept(n, torch.float64).kept_nbytes() for n in range(1, 8)]
    assert b64 == [2 * b for b in b32]


def test_counts_are_deterministic():
    cell = random_cell()
    X = random_X(n_steps=9)
    logs = [memory.saved_tensor_log(tr.dynamic_rnn, cell, X) for _ in range(3)]
    assert len({(log.count, log.nbytes, log.kept_nbytes(), str(log)) for log in logs}) == 1
    assert logs[0].records == logs[1].records


def test_records_describe_the_saved_tensors():
    cell = random_cell()
    log = memory.saved_tensor_log(per_step_loop, cell, list(random_X(n_steps=3).unbind(1)))
    assert log.by("shape") == {(4, 3): 3, (4, 5): 3 + 3, (5, 5): 2}  # h_{t-1} and h_t
    assert log.by("is_parameter") == {False: 9, True: 2}
    assert log.by("packed_by") == {"autograd": 11}
    assert all(r.kept_on == "cpu" and not r.copied and r.dtype == "float32" for r in log.records)
    assert log.copied_nbytes == 0 and log.dropped_count == 0
    assert log.kept_nbytes("cpu") == log.kept_nbytes() and log.kept_nbytes("cuda") == 0
    assert "saved 11 times" in str(log)


def test_no_grad_saves_nothing():
    cell = random_cell()
    with torch.no_grad():
        log = memory.saved_tensor_log(tr.dynamic_rnn, cell, random_X())
    assert (log.count, log.nbytes, log.kept_nbytes()) == (0, 0, 0)


def test_recording_changes_no_result_and_backward_still_works():
    cell = random_cell(dtype=torch.float64)
    X = random_X(dtype=torch.float64).requires_grad_()
    out_plain, _ = tr.dynamic_rnn(cell, X)
    (g_plain,) = torch.autograd.grad(out_plain.sum(), X)
    with memory.record_saved_tensors() as log:
        out, _ = tr.dynamic_rnn(cell, X)
    assert log.count > 0
    (g,) = torch.autograd.grad(out.sum(), X)
    torch.testing.assert_close(out, out_plain, rtol=0, atol=0)
    torch.testing.assert_close(g, g_plain, rtol=0, atol=0)


def test_swap_memory_on_cpu_is_packed_by_save_on_cpu_but_copies_nothing():
    cell = random_cell()
    X = random_X(n_steps=7)
    plain = memory.saved_tensor_log(tr.dynamic_rnn, cell, X)
    swap = memory.saved_tensor_log(tr.dynamic_rnn, cell, X, swap_memory=True)
    assert swap.by("packed_by") == {"save_on_cpu": plain.count}
    assert swap.copied_nbytes == 0  # already on the CPU: tensor.cpu() is the tensor itself
    assert swap.kept_nbytes() == swap.kept_nbytes("cpu") == plain.kept_nbytes()


def test_save_on_cpu_copies_are_logged_when_it_copies():
    """``pin_memory=True`` always copies, even on a CPU machine: every save becomes new memory."""
    cell = random_cell()
    X = random_X(n_steps=5)
    with memory.record_saved_tensors() as log, torch.autograd.graph.save_on_cpu(pin_memory=True):
        tr.dynamic_rnn(cell, X)
    assert all(r.copied for r in log.records)
    assert log.copied_nbytes == log.nbytes
    # Each copy is its own storage: repeats (Wy every step, h_t twice) cost memory again.
    assert log.kept_count() == log.count
    assert log.kept_nbytes() >= log.nbytes


def test_log_bad_arguments_are_named():
    log = memory.saved_tensor_log(tr.dynamic_rnn, random_cell(), random_X())
    with pytest.raises(ValueError, match="device"):
        log.kept_nbytes("gpu")
    with pytest.raises(ValueError, match="attribute"):
        log.by("size")
    with pytest.raises(TypeError, match="fn"):
        memory.saved_tensor_log("not a function")
