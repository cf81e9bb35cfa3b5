"""Sphinx extension: the Chinese full-text search of the course and its word list.

Sphinx indexes Chinese text with jieba (``sphinx.search.zh``) and reads an
optional jieba word list from ``html_search_options["dict"]``. Without the
list, compound terms such as 循环神经网络 or 时间步 are split and a query for
the whole term finds nothing; two failures are silent there: without jieba the
index holds no Chinese words at all, and a list path that does not resolve (it
is taken relative to the *current directory*, not the book) is skipped.

The glossary is the one source of the list. At ``config-inited`` this
extension, loaded from ``_config.yml`` (``sphinx: local_extensions``),

* reads every term of ``book/appendix/glossary.md`` with the reader of
  ``tools/link_glossary.py`` (one parser for the glossary);
* adds the words of the file that ``html_search_options["dict"]`` names
  (``tools/search_extras.txt``, resolved against the book's source directory):
  the few words the search keeps whole that are not glossary entries;
* writes the result, in jieba's format (``word freq [tag]``), to
  ``search_dict.txt`` in the build's doctree folder and points
  ``html_search_options["dict"]`` there;
* emits a Sphinx warning (an error under ``-W``) when jieba, the glossary or
  the extra words are missing, or when an extra word is a glossary term (it
  belongs in the glossary only).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: jieba's frequency for a glossary term: high enough that the whole term always
#: wins over the words it is made of (jieba's own dictionary tops out near 1e5 for
#: the commonest words, and a compound competes with the product of its parts).
TERM_FREQUENCY = 50000
#: The generated list's name in the build's doctree folder.
WORD_LIST_NAME = "search_dict.txt"


def _link_glossary() -> ModuleType:
    """``tools/link_glossary.py``, loaded by path: Sphinx puts ``tools/`` on ``sys.path``
    for its local extensions, but the tests load this file directly."""
    module = sys.modules.get("link_glossary")
    if module is None:
        path = Path(__file__).with_name("link_glossary.py")
        spec = importlib.util.spec_from_file_location("link_glossary", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["link_glossary"] = module
        spec.loader.exec_module(module)
    return module


def glossary_terms(glossary: Path) -> list[str]:
    """Every term of the glossary file, aliases included, in the order written."""
    return list(_link_glossary().read_glossary(glossary).entry_of)


def read_extra_words(path: Path) -> dict[str, str]:
    """The extra words: ``word freq [tag]`` lines; blank lines and ``#`` comments skipped.

    Returns
    -------
    dict of str to str
        Each word and the rest of its line (``"50000 n"``), in the order written.

    Raises
    ------
    ValueError
        If a line is not ``word freq [tag]`` with an integer ``freq``.
    """
    words: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if not 2 <= len(parts) <= 3 or not parts[1].isdigit():
            raise ValueError(f"{path}:{number}: expected 'word freq [tag]', got {line!r}")
        words[parts[0]] = " ".join(parts[1:])
    return words


def word_list(terms: Iterable[str], extras: dict[str, str]) -> list[str]:
    """The lines of the jieba word list: the glossary terms, then the extra words.

    Parameters
    ----------
    terms : iterable of str
        The glossary's terms (:func:`glossary_terms`).
    extras : dict of str to str
        Extra words and their ``freq [tag]`` (:func:`read_extra_words`); a word that
        is also a term keeps the term's line.

    Returns
    -------
    list of str
        ``word freq [tag]`` lines, each word once.
    """
    lines = {term: f"{term} {TERM_FREQUENCY}" for term in terms}
    for word, rest in extras.items():
        lines.setdefault(word, f"{word} {rest}")
    return list(lines.values())


def write_word_list(glossary: Path, extras: Path | None, target: Path) -> list[str]:
    """Write the word list for ``glossary`` and the ``extras`` file (if any) to ``target``.

    The file is rewritten only when its text changes. Returns the extra words that
    are glossary terms too (they belong in the glossary only).
    """
    terms = glossary_terms(glossary)
    extra_words = read_extra_words(extras) if extras is not None else {}
    text = "\n".join(word_list(terms, extra_words)) + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return [word for word in extra_words if word in set(terms)]


def _generate_search_dict(app: Sphinx, config: Config) -> None:
    if not str(config.language or "").startswith("zh"):
        return
    if importlib.util.find_spec("jieba") is None:
        logger.warning("jieba is not installed: the search index will hold no Chinese words")
    glossary = Path(app.srcdir) / _link_glossary().GLOSSARY_PATH
    if not glossary.is_file():
        logger.warning("glossary %s not found: the search will split compound terms", glossary)
        return
    options = dict(config.html_search_options or {})
    extras = _extras_path(app, options.get("dict"))
    target = Path(app.doctreedir) / WORD_LIST_NAME
    try:
        duplicates = write_word_list(glossary, extras, target)
    except ValueError as exc:  # a malformed extra word or a glossary without terms
        logger.warning("search word list: %s", exc)
        return
    if duplicates:
        logger.warning("glossary terms listed again in %s: %s", extras, " ".join(duplicates))
    options["dict"] = str(target.resolve())
    config.html_search_options = options


def _extras_path(app: Sphinx, raw: str | None) -> Path | None:
    """The extra-words file that ``html_search_options["dict"]`` names (None: none)."""
    if not raw:
        logger.warning("html_search_options has no 'dict': only glossary terms stay whole")
        return None
    path = Path(raw)
    if not path.is_absolute():
        path = Path(app.srcdir) / path
    if not path.is_file():
        logger.warning("extra search words %s not found (html_search_options.dict)", path)
        return None
    return path


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension (Sphinx calls this when it loads ``book_search``)."""
    app.connect("config-inited", _generate_search_dict)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
