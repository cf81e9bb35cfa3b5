"""Link each chapter's first use of every glossary term to the glossary.

Usage::

    python tools/link_glossary.py                      # every chapter under book/part*/
    python tools/link_glossary.py book/part1/ch03_io_sequences.ipynb
    python tools/link_glossary.py --check              # exit 1 if a chapter would change

The terms are read from ``book/appendix/glossary.md`` (its ``{glossary}``
blocks; names listed together for one entry, such as 循环神经网络 and its
alias 递归神经网络, count as one term); ``tools/book_search.py`` reads the
search word list's terms with the same reader. In each notebook's markdown
cells the first prose occurrence of a term is rewritten as
``{term}`循环神经网络```, which Sphinx turns into a link to the glossary entry.

What is prose is decided by token type, with the parser Sphinx itself uses
(markdown-it-py with MyST's plugins and the extensions ``_config.yml``
enables): the text of paragraphs, list items, table cells and visible
admonitions. Never headings, code (inline or fenced), math (``$...$``,
``$$...$$``, ``\\begin{...}`` blocks), links, roles, HTML, labels, directive
options, or the body of a directive other than a visible admonition (a
``dropdown`` answer is hidden, so a link there is not a "first use" a reader
sees).

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
import functools
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from docutils.parsers.rst import Directive, directives
from docutils.parsers.rst.states import MarkupError
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.directives import parse_directive_text
from myst_parser.parsers.mdit import create_md_parser

REPO = Path(__file__).resolve().parents[1]
#: The glossary, relative to the book's source directory (the repository root).
GLOSSARY_PATH = Path("book", "appendix", "glossary.md")
GLOSSARY = REPO / GLOSSARY_PATH
DEFAULT_GLOBS = ("book/part*/ch*.ipynb",)
MIN_TERM_LENGTH = 2

#: The MyST syntax extensions ``_config.yml`` enables (``parse.myst_enable_extensions``):
#: without ``dollarmath``, for one, ``$\text{展开}$`` would read as prose.
MYST_EXTENSIONS = ("amsmath", "colon_fence", "deflist", "dollarmath", "substitution")

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

#: Inline rules whose text is prose: plain text, line breaks and emphasis delimiters.
#: Every other rule (code, math, roles, links, images, HTML tags, escapes, entities,
#: substitutions, footnote references) consumes text that is never linked.
PROSE_INLINE_RULES = {"text", "newline", "emphasis"}
#: HTML elements without a closing tag: no text is inside them.
VOID_ELEMENTS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)

# Where in the parser's env the recording inline rules put the spans they consume.
_CONSUMED = "link_glossary.consumed"

_ROLE_IN_EMPHASIS = re.compile(r"(?P<lead>\*{1,3}|_{1,3})(?P<role>\{term\}`[^`]+`)(?P=lead)")
_LINKED = re.compile(r"\{term\}`(?:[^`<]*<(?P<target>[^`>]+)>|(?P<plain>[^`]+))`")

#: Line index of a markdown text -> the (start, end) columns of that line that are prose.
Spans = dict[int, list[tuple[int, int]]]
InlineRule = Callable[[StateInline, bool], bool]


@dataclass(frozen=True)
class Glossary:
    """Every term name, the entry it belongs to, and the names longest first."""

    entry_of: dict[str, int]

    @property
    def names(self) -> list[str]:
        return sorted(self.entry_of, key=len, reverse=True)


def read_glossary(path: Path = GLOSSARY) -> Glossary:
    """Read the terms of the ``{glossary}`` directives of a MyST file.

    In a directive's body (after its options) an unindented line is a term and an
    indented one belongs to a definition; consecutive term lines name one entry (a
    term and its aliases).

    Raises
    ------
    ValueError
        If the file holds no glossary term.
    """
    entry_of: dict[str, int] = {}
    entry = -1
    for token in _parser().parse(path.read_text(encoding="utf-8")):
        directive = _directive(token)
        if directive is None or directive.name != "glossary":
            continue
        previous_was_term = False
        for line in directive.body:
            if not line.strip() or line[0].isspace():  # a blank line or a definition
                previous_was_term = False
                continue
            if not previous_was_term:
                entry += 1
            entry_of[line.strip()] = entry
            previous_was_term = True
    if not entry_of:
        raise ValueError(f"no glossary terms found in {path}")
    return Glossary(entry_of)


# --------------------------------------------------------------------------
# What is prose


@functools.cache
def _parser() -> MarkdownIt:
    """MyST's markdown-it parser, whose non-prose inline rules record what they consume.

    Inline tokens carry no columns, so the rules themselves report the source span of
    every code span, role, link, ... they match; the rest of the text is prose.
    """
    md = create_md_parser(MdParserConfig(enable_extensions=set(MYST_EXTENSIONS)), RendererHTML)
    for rule in list(md.inline.ruler.__rules__):
        if rule.name not in PROSE_INLINE_RULES:
            md.inline.ruler.at(rule.name, _recording(rule.name, rule.fn), {"alt": rule.alt})
    return md


def _recording(name: str, rule: InlineRule) -> InlineRule:
    def record(state: StateInline, silent: bool) -> bool:
        start = state.pos
        matched = rule(state, silent)
        consumed = state.env.get(_CONSUMED)
        # A silent call only looks ahead (for the end of a link's label).
        if matched and not silent and consumed is not None:
            consumed.append((start, state.pos, name))
        return matched

    return record


class _AnyDirective(Directive):
    """Any directive, to split off its options: the rest of the fence line is an
    argument (never body text), and every option is accepted."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {"class": directives.unchanged}  # not empty: options are looked for


