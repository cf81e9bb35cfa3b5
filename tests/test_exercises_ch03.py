"""Tests of the chapter 3 checkers (``companion.exercises.ch03``).

The reference solution passes; every typical mistake is named in its own
message; a crashing or non-callable answer gets a clear message.
"""

from __future__ import annotations

import numpy as np
import pytest

from companion import numpy_rnn as nrnn
from companion.exercises.ch03 import check_seq_to_vector, check_vector_to_sequence_inputs
from companion.exercises.feedback import CheckResult

# --------------------------------------------------------------------------- seq-to-vector


def outputs_of(cell, X):
    return nrnn.dynamic_rnn(cell, X)[0]


def test_seq_to_vector_reference_passes():
    result = check_seq_to_vector(lambda cell, X: outputs_of(cell, X)[:, -1])
    assert isinstance(result, CheckResult)
    assert result.passed, str(result)
    assert "通过" in str(result)


def test_seq_to_vector_final_state_passes():
    assert check_seq_to_vector(lambda cell, X: nrnn.dynamic_rnn(cell, X)[1])


def test_seq_to_vector_step_by_step_loop_passes():
    def by_hand(cell, X):
        h = cell.zero_state(X.shape[0])
        for t in range(X.shape[1]):
            h = cell(X[:, t], h)
        return h

    assert check_seq_to_vector(by_hand)


def test_seq_to_vector_torch_tensor_answer_passes():
    torch = pytest.importorskip("torch")
    assert check_seq_to_vector(lambda cell, X: torch.from_numpy(outputs_of(cell, X)[:, -1]))


@pytest.mark.parametrize(
    ("wrong", "name"),
    [
        (lambda cell, X: outputs_of(cell, X)[:, 0], "第一个时间步"),
        (lambda cell, X: outputs_of(cell, X)[-1], "最后一个实例"),
        (lambda cell, X: outputs_of(cell, X)[:, -2], "倒数第二个时间步"),
        (lambda cell, X: outputs_of(cell, X).mean(axis=1), "平均"),
        (lambda cell, X: outputs_of(cell, X).sum(axis=1), "求了和"),
        (lambda cell, X: outputs_of(cell, X), "全部时间步"),
        (lambda cell, X: nrnn.dynamic_rnn(cell, X, time_major=True)[1], "time_major"),
    ],
    ids=["first-step", "last-instance", "second-last", "mean", "sum", "all-outputs", "time-major"],
)
def test_seq_to_vector_names_each_mistake(wrong, name):
    result = check_seq_to_vector(wrong)
    assert not result.passed
    assert len(result.messages) == 1
    assert name in result.messages[0], str(result)


def test_seq_to_vector_last_instance_named_even_when_shapes_coincide():
    """With batch == n_steps, outputs[-1] has the right shape; the values betray it."""

    def wrong(cell, X):
        if X.shape[0] != X.shape[1]:
            return outputs_of(cell, X)[:, -1]  # right on the other cases
        return outputs_of(cell, X)[-1]

    result = check_seq_to_vector(wrong)
    assert not result.passed
    assert "最后一个实例" in result.messages[0]


def test_seq_to_vector_unknown_error_reports_where():
    result = check_seq_to_vector(lambda cell, X: outputs_of(cell, X)[:, -1] + 0.5)
    assert not result.passed
    message = result.messages[0]
    assert "数值不对" in message
    assert "实例 = " in message and "神经元 = " in message


def test_seq_to_vector_wrong_shape_reported():
    result = check_seq_to_vector(lambda cell, X: np.zeros(3))
    assert not result.passed
    assert "形状" in result.messages[0]


def test_seq_to_vector_returning_the_pair_is_reported():
    result = check_seq_to_vector(lambda cell, X: nrnn.dynamic_rnn(cell, X))
    assert not result.passed
    assert "应返回 1 个值" in result.messages[0]


def test_seq_to_vector_crash_gets_clear_message():
    def crashes(cell, X):
        raise RuntimeError("boom")

    result = check_seq_to_vector(crashes)
    assert not result.passed
    assert "运行出错" in result.messages[0]
    assert "RuntimeError: boom" in result.messages[0]


def test_seq_to_vector_not_callable():
    result = check_seq_to_vector(np.zeros(3))
    assert not result.passed
    assert "函数" in result.messages[0]


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
        (time_major, "时间主序"),
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
    assert "时间主序" in result.messages[0]


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
