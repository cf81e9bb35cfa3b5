"""The search page finds the chapters that teach the core terms.

The term is typed into the search box of ``search.html`` and submitted with
Enter, as a reader does; the test waits for Sphinx's search to finish and
reads the ranked result list. The chapter that teaches the term must be the
first result or among the first three. Sphinx indexes Chinese with jieba and
the word list built from the glossary (plus ``tools/search_extras.txt``): a
compound term missing from the list is split into pieces and its query finds
nothing (or the wrong pages).
The ranks are written to ``artifacts/search_ranks.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_site import TIMEOUT_MS, site_pages

#: term -> the chapters (file name stems) that teach it; one of them must rank in the top 3.
CORE_TERMS = {
    "循环神经网络": ("ch01_recurrent_neurons",),
    "时间步": ("ch01_recurrent_neurons", "ch04_rnn_from_scratch"),
    "序列到序列": ("ch03_io_sequences",),
    "变长": ("ch07_variable_length_inputs", "ch08_variable_length_outputs"),
}
TOP = 3

_RANKS: dict[str, dict[str, object]] = {}


def search(visit, term: str) -> list[str]:
    """Type ``term`` into the search page and return the result pages, best first."""
    page = visit("search.html").page
    box = page.locator(".bd-search-container form.bd-search input[name=q]")
    box.fill(term)
    box.press("Enter")
    page.wait_for_url("**/search.html?q=*")
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results .search-summary');"
        " return s !== null && s.innerText.trim().length > 0; }",
        timeout=TIMEOUT_MS,
    )
    hrefs = page.locator("#search-results ul.search > li a").evaluate_all(
        "links => links.map(a => a.href)"
    )
    pages: list[str] = []
    for href in hrefs:
        path = urlsplit(href).path.lstrip("/")
        if path not in pages:
            pages.append(path)
    return pages


@pytest.mark.parametrize("term", list(CORE_TERMS))
def test_search_ranks_the_teaching_chapter_first(visit, site: Path, term: str) -> None:
    wanted = CORE_TERMS[term]
    built = {Path(p).stem: p for p in site_pages(site)}
    missing = [stem for stem in wanted if stem not in built]
    if len(missing) == len(wanted):
        pytest.fail(f"none of the chapters that teach {term!r} is in the site: {wanted}")
    results = search(visit, term)
    stems = [Path(p).stem for p in results]
    ranks = [stems.index(stem) + 1 for stem in wanted if stem in stems]
    best = min(ranks) if ranks else None
    _RANKS[term] = {"rank": best, "top": stems[:5], "wanted": list(wanted)}
    assert results, (
        f"searching {term!r} finds nothing: is it a glossary term (or in "
        "tools/search_extras.txt), and is jieba installed?"
    )
    assert best is not None and best <= TOP, (
        f"searching {term!r}: {wanted} should rank in the top {TOP}, got {stems[:8]}"
    )


@pytest.fixture(scope="module", autouse=True)
def _write_ranks(artifacts: Path):
    yield
    if _RANKS:
        (artifacts / "search_ranks.json").write_text(
            json.dumps(_RANKS, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
