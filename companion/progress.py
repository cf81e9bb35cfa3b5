"""Progress bars for loops a reader waits on (training, long measurements).

A bar is for a reader who runs a chapter: it appears in JupyterLab (as a
widget) or in a terminal. It never belongs in a stored output, where it would
print an ETA and a speed that no second run reproduces. Every command that
executes the book for the website or for comparison (``make execute``, the
nbval passes of ``make test`` and ``make portability``) sets ``TQDM_DISABLE=1``;
:func:`progress_bar` honours it for every kind of tqdm bar (tqdm's own
notebook bar ignores the variable, so chapters call this function rather than
``tqdm.auto`` directly). See CONTRIBUTING.md, "The reproducibility rule".
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

__all__ = ["progress_bar", "progress_disabled"]


def progress_disabled() -> bool:
    """True when ``TQDM_DISABLE`` is set to anything but ``""``, ``0`` or ``false``."""
    value = os.environ.get("TQDM_DISABLE", "").strip().lower()
    return value not in ("", "0", "false", "no")


def progress_bar(iterable: Iterable[Any] | None = None, **kwargs: Any) -> Any:
    """``tqdm.auto.tqdm(iterable, **kwargs)``, silent when ``TQDM_DISABLE`` is set.

    Parameters
    ----------
    iterable : iterable, optional
        What to loop over; or ``None`` and update the bar by hand
        (``bar.update(n)``), as with tqdm.
    **kwargs
        Passed to tqdm (``total``, ``desc``, ``leave``, …); ``disable`` is
        decided here.

    Returns
    -------
    tqdm.auto.tqdm
        The bar; iterate over it, or call ``update``/``set_postfix``/``close``.
    """
    from tqdm.auto import tqdm

    kwargs["disable"] = progress_disabled()
    return tqdm(iterable, **kwargs)
