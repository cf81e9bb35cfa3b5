"""Tests of the chapter 6 checkers (``companion.exercises.ch06``).

The reference solutions pass; each typical mistake gets its own message; a
crashing function gets a clear message. The byte-count checker compares with
a measurement, and the measurement must agree with the closed formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from companion import numpy_rnn as nrnn
from companion.exercises import ch06


def run_in_chunks(cell, X, chunk, initial_state=None):
    state, outputs = initial_state, []
    for start in range(0, X.shape[1], chunk):
        out, state = nrnn.dynamic_rnn(cell, X[:, start : start + chunk], initial_state=state)
        outputs.append(out)
    return np.concatenate(outputs, axis=1), state


def kept_bytes(batch, n_steps, n_inputs, n_neurons, chunk):
    return 4 * batch * (n_inputs * n_steps + n_neurons * math.ceil(n_steps / chunk))


def test_run_in_chunks_reference_passes():
    result = ch06.check_run_in_chunks(run_in_chunks)
    assert result.passed, str(result)


def test_run_in_chunks_other_correct_solutions_pass():
    def whole(cell, X, chunk, initial_state):  # not in chunks at all, but the same result
        return nrnn.dynamic_rnn(cell, X, initial_state=initial_state)

    def split_by_array_split(cell, X, chunk, h):  # other names, np.array_split
        n_chunks = -(-X.shape[1] // chunk)
        outputs = []
        for piece in np.array_split(X, n_chunks, axis=1):
            out, h = nrnn.dynamic_rnn(cell, piece, initial_state=h)
            outputs.append(out)
        return np.concatenate(outputs, axis=1), h

    assert ch06.check_run_in_chunks(whole).passed
    assert ch06.check_run_in_chunks(split_by_array_split).passed


def _state_not_carried(cell, X, chunk, initial_state):
    pieces = [
        nrnn.dynamic_rnn(cell, X[:, s : s + chunk], initial_state=initial_state)
        for s in range(0, X.shape[1], chunk)
    ]
    return np.concatenate([out for out, _ in pieces], axis=1), pieces[-1][1]


def _initial_state_ignored(cell, X, chunk, initial_state):
    return run_in_chunks(cell, X, chunk, None)


def _last_chunk_dropped(cell, X, chunk, initial_state):
    state, outputs = initial_state, []
    for k in range(X.shape[1] // chunk):
        out, state = nrnn.dynamic_rnn(cell, X[:, k * chunk : (k + 1) * chunk], initial_state=state)
        outputs.append(out)
    return np.concatenate(outputs, axis=1), state


def _first_chunk_state(cell, X, chunk, initial_state):
    outputs, _ = run_in_chunks(cell, X, chunk, initial_state)
    _, first = nrnn.dynamic_rnn(cell, X[:, :chunk], initial_state=initial_state)
    return outputs, first


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (_state_not_carried, "没有把上一段的最终状态传下去"),
        (_initial_state_ignored, "第一段没有用 initial_state"),
        (_last_chunk_dropped, "漏掉了最后不满 chunk 步的那一段"),
        (_first_chunk_state, "第一段之后的状态"),
    ],
)
def test_run_in_chunks_mistakes_are_named(fn, words):
    result = ch06.check_run_in_chunks(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_run_in_chunks_unknown_mistake_points_at_the_gap():
    def off_by_a_bit(cell, X, chunk, initial_state):
        outputs, state = run_in_chunks(cell, X, chunk, initial_state)
        return outputs + 0.1, state

    result = ch06.check_run_in_chunks(off_by_a_bit)
    assert not result.passed
    assert "outputs 的数值不对" in str(result) and "时间步" in str(result)


def test_run_in_chunks_in_place_changes_do_not_leak_into_later_cases():
    def scribbles(cell, X, chunk, initial_state):
        result = run_in_chunks(cell, X, chunk, initial_state)
        X[...] = 0
        if initial_state is not None:
            initial_state[...] = 0
        return result

    assert ch06.check_run_in_chunks(scribbles).passed


def test_measured_bytes_equal_the_formula():
    for case in ch06.CHECKPOINT_BYTES.cases:
        assert ch06.measured_checkpoint_bytes(*case) == kept_bytes(*case)


def test_checkpoint_bytes_reference_passes():
    result = ch06.check_checkpoint_bytes(kept_bytes)
    assert result.passed, str(result)
    assert "实测" in str(result)


def test_checkpoint_bytes_accepts_numpy_and_torch_integers():
    assert ch06.check_checkpoint_bytes(lambda *case: np.int64(kept_bytes(*case))).passed
    assert ch06.check_checkpoint_bytes(lambda *case: torch.tensor(kept_bytes(*case))).passed


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lambda b, n, i, h, k: 4 * b * (i * n + h * (n // k)), "向下取整"),
        (lambda b, n, i, h, k: 4 * b * (i * n + h * (math.ceil(n / k) + 1)), "多算了一个状态"),
        (lambda b, n, i, h, k: 4 * b * h * math.ceil(n / k), "漏掉了输入"),
        (lambda b, n, i, h, k: 4 * b * ((i + h) * n + h), "不做检查点"),
        (lambda b, n, i, h, k: 8 * b * (i * n + h * math.ceil(n / k)), "float64"),
    ],
)
def test_checkpoint_bytes_mistakes_are_named(fn, words):
    result = ch06.check_checkpoint_bytes(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_checkpoint_bytes_unknown_error_reports_both_numbers():
    result = ch06.check_checkpoint_bytes(lambda *case: kept_bytes(*case) + 3)
    assert not result.passed
    want = kept_bytes(4, 12, 3, 5, 3)  # the first case
    assert f"实测 {want} 字节" in str(result) and f"{want + 3} 字节" in str(result)
    assert "+3" in str(result)


def test_checkpoint_bytes_wrong_return_type():
    result = ch06.check_checkpoint_bytes(lambda *case: "很多")
    assert not result.passed and "整数" in str(result)


@pytest.mark.parametrize("check", [ch06.check_run_in_chunks, ch06.check_checkpoint_bytes])
def test_a_crashing_function_gets_a_clear_message(check):
    def crashes(*args):
        raise ZeroDivisionError("division by zero")

    result = check(crashes)
    assert not result.passed
    assert "运行出错" in str(result) and "ZeroDivisionError" in str(result)


@pytest.mark.parametrize("check", [ch06.check_run_in_chunks, ch06.check_checkpoint_bytes])
def test_not_a_function(check):
    result = check(42)
    assert not result.passed and "函数" in str(result)
