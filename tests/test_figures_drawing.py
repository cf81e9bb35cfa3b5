"""Tests for companion.figures.drawing: the scale, the Diagram's PNG, public-only imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import companion.figures
from companion.figures import drawing

FIGURE_MODULES = sorted(Path(companion.figures.__file__).parent.glob("*.py"))


def test_one_drawing_unit_is_the_same_length_in_every_panel():
    fig, axes = drawing.canvas([[(0, 4, 0, 2), (-1, 1, 0, 3)], [(0, 10, -1, 1)]], gap=0.5)
    assert isinstance(fig, drawing.Diagram) and len(axes) == 3
    width, height = fig.get_size_inches()
    # rows: max(4 + 0.5 + 2, 10) wide; max(2, 3) + 0.5 + 2 high
    assert width == pytest.approx(10 * drawing.INCH_PER_UNIT, rel=1e-12)
    assert height == pytest.approx(5.5 * drawing.INCH_PER_UNIT, rel=1e-12)
    for ax in axes:
        (xmin, xmax), (ymin, ymax) = ax.get_xlim(), ax.get_ylim()
        box = ax.get_position()
        assert box.width * width == pytest.approx((xmax - xmin) * drawing.INCH_PER_UNIT)
        assert box.height * height == pytest.approx((ymax - ymin) * drawing.INCH_PER_UNIT)
        assert not ax.axison


def test_a_diagram_shows_itself_as_the_same_png_bytes():
    def draw() -> drawing.Diagram:
        fig, (ax,) = drawing.canvas([[(0, 3, 0, 2)]])
        drawing.box(ax, (1, 1), 1.2, 0.6, "$h$")
        drawing.arrow(ax, [(0.2, 0.2), (0.2, 1.5), (1.0, 1.5)], color=drawing.STATE)
        drawing.title(ax, "title")
        return fig

    png = draw()._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png == draw()._repr_png_()


def test_arrow_returns_the_shaft_and_the_head():
    fig, (ax,) = drawing.canvas([[(0, 2, 0, 2)]])
    assert len(drawing.arrow(ax, [(0, 0), (1, 1)])) == 2
    assert len(drawing.arrow(ax, [(0, 0), (1, 1)], head=False)) == 1
    assert len(ax.patches) == 3


@pytest.mark.parametrize("path", FIGURE_MODULES, ids=lambda p: p.name)
def test_figure_modules_import_no_private_names(path):
    """The project rule: no module imports another module's private names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__future__"
    ]
    assert private == []