@dataclass(frozen=True)
class _Directive:
    name: str
    options: dict[str, Any]
    body: list[str]
    first_body_line: int  # the index of body[0] among the parsed text's lines

    @property
    def visible_prose(self) -> bool:
        """Is the body text a reader sees: an admonition that is not a dropdown?"""
        classes = self.options.get("class") or ""
        words = classes.split() if isinstance(classes, str) else [str(c) for c in classes]
        return self.name in PROSE_DIRECTIVES and "dropdown" not in words


def _directive(token: Token) -> _Directive | None:
    """The directive that a ```` ```{name} ```` or ``:::{name}`` token holds (None: none)."""
    info = token.info.strip()
    if token.type not in {"fence", "colon_fence"} or not info.startswith("{") or not token.map:
        return None
    name, _, argument = info[1:].partition("}")
    try:
        parsed = parse_directive_text(
            _AnyDirective, argument.strip(), token.content, validate_options=False
        )
    except MarkupError:  # malformed options: Sphinx reports it; nothing here is prose
        return _Directive(name.strip(), {}, [], token.map[0] + 1)
    return _Directive(
        name.strip(), parsed.options, parsed.body, token.map[0] + 1 + parsed.body_offset
    )


def prose_spans(text: str) -> Spans:
    """The prose of a markdown text, line by line.

    Parameters
    ----------
    text : str
        MyST markdown: a notebook cell's source, or the body of a directive.

    Returns
    -------
    dict of int to list of (int, int)
        For each line (an index into ``text.split("\\n")``) that holds prose, the
        ``(start, end)`` columns of its prose, left to right.
    """
    env: dict[str, Any] = {}
    tokens = _parser().parse(text, env)
    lines = text.split("\n")
    spans: Spans = {}
    row_cursor: dict[int, int] = {}  # a table row's cells are found left to right
    for index, token in enumerate(tokens):
        previous = tokens[index - 1].type if index else ""
        if token.type == "inline" and token.map and previous != "heading_open":
            cursor = row_cursor if previous in {"th_open", "td_open"} else None
            _add_inline(spans, lines, token, _inline_prose(token.content, env), cursor)
        directive = _directive(token)
        if directive is not None and directive.visible_prose:
            _add_directive_body(spans, lines, directive)
    return {i: sorted(columns) for i, columns in spans.items()}


