"""Tests of ``companion.memory``: what autograd keeps for backward (chapters 5 and 6).

Byte counts are exact and deterministic. For the basic cell with float32 and
no ``sequence_length``, a forward pass over ``n`` steps keeps alive (distinct
storages, parameters left out)::

    4 * batch * (n_inputs + n_neurons) * n  +  4 * batch * n_neurons

the inputs (or their packed copy), one state per step and the zero initial
state -- for ``static_rnn`` and ``dynamic_rnn`` alike. Checkpointing every
``k`` steps keeps the inputs and only ``ceil(n / k)`` states.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from strategies import random_weights
from torch.autograd.graph import saved_tensors_hooks

from companion import graphs, memory
from companion import torch_rnn as tr


def random_cell(n_inputs=3, n_neurons=5, *, seed=0, dtype=torch.float32, nonlinearity="tanh"):
    return tr.BasicRNNCell.from_weights(
        *random_weights(n_inputs, n_neurons, seed),
        nonlinearity=nonlinearity,
        dtype=dtype,
    )


def random_X(batch=4, n_steps=6, n_inputs=3, *, seed=1, dtype=torch.float32):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.standard_normal((batch, n_steps, n_inputs))).to(dtype)


def kept_formula(batch, n_steps, n_inputs, n_neurons, itemsize=4):
    return itemsize * batch * ((n_inputs + n_neurons) * n_steps + n_neurons)


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


@pytest.mark.parametrize("n_steps", [1, 2, 5, 20])
def test_static_rnn_keeps_the_inputs_and_every_state(n_steps):
    cell = random_cell()
    X = random_X(n_steps=n_steps)
    log = memory.saved_tensor_log(tr.static_rnn, cell, list(X.unbind(1)))
    assert log.kept_nbytes() == kept_formula(4, n_steps, 3, 5)


@pytest.mark.parametrize("n_steps", [1, 3, 20])
def test_dynamic_rnn_keeps_as_much_as_static_rnn(n_steps):
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


def test_recording_restores_saved_tensors_hooks_even_after_an_error():
    enter = saved_tensors_hooks.__enter__
    with pytest.raises(RuntimeError, match="boom"), memory.record_saved_tensors():
        assert saved_tensors_hooks.__enter__ is not enter
        raise RuntimeError("boom")
    assert saved_tensors_hooks.__enter__ is enter


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


def assert_same_rnn(cell, X, chunk, **kwargs):
    """Outputs, state and every gradient equal to dynamic_rnn's within 1e-6 (float64)."""
    results = []
    for fn, args in ((tr.dynamic_rnn, ()), (memory.checkpointed_dynamic_rnn, (chunk,))):
        cell.zero_grad()
        Xg = X.clone().requires_grad_()
        h0 = kwargs.get("initial_state")
        h0g = None if h0 is None else h0.clone().requires_grad_()
        outputs, state = fn(cell, Xg, *args, **{**kwargs, "initial_state": h0g})
        weights = torch.linspace(-1, 1, outputs.shape[-1], dtype=X.dtype, device=X.device)
        loss = (outputs * weights).sum()
        loss = loss + (state**2).sum()
        loss.backward()
        grads = [Xg.grad] + [p.grad.clone() for p in (cell.Wx, cell.Wy, cell.b)]
        if h0g is not None:
            grads.append(h0g.grad)
        results.append((outputs.detach(), state.detach(), grads))
    (o1, s1, g1), (o2, s2, g2) = results
    torch.testing.assert_close(o2, o1, rtol=0, atol=1e-6)
    torch.testing.assert_close(s2, s1, rtol=0, atol=1e-6)
    assert len(g1) == len(g2)
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-6)


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


def test_checkpointed_dynamic_rnn_matches_static_rnn_on_the_chapter_example():
    rng = np.random.default_rng(0)
    cell = tr.BasicRNNCell.from_weights(
        rng.standard_normal((3, 5)), rng.standard_normal((5, 5)), np.zeros(5)
    )
    X0 = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]])
    X1 = np.array([[9, 8, 7], [0, 0, 0], [6, 5, 4], [3, 2, 1]])
    outputs, _ = memory.checkpointed_dynamic_rnn(cell, np.stack([X0, X1], axis=1), 1)
    static, _ = tr.static_rnn(cell, [X0, X1])
    torch.testing.assert_close(outputs, torch.stack(static, dim=1), rtol=0, atol=1e-6)


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


def test_log_bad_arguments_are_named():
    log = memory.saved_tensor_log(tr.dynamic_rnn, random_cell(), random_X())
    with pytest.raises(ValueError, match="device"):
        log.kept_nbytes("gpu")
    with pytest.raises(ValueError, match="attribute"):
        log.by("size")
    with pytest.raises(TypeError, match="fn"):
        memory.saved_tensor_log("not a function")


# ------------------------------------------------------------------ compute, GPU


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
