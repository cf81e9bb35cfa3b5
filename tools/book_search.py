"""Sphinx extension: make the Chinese full-text search of the course reliable.

Sphinx indexes Chinese text with jieba (``sphinx.search.zh``) and reads an
optional jieba word list from ``html_search_options["dict"]``.  Two failures
are silent there: without jieba the index holds no Chinese words at all, and a
word list path that does not resolve (it is taken relative to the *current
directory*, not the book) is simply skipped, so compound terms such as
循环神经网络 or 时间步 are split and a query for the whole term finds nothing.

This extension, loaded from ``_config.yml`` (``sphinx: local_extensions``),

* resolves a relative ``dict`` path against the book's source directory (the
  repository root, where ``_config.yml`` lives), so the build works from any
  current directory;
* emits a Sphinx warning (an error under ``-W``) when the word list is missing
  or jieba is not installed.

The word list itself is ``tools/search_dict.txt`` (jieba format: ``word freq tag``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _resolve_search_dict(app: Sphinx, config: Config) -> None:
    if not str(config.language or "").startswith("zh"):
        return
    if importlib.util.find_spec("jieba") is None:
        logger.warning("jieba is not installed: the search index will hold no Chinese words")
    options = dict(config.html_search_options or {})
    raw = options.get("dict")
    if not raw:
        logger.warning("html_search_options has no 'dict': compound terms will be split")
        return
    path = Path(raw)
    if not path.is_absolute():
        path = Path(app.srcdir) / path
    if not path.is_file():
        logger.warning("search word list %s not found (html_search_options.dict)", path)
        return
    options["dict"] = str(path.resolve())
    config.html_search_options = options


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _resolve_search_dict)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
