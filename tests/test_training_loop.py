"""Tests of ``companion.training.loop``: the training loop and its History (chapter 9)."""

from __future__ import annotations

import numpy as np
import pytest

from companion.training.loop import History, train


def test_train_calls_step_in_order_and_records_every_step():
    seen = []

    def step(i):
        seen.append(i)
        return {"loss": 1.0 / (i + 1), "grad_norm": np.float32(i)}

    history = train(step, 5)
    assert seen == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(history.steps, [0, 1, 2, 3, 4])
    assert history["loss"].dtype == np.float64
    np.testing.assert_array_equal(history["loss"], [1.0, 0.5, 1 / 3, 0.25, 0.2])
    np.testing.assert_array_equal(history["grad_norm"], [0, 1, 2, 3, 4])
    assert history.keys() == ["loss", "grad_norm"] and len(history) == 5
    assert history.last("loss") == 0.2


def test_log_every_records_every_kth_step_and_the_last():
    history = train(lambda i: {"loss": float(i)}, 10, log_every=4)
    np.testing.assert_array_equal(history.steps, [0, 4, 8, 9])
    np.testing.assert_array_equal(history["loss"], [0.0, 4.0, 8.0, 9.0])


def test_first_below_returns_the_step_index():
    history = History([0, 10, 20, 30], {"loss": [1.0, 0.5, 0.05, 0.01]})
    assert history.first_below("loss", 0.1) == 20
    assert history.first_below("loss", 0.001) is None
    assert history.first_below("loss", 0.5) == 20  # strictly below


def test_zero_steps_gives_an_empty_history():
    history = train(lambda i: {"loss": 0.0}, 0)
    assert len(history) == 0 and history["loss"].shape == (0,)
    with pytest.raises(ValueError, match="nothing was recorded"):
        history.last("loss")


def test_the_bar_honours_tqdm_disable(monkeypatch, capsys):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    train(lambda i: {"loss": 0.0}, 3, desc="silent")
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("TQDM_DISABLE", "")
    train(lambda i: {"loss": 0.0}, 3, desc="visible")
    assert "visible" in capsys.readouterr().err


def test_bad_input():
    with pytest.raises(ValueError, match=r"step must return a dict with a 'loss'.*\['error'\]"):
        train(lambda i: {"error": 1.0}, 2)
    with pytest.raises(
        TypeError, match=r"step must return a dict of floats.*step\(0\) returned float"
    ):
        train(lambda i: 1.0, 2)
    with pytest.raises(TypeError, match=r"step\(0\) must return floats"):
        train(lambda i: {"loss": "low"}, 2)
    with pytest.raises(ValueError, match=r"same keys every time.*step\(1\) returned"):
        train(lambda i: {"loss": 1.0} if i == 0 else {"loss": 1.0, "x": 2.0}, 2)
    with pytest.raises(TypeError, match="step must be a function"):
        train("step", 2)
    with pytest.raises(ValueError, match="n_steps must be an int >= 0; got -1"):
        train(lambda i: {"loss": 0.0}, -1)
    with pytest.raises(ValueError, match="log_every must be an int >= 1; got 0"):
        train(lambda i: {"loss": 0.0}, 2, log_every=0)
    with pytest.raises(KeyError, match="'accuracy' was not recorded"):
        History([0], {"loss": [1.0]})["accuracy"]
