"""Beam search: keep the ``beam_width`` most likely partial sequences, not just one.

Taught in the encoder-decoder chapter (编码器-解码器), after greedy decoding
(:mod:`companion.sequences.decoding`, chapter 8), with the same ``step_fn``.
A hypothesis ``y_1 .. y_t`` of a source is scored by its total log-probability::

    log p(y_t | y_<t) = log_softmax(logits)[y_t]       # logits, h = step_fn(y_{t-1}, h)
    score(y_1 .. y_t) = sum_{s <= t} log p(y_s | y_<s)

At each step every live hypothesis is extended by every token; of these
candidates the ``beam_width`` best (per source) are kept. A kept candidate that
ends in EOS is *finished*: it stops growing and gives up its slot, so the beam
narrows. The search ends when no hypothesis is live or after ``max_steps``
steps (the live ones are then cut, like greedy rows without EOS). The answer is
the best of the finished and the cut hypotheses, ranked by::

    rank(y) = score(y)                                  (length_penalty None)
    rank(y) = score(y) / len(y) ** length_penalty       (length_penalty = alpha)

``len(y)`` counts the EOS token. The penalty only matters when comparing
hypotheses of different lengths: candidates of one step all share a length.
With ``beam_width = 1`` this is greedy decoding; with ``beam_width >=
n_classes ** max_steps`` nothing is ever dropped and it is exhaustive search.
In between it is a heuristic: it can miss the best sequence, and can even end
below greedy decoding (the tests show a case).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from companion import validation as v
from companion.sequences._shared import host, start_tokens, torch_if_tensor

__all__ = ["BeamSearchResult", "beam_search"]


class BeamSearchResult(NamedTuple):
    """What :func:`beam_search` returns (unpacks as ``tokens, lengths, scores``)."""

    tokens: Any  # int64 [batch, width] (or [batch, beam_width, width] with return_beams)
    lengths: Any  # int64 [batch] (or [batch, beam_width])
    scores: Any  # float64 [batch] (or [batch, beam_width]): the rank of each sequence


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``log_softmax(z)_j = z_j - log(sum_k exp(z_k))`` over the last axis, in float64.

    Computed as ``(z - max z) - log(sum exp(z - max z))`` so that ``exp`` never
    overflows; a logit of ``-inf`` (a forbidden token) gives ``-inf``.

    Parameters
    ----------
    logits : [k, n_classes]

    Returns
    -------
    float64 [k, n_classes]
    """
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _gather_rows(state: Any, index: np.ndarray) -> Any:
    """Rows ``index`` of a state [k, ...] (or of each array of a tuple, e.g. an LSTM's (c, h))."""
    if isinstance(state, tuple):
        return tuple(_gather_rows(part, index) for part in state)
    torch = torch_if_tensor(state)
    if torch is not None:
        index = torch.as_tensor(index, device=state.device)
    return state[index]


def _state_leaves(state: Any) -> list:
    """The arrays of a state, in order: the state itself, or the parts of a (nested) tuple."""
    if isinstance(state, tuple):
        return [leaf for part in state for leaf in _state_leaves(part)]
    return [state]


def _check_state(name: str, state: Any, like: Any, rows: int) -> None:
    """``state`` has the structure of ``like`` and every array has ``rows`` rows, other axes
    as in ``like`` (so that gathering rows by beam index is all the search does to it)."""
    leaves, want = _state_leaves(state), _state_leaves(like)
    if isinstance(state, tuple) != isinstance(like, tuple) or len(leaves) != len(want):
        raise ValueError(
            f"{name} must have the structure of start_state ({len(want)} array(s)); "
            f"got {len(leaves)}"
        )
    for k, (leaf, ref) in enumerate(zip(leaves, want, strict=True)):
        part = name if len(want) == 1 else f"{name} part {k}"
        v.check_decoder_state(part, leaf, (rows, *v.shape_of(ref)[1:]))


