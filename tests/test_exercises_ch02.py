"""The checkers of chapter 2: the right answer passes, each typical mistake is named."""

from __future__ import annotations

import numpy as np
import pytest

from companion.exercises import CheckResult, ch02
from companion.numpy_rnn import dynamic_rnn


def final_state(cell, X):
    h = cell.zero_state(X.shape[0])
    for t in range(X.shape[1]):
        h = cell(X[:, t], h)
    return h


def run_with_readout(cell, Wo, X):
    h = cell.zero_state(X.shape[0])
    ys = []
    for t in range(X.shape[1]):
        h = cell(X[:, t], h)
        ys.append(h @ Wo)
    return np.stack(ys, axis=1), h


CHECKERS = [
    (ch02.check_final_state, final_state, ch02.FINAL_STATE.mistakes),
    (ch02.check_readout, run_with_readout, ch02.READOUT.mistakes),
]
IDS = ["final_state", "readout"]


@pytest.mark.parametrize(("check", "solution", "mistakes"), CHECKERS, ids=IDS)
def test_reference_solution_passes(check, solution, mistakes):
    result = check(solution)
    assert isinstance(result, CheckResult)
    assert result.passed
    assert str(result).startswith("✔ 通过")


def test_last_output_is_the_final_state_for_the_basic_cell():
    assert ch02.check_final_state(lambda cell, X: dynamic_rnn(cell, X)[0][:, -1]).passed


def test_off_by_one_loop_is_named():
    def one_short(cell, X):
        h = cell.zero_state(X.shape[0])
        for t in range(X.shape[1] - 1):
            h = cell(X[:, t], h)
        return h

    assert "差了一步" in ch02.check_final_state(one_short).messages[0]


def test_state_not_carried_is_named():
    def no_carry(cell, X):
        for t in range(X.shape[1]):
            h = cell(X[:, t], cell.zero_state(X.shape[0]))
        return h

    assert "状态没有传下去" in ch02.check_final_state(no_carry).messages[0]


def test_crash_and_missing_return():
    def crashes(cell, X):
        return cell(X, None)  # a 3-D array where one step is expected

    result = ch02.check_final_state(crashes)
    assert not result.passed and "运行出错" in result.messages[0]
    result = ch02.check_readout(lambda cell, Wo, X: (None, None))
    assert "忘了写 return" in result.messages[0]


def test_one_value_instead_of_two():
    result = ch02.check_readout(lambda cell, Wo, X: run_with_readout(cell, Wo, X)[0])
    assert "函数应返回 2 个值（Y、最终状态），得到 1 个" in result.messages[0]


def test_state_shape_is_reported_with_names():
    result = ch02.check_final_state(lambda cell, X: final_state(cell, X)[:, :1])
    assert "最终状态 的形状应为" in result.messages[0]


def test_every_step_matters_in_the_cases():
    """Each case's final state depends visibly on the first input (memory is not trivial)."""
    for case in ch02.FINAL_STATE.cases():
        cell, X = case["cell"], case["X"]
        if X.shape[1] < 2:
            continue
        other = X.copy()
        other[:, 0] += 1.0
        gap = np.abs(final_state(cell, other) - final_state(cell, X)).max()
        assert gap > 1e-3


# ----------------------------------------------------------------- steps_remembered


def steps_remembered(cell, X, eps=1e-4):
    X_nudged = X.copy()
    X_nudged[0, 0, 0] += eps
    Y, _ = dynamic_rnn(cell, X)
    Y_nudged, _ = dynamic_rnn(cell, X_nudged)
    s = np.linalg.norm(Y_nudged - Y, axis=-1)[0] / eps
    return int(np.sum(s >= 1e-6))


def test_steps_remembered_reference_passes():
    result = ch02.check_steps_remembered(steps_remembered)
    assert result.passed, str(result)
    assert str(result).startswith("✔ 通过")


def test_steps_remembered_accepts_a_numpy_integer():
    assert ch02.check_steps_remembered(
        lambda cell, X, eps: np.int64(steps_remembered(cell, X, eps))
    )


def test_steps_remembered_mistakes_written_by_hand_are_named():
    def first_below(cell, X, eps=1e-4):
        X_nudged = X.copy()
        X_nudged[0, 0, 0] += eps
        s = np.linalg.norm(dynamic_rnn(cell, X_nudged)[0] - dynamic_rnn(cell, X)[0], axis=-1)[0]
        return int(np.argmax(s / eps < 1e-6))

    def not_copied(cell, X, eps=1e-4):
        X_nudged = X  # the same array: both runs see the nudge
        Y, _ = dynamic_rnn(cell, X)
        X_nudged[0, 0, 0] += eps
        Y_nudged, _ = dynamic_rnn(cell, X_nudged)
        Y = dynamic_rnn(cell, X)[0]
        return int(np.sum(np.linalg.norm(Y_nudged - Y, axis=-1)[0] / eps >= 1e-6))

    def absolute(cell, X, eps=1e-4):
        X_nudged = X.copy()
        X_nudged[0, 0, 0] += eps
        s = np.linalg.norm(dynamic_rnn(cell, X_nudged)[0] - dynamic_rnn(cell, X)[0], axis=-1)[0]
        return int(np.sum(s >= 1e-6))

    result = ch02.check_steps_remembered(first_below)
    assert "第 3 个测试用例" in result.messages[0] and "得到了 0" in result.messages[0]
    assert "两次运行的输入相同" in ch02.check_steps_remembered(not_copied).messages[0]
    assert "绝对阈值" in ch02.check_steps_remembered(absolute).messages[0]


def test_steps_remembered_unknown_error_shows_whole_numbers():
    result = ch02.check_steps_remembered(lambda cell, X, eps: steps_remembered(cell, X, eps) + 1)
    assert not result.passed
    assert "记住的步数 的数值不对：应为 20，得到 21" in result.messages[0], str(result)


def test_steps_remembered_crash_is_reported():
    def crashes(cell, X, eps):
        return cell(X, None)

    result = ch02.check_steps_remembered(crashes)
    assert not result.passed and "第 1 个测试用例运行出错" in result.messages[0]


def test_steps_remembered_cases_cover_decay_and_no_decay():
    """s(t) stays below the threshold once it is there (so "first step below" and the
    count agree), and one case never drops below (all steps count)."""
    counts = []
    for case in ch02.STEPS_REMEMBERED.cases():
        above = ch02._sensitivity(**case) >= ch02._MEMORY_THRESHOLD
        assert not np.any(above[1:] & ~above[:-1])
        counts.append((int(above.sum()), case["X"].shape[1]))
    assert any(n == n_steps for n, n_steps in counts)
    assert sum(0 < n < n_steps for n, n_steps in counts) >= 2
