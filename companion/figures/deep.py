"""Conceptual diagrams of chapter 12 (深层 RNN、双向 RNN 与应用), drawn with Matplotlib.

Drawing code, not RNN code, in the style of :mod:`companion.figures.diagrams`
and with the primitives of :mod:`companion.figures.drawing` (same scale, palette
and fonts; every text is math or short English; the same call renders the same
PNG bytes).

=========================  ==================================================
function                   what it shows
=========================  ==================================================
``deep_rnn_orders``        a stacked RNN unrolled as a grid (layers x steps),
                           numbered in the two orders that compute it:
                           step by step (MultiRNNCell) and layer by layer
                           (``nn.GRU(num_layers=L)``)
``bidirectional_rnn``      forward and backward layers over a padded sequence;
                           the backward layer starts at the last valid step
=========================  ==================================================
"""

from __future__ import annotations

from matplotlib.figure import Figure

from companion.figures.drawing import (
    GREY,
    INPUT,
    OUTPUT,
    PAD_FACE,
    SMALL,
    STATE,
    VERMILLION,
    arrow,
    box,
    canvas,
    text,
    title,
)
from companion.validation import check_int

__all__ = ["bidirectional_rnn", "deep_rnn_orders"]

_DX, _DY = 1.9, 1.35  # distance between steps, between layers
_W, _H = 1.1, 0.7  # a cell's box


def _grid_panel(ax, n_layers: int, n_steps: int, order: str) -> None:
    """One unrolled grid; each box holds its rank in the order of computation."""
    for k in range(n_layers):
        y = k * _DY
        text(ax, (-_W / 2 - 0.2, y), f"layer {k}", size=SMALL, ha="right")
        for t in range(n_steps):
            x = t * _DX
            rank = t * n_layers + k + 1 if order == "step" else k * n_steps + t + 1
            box(ax, (x, y), _W, _H, str(rank))
            if t + 1 < n_steps:
                arrow(ax, [(x + _W / 2, y), (x + _DX - _W / 2, y)], color=STATE)
            below = -_DY * 0.8 if k == 0 else y - _DY + _H / 2
            arrow(ax, [(x, below), (x, y - _H / 2)], color=INPUT if k == 0 else OUTPUT)
    top = (n_layers - 1) * _DY
    for t in range(n_steps):
        text(ax, (t * _DX, -_DY * 0.8 - 0.3), rf"$\mathbf{{x}}_{t}$")
        arrow(ax, [(t * _DX, top + _H / 2), (t * _DX, top + _DY * 0.7)], color=OUTPUT)
        text(ax, (t * _DX, top + _DY * 0.7 + 0.3), rf"$\mathbf{{y}}_{t}$")


def deep_rnn_orders(n_layers: int = 3, n_steps: int = 4) -> Figure:
    """A deep RNN unrolled as a grid, numbered in two orders of computation.

    Rows are layers (layer 0 at the bottom reads ``x_t``), columns are time steps;
    orange arrows carry each layer's state to the next step, green arrows carry a
    layer's output to the layer above. Top panel: the order of TensorFlow 1.x's
    ``MultiRNNCell`` (at each step every layer, bottom to top); bottom panel: the
    order of ``nn.GRU(num_layers=L)`` (each layer over the whole sequence). Box
    ``(t, k)`` needs only ``(t-1, k)`` and ``(t, k-1)``, computed earlier in both.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes stacked vertically, ``n_layers * n_steps`` boxes each.
    """
    n_layers = check_int("n_layers", n_layers, 1)
    n_steps = check_int("n_steps", n_steps, 1)
    width = (n_steps - 1) * _DX
    extent = (-2.4, width + 0.8, -_DY * 0.8 - 0.65, (n_layers - 1) * _DY + _DY * 0.7 + 1.3)
    fig, axes = canvas([[extent], [extent]], gap=0.3)
    titles = ("step by step: MultiRNNCell", f"layer by layer: nn.GRU(num_layers={n_layers})")
    for ax, order, heading in zip(axes, ("step", "layer"), titles, strict=True):
        _grid_panel(ax, n_layers, n_steps, order)
        title(ax, heading)
    return fig


