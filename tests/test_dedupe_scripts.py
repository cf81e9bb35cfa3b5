"""tools/dedupe_scripts.py: a script added twice (Sphinx 7.4, ``None`` vs ``''``) is kept once."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sphinx.builders.html._assets import _JavaScript

REPO = Path(__file__).resolve().parents[1]


def _load():
    path = REPO / "tools" / "dedupe_scripts.py"
    spec = importlib.util.spec_from_file_location("dedupe_scripts", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_inline_script_added_as_none_and_as_empty_name_is_kept_once() -> None:
    dedupe = _load().dedupe_scripts
    body = 'const THEBE_JS_URL = "x"'
    scripts = [
        _JavaScript("_static/doctools.js", priority=200),
        _JavaScript(None, body=body, priority=500),
        _JavaScript("_static/sphinx-thebe.js", priority=500, **{"async": "async"}),
        _JavaScript("", body=body, priority=500),
        _JavaScript("", body="let other = 1", priority=500),
    ]
    context = {"script_files": scripts}
    dedupe(None, "page", "page.html", context, None)
    assert context["script_files"] is scripts  # edited in place: the builder restores it
    bodies = [s.attributes.get("body") for s in scripts]
    assert bodies.count(body) == 1 and "let other = 1" in bodies
    names = [s.filename for s in scripts]
    assert names[:3] == ["_static/doctools.js", None, "_static/sphinx-thebe.js"]


def test_pages_without_scripts_are_left_alone() -> None:
    context: dict = {}
    _load().dedupe_scripts(None, "page", "page.html", context, None)
    assert context == {}
