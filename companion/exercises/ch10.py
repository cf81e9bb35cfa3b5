"""Checkers for the code exercises of chapter 10 (梯度消失与梯度爆炸).

Clipping gradients by their global norm (the reference is TensorFlow 1.x's
``tf.clip_by_global_norm``, :func:`companion.training.clipping.clip_by_global_norm`)
and the norm of the Jacobian product against distance (equation (10.3),
:mod:`companion.training.jacobians`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion.compare import as_float64
from companion.exercises.feedback import AnswerProblem, Exercise, Mistake

__all__ = ["check_clip_by_global_norm", "check_gradient_norms"]


# ------------------------------------------------------------- clip_by_global_norm


def _norm(grads: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(np.sum(g**2) for g in grads)))


def _flat(grads: list[Any]) -> np.ndarray:
    return np.concatenate([as_float64(g).ravel() for g in grads])


def _clip_reference(grads: list[np.ndarray], max_norm: float) -> tuple[np.ndarray, float]:
    """``(all clipped entries as one vector, the global norm before clipping)``."""
    norm = _norm(grads)
    return _flat([g * (max_norm / max(norm, max_norm)) for g in grads]), norm


def _clip_prepare(raw: Any, case: dict[str, Any]) -> tuple[np.ndarray, float]:
    """The reader's ``(clipped, global_norm)`` as ``(one flat vector, a float)``."""
    if not (isinstance(raw, tuple | list) and len(raw) == 2):
        raise AnswerProblem(
            "函数应返回一对值 (clipped, global_norm)：裁剪后的梯度列表，和裁剪前的全局范数。"
        )
    clipped, norm = raw
    grads = case["grads"]
    if not isinstance(clipped, list | tuple) or len(clipped) != len(grads):
        raise AnswerProblem(
            f"clipped 应是与 grads 一一对应的列表（{len(grads)} 个数组），"
            f"得到的是 {type(clipped).__name__}。"
        )
    for k, (c, g) in enumerate(zip(clipped, grads, strict=True)):
        if tuple(as_float64(c).shape) != g.shape:
            raise AnswerProblem(
                f"clipped[{k}] 的形状应与 grads[{k}] 相同，{list(g.shape)}；"
                f"得到 {list(as_float64(c).shape)}。"
            )
    try:
        norm = float(as_float64(norm))
    except (TypeError, ValueError) as exc:
        raise AnswerProblem("global_norm 应是一个数（裁剪前的全局范数）。") from exc
    return _flat(clipped), norm


def _per_tensor(grads, max_norm):
    scaled = [g * (max_norm / max(np.sqrt(np.sum(g**2)), max_norm)) for g in grads]
    return _flat(scaled), _norm(grads)


def _no_sqrt(grads, max_norm):
    squared = _norm(grads) ** 2
    return _flat([g * (max_norm / max(squared, max_norm)) for g in grads]), squared


def _always_scale(grads, max_norm):
    norm = _norm(grads)
    return _flat([g * (max_norm / norm) for g in grads]), norm


def _clipped_norm(grads, max_norm):
    flat, norm = _clip_reference(grads, max_norm)
    return flat, min(norm, max_norm)


def _by_value(grads, max_norm):
    return _flat([np.clip(g, -max_norm, max_norm) for g in grads]), _norm(grads)


def _inverted(grads, max_norm):
    norm = _norm(grads)
    return _flat([g * max(1.0, norm / max_norm) for g in grads]), norm


def _clip_cases() -> list[dict[str, Any]]:
    """Three gradients of different sizes (one small, one large); the first case needs
    clipping, the second does not, the third has one gradient only."""
    rng = np.random.default_rng(10)
    big = [rng.normal(size=(3, 4)) * 0.1, rng.normal(size=(4, 4)) * 3.0, rng.normal(size=4)]
    small = [rng.normal(size=(2, 3)) * 0.2, rng.normal(size=(3, 3)) * 0.3, rng.normal(size=3) * 0.1]
    single = [rng.normal(size=(5, 2)) * 2.0]
    return [
        {"grads": big, "max_norm": 1.0},
        {"grads": small, "max_norm": 5.0},
        {"grads": single, "max_norm": 0.5},
    ]


CLIP_BY_GLOBAL_NORM = Exercise(
    "按全局范数裁剪梯度",
    doc="""Clip a list of gradients by their global norm (TensorFlow 1.x's
    ``tf.clip_by_global_norm``)::

        global_norm = sqrt(Σ_k Σ_j grads[k][j]²)
        clipped[k]  = grads[k] · max_norm / max(global_norm, max_norm)

    Inputs: ``grads`` a list of arrays of any shapes, ``max_norm`` a float > 0.
    Outputs: ``(clipped, global_norm)``: a list of arrays of the same shapes, and the
    norm *before* clipping.
    """,
    reference=_clip_reference,
    cases=_clip_cases,
    outputs={"裁剪后的梯度（依次展平拼接）": None, "global_norm": None},
    prepare=_clip_prepare,
    mistakes=Mistake.table(
        "把每个梯度按它自己的范数分别裁剪了。全局范数裁剪把所有梯度看成一个长向量，"
        "只算一个范数、用同一个比例缩放所有梯度，这样更新的方向才不变；"
        "分别裁剪会改变各个梯度之间的比例。",
        _per_tensor,
        "忘了开平方：用了平方和而不是范数。global_norm = sqrt(Σ g²)；"
        "平方和与阈值比较、再拿来缩放，比例就错了。",
        _no_sqrt,
        "范数小于阈值时也做了缩放（把梯度放大到了 max_norm）。"
        "裁剪只缩小、不放大：比例是 max_norm / max(global_norm, max_norm)，"
        "范数不超过阈值时它等于 1，梯度原样返回。",
        _always_scale,
        "返回了裁剪之后的范数，应返回裁剪之前的。global_norm 用来观察训练"
        "（梯度是否在爆炸），tf.clip_by_global_norm 和 torch.nn.utils.clip_grad_norm_ "
        "返回的都是裁剪前的范数。",
        _clipped_norm,
        "逐个元素截断到了 [-max_norm, max_norm]（那是按值裁剪 clip_by_value）。"
        "按全局范数裁剪要先算出所有梯度合起来的范数，再按同一个比例缩放，"
        "不改变梯度的方向。",
        _by_value,
        "缩放比例写反了：用了 global_norm / max_norm。"
        "要把范数从 global_norm 缩到 max_norm，应乘以 max_norm / global_norm。",
        _inverted,
    ),
)
check_clip_by_global_norm = CLIP_BY_GLOBAL_NORM.checker("check_clip_by_global_norm")


