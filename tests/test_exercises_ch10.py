"""Tests of the chapter 10 checkers (``companion.exercises.ch10``).

Each typical mistake is written here the way a reader would write it, and must
be named by the checker; a correct answer passes; a crash is reported.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion import numpy_rnn as nrnn
from companion.exercises import ch10
from companion.training import jacobians

# ----------------------------------------------------------------- clip_by_global_norm


def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum((g**2).sum() for g in grads))
    scale = max_norm / max(norm, max_norm)
    return [g * scale for g in grads], norm


def clip_torch_style(grads, max_norm):  # PyTorch's 1e-6 in the denominator is accepted
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
    return [g * scale for g in grads], norm


def per_tensor(grads, max_norm):
    out = []
    for g in grads:
        n = np.linalg.norm(g)
        out.append(g * max_norm / n if n > max_norm else g)
    return out, np.sqrt(sum((g**2).sum() for g in grads))


def no_sqrt(grads, max_norm):
    norm = sum((g**2).sum() for g in grads)
    return [g * max_norm / max(norm, max_norm) for g in grads], norm


def always_scale(grads, max_norm):
    norm = np.sqrt(sum((g**2).sum() for g in grads))
    return [g * max_norm / norm for g in grads], norm


def returns_clipped_norm(grads, max_norm):
    clipped, _ = clip_by_global_norm(grads, max_norm)
    return clipped, np.sqrt(sum((g**2).sum() for g in clipped))


def by_value(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads], np.sqrt(
        sum((g**2).sum() for g in grads)
    )


def inverted(grads, max_norm):
    norm = np.sqrt(sum((g**2).sum() for g in grads))
    return [g * norm / max_norm if norm > max_norm else g for g in grads], norm


@pytest.mark.parametrize(
    ("fn", "backend"), [(clip_by_global_norm, "numpy"), (clip_torch_style, "torch")]
)
def test_clip_reference_passes(fn, backend):
    result = ch10.check_clip_by_global_norm(fn, backend)
    assert result.passed, str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (per_tensor, "按它自己的范数分别裁剪"),
        (no_sqrt, "忘了开平方"),
        (always_scale, "范数小于阈值时也做了缩放"),
        (returns_clipped_norm, "返回了裁剪之后的范数"),
        (by_value, "逐个元素截断"),
        (inverted, "缩放比例写反了"),
    ],
)
def test_clip_names_each_mistake(fn, words):
    result = ch10.check_clip_by_global_norm(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_clip_wrong_form_and_crash():
    result = ch10.check_clip_by_global_norm(lambda grads, max_norm: grads)
    assert not result.passed and "一对值" in str(result)
    result = ch10.check_clip_by_global_norm(lambda grads, max_norm: (grads[:1], 1.0))
    assert not result.passed and "一一对应" in str(result)
    result = ch10.check_clip_by_global_norm(lambda grads, max_norm: 1 / 0)
    assert not result.passed and "运行出错" in str(result)


# ----------------------------------------------------------------- gradient norms by distance


def gradient_norms(Wy, H):
    n_steps, n = H.shape
    P = np.eye(n)
    norms = [1.0]
    for d in range(1, n_steps):
        t = n_steps - d
        P = P @ (np.diag(1 - H[t] ** 2) @ Wy.T)
        norms.append(np.linalg.norm(P, 2))
    return np.array(norms)


def gradient_norms_torch(Wy, H):
    n_steps, n = H.shape
    P = torch.eye(n, dtype=H.dtype)
    norms = [torch.linalg.matrix_norm(P, 2)]
    for d in range(1, n_steps):
        P = P @ torch.diag(1 - H[n_steps - d] ** 2) @ Wy.T
        norms.append(torch.linalg.matrix_norm(P, 2))
    return torch.stack(norms)


def variant(*, deriv=lambda H, t: 1 - H[t] ** 2, transpose=True, left=False, ord=2):
    def fn(Wy, H):
        n_steps, n = H.shape
        P = np.eye(n)
        norms = [np.linalg.norm(P, ord)]
        for d in range(1, n_steps):
            t = n_steps - d
            J = np.diag(deriv(H, t)) @ (Wy.T if transpose else Wy)
            P = J @ P if left else P @ J
            norms.append(np.linalg.norm(P, ord))
        return np.array(norms)

    return fn


@pytest.mark.parametrize(
    ("fn", "backend"), [(gradient_norms, "numpy"), (gradient_norms_torch, "torch")]
)
def test_norms_reference_passes(fn, backend):
    result = ch10.check_gradient_norms(fn, backend)
    assert result.passed, str(result)


def test_norms_reference_agrees_with_the_package():
    for case in ch10._norm_cases():
        Wy, H = case["Wy"], case["H"]
        # the states of the case, rebuilt as a run of a cell whose inputs give them exactly
        n = Wy.shape[0]
        h_prev = np.vstack([np.zeros(n), H[:-1]])
        X = (np.arctanh(H) - h_prev @ Wy)[None]  # x_t = a_t - h_{t-1} Wy, with Wx = I
        cell = nrnn.BasicRNNCell.from_weights(np.eye(n), Wy, np.zeros(n))
        norms = jacobians.gradient_norms_by_distance(cell, X)[0, : H.shape[0]]
        assert np.allclose(norms, ch10._norms_reference(Wy, H), atol=1e-10)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (variant(deriv=lambda H, t: np.ones(H.shape[1])), "漏掉了 tanh 的导数"),
        (variant(transpose=False), "用了 Wy 而不是它的转置"),
        (variant(left=True), "乘的顺序反了"),
        (variant(deriv=lambda H, t: 1 - H[t]), "1 - h 而不是 1 - h²"),
        (variant(deriv=lambda H, t: 1 - H[t - 1] ** 2), "导数取错了时间步"),
        (variant(ord="fro"), "Frobenius"),
    ],
)
def test_norms_names_each_mistake(fn, words):
    result = ch10.check_gradient_norms(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_norms_unknown_mistake_is_located():
    result = ch10.check_gradient_norms(lambda Wy, H: np.ones(H.shape[0]))
    assert not result.passed and "norms 的数值不对" in str(result) and "距离 d" in str(result)
