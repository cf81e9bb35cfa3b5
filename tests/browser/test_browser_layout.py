"""Each page at desktop and phone width: nothing overflows, text is legible; screenshots kept.

Full-page screenshots go to ``artifacts/screenshots/<page>-<width>.png`` (not
committed) for a person to look at; the test itself checks what a program can:
the page never scrolls sideways, no element of the article sticks out of the
window unless it sits in a box the reader can scroll (wide code, tables,
display formulas), body text is at least 14 px, and a font that covers Chinese
is installed (otherwise every character would be drawn as a box).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from browser_site import unavailable

WIDTHS = {"desktop": 1280, "phone": 390}

_OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const total = document.documentElement.scrollWidth;
  if (total > width + 1) problems.push(`the page scrolls sideways: ${total}px > ${width}px`);
  const article = document.querySelector("article") || document.body;
  // Content that sticks out to the right of a box the reader can scroll is reachable
  // (if that box is); content cut off by a clipping box, or left of a scrolling box
  // (scrolling never reaches there), is not.
  const inside = (r) => r.left >= -1 && r.right <= width + 1;
  const reachable = (el, r) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === "visible") continue;
      const box = p.getBoundingClientRect();
      const fits = ox === "auto" || ox === "scroll"
        ? r.left >= box.left - 1
        : r.left >= box.left - 1 && r.right <= box.right + 1;
      if (!fits) return false;
      return inside(box) || reachable(p, box);
    }
    return false;
  };
  for (const el of article.querySelectorAll("*")) {
    if (el.closest("mjx-assistive-mml")) continue;  // MathML for screen readers, never drawn
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (inside(r)) continue;
    if (reachable(el, r)) continue;
    const name = el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
      ? "." + el.className.trim().split(/\\s+/).join(".") : "");
    const y = Math.round(r.top + window.scrollY);
    problems.push(`${name} at y=${y} spans ${Math.round(r.left)}..${Math.round(r.right)}px: `
      + `${(el.textContent || "").trim().slice(0, 50)}`);
    if (problems.length >= 8) break;
  }
  return problems;
}
"""

_SMALL_TEXT = """
() => Array.from(document.querySelectorAll("article p, article li"))
  .filter((el) => el.getBoundingClientRect().height > 0)
  .map((el) => parseFloat(getComputedStyle(el).fontSize))
  .filter((size) => size < 14)
  .length
"""


def _has_cjk_font() -> bool | None:
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    return bool(listed.stdout.strip())


def test_a_chinese_font_is_installed() -> None:
    if _has_cjk_font() is False:
        unavailable("no font covering Chinese is installed (tools/ensure_chromium.sh adds one)")


@pytest.mark.parametrize("width", list(WIDTHS), ids=list(WIDTHS))
def test_layout_and_screenshot(visit, artifacts: Path, page_name: str | None, width: str) -> None:
    if page_name is None:
        unavailable("the built site has no pages")
    pixels = WIDTHS[width]
    page = visit(page_name, width=pixels, height=900 if pixels > 600 else 844).page
    shots = artifacts / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    name = page_name.removesuffix(".html").replace("/", "__")
    page.screenshot(path=str(shots / f"{name}-{pixels}.png"), full_page=True)
    problems = page.evaluate(_OVERFLOW)
    assert problems == [], f"{page_name} at {pixels}px overflows: {problems}"
    small = page.evaluate(_SMALL_TEXT)
    assert small == 0, f"{page_name} at {pixels}px: {small} paragraphs set below 14px"