# ------------------------------------------------------------- gradient norms by distance


def _norms(Wy, H, derivative, step, order="right", ord=2):
    """The norms of ``∂h_{T-1}/∂h_{T-1-d}``, ``d = 0..T-1``, with pluggable parts (for the
    mistakes): ``derivative(H, t)`` the diagonal of step ``t``, ``step(D, Wy)`` the Jacobian."""
    Wy, H = as_float64(Wy), as_float64(H)
    n_steps, n = H.shape
    P = np.eye(n)
    norms = [np.linalg.norm(P, ord)]
    for d in range(1, n_steps):
        J = step(derivative(H, n_steps - d), Wy)
        P = P @ J if order == "right" else J @ P
        norms.append(np.linalg.norm(P, ord))
    return np.array(norms)


def _tanh_derivative(H, t):
    return 1 - H[t] ** 2


def _jacobian(D, Wy):
    return D[:, None] * Wy.T


def _norms_reference(Wy, H):
    return _norms(Wy, H, _tanh_derivative, _jacobian)


def _norm_cases() -> list[dict[str, np.ndarray]]:
    """States from a real run of a tanh cell, so that ``H`` and ``Wy`` belong together."""
    rng = np.random.default_rng(20)
    cases = []
    for n_steps, n, scale in ((6, 3, 1.2), (8, 4, 0.9), (5, 5, 1.5)):
        Wx = rng.normal(size=(2, n))
        Wy = rng.normal(size=(n, n)) * scale / np.sqrt(n)
        h = np.zeros(n)
        H = np.empty((n_steps, n))
        for t in range(n_steps):
            h = np.tanh(rng.normal(size=2) @ Wx + h @ Wy)
            H[t] = h
        cases.append({"Wy": Wy, "H": H})
    return cases


GRADIENT_NORMS = Exercise(
    "梯度的放大倍数与距离",
    doc="""The 2-norm of the Jacobian product of equation (10.3) for one tanh sequence::

        J_t = diag(1 - h_t²) Wyᵀ
        norms[d] = ‖J_{T-1} J_{T-2} ··· J_{T-d}‖₂      (norms[0] = ‖I‖₂ = 1)

    Inputs: ``Wy`` [n_neurons, n_neurons], ``H`` [n_steps, n_neurons] with ``H[t] = h_t``.
    Outputs: ``norms`` [n_steps], ``d = 0, ..., n_steps - 1``.
    """,
    reference=_norms_reference,
    cases=_norm_cases,
    outputs={"norms": ("距离 d",)},
    mistakes=Mistake.table(
        "漏掉了 tanh 的导数：算的是 (Wyᵀ)^d 的范数（线性情形）。"
        "每一步的雅可比矩阵是 diag(1 - h_t²) Wyᵀ，饱和的神经元（|h| 接近 1）让它变小。",
        lambda Wy, H: _norms(Wy, H, lambda H, t: np.ones(H.shape[1]), _jacobian),
        "用了 Wy 而不是它的转置。单元按行向量写成 h_t = tanh(x_t Wx + h_{t-1} Wy + b)，"
        "∂h_t[j]/∂h_{t-1}[k] = (1 - h_t[j]²) Wy[k, j]：雅可比矩阵是 diag(1 - h_t²) Wyᵀ。",
        lambda Wy, H: _norms(Wy, H, _tanh_derivative, lambda D, W: D[:, None] * W),
        "乘的顺序反了（新的雅可比矩阵乘在了左边）。链式法则给出 "
        "∂h_{T-1}/∂h_{T-1-d} = J_{T-1} ··· J_{T-d}：离终点越远的一步乘在越右边，"
        "即 P_d = P_{d-1} J_{T-d}。矩阵乘法不可交换，顺序反了范数就变了。",
        lambda Wy, H: _norms(Wy, H, _tanh_derivative, _jacobian, order="left"),
        "导数用了 1 - h 而不是 1 - h²。tanh'(a) = 1 - tanh(a)² = 1 - h²。",
        lambda Wy, H: _norms(Wy, H, lambda H, t: 1 - H[t], _jacobian),
        "导数取错了时间步：用了 h_{t-1} 而不是 h_t。J_t = ∂h_t/∂h_{t-1} 里的 "
        "1 - h_t² 是第 t 步自己的输出 h_t = tanh(a_t) 的导数。",
        lambda Wy, H: _norms(Wy, H, lambda H, t: 1 - H[t - 1] ** 2, _jacobian),
        "用了 Frobenius 范数（np.linalg.norm 对矩阵的默认范数）。"
        "这里要的是 2-范数，即最大奇异值：np.linalg.norm(P, 2)。",
        lambda Wy, H: _norms(Wy, H, _tanh_derivative, _jacobian, ord="fro"),
    ),
)
check_gradient_norms = GRADIENT_NORMS.checker("check_gradient_norms")
