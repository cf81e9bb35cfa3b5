"""Every page of the built site in a real browser: offline, error-free, complete, usable.

For each page: no request leaves the machine, the console shows no error,
every image loads, every formula is typeset by the bundled MathJax, every code
block has a copy button that copies exactly that code, every hidden solution
opens on click, the page offers its source (the notebook, for a chapter) for
download, and every link inside the site points at a page and anchor that
exist.
"""

from __future__ import annotations

import html.parser
import re
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from browser_site import is_chapter, unavailable

_IMAGES = """
async () => {
  const images = Array.from(document.images);
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map((img) => img.complete ? null
    : new Promise((done) => { img.onload = done; img.onerror = done; })));
  return images
    .filter((img) => !(img.complete && img.naturalWidth > 0))
    .map((img) => img.currentSrc || img.src || img.outerHTML.slice(0, 120));
}
"""

# Every element Sphinx marks as math must now hold MathJax's output, with no error node
# and no TeX delimiter left as plain text.
_MATH = """
() => {
  const problems = [];
  const nodes = Array.from(document.querySelectorAll("span.math, div.math"));
  nodes.forEach((node, i) => {
    const source = node.textContent.trim().slice(0, 80);
    if (!node.querySelector("mjx-container")) problems.push(`not typeset: ${source}`);
    else if (node.querySelector("mjx-merror, [data-mjx-error]"))
      problems.push(`TeX error: ${node.querySelector("mjx-merror, [data-mjx-error]")
        .getAttribute("data-mjx-error") || source}`);
  });
  return {count: nodes.length, problems};
}
"""


# Markdown that did not render: emphasis markers left as text (``叫作**记忆单元**``), or
# a role that was not recognised (``{term}`...```), outside code and formulas.
_RAW_MARKUP = """
() => {
  const article = document.querySelector("article") || document.body;
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("pre, code, .math, mjx-container, script, style, .highlight"))
      continue;
    const text = node.textContent;
    if (/\\*\\*|\\{(term|glue|cite|ref|doc)[^}]*\\}`/.test(text))
      found.push(text.trim().slice(0, 60));
  }
  return found;
}
"""


def test_page_loads_offline_without_errors(visit, page_name: str | None) -> None:
    """No request leaves the machine, no console error, every image loads, all math renders,
    and no markdown shows through as raw text."""
    if page_name is None:
        unavailable("the built site has no pages")
    seen = visit(page_name)
    page = seen.page
    assert seen.blocked == [], f"{page_name} tried to reach other hosts: {seen.blocked}"
    assert seen.console_errors == [], f"console errors on {page_name}: {seen.console_errors}"
    assert seen.failed == [], f"resources that failed to load on {page_name}: {seen.failed}"
    broken = page.evaluate(_IMAGES)
    assert broken == [], f"images that did not load on {page_name}: {broken}"
    math = page.evaluate(_MATH)
    assert math["problems"] == [], f"formulas not rendered on {page_name}: {math['problems']}"
    raw = page.evaluate(_RAW_MARKUP)
    assert raw == [], f"unrendered markup (** or a role) in the text of {page_name}: {raw}"


def test_copy_buttons_copy_the_code(visit, page_name: str | None) -> None:
    """Each code block has a copy button; clicking it copies exactly that block's code."""
    if page_name is None:
        unavailable("the built site has no pages")
    page = visit(page_name).page
    blocks = page.locator("div.highlight pre")
    n_blocks = blocks.count()
    if n_blocks == 0:
        return
    page.wait_for_function(
        "n => document.querySelectorAll('div.highlight pre + button.copybtn').length === n",
        arg=n_blocks,
    )
    # Hidden solutions hold code too: open them so that their buttons can be clicked.
    page.evaluate(
        "() => { document.querySelectorAll('details').forEach(d => d.open = true);"
        " document.querySelectorAll('.toggle-hidden').forEach(e =>"
        " e.classList.remove('toggle-hidden')); }"
    )
    problems = []
    for i in range(n_blocks):
        block = blocks.nth(i)
        button = page.locator(f"#{block.get_attribute('id')} + button.copybtn")
        expected = block.evaluate("e => e.textContent").rstrip("\n")
        before = page.evaluate("() => window.__copied.length")
        block.scroll_into_view_if_needed()
        button.click()
        page.wait_for_function("n => window.__copied.length > n", arg=before, timeout=5_000)
        copied = page.evaluate("() => window.__copied[window.__copied.length - 1]")
        if copied.rstrip("\n") != expected:
            problems.append(f"block {i}: copied {copied[:60]!r}, expected {expected[:60]!r}")
        tooltip = button.get_attribute("data-tooltip") or ""
        if "失败" in tooltip or "fail" in tooltip.lower():
            problems.append(f"block {i}: the button reports a failure ({tooltip})")
    assert problems == [], f"copy buttons on {page_name}: {problems}"


