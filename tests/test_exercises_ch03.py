"""Tests of the chapter 3 checkers (``companion.exercises.ch03``).

The reference solution passes; every typical mistake is named in its own
message; a crashing or non-callable answer gets a clear message.
"""

from __future__ import annotations

import numpy as np
import pytest

from companion import numpy_rnn as nrnn
from companion.exercises.ch03 import (
    check_last_valid_outputs,
    check_vector_to_sequence_inputs,
)
from companion.exercises.feedback import CheckResult

# --------------------------------------------------------------------------- padded seq-to-vector


def outputs_of(cell, X):
    return nrnn.dynamic_rnn(cell, X)[0]


def last_valid(cell, X, lengths):
    return outputs_of(cell, X)[np.arange(X.shape[0]), lengths - 1]


def test_last_valid_reference_passes():
    result = check_last_valid_outputs(last_valid)
    assert isinstance(result, CheckResult)
    assert result.passed, str(result)
    assert "通过" in str(result)


def test_last_valid_loop_over_instances_passes():
    def by_instance(cell, X, lengths):
        rows = []
        for i, n in enumerate(lengths):
            outputs, state = nrnn.dynamic_rnn(cell, X[i : i + 1, :n])  # only the real steps
            rows.append(state[0])
        return np.stack(rows)

    assert check_last_valid_outputs(by_instance)


def test_last_valid_sequence_length_passes():
    """dynamic_rnn's sequence_length (chapter 7) returns exactly these vectors as state."""
    assert check_last_valid_outputs(
        lambda cell, X, lengths: nrnn.dynamic_rnn(cell, X, sequence_length=lengths)[1]
    )


def test_last_valid_torch_tensor_answer_passes():
    torch = pytest.importorskip("torch")
    assert check_last_valid_outputs(
        lambda cell, X, lengths: torch.from_numpy(last_valid(cell, X, lengths))
    )


@pytest.mark.parametrize(
    ("wrong", "name"),
    [
        (lambda cell, X, lengths: outputs_of(cell, X)[:, -1], "outputs[:, -1]"),
        (lambda cell, X, lengths: nrnn.dynamic_rnn(cell, X)[1], "outputs[:, -1]"),
        (
            lambda cell, X, lengths: outputs_of(cell, X)[np.arange(len(lengths)), lengths],
            "差了一步",
        ),
        (lambda cell, X, lengths: outputs_of(cell, X)[:, lengths - 1], "[batch, batch, n_neurons]"),
    ],
    ids=["padded-last-step", "padded-state", "one-step-late", "fancy-index-without-instances"],
)
def test_last_valid_names_each_mistake(wrong, name):
    result = check_last_valid_outputs(wrong)
    assert not result.passed
    assert len(result.messages) == 1
    assert name in result.messages[0], str(result)


def test_last_valid_in_place_edit_does_not_spoil_later_cases():
    def edits_then_right(cell, X, lengths):
        answer = last_valid(cell, X, lengths)
        X[:] = 0.0
        lengths[:] = 1
        return answer

    assert check_last_valid_outputs(edits_then_right)


def test_last_valid_unknown_error_reports_where():
    result = check_last_valid_outputs(lambda cell, X, lengths: last_valid(cell, X, lengths) + 0.5)
    assert not result.passed
    message = result.messages[0]
    assert "数值不对" in message
    assert "实例 = " in message and "神经元 = " in message


def test_last_valid_wrong_shape_reported():
    result = check_last_valid_outputs(lambda cell, X, lengths: np.zeros(3))
    assert not result.passed
    assert "形状" in result.messages[0]


def test_last_valid_crash_gets_clear_message():
    def crashes(cell, X, lengths):
        raise RuntimeError("boom")

    result = check_last_valid_outputs(crashes)
    assert not result.passed
    assert "运行出错" in result.messages[0]
    assert "RuntimeError: boom" in result.messages[0]


# --------------------------------------------------------------------------- vector-to-seq


def first_step(v, n_steps):
    X = np.zeros((v.shape[0], n_steps, v.shape[1]))
    X[:, 0] = v
    return X


def test_vector_to_sequence_reference_passes():
    result = check_vector_to_sequence_inputs(first_step)
    assert result.passed, str(result)


def test_vector_to_sequence_concatenate_solution_passes():
    def concatenated(v, n_steps):
        zeros = np.zeros((v.shape[0], n_steps - 1, v.shape[1]))
        return np.concatenate([v[:, None, :], zeros], axis=1)

    assert check_vector_to_sequence_inputs(concatenated)


def test_vector_to_sequence_float32_answer_passes():
    assert check_vector_to_sequence_inputs(lambda v, n_steps: first_step(v, n_steps).astype("f4"))


def last_step(v, n_steps):
    X = np.zeros((v.shape[0], n_steps, v.shape[1]))
    X[:, -1] = v
    return X


def time_major(v, n_steps):
    X = np.zeros((n_steps, v.shape[0], v.shape[1]))
    X[0] = v
    return X


def features_first(v, n_steps):
    X = np.zeros((v.shape[0], v.shape[1], n_steps))
    X[:, :, 0] = v
    return X


@pytest.mark.parametrize(
    ("wrong", "name"),
    [
        (lambda v, n_steps: np.stack([v] * n_steps, axis=1), "每个时间步都重复"),
        (last_step, "最后一个时间步"),
        (time_major, "时间优先"),
        (features_first, "[batch, n_inputs, n_steps]"),
        (lambda v, n_steps: first_step(v, n_steps + 1), "多了一个时间步"),
    ],
    ids=["repeated", "last-step", "time-major", "features-before-time", "one-step-too-many"],
)
def test_vector_to_sequence_names_each_mistake(wrong, name):
    result = check_vector_to_sequence_inputs(wrong)
    assert not result.passed
    assert name in result.messages[0], str(result)


def test_vector_to_sequence_time_major_named_even_when_shapes_coincide():
    def wrong(v, n_steps):
        return time_major(v, n_steps) if v.shape[0] == n_steps > 1 else first_step(v, n_steps)

    result = check_vector_to_sequence_inputs(wrong)
    assert not result.passed
    assert "时间优先" in result.messages[0]


def test_vector_to_sequence_unknown_error_reports_time_step():
    def wrong(v, n_steps):
        X = first_step(v, n_steps)
        X[:, -1] = 1.0
        return X

    result = check_vector_to_sequence_inputs(wrong)
    assert not result.passed
    assert "时间步 = " in result.messages[0]


def test_vector_to_sequence_crash_gets_clear_message():
    result = check_vector_to_sequence_inputs(lambda v, n_steps: v.reshape(-1, n_steps, 7))
    assert not result.passed
    assert "运行出错" in result.messages[0]
    assert "ValueError" in result.messages[0]
