"""Tests for companion.figures.seq2seq: structure, ASCII-only text, determinism, arguments."""

from __future__ import annotations

import io

import pytest
from matplotlib.text import Text

from companion.figures.seq2seq import encoder_decoder


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def test_one_gru_box_per_step_and_one_token_per_target():
    fig = encoder_decoder(("1", "2"), ("shi", "er", "<eos>"))
    gids = [p.get_gid() for ax in fig.axes for p in ax.patches]
    assert (gids.count("encoder"), gids.count("decoder"), gids.count("token")) == (2, 3, 3)


def test_text_is_ascii_and_the_png_is_deterministic():
    fig = encoder_decoder()
    assert all(t.get_text().isascii() for t in fig.findobj(Text))
    assert _png(fig) == _png(encoder_decoder())


@pytest.mark.parametrize("source, target", [((), ("<eos>",)), (("3",), ("san", "\u4e09"))])
def test_bad_tokens(source, target):
    with pytest.raises(ValueError, match="token"):
        encoder_decoder(source, target)
