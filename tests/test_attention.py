"""Tests of ``companion.models.attention``: masked softmax, scores, contexts against loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.models import attention as att


def _batch(seed: int, batch: int = 3, n_tgt: int = 4, n_src: int = 5, n: int = 6):
    rng = np.random.default_rng(seed)
    queries = torch.as_tensor(rng.normal(size=(batch, n_tgt, n)))
    keys = torch.as_tensor(rng.normal(size=(batch, n_src, n)))
    lengths = rng.integers(1, n_src + 1, size=batch)
    lengths[0] = n_src  # one full-length source in every batch
    mask = torch.as_tensor(np.arange(n_src)[None, :] < lengths[:, None])
    return queries, keys, lengths, mask


@settings(max_examples=30)
@given(st.integers(0, 10_000))
def test_weights_sum_to_one_and_are_exactly_zero_on_padding(seed):
    queries, keys, lengths, mask = _batch(seed)
    for kind in att.ATTENTION_KINDS:
        module = att.Attention(kind, 6, seed=seed, dtype=torch.float64)
        _, weights = module(queries, keys, mask)
        assert weights.shape == (3, 4, 5)
        assert torch.allclose(weights.sum(-1), torch.ones(3, 4, dtype=torch.float64), atol=1e-12)
        assert bool((weights[~mask[:, None, :].expand_as(weights)] == 0).all())
        assert bool((weights[mask[:, None, :].expand_as(weights)] > 0).all())


@settings(max_examples=20)
@given(st.integers(0, 10_000))
def test_dot_attention_equals_the_numpy_loop(seed):
    queries, keys, lengths, mask = _batch(seed)
    context, weights = att.Attention("dot", 6)(queries, keys, mask)
    context_np, weights_np = att.numpy_attention(queries.numpy(), keys.numpy(), lengths)
    assert np.abs(weights.numpy() - weights_np).max() < 1e-12
    assert np.abs(context.numpy() - context_np).max() < 1e-12


def test_additive_scores_equal_a_loop_over_pairs():
    queries, keys, _, _ = _batch(1)
    rng = np.random.default_rng(2)
    Wq, Wk = (torch.as_tensor(rng.normal(size=(6, 7))) for _ in range(2))
    v = torch.as_tensor(rng.normal(size=7))
    scores = att.additive_scores(queries, keys, Wq, Wk, v)
    assert scores.shape == (3, 4, 5)
    for b in range(3):
        for t in range(4):
            for s in range(5):
                e = v @ torch.tanh(queries[b, t] @ Wq + keys[b, s] @ Wk)
                assert abs(float(scores[b, t, s] - e)) < 1e-12


def test_padding_values_never_reach_the_context():
    queries, keys, _, mask = _batch(3)
    changed = keys.clone()
    changed[~mask] = 1e6  # garbage in the padded positions
    for kind in att.ATTENTION_KINDS:
        module = att.Attention(kind, 6, seed=0, dtype=torch.float64)
        context, _ = module(queries, keys, mask)
        context_changed, _ = module(queries, changed, mask)
        assert torch.equal(context, context_changed)


def test_masked_softmax_is_stable_for_large_scores():
    scores = torch.tensor([[[1000.0, 999.0, -5.0]]], dtype=torch.float64)
    weights = att.masked_softmax(scores, torch.tensor([[True, True, False]]))
    expected = torch.tensor([1.0, np.exp(-1.0), 0.0], dtype=torch.float64)
    expected[:2] /= expected[:2].sum()
    assert torch.allclose(weights[0, 0], expected, atol=1e-15)


def test_additive_weights_are_reproducible_from_the_seed():
    a, b = (att.Attention("additive", 4, n_att=3, seed=5) for _ in range(2))
    assert a.Wq.shape == (4, 3) and a.Wk.shape == (4, 3) and a.v.shape == (3,)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert list(att.Attention("dot", 4).parameters()) == []


def test_bad_kind():
    with pytest.raises(ValueError, match="attention must be one of"):
        att.Attention("cosine", 4)
