"""The drawing vocabulary of the book's diagrams: one scale, one palette, a few shapes.

Drawing code, not RNN code, shared by :mod:`companion.figures.diagrams`
(chapters 1-8 and 11), :mod:`companion.figures.deep` (chapter 12) and
:mod:`companion.figures.seq2seq` (chapter 13), so that every figure of the book
looks the same: one drawing unit is ``INCH_PER_UNIT`` inches in every figure,
colours come from one colour-blind-safe palette (Okabe & Ito), text comes in two
sizes, and ``$...$`` is set in Computer Modern like the book's MathJax.

A figure is drawn in three moves: :func:`canvas` makes a :class:`Diagram` with one
invisible, equal-aspect axes per panel, given in drawing units; :func:`box`,
:func:`circle`, :func:`arrow`, :func:`text` ... place shapes on those axes, centred
on ``(x, y)`` drawing units; the figure function returns the ``Diagram``.

Nothing is registered with ``pyplot`` and no ``rcParams`` are changed. Output is
deterministic: the same calls render the same PNG bytes (save with
``metadata={"Software": None}`` to drop the Matplotlib version from the file).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import matplotlib.patches as mpatches
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.path import Path
from matplotlib.text import Text

__all__ = [
    "BLUE",
    "CELL_FACE",
    "DECODER_FACE",
    "FONT",
    "GREEN",
    "GREY",
    "IGNORED",
    "INCH_PER_UNIT",
    "INK",
    "INPUT",
    "LINE_WIDTH",
    "MATH_FONT",
    "ORANGE",
    "OUTPUT",
    "PAD_FACE",
    "PURPLE",
    "SMALL",
    "STATE",
    "VERMILLION",
    "Diagram",
    "Extent",
    "arrow",
    "box",
    "bracket",
    "canvas",
    "circle",
    "cross",
    "dot",
    "text",
    "title",
]

# --------------------------------------------------------------------------
# Style: one scale, one palette, two font sizes for every figure.
# --------------------------------------------------------------------------

INCH_PER_UNIT = 0.55  # drawing units -> inches; every figure uses the same scale
FONT = 13  # labels (points)
SMALL = 11  # secondary labels, legends
LINE_WIDTH = 1.6  # line width of boxes and arrows (points)

# Okabe & Ito (2008), a palette distinguishable with every common colour-vision
# deficiency; light tints of the same hues fill the boxes.
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
INK = "#222222"
GREY = "#9A9A9A"
CELL_FACE = "#D4E8F5"  # tint of BLUE
DECODER_FACE = "#F3DCE9"  # tint of PURPLE
PAD_FACE = "#F2F2F2"

INPUT = INK  # arrows carrying inputs x
STATE = ORANGE  # arrows carrying the state h (or y(t-1) for a plain neuron)
OUTPUT = GREEN  # arrows carrying outputs y
IGNORED = GREY  # ignored outputs, masked steps, zero inputs

MATH_FONT = "cm"  # Computer Modern for $...$, like the book's MathJax

Extent = tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax)


# --------------------------------------------------------------------------
# The canvas, and the shapes placed on it (positions in drawing units).
# --------------------------------------------------------------------------


class Diagram(Figure):
    """A :class:`~matplotlib.figure.Figure` that shows itself as a PNG in Jupyter.

    A plain ``Figure`` made outside ``pyplot`` only displays as text
    (``<Figure size ...>``) in a notebook unless ``%matplotlib inline`` is
    active. This subclass adds ``_repr_png_``, so the last expression of a
    cell, ``memory_cell()`` say, is shown inline with no magic and no global
    state. The PNG is cropped to the drawing (``bbox_inches="tight"``), uses
    ``rcParams["savefig.dpi"]`` and carries no Matplotlib version, so its
    bytes depend only on the call.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
        return buffer.getvalue()


