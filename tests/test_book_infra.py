"""Tests for the book's infrastructure: configuration, table of contents, search,
offline pages, stored notebooks and the notebook execution tool."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
TOOL = ROOT / "tools" / "execute_notebooks.py"
SKIP_PARTS = {"_build", ".ipynb_checkpoints", "_static"}

# Terms that jieba would split without the course word list.
CORE_TERMS = [
    "循环神经网络",
    "递归神经网络",
    "循环神经元",
    "循环层",
    "时间步",
    "小批量",
    "隐状态",
    "记忆单元",
    "序列到序列",
    "序列到向量",
    "向量到序列",
    "编码器-解码器",
    "编码器",
    "解码器",
    "随时间反向传播",
    "梯度消失",
    "梯度爆炸",
    "长短期记忆",
    "门控循环单元",
    "序列结束标记",
    "静态展开",
    "动态展开",
    "变长",
    "变长序列",
    "填充",
    "掩码",
    "展开",
]


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("execute_notebooks", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def toc_files() -> list[str]:
    """Every ``file`` entry of _toc.yml (root first), without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("chapters", "sections", "parts"):
                walk(entry.get(key, []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return files


def book_documents(suffix: str) -> list[Path]:
    return sorted(
        p
        for p in BOOK.rglob(f"*{suffix}")
        if not SKIP_PARTS.intersection(p.relative_to(BOOK).parts)
    )


def book_notebooks() -> list[Path]:
    return book_documents(".ipynb")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).with_suffix("").as_posix()


# --------------------------------------------------------------------------
# Configuration and table of contents


def test_sphinx_reads_no_page_outside_book() -> None:
    """No Markdown or notebook file outside ``book/`` is ever parsed by the build.

    The virtual environment's package docs, README.md, CONTRIBUTING.md... each
    match an exclude pattern, whatever the toc says.
    """
    from sphinx.util.matching import Matcher

    excluded = Matcher(config()["exclude_patterns"])
    read = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        here = Path(dirpath).relative_to(ROOT)
        dirnames[:] = [d for d in dirnames if not excluded((here / d).as_posix())]
        for name in filenames:
            path = (here / name).as_posix()
            source = Path(name).suffix in {".md", ".ipynb", ".rst", ".myst"}
            if source and path.split("/")[0] != "book" and not excluded(path):
                read.append(path)
    assert not read, f"add to exclude_patterns in _config.yml: {read}"


def test_toc_entries_exist() -> None:
    files = toc_files()
    assert len(files) == len(set(files)), "a document is listed twice in _toc.yml"
    missing = []
    for name in files:
        found = [s for s in (".md", ".ipynb") if (ROOT / f"{name}{s}").is_file()]
        if len(found) != 1:
            missing.append(f"{name} ({'ambiguous' if found else 'missing'})")
    assert not missing, f"_toc.yml lists documents that do not exist: {missing}"


def test_every_book_document_is_in_the_toc() -> None:
    listed = set(toc_files())
    orphans = [rel(p) for p in book_notebooks() + book_documents(".md") if rel(p) not in listed]
    assert not orphans, f"not in _toc.yml (so never built): {orphans}"


def test_part_one_chapters() -> None:
    files = toc_files()
    assert files[0] == "book/intro"
    chapters = [f for f in files if f.startswith("book/part1/")]
    assert [Path(f).name[:4] for f in chapters] == [f"ch0{i}" for i in range(1, 9)]
    assert "book/appendix/references" in files


# --------------------------------------------------------------------------
# Chinese search


def load_book_search() -> ModuleType:
    spec = importlib.util.spec_from_file_location("book_search", ROOT / "tools" / "book_search.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def extra_words() -> Path:
    """The file _config.yml names as the search dictionary: the words beyond the glossary."""
    raw = config()["sphinx"]["config"]["html_search_options"]["dict"]
    return ROOT / raw


@pytest.fixture(scope="module")
def word_list(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The word list the book's build generates from the glossary and the extra words."""
    tool = load_book_search()
    target = tmp_path_factory.mktemp("search") / "search_dict.txt"
    duplicates = tool.write_word_list(BOOK / "appendix" / "glossary.md", extra_words(), target)
    assert not duplicates, f"glossary terms repeated in {extra_words().name}: {duplicates}"
    return target


def test_search_word_list_is_the_glossary_plus_the_extra_words(word_list: Path) -> None:
    tool = load_book_search()
    words = {}
    for number, line in enumerate(word_list.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        assert 2 <= len(parts) <= 3 and parts[1].isdigit(), f"{word_list.name}:{number}: {line!r}"
        assert parts[0] not in words, f"{parts[0]} listed twice"
        words[parts[0]] = int(parts[1])
    terms = tool.glossary_terms(BOOK / "appendix" / "glossary.md")
    assert "循环神经网络" in terms and "递归神经网络" in terms  # aliases count
    assert not set(terms) - set(words), "every glossary term is in the list"
    assert not set(tool.read_extra_words(extra_words())) - set(words)
    assert not set(CORE_TERMS) - set(words)


def test_extra_words_file_is_checked(tmp_path: Path) -> None:
    tool = load_book_search()
    bad = tmp_path / "extras.txt"
    bad.write_text("# comment\n\n神经元 50000 n\n批大小 many\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"extras.txt:4: expected 'word freq \[tag\]'"):
        tool.read_extra_words(bad)


def test_jieba_keeps_the_core_terms_whole(word_list: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jieba 0.42 has old-style regex escapes
        jieba = pytest.importorskip("jieba")
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.load_userdict(str(word_list))
        sentence = "循环神经网络在每个时间步更新隐状态，随时间反向传播可能导致梯度消失。"
        tokens = list(tokenizer.cut(sentence))
        split = [t for t in CORE_TERMS if list(tokenizer.cut(t)) != [t]]
    assert not split, f"split by jieba: {split}"
    for term in ("循环神经网络", "时间步", "隐状态", "随时间反向传播", "梯度消失"):
        assert term in tokens


# --------------------------------------------------------------------------
# Stored notebooks


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: rel(p))
def test_stored_notebook_is_normalized_and_executed(path: Path) -> None:
    tool = load_tool()
    nb, missing = tool.read_notebook(path)
    assert not missing, "cells without an id: run `make execute`"
    for index, cell in enumerate(nb.cells):
        assert "execution" not in cell.metadata, f"cell {index}: timing metadata"
        if cell.cell_type == "code":
            assert cell.source.strip(), f"cell {index}: empty code cell"
            assert cell.execution_count is not None, f"cell {index}: never executed"
    expected = tool.serialize(tool.normalize(nb))
    assert path.read_text(encoding="utf-8") == expected, "volatile metadata: run `make execute`"
    assert nb.metadata.kernelspec.name == "python3"
    assert "version" not in nb.metadata.language_info


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: rel(p))
def test_first_code_cell_calls_setup(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "from companion.notebook import setup" in first.source
    assert re.search(r"\bsetup\(", first.source)


# --------------------------------------------------------------------------
# The execution tool (runs real kernels: the interpreter running the tests)

SAMPLE_CELLS = [
    new_markdown_cell("# 示例\n\n循环神经网络在每个时间步更新隐状态 $h_{(t)}$。"),
    new_code_cell("from companion.notebook import setup\n\nrng = setup()"),
    new_code_cell("import os\nimport sys\n\nprint(sys.prefix)\nprint(os.getcwd())"),
    new_code_cell(
        "import matplotlib.pyplot as plt\n\n"
        "fig, ax = plt.subplots()\n"
        "ax.plot(rng.normal(size=10), label='$h_{(t)}$')\n"
        "ax.legend()\n"
        "plt.show()"
    ),
    new_code_cell(
        "from myst_nb import glue\n\nglue('ratio', float(rng.uniform()), display=False)\n"
        "print({'时间步': 3})"
    ),
    new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}),
]


def run_tool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


def test_execute_tool_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "sample.ipynb"
    nbformat.write(new_notebook(cells=SAMPLE_CELLS), path)
    first = run_tool(path)
    assert first.returncode == 0, first.stderr
    once = path.read_bytes()
    second = run_tool(path)
    assert second.returncode == 0, second.stderr
    assert path.read_bytes() == once, "executing twice changed the file"
    assert once.endswith(b"}\n")
    assert "循环神经网络".encode() in once  # ensure_ascii=False

    nb = json.loads(once)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "version" not in nb["metadata"]["language_info"]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    assert all("execution" not in c["metadata"] for c in code)
    # The kernel ran this interpreter, in the notebook's folder.
    prefix, cwd = "".join(code[1]["outputs"][0]["text"]).splitlines()
    assert prefix == sys.prefix
    assert Path(cwd) == tmp_path
    # Inline PNG figure and nothing on stderr.
    outputs = [o for c in code for o in c["outputs"]]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert not any(o.get("name") == "stderr" for o in outputs)
    assert code[-1]["outputs"][0]["ename"] == "ZeroDivisionError"


def test_execute_tool_fails_on_an_error_and_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("raise RuntimeError('boom')")]), path)
    before = path.read_bytes()
    result = run_tool(path)
    assert result.returncode == 1
    assert "boom" in result.stderr
    assert path.read_bytes() == before


