"""Re-execute the course notebooks in place and normalize them (``make execute``).

Usage::

    python tools/execute_notebooks.py                 # every notebook under book/
    python tools/execute_notebooks.py book/part1      # every notebook under a folder
    python tools/execute_notebooks.py a.ipynb b.ipynb # only these notebooks
    python tools/execute_notebooks.py --normalize-only book   # no execution
    python tools/execute_notebooks.py --check book    # execute, compare, write nothing

Each notebook runs top to bottom in a fresh ``python3`` kernel whose current
directory is the notebook's folder, with the environment of the Makefile
(``OMP_NUM_THREADS=2``, ``PYTHONHASHSEED=0``, ``MPLBACKEND=Agg``).  A cell that
raises fails the run (exit status 1) unless it is tagged ``raises-exception``;
a failed notebook is left unchanged on disk.

The stored notebook is then normalized so that executing it again gives a
byte-identical file (``git status`` stays clean):

* cell metadata: ``execution`` timings, ``ExecuteTime``, ``collapsed``,
  ``scrolled`` and editor state are dropped; tags and other metadata stay;
* notebook metadata: ``kernelspec`` is python3, ``language_info`` is a fixed
  record without version numbers, ``widgets`` and editor state are dropped;
* cell ids are kept; a missing id gets a deterministic one (index + source);
* stream outputs are not touched here: how the kernel chops one print's text
  into messages depends on timing, so the execution itself joins them
  (nbclient's ``coalesce_streams=True``); Jupyter front ends join them too;
* the file is written by nbformat (sorted keys, one-space indent,
  ``ensure_ascii=False`` so Chinese stays readable) with a trailing newline,
  and only when its bytes change.

The kernel runs the interpreter that runs this script (``jupyter_client``
maps the spec's ``python`` to ``sys.executable``): use ``.venv/bin/python``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import nbformat

KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 1200

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
# The Makefile's environment; values already set by the caller win, except the
# two that make outputs stable (hash seed, non-interactive Matplotlib).
ENV_DEFAULTS = {
    "OMP_NUM_THREADS": "2",
    "MKL_NUM_THREADS": "2",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
# TQDM_DISABLE: progress bars are for readers running a chapter themselves; they
# never reach a stored (and compared) output.
ENV_FIXED = {"PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "TQDM_DISABLE": "1"}

VOLATILE_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled", "pycharm", "vscode")
VOLATILE_NOTEBOOK_METADATA = ("widgets", "vscode", "interpreter", "toc", "varInspector", "colab")
SKIP_DIRS = {".ipynb_checkpoints", "_build", ".venv", "__pycache__", ".git"}


def find_notebooks(paths: Iterable[str | Path]) -> list[Path]:
    """Notebooks named in ``paths``: files as given, folders searched recursively.

    Checkpoints, build output and virtual environments are skipped.  The result
    is sorted and free of duplicates.
    """
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for nb in path.rglob("*.ipynb"):
                if not SKIP_DIRS.intersection(nb.relative_to(path).parts):
                    found.add(nb)
        elif path.suffix == ".ipynb" and path.is_file():
            found.add(path)
        else:
            raise FileNotFoundError(f"not a notebook or folder: {path}")
    return sorted(found)


def _stable_id(index: int, cell: Any) -> str:
    digest = hashlib.sha256(f"{index}\0{cell.get('source', '')}".encode()).hexdigest()
    return digest[:12]


def normalize(nb: Any, missing_ids: Sequence[int] = ()) -> Any:
    """Strip volatile metadata from ``nb`` in place and return it.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A version-4 notebook.
    missing_ids : sequence of int
        Indices of cells that had no ``id`` in the file (nbformat invents a
        random one when it upgrades such a notebook); they get a deterministic
        id instead.
    """
    nb.nbformat, nb.nbformat_minor = 4, max(int(nb.get("nbformat_minor", 5)), 5)
    meta = nb.setdefault("metadata", nbformat.NotebookNode())
    for key in VOLATILE_NOTEBOOK_METADATA:
        meta.pop(key, None)
    meta["kernelspec"] = nbformat.from_dict(KERNELSPEC)
    meta["language_info"] = nbformat.from_dict(copy.deepcopy(LANGUAGE_INFO))

    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if index in missing_ids or not cell_id or cell_id in seen:
            cell_id = _stable_id(index, cell)
            while cell_id in seen:
                cell_id = hashlib.sha256(cell_id.encode()).hexdigest()[:12]
            cell["id"] = cell_id
        seen.add(cell_id)
        cmeta = cell.setdefault("metadata", nbformat.NotebookNode())
        for key in VOLATILE_CELL_METADATA:
            cmeta.pop(key, None)
        jupyter = cmeta.get("jupyter")
        if isinstance(jupyter, dict):
            jupyter.pop("outputs_hidden", None)  # UI state only
            if not jupyter:
                del cmeta["jupyter"]
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                output.pop("transient", None)
    return nb


def serialize(nb: Any) -> str:
    """The exact text written to disk: nbformat's JSON plus a trailing newline."""
    text = nbformat.writes(nb, version=4)  # sort_keys, indent=1, ensure_ascii=False
    return text if text.endswith("\n") else text + "\n"


