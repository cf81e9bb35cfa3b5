"""tools/link_glossary.py: each chapter links the first prose use of every glossary term."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]


def _load_tool():
    path = REPO / "tools" / "link_glossary.py"
    spec = importlib.util.spec_from_file_location("link_glossary", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["link_glossary"] = module
    spec.loader.exec_module(module)
    return module


lg = _load_tool()

GLOSSARY_MD = """
# 术语

```{glossary}
循环神经网络
递归神经网络
  recurrent neural network。定义。

展开
  unrolling。定义。

静态展开
  static unrolling。定义。

编码器
  encoder。定义。

编码器-解码器
  encoder-decoder。定义。

时间步
  time step。定义。

门
  gate。定义。
```
"""


@pytest.fixture
def glossary(tmp_path: Path):
    path = tmp_path / "glossary.md"
    path.write_text(GLOSSARY_MD, encoding="utf-8")
    return lg.read_glossary(path)


def link(text: str, glossary) -> str:
    return lg.link_source(text, glossary, set())


def test_reads_terms_and_aliases(glossary) -> None:
    entry = glossary.entry_of
    assert entry["循环神经网络"] == entry["递归神经网络"]
    assert len(set(entry.values())) == 7
    assert glossary.names[0] == "编码器-解码器"  # longest first


def test_first_prose_use_only(glossary) -> None:
    text = "时间步是序列中的位置。每个时间步读入一个输入。"
    assert link(text, glossary) == "{term}`时间步`是序列中的位置。每个时间步读入一个输入。"


def test_headings_labels_and_html_are_skipped(glossary) -> None:
    text = "# 时间步与展开\n\n(sec-unroll)=\n<b>时间步</b>\n\n正文中的时间步。"
    out = link(text, glossary).split("\n")
    assert out[0] == "# 时间步与展开"
    assert out[-1] == "正文中的{term}`时间步`。"
    assert "<b>时间步</b>" in out


def test_math_code_links_and_roles_are_skipped(glossary) -> None:
    text = (
        "公式 $\\text{时间步}$、代码 `时间步`、链接 [时间步](ch01.md)、"
        "{glue:text}`时间步`、{term}`展开`，最后才是时间步。"
    )
    out = link(text, glossary)
    assert out.endswith("最后才是{term}`时间步`。")
    assert out.count("{term}") == 2  # the existing {term}`展开` and the new one


def test_display_math_and_fenced_code_are_skipped(glossary) -> None:
    text = (
        "$$\n\\text{展开}\n$$\n\n```python\n# 展开\n```\n\n"
        "\\begin{align}\n展开\n\\end{align}\n\n展开。"
    )
    out = link(text, glossary)
    assert out.endswith("\n{term}`展开`。")
    assert out.count("{term}") == 1


def test_longest_term_wins(glossary) -> None:
    out = link("先讲静态展开，再讲编码器-解码器，然后是展开和编码器。", glossary)
    assert out == (
        "先讲{term}`静态展开`，再讲{term}`编码器-解码器`，然后是{term}`展开`和{term}`编码器`。"
    )


def test_an_alias_counts_as_the_same_entry(glossary) -> None:
    out = link("循环神经网络也叫递归神经网络。", glossary)
    assert out == "{term}`循环神经网络`也叫递归神经网络。"


def test_one_character_terms_are_not_linked(glossary) -> None:
    assert link("门的取值在 0 到 1 之间。", glossary) == "门的取值在 0 到 1 之间。"


def test_visible_admonitions_are_prose_dropdowns_are_not(glossary) -> None:
    text = (
        "```{admonition} 参考答案\n:class: dropdown\n时间步藏在这里。\n```\n\n"
        "```{note}\n注意：时间步从 0 开始。\n```"
    )
    out = link(text, glossary)
    assert "时间步藏在这里" in out
    assert "注意：{term}`时间步`从 0 开始" in out


def test_directive_options_and_titles_are_not_prose(glossary) -> None:
    text = "```{figure} fig.png\n:name: 时间步\n:alt: 展开\n\n展开的图。\n```\n\n展开。"
    out = link(text, glossary)
    assert out.endswith("\n{term}`展开`。") and out.count("{term}") == 1


def test_bold_that_would_break_is_dropped_bold_that_holds_is_kept(glossary) -> None:
    # Between two letters ``**{term}`…`**`` is no emphasis in CommonMark: drop the **.
    assert link("这叫作**时间步**，也叫帧。", glossary) == "这叫作{term}`时间步`，也叫帧。"
    # Next to punctuation the emphasis survives the role: keep it.
    assert link("太小（**时间步**）时", glossary) == "太小（**{term}`时间步`**）时"
    assert link("**时间步** 是位置。", glossary) == "**{term}`时间步`** 是位置。"
    # Closing ``**`` after the role's backtick and before a letter breaks too.
    assert link("**时间步**是位置。", glossary) == "{term}`时间步`是位置。"


def test_bold_around_more_than_the_term_is_passed_over(glossary) -> None:
    out = link("当作**时间步之和**交给它，时间步从 0 开始。", glossary)
    assert out == "当作**时间步之和**交给它，{term}`时间步`从 0 开始。"


def test_broken_emphasis_around_an_existing_role_is_repaired(glossary) -> None:
    text = "叫作**{term}`展开`**，以及（**{term}`时间步`**）。"
    assert link(text, glossary) == "叫作{term}`展开`，以及（**{term}`时间步`**）。"


def test_table_cells_lists_and_quotes_are_prose(glossary) -> None:
    table = "| 代码 | 说明 |\n|---|---|\n| `时间步` | 时间步的位置 |"
    assert link(table, glossary).endswith("| `时间步` | {term}`时间步`的位置 |")
    nested = "- 第一项\n  > 引用里的展开\n- 时间步"
    assert link(nested, glossary) == "- 第一项\n  > 引用里的{term}`展开`\n- {term}`时间步`"


def test_colon_fences_are_directives_too(glossary) -> None:
    text = ":::{admonition} 答案\n:class: dropdown\n时间步\n:::\n\n:::{tip}\n展开。\n:::"
    assert link(text, glossary) == (
        ":::{admonition} 答案\n:class: dropdown\n时间步\n:::\n\n:::{tip}\n{term}`展开`。\n:::"
    )


def test_text_inside_inline_html_is_skipped(glossary) -> None:
    text = '前面 <span class="x">时间步</span> 后面的时间步，<br> 展开'
    assert link(text, glossary) == (
        '前面 <span class="x">时间步</span> 后面的{term}`时间步`，<br> {term}`展开`'
    )


def test_prose_spans_are_columns_of_the_source_lines() -> None:
    spans = lg.prose_spans("# 标题\n\n正文 `code` 的 $x$ 时间步")
    assert spans == {2: [(0, 3), (9, 12), (15, 19)]}  # heading, code and math left out


def test_already_linked_terms_stay_as_they_are(glossary) -> None:
    done = lg.linked_entries(["见{term}`递归神经网络`。"], glossary)
    out = lg.link_source("循环神经网络。", glossary, done)
    assert out == "循环神经网络。"


def _notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 第一章\n\n循环神经网络在每个时间步读入一个输入。"),
        nbformat.v4.new_code_cell("x = '时间步'\nprint(x)"),
        nbformat.v4.new_markdown_cell("再说一次：循环神经网络与时间步。静态展开。"),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="时间步\n")]
    nb.cells[1].execution_count = 1
    text = nbformat.writes(nb, version=4)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_notebook_markdown_linked_once_and_idempotent(tmp_path: Path, glossary) -> None:
    path = _notebook(tmp_path / "ch01.ipynb")
    code_before = nbformat.read(path, as_version=4).cells[1]
    assert lg.link_notebook(path, glossary) is True
    first = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].source == (
        "# 第一章\n\n{term}`循环神经网络`在每个{term}`时间步`读入一个输入。"
    )
    assert nb.cells[2].source == "再说一次：循环神经网络与时间步。{term}`静态展开`。"
    assert nb.cells[1] == code_before  # code and outputs untouched: nothing to re-execute
    assert lg.link_notebook(path, glossary) is False
    assert path.read_bytes() == first


def test_check_mode_reports_without_writing(tmp_path: Path, glossary) -> None:
    path = _notebook(tmp_path / "ch02.ipynb")
    glossary_file = tmp_path / "glossary.md"
    before = path.read_bytes()
    assert lg.main(["--check", "--glossary", str(glossary_file), str(path)]) == 1
    assert path.read_bytes() == before
    assert lg.main(["--glossary", str(glossary_file), str(path)]) == 0
    assert lg.main(["--check", "--glossary", str(glossary_file), str(path)]) == 0


@pytest.mark.parametrize(
    "text",
    [
        "这叫作**时间步**，也叫帧。",
        "太小（**时间步**）时",
        "**时间步**是位置。",
        "当作**时间步之和**交给它，时间步从 0 开始。",
        "先讲*静态展开*再讲__展开__。",
    ],
)
def test_linked_text_parses_as_intended(glossary, text: str) -> None:
    """The real MyST parser sees every role, and no emphasis marker is left as text."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    out = link(text, glossary)
    tokens = create_md_parser(MdParserConfig(), RendererHTML).parseInline(out)[0].children
    roles = [t.content for t in tokens if t.type == "myst_role"]
    assert len(roles) == out.count("{term}")
    assert not any(t.type == "text" and ("*" in t.content or "__" in t.content) for t in tokens)
