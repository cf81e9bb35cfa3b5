"""Sphinx extension: drop duplicated ``<script>`` tags from every page.

Extensions that call ``app.add_js_file(None, body=...)`` after the builder
started (sphinx-thebe and sphinx-togglebutton do, in ``env-before-read-docs``)
get their inline script twice under Sphinx 7.4: once as added (file name
``None``) and once more when ``prepare_writing`` re-adds the registry's scripts
with the file name ``''``, which does not compare equal. Twice
``const THEBE_JS_URL = ...`` is a ``SyntaxError`` in the browser console of
every page ("Identifier 'THEBE_JS_URL' has already been declared").

This extension removes the second copy of any script (same file, or same
inline body, and same attributes) just before each page is rendered. Load it
from ``_config.yml``::

    sphinx:
      local_extensions:
        dedupe_scripts: tools/
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _key(script: Any) -> tuple[Any, ...]:
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return (filename, tuple(sorted((str(k), str(v)) for k, v in attributes.items())))


def dedupe_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # the builder's own list: it restores it after each page


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
