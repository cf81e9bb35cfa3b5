"""Browser tests: the built website, as a reader meets it.

Nothing is built here. The tests read the site that ``make book`` wrote
(``_build/html``, or the folder named by ``COURSE_SITE``), serve it with
:mod:`http.server` on 127.0.0.1 in a thread, and drive Debian's Chromium
(``/usr/bin/chromium``, or the file named by ``CHROMIUM``) with Playwright:
no browser is downloaded. Chromium starts with a new, empty profile and the
flags that keep it from reaching for the network; on top of that every
request the pages make is routed: requests to the local server go through,
anything else is aborted and recorded, and the page that made it fails.

Without Chromium or without a built site the tests are skipped with the
reason -- except under ``CI=true``, where either is a failure.

Screenshots go to ``artifacts/screenshots/`` (git-ignored; ``COURSE_ARTIFACTS``
names another folder); ``artifacts/`` also receives the search ranks.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from browser_site import (
    CHROMIUM_FLAGS,
    TIMEOUT_MS,
    artifacts_dir,
    chromium_path,
    is_chapter,
    site_dir,
    site_pages,
    unavailable,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``page_name`` with every page of the built site, ``chapter`` with the chapters.

    Without a site there is one placeholder value (``None``); the ``site`` fixture
    then skips the test, or fails it under ``CI=true``, saying why.
    """
    pages = site_pages()
    for name, values in (("page_name", pages), ("chapter", [p for p in pages if is_chapter(p)])):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, values or [None], ids=values or ["no-site"])


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def site() -> Path:
    path = site_dir()
    if not (path / "searchindex.js").is_file():
        unavailable(
            f"no built site at {path}: run `make book` first "
            "(or point COURSE_SITE at a folder built by jupyter-book)"
        )
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture(scope="session")
def origin(site: Path) -> Iterator[str]:
    """``http://127.0.0.1:PORT``: the site served from a thread, on loopback only."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class Network:
    """Every request the browser made, and those aborted because they left the machine."""

    origin: str
    blocked: list[str] = field(default_factory=list)

    def allowed(self, url: str) -> bool:
        return url == self.origin or url.startswith(self.origin + "/")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """One Playwright driver for the whole session (the sync API cannot be nested)."""
    exe = chromium_path()
    if not exe.is_file() or not os.access(exe, os.X_OK):
        unavailable(
            f"Chromium not found at {exe}: install Debian's `chromium` "
            "(tools/ensure_chromium.sh does it as root) or set CHROMIUM"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is pinned in the test extra
        unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as driver:
        yield driver


def launch_chromium(playwright: Any, profile: Path, route: Any, width: int = 1280) -> Any:
    """Debian's Chromium: a new empty profile, offline flags, every request sent to ``route``."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(chromium_path()),
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": width, "height": 900},
        locale="zh-CN",
        service_workers="block",
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", route)
    return context


@pytest.fixture(scope="session")
def browser(
    origin: str, playwright: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, Network]]:
    """A Chromium context (new empty profile) whose requests may only go to ``origin``."""
    network = Network(origin)

    def route(route: Any) -> None:
        url = route.request.url
        if network.allowed(url):
            route.continue_()
        else:
            network.blocked.append(url)
            route.abort("blockedbyclient")

    context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"), route)
    try:
        yield context, network
    finally:
        context.close()
        report = artifacts_dir()
        report.mkdir(parents=True, exist_ok=True)
        (report / "blocked_requests.txt").write_text(
            "".join(f"{url}\n" for url in network.blocked) or "none\n", encoding="utf-8"
        )


@dataclass
class Visit:
    """One page opened in the browser, with everything that went wrong while loading it."""

    page: Any
    url: str
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


# Every page is opened as by a first-time reader: nothing stored by an earlier page
# (the theme keeps its light/dark mode in localStorage) hides a first-visit error.
_FRESH_STORAGE = """
try { window.localStorage.clear(); window.sessionStorage.clear(); } catch (e) {}
"""

# Records what a copy button put on the clipboard (ClipboardJS copies from a
# temporary <textarea> with document.execCommand("copy"), which fires "copy").
_RECORD_COPIES = """
window.__copied = [];
document.addEventListener("copy", (event) => {
  const t = event.target;
  const text = t && typeof t.value === "string"
    ? t.value.substring(t.selectionStart, t.selectionEnd)
    : String(document.getSelection());
  window.__copied.push(text);
}, true);
"""

_WAIT_FOR_MATH = """
async () => {
  if (!document.querySelector(".math")) return "no math";
  if (!window.MathJax || !window.MathJax.startup || !window.MathJax.startup.promise)
    return "MathJax not loaded";
  await window.MathJax.startup.promise;
  return "typeset";
}
"""


@pytest.fixture
def visit(browser: tuple[Any, Network]) -> Iterator[Any]:
    """``visit(path, width=1280)`` opens a page of the site and returns a :class:`Visit`."""
    context, network = browser
    opened: list[Any] = []

    def open_page(path: str, width: int = 1280, height: int = 900) -> Visit:
        page = context.new_page()
        opened.append(page)
        page.set_viewport_size({"width": width, "height": height})
        page.add_init_script(_FRESH_STORAGE)
        page.add_init_script(_RECORD_COPIES)
        url = f"{network.origin}/{path}"
        result = Visit(page, url)
        page.on(
            "console",
            lambda msg: (
                result.console_errors.append(f"{msg.text} ({msg.location.get('url')})")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: result.console_errors.append(f"uncaught: {exc}"))
        page.on(
            "requestfailed",
            lambda req: (
                None
                if not network.allowed(req.url)
                else result.failed.append(f"{req.url}: {req.failure}")
            ),
        )
        page.on(
            "response",
            lambda resp: (
                result.failed.append(f"{resp.url}: HTTP {resp.status}")
                if resp.status >= 400
                else None
            ),
        )
        already = len(network.blocked)
        page.goto(url, wait_until="load")
        state = page.evaluate(_WAIT_FOR_MATH)
        if state == "MathJax not loaded":
            result.console_errors.append("the page has formulas but MathJax did not load")
        page.wait_for_load_state("networkidle")
        result.blocked = network.blocked[already:]
        return result

    yield open_page
    for page in opened:
        with contextlib.suppress(Exception):
            page.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = artifacts_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path
