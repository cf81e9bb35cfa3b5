"""Tests for the character model of chapter 12: the prose snapshot, the vocabulary, CharLM,
and the committed checkpoint with its reference samples."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion.data.characters import (
    SNAPSHOT,
    UNK,
    CharVocabulary,
    course_paragraphs,
    load_course_prose,
    train_validation_text,
)
from companion.models.char_lm import CHECKPOINT, CharLM

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "companion" / "data" / "char_lm_samples.json"
CJK = re.compile(r"[\u4e00-\u9fff]")
#: What the committed checkpoint must reach on the validation paragraphs (float64).
PERPLEXITY_BOUND = 40.0

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def checkpoint() -> CharLM:
    return CharLM.load(CHECKPOINT)


@pytest.fixture(scope="module")
def small_vocabulary() -> CharVocabulary:
    return CharVocabulary.from_text("循环神经网络的输出，是状态。\n")


# --- the frozen snapshot ----------------------------------------------------------------
# The snapshot is frozen (Part I may be edited later without retraining the checkpoint),
# so its properties are tested, not its equality with today's Part I.


def test_snapshot_size_and_characters():
    text = load_course_prose()
    n_cjk = len(CJK.findall(text))
    assert 20_000 <= n_cjk <= 60_000
    assert 700 <= len(set(text)) <= 1200
    assert text.endswith("\n") and "\n\n" not in text
    # Chinese prose: most characters are Chinese, with its own punctuation
    assert n_cjk / len(text) > 0.6
    assert text.count("，") > 500 and text.count("。") > 500


def test_snapshot_has_no_markup_math_or_code():
    text = load_course_prose()
    for forbidden in ("$", "{", "}", "`", "\\", "|", "#", "http", "```", ":::", "\x00", "**"):
        assert forbidden not in text, forbidden
    for code in ("import ", "def ", "print(", " = np.", "torch.as_tensor("):
        assert code not in text, code


def test_snapshot_lines_are_paragraphs_of_prose():
    paragraphs = course_paragraphs()
    assert len(paragraphs) > 300
    assert all(p == p.strip() and len(CJK.findall(p)) >= 5 for p in paragraphs)


def _extractor():
    spec = importlib.util.spec_from_file_location("extract_prose", ROOT / "tools/extract_prose.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_extractor_keeps_prose_and_drops_markup():
    extract = _extractor()
    source = (
        "## 小节的标题很长\n\n"
        "一个{term}`时间步`读入 `x_t`，见[第 7 章](ch07.ipynb) {cite}`geron2017handson`。"
        "形状为 $[m, n]$ 的张量，逐步计算。结果是 {glue:text}`n:d` 个。后面还有话。\n\n"
        "- 第一条列表项目\n- 第二条列表项目\n\n"
        "```python\nprint('代码不要')\n```\n\n"
        "| 表头一二三四五 | 表格 |\n|---|---|\n| 表格内容不要 | 不要 |\n\n"
        "$$\n公式也不要一二三\n$$\n\n"
        "```{admonition} 答案的标题\n:class: dropdown\n练习的答案要保留。\n```\n"
    )
    lines = [extract.tidy(p) for p in extract.markdown_paragraphs(source)]
    lines = [line for line in lines if len(CJK.findall(line)) >= extract.MIN_CJK]
    assert lines == [
        "小节的标题很长",
        "一个时间步读入 x_t，见第 7 章。逐步计算。后面还有话。",
        "第一条列表项目",
        "第二条列表项目",
        "练习的答案要保留。",
    ]


# --- CharVocabulary and the split -------------------------------------------------------


def test_vocabulary_is_sorted_and_round_trips_the_corpus():
    text = load_course_prose()
    vocabulary = CharVocabulary.from_text(text)
    assert list(vocabulary.tokens) == sorted(set(text))
    assert len(vocabulary) == vocabulary.size == len(set(text))
    ids = vocabulary.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert vocabulary.decode(ids) == text
    assert vocabulary.decode(ids.tolist()[:10]) == text[:10]
    assert vocabulary.characters() == "".join(sorted(set(text)))


def test_vocabulary_unknown_characters():
    vocabulary = CharVocabulary("甲乙")
    with pytest.raises(ValueError, match=r"text\[1\] = '丙' is not in the vocabulary of 2"):
        vocabulary.encode("甲丙")
    with_unk = CharVocabulary("乙甲乙", unk=True)
    assert with_unk.tokens == (UNK, "乙", "甲")
    assert with_unk.encode("甲丙乙").tolist() == [2, 0, 1]
    assert with_unk.characters() == "乙甲"
    assert with_unk != vocabulary and CharVocabulary("乙甲") == vocabulary


def test_vocabulary_bad_input():
    with pytest.raises(TypeError, match="characters must be a str"):
        CharVocabulary(["a"])
    with pytest.raises(ValueError, match="at least one character"):
        CharVocabulary("")
    with pytest.raises(TypeError, match="unk must be a bool"):
        CharVocabulary("ab", unk=1)
    with pytest.raises(TypeError, match="text must be a str"):
        CharVocabulary("ab").encode(["a"])
    with pytest.raises(ValueError, match=r"ids\[1\] must be an int in \[0, 1\]"):
        CharVocabulary("ab").decode([0, 2])


def test_split_is_fixed_and_by_whole_paragraphs():
    paragraphs = course_paragraphs()
    train, valid = train_validation_text()
    assert (train, valid) == train_validation_text(paragraphs)
    valid_lines = valid.splitlines()
    assert valid_lines == paragraphs[9::10]
    assert len(train.splitlines()) + len(valid_lines) == len(paragraphs)
    assert train.endswith("\n") and valid.endswith("\n")
    assert len(valid) / (len(train) + len(valid)) > 0.05
    toy = [f"第{k}段" for k in range(20)]
    assert train_validation_text(toy)[1] == "第9段\n第19段\n"
    with pytest.raises(TypeError, match="paragraphs must be a list of str"):
        train_validation_text("第一段")


# --- CharLM -----------------------------------------------------------------------------


def test_shapes_and_the_loss_is_shifted_cross_entropy(small_vocabulary):
    model = CharLM(small_vocabulary, 6, n_embedding=4, seed=0, dtype=torch.float64)
    V = small_vocabulary.size
    ids = np.random.default_rng(0).integers(0, V, size=(3, 8))
    logits, state = model(ids[:, :-1])
    assert logits.shape == (3, 7, V) and state.shape == (3, 6)
    loss = model.loss(ids)
    assert loss.shape == () and loss.dtype == torch.float64
    expected = F.cross_entropy(logits.reshape(-1, V), torch.as_tensor(ids[:, 1:]).reshape(-1))
    assert abs(float(loss.detach()) - float(expected.detach())) < 1e-12


def test_lstm_cell_works_too(small_vocabulary):
    model = CharLM(small_vocabulary, 5, n_embedding=3, cell="lstm", seed=1)
    logits, state = model(np.zeros((2, 4), dtype=np.int64))
    assert logits.shape == (2, 4, small_vocabulary.size) and state.h.shape == (2, 5)


def test_same_seed_same_model(small_vocabulary):
    a = CharLM(small_vocabulary, 6, seed=3).state_dict()
    b = CharLM(small_vocabulary, 6, seed=3).state_dict()
    c = CharLM(small_vocabulary, 6, seed=4).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["embedding.weight"], c["embedding.weight"])


def test_a_uniform_model_has_perplexity_equal_to_the_vocabulary_size(small_vocabulary):
    model = CharLM(small_vocabulary, 6, seed=0, dtype=torch.float64)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    text = "循环神经网络的输出，是状态。\n循环的状态"
    assert abs(model.perplexity(text) - small_vocabulary.size) < 1e-9


def test_perplexity_is_exp_of_the_mean_cross_entropy(small_vocabulary):
    model = CharLM(small_vocabulary, 6, seed=2, dtype=torch.float64)
    text = "网络的输出是状态，循环。"
    ids = small_vocabulary.encode("\n" + text)  # a paragraph is read after a break
    with torch.no_grad():
        logits, _ = model(ids[None, :-1])
        ce = F.cross_entropy(logits[0], torch.as_tensor(ids[1:]))
    assert abs(model.perplexity(text) / np.exp(float(ce)) - 1) < 1e-12


def test_perplexity_reads_each_paragraph_from_the_zero_state(small_vocabulary):
    model = CharLM(small_vocabulary, 6, seed=4, dtype=torch.float64)
    paragraphs = ["循环神经网络的输出，", "是状态。", "网络"]
    text = "\n".join(paragraphs[:2]) + "\n" + paragraphs[2]  # the last one without a break
    total = 0.0
    with torch.no_grad():
        for piece in ("循环神经网络的输出，\n", "是状态。\n", "网络"):
            ids = small_vocabulary.encode("\n" + piece)
            logits, _ = model(ids[None, :-1])
            total += float(F.cross_entropy(logits[0], torch.as_tensor(ids[1:]), reduction="sum"))
    assert abs(model.perplexity(text) / np.exp(total / len(text)) - 1) < 1e-12
    with pytest.raises(ValueError, match="paragraph break"):
        CharLM(CharVocabulary("甲乙"), 3, seed=0).perplexity("甲乙")


def test_save_load_round_trip(small_vocabulary, tmp_path):
    model = CharLM(small_vocabulary, 7, n_embedding=5, seed=5, dtype=torch.float32)
    path = tmp_path / "lm.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:  # no pickles inside
        assert data["embedding"].dtype == np.float32
        assert str(data["characters"]) == small_vocabulary.characters()
    loaded = CharLM.load(path)
    assert loaded.dtype == torch.float64 and loaded.vocabulary == small_vocabulary
    assert (loaded.n_neurons, loaded.n_embedding, loaded.cell_name) == (7, 5, "gru")
    same32 = CharLM.load(path, dtype=torch.float32).state_dict()
    original = model.state_dict()
    assert all(torch.equal(same32[k], original[k]) for k in original)  # float32 exactly kept
    ids = np.array([[0, 3, 2, 5, 1]])
    with torch.no_grad():
        gap = (loaded(ids)[0] - model(ids)[0].double()).abs().max()
    assert float(gap) < 1e-5


def test_generate_is_reproducible_and_runs_in_float64(small_vocabulary):
    model = CharLM(small_vocabulary, 6, seed=0)  # float32: generate works on a float64 copy
    rng = np.random.default_rng(8)
    text = model.generate("循环", 25, 1.0, rng)
    assert len(text) == 25 and set(text) <= set(small_vocabulary.tokens)
    assert rng.random() == np.random.default_rng(8).random(26)[25]  # one draw per character
    model64 = copy.deepcopy(model).double()  # the same weights, in float64
    assert model64.generate("循环", 25, 1.0, np.random.default_rng(8)) == text
    assert model.dtype == torch.float32  # the model itself is not changed
    assert model.generate("循环", 0, 1.0, np.random.default_rng(8)) == ""


def test_a_tiny_temperature_is_greedy(small_vocabulary):
    model = CharLM(small_vocabulary, 6, seed=0, dtype=torch.float64)
    text = model.generate("网", 6, 1e-4, np.random.default_rng(0))
    ids = list(small_vocabulary.encode("网"))
    with torch.no_grad():
        for _ in range(6):
            logits, _ = model(np.array([ids]))
            ids.append(int(logits[0, -1].argmax()))
    assert text == small_vocabulary.decode(ids[1:])


def test_charlm_bad_input(small_vocabulary):
    with pytest.raises(TypeError, match="vocabulary must be a CharVocabulary"):
        CharLM(884, 8)
    with pytest.raises(ValueError, match=r"cell must be one of \('gru', 'lstm'\)"):
        CharLM(small_vocabulary, 8, cell="rnn")
    with pytest.raises(ValueError, match="n_neurons must be an int >= 1"):
        CharLM(small_vocabulary, 0)
    with pytest.raises(TypeError, match="dtype must be"):
        CharLM(small_vocabulary, 8, dtype=torch.float16)
    model = CharLM(small_vocabulary, 4, seed=0)
    with pytest.raises(TypeError, match="ids must be an array \\[batch, n_steps\\] of integers"):
        model(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="ids must be an int array or tensor"):
        model([[0, 1]])
    with pytest.raises(
        ValueError, match=r"ids must have rank 2, shape \[batch, n_steps\]; got rank 1"
    ):
        model(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match=r"ids must be character ids in \[0, vocab_size\)"):
        model(np.array([[0, small_vocabulary.size]]))
    with pytest.raises(ValueError, match="ids must have at least 2 steps"):
        model.loss(np.zeros((2, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="text must be a non-empty str"):
        model.perplexity("")
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="prompt must be a non-empty str"):
        model.generate("", 5, 1.0, rng)
    with pytest.raises(ValueError, match="is not in the vocabulary"):
        model.generate("猫", 5, 1.0, rng)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        model.generate("网", 5, 0.0, rng)
    with pytest.raises(ValueError, match="n_chars must be an int >= 0"):
        model.generate("网", -1, 1.0, rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        model.generate("网", 5, 1.0, 0)


# --- the committed checkpoint -----------------------------------------------------------


def test_checkpoint_is_small_and_matches_the_snapshot(checkpoint):
    assert CHECKPOINT.stat().st_size < 1_000_000
    assert checkpoint.vocabulary == CharVocabulary.from_text(load_course_prose())
    assert checkpoint.dtype == torch.float64
    assert SNAPSHOT.exists()


def test_checkpoint_validation_perplexity(checkpoint):
    reference = json.loads(SAMPLES.read_text(encoding="utf-8"))
    ppl = checkpoint.perplexity(train_validation_text()[1])
    assert ppl < PERPLEXITY_BOUND < checkpoint.vocab_size / 10
    # float64: the stored figure is reproduced to many digits on any CPU
    assert abs(ppl / reference["validation_perplexity"] - 1) < 1e-9


def test_checkpoint_reproduces_the_reference_samples(checkpoint):
    reference = json.loads(SAMPLES.read_text(encoding="utf-8"))
    assert len(reference["samples"]) >= 3
    for sample in reference["samples"]:
        rng = np.random.default_rng(sample["seed"])
        text = checkpoint.generate(sample["prompt"], sample["n_chars"], sample["temperature"], rng)
        assert text == sample["text"], sample["temperature"]
