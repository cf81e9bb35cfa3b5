"""Tests for companion.sequences.sampling: softmax with temperature, inverse-CDF draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from companion.sequences.sampling import (
    PROBABILITY_TOLERANCE,
    sample_categorical,
    softmax_with_temperature,
)


class FixedUniform(np.random.Generator):
    """A Generator whose ``random`` returns chosen numbers: to place u on a boundary."""

    def __init__(self, u):
        super().__init__(np.random.PCG64(0))
        self.u = np.asarray(u, dtype=np.float64)

    def random(self, size=None, dtype=np.float64, out=None):
        assert size == self.u.shape[0]
        return self.u.copy()


logit_rows = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(1, 8)),
    elements=st.floats(-50, 50, allow_nan=False),
)


# --- softmax_with_temperature ---------------------------------------------------------


def test_temperature_one_is_the_plain_softmax():
    z = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p = softmax_with_temperature(z, 1.0)
    assert p.dtype == np.float64
    np.testing.assert_allclose(p, expected, rtol=1e-14, atol=0)


def test_temperature_divides_the_logits():
    z = np.array([0.3, -1.2, 2.5, 0.0])
    for T in (0.25, 0.5, 2.0, 7.0):
        expected = np.exp(z / T) / np.exp(z / T).sum()
        np.testing.assert_allclose(softmax_with_temperature(z, T), expected, rtol=1e-13)


@settings(max_examples=40)
@given(logit_rows, st.floats(0.05, 20.0))
def test_rows_are_distributions_and_shift_invariant(z, T):
    p = softmax_with_temperature(z, T)
    assert p.shape == z.shape
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(softmax_with_temperature(z + 17.0, T), p, rtol=1e-9, atol=1e-15)


@settings(max_examples=40)
@given(logit_rows)
def test_a_higher_temperature_never_sharpens(z):
    # the largest probability can only fall (towards 1/n) as T grows
    tops = [softmax_with_temperature(z, T).max(axis=-1) for T in (0.2, 0.5, 1.0, 2.0, 5.0)]
    for lower, higher in zip(tops, tops[1:], strict=False):
        assert np.all(higher <= lower + 1e-12)


def test_small_temperature_tends_to_argmax_and_shares_ties():
    z = np.array([[0.1, 2.0, 1.9, -3.0], [1.0, 4.0, 4.0, 0.0]])
    p = softmax_with_temperature(z, 1e-3)
    np.testing.assert_allclose(p[0], [0.0, 1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(p[1], [0.0, 0.5, 0.5, 0.0], atol=1e-12)


def test_large_temperature_tends_to_uniform():
    z = np.array([10.0, -5.0, 3.0, 0.0, 7.0])
    p = softmax_with_temperature(z, 1e7)
    np.testing.assert_allclose(p, np.full(5, 0.2), rtol=0, atol=1e-6)


def test_extreme_logits_do_not_overflow_and_minus_inf_is_forbidden():
    p = softmax_with_temperature(np.array([1000.0, -1000.0, -np.inf, 999.0]), 0.5)
    assert np.all(np.isfinite(p))
    assert p[2] == 0.0 and p[1] == 0.0
    np.testing.assert_allclose(p[0] / p[3], np.exp(2.0), rtol=1e-12)


def test_integer_logits_are_accepted():
    np.testing.assert_allclose(
        softmax_with_temperature(np.array([0, 1]), 1.0), [1 / (1 + np.e), np.e / (1 + np.e)]
    )


@pytest.mark.parametrize("T", [0, -1.0, float("inf"), float("nan")])
def test_temperature_must_be_a_finite_positive_number(T):
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        softmax_with_temperature(np.zeros(3), T)


def test_temperature_of_the_wrong_kind():
    with pytest.raises(TypeError, match="temperature must be a number"):
        softmax_with_temperature(np.zeros(3), "hot")
    with pytest.raises(TypeError, match="temperature must be a number"):
        softmax_with_temperature(np.zeros(3), True)


def test_bad_logits():
    with pytest.raises(ValueError, match="NaN or \\+inf"):
        softmax_with_temperature(np.array([0.0, np.nan]), 1.0)
    with pytest.raises(ValueError, match="NaN or \\+inf"):
        softmax_with_temperature(np.array([0.0, np.inf]), 1.0)
    with pytest.raises(ValueError, match="at least one finite value in every row"):
        softmax_with_temperature(np.array([[0.0, 1.0], [-np.inf, -np.inf]]), 1.0)
    with pytest.raises(ValueError, match=r"logits must have shape \[..., n_classes\]"):
        softmax_with_temperature(np.zeros((2, 0)), 1.0)
    with pytest.raises(ValueError, match=r"logits must have shape \[..., n_classes\]"):
        softmax_with_temperature(np.array(3.0), 1.0)
    with pytest.raises(TypeError, match="logits must hold integers or floats"):
        softmax_with_temperature(np.array(["a", "b"]), 1.0)
    with pytest.raises(TypeError, match="logits must be an array"):
        softmax_with_temperature(3.0, 1.0)


# --- sample_categorical: hand cases -----------------------------------------------------


def test_u_just_below_and_just_above_a_boundary():
    u = 0.3
    below = sample_categorical(np.array([[u + 1e-9, 1 - u - 1e-9]]), FixedUniform([u]))
    above = sample_categorical(np.array([[u - 1e-9, 1 - u + 1e-9]]), FixedUniform([u]))
    on = sample_categorical(np.array([[u, 1 - u]]), FixedUniform([u]))
    assert below.tolist() == [0]  # u < c_0
    assert above.tolist() == [1]  # c_0 <= u
    assert on.tolist() == [1]  # the interval of class j is [c_{j-1}, c_j): c_0 itself is class 1


def test_each_row_uses_its_own_u():
    probs = np.array([[0.25, 0.25, 0.25, 0.25]] * 5)
    u = [0.0, 0.2499, 0.25, 0.74, 0.9999]
    assert sample_categorical(probs, FixedUniform(u)).tolist() == [0, 0, 1, 2, 3]


def test_zero_probability_classes_are_never_drawn():
    probs = np.array([[0.0, 0.5, 0.0, 0.5, 0.0]])
    # u = 0 is the first class of positive probability; u at the boundary goes on to class 3
    assert sample_categorical(probs, FixedUniform([0.0])).tolist() == [1]
    assert sample_categorical(probs, FixedUniform([0.5])).tolist() == [3]
    draws = sample_categorical(np.repeat(probs, 5000, axis=0), np.random.default_rng(0))
    assert set(draws.tolist()) == {1, 3}


def test_round_off_past_the_last_boundary_goes_to_the_last_possible_class():
    # the row sums to 1 - 1e-9 (within tolerance); u above that must not fall off the end,
    # nor onto the trailing class of probability 0
    probs = np.array([[0.5, 0.5 - 1e-9, 0.0]])
    assert sample_categorical(probs, FixedUniform([1 - 1e-10])).tolist() == [1]


def test_shape_dtype_and_a_single_class():
    draws = sample_categorical(np.full((7, 1), 1.0), np.random.default_rng(3))
    assert draws.dtype == np.int64 and draws.shape == (7,)
    assert draws.tolist() == [0] * 7
    empty = sample_categorical(np.zeros((0, 4)), np.random.default_rng(3))
    assert empty.dtype == np.int64 and empty.shape == (0,)


def test_float32_probabilities_are_accepted():
    p = np.array([[0.1, 0.2, 0.7]], dtype=np.float32)
    assert sample_categorical(p, FixedUniform([0.95])).tolist() == [2]


# --- sample_categorical: distribution and reproducibility -------------------------------


def test_empirical_distribution_matches_chi_square_bound():
    p = np.array([0.05, 0.3, 0.0, 0.15, 0.4, 0.1])
    n = 40_000
    draws = sample_categorical(np.tile(p, (n, 1)), np.random.default_rng(2026))
    counts = np.bincount(draws, minlength=p.size)
    assert counts[2] == 0
    expected = n * p[p > 0]
    chi2 = float(((counts[p > 0] - expected) ** 2 / expected).sum())
    # 5 classes -> 4 degrees of freedom: P(chi2 > 23.5) = 1e-4 for a correct sampler;
    # an off-by-one (returning the index of the last c_j <= u) gives chi2 in the thousands
    assert chi2 < 23.5


def test_distribution_at_three_temperatures_by_inverse_cdf():
    z = np.log(np.array([0.6, 0.3, 0.1]))
    for T in (0.5, 1.0, 2.0):
        p = softmax_with_temperature(z, T)
        draws = sample_categorical(np.tile(p, (20_000, 1)), np.random.default_rng(7))
        freq = np.bincount(draws, minlength=3) / 20_000
        # 5 standard errors of a frequency: sqrt(p (1 - p) / n) <= 0.0036
        np.testing.assert_allclose(freq, p, rtol=0, atol=0.018)


def test_same_seed_same_draws_and_the_generator_advances_by_batch():
    probs = softmax_with_temperature(np.random.default_rng(1).normal(size=(50, 9)), 1.0)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(sample_categorical(probs, a), sample_categorical(probs, b))
    reference = np.random.default_rng(5).random(51)
    assert a.random() == reference[50]
    other = sample_categorical(probs, np.random.default_rng(6))
    assert not np.array_equal(other, sample_categorical(probs, np.random.default_rng(5)))


def test_draws_equal_the_inverse_cdf_definition():
    rng_probs = np.random.default_rng(11)
    probs = softmax_with_temperature(rng_probs.normal(size=(200, 6)) * 2, 1.0)
    draws = sample_categorical(probs, np.random.default_rng(9))
    u = np.random.default_rng(9).random(200)
    c = np.cumsum(probs, axis=1)
    expected = (c <= u[:, None]).sum(axis=1)  # how many boundaries lie at or below u
    assert np.array_equal(draws, expected)


# --- sample_categorical: bad input ------------------------------------------------------


def test_rows_must_sum_to_one():
    with pytest.raises(ValueError, match="row 1 sums to"):
        sample_categorical(np.array([[0.5, 0.5], [0.5, 0.4]]), np.random.default_rng(0))
    tiny = PROBABILITY_TOLERANCE / 10
    sample_categorical(np.array([[0.5, 0.5 - tiny]]), np.random.default_rng(0))  # within


def test_probabilities_must_be_non_negative_and_finite():
    with pytest.raises(ValueError, match="finite and non-negative"):
        sample_categorical(np.array([[1.2, -0.2]]), np.random.default_rng(0))
    with pytest.raises(ValueError, match="finite and non-negative"):
        sample_categorical(np.array([[np.nan, 1.0]]), np.random.default_rng(0))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 1), (2, 0)])
def test_probs_must_be_a_matrix(shape):
    probs = np.full(shape, 1.0 / max(shape[-1], 1))
    with pytest.raises(ValueError, match=r"probs must have shape \[batch, n_classes\]"):
        sample_categorical(probs, np.random.default_rng(0))


def test_rng_must_be_a_generator():
    probs = np.array([[0.5, 0.5]])
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        sample_categorical(probs, 0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        sample_categorical(probs, np.random.RandomState(0))


def test_probs_of_the_wrong_kind():
    with pytest.raises(TypeError, match="probs must hold integers or floats"):
        sample_categorical(np.array([[True, False]]), np.random.default_rng(0))
    with pytest.raises(TypeError, match="probs must be an array"):
        sample_categorical(None, np.random.default_rng(0))
