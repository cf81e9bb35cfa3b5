"""Where the built site, Chromium and the artifacts are; shared by the browser tests.

Environment variables: ``COURSE_SITE`` (the built site, default ``_build/html``),
``CHROMIUM`` (default ``/usr/bin/chromium``), ``COURSE_ARTIFACTS`` (default
``artifacts``), ``CI`` (``true`` turns every skip for a missing browser or site
into a failure). Relative paths are taken from the repository root.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").strip().lower() == "true"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Folders of the built site that hold assets, not pages.
ASSET_DIRS = {"_static", "_sources", "_images", "_downloads", "_panels_static"}
#: Generated pages that are not part of the reading path (tested separately or not at all).
NOT_PAGES = {"index.html", "search.html"}
#: How long to wait for a page, MathJax or the search, in milliseconds.
TIMEOUT_MS = 30_000


def _resolve(raw: str | os.PathLike[str]) -> Path:
    path = Path(raw)
    return path if path.is_absolute() else (REPO / path)


def site_dir() -> Path:
    """The built website: ``COURSE_SITE`` or ``_build/html`` (relative to the repository)."""
    return _resolve(os.environ.get("COURSE_SITE", "_build/html")).resolve()


def chromium_path() -> Path:
    return Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def artifacts_dir() -> Path:
    return _resolve(os.environ.get("COURSE_ARTIFACTS", "artifacts"))


def site_pages(site: Path | None = None) -> list[str]:
    """Paths (relative, POSIX) of every HTML page of the built site, in a stable order."""
    site = site or site_dir()
    if not (site / "searchindex.js").is_file():
        return []
    pages = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site)
        if rel.parts[0] in ASSET_DIRS or rel.as_posix() in NOT_PAGES:
            continue
        pages.append(rel.as_posix())
    return pages


def is_chapter(page: str) -> bool:
    """``book/partN/chNN_*.html``: a chapter, which must have exercises with hidden solutions."""
    parts = page.split("/")
    return len(parts) == 3 and parts[1].startswith("part") and parts[2].startswith("ch")


def unavailable(reason: str) -> None:
    """Skip (locally) or fail (under ``CI=true``): the browser tests must run in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)
