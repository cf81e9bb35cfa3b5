"""Tests for :mod:`companion.notebook` (the setup call at the top of every notebook)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pytest

from companion import notebook
from companion.notebook import setup

torch = pytest.importorskip("torch")
mpl = pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def _restore_global_state() -> Iterator[None]:
    """setup() changes process-wide settings; put them back for the other tests."""
    np_print = np.get_printoptions()
    py_state = random.getstate()
    np_state = np.random.get_state()  # noqa: NPY002
    torch_state = torch.random.get_rng_state()
    torch_print = {
        k: getattr(torch._tensor_str.PRINT_OPTS, k)
        for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")
    }
    deterministic = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    rc = mpl.rcParams.copy()
    yield
    np.set_printoptions(**np_print)
    random.setstate(py_state)
    np.random.set_state(np_state)  # noqa: NPY002
    torch.random.set_rng_state(torch_state)
    torch.set_printoptions(**torch_print)
    torch.use_deterministic_algorithms(deterministic)
    torch.set_num_threads(threads)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
    mpl.rcParams.update(rc)


def _draws() -> tuple:
    return (
        random.random(),
        np.random.rand(3).tolist(),  # noqa: NPY002
        torch.rand(3).tolist(),
        torch.randn(2, 2).tolist(),
    )


def test_returns_a_seeded_generator() -> None:
    rng = setup(7)
    assert isinstance(rng, np.random.Generator)
    assert rng.normal(size=5).tolist() == np.random.default_rng(7).normal(size=5).tolist()


def test_random_draws_are_reproducible() -> None:
    setup(0)
    first = _draws()
    _draws()  # move every generator on
    setup(0)
    assert _draws() == first


def test_different_seeds_give_different_draws() -> None:
    setup(0)
    a = _draws()
    setup(1)
    assert _draws() != a


def test_numpy_print_options() -> None:
    setup()
    opts = np.get_printoptions()
    assert opts["precision"] == notebook.PRINT_PRECISION == 4
    assert opts["suppress"] is True
    assert opts["floatmode"] == "fixed"
    assert (
        np.array2string(np.array([1e-8, 0.5, 123456.789]))
        == "[     0.0000      0.5000 123456.7890]"
    )


def test_torch_print_options_and_determinism() -> None:
    setup()
    assert torch._tensor_str.PRINT_OPTS.precision == 4
    assert torch._tensor_str.PRINT_OPTS.sci_mode is False
    assert str(torch.tensor([1e-8, 0.5])) == "tensor([0.0000, 0.5000])"
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.get_num_threads() == 1
    assert torch.get_default_dtype() == torch.float32


def test_matplotlib_style() -> None:
    from matplotlib import font_manager

    setup()
    assert mpl.rcParams["figure.dpi"] == notebook.FIGURE_DPI == 100
    assert tuple(mpl.rcParams["figure.figsize"]) == notebook.FIGURE_SIZE
    assert mpl.rcParams["svg.hashsalt"] == "rnn-course"
    assert mpl.rcParams["font.family"] == ["DejaVu Sans"]
    # The font exists here (no silent fallback, no "findfont" warning).
    font_manager.findfont("DejaVu Sans", fallback_to_default=False)


def test_png_figures_are_byte_stable() -> None:
    import io

    import matplotlib.pyplot as plt

    def render() -> bytes:
        rng = setup(3)
        fig, ax = plt.subplots()
        ax.plot(rng.normal(size=20), label=r"$h_{(t)}$")
        ax.legend()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        plt.close(fig)
        return buf.getvalue()

    assert render() == render()


@pytest.mark.parametrize("bad", [1.5, "0", None, True])
def test_seed_type_is_checked(bad: object) -> None:
    with pytest.raises(TypeError, match="seed"):
        setup(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_seed_range_is_checked(bad: int) -> None:
    with pytest.raises(ValueError, match="seed"):
        setup(bad)