def _inline_prose(content: str, env: dict[str, Any]) -> list[tuple[int, int]]:
    """The ``(start, end)`` offsets of the prose in an inline token's text."""
    consumed: list[tuple[int, int, str]] = []
    _parser().inline.parse(content, _parser(), {**env, _CONSUMED: consumed}, [])
    consumed.sort()
    protected = [(start, end) for start, end, _ in consumed] + _html_elements(content, consumed)
    prose, position = [], 0
    for start, end in sorted(protected):
        if start > position:
            prose.append((position, start))
        position = max(position, end)
    if position < len(content):
        prose.append((position, len(content)))
    return prose


def _html_elements(content: str, consumed: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Spans from an inline HTML element's opening tag to its closing tag: the text
    between is the element's, not prose (an unclosed element runs to the end)."""
    elements, depth, opened = [], 0, 0
    for start, end, name in consumed:
        if name != "html_inline":
            continue
        tag = content[start:end]
        if tag.startswith("</"):
            depth = max(depth - 1, 0)
            if depth == 0:
                elements.append((opened, end))
        elif _opens_element(tag):
            opened = start if depth == 0 else opened
            depth += 1
    if depth:
        elements.append((opened, len(content)))
    return elements


def _opens_element(tag: str) -> bool:
    """Is this inline HTML an opening tag with a closing tag to come (not a comment,
    a declaration, a self-closing or a void element)?"""
    if tag.startswith(("<!", "<?")) or tag.endswith("/>"):
        return False
    name = tag[1:].split(maxsplit=1)[0].rstrip(">").lower()
    return name not in VOID_ELEMENTS


def _add_inline(
    spans: Spans,
    lines: list[str],
    token: Token,
    prose: list[tuple[int, int]],
    row_cursor: dict[int, int] | None,
) -> None:
    """Add an inline token's prose (offsets into its text) as columns of the source lines."""
    assert token.map is not None
    line_start = 0
    for j, text_line in enumerate(token.content.split("\n")):
        line_end = line_start + len(text_line)
        i = token.map[0] + j
        column = _column(lines[i], text_line, None if row_cursor is None else row_cursor.get(i, 0))
        if column is not None:
            if row_cursor is not None:
                row_cursor[i] = column + len(text_line)
            for start, end in prose:
                first, last = max(start, line_start), min(end, line_end)
                if first < last:
                    spans.setdefault(i, []).append(
                        (column + first - line_start, column + last - line_start)
                    )
        line_start = line_end + 1


def _add_directive_body(spans: Spans, lines: list[str], directive: _Directive) -> None:
    """Add the prose of a visible admonition's body, parsed as markdown of its own."""
    for j, columns in prose_spans("\n".join(directive.body)).items():
        i = directive.first_body_line + j
        shift = _column(lines[i], directive.body[j])
        if shift is not None:
            spans.setdefault(i, []).extend((start + shift, end + shift) for start, end in columns)


def _column(line: str, text_line: str, after: int | None = None) -> int | None:
    """Where a line of a token's text starts in its source ``line`` (None: not found).

    A block's text is its source lines less their container prefix (indentation, ``>``,
    a list marker) and, on its last line, trailing spaces. A table cell is one of several
    on its row: it is searched for left to right, from column ``after``.
    """
    if after is not None:
        column = line.find(text_line, after)
        return column if column >= 0 else None
    source, text = line.rstrip(), text_line.rstrip()
    return len(source) - len(text) if source.endswith(text) else None


# --------------------------------------------------------------------------
# Linking


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
    for i, spans in prose_spans(source).items():
        lines[i] = repair_emphasis(_link_line(lines[i], spans, glossary, done))
    return "\n".join(lines)


def _link_line(line: str, spans: list[tuple[int, int]], glossary: Glossary, done: set[int]) -> str:
    """Link, in the prose ``spans`` of one line, the first use of each entry not in ``done``."""
    names = glossary.names
    pieces = []
    cursor = 0
    for start, end in spans:
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
    return "".join(pieces)


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