def read_notebook(path: Path) -> tuple[Any, list[int]]:
    """Read ``path`` as nbformat 4; also return indices of cells without an id."""
    import json
    import warnings

    raw = json.loads(path.read_text(encoding="utf-8"))
    missing = [i for i, cell in enumerate(raw.get("cells", [])) if not cell.get("id")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MissingIDFieldWarning: handled by normalize
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    return nb, missing


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` (UTF-8, LF) unless the bytes are already equal."""
    data = text.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    path.write_bytes(data)
    return True


def _differences(path: Path, nb: Any) -> list[str]:
    """Where the executed ``nb`` differs from the notebook stored at ``path`` (empty: none)."""
    if path.read_bytes() == serialize(nb).encode("utf-8"):
        return []
    stored, _ = read_notebook(path)
    where = []
    for index, (old, new) in enumerate(zip(stored.cells, nb.cells, strict=False)):
        if old.get("outputs") != new.get("outputs") or old.get("source") != new.get("source"):
            where.append(f"cell {index} ({old.get('id')})")
    if len(stored.cells) != len(nb.cells):
        where.append(f"{len(stored.cells)} cells stored, {len(nb.cells)} executed")
    return where or ["metadata or formatting"]


def _set_environment() -> None:
    for key, value in ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    os.environ.update(ENV_FIXED)


def execute_notebook(path: Path, timeout: int = CELL_TIMEOUT_S) -> Any:
    """Run every cell of the notebook at ``path`` and return the executed notebook.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell not tagged ``raises-exception`` raises.
    """
    from nbclient import NotebookClient

    nb, missing = read_notebook(path)
    normalize(nb, missing)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=timeout,
        allow_errors=False,
        record_timing=False,
        coalesce_streams=True,  # one stream output per name, however the kernel chopped it
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    client.execute()
    return normalize(nb)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "paths", nargs="*", default=["book"], help="notebooks or folders (default: book)"
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=CELL_TIMEOUT_S,
        help=f"seconds allowed per cell (default {CELL_TIMEOUT_S})",
    )
    parser.add_argument(
        "--normalize-only",
        action="store_true",
        help="only strip volatile metadata; do not execute",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="execute, but write nothing: fail if a notebook on disk would change",
    )
    args = parser.parse_args(argv)

    try:
        notebooks = find_notebooks(args.paths)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 0

    _set_environment()
    failures: list[Path] = []
    for path in notebooks:
        start = time.perf_counter()
        try:
            if args.normalize_only:
                nb, missing = read_notebook(path)
                nb = normalize(nb, missing)
            else:
                nb = execute_notebook(path, timeout=args.timeout)
        except Exception as exc:  # report every failing notebook, then fail
            failures.append(path)
            print(f"FAILED  {path}\n{exc}", file=sys.stderr)
            continue
        if args.check:
            changed = _differences(path, nb)
            if changed:
                failures.append(path)
                print(f"DIFFERS  {path}: {'; '.join(changed)}", file=sys.stderr)
        else:
            changed = write_if_changed(path, serialize(nb))
        status = (
            ("differs" if changed else "same")
            if args.check
            else ("updated" if changed else "unchanged")
        )
        print(f"{status:9s} {path}  ({time.perf_counter() - start:.1f} s)", flush=True)

    if failures:
        print(f"{len(failures)} notebook(s) failed:", file=sys.stderr)
        for path in failures:
            print(f"  {path}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