def beam_search(
    step_fn: Callable[[Any, Any], tuple[Any, Any]],
    start_state: Any,
    start_token: Any,
    eos_id: int,
    max_steps: int,
    *,
    beam_width: int,
    pad_id: int = 0,
    length_penalty: float | None = None,
    return_beams: bool = False,
) -> BeamSearchResult:
    """Decode a batch of sources by beam search, each source on its own beam.

    The arguments are those of :func:`~companion.sequences.greedy_decode`, plus
    ``beam_width``: a chapter swaps one for the other with the same ``step_fn``.
    For each source, at step ``t``, with ``j`` running over its live hypotheses::

        logits_j, h_j = step_fn(prev_j, h_j)                 # prev_j: last token of j
        cand[j, w]    = score_j + log_softmax(logits_j)[w]   # every token w
        keep the beam_width best cand (ties: lower j, then lower w)
        kept (j, w) with w == eos_id are finished; the others live on with state h_j

    Parameters
    ----------
    step_fn : callable ``(prev_tokens, state) -> (logits, new_state)``
        ``prev_tokens`` int64 [k] and ``state`` [k, ...] (or a tuple of such
        arrays): the ``k`` live hypotheses of all sources together, grouped by
        source; it returns ``logits`` [k, n_classes] and ``new_state`` shaped
        like ``state``. The search only gathers state rows by beam index.
    start_state : [batch, ...] array or tensor, or a tuple of them
        The decoder's initial state, one row per source. Tensors make
        ``step_fn`` receive tensors on their device; the bookkeeping (scores,
        tokens) is done in NumPy float64 on the host.
    start_token : int, or int [batch]
        The token fed to the first step (a GO / BOS token).
    eos_id : int in [0, n_classes)
    max_steps : int >= 1
    beam_width : int >= 1
    pad_id : int >= 0, default 0
        Written after each sequence's EOS.
    length_penalty : float > 0 or None, default None
        ``alpha`` in ``rank = score / len ** alpha`` (None: ``rank = score``).
    return_beams : bool, default False
        Also return the runners-up: the ``beam_width`` best sequences of each
        source, best first (a source with fewer gets rows of ``pad_id`` with
        length 0 and rank ``-inf``).

    Returns
    -------
    BeamSearchResult ``(tokens, lengths, scores)``
        ``tokens`` int64 [batch, width] (``[batch, beam_width, width]`` with
        ``return_beams``), ``width`` the longest returned length; ``lengths``
        int64 [batch] (``[batch, beam_width]``), up to and including EOS
        (``max_steps`` for a cut sequence); ``scores`` float64 [batch]
        (``[batch, beam_width]``), the rank above. Tensors on the device of
        ``start_state`` when it holds tensors.
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable; got {type(step_fn).__name__}")
    eos_id = v.check_int("eos_id", eos_id, 0)
    max_steps = v.check_positive_int("max_steps", max_steps)
    beam_width = v.check_positive_int("beam_width", beam_width)
    pad_id = v.check_int("pad_id", pad_id, 0)
    if length_penalty is not None:
        length_penalty = v.check_positive_number("length_penalty", length_penalty)
    return_beams = v.check_bool("return_beams", return_beams)
    leaves = _state_leaves(start_state)
    if not leaves or not all(hasattr(leaf, "shape") and len(leaf.shape) >= 1 for leaf in leaves):
        raise TypeError(
            "start_state must be an array or tensor [batch, ...] (or a tuple of them); "
            f"got {type(start_state).__name__}"
        )
    batch = v.shape_of(leaves[0])[0]
    _check_state("start_state", start_state, start_state, batch)
    torch = torch_if_tensor(leaves[0])
    start = start_tokens(start_token, batch)

    # The live hypotheses of all sources, one row each, grouped by source.
    source = np.arange(batch)  # [k] which source each row belongs to
    prefix = np.zeros((batch, 0), dtype=np.int64)  # [k, t] tokens so far
    score = np.zeros(batch)  # [k] sum of log p so far
    state = start_state  # [k, ...]
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(batch)]

    for t in range(max_steps):
        if source.size == 0:
            break
        prev = prefix[:, -1] if t > 0 else start[source]
        if torch is not None:
            prev = torch.as_tensor(prev, device=leaves[0].device)
        logits, new_state = step_fn(prev, state)
        _check_logits(host(logits), source.size, eos_id, t)
        _check_state("step_fn's new state", new_state, start_state, source.size)
        cand = score[:, None] + log_softmax(host(logits))  # [k, n_classes]

        rows, words = [], []  # the kept candidates (row j, token w), all sources
        for b in range(batch):
            mine = np.flatnonzero(source == b)
            flat = cand[mine].ravel()  # order (j, w): ties go to the lower j, then w
            best = np.argsort(-flat, kind="stable")[:beam_width]
            best = best[np.isfinite(flat[best])]  # never keep an impossible sequence
            rows.extend(mine[best // cand.shape[1]])
            words.extend(best % cand.shape[1])
        rows, words = np.array(rows, dtype=np.int64), np.array(words, dtype=np.int64)

        new_score = cand[rows, words]
        new_prefix = np.concatenate([prefix[rows], words[:, None]], axis=1)
        done = words == eos_id
        for j in np.flatnonzero(done):
            finished[source[rows[j]]].append((new_score[j], new_prefix[j].tolist()))
        live = rows[~done]
        source, prefix, score = source[live], new_prefix[~done], new_score[~done]
        state = _gather_rows(new_state, live)

    for j in range(source.size):  # cut at max_steps, like a greedy row without EOS
        finished[source[j]].append((score[j], prefix[j].tolist()))
    n_best = beam_width if return_beams else 1
    return _best(finished, n_best, pad_id, length_penalty, return_beams, torch, leaves[0])


def _check_logits(logits: np.ndarray, k: int, eos_id: int, t: int) -> None:
    """``step_fn``'s logits: [k, n_classes], ``eos_id < n_classes``, no NaN or +inf."""
    if logits.ndim != 2 or logits.shape[0] != k:
        raise ValueError(
            f"step_fn must return logits of shape [k, n_classes] with k = {k} "
            f"(the live hypotheses); got {list(logits.shape)} at step {t}"
        )
    v.check_int_between("eos_id", eos_id, 0, logits.shape[1] - 1)
    if np.isnan(logits).any() or np.isposinf(logits).any():
        raise ValueError(f"step_fn returned logits with NaN or +inf at step {t}")


