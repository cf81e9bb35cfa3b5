"""Two optimizers in NumPy: plain gradient descent and Adam, equal to PyTorch's.

Taught in chapter 9 (训练 RNN：随时间反向传播: a first training loop in NumPy).
Both update the parameter arrays *in place*, as ``torch.optim`` does.

Gradient descent (:func:`sgd_step`)::

    w ← w - lr · g

Adam (:class:`Adam`, Kingma & Ba 2015; the formulas of ``torch.optim.Adam`` with
its defaults), for each parameter, at step ``t = 1, 2, ...``::

    m ← β1 · m + (1 - β1) · g              running mean of the gradient
    v ← β2 · v + (1 - β2) · g²             running mean of its square
    m̂ = m / (1 - β1^t);  v̂ = v / (1 - β2^t)    bias corrections (m, v start at 0)
    w ← w - lr · m̂ / (sqrt(v̂) + eps)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion import validation as v

__all__ = ["Adam", "sgd_step"]


def _check_params(params: Any) -> list[np.ndarray]:
    params = v.check_array_list("params", params)
    for k, p in enumerate(params):
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(
                f"params[{k}] must be a float NumPy array (updated in place); "
                f"got {type(p).__name__} of dtype {getattr(p, 'dtype', None)}"
            )
    return params


def _check_grads(grads: Any, params: list[np.ndarray]) -> list[np.ndarray]:
    grads = v.check_array_list("grads", grads)
    if len(grads) != len(params):
        raise ValueError(
            f"grads must have one array per parameter, {len(params)}; got {len(grads)}"
        )
    for k, (p, g) in enumerate(zip(params, grads, strict=True)):
        if tuple(np.shape(g)) != p.shape:
            raise ValueError(
                f"grads[{k}] must have the shape of params[{k}], {list(p.shape)}; "
                f"got {list(np.shape(g))}"
            )
    return grads


def sgd_step(params: Any, grads: Any, lr: float) -> None:
    """One step of gradient descent, in place: ``w ← w - lr · g`` for every parameter.

    Parameters
    ----------
    params : list of float arrays (e.g. ``[cell.Wx, cell.Wy, cell.b]``), changed in place
    grads : list of arrays, one per parameter, the same shapes
    lr : float > 0, the learning rate
    """
    params = _check_params(params)
    grads = _check_grads(grads, params)
    lr = v.check_positive_number("lr", lr)
    for w, g in zip(params, grads, strict=True):
        w -= lr * g


class Adam:
    """Adam in NumPy, step for step equal to ``torch.optim.Adam`` (no weight decay, no AMSGrad).

    Parameters
    ----------
    params : list of float arrays, changed in place by :meth:`step`
    lr : float > 0 (default 1e-3)
    betas : (β1, β2), each in [0, 1) (default (0.9, 0.999))
    eps : float > 0 (default 1e-8)

    Attributes
    ----------
    t : int, the number of steps taken
    m, v : lists of arrays, the running means (shapes of ``params``)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = _check_params(params)
        self.lr = v.check_positive_number("lr", lr)
        self.eps = v.check_positive_number("eps", eps)
        if not (isinstance(betas, tuple | list) and len(betas) == 2):
            raise TypeError(f"betas must be a pair (beta1, beta2); got {betas!r}")
        for name, beta in zip(("betas[0]", "betas[1]"), betas, strict=True):
            if not (isinstance(beta, int | float) and 0 <= beta < 1):
                raise ValueError(f"{name} must be a number in [0, 1); got {beta!r}")
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.t = 0
        self.m = [np.zeros_like(w) for w in self.params]
        self.v = [np.zeros_like(w) for w in self.params]

    def step(self, grads: Any) -> None:
        """One Adam update of every parameter, in place.

        Parameters
        ----------
        grads : list of arrays, one per parameter, the same shapes
        """
        grads = _check_grads(grads, self.params)
        self.t += 1
        correction1 = 1 - self.beta1**self.t
        correction2 = 1 - self.beta2**self.t
        for w, g, m_k, v_k in zip(self.params, grads, self.m, self.v, strict=True):
            m_k *= self.beta1
            m_k += (1 - self.beta1) * g
            v_k *= self.beta2
            v_k += (1 - self.beta2) * g * g
            m_hat = m_k / correction1
            v_hat = v_k / correction2
            w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
