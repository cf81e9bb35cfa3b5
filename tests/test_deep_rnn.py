"""Deep and bidirectional RNNs as ``torch.nn`` modules, and the layer-by-layer run (chapter 12).

* ``MultiRNNCell.to_torch`` / ``from_torch`` and the bidirectional pair conversions:
  weights land exactly where the contract puts them (``weight_ih_l{k} = Wx.T`` ...),
  and the results equal ``nn.*(num_layers=L)`` / ``nn.*(bidirectional=True)`` with
  and without ``pack_padded_sequence``;
* ``deep_dynamic_rnn``: without dropout it equals the step-by-step ``MultiRNNCell``;
  with ``dropout=p`` in training mode and the same ``torch.manual_seed`` it equals
  ``nn.*(num_layers=L, dropout=p)`` (same masks), and in evaluation it drops nothing.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from stacked_cases import padded_problem, run_module, state_parts, torch_module
from strategies import Backend, assert_bitwise_zero

from companion import numpy_rnn, torch_rnn
from companion.cells.interop import (
    cells_from_torch_bidirectional,
    torch_bidirectional_from_cells,
    torch_stack_from_cells,
)
from companion.layers.torch_deep import deep_dynamic_rnn

torch.set_num_threads(1)
BACKENDS = [Backend("numpy"), Backend("torch")]
KINDS = ["rnn", "lstm", "gru"]
LENGTHS = [None, [6, 1, 3, 6, 2]]


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(Backend.numpy(a), Backend.numpy(b), rtol=tol, atol=tol)


def nn_state(kind, final, index):
    """``nn``'s final ``h_n`` (and ``c_n``) at ``index`` as our state."""
    return (final[1][index], final[0][index]) if kind == "lstm" else final[index]


def our_initial(B, kind, h0, c0, indices):
    return tuple(
        B.module.LSTMState(B.array(c0[k].numpy()), B.array(h0[k].numpy()))
        if kind == "lstm"
        else B.array(h0[k].numpy())
        for k in indices
    )


# ------------------------------------------------------------ MultiRNNCell <-> nn.*


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers", [2, 3])
@pytest.mark.parametrize("lengths", LENGTHS, ids=["full", "ragged"])
def test_from_torch_equals_the_module(B, kind, num_layers, lengths):
    module = torch_module(kind, num_layers=num_layers, seed=num_layers)
    cell = B.module.MultiRNNCell.from_torch(module)
    assert len(cell.cells) == num_layers and (cell.n_inputs, cell.n_neurons) == (3, 5)
    X, h0, c0 = (torch.from_numpy(a) for a in padded_problem(n_states=num_layers))
    with torch.no_grad():
        want_out, want_final = run_module(module, kind, X, h0, c0, lengths)
    initial = our_initial(B, kind, h0, c0, range(num_layers))
    out, state = B.module.dynamic_rnn(cell, B.array(X.numpy()), lengths, initial)
    close(out, want_out)
    want_state = tuple(nn_state(kind, want_final, k) for k in range(num_layers))
    for got, want in zip(state_parts(state), state_parts(want_state), strict=True):
        close(got, want)


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
@pytest.mark.parametrize("kind", KINDS)
def test_weights_land_where_the_contract_puts_them_and_round_trip(B, kind):
    module = torch_module(kind, num_layers=3, seed=7)
    cell = B.module.MultiRNNCell.from_torch(module)
    for k, layer in enumerate(cell.cells):
        np.testing.assert_array_equal(
            Backend.numpy(layer.Wx), getattr(module, f"weight_ih_l{k}").detach().numpy().T
        )
        np.testing.assert_array_equal(
            Backend.numpy(layer.Wy), getattr(module, f"weight_hh_l{k}").detach().numpy().T
        )
    back = cell.to_torch(batch_first=False)
    assert (back.num_layers, back.batch_first, back.hidden_size) == (3, False, 5)
    assert back.weight_ih_l0.dtype == torch.float64
    again = B.module.MultiRNNCell.from_torch(back)  # cell -> module -> cell: identical weights
    for a, b in zip(cell.cells, again.cells, strict=True):
        for name in ("Wx", "Wy", "bx", "by") if kind == "gru" else ("Wx", "Wy", "b"):
            np.testing.assert_array_equal(
                Backend.numpy(getattr(a, name)), Backend.numpy(getattr(b, name))
            )
    if kind == "gru":  # both biases exist as they are: module -> cell -> module is exact too
        for name, p in module.named_parameters():
            assert torch.equal(p, getattr(back, name)), name


