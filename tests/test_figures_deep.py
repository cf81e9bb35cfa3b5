"""Tests for companion.figures.deep: structure, order of computation, text, arguments."""

from __future__ import annotations

import io

import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.text import Text

from companion.figures import drawing
from companion.figures.deep import bidirectional_rnn, deep_rnn_orders


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def _boxes(ax) -> list[FancyBboxPatch]:
    return [p for p in ax.patches if isinstance(p, FancyBboxPatch)]


def _ranks(ax) -> dict[int, tuple[float, float]]:
    """The number written in each box of a panel -> where it is written."""
    return {int(t.get_text()): t.get_position() for t in ax.texts if t.get_text().isdigit()}


@pytest.mark.parametrize("n_layers, n_steps", [(3, 4), (1, 1), (2, 5)])
def test_deep_rnn_orders_has_two_panels_of_one_box_per_layer_and_step(n_layers, n_steps):
    fig = deep_rnn_orders(n_layers=n_layers, n_steps=n_steps)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len(_boxes(ax)) == n_layers * n_steps
        assert sorted(_ranks(ax)) == list(range(1, n_layers * n_steps + 1))
    titles = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_weight() == "bold"]
    assert titles == [
        "step by step: MultiRNNCell",
        f"layer by layer: nn.GRU(num_layers={n_layers})",
    ]


def test_deep_rnn_orders_numbers_boxes_step_by_step_then_layer_by_layer():
    n_layers, n_steps = 3, 4
    step_panel, layer_panel = (_ranks(ax) for ax in deep_rnn_orders(n_layers, n_steps).axes)
    # Step by step: the first n_layers ranks climb the first column (one x, y rising).
    first = [step_panel[r] for r in range(1, n_layers + 1)]
    assert len({x for x, _ in first}) == 1 and [y for _, y in first] == sorted(y for _, y in first)
    # Layer by layer: the first n_steps ranks run along the bottom row (one y, x rising).
    first = [layer_panel[r] for r in range(1, n_steps + 1)]
    assert len({y for _, y in first}) == 1 and [x for x, _ in first] == sorted(x for x, _ in first)
    # In both orders a box comes after the boxes on its left and the boxes below it.
    for ranks in (step_panel, layer_panel):
        for r, (x, y) in ranks.items():
            left = [s for s, (x2, y2) in ranks.items() if y2 == y and x2 < x]
            below = [s for s, (x2, y2) in ranks.items() if x2 == x and y2 < y]
            assert all(s < r for s in left + below), (r, x, y)
    assert step_panel != layer_panel


def test_deep_rnn_orders_grows_with_steps_and_layers():
    w, h = deep_rnn_orders(3, 4).get_size_inches()
    assert 4 < w < 12 and 4 < h < 16  # readable in the book's column
    wider = deep_rnn_orders(3, 6).get_size_inches()
    taller = deep_rnn_orders(5, 4).get_size_inches()
    assert wider[0] > w and wider[1] == h
    assert taller[1] > h and taller[0] == w


@pytest.mark.parametrize("n_steps, length", [(4, 3), (3, 3), (5, 1)])
def test_bidirectional_rnn_greys_the_padding(n_steps, length):
    fig = bidirectional_rnn(n_steps=n_steps, length=length)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    boxes = _boxes(ax)
    assert len(boxes) == 2 * n_steps  # a forward and a backward box per step
    padded = [b for b in boxes if b.get_facecolor() == to_rgba(drawing.PAD_FACE)]
    assert len(padded) == 2 * (n_steps - length)
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("pad") == n_steps - length
    assert sum(s.startswith(r"$[\mathbf{y}^{fw}") for s in texts) == length
    assert texts.count(r"$\rightarrow$") == texts.count(r"$\leftarrow$") == length


def test_bidirectional_rnn_size_grows_with_steps():
    w, h = bidirectional_rnn(4, 3).get_size_inches()
    assert 4 < w < 12 and 2 < h < 8
    wider = bidirectional_rnn(6, 3).get_size_inches()
    assert wider[0] > w and wider[1] == h


@pytest.mark.parametrize("draw", [deep_rnn_orders, bidirectional_rnn])
def test_text_is_ascii_and_the_png_is_deterministic(draw):
    fig = draw()
    assert all(t.get_text().isascii() for t in fig.findobj(Text))
    assert _png(fig) == _png(draw())


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_layers": 0}, ValueError, "n_layers must be an int >= 1; got 0"),
        ({"n_steps": 0}, ValueError, "n_steps must be an int >= 1; got 0"),
        ({"n_layers": 2.0}, TypeError, "n_layers must be an int >= 1; got float"),
        ({"n_steps": True}, TypeError, "n_steps must be an int >= 1; got bool"),
    ],
)
def test_deep_rnn_orders_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        deep_rnn_orders(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_steps": 3, "length": 4}, ValueError, "length must be <= n_steps = 3; got 4"),
        ({"length": 0}, ValueError, "length must be an int >= 1; got 0"),
        ({"n_steps": 0}, ValueError, "n_steps must be an int >= 1; got 0"),
        ({"length": "3"}, TypeError, "length must be an int >= 1; got str"),
    ],
)
def test_bidirectional_rnn_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        bidirectional_rnn(**kwargs)