def test_execute_tool_rejects_a_missing_path(tmp_path: Path) -> None:
    result = run_tool(tmp_path / "nope.ipynb")
    assert result.returncode == 2


def test_normalize_strips_volatile_metadata() -> None:
    tool = load_tool()
    nb = new_notebook(cells=[new_code_cell("1 + 1")])
    nb.cells[0].metadata.update(
        {
            "execution": {"iopub.status.busy": "x"},
            "ExecuteTime": {},
            "collapsed": True,
            "tags": ["t"],
        }
    )
    nb.metadata.update({"widgets": {}, "language_info": {"name": "python", "version": "3.11.7"}})
    out = tool.normalize(nb)
    assert dict(out.cells[0].metadata) == {"tags": ["t"]}
    assert "widgets" not in out.metadata
    assert out.metadata.language_info == tool.LANGUAGE_INFO
    assert tool.serialize(out) == tool.serialize(tool.normalize(out))


# --------------------------------------------------------------------------
# A real build of the infrastructure pages with the book's _config.yml: zero
# warnings, offline, searchable, built from the stored outputs, only the toc.

# Stored output that executing the cell would not give (it prints 42): the site
# must show what `make execute` stored and nbval checked, never a re-execution.
STORED = "STORED-OUTPUT-1f3a"
# A cell without stored output makes "auto" execution run the notebook; the
# marker is split in the source, so it can only reach the page by being run.
EXECUTED = "EXECUTED-AT-BUILD"

