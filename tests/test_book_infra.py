"""Tests for the book's infrastructure: configuration, table of contents, search,
offline pages, stored notebooks and the notebook execution tool."""

from __future__ import annotations

import importlib.util
import json
import logging
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


def test_config_essentials() -> None:
    cfg = config()
    assert cfg["execute"]["execute_notebooks"] == "off"
    assert cfg["only_build_toc_files"] is True
    assert cfg["language"] == "zh_CN"
    sphinx = cfg["sphinx"]
    assert "sphinx-mathjax-offline" in sphinx["extra_extensions"]
    for name in cfg["bibtex_bibfiles"]:
        assert (ROOT / name).is_file()
    for pattern in (".venv", "companion", "tests", "_build", "README.md", "tools"):
        assert pattern in cfg["exclude_patterns"]
    extensions = set(cfg["parse"]["myst_enable_extensions"])
    assert {"dollarmath", "amsmath", "colon_fence", "deflist", "substitution"} <= extensions


def test_nothing_reaches_out() -> None:
    cfg = config()
    launch = cfg.get("launch_buttons", {})
    assert not launch.get("thebe")
    assert not any(launch.get(k) for k in ("binderhub_url", "jupyterhub_url", "colab_url"))
    assert not any(cfg.get("html", {}).get("comments", {}).values())
    assert "mathjax_path" not in cfg["sphinx"].get("config", {})  # the offline copy decides


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
# A real build of the infrastructure pages: zero warnings, offline, searchable


def test_infrastructure_pages_build_offline_and_searchable(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", src)
    shutil.copytree(ROOT / "tools", src / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("intro.md", "references.bib"):
        shutil.copy(BOOK / name, src / "book")
    for name in ("_static", "appendix"):
        shutil.copytree(BOOK / name, src / "book" / name)
    (src / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: 附录\n    chapters:\n"
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
    html = src / "_build" / "html"

    text = (html / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    for term in ("循环神经网络", "递归神经网络", "时间步", "隐状态", "小批量", "编码器"):
        assert term in index["terms"], term

    intro = (html / "book" / "intro.html").read_text(encoding="utf-8")
    assert re.search(r'<script[^>]*src="\.\./_static/mathjax/tex-chtml\.js"', intro)
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    for page in html.rglob("*.html"):
        tags = re.findall(r"<(?:script|link)\b[^>]*>", page.read_text(encoding="utf-8"))
        remote = [t for t in tags if re.search(r'(?:src|href)="(?:https?:)?//', t)]
        assert not remote, f"{page.relative_to(html)} loads {remote}"

    refs = (html / "book" / "appendix" / "references.html").read_text(encoding="utf-8")
    assert refs.count('class="citation"') >= 1
    assert "Hochreiter" in refs and "Elman" in refs and "Graves" in refs
