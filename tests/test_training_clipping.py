"""Tests of ``companion.training.clipping``: by global norm (TF 1.x and PyTorch) and by value."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.training import clipping


def random_grads(seed, scale):
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(shape) for shape in [(3, 4), (4, 4), (4,)]]


def test_global_norm_is_the_norm_of_everything_concatenated():
    grads = random_grads(0, 1.0)
    flat = np.concatenate([g.ravel() for g in grads])
    assert clipping.global_norm(grads) == pytest.approx(np.linalg.norm(flat), rel=1e-14)
    tensors = [torch.from_numpy(g) for g in grads]
    assert clipping.global_norm(tensors) == pytest.approx(np.linalg.norm(flat), rel=1e-14)
    assert clipping.global_norm([]) == 0.0


@settings(max_examples=30)
@given(st.integers(0, 10_000), st.floats(0.01, 100.0), st.floats(0.1, 10.0))
def test_clip_by_global_norm_tf_semantics(seed, scale, max_norm):
    grads = random_grads(seed, scale)
    before = [g.copy() for g in grads]
    clipped, norm = clipping.clip_by_global_norm(grads, max_norm)
    assert norm == pytest.approx(clipping.global_norm(before), rel=1e-14)
    for g, b in zip(grads, before, strict=True):
        np.testing.assert_array_equal(g, b)  # the input is not modified
    if norm <= max_norm:
        for c, g in zip(clipped, grads, strict=True):
            np.testing.assert_array_equal(c, g)
    else:  # the same direction, norm exactly max_norm
        assert clipping.global_norm(clipped) == pytest.approx(max_norm, rel=1e-13)
        for c, g in zip(clipped, grads, strict=True):
            np.testing.assert_allclose(c, g * (max_norm / norm), rtol=1e-15)


def test_clip_by_global_norm_on_tensors_returns_tensors():
    tensors = [torch.from_numpy(g) for g in random_grads(1, 10.0)]
    clipped, norm = clipping.clip_by_global_norm(tensors, 1.0)
    assert all(isinstance(c, torch.Tensor) for c in clipped)
    assert clipping.global_norm(clipped) == pytest.approx(1.0, rel=1e-13)


def make_params(seed, scale):
    params = [
        torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in random_grads(0, 1)
    ]
    for p, g in zip(params, random_grads(seed, scale), strict=True):
        p.grad = torch.from_numpy(g)
    return params


@pytest.mark.parametrize("scale", [0.01, 1.0, 100.0])
def test_clip_grad_norm_equals_pytorch(scale):
    ours, theirs = make_params(3, scale), make_params(3, scale)
    norm = clipping.clip_grad_norm(ours, 1.5)
    their_norm = torch.nn.utils.clip_grad_norm_(theirs, 1.5)
    assert norm == pytest.approx(float(their_norm), rel=1e-15)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-15, atol=0)


def test_pytorch_and_tensorflow_formulas_differ_by_the_1e_6():
    """PyTorch divides by norm + 1e-6: its clipped norm is a hair below max_norm."""
    params = make_params(4, 100.0)
    grads = [p.grad.clone() for p in params]
    norm = clipping.clip_grad_norm(params, 1.0)
    torch_norm = clipping.global_norm([p.grad for p in params])
    assert torch_norm == pytest.approx(norm / (norm + 1e-6), rel=1e-13)
    assert torch_norm < 1.0
    tf_clipped, _ = clipping.clip_by_global_norm(grads, 1.0)
    assert clipping.global_norm(tf_clipped) == pytest.approx(1.0, rel=1e-14)


def test_clip_grad_norm_skips_parameters_without_grad():
    params = make_params(5, 10.0)
    params.append(torch.nn.Parameter(torch.ones(2, dtype=torch.float64)))
    assert clipping.clip_grad_norm(params, 1.0) > 1.0
    assert params[-1].grad is None
    assert clipping.clip_grad_norm([torch.nn.Parameter(torch.ones(2))], 1.0) == 0.0


def test_clip_by_value_both_backends():
    grads = random_grads(6, 3.0)
    clipped = clipping.clip_by_value(grads, 1.0)
    for c, g in zip(clipped, grads, strict=True):
        np.testing.assert_array_equal(c, np.clip(g, -1.0, 1.0))
    params = make_params(6, 3.0)
    torch.nn.utils.clip_grad_value_(params, 1.0)
    tensors = clipping.clip_by_value([torch.from_numpy(g) for g in grads], 1.0)
    for t, p in zip(tensors, params, strict=True):
        assert torch.equal(t, p.grad)


def test_bad_input():
    with pytest.raises(ValueError, match="max_norm must be a finite number > 0; got -1"):
        clipping.clip_by_global_norm([np.ones(2)], -1)
    with pytest.raises(TypeError, match="max_norm must be a number > 0; got str"):
        clipping.clip_by_global_norm([np.ones(2)], "1")
    with pytest.raises(TypeError, match="grads must be a list"):
        clipping.global_norm(np.ones(2))
    with pytest.raises(TypeError, match=r"grads\[1\] must be an array or a tensor; got float"):
        clipping.clip_by_value([np.ones(2), 1.0], 1.0)
    with pytest.raises(TypeError, match="all NumPy arrays or all torch tensors"):
        clipping.global_norm([np.ones(2), torch.ones(2)])
    with pytest.raises(ValueError, match="limit must be a finite number > 0; got inf"):
        clipping.clip_by_value([np.ones(2)], float("inf"))