SYNTAX_PAGE = """---
myst:
  substitutions:
    course: 循环神经网络
---
# 语法

行内公式 $h_{(t)} = \\tanh(z)$，以及

$$
y = W x
$$

\\begin{align}
a &= b
\\end{align}

:::{note}
冒号围栏
:::

词元
: 定义列表

替换：{{ course }}
"""


def sample_notebook() -> nbformat.NotebookNode:
    stored = new_code_cell(
        "print(6 * 7)",
        execution_count=1,
        outputs=[nbformat.v4.new_output("stream", name="stdout", text=f"{STORED}\n")],
    )
    never_run = new_code_cell(f"print({EXECUTED[:8]!r} + {EXECUTED[8:]!r})")
    nb = new_notebook(cells=[new_markdown_cell("# 笔记本"), stored, never_run])
    nb.metadata.update(
        {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        }
    )
    return nb


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The appendix, a notebook and a syntax page, built with -W from the book's config.

    Beside them lie files a build must not pick up: a page missing from the toc,
    README/CONTRIBUTING and Markdown inside the package and test folders.
    """
    tmp_path = tmp_path_factory.mktemp("site")
    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", src)
    shutil.copytree(ROOT / "tools", src / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("intro.md", "references.bib"):
        shutil.copy(BOOK / name, src / "book")
    for name in ("_static", "appendix"):
        shutil.copytree(BOOK / name, src / "book" / name)
    nbformat.write(sample_notebook(), src / "book" / "notebook.ipynb")
    (src / "book" / "syntax.md").write_text(SYNTAX_PAGE, encoding="utf-8")
    for name in ("README.md", "CONTRIBUTING.md"):
        shutil.copy(ROOT / name, src)
    (src / "book" / "orphan.md").write_text("# 不在目录中\n", encoding="utf-8")
    for folder in ("companion", "tests"):
        (src / folder).mkdir()
        (src / folder / "notes.md").write_text("# notes\n", encoding="utf-8")
    (src / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: 附录\n    chapters:\n"
        "      - file: book/notebook\n      - file: book/syntax\n"
        "      - file: book/appendix/references\n",
        encoding="utf-8",
    )
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(src), "--builder", "html", "-W", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # not the source: the word list must still be found
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return src / "_build" / "html"


def test_the_site_is_searchable_in_chinese(built_site: Path) -> None:
    text = (built_site / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    for term in ("循环神经网络", "递归神经网络", "时间步", "隐状态", "小批量", "编码器"):
        assert term in index["terms"], term
    intro = (built_site / "book" / "intro.html").read_text(encoding="utf-8")
    assert re.search(r'<html[^>]*\blang="zh', intro), "pages must declare Chinese"


def test_the_site_loads_nothing_from_the_network(built_site: Path) -> None:
    """Math from the bundled MathJax; no CDN script, no comments, no online launch buttons."""
    intro = (built_site / "book" / "intro.html").read_text(encoding="utf-8")
    assert re.search(r'<script[^>]*src="\.\./_static/mathjax/tex-chtml\.js"', intro)
    assert (built_site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    pages = list(built_site.rglob("*.html"))
    assert built_site / "book" / "notebook.html" in pages  # where launch buttons would be
    for page in pages:
        html = page.read_text(encoding="utf-8")
        tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
        remote = [t for t in tags if re.search(r'(?:src|href)="(?:https?:)?//', t)]
        assert not remote, f"{page.relative_to(built_site)} loads {remote}"
        launch = re.findall(r'href="[^"]*(?:mybinder|binderhub|colab\.research|jupyterhub)', html)
        assert not launch, f"{page.relative_to(built_site)} offers {launch}"


def test_notebooks_are_shown_with_their_stored_outputs_never_run(built_site: Path) -> None:
    page = (built_site / "book" / "notebook.html").read_text(encoding="utf-8")
    assert STORED in page
    assert EXECUTED not in page
    assert ">42<" not in page


def test_only_the_toc_is_built(built_site: Path) -> None:
    built = {p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html")}
    for name in (
        "book/orphan.html",
        "README.html",
        "CONTRIBUTING.html",
        "companion/notes.html",
        "tests/notes.html",
    ):
        assert name not in built, f"{name} was built"
    assert {"book/intro.html", "book/notebook.html", "book/syntax.html"} <= built


def test_the_course_markdown_syntax_renders(built_site: Path) -> None:
    """Dollar and amsmath math, colon fences, definition lists and substitutions."""
    page = (built_site / "book" / "syntax.html").read_text(encoding="utf-8")
    assert "$h_{(t)}" not in page and "$$" not in page  # math, not literal dollars
    assert page.count('class="math notranslate nohighlight"') == 2  # inline and display
    assert 'class="amsmath math' in page  # \begin{align} as an equation, not a paragraph
    assert ":::" not in page and 'class="admonition note"' in page
    assert re.search(r"<dl[^>]*>\s*<dt[^>]*>词元</dt>", page)
    assert "{{" not in page and "替换：循环神经网络" in page


def test_the_bibliography_is_built(built_site: Path) -> None:
    refs = (built_site / "book" / "appendix" / "references.html").read_text(encoding="utf-8")
    assert refs.count('class="citation"') >= 1
    assert "Hochreiter" in refs and "Elman" in refs and "Graves" in refs