def _hidden_solutions(page) -> int:
    return page.locator("details.hide, .admonition.dropdown").count()


def test_hidden_solutions_open_on_click(visit, page_name: str | None) -> None:
    """Every hidden part (dropdown answer, hidden code cell) is hidden until clicked, then shown.

    A chapter must have at least one (its exercises' solutions).
    """
    if page_name is None:
        unavailable("the built site has no pages")
    page = visit(page_name).page
    n_hidden = _hidden_solutions(page)
    if is_chapter(page_name):
        assert n_hidden > 0, f"{page_name} has no hidden solutions (练习 needs 参考答案)"
    # Hidden code cells: <details class="hide …"> whose <summary> opens them.
    details = page.locator("details.hide")
    for i in range(details.count()):
        item = details.nth(i)
        content = item.locator(":scope > :not(summary)").first
        assert not item.evaluate("d => d.open"), f"{page_name}: hidden cell {i} starts open"
        assert not content.is_visible(), f"{page_name}: hidden cell {i} is visible before a click"
        item.locator(":scope > summary").click()
        assert item.evaluate("d => d.open"), f"{page_name}: hidden cell {i} did not open"
        assert content.is_visible(), f"{page_name}: hidden cell {i} still hidden after a click"
    # Dropdown admonitions (sphinx-togglebutton): a button in the title toggles the body.
    dropdowns = page.locator(".admonition.dropdown")
    for i in range(dropdowns.count()):
        item = dropdowns.nth(i)
        button = item.locator("button.toggle-button")
        assert button.count() == 1, f"{page_name}: dropdown {i} has no toggle button"
        body = item.locator(":scope > :not(.admonition-title)").first
        assert not body.is_visible(), f"{page_name}: dropdown {i} is visible before a click"
        button.click()
        body.wait_for(state="visible", timeout=5_000)
        assert body.is_visible(), f"{page_name}: dropdown {i} still hidden after a click"


def test_page_offers_its_source_for_download(visit, page_name: str | None) -> None:
    """The download menu links the page's source; a chapter's is its ``.ipynb``."""
    if page_name is None:
        unavailable("the built site has no pages")
    if page_name == "genindex.html":
        pytest.skip("the generated index has no source file")
    seen = visit(page_name)
    links = seen.page.locator("a[href*='_sources/']")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs, f"{page_name} offers no download of its source"
    wanted = ".ipynb" if is_chapter(page_name) else ""
    sources = [h for h in hrefs if h.endswith(wanted)]
    assert sources, f"{page_name} does not offer its notebook for download: {hrefs}"
    for href in sources:
        response = seen.page.request.get(urljoin(seen.url, href))
        assert response.ok, f"{page_name}: download link {href} answers HTTP {response.status}"
        assert len(response.body()) > 0


class _Anchors(html.parser.HTMLParser):
    """Collects the ids and the hrefs of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(values[key])
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"])


def _parse(path: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_internal_links_resolve(site: Path, page_name: str | None) -> None:
    """Every link to another place in the site (glossary terms included) finds its target."""
    if page_name is None:
        unavailable("the built site has no pages")
    here = site / page_name
    parsed = _parse(here)
    cache: dict[Path, _Anchors] = {here: parsed}
    problems = []
    for href in parsed.hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
            continue  # external links are checked by the offline test when followed
        target = (here.parent / unquote(parts.path)).resolve() if parts.path else here
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"{href}: no such file")
            continue
        if parts.fragment and target.suffix == ".html":
            anchors = cache.setdefault(target, _parse(target) if target != here else parsed)
            if unquote(parts.fragment) not in anchors.ids:
                problems.append(f"{href}: no anchor #{parts.fragment}")
    assert problems == [], f"broken links on {page_name}: {problems}"


_GLOSSARY_LINK = re.compile(r"glossary\.html#term-")


def test_chapters_link_terms_to_the_glossary(site: Path, chapter: str | None) -> None:
    """A chapter links (at least) its first use of the glossary's terms to the glossary."""
    if chapter is None:
        unavailable("the built site has no chapter pages")
    if not (site / "book" / "appendix" / "glossary.html").is_file():
        pytest.fail("the site has no glossary page (book/appendix/glossary.md in _toc.yml)")
    hrefs = _parse(site / chapter).hrefs
    assert any(_GLOSSARY_LINK.search(h) for h in hrefs), (
        f"{chapter} links no term to the glossary: run "
        "`.venv/bin/python tools/link_glossary.py` on its notebook"
    )