def bidirectional_rnn(n_steps: int = 4, length: int = 3) -> Figure:
    """A bidirectional RNN over one padded sequence of ``length`` valid steps.

    Bottom row: the forward layer, reading ``x_0 ... x_{L-1}`` left to right;
    top row: the backward layer, reading right to left from ``x_{L-1}`` (its
    zero initial state enters there, not at the end of the padding). Each step's
    output is the concatenation ``[fw; bw]``. Padding steps are grey; their
    outputs are 0.

    Returns
    -------
    matplotlib.figure.Figure
        One axes.
    """
    n_steps = check_int("n_steps", n_steps, 1)
    length = check_int("length", length, 1)
    if length > n_steps:
        raise ValueError(f"length must be <= n_steps = {n_steps}; got {length}")
    dx, y_fw, y_bw = 2.1, 0.0, _DY
    y_in, y_out = -1.0, y_bw + 1.55
    fig, (ax,) = canvas([[(-2.7, (n_steps - 1) * dx + 1.2, y_in - 0.75, y_out + 0.45)]])
    text(ax, (-_W / 2 - 0.55, y_fw), "forward", size=SMALL, ha="right")
    text(ax, (-_W / 2 - 0.55, y_bw), "backward", size=SMALL, ha="right")
    for t in range(n_steps):
        x = t * dx
        if t >= length:  # padding: never read, output 0
            for y in (y_fw, y_bw):
                box(ax, (x, y), _W, _H, face=PAD_FACE, edge=GREY, ls="--")
            text(ax, (x, y_in - 0.4), "pad", color=GREY)
            text(ax, (x, y_out), "0", color=GREY)
            continue
        box(ax, (x, y_fw), _W, _H, r"$\rightarrow$")
        box(ax, (x, y_bw), _W, _H, r"$\leftarrow$")
        text(ax, (x, y_in - 0.4), rf"$\mathbf{{x}}_{t}$")
        arrow(ax, [(x, y_in - 0.1), (x, y_fw - _H / 2)], color=INPUT)
        gap = y_fw + _H / 2 + 0.3  # between the rows
        left = [(x, y_in + 0.2), (x - 0.8, y_in + 0.2), (x - 0.8, gap), (x - 0.25, gap)]
        arrow(ax, [*left, (x - 0.25, y_bw - _H / 2)], color=INPUT, radius=0.12)
        above = y_bw + _H / 2 + 0.25  # fw's output climbs to the right of the backward box
        right = [(x + 0.25, y_fw + _H / 2), (x + 0.25, gap - 0.1), (x + 0.8, gap - 0.1)]
        arrow(
            ax,
            [*right, (x + 0.8, above), (x + 0.25, above), (x + 0.25, y_out - 0.3)],
            color=OUTPUT,
            radius=0.12,
        )
        arrow(ax, [(x - 0.25, y_bw + _H / 2), (x - 0.25, y_out - 0.3)], color=OUTPUT)
        text(ax, (x, y_out), rf"$[\mathbf{{y}}^{{fw}}_{t};\,\mathbf{{y}}^{{bw}}_{t}]$", size=SMALL)
        if t + 1 < length:
            arrow(ax, [(x + _W / 2, y_fw), (x + dx - _W / 2, y_fw)], color=STATE)
            arrow(ax, [(x + dx - _W / 2, y_bw), (x + _W / 2, y_bw)], color=STATE)
    start = (length - 1) * dx + _W / 2  # the backward layer's zero state enters here
    arrow(ax, [(start + 0.45, y_bw), (start, y_bw)], color=VERMILLION)
    text(ax, (start + 0.5, y_bw + 0.55), r"$\mathbf{0}$", color=VERMILLION)
    text(ax, (-_W / 2 - 0.3, y_fw + 0.4), r"$\mathbf{0}$", color=VERMILLION)
    arrow(ax, [(-_W / 2 - 0.45, y_fw), (-_W / 2, y_fw)], color=VERMILLION)
    return fig
