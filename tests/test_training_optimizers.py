"""Tests of ``companion.training.optimizers``: NumPy SGD and Adam equal to ``torch.optim``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.training.optimizers import Adam, sgd_step


def test_sgd_step_is_in_place():
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([0.5])
    same_w, same_b = w, b
    sgd_step([w, b], [np.ones((2, 2)), np.array([2.0])], lr=0.1)
    assert w is same_w and b is same_b
    np.testing.assert_allclose(w, [[0.9, 1.9], [2.9, 3.9]], rtol=1e-15)
    np.testing.assert_allclose(b, [0.3], rtol=1e-15)


def test_sgd_step_equals_torch_sgd():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    tparams = [torch.nn.Parameter(torch.tensor(p)) for p in params]
    opt = torch.optim.SGD(tparams, lr=0.05)
    for _ in range(5):
        grads = [rng.standard_normal(p.shape) for p in params]
        sgd_step(params, grads, 0.05)
        for tp, g in zip(tparams, grads, strict=True):
            tp.grad = torch.tensor(g)
        opt.step()
        for p, tp in zip(params, tparams, strict=True):
            np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6}, {"lr": 1.0, "betas": (0.0, 0.5)}],
)
def test_adam_equals_torch_adam_step_for_step(kwargs):
    rng = np.random.default_rng(1)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((2, 2))]
    tparams = [torch.nn.Parameter(torch.tensor(p)) for p in params]
    ours, theirs = Adam(params, **kwargs), torch.optim.Adam(tparams, **kwargs)
    for _ in range(20):
        # Gradients of different scales per parameter, some entries exactly 0.
        grads = [rng.standard_normal(p.shape) * 10.0 ** rng.integers(-4, 3) for p in params]
        grads[2][0, 0] = 0.0
        ours.step(grads)
        for tp, g in zip(tparams, grads, strict=True):
            tp.grad = torch.tensor(g)
        theirs.step()
        for p, tp in zip(params, tparams, strict=True):
            np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert ours.t == 20


def test_bad_input():
    w = np.zeros((2, 3))
    with pytest.raises(
        ValueError, match=r"grads\[0\] must have the shape of params\[0\], \[2, 3\]"
    ):
        sgd_step([w], [np.zeros((3, 2))], 0.1)
    with pytest.raises(ValueError, match="grads must have one array per parameter, 1; got 2"):
        sgd_step([w], [w, w], 0.1)
    with pytest.raises(TypeError, match=r"params\[0\] must be a float NumPy array"):
        sgd_step([np.zeros(2, dtype=int)], [np.zeros(2)], 0.1)
    with pytest.raises(ValueError, match="lr must be a finite number > 0; got 0"):
        sgd_step([w], [w], 0)
    with pytest.raises(ValueError, match=r"betas\[1\] must be a number in \[0, 1\); got 1.0"):
        Adam([w], betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="params must be a list"):
        Adam(w)
