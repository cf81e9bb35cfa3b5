"""``companion.fast.numpy_gated``: the in-place LSTM/GRU loop equals the reference loop.

``nrnn.dynamic_rnn``'s default runs the fast loop for an LSTMCell or GRUCell;
``backend="reference"`` runs the loop over ``cell.step``. Same values to float64
rounding, exact zeros past each length, the state carried, nothing aliased.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import assert_bitwise_zero

from companion import numpy_rnn as nrnn

KINDS = ["lstm", "gru", "gru_tf"]


def make_cell(kind: str, n_inputs: int, n_neurons: int, seed: int = 0, dtype=np.float64):
    if kind == "lstm":
        return nrnn.LSTMCell(n_inputs, n_neurons, seed=seed, dtype=dtype)
    return nrnn.GRUCell(n_inputs, n_neurons, reset_after=kind == "gru", seed=seed, dtype=dtype)


def parts(state) -> list[np.ndarray]:
    return list(state) if isinstance(state, nrnn.LSTMState) else [state]


def random_state(cell, batch: int, rng: np.random.Generator):
    if isinstance(cell, nrnn.LSTMCell):
        return nrnn.LSTMState(*rng.normal(size=(2, batch, cell.n_neurons)))
    return rng.normal(size=(batch, cell.n_neurons))


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    batch=st.integers(1, 4),
    n_steps=st.integers(0, 5),
    sizes=st.tuples(st.integers(1, 3), st.integers(1, 4)),
    time_major=st.booleans(),
    data=st.data(),
)
def test_fast_loop_equals_the_reference(kind, batch, n_steps, sizes, time_major, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    cell = make_cell(kind, *sizes, seed=int(rng.integers(100)))
    X = rng.normal(size=(n_steps, batch, sizes[0]) if time_major else (batch, n_steps, sizes[0]))
    lengths = data.draw(
        st.none() | st.lists(st.integers(0, n_steps), min_size=batch, max_size=batch)
    )
    h0 = random_state(cell, batch, rng) if data.draw(st.booleans()) else None
    args = dict(sequence_length=lengths, initial_state=h0, time_major=time_major)
    fast, fast_state = nrnn.dynamic_rnn(cell, X, **args)
    ref, ref_state = nrnn.dynamic_rnn(cell, X, backend="reference", **args)
    np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-12)
    for a, b in zip(parts(fast_state), parts(ref_state), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    if lengths is not None:
        y = fast if time_major else fast.transpose(1, 0, 2)  # [n_steps, batch, n]
        for i, length in enumerate(lengths):
            assert_bitwise_zero(y[length:, i])


@pytest.mark.parametrize("kind", KINDS)
def test_length_zero_keeps_the_initial_state_and_nothing_is_aliased(kind):
    rng = np.random.default_rng(4)
    cell = make_cell(kind, 2, 3)
    X = rng.normal(size=(3, 4, 2))
    h0 = random_state(cell, 3, rng)
    X_before, h0_before = X.copy(), [p.copy() for p in parts(h0)]
    outputs, state = nrnn.dynamic_rnn(cell, X, sequence_length=[4, 0, 2], initial_state=h0)
    np.testing.assert_array_equal(X, X_before)
    for given_part, before, final in zip(parts(h0), h0_before, parts(state), strict=True):
        np.testing.assert_array_equal(given_part, before)  # the caller's state is not written
        np.testing.assert_array_equal(final[1], before[1])  # length 0: the initial state
        assert not np.shares_memory(final, given_part) and not np.shares_memory(final, outputs)
    assert_bitwise_zero(outputs[1])


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32_and_close_to_float64(kind):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, 6, 3))
    cell64 = make_cell(kind, 3, 5, seed=2)
    cell32 = make_cell(kind, 3, 5, seed=2, dtype=np.float32)
    out32, _ = nrnn.dynamic_rnn(cell32, X)
    out64, _ = nrnn.dynamic_rnn(cell64, X)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=0, atol=1e-5)


def test_saturated_gates_do_not_overflow():
    """σ written with tanh: a pre-activation of -1000 gives 0 without a warning."""
    cell = nrnn.LSTMCell.from_weights(np.full((1, 4), 1000.0), np.zeros((1, 4)), np.zeros(4))
    outputs, state = nrnn.dynamic_rnn(cell, -np.ones((1, 2, 1)))  # filterwarnings = error
    assert np.isfinite(outputs).all() and np.all(state.c == 0)
