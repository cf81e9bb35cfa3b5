"""The LSTM and GRU diagrams of companion.figures.diagrams: structure, text, determinism."""

from __future__ import annotations

import io

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from companion.figures import diagrams

# name -> (call, gid -> expected number of patches)
CASES = {
    "lstm_cell": (diagrams.lstm_cell, {"gate": 4, "op": 4, "frame": 1}),
    "gru_cell": (diagrams.gru_cell, {"gate": 3, "op": 5, "frame": 1}),
}


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


@pytest.mark.parametrize("name", CASES)
def test_structure(name):
    call, counts = CASES[name]
    fig = call()
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    for gid, count in counts.items():
        found = [p for p in fig.axes[0].patches if p.get_gid() == gid]
        assert len(found) == count, gid


@pytest.mark.parametrize("name", CASES)
def test_text_is_ascii(name):
    """No CJK font is assumed: figure text is math notation or ASCII English."""
    texts = [t.get_text() for t in CASES[name][0]().findobj(Text)]
    assert texts and all(s.isascii() for s in texts)


@pytest.mark.parametrize("name", CASES)
def test_deterministic_png(name):
    call = CASES[name][0]
    assert _png(call()) == _png(call())


@pytest.mark.parametrize("name", CASES)
def test_shows_itself_as_png(name):
    assert CASES[name][0]()._repr_png_().startswith(b"\x89PNG")
