"""Link each chapter's first use of every glossary term to the glossary.

Usage::

    python tools/link_glossary.py                      # every chapter under book/part*/
    python tools/link_glossary.py book/part1/ch03_io_sequences.ipynb
    python tools/link_glossary.py --check              # exit 1 if a chapter would change

The terms are read from ``book/appendix/glossary.md`` (its ``{glossary}``
blocks; names listed together for one entry, such as 循环神经网络 and its
alias 递归神经网络, count as one term). In each notebook's markdown cells the
first prose occurrence of a term is rewritten as ``{term}`循环神经网络```,
which Sphinx turns into a link to the glossary entry. Only prose is touched:
never headings, code (inline or fenced), math (``$...$``, ``$$...$$``,
``\\begin{...}`` blocks), links, roles, HTML, labels, directive options, or the
body of a directive other than a visible admonition (a ``dropdown`` answer is
hidden, so a link there is not a "first use" a reader sees).

A term set in bold between two Chinese characters (``叫作**记忆单元**，``) would
lose its bold once linked -- CommonMark does not read ``**`` between a letter
and the role's ``{`` as emphasis, and shows the asterisks -- so there the
asterisks are dropped (the link sets the term off); bold touching punctuation
or a space (``（**梯度消失**）``) stays bold. Such broken emphasis around an
existing ``{term}`` role is repaired too.

Where terms overlap, the longest wins at each position: 静态展开 is one use
of 静态展开, not of 展开; 编码器-解码器 is not a use of 编码器. One-character
terms (门) are never linked automatically. Code cells and outputs are not
changed, so nothing needs re-executing. Running the script again changes
nothing: a term already linked anywhere in a chapter is left alone.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
GLOSSARY = REPO / "book" / "appendix" / "glossary.md"
DEFAULT_GLOBS = ("book/part*/ch*.ipynb",)
MIN_TERM_LENGTH = 2

#: Directives whose body is visible prose (links there are fine).
PROSE_DIRECTIVES = {
    "admonition",
    "attention",
    "caution",
    "danger",
    "epigraph",
    "error",
    "hint",
    "important",
    "margin",
    "note",
    "seealso",
    "sidebar",
    "tip",
    "topic",
    "warning",
}

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_LABEL = re.compile(r"^\s*\([^()\s]+\)=\s*$")
_OPTION = re.compile(r"^\s*:[\w-]+:")
_MATH_ENV = re.compile(r"^\s*\\begin\{(?P<env>[^}]+)\}")
# Inline spans that are not prose, tried left to right at each position.
_PROTECTED = re.compile(
    r"""
      \{[^{}\s`]+\}(?P<rt>`+).*?(?P=rt)      # a role: {term}`...`, {glue:text}`...`
    | (?P<bt>`+).*?(?P=bt)                   # inline code
    | (?<!\\)\$\$.*?(?<!\\)\$\$              # display math written inline
    | (?<!\\)\$[^$\n]+?(?<!\\)\$             # inline math
    | \\\(.*?\\\)                            # \( ... \) math
    | !?\[[^\]\n]*\]\([^)\n]*\)              # link or image
    | !?\[[^\]\n]*\]\[[^\]\n]*\]             # reference-style link
    | \[\^[^\]\n]+\]                         # footnote reference
    | <[^<>\n]+>                             # HTML tag or autolink
    | \{\{.*?\}\}                            # substitution
    """,
    re.VERBOSE,
)
_ROLE_IN_EMPHASIS = re.compile(r"(?P<lead>\*{1,3}|_{1,3})(?P<role>\{term\}`[^`]+`)(?P=lead)")
_LINKED = re.compile(r"\{term\}`(?:[^`<]*<(?P<target>[^`>]+)>|(?P<plain>[^`]+))`")


@dataclass(frozen=True)
class Glossary:
    """Every term name, the entry it belongs to, and the names longest first."""

    entry_of: dict[str, int]

    @property
    def names(self) -> list[str]:
        return sorted(self.entry_of, key=len, reverse=True)


def read_glossary(path: Path = GLOSSARY) -> Glossary:
    """Parse the ``{glossary}`` blocks of a MyST file: unindented lines are terms;
    consecutive term lines (before an indented definition) name one entry."""
    entry_of: dict[str, int] = {}
    entry = -1
    inside = False
    previous_was_term = False
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not inside:
            inside = stripped.startswith("```{glossary}")
            previous_was_term = False
            continue
        if stripped.startswith("```"):
            inside = False
            continue
        if not stripped or stripped.startswith(":"):
            previous_was_term = False if not stripped else previous_was_term
            continue
        if line[0].isspace():  # part of a definition
            previous_was_term = False
            continue
        if not previous_was_term:
            entry += 1
        entry_of[stripped] = entry
        previous_was_term = True
    if not entry_of:
        raise ValueError(f"no glossary terms found in {path}")
    return Glossary(entry_of)


def _prose_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of the parts of a prose line outside protected inline spans."""
    spans = []
    position = 0
    for match in _PROTECTED.finditer(line):
        if match.start() > position:
            spans.append((position, match.start()))
        position = match.end()
    if position < len(line):
        spans.append((position, len(line)))
    return spans


def _prose_lines(lines: Sequence[str]) -> Iterable[int]:
    """Indices of the lines of a markdown cell that are prose (may be linked)."""
    # Open fences, innermost last: (fence character, fence length, kind), where kind is
    # "code" (literal text: nothing inside opens a fence), "prose" (a visible admonition)
    # or "hidden" (MyST that is not linked: dropdowns, figures, other directives).
    stack: list[tuple[str, int, str]] = []
    math_until: str | None = None
    expecting_options = False
    for i, line in enumerate(lines):
        fence = _FENCE.match(line)
        if fence:
            mark, info = fence["fence"], fence["info"].strip()
            top = stack[-1] if stack else None
            if top and mark[0] == top[0] and len(mark) >= top[1] and not info:
                stack.pop()
                expecting_options = False
                continue
            if not (top and top[2] == "code"):
                stack.append((mark[0], len(mark), _fence_kind(info, lines, i + 1)))
                expecting_options = info.startswith("{")
                continue
        if expecting_options and _OPTION.match(line):
            continue
        expecting_options = False
        if any(kind != "prose" for _, _, kind in stack):
            continue
        if math_until is not None:
            if math_until in line:
                math_until = None
            continue
        stripped = line.strip()
        if stripped.startswith("$$"):
            if not (len(stripped) > 2 and stripped.endswith("$$")):
                math_until = "$$"
            continue
        env = _MATH_ENV.match(line)
        if env:
            end = f"\\end{{{env['env']}}}"
            if end not in line:
                math_until = end
            continue
        if not stripped:
            continue
        if _HEADING.match(line) or _LABEL.match(line) or stripped.startswith("<"):
            continue
        if i + 1 < len(lines) and _SETEXT.match(lines[i + 1]) and not stripped.startswith("-"):
            continue  # a setext heading (the next line underlines it)
        yield i


def _fence_kind(info: str, lines: Sequence[str], start: int) -> str:
    """What a fence opened with this info string holds: "code", "prose" or "hidden"."""
    match = re.match(r"\{([\w:-]+)\}", info)
    if match is None:
        return "code"  # a plain code block (```python, ```, ~~~)
    name = match[1]
    if name in PROSE_DIRECTIVES and not _dropdown(lines, start):
        return "prose"
    if name in {"code", "code-block", "code-cell", "math", "eval-rst", "raw", "literalinclude"}:
        return "code"
    return "hidden"


def _dropdown(lines: Sequence[str], start: int) -> bool:
    """Do the option lines after a directive's opening fence include ``:class: dropdown``?"""
    for line in lines[start:]:
        if not _OPTION.match(line):
            return False
        if re.match(r"^\s*:class:.*\bdropdown\b", line):
            return True
    return False


def linked_entries(sources: Iterable[str], glossary: Glossary) -> set[int]:
    """Entries already linked with ``{term}`` somewhere in these markdown sources."""
    done = set()
    for source in sources:
        for match in _LINKED.finditer(source):
            name = (match["target"] or match["plain"]).strip()
            if name in glossary.entry_of:
                done.add(glossary.entry_of[name])
    return done


def _is_space_or_punct(char: str) -> bool:
    """CommonMark's test for the neighbours of an emphasis delimiter (line ends count as space)."""
    if not char or char.isspace():
        return True
    return unicodedata.category(char)[0] in "PS"


def _flanking_ok(text: str, start: int, end: int, lead: str, trail: str) -> bool:
    """Would ``**`` / ``*`` / ``_`` runs around a role at ``text[start:end]`` still be
    emphasis? A role starts and ends with punctuation (``{`` and a backtick), so the
    delimiter outside it must touch a space or punctuation on its other side."""
    before = text[start - len(lead) - 1] if start - len(lead) - 1 >= 0 else ""
    after = text[end + len(trail)] if end + len(trail) < len(text) else ""
    return (not lead or _is_space_or_punct(before)) and (not trail or _is_space_or_punct(after))


def _delimiters(text: str, start: int, end: int) -> tuple[str, str]:
    """The runs of ``*`` or ``_`` right before ``start`` and right after ``end``."""
    lead = re.search(r"(\*+|_+)$", text[:start])
    trail = re.match(r"(\*+|_+)", text[end:])
    return (lead[0] if lead else ""), (trail[0] if trail else "")


def repair_emphasis(line: str) -> str:
    """``作**{term}`记忆单元`**，`` is no emphasis in CommonMark (the ``**`` sits between
    a letter and the role's ``{``) and shows its asterisks. Drop such delimiters around
    a ``{term}`` role: the link already sets the term off."""
    for match in reversed(list(_ROLE_IN_EMPHASIS.finditer(line))):
        lead = match["lead"]
        start, end = match.start("role"), match.end("role")
        if not _flanking_ok(line, start, end, lead, lead):
            line = line[: match.start()] + match["role"] + line[match.end() :]
    return line


def link_source(source: str, glossary: Glossary, done: set[int]) -> str:
    """Link the first prose use of every entry not in ``done`` (updated in place).

    A use set in emphasis (``**记忆单元**``) keeps it when CommonMark still reads the
    delimiters as emphasis around the role; otherwise the delimiters are dropped
    when they wrap exactly the term, and the use is passed over when they wrap more.
    """
    lines = source.split("\n")
    names = glossary.names
    for i in _prose_lines(lines):
        line = lines[i]
        pieces = []
        cursor = 0
        for start, end in _prose_spans(line):
            position = start
            while position < end:
                name = next((n for n in names if line.startswith(n, position)), None)
                if name is None or position + len(name) > end:
                    position += 1
                    continue
                entry = glossary.entry_of[name]
                stop = position + len(name)
                if entry not in done and len(name) >= MIN_TERM_LENGTH:
                    lead, trail = _delimiters(line, position, stop)
                    first, last = position, stop
                    if not _flanking_ok(line, position, stop, lead, trail):
                        if lead and lead == trail:
                            first, last = position - len(lead), stop + len(trail)
                        else:
                            position = stop
                            continue  # emphasis around more than the term: next use
                    done.add(entry)
                    pieces.append(line[cursor:first])
                    pieces.append(f"{{term}}`{name}`")
                    cursor = last
                position = stop
        pieces.append(line[cursor:])
        lines[i] = repair_emphasis("".join(pieces))
    return "\n".join(lines)


def link_notebook(path: Path, glossary: Glossary, *, write: bool = True) -> bool:
    """Link the terms of one notebook; return whether its markdown changed."""
    nb = nbformat.read(path, as_version=4)
    markdown = [cell for cell in nb.cells if cell.cell_type == "markdown"]
    done = linked_entries((cell.source for cell in markdown), glossary)
    changed = False
    for cell in markdown:
        new = link_source(cell.source, glossary, done)
        if new != cell.source:
            cell.source = new
            changed = True
    if changed and write:
        text = nbformat.writes(nb, version=4)
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    parser.add_argument("--glossary", type=Path, default=GLOSSARY)
    args = parser.parse_args(argv)
    glossary = read_glossary(args.glossary)
    paths = args.notebooks or sorted(p for g in DEFAULT_GLOBS for p in REPO.glob(g))
    pending = []
    for path in paths:
        if link_notebook(path, glossary, write=not args.check):
            pending.append(path)
            print(("would link" if args.check else "linked  ") + f" {path}")
    return 1 if (args.check and pending) else 0


if __name__ == "__main__":
    sys.exit(main())
