"""The training loop: call a step function ``n_steps`` times and record what it reports.

Taught in chapter 9 (训练 RNN：随时间反向传播: a first training loop), used in
chapters 10-11. The loop knows nothing of models or backends: one *step* (a
function written for NumPy or for PyTorch) computes the loss, the gradients and
the update, and returns numbers to record::

    for i in range(n_steps):
        record = step(i)                 # {"loss": 0.93, "grad_norm": 4.1, ...}
        if i % log_every == 0 or i == n_steps - 1:
            history.append(i, record)

The loop runs inside :func:`companion.progress.progress_bar`: a reader who runs
a chapter sees a bar, and ``TQDM_DISABLE=1`` (set when the book is executed for
the website or for comparison) silences it. This module does not import torch;
the PyTorch conveniences are in :mod:`companion.training.torch_loop`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from companion import validation as v
from companion.progress import progress_bar

__all__ = ["History", "train"]


class History:
    """What a training run recorded: step indices and one float64 array per quantity.

    ``history.steps`` [n_records] (int) holds the step indices; ``history["loss"]``
    [n_records] (float64) the losses recorded at those steps.
    """

    def __init__(self, steps: Any, values: Mapping[str, Any]) -> None:
        self.steps = np.asarray(steps, dtype=np.int64)
        self.values = {key: np.asarray(value, dtype=np.float64) for key, value in values.items()}
        for key, value in self.values.items():
            if value.shape != self.steps.shape:
                raise ValueError(
                    f"values[{key!r}] must have one entry per step, shape "
                    f"{list(self.steps.shape)}; got {list(value.shape)}"
                )

    def keys(self) -> list[str]:
        """The recorded quantities, e.g. ``["loss", "grad_norm"]``."""
        return list(self.values)

    def __getitem__(self, key: str) -> np.ndarray:
        """The values of ``key`` [n_records], float64."""
        if key not in self.values:
            raise KeyError(f"{key!r} was not recorded; recorded: {self.keys()}")
        return self.values[key]

    def __len__(self) -> int:
        return len(self.steps)

    def last(self, key: str) -> float:
        """The last recorded value of ``key``."""
        values = self[key]
        if values.size == 0:
            raise ValueError(f"nothing was recorded; {key!r} has no last value")
        return float(values[-1])

    def first_below(self, key: str, threshold: float) -> int | None:
        """The first step index whose ``key`` was recorded below ``threshold``, or None."""
        below = np.flatnonzero(self[key] < threshold)
        return int(self.steps[below[0]]) if below.size else None

    def __repr__(self) -> str:
        return f"History({len(self)} records of {self.keys()})"


def _check_record(record: Any, i: int, keys: list[str] | None) -> dict[str, float]:
    if not isinstance(record, Mapping):
        raise TypeError(
            f"step must return a dict of floats such as {{'loss': 0.5}}; "
            f"step({i}) returned {type(record).__name__}"
        )
    if "loss" not in record:
        raise ValueError(
            f"step must return a dict with a 'loss'; step({i}) returned {list(record)}"
        )
    if keys is not None and list(record) != keys:
        raise ValueError(
            f"step must return the same keys every time, {keys}; step({i}) returned {list(record)}"
        )
    try:
        return {key: float(value) for key, value in record.items()}
    except (TypeError, ValueError) as exc:
        raise TypeError(f"step({i}) must return floats; got {record!r}") from exc


def train(
    step: Callable[[int], Mapping[str, float]],
    n_steps: int,
    *,
    desc: str | None = None,
    log_every: int = 1,
) -> History:
    """Call ``step(i)`` for ``i = 0, ..., n_steps - 1`` and record what it returns.

    Parameters
    ----------
    step : function ``i -> {"loss": float, ...}``
        One training step (forward, backward, update); it returns at least the
        loss, and the same keys every time (e.g. ``"grad_norm"``).
    n_steps : int >= 0
    desc : str or None, the label of the progress bar
    log_every : int >= 1
        Record steps ``0, log_every, 2 * log_every, ...`` and always the last one.

    Returns
    -------
    History, with ``history.steps`` the recorded step indices and ``history[key]``
    the recorded values (float64).
    """
    if not callable(step):
        raise TypeError(f"step must be a function i -> dict of floats; got {type(step).__name__}")
    n_steps = v.check_int("n_steps", n_steps, 0)
    log_every = v.check_positive_int("log_every", log_every)
    steps: list[int] = []
    records: list[dict[str, float]] = []
    bar = progress_bar(range(n_steps), desc=desc)
    for i in bar:
        record = _check_record(step(i), i, list(records[0]) if records else None)
        if i % log_every == 0 or i == n_steps - 1:
            steps.append(i)
            records.append(record)
            bar.set_postfix(loss=f"{record['loss']:.4g}", refresh=False)
    keys = list(records[0]) if records else ["loss"]
    return History(steps, {key: [r[key] for r in records] for key in keys})
