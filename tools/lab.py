"""Start JupyterLab on the course's chapters (``make lab``).

Usage::

    python tools/lab.py                 # JupyterLab on book/, prints the URL to open
    python tools/lab.py --port 8890     # any option is passed on to ``jupyter lab``

The kernel is the interpreter running this script (``.venv/bin/python`` under
``make``), so ``import companion`` works in every chapter. As root, JupyterLab
refuses to start without ``--allow-root``; this script adds it only then. The
browser test (``tests/browser/test_jupyterlab.py``) starts JupyterLab through
:func:`lab_command` too, with its own port, token and a temporary state folder.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"


def lab_command(root_dir: Path, extra: Sequence[str] = ()) -> list[str]:
    """The ``jupyter lab`` command line serving ``root_dir`` with this interpreter."""
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.root_dir={root_dir}"]
    cmd.append("--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd + list(extra)


def write_settings(settings_dir: Path, settings: dict[str, dict]) -> None:
    """Write JupyterLab user settings (``<plugin path>.jupyterlab-settings`` files)."""
    for name, values in settings.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    cmd = lab_command(BOOK, args)
    print("Starting JupyterLab on book/ (Ctrl+C to stop):", " ".join(cmd[1:]), flush=True)
    os.execv(cmd[0], cmd)
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