def _best(
    finished: list[list[tuple[float, list[int]]]],
    n_best: int,
    pad_id: int,
    length_penalty: float | None,
    return_beams: bool,
    torch: Any,
    like: Any,
) -> BeamSearchResult:
    """The ``n_best`` hypotheses of each source by rank, padded with ``pad_id``."""
    batch = len(finished)
    ranked = []
    for hyps in finished:
        ranks = [s if length_penalty is None else s / len(y) ** length_penalty for s, y in hyps]
        order = np.argsort(-np.array(ranks), kind="stable")[:n_best]  # ties: found first
        ranked.append([(ranks[i], hyps[i][1]) for i in order])
    width = max((len(y) for hyps in ranked for _, y in hyps), default=0)
    tokens = np.full((batch, n_best, width), pad_id, dtype=np.int64)
    lengths = np.zeros((batch, n_best), dtype=np.int64)
    scores = np.full((batch, n_best), -np.inf)
    for b, hyps in enumerate(ranked):
        for n, (rank, y) in enumerate(hyps):
            tokens[b, n, : len(y)] = y
            lengths[b, n] = len(y)
            scores[b, n] = rank
    if not return_beams:
        tokens, lengths, scores = tokens[:, 0], lengths[:, 0], scores[:, 0]
    if torch is not None:
        tokens, lengths, scores = (
            torch.as_tensor(a, device=like.device) for a in (tokens, lengths, scores)
        )
    return BeamSearchResult(tokens, lengths, scores)
