"""Tests for companion.figures.diagrams: structure, ASCII-only text, determinism, arguments."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from companion.figures import diagrams

# name -> (call, expected number of axes, gid -> expected number of patches)
CASES = {
    "recurrent_neuron": (diagrams.recurrent_neuron, 1, {"neuron": 5}),
    "recurrent_layer": (diagrams.recurrent_layer, 1, {"layer": 4}),
    "memory_cell": (diagrams.memory_cell, 1, {"cell": 4}),
    "sequence_types": (diagrams.sequence_types, 4, {"cell": 17}),
    "static_vs_dynamic": (diagrams.static_vs_dynamic, 2, {"cell": 5}),
    "padding_and_lengths": (diagrams.padding_and_lengths, 1, {"cell": 8, "state": 4}),
    "eos_decoding": (diagrams.eos_decoding, 1, {"cell": 6, "token": 6}),
}


def _patches(fig: Figure, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


@pytest.fixture(scope="module")
def figures() -> dict[str, Figure]:
    return {name: call() for name, (call, _, _) in CASES.items()}


@pytest.mark.parametrize("name", CASES)
def test_structure(figures, name):
    fig = figures[name]
    _, n_axes, counts = CASES[name]
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_axes
    for gid, count in counts.items():
        assert len(_patches(fig, gid)) == count, gid
    # Every axes sits inside the figure (nothing placed off-canvas).
    for ax in fig.axes:
        x0, y0, x1, y1 = ax.get_position().extents
        assert -1e-9 <= x0 < x1 <= 1 + 1e-9 and -1e-9 <= y0 < y1 <= 1 + 1e-9


@pytest.mark.parametrize("name", CASES)
def test_text_is_ascii(figures, name):
    """No CJK font is assumed: figure text is math notation or ASCII English."""
    texts = [t.get_text() for t in figures[name].findobj(Text)]
    assert any(texts)
    for text in texts:
        assert text.isascii(), repr(text)


@pytest.mark.parametrize("name", CASES)
def test_two_renders_are_identical(name):
    call = CASES[name][0]
    assert _png(call()) == _png(call())


def test_repr_png_is_deterministic_png():
    data = diagrams.memory_cell()._repr_png_()
    assert data.startswith(b"\x89PNG")
    assert data == diagrams.memory_cell()._repr_png_()


def test_nothing_left_in_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    diagrams.sequence_types()
    assert plt.get_fignums() == before


def test_import_does_not_import_torch():
    code = "import sys, companion.figures.diagrams; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_folded_neuron_only():
    assert len(_patches(diagrams.recurrent_neuron(unrolled=False), "neuron")) == 1


@pytest.mark.parametrize("n_steps", [1, 2, 5])
def test_recurrent_layer_steps(n_steps):
    assert len(_patches(diagrams.recurrent_layer(n_steps), "layer")) == 1 + n_steps


@pytest.mark.parametrize("n_steps", [1, 3, 6])
def test_static_vs_dynamic_steps(n_steps):
    assert len(_patches(diagrams.static_vs_dynamic(n_steps), "cell")) == n_steps + 1


def test_static_vs_dynamic_stacked_is_narrower_and_taller():
    side_by_side = diagrams.static_vs_dynamic(4).get_size_inches()
    stacked_fig = diagrams.static_vs_dynamic(4, stacked=True)
    stacked = stacked_fig.get_size_inches()
    assert stacked[0] < 0.6 * side_by_side[0] and stacked[1] > 1.8 * side_by_side[1]
    assert len(_patches(stacked_fig, "cell")) == 5


def test_padding_grid_follows_arguments():
    fig = diagrams.padding_and_lengths((3, 1), n_steps=3)
    cells = _patches(fig, "cell")
    assert len(cells) == 2 * 3
    assert len(_patches(fig, "state")) == 2
    # 3 valid steps + 1 valid step filled; the other two hatched.
    assert sum(bool(c.get_hatch()) for c in cells) == 2
    # One grid row per instance, one column per step.
    centres = np.array([c.get_bbox().get_points().mean(axis=0) for c in cells])
    assert len(np.unique(centres[:, 0].round(6))) == 3
    assert len(np.unique(centres[:, 1].round(6))) == 2


def test_padding_length_zero_and_default_n_steps():
    fig = diagrams.padding_and_lengths(np.array([0, 4, 2]), n_steps=None)
    assert len(_patches(fig, "cell")) == 3 * 4
    labels = [t.get_text() for t in fig.findobj(Text)]
    assert any("init" in s for s in labels)  # length 0: the final state is the initial state


def test_eos_masks_steps_after_eos():
    fig = diagrams.eos_decoding(("a", "b", "<eos>", "c"))
    assert len(_patches(fig, "cell")) == 4
    masks = [t.get_text() for t in fig.findobj(Text) if t.get_text() in {"0", "1"}]
    assert masks == ["1", "1", "1", "0"]
    no_eos = diagrams.eos_decoding(("a", "b"))
    assert [t.get_text() for t in no_eos.findobj(Text) if t.get_text() in {"0", "1"}] == ["1", "1"]


@pytest.mark.parametrize(
    ("call", "error", "argument"),
    [
        (lambda: diagrams.padding_and_lengths((2, 3), n_steps=2), ValueError, "lengths"),
        (lambda: diagrams.padding_and_lengths((2, -1), n_steps=2), ValueError, "lengths"),
        (lambda: diagrams.padding_and_lengths((), n_steps=2), ValueError, "lengths"),
        (lambda: diagrams.padding_and_lengths((1.5,), n_steps=2), TypeError, "lengths"),
        (lambda: diagrams.padding_and_lengths(3, n_steps=2), TypeError, "lengths"),
        (lambda: diagrams.padding_and_lengths((1,), n_steps=0), ValueError, "n_steps"),
        (lambda: diagrams.padding_and_lengths((1,), n_steps=2.0), TypeError, "n_steps"),
        (lambda: diagrams.recurrent_layer(0), ValueError, "n_steps"),
        (lambda: diagrams.recurrent_layer(True), TypeError, "n_steps"),
        (lambda: diagrams.static_vs_dynamic(-1), ValueError, "n_steps"),
        (lambda: diagrams.eos_decoding(()), ValueError, "tokens"),
        (lambda: diagrams.eos_decoding("abc"), TypeError, "tokens"),
        (lambda: diagrams.eos_decoding(("\u4e09", "<eos>")), ValueError, "tokens"),
        (lambda: diagrams.eos_decoding(("a", "")), ValueError, "tokens"),
        (lambda: diagrams.eos_decoding(("a", 3)), TypeError, "tokens"),
        (lambda: diagrams.eos_decoding(("a",), eos=None), TypeError, "eos"),
    ],
)
def test_bad_arguments_name_the_argument(call, error, argument):
    """The course's policy: TypeError for a wrong kind of object, ValueError for a wrong value."""
    with pytest.raises(error, match=argument):
        call()


@pytest.mark.parametrize("stacked", [False, True])
def test_static_vs_dynamic_tensor_labels_fit_their_boxes(stacked):
    """The labels of the two tensors ("outputs: [...]", the longer one) are not clipped."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = diagrams.static_vs_dynamic(4, stacked=stacked)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = _patches(fig, "tensor")
    assert len(boxes) == 2
    labels = [t for t in fig.findobj(Text) if t.get_text().startswith(("X:", "outputs:"))]
    assert len(labels) == 2
    for label in labels:
        inner = label.get_window_extent(renderer)
        box = next(
            b.get_window_extent(renderer)
            for b in boxes
            if b.contains_point(((inner.x0 + inner.x1) / 2, (inner.y0 + inner.y1) / 2))
        )
        assert box.x0 < inner.x0 and inner.x1 < box.x1, label.get_text()
