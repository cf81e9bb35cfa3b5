"""Extract the Chinese prose of Part I into the corpus of chapter 12's character model.

Usage::

    python tools/extract_prose.py            # rewrite companion/data/course_prose.txt
    python tools/extract_prose.py --check    # exit 1 if the snapshot would change

The character-level language model of chapter 12 (深层 RNN、双向 RNN 与应用) learns to
write like this book: its corpus is the markdown prose of Part I's chapters
(``book/part1/ch0*.ipynb``), one paragraph per line, with everything that is not a
sentence removed. The markdown is read with the parser Sphinx itself uses
(markdown-it-py with MyST's plugins, the extensions ``_config.yml`` enables), so
what counts as code, math or a role is decided by token type, not by guessing:

* dropped: code cells, fenced code, display math (``$$...$$``, ``{math}``),
  inline math (``$...$``) and inline code, tables, citations ({cite}`...`),
  URLs, directive titles and options, and every **clause** (up to ，；：。！？)
  that would read with a hole in it: one that quotes a computed number
  ({glue:text}`...`, which lives in a code cell), a formula other than a letter
  or a number, or inline code other than a name;
* kept as text: paragraphs and list items (each its own line), names in inline
  code (``dynamic_rnn``), plain inline math (``$t = 0$`` → t = 0), headings
  without their ``#``, the bodies of admonitions (exercise answers too), a
  term's word ({term}`时间步` → 时间步), a link's text ([第 7 章](...) → 第 7 章),
  Chinese punctuation as written;
* tidied: spaces left where math or code was removed, empty brackets, and lines
  with fewer than :data:`MIN_CJK` Chinese characters (short headings such as 小结).

The snapshot is **frozen**: it is committed once, and the checkpoint
``companion/data/char_lm.npz`` is trained on it. Part I may be edited later
without changing the model's corpus; ``--check`` tells whether a re-extraction
would differ, and re-extracting means retraining (``tools/train_char_lm.py``).
The tests check the snapshot's properties (size, characters, no markup), not its
equality with today's Part I. The script is deterministic: the same chapters give
the same bytes.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import nbformat
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = "book/part1/ch0*.ipynb"
SNAPSHOT = REPO / "companion" / "data" / "course_prose.txt"
#: The MyST syntax extensions ``_config.yml`` enables (as ``tools/link_glossary.py``).
MYST_EXTENSIONS = {"amsmath", "colon_fence", "deflist", "dollarmath", "substitution"}
#: Directives whose body is prose a reader sees (or opens: exercise answers).
PROSE_DIRECTIVES = {"admonition", "attention", "caution", "hint", "important", "note", "tip"}
#: A line needs at least this many Chinese characters to be kept.
MIN_CJK = 5

GLUE = "\x00"  # a hole (a computed number, a formula) until its sentence is dropped
#: Inline code kept as text: a name such as ``dynamic_rnn`` or ``torch.nn.GRU``.
PLAIN_CODE = re.compile(r"[A-Za-z_][\w.]*(\(\))?")
#: Inline math kept as text: a letter, a number, ``t = 0``; anything else is a hole.
PLAIN_MATH = re.compile(r"[A-Za-z0-9 =+\-.,]{1,12}")
CJK = re.compile(r"[\u4e00-\u9fff]")
URL = re.compile(r"https?://\S+")
CLAUSE_END = re.compile(r"(?<=[，；：。！？])")
EMPTY_BRACKETS = re.compile(r"（[\s、，,]*）|\([\s,]*\)|“\s*”|「\s*」")
FULL_WIDTH = "，。；：！？、（）“”《》「」"


def _parser():
    config = MdParserConfig(enable_extensions=set(MYST_EXTENSIONS))
    return create_md_parser(config, RendererHTML)


def _inline_text(token: Token) -> str:
    """The prose of one inline token: text, terms and link texts; math and code removed."""
    parts = []
    for child in token.children or []:
        if child.type == "text":
            parts.append(URL.sub("", child.content))
        elif child.type == "myst_role" and child.meta.get("name") == "term":
            # {term}`词<glossary entry>` shows 词
            parts.append(child.content.split("<")[0].strip())
        elif child.type == "myst_role" and child.meta.get("name", "").startswith("glue"):
            parts.append(GLUE)
        elif child.type == "code_inline":
            parts.append(child.content if PLAIN_CODE.fullmatch(child.content) else GLUE)
        elif child.type == "math_inline":
            parts.append(child.content if PLAIN_MATH.fullmatch(child.content) else GLUE)
        # cite and other roles, images, html: nothing
    return "".join(parts)


def _directive_body(content: str) -> str:
    """A fence's body without its leading ``:option: value`` lines."""
    lines = content.splitlines()
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        lines.pop(0)
    return "\n".join(lines)


def markdown_paragraphs(text: str) -> list[str]:
    """The prose paragraphs of one markdown text, before tidying (see :func:`tidy`)."""
    paragraphs = []
    in_table = 0
    for token in _parser().parse(text):
        if token.type == "table_open":
            in_table += 1
        elif token.type == "table_close":
            in_table -= 1
        elif token.type == "inline" and not in_table:
            paragraphs.append(_inline_text(token))
        elif token.type == "fence" and token.info.startswith("{"):
            name = token.info[1:].split("}")[0]
            if name in PROSE_DIRECTIVES:
                paragraphs.extend(markdown_paragraphs(_directive_body(token.content)))
        # fenced code, math blocks, html blocks: dropped
    return paragraphs


def tidy(paragraph: str) -> str:
    """Drop the clauses with a hole; close the gaps that removed markup left behind."""
    clauses = [s for s in CLAUSE_END.split(paragraph) if GLUE not in s]
    text = "".join(clauses)
    text = re.sub(r"\s+", " ", text)
    # no space next to full-width punctuation (a removed formula leaves "为 ，")
    text = re.sub(rf" *([{FULL_WIDTH}]) *", r"\1", text)
    previous = None
    while previous != text:
        previous = text
        text = EMPTY_BRACKETS.sub("", text)
    text = re.sub(r"([，、；：])[，、；：]+", r"\1", text)  # punctuation that lost its word
    text = re.sub(r"^[，。；：、）\s]+", "", text)
    text = re.sub(r"^[^，；：。！？]{1,2}[，；：。！？]", "", text)  # the tail of a dropped clause
    return text.strip()


def extract(paths: Iterable[Path]) -> str:
    """The snapshot's text: every kept paragraph of the notebooks, one per line, in order."""
    lines = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            for paragraph in markdown_paragraphs(cell.source):
                line = tidy(paragraph)
                if len(CJK.findall(line)) >= MIN_CJK:
                    lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the snapshot would change")
    parser.add_argument("--output", type=Path, default=SNAPSHOT)
    args = parser.parse_args(argv)
    paths = sorted(REPO.glob(CHAPTERS))
    text = extract(paths)
    if args.check:
        same = args.output.exists() and args.output.read_text(encoding="utf-8") == text
        print("snapshot up to date" if same else f"{args.output} differs from Part I's prose")
        return 0 if same else 1
    args.output.write_text(text, encoding="utf-8")
    n_cjk = len(CJK.findall(text))
    print(
        f"{args.output.relative_to(REPO)}: {text.count(chr(10))} paragraphs, "
        f"{len(text)} characters ({n_cjk} Chinese), {len(set(text))} distinct"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
