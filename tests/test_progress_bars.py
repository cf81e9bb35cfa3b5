"""Progress bars reach readers who run a chapter, never a stored or compared output.

The decision (CONTRIBUTING.md, rule 6): chapters draw bars with
``companion.progress.progress_bar``; every command that executes notebooks for
the book (``make execute``, nbval in ``make test`` and ``make portability``)
runs the kernel with ``TQDM_DISABLE=1``. A reader's own kernel (``make lab``)
has no such variable and shows the bar.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

CELLS = [
    new_code_cell("from companion.notebook import setup\n\nrng = setup()"),
    new_code_cell(
        "from companion.progress import progress_bar\n\n"
        "total = 0\n"
        "for step in progress_bar(range(50), desc='training'):\n"
        "    total += step\n"
        "print('steps done:', total)"
    ),
]


def test_tqdm_alone_would_leak_a_bar(tmp_path: Path, monkeypatch) -> None:
    """Why the helper exists: tqdm's notebook bar ignores TQDM_DISABLE."""
    monkeypatch.setenv("TQDM_DISABLE", "1")
    cells = [
        new_code_cell(
            "from tqdm.auto import tqdm\n\nfor _ in tqdm(range(3), desc='training'):\n    pass"
        )
    ]
    nb = new_notebook(cells=cells)
    NotebookClient(nb, kernel_name="python3", timeout=120).execute(cwd=str(tmp_path))
    assert shows_a_bar(outputs_of(nb))


def test_progress_disabled_reads_the_variable(monkeypatch) -> None:
    from companion.progress import progress_bar, progress_disabled

    for value, disabled in [("1", True), ("true", True), ("", False), ("0", False)]:
        monkeypatch.setenv("TQDM_DISABLE", value)
        assert progress_disabled() is disabled
        assert progress_bar(range(2)).disable is disabled
    monkeypatch.delenv("TQDM_DISABLE")
    assert progress_disabled() is False


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def outputs_of(nb: nbformat.NotebookNode) -> list[dict]:
    return [output for cell in nb.cells for output in cell.get("outputs", [])]


def shows_a_bar(outputs: list[dict]) -> bool:
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            if "training" in "".join(output["text"]):
                return True
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {}):
            return True
    return False


def test_a_readers_kernel_shows_the_bar(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TQDM_DISABLE", raising=False)  # the kernel inherits this environment
    nb = new_notebook(cells=CELLS)
    NotebookClient(nb, kernel_name="python3", timeout=120).execute(cwd=str(tmp_path))
    assert shows_a_bar(outputs_of(nb)), "without TQDM_DISABLE the reader should see a bar"


def test_make_execute_stores_no_bar_and_nbval_passes(tmp_path: Path) -> None:
    path = tmp_path / "progress.ipynb"
    nbformat.write(new_notebook(cells=CELLS), path)
    execute = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "execute_notebooks.py"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert execute.returncode == 0, execute.stderr
    outputs = outputs_of(nbformat.read(path, as_version=4))
    assert not shows_a_bar(outputs)
    assert [o["output_type"] for o in outputs] == ["stream"]
    assert "".join(outputs[0]["text"]) == "steps done: 1225\n"

    portability = load("portability", ROOT / "tools" / "portability.py")
    for variant in ("native", "old-x86"):
        assert portability.variant_env(variant)["TQDM_DISABLE"] == "1"
    nbval = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "-q", "-p", "no:cacheprovider", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=portability.variant_env("native"),
    )
    assert nbval.returncode == 0, nbval.stdout + nbval.stderr
