"""The rules every stored notebook follows (CONTRIBUTING.md, "The reproducibility rule").

These read the notebooks as committed; ``make portability`` re-executes them
under emulated CPUs. Together they keep the outputs true on every machine and
the machinery out of the reader's sight.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from companion.compare import FLOAT32_EPS, FLOAT64_EPS

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SKIP_PARTS = {"_build", ".ipynb_checkpoints"}
NOTEBOOKS = sorted(
    p for p in BOOK.rglob("*.ipynb") if not SKIP_PARTS.intersection(p.relative_to(BOOK).parts)
)
MARKDOWN = sorted(
    p for p in BOOK.rglob("*.md") if not SKIP_PARTS.intersection(p.relative_to(BOOK).parts)
)
NBVAL_ESCAPES = ("nbval-ignore-output", "nbval-skip", "NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP")
# A number small enough to be round-off: 1.2e-07, 4.5e-12, 3e-15.
TINY = re.compile(r"(?<![\w.])(\d)(?:\.(\d+))?e-(0[6-9]|[1-9]\d\d?)\b")
# "第 N 章" of this book; "原书第 14 章" and a cited book's "（第 10 章" are other books.
CHAPTER_REF = re.compile(r"(?<!原书)(?<!`（)第\s*(\d+)\s*章")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def numbered_chapters() -> int:
    """How many chapters the numbered parts of _toc.yml hold (numbered across parts)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return sum(len(part.get("chapters", [])) for part in toc["parts"] if part.get("numbered"))


def cell_outputs_text(cell: nbformat.NotebookNode) -> str:
    texts = []
    for output in cell.get("outputs", []):
        texts.append("".join(output.get("text", "")))
        texts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "".join(texts)


def is_named_constant(match: re.Match[str]) -> bool:
    """A bound, not a measurement: a power of ten (``1e-06``), or a few machine
    epsilons introduced as such (``机器精度``, ``eps``, ``ε`` just before it)."""
    lead, decimals, exponent = match.group(1), match.group(2) or "", int(match.group(3))
    if lead == "1" and not decimals:  # "1e-06" is a bound; "1.0e-09" was measured
        return True
    before = match.string[max(0, match.start() - 30) : match.start()]
    if not any(word in before for word in ("机器精度", "eps", "ε")):
        return False
    value = float(f"{lead}.{decimals or '0'}e-{exponent}")
    half_unit = 0.5 * 10.0 ** (-exponent - len(decimals))
    for eps in (FLOAT32_EPS, FLOAT64_EPS):
        k = round(value / eps)
        if 1 <= k <= 16 and math.isclose(value, k * eps, rel_tol=0, abs_tol=half_unit * 1.0001):
            return True
    return False


@pytest.mark.parametrize("path", NOTEBOOKS, ids=rel)
def test_no_round_off_digits_in_stored_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        text = cell_outputs_text(cell)
        for match in TINY.finditer(text):
            if not is_named_constant(match):
                found.append(f"cell {index}: {text[max(0, match.start() - 40) : match.end()]!r}")
    assert not found, "round-off printed (it differs between CPUs; print a bound):\n" + "\n".join(
        found
    )


def test_the_round_off_detector_bites() -> None:
    def flagged(text: str) -> bool:
        return any(not is_named_constant(m) for m in TINY.finditer(text))

    assert flagged("最大差异：1.2e-07")  # a measured gap that happens to be one ulp
    assert flagged("最大差异：6.0e-08")
    assert flagged("输出、状态和四个梯度的最大差异：4.5e-12")
    assert flagged("3.6e-15")
    assert flagged("s(29)=1.0e-09")
    assert not flagged("最大差异 < 1e-06：True")
    assert not flagged(f"< 4 × float32 机器精度（{4 * FLOAT32_EPS:.1e}）：True")
    assert not flagged(f"float64 eps = {FLOAT64_EPS:.1e}")
    assert flagged(f"float64 eps = {FLOAT64_EPS:.1e}, gap 3.5e-15")
    assert not flagged("loss 1.234e+02, step 10, s(10) = 4.5e-04")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=rel)
def test_no_nbval_escape_hatches(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        for escape in NBVAL_ESCAPES:
            assert escape not in tags and escape not in cell.source, (
                f"cell {index} uses {escape}: print a stable outcome instead"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=rel)
def test_glue_and_machinery_stay_out_of_sight(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        hidden = "remove-cell" in tags
        if cell.cell_type == "code" and re.search(r"\bglue\(", cell.source):
            assert hidden, f"cell {index} calls glue(...) where readers see it: tag it remove-cell"
        if not hidden:
            lowered = cell.source.lower()
            assert "nbval" not in lowered, f"cell {index} talks about nbval to the reader"


def chapter_references() -> list[tuple[str, int, str]]:
    """``(file, N, text)`` for every "第 N 章" in the book's prose, code and outputs."""
    texts = [(rel(path), path.read_text(encoding="utf-8")) for path in MARKDOWN]
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            texts.append((rel(path), cell.source))
            if cell.cell_type == "code":
                texts.append((rel(path), cell_outputs_text(cell)))
    return [
        (where, int(m.group(1)), m.group(0))
        for where, text in texts
        for m in CHAPTER_REF.finditer(text)
    ]


def test_chapter_references_point_at_chapters_that_exist() -> None:
    last = numbered_chapters()
    assert last >= 8
    dangling = [f"{where}: {text}" for where, number, text in chapter_references() if number > last]
    assert not dangling, (
        f"the book has chapters 1-{last}; name a planned chapter by its topic, not a number:\n"
        + "\n".join(dangling)
    )