@settings(max_examples=20)
@given(
    kind=st.sampled_from(KINDS),
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    width=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_to_torch_equals_our_stack_for_any_depth(backend, kind, sizes, width, seed):
    n_inputs, layers = sizes[0], len(sizes) - 1
    make = {
        "rnn": backend.module.BasicRNNCell,
        "lstm": backend.module.LSTMCell,
        "gru": backend.module.GRUCell,
    }[kind]
    f64 = backend.dtype("float64")
    cells = [
        make(n_inputs if k == 0 else width, width, seed=seed + k, dtype=f64) for k in range(layers)
    ]
    stack = backend.module.MultiRNNCell(cells)
    X = np.random.default_rng(seed).standard_normal((3, 4, n_inputs))
    module = stack.to_torch()
    with torch.no_grad():
        want, _ = module(torch.from_numpy(X))
    got, _ = backend.module.dynamic_rnn(stack, backend.array(X))
    close(got, want)


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lengths", LENGTHS, ids=["full", "ragged"])
def test_bidirectional_pair_to_and_from_torch(B, kind, lengths):
    module = torch_module(kind, bidirectional=True, seed=11)
    cell_fw, cell_bw = cells_from_torch_bidirectional(module, B.name)
    X, h0, c0 = (torch.from_numpy(a) for a in padded_problem(n_states=2))
    with torch.no_grad():
        want_out, want_final = run_module(module, kind, X, h0, c0, lengths)
    init_fw, init_bw = our_initial(B, kind, h0, c0, (0, 1))
    (out_fw, out_bw), (s_fw, s_bw) = B.module.bidirectional_dynamic_rnn(
        cell_fw, cell_bw, B.array(X.numpy()), lengths, init_fw, init_bw
    )
    close(np.concatenate([Backend.numpy(out_fw), Backend.numpy(out_bw)], axis=-1), want_out)
    for got, want in zip(
        state_parts((s_fw, s_bw)),
        state_parts((nn_state(kind, want_final, 0), nn_state(kind, want_final, 1))),
        strict=True,
    ):
        close(got, want)
    back = torch_bidirectional_from_cells(cell_fw, cell_bw)
    assert back.bidirectional and back.num_layers == 1
    with torch.no_grad():
        again, _ = run_module(back, kind, X, h0, c0, lengths)
    close(again, want_out)


# ------------------------------------------------------------------------ bad modules


@pytest.mark.parametrize("B", BACKENDS, ids=lambda B: B.name)
def test_conversions_refuse_what_one_module_cannot_hold(B):
    M, f64 = B.module, B.dtype("float64")
    with pytest.raises(ValueError, match=r"cells\[1\] must be the same kind of cell as cells\[0\]"):
        M.MultiRNNCell([M.GRUCell(3, 4), M.LSTMCell(4, 4)]).to_torch()
    with pytest.raises(ValueError, match=r"cells\[1\] must have n_neurons = 4 like cells\[0\]"):
        M.MultiRNNCell([M.GRUCell(3, 4), M.GRUCell(4, 2)]).to_torch()
    with pytest.raises(ValueError, match=r"cells\[1\] must have nonlinearity 'tanh' like"):
        M.MultiRNNCell([M.BasicRNNCell(3, 4), M.BasicRNNCell(4, 4, nonlinearity="relu")]).to_torch()
    with pytest.raises(ValueError, match=r"cells\[0\] is a GRUCell with reset_after=False"):
        M.MultiRNNCell([M.GRUCell(3, 4, reset_after=False, dtype=f64)]).to_torch()
    from companion.cells.numpy_dropout import DropoutWrapper as NumpyDropout
    from companion.cells.torch_dropout import DropoutWrapper as TorchDropout

    wrapper = (NumpyDropout if B.name == "numpy" else TorchDropout)(M.GRUCell(3, 4))
    with pytest.raises(TypeError, match=r"cells\[0\] must be a BasicRNNCell.*unwrap a Dropout"):
        M.MultiRNNCell([wrapper]).to_torch()
    with pytest.raises(TypeError, match="module must be a torch.nn.RNN, LSTM or GRU; got Linear"):
        M.MultiRNNCell.from_torch(torch.nn.Linear(3, 4))
    with pytest.raises(ValueError, match=r"module must have bidirectional=False; got True"):
        M.MultiRNNCell.from_torch(torch.nn.GRU(3, 4, bidirectional=True))
    with pytest.raises(ValueError, match=r"module must have no projection; got proj_size=2"):
        M.MultiRNNCell.from_torch(torch.nn.LSTM(3, 4, num_layers=2, proj_size=2))
    with pytest.raises(ValueError, match=r"module must have num_layers=1: layer 1 of a bid"):
        cells_from_torch_bidirectional(torch.nn.GRU(3, 4, num_layers=2, bidirectional=True))
    with pytest.raises(ValueError, match=r"cell_bw must have n_inputs = 3 like cell_fw"):
        torch_bidirectional_from_cells(M.GRUCell(3, 4), M.GRUCell(2, 4))
    with pytest.raises(TypeError, match=r"cells must be a list \(or tuple\) of cells"):
        torch_stack_from_cells(M.GRUCell(3, 4))
    bad = torch.nn.GRU(3, 4, num_layers=2)
    with torch.no_grad():
        bad.weight_hh_l1[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"module.weight_hh_l1 must contain only finite values"):
        M.MultiRNNCell.from_torch(bad)


def test_bias_false_modules_read_as_zero_biases():
    module = torch.nn.LSTM(3, 4, num_layers=2, bias=False, batch_first=True, dtype=torch.float64)
    cell = numpy_rnn.MultiRNNCell.from_torch(module)
    assert all(np.array_equal(layer.b, np.zeros(16)) for layer in cell.cells)
    X = np.random.default_rng(0).standard_normal((2, 3, 3))
    with torch.no_grad():
        want, _ = module(torch.from_numpy(X))
    close(numpy_rnn.dynamic_rnn(cell, X)[0], want)


# ------------------------------------------------- layer by layer, dropout between layers


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lengths", [None, [6, 1, 3, 6, 2], [6, 6, 6, 6, 6]])
def test_deep_dynamic_rnn_with_dropout_equals_nn_num_layers_in_training(kind, lengths):
    module = torch_module(kind, num_layers=3, seed=5)
    module.dropout = 0.4
    module.train()
    cell = torch_rnn.MultiRNNCell.from_torch(module)
    X, h0, c0 = (torch.from_numpy(a) for a in padded_problem(n_states=3))
    torch.manual_seed(1234)
    want_out, want_final = run_module(module, kind, X, h0, c0, lengths)
    torch.manual_seed(1234)
    initial = our_initial(Backend("torch"), kind, h0, c0, range(3))
    out, state = deep_dynamic_rnn(cell, X, lengths, initial, dropout=0.4, training=True)
    close(out, want_out)  # another mask would differ by O(1), not by rounding
    want_state = tuple(nn_state(kind, want_final, k) for k in range(3))
    for got, want in zip(state_parts(state), state_parts(want_state), strict=True):
        close(got, want)
    torch.manual_seed(99)  # another seed, other masks: far from nn's run
    other, _ = deep_dynamic_rnn(cell, X, lengths, initial, dropout=0.4, training=True)
    assert np.abs(Backend.numpy(other) - Backend.numpy(want_out.detach())).max() > 1e-3


@settings(max_examples=25)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=3),
    batch=st.integers(1, 4),
    n_steps=st.integers(0, 5),
    data=st.data(),
    time_major=st.booleans(),
)
def test_deep_dynamic_rnn_without_dropout_is_the_step_by_step_stack(
    kinds, batch, n_steps, data, time_major
):
    lengths = data.draw(
        st.none() | st.lists(st.integers(0, n_steps), min_size=batch, max_size=batch)
    )
    seed = data.draw(st.integers(0, 2**16))
    make = {"rnn": torch_rnn.BasicRNNCell, "lstm": torch_rnn.LSTMCell, "gru": torch_rnn.GRUCell}
    cells = [
        make[k](2 if i == 0 else 3, 3, seed=seed + i, dtype=torch.float64)
        for i, k in enumerate(kinds)
    ]
    stack = torch_rnn.MultiRNNCell(cells)
    X = torch.from_numpy(np.random.default_rng(seed).standard_normal((batch, n_steps, 2)))
    if time_major:
        X = X.transpose(0, 1)
    want, want_state = torch_rnn.dynamic_rnn(stack, X, lengths, time_major=time_major)
    for dropout, training in ((0.0, True), (0.5, False)):  # evaluation: nothing is dropped
        got, state = deep_dynamic_rnn(
            cells, X, lengths, dropout=dropout, training=training, time_major=time_major
        )
        close(got, want)
        for a, b in zip(state_parts(state), state_parts(want_state), strict=True):
            close(a, b)
    if lengths is not None:
        got, _ = deep_dynamic_rnn(
            cells, X, lengths, dropout=0.5, training=True, time_major=time_major
        )
        out_bm = Backend.numpy(got.transpose(0, 1) if time_major else got)
        padding = np.arange(n_steps)[None, :] >= np.asarray(lengths)[:, None]
        assert_bitwise_zero(out_bm[padding])


