"""Conceptual diagrams of the course, drawn with Matplotlib.

Drawing code, not RNN code: chapters 1-8 and 11 show these figures (see the table)
but teach nothing from this module, and nothing in ``companion`` imports it.

Each public function draws one figure and returns a fresh
:class:`matplotlib.figure.Figure`. Nothing is registered with ``pyplot`` and no
``rcParams`` are changed, so calling a function leaves no global state behind;
what to do with the figure (show it, save it) is the caller's business.

=========================  ==========================================  =======
function                   what it shows                               chapter
=========================  ==========================================  =======
``recurrent_neuron``       one recurrent neuron, folded and unrolled   1
``recurrent_layer``        a layer of recurrent neurons, unrolled      1
``memory_cell``            a cell whose output differs from its state  2
``sequence_types``         the four input/output arrangements          3
``static_vs_dynamic``      per-step copies versus one cell in a loop   5, 6
``padding_and_lengths``    ``sequence_length``: padding, final state   7
``eos_decoding``           decoding until EOS, masking what follows    8
``lstm_cell``              one LSTM step: cell state line, i, f, g, o  11
``gru_cell``               one GRU step: gates r, z, candidate n       11
=========================  ==========================================  =======

Every text inside a figure is math notation or short ASCII English (the book
assumes no CJK font); captions are written, in Chinese, by the chapters.

All figures share the scale, palette and primitives of
:mod:`companion.figures.drawing` (``canvas``, ``box``, ``circle``, ``arrow``,
``text`` ...), like the figures of chapters 12 and 13.

Output is deterministic: the same call with the same arguments renders to the
same PNG bytes (save with ``metadata={"Software": None}`` to drop the
Matplotlib version from the file).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import matplotlib.patches as mpatches
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from companion.figures.drawing import (
    BLUE,
    CELL_FACE,
    DECODER_FACE,
    FONT,
    GREY,
    IGNORED,
    INK,
    INPUT,
    LINE_WIDTH,
    ORANGE,
    OUTPUT,
    PAD_FACE,
    PURPLE,
    SMALL,
    STATE,
    VERMILLION,
    arrow,
    box,
    bracket,
    canvas,
    circle,
    cross,
    dot,
    text,
    title,
)
from companion.validation import check_int

__all__ = [
    "eos_decoding",
    "gru_cell",
    "lstm_cell",
    "memory_cell",
    "padding_and_lengths",
    "recurrent_layer",
    "recurrent_neuron",
    "sequence_types",
    "static_vs_dynamic",
]


def _step(offset: int) -> str:
    """``t``, ``t-1``, ``t-2`` ... for a step ``offset`` before the current one."""
    return "t" if offset == 0 else f"t-{offset}"


# --------------------------------------------------------------------------
# Chapter 1: the recurrent neuron and the recurrent layer.
# --------------------------------------------------------------------------


def recurrent_neuron(unrolled: bool = True) -> Figure:
    """One recurrent neuron, folded (left) and unrolled through time (right).

    Used in chapter 1 (循环神经元与循环层). On the left the neuron receives the
    input vector :math:`\\mathbf{x}_{(t)}` from below and its own previous
    output through the self-loop; on the right the same neuron is drawn once
    per time step, :math:`t-3` to :math:`t`: each step takes
    :math:`\\mathbf{x}_{(t)}` from below, emits the scalar :math:`y_{(t)}`
    upwards, and passes it on to the next step.

    Parameters
    ----------
    unrolled : bool, default True
        Draw the unrolled version next to the folded neuron. ``False`` draws
        the folded neuron only.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; each neuron is a circle patch with gid ``"neuron"``
        (1 folded + 4 unrolled).
    """
    r = 0.4
    spacing = 2.0
    first = 4.0  # x of the first unrolled neuron
    n = 4
    extent = (
        (-1.0, first + (n - 1) * spacing + 1.65, -2.75, 2.0) if unrolled else (-1.0, 2.1, -2.0, 2.0)
    )
    fig, (ax,) = canvas([[extent]])

    def neuron(x: float, offset: int | None) -> None:
        sub = "t" if offset is None else _step(offset)
        circle(ax, (x, 0), r, gid="neuron")
        arrow(ax, [(x, -1.25), (x, -r)], color=INPUT)
        text(ax, (x, -1.55), rf"$\mathbf{{x}}_{{({sub})}}$")
        arrow(ax, [(x, r), (x, 1.25)], color=OUTPUT)
        text(ax, (x, 1.55), rf"$y_{{({sub})}}$")

    # Folded: the output bends back into the neuron's right side.
    neuron(0.0, None)
    dot(ax, (0, 0.85), OUTPUT)
    arrow(ax, [(0, 0.85), (0.95, 0.85), (0.95, 0), (r, 0)], color=STATE)

    if unrolled:
        text(ax, (2.55, 0), "$=$", size=26)
        xs = [first + k * spacing for k in range(n)]
        # y(t-4) arriving from before the drawing, y(t) leaving it: dashed.
        arrow(ax, [(xs[0] - 1.0, 0), (xs[0] - r, 0)], color=STATE, ls="--")
        for k, x in enumerate(xs):
            neuron(x, n - 1 - k)
            dot(ax, (x, 0.85), OUTPUT)
            nxt = x + spacing
            last = k == n - 1
            arrow(
                ax,
                [
                    (x, 0.85),
                    (x + 0.95, 0.85),
                    (x + 0.95, 0),
                    (nxt - r if not last else x + 1.45, 0),
                ],
                color=STATE,
                ls="--" if last else "-",
            )
        # Time axis under the inputs.
        arrow(ax, [(xs[0] - 0.8, -2.25), (xs[-1] + 1.1, -2.25)], color=GREY, lw=1.2)
        text(ax, (xs[-1] + 1.1, -2.55), "time", size=SMALL, color=GREY, ha="right", va="top")
    return fig


def recurrent_layer(n_steps: int = 3) -> Figure:
    """A layer of recurrent neurons, folded (left) and unrolled (right).

    Used in chapter 1 (循环神经元与循环层). The layer is a box of neurons (the
    vector :math:`\\mathbf{y}_{(t)}` it outputs). Inputs
    :math:`\\mathbf{x}_{(t)}` enter through the weights
    :math:`\\mathbf{W}_x`, the previous outputs through
    :math:`\\mathbf{W}_y`, the same two matrices at every step.

    Parameters
    ----------
    n_steps : int, default 3
        Number of unrolled time steps (``t-n_steps+1`` to ``t``), at least 1.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; each layer is a box patch with gid ``"layer"``
        (``1 + n_steps`` of them).

    Raises
    ------
    TypeError
        If ``n_steps`` is not an integer.
    ValueError
        If ``n_steps`` < 1.
    """
    n_steps = check_int("n_steps", n_steps, 1)
    w, h = 2.2, 0.8
    n_units = 5
    spacing = 3.3
    first = 4.8
    xs = [first + k * spacing for k in range(n_steps)]
    extent = (-1.4, xs[-1] + 2.2, -2.1, 2.1)
    fig, (ax,) = canvas([[extent]])

    def layer(x: float, offset: int | None) -> None:
        sub = "t" if offset is None else _step(offset)
        box(ax, (x, 0), w, h, gid="layer")
        for j in range(n_units):
            circle(ax, (x + (j - (n_units - 1) / 2) * 0.4, 0), 0.14, face="white", lw=1.2)
        arrow(ax, [(x, -1.45), (x, -h / 2)], color=INPUT)
        text(ax, (x, -1.75), rf"$\mathbf{{x}}_{{({sub})}}$")
        text(ax, (x + 0.12, -0.95), r"$\mathbf{W}_x$", size=SMALL, ha="left")
        arrow(ax, [(x, h / 2), (x, 1.45)], color=OUTPUT)
        text(ax, (x, 1.75), rf"$\mathbf{{y}}_{{({sub})}}$")
        dot(ax, (x, 0.95), OUTPUT)

    layer(0.0, None)
    arrow(ax, [(0, 0.95), (1.55, 0.95), (1.55, 0), (w / 2, 0)], color=STATE)
    text(ax, (1.68, 0.45), r"$\mathbf{W}_y$", size=SMALL, ha="left")

    text(ax, (2.65, 0), "$=$", size=26)
    arrow(ax, [(xs[0] - w / 2 - 0.55, 0), (xs[0] - w / 2, 0)], color=STATE, ls="--")
    for k, x in enumerate(xs):
        layer(x, n_steps - 1 - k)
        turn = x + w / 2 + 0.4
        if k < n_steps - 1:
            arrow(ax, [(x, 0.95), (turn, 0.95), (turn, 0), (x + spacing - w / 2, 0)], color=STATE)
            text(ax, (turn + 0.1, 0.45), r"$\mathbf{W}_y$", size=SMALL, ha="left")
        else:
            arrow(
                ax,
                [(x, 0.95), (turn, 0.95), (turn, 0), (turn + 0.45, 0)],
                color=STATE,
                ls="--",
            )
    return fig


# --------------------------------------------------------------------------
# Chapter 2: memory cells.
# --------------------------------------------------------------------------


def memory_cell() -> Figure:
    """A memory cell whose output differs from its state, folded and unrolled.

    Used in chapter 2 (记忆单元). The cell computes its new state
    :math:`\\mathbf{h}_{(t)} = f(\\mathbf{h}_{(t-1)}, \\mathbf{x}_{(t)})` and,
    separately, an output :math:`\\mathbf{y}_{(t)}`. The state (orange)
    travels sideways to the next step; the output (green) leaves upwards.
    The right half unrolls the cell over the three steps ``t-2``, ``t-1``,
    ``t``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; each cell is a box patch with gid ``"cell"`` (1 + 3).
    """
    w, h = 1.2, 0.8
    spacing = 2.8
    first = 4.6
    n = 3
    xs = [first + k * spacing for k in range(n)]
    extent = (-1.2, xs[-1] + 2.0, -2.0, 2.7)
    fig, (ax,) = canvas([[extent]])
    text(
        ax,
        ((extent[0] + extent[1]) / 2, 2.45),
        r"$\mathbf{h}_{(t)} = f(\mathbf{h}_{(t-1)},\ \mathbf{x}_{(t)})$"
        r"$\qquad \mathbf{y}_{(t)} = g(\mathbf{h}_{(t-1)},\ \mathbf{x}_{(t)})$",
    )

    def cell(x: float, offset: int | None) -> None:
        sub = "t" if offset is None else _step(offset)
        box(ax, (x, 0), w, h, "cell", gid="cell", size=SMALL)
        arrow(ax, [(x, -1.35), (x, -h / 2)], color=INPUT)
        text(ax, (x, -1.65), rf"$\mathbf{{x}}_{{({sub})}}$")
        arrow(ax, [(x, h / 2), (x, 1.35)], color=OUTPUT)
        text(ax, (x, 1.65), rf"$\mathbf{{y}}_{{({sub})}}$")

    # Folded: the state leaves on the right and comes straight back.
    cell(0.0, None)
    arrow(
        ax,
        [(w / 2, 0.2), (w / 2 + 0.75, 0.2), (w / 2 + 0.75, -0.2), (w / 2, -0.2)],
        color=STATE,
        radius=0.2,
    )
    text(ax, (w / 2 + 0.9, 0), r"$\mathbf{h}$", ha="left")

    text(ax, (2.6, 0), "$=$", size=26)
    gap_labels = [rf"$\mathbf{{h}}_{{({_step(n - k)})}}$" for k in range(n + 1)]
    arrow(ax, [(xs[0] - w / 2 - 1.0, 0), (xs[0] - w / 2, 0)], color=STATE, ls="--")
    text(ax, (xs[0] - w / 2 - 0.5, 0.12), gap_labels[0], size=SMALL, va="bottom")
    for k, x in enumerate(xs):
        cell(x, n - 1 - k)
        last = k == n - 1
        end = x + spacing - w / 2 if not last else x + w / 2 + 1.0
        arrow(ax, [(x + w / 2, 0), (end, 0)], color=STATE, ls="--" if last else "-")
        text(ax, ((x + w / 2 + end) / 2, 0.12), gap_labels[k + 1], size=SMALL, va="bottom")
    return fig


# --------------------------------------------------------------------------
# Chapter 3: input and output sequences.
# --------------------------------------------------------------------------


def _unrolled_row(
    ax: Axes,
    x0: float,
    n: int,
    *,
    spacing: float,
    inputs: Sequence[tuple[str, bool] | None],
    outputs: Sequence[tuple[str, bool] | None],
    face: str = CELL_FACE,
    edge: str = BLUE,
    label: str | None = None,
    w: float = 0.7,
    h: float = 0.6,
) -> list[float]:
    """``n`` cells in a row, chained by state arrows, with inputs and outputs.

    ``inputs[k]``/``outputs[k]`` is ``(label, used)`` or ``None`` (nothing
    drawn); unused ones are grey and dashed. Returns the cells' x positions.
    """
    xs = [x0 + k * spacing for k in range(n)]
    for k, x in enumerate(xs):
        box(ax, (x, 0), w, h, label, face=face, edge=edge, gid="cell", size=SMALL)
        if k < n - 1:
            arrow(ax, [(x + w / 2, 0), (x + spacing - w / 2, 0)], color=STATE)
        for item, sign, colour in ((inputs[k], -1, INPUT), (outputs[k], 1, OUTPUT)):
            if item is None:
                continue
            symbol, used = item
            near, far = sign * h / 2, sign * 1.0
            pts = [(x, far), (x, near)] if sign < 0 else [(x, near), (x, far)]
            arrow(ax, pts, color=colour if used else IGNORED, ls="-" if used else "--")
            text(ax, (x, sign * 1.3), symbol, size=FONT, color=INK if used else IGNORED)
    return xs


def sequence_types() -> Figure:
    """The four arrangements of input and output sequences.

    Used in chapter 3 (输入与输出序列). Four panels, each an RNN unrolled
    through time with inputs below and outputs above; grey dashed arrows are
    outputs that are computed but ignored (or, for vector-to-seq, zero inputs):

    * ``seq-to-seq``: an output at every step;
    * ``seq-to-vector``: only the last output is kept;
    * ``vector-to-seq``: one input at the first step, zeros after it;
    * ``encoder-decoder``: a seq-to-vector encoder (blue) whose final state
      starts a vector-to-seq decoder (pink) of a different length.

    Returns
    -------
    matplotlib.figure.Figure
        Four axes; every cell is a box patch with gid ``"cell"`` (17 of them).
    """
    n = 4
    spacing = 1.3
    extent = (-0.8, 6.0, -2.15, 2.3)
    fig, axes = canvas([[extent, extent], [extent, extent]], gap=0.5)
    centre = (extent[0] + extent[1]) / 2
    x0 = centre - (n - 1) * spacing / 2

    def xs_(prefix: str, k: int) -> str:
        return rf"$\mathbf{{{prefix}}}_{{({k})}}$"

    ax = axes[0]
    title(ax, "seq-to-seq")
    _unrolled_row(
        ax,
        x0,
        n,
        spacing=spacing,
        inputs=[(xs_("x", k), True) for k in range(n)],
        outputs=[(xs_("y", k), True) for k in range(n)],
    )

    ax = axes[1]
    title(ax, "seq-to-vector")
    _unrolled_row(
        ax,
        x0,
        n,
        spacing=spacing,
        inputs=[(xs_("x", k), True) for k in range(n)],
        outputs=[(xs_("y", k), k == n - 1) for k in range(n)],
    )

    ax = axes[2]
    title(ax, "vector-to-seq")
    _unrolled_row(
        ax,
        x0,
        n,
        spacing=spacing,
        inputs=[(xs_("x", 0), True)] + [(r"$\mathbf{0}$", False)] * (n - 1),
        outputs=[(xs_("y", k), True) for k in range(n)],
    )

    ax = axes[3]
    title(ax, "encoder-decoder")
    n_enc, n_dec = 3, 2
    x0 = centre - (n_enc + n_dec - 1) * spacing / 2
    enc = _unrolled_row(
        ax,
        x0,
        n_enc,
        spacing=spacing,
        inputs=[(xs_("x", k), True) for k in range(n_enc)],
        outputs=[(xs_("y", k), False) for k in range(n_enc)],
    )
    dec = _unrolled_row(
        ax,
        x0 + n_enc * spacing,
        n_dec,
        spacing=spacing,
        inputs=[None] * n_dec,
        outputs=[(rf"$\hat{{\mathbf{{y}}}}_{{({k})}}$", True) for k in range(n_dec)],
        face=DECODER_FACE,
        edge=PURPLE,
    )
    # The encoder's final state is the vector handed to the decoder.
    arrow(ax, [(enc[-1] + 0.35, 0), (dec[0] - 0.35, 0)], color=STATE, lw=2.6)
    for xs, name, colour in ((enc, "encoder", BLUE), (dec, "decoder", PURPLE)):
        bracket(ax, xs[0] - 0.4, xs[-1] + 0.4, -1.65, name, colour)
    return fig


# --------------------------------------------------------------------------
# Chapters 5-6: static and dynamic unrolling.
# --------------------------------------------------------------------------


def static_vs_dynamic(n_steps: int = 4, stacked: bool = False) -> Figure:
    """Static unrolling (left, or top) against dynamic unrolling (right, or bottom).

    Used in chapters 5 (静态展开) and 6 (动态展开). Left: ``static_rnn`` builds
    one graph node per step, ``n_steps`` copies of the cell that all use the
    same :math:`\\mathbf{W}_x, \\mathbf{W}_y, \\mathbf{b}`; inputs and outputs
    are Python lists of per-step arrays. Right: ``dynamic_rnn`` runs one cell
    inside a loop over ``t``, slicing one ``[batch, n_steps, n_inputs]``
    tensor and filling one ``[batch, n_steps, n_neurons]`` tensor.

    Parameters
    ----------
    n_steps : int, default 4
        Number of copies drawn in the static half, at least 1.
    stacked : bool, default False
        Draw the dynamic half under the static one instead of beside it: the
        figure is then half as wide, and its text stays readable on a phone.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes (static, dynamic); every cell is a box patch with gid
        ``"cell"`` (``n_steps`` + 1 of them); the two tensors of the dynamic
        half are box patches with gid ``"tensor"``.

    Raises
    ------
    TypeError
        If ``n_steps`` is not an integer.
    ValueError
        If ``n_steps`` < 1.
    """
    n_steps = check_int("n_steps", n_steps, 1)
    w, h = 1.0, 0.7
    spacing = 1.6
    left = (-0.9, (n_steps - 1) * spacing + 0.9, -2.8, 2.5)
    left = (min(left[0], -2.0), max(left[1], 2.0), left[2], left[3])
    right = (-2.8, 3.3, -2.8, 2.5)
    rows = [[left], [right]] if stacked else [[left, right]]
    fig, (ax_s, ax_d) = canvas(rows, gap=0.8)

    # Static: one copy of the cell per step.
    title(ax_s, "static unrolling")
    xs = [k * spacing for k in range(n_steps)]
    if n_steps == 1:
        xs = [0.0]
    for k, x in enumerate(xs):
        box(ax_s, (x, 0), w, h, "cell", gid="cell", size=SMALL)
        arrow(ax_s, [(x, -1.2), (x, -h / 2)], color=INPUT)
        text(ax_s, (x, -1.5), rf"$\mathbf{{X}}_{{({k})}}$")
        arrow(ax_s, [(x, h / 2), (x, 1.2)], color=OUTPUT)
        text(ax_s, (x, 1.5), rf"$\mathbf{{Y}}_{{({k})}}$")
        if k < n_steps - 1:
            arrow(ax_s, [(x + w / 2, 0), (x + spacing - w / 2, 0)], color=STATE)
    # A bracket under the copies: they share one set of weights.
    copies = "1 node" if n_steps == 1 else f"{n_steps} nodes"
    bracket(
        ax_s,
        xs[0] - w / 2,
        xs[-1] + w / 2,
        -1.95,
        copies + r", one $\mathbf{W}_x,\, \mathbf{W}_y,\, \mathbf{b}$",
        INK,
    )

    # Dynamic: one cell in a loop, between two whole tensors.
    title(ax_d, "dynamic unrolling")
    cx = 1.1  # the cell's x; the loop's header sits on its left
    ax_d.add_patch(
        mpatches.FancyBboxPatch(
            (-2.3, -0.85),
            5.1,
            1.5,
            boxstyle="round,pad=0,rounding_size=0.2",
            facecolor="none",
            edgecolor=GREY,
            linestyle="--",
            linewidth=1.2,
            zorder=1,
        )
    )
    text(
        ax_d,
        (-2.15, -0.1),
        "for t in\nrange(n_steps):",
        size=SMALL - 1,
        color=GREY,
        family="monospace",
        ha="left",
        linespacing=1.3,
    )
    box(ax_d, (cx, -0.1), w, h, "cell", gid="cell", size=SMALL)
    arrow(
        ax_d,
        [(cx + w / 2, 0.1), (cx + w / 2 + 0.6, 0.1), (cx + w / 2 + 0.6, -0.3), (cx + w / 2, -0.3)],
        color=STATE,
        radius=0.2,
    )
    text(ax_d, (cx + w / 2 + 0.72, -0.1), r"$\mathbf{h}$", ha="left")
    for y, tensor in (
        (-2.2, "X: [batch, n_steps, n_inputs]"),
        (1.7, "outputs: [batch, n_steps, n_neurons]"),
    ):
        box(
            ax_d,
            (0.25, y),
            5.8,  # wide enough for the longer label, "outputs: [...]", with a margin
            0.5,
            tensor,
            face="white",
            edge=INK,
            lw=1.2,
            size=SMALL - 2,
            family="monospace",
            rounding=0.08,
            gid="tensor",
        )
    arrow(ax_d, [(cx, -1.95), (cx, -0.1 - h / 2)], color=INPUT)
    text(ax_d, (cx + 0.1, -1.45), "X[:, t]", size=SMALL - 2, family="monospace", ha="left")
    arrow(ax_d, [(cx, -0.1 + h / 2), (cx, 1.45)], color=OUTPUT)
    text(ax_d, (cx + 0.1, 1.05), "outputs[:, t]", size=SMALL - 2, family="monospace", ha="left")
    return fig


# --------------------------------------------------------------------------
# Chapter 7: variable-length input sequences.
# --------------------------------------------------------------------------


def padding_and_lengths(lengths: Sequence[int] = (2, 1, 2, 2), n_steps: int | None = 2) -> Figure:
    """A padded mini-batch and what ``sequence_length`` does with it.

    Used in chapter 7 (变长输入序列). One row per instance, one column per
    time step. Valid steps (``t < lengths[i]``) are filled and carry an output
    :math:`\\mathbf{y}_{(t)}`; padded steps are hatched and their output is
    exactly :math:`\\mathbf{0}`. The last valid step of each row is outlined
    in vermillion, and the column on the right gives the final state, the
    state after that step (or the initial state when the length is 0).

    Parameters
    ----------
    lengths : sequence of int, default (2, 1, 2, 2)
        The length of each instance (the source chapter's example), each
        between 0 and ``n_steps``.
    n_steps : int or None, default 2
        Number of time steps (columns), at least 1; ``None`` means
        ``max(lengths)`` (or 1 if every length is 0).

    Returns
    -------
    matplotlib.figure.Figure
        One axes; the grid's boxes have gid ``"cell"``
        (``len(lengths) * n_steps``), the final-state boxes gid ``"state"``.

    Raises
    ------
    TypeError
        If ``lengths`` is not a sequence of integers, or ``n_steps`` not an integer.
    ValueError
        If ``lengths`` is empty, holds a negative length or a length greater
        than ``n_steps``, or if ``n_steps`` < 1.
    """
    if isinstance(lengths, str | bytes) or not isinstance(lengths, Sequence | tuple):
        try:
            lengths = list(lengths)  # e.g. a NumPy array
        except TypeError:
            raise TypeError(
                f"lengths must be a sequence of integers, got {type(lengths).__name__}"
            ) from None
    lengths = list(lengths)
    if not lengths:
        raise ValueError("lengths must hold at least one length, got an empty sequence")
    for i, value in enumerate(lengths):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"lengths[{i}] must be an integer, got {value!r}")
        if value < 0:
            raise ValueError(f"lengths[{i}] must be >= 0, got {value}")
    lengths = [int(v) for v in lengths]
    if n_steps is None:
        n_steps = max(max(lengths), 1)
    n_steps = check_int("n_steps", n_steps, 1)
    for i, value in enumerate(lengths):
        if value > n_steps:
            raise ValueError(f"lengths[{i}] = {value} exceeds n_steps = {n_steps}")

    n_rows = len(lengths)
    cw, ch = 1.3, 0.75  # cell size
    dx, dy = 1.45, 0.95  # pitch
    state_x = (n_steps - 1) * dx + cw / 2 + 1.45
    top = 1.0
    bottom = -(n_rows - 1) * dy - 2.35
    extent = (-3.5, state_x + 0.9, bottom, top)
    fig, (ax,) = canvas([[extent]])

    for t in range(n_steps):
        text(ax, (t * dx, 0.72), f"$t={t}$", size=SMALL)
    text(ax, (-2.6, 0.72), "instance", size=SMALL, color=GREY)
    text(ax, (-1.15, 0.72), "length", size=SMALL, color=GREY)
    text(ax, (state_x, 0.72), "final state", size=SMALL)
    for i, length in enumerate(lengths):
        y = -i * dy
        text(ax, (-2.6, y), f"{i}", size=FONT)
        text(ax, (-1.15, y), f"{length}", size=FONT)
        for t in range(n_steps):
            if t < length:
                last = t == length - 1
                box(
                    ax,
                    (t * dx, y),
                    cw,
                    ch,
                    rf"$\mathbf{{y}}_{{({t})}}$",
                    edge=VERMILLION if last else BLUE,
                    lw=2.8 if last else LINE_WIDTH,
                    rounding=0.08,
                    gid="cell",
                )
            else:
                box(
                    ax,
                    (t * dx, y),
                    cw,
                    ch,
                    r"$\mathbf{0}$",
                    face=PAD_FACE,
                    edge=GREY,
                    hatch="///",
                    rounding=0.08,
                    gid="cell",
                    color=INK,
                )
        state = rf"$\mathbf{{h}}_{{({length - 1})}}$" if length else r"$\mathbf{h}_{\mathrm{init}}$"
        box(
            ax,
            (state_x, y),
            1.1,
            ch,
            state,
            face="white",
            edge=VERMILLION,
            lw=2.8,
            rounding=0.08,
            gid="state",
        )

    # Legend, drawn with the same primitives so it stays inside the drawing.
    ly = -(n_rows - 1) * dy - 1.05
    entries = [
        (dict(face=CELL_FACE, edge=BLUE), "valid step"),
        (dict(face=PAD_FACE, edge=GREY, hatch="///"), r"padding: output $\mathbf{0}$"),
        (dict(face=CELL_FACE, edge=VERMILLION, lw=2.8), "last valid step, and the final state"),
    ]
    x = -3.35
    for k, (style, label) in enumerate(entries):
        yy = ly - 0.45 * k
        box(ax, (x + 0.25, yy), 0.5, 0.3, rounding=0.05, **style)
        text(ax, (x + 0.65, yy), label, size=SMALL, ha="left")
    return fig


# --------------------------------------------------------------------------
# Chapter 8: variable-length output sequences.
# --------------------------------------------------------------------------


def eos_decoding(
    tokens: Sequence[str] = ("the", "cat", "sat", "<eos>", "sat", "the"),
    eos: str = "<eos>",
    start: str = "<go>",
) -> Figure:
    """A decoder that emits one token per step until the end-of-sequence token.

    Used in chapter 8 (变长输出序列). Each step feeds the previous token (the
    ``start`` token at step 0) into the cell and emits the next one. Steps
    after the first ``eos`` are still computed by a batched decoder but mean
    nothing: they are greyed and their tokens struck out, and the mask row on
    top (1 up to and including EOS, 0 after) is what multiplies the loss.

    Parameters
    ----------
    tokens : sequence of str, default ("the", "cat", "sat", "<eos>", "sat", "the")
        The tokens the decoder emits, one per step; ASCII only (the figures
        assume no CJK font).
    eos : str, default "<eos>"
        The end-of-sequence token. If it does not occur, nothing is masked.
    start : str, default "<go>"
        The token fed to the first step.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; every decoder step is a box patch with gid ``"cell"``
        (``len(tokens)`` of them), every emitted token one with gid ``"token"``.

    Raises
    ------
    TypeError
        If ``tokens`` is not a sequence of strings, or ``eos``/``start`` not a string.
    ValueError
        If ``tokens`` is empty, or a token, ``eos`` or ``start`` is empty or not ASCII.
    """
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError(f"tokens must be a sequence of strings, got {type(tokens).__name__}")
    tokens = list(tokens)
    if not tokens:
        raise ValueError("tokens must hold at least one token, got an empty sequence")
    for name, value in [(f"tokens[{i}]", t) for i, t in enumerate(tokens)] + [
        ("eos", eos),
        ("start", start),
    ]:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a non-empty ASCII string, got {value!r}")
        if not value or not value.isascii():
            raise ValueError(
                f"{name} must be a non-empty ASCII string (figures use no CJK font), got {value!r}"
            )
    n = len(tokens)
    end = tokens.index(eos) if eos in tokens else n - 1
    inputs = [start] + tokens[:-1]

    def plain(s: str) -> str:  # keep "$" from switching to math mode
        return s.replace("$", r"\$")

    w, h = 0.9, 0.6
    tw = max(1.15, 0.16 * max(len(s) for s in tokens + inputs) + 0.35)  # token box width
    spacing = max(1.75, tw + 0.5)
    extent = (-1.9, (n - 1) * spacing + tw / 2 + 0.3, -2.0, 2.75)
    fig, (ax,) = canvas([[extent]])
    text(ax, (-1.8, 2.35), "mask", size=SMALL, color=GREY, ha="left")
    text(ax, (-1.8, 1.3), "output", size=SMALL, color=GREY, ha="left")
    text(ax, (-1.8, -1.35), "input", size=SMALL, color=GREY, ha="left")
    for k in range(n):
        x = k * spacing
        live = k <= end
        ink = INK if live else IGNORED
        ls = "-" if live else "--"
        box(
            ax,
            (x, 0),
            w,
            h,
            face=DECODER_FACE if live else "white",
            edge=PURPLE if live else IGNORED,
            ls=ls,
            gid="cell",
        )
        if k < n - 1:
            arrow(
                ax,
                [(x + w / 2, 0), (x + spacing - w / 2, 0)],
                color=STATE if k < end else IGNORED,
                ls="-" if k < end else "--",
            )
        # input below, output token above
        arrow(ax, [(x, -1.1), (x, -h / 2)], color=INPUT if live else IGNORED, ls=ls)
        box(
            ax,
            (x, -1.35),
            tw,
            0.5,
            plain(inputs[k]),
            face="white",
            edge=ink,
            ls=ls,
            lw=1.0,
            size=SMALL,
            color=ink,
            family="monospace",
            rounding=0.08,
        )
        arrow(ax, [(x, h / 2), (x, 1.05)], color=OUTPUT if live else IGNORED, ls=ls)
        is_eos = tokens[k] == eos and k == end
        box(
            ax,
            (x, 1.3),
            tw,
            0.5,
            plain(tokens[k]),
            face="white",
            edge=VERMILLION if is_eos else ink,
            lw=2.2 if is_eos else 1.0,
            ls=ls,
            size=SMALL,
            color=ink,
            family="monospace",
            rounding=0.08,
            gid="token",
        )
        if not live:
            cross(ax, (x, 1.3), tw, 0.5)
        text(ax, (x, 2.35), "1" if live else "0", size=FONT, color=INK if live else VERMILLION)
        # the emitted token is the next step's input
        if k < n - 1:
            arrow(
                ax,
                [(x + tw / 2 + 0.05, 1.15), (x + spacing - tw / 2 - 0.05, -1.2)],
                color=GREY,
                ls=":",
                lw=1.1,
            )
    return fig


# --------------------------------------------------------------------------
# Chapter 11: the gated cells.
# --------------------------------------------------------------------------

_R = 0.3  # radius of an operation circle
_GATE_W, _GATE_H = 1.0, 0.8
_OP_FACE = "#FFFFFF"
_FRAME_FACE = "#F7F7F7"


def _op(ax, xy: tuple[float, float], symbol: str) -> None:
    """An element-wise operation: a small circle with ``symbol`` ("x", "+", "1-")."""
    circle(ax, xy, _R, face=_OP_FACE, edge=INK, lw=1.3, gid="op")
    label = {"x": r"$\times$", "+": "$+$"}.get(symbol, symbol)
    text(ax, xy, label, size=FONT if symbol in ("x", "+") else SMALL)


def _gate(ax, xy: tuple[float, float], letter: str, fn: str, right: bool = False) -> None:
    """A gate (a layer with its own weights): ``fn`` inside the box, ``letter`` beside it
    (on the left, or on the ``right``)."""
    box(ax, xy, _GATE_W, _GATE_H, fn, gid="gate", size=FONT)
    dx = (_GATE_W / 2 + 0.08) * (1 if right else -1)
    ha = "left" if right else "right"
    text(ax, (xy[0] + dx, xy[1] + 0.05), letter, ha=ha, color=BLUE)


def _frame(ax, x0: float, x1: float, y0: float, y1: float) -> None:
    box(
        ax,
        ((x0 + x1) / 2, (y0 + y1) / 2),
        x1 - x0,
        y1 - y0,
        face=_FRAME_FACE,
        edge="#BBBBBB",
        lw=1.2,
        rounding=0.3,
        gid="frame",
    )


def lstm_cell() -> Figure:
    """One LSTM step (equations (11.1)-(11.6) of chapter 11).

    The cell state runs along the top: multiplied by the forget gate ``f``,
    then added to ``i * g``. The inputs ``h_{t-1}`` (left) and ``x_t``
    (bottom) feed the four gates ``i, f, g, o`` (PyTorch's order), each with
    its own block of ``Wx``, ``Wy``, ``b``. The new ``h_t`` is ``o * tanh(c_t)``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; 4 gate boxes (gid ``"gate"``), 4 operation circles (gid ``"op"``).
    """
    fig, (ax,) = canvas([[(-0.9, 11.6, -0.9, 7.0)]])
    _frame(ax, 0.9, 9.9, 0.4, 6.3)
    top, bus = 5.4, 1.3
    xf, xi, xg, xo, xt = 2.6, 4.2, 5.6, 7.2, 8.6  # gates, then tanh(c)
    gate_y = 2.7
    # Cell state line.
    arrow(ax, [(-0.7, top), (xf - _R, top)], color=VERMILLION, lw=2.4)
    text(ax, (-0.7, top + 0.4), r"$\mathbf{c}_{t-1}$", ha="left")
    _op(ax, (xf, top), "x")
    arrow(ax, [(xf + _R, top), (xg - _R, top)], color=VERMILLION, lw=2.4)
    _op(ax, (xg, top), "+")
    arrow(ax, [(xg + _R, top), (11.4, top)], color=VERMILLION, lw=2.4)
    text(ax, (11.4, top + 0.4), r"$\mathbf{c}_t$", ha="right")
    # Inputs: h_{t-1} from the left, x_t from below, one bus to every gate.
    arrow(ax, [(-0.7, bus), (1.6, bus)], color=ORANGE, head=False)
    text(ax, (-0.7, bus + 0.4), r"$\mathbf{h}_{t-1}$", ha="left")
    arrow(ax, [(1.6, -0.7), (1.6, bus)], color=INK, head=False)
    text(ax, (1.75, -0.5), r"$\mathbf{x}_t$", ha="left")
    dot(ax, (1.6, bus), INK)
    arrow(ax, [(1.6, bus), (xo, bus)], color=INK, head=False)
    for x in (xf, xi, xg, xo):
        dot(ax, (x, bus), INK)
        arrow(ax, [(x, bus), (x, gate_y - _GATE_H / 2)], color=INK)
    for x, letter, fn in ((xf, "f", r"$\sigma$"), (xi, "i", r"$\sigma$")):
        _gate(ax, (x, gate_y), f"${letter}$", fn)
    _gate(ax, (xg, gate_y), "$g$", "tanh")
    _gate(ax, (xo, gate_y), "$o$", r"$\sigma$")
    # f scales the old cell state.
    arrow(ax, [(xf, gate_y + _GATE_H / 2), (xf, top - _R)], color=BLUE)
    # i * g is added.
    mid = 4.1
    _op(ax, (xg, mid), "x")
    arrow(ax, [(xi, gate_y + _GATE_H / 2), (xi, mid), (xg - _R, mid)], color=BLUE)
    arrow(ax, [(xg, gate_y + _GATE_H / 2), (xg, mid - _R)], color=BLUE)
    arrow(ax, [(xg, mid + _R), (xg, top - _R)], color=BLUE)
    # h_t = o * tanh(c_t).
    dot(ax, (xt, top), VERMILLION)
    box(ax, (xt, mid), 1.0, 0.7, "tanh", face=_OP_FACE, edge=INK, lw=1.3, gid="tanh_c")
    arrow(ax, [(xt, top), (xt, mid + 0.35)], color=VERMILLION)
    _op(ax, (xt, gate_y), "x")
    arrow(ax, [(xt, mid - 0.35), (xt, gate_y + _R)], color=VERMILLION)
    arrow(ax, [(xo + _GATE_W / 2, gate_y), (xt - _R, gate_y)], color=BLUE)
    arrow(ax, [(xt, gate_y - _R), (xt, bus), (11.4, bus)], color=ORANGE)
    text(ax, (11.4, bus + 0.4), r"$\mathbf{h}_t$", ha="right")
    return fig


def gru_cell() -> Figure:
    """One GRU step as ``nn.GRU`` computes it (equations (11.7)-(11.10) of chapter 11).

    The hidden state runs along the top: ``h_t = z * h_{t-1} + (1 - z) * n``.
    The gates ``r`` and ``z`` read ``h_{t-1}`` and ``x_t``; the candidate
    ``n = tanh(x_t Wx_n + bx_n + r * (h_{t-1} Wy_n + by_n))`` applies the reset
    gate *after* the recurrent product (box ``W``), PyTorch's and cuDNN's form.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; 3 gate boxes (gid ``"gate"``), 5 operation circles (gid ``"op"``).
    """
    fig, (ax,) = canvas([[(-0.9, 11.6, -0.9, 7.0)]])
    _frame(ax, 0.9, 9.9, 0.4, 6.3)
    top, bus, gate_y = 5.4, 1.3, 2.7
    xz, xr, xw, xn = 2.6, 4.2, 5.8, 7.6  # drawn z first: its line to the top stays clear
    # Hidden state line: z * h_{t-1} + (1 - z) * n.
    arrow(ax, [(-0.7, top), (xz - _R, top)], color=ORANGE, lw=2.4)
    text(ax, (-0.7, top + 0.4), r"$\mathbf{h}_{t-1}$", ha="left")
    _op(ax, (xz, top), "x")
    arrow(ax, [(xz + _R, top), (xn - _R, top)], color=ORANGE, lw=2.4)
    _op(ax, (xn, top), "+")
    arrow(ax, [(xn + _R, top), (11.4, top)], color=ORANGE, lw=2.4)
    text(ax, (11.4, top + 0.4), r"$\mathbf{h}_t$", ha="right")
    # h_{t-1} also goes down into the gates; x_t comes from below.
    dot(ax, (1.3, top), ORANGE)
    arrow(ax, [(1.3, top), (1.3, bus), (xw, bus)], color=ORANGE, head=False)
    arrow(ax, [(1.8, -0.7), (1.8, 0.75), (xn, 0.75)], color=INK, head=False)
    text(ax, (1.95, -0.5), r"$\mathbf{x}_t$", ha="left")
    for x in (xz, xr):
        dot(ax, (x, bus), ORANGE)
        dot(ax, (x, 0.75), INK)
        arrow(ax, [(x, 0.75), (x, gate_y - _GATE_H / 2)], color=INK)
    _gate(ax, (xz, gate_y), "$z$", r"$\sigma$")
    _gate(ax, (xr, gate_y), "$r$", r"$\sigma$")
    # Candidate: r scales h_{t-1} Wy_n + by_n (after the product), then x_t's term, tanh.
    wy = 1.85
    box(ax, (xw, wy), 0.9, 0.6, "$W$", face=_OP_FACE, edge=INK, lw=1.3, gid="product")
    arrow(ax, [(xw, bus), (xw, wy - 0.3)], color=ORANGE)
    _op(ax, (xw, gate_y), "x")
    arrow(ax, [(xw, wy + 0.3), (xw, gate_y - _R)], color=ORANGE)
    arrow(ax, [(xr, gate_y + _GATE_H / 2), (xr, 3.5), (xw, 3.5), (xw, gate_y + _R)], color=BLUE)
    _gate(ax, (xn, gate_y), "$n$", "tanh", right=True)
    arrow(ax, [(xw + _R, gate_y), (xn - _GATE_W / 2, gate_y)], color=ORANGE)
    dot(ax, (xn, 0.75), INK)
    arrow(ax, [(xn, 0.75), (xn, gate_y - _GATE_H / 2)], color=INK)
    # Update: z keeps the old state, 1 - z lets the candidate in.
    arrow(ax, [(xz, gate_y + _GATE_H / 2), (xz, top - _R)], color=BLUE)
    dot(ax, (xz, 4.1), BLUE)
    _op(ax, (6.6, 4.5), "$1-$")
    arrow(
        ax,
        [(xz, 4.1), (6.6 - 0.5, 4.1), (6.6 - 0.5, 4.5), (6.6 - _R, 4.5)],
        color=BLUE,
        radius=0.15,
    )
    _op(ax, (xn, 4.5), "x")
    arrow(ax, [(6.6 + _R, 4.5), (xn - _R, 4.5)], color=BLUE)
    arrow(ax, [(xn, gate_y + _GATE_H / 2), (xn, 4.5 - _R)], color=BLUE)
    arrow(ax, [(xn, 4.5 + _R), (xn, top - _R)], color=BLUE)
    return fig
