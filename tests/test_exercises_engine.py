"""The engine of the checkers (``companion.exercises.feedback``), on every exercise.

Every :class:`Exercise` and :class:`Formula` of chapters 1-8 is found here and
held to the same promises: its reference passes, each named mistake gets its
own message, a function that is missing, crashes or forgets ``return`` gets a
clear one, and the cases are the same on every call. The chapter test files
write the mistakes by hand, the way a reader would.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from companion import torch_rnn as trnn
from companion.exercises import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08
from companion.exercises.feedback import (
    CheckResult,
    Exercise,
    Formula,
    Mistake,
    describe_difference,
)

MODULES = [ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08]
EXERCISES = {
    f"{m.__name__.rsplit('.', 1)[1]}.{name}": value
    for m in MODULES
    for name, value in vars(m).items()
    if isinstance(value, Exercise | Formula)
}
ARRAY_EXERCISES = {k: v for k, v in EXERCISES.items() if isinstance(v, Exercise)}
# The mistakes of UNSTACK are written in the stacked view the checker compares
# (an array, where a reader returns a list); test_exercises_ch05 writes them as lists.
DIRECT = {k: v for k, v in EXERCISES.items() if k != "ch05.UNSTACK"}
CHECKERS = {f"{m.__name__[-4:]}.{name}": getattr(m, name) for m in MODULES for name in m.__all__}


def test_every_chapter_has_exercises():
    assert {key.split(".")[0] for key in EXERCISES} == {m.__name__[-4:] for m in MODULES}


@pytest.mark.parametrize("key", list(ARRAY_EXERCISES))
def test_cases_are_fresh_and_reproducible(key):
    exercise = ARRAY_EXERCISES[key]
    first, second = exercise.cases(), exercise.cases()
    assert first is not second and len(first) >= 3
    for a, b in zip(first, second, strict=True):
        assert list(a) == list(b)
        for x, y in zip(a.values(), b.values(), strict=True):
            if isinstance(x, np.ndarray):
                np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("key", [k for k, v in ARRAY_EXERCISES.items() if v.prepare is None])
def test_the_reference_passes_its_own_check(key):
    result = ARRAY_EXERCISES[key].check(ARRAY_EXERCISES[key].reference)
    assert isinstance(result, CheckResult) and result.passed, str(result)
    assert str(result).startswith("✔ 通过")


@pytest.mark.parametrize(
    ("key", "k"), [(key, k) for key, ex in DIRECT.items() for k in range(len(ex.mistakes))]
)
def test_each_named_mistake_gets_its_own_message(key, k):
    exercise = DIRECT[key]
    mistake = exercise.mistakes[k]
    result = exercise.check(mistake.compute)
    assert not result.passed and str(result).startswith("✘ 未通过")
    assert len(result.messages) == 1
    assert f"：{mistake.name}。{mistake.hint}" in result.messages[0]


@pytest.mark.parametrize("key", list(EXERCISES))
def test_mistake_names_are_distinct(key):
    names = [m.name for m in EXERCISES[key].mistakes]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("key", list(EXERCISES))
def test_not_a_function_and_a_crash(key):
    exercise = EXERCISES[key]
    result = exercise.check(np.zeros(3))
    assert not result.passed and result.messages == ["请传入一个函数，而不是 ndarray。"]

    def crashes(*args):
        raise RuntimeError("boom")

    result = exercise.check(crashes)
    assert not result.passed and "第 1 个测试用例" in result.messages[0]
    assert "运行出错：RuntimeError: boom" in result.messages[0]


@pytest.mark.parametrize("key", [k for k, v in ARRAY_EXERCISES.items() if v.prepare is None])
def test_forgotten_return(key):
    result = ARRAY_EXERCISES[key].check(lambda *args: None)
    assert result.messages == ["第 1 个测试用例：函数返回了 None——是不是忘了写 return？"]


@pytest.mark.parametrize("key", list(ARRAY_EXERCISES))
def test_a_bad_backend_raises_value_error_naming_it(key):
    with pytest.raises(ValueError, match=r"backend must be one of \('numpy', 'torch'\); got 'jax'"):
        ARRAY_EXERCISES[key].check(lambda *args: None, backend="jax")


def test_torch_backend_gives_tensors_and_torch_cells():
    seen = []

    def records(cell, X):
        seen.append((type(cell).__module__, type(X)))
        return cell.zero_state(X.shape[0])

    ch02.check_final_state(records, backend="torch")
    assert seen[0] == ("companion.torch_rnn", torch.Tensor)
    step = ch01.check_rnn_step(
        lambda Wx, Wy, b, x, h: torch.tanh(x @ Wx + h @ Wy + b), backend="torch"
    )
    assert step.passed, str(step)
    final = ch02.check_final_state(lambda cell, X: trnn.dynamic_rnn(cell, X)[1], backend="torch")
    assert final.passed, str(final)


def test_editing_an_argument_in_place_is_harmless_and_named_when_wrong():
    def right_in_place(Wx, Wy, b, x, h):
        h[...] = np.tanh(x @ Wx + h @ Wy + b)
        return h

    result = ch01.check_rnn_step(right_in_place)
    assert result.passed and result.messages == ["全部 4 个测试用例一致。"]

    def wrong_in_place(Wx, Wy, b, x, h):
        x[...] = 0.0
        return np.tanh(x @ Wx + h @ Wy + b)

    result = ch01.check_rnn_step(wrong_in_place)
    assert not result.passed and len(result.messages) == 1
    assert "函数修改了传入的 x" in result.messages[0]


def test_whole_numbers_are_shown_as_such():
    assert describe_difference("n", 21, 20) == "n 的数值不对：应为 20，得到 21。"
    assert describe_difference("v", 1.5, 2.0) == "v 的数值不对：应为 2.0000，得到 1.5000。"
    text = describe_difference("active", np.array([3, 2, 1]), np.array([3, 2, 2]), axes=("时间步",))
    assert "时间步 = 2" in text and "（应为 2，得到 1）" in text


@pytest.mark.parametrize("key", list(CHECKERS))
def test_every_checker_is_named_and_documented_with_its_shapes(key):
    check = CHECKERS[key]
    assert check.__name__ == key.split(".")[1]
    assert "Inputs:" in check.__doc__ and "Outputs:" in check.__doc__
    assert list(inspect.signature(check).parameters)[0] == "fn"


def test_a_mistake_is_its_name_then_its_hint():
    mistake = Mistake("漏掉了偏置 b。加上 b。形状 [n_neurons]。", np.tanh)
    assert mistake.name == "漏掉了偏置 b"
    assert mistake.hint == "加上 b。形状 [n_neurons]。"
    pair = Mistake.table("甲。一", np.tanh, "乙。二", np.exp)
    assert [(m.name, m.compute) for m in pair] == [("甲", np.tanh), ("乙", np.exp)]
