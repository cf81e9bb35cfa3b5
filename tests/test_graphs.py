"""Tests of ``companion.graphs``: the ``torch.fx`` traces of chapters 5 and 6.

The size of a static unrolling's graph is ``6 * n_steps + 6`` nodes: per step
``inputs[t]``, two matrix products, two additions and ``tanh``; once: two
inputs, three weights, the output. The traced module must compute exactly what
``companion.torch_rnn.static_rnn`` computes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from strategies import random_weights

from companion import graphs
from companion import torch_rnn as tr


def random_cell(n_inputs=3, n_neurons=5, *, seed=0, nonlinearity="tanh", dtype=torch.float64):
    """Non-zero bias, so that a trace forgetting ``b`` would be caught."""
    return tr.BasicRNNCell.from_weights(
        *random_weights(n_inputs, n_neurons, seed),
        nonlinearity=nonlinearity,
        dtype=dtype,
    )


@pytest.mark.parametrize("n_steps", [1, 2, 3, 7, 50])
def test_node_count_is_exactly_linear_in_n_steps(n_steps):
    assert graphs.fx_node_count(n_steps) == 6 * n_steps + 6


@pytest.mark.parametrize(("n_inputs", "n_neurons"), [(1, 1), (3, 5), (16, 64)])
def test_node_count_does_not_depend_on_layer_sizes(n_inputs, n_neurons):
    assert graphs.fx_node_count(4, n_inputs, n_neurons) == graphs.fx_node_count(4)


def test_op_counts_per_kind():
    counts = graphs.op_counts(graphs.trace_unrolled(random_cell(), 4))
    assert counts == {
        "add": 8,
        "get_attr": 3,
        "getitem": 4,
        "matmul": 8,
        "output": 1,
        "placeholder": 2,
        "tanh": 4,
    }
    assert sum(counts.values()) == graphs.fx_node_count(4)


def test_relu_cell_traces_relu():
    counts = graphs.op_counts(graphs.trace_unrolled(random_cell(nonlinearity="relu"), 3))
    assert counts["relu"] == 3
    assert "tanh" not in counts


@pytest.mark.parametrize("n_steps", [1, 2, 5])
def test_traced_module_equals_static_rnn(n_steps):
    cell = random_cell()
    rng = np.random.default_rng(1)
    inputs = [torch.from_numpy(rng.standard_normal((4, 3))) for _ in range(n_steps)]
    h0 = torch.from_numpy(rng.standard_normal((4, 5)))
    gm = graphs.trace_unrolled(cell, n_steps)
    got, state = gm(inputs, h0)
    want, want_state = tr.static_rnn(cell, inputs, initial_state=h0)
    assert len(got) == n_steps
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=0, atol=1e-12)
    torch.testing.assert_close(state, want_state, rtol=0, atol=1e-12)


def test_traced_module_shares_the_cells_parameters():
    cell = random_cell()
    gm = graphs.trace_unrolled(cell, 2)
    assert gm.cell.Wy is cell.Wy
    inputs = [torch.ones(2, 3, dtype=torch.float64)] * 2
    _, state = gm(inputs, cell.zero_state(2))
    state.sum().backward()
    assert cell.Wy.grad is not None and cell.Wy.grad.abs().sum() > 0


def test_the_real_cell_cannot_be_symbolically_traced():
    """Why UnrolledRNN writes the equation itself (documented in the module)."""

    class CallsTheCell(torch.nn.Module):
        def __init__(self, cell):
            super().__init__()
            self.cell = cell

        def forward(self, x, h):
            return self.cell(x, h)

    with pytest.raises(Exception):  # noqa: B017 -- the exact error is torch's business
        torch.fx.symbolic_trace(CallsTheCell(random_cell()))


def test_trace_by_running_traces_the_real_functions_and_grows_linearly():
    cell = random_cell(dtype=torch.float32)

    def static(X):
        return tr.static_rnn(cell, list(X.unbind(1)))

    def dynamic(X):
        return tr.dynamic_rnn(cell, X)

    for fn in (static, dynamic):
        sizes = [
            len(graphs.trace_by_running(fn, torch.zeros(4, n, 3)).graph.nodes) for n in (2, 3, 4)
        ]
        assert sizes[1] - sizes[0] == sizes[2] - sizes[1] > 0
    gm = graphs.trace_by_running(static, torch.zeros(4, 3, 3))
    counts = graphs.op_counts(gm)
    assert counts["tanh"] == 3
    assert "detach" not in counts  # the forward computation only
    X = torch.from_numpy(np.random.default_rng(0).standard_normal((4, 3, 3))).float()
    with torch.no_grad():  # the trace holds the forward computation only
        outputs, _ = gm(X)
    for g, w in zip(outputs, static(X)[0], strict=True):
        torch.testing.assert_close(g, w)


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_n_steps_raises_value_error_naming_it(bad):
    with pytest.raises(ValueError, match="n_steps"):
        graphs.fx_node_count(bad)
    with pytest.raises(ValueError, match="n_steps"):
        graphs.UnrolledRNN(random_cell(), bad)


@pytest.mark.parametrize("bad", [2.0, "3", True, None])
def test_n_steps_of_the_wrong_type_raises_type_error_naming_it(bad):
    with pytest.raises(TypeError, match="n_steps"):
        graphs.fx_node_count(bad)


@pytest.mark.parametrize(
    ("name", "kwargs"), [("n_inputs", {"n_inputs": 0}), ("n_neurons", {"n_neurons": -2})]
)
def test_bad_layer_sizes_raise_value_error_naming_them(name, kwargs):
    with pytest.raises(ValueError, match=name):
        graphs.fx_node_count(3, **kwargs)


def test_wrong_kinds_of_objects_raise_type_error():
    with pytest.raises(TypeError, match="cell"):
        graphs.UnrolledRNN(torch.nn.Linear(3, 5), 2)
    with pytest.raises(TypeError, match="graph_module"):
        graphs.op_counts(torch.nn.Linear(3, 5))
    with pytest.raises(TypeError, match="fn"):
        graphs.trace_by_running(42, torch.zeros(1))


def test_autograd_node_count_grows_for_a_per_step_loop_only():
    cell = random_cell()

    def loop_nodes(n):
        inputs = [torch.zeros(2, 3, dtype=torch.float64)] * n
        _, state = graphs.UnrolledRNN(cell, n)(inputs, cell.zero_state(2))
        return graphs.autograd_node_count(state)

    sizes = [loop_nodes(n) for n in (1, 2, 3, 10)]
    assert sizes[1] - sizes[0] == sizes[2] - sizes[1] > 0
    assert sizes[3] - sizes[2] == 7 * (sizes[1] - sizes[0])
    outputs, _ = tr.dynamic_rnn(cell, torch.zeros(2, 10, 3, dtype=torch.float64))
    assert graphs.autograd_node_count(outputs) > 0


def test_autograd_node_count_bad_arguments():
    with pytest.raises(TypeError, match="output"):
        graphs.autograd_node_count([1.0])
    with pytest.raises(ValueError, match="output"):
        graphs.autograd_node_count(torch.zeros(3))
