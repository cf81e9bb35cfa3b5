"""Tests of the chapter 7 checkers (``companion.exercises.ch07``).

Each typical mistake is written here the way a reader would write it, and must
be named by the checker; a correct answer passes; a crash is reported.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.exercises import ch07

# ----------------------------------------------------------------- mask_outputs


def mask_outputs(outputs, lengths):
    keep = np.arange(outputs.shape[1])[None, :] < lengths[:, None]
    return np.where(keep[:, :, None], outputs, 0.0)


def mask_outputs_in_place(outputs, lengths):
    for i, n in enumerate(lengths):
        outputs[i, n:] = 0
    return outputs


def mask_outputs_torch(outputs, lengths):
    out = torch.as_tensor(outputs)
    keep = torch.arange(out.shape[1]) < torch.as_tensor(lengths)[:, None]
    return out * keep[:, :, None]


def keras_style(outputs, lengths):
    out = outputs.copy()
    for i, n in enumerate(lengths):
        if n > 0:
            out[i, n:] = out[i, n - 1]
        else:
            out[i, :] = 0
    return out


def off_by_one_inclusive(outputs, lengths):
    keep = np.arange(outputs.shape[1])[None, :] <= lengths[:, None]
    return outputs * keep[:, :, None]


def off_by_one_short(outputs, lengths):
    out = outputs.copy()
    for i, n in enumerate(lengths):
        out[i, max(n - 1, 0) :] = 0
    return out


def time_major_mask(outputs, lengths):
    mask = np.arange(outputs.shape[1])[:, None] < lengths  # [n_steps, batch]
    return outputs * mask[..., None]


def neuron_axis_mask(outputs, lengths):
    mask = np.arange(outputs.shape[-1]) < lengths[:, None]
    return outputs * mask[:, None, :]


@pytest.mark.parametrize("fn", [mask_outputs, mask_outputs_in_place, mask_outputs_torch])
def test_mask_outputs_reference_passes(fn):
    result = ch07.check_mask_outputs(fn)
    assert result.passed, str(result)
    assert "通过" in str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (keras_style, "Keras"),
        (off_by_one_inclusive, "多保留了一个填充时间步"),
        (off_by_one_short, "丢掉了最后一个有效时间步"),
        (time_major_mask, "[n_steps, batch]"),
        (neuron_axis_mask, "神经元编号"),
    ],
)
def test_mask_outputs_names_each_mistake(fn, words):
    result = ch07.check_mask_outputs(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_mask_outputs_unknown_mistake_is_located():
    result = ch07.check_mask_outputs(lambda outputs, lengths: outputs)
    assert not result.passed
    text = str(result)
    assert "masked 的数值不对" in text and "实例 = " in text and "时间步 = " in text


def test_mask_outputs_wrong_shape_is_reported():
    result = ch07.check_mask_outputs(lambda outputs, lengths: outputs[:, :, 0])
    assert not result.passed and "形状应为" in str(result)


def test_mask_outputs_crash_and_not_a_function():
    def crashes(outputs, lengths):
        raise RuntimeError("boom")

    result = ch07.check_mask_outputs(crashes)
    assert not result.passed and "运行出错" in str(result) and "boom" in str(result)
    result = ch07.check_mask_outputs(None)
    assert not result.passed and "请传入一个函数" in str(result)


# ----------------------------------------------------------------- final_state


def final_state(outputs, lengths, initial_state):
    state = initial_state.copy()
    for i, n in enumerate(lengths):
        if n > 0:
            state[i] = outputs[i, n - 1]
    return state


def final_state_vectorized(outputs, lengths, initial_state):
    last = outputs[np.arange(len(lengths)), np.maximum(lengths - 1, 0)]
    return np.where((lengths > 0)[:, None], last, initial_state)


def last_column(outputs, lengths, initial_state):
    return outputs[:, -1]


def index_lengths(outputs, lengths, initial_state):
    return outputs[np.arange(len(lengths)), lengths]


def index_lengths_minus_two(outputs, lengths, initial_state):
    return outputs[np.arange(len(lengths)), lengths - 2]


def ignores_length_zero(outputs, lengths, initial_state):
    return outputs[np.arange(len(lengths)), lengths - 1]


def zeros_for_length_zero(outputs, lengths, initial_state):
    state = np.zeros_like(initial_state)
    for i, n in enumerate(lengths):
        if n > 0:
            state[i] = outputs[i, n - 1]
    return state


@pytest.mark.parametrize("fn", [final_state, final_state_vectorized])
def test_final_state_reference_passes(fn):
    result = ch07.check_final_state(fn)
    assert result.passed, str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (last_column, "outputs[:, -1]"),
        (index_lengths_minus_two, "lengths - 2"),
        (ignores_length_zero, "长度为 0 的实例没有返回初始状态"),
        (zeros_for_length_zero, "返回了零向量"),
        (index_lengths, "不是 n"),
    ],
)
def test_final_state_names_each_mistake(fn, words):
    result = ch07.check_final_state(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_final_state_index_error_keeps_the_original_message():
    text = str(ch07.check_final_state(index_lengths))
    assert "IndexError" in text and "out of bounds" in text


def test_final_state_unknown_mistake_is_located():
    result = ch07.check_final_state(lambda outputs, lengths, initial_state: initial_state)
    text = str(result)
    assert not result.passed and "state 的数值不对" in text and "实例 = " in text


def test_final_state_reference_equals_dynamic_rnn_state():
    # The checker's cases: the reference must be what dynamic_rnn returns as state.
    from companion import numpy_rnn as nr

    cell = ch07._cell(3, 4, seed=0)
    rng = np.random.default_rng(0)
    X, h0 = rng.normal(size=(5, 4, 3)), rng.normal(size=(5, 4))
    lengths = np.array([4, 2, 1, 0, 3])
    full, _ = nr.dynamic_rnn(cell, X, initial_state=h0)
    _, state = nr.dynamic_rnn(cell, X, sequence_length=lengths, initial_state=h0)
    np.testing.assert_allclose(ch07._final_reference(full, lengths, h0), state, atol=1e-12)


# ----------------------------------------------------------------- packing_plan


def my_packing_plan(lengths):
    order = np.argsort(-lengths, kind="stable")
    active = [int((lengths > t).sum()) for t in range(lengths.max())]
    return order, active


def my_packing_plan_loops(lengths):
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])  # sorted() is stable
    active = []
    for t in range(max(lengths)):
        active.append(sum(1 for n in lengths if n > t))
    return order, active


@pytest.mark.parametrize("fn", [my_packing_plan, my_packing_plan_loops])
def test_packing_plan_reference_solutions_pass(fn):
    result = ch07.check_packing_plan(fn)
    assert result.passed, str(result)


def test_packing_plan_reference_matches_the_chapters_answer():
    order, active = ch07._plan_reference(np.array([3, 0, 1, 3]))
    assert order.tolist() == [0, 3, 2, 1] and active.tolist() == [3, 2, 2]


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lambda n: (np.argsort(n, kind="stable"), my_packing_plan(n)[1]), "升序"),
        (lambda n: (np.argsort(n, kind="stable")[::-1], my_packing_plan(n)[1]), "顺序颠倒"),
        (
            lambda n: (my_packing_plan(n)[0], [int((n >= t).sum()) for t in range(n.max())]),
            ">= 而不是 >",
        ),
        (lambda n: (my_packing_plan(n)[0], np.sort(n)[::-1]), "排好序的长度"),
        (
            lambda n: ([i for i in my_packing_plan(n)[0] if n[i] > 0], my_packing_plan(n)[1]),
            "长度为 0",
        ),
    ],
)
def test_packing_plan_names_each_mistake(fn, words):
    result = ch07.check_packing_plan(fn)
    assert not result.passed
    assert len(result.messages) == 1
    assert words in result.messages[0], str(result)


def test_packing_plan_unknown_mistake_and_wrong_count_of_values():
    result = ch07.check_packing_plan(lambda n: (my_packing_plan(n)[0], [3, 2, 1]))
    assert "active 的数值不对" in result.messages[0] and "时间步 = 2" in result.messages[0]
    result = ch07.check_packing_plan(lambda n: my_packing_plan(n)[0])
    assert "函数应返回 2 个值（order、active），得到 1 个" in result.messages[0]


def test_packing_plan_crash_and_not_a_function():
    result = ch07.check_packing_plan(lambda n: n.foo)
    assert not result.passed
    assert (
        "第 1 个测试用例运行出错" in result.messages[0] and "AttributeError" in result.messages[0]
    )
    assert "请传入一个函数" in ch07.check_packing_plan("order").messages[0]


def test_packing_plan_in_place_sort_does_not_leak():
    def sorts_in_place(lengths):
        result = my_packing_plan(lengths)
        lengths.sort()
        return result

    assert ch07.check_packing_plan(sorts_in_place).passed
