"""The encoder-decoder of chapter 13 (编码器-解码器), unrolled, with the shape at every arrow.

Drawing code, not RNN code: the chapter shows this figure and teaches nothing
from this module. It is drawn with :mod:`companion.figures.drawing` (scale,
palette, boxes, arrows), so it looks like the other figures of the book; its
text is ASCII and math only (the book assumes no CJK font), so Chinese
characters are written in pinyin.
"""

from __future__ import annotations

from collections.abc import Sequence

from companion.figures.drawing import (
    BLUE,
    DECODER_FACE,
    GREY,
    INK,
    OUTPUT,
    PURPLE,
    SMALL,
    STATE,
    Diagram,
    arrow,
    box,
    canvas,
    text,
)

__all__ = ["encoder_decoder"]

_SPACING = 1.55  # drawing units between two time steps
_TOKEN_W, _TOKEN_H = 1.2, 0.5
_CELL_W, _CELL_H = 0.95, 0.6


def _token(ax, xy: tuple[float, float], s: str, edge: str = INK, gid: str | None = None) -> None:
    box(
        ax,
        xy,
        _TOKEN_W,
        _TOKEN_H,
        s,
        face="white",
        edge=edge,
        lw=1.0,
        size=SMALL,
        family="monospace",
        rounding=0.08,
        gid=gid,
    )


def _shape(ax, y: float, s: str) -> None:
    """A shape label in the left margin, at the height of the row it describes."""
    text(ax, (-1.0, y), s, size=SMALL, color=GREY, ha="right")


def encoder_decoder(
    source: Sequence[str] = ("3", "0", "5"),
    target: Sequence[str] = ("san", "bai", "ling", "wu", "<eos>"),
) -> Diagram:
    """The GRU encoder (top) and decoder (bottom) unrolled for one pair, e.g. 305 → 三百零五.

    Encoder: source tokens → embedding → GRU, its final state ``h_0`` starts the
    decoder. Decoder: ``<bos>`` + the target shifted right → embedding → GRU →
    linear head → logits, one target token per step (when the model translates on
    its own, each emitted token becomes the next input). The left margin gives each
    row's shape: ``B`` = batch, ``S`` = n_src, ``T`` = n_tgt, 32 = n_embed, 64 =
    n_neurons, 16 = the target vocabulary.

    Parameters
    ----------
    source, target : ASCII tokens (the target ends with ``<eos>``)

    Returns
    -------
    Diagram (a Matplotlib Figure); GRU steps are patches with gid ``"encoder"`` and
    ``"decoder"``, target tokens with gid ``"token"``.
    """
    source, target = list(source), list(target)
    if not source or not target:
        raise ValueError("source and target must each hold at least one token")
    for token in source + target:
        if not isinstance(token, str) or not token or not token.isascii():
            raise ValueError(f"tokens must be non-empty ASCII strings (no CJK font); got {token!r}")
    inputs = ["<bos>"] + target[:-1]
    n_src, n_tgt = len(source), len(target)
    width = (max(n_src, n_tgt) - 1) * _SPACING + _TOKEN_W / 2 + 0.3
    fig, (ax,) = canvas([[(-3.1, width, -0.5, 10.7)]])
    # encoder: rows at y = 7.5 (tokens), 8.7 (embedding), 9.9 (GRU)
    text(ax, (-3.0, 10.45), "encoder", size=SMALL, color=BLUE, ha="left")
    _shape(ax, 7.5, "[B, S]")
    _shape(ax, 8.7, "[B, S, 32]")
    _shape(ax, 9.9, "[B, S, 64]")
    for k, token in enumerate(source):
        x = k * _SPACING
        _token(ax, (x, 7.5), token)
        arrow(ax, [(x, 7.5 + _TOKEN_H / 2), (x, 8.7 - 0.22)])
        box(ax, (x, 8.7), 0.7, 0.44, "E", face="white", edge=BLUE, lw=1.0, size=SMALL)
        arrow(ax, [(x, 8.7 + 0.22), (x, 9.9 - _CELL_H / 2)])
        box(ax, (x, 9.9), _CELL_W, _CELL_H, "GRU", size=SMALL, gid="encoder")
        if k < n_src - 1:
            arrow(ax, [(x + _CELL_W / 2, 9.9), (x + _SPACING - _CELL_W / 2, 9.9)], color=STATE)
    # the final state h_0 goes round to the decoder's first step
    x_last = (n_src - 1) * _SPACING
    right = x_last + _CELL_W / 2 + 0.35
    route = [(x_last + _CELL_W / 2, 9.9), (right, 9.9), (right, 6.35), (-0.85, 6.35)]
    arrow(ax, route + [(-0.85, 2.4), (-_CELL_W / 2, 2.4)], color=STATE)
    text(ax, (right + 0.15, 6.7), "$h_0$: [B, 64]", size=SMALL, color=STATE, ha="left")
    # decoder: rows at y = 0 (inputs), 1.2 (embedding), 2.4 (GRU), 3.6 (head), 4.8 (targets)
    text(ax, (-3.0, 5.6), "decoder", size=SMALL, color=PURPLE, ha="left")
    _shape(ax, 0.0, "[B, T]")
    _shape(ax, 1.2, "[B, T, 32]")
    _shape(ax, 2.4, "[B, T, 64]")
    _shape(ax, 4.2, "[B, T, 16]")
    for k in range(n_tgt):
        x = k * _SPACING
        _token(ax, (x, 0.0), inputs[k])
        arrow(ax, [(x, _TOKEN_H / 2), (x, 1.2 - 0.22)])
        box(ax, (x, 1.2), 0.7, 0.44, "E", face="white", edge=PURPLE, lw=1.0, size=SMALL)
        arrow(ax, [(x, 1.2 + 0.22), (x, 2.4 - _CELL_H / 2)])
        box(
            ax,
            (x, 2.4),
            _CELL_W,
            _CELL_H,
            "GRU",
            face=DECODER_FACE,
            edge=PURPLE,
            size=SMALL,
            gid="decoder",
        )
        if k < n_tgt - 1:
            arrow(ax, [(x + _CELL_W / 2, 2.4), (x + _SPACING - _CELL_W / 2, 2.4)], color=STATE)
        arrow(ax, [(x, 2.4 + _CELL_H / 2), (x, 3.6 - 0.22)], color=OUTPUT)
        box(ax, (x, 3.6), 0.7, 0.44, "W", face="white", edge=OUTPUT, lw=1.0, size=SMALL)
        arrow(ax, [(x, 3.6 + 0.22), (x, 4.8 - _TOKEN_H / 2)], color=OUTPUT)
        _token(ax, (x, 4.8), target[k], edge=OUTPUT, gid="token")
    return fig
