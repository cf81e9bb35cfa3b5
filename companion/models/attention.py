"""Attention: a weighted average of the encoder's outputs, recomputed at every decoder step.

Taught in chapter 13 (编码器-解码器). The decoder's output ``h_t`` [n] at step
``t`` is the *query*; the encoder's outputs ``o_1 .. o_S`` ([n] each) are the
*keys* and the *values*. A score says how well each source position fits the
query, a softmax over the valid source positions turns the scores into
*attention weights*, and the *context vector* is the weighted average::

    dot (Luong):          e_{t,s} = h_t · o_s                                   (13.6)
    additive (Bahdanau):  e_{t,s} = v · tanh(h_t @ Wq + o_s @ Wk)               (13.7)
    masked softmax:       a_{t,s} = exp(e_{t,s}) / sum_{s' < len} exp(e_{t,s'})  for s < len
                          a_{t,s} = 0                                           for s >= len
    context vector:       c_t = sum_s a_{t,s} o_s                               (13.8)

``len`` is the source's length: padded positions get weight exactly 0, so what
the padding holds never reaches ``c_t``. Batched, with queries ``H`` [batch,
n_tgt, n] and keys ``O`` [batch, n_src, n], the dot scores are one product
``H @ O^T`` [batch, n_tgt, n_src] and the contexts ``A @ O`` [batch, n_tgt, n].

:func:`numpy_attention` is the same computation in NumPy, for the chapter's
check by hand; :class:`Attention` is the small module the encoder-decoder of
:mod:`companion.models.seq2seq` uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from companion import validation as v

__all__ = [
    "ATTENTION_KINDS",
    "Attention",
    "additive_scores",
    "attend",
    "dot_scores",
    "masked_softmax",
    "numpy_attention",
]

ATTENTION_KINDS = ("dot", "additive")


def dot_scores(queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Dot-product scores ``e[b, t, s] = queries[b, t] · keys[b, s]`` (13.6).

    Parameters
    ----------
    queries : [batch, n_tgt, n]
    keys : [batch, n_src, n]

    Returns
    -------
    scores : [batch, n_tgt, n_src]
    """
    return queries @ keys.transpose(1, 2)


def additive_scores(
    queries: torch.Tensor, keys: torch.Tensor, Wq: torch.Tensor, Wk: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """Additive scores ``e[b, t, s] = v · tanh(queries[b, t] @ Wq + keys[b, s] @ Wk)`` (13.7).

    Parameters
    ----------
    queries : [batch, n_tgt, n]
    keys : [batch, n_src, n]
    Wq, Wk : [n, n_att]
    v : [n_att]

    Returns
    -------
    scores : [batch, n_tgt, n_src]
    """
    # [batch, n_tgt, 1, n_att] + [batch, 1, n_src, n_att]: every (t, s) pair
    hidden = torch.tanh((queries @ Wq)[:, :, None, :] + (keys @ Wk)[:, None, :, :])
    return hidden @ v


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, only where ``mask`` is True; weight exactly 0 elsewhere.

    ``a[..., s] = exp(e[..., s] - m) / sum_{s' valid} exp(e[..., s'] - m)`` for valid
    ``s``, with ``m`` the largest valid score (so ``exp`` never overflows).

    Parameters
    ----------
    scores : [batch, n_tgt, n_src]
    mask : bool [batch, n_src], True at the valid source positions; at least one
        per row

    Returns
    -------
    weights : [batch, n_tgt, n_src], each row sums to 1 over its valid positions
    """
    valid = mask[:, None, :]
    scores = scores.masked_fill(~valid, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    # exp(-inf) is already 0; where() also keeps a NaN from an all-padding row out
    return torch.where(valid, weights, torch.zeros((), dtype=weights.dtype))


def attend(weights: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """The context vectors ``c[b, t] = sum_s weights[b, t, s] values[b, s]`` (13.8).

    Parameters
    ----------
    weights : [batch, n_tgt, n_src]
    values : [batch, n_src, n]

    Returns
    -------
    context : [batch, n_tgt, n]
    """
    return weights @ values


def numpy_attention(
    queries: np.ndarray, keys: np.ndarray, lengths: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Dot-product attention in NumPy, one query and one source position at a time.

    The loop of (13.6)-(13.8) written out for the chapter's check.

    Parameters
    ----------
    queries : [batch, n_tgt, n]
    keys : [batch, n_src, n] (also the values)
    lengths : int [batch], each in [1, n_src]

    Returns
    -------
    context : [batch, n_tgt, n]
    weights : [batch, n_tgt, n_src], 0 at s >= lengths[b]
    """
    queries, keys = np.asarray(queries, dtype=np.float64), np.asarray(keys, dtype=np.float64)
    batch, n_tgt, _ = queries.shape
    weights = np.zeros((batch, n_tgt, keys.shape[1]))
    for b in range(batch):
        n_valid = int(lengths[b])
        for t in range(n_tgt):
            e = np.array([queries[b, t] @ keys[b, s] for s in range(n_valid)])
            a = np.exp(e - e.max())
            weights[b, t, :n_valid] = a / a.sum()
    return weights @ keys, weights


class Attention(torch.nn.Module):
    """Dot-product or additive attention over the valid positions of an encoder's outputs.

    Parameters
    ----------
    kind : "dot" or "additive"
    n_neurons : int, the size ``n`` of queries and keys
    n_att : int, the width of the additive score's hidden layer (default ``n_neurons``)
    seed : int or numpy.random.Generator, for ``Wq``, ``Wk``, ``v`` (additive only),
        drawn from ``U(-k, k)``, ``k = 1/sqrt(n)``
    dtype : torch.float32 or torch.float64

    Inputs: ``queries`` [batch, n_tgt, n], ``keys`` [batch, n_src, n] (also the
    values), ``mask`` bool [batch, n_src].
    Outputs: ``(context, weights)``: [batch, n_tgt, n] and [batch, n_tgt, n_src].
    """

    def __init__(
        self,
        kind: str,
        n_neurons: int,
        *,
        n_att: int | None = None,
        seed: int | np.random.Generator | None = 0,
        dtype: Any = torch.float32,
    ) -> None:
        super().__init__()
        if kind not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS} or None; got {kind!r}")
        self.kind = kind
        n_neurons = v.check_positive_int("n_neurons", n_neurons)
        if kind == "additive":
            n_att = n_neurons if n_att is None else v.check_positive_int("n_att", n_att)
            rng = v.check_seed(seed)
            k = 1.0 / np.sqrt(n_neurons)
            for name, shape in (("Wq", (n_neurons, n_att)), ("Wk", (n_neurons, n_att))):
                tensor = torch.as_tensor(rng.uniform(-k, k, shape), dtype=dtype)
                setattr(self, name, torch.nn.Parameter(tensor))
            self.v = torch.nn.Parameter(torch.as_tensor(rng.uniform(-k, k, n_att), dtype=dtype))

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.kind == "dot":
            scores = dot_scores(queries, keys)
        else:
            scores = additive_scores(queries, keys, self.Wq, self.Wk, self.v)
        weights = masked_softmax(scores, mask)
        return attend(weights, keys), weights

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"
