"""The appendices: the glossary covers the course's terms; the TF1 mapping runs every row."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from test_link_glossary import lg

REPO = Path(__file__).resolve().parents[1]
GLOSSARY = REPO / "book" / "appendix" / "glossary.md"
TF1 = REPO / "book" / "appendix" / "tf1_mapping.ipynb"

#: The standard terms every chapter uses (CONTRIBUTING.md, "Writing a chapter") and their aliases.
REQUIRED_TERMS = """
循环神经网络 递归神经网络 循环神经元 循环层 时间步 展开 隐状态 记忆单元 小批量
序列到序列 序列到向量 向量到序列 编码器-解码器 编码器 解码器 静态展开 动态展开
填充 掩码 序列结束标记 随时间反向传播 截断随时间反向传播 梯度消失 梯度爆炸 梯度裁剪
长短期记忆 门控循环单元 教师强制 贪心解码 激活函数 饱和
""".split()


def _definitions() -> dict[str, str]:
    """Term -> its definition text, read the way Sphinx reads the glossary blocks."""
    definitions: dict[str, str] = {}
    pending: list[str] = []
    inside = False
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = line.startswith("```{glossary}")
            continue
        if not inside or not line.strip():
            continue
        if line[0].isspace():
            for term in pending:
                definitions[term] = definitions.get(term, "") + line.strip()
            continue
        if pending and definitions.get(pending[0]):
            pending = []
        pending.append(line.strip())
    return definitions


def test_glossary_has_every_standard_term() -> None:
    missing = [t for t in REQUIRED_TERMS if t not in lg.read_glossary(GLOSSARY).entry_of]
    assert missing == []


def test_alias_shares_the_entry_of_the_standard_term() -> None:
    entry = lg.read_glossary(GLOSSARY).entry_of
    assert entry["递归神经网络"] == entry["循环神经网络"]


@pytest.mark.parametrize("term", sorted(_definitions()))
def test_each_entry_gives_english_and_a_chinese_definition(term: str) -> None:
    text = _definitions()[term]
    english, _, chinese = text.partition("。")
    assert re.search(r"[A-Za-z]{3,}", english), f"{term}: no English name before the first 。"
    assert re.search(r"[\u4e00-\u9fff]", chinese), f"{term}: no Chinese definition"


def test_english_index_links_every_entry_once() -> None:
    source = GLOSSARY.read_text(encoding="utf-8")
    index = source[source.index("## 英文索引") :]
    linked = re.findall(r"\{term\}`([^`]+)`", index)
    entries = lg.read_glossary(GLOSSARY).entry_of
    assert sorted(set(linked)) == sorted(linked), "an entry is listed twice"
    assert {entries[t] for t in linked} == set(entries.values())
    rows = [r.split("|")[1].strip() for r in index.splitlines() if r.startswith("| ") and "{" in r]
    assert rows == sorted(rows, key=str.lower), "the English index is not in alphabetical order"


#: The TensorFlow 1.x concepts the source chapter uses; each needs a row and runnable code.
TF1_CONCEPTS = {
    "tf1-placeholder": "placeholder",
    "tf1-variable": "random_normal",
    "tf1-matmul": "matmul",
    "tf1-dtype": "dtype",
    "tf1-basicrnncell": "BasicRNNCell",
    "tf1-static-rnn": "static_rnn",
    "tf1-unstack": "unstack",
    "tf1-dynamic-rnn": "dynamic_rnn",
    "tf1-sequence-length": "sequence_length",
    "tf1-time-major": "time_major",
    "tf1-swap-memory": "swap_memory",
    "tf1-session": "Session",
}


@pytest.fixture(scope="module")
def tf1() -> nbformat.NotebookNode:
    return nbformat.read(TF1, as_version=4)


def test_mapping_table_has_a_row_per_concept(tf1) -> None:
    table = next(c.source for c in tf1.cells if "## 对照表" in c.source)
    rows = [line for line in table.splitlines() if line.startswith("| [")]
    for label, name in TF1_CONCEPTS.items():
        row = [r for r in rows if f"]({label})" in r]
        assert row, f"no table row links to section {label}"
        assert any(name in r for r in row), f"the row for {label} does not name {name}"
        assert all(r.count("|") == 4 for r in row), "rows have TF1, companion, plain PyTorch"
    assert "global_variables_initializer" in table and "unstack" in table


def test_every_row_is_demonstrated_by_code_that_ran(tf1) -> None:
    cells = tf1.cells
    for label in TF1_CONCEPTS:
        start = next(i for i, c in enumerate(cells) if c.source.startswith(f"({label})="))
        following = []
        for cell in cells[start + 1 :]:
            if cell.cell_type == "markdown" and cell.source.lstrip().startswith("("):
                break
            following.append(cell)
        code = [c for c in following if c.cell_type == "code"]
        assert code, f"section {label} has no code cell"
        assert all(c.execution_count for c in code), f"section {label}: code not executed"
        assert any(c.outputs for c in code), f"section {label}: no output shown"
        tf1_text = cells[start].source + "".join(
            c.source for c in following if c.cell_type == "markdown"
        )
        assert "仅作对照，不执行" in tf1_text, f"section {label} shows no TF1 code as text"


def test_tensorflow_code_is_never_executed(tf1) -> None:
    for cell in tf1.cells:
        if cell.cell_type == "code":
            assert not re.search(r"\btf\.|import tensorflow", cell.source), cell.source[:80]
    first = next(c for c in tf1.cells if c.cell_type == "code")
    assert "from companion.notebook import setup" in first.source and "setup()" in first.source