def test_deep_dynamic_rnn_gradients_reach_every_layer():
    cells = [
        torch_rnn.GRUCell(2 if k == 0 else 3, 3, seed=k, dtype=torch.float64) for k in range(2)
    ]
    X = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 4, 2)))
    torch.manual_seed(0)
    out, _ = deep_dynamic_rnn(cells, X, [4, 2], dropout=0.3, training=True)
    out.sum().backward()
    assert all(c.Wx.grad is not None and c.Wx.grad.abs().sum() > 0 for c in cells)


def test_deep_dynamic_rnn_bad_arguments():
    cells = [torch_rnn.GRUCell(2, 3), torch_rnn.GRUCell(3, 3)]
    X = torch.zeros(2, 4, 2)
    with pytest.raises(
        ValueError, match=r"dropout must be in \[0, 1\) \(the probability of dropping\); got 1"
    ):
        deep_dynamic_rnn(cells, X, dropout=1.0)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\).*got -0.1"):
        deep_dynamic_rnn(cells, X, dropout=-0.1)
    with pytest.raises(TypeError, match=r"dropout must be a number in \[0, 1\); got str"):
        deep_dynamic_rnn(cells, X, dropout="0.5")
    with pytest.raises(TypeError, match=r"training must be a bool"):
        deep_dynamic_rnn(cells, X, dropout=0.5, training=1)
    with pytest.raises(TypeError, match=r"cells\[0\] must be one of"):
        deep_dynamic_rnn([numpy_rnn.GRUCell(2, 3)], X)
    with pytest.raises(ValueError, match=r"X must have shape"):
        deep_dynamic_rnn(cells, torch.zeros(2, 4, 3))
    with pytest.raises(ValueError, match=r"sequence_length"):
        deep_dynamic_rnn(cells, X, [5, 1])
    with pytest.raises(TypeError, match=r"initial_state must be a tuple of 2 states"):
        deep_dynamic_rnn(cells, X, initial_state=torch.zeros(2, 3))