def canvas(rows: Sequence[Sequence[Extent]], gap: float = 0.6) -> tuple[Diagram, list[Axes]]:
    """A figure holding one axes per extent, all drawn at ``INCH_PER_UNIT``.

    ``rows`` lists the panels row by row, each panel given by the data extent
    it shows. Panels in a row sit side by side, rows stack downwards, ``gap``
    drawing units apart. Each axes is sized so that one drawing unit is the
    same length on x and y and in every panel; axes are invisible. Returns the
    figure and its axes, in the order of ``rows``.
    """
    row_widths = [sum(e[1] - e[0] for e in row) + gap * (len(row) - 1) for row in rows]
    row_heights = [max(e[3] - e[2] for e in row) for row in rows]
    width = max(row_widths)
    height = sum(row_heights) + gap * (len(rows) - 1)
    fig = Diagram(figsize=(width * INCH_PER_UNIT, height * INCH_PER_UNIT))
    axes = []
    top = height
    for row, row_width, row_height in zip(rows, row_widths, row_heights, strict=True):
        left = (width - row_width) / 2
        for xmin, xmax, ymin, ymax in row:
            w, h = xmax - xmin, ymax - ymin
            bottom = top - row_height + (row_height - h) / 2
            ax = fig.add_axes((left / width, bottom / height, w / width, h / height))
            ax.set_xlim(xmin, xmax)
            ax.set_ylim(ymin, ymax)
            ax.set_aspect("equal")
            ax.set_axis_off()
            axes.append(ax)
            left += w + gap
        top -= row_height + gap
    return fig, axes


def text(
    ax: Axes,
    xy: tuple[float, float],
    s: str,
    *,
    size: float = FONT,
    color: str = INK,
    ha: str = "center",
    va: str = "center",
    **kwargs,
) -> Text:
    """Label ``s`` at ``xy`` (centred by default); ``$...$`` parts are set in Computer Modern.

    Further keywords (``family``, ``weight``, ``linespacing`` ...) go to ``Axes.text``.
    """
    return ax.text(
        xy[0],
        xy[1],
        s,
        fontsize=size,
        color=color,
        ha=ha,
        va=va,
        math_fontfamily=MATH_FONT,
        zorder=kwargs.pop("zorder", 4),
        **kwargs,
    )


def box(
    ax: Axes,
    xy: tuple[float, float],
    w: float,
    h: float,
    label: str | None = None,
    *,
    face: str = CELL_FACE,
    edge: str = BLUE,
    ls: str = "-",
    lw: float = LINE_WIDTH,
    hatch: str | None = None,
    rounding: float = 0.12,
    gid: str | None = None,
    size: float = FONT,
    color: str = INK,
    family: str | None = None,
) -> mpatches.FancyBboxPatch:
    """A rounded box centred on ``xy``, optionally with a centred label."""
    patch = mpatches.FancyBboxPatch(
        (xy[0] - w / 2, xy[1] - h / 2),
        w,
        h,
        boxstyle=f"round,pad=0,rounding_size={rounding}",
        facecolor=face,
        edgecolor=edge,
        linestyle=ls,
        linewidth=lw,
        hatch=hatch,
        zorder=2,
    )
    if gid is not None:
        patch.set_gid(gid)
    ax.add_patch(patch)
    if label is not None:
        text(ax, xy, label, size=size, color=color, family=family)
    return patch


def circle(
    ax: Axes,
    xy: tuple[float, float],
    r: float,
    *,
    face: str = CELL_FACE,
    edge: str = BLUE,
    lw: float = LINE_WIDTH,
    gid: str | None = None,
) -> mpatches.Circle:
    """A circle (a single neuron) centred on ``xy``."""
    patch = mpatches.Circle(xy, r, facecolor=face, edgecolor=edge, linewidth=lw, zorder=2)
    if gid is not None:
        patch.set_gid(gid)
    ax.add_patch(patch)
    return patch


