"""Diagrams of the gated cells of chapter 11 (LSTM 与 GRU), drawn with Matplotlib.

Drawing code, not RNN code: chapter 11 shows these figures; the cells
themselves are :mod:`companion.cells`. The style (scale, palette, fonts,
primitives) is that of :mod:`companion.figures.diagrams`.

=================  ======================================================
function           what it shows
=================  ======================================================
``lstm_cell``      one LSTM step: the cell state line, gates i, f, g, o
``gru_cell``       one GRU step: gates r, z, the candidate n, r after W
=================  ======================================================

Colours: the cell state ``c`` vermilion, the hidden state ``h`` orange, the
input ``x`` black, gate values blue. Gate boxes carry the gate's letter and
its function; ``x`` circles are element-wise products, ``+`` circles sums.
Every text is math notation or short ASCII English. The same call renders to
the same PNG bytes.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from companion.figures.diagrams import (
    _BLUE,
    _FONT,
    _INK,
    _ORANGE,
    _SMALL,
    _VERMILLION,
    _arrow,
    _box,
    _canvas,
    _circle,
    _dot,
    _text,
)

__all__ = ["gru_cell", "lstm_cell"]

_R = 0.3  # radius of an operation circle
_GATE_W, _GATE_H = 1.0, 0.8
_OP_FACE = "#FFFFFF"
_FRAME_FACE = "#F7F7F7"


def _op(ax, xy: tuple[float, float], symbol: str) -> None:
    """An element-wise operation: a small circle with ``symbol`` ("x", "+", "1-")."""
    _circle(ax, xy, _R, face=_OP_FACE, edge=_INK, lw=1.3, gid="op")
    label = {"x": r"$\times$", "+": "$+$"}.get(symbol, symbol)
    _text(ax, xy, label, size=_FONT if symbol in ("x", "+") else _SMALL)


def _gate(ax, xy: tuple[float, float], letter: str, fn: str, right: bool = False) -> None:
    """A gate (a layer with its own weights): ``fn`` inside the box, ``letter`` beside it
    (on the left, or on the ``right``)."""
    _box(ax, xy, _GATE_W, _GATE_H, fn, gid="gate", size=_FONT)
    dx = (_GATE_W / 2 + 0.08) * (1 if right else -1)
    ha = "left" if right else "right"
    _text(ax, (xy[0] + dx, xy[1] + 0.05), letter, ha=ha, color=_BLUE)


def _frame(ax, x0: float, x1: float, y0: float, y1: float) -> None:
    _box(
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
    fig, (ax,) = _canvas([[(-0.9, 11.6, -0.9, 7.0)]])
    _frame(ax, 0.9, 9.9, 0.4, 6.3)
    top, bus = 5.4, 1.3
    xf, xi, xg, xo, xt = 2.6, 4.2, 5.6, 7.2, 8.6  # gates, then tanh(c)
    gate_y = 2.7
    # Cell state line.
    _arrow(ax, [(-0.7, top), (xf - _R, top)], color=_VERMILLION, lw=2.4)
    _text(ax, (-0.7, top + 0.4), r"$\mathbf{c}_{t-1}$", ha="left")
    _op(ax, (xf, top), "x")
    _arrow(ax, [(xf + _R, top), (xg - _R, top)], color=_VERMILLION, lw=2.4)
    _op(ax, (xg, top), "+")
    _arrow(ax, [(xg + _R, top), (11.4, top)], color=_VERMILLION, lw=2.4)
    _text(ax, (11.4, top + 0.4), r"$\mathbf{c}_t$", ha="right")
    # Inputs: h_{t-1} from the left, x_t from below, one bus to every gate.
    _arrow(ax, [(-0.7, bus), (1.6, bus)], color=_ORANGE, head=False)
    _text(ax, (-0.7, bus + 0.4), r"$\mathbf{h}_{t-1}$", ha="left")
    _arrow(ax, [(1.6, -0.7), (1.6, bus)], color=_INK, head=False)
    _text(ax, (1.75, -0.5), r"$\mathbf{x}_t$", ha="left")
    _dot(ax, (1.6, bus), _INK)
    _arrow(ax, [(1.6, bus), (xo, bus)], color=_INK, head=False)
    for x in (xf, xi, xg, xo):
        _dot(ax, (x, bus), _INK)
        _arrow(ax, [(x, bus), (x, gate_y - _GATE_H / 2)], color=_INK)
    for x, letter, fn in ((xf, "f", r"$\sigma$"), (xi, "i", r"$\sigma$")):
        _gate(ax, (x, gate_y), f"${letter}$", fn)
    _gate(ax, (xg, gate_y), "$g$", "tanh")
    _gate(ax, (xo, gate_y), "$o$", r"$\sigma$")
    # f scales the old cell state.
    _arrow(ax, [(xf, gate_y + _GATE_H / 2), (xf, top - _R)], color=_BLUE)
    # i * g is added.
    mid = 4.1
    _op(ax, (xg, mid), "x")
    _arrow(ax, [(xi, gate_y + _GATE_H / 2), (xi, mid), (xg - _R, mid)], color=_BLUE)
    _arrow(ax, [(xg, gate_y + _GATE_H / 2), (xg, mid - _R)], color=_BLUE)
    _arrow(ax, [(xg, mid + _R), (xg, top - _R)], color=_BLUE)
    # h_t = o * tanh(c_t).
    _dot(ax, (xt, top), _VERMILLION)
    _box(ax, (xt, mid), 1.0, 0.7, "tanh", face=_OP_FACE, edge=_INK, lw=1.3, gid="tanh_c")
    _arrow(ax, [(xt, top), (xt, mid + 0.35)], color=_VERMILLION)
    _op(ax, (xt, gate_y), "x")
    _arrow(ax, [(xt, mid - 0.35), (xt, gate_y + _R)], color=_VERMILLION)
    _arrow(ax, [(xo + _GATE_W / 2, gate_y), (xt - _R, gate_y)], color=_BLUE)
    _arrow(ax, [(xt, gate_y - _R), (xt, bus), (11.4, bus)], color=_ORANGE)
    _text(ax, (11.4, bus + 0.4), r"$\mathbf{h}_t$", ha="right")
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
    fig, (ax,) = _canvas([[(-0.9, 11.6, -0.9, 7.0)]])
    _frame(ax, 0.9, 9.9, 0.4, 6.3)
    top, bus, gate_y = 5.4, 1.3, 2.7
    xz, xr, xw, xn = 2.6, 4.2, 5.8, 7.6  # drawn z first: its line to the top stays clear
    # Hidden state line: z * h_{t-1} + (1 - z) * n.
    _arrow(ax, [(-0.7, top), (xz - _R, top)], color=_ORANGE, lw=2.4)
    _text(ax, (-0.7, top + 0.4), r"$\mathbf{h}_{t-1}$", ha="left")
    _op(ax, (xz, top), "x")
    _arrow(ax, [(xz + _R, top), (xn - _R, top)], color=_ORANGE, lw=2.4)
    _op(ax, (xn, top), "+")
    _arrow(ax, [(xn + _R, top), (11.4, top)], color=_ORANGE, lw=2.4)
    _text(ax, (11.4, top + 0.4), r"$\mathbf{h}_t$", ha="right")
    # h_{t-1} also goes down into the gates; x_t comes from below.
    _dot(ax, (1.3, top), _ORANGE)
    _arrow(ax, [(1.3, top), (1.3, bus), (xw, bus)], color=_ORANGE, head=False)
    _arrow(ax, [(1.8, -0.7), (1.8, 0.75), (xn, 0.75)], color=_INK, head=False)
    _text(ax, (1.95, -0.5), r"$\mathbf{x}_t$", ha="left")
    for x in (xz, xr):
        _dot(ax, (x, bus), _ORANGE)
        _dot(ax, (x, 0.75), _INK)
        _arrow(ax, [(x, 0.75), (x, gate_y - _GATE_H / 2)], color=_INK)
    _gate(ax, (xz, gate_y), "$z$", r"$\sigma$")
    _gate(ax, (xr, gate_y), "$r$", r"$\sigma$")
    # Candidate: r scales h_{t-1} Wy_n + by_n (after the product), then x_t's term, tanh.
    wy = 1.85
    _box(ax, (xw, wy), 0.9, 0.6, "$W$", face=_OP_FACE, edge=_INK, lw=1.3, gid="product")
    _arrow(ax, [(xw, bus), (xw, wy - 0.3)], color=_ORANGE)
    _op(ax, (xw, gate_y), "x")
    _arrow(ax, [(xw, wy + 0.3), (xw, gate_y - _R)], color=_ORANGE)
    _arrow(ax, [(xr, gate_y + _GATE_H / 2), (xr, 3.5), (xw, 3.5), (xw, gate_y + _R)], color=_BLUE)
    _gate(ax, (xn, gate_y), "$n$", "tanh", right=True)
    _arrow(ax, [(xw + _R, gate_y), (xn - _GATE_W / 2, gate_y)], color=_ORANGE)
    _dot(ax, (xn, 0.75), _INK)
    _arrow(ax, [(xn, 0.75), (xn, gate_y - _GATE_H / 2)], color=_INK)
    # Update: z keeps the old state, 1 - z lets the candidate in.
    _arrow(ax, [(xz, gate_y + _GATE_H / 2), (xz, top - _R)], color=_BLUE)
    _dot(ax, (xz, 4.1), _BLUE)
    _op(ax, (6.6, 4.5), "$1-$")
    _arrow(
        ax,
        [(xz, 4.1), (6.6 - 0.5, 4.1), (6.6 - 0.5, 4.5), (6.6 - _R, 4.5)],
        color=_BLUE,
        radius=0.15,
    )
    _op(ax, (xn, 4.5), "x")
    _arrow(ax, [(6.6 + _R, 4.5), (xn - _R, 4.5)], color=_BLUE)
    _arrow(ax, [(xn, gate_y + _GATE_H / 2), (xn, 4.5 - _R)], color=_BLUE)
    _arrow(ax, [(xn, 4.5 + _R), (xn, top - _R)], color=_BLUE)
    return fig
