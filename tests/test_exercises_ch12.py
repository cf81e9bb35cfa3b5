"""Tests of the chapter 12 checkers (``companion.exercises.ch12``).

Each typical mistake is written here the way a reader would write it, and must be
named by the checker; a correct answer passes; a crash is reported.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.exercises import ch12

# ------------------------------------------------------------- reverse_sequence


def reverse_sequence(X, lengths):
    rev = X.copy()
    for i, n in enumerate(lengths):
        rev[i, :n] = X[i, :n][::-1]
    return rev


def reverse_sequence_torch(X, lengths):
    rev = X.clone()
    for i, n in enumerate(lengths.tolist()):
        rev[i, :n] = X[i, :n].flip(0)
    return rev


def flipped_padded(X, lengths):
    return np.flip(X, axis=1)


def flipped_batch(X, lengths):
    return X[::-1].copy()


def one_too_many(X, lengths):
    rev = X.copy()
    for i, n in enumerate(lengths):
        rev[i, : n + 1] = X[i, : n + 1][::-1]
    return rev


def zeroed_padding(X, lengths):
    rev = np.zeros_like(X)
    for i, n in enumerate(lengths):
        rev[i, :n] = X[i, :n][::-1]
    return rev


def off_by_one_index(X, lengths):
    rev = X.copy()
    for i, n in enumerate(lengths):
        for t in range(n):
            rev[i, t] = X[i, n - t]  # should be n - 1 - t
    return rev


def test_reverse_sequence_passes():
    result = ch12.check_reverse_sequence(reverse_sequence)
    assert result.passed, str(result)
    result = ch12.check_reverse_sequence(reverse_sequence_torch, backend="torch")
    assert result.passed, str(result)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (flipped_padded, "把整个填充后的序列翻转了"),
        (flipped_batch, "翻转的是批量轴"),
        (one_too_many, "多翻转了一步"),
        (zeroed_padding, "填充位置被改动了"),
    ],
)
def test_reverse_sequence_names_each_mistake(fn, words):
    result = ch12.check_reverse_sequence(fn)
    assert not result.passed
    assert words in str(result), str(result)


def test_reverse_sequence_reports_a_crash():
    result = ch12.check_reverse_sequence(off_by_one_index)
    assert not result.passed and "运行出错" in str(result), str(result)
    assert "lengths[i] - 1 - t" in str(result)  # an IndexError gets the hint


# ------------------------------------------------------- parameters of an nn.GRU


def gru_parameters(n_inputs, n_neurons, num_layers, bidirectional):
    dirs = 2 if bidirectional else 1
    total = 0
    for k in range(num_layers):
        reads = n_inputs if k == 0 else dirs * n_neurons
        total += dirs * (3 * n_neurons * (reads + n_neurons) + 2 * 3 * n_neurons)
    return total


def every_layer_reads_x(n_inputs, n_neurons, num_layers, bidirectional):
    dirs = 2 if bidirectional else 1
    return num_layers * dirs * 3 * n_neurons * (n_inputs + n_neurons + 2)


def one_bias(n_inputs, n_neurons, num_layers, bidirectional):
    return gru_parameters(n_inputs, n_neurons, num_layers, bidirectional) - (
        num_layers * (2 if bidirectional else 1) * 3 * n_neurons
    )


def upper_layers_read_n(n_inputs, n_neurons, num_layers, bidirectional):
    dirs = 2 if bidirectional else 1
    first = dirs * 3 * n_neurons * (n_inputs + n_neurons + 2)
    return first + (num_layers - 1) * dirs * 3 * n_neurons * (2 * n_neurons + 2)


def test_gru_parameters_passes_and_equals_torch():
    result = ch12.check_gru_parameters(gru_parameters)
    assert result.passed, str(result)
    gru = torch.nn.GRU(7, 5, 3, bidirectional=True)
    assert gru_parameters(7, 5, 3, 1) == sum(p.numel() for p in gru.parameters())


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (every_layer_reads_x, "所有层都按 n_inputs 个输入计算了"),
        (one_bias, "每组门只算了一个偏置"),
        (upper_layers_read_n, "上面一层的输入宽度没有翻倍"),
    ],
)
def test_gru_parameters_names_each_mistake(fn, words):
    result = ch12.check_gru_parameters(fn)
    assert not result.passed
    assert words in str(result), str(result)


# ---------------------------------------------------------- inverse-CDF sampling


def inverse_cdf(probs, u):
    classes = []
    for p, u_i in zip(probs, u, strict=True):
        j = int(np.searchsorted(np.cumsum(p), u_i, side="right"))
        if j == len(p):  # round-off: u above the last cumulative sum
            j = int(np.flatnonzero(p > 0)[-1])
        classes.append(j)
    return np.array(classes)


def side_left(probs, u):
    return np.array([int(np.searchsorted(np.cumsum(p), x)) for p, x in zip(probs, u, strict=True)])


def no_guard(probs, u):
    c = np.cumsum(probs, axis=1)
    return (c <= u[:, None]).sum(axis=1)


def clipped_to_last(probs, u):
    return np.minimum(no_guard(probs, u), probs.shape[1] - 1)


def one_below(probs, u):
    return inverse_cdf(probs, u) - 1


def test_inverse_cdf_passes_a_correct_answer() -> None:
    assert ch12.check_inverse_cdf(inverse_cdf).passed


def test_inverse_cdf_agrees_with_the_package_sampler() -> None:
    from companion.sequences.sampling import sample_categorical

    probs = np.random.default_rng(5).dirichlet(np.ones(7), size=50)
    u = np.random.default_rng(9).random(50)  # what sample_categorical draws from this seed
    assert np.array_equal(
        inverse_cdf(probs, u), sample_categorical(probs, np.random.default_rng(9))
    )


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (side_left, 'side="left"'),
        (no_guard, "没有处理 u 超过最后一个累积和"),
        (clipped_to_last, "取了最后一个类别 n_classes - 1"),
        (one_below, "编号小了 1"),
    ],
)
def test_inverse_cdf_names_each_mistake(answer, named) -> None:
    result = ch12.check_inverse_cdf(answer)
    assert not result.passed
    assert named in str(result)