def _polyline(points: Sequence[tuple[float, float]], radius: float) -> Path:
    """A path through ``points`` whose corners are rounded with ``radius``."""
    verts = [points[0]]
    codes = [Path.MOVETO]
    for prev, corner, nxt in zip(points, points[1:], points[2:], strict=False):
        d_in = math.dist(prev, corner)
        d_out = math.dist(corner, nxt)
        r = min(radius, d_in / 2, d_out / 2)
        a = (
            corner[0] - r * (corner[0] - prev[0]) / d_in,
            corner[1] - r * (corner[1] - prev[1]) / d_in,
        )
        b = (
            corner[0] + r * (nxt[0] - corner[0]) / d_out,
            corner[1] + r * (nxt[1] - corner[1]) / d_out,
        )
        verts += [a, corner, b]
        codes += [Path.LINETO, Path.CURVE3, Path.CURVE3]
    verts.append(points[-1])
    codes.append(Path.LINETO)
    return Path(verts, codes)


def arrow(
    ax: Axes,
    points: Sequence[tuple[float, float]],
    *,
    color: str = INPUT,
    ls: str = "-",
    lw: float = LINE_WIDTH,
    radius: float = 0.25,
    head: bool = True,
    curve: float | None = None,
) -> list[mpatches.Patch]:
    """An arrow along ``points`` (rounded corners), head at the last point; returns its patches.

    The shaft is a plain path so that it may be dashed; the head is drawn
    separately, always solid. ``curve`` (two points only) bends the shaft
    into an arc of that relative curvature instead.
    """
    if curve is not None:
        (x0, y0), (x1, y1) = points
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        ctrl = (mx - curve * (y1 - y0), my + curve * (x1 - x0))
        path = Path([(x0, y0), ctrl, (x1, y1)], [Path.MOVETO, Path.CURVE3, Path.CURVE3])
        tail = ctrl
    else:
        path = _polyline(points, radius)
        tail = points[-2]
    shaft = mpatches.PathPatch(
        path, fill=False, edgecolor=color, linewidth=lw, linestyle=ls, capstyle="butt", zorder=3
    )
    ax.add_patch(shaft)
    patches: list[mpatches.Patch] = [shaft]
    if head:
        end = points[-1]
        d = math.dist(tail, end)
        step = 0.01 / d
        start = (end[0] + (tail[0] - end[0]) * step, end[1] + (tail[1] - end[1]) * step)
        tip = mpatches.FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>,head_length=0.55,head_width=0.25",
            mutation_scale=14 * lw / LINE_WIDTH,
            shrinkA=0,
            shrinkB=0,
            color=color,
            linewidth=lw,
            zorder=3,
        )
        ax.add_patch(tip)
        patches.append(tip)
    return patches


def dot(ax: Axes, xy: tuple[float, float], color: str) -> None:
    """A small junction dot where an arrow branches."""
    ax.add_patch(mpatches.Circle(xy, 0.06, facecolor=color, edgecolor="none", zorder=3))


def cross(ax: Axes, xy: tuple[float, float], w: float, h: float, color: str = VERMILLION) -> None:
    """Strike out the box of size ``w`` x ``h`` centred on ``xy``."""
    x, y = xy
    for sign in (1, -1):
        ax.plot(
            [x - w / 2, x + w / 2],
            [y - sign * h / 2, y + sign * h / 2],
            color=color,
            linewidth=LINE_WIDTH,
            solid_capstyle="round",
            zorder=5,
        )


def bracket(ax: Axes, xa: float, xb: float, y: float, label: str, color: str = GREY) -> None:
    """A bracket under ``xa..xb`` at height ``y``, opening upwards, labelled below."""
    ax.plot([xa, xa, xb, xb], [y + 0.15, y, y, y + 0.15], color=color, lw=1.2, zorder=3)
    text(ax, ((xa + xb) / 2, y - 0.12), label, size=SMALL, color=color, va="top")


def title(ax: Axes, s: str) -> None:
    """A panel title inside the top of the axes (so no layout engine is needed)."""
    xmin, xmax = ax.get_xlim()
    text(ax, ((xmin + xmax) / 2, ax.get_ylim()[1]), s, size=FONT, va="top", weight="bold")
