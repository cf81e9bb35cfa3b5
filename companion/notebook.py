"""Reproducibility setup for the course notebooks.

Every chapter notebook calls :func:`setup` in its first code cell::

    from companion.notebook import setup

    rng = setup()  # or setup(seed=42)

so that re-executing the notebook (``make execute``, or ``pytest --nbval``)
prints exactly the stored outputs: seeds are fixed, floats print with a fixed
precision, the thread count is fixed, and Matplotlib draws the same PNG bytes.

Numbers quoted in the prose come from the computation with ``myst_nb.glue``,
never typed by hand.  In a code cell::

    from myst_nb import glue

    glue("max_abs_diff", float(diff), display=False)  # a Python float, not np.float64

and in a Markdown cell of the same notebook::

    最大误差为 {glue:text}`max_abs_diff:.3e`，……

The format after the colon is a Python format spec applied to the glued
value.  Glue plain Python numbers (``float(x)``, ``int(n)``): the stored text
of a NumPy scalar is ``np.float64(...)``, which the formatter cannot parse.

The hash seed of ``str``/``bytes`` cannot be set from inside a running
interpreter; the Makefile and ``tools/execute_notebooks.py`` export
``PYTHONHASHSEED=0`` so that iterating over a ``set`` of strings is stable too.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from typing import Any

import numpy as np

__all__ = ["FIGURE_DPI", "FIGURE_SIZE", "PRINT_PRECISION", "setup"]

#: Digits after the decimal point when NumPy arrays and torch tensors are printed.
PRINT_PRECISION = 4
#: Default figure size in inches (width, height).
FIGURE_SIZE = (6.0, 3.6)
#: Resolution of inline PNG figures, dots per inch.
FIGURE_DPI = 100
#: Characters per line in array printouts.
LINE_WIDTH = 80

_MATPLOTLIB_RC: dict[str, Any] = {
    "figure.figsize": FIGURE_SIZE,
    "figure.dpi": FIGURE_DPI,
    "figure.facecolor": "white",
    "savefig.dpi": "figure",
    "savefig.facecolor": "white",
    # DejaVu Sans ships with Matplotlib; no CJK font is assumed (figure text is
    # math notation or short English labels, captions are in the prose).
    "font.family": "DejaVu Sans",
    "font.size": 10.0,
    "mathtext.fontset": "dejavusans",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": "medium",
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
    # Byte-stable vector output (SVG ids are salted hashes; text as paths).
    "svg.hashsalt": "rnn-course",
    "svg.fonttype": "path",
}

# Passed to the inline backend's savefig: a tight bounding box, and no
# "Software: Matplotlib version ..." text chunk so the PNG bytes do not change
# with the Matplotlib version string.
_INLINE_PRINT_KWARGS: dict[str, Any] = {"bbox_inches": "tight", "metadata": {"Software": None}}


def setup(seed: int = 0) -> np.random.Generator:
    """Make a notebook's outputs reproducible; call once, in the first code cell.

    Parameters
    ----------
    seed : int, default 0
        Seed for Python's :mod:`random`, NumPy's legacy global generator,
        torch's generators (CPU and CUDA) and the returned generator.

    Returns
    -------
    numpy.random.Generator
        A fresh ``np.random.default_rng(seed)``: draw the notebook's random
        data from it (``rng.normal(size=(4, 3))``) rather than from the
        global state.

    Notes
    -----
    What it fixes, in order:

    * **Seeds**: ``random.seed``, ``np.random.seed``, ``torch.manual_seed``.
    * **Printing**: NumPy ``precision=4, suppress=True, floatmode="fixed"``,
      torch ``precision=4, sci_mode=False``; both with ``linewidth=80``.
    * **torch** (only if installed; imported here, not at module import):
      ``torch.set_num_threads(1)``, float32 as default dtype,
      ``torch.use_deterministic_algorithms(True)`` with
      ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (needed by deterministic cuBLAS on
      GPU) and cuDNN in deterministic, non-benchmark mode.
    * **Matplotlib** (only if installed): default style plus the course rc
      (figure size 6 x 3.6 in, 100 dpi, DejaVu Sans, light grid, fixed SVG
      hash salt).  Inside IPython it also selects the inline backend with PNG
      figures only and no version string in the PNG metadata, which works even
      when ``MPLBACKEND=Agg`` is set for the kernel.

    No warning filter is changed: a warning in a notebook is a bug to fix,
    and nbval compares ``stderr``.

    Examples
    --------
    >>> rng = setup(0)
    >>> rng.integers(0, 10, size=3).tolist() == setup(0).integers(0, 10, size=3).tolist()
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = int(seed)

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- also pin the legacy global state
    np.set_printoptions(
        precision=PRINT_PRECISION,
        suppress=True,
        floatmode="fixed",
        linewidth=LINE_WIDTH,
        threshold=1000,
        edgeitems=3,
        sign="-",
        nanstr="nan",
        infstr="inf",
        legacy=False,
    )
    _setup_torch(seed)
    _setup_matplotlib()
    return np.random.default_rng(seed)


def _setup_torch(seed: int) -> None:
    """Seed and configure torch if it is installed (no hard dependency)."""
    if "torch" not in sys.modules and importlib.util.find_spec("torch") is None:
        return
    # Must be in the environment before the first cuBLAS handle is created.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    torch.manual_seed(seed)  # seeds every CUDA device too
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.set_printoptions(precision=PRINT_PRECISION, sci_mode=False, linewidth=LINE_WIDTH)


def _setup_matplotlib() -> None:
    """Apply the course style; in IPython, inline PNG figures."""
    if "matplotlib" not in sys.modules and importlib.util.find_spec("matplotlib") is None:
        return
    import matplotlib as mpl

    shell = _ipython_shell()
    if shell is not None:
        # Configure before activating: activation applies InlineBackend.rc
        # (which would override our dpi and size) and the figure formats.
        shell.run_line_magic("config", "InlineBackend.rc = {}")
        shell.run_line_magic("config", "InlineBackend.figure_formats = ['png']")
        shell.run_line_magic(
            "config", f"InlineBackend.print_figure_kwargs = {_INLINE_PRINT_KWARGS!r}"
        )
        shell.run_line_magic("matplotlib", "inline")
    mpl.rcdefaults()  # keeps the backend (style-blacklisted) untouched
    mpl.rcParams.update(_MATPLOTLIB_RC)


def _ipython_shell() -> Any | None:
    """The running IPython shell, or None outside IPython."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    # Kernels (ZMQInteractiveShell) and terminals have the magics we need.
    if shell is None or not hasattr(shell, "run_line_magic"):
        return None
    return shell
